"""Gymnasium environment of the ``geo-training`` family: `GeoSimulator` behind a Box API.

The dynamics and the reward are the simulator's, which books every slot with
`geo_training_accounting.slot_terms` — the function the MILP's objective sums — so the
oracle's best bound bounds the episode utility of every policy here.

Observation (float32, length 3 + 3D + 4K): sin, cos of the hour of day, t/T; per data
center price/100 ($/MWh), carbon (t/MWh), free GPUs now / capacity; for the K waiting
jobs with the earliest deadlines: present (0/1), slack (D_j − t)/24, run time at g^max/24,
g^max / max capacity.

Action (Box in [−1, 1], length D + 1), decoded by the ``edf-cheapest`` rule
(`GreedyPolicy`): u_d · 0.05 $/GPU-h is a bonus of data center d in the job's ranking, and
u_D · 0.25 · v̄ ($/GPU-h, v̄ the mean job value) is the least margin (value − energy and
carbon cost per GPU-hour) at which a job starts now. The zero action is the plain
heuristic. `step_starts` applies explicit starts (e.g. the oracle's) instead.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aigc_opt.data.families.geo_training import GeoTrainingScenario
from aigc_opt.formulations.geo_training_accounting import TERMS, utility_of
from aigc_opt.solvers.geo_training_sim import GeoSimulator, GreedyPolicy, Starts, run_slots


class GeoTrainingEnv(gym.Env):
    """One slot per step; reward = the slot's utility ($ × ``reward_scale``)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, scenario: GeoTrainingScenario, *, queue: int = 8, reward_scale: float = 1.0):
        self.scn = scenario
        self.K = queue
        self.reward_scale = reward_scale
        D = scenario.D
        self.sim = GeoSimulator(scenario)
        self.observation_space = spaces.Box(-np.inf, np.inf, (3 + 3 * D + 4 * queue,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (D + 1,), np.float32)
        self._obs = self.sim.reset()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._obs = self.sim.reset()
        return self._encode(), {}

    def decode(self, action: np.ndarray) -> Starts:
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        vbar = float(self.scn.value.mean()) if self.scn.J else 0.0
        policy = GreedyPolicy(
            "edf-cheapest", dc_bonus=0.05 * a[:-1], margin_floor=0.25 * vbar * a[-1]
        )
        return policy.act(self._obs, self.scn)

    def step(self, action: np.ndarray):
        return self.step_starts(self.decode(action))

    def step_starts(self, starts: Starts):
        terms = self.sim.step(starts)
        info: dict[str, Any] = {
            "terms": dict(zip(TERMS, terms.tolist(), strict=True)),
            "utility": utility_of(terms),
        }
        done = self.sim.done
        if done:
            tot = self.sim.per_slot.sum(axis=0)
            info["episode_utility"] = utility_of(tot)
            info["episode_terms"] = dict(zip(TERMS, tot.tolist(), strict=True))
        else:
            self._obs = self.sim.observation()
        return self._encode(), utility_of(terms) * self.reward_scale, done, False, info

    def _encode(self) -> np.ndarray:
        s, o = self.scn, self._obs
        t = min(self.sim.t, s.T - 1)
        hour = (s.start + t) * s.dt % 24
        head = [np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24), t / s.T]
        free_now = o.free[:, t] / np.maximum(s.cap, 1.0)
        queue = np.zeros((self.K, 4))
        waiting = np.flatnonzero(o.waiting)
        for i, j in enumerate(waiting[np.argsort(s.deadline[waiting], kind="stable")][: self.K]):
            g = int(s.gmax[j])
            queue[i] = (1.0, (s.deadline[j] - t) / 24, run_slots(s, j, g) / 24, g / s.cap.max())
        vec = np.concatenate([head, o.price / 100, o.carbon, free_now, queue.ravel()])
        return vec.astype(np.float32)
