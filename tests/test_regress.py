"""`aigc-opt regress` passes on unchanged inputs and catches a 1% price drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data.catalog import SCENARIO_DIR
from aigc_opt.reports import regress as rg
from aigc_opt.solvers import regress_cases as rc
from aigc_opt.solvers import regress_families as rf

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "utility.json"
ORACLES = "tiny/*/oracle-[ml]*"  # oracle-milp and oracle-lp on tiny: well under a second


def cli(*args: str) -> Any:
    """Run the CLI in-process; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "tiny"
    shutil.copytree(SCENARIO_DIR / "tiny", dst)
    return dst


def scale_price(folder: Path, factor: float) -> None:
    path = folder / "energy.csv"
    df = pd.read_csv(path)
    df["price_usd_per_mwh"] *= factor
    df.to_csv(path, index=False)


def test_regress_passes_unchanged_and_detects_one_percent_price_drift(
    tiny_copy: Path, tmp_path: Path
) -> None:
    golden = tmp_path / "golden.json"
    over = f"tiny={tiny_copy / 'scenario.toml'}"
    p = cli("regress", "--golden", str(golden), "--update", "--only", ORACLES, "--scenario", over)
    assert p.exit_code == 0, p.stdout + p.stderr
    doc = json.loads(golden.read_text())
    assert set(doc["cases"]) == {"tiny/full/oracle-milp", "tiny/full/oracle-lp"}
    assert doc["settings"] == {"highs_threads": 1, "seed": 0, "mip_gap": rc.MIP_GAP}

    p = cli("regress", "--golden", str(golden), "--only", ORACLES, "--scenario", over)
    assert p.exit_code == 0, p.stdout + p.stderr
    assert "regress: OK" in p.stdout.splitlines()[-1]

    scale_price(tiny_copy, 1.01)
    p = cli("regress", "--golden", str(golden), "--only", ORACLES, "--scenario", over, "--json")
    assert p.exit_code == 1, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert not out["ok"]
    drifted = {(d["case"], d["metric"]) for d in out["drift"]}
    for case in doc["cases"]:
        assert (case, "utility") in drifted
        assert (case, "terms.energy_cost") in drifted
    p = cli("regress", "--golden", str(golden), "--only", ORACLES, "--scenario", over)
    assert p.exit_code == 1
    assert "DRIFT" in p.stdout and "regress: FAILED" in p.stdout.splitlines()[-1]


def test_update_is_atomic_and_keeps_other_cases_with_only(tiny_copy: Path, tmp_path: Path) -> None:
    golden = tmp_path / "g.json"
    scn = rc.load_catalog_scenario(
        "tiny", None, overrides={"tiny": str(tiny_copy / "scenario.toml")}
    )
    outs = [rc.run_case(rc.Case("tiny", None, m), scn) for m in ("oracle-milp", "oracle-lp")]
    assert all(o.status == "optimal" for o in outs)
    rg.update_golden(golden, outs)
    before = json.loads(golden.read_text())
    changed = rg.update_golden(golden, outs[1:], partial=True)
    assert changed == []
    assert json.loads(golden.read_text())["cases"] == before["cases"]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".g.json*"))


def test_compare_tolerances() -> None:
    case = rc.Case("tiny", None, "oracle-lp")
    golden = {
        "cases": {
            case.id: {
                "status": "optimal",
                "values": {
                    "utility": 100.0,
                    "best_bound": 100.0,
                    "terms.energy_cost": 10.0,
                    "kpis.jobs_served": 1000.0,
                },
            }
        }
    }

    def run(values: dict, status: str = "optimal") -> rg.Comparison:
        return rg.compare(golden, [rc.Outcome(case, status=status, values=values)])

    same = {
        "utility": 100.0,
        "best_bound": 100.0,
        "terms.energy_cost": 10.0,
        "kpis.jobs_served": 1000.0,
    }
    assert run(same).ok
    assert run({**same, "utility": 100.0 + 5e-5}).ok  # 1e-6 rel of 100 = 1e-4
    bad = run({**same, "utility": 100.0 + 2e-4})
    assert not bad.ok and [d.metric for d in bad.diffs if d.verdict == "DRIFT"] == ["utility"]
    assert run({**same, "terms.energy_cost": 10.0 + 5e-3}).ok  # 1e-4 × |U| = 1e-2
    assert not run({**same, "terms.energy_cost": 10.0 + 2e-2}).ok
    assert not run(same, status="time_limit").ok
    missing = dict(same)
    del missing["best_bound"]
    assert not run(missing).ok
    assert run({**same, "kpis.new_metric": 1.0}).ok  # new numbers are reported, not failed
    # a crashed case fails, whether or not the golden file has it
    crashed = rc.Outcome(case, error="RuntimeError: boom")
    assert not rg.compare(golden, [crashed]).ok
    assert not rg.compare({"cases": {}}, [crashed]).ok
    # a golden case the catalog no longer produces is missing
    assert not rg.compare(golden, []).ok
    assert rg.compare(golden, [], partial=True).ok


