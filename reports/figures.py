"""Paper figures from stored runs (PNG and PDF, one style: `aigc_opt.reports.style`).

Size: one function per figure of the paper set, all drawn in one style from the same
`Collection`; the comparison figure already lives in `compare_figures.py`.

Per run (when its schedule tables are stored):

* ``dispatch_<run>``: per data center, the energy supplied each slot by source (renewables
  used, grid, battery discharge, generator; battery charge below zero), the facility load,
  the renewable energy available, and the electricity price on a second axis;
* ``soc_<run>``: battery state of charge per data center (% of capacity, or MWh);
* ``jobs_<run>``: jobs served per slot by denoising-step level, and the share of each
  origin ASP's jobs served by each ASP (transfers are the off-diagonal cells).

Across the runs of one episode (same scenario, horizon and start):

* ``utility_decomposition``: revenue and utility U per method, and the seven cost terms;
* ``gap_to_bound``: gap of each method's U to the episode's upper bound (%; log axis when
  gaps span orders of magnitude; relaxations, whose U is itself a bound, left out);
* ``cumulative_utility``: utility accumulated slot by slot — as the shortfall against the
  oracle MILP when one is among the runs (symlog axis when shortfalls span orders of
  magnitude), else U itself;
* ``mpc_gap_vs_noise``: for MPC runs with noisy forecasts (≥ 2 noise levels), the gap to the
  bound against the forecast noise σ.

Per comparison table (``compare.parquet``): ``compare_gaps`` (error bars, per-episode
strip plot, methods ordered by gap, DRL grouped; `aigc_opt.reports.compare_figures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports import style
from aigc_opt.reports.reader import slug
from aigc_opt.reports.stored_run import Collection, Run
from aigc_opt.reports.tables import TERM_LABELS
from aigc_opt.solvers import interrupt

# ---------------------------------------------------------------------------------------
# per-run figures
# ---------------------------------------------------------------------------------------
_SOURCES = (  # (column, label, colour key), stacked bottom to top
    ("renewable_used_mwh", "Renewables used", "renewable"),
    ("grid_mwh", "Grid", "grid"),
    ("discharge_mwh", "Battery discharge", "discharge"),
    ("generator_mwh", "Generator", "generator"),
)


def _time_axis(ax: Axes, n_slots: int, dt: float) -> None:
    ax.set_xlim(0, n_slots * dt)
    ax.set_xlabel("Time since start of horizon (h)")
    step = _nice_step(n_slots * dt)
    ax.set_xticks(np.arange(0, n_slots * dt + 1e-9, step))


def _nice_step(span_h: float) -> float:
    for s in (1, 2, 3, 4, 6, 12, 24, 48, 168):
        if span_h / s <= 9:
            return float(s)
    return float(round(span_h / 8))


def dispatch_figure(run: Run) -> Figure | None:
    """Energy dispatch stack per data center with the price on a second axis."""
    e = run.table("energy")
    if e is None or not len(e):
        return None
    dt = run.slot_hours
    dcs = list(dict.fromkeys(e["data_center"]))
    present = [s for s in _SOURCES if s[0] in e.columns and float(e[s[0]].abs().sum()) > 1e-12]
    if not present:
        present = [_SOURCES[1]]
    has_charge = "charge_mwh" in e.columns and float(e["charge_mwh"].abs().sum()) > 1e-12
    fig = style.new_figure("text", 0.55 + 1.35 * len(dcs))
    axes = fig.subplots(len(dcs), 1, sharex=True, squeeze=False)[:, 0]
    price_axes: list[tuple[Axes, np.ndarray]] = []
    for ax, dc in zip(axes, dcs, strict=True):
        d = e[e["data_center"] == dc].sort_values("slot")
        t = d["slot"].to_numpy(int) * dt
        bottom = np.zeros(len(d))
        te = np.append(t, t[-1] + dt)
        for col, _lab, ck in present:
            v = d[col].to_numpy(float)
            ax.stairs(
                bottom + v,
                te,
                baseline=bottom,
                fill=True,
                color=style.SOURCE_COLORS[ck],
                linewidth=0,
            )
            bottom = bottom + v
        load = bottom.copy()
        if has_charge:
            ch = d["charge_mwh"].to_numpy(float)
            ax.stairs(
                -ch, te, baseline=0.0, fill=True, color=style.SOURCE_COLORS["charge"], linewidth=0
            )
            load = load - ch
        ax.step(te, np.append(load, load[-1]), where="post", color="black", linewidth=0.9)
        if "renewable_available_mwh" in d.columns:
            ra = d["renewable_available_mwh"].to_numpy(float)
            ax.step(
                te,
                np.append(ra, ra[-1]),
                where="post",
                color=style.RENEWABLE_LINE,
                linewidth=0.9,
                linestyle=(0, (2, 1.2)),
            )
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_ylabel("Energy\n(MWh/slot)")
        ax.set_title(str(dc), loc="left", fontweight="bold")
        ax.grid(axis="x", visible=False)
        ymax = max(float(np.nanmax(bottom)), float(np.nanmax(load)), 1e-9)
        if "renewable_available_mwh" in d.columns:
            ymax = max(ymax, float(np.nanmax(d["renewable_available_mwh"])))
        ymin = -float(np.nanmax(d["charge_mwh"])) if has_charge else 0.0
        ax.set_ylim(min(ymin * 1.1, 0.0), ymax * 1.1)
        if "price_usd_per_mwh" in d.columns:
            ax2 = ax.twinx()
            p = d["price_usd_per_mwh"].to_numpy(float)
            ax2.step(te, np.append(p, p[-1]), where="post", color=style.PRICE_COLOR, linewidth=1.0)
            ax2.set_ylabel("Price\n($/MWh)", color=style.PRICE_COLOR)
            ax2.tick_params(axis="y", colors=style.PRICE_COLOR)
            ax2.spines["right"].set_visible(True)
            ax2.spines["right"].set_color(style.PRICE_COLOR)
            ax2.grid(False)
            _align_zero(ax, ax2, p)
            price_axes.append((ax2, p))
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    _time_axis(axes[-1], int(e["slot"].max()) + 1, dt)
    handles = [Patch(color=style.SOURCE_COLORS[ck], label=lab) for _c, lab, ck in present]
    if has_charge:
        handles.append(Patch(color=style.SOURCE_COLORS["charge"], label="Battery charge (−)"))
    from matplotlib.lines import Line2D

    handles.append(Line2D([], [], color="black", linewidth=0.9, label="Facility load"))
    if "renewable_available_mwh" in e.columns:
        handles.append(
            Line2D(
                [],
                [],
                color=style.RENEWABLE_LINE,
                linewidth=0.9,
                linestyle=(0, (2, 1.2)),
                label="Renewables available",
            )
        )
    if price_axes:
        handles.append(
            Line2D([], [], color=style.PRICE_COLOR, linewidth=1.0, label="Price (right axis)")
        )
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 4))
    axes[0].set_title(f"{run.label} · {run.scenario}", loc="right", fontsize=7, color="#555555")
    return fig


def _align_zero(ax: Axes, ax2: Axes, price: np.ndarray) -> None:
    """Scale the price axis so that its zero sits at the energy axis' zero."""
    lo, hi = ax.get_ylim()
    frac = -lo / (hi - lo) if hi > lo else 0.0  # height of zero in the axes (0..1)
    pmax = max(float(np.nanmax(price)), 0.0)
    pmin = min(float(np.nanmin(price)), 0.0)
    if frac <= 0.0:
        top = pmax * 1.08 if pmax > 0 else 1.0
        bottom = pmin * 1.08 if pmin < 0 else 0.0
        ax2.set_ylim(bottom, top)
        if bottom < 0:  # negative prices: open the energy axis below zero to match
            f = -bottom / (top - bottom)
            ax.set_ylim(-f / (1 - f) * hi, hi)
        return
    top = max(pmax * 1.08, -pmin * 1.08 * (1 - frac) / frac, 1e-9)
    lo2 = -top * frac / (1 - frac)
    ax2.set_ylim(lo2, top)
    floor = pmin * 1.08 if pmin < 0 else 0.0  # no price ticks below the lowest price
    ticks = [t for t in ax2.get_yticks() if floor - 1e-9 <= t <= top]
    ax2.set_yticks(ticks)
    ax2.set_ylim(lo2, top)
    ax2.spines["right"].set_bounds(floor, top)


