"""Paper tables from stored runs: Markdown, LaTeX (booktabs) and CSV.

`summary_frame` is the one source of every table: one row per run with the numbers MODEL.md
§4 says reports show (utility, bound, gap, the eight terms, energy by source, carbon, jobs
served / transferred / dropped, mean quality, mean wait). The Markdown and LaTeX versions
are transposed (metrics as rows, methods as columns) so that they fit a paper column; the
CSV keeps one row per run with machine-friendly column names carrying units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import SEPARATING_LINE, tabulate

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports.stored_run import Run


@dataclass(frozen=True)
class Metric:
    """One row of the transposed tables.

    ``key`` is the CSV column (unit in its name), ``label`` the row label, ``unit`` shown
    beside it, ``kind`` selects number formatting (usd, pct, mwh, t, jobs, ratio, slots, text).
    """

    key: str
    label: str
    unit: str
    kind: str
    group: str


TERM_LABELS = {
    "revenue": "Revenue",
    "delay_penalty": "Delay penalty",
    "drop_penalty": "Drop penalty",
    "transfer_cost": "Transfer cost",
    "energy_cost": "Energy cost",
    "carbon_cost": "Carbon cost",
    "generator_cost": "Generator cost",
    "battery_wear": "Battery wear",
}

ENERGY_SOURCES = (
    ("grid", "Grid"),
    ("renewable_used", "Renewables used"),
    ("renewable_curtailed", "Renewables curtailed"),
    ("battery_charge", "Battery charge"),
    ("battery_discharge", "Battery discharge"),
    ("generator", "Generator"),
)

METRICS: tuple[Metric, ...] = (
    Metric("status", "Status", "", "text", "Utility"),
    Metric("utility_usd", "Utility U", "$", "usd", "Utility"),
    Metric("bound_usd", "Upper bound", "$", "usd", "Utility"),
    Metric("gap_pct", "Gap to bound", "%", "pct", "Utility"),
    *(Metric(f"{n}_usd", TERM_LABELS[n], "$", "usd", "Utility terms") for n in TERMS),
    *(Metric(f"energy_{k}_mwh", lab, "MWh", "mwh", "Energy") for k, lab in ENERGY_SOURCES),
    Metric("carbon_t", "Carbon", "t CO2", "t", "Energy"),
    Metric("jobs_served", "Jobs served", "jobs", "jobs", "Service"),
    Metric("jobs_transferred", "Jobs transferred", "jobs", "jobs", "Service"),
    Metric("jobs_dropped", "Jobs dropped", "jobs", "jobs", "Service"),
    Metric("mean_quality", "Mean quality", "", "ratio", "Service"),
    Metric("mean_wait_slots", "Mean wait", "slots", "slots", "Service"),
)

DC_COLUMNS = (
    ("grid_mwh", "Grid", "mwh"),
    ("renewable_used_mwh", "Ren. used", "mwh"),
    ("renewable_curtailed_mwh", "Ren. curt.", "mwh"),
    ("battery_charge_mwh", "Bat. ch.", "mwh"),
    ("battery_discharge_mwh", "Bat. dis.", "mwh"),
    ("generator_mwh", "Gen.", "mwh"),
    ("facility_mwh", "Facility", "mwh"),
    ("carbon_t", "CO2 (t)", "t"),
)


# ---------------------------------------------------------------------------------------
# frames
# ---------------------------------------------------------------------------------------
def _f(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(float(v)):
        return float(v)
    return None


def run_row(run: Run) -> dict[str, Any]:
    """All table numbers of one run ($, MWh, t, jobs, slots); None where not stored."""
    k = run.kpis
    e = k.get("energy_mwh")
    energy: dict[str, Any] = e if isinstance(e, dict) else {}
    row: dict[str, Any] = {
        "label": run.label,
        "method": run.method,
        "scenario": run.scenario,
        "horizon": run.horizon,
        "start": run.start,
        "status": run.status,
        "utility_usd": run.utility,
        "bound_usd": run.bound,
        "gap_pct": run.gap_pct,
    }
    if run.summary.get("family"):
        row["family"] = run.summary["family"]
    for n, v in run.terms.items():
        row[f"{n}_usd"] = v
    for key, _ in ENERGY_SOURCES:
        row[f"energy_{key}_mwh"] = _f(energy.get(key))
    for key in (
        "carbon_t",
        "jobs_served",
        "jobs_transferred",
        "jobs_dropped",
        "mean_quality",
        "mean_wait_slots",
    ):
        row[key] = _f(k.get(key))
    if run.kind == "compare":
        row["episodes"] = run.summary.get("episodes")
        row["utility_std_usd"] = _f(run.summary.get("utility_std"))
        row["gap_pct_ci95"] = _f(run.summary.get("gap_pct_ci95"))
    row["forecast"] = run.forecast
    row["source"] = str(run.path or run.source or "")
    return row


def summary_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run (wide, tidy): the CSV table and the source of the other formats."""
    return pd.DataFrame([run_row(r) for r in runs])


