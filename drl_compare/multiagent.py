"""Multi-agent view of the environment: a PettingZoo ``ParallelEnv`` over the same decoder.

`parallel_env(**env_options)` builds `AIGCParallelEnv` around one `AIGCDataCenterEnv`
(``env_options`` are its keyword arguments). Agents:

* ``asp_<a>`` for each AIGC service provider a: the routing entries of the jobs it
  originates, their serve fractions, and the step levels of its own pool (GPUs follow the
  simulator's default, as in the single-agent env).
  Local observation: time features, price / carbon / renewables of its data center, its
  own pending jobs (class × age), its data center's state of charge and generator status,
  and (if the env has them) forecasts of its data center's price, carbon and renewables and
  of its own arrivals.
* ``dc_<d>`` for each data center d: battery and generator. Local observation: time
  features, price / carbon / renewables of d, the pending jobs of the ASPs hosted at d,
  state of charge, generator status and forecasts of d's price, carbon and renewables.

Each agent's action and observation is a fixed set of entries of the flat vectors. The
action entries come from the env's own `split_action` (applied to the index vector), so
the joint action is exactly a flat action of the single-agent env and goes through the
same decoder and simulator: every team utility is bounded by the oracle's bound. The
observation entries follow the env's documented observation layout (checked against its
length). All agents receive the shared team reward (the env's reward, whatever its
``reward_mode``); no per-agent split is made.

`JointPolicy` combines per-agent policies (local observation → local action) into one
flat observation → flat action callable, which `compare` runs like any policy.
`train_ippo` trains the shared-parameter independent PPO baseline (one SB3 PPO network
for every agent, local observations zero-padded to a common length plus a one-hot agent
id) and exports the combined deterministic policy to ONNX for `compare --policy`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from aigc_opt.drl_compare.env import AIGCDataCenterEnv

#: the action parts of `AIGCDataCenterEnv.split_action` this module knows how to assign
KNOWN_PARTS = ("route", "level", "serve", "battery", "generator")


@dataclass
class Layout:
    """Which entries of the flat observation / action each agent owns."""

    agents: list[str]
    obs_idx: dict[str, np.ndarray]
    act_idx: dict[str, np.ndarray]
    obs_dim: int
    act_dim: int

    def split(self, flat_action: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(flat_action, dtype=np.float32).ravel()
        return {ag: a[self.act_idx[ag]] for ag in self.agents}

    def join(self, actions: dict[str, Any]) -> np.ndarray:
        """Flat action from per-agent actions (a missing agent acts with zeros)."""
        flat = np.zeros(self.act_dim, dtype=np.float32)
        for ag, act in actions.items():
            flat[self.act_idx[ag]] = np.asarray(act, dtype=np.float32).ravel()
        return flat

    def local(self, flat_obs: np.ndarray) -> dict[str, np.ndarray]:
        o = np.asarray(flat_obs, dtype=np.float32).ravel()
        return {ag: o[self.obs_idx[ag]] for ag in self.agents}


def layout(env: AIGCDataCenterEnv) -> Layout:
    """The agents of ``env`` and the flat entries each one observes and controls."""
    A, K, D, W = env.A, env.K, env.D, env.W
    F = env.forecast_slots
    n_act = int(env.action_space.shape[0])
    lay = env.layout  # the decoder's index tables: which (a, k, b) / (b, k) / d each entry is
    unknown = sorted(set(lay.slices) - set(KNOWN_PARTS))
    if unknown:
        raise ValueError(f"action part {unknown[0]!r} has no owner in the multi-agent view")

    def entries(part: str) -> np.ndarray:
        sl = lay.slices[part]
        return np.arange(sl.start, sl.stop)

    # owner of each entry: route (a, k, b) and serve (a, k) → origin ASP a; level (b, k) →
    # the ASP b whose pool it is; battery and generator → their data center
    asp_entries = {
        a: np.concatenate(
            [
                entries("route")[lay.route_idx[0] == a],
                entries("serve")[lay.serve_idx[0] == a],
                entries("level")[lay.level_idx[0] == a],
            ]
        )
        for a in range(A)
    }
    dc_entries = {
        d: np.concatenate(
            [entries("battery")[lay.battery_idx == d], entries("generator")[lay.generator_idx == d]]
        )
        for d in range(D)
    }
    # observation layout of the env's module doc
    o = 3
    price, carbon, renew = (np.arange(o + i * D, o + (i + 1) * D) for i in range(3))
    o += 3 * D
    pending = np.arange(o, o + A * K * (W + 1)).reshape(A, K * (W + 1))
    o += A * K * (W + 1)
    soc, gen = np.arange(o, o + D), np.arange(o + D, o + 2 * D)
    o += 2 * D
    # forecasts: F rows of (price, carbon, renewables of every DC, arrivals of every (a, k))
    fc_dim = 3 * D + A * K
    fc = np.arange(o, o + F * fc_dim).reshape(F, fc_dim)
    o += F * fc_dim

    def dc_fc(d: int) -> np.ndarray:
        return fc[:, [d, D + d, 2 * D + d]].ravel()

    def asp_fc(a: int, d: int) -> np.ndarray:
        own = fc[:, 3 * D + a * K : 3 * D + (a + 1) * K]
        return np.concatenate([dc_fc(d), own.ravel()])

    n_obs = int(env.observation_space.shape[0])
    if o != n_obs:
        raise ValueError(f"observation layout has {o} entries, the env {n_obs}")
    time_idx = np.arange(3)
    dc_of = np.asarray(env.full.dc_of_asp)

    def dc_obs(d: int) -> list[np.ndarray]:
        return [time_idx, price[[d]], carbon[[d]], renew[[d]]]

    obs_idx: dict[str, np.ndarray] = {}
    act_idx: dict[str, np.ndarray] = {}
    for a in range(A):
        d = int(dc_of[a])
        name = f"asp_{a}"
        obs_idx[name] = np.concatenate([*dc_obs(d), pending[a], soc[[d]], gen[[d]], asp_fc(a, d)])
        act_idx[name] = asp_entries[a]
    for d in range(D):
        name = f"dc_{d}"
        hosted = pending[dc_of == d].ravel()
        obs_idx[name] = np.concatenate([*dc_obs(d), hosted, soc[[d]], gen[[d]], dc_fc(d)])
        act_idx[name] = dc_entries[d]
    owned = np.sort(np.concatenate(list(act_idx.values())))
    if not np.array_equal(owned, np.arange(n_act)):
        raise ValueError("the agents' action entries do not cover the flat action exactly once")
    return Layout(list(obs_idx), obs_idx, act_idx, n_obs, n_act)


class AIGCParallelEnv(ParallelEnv):
    """PettingZoo parallel API over `AIGCDataCenterEnv` (see the module doc)."""

    metadata = {"name": "aigc_opt_parallel_v0", "render_modes": []}
    render_mode = None

    def __init__(self, **env_options: Any):
        self.env = AIGCDataCenterEnv(**env_options)
        self.layout = layout(self.env)
        self.possible_agents = list(self.layout.agents)
        self.agents: list[str] = []
        self._obs_spaces = {
            ag: spaces.Box(-np.inf, np.inf, shape=(len(ix),), dtype=np.float32)
            for ag, ix in self.layout.obs_idx.items()
        }
        self._act_spaces = {
            ag: spaces.Box(-1.0, 1.0, shape=(len(ix),), dtype=np.float32)
            for ag, ix in self.layout.act_idx.items()
        }
        self.state_space = self.env.observation_space
        self._flat = np.zeros(self.layout.obs_dim, dtype=np.float32)

    @functools.cache  # noqa: B019 - spaces must be the same objects
    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_spaces[agent]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Box:
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        self._flat, info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return self.layout.local(self._flat), {ag: dict(info) for ag in self.agents}

    def step(self, actions: dict[str, Any]):
        flat, r, term, trunc, info = self.env.step(self.layout.join(actions))
        self._flat = flat
        agents = list(self.agents)
        obs = self.layout.local(flat)
        rew = {ag: float(r) for ag in agents}
        terms = {ag: bool(term) for ag in agents}
        truncs = {ag: bool(trunc) for ag in agents}
        infos: dict[str, dict[str, Any]] = {ag: {} for ag in agents}
        if term or trunc:
            self.agents = []
        return {ag: obs[ag] for ag in agents}, rew, terms, truncs, infos

    def state(self) -> np.ndarray:
        """The flat observation of the single-agent env (for centralised critics)."""
        return self._flat

    def close(self) -> None:
        self.env.close()


def parallel_env(**env_options: Any) -> AIGCParallelEnv:
    """The multi-agent environment (``env_options``: `AIGCDataCenterEnv` arguments)."""
    return AIGCParallelEnv(**env_options)


class JointPolicy:
    """Per-agent policies (local observation → local action) as one flat policy."""

    def __init__(self, lay: Layout, policies: dict[str, Callable[[np.ndarray], Any]]):
        missing = [ag for ag in lay.agents if ag not in policies]
        if missing:
            raise ValueError(f"no policy for agent {missing[0]!r}")
        self.layout, self.policies = lay, policies

    def __call__(self, flat_obs: np.ndarray) -> np.ndarray:
        local = self.layout.local(flat_obs)
        return self.layout.join({ag: self.policies[ag](local[ag]) for ag in self.layout.agents})


# ---------------------------------------------------------------------------------------
# shared-parameter independent PPO
# ---------------------------------------------------------------------------------------
def _padded(lay: Layout) -> tuple[int, int]:
    n = len(lay.agents)
    return max(len(v) for v in lay.obs_idx.values()) + n, max(len(v) for v in lay.act_idx.values())


def _make_agents_vec_env(penv: AIGCParallelEnv) -> Any:
    """The agents of one parallel env as the ``num_envs`` of an SB3 VecEnv (shared
    parameters): observation = local observation zero-padded + one-hot agent id; the
    action's first entries are the agent's own."""
    from stable_baselines3.common.vec_env import VecEnv

    lay = penv.layout
    n = len(lay.agents)
    n_obs, n_act = _padded(lay)

    class AgentsVecEnv(VecEnv):
        def __init__(self) -> None:
            super().__init__(
                n,
                spaces.Box(-np.inf, np.inf, (n_obs,), np.float32),
                spaces.Box(-1.0, 1.0, (n_act,), np.float32),
            )
            self._actions: np.ndarray | None = None
            self._seed: int | None = None

        def pad(self, local: dict[str, np.ndarray]) -> np.ndarray:
            out = np.zeros((n, n_obs), dtype=np.float32)
            for i, ag in enumerate(lay.agents):
                out[i, : len(local[ag])] = local[ag]
                out[i, n_obs - n + i] = 1.0
            return out

        def reset(self) -> np.ndarray:
            obs, _ = penv.reset(seed=self._seed)
            self._seed = None
            return self.pad(obs)

        def seed(self, seed: int | None = None) -> list[int | None]:
            self._seed = seed
            return [seed] * n

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions)

        def step_wait(self) -> Any:
            acts = {
                ag: self._actions[i, : len(lay.act_idx[ag])]  # type: ignore[index]
                for i, ag in enumerate(lay.agents)
            }
            obs, rew, term, trunc, _ = penv.step(acts)
            done = any(term.values()) or any(trunc.values())
            o = self.pad(obs)
            infos: list[dict[str, Any]] = [{} for _ in range(n)]
            if done:
                for i in range(n):
                    infos[i]["terminal_observation"] = o[i]
                    infos[i]["TimeLimit.truncated"] = False
                o = self.reset()
            r = np.array([rew[ag] for ag in lay.agents], dtype=np.float32)
            return o, r, np.full(n, done), infos

        def close(self) -> None:
            penv.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(penv, attr_name)] * n

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(penv, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kw: Any):
            return [getattr(penv, method_name)(*args, **kw)] * n

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * n

    return AgentsVecEnv()


def ippo_joint_policy(model: Any, lay: Layout) -> JointPolicy:
    """The deterministic joint policy of a shared-parameter PPO model."""
    n = len(lay.agents)
    n_obs, n_act = _padded(lay)

    def agent_fn(i: int, ag: str) -> Callable[[np.ndarray], np.ndarray]:
        def fn(local: np.ndarray) -> np.ndarray:
            x = np.zeros(n_obs, dtype=np.float32)
            x[: len(local)] = local
            x[n_obs - n + i] = 1.0
            a, _ = model.predict(x, deterministic=True)
            return np.asarray(a)[: len(lay.act_idx[ag])]

        return fn

    return JointPolicy(lay, {ag: agent_fn(i, ag) for i, ag in enumerate(lay.agents)})


def export_ippo_onnx(model: Any, lay: Layout, path: Path) -> Path:
    """The combined deterministic policy (flat observation → flat action) as ONNX: gather
    each agent's padded local observation, run the shared actor on the agents' batch,
    scatter the agents' actions into the flat action."""
    import torch

    n = len(lay.agents)
    n_obs, n_act = _padded(lay)
    gather = np.zeros((n, n_obs), dtype=np.int64)
    mask = np.zeros((n, n_obs), dtype=np.float32)
    perm = np.zeros(lay.act_dim, dtype=np.int64)
    for i, ag in enumerate(lay.agents):
        ix = lay.obs_idx[ag]
        gather[i, : len(ix)] = ix
        mask[i, : len(ix)] = 1.0
        perm[lay.act_idx[ag]] = i * n_act + np.arange(len(lay.act_idx[ag]))
    onehot = np.zeros((n, n_obs), dtype=np.float32)
    onehot[np.arange(n), n_obs - n + np.arange(n)] = 1.0

    class Joint(torch.nn.Module):
        def __init__(self, policy: Any):
            super().__init__()
            self.policy = policy
            self.register_buffer("gather", torch.as_tensor(gather))
            self.register_buffer("mask", torch.as_tensor(mask))
            self.register_buffer("onehot", torch.as_tensor(onehot))
            self.register_buffer("perm", torch.as_tensor(perm))

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            x = obs[0][self.gather] * self.mask + self.onehot
            acts = self.policy._predict(x, deterministic=True)
            return acts.reshape(-1)[self.perm].unsqueeze(0)

    joint = Joint(model.policy).eval()
    torch.onnx.export(
        joint,
        (torch.zeros((1, lay.obs_dim), dtype=torch.float32),),
        str(path),
        input_names=["obs"],
        output_names=["action"],
        opset_version=17,
        dynamo=False,
    )
    return path


