"""One figure style for every report figure: sizes for a two-column paper, fonts, a
colour-blind-safe palette (Okabe-Ito) with fixed colours per energy source and utility term,
and atomic saving to PNG and PDF.

Figures are built with the object-oriented API on the Agg canvas (`matplotlib.figure.Figure`
+ `FigureCanvasAgg`), so nothing touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler

from aigc_opt.solvers.store import atomic_write

COLUMN_WIDTH_IN = 3.5
"""Width of one column of a two-column paper (IEEE/ACM ≈ 3.5 in)."""
TEXT_WIDTH_IN = 7.16
"""Width of the full text block of a two-column paper (in)."""

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
}

SOURCE_COLORS = {
    "grid": "#8C8C8C",
    "renewable": OKABE_ITO["green"],
    "discharge": OKABE_ITO["blue"],
    "charge": OKABE_ITO["sky"],
    "generator": OKABE_ITO["vermillion"],
}
"""Energy sources in dispatch figures."""

TERM_COLORS = {
    "revenue": OKABE_ITO["green"],
    "delay_penalty": OKABE_ITO["yellow"],
    "drop_penalty": OKABE_ITO["purple"],
    "transfer_cost": OKABE_ITO["sky"],
    "energy_cost": OKABE_ITO["orange"],
    "carbon_cost": "#8C8C8C",
    "generator_cost": OKABE_ITO["vermillion"],
    "battery_wear": OKABE_ITO["blue"],
}
"""Utility terms in decomposition figures."""

PRICE_COLOR = OKABE_ITO["purple"]
RENEWABLE_LINE = "#00513B"
"""Darker green for the renewables-available line drawn over the renewables bars."""
UTILITY_COLOR = "#3B3B3B"
SERIES_CYCLE = [
    OKABE_ITO[c]
    for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "black", "grey")
]

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.5,
    "lines.linewidth": 1.2,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.prop_cycle": cycler(color=SERIES_CYCLE),
    "pdf.fonttype": 42,  # embed TrueType: editable text, accepted by publishers
    "ps.fonttype": 42,
    "savefig.dpi": 300,
    "figure.dpi": 100,
}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Apply the report style for the duration (restores the caller's rcParams)."""
    with mpl.rc_context(RC):  # type: ignore[arg-type]  # stubs want literal keys
        yield


def new_figure(width: str | float = "column", height_in: float = 2.4, **kwargs: Any) -> Figure:
    """A figure on the Agg canvas; ``width`` is ``"column"``, ``"text"`` or inches."""
    w = {"column": COLUMN_WIDTH_IN, "text": TEXT_WIDTH_IN}.get(width, width)  # type: ignore[arg-type]
    fig = Figure(figsize=(float(w), height_in), layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save(
    fig: Figure, out_dir: Path, stem: str, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Save ``fig`` as ``out_dir/stem.<fmt>`` for each format, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in formats:
        path = out_dir / f"{stem}.{ext}"
        atomic_write(path, partial(_savefig, fig, ext))
        written.append(path)
    return written


def _savefig(fig: Figure, ext: str, path: Path) -> None:
    fig.savefig(path, format=ext, metadata=_metadata(ext))


def _metadata(ext: str) -> dict[str, Any]:
    # No creation date: the same results give byte-identical PDFs.
    if ext == "pdf":
        return {"Creator": "aigc-opt", "CreationDate": None}
    if ext == "png":
        return {"Software": "aigc-opt"}
    return {}
