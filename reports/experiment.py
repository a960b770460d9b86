"""The paper table of an experiment folder (``aigc-opt experiment … --out DIR``).

Reads ``DIR/experiment.json`` and the rows under ``DIR/results`` and ``DIR/failed`` (one
Parquet file per job) and writes, under the report folder::

    tables/experiment.{md,tex,csv}   per scenario, horizon and method: mean ± 95 % CI of
                                     U, gap to the certified bound and the KPIs
    figures/experiment_gap.*         gap per method with 95 % CI error bars
    figures/experiment_gap_vs_noise.*  MPC gap against forecast noise σ (≥ 2 levels)
    figures/experiment_utility.*     mean U per scenario and method with 95 % CI
    tables/agents.*, figures/learning_curves.*  with training runs ([[train]]):
                                     `aigc_opt.reports.trained_agents`
    index.md                         the tables and the figures

The gap of every run is measured against the tightest certified upper bound stored for
its episode (same scenario, horizon and start): the smallest ``best_bound`` of any job of
that episode — the oracle MILP's best bound, the LP or convex optimum, or the bound
program a policy job solved. Gap = (B − U) / max(|B|, 1) in % (`result.gap_to_bound`);
none for the LP and convex relaxations, whose U is itself an upper bound.
Means and 95 % confidence intervals (Student t with n − 1 degrees of freedom) run over the
seeds and episodes of a cell; failed jobs are counted, never averaged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.solvers.result import ci95 as half_width

MANIFEST = "experiment.json"

CAPTION = (
    "Mean ± 95 % CI (Student t) over seeds and episodes; n finished runs per cell (failed "
    "runs counted apart). Gap: (B − U) / max(|B|, 1) in %, B the tightest certified upper "
    "bound stored for the episode; none for the LP and convex relaxations, whose U is itself "
    "an upper bound."
)

# (column, header, unit, decimals): the Markdown / LaTeX table; the CSV has every number
COLUMNS = (
    ("utility", "U", "$", 2),
    ("gap_pct", "Gap", "%", 3),
    ("jobs_served", "Served", "jobs", 0),
    ("jobs_dropped", "Dropped", "jobs", 0),
    ("mean_quality", "Quality", "", 4),
    ("mean_wait_slots", "Wait", "slots", 3),
    ("energy_grid_mwh", "Grid", "MWh", 2),
    ("carbon_t", "Carbon", "t", 2),
    ("seconds", "Time", "s", 2),
)
CSV_METRICS = ("utility", "episode_bound", "gap_usd", "gap_pct", *TERMS)
"""Metrics of every CSV cell, followed by each stored KPI column and ``seconds``."""
KPI_PREFIXES = ("jobs_", "mean_", "energy_", "carbon_")


def metrics(df: pd.DataFrame) -> list[str]:
    """`CSV_METRICS`, the KPI columns the rows hold, then ``seconds``."""
    kpis = [c for c in df.columns if c.startswith(KPI_PREFIXES)]
    return [*CSV_METRICS, *kpis, "seconds"]


class ExperimentInputError(ValueError):
    """The folder is not a readable experiment (one-line message)."""


def is_experiment(path: str | Path) -> bool:
    """True when ``path`` is an experiment folder (it holds ``experiment.json``)."""
    return (Path(path) / MANIFEST).is_file()


def read_rows(root: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and one row per job of it that ran: finished ones from ``results/``,
    failed ones (not finished since) from ``failed/``."""
    root = Path(root)
    try:
        manifest = json.loads((root / MANIFEST).read_text())
        keys = [j["key"] for j in manifest["jobs"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExperimentInputError(
            f"{root / MANIFEST}: not an experiment manifest ({exc})"
        ) from None
    paths = []
    for k in keys:
        for folder in ("results", "failed"):
            p = root / folder / f"{k}.parquet"
            if p.is_file():
                paths.append(p)
                break
    if not paths:
        raise ExperimentInputError(f"{root}: none of the {len(keys)} jobs has a result yet")
    return manifest, pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def with_episode_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``episode_bound`` (the tightest certified bound of the row's episode, $), its
    ``bound_source`` and the gap of U to it (``gap_usd`` $, ``gap_pct`` %)."""
    from aigc_opt.solvers.result import gap_to_bound

    df = df.copy()
    episode = ["scenario", "horizon", "start"]
    ok = df[np.isfinite(df["best_bound"])]
    best = ok.groupby(episode, sort=False)[["best_bound", "bound_method"]].apply(_tightest)
    df = df.merge(best.reset_index(), on=episode, how="left")
    gaps = [
        gap_to_bound(u, b) if np.isfinite(u) and np.isfinite(b) else (None, None)
        for u, b in zip(df["utility"], df["episode_bound"], strict=True)
    ]
    relaxed = [json.loads(p).get("program") in RELAXATIONS for p in df["params"]]
    df["gap_usd"] = [
        math.nan if g[0] is None or r else g[0] for g, r in zip(gaps, relaxed, strict=True)
    ]
    df["gap_pct"] = [
        math.nan if g[1] is None or r else g[1] for g, r in zip(gaps, relaxed, strict=True)
    ]
    return df


RELAXATIONS = ("lp", "convex")
"""Oracle programs whose U is a relaxed optimum (itself an upper bound): no gap shown."""

EXACTNESS = ("oracle-milp", "oracle-lp", "oracle-convex")
"""Bound programs from the most to the least exact solve (simplex/branch-and-bound before
an interior-point conic solve at tolerance 1e-9)."""


def _tightest(g: pd.DataFrame) -> pd.Series:
    """The smallest bound of an episode; among bounds within 1e-6 relative of it (solver
    tolerances), the one of the most exact program."""
    low = float(g["best_bound"].min())
    near = g[g["best_bound"] <= low + 1e-6 * max(1.0, abs(low))]
    rank = near["bound_method"].map({m: i for i, m in enumerate(EXACTNESS)}).fillna(len(EXACTNESS))
    pick = near.loc[rank.idxmin()]
    return pd.Series({"episode_bound": pick["best_bound"], "bound_source": pick["bound_method"]})


def ci95(values: pd.Series) -> tuple[float, float, int]:
    """(mean, half-width of the 95 % CI (`solvers.result.ci95`), n) of the finite values;
    the half-width is NaN for n < 2."""
    x = values.to_numpy(float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0
    half = half_width(x)
    return float(x.mean()), math.nan if half is None else half, n


def summarize(df: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """One row per (scenario, horizon, method): n, failed, statuses, and ``<metric>_mean``
    and ``<metric>_ci95`` for every metric of `metrics`."""
    order = {m: i for i, m in enumerate(methods)}
    out = []
    for (scn, hor, method), g in df.groupby(["scenario", "horizon", "method"], sort=False):
        fin = g[~g["failed"]]
        row: dict[str, Any] = {
            "scenario": scn,
            "horizon": int(hor),
            "method": method,
            "n": int(len(fin)),
            "failed": int(g["failed"].sum()),
            "status": ", ".join(f"{s} {c}" for s, c in g["status"].value_counts().items()),
            "bound_source": ", ".join(sorted(set(fin["bound_source"].dropna()))),
        }
        for m in metrics(df):
            mean, half, _ = ci95(fin[m])
            row[f"{m}_mean"], row[f"{m}_ci95"] = mean, half
        out.append(row)
    frame = pd.DataFrame(out)
    frame["_o"] = frame["method"].map(order).fillna(len(order))
    return frame.sort_values(["scenario", "horizon", "_o"]).drop(columns="_o")


def _cell(mean: float, half: float, decimals: int, latex: bool = False) -> str:
    if not np.isfinite(mean):
        return "---" if latex else "—"
    s = f"{mean:,.{decimals}f}"
    if np.isfinite(half):
        s += (r" $\pm$ " if latex else " ± ") + f"{half:,.{decimals}f}"
    return s.replace(",", "{,}") if latex else s


def markdown(frame: pd.DataFrame, title: str) -> str:
    head = ["Scenario", "H", "Method", "n", "Status"] + [
        f"{h} ({u})" if u else h for _, h, u, _ in COLUMNS
    ]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join(["---"] * 3 + ["---:", "---"] + ["---:"] * len(COLUMNS)) + "|")
    for _, r in frame.iterrows():
        cells = [
            str(r["scenario"]),
            str(r["horizon"]),
            str(r["method"]),
            str(r["n"]),
            str(r["status"]),
        ]
        cells += [_cell(r[f"{c}_mean"], r[f"{c}_ci95"], d) for c, _, _, d in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"*{CAPTION}*", ""]
    return "\n".join(lines)


def _tex(text: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
    ):
        text = text.replace(a, b)
    return text


def latex(frame: pd.DataFrame, label: str = "tab:aigc-opt-experiment") -> str:
    head = ["Scenario", "$H$", "Method", "$n$", "Status"] + [
        f"{h} ({_tex(u)})" if u else h for _, h, u, _ in COLUMNS
    ]
    caption = _tex(CAPTION).replace("±", r"$\pm$").replace("−", "$-$")
    lines = [
        r"\begin{table*}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{caption}}}",
        rf"\label{{{label}}}",
        r"\begin{tabular}{lllrl" + "r" * len(COLUMNS) + "}",
        r"\toprule",
        " & ".join(head) + r" \\",
        r"\midrule",
    ]
    last = None
    for _, r in frame.iterrows():
        if last is not None and r["scenario"] != last:
            lines.append(r"\midrule")
        last = r["scenario"]
        cells = [
            _tex(str(r["scenario"])),
            str(r["horizon"]),
            _tex(str(r["method"])),
            str(r["n"]),
            _tex(str(r["status"])),
        ]
        cells += [_cell(r[f"{c}_mean"], r[f"{c}_ci95"], d, latex=True) for c, _, _, d in COLUMNS]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table*}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------
def _bars(frame: pd.DataFrame, metric: str, ylabel: str) -> Any:
    from aigc_opt.reports import style

    frame = frame[np.isfinite(frame[f"{metric}_mean"])]
    if frame.empty:
        return None
    groups = list(dict.fromkeys(zip(frame["scenario"], frame["horizon"], strict=True)))
    methods = list(dict.fromkeys(frame["method"]))
    fig = style.new_figure("text", 2.6)
    ax = fig.add_subplot()
    width = 0.8 / max(len(methods), 1)
    for i, m in enumerate(methods):
        sub = frame[frame["method"] == m].set_index(["scenario", "horizon"])
        mean = [sub[f"{metric}_mean"].get(g, math.nan) for g in groups]
        half = [sub[f"{metric}_ci95"].get(g, math.nan) for g in groups]
        x = np.arange(len(groups)) + (i - (len(methods) - 1) / 2) * width
        bars = ax.bar(
            x,
            mean,
            width * 0.9,
            yerr=np.nan_to_num(half),
            capsize=2,
            label=m,
            color=style.SERIES_CYCLE[i % len(style.SERIES_CYCLE)],
        )
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in mean], fontsize=5, padding=1)
    ax.set_xticks(np.arange(len(groups)), [f"{s} (H={h})" for s, h in groups])
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend(fontsize=6, ncols=min(len(methods), 4), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def noise_figure(df: pd.DataFrame) -> Any:
    """MPC gap (%) against forecast noise σ, mean ± 95 % CI per σ; None under 2 levels."""
    from aigc_opt.reports import style

    mpc = df[(df["kind"] == "mpc") & np.isfinite(df["noise"]) & ~df["failed"]]
    if mpc["noise"].nunique() < 2:
        return None
    mpc = mpc.assign(L=[json.loads(p).get("lookahead") for p in mpc["params"]])
    fig = style.new_figure("column", 2.4)
    ax = fig.add_subplot()
    for i, ((scn, L), g) in enumerate(mpc.groupby(["scenario", "L"])):
        stats = [(s, *ci95(gg["gap_pct"])[:2]) for s, gg in g.groupby("noise")]
        s, mean, half = (np.array(v, dtype=float) for v in zip(*stats, strict=True))
        ax.errorbar(
            s,
            mean,
            yerr=np.nan_to_num(half),
            marker="o",
            markersize=3,
            capsize=2,
            linewidth=1.0,
            label=f"{scn}, L={L}",
            color=style.SERIES_CYCLE[i % len(style.SERIES_CYCLE)],
        )
    ax.set_xlabel("Forecast noise σ (truth × (1 + ε), ε ~ N(0, σ²))")
    ax.set_ylabel("Gap to certified bound (%)")
    ax.legend(fontsize=6)
    return fig


def render_experiment(
    root: str | Path,
    out: str | Path,
    *,
    figures_on: bool = True,
    formats: tuple[str, ...] = ("png", "pdf"),
) -> dict[str, Any]:
    """Write the tables and figures of the experiment in ``root`` under ``out``."""
    from aigc_opt.reports import style
    from aigc_opt.solvers.store import write_text

    out = Path(out)
    manifest, rows = read_rows(root)
    df_all = with_episode_gaps(rows)
    df = df_all[df_all["kind"] != "train"]  # training runs have no episode of their own
    methods = list(dict.fromkeys(j["method"] for j in manifest["jobs"]))
    frame = summarize(df, methods)
    title = f"Experiment {manifest.get('name', Path(root).name)}"
    tables = [out / "tables" / f"experiment.{ext}" for ext in ("md", "tex", "csv")]
    write_text(tables[0], markdown(frame, title))
    write_text(tables[1], latex(frame))
    write_text(tables[2], frame.to_csv(index=False))
    figs: list[Path] = []
    if figures_on:
        fdir = out / "figures"
        with style.paper_style():
            for stem, fig in (
                ("experiment_gap", _bars(frame, "gap_pct", "Gap to certified bound (%)")),
                ("experiment_utility", _bars(frame, "utility", "Utility U ($)")),
                ("experiment_gap_vs_noise", noise_figure(df)),
            ):
                if fig is not None:
                    figs += style.save(fig, fdir, stem, formats)
    agents: dict[str, Any] = {}
    if (df_all["kind"] == "train").any():
        from aigc_opt.reports.trained_agents import render_agents

        agents = render_agents(root, df_all, methods, out, formats, figures_on)
        tables += agents["tables"]
        figs += agents["figures"]
    index = [f"# {title}", "", markdown(frame, "Results")]
    if agents:
        index += [agents["markdown"]]
    index += ["## Figures", ""]
    index += [f"![{p.stem}]({p.relative_to(out)})" for p in figs if p.suffix == ".png"]
    write_text(out / "index.md", "\n".join(index) + "\n")
    return {
        "verdicts": agents.get("verdicts", []),
        "experiment": str(root),
        "jobs": len(manifest["jobs"]),
        "rows": len(rows),
        "failed": int(rows["failed"].sum()),
        "tables": [str(p) for p in tables],
        "figures": [str(p) for p in figs],
        "summary": frame,
    }
