"""Helpers every file reader shares: reading a CSV as text, checking columns, numbers and
timestamps (each error names file, line and column), localizing naive wall-clock time with
the DST rule of `aigc_opt.data.loaders`, and packaging the result as an `HourlySeries`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.loaders.series import DataFileError, Gap, HourlySeries, fill_gaps, year_index


def read_csv_text(path: Path, *, header_line: int = 1, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as strings; blank lines are kept so that row i sits on line i + header + 1."""
    if not path.exists():
        raise DataFileError(path, "file not found")
    try:
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skiprows=header_line - 1,
            **kwargs,
        )
    except Exception as exc:  # pandas raises many parser errors
        raise DataFileError(path, f"cannot be parsed as CSV: {exc}".replace("\n", " ")) from None


def require_columns(
    path: Path, df: pd.DataFrame, columns: Iterable[str], header_line: int = 1
) -> None:
    for col in columns:
        if col not in df.columns:
            raise DataFileError(
                path,
                f"missing column (found: {', '.join(map(str, df.columns))})",
                line=header_line,
                column=col,
            )


def numeric(
    path: Path, df: pd.DataFrame, column: str, first_line: int, *, allow_blank: bool = True
) -> np.ndarray:
    """Column as float; blank cells become NaN (a gap), other non-numbers are errors."""
    raw = df[column].astype(str).str.strip()
    blank = raw.isin(["", "nan", "NaN", "NA", "null"])
    vals = pd.to_numeric(raw.where(~blank, None), errors="coerce")
    bad = vals.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(
            path, "not a number", line=first_line + i, column=column, value=raw.iloc[i]
        )
    if not allow_blank and blank.any():
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataFileError(path, "empty cell", line=first_line + i, column=column)
    return np.asarray(vals, dtype=float)


_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def parse_times(
    path: Path, raw: pd.Series, column: str, first_line: int, fmt: str | None = None
) -> tuple[pd.DatetimeIndex, bool]:
    """Parse timestamps; returns (times, aware). Naive and offset stamps may not be mixed."""
    text = raw.astype(str).str.strip()
    empty = text == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataFileError(path, "missing timestamp", line=first_line + i, column=column)
    has_off = text.str.contains(_OFFSET).to_numpy()
    if has_off.any() and not has_off.all():
        i = int(np.flatnonzero(has_off != has_off[0])[0])
        raise DataFileError(
            path,
            "timestamps mix naive and UTC-offset forms",
            line=first_line + i,
            column=column,
            value=text.iloc[i],
        )
    aware = bool(has_off[0]) if len(has_off) else False
    if aware:
        t = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    else:
        t = pd.to_datetime(text, errors="coerce", format=fmt or "ISO8601")
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise DataFileError(
            path, "cannot parse timestamp", line=first_line + i, column=column, value=text.iloc[i]
        )
    return pd.DatetimeIndex(t), aware


def check_order(
    path: Path,
    times: pd.DatetimeIndex,
    column: str,
    first_line: int,
    *,
    allow_repeat: np.ndarray | None = None,
) -> None:
    """Strictly increasing timestamps; ``allow_repeat[i]`` permits times[i] == times[i-1]."""
    if len(times) < 2:
        return
    v = times.asi8 if times.tz is None else times.tz_convert("UTC").asi8
    d = np.diff(v)
    dup = d == 0
    if allow_repeat is not None:
        dup &= ~allow_repeat[1:]
    if dup.any():
        i = int(np.flatnonzero(dup)[0]) + 1
        raise DataFileError(
            path,
            f"duplicated timestamp (also on line {first_line + i - 1})",
            line=first_line + i,
            column=column,
            value=str(times[i]),
        )
    back = d < 0
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        raise DataFileError(
            path,
            f"time goes backwards (line {first_line + i - 1} has {times[i - 1]})",
            line=first_line + i,
            column=column,
            value=str(times[i]),
        )


def check_hourly(path: Path, times_utc: pd.DatetimeIndex, column: str, first_line: int) -> None:
    off = (times_utc.minute != 0) | (times_utc.second != 0)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise DataFileError(
            path,
            "timestamp is not on the hour (hourly data expected)",
            line=first_line + i,
            column=column,
            value=str(times_utc[i]),
        )


def infer_year(times_utc: pd.DatetimeIndex) -> int:
    years, counts = np.unique(times_utc.year, return_counts=True)
    return int(years[np.argmax(counts)])


def to_year(frame: pd.DataFrame, year: int | None, notes: list[str]) -> pd.DataFrame:
    """Reindex a UTC-indexed frame to the full calendar year (missing hours become NaN)."""
    idx = frame.index
    y = infer_year(idx) if year is None else year
    full = year_index(y)
    outside = int((~idx.isin(full)).sum())
    if outside:
        notes.append(f"{outside} rows outside {y} (UTC) ignored")
    return frame.reindex(full)


def finish(
    frame: pd.DataFrame,
    units: dict[str, str],
    path: Path,
    time_rule: str,
    notes: list[str],
    meta: dict[str, Any],
    fill: bool,
    max_interpolate_hours: int = 3,
) -> HourlySeries:
    frame.index.name = "time_utc"
    gaps: list[Gap] = []
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    if fill:
        try:
            frame, mask, gaps = fill_gaps(frame, max_interpolate_hours=max_interpolate_hours)
        except ValueError as exc:
            raise DataFileError(path, str(exc)) from None
    return HourlySeries(
        data=frame,
        units=units,
        source=str(path),
        time_rule=time_rule,
        gaps=tuple(gaps),
        filled=mask,
        meta=meta,
        notes=tuple(notes),
    )


def localize_naive(
    path: Path, times: pd.DatetimeIndex, tz: str, column: str, first_line: int, notes: list[str]
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Localize naive wall-clock labels in ``tz`` with the DST rule of the module docstring.

    Returns (UTC times, keep mask); rows at non-existent wall-clock times are dropped.
    """
    labels = times.asi8
    repeat = np.zeros(len(times), dtype=bool)
    repeat[1:] = labels[1:] == labels[:-1]
    probe = times.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    all_dst = np.ones(len(times), dtype=bool)
    nonexistent = np.asarray(pd.isna(probe)) & np.asarray(
        pd.isna(times.tz_localize(tz, ambiguous=all_dst, nonexistent="NaT"))
    )
    ambiguous = np.asarray(pd.isna(probe)) & ~nonexistent
    # A repeat is legitimate only for an ambiguous (fall-back) label.
    check_order(path, times, column, first_line, allow_repeat=repeat & ambiguous)
    dst_flag = ambiguous & ~repeat  # first occurrence: summer time; repeat: winter time
    local = times.tz_localize(tz, ambiguous=dst_flag | ~ambiguous, nonexistent="NaT")
    keep = ~np.asarray(pd.isna(local))
    for i in np.flatnonzero(~keep):
        notes.append(
            f"line {first_line + i}: {times[i]} does not exist in {tz} "
            "(spring DST change); row dropped"
        )
    return pd.DatetimeIndex(local[keep]).tz_convert("UTC"), keep
