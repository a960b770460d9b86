"""The learned agents of an experiment (its ``[[train]]`` entries): gap to the bound over
seeds, CPU time per run, learning curves, and whether reward shaping helps.

Written by `aigc_opt.reports.experiment.render_experiment` when the experiment has
training runs::

    tables/agents.{md,csv}       per method: gap to the certified bound (%), mean ± 95 % CI
                                 over seeds (trained agents: each seed's mean over the test
                                 episodes; deterministic baselines: over episodes), U ($),
                                 the last validation gap, CPU seconds per run, budget
    figures/learning_curves.*    validation gap vs env steps, mean ± 95 % CI band over seeds
                                 (IPPO's agent-steps divided by its number of agents)

Shaping verdict: for every shaped entry, the entry of the same algorithm and reward mode
without shaping is its control; the difference of their per-seed mean gaps gets a Welch
95 % confidence interval. "helps" when the whole interval is below 0 (lower gap), "hurts"
when it is above, "makes no significant difference" otherwise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.reports.experiment import RELAXATIONS, ci95


def _agent_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(finished train rows, episode rows of the trained labels)."""
    train = df[(df["kind"] == "train") & ~df["failed"]]
    played = df[(df["kind"] == "policy") & df["method"].isin(set(train["method"]))]
    return train, played


