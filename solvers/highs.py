"""HiGHS backend (in-process, highspy): the array program passed in one ``passModel``.

Size: the options, the stop callback, the status reading, the LP-and-fix start and the
root-LP fallback are one solve protocol shared by the array and Pyomo backends; they are
kept together so that the time-limit and bound rules are read in one place.

`ArrayHighs` holds one ``highspy.Highs`` with an `ArrayProgram` loaded; it solves the MILP
or LP, re-solves after in-place changes (MPC windows: `change_bounds`, `change_costs`,
`change_row_bounds`, from the previous basis) and switches integrality without a rebuild
(`set_integer`). The Pyomo reference path (`solvers.highs_pyomo`) shares everything
below that is not about the model: options, the stop callback, the LP-and-fix MIP start
and the reading of statuses.

Statuses are reported in two parts (the Pyomo contrib.solver pattern):

* ``termination``: optimal, time_limit, iteration_limit, interrupted, infeasible,
  unbounded, infeasible_or_unbounded or error — why the solver stopped;
* ``solution_status``: optimal, feasible or none — what it left behind.

The user's time limit is *enforced* from the start of `solve`: the LP-and-fix start's
LPs count against it (the start is skipped when less than a quarter of the limit is
left), HiGHS' own ``time_limit`` is set to what remains, and an interrupt callback stops
any solve once the wall clock passes the deadline or a stop was requested
(`aigc_opt.solvers.interrupt`). A stopped MILP reports its incumbent (if any) and its
best bound: HiGHS' dual bound, or the root LP relaxation's optimum when that is tighter
or HiGHS has none. When the LP-and-fix start is already within the requested MIP gap
of the root LP's optimum, the MIP search is skipped and the result is ``optimal`` (the
gap closed to tolerance, as HiGHS means it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from importlib.metadata import version as _pkg_version
from typing import Any

import highspy
import numpy as np

from aigc_opt.formulations.highs_arrays import ArrayProgram, dual_bound, implied_upper
from aigc_opt.solvers import interrupt
from aigc_opt.solvers.result import mip_gap as relative_gap


@contextlib.contextmanager
def banner_muted() -> Iterator[None]:
    """File descriptor 1 points at /dev/null for the duration: HiGHS writes its start-up
    banner there when a ``Highs`` object is created, whatever ``output_flag`` says, and a
    command's stdout (JSON) or stderr (one error line) must not carry it."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` without its banner (see `banner_muted`)."""
    with banner_muted():
        return highspy.Highs()  # type: ignore[no-untyped-call]


MIP_START_MIN_SHARE = 0.25
"""The LP-and-fix start runs its second LP only while this share of the limit is left."""


@dataclass
class HighsOptions:
    """Solver options. ``time_limit`` in seconds of wall clock for the whole solve,
    MIP start included (None = none); ``mip_gap`` relative (MODEL.md definition);
    ``threads`` (0 = HiGHS default); ``solver`` HiGHS' LP method (``choose``, ``simplex``,
    ``ipm``, ``ipx``, ``hipo``, ``pdlp``); ``extra`` any further HiGHS options."""

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 0
    seed: int = 0
    verbose: bool = False
    presolve: str = "choose"
    solver: str = "choose"
    extra: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_limit": self.time_limit,
            "mip_gap": self.mip_gap,
            "threads": self.threads,
            "seed": self.seed,
            "presolve": self.presolve,
            "solver": self.solver,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    def highs_options(self) -> dict[str, Any]:
        """The HiGHS option values these options set (time limit excluded)."""
        return {
            "mip_rel_gap": float(self.mip_gap),
            "random_seed": int(self.seed),
            "presolve": self.presolve,
            "solver": self.solver,
            "threads": int(self.threads),
            "output_flag": bool(self.verbose),
            "log_to_console": bool(self.verbose),
            **(self.extra or {}),
        }


@dataclass
class RawOutcome:
    """What a backend returns before accounting: statuses, numbers, timings.

    ``objective`` is the solver's value of the incumbent; ``best_bound`` a proven upper
    bound on the program's optimum (None when none is known); ``values`` the column
    values of the incumbent (array path only).
    """

    termination: str
    solution_status: str
    objective: float | None
    best_bound: float | None
    solve_seconds: float
    message: str
    solver_version: str
    values: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.termination

    @property
    def has_solution(self) -> bool:
        return self.solution_status != "none"


