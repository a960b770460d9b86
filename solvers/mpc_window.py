"""MPC window programs, built once per episode and updated in place each slot.

Both windows take the same per-slot data (`WindowData`) and return slot 0's plan
(`SlotPlan`); `solvers.mpc.MPCPolicy` turns the plan into decisions.

* `ArrayWindow` (backend ``highs``, default): the array program
  (`formulations.highs_arrays`) in one HiGHS instance. Each slot changes only costs
  (``changeColsCost``: grid price and carbon, drop weights), column bounds
  (``changeColsBounds``: renewables, switched-off slots) and row bounds
  (``changeRowsBounds``: cohort sizes, initial SoC and generator status, terminal SoC);
  HiGHS re-solves the LP from its previous basis.
* `PyomoWindow` (backend ``pyomo``, for comparison): the Pyomo model with mutable Params
  re-solved through appsi's persistent interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import DataCenterArrays
from aigc_opt.formulations.highs_arrays import build_arrays
from aigc_opt.formulations.index import Index
from aigc_opt.solvers.highs import ArrayHighs, HighsOptions, RawOutcome


@dataclass
class WindowData:
    """One slot's data for an L-slot window: series (D, L), cohort sizes and drop weights
    (per window cohort), the state (D,) and the number of open slots ``live``."""

    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    cohort_jobs: np.ndarray
    drop_weight: np.ndarray
    soc0: np.ndarray
    u0: np.ndarray
    soc_end: np.ndarray
    live: int


@dataclass
class SlotPlan:
    """Window slot 0 of a solved window: service rows (positions in the index) with their
    jobs, and per pool / data center n, ch, dis, o, u, r."""

    rows: np.ndarray
    x: np.ndarray
    n: np.ndarray
    ch: np.ndarray
    dis: np.ndarray
    o: np.ndarray
    u: np.ndarray
    r: np.ndarray


class ArrayWindow:
    """The window as an array program in one persistent HiGHS instance (module doc)."""

    def __init__(self, wscn: Scenario, pending: np.ndarray, *, relax: bool, options: HighsOptions):
        self.scn = wscn
        self.prog = build_arrays(wscn, relax=relax, pending=pending, skip_empty=False)
        self.solver = ArrayHighs(options)
        self.solver.pass_program(self.prog)
        self.index: Index = self.prog.index
        p, T = self.prog, wscn.T
        self.L = T
        self.live = T
        self.upper = p.col_upper.copy()
        dc = DataCenterArrays.of(wscn)
        self.sigma = wscn.params.carbon_price_usd_per_t
        self.rho = wscn.class_arrays["drop"][self.index.ck]
        self.bat = np.flatnonzero(dc.has_battery)
        self.gen = np.flatnonzero(dc.has_generator)
        rows = p.rows
        self.cohort_rows = np.arange(
            rows["cohort_conservation"].start, rows["cohort_conservation"].stop
        )
        self.soc0_rows = rows["battery_dynamics"].start + np.arange(self.bat.size) * T
        self.u0_rows = rows["generator_startup"].start + np.arange(self.gen.size) * T
        self.end_rows = np.arange(rows["battery_terminal"].start, rows["battery_terminal"].stop)
        self.slot0_x = np.flatnonzero(self.index.t == 0)
        self._values: np.ndarray | None = None

    def _dt(self, name: str, j: int | np.ndarray) -> np.ndarray:
        return self.prog.cols[name] + np.arange(self.scn.D) * self.L + j

    def _switch_off(self, first: int) -> None:
        """Upper bound 0 on everything window slots [first, live) decide."""
        p, L = self.prog, self.L
        js = np.arange(first, self.live)
        cols = [p.cols["x"] + np.flatnonzero((self.index.t >= first) & (self.index.t < self.live))]
        cols.append(p.cols["n"] + (np.arange(self.scn.A)[:, None] * L + js[None, :]).ravel())
        for name in ("g", "r", "ch", "dis", "o", "u"):
            cols.append(p.cols[name] + (np.arange(self.scn.D)[:, None] * L + js[None, :]).ravel())
        c = np.concatenate(cols)
        self.upper[c] = 0.0
        self.solver.change_bounds(c, p.col_lower[c], self.upper[c])
        self.live = first

    def update(self, data: WindowData) -> None:
        p, s = self.prog, self.solver
        if data.live < self.live:
            self._switch_off(data.live)
        g = p.block("g")
        s.change_costs(g, -(data.price + self.sigma * data.carbon).ravel())
        y = p.block("y")
        s.change_costs(y, -self.rho * data.drop_weight)
        r = p.block("r")
        open_ = np.repeat(np.arange(self.L)[None, :] < self.live, self.scn.D, axis=0).ravel()
        self.upper[r] = np.where(open_, data.renewable.ravel(), 0.0)
        s.change_bounds(r, p.col_lower[r], self.upper[r])
        s.change_row_bounds(self.cohort_rows, data.cohort_jobs, data.cohort_jobs)
        soc0 = data.soc0[self.bat]
        s.change_row_bounds(self.soc0_rows, soc0, soc0)
        s.change_row_bounds(self.end_rows, data.soc_end[self.bat], np.full(self.bat.size, np.inf))
        s.change_row_bounds(self.u0_rows, -data.u0[self.gen], np.full(self.gen.size, np.inf))

    def solve(self) -> RawOutcome:
        out = self.solver.solve(mip_start=True)
        self._values = out.values
        return out

    def plan(self) -> SlotPlan:
        v = self._values
        assert v is not None
        p = self.prog
        return SlotPlan(
            rows=self.slot0_x,
            x=v[p.cols["x"] + self.slot0_x],
            n=v[p.cols["n"] + np.arange(self.scn.A) * self.L],
            ch=v[self._dt("ch", 0)],
            dis=v[self._dt("dis", 0)],
            o=v[self._dt("o", 0)],
            u=v[self._dt("u", 0)],
            r=v[self._dt("r", 0)],
        )


class PyomoWindow:
    """The window as the Pyomo model with mutable Params (module doc)."""

    def __init__(self, wscn: Scenario, pending: np.ndarray, *, relax: bool, options: HighsOptions):
        from aigc_opt.formulations import milp as milp_module
        from aigc_opt.solvers.highs_pyomo import HighsSolver

        self.scn = wscn
        self.relax = relax
        self.prog = milp_module.build_milp(wscn, relax=relax, pending=pending, skip_empty=False)
        self.solver = HighsSolver(options)
        self.solver.set_instance(self.prog.model)
        self.solver.params_only_updates()
        self.index: Index = self.prog.index
        L = self.L = wscn.T
        self.live = L
        self.rows_by_slot = [np.flatnonzero(self.index.t == j) for j in range(L)]
        m = self.prog.model
        self.DT = [(d, j) for d in range(wscn.D) for j in range(L)]
        self.slot0_vars = [m.x[int(i)] for i in self.rows_by_slot[0]]
        self.slot0_vars += [m.n[b, 0] for b in range(wscn.A)]
        for var in (m.ch, m.dis, m.o, m.u, m.r):
            self.slot0_vars += [var[d, 0] for d in range(wscn.D)]

    def _switch_off(self, first: int) -> None:
        m = self.prog.model
        changed = []
        for j in range(first, self.live):
            changed += [m.x[int(i)] for i in self.rows_by_slot[j]]
            changed += [m.n[b, j] for b in range(self.scn.A)]
            for d in range(self.scn.D):
                changed += [m.g[d, j], m.r[d, j], m.ch[d, j], m.dis[d, j], m.o[d, j], m.u[d, j]]
        for v in changed:
            v.setub(0.0)
        self.solver.update_variables([v for v in changed if not v.fixed])
        self.live = first

    def update(self, data: WindowData) -> None:
        if data.live < self.live:
            self._switch_off(data.live)
        m = self.prog.model
        for d, j in self.DT:
            m.price[d, j] = float(data.price[d, j])
            m.carbon[d, j] = float(data.carbon[d, j])
            m.ren[d, j] = float(data.renewable[d, j])
        for c in range(self.index.n_cohorts):
            m.lam[c] = float(data.cohort_jobs[c])
            m.drop_weight[c] = float(data.drop_weight[c])
        for d in range(self.scn.D):
            m.soc0[d] = float(data.soc0[d])
            m.u0[d] = float(data.u0[d])
            m.soc_end[d] = float(data.soc_end[d])

    def solve(self) -> RawOutcome:
        lp_fix = None
        if not self.relax:
            m = self.prog.model
            lp_fix = {
                "round_up": [m.n[k] for k in m.n],
                "by_flow": [(m.z[k], m.ch[k], m.dis[k]) for k in m.z],
            }
        milp = not self.relax  # the MILP's MIP start reads the loaded values
        return self.solver.solve(
            self.prog.model, warm_start=milp, lp_fix=lp_fix, load_solution=milp
        )

    def plan(self) -> SlotPlan:
        rows = self.rows_by_slot[0]
        v = self.solver.values(self.slot0_vars)
        x, v = v[: rows.size], v[rows.size :]
        B = self.scn.A
        n, ch, dis, o, u, r = (v[:B], *np.split(v[B:], 5))
        return SlotPlan(rows=rows, x=x, n=n, ch=ch, dis=dis, o=o, u=u, r=r)
