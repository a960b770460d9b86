"""Perfect-foresight oracle: build the program on the whole horizon, solve it, and account
the incumbent with `accounting.evaluate` (the solver's objective is only cross-checked).

Two backends build the same program (docs/backends.md): ``highs`` (default) assembles it
as arrays (`formulations.highs_arrays`) and passes it to HiGHS in one call; ``pyomo``
builds the readable Pyomo model (`formulations.milp`) and hands it over through Pyomo's
appsi interface. Pyomo is imported only on the ``pyomo`` path.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import evaluate
from aigc_opt.formulations.highs_arrays import ArrayProgram, build_arrays
from aigc_opt.formulations.schedule import Schedule
from aigc_opt.solvers.highs import ArrayHighs, HighsOptions, RawOutcome
from aigc_opt.solvers.result import SolveResult, mip_gap

Backend = Literal["highs", "pyomo"]
BACKENDS = ("highs", "pyomo")
DEFAULT_BACKEND: Backend = "highs"


def _method(relax: bool) -> str:
    return "oracle-lp" if relax else "oracle-milp"


def account(
    scn: Scenario,
    raw: RawOutcome,
    schedule: Schedule | None,
    *,
    relax: bool,
    build_seconds: float,
    options: dict[str, Any],
    backend: str,
) -> SolveResult:
    """A `SolveResult` from a backend's raw outcome and the incumbent's schedule (if any),
    with terms, KPIs and violations recomputed by `accounting.evaluate`."""
    res = SolveResult(
        method=_method(relax),
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start_slot,
        status=raw.termination,
        solution_status=raw.solution_status,
        utility=None,
        best_bound=raw.best_bound,
        objective=raw.objective,
        build_seconds=build_seconds,
        solve_seconds=raw.solve_seconds,
        solver="highs" if backend == "highs" else "highs (pyomo appsi)",
        solver_version=raw.solver_version,
        options={**options, "backend": backend, **raw.info},
        message=raw.message,
        scenario_obj=scn,
    )
    if schedule is not None:
        ev = evaluate(scn, schedule, relaxed=relax)
        res.schedule = schedule
        res.terms = ev.terms
        res.kpis = ev.kpis
        res.violations = [v.as_dict() for v in ev.violations]
        res.utility = ev.utility
        if raw.objective is not None and abs(ev.utility - raw.objective) > 1e-6 * max(
            1.0, abs(raw.objective)
        ):
            res.message += (
                f"; accounting U={ev.utility:.6f} differs from solver objective {raw.objective:.6f}"
            )
        if (
            res.best_bound is not None
            and not res.violations
            and res.best_bound < ev.utility <= res.best_bound + 1e-9 * max(1.0, abs(ev.utility))
        ):
            # a feasible schedule's utility is a lower bound on the optimum, so a solver bound
            # below it by floating-point roundoff (seen: 3e-13 $) is lifted to it; never more
            res.best_bound = ev.utility
        res.mip_gap = mip_gap(res.utility, res.best_bound)
    return res


def solve_arrays(
    prog: ArrayProgram,
    solver: ArrayHighs,
    *,
    build_seconds: float,
    mip_start: bool = True,
) -> SolveResult:
    """Solve a program already passed to ``solver`` and account it (array backend)."""
    scn = prog.scenario
    raw = solver.solve(mip_start=mip_start)
    relax = prog.relax
    sch = prog.schedule(raw.values) if raw.values is not None else None
    options = {
        **solver.options.as_dict(),
        "integer_jobs": prog.integer_jobs and not relax,
        "relax": relax,
        "variables": prog.n_cols,
        "rows": prog.n_rows,
        "nonzeros": int(prog.matrix.nnz),
        "integer_variables": int(prog.integer.sum()),
        "mip_start": "lp-fix" if (mip_start and not relax) else None,
    }
    return account(
        scn, raw, sch, relax=relax, build_seconds=build_seconds, options=options, backend="highs"
    )


def solve_oracle(
    scn: Scenario,
    *,
    relax: bool = False,
    integer_jobs: bool = False,
    options: HighsOptions | None = None,
    mip_start: bool = True,
    backend: Backend = DEFAULT_BACKEND,
) -> SolveResult:
    """Solve the perfect-foresight MILP (or its LP relaxation) on ``scn``'s horizon.

    Method names: ``oracle-milp`` (GPUs and binaries integer; job counts continuous unless
    ``integer_jobs``), ``oracle-lp`` (everything continuous). ``mip_start`` seeds HiGHS
    with the LP-and-fix heuristic (`solvers.highs.lp_fix_start`), whose LPs count against
    the time limit and whose root LP bounds a stopped MILP. ``build_seconds`` covers the
    build and the hand-off to HiGHS.
    """
    options = options or HighsOptions()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "pyomo":
        return _solve_pyomo(scn, relax, integer_jobs, options, mip_start)
    t0 = time.perf_counter()
    prog = build_arrays(scn, relax=relax, integer_jobs=integer_jobs)
    solver = ArrayHighs(options)
    solver.pass_program(prog)
    return solve_arrays(prog, solver, build_seconds=time.perf_counter() - t0, mip_start=mip_start)


def solve_lp_after_milp(
    scn: Scenario,
    *,
    integer_jobs: bool = False,
    milp_options: HighsOptions | None = None,
    lp_options: HighsOptions | None = None,
    mip_start: bool = True,
) -> tuple[SolveResult, SolveResult]:
    """The MILP and then its LP relaxation from one build and one hand-off to HiGHS (the
    relaxation switches the integrality off in place). The LP's ``build_seconds`` is 0;
    both record the shared build under ``options["shared_build_seconds"]``."""
    milp_options = milp_options or HighsOptions()
    t0 = time.perf_counter()
    prog = build_arrays(scn, integer_jobs=integer_jobs)
    solver = ArrayHighs(milp_options)
    solver.pass_program(prog)
    build = time.perf_counter() - t0
    milp = solve_arrays(prog, solver, build_seconds=build, mip_start=mip_start)
    solver.options = lp_options or HighsOptions()
    solver.set_integer(np.zeros(prog.n_cols, dtype=bool))
    lp = solve_arrays(prog, solver, build_seconds=0.0)
    for res in (milp, lp):
        res.options["shared_build_seconds"] = round(build, 4)
    return milp, lp


def _solve_pyomo(
    scn: Scenario, relax: bool, integer_jobs: bool, options: HighsOptions, mip_start: bool
) -> SolveResult:
    from aigc_opt.formulations.milp import build_milp
    from aigc_opt.solvers.highs_pyomo import HighsSolver, count_integer, extract_schedule

    t0 = time.perf_counter()
    prog = build_milp(scn, relax=relax, integer_jobs=integer_jobs)
    solver = HighsSolver(options)
    solver.set_instance(prog.model)
    build_seconds = time.perf_counter() - t0
    lp_fix = None
    if not relax and mip_start:
        m = prog.model
        lp_fix = {
            "round_up": [m.n[k] for k in m.n],
            "by_flow": [(m.z[k], m.ch[k], m.dis[k]) for k in m.z],
        }
    raw = solver.solve(prog.model, lp_fix=lp_fix)
    h = solver.highs
    opts = {
        **options.as_dict(),
        "integer_jobs": integer_jobs,
        "relax": relax,
        "variables": int(h.getNumCol()),
        "rows": int(h.getNumRow()),
        "nonzeros": int(h.getNumNz()),
        "integer_variables": count_integer(prog.model),
        "mip_start": "lp-fix" if (mip_start and not relax) else None,
    }
    sch = extract_schedule(prog) if raw.has_solution else None
    return account(
        scn, raw, sch, relax=relax, build_seconds=build_seconds, options=opts, backend="pyomo"
    )