_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))


def soc_figure(run: Run) -> Figure | None:
    """Battery state of charge over time per data center (% of capacity when stored)."""
    e = run.table("energy")
    if e is None or "soc_mwh" not in e.columns or not len(e):
        return None
    dt = run.slot_hours
    dcs = list(dict.fromkeys(e["data_center"]))
    batts = {dc: run.battery(dc) for dc in dcs}
    with_batt = [
        dc for dc in dcs if batts[dc] is None or float(batts[dc].get("capacity_mwh") or 0) > 0
    ]
    if run.scenario_params is not None:
        with_batt = [dc for dc in with_batt if batts[dc] is not None]
    if not with_batt:
        return None
    pct = all(
        batts[dc] is not None and float(batts[dc].get("capacity_mwh") or 0) > 0 for dc in with_batt
    )
    fig = style.new_figure("column", 2.3)
    ax = fig.add_subplot()
    n = int(e["slot"].max()) + 1
    for i, dc in enumerate(with_batt):
        d = e[e["data_center"] == dc].sort_values("slot")
        soc = d["soc_mwh"].to_numpy(float)
        b = batts[dc]
        e0 = float(b.get("soc_initial_mwh", np.nan)) if b else np.nan
        t = np.arange(len(soc) + 1) * dt
        y = np.concatenate([[e0], soc])
        if pct:
            y = 100.0 * y / float(b["capacity_mwh"])  # type: ignore[index]
        ax.plot(
            t if np.isfinite(y[0]) else t[1:],
            y if np.isfinite(y[0]) else y[1:],
            label=str(dc),
            marker=_MARKERS[i % len(_MARKERS)],
            markersize=2.2,
            linestyle=_LINESTYLES[i % len(_LINESTYLES)],
        )
    if pct:
        ax.set_ylabel("State of charge (% of capacity)")
        ax.set_ylim(0, 105)
        mins = {
            round(
                float(batts[dc].get("soc_min_mwh") or 0)  # type: ignore[union-attr]
                / float(batts[dc]["capacity_mwh"]),
                9,
            )  # type: ignore[index]
            for dc in with_batt
        }
        if len(mins) == 1 and next(iter(mins)) > 0:
            ax.axhline(100 * next(iter(mins)), color="black", linewidth=0.6, linestyle=(0, (3, 2)))
            ax.annotate(
                "minimum SoC",
                (n * dt, 100 * next(iter(mins))),
                xytext=(-2, -2),
                textcoords="offset points",
                fontsize=6,
                ha="right",
                va="top",
            )
    else:
        ax.set_ylabel("State of charge (MWh)")
    _time_axis(ax, n, dt)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(with_batt), 4))
    return fig


