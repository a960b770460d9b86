"""Solving the ``edge-offload`` convex relaxation (`formulations.edge_offload_convex`) with
Clarabel through cvxpy, with the certified bound of `solvers.convex` (the solver's dual
objective plus the stated accuracy, never below the relaxed optimum).

The result's ``utility`` is the relaxed optimum (continuous steps: no schedule the
family's accounting can replay), itself an upper bound, as for the ``aigc-dc`` convex
program; its terms are the program's term expressions at the solution ($).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import cvxpy as cp

from aigc_opt.data.families.edge_offload import FAMILY, EdgeOffloadScenario
from aigc_opt.formulations.edge_offload import TERMS
from aigc_opt.formulations.edge_offload_convex import build_convex
from aigc_opt.solvers.convex import (
    ConvexOptions,
    _feasibility_scale,
    _raw_duality_gap,
    certified_bound,
)
from aigc_opt.solvers.family_result import FamilyResult


def solve_convex(
    scn: EdgeOffloadScenario, *, time_limit: float | None = None, **_ignored: Any
) -> FamilyResult:
    """Build and solve the relaxation; ``best_bound`` only at an optimal status."""
    t0 = time.perf_counter()
    prog = build_convex(scn)
    options = ConvexOptions(time_limit=time_limit)
    res = FamilyResult(
        family=FAMILY, method="oracle-convex", scenario=scn.name, horizon=scn.T,
        start=scn.start, status="error", utility=None, solver="cvxpy/clarabel",
        options=options.as_dict(),
    )  # fmt: skip
    if prog is None:  # nothing can be served: every task is dropped, exactly
        drops = scn.spec.drop_usd * float(scn.arrivals.sum())
        res.status, res.utility, res.best_bound, res.objective = "optimal", -drops, -drops, -drops
        res.terms = dict.fromkeys(TERMS, 0.0) | {"drop_penalty": drops}
        return res
    data, chain, inverse = prog.problem.get_problem_data(cp.CLARABEL, solver_opts={})
    res.build_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    raw, gap, scale, reached, messages = cp.SOLVER_ERROR, None, 0.0, None, []
    for tol, settings in options.attempts():
        kwargs = {**options.solver_kwargs(tol, time_limit), **settings}
        try:
            solution = chain.solve_via_data(prog.problem, data, solver_opts=kwargs)
            gap, scale = _raw_duality_gap(solution), _feasibility_scale(solution, data)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                prog.problem.unpack_results(solution, chain, inverse)
            raw = prog.problem.status
        except cp.error.SolverError as exc:
            messages.append(f"clarabel failed at tol {tol:g}: {str(exc).split('.')[0]}")
            continue
        messages.append(f"cvxpy status {raw} at tol {tol:g}")
        reached = tol if raw == cp.OPTIMAL else None
        if raw not in (cp.OPTIMAL_INACCURATE, cp.SOLVER_ERROR):
            break
    res.solve_seconds = time.perf_counter() - t1
    res.status = {cp.OPTIMAL: "optimal", cp.OPTIMAL_INACCURATE: "inaccurate",
                  cp.INFEASIBLE: "infeasible", cp.UNBOUNDED: "unbounded",
                  cp.USER_LIMIT: "time_limit"}.get(raw, "error")  # fmt: skip
    res.message = "; ".join(messages)
    if prog.problem.value is None or raw not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return res
    value = float(prog.problem.value)
    res.objective = res.utility = value
    exprs = (prog.quality, prog.delay, prog.energy, prog.drops, prog.switching)
    res.terms = {name: float(expr.value) for name, expr in zip(TERMS, exprs, strict=True)}
    res.kpis = {"tasks_served": float(prog.x.value.sum())}
    res.options["tol_reached"] = reached
    if res.status == "optimal":
        res.best_bound = max(certified_bound(value, gap, reached, scale), value)
    return res
