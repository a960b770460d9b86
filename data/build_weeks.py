"""Representative weeks of 2023: one per season, the candidate week closest to the median.

Candidates are the Monday-00:00-UTC weeks inside a season; each is described by the weekly
mean price (USD/MWh), carbon (tCO2/MWh), PV and wind capacity factors of the selection
regions. `energy_weeks` cuts the chosen weeks out of every region's year for
``energy_weeks_2023.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aigc_opt.data import loaders as L
from aigc_opt.data.build_regions import REGIONS, YEAR

SEASONS: dict[str, tuple[int, ...]] = {
    "winter": (1, 2, 12),
    "spring": (3, 4, 5),
    "summer": (6, 7, 8),
    "autumn": (9, 10, 11),
}
#: regions whose series decide the representative weeks
SELECTION_REGIONS = ("caiso", "ercot", "pjm", "nyiso")


def _week_starts(months: tuple[int, ...]) -> list[pd.Timestamp]:
    """Mondays 00:00 UTC of YEAR whose whole week lies in ``months``."""
    idx = L.year_index(YEAR)
    mondays = idx[(idx.day_of_week == 0) & (idx.hour == 0)]
    out = []
    for m in mondays:
        end = m + pd.Timedelta(hours=167)
        if end.year == YEAR and m.month in months and end.month in months:
            out.append(m)
    return out


def week_distances(
    years: dict[str, pd.DataFrame], months: tuple[int, ...]
) -> tuple[list[pd.Timestamp], np.ndarray, np.ndarray]:
    """Candidate weeks of a season (Mondays 00:00 UTC inside ``months``), each one's
    distance to the median candidate (Euclidean, z-scores of the weekly mean price in USD,
    carbon, PV and wind CF of the selection regions) and whether it has no filled hour in
    the selection regions and DE-LU."""
    starts = _week_starts(months)
    feats, clean = [], []
    for s in starts:
        sl = slice(s, s + pd.Timedelta(hours=167))
        f = []
        for r in SELECTION_REGIONS:
            wk = years[r].loc[sl]
            f += [
                wk["price_usd_per_mwh"].mean(),
                wk["carbon_t_per_mwh"].mean(),
                wk["solar_cf"].mean(),
                wk["wind_cf"].mean(),
            ]
        feats.append(f)
        clean.append(
            not any(bool(years[r].loc[sl, "filled"].any()) for r in (*SELECTION_REGIONS, "delu"))
        )
    X = np.asarray(feats, dtype=float)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - np.median(X, axis=0)) / sd
    return starts, np.sqrt((Z**2).sum(axis=1)), np.asarray(clean, dtype=bool)


def choose_weeks(years: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Representative week per season: the candidate week whose mean price (USD), carbon,
    PV and wind CF of the selection regions are closest (Euclidean distance of z-scores)
    to the median candidate; weeks with filled hours in any used region are avoided."""
    rows = []
    for season, months in SEASONS.items():
        starts, dist, clean = week_distances(years, months)
        ok = clean if clean.any() else np.ones(len(starts), dtype=bool)
        best = int(np.flatnonzero(ok)[np.argmin(dist[ok])])
        rows.append(
            {
                "season": season,
                "start_utc": starts[best].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "months": "/".join(str(m) for m in months),
                "candidates": len(starts),
                "clean_candidates": int(np.sum(clean)),
                "distance": dist[best],
            }
        )
    return pd.DataFrame(rows)


def energy_weeks(
    years: dict[str, pd.DataFrame], weeks: pd.DataFrame, currencies: dict[str, str]
) -> pd.DataFrame:
    parts = []
    for _, w in weeks.iterrows():
        start = pd.Timestamp(w["start_utc"])
        sl = slice(start, start + pd.Timedelta(hours=167))
        for spec in REGIONS:
            wk = years[spec.name].loc[sl]
            fc = years[spec.name].attrs["filled_cols"].loc[sl]
            flags = np.where(fc["price"], "price", "")
            for col in ("carbon", "weather"):
                flags = np.where(
                    fc[col],
                    np.char.add(np.char.add(flags, np.where(flags == "", "", "+")), col),
                    flags,
                )
            parts.append(
                pd.DataFrame(
                    {
                        "season": w["season"],
                        "hour": np.arange(len(wk)),
                        "time_utc": wk.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "region": spec.name,
                        "currency": currencies[spec.name],
                        "price_per_mwh": wk["price_per_mwh"].to_numpy(),
                        "carbon_t_per_mwh": wk["carbon_t_per_mwh"].to_numpy(),
                        "solar_cf": wk["solar_cf"].to_numpy(),
                        "wind_cf": wk["wind_cf"].to_numpy(),
                        "filled": flags,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------------------
# arrivals