def version() -> str:
    return _pkg_version("highspy")


_THREADS_IN_USE: list[int] = []  # thread setting of HiGHS' process-wide scheduler


def use_threads(threads: int) -> None:
    """HiGHS keeps one thread pool per process and refuses a later run with another thread
    count ("Not Set"); reset the pool when the requested count (0 = default) changes."""
    if _THREADS_IN_USE and _THREADS_IN_USE[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
        _THREADS_IN_USE.clear()
    if not _THREADS_IN_USE:
        _THREADS_IN_USE.append(threads)


class Stopper:
    """The interrupt callback: stops a run past ``deadline`` (perf_counter seconds) or
    when a stop was requested process-wide."""

    def __init__(self) -> None:
        self.deadline = float("inf")

    def __call__(self, event: Any) -> None:
        # HiGHS keeps the callback's interrupt flag set after an interrupted run
        # (ERGO-Code/HiGHS#1761): a later run on the same object would stop at its first
        # callback, so the flag is cleared explicitly while the deadline is ahead
        event.interrupt(time.perf_counter() > self.deadline or bool(interrupt.requested()))

    def subscribe(self, h: highspy.Highs) -> None:
        h.cbMipInterrupt.subscribe(self)
        h.cbSimplexInterrupt.subscribe(self)
        h.cbIpmInterrupt.subscribe(self)

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def run(h: highspy.Highs, options: HighsOptions, stopper: Stopper) -> None:
    """Set the options and the remaining time, run, and retry once after resetting the
    thread pool when HiGHS refuses to start ("Not Set" from a pool of another size).

    HiGHS 1.x compares ``time_limit`` with the *cumulative* run time of the ``Highs``
    object (ERGO-Code/HiGHS#1477), so the limit set is that run time plus what is left;
    otherwise a second run on the same object (the LP-and-fix start's second LP, the MIP
    search after it, an MPC window's next slot) stops early."""
    use_threads(options.threads)
    for name, value in options.highs_options().items():
        h.setOptionValue(name, value)
    left = stopper.left()
    limit = h.getRunTime() + max(left, 1e-3) if np.isfinite(left) else np.inf
    h.setOptionValue("time_limit", limit)
    status = h.run()
    if status == highspy.HighsStatus.kError and h.getModelStatus() in (
        highspy.HighsModelStatus.kNotset,
        highspy.HighsModelStatus.kSolveError,
    ):
        highspy.Highs.resetGlobalScheduler(True)
        _THREADS_IN_USE[:] = [options.threads]
        h.run()


PRESOLVED_SHARE = 0.5
PRESOLVED_MIN_S = 30.0
"""Under a time limit of at least `PRESOLVED_MIN_S` seconds the root LP first runs as
configured (presolve on: several times faster on large programs, 97 s against 462 s on
benchmark size L) for `PRESOLVED_SHARE` of the time left; only if that stops does the
dual simplex without presolve run for the rest, so that its row duals still give a
bound. Shorter limits go straight to the dual simplex without presolve: a presolved run
stopped early leaves no duals, and at a fraction of a second it would rarely finish."""


def root_lp(
    h: highspy.Highs,
    options: HighsOptions,
    stopper: Stopper,
    bound_of: Callable[[np.ndarray], float] | None,
) -> float | None:
    """Solve the loaded LP against the stopper's deadline; return its bound (maximisation):
    the optimum, or after a stop the bound of the row duals left (`bound_from_duals`),
    None when there is none. Without a deadline or ``bound_of`` it is one plain run."""
    ok = highspy.HighsModelStatus.kOptimal
    if bound_of is not None and np.isfinite(stopper.deadline):
        presolved = stopper.left() >= PRESOLVED_MIN_S
        if presolved:
            deadline = stopper.deadline
            stopper.deadline = time.perf_counter() + PRESOLVED_SHARE * stopper.left()
            try:
                run(h, options, stopper)
            finally:
                stopper.deadline = deadline
        stopped = presolved and (stopper.left() <= 0 or bool(interrupt.requested()))
        if h.getModelStatus() != ok and not stopped:
            run(h, replace(options, presolve="off", solver="simplex"), stopper)
    else:
        run(h, options, stopper)
    if h.getModelStatus() == ok:
        return float(h.getInfo().objective_function_value)
    return bound_from_duals(h, bound_of)


_STOPPED = ("time_limit", "iteration_limit", "interrupted")

_TERMINATION = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "iteration_limit",
    "kInterrupt": "time_limit",
    "kHighsInterrupt": "time_limit",
}


