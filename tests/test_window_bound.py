"""The sum-of-windows bound (formulations/window_relax.py, solvers/window_bound.py): never
below the whole horizon's LP optimum, equal to it with one window, and close to it on
the shipped week."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data.catalog import load_scenario
from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.window_relax import max_wait, relaxed_window
from aigc_opt.solvers.oracle import solve_oracle
from aigc_opt.solvers.window_bound import window_bound, window_edges
from tests.test_bounds_property import small_scenarios

CERT_TOL = 1e-9  # relative: the certificate is weak duality evaluated in floating point


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scn=small_scenarios(), data=st.data())
def test_windows_never_bound_below_the_horizon_lp(scn: Scenario, data: st.DataObject) -> None:
    window = data.draw(st.integers(1, scn.T))
    lp = solve_oracle(scn, relax=True)
    assert lp.status == "optimal" and lp.best_bound is not None
    wb = window_bound(scn, window=window)
    assert wb.status == "optimal", wb.options["windows"]
    assert wb.best_bound is not None
    assert wb.best_bound >= lp.best_bound - CERT_TOL * max(1.0, abs(lp.best_bound))
    if window == scn.T:  # one window: the LP itself, certified
        assert wb.best_bound == pytest.approx(lp.best_bound, rel=1e-7, abs=1e-7)


def test_window_edges_cover_the_horizon() -> None:
    assert window_edges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert window_edges(3, 5) == [(0, 3)]
    with pytest.raises(ValueError):
        window_edges(3, 0)


def test_window_program_has_a_tail_without_arrivals_or_energy_costs() -> None:
    scn = load_scenario("default", horizon=48)
    W = max_wait(scn)
    assert W >= 1
    w = relaxed_window(scn, 12, 24)
    assert w.tail == W
    prog = w.program
    assert prog.scenario.T == 12 + W
    assert prog.scenario.arrivals[:, :, 12:].sum() == 0
    assert prog.scenario.arrivals[:, :, :12].sum() == scn.arrivals[:, :, 12:24].sum()
    Ts = prog.scenario.T
    for name in ("g", "o", "ch", "dis"):
        tail = prog.cols[name] + (Ts - 1)  # data center 0, last slot
        assert prog.cost[tail] == 0 and prog.col_upper[tail] == 0
    # the last window keeps the terminal floor, an inner one drops it
    last = relaxed_window(scn, 24, 48)
    assert last.tail == 0
    term = last.program.rows["battery_terminal"]
    assert (last.program.row_lower[term] > -float("inf")).all()
    assert (prog.row_lower[prog.rows["battery_terminal"]] == -float("inf")).all()


def test_week_bound_from_daily_windows_is_close_to_the_week_lp() -> None:
    scn = load_scenario("default", horizon=168)
    lp = solve_oracle(scn, relax=True)
    wb = window_bound(scn, window=24)
    assert lp.best_bound is not None and wb.best_bound is not None
    assert wb.best_bound >= lp.best_bound
    # measured: 1.02 % above the week's LP with seven daily windows, 0.34 % with three
    assert (wb.best_bound - lp.best_bound) / lp.best_bound < 0.02
    assert len(wb.options["windows"]) == 7


def test_mpc_reports_the_windows_bound(capfd: pytest.CaptureFixture[str]) -> None:
    res = CliRunner().invoke(
        app, ["mpc", "--horizon", "48", "--bound", "windows", "--lookahead", "12", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout or capfd.readouterr().out)
    assert out["bound_method"] == "windows-lp"
    assert out["oracle_status"] == "optimal"
    assert out["oracle_utility"] is None
    assert out["oracle_bound"] >= out["utility"]
    assert out["gap_pct"] >= 0


def test_oracle_replay_needs_the_oracle() -> None:
    res = CliRunner().invoke(app, ["run", "-p", "oracle-replay", "--bound", "windows"])
    assert res.exit_code == 2
    assert "oracle-replay" in res.output
