"""`report`, `regress`, `experiment` and `leaderboard` on scenario families, in-process.

The edge-offload default scenario solves in well under a second at short horizons, so
these tests use it; the geo-training cases of the golden file run in CI's `regress` step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from aigc_opt.cli import app
from aigc_opt.reports import regress as rg
from aigc_opt.solvers import regress_cases as rc
from aigc_opt.solvers import regress_families as rf
from aigc_opt.solvers.family_registry import family_names, get_family

GOLDEN = Path(__file__).resolve().parent / "golden" / "utility.json"
EDGE = "edge-azure-conv-2023"


def run_cli(*args: str) -> Result:
    res = CliRunner().invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def test_report_renders_family_solve_bounds_and_compare(tmp_path):
    res = run_cli("solve", "--scenario", EDGE, "--horizon", "4", "--out", str(tmp_path / "s"))
    assert res.exit_code == 0, res.output
    res = run_cli("bounds", "--scenario", EDGE, "--horizon", "4", "--out", str(tmp_path / "b"))
    assert res.exit_code == 0, res.output
    args = ["compare", "--scenario", EDGE, "--horizon", "3", "--episodes", "2"]
    res = run_cli(*args, "--out", str(tmp_path / "c"))
    assert res.exit_code == 0, res.output
    out = tmp_path / "report"
    res = run_cli("report", str(tmp_path / "s"), str(tmp_path / "b"), str(tmp_path / "c"),
                  "--out", str(out), "--no-figures", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "tables" / "summary.csv")
    solved = json.loads((tmp_path / "s" / "summary.json").read_text())
    milp = table[(table["method"] == "oracle-milp") & (table["horizon"] == 4)]
    assert len(milp) == 2  # the solve run and the bounds bundle's MILP
    assert milp["utility_usd"].tolist() == pytest.approx([solved["utility"]] * 2, abs=1e-9)
    for term, value in solved["terms"].items():  # the family's own terms, not aigc-dc's
        assert milp[f"{term}_usd"].iloc[0] == pytest.approx(value, abs=1e-9)
    means = table[table["horizon"] == 3].set_index("method")
    assert {"oracle", "opt-ts", "nearest-fewest"} <= set(means.index)
    assert (means["utility_usd"] <= means["bound_usd"] + 1e-9).all()
    md = (out / "tables" / "summary.md").read_text()
    assert "Quality value" in md and "Revenue" not in md


def test_catalog_lists_each_family_default_with_its_methods():
    ids = {c.id for c in rc.default_catalog()}
    for name in family_names()[1:]:
        fam = get_family(name)
        assert fam is not None
        base = f"{fam.default_scenario}/h{rf.FAMILY_HORIZON}"
        pols = {"mpc-perfect" if p == "mpc" else p for p in fam.policies}
        assert {f"{base}/{m}" for m in ("oracle-milp", "oracle-lp", *pols)} <= ids


def test_committed_golden_matches_the_edge_offload_cases():
    """The family cases in the committed golden file agree with the code (the geo-training
    ones take ~30 s and run in CI's regress step)."""
    golden = rg.read_golden(GOLDEN)
    cases = rc.select_cases(rc.default_catalog(), [f"{EDGE}/*"])
    assert len(cases) == 6 and all(c.id in golden["cases"] for c in cases)
    outcomes = rc.run_cases(cases)
    cmp = rg.compare(golden, outcomes, partial=True)
    assert cmp.ok, [d.as_dict() for d in cmp.diffs if d.verdict != "ok"]
    by = {o.case.method: o.values for o in outcomes}
    assert by["oracle-lp"]["utility"] >= by["oracle-milp"]["best_bound"] - 1e-9
    assert by["oracle-convex"]["best_bound"] >= by["oracle-lp"]["utility"] - 1e-9
    for m in ("opt-ts", "nearest-fewest", "mpc-perfect"):
        assert by[m]["utility"] <= by["oracle-milp"]["best_bound"] + 1e-9
    assert "terms.quality_value" in by["opt-ts"] and "kpis.dropped" in by["opt-ts"]


def test_regress_command_on_a_family_case(tmp_path):
    golden = tmp_path / "g.json"
    only = f"{EDGE}/*/opt-ts"
    res = run_cli("regress", "--golden", str(golden), "--only", only, "--update")
    assert res.exit_code == 0, res.output
    res = run_cli("regress", "--golden", str(golden), "--only", only, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(golden.read_text())
    case = doc["cases"][f"{EDGE}/h24/opt-ts"]
    assert case["status"] == "completed" and doc["scenario_hashes"][EDGE]
    case["values"]["utility"] += 1e-3  # beyond the heuristic's 1e-7 tolerance
    golden.write_text(json.dumps(doc))
    res = run_cli("regress", "--golden", str(golden), "--only", only)
    assert res.exit_code == 1


def test_experiment_runs_family_oracle_mpc_and_heuristic(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'scenarios = ["{EDGE}"]\nhorizons = [4]\nstarts = [0, 4]\nbound = "milp"\n'
        '[[methods]]\nkind = "oracle"\nprogram = "milp"\n'
        '[[methods]]\nkind = "oracle"\nprogram = "lp"\n'
        '[[methods]]\nkind = "mpc"\nlookahead = 2\n'
        '[[methods]]\nkind = "heuristic"\nname = "opt-ts"\n'
    )
    res = run_cli("experiment", str(spec), "--out", str(tmp_path / "x"), "-w", "1", "--json")
    assert res.exit_code == 0, res.output
    rows = pd.concat(pd.read_parquet(p) for p in (tmp_path / "x").rglob("*.parquet"))
    assert len(rows) == 8 and not rows["failed"].any()
    for start, ep in rows.groupby("start"):
        u = ep.set_index("method")["utility"]
        milp = ep.set_index("method")["best_bound"]["oracle-milp"]
        assert u["oracle-lp"] >= milp - 1e-9
        for m in ("opt-ts", "mpc-perfect-L2"):
            assert u[m] <= milp + 1e-9, (start, m)
        # each policy job solved its own MILP bound: the oracle's
        assert ep.set_index("method")["best_bound"]["opt-ts"] == pytest.approx(milp, abs=1e-9)


def test_leaderboard_with_a_family_scenario_in_the_catalog(tmp_path):
    cat = tmp_path / "catalog.toml"
    cat.write_text(f'version = "t"\n[[scenario]]\nname = "{EDGE}"\ntier = "edge"\nhorizons = [4]\n')
    res = run_cli("scenarios", "--catalog", str(cat), "--json")
    assert res.exit_code == 0, res.output
    out = tmp_path / "lb"
    res = run_cli("leaderboard", "--catalog", str(cat), "--out", str(out))
    assert res.exit_code == 0, res.output
    row = json.loads((out / "leaderboard.json").read_text())["rows"][0]
    assert row["family"] == "edge-offload" and row["milp_status"] == "optimal"
    assert row["lp_bound"] >= row["milp_bound"] - 1e-4
    for p in ("opt-ts", "nearest-fewest", "mpc-perfect"):
        assert row[p] <= row["milp_bound"] + 1e-4, p
    md = (out / "leaderboard.md").read_text()
    assert "## Family edge-offload" in md and "opt-ts (gap %)" in md
    assert "opt-ts_gap_pct" in (out / "leaderboard.csv").read_text().splitlines()[0]


@pytest.mark.slow  # one PPO rollout (2048 steps) in the family environment
def test_train_in_a_family_env_and_compare_the_policy(tmp_path):
    pytest.importorskip("stable_baselines3")
    run = tmp_path / "run"
    args = ["train", "--scenario", EDGE, "--horizon", "6", "--timesteps", "64"]
    res = run_cli(*args, "--out", str(run), "--json")
    assert res.exit_code == 0, res.output
    meta = json.loads((run / "train.json").read_text())
    assert meta["family"] == "edge-offload" and (run / "model.onnx").is_file()
    args = ["compare", "--scenario", EDGE, "--horizon", "4", "--episodes", "2"]
    res = run_cli(*args, "--policy", str(run / "model.onnx"), "--out", str(tmp_path / "c"))
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "c" / "compare.json").read_text())["rows"]
    mine = [r for r in rows if r["method"] == "onnx:model"]
    assert len(mine) == 2 and all(r["utility"] <= r["oracle_bound"] + 1e-9 for r in mine)
