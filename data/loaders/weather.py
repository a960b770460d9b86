"""Weather and renewable-profile series: Open-Meteo JSON, NREL TMY3 irradiance, SimBench
per-unit PV and wind profiles.

Time zones, per format (the rule is also stored in ``HourlySeries.time_rule``):

* Open-Meteo JSON: ``hourly.time`` is wall-clock time at the single offset
  ``utc_offset_seconds`` for the whole file. The API applies no daylight-saving change
  inside a series (the offset valid when the request was made is used throughout), so
  UTC = local − offset for every row.
* TMY3 (NREL): local *standard* time (the fixed offset of the header line), hour-ending.
  The hour ending at t covers [t − 1 h, t), so its UTC start is t − 1 h − offset. A TMY
  year is a typical (cyclic) year: it is coerced to the requested year and the hours that
  the time-zone shift pushes past 31 December wrap round to 1 January.
* SimBench RESProfile CSV: naive German wall-clock time; the file shows DST (an empty row
  at the non-existent spring hour), so the DST rule of `aigc_opt.data.loaders` applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from aigc_opt.data.loaders._common import (
    check_order,
    fail_first,
    numeric,
    parse_times,
    read_csv_text,
    to_utc,
    year_series,
)
from aigc_opt.data.loaders.series import DataFileError, HourlySeries, year_index

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
        found = next((k for k in keys if k in hourly), None)
        if found is None:
            if out in required:
                raise DataFileError(path, "missing variable", column=f"hourly.{keys[0]}")
            continue
        got = hunits.get(found)
        if got not in accepted:
            raise DataFileError(
                path,
                f"wrong unit (expected {' or '.join(accepted)})",
                column=f"hourly_units.{found}",
                value=got,
            )
        vals = pd.to_numeric(pd.Series(hourly[found], dtype="object"), errors="coerce")
        if len(vals) != len(local):
            raise DataFileError(
                path, f"{len(vals)} values but {len(local)} times", column=f"hourly.{found}"
            )
        data[out] = vals.to_numpy(dtype=float) * accepted[got]
        units[out] = unit
    meta = {
        k: doc.get(k)
        for k in ("latitude", "longitude", "elevation", "timezone", "utc_offset_seconds")
    }
    hours = offset / 3600
    rule = (
        f"wall-clock time at the fixed offset UTC{hours:+g} h for the whole file "
        f"(Open-Meteo applies no DST change inside a series; zone {doc.get('timezone')})"
    )
    return year_series(path, data, utc, units, rule, [], meta, year=year, fill=fill)


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
    df = read_csv_text(path, columns=_TMY3_COLUMNS, header_line=2)
    stamp = df["Date (MM/DD/YYYY)"].str.strip() + " " + df["Time (HH:MM)"].str.strip()
    hour = pd.to_numeric(df["Time (HH:MM)"].str.slice(0, 2), errors="coerce")
    day = pd.to_datetime(df["Date (MM/DD/YYYY)"], format="%m/%d/%Y", errors="coerce")
    fail_first(
        path,
        day.isna() | hour.isna() | ~hour.between(1, 24),
        "cannot parse date/time (MM/DD/YYYY, HH:MM with HH 01..24)",
        first_line=3,
        column="Time (HH:MM)",
        values=stamp,
    )
    # Typical year: compare within the coerced year to find duplicates/order problems.
    day_2001 = pd.DatetimeIndex([d.replace(year=2001) for d in day])
    ends = day_2001 + pd.to_timedelta(hour.to_numpy(dtype=float), unit="h")
    check_order(path, ends, "Date (MM/DD/YYYY)", 3)
    for col in list(_TMY3_COLUMNS)[2:]:
        numeric(path, df, col, 3, allow_blank=False)
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
    columns = {}
    for src, dst in mapping.items():
        columns[dst] = np.full(len(full), np.nan)
        columns[dst][pos] = data[src].to_numpy(dtype=float)
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
    return year_series(path, columns, full, units, rule, [], info, year=year, fill=True)


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
    df = read_csv_text(path, columns=["time"])
    times, aware = parse_times(path, df["time"], "time", 2)
    if aware:
        raise DataFileError(
            path, "SimBench time is naive local time; found UTC offsets", line=2, column="time"
        )
    notes: list[str] = []
    utc, keep = to_utc(path, times, aware, "time", notes, naive_tz=naive_tz)
    data, units = {}, {}
    for c in df.columns:
        if c == "time":
            continue
        v = numeric(path, df, c, 2)
        bad = (v < -1e-3) | (v > 1.05)
        fail_first(path, bad, "not a per-unit value in [0, 1]", first_line=2, column=c, values=v)
        data[f"{c}_cf"] = np.where(v < 0, 0.0, v)[keep]
        units[f"{c}_cf"] = "fraction"
    rule = f"naive wall-clock time in {naive_tz} (DST rule of the module docstring)"
    return year_series(path, data, utc, units, rule, notes, {}, year=year, fill=fill)
