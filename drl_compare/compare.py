"""Run trained policies and baselines on identical episodes and report gaps to the bound.

Episode e of a comparison is the scenario cut to ``horizon`` slots from a start slot
drawn (without replacement where possible) by ``numpy.random.default_rng(seed)`` among
the starts of a split (`aigc_opt.drl_compare.splits`; ``test`` by default); every method
plays exactly these episodes through the one episode loop,
`aigc_opt.solvers.policy.run_episode` — the oracle as a replay of its schedule, MPC and
the heuristics as simulator policies, trained policies through
`aigc_opt.drl_compare.policies.EnvPolicy`. For each episode the perfect-foresight oracle
is solved once: its best bound is the upper bound every method's utility is measured
against (`aigc_opt.solvers.result.gap_to_bound`). With ``arrivals="poisson"`` episode e's
arrivals are first drawn around the scenario's profile with seed ``seed + e``
(`aigc_opt.drl_compare.arrivals`); every method then plays that realised episode and the
oracle is solved on it, so the bound is the bound of the arrivals that happened.

Results are tidy: one row per (method, episode, metric) — metrics are ``utility``,
``oracle_bound``, ``gap``, ``gap_pct``, ``seconds``, the eight utility terms and the
KPIs (jobs served, dropped, transferred, mean quality and wait, carbon, energy by flow
as ``energy_<flow>_mwh``); the run records (`EpisodeResult`) are returned too, for run
folders and reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.drl_compare.splits import split_starts
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.solvers.result import ci95

BASELINES = ("oracle", "mpc", "greedy", "price-greedy", "random")


@dataclass
class Comparison:
    """Tidy metrics (``frame``) and the run record of every (method, episode)."""

    frame: pd.DataFrame
    records: list[dict[str, Any]] = field(default_factory=list)
    runs: list[Any] = field(default_factory=list)  # (method, episode, EpisodeResult, bound)


def episode_starts(
    full: Scenario, horizon: int, episodes: int, seed: int, split: str = "all"
) -> list[int]:
    """Start slots of the comparison's episodes (deterministic in ``seed``)."""
    pool = split_starts(full, horizon, split)
    rng = np.random.default_rng(seed)
    if episodes <= pool.size:
        return sorted(int(s) for s in rng.choice(pool, size=episodes, replace=False))
    return [int(s) for s in rng.choice(pool, size=episodes, replace=True)]


def make_baseline(
    name: str, horizon: int, *, mpc_forecast: str = "noisy:0.1", mpc_lookahead: int = 24
) -> Any:
    """The simulator policy of a baseline name (``oracle`` excepted: it is replayed)."""
    from aigc_opt.solvers.heuristics import HEURISTICS
    from aigc_opt.solvers.mpc import MPCPolicy

    if name == "mpc":
        return MPCPolicy(lookahead=min(mpc_lookahead, horizon), forecaster=mpc_forecast, name="mpc")
    return HEURISTICS[name]()


