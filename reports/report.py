"""`render_report`: stored results in, tables and figures out (the ``aigc-opt report`` body).

The output directory receives::

    tables/summary.{md,tex,csv}        per method: U, bound, gap, terms, energy, carbon, jobs
    tables/energy_by_dc.{md,tex,csv}   energy by source and carbon per data center
    figures/*.png, figures/*.pdf       see `aigc_opt.reports.figures`
    index.md                           the summary table and every figure, for browsing
    manifest.json                      inputs read and files written

Every number comes from the files found by `reader.discover`; nothing is recomputed from a
model or solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aigc_opt.reports import figures, tables
from aigc_opt.reports.reader import Collection, discover
from aigc_opt.solvers.store import write_text

FIGURE_DESCRIPTIONS = {
    "dispatch": "energy dispatch per data center (renewables, grid, battery, generator; "
    "battery charge below zero), facility load, renewables available, price "
    "on the right axis",
    "soc": "battery state of charge per data center",
    "jobs": "jobs served per slot by denoising-step level; share of each origin ASP's jobs "
    "served by each ASP (transfers off the diagonal)",
    "utility_decomposition": "revenue and utility U per method; the seven cost terms stacked",
    "gap_to_bound": "gap of U to the episode's upper bound per method (%)",
    "cumulative_utility": "cumulative shortfall of each method's utility against the oracle "
    "MILP, slot by slot (or cumulative U without an oracle run)",
    "mpc_gap_vs_noise": "MPC gap to the bound against forecast noise σ",
}


@dataclass
class ReportResult:
    """What `render_report` read and wrote."""

    collection: Collection
    tables: list[Path]
    figures: list[Path]
    extra: list[Path]

    @property
    def files(self) -> list[Path]:
        return [*self.tables, *self.figures, *self.extra]


def render_report(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    figures_on: bool = True,
    formats: Sequence[str] = ("png", "pdf"),
) -> ReportResult:
    """Read stored results under ``inputs`` and write tables and figures to ``out_dir``."""
    out = Path(out_dir)
    col = discover(inputs)
    tabs = tables.write_tables(col.runs, out, write_text)
    figs = figures.write_figures(col, out, formats) if figures_on else []
    extra = [_write_index(col, out, tabs, figs), _write_manifest(col, out, tabs, figs)]
    return ReportResult(collection=col, tables=tabs, figures=figs, extra=extra)


def describe_figure(path: Path) -> str:
    """One-line description of a figure file, from its name."""
    stem = path.stem
    for key in sorted(FIGURE_DESCRIPTIONS, key=len, reverse=True):
        if stem == key or stem.startswith(key + "_"):
            rest = stem[len(key) + 1 :]
            return FIGURE_DESCRIPTIONS[key] + (f" ({rest})" if rest else "")
    return stem


def _write_index(col: Collection, out: Path, tabs: list[Path], figs: list[Path]) -> Path:
    lines = ["# aigc-opt report", "", "Rendered from stored results:", ""]
    for r in col.runs:
        lines.append(
            f"- **{r.label}**: `{r.path or r.source}` ({r.method}, scenario "
            f"{r.scenario}, horizon {r.horizon}, start {r.start}, status {r.status})"
        )
    lines += ["", "## Summary", ""]
    md = out / "tables" / "summary.md"
    if md.is_file():
        lines.append(md.read_text())
    lines += ["## Tables", ""]
    lines += [f"- [{p.relative_to(out)}]({p.relative_to(out)})" for p in tabs]
    lines += ["", "## Figures", ""]
    for p in figs:
        if p.suffix == ".png":
            rel = p.relative_to(out)
            lines += [f"### {p.stem}", "", describe_figure(p) + ".", "", f"![{p.stem}]({rel})", ""]
    path = out / "index.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


def _write_manifest(col: Collection, out: Path, tabs: list[Path], figs: list[Path]) -> Path:
    from aigc_opt.solvers.store import run_metadata, write_json

    path = out / "manifest.json"
    write_json(
        path,
        {
            "inputs": [str(p) for p in col.inputs],
            "runs": [
                {
                    "label": r.label,
                    "method": r.method,
                    "scenario": r.scenario,
                    "horizon": r.horizon,
                    "start": r.start,
                    "status": r.status,
                    "source": str(r.path or r.source),
                    "kind": r.kind,
                }
                for r in col.runs
            ],
            "tables": [str(p.relative_to(out)) for p in tabs],
            "figures": [str(p.relative_to(out)) for p in figs],
            "versions": run_metadata(),
        },
    )
    return path
