"""The Pyomo reference path: the `formulations.milp` model solved by HiGHS through Pyomo's
persistent ``appsi_highs`` interface (selectable with ``--backend pyomo``).

Options, statuses, the stop callback and the LP-and-fix MIP start are those of
`solvers.highs`; only the model hand-off differs. `extract_schedule` reads a loaded
solution into the same `Schedule` the array path returns.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.solvers.highs import Highs as AppsiHighs

from aigc_opt.formulations.milp import Program
from aigc_opt.formulations.schedule import DC_FIELDS, Schedule, schedule_from_values
from aigc_opt.solvers import interrupt
from aigc_opt.solvers.highs import (
    HighsOptions,
    MipStart,
    RawOutcome,
    Stopper,
    banner_muted,
    lp_fix_start,
    read_outcome,
    stopped_outcome,
    use_threads,
    version,
)


class HighsSolver:
    """A persistent HiGHS solver bound to one Pyomo model (re-solve after Param updates)."""

    name = "highs"

    def __init__(self, options: HighsOptions | None = None):
        self.options = options or HighsOptions()
        self._opt = AppsiHighs()
        self._opt.config.load_solution = False
        self._opt.config.stream_solver = self.options.verbose
        self._model: pyo.ConcreteModel | None = None
        self.stopper = Stopper()

    @property
    def highs(self) -> Any:
        return self._opt._solver_model

    def set_instance(self, model: pyo.ConcreteModel) -> None:
        with banner_muted():  # appsi creates its Highs object here
            self._opt.set_instance(model)
        self._model = model
        self.stopper.subscribe(self.highs)

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
        lp_fix: dict[str, Any] | None = None,
        load_solution: bool = True,
    ) -> RawOutcome:
        """Solve (or re-solve after Param updates) and load the incumbent into the model.

        ``lp_fix`` (``round_up``: variables rounded up, ``by_flow``: (z, ch, dis) triples)
        seeds a MILP with the LP-and-fix start (`solvers.highs.lp_fix_start`); its LPs
        count against the time limit. ``load_solution=False`` leaves the model's variable
        values alone (read the few needed with `values`).
        """
        t0 = time.perf_counter()
        o = self.options
        self.stopper.deadline = t0 + o.time_limit if o.time_limit is not None else float("inf")
        use_threads(o.threads)
        if model is not self._model:
            self.set_instance(model)
        else:
            self._opt.update()  # push Param changes now, so nothing changes the model later
        lp_bound = None
        if lp_fix is not None:
            start = self._lp_fix(**lp_fix)
            lp_bound = start.bound
            if self.stopper.left() <= 0 or interrupt.requested():
                start.values = None  # the start is not loaded into the Pyomo model
                return stopped_outcome(start, time.perf_counter() - t0)
        opts = o.highs_options()
        left = self.stopper.left()
        if np.isfinite(left):
            opts["time_limit"] = max(left, 1e-3)
        self._opt.highs_options = opts
        self._opt.config.warmstart = warm_start
        cfg = self._opt.update_config
        saved = {f: getattr(cfg, f) for f in self._UPDATE_FLAGS}
        is_mip = any(int(v) != 0 for v in self.highs.getLp().integrality_)
        try:
            for f in self._UPDATE_FLAGS:  # the model is already up to date (see above)
                setattr(cfg, f, False)
            with warnings.catch_warnings():  # statuses are reported, not warned about
                warnings.simplefilter("ignore")
                logger = logging.getLogger("pyomo.contrib.appsi")
                level = logger.level
                logger.setLevel(logging.ERROR)
                try:
                    self._opt.solve(model)
                finally:
                    logger.setLevel(level)
        except Exception as exc:  # a solver crash is a status, not a traceback
            return RawOutcome(
                "error", "none", None, None, time.perf_counter() - t0, f"HiGHS failed: {exc}",
                version(),
            )  # fmt: skip
        finally:
            for f, v in saved.items():
                setattr(cfg, f, v)
        out = read_outcome(self.highs, time.perf_counter() - t0, is_mip=is_mip, lp_bound=lp_bound)
        out.values = None
        if out.has_solution and load_solution:
            self._opt.load_vars()
        return out

    def params_only_updates(self) -> None:
        """From now on a re-solve pushes only Param changes to HiGHS, without scanning the
        model for new constraints, variables or bound changes (several times faster on an
        MPC window whose structure never changes). Push bound changes with
        `update_variables`."""
        cfg = self._opt.update_config
        for f in self._UPDATE_FLAGS:
            setattr(cfg, f, f == "update_params")

    def update_variables(self, variables: list[Any]) -> None:
        """Push the current bounds of these variables of the bound model (e.g. after
        ``var.setub(0)``) to HiGHS."""
        self._opt.update_variables(list(variables))

    def values(self, variables: list[Any]) -> np.ndarray:
        """Values of these variables in HiGHS' current solution, without loading it into
        the model (a variable that is not a HiGHS column, e.g. a fixed one, gives its own
        value)."""
        col = np.asarray(self.highs.getSolution().col_value, dtype=float)
        colmap = self._opt._pyomo_var_to_solver_var_map
        out = np.empty(len(variables))
        for i, v in enumerate(variables):
            c = colmap.get(id(v))
            out[i] = col[c] if c is not None else (v.value if v.value is not None else 0.0)
        return out

    def _lp_fix(
        self, round_up: list[Any] | None = None, by_flow: list[tuple[Any, ...]] | None = None
    ) -> MipStart:
        """`lp_fix_start` with the Pyomo variables mapped to HiGHS columns."""
        h = self.highs
        colmap = self._opt._pyomo_var_to_solver_var_map
        up = np.zeros(h.getNumCol(), dtype=bool)
        for var in round_up or []:
            col = colmap.get(id(var))
            if col is not None:  # fixed variables are not columns
                up[col] = True
        triples = [
            (colmap[id(z)], colmap.get(id(ch)), colmap.get(id(dis)))
            for z, ch, dis in by_flow or []
            if id(z) in colmap
        ]
        triples = [t for t in triples if t[1] is not None and t[2] is not None]
        flow = tuple(np.array([t[i] for t in triples], dtype=int) for i in range(3))
        return lp_fix_start(
            h,
            self.options,
            self.stopper,
            self.options.time_limit,
            up,
            flow,  # type: ignore[arg-type]
        )


def extract_schedule(prog: Program, slots: int | None = None) -> Schedule:
    """Read the loaded solution of a Pyomo program into a `Schedule` (slots [0, slots))."""
    m, idx, scn = prog.model, prog.index, prog.scenario

    def grid(var: Any, rows: int) -> np.ndarray:
        keys = [(r, t) for r in range(rows) for t in range(scn.T)]
        return _values(var, keys).reshape(rows, scn.T)

    flows = {"gpus": grid(m.n, scn.A)}
    for field_, var in zip(DC_FIELDS, (m.g, m.r, m.ch, m.dis, m.o, m.u), strict=True):
        flows[field_] = grid(var, scn.D)
    x = _values(m.x, range(idx.n_rows))
    y = _values(m.y, range(idx.n_cohorts))
    return schedule_from_values(scn, idx, x, y, flows, integer=not prog.relax, slots=slots)


def _values(var: Any, keys: Any) -> np.ndarray:
    return np.array([var[k].value if var[k].value is not None else 0.0 for k in keys], dtype=float)


def count_integer(m: pyo.ConcreteModel) -> int:
    """Integer variables of a model that are not fixed (HiGHS integer columns)."""
    return sum(
        1 for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed and v.is_integer()
    )
