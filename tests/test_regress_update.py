"""`regress --update` stores only certified results: an infeasible oracle or an episode with
constraint violations is refused (golden file untouched) unless --allow-nonoptimal, which
records the status; a check compares statuses and violation counts too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from tests.conftest import edit

CASES = "tiny/*/[og]*"  # the oracles (MILP, LP, convex) and the greedy heuristic on tiny


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _infeasible(tiny_copy: Path) -> str:
    """tiny with a terminal battery floor no schedule reaches (1 MWh at 0.1 MW, 3 slots)."""
    toml = tiny_copy / "scenario.toml"
    edit(toml, "charge_mw = 1.0", "charge_mw = 0.1")
    edit(toml, "soc_initial_mwh = 0.0", "soc_initial_mwh = 0.0\nsoc_terminal_mwh = 1.0")
    return f"tiny={toml}"


@pytest.fixture
def infeasible_tiny(tiny_copy: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The infeasible tiny, loaded past the load-time feasibility check (which refuses it,
    see below), so that the solvers and the simulator meet it."""
    monkeypatch.setattr("aigc_opt.data.feasibility.check_feasible", lambda scn: None)
    return _infeasible(tiny_copy)


def test_an_infeasible_scenario_is_refused_at_load(tmp_path, tiny_copy):
    golden = tmp_path / "g.json"
    res = cli("regress", "--golden", str(golden), "--update", "--only", CASES,
              "--scenario", _infeasible(tiny_copy))  # fmt: skip
    assert res.exit_code == 2
    (line,) = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "soc_terminal_mwh" in line and "terminal state-of-charge floor" in line
    assert not golden.exists()


def test_update_refuses_an_infeasible_oracle_and_violating_episodes(tmp_path, infeasible_tiny):
    golden = tmp_path / "g.json"
    res = cli("regress", "--golden", str(golden), "--update", "--only", CASES,
              "--scenario", infeasible_tiny)  # fmt: skip
    assert res.exit_code == 1
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert "not written" in line and "tiny/full/oracle-milp (status infeasible)" in line
    assert "--allow-nonoptimal" in line
    assert not golden.exists()


def test_allow_nonoptimal_records_status_and_the_check_compares_it(tmp_path, infeasible_tiny):
    golden = tmp_path / "g.json"
    res = cli("regress", "--golden", str(golden), "--update", "--only", CASES,
              "--scenario", infeasible_tiny, "--allow-nonoptimal")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    cases = json.loads(golden.read_text())["cases"]
    assert cases["tiny/full/oracle-milp"]["status"] == "infeasible"
    assert cases["tiny/full/oracle-milp"]["values"] == {}
    assert cases["tiny/full/greedy"]["status"] == "completed"
    assert cases["tiny/full/greedy"]["violations"] >= 1  # the terminal floor is missed
    # the same infeasible inputs check OK against what was recorded ...
    res = cli("regress", "--golden", str(golden), "--only", CASES, "--scenario", infeasible_tiny)
    assert res.exit_code == 0, res.stdout
    # ... and the feasible scenario differs in status and violations: the check fails
    res = cli("regress", "--golden", str(golden), "--only", CASES, "--json")
    assert res.exit_code == 1
    verdicts = {c["case"]: c for c in json.loads(res.stdout)["cases"]}
    assert verdicts["tiny/full/oracle-milp"]["verdict"] == "STATUS"
    assert verdicts["tiny/full/greedy"]["verdict"] == "STATUS"
    assert "violations" in verdicts["tiny/full/greedy"]["note"]
