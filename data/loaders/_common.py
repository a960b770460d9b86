"""Helpers every file reader shares: reading a CSV as text, checking columns, numbers and
timestamps (each error names file, line and column), localizing naive wall-clock time with
the DST rule of `aigc_opt.data.loaders`, and packaging the result as an `HourlySeries`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.loaders.series import DataFileError, Gap, HourlySeries, fill_gaps, year_index


def read_csv_text(
    path: Path, *, columns: Iterable[str] = (), header_line: int = 1, **kwargs: Any
) -> pd.DataFrame:
    """Read a CSV as strings, with the header naming every one of ``columns``; blank lines are
    kept so that row i sits on line i + header + 1."""
    if not path.exists():
        raise DataFileError(path, "file not found")
    try:
        df = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skiprows=header_line - 1,
            **kwargs,
        )
    except Exception as exc:  # pandas raises many parser errors
        raise DataFileError(path, f"cannot be parsed as CSV: {exc}".replace("\n", " ")) from None
    require_columns(path, df, columns, header_line)
    return df


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


def fail_first(
    path: Path,
    mask: Any,
    message: str | Callable[[int], str],
    *,
    first_line: int,
    column: str,
    values: Any = None,
    shift: int = 0,
) -> None:
    """Raise a `DataFileError` at the first true entry of ``mask``; return when there is none.

    Entry j of ``mask`` stands for row ``i = j + shift`` (``shift=1`` for masks built from
    ``np.diff``), which sits on line ``first_line + i``. ``message`` may be a function of i;
    the quoted value is ``values[i]`` (a timestamp is quoted as text).
    """
    hits = np.flatnonzero(np.asarray(mask))
    if hits.size == 0:
        return
    i = int(hits[0]) + shift
    value = None
    if values is not None:
        value = values.iloc[i] if isinstance(values, pd.Series) else values[i]
        if isinstance(value, pd.Timestamp):
            value = str(value)
    raise DataFileError(
        path,
        message(i) if callable(message) else message,
        line=first_line + i,
        column=column,
        value=value,
    )


def numeric(
    path: Path, df: pd.DataFrame, column: str, first_line: int, *, allow_blank: bool = True
) -> np.ndarray:
    """Column as float; blank cells become NaN (a gap), other non-numbers are errors."""
    raw = df[column].astype(str).str.strip()
    blank = raw.isin(["", "nan", "NaN", "NA", "null"])
    vals = pd.to_numeric(raw.where(~blank, None), errors="coerce")
    bad = vals.isna() & ~blank
    fail_first(path, bad, "not a number", first_line=first_line, column=column, values=raw)
    if not allow_blank:
        fail_first(path, blank, "empty cell", first_line=first_line, column=column)
    return np.asarray(vals, dtype=float)


_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def parse_times(
    path: Path, raw: pd.Series, column: str, first_line: int, fmt: str | None = None
) -> tuple[pd.DatetimeIndex, bool]:
    """Parse timestamps; returns (times, aware). Naive and offset stamps may not be mixed."""
    text = raw.astype(str).str.strip()
    fail_first(path, text == "", "missing timestamp", first_line=first_line, column=column)
    has_off = text.str.contains(_OFFSET).to_numpy()
    if len(has_off):
        fail_first(
            path,
            has_off != has_off[0],
            "timestamps mix naive and UTC-offset forms",
            first_line=first_line,
            column=column,
            values=text,
        )
    aware = bool(has_off[0]) if len(has_off) else False
    if aware:
        t = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    else:
        t = pd.to_datetime(text, errors="coerce", format=fmt or "ISO8601")
    fail_first(
        path,
        t.isna(),
        "cannot parse timestamp",
        first_line=first_line,
        column=column,
        values=text,
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
    for mask, message in (
        (dup, lambda i: f"duplicated timestamp (also on line {first_line + i - 1})"),
        (d < 0, lambda i: f"time goes backwards (line {first_line + i - 1} has {times[i - 1]})"),
    ):
        fail_first(path, mask, message, first_line=first_line, column=column, values=times, shift=1)


def check_hourly(path: Path, times_utc: pd.DatetimeIndex, column: str, first_line: int) -> None:
    fail_first(
        path,
        (times_utc.minute != 0) | (times_utc.second != 0),
        "timestamp is not on the hour (hourly data expected)",
        first_line=first_line,
        column=column,
        values=times_utc,
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


def to_utc(
    path: Path,
    times: pd.DatetimeIndex,
    aware: bool,
    column: str,
    notes: list[str],
    *,
    naive_tz: str = "UTC",
    hourly: bool = True,
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """UTC times of parsed timestamps (data from line 2) after the order and hour checks.

    Stamps with offsets are converted exactly; naive ones are read in ``naive_tz`` (``"UTC"``
    or an IANA zone, with the DST rule of `localize_naive`). Returns (UTC times, keep mask of
    the rows that exist); ``hourly=False`` skips the on-the-hour check.
    """
    keep = np.ones(len(times), dtype=bool)
    if aware or naive_tz.upper() == "UTC":
        check_order(path, times, column, 2)
        utc = times.tz_convert("UTC") if aware else times.tz_localize("UTC")
    else:
        utc, keep = localize_naive(path, times, naive_tz, column, 2, notes)
    if hourly:
        check_hourly(path, utc, column, 2)
    return utc, keep


def year_series(
    path: Path,
    data: dict[str, Any],
    utc: pd.DatetimeIndex,
    units: dict[str, str],
    time_rule: str,
    notes: list[str],
    meta: dict[str, Any],
    *,
    year: int | None,
    fill: bool,
) -> HourlySeries:
    """Columns ``data`` on the UTC hours ``utc``, reindexed to a calendar year (`to_year`) and
    packaged by `finish`."""
    frame = to_year(pd.DataFrame(data, index=utc), year, notes)
    return finish(frame, units, path, time_rule, notes, meta, fill)


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
