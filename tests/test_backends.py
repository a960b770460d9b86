"""Both program builders give the same program: the array-built HiGHS program
(`formulations.highs_arrays`) and the Pyomo model (`formulations.milp`).

On every shipped scenario (a short horizon) and on random small scenarios with slot
lengths Δ ∈ {0.5, 1, 2} h: the LP relaxations agree to 1e-7 relative, the MILPs (both
integrality modes) agree within the gaps each backend reports (|U_a − U_b| is at most
max(bound) − min(U)), and `evaluate` finds no violation in either backend's schedule.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from aigc_opt.data.catalog import load_scenario, quick_names, shipped_names
from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import evaluate
from aigc_opt.formulations.highs_arrays import build_arrays, dual_bound
from aigc_opt.solvers.oracle import solve_lp_after_milp, solve_oracle
from tests.test_bounds_property import small_scenarios

LP_REL_TOL = 1e-7
SLACK = 1e-7  # HiGHS' primal/dual feasibility tolerance, relative to max(1, |U|)


def _check_pair(scn: Scenario, **kw) -> None:
    relax = kw.get("relax", False)
    h = solve_oracle(scn, backend="highs", **kw)
    p = solve_oracle(scn, backend="pyomo", **kw)
    for name, res in (("highs", h), ("pyomo", p)):
        assert res.status == "optimal", (name, kw, res.status, res.message)
        ev = evaluate(scn, res.schedule, relaxed=relax)
        assert ev.violations == [], (name, kw, ev.violations[:3])
        assert res.best_bound >= res.utility - SLACK * max(1.0, abs(res.utility))
    scale = max(1.0, abs(p.utility))
    if relax:
        assert abs(h.utility - p.utility) <= LP_REL_TOL * scale, (h.utility, p.utility)
    else:
        gap = max(h.best_bound, p.best_bound) - min(h.utility, p.utility)
        assert abs(h.utility - p.utility) <= gap + SLACK * scale, (h.utility, p.utility, gap)
        # each incumbent is below the other backend's bound: one program, two builds
        assert h.utility <= p.best_bound + SLACK * scale
        assert p.utility <= h.best_bound + SLACK * scale


QUICK = set(quick_names())


@pytest.mark.parametrize(
    "name",
    [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in shipped_names()],
)
def test_backends_agree_on_shipped_scenarios(name: str) -> None:
    """Every shipped scenario; the scale and full-year tiers are in the slow set."""
    full = load_scenario(name)
    scn = full.cut(horizon=min(4, full.T))
    for kw in (dict(relax=True), dict()):
        _check_pair(scn, **kw)
    if name in INTEGER_QUICK:
        _check_pair(full.cut(horizon=min(2, full.T)), integer_jobs=True)


INTEGER_QUICK = {"tiny", "default"}
"""Scenarios whose exact MILP (integer job counts) the default suite compares; the others'
branch and bound takes 5–15 s per backend, so they are in the slow set below."""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUICK - INTEGER_QUICK))
def test_backends_agree_with_integer_jobs(name: str) -> None:
    full = load_scenario(name)
    _check_pair(full.cut(horizon=min(2, full.T)), integer_jobs=True)


@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scn=small_scenarios())
def test_backends_agree_on_random_scenarios(scn: Scenario) -> None:
    for kw in (dict(relax=True), dict(), dict(integer_jobs=True)):
        _check_pair(scn, **kw)


def test_lp_after_milp_on_one_build_equals_a_fresh_lp() -> None:
    """`bounds` builds once: switching integrality off in place gives the LP relaxation."""
    scn = load_scenario("default", horizon=8)
    milp, lp = solve_lp_after_milp(scn)
    fresh = solve_oracle(scn, relax=True)
    assert milp.status == lp.status == "optimal"
    assert lp.method == "oracle-lp" and lp.schedule is not None
    assert lp.utility == pytest.approx(fresh.utility, rel=1e-9)
    assert lp.utility >= milp.utility - 1e-7 * abs(milp.utility)
    assert evaluate(scn, lp.schedule, relaxed=True).violations == []


@settings(max_examples=15, derandomize=True, database=None, deadline=None)
@given(scn=small_scenarios())
def test_dual_bound_holds_for_any_multipliers(scn: Scenario) -> None:
    """Weak duality: the bound from arbitrary row multipliers is never below the LP optimum."""
    prog = build_arrays(scn, relax=True)
    lp = solve_oracle(scn, relax=True)
    rng = np.random.default_rng(int(scn.arrivals.sum()))
    for _ in range(5):
        y = rng.normal(scale=10.0, size=prog.n_rows)
        assert dual_bound(prog, y) >= lp.utility - 1e-9 * max(1.0, abs(lp.utility))
