"""Perfect-foresight oracle: build the program on the whole horizon, solve it, and account
the incumbent with `accounting.evaluate` (the solver's objective is only cross-checked)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import evaluate
from aigc_opt.formulations.milp import Program, build_milp
from aigc_opt.formulations.schedule import Schedule
from aigc_opt.solvers.highs import HighsOptions, HighsSolver
from aigc_opt.solvers.result import SolveResult, mip_gap


def _values(var, keys) -> np.ndarray:
    return np.array([var[k].value if var[k].value is not None else 0.0 for k in keys], dtype=float)


def extract_schedule(prog: Program, slots: int | None = None) -> Schedule:
    """Read the loaded solution of a program into a `Schedule` (slots [0, slots))."""
    m, idx, scn = prog.model, prog.index, prog.scenario
    T = scn.T if slots is None else slots
    sch = Schedule.empty(scn) if slots is None else Schedule.empty(scn.cut(horizon=T))
    x = _values(m.x, range(idx.n_rows))
    keep = (np.abs(x) > 0) & (idx.t < T)
    sch.jobs = pd.DataFrame(
        {
            "a": idx.a[keep],
            "b": idx.b[keep],
            "k": idx.k[keep],
            "s": idx.s[keep],
            "tau": idx.tau[keep],
            "t": idx.t[keep],
            "x": x[keep],
        }
    )
    y = _values(m.y, range(idx.n_cohorts))
    inside = (idx.ctau >= 0) & (idx.ctau < T)
    sch.drops[idx.ca[inside], idx.ck[inside], idx.ctau[inside]] = y[inside]
    B, D = scn.A, scn.D

    def grid(var, rows):
        return _values(var, [(r, t) for r in range(rows) for t in range(T)]).reshape(rows, T)

    sch.gpus = grid(m.n, B)
    sch.grid = grid(m.g, D)
    sch.renewable = grid(m.r, D)
    sch.charge = grid(m.ch, D)
    sch.discharge = grid(m.dis, D)
    sch.generator = grid(m.o, D)
    sch.generator_on = grid(m.u, D)
    if not prog.relax:  # integer variables come back as 0.9999999: snap them
        sch.gpus = np.round(sch.gpus)
        sch.generator_on = np.round(sch.generator_on)
    return sch


def solve_oracle(
    scn: Scenario,
    *,
    relax: bool = False,
    integer_jobs: bool = False,
    options: HighsOptions | None = None,
    mip_start: bool = True,
) -> SolveResult:
    """Solve the perfect-foresight MILP (or its LP relaxation) on ``scn``'s horizon.

    Method names: ``oracle-milp`` (GPUs and binaries integer; job counts continuous unless
    ``integer_jobs``), ``oracle-lp`` (everything continuous). ``mip_start`` seeds HiGHS
    with the LP-and-fix heuristic (`HighsSolver.lp_fix_start`); it never changes the optimum
    or the bound, only how fast the gap closes.
    """
    options = options or HighsOptions()
    method = "oracle-lp" if relax else "oracle-milp"
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
    res = SolveResult(
        method=method,
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start_slot,
        status=raw.status,
        utility=None,
        best_bound=raw.best_bound,
        objective=raw.objective,
        build_seconds=build_seconds,
        solve_seconds=raw.solve_seconds,
        solver="highs",
        solver_version=raw.solver_version,
        options={
            **options.as_dict(),
            "integer_jobs": integer_jobs,
            "relax": relax,
            "variables": prog.index.n_rows + prog.index.n_cohorts,
            "integer_variables": _count_integer(prog.model),
            "mip_start": "lp-fix" if (mip_start and not relax) else None,
        },
        message=raw.message,
        scenario_obj=scn,
    )
    if raw.has_solution:
        sch = extract_schedule(prog)
        ev = evaluate(scn, sch, relaxed=relax)
        res.schedule = sch
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
        res.mip_gap = mip_gap(res.utility, res.best_bound)
    return res


def _count_integer(m: pyo.ConcreteModel) -> int:
    return sum(
        1 for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed and v.is_integer()
    )