def test_catalog_registry() -> None:
    assert {"oracle-milp", "oracle-lp"} <= set(rc.METHODS)
    catalog = rc.default_catalog()
    ids = [c.id for c in catalog]
    families = rf.family_episodes()
    n_family = sum(len(rf.methods_for(s)) for s, _ in families)
    assert len(ids) == len(set(ids)) == len(rc.CATALOG_EPISODES) * len(rc.METHODS) + n_family
    assert "tiny/full/oracle-lp" in ids and "default/h24/oracle-milp" in ids
    assert rc.select_cases(catalog, ["*/oracle-lp"]) == [
        rc.Case(s, h, "oracle-lp") for s, h in (*rc.CATALOG_EPISODES, *families)
    ]
    with pytest.raises(rg.RegressInputError):
        rc.parse_overrides(["tiny"])
    out = rc.run_case(
        rc.Case("tiny", None, "no-such-method"), rc.load_catalog_scenario("tiny", None)
    )
    assert out.error is not None and "no-such-method" in out.error and not out.values


def test_committed_golden_matches_on_tiny() -> None:
    """The committed golden file agrees with the code on the fast part of the catalog
    (CI runs the whole catalog with ``aigc-opt regress``)."""
    assert GOLDEN.is_file(), "tests/golden/utility.json is missing"
    golden = rg.read_golden(GOLDEN)
    cases = rc.select_cases(rc.default_catalog(), ["tiny/*"])
    cmp = rg.compare(golden, rc.run_cases(cases), partial=True)
    assert cmp.ok, [d.as_dict() for d in cmp.diffs if d.verdict != "ok"] + [
        c.as_dict() for c in cmp.cases if c.failed
    ]


def test_cli_errors(tmp_path: Path) -> None:
    p = cli("regress", "--golden", str(tmp_path / "none.json"))
    assert p.exit_code == 2 and "--update" in p.stderr and "Traceback" not in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else", "cases": {}}')
    p = cli("regress", "--golden", str(bad))
    assert p.exit_code == 2 and "not an aigc-opt golden file" in p.stderr
    p = cli("regress", "--golden", str(bad), "--only", "nothing/*")
    assert p.exit_code == 2 and "matches no catalog case" in p.stderr


DOWNSTREAM = """
import pytest

SUMMARY = {{"status": "{status}", "utility": {u!r}, "best_bound": 10.0,
           "terms": {{"revenue": 12.0, "energy_cost": 2.0}}}}


def test_table(utility_regression):
    utility_regression.check(SUMMARY, method="oracle-lp")


def test_plain(utility_regression):
    utility_regression.check({{"x": {x!r}}}, basename="plain", rtol=0.1)
"""


def test_utility_regression_fixture_writes_then_checks(pytester: pytest.Pytester) -> None:
    """The fixture is registered by the entry point and runs on pytest-regressions'
    num_regression: the first run writes the golden CSVs and fails, the next passes, and
    a drift beyond the method's tolerance (or a changed status) fails."""

    def run(status: str = "optimal", u: float = 10.0, x: float = 1.0) -> pytest.RunResult:
        pytester.makepyfile(test_paper=DOWNSTREAM.format(status=status, u=u, x=x))
        return pytester.runpytest("-p", "no:cacheprovider")

    first = run()
    first.assert_outcomes(failed=2)
    golden = pd.read_csv(pytester.path / "test_paper" / "test_table.csv")
    assert golden.loc[0, "status"] == "optimal" and golden.loc[0, "utility"] == 10.0
    assert (
        golden.loc[0, "terms.revenue"] == 12.0
        and (pytester.path / "test_paper" / "plain.csv").is_file()
    )
    run().assert_outcomes(passed=2)
    # 1e-6 relative of 10 passes; 1e-3 does not; x within rtol 0.1 passes, beyond fails
    run(u=10.0 + 5e-6, x=1.05).assert_outcomes(passed=2)
    drift = run(u=10.01, x=1.2)
    drift.assert_outcomes(failed=2)
    assert "utility" in drift.stdout.str()
    run(status="time_limit").assert_outcomes(passed=1, failed=1)


def test_tolerances_follow_the_regress_scales() -> None:
    from aigc_opt.reports.pytest_plugin import tolerances

    values = {"utility": 200.0, "terms.energy_cost": 10.0, "kpis.jobs_dropped": 3.0}
    values["kpis.jobs_served"] = 1000.0
    tol = tolerances(values, rc.METHODS["oracle-lp"].tolerances)
    assert tol["utility"] == {"atol": pytest.approx(1e-6 * 200.0), "rtol": 0.0}
    assert tol["terms.energy_cost"]["atol"] == pytest.approx(1e-4 * 200.0)  # × |U|
    assert tol["kpis.jobs_dropped"]["atol"] == float("inf")  # an optimum's KPIs: not compared
    tol = tolerances(values, rc.METHODS["greedy"].tolerances)
    assert tol["kpis.jobs_dropped"]["atol"] == pytest.approx(1e-6 * 1000.0)  # × jobs served
