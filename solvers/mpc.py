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
from typing import Any, Literal

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import cohort_sizes
from aigc_opt.solvers.forecast import Forecaster, make_forecaster
from aigc_opt.solvers.highs import HighsOptions
from aigc_opt.solvers.mpc_window import ArrayWindow, PyomoWindow, WindowData
from aigc_opt.solvers.simulator import Observation, ScenarioArrays, SlotDecisions

Window = Literal["lp", "milp"]


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
        backend: str = "highs",
    ):
        if lookahead < 1:
            raise ValueError(f"lookahead must be ≥ 1, got {lookahead}")
        if window not in ("lp", "milp"):
            raise ValueError(f"window must be 'lp' or 'milp', got {window!r}")
        if backend not in ("highs", "pyomo"):
            raise ValueError(f"backend must be 'highs' or 'pyomo', got {backend!r}")
        self.backend = backend
        self.lookahead = int(lookahead)
        self.forecaster = make_forecaster(forecaster)
        self.window: Window = window
        self.carry_weight = float(carry_weight)
        self.options = options or HighsOptions()
        self.name = name or f"mpc-{self.forecaster.name}-L{self.lookahead}"
        self.info: dict[str, Any] = {}
        self._w: ArrayWindow | PyomoWindow | None = None

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
            "backend": self.backend,
            "build_seconds": time.perf_counter() - t0,
            "solve_seconds": 0.0,
            "update_seconds": 0.0,
            "slots": 0,
            "window_status": {},
            "fallbacks": 0,
        }

    def _build(self, scn: Scenario) -> ArrayWindow | PyomoWindow:
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
        kind = ArrayWindow if self.backend == "highs" else PyomoWindow
        return kind(wscn, pending, relax=self.window == "lp", options=self.options)

    # ---- one slot -----------------------------------------------------------------------
    def _data(self, w: ArrayWindow | PyomoWindow, obs: Observation) -> WindowData:
        """Slot t's state, data and forecasts as window data."""
        st, L = self._st, w.L
        idx = w.index
        t = obs.t
        left = st.T - t  # real slots in the window: min(L, left)
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
        close = np.minimum(idx.ctau + st.W[idx.ck], left - 1)
        reach = obs.soc + min(L, left) * st.eta_c * st.pch
        return WindowData(
            price=price,
            carbon=carbon,
            renewable=ren,
            cohort_jobs=cohort_sizes(idx, arr, obs.pending[:, :, 1:]),  # obs age j at [j]
            drop_weight=np.where(close <= L - 1, 1.0, self.carry_weight),
            soc0=np.asarray(obs.soc, dtype=float),
            u0=np.asarray(obs.generator_on, dtype=float),
            soc_end=np.minimum(st.send, reach),
            live=min(w.live, left),
        )

    def act(self, obs: Observation) -> SlotDecisions:
        w = self._w
        if w is None:
            raise RuntimeError("call reset(scenario, seed) first")
        t0 = time.perf_counter()
        w.update(self._data(w, obs))
        t1 = time.perf_counter()
        raw = w.solve()
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

    def _decisions(self, w: ArrayWindow | PyomoWindow, obs: Observation) -> SlotDecisions:
        """Slot 0 of the window's solution as decisions (rounding rules of docs/mpc.md)."""
        st = self._st
        idx = w.index
        plan = w.plan()
        rows, x = plan.rows, np.maximum(plan.x, 0.0)
        n, ch, dis, o, u_plan, r = plan.n, plan.ch, plan.dis, plan.o, plan.u, plan.r
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
