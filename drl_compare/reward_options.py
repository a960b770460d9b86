"""Reward modes and shaping methods of the learners, as spelled on the command line and in
experiment specs (no dependency beyond the standard library, so specs validate without
the rl extra)."""

from __future__ import annotations

SHAPINGS = ("none", "diffusion", "rrd")


def parse_reward(spec: str) -> tuple[str, int | None]:
    """``"dense"``, ``"sparse"`` or ``"delayed:k"`` (k ≥ 1 slots) → (mode, k)."""
    s = spec.strip().lower()
    if s in ("dense", "sparse"):
        return s, None
    if s.startswith("delayed:"):
        try:
            k = int(s.split(":", 1)[1])
        except ValueError:
            k = 0
        if k >= 1:
            return "delayed", k
    raise ValueError(f"--reward = {spec!r}: choose dense, sparse or delayed:k with k ≥ 1")


def check_options(algo: str, reward: str, shaping: str) -> None:
    """Raise ValueError (one line) for an unknown reward spec or shaping method, shaping
    under dense reward, shaping with an algorithm that has no SB3 callback (d2sac, ippo),
    or a delayed reward for the multi-agent learner."""
    mode, _ = parse_reward(reward)
    if shaping not in SHAPINGS:
        raise ValueError(f"--shaping = {shaping!r}: choose one of {', '.join(SHAPINGS)}")
    if shaping != "none" and mode == "dense":
        raise ValueError("--shaping needs --reward sparse or delayed:k (dense needs no shaping)")
    if shaping != "none" and algo in ("d2sac", "ippo"):
        raise ValueError(f"--shaping works with ppo, sac and td3, not {algo}")
    if algo == "ippo" and mode == "delayed":
        raise ValueError("--algo ippo takes --reward dense or sparse")