def train_ippo(
    timesteps: int,
    out: str | Path,
    *,
    seed: int = 0,
    n_steps: int = 64,
    eval_every: int = 0,
    eval_episodes: int = 3,
    log: Any = None,
    **env_options: Any,
) -> dict[str, Any]:
    """Shared-parameter independent PPO for ``timesteps`` agent-steps (each env step is
    one step per agent) on the ``train`` split's episodes (unless ``split`` is given);
    writes ``model.zip``, ``model.onnx`` (the combined policy) and ``train.json``, and
    returns the latter's content. With ``eval_every`` > 0 the combined deterministic
    policy plays the validation episodes every ``eval_every`` agent-steps
    (``learning_curve.csv``, `aigc_opt.drl_compare.callbacks.GapCurve`)."""
    import sys

    import torch
    from stable_baselines3 import PPO

    from aigc_opt.drl_compare.callbacks import GapCurve, Progress

    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = log or sys.stderr
    env_options.setdefault("random_start", True)
    env_options.setdefault("split", "train")
    penv = parallel_env(**env_options)
    venv = _make_agents_vec_env(penv)
    venv.seed(seed)
    batch = max(1, n_steps * venv.num_envs // 4)
    model = PPO(
        "MlpPolicy", venv, n_steps=n_steps, batch_size=batch, seed=seed, verbose=0, device="cpu"
    )
    callbacks: list[Any] = [Progress(timesteps, log)]
    curve = None
    if eval_every > 0:
        shape = {k: v for k, v in env_options.items() if k in ("action_mode", "forecast",
                                                                "forecast_slots")}  # fmt: skip
        curve = GapCurve(
            env_options.get("scenario", "default"), penv.env.horizon, shape, eval_every,
            eval_episodes, seed, log, policy_of=lambda m: ippo_joint_policy(m, penv.layout),
        )  # fmt: skip
        callbacks.append(curve)
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=callbacks)
    wall = time.perf_counter() - t0
    model.save(out / "model.zip")
    onnx = export_ippo_onnx(model, penv.layout, out / "model.onnx")
    from aigc_opt.solvers.store import run_metadata, write_json

    plain = {k: v for k, v in env_options.items() if isinstance(v, str | int | float)}
    meta = {
        "algo": "ippo",
        "timesteps": timesteps,
        "agents": penv.possible_agents,
        "seed": seed,
        "env_options": plain,
        "env": plain,
        "train_seconds": round(wall, 2),
        "model": str(onnx),
        "onnx": str(onnx),
        "versions": run_metadata(),
    }
    if curve is not None:
        meta["learning_curve"] = curve.write(out)
    write_json(out / "train.json", meta)
    return meta
