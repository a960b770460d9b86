"""Invariants of the oracle on every shipped scenario (cut to a short horizon)."""

from __future__ import annotations

import pytest

from aigc_opt import HighsOptions, evaluate, load_scenario, solve_oracle
from aigc_opt.data.catalog import quick_names


@pytest.mark.parametrize("name", quick_names())
def test_lp_bounds_milp_and_accounting_reproduces_utility(name):
    scn = load_scenario(name)
    scn = scn.cut(horizon=min(scn.T, 24))
    milp = solve_oracle(scn)
    lp = solve_oracle(scn, relax=True)
    assert milp.status == "optimal" and lp.status == "optimal"
    assert milp.mip_gap <= 1e-4
    # U_LP ≥ U_MILP, and the LP optimum is also ≥ the MILP's best bound (up to LP tolerance)
    assert lp.utility >= milp.utility - 1e-7 * abs(milp.utility)
    assert lp.utility >= milp.best_bound - 1e-6 * abs(milp.best_bound)
    for res, relaxed in ((milp, False), (lp, True)):
        ev = evaluate(scn, res.schedule, relaxed=relaxed)
        assert ev.violations == [], ev.violations[:3]
        assert ev.utility == pytest.approx(res.objective, rel=1e-6)
        assert sum(ev.terms.values()) != 0.0
        assert ev.utility == pytest.approx(
            ev.terms["revenue"] - sum(v for k, v in ev.terms.items() if k != "revenue")
        )


def test_time_limited_solve_is_reported_honestly():
    """A limit far too short for horizon 168 must not be reported as optimal; what it
    reports as a bound must still be ≥ its incumbent, and the limit must be kept."""
    scn = load_scenario("default", horizon=168)
    res = solve_oracle(scn, options=HighsOptions(time_limit=0.5))
    assert res.status in ("time_limit", "optimal")
    assert res.solve_seconds < 5.0
    if res.status == "time_limit":
        assert res.mip_gap is None or res.mip_gap >= 0
    if res.utility is not None and res.best_bound is not None:
        assert res.best_bound >= res.utility - 1e-6 * abs(res.utility)


def test_integer_jobs_is_bounded_by_continuous_jobs():
    """U_MILP(continuous jobs) ≥ U_MILP(exact) (MODEL.md §5) on the shipped tiny scenario."""
    scn = load_scenario("tiny")
    cont = solve_oracle(scn)
    exact = solve_oracle(scn, integer_jobs=True)
    assert exact.status == cont.status == "optimal"
    assert cont.best_bound >= exact.utility - 1e-6
    assert (exact.schedule.jobs["x"] % 1).abs().max() < 1e-6


def test_thread_count_can_change_between_solves():
    """HiGHS keeps one thread pool per process; changing --threads must still solve."""
    scn = load_scenario("tiny")
    statuses = [solve_oracle(scn, options=HighsOptions(threads=n)).status for n in (0, 1, 0, 2)]
    assert statuses == ["optimal"] * 4
