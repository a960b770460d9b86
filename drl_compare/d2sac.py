"""d2sac: a diffusion-policy actor trained with a soft actor-critic objective (own loop).

The actor samples an action by K denoising steps conditioned on the observation (the
D2SAC / AGOD family of the seed papers, here for the env's continuous Box action):

* a noise-prediction MLP ε_θ(y_n, n, o) and the variance-preserving schedule of
  Diffusion-QL for small K (β_n = 1 − exp(−b_min/K − (b_max−b_min)(2n−1)/(2K²)),
  b_min = 0.1, b_max = 10); the reverse chain starts at y_K ~ N(0, I), takes DDPM steps
  and clips the predicted y_0 to [−c, c] at each step, c = 3; its output is μ(o);
* the action is tanh(μ(o) + σ·ξ), ξ ~ N(0, I), with a learned state-independent log σ.
  log π(a | o, μ) is the squashed-Gaussian density given the chain's output; the chain's
  own randomness is not in it, so the entropy term is a lower bound on the policy's
  entropy (H(a) ≥ H(a | μ));
* twin Q critics with target networks (Polyak τ), SAC losses, temperature α tuned to a
  target entropy of −|A|; the actor loss E[α log π − min Q] is back-propagated through
  all K denoising steps.

Deterministic action (evaluation, export): the chain started at y_K = 0 with no injected
noise, then tanh. `export_onnx` writes that map; ``compare --policy run/model.onnx``
loads it without ``--trust``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS: dict[str, Any] = {
    "denoise_steps": 5,
    "hidden": 128,
    "lr": 3e-4,
    "gamma": 0.99,
    "tau": 0.005,
    "batch_size": 128,
    "buffer_size": 100_000,
    "learning_starts": None,  # None: min(1000, max(100, timesteps // 10))
    "init_log_std": -1.0,
    "clip_y0": 3.0,
}


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.Mish(), nn.Linear(hidden, hidden), nn.Mish(),
        nn.Linear(hidden, n_out),
    )  # fmt: skip


class DiffusionActor(nn.Module):
    """K-step denoising actor (see module doc)."""

    def __init__(self, obs_dim: int, act_dim: int, *, denoise_steps: int = 5, hidden: int = 128,
                 init_log_std: float = -1.0, clip_y0: float = 3.0):  # fmt: skip
        super().__init__()
        K = int(denoise_steps)
        if K < 1:
            raise ValueError(f"denoise_steps = {K}: must be ≥ 1")
        self.K, self.act_dim, self.clip_y0 = K, act_dim, float(clip_y0)
        i = np.arange(1, K + 1)
        betas = 1 - np.exp(-0.1 / K - 0.5 * (10.0 - 0.1) * (2 * i - 1) / K**2)
        alphas = 1 - betas
        abar = np.cumprod(alphas)
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        f32 = torch.float32
        self.register_buffer("sqrt_abar", torch.as_tensor(np.sqrt(abar), dtype=f32))
        self.register_buffer("sqrt_1m_abar", torch.as_tensor(np.sqrt(1 - abar), dtype=f32))
        # posterior q(y_{n-1} | y_n, y_0) coefficients and standard deviation
        self.register_buffer(
            "c0", torch.as_tensor(betas * np.sqrt(abar_prev) / (1 - abar), dtype=f32)
        )
        self.register_buffer(
            "cn", torch.as_tensor((1 - abar_prev) * np.sqrt(alphas) / (1 - abar), dtype=f32)
        )
        self.register_buffer(
            "sigma", torch.as_tensor(np.sqrt(betas * (1 - abar_prev) / (1 - abar)), dtype=f32)
        )
        self.eps = _mlp(act_dim + 16 + obs_dim, hidden, act_dim)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def _emb(self, n: int, batch: int) -> torch.Tensor:
        f = torch.exp(-np.log(100.0) * torch.arange(8, dtype=torch.float32) / 8)
        a = float(n) * f
        return torch.cat([torch.sin(a), torch.cos(a)]).expand(batch, 16)

    def mean(self, obs: torch.Tensor, stochastic: bool) -> torch.Tensor:
        """μ(o): the reverse chain from y_K (N(0, I) if ``stochastic``, else 0)."""
        b = obs.shape[0]
        y = torch.randn(b, self.act_dim) if stochastic else torch.zeros(b, self.act_dim)
        for n in range(self.K, 0, -1):
            j = n - 1
            eps = self.eps(torch.cat([y, self._emb(n, b), obs], dim=1))
            y0 = ((y - self.sqrt_1m_abar[j] * eps) / self.sqrt_abar[j]).clamp(
                -self.clip_y0, self.clip_y0
            )
            y = self.c0[j] * y0 + self.cn[j] * y
            if stochastic and n > 1:
                y = y + self.sigma[j] * torch.randn_like(y)
        return y

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(action, log π(action | o, μ)) with the reparameterised squashed Gaussian."""
        mu = self.mean(obs, stochastic=True)
        std = self.log_std.clamp(-5.0, 1.0).exp().expand_as(mu)
        u = mu + std * torch.randn_like(mu)
        a = torch.tanh(u)
        logp = torch.distributions.Normal(mu, std).log_prob(u).sum(dim=1)
        logp = logp - (2 * (np.log(2.0) - u - F.softplus(-2 * u))).sum(dim=1)
        return a, logp

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action in [−1, 1] (the exported map)."""
        return torch.tanh(self.mean(obs, stochastic=False))


class Critic(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: int):
        super().__init__()
        self.q1 = _mlp(obs_dim + act_dim, hidden, 1)
        self.q2 = _mlp(obs_dim + act_dim, hidden, 1)

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, act], dim=1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


class D2SAC:
    """The learner: actor, critics, temperature and a replay buffer (numpy)."""

    def __init__(self, obs_dim: int, act_dim: int, *, seed: int = 0, **hp: Any):
        unknown = sorted(set(hp) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"d2sac: unknown hyper-parameter {unknown[0]!r}")
        self.hp = {**DEFAULTS, **hp}
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        h = self.hp
        self.actor = DiffusionActor(
            obs_dim, act_dim, denoise_steps=h["denoise_steps"], hidden=h["hidden"],
            init_log_std=h["init_log_std"], clip_y0=h["clip_y0"],
        )  # fmt: skip
        self.critic = Critic(obs_dim, act_dim, h["hidden"])
        self.target = Critic(obs_dim, act_dim, h["hidden"])
        self.target.load_state_dict(self.critic.state_dict())
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.opt_actor = torch.optim.Adam(self.actor.parameters(), lr=h["lr"])
        self.opt_critic = torch.optim.Adam(self.critic.parameters(), lr=h["lr"])
        self.opt_alpha = torch.optim.Adam([self.log_alpha], lr=h["lr"])
        n = int(h["buffer_size"])
        self.buf = {
            "o": np.zeros((n, obs_dim), np.float32),
            "a": np.zeros((n, act_dim), np.float32),
            "r": np.zeros(n, np.float32),
            "o2": np.zeros((n, obs_dim), np.float32),
            "d": np.zeros(n, np.float32),
        }
        self.size, self.pos = 0, 0

    def store(self, o: np.ndarray, a: np.ndarray, r: float, o2: np.ndarray, d: bool) -> None:
        i = self.pos
        for k, v in zip(("o", "a", "r", "o2", "d"), (o, a, r, o2, float(d)), strict=True):
            self.buf[k][i] = v
        self.pos = (i + 1) % len(self.buf["r"])
        self.size = min(self.size + 1, len(self.buf["r"]))

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        with torch.no_grad():
            o = torch.as_tensor(np.asarray(obs, np.float32)[None])
            a = self.actor(o) if deterministic else self.actor.sample(o)[0]
        return a[0].numpy()

    def update(self) -> dict[str, float]:
        """One gradient step of the critics, the actor and α on a replay batch."""
        h = self.hp
        idx = self.rng.integers(0, self.size, size=min(h["batch_size"], self.size))
        o, a, r, o2, d = (torch.as_tensor(self.buf[k][idx]) for k in ("o", "a", "r", "o2", "d"))
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            a2, logp2 = self.actor.sample(o2)
            q1t, q2t = self.target(o2, a2)
            y = r + h["gamma"] * (1 - d) * (torch.min(q1t, q2t) - alpha * logp2)
        q1, q2 = self.critic(o, a)
        loss_q = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        self.opt_critic.zero_grad()
        loss_q.backward()
        self.opt_critic.step()
        a_new, logp = self.actor.sample(o)
        q1n, q2n = self.critic(o, a_new)
        loss_pi = (alpha * logp - torch.min(q1n, q2n)).mean()
        self.opt_actor.zero_grad()
        loss_pi.backward()
        self.opt_actor.step()
        loss_alpha = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.opt_alpha.zero_grad()
        loss_alpha.backward()
        self.opt_alpha.step()
        with torch.no_grad():
            for p, pt in zip(self.critic.parameters(), self.target.parameters(), strict=True):
                pt.mul_(1 - h["tau"]).add_(h["tau"] * p)
        return {"loss_q": loss_q.item(), "loss_pi": loss_pi.item(), "alpha": alpha.item()}


def export_onnx(actor: DiffusionActor, obs_dim: int, path: Path) -> Path:
    """The deterministic actor (observation batch → action batch in [−1, 1]) as ONNX."""
    actor = actor.eval()
    torch.onnx.export(
        actor,
        (torch.zeros((1, obs_dim), dtype=torch.float32),),
        str(path),
        input_names=["obs"],
        output_names=["action"],
        dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return path


def learn(
    env: Any,
    timesteps: int,
    *,
    seed: int = 0,
    on_step: Callable[[int, D2SAC], None] | None = None,
    **hp: Any,
) -> tuple[D2SAC, dict[str, Any]]:
    """Train d2sac on ``env`` for ``timesteps`` env steps: ``learning_starts`` uniform
    random actions, then one update per step. ``on_step(t, agent)`` runs before the first
    step (t = 0) and after each step (learning curves). A stop request
    (`aigc_opt.solvers.interrupt`) ends the loop early. Returns the learner and a log
    (episodes: (timesteps, reward as paid, utility $), last update's losses, steps done,
    wall seconds)."""
    from aigc_opt.solvers import interrupt

    torch.set_num_threads(1)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    agent = D2SAC(obs_dim, act_dim, seed=seed, **hp)
    starts = agent.hp["learning_starts"]
    if starts is None:
        starts = min(1000, max(100, timesteps // 10))
    agent.hp["learning_starts"] = starts
    env.action_space.seed(seed)
    o, _ = env.reset(seed=seed)
    ep_reward, rows, stats = 0.0, [], {}
    t0 = time.perf_counter()
    if on_step is not None:
        on_step(0, agent)
    for t in range(1, timesteps + 1):
        a = env.action_space.sample() if t <= starts else agent.act(o)
        o2, r, term, trunc, info = env.step(a)
        agent.store(o, a, r, o2, term)
        ep_reward += float(r)
        o = o2
        if term or trunc:
            rows.append((t, ep_reward, info.get("episode_utility", float("nan"))))
            ep_reward = 0.0
            o, _ = env.reset()
        if t > starts:
            stats = agent.update()
        if on_step is not None:
            on_step(t, agent)
        if interrupt.requested():
            break
    log = {"episodes": rows, "last_update": stats, "steps": t, "seconds": time.perf_counter() - t0}
    return agent, log


def train(
    env: Any,
    timesteps: int,
    out: str | Path,
    *,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
    curve: Any = None,
    eval_every: int = 0,
    **hp: Any,
) -> dict[str, Any]:
    """`learn`, then write ``model.onnx`` (the deterministic actor), ``episodes.csv`` and
    ``train.json`` (``meta`` plus algorithm, hyper-parameters, seconds, versions) under
    ``out``; returns the ``train.json`` content. With a ``curve``
    (`aigc_opt.drl_compare.callbacks.ValidationGap`) and ``eval_every`` > 0, the
    deterministic actor is evaluated on the validation episodes at step 0, every
    ``eval_every`` steps and at the end (``learning_curve.csv``)."""
    from aigc_opt.solvers.store import run_metadata, write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    on_step = None
    if curve is not None and eval_every > 0:

        def on_step(t: int, agent: D2SAC) -> None:
            if t % eval_every == 0 or t == timesteps:
                curve.evaluate(lambda o: agent.act(o, deterministic=True), t)

    agent, log = learn(env, timesteps, seed=seed, on_step=on_step, **hp)
    onnx = export_onnx(agent.actor, env.observation_space.shape[0], out / "model.onnx")
    with (out / "episodes.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timesteps", "episode_reward", "episode_utility"])
        w.writerows(log["episodes"])
    info = {
        **(meta or {}),
        "algo": "d2sac",
        "timesteps": timesteps,
        "seed": seed,
        "hyperparameters": agent.hp,
        "last_update": log["last_update"],
        "episodes": len(log["episodes"]),
        "steps_done": log["steps"],
        "train_seconds": round(log["seconds"], 2),
        "model": str(onnx),
        "onnx": str(onnx),
        "versions": run_metadata(),
    }
    if curve is not None and eval_every > 0:
        info["learning_curve"] = curve.write(out)
    write_json(out / "train.json", info)
    return info