def jobs_figure(run: Run) -> Figure | None:
    """(a) Jobs served per slot by step level (stacked); (b) origin × server shares (%)."""
    j = run.table("jobs")
    if j is None or not len(j):
        return None
    dt = run.slot_hours
    fig = style.new_figure("text", 2.7)
    gs = fig.add_gridspec(1, 2, width_ratios=[1.35, 1.0])
    ax = fig.add_subplot(gs[0, 0])
    pv = j.pivot_table(index="slot", columns="steps", values="jobs", aggfunc="sum", fill_value=0)
    n_slots = run.horizon or int(pv.index.max()) + 1
    pv = pv.reindex(range(n_slots), fill_value=0.0).sort_index(axis=1)
    scale, unit = _job_scale(float(pv.sum(axis=1).max()))
    cmap = _steps_cmap()
    params = run.scenario_params or {}
    all_levels = sorted({*(int(x) for x in params.get("steps", []) or []), *map(int, pv.columns)})
    levels = list(pv.columns)
    bottom = np.zeros(len(pv))
    te = np.arange(len(pv) + 1) * dt
    for lev in levels:
        i = all_levels.index(int(lev))
        v = pv[lev].to_numpy(float) / scale
        ax.stairs(
            bottom + v,
            te,
            baseline=bottom,
            fill=True,
            linewidth=0,
            color=cmap(0.1 + 0.85 * i / max(len(all_levels) - 1, 1)),
            label=f"{lev}",
        )
        bottom = bottom + v
    ax.set_ylabel(f"Jobs served per slot ({unit})")
    _time_axis(ax, n_slots, dt)
    ax.set_ylim(0, max(float(bottom.max()), 1e-9) * 1.05)
    hs, ls = ax.get_legend_handles_labels()
    ax.legend(
        hs[::-1],
        ls[::-1],
        title="Denoising\nsteps",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        handlelength=1.0,
        title_fontsize=7,
    )
    ax.set_title("(a) jobs served by step level", loc="left")
    ax.grid(axis="x", visible=False)

    ax2 = fig.add_subplot(gs[0, 1])
    m = j.pivot_table(
        index="origin", columns="server", values="jobs", aggfunc="sum", fill_value=0.0
    )
    order = [a.get("name") for a in params.get("asps", []) or [] if isinstance(a, dict)]
    names = [n for n in order if n in set(m.index) | set(m.columns)]
    names += [n for n in dict.fromkeys([*m.index, *m.columns]) if n not in names]
    m = m.reindex(index=names, columns=names, fill_value=0.0)
    tot = m.sum(axis=1).replace(0, np.nan)
    share = 100.0 * m.div(tot, axis=0).fillna(0.0)
    im = ax2.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax2.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax2.set_yticks(range(len(names)), names)
    ax2.set_xlabel("Serving ASP")
    ax2.set_ylabel("Origin ASP")
    ax2.grid(False)
    for (r, c), v in np.ndenumerate(share.to_numpy()):
        if v >= 0.05:
            ax2.text(
                c,
                r,
                f"{v:.0f}" if v >= 1 else "<1",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if v > 55 else "black",
            )
    cb = fig.colorbar(im, ax=ax2, fraction=0.05, pad=0.02)
    cb.set_label("Share of origin's served jobs (%)")
    cb.outline.set_linewidth(0.4)
    moved = float(m.to_numpy().sum() - np.trace(m.to_numpy()))
    total = float(m.to_numpy().sum())
    ax2.set_title(
        f"(b) routing: {100 * moved / total if total else 0:.1f}% transferred", loc="left"
    )
    return fig


