"""Gymnasium environment ``aigc_opt/AIGCDataCenter-v0``: the simulator behind a Box API.

The environment wraps `aigc_opt.solvers.simulator.Simulator` (it does not copy it): the
dynamics, the repair rules and the utility are the simulator's, which accounts every slot
with `accounting.slot_terms` — the function that defines U for the oracle. Hence the
oracle's best bound is an upper bound on the episode utility of every policy here.

Observation (``Box``, float32, length 3 + 3D + A·K·(W_max+1) + 2D + F·D):

=====================  =============================================================
``[0:2]``              sin, cos of the hour of day (2π·hour/24)
``[2]``                fraction of the episode elapsed, t / T
``price``   (D)        π_{d,t} / 100 ($/MWh ÷ 100)
``carbon``  (D)        κ_{d,t} (tCO2/MWh)
``renew``   (D)        R_{d,t} / L_d, L_d = full-load facility energy of the data center
                       (MWh per slot, from static parameters)
``pending`` (A,K,W+1)  jobs waiting by origin, class and age (age 0 = arrived this slot),
                       ÷ C_{a,k}, the home pool's capacity in jobs per slot at its median
                       admissible step level (static)
``soc``     (D)        state of charge ÷ battery capacity (0 without a battery)
``gen``     (D)        generator status of the previous slot (0/1)
``forecast`` (F·D)     optional (``forecast_slots=F``): price forecasts for t+1..t+F ÷ 100
=====================  =============================================================

Action (``Box`` in [−1, 1], length A·K·A + B·K + A·K + 3D + B), decoded by `decode`:

* routing logits (A, K, A): softmax of 3·u + 2·[b = a] over the admissible servers b of
  each (origin a, class k) gives the shares of its jobs sent to each b (forbidden pairs
  and servers with no admissible level get share 0); the home bonus makes the zero
  action keep most jobs at home;
* step level (B, K): u ↦ the admissible level of position round((u+1)/2·(n−1));
* serve fraction (A, K): f = min(1, u + 1) of every pending cohort of (a, k) is served
  now (u ≥ 0 serves all), the rest waits (jobs whose window closes are dropped by the
  simulator);
* battery (D): u > 0 charges u·charge_max, u < 0 discharges |u|·discharge_max (MWh);
* generator (D): u > 0 switches it on with output max(min, u·max); u ≤ 0 off;
* GPU activation (B): at least the GPUs the service needs, and (u+1)/2·G_b if more.

The decoder scales the service of an over-committed pool down to its GPU time, then the
simulator's repair rules (docs/simulator.md) make the slot feasible (energy balance,
grid cap, battery room). Every action therefore decodes to decisions inside MODEL.md's
feasible set.

Rewards: ``reward_mode="dense"`` gives the slot utility ($ × ``reward_scale``);
``"sparse"`` gives 0 until the last slot, then the episode utility (× ``reward_scale``).
``info["terms"]`` holds the slot's eight utility terms by their MODEL.md names ($,
unscaled), ``info["utility"]`` the slot utility, and at the end
``info["episode_utility"]`` / ``info["episode_terms"]``.

Randomness: the only random choice is the start slot when ``random_start=True``, drawn
from ``self.np_random``; series are read from the scenario, never sampled.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aigc_opt.data.catalog import load_scenario
from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS, utility_of
from aigc_opt.solvers.simulator import Observation, Simulator, SlotDecisions, StepResult


class AIGCDataCenterEnv(gym.Env):
    """AIGC scheduling with joint energy management, one slot per step (see module doc).

    Parameters
    ----------
    scenario : shipped name, path to a TOML, or a `Scenario` (its full series).
    horizon : episode length in slots (default: 24, cut to the series).
    start : first slot of the episode (ignored when ``random_start``).
    random_start : draw the start slot uniformly from ``np_random`` at each reset.
    reward_mode : ``"dense"`` or ``"sparse"``.
    reward_scale : multiplies rewards (not ``info``); 1.0 keeps dollars.
    forecast_slots : number of perfect price forecasts in the observation (0 = none).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Scenario = "default",
        horizon: int = 24,
        start: int = 0,
        *,
        random_start: bool = False,
        reward_mode: str = "dense",
        reward_scale: float = 1.0,
        forecast_slots: int = 0,
    ):
        super().__init__()
        if reward_mode not in ("dense", "sparse"):
            raise ValueError(f"reward_mode must be 'dense' or 'sparse', got {reward_mode!r}")
        self.full = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.horizon = int(min(horizon, self.full.T))
        self.start = int(start)
        self.random_start = bool(random_start)
        self.reward_mode = reward_mode
        self.reward_scale = float(reward_scale)
        self.forecast_slots = int(forecast_slots)
        self._static(self.full)
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(self._obs_dim,), dtype=np.float32
        )
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self._act_dim,), dtype=np.float32)
        self.sim: Simulator | None = None
        self.episode: Scenario | None = None
        self._obs: Observation | None = None
        self._episode_utility = 0.0

    # ------------------------------------------------------------------------------------
    # static layout and scales
    # ------------------------------------------------------------------------------------
    def _static(self, scn: Scenario) -> None:
        A, K, D = scn.A, scn.K, scn.D
        self.A, self.K, self.D, self.B = A, K, D, A
        self.W = int(scn.class_arrays["wait"].max())
        self.adm = scn.admissible  # (B, K, S)
        allowed = ~np.isnan(scn.transfer_cost)  # (A, B)
        self.route_ok = allowed[:, None, :] & self.adm.any(axis=2).T[None, :, :]  # (A, K, B)
        self.levels = [[np.flatnonzero(self.adm[b, k]) for k in range(K)] for b in range(A)]
        G = np.array([b.gpus for b in scn.params.asps], dtype=float)
        self.G = G
        slot_s = 3600.0 * scn.dt
        cap = np.ones((A, K))
        for a in range(A):
            for k in range(K):
                lv = self.levels[a][k]
                if lv.size and G[a] > 0:
                    s = int(lv[lv.size // 2])
                    cap[a, k] = max(G[a] * slot_s / scn.gpu_seconds[a, k, s], 1.0)
        self.job_scale = cap
        idle = np.array([b.idle_kw_per_gpu for b in scn.params.asps])
        per_gpu_kw = idle + np.array(
            [b.kwh_per_step / max(b.gpu_seconds_per_step, 1e-12) * 3600.0 for b in scn.params.asps]
        )
        pue = np.array([d.pue for d in scn.params.data_centers])
        load = np.zeros(D)
        np.add.at(load, scn.dc_of_asp, G * per_gpu_kw * scn.dt / 1000.0)
        self.load_scale = np.maximum(load * pue, 1e-6)
        self.bat_cap = np.array(
            [d.battery.capacity_mwh if d.battery else 0.0 for d in scn.params.data_centers]
        )
        self._obs_dim = 3 + 3 * D + A * K * (self.W + 1) + 2 * D + self.forecast_slots * D
        self._sizes = {
            "route": A * K * A,
            "level": A * K,
            "serve": A * K,
            "battery": D,
            "generator": D,
            "gpus": A,
        }
        self._act_dim = sum(self._sizes.values())

    def split_action(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """The action vector cut into its named parts (see module doc)."""
        out, i = {}, 0
        for name, n in self._sizes.items():
            out[name] = np.asarray(action[i : i + n], dtype=float)
            i += n
        return out

    # ------------------------------------------------------------------------------------
    # gymnasium API
    # ------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        opts = dict(options or {})
        full = self.full
        if "scenario" in opts:
            new = opts["scenario"]
            full = new if isinstance(new, Scenario) else load_scenario(new)
            if (full.A, full.K, full.D, int(full.class_arrays["wait"].max())) != (
                self.A,
                self.K,
                self.D,
                self.W,
            ):
                raise ValueError(
                    "options['scenario'] must have the sizes the spaces were "
                    "built for (ASPs, classes, data centers, max wait)"
                )
            self.full = full
            self._static(full)
        horizon = int(opts.get("horizon", self.horizon))
        if horizon < 1 or horizon > full.T:
            raise ValueError(f"horizon {horizon} outside [1, {full.T}]")
        if "start" in opts:
            start = int(opts["start"])
        elif self.random_start:
            start = int(self.np_random.integers(0, full.T - horizon + 1))
        else:
            start = self.start
        self.episode = full.cut(horizon=horizon, start=start)
        self.sim = Simulator(self.episode)
        self._obs = self.sim.reset(seed)
        self._episode_utility = 0.0
        self._episode_terms = np.zeros(len(TERMS))
        return self._encode(self._obs), {
            "start": start,
            "horizon": horizon,
            "scenario": self.episode.name,
        }

    def step(self, action: np.ndarray):
        if self.sim is None or self._obs is None:
            raise RuntimeError("call reset() before step()")
        return self._advance(self.sim.step(self.decode(np.asarray(action), self._obs)))

    def step_decisions(self, decisions: SlotDecisions):
        """Advance with explicit `SlotDecisions` (the env's decisions path, bypassing the
        action decoder); returns the same tuple as `step`. Used to replay schedules."""
        if self.sim is None or self._obs is None:
            raise RuntimeError("call reset() before step_decisions()")
        return self._advance(self.sim.step(decisions))

    def _advance(self, res: StepResult):
        self._episode_terms += np.array([res.terms[n] for n in TERMS])
        self._episode_utility += res.reward
        done = res.done
        if self.reward_mode == "dense":
            reward = res.reward * self.reward_scale
        else:
            reward = self._episode_utility * self.reward_scale if done else 0.0
        info: dict[str, Any] = {
            "terms": dict(res.terms),
            "utility": res.reward,
            "repairs": len(res.repairs),
            "t": self.sim.t - 1,
        }
        if done:
            terms = {n: float(v) for n, v in zip(TERMS, self._episode_terms, strict=True)}
            info["episode_terms"] = terms
            info["episode_utility"] = utility_of(terms)
            self._obs = None
            obs = np.zeros(self._obs_dim, dtype=np.float32)
        else:
            self._obs = res.observation
            obs = self._encode(self._obs)
        return obs, float(reward), bool(done), False, info

    # ------------------------------------------------------------------------------------
    # encoding and decoding
    # ------------------------------------------------------------------------------------
    def _encode(self, o: Observation) -> np.ndarray:
        ang = 2 * np.pi * o.hour_of_day / 24.0
        parts = [
            np.array([np.sin(ang), np.cos(ang), o.t / o.T]),
            o.price / 100.0,
            o.carbon,
            o.renewable / self.load_scale,
            (o.pending / self.job_scale[:, :, None]).ravel(),
            np.divide(o.soc, self.bat_cap, out=np.zeros(self.D), where=self.bat_cap > 0),
            o.generator_on,
        ]
        if self.forecast_slots:
            ep = self.episode
            idx = np.minimum(np.arange(o.t + 1, o.t + 1 + self.forecast_slots), ep.T - 1)
            parts.append((ep.price[:, idx] / 100.0).ravel())
        return np.concatenate(parts).astype(np.float32)

    def decode(self, action: np.ndarray, o: Observation) -> SlotDecisions:
        """One slot of decisions from an action (see module doc)."""
        scn = self.episode
        act = np.clip(np.nan_to_num(np.asarray(action, dtype=float).reshape(-1)), -1.0, 1.0)
        if act.size != self._act_dim:
            raise ValueError(f"action has {act.size} entries, expected {self._act_dim}")
        p = self.split_action(act)
        A, K = self.A, self.K
        logits = p["route"].reshape(A, K, A) * 3.0 + 2.0 * np.eye(A)[:, None, :]
        logits = np.where(self.route_ok, logits, -np.inf)
        with np.errstate(invalid="ignore"):
            w = np.exp(
                logits - np.max(np.where(self.route_ok, logits, -1e9), axis=2, keepdims=True)
            )
        w = np.where(self.route_ok, w, 0.0)
        share = np.divide(
            w,
            w.sum(axis=2, keepdims=True),
            out=np.zeros_like(w),
            where=w.sum(axis=2, keepdims=True) > 0,
        )
        lvl_u = p["level"].reshape(A, K)
        level = np.full((A, K), -1)
        for b in range(A):
            for k in range(K):
                lv = self.levels[b][k]
                if lv.size:
                    level[b, k] = int(lv[int(round((lvl_u[b, k] + 1) / 2 * (lv.size - 1)))])
        serve = np.minimum(p["serve"].reshape(A, K) + 1.0, 1.0)
        rows_a, rows_b, rows_k, rows_s, rows_tau, rows_x = [], [], [], [], [], []
        pend = o.pending  # (A, K, W+1)
        t = o.t
        for a in range(A):
            for k in range(K):
                amount = pend[a, k] * serve[a, k]
                if not amount.any():
                    continue
                for b in np.flatnonzero(share[a, k] > 0):
                    for age in np.flatnonzero(amount > 0):
                        rows_a.append(a)
                        rows_b.append(b)
                        rows_k.append(k)
                        rows_s.append(level[b, k])
                        rows_tau.append(t - age)
                        rows_x.append(amount[age] * share[a, k, b])
        a_, b_, k_, s_ = (np.array(v, dtype=int) for v in (rows_a, rows_b, rows_k, rows_s))
        tau_, x_ = np.array(rows_tau, dtype=int), np.array(rows_x, dtype=float)
        # scale each over-committed pool down to its GPU time
        need = np.zeros(A)
        if x_.size:
            np.add.at(need, b_, scn.gpu_seconds[b_, k_, s_] * x_)
        cap = o.limits.gpu_seconds
        factor = np.where(need > cap, cap / np.maximum(need, 1e-12), 1.0)
        if x_.size:
            x_ = x_ * factor[b_] * (1 - 1e-9)
            np.multiply.at(need, np.arange(A), factor)
        slot_s = 3600.0 * scn.dt
        gpus = np.minimum(
            np.maximum(np.ceil(need / slot_s - 1e-9), np.round((p["gpus"] + 1) / 2 * self.G)),
            self.G,
        )
        lim = o.limits
        bat = p["battery"]
        charge = np.maximum(np.where(bat > 0, bat * lim.charge_max, 0.0), lim.charge_min)
        discharge = np.where((bat < 0) & (charge <= 0), -bat * lim.discharge_max, 0.0)
        gen_u = p["generator"]
        on = (gen_u > 0) & (lim.generator_max > 0)
        generator = np.where(on, np.maximum(lim.generator_min, gen_u * lim.generator_max), 0.0)
        return SlotDecisions(
            a=a_,
            b=b_,
            k=k_,
            s=s_,
            tau=tau_,
            x=x_,
            gpus=gpus,
            charge=charge,
            discharge=discharge,
            generator=generator,
            generator_on=on.astype(float),
        )