def termination_of(h: highspy.Highs) -> str:
    """HiGHS' model status as a termination condition; a callback stop is ``interrupted``
    when a stop was requested, else ``time_limit`` (the deadline stopped it)."""
    raw = str(h.getModelStatus()).split(".")[-1]
    term = _TERMINATION.get(raw, "error")
    if term == "time_limit" and raw.endswith("Interrupt") and interrupt.requested():
        return "interrupted"
    return term


def read_outcome(
    h: highspy.Highs, seconds: float, *, is_mip: bool, lp_bound: float | None
) -> RawOutcome:
    """Statuses, incumbent and bound of the last run (module doc; maximisation)."""
    term = termination_of(h)
    info = h.getInfo()
    sol = h.getSolution()
    feasible = bool(sol.value_valid) and info.primal_solution_status == 2
    has = feasible and (is_mip or term == "optimal")
    objective = float(info.objective_function_value) if has else None
    if is_mip:
        bounds = [b for b in (info.mip_dual_bound, lp_bound) if b is not None and np.isfinite(b)]
        bound = min(bounds) if bounds and term in ("optimal", *_STOPPED) else None
    else:
        bound = objective if term == "optimal" else (lp_bound if term in _STOPPED else None)
    if bound is not None and objective is not None:
        bound = max(bound, objective)  # a dual bound rounded below its incumbent
    status = "none" if not has else ("optimal" if term == "optimal" else "feasible")
    msg = h.modelStatusToString(h.getModelStatus())
    if term == "interrupted":
        msg += f" (stop requested: {interrupt.requested()})"
    return RawOutcome(
        termination=term,
        solution_status=status,
        objective=objective,
        best_bound=bound,
        solve_seconds=seconds,
        message=msg,
        solver_version=version(),
        values=np.asarray(sol.col_value, dtype=float) if has else None,
        info={
            "simplex_iterations": int(info.simplex_iteration_count),
            "ipm_iterations": int(info.ipm_iteration_count),
            "mip_nodes": int(info.mip_node_count) if is_mip else None,
            "lp_relaxation_bound": lp_bound,
        },
    )


def bound_from_duals(
    h: highspy.Highs, bound_of: Callable[[np.ndarray], float] | None
) -> float | None:
    """A bound from the row duals a stopped LP left (None without duals or ``bound_of``):
    ``bound_of(y)`` is valid for any y, so both signs are tried and the smaller kept."""
    sol = h.getSolution()
    if bound_of is None or not sol.dual_valid:
        return None
    y = np.asarray(sol.row_dual, dtype=float)
    bound = min(bound_of(y), bound_of(-y))
    return bound if np.isfinite(bound) else None


@dataclass
class MipStart:
    """What `lp_fix_start` found: the start's objective and column values (a feasible
    MILP point) and the root LP relaxation's bound; None where not reached."""

    objective: float | None = None
    values: np.ndarray | None = None
    bound: float | None = None


