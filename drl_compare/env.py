"""Gymnasium environment ``aigc_opt/AIGCDataCenter-v0``: the simulator behind a Box API.

The environment wraps `aigc_opt.solvers.simulator.Simulator` (it does not copy it): the
dynamics, the repair rules and the utility are the simulator's, which accounts every slot
with `accounting.slot_terms` — the function that defines U for the oracle. Hence the
oracle's best bound is an upper bound on the episode utility of every policy here.

Observation (``Box``, float32, length 3 + 3D + A·K·(W_max+1) + 2D + F·(3D + A·K)):

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
``forecast``           optional (``forecast=SPEC``, ``forecast_slots=F``): for each of
                       the slots t+1 … t+F (the last known slot repeated past the end of
                       the episode) price ÷ 100, carbon, renewables ÷ L_d (D each) and
                       arrivals ÷ C_{a,k} (A·K), from the forecaster MPC uses with the
                       same spelling (`aigc_opt.solvers.forecast.make_forecaster`)
=====================  =============================================================

Action: ``Box`` in [−1, 1] decoded by `aigc_opt.drl_compare.decoder.ActionLayout`
(layout, thresholds and the two ``action_mode`` values are documented there and in
docs/drl.md); `split_action` / `build_action` convert between the vector and its named
parts. Every action decodes to decisions the simulator makes feasible by its documented
repair rules.

Rewards (``reward_mode``): ``"dense"`` pays the slot utility each step; ``"sparse"`` pays
0 until the last slot, then the episode utility; ``"delayed:k"`` pays the utility
accumulated since the last payment every k slots and at the end. Rewards are dollars ×
``reward_scale``; the sum of rewards over an episode is always the episode utility ×
``reward_scale``. ``info`` holds ``repairs``, ``t``, ``jobs_requested`` and
``jobs_served`` (jobs the decoder was asked for and kept after filling capacity) every
step; the slot's ``utility`` and eight ``terms`` ($, unscaled) only when ``info_level``
is ``"full"`` — the default for dense rewards — so a method trained on sparse or delayed
rewards cannot read per-slot utility from ``info`` without asking for it
(``info_level="full"``). At the end ``info["episode_utility"]`` /
``info["episode_terms"]`` are always given.

Randomness: the start slot when ``random_start=True`` (drawn from ``self.np_random``
among the starts of ``split``, see `aigc_opt.drl_compare.splits`), the forecaster's
noise (seeded by the reset seed) and, with ``arrivals="poisson"``, the episode's arrivals
(Poisson draws around the scenario's profile from ``self.np_random``, see
`aigc_opt.drl_compare.arrivals`); series are otherwise read from the scenario.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aigc_opt.data.catalog import load_scenario
from aigc_opt.data.scenario import Scenario
from aigc_opt.drl_compare.arrivals import check_arrivals, realise_arrivals
from aigc_opt.drl_compare.decoder import ActionLayout, Decoded
from aigc_opt.drl_compare.splits import split_starts
from aigc_opt.formulations.accounting import TERMS, utility_of
from aigc_opt.solvers.simulator import Observation, Simulator, SlotDecisions, StepResult

INFO_LEVELS = ("auto", "full", "minimal")
#: cached properties of `Scenario` that depend on static parameters only
_STATIC_CACHED = (
    "steps",
    "dc_of_asp",
    "quality",
    "gpu_seconds",
    "job_kwh",
    "admissible",
    "transfer_cost",
    "class_arrays",
)


def parse_reward_mode(mode: str) -> int:
    """Payment period in slots of a reward mode: dense 1, sparse 0 (end only),
    ``delayed:k`` k. Raises ValueError on anything else."""
    if mode == "dense":
        return 1
    if mode == "sparse":
        return 0
    if mode.startswith("delayed:"):
        try:
            k = int(mode.partition(":")[2])
        except ValueError:
            k = 0
        if k >= 1:
            return k
    raise ValueError(f"reward_mode must be dense, sparse or delayed:K (K ≥ 1), got {mode!r}")


class AIGCDataCenterEnv(gym.Env):
    """AIGC scheduling with joint energy management, one slot per step (see module doc).

    Parameters
    ----------
    scenario : shipped name, path to a TOML, or a `Scenario` (its full series).
    horizon : episode length in slots (default: 24, cut to the series).
    start : first slot of the episode (ignored when ``random_start``).
    random_start : draw the start slot from ``np_random`` among ``split``'s starts.
    split : ``train``, ``val``, ``test`` or ``all`` (`aigc_opt.drl_compare.splits`).
    reward_mode : ``"dense"``, ``"sparse"`` or ``"delayed:k"``.
    reward_scale : multiplies rewards (not ``info``); 1.0 keeps dollars.
    forecast : forecaster spelling (``perfect``, ``noisy:0.1``, …) for the observation.
    forecast_slots : number of forecast slots F in the observation (0 = none).
    action_mode : ``"direct"`` or ``"residual"`` (see `aigc_opt.drl_compare.decoder`).
    info_level : ``"auto"`` (full for dense rewards, minimal otherwise), ``"full"`` or
        ``"minimal"``.
    arrivals : ``"profile"`` (the scenario's series) or ``"poisson"`` (drawn per episode
        around it, `aigc_opt.drl_compare.arrivals`).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Scenario = "default",
        horizon: int = 24,
        start: int = 0,
        *,
        random_start: bool = False,
        split: str = "all",
        reward_mode: str = "dense",
        reward_scale: float = 1.0,
        forecast: str | None = None,
        forecast_slots: int = 0,
        action_mode: str = "direct",
        info_level: str = "auto",
        arrivals: str = "profile",
    ):
        super().__init__()
        self.arrivals = check_arrivals(arrivals)
        self._pay_every = parse_reward_mode(reward_mode)
        if info_level not in INFO_LEVELS:
            raise ValueError(f"info_level must be one of {INFO_LEVELS}, got {info_level!r}")
        self.full = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.horizon = int(min(horizon, self.full.T))
        self.start = int(start)
        self.random_start = bool(random_start)
        self.split = split
        self._starts = split_starts(self.full, self.horizon, split)
        self.reward_mode = reward_mode
        self.reward_scale = float(reward_scale)
        self.forecast_slots = int(forecast_slots)
        self.forecast = forecast if self.forecast_slots > 0 else None
        if self.forecast_slots > 0 and forecast is None:
            self.forecast = "perfect"
        self.action_mode = action_mode
        self.info_full = info_level == "full" or (info_level == "auto" and self._pay_every == 1)
        self._static(self.full)
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(self._obs_dim,), dtype=np.float32
        )
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.layout.size,), dtype=np.float32)
        self.sim: Simulator | None = None
        self.episode: Scenario | None = None
        self._obs: Observation | None = None

    # ------------------------------------------------------------------------------------
    # static layout and scales
    # ------------------------------------------------------------------------------------
    def _static(self, scn: Scenario) -> None:
        A, K, D = scn.A, scn.K, scn.D
        self.A, self.K, self.D, self.B = A, K, D, A
        self.W = int(scn.class_arrays["wait"].max())
        self.layout = ActionLayout(scn, self.action_mode)
        st = self.layout.st
        slot_s = 3600.0 * scn.dt
        lv, n_lv = self.layout.levels, self.layout.n_levels
        home = np.arange(A)
        med = lv[home[:, None], np.arange(K)[None, :], n_lv // 2 * (n_lv > 0)]
        tau = scn.gpu_seconds[home[:, None], np.arange(K)[None, :], med]
        # jobs per slot the home pool serves at its median level; a class the home pool
        # cannot serve is scaled by its peak arrivals instead (else its pending count would
        # enter the observation unscaled)
        peak = scn.arrivals.max(axis=2) if scn.arrivals.size else np.ones((A, K))
        serves = (n_lv > 0) & (st.G[:, None] > 0)
        cap = np.where(serves, st.G[:, None] * slot_s / np.where(serves, tau, 1.0), peak)
        self.job_scale = np.maximum(cap, 1.0)
        per_gpu_kw = st.idle_kw + np.array(
            [b.kwh_per_step / max(b.gpu_seconds_per_step, 1e-12) * 3600.0 for b in scn.params.asps]
        )
        load = np.bincount(st.dc_of, weights=st.G * per_gpu_kw * scn.dt / 1000.0, minlength=D)
        self.load_scale = np.maximum(load * st.pue, 1e-6)
        self.bat_cap = st.smax
        self._inv_bat = np.divide(1.0, st.smax, out=np.zeros(D), where=st.smax > 0)
        self._inv_jobs = (1.0 / self.job_scale)[:, :, None]
        self._fc_dim = 3 * D + A * K
        self._obs_dim = (
            3 + 3 * D + A * K * (self.W + 1) + 2 * D + self.forecast_slots * self._fc_dim
        )

    def split_action(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """The action vector cut into its named parts (see `ActionLayout`)."""
        return self.layout.split_action(action)

    def build_action(self, **parts: np.ndarray) -> np.ndarray:
        """The action vector from named parts (inverse of `split_action`)."""
        return self.layout.build_action(**parts)

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
            self._starts = split_starts(full, self.horizon, self.split)
        horizon = int(opts.get("horizon", self.horizon))
        if horizon < 1 or horizon > full.T:
            raise ValueError(f"horizon {horizon} outside [1, {full.T}]")
        if "start" in opts:
            start = int(opts["start"])
        elif self.random_start:
            starts = (
                self._starts if horizon == self.horizon else split_starts(full, horizon, self.split)
            )
            start = int(starts[self.np_random.integers(0, starts.size)])
        else:
            start = self.start
        self.episode = realise_arrivals(
            full.cut(horizon=horizon, start=start), self.arrivals, self.np_random
        )
        # static derived parameters do not depend on the slots cut: reuse them
        for name in _STATIC_CACHED:
            if name in full.__dict__:
                self.episode.__dict__[name] = full.__dict__[name]
        fc = None
        if self.forecast is not None:
            from aigc_opt.solvers.forecast import make_forecaster

            fc = make_forecaster(self.forecast)
        self.sim = Simulator(
            self.episode, forecaster=fc, forecast_slots=self.forecast_slots, seed=seed
        )
        self._obs = self.sim.reset(seed)
        self._episode_terms = np.zeros(len(TERMS))
        self._unpaid = 0.0
        return self._encode(self._obs), {
            "start": start,
            "horizon": horizon,
            "scenario": self.episode.name,
            "arrivals": self.arrivals,
        }

    def step(self, action: np.ndarray):
        if self.sim is None or self._obs is None:
            raise RuntimeError("call reset() before step()")
        dec = self.layout.decode(action, self._obs)
        # the decoder's rows pass rule R0 by construction (see `repair_decisions`)
        return self._advance(self.sim.step(dec.decisions, well_formed=True), dec)

    def step_decisions(self, decisions: SlotDecisions):
        """Advance with explicit `SlotDecisions` (the env's decisions path, bypassing the
        action decoder); returns the same tuple as `step`. Used to replay schedules."""
        if self.sim is None or self._obs is None:
            raise RuntimeError("call reset() before step_decisions()")
        return self._advance(self.sim.step(decisions), None)

    def _advance(self, res: StepResult, dec: Decoded | None):
        row = res.terms
        self._episode_terms += [row[n] for n in TERMS]
        self._unpaid += res.reward
        done = res.done
        t = self.sim.t - 1
        pay = done or (self._pay_every > 0 and (t + 1) % self._pay_every == 0)
        reward = self._unpaid * self.reward_scale if pay else 0.0
        if pay:
            self._unpaid = 0.0
        served = float(res.decisions.x.sum()) if res.decisions.n_rows else 0.0
        info: dict[str, Any] = {
            "repairs": len(res.repairs),
            "t": t,
            "jobs_requested": dec.requested if dec is not None else served,
            "jobs_served": served,
        }
        if self.info_full:
            info["terms"] = dict(row)
            info["utility"] = res.reward
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
    # encoding
    # ------------------------------------------------------------------------------------
    def encode(self, o: Observation) -> np.ndarray:
        """The observation vector of a simulator `Observation` (see module doc)."""
        return self._encode(o)

    def _encode(self, o: Observation) -> np.ndarray:
        D = self.D
        out = np.empty(self._obs_dim, dtype=np.float32)
        ang = 2 * np.pi * o.hour_of_day / 24.0
        out[0], out[1], out[2] = np.sin(ang), np.cos(ang), o.t / o.T
        i = 3
        out[i : i + D] = o.price / 100.0
        out[i + D : i + 2 * D] = o.carbon
        out[i + 2 * D : i + 3 * D] = o.renewable / self.load_scale
        i += 3 * D
        n = o.pending.size
        out[i : i + n] = (o.pending * self._inv_jobs).ravel()
        i += n
        out[i : i + D] = o.soc * self._inv_bat
        out[i + D : i + 2 * D] = o.generator_on
        i += 2 * D
        F = self.forecast_slots
        if F:
            out[i:] = self._encode_forecast(o).ravel()
        return out

    def _encode_forecast(self, o: Observation) -> np.ndarray:
        """(F, 3D + A·K) scaled forecasts; the last known slot repeats past the end."""
        F, D = self.forecast_slots, self.D
        fc = o.forecast
        m = 0 if fc is None else fc.slots
        cur = np.concatenate(
            [
                o.price / 100.0,
                o.carbon,
                o.renewable / self.load_scale,
                (o.arrivals / self.job_scale).ravel(),
            ]
        )
        rows = np.tile(cur, (F, 1))
        if m:
            rows[:m, :D] = fc.price.T / 100.0
            rows[:m, D : 2 * D] = fc.carbon.T
            rows[:m, 2 * D : 3 * D] = fc.renewable.T / self.load_scale
            rows[:m, 3 * D :] = (fc.arrivals / self.job_scale[:, :, None]).reshape(-1, m).T
            rows[m:] = rows[m - 1]
        return rows

    def decode(self, action: np.ndarray, o: Observation) -> SlotDecisions:
        """One slot of decisions from an action (see `ActionLayout.decode`)."""
        return self.layout.decode(action, o).decisions