def _job_scale(peak: float) -> tuple[float, str]:
    if peak >= 2e6:
        return 1e6, "million jobs"
    if peak >= 2e3:
        return 1e3, "thousand jobs"
    return 1.0, "jobs"


def _steps_cmap():
    import matplotlib

    return matplotlib.colormaps["viridis"]


# ---------------------------------------------------------------------------------------
# figures across the runs of one episode
# ---------------------------------------------------------------------------------------
def _money_scale(vals: Sequence[float]) -> tuple[float, str]:
    peak = max((abs(v) for v in vals if v is not None and np.isfinite(v)), default=0.0)
    if peak >= 2e6:
        return 1e6, "million $"
    if peak >= 2e4:
        return 1e3, "thousand $"
    return 1.0, "$"


def _fmt_money(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def decomposition_figure(runs: Sequence[Run]) -> Figure | None:
    """(a) revenue and U per method; (b) the seven cost terms stacked per method ($)."""
    rs = [r for r in runs if r.utility is not None and r.terms.get("revenue") is not None]
    if not rs:
        return None
    labels = [r.label for r in rs]
    y = np.arange(len(rs))[::-1]
    fig = style.new_figure("text", 1.35 + 0.3 * len(rs))
    ax1, ax2 = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.0, 1.25]})
    rev = np.array([r.terms["revenue"] for r in rs], dtype=float)
    U = np.array([r.utility for r in rs], dtype=float)
    sc, unit = _money_scale([*rev, *U])
    h = 0.38
    ax1.barh(y + h / 2, rev / sc, height=h, color=style.TERM_COLORS["revenue"], label="Revenue")
    ax1.barh(y - h / 2, U / sc, height=h, color=style.UTILITY_COLOR, label="Utility U")
    for yi, u in zip(y, U, strict=True):
        ax1.annotate(
            _fmt_money(u / sc),
            (max(u / sc, 0.0), yi - h / 2),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
        )
    ax1.set_yticks(y, labels)
    ax1.set_xlabel(f"Revenue and utility ({unit})")
    ax1.set_xlim(
        min(0.0, float(np.nanmin(U / sc)) * 1.15),
        max(float(np.nanmax(rev / sc)), float(np.nanmax(U / sc))) * 1.2,
    )
    ax1.grid(axis="y", visible=False)
    ax1.set_title("(a) revenue and utility U", loc="left")

    costs = TERMS[1:]
    vals = np.array([[r.terms.get(n) or 0.0 for n in costs] for r in rs], dtype=float)
    csc, cunit = _money_scale(list(vals.sum(axis=1)) + list(np.abs(vals).ravel()))
    used = [i for i, n in enumerate(costs) if np.any(np.abs(vals[:, i]) > 1e-9)] or [0]
    pos = np.zeros(len(rs))
    neg = np.zeros(len(rs))
    for i in used:
        v = vals[:, i] / csc
        left = np.where(v >= 0, pos, neg)
        ax2.barh(
            y,
            v,
            left=left,
            height=0.62,
            color=style.TERM_COLORS[costs[i]],
            label=TERM_LABELS[costs[i]],
            linewidth=0,
        )
        pos = pos + np.maximum(v, 0)
        neg = neg + np.minimum(v, 0)
    tot = vals.sum(axis=1) / csc
    for yi, p, tv in zip(y, pos, tot, strict=True):
        ax2.annotate(
            _fmt_money(tv),
            (p, yi),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
        )
    ax2.axvline(0, color="black", linewidth=0.5)
    ax2.set_xlabel(f"Cost terms ({cunit}; negative = earning)")
    ax2.set_xlim(min(0.0, float(neg.min()) * 1.1), max(float(pos.max()), 1e-9) * 1.18)
    ax2.grid(axis="y", visible=False)
    ax2.tick_params(labelleft=False)
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(
        h1 + h2,
        l1 + l2,
        loc="outside lower center",
        ncol=min(len(h1 + h2), 5),
        handlelength=1.0,
        columnspacing=1.0,
    )
    ax2.set_title("(b) costs, total at the bar end (U = revenue − costs)", loc="left")
    return fig


