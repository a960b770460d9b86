"""Solve an `ArrayProgram` with HiGHS, passed in one ``passModel`` call (CSC matrix).

Options, the wall-clock limit (an interrupt callback, since HiGHS' own ``time_limit`` alone
may overrun; it also honours a process-wide stop request) and the thread pool are handled
by `solvers.highs` (`HighsOptions`, `Stopper`, `run`), as for the ``aigc-dc`` programs.
A stopped solve reports ``time_limit`` with its incumbent (if any) and its best bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from aigc_opt.formulations.family_program import ArrayProgram
from aigc_opt.solvers.family_result import FamilyResult, oracle_result
from aigc_opt.solvers.highs import HighsOptions, Stopper, new_highs, run

_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kInterrupt": "time_limit",
    "kIterationLimit": "time_limit",
    "kSolutionLimit": "time_limit",
}


@dataclass
class ArraySolution:
    """Status, the incumbent ``x`` (None without one), its objective and the best bound ($)."""

    status: str
    x: np.ndarray | None
    objective: float | None
    best_bound: float | None
    seconds: float
    message: str
    version: str


def highs_version() -> str:
    return f"highspy {new_highs().version()}"


def solve_arrays(
    prog: ArrayProgram,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int = 0,
    seed: int = 0,
) -> ArraySolution:
    """Maximize ``prog`` with HiGHS. ``best_bound`` is a proven upper bound on the optimum
    (for an LP at status optimal: the optimum itself)."""
    t0 = time.perf_counter()
    if prog.n_cols == 0:  # nothing to decide: the optimum is the constant
        return ArraySolution("optimal", np.zeros(0), prog.offset, prog.offset, 0.0, "empty", "")
    h = new_highs()
    options = HighsOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)
    stopper = Stopper()
    if time_limit is not None:
        stopper.deadline = t0 + float(time_limit)
    stopper.subscribe(h)
    lp = highspy.HighsLp()
    lp.num_col_ = prog.n_cols
    lp.num_row_ = prog.n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.offset_ = float(prog.offset)
    lp.col_cost_ = np.asarray(prog.c, dtype=float)
    lp.col_lower_ = np.asarray(prog.col_lo, dtype=float)
    lp.col_upper_ = np.asarray(prog.col_hi, dtype=float)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(prog.row_lo), prog.row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(prog.row_hi), prog.row_hi, inf)
    A = prog.A.tocsc()
    A.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = prog.n_cols
    lp.a_matrix_.num_row_ = prog.n_rows
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    is_mip = bool(prog.integer.any())
    if is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in prog.integer
        ]
    version = f"highspy {h.version()}"
    try:
        h.passModel(lp)
        run(h, options, stopper)  # the thread pool is reset when its size changes
    except Exception as exc:  # a solver crash is a status, not a traceback
        return ArraySolution("error", None, None, None, time.perf_counter() - t0, str(exc), version)
    seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    status = _STATUS.get(str(ms).split(".")[-1], "error")
    info = h.getInfo()
    sol = h.getSolution()
    has = bool(sol.value_valid) and (status == "optimal" or info.primal_solution_status == 2)
    x = np.asarray(sol.col_value, dtype=float) if has else None
    objective = float(info.objective_function_value) if has else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        if bound is not None and objective is not None:
            bound = max(bound, objective)  # HiGHS reports the bound on its own tolerance scale
    else:
        bound = objective if status == "optimal" else None
    return ArraySolution(status, x, objective, bound, seconds, h.modelStatusToString(ms), version)


def solve_oracle_program(
    family: str,
    scn: Any,
    prog: ArrayProgram,
    *,
    relax: bool,
    t0: float,
    time_limit: float | None,
    mip_gap: float,
    threads: int,
    seed: int,
) -> tuple[FamilyResult, ArraySolution]:
    """Solve a family's perfect-foresight program built since ``t0`` (perf_counter s), its
    LP relaxation with ``relax``; returns the result (utility still to be filled in from the
    schedule by the family's accounting, see `with_evaluation`) and the raw solution."""
    if relax:
        prog = prog.relaxed()
    built = time.perf_counter() - t0
    sol = solve_arrays(prog, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)
    options = {"mip_gap": mip_gap, "time_limit": time_limit, "threads": threads, "seed": seed}
    res = oracle_result(family, scn, sol, relax=relax, build_seconds=built, options=options)
    return res, sol
