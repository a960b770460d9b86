"""Figures of a DRL comparison (``aigc-opt compare --out``: ``compare.parquet``).

``compare_gaps_<source>``: every method's gap to the episode's certified bound (%), one
row per method — the mean with its 95 % confidence interval (Student t over episodes,
`aigc_opt.solvers.result.ci95`) as an error bar and every episode as a dot (strip
plot, jittered). Methods are grouped — baselines (oracle, MPC, heuristics) first, then
the loaded / trained policies — and ordered by mean gap inside each group, smallest
on top.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aigc_opt.drl_compare.compare import BASELINES
from aigc_opt.reports import style
from aigc_opt.solvers.result import ci95


def gap_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Per method: group (``baseline`` / ``policy``), mean, 95 % CI half-width and the
    per-episode gaps (%), ordered by group then mean gap."""
    g = df[df["metric"].astype(str) == "gap_pct"]
    rows = []
    for method, grp in g.groupby("method", sort=False):
        v = grp["value"].to_numpy(float)
        rows.append(
            {
                "method": str(method),
                "group": "baseline" if method in BASELINES else "policy",
                "mean": float(v.mean()),
                "ci95": ci95(v),
                "values": v,
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["rank"] = (out["group"] == "policy").astype(int)
    return out.sort_values(["rank", "mean"], kind="stable").reset_index(drop=True)


def compare_gap_figure(df: pd.DataFrame) -> Figure | None:
    """The figure of the module doc from a tidy comparison table; None without gaps."""
    rows = gap_rows(df)
    if rows.empty:
        return None
    n = len(rows)
    fig = style.new_figure("column", 0.9 + 0.28 * n)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    rng = np.random.default_rng(0)  # jitter only
    colors = {"baseline": style.OKABE_ITO["blue"], "policy": style.OKABE_ITO["vermillion"]}
    for yi, r in zip(y, rows.itertuples(), strict=True):
        c = colors[r.group]
        jit = rng.uniform(-0.18, 0.18, r.values.size)
        ax.scatter(r.values, yi + jit, s=7, color=c, alpha=0.45, linewidths=0, zorder=2)
        err = 0.0 if r.ci95 is None else r.ci95
        ax.errorbar(r.mean, yi, xerr=err, fmt="o", color=c, markersize=3.5, capsize=2.5, zorder=3)
        ci = "" if r.ci95 is None else f" ± {r.ci95:.2f}"
        ax.annotate(
            f"{r.mean:.2f}{ci} %", (r.mean + err, yi), xytext=(4, 0),
            textcoords="offset points", va="center", fontsize=6,
        )  # fmt: skip
    n_base = int((rows["group"] == "baseline").sum())
    if 0 < n_base < n:  # a rule between the baselines and the policies
        ax.axhline(y[n_base - 1] - 0.5, color="grey", linewidth=0.6, linestyle="--")
    ax.set_yticks(y, rows["method"].tolist())
    for lab, grp in zip(ax.get_yticklabels(), rows["group"], strict=True):
        lab.set_color(colors[grp])
    allv = np.concatenate(rows["values"].to_list())
    tops = rows["mean"] + rows["ci95"].fillna(0.0).astype(float)
    hi = max(float(allv.max()), float(tops.max()), 1e-6)
    ax.set_xlim(min(0.0, float(allv.min())), hi * 1.5)
    ax.axvline(0, color="black", linewidth=0.5)
    n_ep = int(df["episode"].nunique()) if "episode" in df else 1
    ax.set_xlabel("Gap to bound (%): mean ± 95 % CI")
    ax.set_title(f"dots: the {n_ep} episodes", fontsize=7)
    ax.grid(axis="y", visible=False)
    return fig


def compare_sources(paths: list[Path]) -> list[tuple[Path, pd.DataFrame]]:
    """The distinct comparison tables among ``paths`` with their frames."""
    out = []
    for p in dict.fromkeys(paths):
        out.append((p, pd.read_parquet(p)))
    return out
