"""What every time-series loader returns, and the one gap-filling rule.

`HourlySeries` is a tidy table indexed by the UTC start of each hour (``time_utc``), one
column per variable with its unit in the name, plus the units, the time-zone rule that was
applied, every filled gap and format-specific metadata. `DataFileError` is the one error a
malformed file raises. `fill_gaps` fills missing hours: a run of at most
``max_interpolate_hours`` (default 3) missing hours with data on both sides is linearly
interpolated; every other missing hour takes the value of the same hour on the nearest day
with data, looking 1, 2, 3 ... days back first and then the same distance forward. Each
filled run is reported as a `Gap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import ScenarioError


class DataFileError(ScenarioError):
    """A data file is malformed. ``str(err)`` is one line naming file, line and column.

    Parameters
    ----------
    path : file that was read.
    message : what is wrong.
    line : 1-based line number in the file (None when the problem is the whole file).
    column : column name, or key path for JSON files.
    value : the offending value, when there is one.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: Any = None,
    ):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        if isinstance(value, np.generic):
            value = value.item()
        field_ = ", ".join(where) or "file"
        super().__init__(path, field_, value if value is not None else "<file>", message)
        self.line = line
        self.column = column
        if value is None:  # nothing to quote: "<file>: line 1, column 'X': message"
            self.args = (f"{self.source}: {field_}: {message}",)


@dataclass(frozen=True)
class Gap:
    """One run of missing hours that was filled.

    Attributes
    ----------
    column : variable name.
    start_utc : first missing hour (UTC hour start).
    hours : length of the run (h).
    rule : ``"linear"`` (interpolated) or ``"same-hour-nearest-day"``.
    """

    column: str
    start_utc: pd.Timestamp
    hours: int
    rule: str

    def __str__(self) -> str:
        return (
            f"{self.column}: {self.hours} h from {self.start_utc:%Y-%m-%d %H:%M} UTC ({self.rule})"
        )


@dataclass(frozen=True)
class HourlySeries:
    """Tidy hourly series on a UTC index, with units and a report of what was repaired.

    Attributes
    ----------
    data : DataFrame indexed by ``time_utc`` (tz-aware UTC hour starts, ascending, no
        duplicates); one column per variable, the unit in the column name.
    units : column -> unit text (e.g. ``"USD/MWh"``, ``"tCO2/MWh"``, ``"m/s"``).
    source : the file that was read.
    time_rule : how local time and daylight-saving time were turned into UTC.
    filled : boolean DataFrame like ``data``; True where a value was filled.
    gaps : filled runs of missing hours.
    meta : format-specific metadata (coordinates, zone ids, ...).
    notes : other repairs (dropped rows, rows outside the requested year, ...).
    """

    data: pd.DataFrame
    units: dict[str, str]
    source: str
    time_rule: str
    filled: pd.DataFrame
    gaps: tuple[Gap, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def tidy(self) -> pd.DataFrame:
        """Long format: ``time_utc, variable, value, unit``."""
        long = self.data.reset_index().melt(id_vars="time_utc", var_name="variable")
        long["unit"] = long["variable"].map(self.units)
        return long

    def gap_report(self) -> str:
        """One line per filled run (empty string when nothing was filled)."""
        return "\n".join(str(g) for g in self.gaps)

    @property
    def filled_hours(self) -> dict[str, int]:
        """Number of filled hours per column."""
        return {c: int(self.filled[c].sum()) for c in self.data.columns}


def year_index(year: int) -> pd.DatetimeIndex:
    """UTC hour starts of one calendar year (8760 or 8784 entries), named ``time_utc``."""
    start = pd.Timestamp(year=year, month=1, day=1, tz="UTC")
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz="UTC")
    return pd.date_range(start, end, freq="h", inclusive="left", name="time_utc")


def fill_gaps(
    frame: pd.DataFrame, *, max_interpolate_hours: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame, list[Gap]]:
    """Fill NaNs of an hourly frame by the documented rule.

    Parameters
    ----------
    frame : hourly frame on a regular UTC index.
    max_interpolate_hours : longest run (h) filled by linear interpolation; the run also
        needs data on both sides.

    Returns
    -------
    (filled frame, boolean mask of filled cells, list of `Gap`)
    """
    out = frame.copy()
    mask = frame.isna()
    gaps: list[Gap] = []
    n = len(frame)
    for col in frame.columns:
        v = frame[col].to_numpy(dtype=float).copy()
        orig = v.copy()
        isnan = np.isnan(orig)
        if not isnan.any():
            continue
        if isnan.all():
            raise ValueError(f"column {col!r} has no data at all")
        edges = np.diff(np.concatenate([[0], isnan.astype(np.int8), [0]]))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)  # exclusive
        for s, e in zip(starts, ends, strict=True):
            length = int(e - s)
            if length <= max_interpolate_hours and s > 0 and e < n:
                left, right = orig[s - 1], orig[e]
                frac = np.arange(1, length + 1) / (length + 1)
                v[s:e] = left + (right - left) * frac
                rule = "linear"
            else:
                for i in range(s, e):
                    v[i] = _same_hour_nearest_day(orig, i)
                rule = "same-hour-nearest-day"
            gaps.append(Gap(str(col), frame.index[s], length, rule))
        out[col] = v
    return out, mask, gaps


def _same_hour_nearest_day(values: np.ndarray, i: int) -> float:
    n = len(values)
    for k in range(1, n // 24 + 2):
        for j in (i - 24 * k, i + 24 * k):
            if 0 <= j < n and not math.isnan(values[j]):
                return float(values[j])
    raise ValueError("no data at the same hour on any day")
