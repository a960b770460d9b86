"""`aigc-opt regress` passes on unchanged inputs and catches a 1% price drift."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data.catalog import SCENARIO_DIR
from aigc_opt.reports import regress as rg
from aigc_opt.reports.pytest_plugin import UtilityRegression

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
    assert doc["settings"] == {"highs_threads": 1, "seed": 0, "mip_gap": rg.MIP_GAP}

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
    scn = rg.load_catalog_scenario(
        "tiny", None, overrides={"tiny": str(tiny_copy / "scenario.toml")}
    )
    outs = [rg.run_case(rg.Case("tiny", None, m), scn) for m in ("oracle-milp", "oracle-lp")]
    assert all(o.status == "optimal" for o in outs)
    rg.update_golden(golden, outs)
    before = json.loads(golden.read_text())
    changed = rg.update_golden(golden, outs[1:], partial=True)
    assert changed == []
    assert json.loads(golden.read_text())["cases"] == before["cases"]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".g.json*"))


def test_compare_tolerances() -> None:
    case = rg.Case("tiny", None, "oracle-lp")
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
        return rg.compare(golden, [rg.Outcome(case, status=status, values=values)])

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
    # a method that is not available fails only when the golden file has it
    gone = rg.Outcome(case, unavailable="not importable")
    assert not rg.compare(golden, [gone]).ok
    assert rg.compare({"cases": {}}, [gone]).ok
    # a golden case the catalog no longer produces is missing
    assert not rg.compare(golden, []).ok
    assert rg.compare(golden, [], partial=True).ok


def test_catalog_registry_and_hooks() -> None:
    assert {"oracle-milp", "oracle-lp"} <= set(rg.METHODS)
    ids = [c.id for c in rg.default_catalog()]
    assert len(ids) == len(set(ids))
    assert "tiny/full/oracle-lp" in ids and "default/h24/oracle-milp" in ids
    assert rg.select_cases(rg.default_catalog(), ["*/oracle-lp"]) == [
        rg.Case("tiny", None, "oracle-lp"),
        rg.Case("default", 24, "oracle-lp"),
    ]
    with pytest.raises(rg.RegressInputError):
        rg.parse_overrides(["tiny"])


def test_committed_golden_matches_on_tiny() -> None:
    """The committed golden file agrees with the code on the fast part of the catalog
    (CI runs the whole catalog with ``aigc-opt regress``)."""
    assert GOLDEN.is_file(), "tests/golden/utility.json is missing"
    golden = rg.read_golden(GOLDEN)
    cases = rg.select_cases(rg.default_catalog(), ["tiny/*"])
    cmp = rg.compare(golden, rg.run_cases(cases), partial=True)
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


def test_pytest_fixture_writes_then_checks(tmp_path: Path) -> None:
    reg = UtilityRegression(tmp_path / "test_paper", "test_table[milp]", update=False)
    summary = {
        "status": "optimal",
        "utility": 10.0,
        "best_bound": 10.0,
        "terms": {"revenue": 12.0, "energy_cost": 2.0},
    }
    with pytest.raises(pytest.fail.Exception, match="golden file written"):
        reg.check(summary, method="oracle-lp")
    assert reg.path().name == "test_table_milp.json"
    reg.check(summary, method="oracle-lp")
    reg.check({**summary, "utility": 10.0 + 1e-6}, method="oracle-lp")
    with pytest.raises(pytest.fail.Exception, match="utility: golden 10.0"):
        reg.check({**summary, "utility": 10.1}, method="oracle-lp")
    with pytest.raises(pytest.fail.Exception):
        reg.check({"x": 1.0}, basename="plain", rtol=0.1)
    reg.check({"x": 1.05}, basename="plain", rtol=0.1)
    with pytest.raises(pytest.fail.Exception):
        reg.check({"x": 1.2}, basename="plain", rtol=0.1)


def test_pytest_plugin_is_registered_for_downstream_suites(tmp_path: Path) -> None:
    test = tmp_path / "test_downstream.py"
    test.write_text(
        "def test_numbers(utility_regression):\n"
        "    utility_regression.check({'utility': 1.5, 'status': 'optimal',\n"
        "                              'terms': {'revenue': 2.0, 'energy_cost': 0.5}},\n"
        "                             method='oracle-milp')\n"
    )
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)]
    first = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert first.returncode == 1 and "golden file written" in first.stdout, first.stdout
    written = json.loads((tmp_path / "test_downstream" / "test_numbers.json").read_text())
    assert written["values"]["utility"] == 1.5 and written["status"] == "optimal"
    # the second run passes: see test_pytest_fixture_writes_then_checks
