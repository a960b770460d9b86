"""HiGHS backend (in-process, through highspy and Pyomo's persistent ``appsi_highs``).

Capabilities: MIP, LP, persistent re-solve after Param updates, MIP start.
The user's time limit is *enforced*: besides HiGHS' own ``time_limit`` option an interrupt
callback stops the solve once the wall clock passes the limit (HiGHS alone was seen to
overrun it by minutes on hard MILPs). An interrupted solve reports ``time_limit`` with
its incumbent (if any) and its best bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.solvers.highs import Highs as AppsiHighs

from aigc_opt.solvers import interrupt

# An interrupted solve (time limit, SIGINT) is a status here, not a warning on stderr.
logging.getLogger("pyomo.contrib.appsi.solvers.highs").setLevel(logging.ERROR)

CAPABILITIES = {"mip": True, "lp": True, "persistent": True, "warm_start": True}


@dataclass
class HighsOptions:
    """Solver options. ``time_limit`` in seconds of wall clock for the solve (None = none);
    ``mip_gap`` relative (MODEL.md definition); ``threads`` (0 = HiGHS default)."""

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 0
    seed: int = 0
    verbose: bool = False
    presolve: str = "choose"
    extra: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_limit": self.time_limit,
            "mip_gap": self.mip_gap,
            "threads": self.threads,
            "seed": self.seed,
        }


@dataclass
class RawOutcome:
    """What the backend returns before accounting: status, numbers, timings."""

    status: str
    has_solution: bool
    objective: float | None
    best_bound: float | None
    solve_seconds: float
    message: str
    solver_version: str


_THREADS_IN_USE: list[int] = []  # thread setting of HiGHS' process-wide scheduler


def _use_threads(threads: int) -> None:
    """HiGHS keeps one thread pool per process and refuses a later run with another thread
    count; reset the pool when the requested count (0 = HiGHS' default) changes."""
    if _THREADS_IN_USE and _THREADS_IN_USE[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
        _THREADS_IN_USE.clear()
    if not _THREADS_IN_USE:
        _THREADS_IN_USE.append(threads)


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


class HighsSolver:
    """A persistent HiGHS solver bound to one Pyomo model (re-solve after Param updates)."""

    name = "highs"

    def __init__(self, options: HighsOptions | None = None):
        self.options = options or HighsOptions()
        self._opt = AppsiHighs()
        self._opt.config.load_solution = False
        self._opt.config.stream_solver = self.options.verbose
        self._model: pyo.ConcreteModel | None = None
        self._deadline = float("inf")

    @property
    def highs(self) -> highspy.Highs:
        return self._opt._solver_model  # type: ignore[attr-defined]

    def set_instance(self, model: pyo.ConcreteModel) -> None:
        self._opt.set_instance(model)
        self._model = model
        h = self.highs
        h.cbMipInterrupt.subscribe(self._interrupt)
        h.cbSimplexInterrupt.subscribe(self._interrupt)
        h.cbIpmInterrupt.subscribe(self._interrupt)

    def _interrupt(self, event) -> None:
        if time.perf_counter() > self._deadline or interrupt.requested():
            event.interrupt()

    _UPDATE_FLAGS = (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_params",
        "update_named_expressions",
        "update_objective",
    )

    def solve(
        self,
        model: pyo.ConcreteModel,
        *,
        warm_start: bool = False,
        lp_fix: dict | None = None,
        load_solution: bool = True,
    ) -> RawOutcome:
        """Solve (or re-solve after Param updates) and load the incumbent into the model.

        ``lp_fix`` (keyword arguments of `lp_fix_start`) seeds a MILP with that heuristic;
        its time counts in the returned solve seconds. ``load_solution=False`` leaves the
        model's variable values alone (read the few needed with `values`): loading every
        value costs more than re-solving a small LP.
        """
        t_start = time.perf_counter()
        _use_threads(self.options.threads)
        if model is not self._model:
            self.set_instance(model)
        else:
            self._opt.update()  # push Param changes now, so nothing changes the model later
        if lp_fix is not None:
            self.lp_fix_start(**lp_fix)
        o = self.options
        opts: dict[str, Any] = {
            "mip_rel_gap": o.mip_gap,
            "random_seed": o.seed,
            "presolve": o.presolve,
            "output_flag": o.verbose,
            "log_to_console": o.verbose,
        }
        opts["threads"] = o.threads
        if o.time_limit is not None:
            opts["time_limit"] = float(o.time_limit)
        opts.update(o.extra or {})
        self._opt.highs_options = opts
        self._opt.config.warmstart = warm_start
        t0 = t_start
        if o.time_limit is not None:
            left = max(o.time_limit - (time.perf_counter() - t0), 0.01)
            opts["time_limit"] = left
        self._deadline = t0 + o.time_limit if o.time_limit is not None else float("inf")
        cfg = self._opt.update_config
        saved = {f: getattr(cfg, f) for f in self._UPDATE_FLAGS}
        try:
            for f in self._UPDATE_FLAGS:  # the model is already up to date (see above)
                setattr(cfg, f, False)
            self._opt.solve(model)
        except Exception as exc:  # a solver crash is a status, not a traceback
            return RawOutcome(
                "error",
                False,
                None,
                None,
                time.perf_counter() - t0,
                f"HiGHS failed: {exc}",
                self.version(),
            )
        finally:
            for f, v in saved.items():
                setattr(cfg, f, v)
        seconds = time.perf_counter() - t0
        h = self.highs
        ms = h.getModelStatus()
        raw = str(ms).split(".")[-1]
        status = _STATUS.get(raw, "error")
        if raw == "kInterrupt" and interrupt.requested():
            status = "interrupted"  # stopped by SIGINT/SIGTERM, not by the time limit
        info = h.getInfo()
        sol = h.getSolution()
        is_mip = info.mip_node_count >= 0
        has = bool(sol.value_valid) and (
            status == "optimal"
            or (is_mip and info.primal_solution_status == 2)
            or (status in ("time_limit", "interrupted") and is_mip)
        )
        if has and is_mip and info.primal_solution_status != 2:
            has = False
        objective = float(info.objective_function_value) if has else None
        if is_mip:
            bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        else:
            bound = objective if status == "optimal" else None
        if has and load_solution:
            self._opt.load_vars()
        msg = h.modelStatusToString(ms)
        return RawOutcome(status, has, objective, bound, seconds, msg, self.version())

    def params_only_updates(self) -> None:
        """From now on a re-solve pushes only Param changes to HiGHS, without scanning the
        model for new constraints, variables or bound changes (several times faster on an
        MPC window whose structure never changes). Push bound changes with
        `update_variables`."""
        cfg = self._opt.update_config
        for f in self._UPDATE_FLAGS:
            setattr(cfg, f, f == "update_params")

    def update_variables(self, variables: list) -> None:
        """Push the current bounds of these variables of the bound model (e.g. after
        ``var.setub(0)``) to HiGHS."""
        self._opt.update_variables(list(variables))

    def values(self, variables: list) -> np.ndarray:
        """Values of these variables in HiGHS' current solution, without loading it into
        the model (a variable that is not a HiGHS column, e.g. a fixed one, gives its own
        value)."""
        col = np.asarray(self.highs.getSolution().col_value, dtype=float)
        colmap = self._opt._pyomo_var_to_solver_var_map  # type: ignore[attr-defined]
        out = np.empty(len(variables))
        for i, v in enumerate(variables):
            c = colmap.get(id(v))
            out[i] = col[c] if c is not None else (v.value if v.value is not None else 0.0)
        return out

    def column_of(self, var) -> int:
        """HiGHS column index of a Pyomo variable of the bound model."""
        return self._opt._pyomo_var_to_solver_var_map[id(var)]  # type: ignore[attr-defined]

    def lp_fix_start(
        self, round_up: list | None = None, by_flow: list[tuple] | None = None
    ) -> float | None:
        """Primal heuristic: relax, round the integer columns, re-solve the LP with them fixed,
        and hand the result to HiGHS as a MIP start. Returns its objective, or None.

        Columns of the Pyomo variables in ``round_up`` are rounded up (e.g. active GPUs, so
        GPU time stays feasible); for each ``(z, ch, dis)`` in ``by_flow`` the mode binary z
        is set by the LP's dominant flow (1 when ch > dis); other integer columns are
        rounded to the nearest integer. Cheap
        (two LP solves) and it closes most of the gap at the root on this model family.
        """
        h = self.highs
        lp = h.getLp()
        integ = np.array([int(v) for v in lp.integrality_], dtype=np.uint8)
        cols = np.flatnonzero(integ != 0).astype(np.int32)
        if cols.size == 0:
            return None
        lo = np.asarray(lp.col_lower_, dtype=float)[cols]
        hi = np.asarray(lp.col_upper_, dtype=float)[cols]
        up = np.zeros(h.getNumCol(), dtype=bool)
        colmap = self._opt._pyomo_var_to_solver_var_map  # type: ignore[attr-defined]
        for var in round_up or []:
            col = colmap.get(id(var))
            if col is not None:  # fixed variables are not columns
                up[col] = True
        h.setOptionValue("output_flag", self.options.verbose)
        h.setOptionValue("threads", self.options.threads)
        if self.options.time_limit is not None:
            h.setOptionValue("time_limit", float(self.options.time_limit))
        cont = np.zeros(cols.size, dtype=np.uint8)
        start = None
        objective = None
        try:
            h.changeColsIntegrality(cols.size, cols, cont)
            h.run()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                full = np.asarray(h.getSolution().col_value, dtype=float)
                x = full[cols]
                fixed = np.where(up[cols], np.ceil(x - 1e-6), np.round(x))
                pos = {int(c): i for i, c in enumerate(cols)}
                for z, ch, dis in by_flow or []:
                    zc = colmap.get(id(z))
                    if zc is not None and zc in pos:
                        fch = full[colmap[id(ch)]] if id(ch) in colmap else 0.0
                        fdis = full[colmap[id(dis)]] if id(dis) in colmap else 0.0
                        fixed[pos[zc]] = 1.0 if fch > fdis else 0.0
                fixed = np.clip(fixed, lo, hi)
                h.changeColsBounds(cols.size, cols, fixed, fixed)
                h.run()
                if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                    start = h.getSolution()
                    objective = float(h.getInfo().objective_function_value)
        finally:  # restore the MILP exactly as it was
            h.changeColsBounds(cols.size, cols, lo, hi)
            h.changeColsIntegrality(cols.size, cols, integ[cols])
        if start is not None:
            h.setSolution(start)  # after the last model change, or HiGHS discards it
        return objective

    def version(self) -> str:
        v = self._opt.version()
        return ".".join(str(x) for x in v)
