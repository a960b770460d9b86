"""Heuristic baselines (MODEL.md §6), each a `Policy` that returns feasible decisions.

All three serve the waiting jobs earliest-deadline first (cohorts whose window closes
soonest, then higher-priced classes first) and fill capacity greedily: a candidate
(pool b, step level s) takes min(jobs left, GPU-seconds left / τ_{b,k}(n_s), energy left
/ facility energy per job). The energy left at a data center is its grid cap plus the
renewables available minus the battery's charge, less one idle GPU per pool (room for
rounding GPUs up); the facility energy of a job is
PUE_d · (e_{b,k}(n_s) + P_b^idle · τ_{b,k}(n_s) / 3600) / 1000 MWh; a discharge is capped
at the facility energy of the service placed. GPUs are left to the simulator's default
(just enough), renewables are used first and the grid is the slack.

* `LocalGreedy` (``greedy``): every job at its home pool (b = a) at the fewest admissible
  steps; a class the home pool cannot serve at any level goes to the admissible pool with
  the lowest transfer cost instead. Battery and generator idle.
* `PriceGreedy` (``price-greedy``): every job to the admissible pool that is cheapest for
  it now -- transfer cost + (π_{d,t} + σ κ_{d,t}) × facility energy at that pool's fewest
  admissible steps -- spilling to the next cheapest when a pool is full. Battery and
  generator idle.
* `RandomPolicy` (``random``): seeded; serves a uniform random share of each cohort
  (all of it in the cohort's last slot with probability 1/2) at a uniformly drawn
  allowed (pool, level); the battery charges, discharges (a uniform amount within its
  room) or idles with probability 1/3 each; the generator stays off.
"""

from __future__ import annotations

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.solvers.simulator import Observation, ScenarioArrays, SlotDecisions


