"""Gymnasium environment of the ``edge-offload`` family: `EdgeSimulator` behind a Box API.

Reward = the slot's utility from `formulations.edge_offload.slot_terms` (the function the
MILP's objective sums), so the oracle's bound bounds every episode here.

Observation (float32, length 2 + U·(W+1) + U): sin, cos of the slot's position in a minute;
pending tasks by device and age ÷ c (this slot's arrivals are the age-0 column, c = the
mean tasks per slot and device); each device's share of all pending tasks.

Action (Box in [−1, 1], length E + 1) tilts the ``opt-ts`` rule: u_e · p/10 $ per task is a
bonus of server e, u_E · p/2 $ per unit of quality shifts the step choice (p = value of a
task at quality 1). The zero action is Opt-TS. `step_served` applies explicit counts.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aigc_opt.data.families.edge_offload import EdgeOffloadScenario
from aigc_opt.formulations.edge_offload import TERMS, utility_of
from aigc_opt.solvers.edge_offload import EdgeSimulator, GreedyOffload


class EdgeOffloadEnv(gym.Env):
    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, scenario: EdgeOffloadScenario, *, reward_scale: float = 1.0):
        self.scn = scenario
        self.reward_scale = reward_scale
        self.sim = EdgeSimulator(scenario)
        U, W = scenario.U, scenario.W
        self.scale = max(float(scenario.arrivals.mean()), 1.0)
        self.observation_space = spaces.Box(-np.inf, np.inf, (2 + U * (W + 1) + U,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (scenario.E + 1,), np.float32)
        self._obs = self.sim.reset()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._obs = self.sim.reset()
        return self._encode(), {}

    def decode(self, action: np.ndarray) -> np.ndarray:
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        p = self.scn.spec.quality_usd
        pol = GreedyOffload("opt-ts", server_bonus=0.1 * p * a[:-1], quality_tilt=0.5 * p * a[-1])
        return pol.act(self._obs, self.scn)

    def step(self, action: np.ndarray):
        return self.step_served(self.decode(action))

    def step_served(self, served: np.ndarray, resident: np.ndarray | None = None):
        """Apply explicit counts (and, with model residency, the models to hold)."""
        terms = self.sim.step(served if resident is None else (served, resident))
        info: dict[str, Any] = {
            "terms": dict(zip(TERMS, terms.tolist(), strict=True)),
            "utility": utility_of(terms),
        }
        done = self.sim.done
        self._obs = self.sim.observation()
        if done:
            tot = self.sim.per_slot.sum(axis=0)
            info["episode_utility"] = utility_of(tot)
            info["episode_terms"] = dict(zip(TERMS, tot.tolist(), strict=True))
        return self._encode(), utility_of(terms) * self.reward_scale, done, False, info

    def _encode(self) -> np.ndarray:
        s, pend = self.scn, self._obs.pending
        phase = 2 * np.pi * (self.sim.t * s.spec.slot_seconds % 60) / 60
        share = pend.sum(axis=1) / max(float(pend.sum()), 1.0)
        vec = np.concatenate([[np.sin(phase), np.cos(phase)], pend.ravel() / self.scale, share])
        return vec.astype(np.float32)
