"""Honest statuses of the HiGHS backends: termination kept apart from solution status; a
stopped MILP still reports a valid bound; a requested stop reports ``interrupted``;
infeasible programs say so; thread-count changes in one process do not break HiGHS."""

from __future__ import annotations

import dataclasses
import threading

import highspy
import numpy as np
import pytest

from aigc_opt.data.catalog import load_scenario
from aigc_opt.data.scenario import ScenarioError, make_scenario
from aigc_opt.data.scenario_params import ScenarioParams
from aigc_opt.formulations.highs_arrays import build_arrays
from aigc_opt.solvers import interrupt
from aigc_opt.solvers.highs import ArrayHighs, HighsOptions, run
from aigc_opt.solvers.oracle import solve_oracle
from aigc_opt.solvers.result import SOLUTION_STATUSES, TERMINATIONS


@pytest.fixture(autouse=True)
def _no_stop_request():
    interrupt.clear()
    yield
    interrupt.clear()


@pytest.mark.parametrize("backend", ["highs", "pyomo"])
def test_time_limited_milp_reports_a_valid_bound(backend):
    """A limit far below the root LP's solve time: the result is ``time_limit`` and, on the
    array backend, its bound (from the stopped root LP's duals) is never below the exact
    LP optimum, so it bounds every policy; any incumbent lies below it."""
    scn = load_scenario("default", horizon=48)
    lp = solve_oracle(scn, relax=True)
    res = solve_oracle(
        scn, integer_jobs=True, options=HighsOptions(time_limit=0.02), backend=backend
    )
    assert res.status == res.termination == "time_limit"
    assert res.solution_status in ("feasible", "none")
    summary = res.summary()
    assert summary["termination"] == summary["status"] == "time_limit"
    assert summary["solution_status"] == res.solution_status and summary["timestamp"]
    if backend == "highs":
        assert res.best_bound is not None and np.isfinite(res.best_bound)
    if res.best_bound is not None:
        assert res.best_bound >= lp.utility - 1e-7 * abs(lp.utility)
        assert res.utility is None or res.best_bound >= res.utility


def test_time_limited_lp_reports_a_valid_bound():
    """An LP stopped by its limit bounds its own optimum through the stopped duals."""
    scn = load_scenario("default", horizon=48)
    exact = solve_oracle(scn, relax=True)
    res = solve_oracle(scn, relax=True, options=HighsOptions(time_limit=0.02))
    assert res.status == "time_limit" and res.solution_status == "none"
    assert res.best_bound is not None and res.is_bound_valid
    assert res.best_bound >= exact.utility - 1e-7 * abs(exact.utility)


def test_a_stopped_run_does_not_stop_the_next_one():
    """HiGHS keeps its callback's interrupt flag after an interrupted run; the stopper
    clears it, so the next run on the same object solves to optimality (before the fix
    it stopped at its first callback: an MPC window after a stopped one, the fallback
    LP after a stopped presolved LP)."""
    scn = load_scenario("default", horizon=48)
    exact = solve_oracle(scn, relax=True)
    solver = ArrayHighs(HighsOptions(presolve="off", solver="simplex"))
    solver.pass_program(build_arrays(scn, relax=True))
    interrupt.request("test")  # the first callback interrupts
    try:
        run(solver.h, solver.options, solver.stopper)
    finally:
        interrupt.clear()
    assert solver.h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    run(solver.h, solver.options, solver.stopper)
    assert solver.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    got = solver.h.getInfo().objective_function_value
    assert got == pytest.approx(exact.utility, rel=1e-7)


def test_start_within_the_gap_ends_the_solve():
    """On `default` the LP-and-fix start lands within the gap of the root LP optimum: the
    result is ``optimal`` with that optimum as its bound and no MIP search. On
    `us4-island` (a generator with a minimum output) it does not, and HiGHS searches."""
    scn = load_scenario("default", horizon=24)
    lp = solve_oracle(scn, relax=True)
    res = solve_oracle(scn, options=HighsOptions(mip_gap=1e-4))
    assert res.status == "optimal" and res.options["closed_by_start"] is True
    assert res.options["mip_nodes"] == 0
    assert res.utility is not None and res.best_bound is not None
    assert res.best_bound >= lp.best_bound - 1e-9 * abs(lp.best_bound)
    assert res.best_bound - res.utility <= 1e-4 * abs(res.utility)
    island = load_scenario("us4-island", horizon=24)
    searched = solve_oracle(island, options=HighsOptions(mip_gap=1e-4))
    assert searched.status == "optimal" and "closed_by_start" not in searched.options
    lp_bound = searched.options["lp_relaxation_bound"]
    assert searched.utility is not None
    assert (lp_bound - searched.utility) / abs(searched.utility) > 1e-4