class _Greedy:
    """Shared allocation engine; subclasses choose the candidates of each cohort."""

    name = "greedy-base"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scn = scenario
        self._st = st = ScenarioArrays.of(scn)
        self.rng = np.random.default_rng(seed)
        adm = scn.admissible  # (B, K, S)
        allowed = ~np.isnan(scn.transfer_cost)  # (A, B)
        # fewest admissible steps per (b, k); -1 when none
        first = np.where(adm.any(axis=2), adm.argmax(axis=2), -1)
        self._first = first
        self._allowed = allowed
        pue_b = st.pue[st.dc_of]
        self._e_fac = (
            pue_b[:, None, None]
            * (scn.job_kwh + st.idle_kw[:, None, None] * scn.gpu_seconds / 3600.0)
            / 1000.0
        )
        self._reserve = np.bincount(
            st.dc_of, weights=st.pue[st.dc_of] * st.idle_kw * scn.dt / 1000.0, minlength=st.D
        )

    # ---- candidates ---------------------------------------------------------------------
    def _candidates(self, a: int, k: int, obs: Observation) -> list[tuple[int, int]]:
        raise NotImplementedError

    def _battery(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        lim = obs.limits
        return lim.charge_min.copy(), np.zeros(self._st.D)

    def _share(self, a: int, k: int, age: int, obs: Observation) -> float:
        return 1.0

    # ---- allocation ---------------------------------------------------------------------
    def act(self, obs: Observation) -> SlotDecisions:
        scn, st = self.scenario, self._st
        ch, dis = self._battery(obs)
        gpu_left = obs.limits.gpu_seconds.copy()
        energy_left = st.cap + obs.renewable - ch - self._reserve
        cut = np.minimum(energy_left, 0.0)  # charging beyond what fits: charge less
        ch = np.maximum(ch + np.where(np.isfinite(cut), cut, 0.0), obs.limits.charge_min)
        energy_left = np.maximum(st.cap + obs.renewable - ch - self._reserve, 0.0)
        pend = obs.pending
        a_i, k_i, g_i = np.nonzero(pend > 0)
        if a_i.size == 0:
            return SlotDecisions(charge=ch, discharge=np.zeros(st.D))
        price = scn.class_arrays["price"]
        slack = st.W[k_i] - g_i  # slots left after this one
        order = np.lexsort((-price[k_i], slack))
        rows: list[tuple[int, int, int, int, int, float]] = []
        for i in order:
            a, k, g = int(a_i[i]), int(k_i[i]), int(g_i[i])
            left = float(pend[a, k, g]) * self._share(a, k, g, obs)
            for b, s in self._candidates(a, k, obs):
                if left <= 0:
                    break
                d = st.dc_of[b]
                tau_s = scn.gpu_seconds[b, k, s]
                e = self._e_fac[b, k, s]
                q = min(left, gpu_left[b] / tau_s, energy_left[d] / e if e > 0 else np.inf)
                if q <= 1e-9:
                    continue
                rows.append((a, b, k, s, obs.t - g, q))
                left -= q
                gpu_left[b] -= q * tau_s
                energy_left[d] -= q * e
        if not rows:
            return SlotDecisions(charge=ch, discharge=np.zeros(st.D))
        arr = np.array(rows, dtype=float)
        b = arr[:, 1].astype(int)
        load = np.bincount(
            st.dc_of[b],
            weights=arr[:, 5] * self._e_fac[b, arr[:, 2].astype(int), arr[:, 3].astype(int)],
            minlength=st.D,
        )
        dis = np.minimum(dis, load)  # never discharge more than the service consumes
        return SlotDecisions(
            a=arr[:, 0].astype(int),
            b=arr[:, 1].astype(int),
            k=arr[:, 2].astype(int),
            s=arr[:, 3].astype(int),
            tau=arr[:, 4].astype(int),
            x=arr[:, 5],
            charge=ch,
            discharge=dis,
        )


class LocalGreedy(_Greedy):
    """Serve at home with the fewest admissible steps; grid (and free renewables) only."""

    name = "greedy"

    def _candidates(self, a: int, k: int, obs: Observation) -> list[tuple[int, int]]:
        s = int(self._first[a, k])
        if s >= 0:
            return [(a, s)]
        tc = self.scenario.transfer_cost[a]
        ok = [
            b
            for b in np.argsort(np.nan_to_num(tc, nan=np.inf), kind="stable")
            if self._allowed[a, b] and self._first[b, k] >= 0
        ]
        return [(int(ok[0]), int(self._first[ok[0], k]))] if ok else []


class PriceGreedy(_Greedy):
    """Route each job to the admissible pool that is cheapest now, spilling when full."""

    name = "price-greedy"

    def _candidates(self, a: int, k: int, obs: Observation) -> list[tuple[int, int]]:
        scn, st = self.scenario, self._st
        bs = np.flatnonzero(self._allowed[a] & (self._first[:, k] >= 0))
        if bs.size == 0:
            return []
        s = self._first[bs, k]
        d = st.dc_of[bs]
        unit = obs.price[d] + scn.params.carbon_price_usd_per_t * obs.carbon[d]
        cost = scn.transfer_cost[a, bs] + unit * self._e_fac[bs, k, s]
        order = np.argsort(cost, kind="stable")
        return [(int(bs[i]), int(s[i])) for i in order]


class RandomPolicy(_Greedy):
    """Random feasible decisions, seeded at `reset` (see the module docstring)."""

    name = "random"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        adm = scenario.admissible
        self._options = {
            (a, k): [
                (b, s)
                for b in range(scenario.A)
                if self._allowed[a, b]
                for s in np.flatnonzero(adm[b, k])
            ]
            for a in range(scenario.A)
            for k in range(scenario.K)
        }

    def _share(self, a: int, k: int, age: int, obs: Observation) -> float:
        if age >= self._st.W[k] and self.rng.random() < 0.5:
            return 1.0
        return float(self.rng.random())

    def _candidates(self, a: int, k: int, obs: Observation) -> list[tuple[int, int]]:
        opts = self._options[(a, k)]
        if not opts:
            return []
        b, s = opts[int(self.rng.integers(len(opts)))]
        return [(int(b), int(s))]

    def _battery(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        lim = obs.limits
        D = self._st.D
        mode = self.rng.integers(3, size=D)  # 0 idle, 1 charge, 2 discharge
        u = self.rng.random(D)
        ch = np.where(mode == 1, u * lim.charge_max, 0.0)
        dis = np.where(mode == 2, u * lim.discharge_max, 0.0)
        forced = lim.charge_min > 0
        ch = np.where(forced, np.maximum(ch, lim.charge_min), ch)
        dis = np.where(forced, 0.0, dis)
        return ch, dis


HEURISTICS = {"greedy": LocalGreedy, "price-greedy": PriceGreedy, "random": RandomPolicy}
"""Heuristic policies by their CLI name."""
