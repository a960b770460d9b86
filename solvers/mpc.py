"""Rolling-horizon model-predictive control (MODEL.md §6), built once, updated per slot.

At slot t the controller sees the realized state (SoC, generator status, pending cohorts
with their ages) and slot t's realized data, asks its forecaster for slots t+1 … t+L−1,
solves the window program over L slots and commits slot t's decisions only. Design
(docs/mpc.md):

* **One model per episode.** The window is `formulations.milp.build_milp` on an L-slot
  scenario with ``pending`` cohorts (ages 1 … W_max) and ``skip_empty=False``, built at
  `MPCPolicy.reset`. Each slot only its mutable Params change -- ``lam`` (cohort sizes),
  ``price``, ``carbon``, ``ren``, ``soc0``, ``u0``, ``soc_end``, ``drop_weight`` -- and a
  persistent `HighsSolver` re-solves from the previous basis (LP) or from the previous
  solution as MIP start (MILP).
* **Window program.** ``window="lp"`` (default): the LP relaxation, about 10–30 ms a slot
  on ``default``; its slot-t plan is rounded into feasible decisions (GPUs rounded up,
  battery to its net flow, generator on iff the plan runs it at ≥ half its minimum
  output) and the simulator's rules (docs/simulator.md) settle the rest. ``window="milp"``:
  the MILP with continuous job counts (GPUs, battery mode and generator status integer):
  exact per window, tens of times slower per slot.
* **Carried jobs.** A cohort whose wait window closes inside the window (or at the end of
  the episode) pays its full drop penalty in the window (``drop_weight`` 1); a cohort
  whose window runs past the window's end is carried, and its unserved jobs are valued
  at ``carry_weight`` × ρ_k (default 0: carried jobs cost nothing in the window).
* **Terminal SoC.** ``soc_end`` is the scenario's terminal floor e^end at the end of every
  window (a floor, not a value), lowered to what the battery can reach from the current
  SoC within the window when e^end is out of reach.
* **Episode end.** L stays fixed; when fewer than L slots are left, the window slots
  beyond the episode are switched off (upper bounds 0 on their service, GPUs, grid,
  renewables, battery and generator; zero data), so jobs cannot be served after the
  episode and the SoC of the last real slot is the one held to the terminal floor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import cohort_sizes
from aigc_opt.formulations.milp import Program, build_milp
from aigc_opt.solvers.forecast import Forecaster, make_forecaster
from aigc_opt.solvers.highs import HighsOptions, HighsSolver
from aigc_opt.solvers.simulator import Observation, ScenarioArrays, SlotDecisions

Window = Literal["lp", "milp"]


@dataclass
class _Window:
    """A built window program with the keys and index arrays the updates need."""

    prog: Program
    solver: HighsSolver
    L: int
    slot0_rows: np.ndarray  # service rows of window slot 0
    slot0_vars: list  # x of those rows, then n, ch, dis, o, u, r of window slot 0
    rows_by_slot: list[np.ndarray]
    DT: list[tuple[int, int]]
    live: int  # window slots [0, live) are open; the rest are switched off


class MPCPolicy:
    """Rolling-horizon MPC as a `Policy` (see the module docstring).

    Parameters
    ----------
    lookahead : L, slots in the window (slot t included).
    forecaster : a forecaster or its spelling (``perfect``, ``persistence``, ``seasonal``,
        ``noisy:σ``, ``module:function``).
    window : ``"lp"`` (default) or ``"milp"``.
    carry_weight : value of ρ_k charged per carried (unserved, window not closed) job.
    options : HiGHS options of the window solves.
    """

    def __init__(
        self,
        lookahead: int = 24,
        forecaster: str | Forecaster = "perfect",
        *,
        window: Window = "lp",
        carry_weight: float = 0.0,
        options: HighsOptions | None = None,
        name: str | None = None,
    ):
        if lookahead < 1:
            raise ValueError(f"lookahead must be ≥ 1, got {lookahead}")
        if window not in ("lp", "milp"):
            raise ValueError(f"window must be 'lp' or 'milp', got {window!r}")
        self.lookahead = int(lookahead)
        self.forecaster = make_forecaster(forecaster)
        self.window: Window = window
        self.carry_weight = float(carry_weight)
        self.options = options or HighsOptions()
        self.name = name or f"mpc-{self.forecaster.name}-L{self.lookahead}"
        self.info: dict[str, Any] = {}
        self._w: _Window | None = None

    # ---- episode ------------------------------------------------------------------------
    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        t0 = time.perf_counter()
        self.scenario = scenario
        self._st = ScenarioArrays.of(scenario)
        self.forecaster.reset(scenario, seed)
        self._w = self._build(scenario)
        self.info = {
            "lookahead": self.lookahead,
            "forecast": self.forecaster.name,
            "window": self.window,
            "build_seconds": time.perf_counter() - t0,
            "solve_seconds": 0.0,
            "update_seconds": 0.0,
            "slots": 0,
            "window_status": {},
            "fallbacks": 0,
        }

    def _build(self, scn: Scenario) -> _Window:
        L = self.lookahead
        st = self._st
        # the window's own L-slot scenario; its series are placeholders updated per slot
        pad = max(0, L - scn.T)
        wscn = scn.cut(horizon=min(L, scn.T))
        if pad:
            wscn = wscn.with_series(
                price=np.pad(wscn.price, ((0, 0), (0, pad))),
                carbon=np.pad(wscn.carbon, ((0, 0), (0, pad))),
                renewable=np.pad(wscn.renewable, ((0, 0), (0, pad))),
                arrivals=np.pad(wscn.arrivals, ((0, 0), (0, 0), (0, pad))),
            )
        pending = np.zeros((st.A, st.K, max(st.Wmax, 1)))
        prog = build_milp(wscn, relax=self.window == "lp", pending=pending, skip_empty=False)
        solver = HighsSolver(self.options)
        solver.set_instance(prog.model)
        solver.params_only_updates()
        idx = prog.index
        rows_by_slot = [np.flatnonzero(idx.t == j) for j in range(L)]
        DT = [(d, j) for d in range(st.D) for j in range(L)]
        m = prog.model
        slot0_vars = [m.x[int(i)] for i in rows_by_slot[0]] + [m.n[b, 0] for b in range(st.A)]
        for var in (m.ch, m.dis, m.o, m.u, m.r):
            slot0_vars += [var[d, 0] for d in range(st.D)]
        return _Window(
            prog=prog,
            solver=solver,
            L=L,
            slot0_rows=rows_by_slot[0],
            slot0_vars=slot0_vars,
            rows_by_slot=rows_by_slot,
            DT=DT,
            live=L,
        )

    def _switch_off(self, w: _Window, first: int) -> None:
        """Close window slots [first, w.live): upper bound 0 on everything they decide."""
        m = w.prog.model
        changed = []
        for j in range(first, w.live):
            for i in w.rows_by_slot[j]:
                changed.append(m.x[int(i)])
            for b in range(self._st.A):
                changed.append(m.n[b, j])
            for d in range(self._st.D):
                changed += [m.g[d, j], m.r[d, j], m.ch[d, j], m.dis[d, j], m.o[d, j], m.u[d, j]]
        for v in changed:
            v.setub(0.0)
        w.solver.update_variables([v for v in changed if not v.fixed])
        w.live = first

    # ---- one slot -----------------------------------------------------------------------
    def _update(self, w: _Window, obs: Observation) -> None:
        """Write slot t's state, data and forecasts into the window's Params."""
        st, L = self._st, w.L
        m, idx = w.prog.model, w.prog.index
        t = obs.t
        left = st.T - t  # real slots in the window: min(L, left)
        if left < w.live:
            self._switch_off(w, left)
        fc = self.forecaster(t, L - 1)
        M = fc.slots
        price = np.zeros((st.D, L))
        carbon = np.zeros((st.D, L))
        ren = np.zeros((st.D, L))
        arr = np.zeros((st.A, st.K, L))
        price[:, 0], carbon[:, 0], ren[:, 0] = obs.price, obs.carbon, obs.renewable
        arr[:, :, 0] = obs.arrivals
        price[:, 1 : 1 + M], carbon[:, 1 : 1 + M] = fc.price, fc.carbon
        ren[:, 1 : 1 + M], arr[:, :, 1 : 1 + M] = fc.renewable, fc.arrivals
        for d, j in w.DT:
            m.price[d, j] = float(price[d, j])
            m.carbon[d, j] = float(carbon[d, j])
            m.ren[d, j] = float(ren[d, j])
        lam = cohort_sizes(idx, arr, obs.pending[:, :, 1:])  # observation age j at [j]
        close = np.minimum(idx.ctau + st.W[idx.ck], left - 1)
        weight = np.where(close <= L - 1, 1.0, self.carry_weight)
        for c in range(idx.n_cohorts):
            m.lam[c] = float(lam[c])
            m.drop_weight[c] = float(weight[c])
        reach = obs.soc + min(L, left) * st.eta_c * st.pch
        soc_end = np.minimum(st.send, reach)
        for d in range(st.D):
            m.soc0[d] = float(obs.soc[d])
            m.u0[d] = float(obs.generator_on[d])
            m.soc_end[d] = float(soc_end[d])

    def act(self, obs: Observation) -> SlotDecisions:
        w = self._w
        if w is None:
            raise RuntimeError("call reset(scenario, seed) first")
        t0 = time.perf_counter()
        self._update(w, obs)
        t1 = time.perf_counter()
        lp_fix = None
        if self.window == "milp":
            m = w.prog.model
            lp_fix = {
                "round_up": [m.n[k] for k in m.n],
                "by_flow": [(m.z[k], m.ch[k], m.dis[k]) for k in m.z],
            }
        milp = self.window == "milp"  # the MILP's MIP start reads the loaded values
        raw = w.solver.solve(w.prog.model, warm_start=milp, lp_fix=lp_fix, load_solution=milp)
        t2 = time.perf_counter()
        self.info["update_seconds"] += t1 - t0
        self.info["solve_seconds"] += t2 - t1
        self.info["slots"] += 1
        ws = self.info["window_status"]
        ws[raw.status] = ws.get(raw.status, 0) + 1
        if not raw.has_solution:
            self.info["fallbacks"] += 1
            from aigc_opt.solvers.heuristics import LocalGreedy

            fb = LocalGreedy()
            fb.reset(self.scenario)
            return fb.act(obs)
        return self._decisions(w, obs)

    def _decisions(self, w: _Window, obs: Observation) -> SlotDecisions:
        """Slot 0 of the window's solution as decisions (rounding rules of docs/mpc.md)."""
        st = self._st
        idx = w.prog.index
        rows = w.slot0_rows
        B = st.A
        v = w.solver.values(w.slot0_vars)
        x, v = np.maximum(v[: rows.size], 0.0), v[rows.size :]
        n, ch, dis, o, u_plan, r = (v[:B], *np.split(v[B:], 5))
        keep = x > 1e-9
        rows, x = rows[keep], x[keep]
        gpus = np.minimum(np.ceil(n - 1e-6), st.G)
        ch, dis, o = np.maximum(ch, 0.0), np.maximum(dis, 0.0), np.maximum(o, 0.0)
        net = ch - dis
        ch, dis = np.maximum(net, 0.0), np.maximum(-net, 0.0)
        if self.window == "milp":
            u = np.round(u_plan)
        else:
            u = ((st.omax > 0) & (o >= 0.5 * st.omin) & (o > 1e-9)).astype(float)
        o = np.clip(o, st.omin * u, st.omax * u)
        ren = np.clip(r, 0.0, obs.renewable)
        return SlotDecisions(
            a=idx.a[rows],
            b=idx.b[rows],
            k=idx.k[rows],
            s=idx.s[rows],
            tau=obs.t + idx.tau[rows],
            x=x,
            gpus=gpus,
            grid=None,
            renewable=ren,
            charge=ch,
            discharge=dis,
            generator=o,
            generator_on=u,
        )