def lp_fix_start(
    h: highspy.Highs,
    options: HighsOptions,
    stopper: Stopper,
    limit: float | None,
    round_up: np.ndarray,
    by_flow: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    bound_of: Callable[[np.ndarray], float] | None = None,
) -> MipStart:
    """Primal heuristic and root bound: relax, solve the LP (its optimum bounds the MILP),
    round the integer columns, re-solve the LP with them fixed and hand the result to
    HiGHS as a MIP start. Both LPs run against the caller's deadline; the second only
    while `MIP_START_MIN_SHARE` of ``limit`` is left.

    Under a time limit the root LP runs as `root_lp` does (presolved first; a stop falls
    back to the dual simplex without presolve, whose row duals ``bound_of(y)``, e.g.
    `highs_arrays.dual_bound`, turns into a bound valid for any y). ``round_up`` (bool
    per column) marks columns rounded up (active GPUs, so GPU time stays feasible); each
    (z, ch, dis) column triple of ``by_flow`` sets the battery mode z by the LP's dominant
    flow; other integer columns are rounded to the nearest integer.
    """
    out = MipStart()
    lp = h.getLp()
    integ = np.asarray([int(v) for v in lp.integrality_], dtype=np.uint8)
    cols = np.flatnonzero(integ != 0).astype(np.int32)
    if cols.size == 0:
        return out
    lo = np.asarray(lp.col_lower_, dtype=float)[cols]
    hi = np.asarray(lp.col_upper_, dtype=float)[cols]
    start = None
    try:
        h.changeColsIntegrality(cols.size, cols, np.zeros(cols.size, dtype=np.uint8))
        out.bound = root_lp(h, options, stopper, bound_of if limit is not None else None)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return out
        if limit is not None and stopper.left() < MIP_START_MIN_SHARE * limit:
            return out
        full = np.asarray(h.getSolution().col_value, dtype=float)
        fixed = np.where(round_up[cols], np.ceil(full[cols] - 1e-6), np.round(full[cols]))
        if by_flow is not None and by_flow[0].size:
            z, ch, dis = by_flow
            pos = np.searchsorted(cols, z)
            fixed[pos] = (full[ch] > full[dis]).astype(float)
        fixed = np.clip(fixed, lo, hi)
        h.changeColsBounds(cols.size, cols, fixed, fixed)
        run(h, options, stopper)
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            start = h.getSolution()
            out.objective = float(h.getInfo().objective_function_value)
            out.values = np.asarray(start.col_value, dtype=float)
    finally:  # restore the MILP exactly as it was
        h.changeColsBounds(cols.size, cols, lo, hi)
        h.changeColsIntegrality(cols.size, cols, integ[cols])
    if start is not None:
        h.setSolution(start)  # after the last model change, or HiGHS discards it
    return out


def stopped_outcome(start: MipStart, seconds: float) -> RawOutcome:
    """Outcome when the limit or a stop request came before the MIP search: the LP-and-fix
    start (if any) as incumbent, the root LP's bound (if any)."""
    reason = interrupt.requested()
    bound = start.bound
    if bound is not None and start.objective is not None:
        bound = max(bound, start.objective)
    has = start.values is not None
    return RawOutcome(
        termination="interrupted" if reason else "time_limit",
        solution_status="feasible" if has else "none",
        objective=start.objective if has else None,
        best_bound=bound,
        solve_seconds=seconds,
        message=f"stopped before the MIP search ({reason or 'time limit'}); "
        + ("LP-and-fix start as incumbent" if has else "no incumbent"),
        solver_version=version(),
        values=start.values,
        info={"lp_relaxation_bound": start.bound, "mip_nodes": 0},
    )


def start_closes_gap(start: MipStart, mip_gap: float) -> bool:
    """True when the LP-and-fix start is within ``mip_gap`` (MODEL.md's relative gap) of
    the root LP's optimum: the MIP search has nothing left to prove."""
    if start.values is None:
        return False
    gap = relative_gap(start.objective, start.bound)
    return gap is not None and gap <= mip_gap


def closed_outcome(start: MipStart, seconds: float) -> RawOutcome:
    """Outcome when the start already closes the gap: ``optimal`` in the sense HiGHS uses
    (gap within the requested tolerance), the root LP's optimum as the bound."""
    assert start.objective is not None and start.bound is not None
    return RawOutcome(
        termination="optimal",
        solution_status="optimal",
        objective=start.objective,
        best_bound=max(start.bound, start.objective),
        solve_seconds=seconds,
        message="LP-and-fix start within the MIP gap of the root LP bound; no MIP search",
        solver_version=version(),
        values=start.values,
        info={"lp_relaxation_bound": start.bound, "mip_nodes": 0, "closed_by_start": True},
    )