def compare(
    full: Scenario,
    policies: dict[str, Any],
    *,
    baselines: list[str],
    horizon: int,
    episodes: int,
    seed: int,
    split: str = "test",
    mpc_forecast: str = "noisy:0.1",
    mpc_lookahead: int = 24,
    oracle_time_limit: float | None = None,
    progress: Callable[[str], None] | None = None,
    arrivals: str = "profile",
) -> Comparison:
    """Every method on the same episodes (see module doc); ``policies`` maps labels to
    simulator policies (e.g. `EnvPolicy`)."""
    from aigc_opt.drl_compare.arrivals import check_arrivals, realise_arrivals
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_oracle
    from aigc_opt.solvers.policy import OracleReplay, run_episode

    check_arrivals(arrivals)
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(
            f"--baselines: unknown {unknown[0]!r} (choose from {', '.join(BASELINES)})"
        )
    clash = sorted(set(policies) & set(BASELINES))
    if clash:
        raise ValueError(f"--policy: label {clash[0]!r} is a baseline's name")
    out = Comparison(frame=pd.DataFrame())
    rows: list[dict[str, Any]] = []
    starts = episode_starts(full, horizon, episodes, seed, split)
    for e, start in enumerate(starts):
        ep = realise_arrivals(full.cut(horizon=horizon, start=start), arrivals, seed + e)
        oracle = solve_oracle(ep, options=HighsOptions(seed=seed, time_limit=oracle_time_limit))
        if oracle.best_bound is None or not oracle.is_bound_valid:
            raise RuntimeError(f"episode {e}: the oracle gave no bound ({oracle.status})")
        bound = float(oracle.best_bound)
        methods: list[tuple[str, Any]] = []
        for name in baselines:
            if name == "oracle":
                if oracle.schedule is not None:
                    methods.append(("oracle", OracleReplay(result=oracle)))
            else:
                pol = make_baseline(
                    name, horizon, mpc_forecast=mpc_forecast, mpc_lookahead=mpc_lookahead
                )
                methods.append((name, pol))
        methods.extend(policies.items())
        for label, pol in methods:
            res = run_episode(ep, pol, seed=seed + e)
            if label == "oracle":  # the replay's time is the solve's
                res.seconds += oracle.build_seconds + oracle.solve_seconds
            res.method = label
            rec = {"episode": e, **res.summary(bound)}
            if label == "oracle":
                rec["oracle_status"] = oracle.status
            out.records.append(rec)
            out.runs.append((label, e, res, bound))
            rows.append(_metrics(label, e, start, rec))
        if progress is not None:
            progress(f"episode {e + 1}/{len(starts)} (start {start})")
    out.frame = pd.DataFrame(
        [
            {"method": r["method"], "episode": r["episode"], "start": r["start"], **m}
            for r in rows
            for m in r["metrics"]
        ]
    )
    return out


def _metrics(label: str, e: int, start: int, rec: dict[str, Any]) -> dict[str, Any]:
    values = {
        "utility": rec["utility"],
        "oracle_bound": rec["oracle_bound"],
        "gap": rec["gap_usd"],
        "gap_pct": rec["gap_pct"],
        "seconds": rec["seconds"],
        **{n: rec["terms"][n] for n in TERMS},
    }
    kpis = rec.get("kpis") or {}
    for name, v in kpis.items():  # scalar KPIs and energy by flow, for reports
        if isinstance(v, int | float) and v is not None:
            values[name] = v
    for flow, v in (kpis.get("energy_mwh") or {}).items():
        values[f"energy_{flow}_mwh"] = v
    return {
        "method": label,
        "episode": e,
        "start": start,
        "metrics": [{"metric": m, "value": float(v)} for m, v in values.items()],
    }


def summarize(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Per method: mean, std (n − 1) and 95 % CI half-width of utility, gap ($) and gap (%),
    gap to MPC, mean terms; methods ordered by mean gap (smallest first)."""
    wide = df.pivot_table(index=["method", "episode"], columns="metric", values="value")
    methods = list(dict.fromkeys(df["method"]))
    mpc = wide.xs("mpc", level="method")["utility"] if "mpc" in methods else None
    out = []
    for method in methods:
        w = wide.xs(method, level="method")
        row: dict[str, Any] = {"method": method, "episodes": int(len(w))}
        for metric, key in (("utility", "utility"), ("gap", "gap"), ("gap_pct", "gap_pct")):
            v = w[metric].to_numpy(float)
            row[f"{key}_mean"] = float(v.mean())
            row[f"{key}_std"] = float(v.std(ddof=1)) if v.size > 1 else 0.0
            row[f"{key}_ci95"] = ci95(v)
        row["gap_pct"] = row["gap_pct_mean"]
        row["oracle_bound_mean"] = float(w["oracle_bound"].mean())
        row["seconds_mean"] = float(w["seconds"].mean())
        row["terms"] = {n: float(w[n].mean()) for n in TERMS}
        if mpc is not None:
            diff = mpc.reindex(w.index) - w["utility"]
            row["gap_to_mpc_mean"] = float(diff.mean())
            row["gap_to_mpc_pct"] = float((100 * diff / mpc.abs().reindex(w.index)).mean())
        out.append(row)
    return sorted(out, key=lambda r: r["gap_mean"])