def summarize_agents(df: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """One row per method (trained labels and baselines; relaxations left out): gap (%)
    and U ($) as mean and 95 % CI half-width over seeds (trained agents, stochastic
    baselines) or over episodes (deterministic baselines), and for trained agents the
    reward mode, shaping, budget, last validation gap and CPU seconds per run."""
    train, _ = _agent_rows(df)
    rows = []
    for (scn, hor, method), g in df[df["kind"] != "train"].groupby(
        ["scenario", "horizon", "method"], sort=False
    ):
        g = g[~g["failed"]]
        params = json.loads(g["params"].iloc[0]) if len(g) else {}
        if params.get("program") in RELAXATIONS or g.empty:
            continue
        per_seed = g.groupby("seed")[["gap_pct", "utility"]].mean()
        over = "seeds" if len(per_seed) > 1 else "episodes"
        src = per_seed if over == "seeds" else g
        gap, gap_ci, n = ci95(src["gap_pct"])
        u, u_ci, _ = ci95(src["utility"])
        row: dict[str, Any] = {
            "scenario": scn,
            "horizon": int(hor),
            "method": method,
            "kind": g["kind"].iloc[0],
            "n": n,
            "ci_over": over,
            "episodes": int(g["start"].nunique()),
            "gap_pct_mean": gap,
            "gap_pct_ci95": gap_ci,
            "utility_mean": u,
            "utility_ci95": u_ci,
        }
        t = train[(train["method"] == method) & (train["scenario"] == scn)]
        t = t[t["horizon"] == hor]
        if len(t):
            row.update(
                algo=t["algo"].iloc[0],
                reward=t["reward"].iloc[0],
                shaping=t["shaping"].iloc[0],
                timesteps=int(t["timesteps"].iloc[0]),
                runs=int(len(t)),
                val_gap_pct_mean=float(t["val_gap_pct"].mean()),
                cpu_seconds_mean=float(t["cpu_seconds"].mean()),
                cpu_seconds_min=float(t["cpu_seconds"].min()),
                cpu_seconds_max=float(t["cpu_seconds"].max()),
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(methods)}
    frame["_o"] = frame["method"].map(order).fillna(len(order))
    return frame.sort_values(["scenario", "horizon", "_o"]).drop(columns="_o")


def run_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per training run: label, seed, steps, wall and CPU seconds, last
    validation gap (%), and the shaping correlation at the last refit."""
    train, played = _agent_rows(df)
    test = played.groupby(["method", "seed"])["gap_pct"].mean().rename("test_gap_pct")
    cols = ["method", "seed", "algo", "reward", "shaping", "timesteps", "seconds"]
    cols += ["cpu_seconds", "val_gap_pct", "shaping_corr", "key"]
    out = train[cols].merge(test.reset_index(), on=["method", "seed"], how="left")
    return out.sort_values(["method", "seed"])


def shaping_verdicts(df: pd.DataFrame) -> list[dict[str, Any]]:
    """For every shaped entry with an unshaped control (same algorithm and reward mode):
    the difference of the per-seed mean test gaps (shaped − control, percentage points)
    with its Welch 95 % CI and a verdict (see the module docstring)."""
    from scipy import stats

    train, played = _agent_rows(df)
    per_seed = played.groupby(["method", "seed"])["gap_pct"].mean()
    entries = train.drop_duplicates("method").set_index("method")
    out = []
    for label, e in entries.iterrows():
        if e["shaping"] == "none":
            continue
        ctrl = entries[
            (entries["algo"] == e["algo"])
            & (entries["reward"] == e["reward"])
            & (entries["shaping"] == "none")
        ]
        verdict: dict[str, Any] = {"method": label, "control": None, "verdict": "no control"}
        if len(ctrl) and label in per_seed and ctrl.index[0] in per_seed:
            a = per_seed[label].to_numpy(float)
            b = per_seed[ctrl.index[0]].to_numpy(float)
            diff, lo, hi = float(a.mean() - b.mean()), math.nan, math.nan
            if len(a) > 1 and len(b) > 1 and (a.std() > 0 or b.std() > 0):
                ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
                lo, hi = float(ci.low), float(ci.high)
            if hi < 0:
                word = "helps (lower gap)"
            elif lo > 0:
                word = "hurts (higher gap)"
            else:
                word = "makes no significant difference at 95 %"
            verdict.update(control=ctrl.index[0], diff_pp=diff, ci_low=lo, ci_high=hi)
            verdict["verdict"] = word
        out.append(verdict)
    return out


def _fmt(mean: float, half: float, d: int) -> str:
    if not np.isfinite(mean):
        return "—"
    s = f"{mean:,.{d}f}"
    return s + (f" ± {half:,.{d}f}" if np.isfinite(half) else "")


def markdown(frame: pd.DataFrame, runs: pd.DataFrame, verdicts: list[dict[str, Any]]) -> str:
    """The agents table, the shaping verdicts and the per-run table in Markdown."""
    lines = ["### Gap to the certified bound: learned agents and baselines", ""]
    lines += [
        "| Method | Algo | Reward | Shaping | n | CI over | Gap (%) | U ($) "
        "| Val. gap at end (%) | Budget (steps) | CPU s / run |",
        "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for _, r in frame.iterrows():
        trained = isinstance(r.get("algo"), str)
        cpu = "—"
        if trained:
            lo, hi = r["cpu_seconds_min"], r["cpu_seconds_max"]
            cpu = f"{r['cpu_seconds_mean']:,.0f} ({lo:,.0f}–{hi:,.0f})"
        cells = [
            str(r["method"]),
            str(r["algo"]) if trained else str(r["kind"]),
            str(r["reward"]) if trained else "—",
            str(r["shaping"]) if trained else "—",
            str(r["n"]),
            f"{r['ci_over']} ({r['episodes']} ep.)",
            _fmt(r["gap_pct_mean"], r["gap_pct_ci95"], 2),
            _fmt(r["utility_mean"], r["utility_ci95"], 1),
            _fmt(r["val_gap_pct_mean"], math.nan, 2) if trained else "—",
            f"{int(r['timesteps']):,}" if trained else "—",
            cpu,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "*Gap: (B − U) / max(|B|, 1) in %, B the tightest certified bound of the episode "
        "(the oracle MILP's best bound). Mean ± 95 % CI (Student t): trained agents over "
        "seeds (each seed: its mean over the test episodes); baselines over seeds when "
        "stochastic, else over episodes. CPU s / run: process time of each training run, "
        "mean (min–max) over seeds.*",
        "",
        "### Does reward shaping help?",
        "",
    ]
    if not verdicts:
        lines.append("No shaped entry in this experiment.")
    for v in verdicts:
        if v["control"] is None:
            note = "no unshaped entry with the same algorithm and reward"
            lines.append(f"* **{v['method']}**: {note}.")
            continue
        ci = (
            f"95 % CI [{v['ci_low']:+.2f}, {v['ci_high']:+.2f}]"
            if np.isfinite(v["ci_low"])
            else "no CI (too few seeds)"
        )
        lines.append(
            f"* **{v['method']}** vs **{v['control']}**: gap {v['diff_pp']:+.2f} pp ({ci}); "
            f"verdict: shaping {v['verdict']}."
        )
    lines += ["", "### Training runs", ""]
    lines += [
        "| Method | Seed | Steps | Wall (s) | CPU (s) | Val. gap at end (%) | Test gap (%) "
        "| corr(r̂, true utility) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in runs.iterrows():
        corr = f"{r['shaping_corr']:.3f}" if np.isfinite(r["shaping_corr"]) else "—"
        lines.append(
            f"| {r['method']} | {r['seed']} | {int(r['timesteps']):,} | {r['seconds']:,.1f} "
            f"| {r['cpu_seconds']:,.1f} | {r['val_gap_pct']:.2f} | {r['test_gap_pct']:.2f} "
            f"| {corr} |"
        )
    return "\n".join(lines) + "\n"


def curves(root: str | Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Every run's learning curve (``train/<key>/learning_curve.csv``) with its method and
    seed; ``env_steps`` = timesteps (÷ number of agents for IPPO)."""
    from aigc_opt.experiments.training import run_dir

    parts = []
    for _, r in runs.iterrows():
        folder = run_dir(root, r["key"])
        path = folder / "learning_curve.csv"
        if not path.is_file():
            continue
        c = pd.read_csv(path)
        agents = 1
        meta = folder / "train.json"
        if meta.is_file():
            agents = len(json.loads(meta.read_text()).get("agents") or [0]) or 1
        steps = c["timesteps"] / agents
        parts.append(c.assign(method=r["method"], seed=r["seed"], env_steps=steps))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def curve_figure(cv: pd.DataFrame, frame: pd.DataFrame) -> Any:
    """Validation gap (%) vs env steps per trained method: mean over seeds with the
    95 % CI band, one panel per algorithm; None without curves."""
    from aigc_opt.reports import style

    if cv.empty:
        return None
    algo = frame.dropna(subset=["algo"]).set_index("method")["algo"].to_dict()
    groups = list(dict.fromkeys(algo[m] for m in cv["method"].unique() if m in algo))
    fig = style.new_figure("text", 2.2 * math.ceil(len(groups) / 2))
    axes = fig.subplots(math.ceil(len(groups) / 2), min(2, len(groups)), squeeze=False).ravel()
    for ax, a in zip(axes, groups, strict=False):
        labels = [m for m in dict.fromkeys(cv["method"]) if algo.get(m) == a]
        for i, m in enumerate(labels):
            g = cv[cv["method"] == m]
            stats = [(x, *ci95(gg["gap_pct_mean"])[:2]) for x, gg in g.groupby("env_steps")]
            x, mean, half = (np.array(v, dtype=float) for v in zip(*stats, strict=True))
            color = style.SERIES_CYCLE[i % len(style.SERIES_CYCLE)]
            ax.plot(x, mean, marker="o", markersize=2, linewidth=1.0, label=m, color=color)
            half = np.nan_to_num(half)
            ax.fill_between(x, mean - half, mean + half, alpha=0.2, color=color, linewidth=0)
        ax.set_title(a, fontsize=8)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("validation gap to bound (%)")
        ax.legend(fontsize=5)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    return fig


def render_agents(
    root: str | Path, df: pd.DataFrame, methods: list[str], out: Path, formats: tuple[str, ...],
    figures_on: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Write ``tables/agents.{md,csv}`` and ``figures/learning_curves.*``; returns the
    Markdown text, the file paths and the verdicts."""
    from aigc_opt.reports import style
    from aigc_opt.solvers.store import write_text

    frame = summarize_agents(df, methods)
    runs = run_table(df)
    verdicts = shaping_verdicts(df)
    text = markdown(frame, runs, verdicts)
    tables = [out / "tables" / "agents.md", out / "tables" / "agents.csv"]
    write_text(tables[0], text)
    write_text(tables[1], frame.to_csv(index=False))
    figs: list[Path] = []
    if figures_on:
        with style.paper_style():
            fig = curve_figure(curves(root, runs), frame)
            if fig is not None:
                figs = style.save(fig, out / "figures", "learning_curves", formats)
    return {"markdown": text, "tables": tables, "figures": figs, "verdicts": verdicts,
            "summary": frame, "runs": runs}  # fmt: skip
