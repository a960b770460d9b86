"""Reference training: a Stable-Baselines3 agent (PPO, SAC, TD3 or A2C) on the env, on CPU.

A run directory receives:

* ``model.zip`` — the SB3 model; ``vecnormalize.pkl`` — the observation/reward
  normalisation statistics (the zip loader re-applies them); ``model.onnx`` — the
  deterministic actor *with the observation normalisation inside the graph*, so the ONNX
  file alone gives the same actions as zip + statistics;
* ``train.json`` — algorithm, hyper-parameters, seeds, environment options, timesteps,
  wall time and package versions (``compare`` reads the algorithm and env options);
* ``monitor.csv`` — one line per training episode (return, length, episode utility in $);
* ``checkpoints/`` — the model and statistics every ``checkpoint_every`` steps;
* ``tensorboard/`` — SB3's TensorBoard scalars (losses, ``rollout/ep_rew_mean``…) and,
  with the learning curve, ``eval/gap_to_bound_pct`` and ``eval/utility_usd``
  (``tensorboard --logdir RUN/tensorboard``; written when ``tensorboard`` is installed —
  the ``rl`` extra installs it);
* ``learning_curve.csv`` / ``learning_curve.png`` — every ``eval_every`` steps the
  deterministic policy plays the validation episodes (`aigc_opt.drl_compare.splits`)
  through `run_episode`; the mean gap to the oracle's certified bound (bounds solved
  once per start and cached) is logged.

Training episodes start at random slots of the ``train`` split. Rewards are dollars ×
``reward_scale`` and then normalised by VecNormalize; evaluation is always in dollars.
Defaults (`DEFAULTS`) were chosen for 24-slot episodes. PPO's were chosen on the
validation split of `default` (docs/drl.md, "Measured"): a short discount (γ = 0.5,
λ = 0.9) because a slot's decisions pay mostly within the slot and a long return sums
the noise of every later action over ~80 action entries; 2,048-step rollouts for the same
reason; an initial action noise (log σ = −1.0) that crosses the decoder's dead band
often enough to find what the heuristic misses, while the mean starts at the zero
action — the heuristic in residual mode. SAC, TD3 and A2C use the same short discount;
SAC's and TD3's actors start at the zero action too (``zero_action_start``: a zeroed
output layer, `start_at_zero_action`), and A2C takes small steps (learning rate 1e-4).
With these settings they no longer leave the heuristic for corner actions, but none beats
it at the budgets measured (docs/drl.md, "Measured").
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ALGOS = ("ppo", "sac", "td3", "a2c", "d2sac", "ippo")
#: algorithms trained by this module's own loops rather than Stable-Baselines3
#: (d2sac: drl_compare/d2sac.py; ippo: drl_compare/multiagent.py)

#: hyper-parameters per algorithm (SB3 keyword arguments); ``--hp KEY=VALUE`` or a TOML
#: table overrides them.
DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {
        "learning_rate": 3e-4,
        "n_steps": 2048,
        "batch_size": 256,
        "n_epochs": 10,
        "gamma": 0.5,
        "gae_lambda": 0.9,
        "clip_range": 0.2,
        "ent_coef": 0.0,
        "policy_kwargs": {"net_arch": [128, 128], "log_std_init": -1.0},
    },
    "a2c": {
        "learning_rate": 1e-4,
        "n_steps": 24,
        "gamma": 0.5,
        "gae_lambda": 0.9,
        "policy_kwargs": {"net_arch": [128, 128], "log_std_init": -1.5},
    },
    "sac": {
        "learning_rate": 3e-4,
        "buffer_size": 100_000,
        "learning_starts": 1_000,
        "batch_size": 256,
        "tau": 0.005,
        "gamma": 0.5,
        "zero_action_start": True,
        "policy_kwargs": {"net_arch": [256, 256], "log_std_init": -1.0},
    },
    "td3": {
        "learning_rate": 1e-3,
        "buffer_size": 100_000,
        "learning_starts": 1_000,
        "batch_size": 256,
        "gamma": 0.5,
        "action_noise_sigma": 0.1,
        "zero_action_start": True,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
}


#: environment steps when ``--timesteps`` is not given (PPO: about 6 min of CPU on `default`)
DEFAULT_TIMESTEPS = {"ppo": 300_000}
OTHER_TIMESTEPS = 100_000


def default_timesteps(algo: str) -> int:
    """The training budget of ``algo`` when none is given (`DEFAULT_TIMESTEPS`)."""
    return DEFAULT_TIMESTEPS.get(algo.lower(), OTHER_TIMESTEPS)


def check_run_dir(out: str | Path) -> Path:
    """``out`` as a path for a new run: ValueError when it already holds files."""
    path = Path(out)
    if path.exists() and any(path.iterdir()):
        raise ValueError(f"--out {path}: the directory holds another run; choose a new one")
    return path


def unique_run_dir(out: str | Path) -> Path:
    """``out`` itself when absent or empty, else ``out-2``, ``out-3``… (never overwrite)."""
    base = Path(out)
    path, i = base, 2
    while path.exists() and any(path.iterdir()):
        path, i = base.with_name(f"{base.name}-{i}"), i + 1
    return path


def train(
    algo: str,
    timesteps: int,
    out: str | Path,
    *,
    scenario: str = "default",
    horizon: int = 24,
    seed: int = 0,
    n_envs: int = 1,
    env_options: dict[str, Any] | None = None,
    hyper: dict[str, Any] | None = None,
    reward_scale: float = 1e-3,
    eval_every: int = 0,
    eval_episodes: int = 3,
    checkpoint_every: int = 0,
    export_onnx: bool = True,
    log: Any = None,
    shaping: str = "none",
) -> dict[str, Any]:
    """Train ``algo`` for ``timesteps`` env steps into the new run directory ``out``
    (refused when it holds files). Returns the metadata written to ``train.json``.

    ``shaping`` (``diffusion`` or ``rrd``, with a sparse or ``delayed:k`` reward mode)
    wraps the environment in the learned reward shaping of drl_compare/shaping.py; it
    needs one environment copy, and the reward is then not normalised (the shaping
    callback relabels the learner's buffer with raw rewards)."""
    from aigc_opt.drl_compare.policies import require_rl

    require_rl("aigc-opt train", ("torch", "stable_baselines3", "onnx"))
    import torch
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

    from aigc_opt.drl_compare.env import AIGCDataCenterEnv

    algo = algo.lower()
    if algo not in ALGOS:
        raise ValueError(f"--algo = {algo!r}: choose one of {', '.join(ALGOS)}")
    if timesteps < 1 or n_envs < 1:
        raise ValueError("--timesteps and --n-envs must be ≥ 1")
    out = check_run_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    log = log or sys.stderr
    opts = {"action_mode": "residual", "reward_mode": "dense", **(env_options or {})}
    opts.setdefault("split", "train")
    from aigc_opt.drl_compare.shaping import check_options, make_env

    reward = str(opts["reward_mode"])
    check_options(algo, reward, shaping)
    if algo == "ippo":
        from aigc_opt.drl_compare.multiagent import train_ippo

        return train_ippo(
            timesteps, out, seed=seed, reward_mode=reward, scenario=scenario, horizon=horizon,
            reward_scale=reward_scale, action_mode=opts["action_mode"], split=opts["split"],
            eval_every=eval_every, eval_episodes=eval_episodes, log=log,
        )  # fmt: skip

    def base_env(mode: str) -> AIGCDataCenterEnv:
        kw = {**opts, "reward_mode": mode}
        return AIGCDataCenterEnv(
            scenario, horizon=horizon, random_start=True, reward_scale=reward_scale, **kw
        )

    shaping_cb = None
    if algo == "d2sac" or shaping != "none":
        if n_envs != 1:
            raise ValueError(f"--n-envs {n_envs}: {algo} and --shaping train on one env copy")
        env, shaping_cb = make_env(base_env, reward, shaping, seed=seed, out=out)
        if algo == "d2sac":
            from aigc_opt.drl_compare.d2sac import train as train_d2sac

            d2_meta = {"reward": reward, "scenario": scenario, "horizon": horizon,
                       "reward_scale": reward_scale, "env": opts}  # fmt: skip
            from aigc_opt.drl_compare.callbacks import ValidationGap

            curve = ValidationGap(scenario, horizon, opts, eval_episodes, seed, log)
            return train_d2sac(env, timesteps, out, seed=seed, meta=d2_meta, curve=curve,
                               eval_every=eval_every, **(hyper or {}))  # fmt: skip
        makers = [lambda: env]
    else:
        makers = [lambda: base_env(reward) for _ in range(n_envs)]
    hp = json.loads(json.dumps(DEFAULTS[algo]))  # deep copy
    for k, v in (hyper or {}).items():
        hp[k] = v
    venv = VecMonitor(
        DummyVecEnv(makers),
        filename=str(out / "monitor.csv"),
        info_keywords=("episode_utility",),
    )
    norm_reward = shaping_cb is None
    venv = VecNormalize(venv, norm_obs=True, norm_reward=norm_reward, gamma=hp.get("gamma", 0.99))
    import importlib.util

    tb_dir = out / "tensorboard" if importlib.util.find_spec("tensorboard") else None
    model = _make_model(algo, venv, hp, seed, tb_dir)
    from aigc_opt.drl_compare.callbacks import GapCurve, Progress

    callbacks: list[Any] = [Progress(timesteps, log)]
    if shaping_cb is not None:
        callbacks.append(shaping_cb)
    if checkpoint_every > 0:
        callbacks.append(
            CheckpointCallback(
                max(1, checkpoint_every // n_envs),
                str(out / "checkpoints"),
                name_prefix="model",
                save_vecnormalize=True,
            )
        )
    curve = None
    if eval_every > 0:
        curve = GapCurve(scenario, horizon, opts, eval_every, eval_episodes, seed, log)
        callbacks.append(curve)
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=CallbackList(callbacks), tb_log_name=algo)
    wall = time.perf_counter() - t0
    model.save(out / "model.zip")
    venv.save(str(out / "vecnormalize.pkl"))
    meta: dict[str, Any] = {
        "algo": algo,
        "timesteps": timesteps,
        "scenario": scenario,
        "horizon": horizon,
        "seed": seed,
        "n_envs": n_envs,
        "reward_scale": reward_scale,
        "vecnormalize": {"norm_obs": True, "norm_reward": norm_reward, "clip_obs": venv.clip_obs},
        "shaping": shaping_cb.summary() if shaping_cb is not None else "none",
        "hyperparameters": hp,
        "env": {**opts, "horizon": horizon, "random_start": True},
        "train_seconds": round(wall, 2),
        "tensorboard": None if tb_dir is None else str(tb_dir),
        "model": str(out / "model.zip"),
    }
    if curve is not None:
        meta["learning_curve"] = curve.write(out)
    if export_onnx:
        from aigc_opt.drl_compare.policies import export_sb3_onnx

        meta["onnx"] = str(export_sb3_onnx(model, out / "model.onnx", venv))
        meta["onnx_includes_vecnormalize"] = True
    meta["versions"] = _versions()
    from aigc_opt.solvers.store import write_json

    write_json(out / "train.json", meta)
    venv.close()
    return meta


def _make_model(algo: str, venv: Any, hp: dict[str, Any], seed: int, tb_dir: Path | None) -> Any:
    import numpy as np
    from stable_baselines3 import A2C, PPO, SAC, TD3

    kw = dict(hp)
    if algo == "td3":
        from stable_baselines3.common.noise import NormalActionNoise

        sigma = float(kw.pop("action_noise_sigma", 0.1))
        n = venv.action_space.shape[0]
        kw["action_noise"] = NormalActionNoise(np.zeros(n), sigma * np.ones(n))
    zero_start = bool(kw.pop("zero_action_start", False))
    cls = {"ppo": PPO, "a2c": A2C, "sac": SAC, "td3": TD3}[algo]
    tb = None if tb_dir is None else str(tb_dir)
    model = cls("MlpPolicy", venv, seed=seed, verbose=0, device="cpu", tensorboard_log=tb, **kw)
    if zero_start:
        start_at_zero_action(model)
    return model


def start_at_zero_action(model: Any) -> None:
    """Zero the output layer of a SAC or TD3 actor (and TD3's target actor), so its
    deterministic action starts at 0 — in residual mode the heuristic's decision — as
    PPO's Gaussian mean does; the layers below keep their random initialisation, so the
    output layer's gradient is not zero. SAC's log σ layer is zeroed too, with bias
    ``log_std_init`` (σ = e^−1 ≈ 0.37 unless set)."""
    import torch

    actor = model.actor
    with torch.no_grad():
        if hasattr(actor, "log_std") and isinstance(actor.mu, torch.nn.Linear):  # SAC
            actor.mu.weight.zero_()
            actor.mu.bias.zero_()
            actor.log_std.weight.zero_()
            actor.log_std.bias.fill_(getattr(actor, "log_std_init", -1.0))
        else:  # TD3: Sequential(..., Linear, Tanh)
            last = [m for m in actor.mu if isinstance(m, torch.nn.Linear)][-1]
            last.weight.zero_()
            last.bias.zero_()
            model.actor_target.load_state_dict(actor.state_dict())


def _versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    from aigc_opt.solvers.store import run_metadata

    out = dict(run_metadata())
    for pkg in ("torch", "stable-baselines3", "gymnasium", "onnx", "onnxruntime"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    out["python"] = sys.version.split()[0]
    return out


def load_meta(run: str | Path) -> dict[str, Any]:
    return json.loads((Path(run) / "train.json").read_text())
