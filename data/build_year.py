"""The full 2023 year of hourly energy series and its week partition.

Written by `aigc_opt.data.build.build_profiles` next to the other profiles:

* ``energy_2023.parquet`` — one row per (UTC hour of 2023, region): price (local currency
  per MWh), grid carbon intensity (tCO2/MWh), PV and wind capacity factors and the filled
  flags, from the same loaders and rounding as ``energy_weeks_2023.csv`` (which holds four
  of these weeks). Scenarios may cut any window from it (`year_window`).
* ``splits_2023.csv`` — the 52 weeks that start on a Monday 00:00 UTC inside 2023, each
  assigned to ``train``, ``val``, ``test`` or ``gap`` (see `week_partition`); read by
  `aigc_opt.data.splits`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.build_weeks import SEASONS, week_distances
from aigc_opt.data.scenario import ScenarioError

YEAR_FILE = "energy_2023.parquet"
SPLIT_FILE = "splits_2023.csv"
YEAR_START = pd.Timestamp("2023-01-01T00:00:00Z")
HOURS_2023 = 8760
DIGITS = {"price_per_mwh": 3, "carbon_t_per_mwh": 5, "solar_cf": 5, "wind_cf": 5}


def _flags(fc: pd.DataFrame) -> np.ndarray:
    """'price', 'carbon', 'weather' joined by '+' for the filled series of each hour."""
    out = np.full(len(fc), "", dtype=object)
    for col in ("price", "carbon", "weather"):
        hit = fc[col].to_numpy(dtype=bool)
        out[hit] = np.where(out[hit] == "", col, out[hit] + "+" + col)
    return out.astype(str)


def year_table(years: dict[str, pd.DataFrame], currencies: dict[str, str]) -> pd.DataFrame:
    """Long table of every region's hourly 2023 series (rounded as the weekly profiles)."""
    parts = []
    for region, frame in years.items():
        part = pd.DataFrame(
            {
                "time_utc": frame.index,
                "region": region,
                "currency": currencies[region],
                **{c: frame[c].to_numpy(dtype=float).round(d) + 0.0 for c, d in DIGITS.items()},
                "filled": _flags(frame.attrs["filled_cols"]),
            }
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["region"] = out["region"].astype("category")
    out["currency"] = out["currency"].astype("category")
    out["filled"] = out["filled"].astype("category")
    return out


def week_partition(years: dict[str, pd.DataFrame], weeks: pd.DataFrame) -> pd.DataFrame:
    """Assign each Monday-00:00-UTC week of 2023 to a split.

    * ``test``: the season's representative week (``weeks_2023.csv``, used by the
      ``us4-2023-<season>`` scenarios) — one per season, never used for training;
    * ``val``: per season, the candidate week closest to the median candidate (the same
      criterion as the test week) among those at least two weeks away from the test week,
      preferring weeks without filled hours;
    * ``gap``: the weeks directly before and after a test week (kept out of training so no
      training week touches a test week);
    * ``train``: every other week.
    """
    season_of = {m: s for s, months in SEASONS.items() for m in months}
    test = {s: pd.Timestamp(t) for s, t in zip(weeks["season"], weeks["start_utc"], strict=True)}
    val: dict[str, pd.Timestamp] = {}
    for season, months in SEASONS.items():
        starts, dist, clean = week_distances(years, months)
        far = np.array([abs((s - test[season]).days) >= 14 for s in starts])
        ok = far & clean if (far & clean).any() else far
        val[season] = starts[int(np.flatnonzero(ok)[np.argmin(dist[ok])])]
    mondays = pd.date_range("2023-01-02T00:00:00Z", periods=52, freq="7D")
    rows: list[dict[str, Any]] = []
    for m in mondays:
        if m in test.values():
            split = "test"
        elif m in val.values():
            split = "val"
        elif any(abs((m - t).days) == 7 for t in test.values()):
            split = "gap"
        else:
            split = "train"
        rows.append(
            {
                "week": len(rows) + 1,
                "start_utc": m.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "start_slot": int((m - YEAR_START) / pd.Timedelta(hours=1)),
                "season": season_of[m.month],
                "split": split,
            }
        )
    return pd.DataFrame(rows)


def write_year(
    years: dict[str, pd.DataFrame],
    currencies: dict[str, str],
    weeks: pd.DataFrame,
    out: str | Path,
) -> dict[str, Path]:
    """Write ``energy_2023.parquet`` and ``splits_2023.csv`` into ``out``."""
    out = Path(out)
    table = year_table(years, currencies)
    table.to_parquet(out / YEAR_FILE, index=False, compression="zstd", compression_level=19)
    splits = week_partition(years, weeks)
    (out / SPLIT_FILE).write_text(splits.to_csv(index=False, lineterminator="\n"), "utf-8")
    return {YEAR_FILE: out / YEAR_FILE, SPLIT_FILE: out / SPLIT_FILE}


def read_year(directory: str | Path) -> pd.DataFrame:
    """The shipped year table (see module doc)."""
    path = Path(directory) / YEAR_FILE
    if not path.exists():
        raise ScenarioError(path, "file", path.name, "run 'aigc-opt data build' first")
    return pd.read_parquet(path)


def year_window(
    year: pd.DataFrame, region: str, start_utc: pd.Timestamp, hours: int
) -> pd.DataFrame:
    """``hours`` rows of one region from ``start_utc`` (hour 0 = slot 0), in the columns of
    the weekly profile frames (price_per_mwh, currency, carbon, solar_cf, wind_cf)."""
    sel = year[year["region"] == region].set_index("time_utc").sort_index()
    idx = pd.date_range(start_utc, periods=hours, freq="h")
    win = sel.reindex(idx)
    if win["price_per_mwh"].isna().any():
        raise ScenarioError(
            YEAR_FILE, "start", str(start_utc), f"{hours} h from there leave 2023 ({region})"
        )
    win = win.reset_index(drop=True)
    win["currency"] = win["currency"].astype(str)
    return win
