"""Reference training: a Stable-Baselines3 agent (PPO or SAC) on the environment, on CPU.

It exists so the comparison harness can be shown end to end on a policy really trained,
and so users have a baseline. The run directory receives ``model.zip`` (the SB3 model),
``train.json`` (configuration, wall time, versions) and ``model.onnx`` (the deterministic
actor, for the ONNX loader).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

ALGOS = ("ppo", "sac", "d2sac", "ippo")


def train(
    algo: str,
    timesteps: int,
    out: str | Path,
    *,
    reward: str = "dense",
    scenario: str = "default",
    horizon: int = 24,
    seed: int = 0,
    export_onnx: bool = True,
    progress: bool = False,
    reward_scale: float = 1e-3,
    shaping: str = "none",
) -> dict[str, Any]:
    """Train ``algo`` for ``timesteps`` environment steps and save it under ``out``.

    Episodes start at a slot drawn from the environment's ``np_random`` (seeded), so the
    agent sees the whole week. Rewards are dollars × ``reward_scale`` (1e-3 keeps returns
    O(1..10) for the value function); evaluation always uses unscaled dollars. Returns the
    metadata written to ``train.json``.
    """
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO, SAC

    from aigc_opt import ENV_ID

    algo = algo.lower()
    if algo not in ALGOS:
        raise ValueError(f"--algo = {algo!r}: choose one of {', '.join(ALGOS)}")
    if timesteps < 1:
        raise ValueError(f"--timesteps = {timesteps}: must be ≥ 1")
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from aigc_opt.drl_compare.shaping import check_options, make_env

    check_options(algo, reward, shaping)
    if algo == "ippo":
        from aigc_opt.drl_compare.multiagent import train_ippo

        opts = {"scenario": scenario, "horizon": horizon, "reward_scale": reward_scale}
        return train_ippo(timesteps, out, seed=seed, reward_mode=reward, **opts)
    env, shaping_cb = make_env(
        lambda mode: gym.make(
            ENV_ID,
            scenario=scenario,
            horizon=horizon,
            reward_mode=mode,
            random_start=True,
            reward_scale=reward_scale,
        ),
        reward,
        shaping,
        seed=seed,
        out=out,
    )
    if algo == "d2sac":
        from aigc_opt.drl_compare.d2sac import train as train_d2sac

        base = {"reward": reward, "scenario": scenario, "horizon": horizon}
        return train_d2sac(
            env, timesteps, out, seed=seed, meta={**base, "reward_scale": reward_scale}
        )
    if algo == "ppo":
        n_steps = max(64, min(2048, timesteps // 4 // 64 * 64 or 64))
        model = PPO(
            "MlpPolicy", env, n_steps=n_steps, batch_size=64, seed=seed, verbose=0, device="cpu"
        )
    else:
        model = SAC(
            "MlpPolicy",
            env,
            seed=seed,
            verbose=0,
            device="cpu",
            learning_starts=min(1000, max(100, timesteps // 10)),
        )
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps, progress_bar=progress, callback=shaping_cb)
    wall = time.perf_counter() - t0
    model.save(out / "model.zip")
    meta: dict[str, Any] = {
        "algo": algo,
        "timesteps": timesteps,
        "reward": reward,
        "scenario": scenario,
        "horizon": horizon,
        "seed": seed,
        "reward_scale": reward_scale,
        "train_seconds": round(wall, 2),
        "model": str(out / "model.zip"),
        "shaping": shaping_cb.summary() if shaping_cb else "none",
    }
    if export_onnx:
        from aigc_opt.drl_compare.policies import export_sb3_onnx

        meta["onnx"] = str(export_sb3_onnx(model, out / "model.onnx"))
    from aigc_opt.solvers.store import run_metadata, write_json

    meta["versions"] = run_metadata()
    write_json(out / "train.json", meta)
    env.close()
    return meta


def load_meta(run: str | Path) -> dict[str, Any]:
    return json.loads((Path(run) / "train.json").read_text())
