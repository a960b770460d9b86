"""SIGINT/SIGTERM: a command stops with exit 130 and one line saying what was interrupted and
what was kept; nothing is recorded as a result that was not one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.solvers import interrupt


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def stop_after(monkeypatch, module, name: str, reason: str) -> None:
    """Make ``module.name`` request a stop (as a signal would) once it has returned."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        interrupt.request(reason)
        return result

    monkeypatch.setattr(module, name, wrapper)


@pytest.mark.slow
def test_sigint_during_highs_solve_exits_130_with_one_line(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aigc_opt", "solve", "--horizon", "168", "--integer-jobs"]
        + ["--mip-gap", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)
    assert proc.poll() is None, "the solve ended before the signal"
    os.kill(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (line,) = lines(stderr)
    assert line.startswith("interrupted: SIGINT during "), line
    if "written to" in line:  # an incumbent was found: kept, labelled as interrupted
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "interrupted"
        assert summary["utility"] is not None and summary["best_bound"] >= summary["utility"]
    else:
        assert "nothing written" in line and not out.exists()


def test_stop_requested_during_solve_reports_status_interrupted(tmp_path, monkeypatch):
    """A stop requested once the program is built: HiGHS' callback stops the solve."""
    import aigc_opt.solvers.oracle as oracle

    stop_after(monkeypatch, oracle, "build_arrays", "SIGTERM")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", "-s", "default", "-H", "24", "--out", str(out)])
    assert res.exit_code == 130, res.stderr
    (line,) = lines(res.stderr)
    # never "error", never "optimal"
    assert line.startswith(
        "interrupted: SIGTERM during the oracle-milp solve; kept: status interrupted, "
    ), line
    if "no incumbent" in line:
        assert "nothing written" in line and not out.exists()
    else:
        assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert interrupt.requested() is None  # the command's handlers cleared the request


class StopAt:
    """A greedy policy that requests a stop while acting at slot ``at``."""

    name = "stop-at"

    def __init__(self, at: int):
        from aigc_opt.solvers.heuristics import LocalGreedy

        self.inner = LocalGreedy()
        self.at = at

    def reset(self, scenario, seed=None):
        self.inner.reset(scenario, seed)

    def act(self, obs):
        if obs.t == self.at:
            interrupt.request("SIGINT")
        return self.inner.act(obs)


def test_episode_loop_stops_at_the_next_slot():
    from aigc_opt.data.catalog import load_scenario
    from aigc_opt.solvers.policy import run_episode

    scn = load_scenario("tiny", horizon=3)
    try:
        with pytest.raises(interrupt.StopRequested) as info:
            run_episode(scn, StopAt(1))
    finally:
        interrupt.clear()
    assert info.value.reason == "SIGINT" and "slot 2" in info.value.where


def test_run_command_interrupted_writes_nothing(tmp_path, monkeypatch):
    from aigc_opt.solvers import heuristics

    monkeypatch.setitem(heuristics.HEURISTICS, "greedy", lambda: StopAt(1))
    out = tmp_path / "run"
    res = CliRunner().invoke(
        app, ["run", "--policy", "greedy", "-s", "tiny", "-H", "3", "--out", str(out)]
    )
    assert res.exit_code == 130, res.stderr
    (line,) = lines(res.stderr)
    assert "SIGINT during slot 2 of the stop-at episode" in line and "nothing written" in line
    assert not out.exists() and not list(tmp_path.iterdir())  # no temporary folder either


SECOND_SIGNAL = """
import os, signal, time
from aigc_opt.solvers import interrupt
with interrupt.handlers():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    assert interrupt.requested() == "SIGINT"
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
print("not reached")
"""


def test_second_signal_exits_at_once():
    p = subprocess.run(
        [sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 130 and "not reached" not in p.stdout
    assert lines(p.stderr) == ["aborted: second SIGTERM, exiting at once"]


def test_handlers_are_restored_and_request_cleared():
    before = signal.getsignal(signal.SIGINT)
    with interrupt.handlers():
        assert signal.getsignal(signal.SIGINT) is not before
        interrupt.request("SIGINT")
        with pytest.raises(interrupt.StopRequested, match="SIGINT during writing"):
            interrupt.check("writing")
    assert signal.getsignal(signal.SIGINT) is before
    assert interrupt.requested() is None
    interrupt.check("nothing requested")  # does not raise


def test_stop_request_is_not_an_ordinary_exception():
    """``except Exception`` blocks that turn failures into statuses must not record a stop."""
    assert not issubclass(interrupt.StopRequested, Exception)


def test_report_interrupted_leaves_no_folder(tmp_path, monkeypatch):
    from aigc_opt.reports import tables

    run = tmp_path / "runs" / "milp"
    assert (
        CliRunner().invoke(app, ["solve", "-s", "tiny", "-H", "3", "--out", str(run)]).exit_code
        == 0
    )
    stop_after(monkeypatch, tables, "write_tables", "SIGINT")
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["report", str(tmp_path / "runs"), "--out", str(out)])
    assert res.exit_code == 130, res.stderr
    (line,) = lines(res.stderr)
    assert "report rendering" in line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert isinstance(Path(run / "summary.json").read_text(), str)


def test_bounds_stop_between_programs_writes_nothing(tmp_path, monkeypatch):
    import aigc_opt.solvers.hierarchy as hierarchy

    stop_after(monkeypatch, hierarchy, "solve_lp_after_milp", "SIGTERM")
    out = tmp_path / "bounds"
    res = CliRunner().invoke(app, ["bounds", "-s", "tiny", "-H", "3", "--out", str(out)])
    assert res.exit_code == 130, res.stderr
    *progress, line = lines(res.stderr)  # progress lines, then the one about the stop
    assert progress == ["solving MILP and LP relaxation (HiGHS, one build) ..."]
    assert line.startswith("interrupted: SIGTERM during the bound hierarchy (before convex")
    assert "nothing written" in line and not out.exists()


def test_signal_after_the_work_still_exits_130(tmp_path, monkeypatch):
    import aigc_opt.reports.console as console

    monkeypatch.setattr(console, "print_solve", lambda res: interrupt.request("SIGINT"))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", "-s", "tiny", "-H", "3", "--out", str(out)])
    assert res.exit_code == 130
    (line,) = lines(res.stderr)
    assert line == (
        "interrupted: SIGINT during the command; it finished its work first; results kept"
    )
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