def dc_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per (run, data center): energy by source (MWh) and carbon (t)."""
    rows = []
    for r in runs:
        dcs = r.kpis.get("data_centers")
        if not isinstance(dcs, dict):
            continue
        for name, vals in dcs.items():
            if not isinstance(vals, dict):
                continue
            rows.append(
                {
                    "label": r.label,
                    "method": r.method,
                    "scenario": r.scenario,
                    "horizon": r.horizon,
                    "data_center": name,
                    **{c: _f(vals.get(c)) for c, _, _ in DC_COLUMNS},
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------------------
def fmt(v: Any, kind: str, *, latex: bool = False) -> str:
    """Format one cell as plain text: $ and MWh with fixed decimals, jobs as integers with
    thousands separators, small gaps in scientific notation; missing values as an em dash
    (``---`` in LaTeX). The table writer escapes what LaTeX needs escaped."""
    if kind == "text":
        return str(v)
    x = _f(v)
    if x is None:
        return "---" if latex else "—"
    if kind == "jobs":
        return f"{x:,.0f}"
    if kind == "pct":
        if abs(x) < 1e-6:  # solver round-off of a zero gap (1e-8 relative)
            return "0"
        if abs(x) < 0.01:
            mant, exp = f"{x:.1e}".split("e")
            return f"{mant}e{int(exp)}"
        return f"{x:,.2f}"
    if kind == "usd":
        return f"{x:,.2f}"
    if kind in ("mwh", "t"):
        return f"{x:,.3f}"
    if kind == "ratio":
        return f"{x:.4f}"
    if kind == "slots":
        return f"{x:.3f}"
    return f"{x:g}"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _escape(text: str) -> str:
    """LaTeX-escape a caption (table cells are escaped by tabulate)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


# ---------------------------------------------------------------------------------------
# renderers (tabulate: GitHub Markdown, booktabs LaTeX)
# ---------------------------------------------------------------------------------------
def _transposed(frame: pd.DataFrame, metrics: Sequence[Metric]) -> list[tuple[Metric, list[Any]]]:
    return [(m, [row.get(m.key) for row in frame.to_dict("records")]) for m in metrics]


_KNOWN = {m.key for m in METRICS} | {"utility_std_usd"}


def _present(frame: pd.DataFrame) -> list[Metric]:
    """Metrics to show: every metric of MODEL.md §4 (missing numbers appear as dashes);
    when every run belongs to a scenario family (MODEL.md §8), the utility rows and the
    family's own terms (`*_usd` columns, in stored order) instead."""
    family = "family" in frame.columns and frame["family"].notna().all()
    fixed = [m for m in METRICS if m.key in frame.columns and (not family or m.group == "Utility")]
    extra = [
        Metric(
            c, c.removesuffix("_usd").replace("_", " ").capitalize(), "$", "usd", "Utility terms"
        )
        for c in frame.columns
        if c.endswith("_usd") and c not in _KNOWN
    ]
    return [*fixed, *extra]


def _label(m: Metric) -> str:
    return f"{m.label} ({m.unit})" if m.unit else m.label


def _table(rows: list[Any], headers: Sequence[str], left: int, fmt_: str) -> str:
    """``rows`` under ``headers``; the first ``left`` columns left-aligned, numbers right."""
    align = ("left",) * left + ("right",) * (len(headers) - left)
    return str(
        tabulate(rows, headers=list(headers), tablefmt=fmt_, colalign=align, disable_numparse=True)
    )


def summary_markdown(frame: pd.DataFrame, title: str = "") -> str:
    """Metrics as rows, runs as columns (GitHub-flavoured Markdown)."""
    heads = ["Metric", *(str(x).replace("|", "\\|") for x in frame["label"])]
    rows = [
        [_label(m), *(fmt(v, m.kind) for v in vals)]
        for m, vals in _transposed(frame, _present(frame))
    ]
    lines = [f"**{title}**", ""] if title else []
    lines += [_table(rows, heads, 1, "pipe"), "", _NOTE, ""]
    return "\n".join(lines)


_NOTE = (
    "Bound: proven upper bound on U for the same episode (an oracle's best bound, or the "
    "oracle bound stored with a policy run). Gap = 100 (bound − U) / |bound|. "
    "For relaxations (LP, convex) U is the relaxed optimum, itself an upper bound."
)