class ArrayHighs:
    """One HiGHS instance holding an `ArrayProgram` (see the module doc)."""

    name = "highs"

    def __init__(self, options: HighsOptions | None = None):
        self.options = options or HighsOptions()
        self.h = new_highs()
        self.h.setOptionValue("output_flag", self.options.verbose)
        self.stopper = Stopper()
        self.stopper.subscribe(self.h)
        self.program: ArrayProgram | None = None

    def pass_program(self, prog: ArrayProgram) -> None:
        """Hand the program to HiGHS in one ``passModel`` (column-wise matrix, maximise)."""
        m = prog.matrix
        self.h.passModel(
            prog.n_cols,
            prog.n_rows,
            int(m.nnz),
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMaximize),
            0.0,
            prog.cost,
            prog.col_lower,
            prog.col_upper,
            prog.row_lower,
            prog.row_upper,
            m.indptr.astype(np.int32),
            m.indices.astype(np.int32),
            m.data.astype(float),
            prog.integer.astype(np.int32),
        )
        self.program = prog

    def set_integer(self, integer: np.ndarray) -> None:
        """Switch integrality per column in place (bool mask), e.g. MILP → LP relaxation."""
        cols = np.arange(integer.size, dtype=np.int32)
        self.h.changeColsIntegrality(cols.size, cols, integer.astype(np.uint8))
        if self.program is not None:
            self.program.integer = integer.copy()
            self.program.relax = not integer.any()

    def change_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        c = np.asarray(cols, dtype=np.int32)
        self.h.changeColsBounds(c.size, c, np.asarray(lower, float), np.asarray(upper, float))

    def change_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        c = np.asarray(cols, dtype=np.int32)
        self.h.changeColsCost(c.size, c, np.asarray(costs, float))

    def change_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        r = np.asarray(rows, dtype=np.int32)
        self.h.changeRowsBounds(r.size, r, np.asarray(lower, float), np.asarray(upper, float))  # type: ignore[attr-defined]

    def solve(self, *, mip_start: bool = True) -> RawOutcome:
        """Solve the loaded program (MILP or LP) within the options' time limit.

        A MILP first runs the LP-and-fix start (`lp_fix_start`, unless ``mip_start`` is
        off); when the deadline passes before the MIP search begins, the start (if any)
        is reported as the incumbent with the root bound; when the start is already
        within the MIP gap of the root bound, it is the result (``optimal``, no MIP
        search: `start_closes_gap`). An LP under a time limit runs as `root_lp` does, so
        that a stopped LP still has a bound from its row duals.
        """
        prog = self.program
        if prog is None:
            raise RuntimeError("pass_program first")
        t0 = time.perf_counter()
        limit = self.options.time_limit
        self.stopper.deadline = t0 + limit if limit is not None else float("inf")
        is_mip = bool(prog.integer.any())
        start = MipStart()
        try:
            if is_mip and mip_start:
                round_up = np.zeros(prog.n_cols, dtype=bool)
                round_up[prog.block("n")] = True
                flow = (prog.block("z"), prog.block("ch"), prog.block("dis"))
                upper = implied_upper(prog)
                start = lp_fix_start(
                    self.h,
                    self.options,
                    self.stopper,
                    limit,
                    round_up,
                    flow,
                    bound_of=lambda y: dual_bound(prog, y, upper),
                )
            if self.stopper.left() <= 0 or interrupt.requested():
                return stopped_outcome(start, time.perf_counter() - t0)
            if start_closes_gap(start, self.options.mip_gap):
                return closed_outcome(start, time.perf_counter() - t0)
            if is_mip or limit is None:
                run(self.h, self.options, self.stopper)
            else:  # a limited LP: a stop falls back to duals for its bound (`root_lp`)
                bound = root_lp(self.h, self.options, self.stopper, partial(dual_bound, prog))
                if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    start.bound = bound
        except Exception as exc:  # a solver crash is a status, not a traceback
            return RawOutcome(
                "error", "none", None, None, time.perf_counter() - t0, f"HiGHS failed: {exc}",
                version(),
            )  # fmt: skip
        return read_outcome(self.h, time.perf_counter() - t0, is_mip=is_mip, lp_bound=start.bound)