def gap_figure(runs: Sequence[Run]) -> Figure | None:
    """Gap of U to the episode's upper bound (%), one bar per method (relaxations, whose
    U is itself a bound, are left out)."""
    rs = [r for r in runs if r.gap_pct is not None and not r.is_relaxation]
    if not rs:
        return None
    fig = style.new_figure("column", 0.9 + 0.26 * len(rs))
    ax = fig.add_subplot()
    y = np.arange(len(rs))[::-1]
    g = np.array([r.gap_pct for r in rs], dtype=float)
    g = np.where(np.abs(g) < 1e-9, 0.0, g)
    pos = g[g > 0]
    log = bool(len(pos) == len(g) and pos.max() / pos.min() > 100)
    if log:  # gaps spanning orders of magnitude (MIP gap vs heuristics): log axis
        lo = 10 ** np.floor(np.log10(pos.min() / 2))
        ax.set_xscale("log")
        ax.barh(y, g - lo, left=lo, color=style.OKABE_ITO["blue"], height=0.6)
        ax.set_xlim(lo, pos.max() * 8)
    else:
        ax.barh(y, g, color=style.OKABE_ITO["blue"], height=0.6)
        span = max(float(np.nanmax(np.abs(g))), 1e-6)
        ax.set_xlim(min(0.0, float(np.nanmin(g)) * 1.1), span * 1.3)
        ax.axvline(0, color="black", linewidth=0.5)
    for yi, v in zip(y, g, strict=True):
        ax.annotate(
            f"{v:.3g}%",
            (v if log else max(v, 0.0), yi),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
        )
    ax.set_yticks(y, [r.label for r in rs])
    ax.set_xlabel("Gap to upper bound (%" + (", log scale)" if log else ")"))
    ax.grid(axis="y", visible=False)
    return fig


def _cumulative(run: Run) -> np.ndarray:
    ps = run.table("per_slot").sort_values("slot")  # type: ignore[union-attr]
    u = ps["revenue"].to_numpy(float) - ps[list(TERMS[1:])].to_numpy(float).sum(axis=1)
    return np.concatenate([[0.0], np.cumsum(u)])


