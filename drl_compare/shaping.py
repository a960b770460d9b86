"""Reward shaping for sparse and delayed rewards: diffusion-aided return decomposition.

Size: the diffusion model, the randomized-return-decomposition baseline and the SB3
wrapper/callback that feeds both share one buffer and one interface; most lines are
the algorithm's documentation below.

Under ``sparse`` reward the environment pays the episode utility at the last slot only;
under ``delayed:k`` it pays what the last k slots earned, every k slots. A shaping model
learns a per-step reward r̂(o, a, t/T) from such episodes and the wrapper pays
``r_env + β·r̂`` (docs/seed-agents.md has the algorithm, hyper-parameters and where it
departs from the seed paper's abstract).

* `DelayedReward` — the ``delayed:k`` mode as a `gymnasium.Wrapper` over a dense env.
* `EpisodeBuffer` — the last episodes' features ``x = (observation, action, t/T)``, the
  rewards the env paid and their *segments* (the steps one payment covers: the whole
  episode under ``sparse``, k slots under ``delayed:k``).
* `DiffusionRewardModel` — a conditional DDPM (12 denoising steps, small MLP) of the per-step reward
  given x. Its targets are the return decomposition of each segment: the model's own
  estimates projected so that every segment's estimates sum to the reward it paid.
* `RRDModel` — randomized return decomposition (an MLP regressor trained so that a random
  subset of a segment's steps, scaled by the segment length, sums to its payment).
* `ShapedReward` — the wrapper that pays ``r_env + β·r̂`` and fills the buffer.
* `ShapingCallback` — the SB3 callback that refits the model after each rollout and
  relabels the rollout buffer (on-policy) or the replay buffer (off-policy) with it,
  and logs the shaping quality to ``shaping.csv``.

Shaping quality: the Pearson correlation between r̂ and the true slot utility. The true
utility is read from the unwrapped environment's simulator at the end of each episode
(`Simulator.per_slot_terms`) and stored beside the buffer for logging only: it is never
a model input, never paid and never put in ``info``.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from aigc_opt.drl_compare.reward_options import SHAPINGS as SHAPINGS  # re-exported
from aigc_opt.drl_compare.reward_options import check_options, parse_reward


class DelayedReward(gym.Wrapper):
    """``delayed:k``: the dense rewards of the last k slots, paid every k-th slot and at the
    episode's end (0 otherwise). Per-slot ``utility`` and ``terms`` are removed from
    ``info`` so nothing denser than the payments reaches the learner."""

    def __init__(self, env: gym.Env, k: int):
        super().__init__(env)
        if k < 1:
            raise ValueError(f"delayed:k needs k ≥ 1, got {k}")
        self.k = int(k)
        self._acc = 0.0
        self._n = 0

    def reset(self, **kwargs: Any):
        self._acc, self._n = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        self._acc += float(r)
        self._n += 1
        paid = 0.0
        if self._n % self.k == 0 or term or trunc:
            paid, self._acc = self._acc, 0.0
        info = {k: v for k, v in info.items() if k not in ("utility", "terms")}
        return obs, paid, term, trunc, info


def slot_utilities(env: gym.Env) -> np.ndarray:
    """True per-slot utility ($) of the episode so far, from the unwrapped simulator."""
    sim = env.unwrapped.sim  # type: ignore[attr-defined]
    rows = sim.per_slot_terms[: sim.t]
    return rows[:, 0] - rows[:, 1:].sum(axis=1)


# ---------------------------------------------------------------------------------------
# episode buffer
# ---------------------------------------------------------------------------------------
@dataclass
class Episode:
    x: np.ndarray  # (T, d) features (observation, action, t/T)
    paid: np.ndarray  # (T,) reward the env paid at each step (scaled as the agent sees it)
    segment: np.ndarray  # (T,) segment number within the episode, 0..
    true: np.ndarray | None = None  # (T,) true slot utility ($), logging only


@dataclass
class EpisodeBuffer:
    """The last ``capacity`` episodes (FIFO)."""

    capacity: int = 200
    episodes: list[Episode] = field(default_factory=list)

    def add(self, ep: Episode) -> None:
        self.episodes.append(ep)
        del self.episodes[: max(0, len(self.episodes) - self.capacity)]

    def __len__(self) -> int:
        return len(self.episodes)

    def arrays(
        self, episodes: list[Episode] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X (N, d), global segment id per step (N,), segment returns (S,))."""
        eps = self.episodes if episodes is None else episodes
        xs, segs, rets, base = [], [], [], 0
        for ep in eps:
            n_seg = int(ep.segment.max()) + 1
            xs.append(ep.x)
            segs.append(ep.segment + base)
            rets.append(np.bincount(ep.segment, weights=ep.paid, minlength=n_seg))
            base += n_seg
        return (
            np.concatenate(xs).astype(np.float32),
            np.concatenate(segs),
            np.concatenate(rets),
        )


