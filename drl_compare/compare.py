"""Run trained policies and baselines on identical episodes and report gaps to the bound.

Episode e of a comparison is the scenario cut to ``horizon`` slots from a start slot
drawn (without replacement where possible) by ``numpy.random.default_rng(seed)``; every
method plays exactly these episodes. For each episode the perfect-foresight oracle is
solved once: its best bound is the upper bound every method's utility is measured
against (gap = bound − utility, and in % of |bound|).

Results are tidy: one row per (method, episode, metric) — metrics are ``utility``,
``oracle_bound``, ``gap``, ``gap_pct``, ``seconds`` and the eight utility terms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS

BASELINES = ("oracle", "mpc", "greedy", "price-greedy", "random")


@dataclass
class EpisodeRow:
    method: str
    episode: int
    start: int
    utility: float
    bound: float
    seconds: float
    terms: dict[str, float]


def episode_starts(full: Scenario, horizon: int, episodes: int, seed: int) -> list[int]:
    """Start slots of the comparison's episodes (deterministic in ``seed``)."""
    n = full.T - horizon + 1
    if n < 1:
        raise ValueError(f"horizon {horizon} exceeds the scenario's {full.T} slots")
    rng = np.random.default_rng(seed)
    if episodes <= n:
        return sorted(int(s) for s in rng.choice(n, size=episodes, replace=False))
    return [int(s) for s in rng.integers(0, n, size=episodes)]


def run_policy_in_env(
    policy: Callable[[np.ndarray], np.ndarray],
    full: Scenario,
    start: int,
    horizon: int,
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[float, dict[str, float], float]:
    """One episode of an observation→action policy in the environment.

    Returns (utility, terms, seconds); the utility is `accounting.evaluate` of the
    schedule the simulator realized (checked equal to the env's summed rewards).
    """
    from aigc_opt.drl_compare.env import AIGCDataCenterEnv

    env = AIGCDataCenterEnv(full, horizon=horizon, **(env_kwargs or {}))
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=0, options={"start": start, "horizon": horizon})
    info: dict[str, Any] = {}
    done = False
    while not done:
        obs, _, done, _, info = env.step(policy(obs))
    seconds = time.perf_counter() - t0
    ev = env.sim.evaluation()
    if abs(ev.utility - info["episode_utility"]) > 1e-6 * max(1.0, abs(ev.utility)):
        raise RuntimeError("environment rewards and accounting disagree")  # pragma: no cover
    return ev.utility, ev.terms, seconds


def baseline_policy(name: str, horizon: int, mpc_forecast: str, seed: int) -> Any:
    from aigc_opt.solvers.heuristics import LocalGreedy, PriceGreedy, RandomPolicy
    from aigc_opt.solvers.mpc import MPCPolicy

    if name == "mpc":
        return MPCPolicy(
            lookahead=min(24, horizon), forecaster=mpc_forecast, name=f"mpc-{mpc_forecast}"
        )
    return {"greedy": LocalGreedy, "price-greedy": PriceGreedy, "random": RandomPolicy}[name]()


def compare(
    full: Scenario,
    policies: dict[str, Callable[[np.ndarray], np.ndarray]],
    *,
    baselines: list[str],
    horizon: int,
    episodes: int,
    seed: int,
    mpc_forecast: str = "noisy:0.1",
    env_kwargs: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Tidy results of every method on the same episodes (see module doc)."""
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_oracle
    from aigc_opt.solvers.policy import run_episode

    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(
            f"--baselines: unknown {unknown[0]!r} (choose from {', '.join(BASELINES)})"
        )
    rows: list[EpisodeRow] = []
    starts = episode_starts(full, horizon, episodes, seed)
    for e, start in enumerate(starts):
        ep = full.cut(horizon=horizon, start=start)
        t0 = time.perf_counter()
        oracle = solve_oracle(ep, options=HighsOptions(seed=seed))
        if oracle.best_bound is None:
            raise RuntimeError(f"episode {e}: the oracle gave no bound ({oracle.status})")
        bound = float(oracle.best_bound)
        if "oracle" in baselines and oracle.utility is not None:
            rows.append(
                EpisodeRow(
                    "oracle",
                    e,
                    start,
                    oracle.utility,
                    bound,
                    time.perf_counter() - t0,
                    dict(oracle.terms),
                )
            )
        for name in baselines:
            if name == "oracle":
                continue
            res = run_episode(
                ep, baseline_policy(name, horizon, mpc_forecast, seed + e), seed=seed + e
            )
            label = "mpc" if name == "mpc" else name
            rows.append(
                EpisodeRow(label, e, start, res.utility, bound, res.seconds, dict(res.terms))
            )
        for pname, pol in policies.items():
            u, terms, secs = run_policy_in_env(pol, full, start, horizon, env_kwargs)
            rows.append(EpisodeRow(pname, e, start, u, bound, secs, terms))
        if progress is not None:
            progress(f"episode {e + 1}/{len(starts)} (start {start})")
    return tidy(rows)


def tidy(rows: list[EpisodeRow]) -> pd.DataFrame:
    out = []
    for r in rows:
        gap = r.bound - r.utility
        metrics = {
            "utility": r.utility,
            "oracle_bound": r.bound,
            "gap": gap,
            "gap_pct": 100.0 * gap / max(abs(r.bound), 1e-12),
            "seconds": r.seconds,
            **{n: r.terms[n] for n in TERMS},
        }
        for m, v in metrics.items():
            out.append(
                {
                    "method": r.method,
                    "episode": r.episode,
                    "start": r.start,
                    "metric": m,
                    "value": float(v),
                }
            )
    return pd.DataFrame(out)


def summarize(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Per method: mean ± std utility, gap to the bound (abs, %), gap to MPC, mean terms."""
    wide = df.pivot_table(index=["method", "episode"], columns="metric", values="value")
    mpc = (
        wide.xs("mpc", level="method")["utility"]
        if "mpc" in wide.index.get_level_values("method")
        else None
    )
    order = list(dict.fromkeys(df["method"]))
    out = []
    for method in order:
        w = wide.xs(method, level="method")
        u = w["utility"]
        row: dict[str, Any] = {
            "method": method,
            "episodes": int(len(u)),
            "utility_mean": float(u.mean()),
            "utility_std": float(u.std(ddof=0)),
            "oracle_bound_mean": float(w["oracle_bound"].mean()),
            "gap_mean": float(w["gap"].mean()),
            "gap_pct": float(w["gap_pct"].mean()),
            "gap_pct_std": float(w["gap_pct"].std(ddof=0)),
            "seconds_mean": float(w["seconds"].mean()),
            "terms": {n: float(w[n].mean()) for n in TERMS},
        }
        if mpc is not None:
            diff = mpc.reindex(u.index) - u
            row["gap_to_mpc_mean"] = float(diff.mean())
            row["gap_to_mpc_pct"] = float((100 * diff / mpc.abs().reindex(u.index)).mean())
        out.append(row)
    return out
