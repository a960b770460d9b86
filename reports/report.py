"""`render_report`: stored results in, tables and figures out (the ``aigc-opt report`` body).

The output directory receives::

    tables/summary.{md,tex,csv}        per method: U, bound, gap, terms, energy, carbon, jobs
    tables/energy_by_dc.{md,tex,csv}   energy by source and carbon per data center
    figures/*.png, figures/*.pdf       see `aigc_opt.reports.figures`
    index.md                           the summary table and every figure, for browsing
    manifest.json                      inputs read and files written

Every number comes from the files found by `reader.discover`; nothing is recomputed from a
model or solver. An input folder whose files disagree with its ``manifest.json`` (files
left over from another run, or missing) is refused (`ReportInputError`). The output is
written into a fresh folder renamed into place (`store.output_dir`), so a re-rendered
report never keeps files of an earlier one and an interrupted one leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aigc_opt.reports import figures, tables
from aigc_opt.reports.reader import discover
from aigc_opt.reports.stored_run import Collection, ReportInputError
from aigc_opt.solvers import interrupt
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
    from aigc_opt.solvers.store import MANIFEST, manifest_problem, output_dir

    for given in inputs:
        folder = Path(given)
        manifests = folder.rglob(MANIFEST) if folder.is_dir() else []
        for m in manifests:
            problem = manifest_problem(m.parent)
            if problem:
                raise ReportInputError(f"run folder {problem}")
    out = Path(out_dir).absolute()
    col = discover(inputs)
    with output_dir(out, command="report") as tmp:
        tabs = tables.write_tables(col.runs, tmp, write_text)
        interrupt.check("report rendering (tables written, figures not)")
        figs = figures.write_figures(col, tmp, formats) if figures_on else []
        interrupt.check("report rendering (tables and figures written, index not)")
        extra = [_write_index(col, tmp, tabs, figs), _write_manifest(col, tmp, tabs, figs)]

    def moved(paths: list[Path]) -> list[Path]:
        return [out / p.relative_to(tmp) for p in paths]

    return ReportResult(collection=col, tables=moved(tabs), figures=moved(figs), extra=moved(extra))


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