def segments_of(n_steps: int, k: int | None) -> np.ndarray:
    """Segment number of each step: k-slot blocks (``delayed:k``) or one block (sparse)."""
    return np.arange(n_steps) // (k or max(n_steps, 1))


def project(pred: np.ndarray, seg: np.ndarray, ret: np.ndarray) -> np.ndarray:
    """Least-squares projection of per-step estimates onto "each segment sums to its
    return": add the segment's residual spread evenly over its steps."""
    n = np.bincount(seg, minlength=ret.size)
    resid = ret - np.bincount(seg, weights=pred, minlength=ret.size)
    return pred + (resid / np.maximum(n, 1))[seg]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation (nan when either side is constant)."""
    if a.size < 2 or np.std(a) < 1e-12 or np.std(b) < 1e-12:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


# ---------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------
def _mlp(n_in: int, hidden: int, n_out: int = 1, *, seed: int = 0) -> Any:
    """A small MLP whose initial weights depend on ``seed`` only (not on torch's global RNG,
    which other code advances)."""
    import torch
    import torch.nn as nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, n_out),
        )


class _Base:
    """Common input standardisation and output scale of the return-decomposition models."""

    name = "base"

    def __init__(self, n_features: int, *, hidden: int = 64, lr: float = 1e-3, seed: int = 0):
        import torch

        self.torch = torch
        self.seed = seed
        self.gen = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.n_features = n_features
        self.hidden = hidden
        self.lr = lr
        self.mu = np.zeros(n_features, dtype=np.float32)
        self.sd = np.ones(n_features, dtype=np.float32)
        self.scale = 1.0
        self.fitted = False

    def _standardize(self, x: np.ndarray, seg: np.ndarray, ret: np.ndarray) -> None:
        self.mu = x.mean(axis=0)
        self.sd = np.maximum(x.std(axis=0), 1e-3).astype(np.float32)
        per_step = ret / np.maximum(np.bincount(seg, minlength=ret.size), 1)
        self.scale = float(max(np.abs(per_step).mean(), 1e-8))

    def _x(self, x: np.ndarray) -> Any:
        return self.torch.as_tensor((np.asarray(x, np.float32) - self.mu) / self.sd)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Per-step reward estimates r̂ for features ``x`` (N, d); deterministic."""
        if not self.fitted:
            return np.zeros(len(x))
        with self.torch.no_grad():
            return self._predict(self._x(x)).numpy().astype(float) * self.scale

    def _predict(self, xt: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class RRDModel(_Base):
    """Randomized return decomposition: r_θ(x) such that ``len/m · Σ_{m random steps}``
    estimates the segment's return (squared error, Adam)."""

    name = "rrd"

    def __init__(self, n_features: int, *, subset: int = 8, steps: int = 200, batch: int = 32,
                 **kw: Any):  # fmt: skip
        super().__init__(n_features, **kw)
        self.net = _mlp(n_features, self.hidden, seed=self.seed)
        self.opt = self.torch.optim.Adam(self.net.parameters(), lr=self.lr)
        self.subset, self.steps, self.batch = subset, steps, batch

    def _predict(self, xt: Any) -> Any:
        return self.net(xt).squeeze(-1)

    def fit(self, x: np.ndarray, seg: np.ndarray, ret: np.ndarray) -> float:
        """``steps`` Adam steps on the unbiased RRD loss: m steps of each sampled segment
        drawn without replacement, (G − n/m·Σ r)² minus the estimator's variance
        n²(1 − m/n)/m·s² (s² the subset's sample variance); returns the last loss."""
        torch = self.torch
        if not self.fitted:
            self._standardize(x, seg, ret)
        n = np.bincount(seg, minlength=ret.size)
        start = np.concatenate([[0], np.cumsum(n)[:-1]])  # steps are stored segment-ordered
        L = int(n.max())
        cols = min(self.subset, L)
        xt = self._x(x)
        loss = torch.tensor(0.0)
        for _ in range(self.steps):
            s = self.rng.integers(0, ret.size, size=min(self.batch, ret.size))
            keys = self.rng.random((s.size, L))
            keys[np.arange(L)[None, :] >= n[s, None]] = np.inf
            pick = start[s, None] + np.argsort(keys, axis=1)[:, :cols]
            m = np.minimum(cols, n[s])
            mask = torch.as_tensor(np.arange(cols)[None, :] < m[:, None], dtype=torch.float32)
            pick = np.minimum(pick, len(x) - 1)
            r = self.net(xt[torch.as_tensor(pick.ravel())]).view(s.size, cols) * mask
            mt = torch.as_tensor(m, dtype=torch.float32)
            nt = torch.as_tensor(n[s], dtype=torch.float32)
            est = r.sum(dim=1) * nt / mt
            mean = r.sum(dim=1, keepdim=True) / mt[:, None]
            s2 = (((r - mean) * mask) ** 2).sum(dim=1) / (mt - 1).clamp(min=1)
            var = nt**2 * (1 - mt / nt) / mt * s2
            g = torch.as_tensor(ret[s] / self.scale, dtype=torch.float32)
            loss = (((est - g) ** 2 - var) / nt).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.fitted = True
        return float(loss.detach())


class DiffusionRewardModel(_Base):
    """Conditional DDPM of the per-step reward y given x = (observation, action, t/T).

    Forward process: y_n = √ᾱ_n·y_0 + √(1−ᾱ_n)·ε, n = 1..N, with the variance-preserving
    schedule of Diffusion-QL for small N (β_n = 1 − exp(−b_min/N − (b_max−b_min)(2n−1)/(2N²)),
    b_min = 0.1, b_max = 10). The denoiser ε_θ(y_n, n, x) is an MLP on (y_n, a sinusoidal
    embedding of n, standardised x). Targets y_0 are the return decomposition of each
    segment (see `project`), refreshed ``rounds`` times per fit from the model's own
    estimates. r̂ = the deterministic (DDIM, η = 0) reverse chain started at y_N = 0.
    Loss per Adam step: the DDPM noise-prediction loss on a batch of steps plus ``lam`` ×
    the decomposition loss ((Σ_segment r̂ − G)/n)² on ``seg_batch`` whole segments,
    back-propagated through the N-step reverse chain (the constraint on the samples).
    """

    name = "diffusion"

    def __init__(self, n_features: int, *, n_steps: int = 12, rounds: int = 2, steps: int = 100,
                 batch: int = 256, lam: float = 1.0, seg_batch: int = 8,
                 **kw: Any):  # fmt: skip
        super().__init__(n_features, **kw)
        torch = self.torch
        self.lam, self.seg_batch = float(lam), int(seg_batch)
        if not 2 <= n_steps <= 100:
            raise ValueError(f"n_steps = {n_steps}: use 2..100 denoising steps")
        self.N, self.rounds, self.steps, self.batch = n_steps, rounds, steps, batch
        i = np.arange(1, n_steps + 1)
        betas = 1 - np.exp(-0.1 / n_steps - 0.5 * (10.0 - 0.1) * (2 * i - 1) / n_steps**2)
        self.abar = torch.as_tensor(np.cumprod(1 - betas), dtype=torch.float32)  # ᾱ_1..ᾱ_N
        self.emb_dim = 8
        self.net = _mlp(n_features + 1 + self.emb_dim, self.hidden, seed=self.seed)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)

    def _emb(self, n: Any) -> Any:
        torch = self.torch
        f = torch.exp(-np.log(100.0) * torch.arange(self.emb_dim // 2) / (self.emb_dim // 2))
        a = n.float()[:, None] * f[None, :]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=1)

    def _eps(self, y: Any, n: Any, xt: Any) -> Any:
        return self.net(self.torch.cat([y[:, None], self._emb(n), xt], dim=1)).squeeze(-1)

    def _predict(self, xt: Any) -> Any:
        torch = self.torch
        y = torch.zeros(len(xt))
        for n in range(self.N, 0, -1):
            nn_ = torch.full((len(xt),), n, dtype=torch.long)
            ab = self.abar[n - 1]
            eps = self._eps(y, nn_, xt)
            y0 = ((y - torch.sqrt(1 - ab) * eps) / torch.sqrt(ab)).clamp(-50.0, 50.0)
            ab_prev = self.abar[n - 2] if n > 1 else torch.tensor(1.0)
            y = torch.sqrt(ab_prev) * y0 + torch.sqrt(1 - ab_prev) * eps
        return y

    def fit(self, x: np.ndarray, seg: np.ndarray, ret: np.ndarray) -> float:
        """``rounds`` × (project own estimates → ``steps`` Adam steps on the DDPM
        noise-prediction loss + ``lam`` × the decomposition loss of the sampled r̂)."""
        torch = self.torch
        if not self.fitted:
            self._standardize(x, seg, ret)
        xt = self._x(x)
        n_seg = np.bincount(seg, minlength=ret.size)
        start = np.concatenate([[0], np.cumsum(n_seg)[:-1]])  # steps are segment-ordered
        L = int(n_seg.max())
        loss = torch.tensor(0.0)
        for _ in range(self.rounds):
            y0 = project(self.predict(x), seg, ret) / self.scale
            y0t = torch.as_tensor(y0, dtype=torch.float32)
            for _ in range(self.steps):
                idx = torch.randint(0, len(xt), (min(self.batch, len(xt)),), generator=self.gen)
                n = torch.randint(1, self.N + 1, (len(idx),), generator=self.gen)
                eps = torch.randn(len(idx), generator=self.gen)
                ab = self.abar[n - 1]
                yn = torch.sqrt(ab) * y0t[idx] + torch.sqrt(1 - ab) * eps
                loss = ((self._eps(yn, n, xt[idx]) - eps) ** 2).mean()
                if self.lam > 0:
                    s = self.rng.integers(0, ret.size, size=min(self.seg_batch, ret.size))
                    rows = np.minimum(start[s, None] + np.arange(L)[None, :], len(x) - 1)
                    mask = torch.as_tensor(np.arange(L)[None, :] < n_seg[s, None])
                    r = self._predict(xt[torch.as_tensor(rows.ravel())]).view(len(s), L)
                    err = (r * mask).sum(dim=1) - torch.as_tensor(ret[s] / self.scale)
                    per_step = err / torch.as_tensor(n_seg[s], dtype=torch.float32)
                    loss = loss + self.lam * (per_step**2).mean()
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
            self.fitted = True
        return float(loss.detach())


def make_model(kind: str, n_features: int, seed: int = 0, **kw: Any) -> _Base:
    if kind == "diffusion":
        return DiffusionRewardModel(n_features, seed=seed, **kw)
    if kind == "rrd":
        return RRDModel(n_features, seed=seed, **kw)
    raise ValueError(f"--shaping = {kind!r}: choose one of {', '.join(SHAPINGS)}")


# ---------------------------------------------------------------------------------------
# the wrapper and the SB3 callback
# ---------------------------------------------------------------------------------------
def features(obs: np.ndarray, action: np.ndarray, frac: float) -> np.ndarray:
    """x = (observation, action clipped to [−1, 1], t/T)."""
    a = np.clip(np.asarray(action, dtype=np.float32).ravel(), -1.0, 1.0)
    return np.concatenate([np.asarray(obs, np.float32).ravel(), a, [np.float32(frac)]])


class ShapedReward(gym.Wrapper):
    """Pays ``r_env + β·r̂(o, a, t/T)`` and stores each finished episode in ``buffer``.

    ``k`` is the payment period of the wrapped env (None: sparse, one payment per
    episode). ``log`` lists (x, r_env) of every step since the callback last read it."""

    def __init__(self, env: gym.Env, model: _Base, buffer: EpisodeBuffer, *, beta: float = 1.0,
                 k: int | None = None):  # fmt: skip
        super().__init__(env)
        self.model, self.buffer, self.beta, self.k = model, buffer, float(beta), k
        self.log: list[tuple[np.ndarray, float]] = []
        self._obs: np.ndarray | None = None
        self._x: list[np.ndarray] = []
        self._paid: list[float] = []
        self.episodes_done = 0

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._obs, self._x, self._paid = obs, [], []
        return obs, info

    def step(self, action: Any):
        sim = self.env.unwrapped.sim  # type: ignore[attr-defined]
        x = features(self._obs, action, sim.t / sim.T)
        obs, r, term, trunc, info = self.env.step(action)
        rhat = float(self.model.predict(x[None])[0])
        self._obs = obs
        self._x.append(x)
        self._paid.append(float(r))
        self.log.append((x, float(r)))
        if term or trunc:
            self.episodes_done += 1
            n = len(self._x)
            self.buffer.add(
                Episode(
                    np.stack(self._x),
                    np.array(self._paid),
                    segments_of(n, self.k),
                    slot_utilities(self.env)[-n:],
                )
            )
        return obs, float(r) + self.beta * rhat, term, trunc, info


class ShapingCallback(BaseCallback):
    """Refits the shaping model after each rollout and relabels the learner's buffer.

    On-policy (PPO, A2C): after every rollout, refit, rewrite the rollout buffer's rewards
    as r_env + β·r̂ with the refitted model and recompute returns and advantages.
    Off-policy (SAC, TD3): every ``refit_every`` steps (once that step is stored), refit
    and rewrite every stored transition's reward as r_env + β·r̂ (the replay buffer is
    relabelled in place, so sampled batches carry the current model's r̂). Each refit
    appends a row to ``csv``.
    """

    def __init__(self, wrappers: list[ShapedReward], csv_path: Path | None = None, *,
                 refit_every: int = 1000):  # fmt: skip
        super().__init__(verbose=0)
        self.wrappers = wrappers
        self.model_ = wrappers[0].model
        self.buffer = wrappers[0].buffer
        self.beta = wrappers[0].beta
        self.csv_path = csv_path
        self.refit_every = refit_every
        self.rows: list[dict[str, float]] = []
        self._seen = 0  # episodes already scored out of sample
        self._r_env: np.ndarray | None = None
        self._x: np.ndarray | None = None
        self.fit_seconds = 0.0
        self._due = False

    # --- SB3 hooks ---------------------------------------------------------------------
    def _on_step(self) -> bool:
        if hasattr(self.model, "replay_buffer"):
            self._record_replay()
            self._due = self._due or self.num_timesteps % self.refit_every == 0
        return True

    def _on_rollout_end(self) -> None:
        # off-policy: the step's transition is stored after _on_step, before this hook
        if hasattr(self.model, "rollout_buffer"):
            self._refit()
            self._relabel_rollout()
        elif self._due:
            self._due = False
            self._refit()
            self._relabel_replay()

    # --- refit and quality -------------------------------------------------------------
    def _refit(self) -> None:
        eps = self.buffer.episodes
        if not eps:
            return
        new = eps[max(0, len(eps) - (self._total_added() - self._seen)) :]
        self._seen = self._total_added()
        corr_pre = self._corr(new)
        t0 = time.perf_counter()
        x, seg, ret = self.buffer.arrays()
        loss = self.model_.fit(x, seg, ret)
        self.fit_seconds += time.perf_counter() - t0
        pred = self.model_.predict(x)
        sums = np.bincount(seg, weights=pred, minlength=ret.size)
        row = {
            "timesteps": float(self.num_timesteps),
            "episodes": float(len(eps)),
            "loss": loss,
            "corr_new_episodes": corr_pre,
            "corr_buffer": self._corr(eps),
            "sum_rel_error": float(np.abs(sums - ret).mean() / max(np.abs(ret).mean(), 1e-12)),
            "fit_seconds": round(time.perf_counter() - t0, 3),
        }
        self.rows.append(row)
        if self.csv_path is not None:
            new_file = not self.csv_path.exists()
            with self.csv_path.open("a", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(row))
                if new_file:
                    w.writeheader()
                w.writerow(row)

    def _total_added(self) -> int:
        return sum(w.episodes_done for w in self.wrappers)

    def _corr(self, eps: list[Episode]) -> float:
        eps = [e for e in eps if e.true is not None]
        if not eps or not self.model_.fitted:
            return float("nan")
        x = np.concatenate([e.x for e in eps])
        true = np.concatenate([e.true for e in eps])  # type: ignore[misc]
        return correlation(self.model_.predict(x), true)

    # --- relabelling -------------------------------------------------------------------
    def _relabel_rollout(self) -> None:
        rb = self.model.rollout_buffer
        for i, w in enumerate(self.wrappers):
            log, w.log = w.log, []
            if len(log) != rb.buffer_size:  # not aligned (should not happen): keep rewards
                continue
            x = np.stack([e[0] for e in log])
            r_env = np.array([e[1] for e in log])
            rb.rewards[:, i] = r_env + self.beta * self.model_.predict(x)
        rb.compute_returns_and_advantage(
            last_values=self.locals["values"], dones=self.locals["dones"]
        )

    def _record_replay(self) -> None:
        rb = self.model.replay_buffer
        if self._r_env is None:
            self._r_env = np.zeros((rb.buffer_size, rb.n_envs))
            self._x = np.zeros((rb.buffer_size, rb.n_envs, self.model_.n_features), np.float32)
        for i, w in enumerate(self.wrappers):
            if w.log:
                x, r = w.log[-1]
                w.log.clear()
                self._x[rb.pos, i] = x  # type: ignore[index]
                self._r_env[rb.pos, i] = r

    def _relabel_replay(self) -> None:
        rb = self.model.replay_buffer
        n = rb.buffer_size if rb.full else rb.pos
        if n == 0 or self._x is None or self._r_env is None:
            return
        x = self._x[:n].reshape(-1, self.model_.n_features)
        pred = self.model_.predict(x).reshape(n, rb.n_envs)
        rb.rewards[:n] = (self._r_env[:n] + self.beta * pred).astype(rb.rewards.dtype)

    def summary(self) -> dict[str, Any]:
        """What train.json records about the shaping."""
        last = self.rows[-1] if self.rows else {}
        return {
            "model": self.model_.name,
            "beta": self.beta,
            "refits": len(self.rows),
            "fit_seconds": round(self.fit_seconds, 2),
            "last": last,
        }


def make_env(
    make: Any,
    reward: str,
    shaping: str = "none",
    *,
    beta: float = 1.0,
    seed: int = 0,
    out: Path | None = None,
    model_kw: dict[str, Any] | None = None,
    refit_every: int = 1000,
) -> tuple[gym.Env, ShapingCallback | None]:
    """The training env for a reward mode and a shaping method, and its callback.

    ``make(reward_mode)`` builds the base env (``reward_mode`` ``"dense"`` or
    ``"sparse"``); ``delayed:k`` wraps a dense env in `DelayedReward`. With shaping, the
    env is wrapped in `ShapedReward` and the returned callback must be passed to
    ``model.learn`` (off-policy learners refit every ``refit_every`` steps)."""
    check_options("", reward, shaping)
    mode, k = parse_reward(reward)
    env = make("sparse" if mode == "sparse" else "dense")
    if mode == "delayed":
        env = DelayedReward(env, k or 1)
    if shaping == "none":
        return env, None
    n_feat = env.observation_space.shape[0] + env.action_space.shape[0] + 1
    model = make_model(shaping, n_feat, seed=seed, **(model_kw or {}))
    wrapped = ShapedReward(env, model, EpisodeBuffer(), beta=beta, k=k)
    csv_path = None
    if out is not None:
        csv_path = Path(out) / "shaping.csv"
        csv_path.unlink(missing_ok=True)
    return wrapped, ShapingCallback([wrapped], csv_path, refit_every=refit_every)