def _float(tabular: str, *, env: str, caption: str, label: str, scale: bool = False) -> str:
    """Wrap a booktabs ``tabular`` in a ``table``/``table*`` float with caption and label."""
    return "\n".join(
        [
            "% Generated by aigc-opt report from stored results. Requires \\usepackage{booktabs}"
            + (" and \\usepackage{graphicx}." if scale else "."),
            f"\\begin{{{env}}}[t]",
            "\\centering",
            "\\small",
            f"\\caption{{{_escape(caption)}}}",
            f"\\label{{{label}}}",
            *(["\\resizebox{\\textwidth}{!}{%"] if scale else []),
            tabular + ("}" if scale else ""),
            f"\\end{{{env}}}",
            "",
        ]
    )


def summary_latex(frame: pd.DataFrame, *, caption: str, label: str = "tab:aigc-opt-summary") -> str:
    """A booktabs table (``table`` float, ``\\small``), metrics as rows, a rule and a
    group row before each group of metrics after the first."""
    heads = ["Metric", *(str(x) for x in frame["label"])]
    rows: list[Any] = []
    group = None
    for m, vals in _transposed(frame, _present(frame)):
        if m.group != group:
            if group is not None:
                rows += [SEPARATING_LINE, [m.group, *([""] * len(vals))]]
            group = m.group
        rows.append([_label(m), *(fmt(v, m.kind, latex=True) for v in vals)])
    ncol = len(heads) - 1
    env = "table" if ncol <= 4 else "table*"  # more than four methods: full text width
    tabular = _table(rows, heads, 1, "latex_booktabs")
    return _float(tabular, env=env, caption=caption, label=label, scale=ncol > 8)


_DC_HEADS = (
    "Method",
    "Data center",
    *(lab + (" (MWh)" if kind == "mwh" else "") for _, lab, kind in DC_COLUMNS),
)


def _dc_rows(frame: pd.DataFrame, *, latex: bool) -> list[list[str]]:
    return [
        [
            str(row["label"]),
            str(row["data_center"]),
            *(fmt(row[c], kind, latex=latex) for c, _, kind in DC_COLUMNS),
        ]
        for row in frame.to_dict("records")
    ]


def dc_markdown(frame: pd.DataFrame) -> str:
    """Energy by source (MWh) and carbon (t) per (method, data center), Markdown."""
    return _table(_dc_rows(frame, latex=False), _DC_HEADS, 2, "pipe") + "\n"


def dc_latex(frame: pd.DataFrame, *, caption: str, label: str = "tab:aigc-opt-energy") -> str:
    """Energy by source per data center: a booktabs ``table*`` (two columns wide), a rule
    between methods and the method named on its first row only."""
    rows: list[Any] = []
    prev = None
    for row in _dc_rows(frame, latex=True):
        name = row[0]
        if prev is not None and name != prev:
            rows.append(SEPARATING_LINE)
        rows.append(["" if name == prev else name, *row[1:]])
        prev = name
    tabular = _table(rows, _DC_HEADS, 2, "latex_booktabs")
    return _float(tabular, env="table*", caption=caption, label=label)


def _caption(frame: pd.DataFrame) -> str:
    scen = sorted({str(s) for s in frame["scenario"]})
    hor = sorted({int(h) for h in frame["horizon"].dropna()})
    where = f"scenario {', '.join(scen)}"
    if hor:
        where += f", horizon {', '.join(str(h) for h in hor)} slots"
    return (
        f"Utility, bound, utility terms, energy, carbon and service per method ({where}). "
        "Bound: proven upper bound on U for the episode; gap = 100 (bound - U)/|bound|. "
        "For relaxations (LP, convex) U is the relaxed optimum, itself an upper bound."
    )


def write_tables(
    runs: Sequence[Run], out_dir: Path, writer: Callable[[Path, str], None]
) -> list[Path]:
    """Write ``summary.{md,tex,csv}`` and, when per-data-center numbers are stored,
    ``energy_by_dc.{md,tex,csv}`` into ``out_dir/tables``."""
    tdir = out_dir / "tables"
    written: list[Path] = []
    frame = summary_frame(runs)
    md = summary_markdown(frame, title="Utility, bound and KPIs per method")
    written.append(_emit(writer, tdir / "summary.md", md))
    written.append(
        _emit(writer, tdir / "summary.tex", summary_latex(frame, caption=_caption(frame)))
    )
    written.append(_emit(writer, tdir / "summary.csv", frame.to_csv(index=False)))
    dcf = dc_frame(runs)
    if len(dcf):
        written.append(_emit(writer, tdir / "energy_by_dc.md", dc_markdown(dcf)))
        cap = (
            "Energy by source (MWh) and carbon (t CO2) per data center and method; "
            "Facility = PUE times IT energy."
        )
        written.append(_emit(writer, tdir / "energy_by_dc.tex", dc_latex(dcf, caption=cap)))
        written.append(_emit(writer, tdir / "energy_by_dc.csv", dcf.to_csv(index=False)))
    return written


def _emit(writer: Callable[[Path, str], None], path: Path, text: str) -> Path:
    writer(path, text)
    return path
