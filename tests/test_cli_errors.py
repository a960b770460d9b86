"""Bad input gives a one-line error naming file, field and value; exit 2; no traceback.

The error cases run the CLI in-process (Typer's CliRunner); one end-to-end test starts the
real ``python -m aigc_opt`` process, where solver output on file descriptor 1 must not mix
with the JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner, Result

from aigc_opt.cli import app
from tests.conftest import edit


def run_cli(*args: str) -> Result:
    """The CLI in-process; an exception that escaped the command would be ``exception``."""
    res = CliRunner().invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


CASES = {
    "missing field": (
        lambda d: edit(d / "scenario.toml", "gpu_seconds_per_step = 18.0", ""),
        ["gpu_seconds_per_step", "missing"],
    ),
    "negative capacity": (
        lambda d: edit(d / "scenario.toml", "capacity_mwh = 1.0", "capacity_mwh = -1.0"),
        ["capacity_mwh", "-1.0"],
    ),
    "NaN in a series": (
        lambda d: edit(d / "energy.csv", "1,dc1,50,", "1,dc1,nan,"),
        ["energy.csv", "price_usd_per_mwh", "nan"],
    ),
    "unreachable quality floor": (
        lambda d: edit(d / "scenario.toml", "quality_floor = 0.5", "quality_floor = 0.99"),
        ["quality_floor", "0.99", "no model reaches it"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_scenario_file(case, tiny_copy):
    mutate, needles = CASES[case]
    mutate(tiny_copy)
    p = run_cli("solve", "--horizon", "3", "--scenario", str(tiny_copy / "scenario.toml"))
    assert p.exit_code == 2, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert "scenario.toml" in lines[0] or "energy.csv" in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_series_shorter_than_horizon(tiny_copy):
    p = run_cli("solve", "--horizon", "5", "--scenario", str(tiny_copy / "scenario.toml"))
    assert p.exit_code == 2 and "Traceback" not in p.stderr
    assert "horizon = 5" in p.stderr and "3 slots" in p.stderr


def test_unknown_scenario_name():
    p = run_cli("solve", "--horizon", "3", "--scenario", "no-such-scenario")
    assert p.exit_code == 2 and "Traceback" not in p.stderr
    assert "no-such-scenario" in p.stderr and "unknown scenario" in p.stderr


def test_end_to_end_json_output_is_clean_and_out_dir_written(tmp_path):
    """The installed entry point in a real process: only the JSON object on stdout (HiGHS
    writes to fd 1 while solving), exit 0, the run folder written; then one bad input."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "aigc_opt", "solve", "--horizon", "3", "--scenario", "tiny"]
    p = subprocess.run([*cmd, "--json", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)  # nothing but the JSON object on stdout
    for key in (
        "scenario",
        "horizon",
        "method",
        "status",
        "utility",
        "best_bound",
        "mip_gap",
        "terms",
        "kpis",
        "build_seconds",
        "solve_seconds",
        "solver",
    ):
        assert key in s
    assert s["method"] == "oracle-milp" and s["status"] == "optimal"
    assert {p.name for p in out.iterdir()} >= {
        "summary.json",
        "scenario.json",
        "schedule_jobs.parquet",
        "per_slot.parquet",
    }
    bad = subprocess.run([*cmd[:-1], "no-such-scenario"], capture_output=True, text=True)
    lines = [ln for ln in bad.stderr.splitlines() if ln.strip()]
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(lines) == 1 and "no-such-scenario" in lines[0] and "Traceback" not in bad.stderr