def cumulative_figure(runs: Sequence[Run]) -> Figure | None:
    """Utility accumulated slot by slot ($, from ``per_slot.parquet``): as the shortfall
    against the oracle MILP of the episode when one is among the runs, else as U itself."""
    rs = [r for r in runs if r.has_table("per_slot") and not r.is_relaxation]
    if not rs:
        return None
    ref = next((r for r in rs if r.method == "oracle-milp"), None)
    others = [r for r in rs if ref is None or r.method != ref.method]
    fig = style.new_figure("column", 2.2 + 0.13 * max(len(others if ref else rs) - 2, 0))
    ax = fig.add_subplot()
    dt = rs[0].slot_hours
    if ref is not None and others:
        base = _cumulative(ref)
        curves = [(r, base[: len(c)] - c[: len(base)]) for r in others for c in [_cumulative(r)]]
        ylab = f"Cumulative shortfall\nvs {ref.method}"
    else:
        curves = [(r, _cumulative(r)) for r in rs]
        ylab = "Cumulative utility"
    sc, unit = _money_scale([float(np.max(np.abs(c))) for _, c in curves])
    n = max(len(c) - 1 for _, c in curves)
    for i, (r, c) in enumerate(curves):
        ax.plot(
            np.arange(len(c)) * dt,
            c / sc,
            label=r.label,
            linestyle=_LINESTYLES[(i // len(style.SERIES_CYCLE)) % len(_LINESTYLES)],
        )
    ends = np.array([abs(float(c[-1])) / sc for _, c in curves])
    nz = ends[ends > 0]
    if ref is not None and len(nz) > 1 and nz.max() / nz.min() > 100:
        # shortfalls spanning orders of magnitude: linear near zero, logarithmic beyond
        ax.set_yscale("symlog", linthresh=float(10 ** np.floor(np.log10(nz.min()))))
        ax.set_ylabel(f"{ylab} ({unit}, symlog)")
    else:
        ax.set_ylabel(f"{ylab} ({unit})")
    _time_axis(ax, n, dt)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2 if len(curves) > 1 else 1)
    return fig


def noise_figure(runs: Sequence[Run]) -> Figure | None:
    """MPC gap to the bound (%) against the forecast noise σ; None unless ≥ 2 σ levels."""
    rs = [r for r in runs if r.is_mpc and r.forecast_noise is not None and r.gap_pct is not None]
    if len({r.forecast_noise for r in rs}) < 2:
        return None
    fig = style.new_figure("column", 2.3)
    ax = fig.add_subplot()
    df = pd.DataFrame(
        {
            "sigma": [r.forecast_noise for r in rs],
            "gap": [r.gap_pct for r in rs],
            "L": [r.lookahead if r.lookahead is not None else -1 for r in rs],
        }
    )
    for i, (L, grp) in enumerate(df.groupby("L")):
        color = style.SERIES_CYCLE[i % len(style.SERIES_CYCLE)]
        label = f"lookahead {L} slots" if L >= 0 else "MPC"
        ax.scatter(grp["sigma"], grp["gap"], s=10, color=color, alpha=0.6, linewidths=0)
        agg = grp.groupby("sigma")["gap"].agg(["mean", "std", "count"]).reset_index()
        err = agg["std"].where(agg["count"] > 1).fillna(0).to_numpy()
        ax.errorbar(
            agg["sigma"],
            agg["mean"],
            yerr=err,
            color=color,
            marker="o",
            markersize=3,
            capsize=2,
            linewidth=1.0,
            label=label,
        )
    ax.set_xlabel("Forecast noise σ (relative std. of ε, truth × (1 + ε))")
    ax.set_ylabel("Gap to upper bound (%)")
    ax.set_xlim(left=min(0.0, float(df["sigma"].min())) - 0.01)
    ax.set_ylim(bottom=min(0.0, float(df["gap"].min()) * 1.1))
    ax.legend(loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------
def write_figures(
    col: Collection, out_dir: Path, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Render every figure the stored results allow into ``out_dir/figures``."""
    fdir = out_dir / "figures"
    written: list[Path] = []
    episodes = col.episodes()
    multi = len(episodes) > 1
    with style.paper_style():
        for r in col.runs:
            for name, fn in (
                ("dispatch", dispatch_figure),
                ("soc", soc_figure),
                ("jobs", jobs_figure),
            ):
                written += _render(fn(r), fdir, f"{name}_{slug(r.label)}", formats)
        for (scn, hor, start, group), rs in episodes.items():
            suffix = ""
            if multi:
                suffix = "_" + slug(
                    f"{scn}_H{hor}"
                    + (f"_s{start}" if start else "")
                    + (f"_{group.split(' ')[0]}" if group else "")
                )
            for name, fn in (
                ("utility_decomposition", decomposition_figure),
                ("gap_to_bound", gap_figure),
                ("cumulative_utility", cumulative_figure),
                ("mpc_gap_vs_noise", noise_figure),
            ):
                written += _render(fn(rs), fdir, f"{name}{suffix}", formats)
        from aigc_opt.reports.compare_figures import compare_gap_figure, compare_sources

        tables = [r.source for r in col.runs if r.kind == "compare" and r.source is not None]
        for src, df in compare_sources(tables):
            stem = "compare_gaps" + (f"_{slug(src.parent.name)}" if len(set(tables)) > 1 else "")
            written += _render(compare_gap_figure(df), fdir, stem, formats)
    return written


def _render(fig: Figure | None, fdir: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    interrupt.check(f"report rendering (figure {stem})")
    if fig is None:
        return []
    return style.save(fig, fdir, stem, formats)
