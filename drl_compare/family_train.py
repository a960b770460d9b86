"""Training a reference Stable-Baselines3 agent in a scenario family's environment
(``aigc-opt train --scenario <family scenario>``).

Each episode is ``horizon`` slots cut from the whole scenario at a random start (seeded),
in the family's Gymnasium environment (`family_registry.Family.make_env`), whose reward is
the slot's utility from the family's one accounting. Observations are normalised
(`VecNormalize`) and the statistics are baked into the exported ONNX actor, so
``aigc-opt compare --scenario S --policy RUN/model.onnx`` plays the trained policy against
the family's oracle bound and heuristics.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

ALGOS = ("ppo", "sac", "td3", "a2c")


class RandomStartEnv(gym.Env):
    """The family environment on ``horizon`` slots from a random start, re-drawn at every
    reset (the observation and action spaces depend on the scenario's sizes only)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, family: Any, full: Any, horizon: int, reward_scale: float = 1.0):
        self.family, self.full, self.horizon = family, full, horizon
        self.reward_scale = reward_scale
        self.env = family.make_env(full.cut(horizon=horizon, start=0), reward_scale=reward_scale)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        start = int(self.np_random.integers(0, self.full.T - self.horizon + 1))
        scn = self.full.cut(horizon=self.horizon, start=start)
        self.env = self.family.make_env(scn, reward_scale=self.reward_scale)
        return self.env.reset(seed=seed)  # type: ignore[no-any-return]

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self.env.step(action)  # type: ignore[no-any-return]


def train_family(
    family: Any,
    scenario: str,
    algo: str,
    timesteps: int,
    out: str | Path,
    *,
    horizon: int = 24,
    seed: int = 0,
    reward_scale: float = 1.0,
) -> dict[str, Any]:
    """Train ``algo`` for ``timesteps`` steps into the new run directory ``out``; writes
    ``model.zip``, ``vecnormalize.pkl``, ``model.onnx`` and ``train.json`` (returned)."""
    from aigc_opt.drl_compare.policies import export_sb3_onnx, require_rl

    require_rl("aigc-opt train", ("torch", "stable_baselines3", "onnx"))
    import torch
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

    from aigc_opt.drl_compare.train import _make_model, _versions, check_run_dir
    from aigc_opt.solvers.store import write_json

    algo = algo.lower()
    if algo not in ALGOS:
        raise ValueError(f"--algo = {algo!r}: for family {family.name} choose {', '.join(ALGOS)}")
    out = check_run_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    full = family.load_scenario(scenario)
    family.load_scenario(scenario, horizon)  # validates the horizon
    monitor = VecMonitor(
        DummyVecEnv([lambda: RandomStartEnv(family, full, horizon, reward_scale)]),
        filename=str(out / "monitor.csv"),
        info_keywords=("episode_utility",),
    )
    venv = VecNormalize(monitor, norm_obs=True, norm_reward=True)
    venv.seed(seed)
    model = _make_model(algo, venv, {}, seed, out / "tensorboard")
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    wall = time.perf_counter() - t0
    model.save(out / "model.zip")
    venv.save(str(out / "vecnormalize.pkl"))
    meta: dict[str, Any] = {
        "algo": algo,
        "family": family.name,
        "timesteps": timesteps,
        "scenario": scenario,
        "horizon": horizon,
        "seed": seed,
        "reward_scale": reward_scale,
        "vecnormalize": {"norm_obs": True, "norm_reward": True, "clip_obs": venv.clip_obs},
        "train_seconds": round(wall, 2),
        "model": str(out / "model.zip"),
        "onnx": str(export_sb3_onnx(model, out / "model.onnx", venv)),
        "onnx_includes_vecnormalize": True,
        "versions": _versions(),
    }
    write_json(out / "train.json", meta)
    venv.close()
    return meta