def test_stop_request_reports_interrupted():
    """A stop requested mid-solve ends it at HiGHS' next callback as ``interrupted``."""
    scn = load_scenario("default", horizon=168)
    timer = threading.Timer(0.3, interrupt.request, args=("test",))
    timer.start()
    try:
        res = solve_oracle(scn, integer_jobs=True)
    finally:
        timer.cancel()
    assert res.status == "interrupted", (res.status, res.message)
    assert res.solution_status in ("feasible", "none")
    assert res.best_bound is None or res.utility is None or res.best_bound >= res.utility


@pytest.mark.parametrize("backend", ["highs", "pyomo"])
def test_infeasible_program(backend):
    """A terminal state of charge the charger cannot reach: infeasible, no solution, no
    bound."""
    base = load_scenario("tiny")
    params = base.params.model_dump(by_alias=True)
    params["data_centers"][0]["battery"] = {
        "capacity_mwh": 1.0,
        "charge_mw": 0.01,
        "discharge_mw": 0.1,
        "soc_initial_mwh": 0.0,
        "soc_terminal_mwh": 1.0,
    }
    with pytest.raises(ScenarioError, match="terminal state-of-charge floor"):
        make_scenario(params, base.price, base.carbon, base.renewable, base.arrivals)
    # refused at load; built past that check, the solvers must say so too
    bad = dataclasses.replace(base, params=ScenarioParams.model_validate(params))
    for relax in (True, False):
        res = solve_oracle(bad, relax=relax, backend=backend)
        assert res.status in ("infeasible", "infeasible_or_unbounded"), res.status
        assert res.status in TERMINATIONS and res.solution_status == "none"
        assert res.utility is None and res.best_bound is None and not res.is_bound_valid


def test_thread_count_changes_within_one_process():
    """HiGHS keeps one thread pool per process; a later solve with another thread count
    must still solve (it used to end in status error, "Not Set")."""
    scn = load_scenario("default", horizon=6)
    utilities = []
    for threads in (1, 2, 1):
        res = solve_oracle(scn, options=HighsOptions(threads=threads))
        assert res.status == "optimal" and res.solution_status in SOLUTION_STATUSES
        utilities.append(res.utility)
    assert max(utilities) - min(utilities) <= 1e-4 * abs(utilities[0])


def test_hierarchy_bounds_and_ordering_follow_the_statuses():
    """Which number bounds every policy: a relaxation's optimum only at status optimal,
    the MILP's best bound also when stopped; the ordering check allows 1e-6·max(1, |U|)."""
    from aigc_opt.solvers.hierarchy import Hierarchy, bound_value
    from aigc_opt.solvers.result import SolveResult

    def res(method: str, status: str, u: float | None, bound: float | None) -> SolveResult:
        return SolveResult(method, "s", 4, 0, status, u, bound)

    milp = res("oracle-milp", "time_limit", 90.0, 120.0)
    lp = res("oracle-lp", "time_limit", 110.0, 110.0)
    convex = res("oracle-convex", "optimal", 115.0, 115.5)
    assert bound_value(milp) == 120.0  # stopped MILP: its best bound still bounds
    assert bound_value(lp) is None  # stopped LP: no bound
    assert bound_value(convex) == 115.5
    h = Hierarchy(milp=milp, lp=lp, convex=convex, convex_program=None)  # type: ignore[arg-type]
    assert h.ordering_holds() is True
    gaps = h.gaps_pct()
    assert gaps["convex_vs_lp"] == pytest.approx(100 * 5 / 90)
    assert gaps["lp_vs_milp"] == pytest.approx(100 * 20 / 90)
    h.lp = res("oracle-lp", "optimal", 90.0 - 2e-4, 90.0 - 2e-4)  # below U_MILP by > 9e-5
    assert h.ordering_holds() is False
    h.lp = res("oracle-lp", "optimal", 90.0 - 5e-5, 90.0 - 5e-5)  # within the tolerance
    assert h.ordering_holds() is True
    h.convex = res("oracle-convex", "error", None, None)
    assert h.ordering_holds() is None and h.gaps_pct()["convex_vs_milp"] is None
