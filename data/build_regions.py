"""The regions whose public 2023 series become the shipped profiles, and one region's year.

`REGIONS` says where each region's price, carbon and weather files come from;
`region_year` reads them (`aigc_opt.data.loaders`) into one hourly 2023 frame: price in the
file's currency (per MWh), grid carbon intensity (tCO2/MWh), PV and wind capacity factors
(pvlib / windpowerlib, dimensionless) and which hours were filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data import loaders as L
from aigc_opt.data.loaders.renewables import (
    PVSpec,
    WindSpec,
    pv_capacity_factor,
    wind_capacity_factor,
)

YEAR = 2023
#: USD per EUR: ECB euro reference rate, 2023 annual average of the daily rates.
EUR_TO_USD = 1.0813
PV = PVSpec()
WIND = WindSpec()


@dataclass(frozen=True)
class RegionSpec:
    """Where a region's series come from.

    Attributes
    ----------
    name : short region name used in the profiles (also the data-center name).
    zone : Electricity Maps / green-dcc zone id.
    market : price series description.
    price_tz : zone of naive price timestamps (``"UTC"`` or IANA).
    has_carbon, has_weather : whether carbon-intensity and weather files exist.
    local_tz : IANA zone of the region's users (arrival shapes).
    site : weather site (city).
    aws_region : nearest cloud region of the transfer-price matrix.
    """

    name: str
    zone: str
    market: str
    price_tz: str
    has_carbon: bool
    has_weather: bool
    local_tz: str
    site: str
    aws_region: str


REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec(
        "caiso",
        "US-CAL-CISO",
        "CAISO day-ahead LMP, hub TH_NP15_GEN-APND",
        "UTC",
        True,
        True,
        "America/Los_Angeles",
        "San Jose",
        "us-west-1",
    ),
    RegionSpec(
        "ercot",
        "US-TEX-ERCO",
        "ERCOT day-ahead SPP, HB_HUBAVG",
        "UTC",
        True,
        True,
        "America/Chicago",
        "Dallas",
        "us-east-1-dwf-1",
    ),
    RegionSpec(
        "pjm",
        "US-MIDA-PJM",
        "PJM real-time hourly LMP, zone DOM",
        "UTC",
        True,
        True,
        "America/New_York",
        "Philadelphia",
        "us-east-1",
    ),
    RegionSpec(
        "nyiso",
        "US-NY-NYIS",
        "NYISO day-ahead LBMP, zone CAPITL",
        "UTC",
        True,
        True,
        "America/New_York",
        "New York City",
        "us-east-1",
    ),
    RegionSpec(
        "delu",
        "DE-LU",
        "EPEX day-ahead, DE-LU bidding zone (RTE eco2mix)",
        "Europe/Berlin",
        True,
        True,
        "Europe/Berlin",
        "Frankfurt",
        "eu-central-1",
    ),
    RegionSpec(
        "fr",
        "FR",
        "EPEX day-ahead, France (RTE eco2mix)",
        "Europe/Paris",
        False,
        False,
        "Europe/Paris",
        "",
        "eu-west-3",
    ),
)


def region_year(
    src: Path, spec: RegionSpec, turbine: tuple[pd.DataFrame, float]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hourly 2023 frame (price_local, carbon, solar_cf, wind_cf, filled) and a summary."""
    gd = src / "green-dcc"
    price = L.load_price_csv(
        gd / "electricity_prices" / f"{spec.zone}_electricity_prices_2023_processed.csv",
        naive_tz=spec.price_tz,
        year=YEAR,
    )
    cur = price.meta["currency"]
    pcol = f"price_{cur.lower()}_per_mwh"
    frame = pd.DataFrame({"price_per_mwh": price.data[pcol]})
    filled = pd.DataFrame({"price": price.filled[pcol]})
    summary: dict[str, Any] = {
        "region": spec.name,
        "zone": spec.zone,
        "market": spec.market,
        "currency": cur,
        "price_filled_h": int(price.filled[pcol].sum()),
        "price_time_rule": price.time_rule,
        "price_gaps": "; ".join(str(g) for g in price.gaps),
    }
    if spec.has_carbon:
        ci = L.load_carbon_csv(gd / "carbon_intensity" / f"{spec.zone}_2023_hourly.csv", year=YEAR)
        frame["carbon_t_per_mwh"] = ci.data["carbon_t_per_mwh"]
        filled["carbon"] = ci.filled["carbon_t_per_mwh"]
        summary["carbon_filled_h"] = int(ci.filled["carbon_t_per_mwh"].sum())
    else:
        frame["carbon_t_per_mwh"] = np.nan
        filled["carbon"] = False
        summary["carbon_filled_h"] = ""
    if spec.has_weather:
        w = L.load_open_meteo_json(gd / "weather" / f"{spec.zone}_2023.json", year=YEAR)
        frame["solar_cf"] = pv_capacity_factor(
            w.data, w.meta["latitude"], w.meta["longitude"], w.meta["elevation"] or 0.0, PV
        )
        curve, nominal = turbine
        frame["wind_cf"] = wind_capacity_factor(
            w.data["wind_speed_10m_m_per_s"], curve, nominal, WIND
        )
        filled["weather"] = w.filled.any(axis=1)
        summary["weather_filled_h"] = int(filled["weather"].sum())
        summary["site"] = f"{spec.site} ({w.meta['latitude']:.3f}, {w.meta['longitude']:.3f})"
        summary["weather_time_rule"] = w.time_rule
    else:
        frame["solar_cf"] = np.nan
        frame["wind_cf"] = np.nan
        filled["weather"] = False
        summary["weather_filled_h"] = ""
        summary["site"] = ""
        summary["weather_time_rule"] = ""
    frame["filled"] = filled.any(axis=1)
    frame.attrs["filled_cols"] = filled
    p = frame["price_per_mwh"]
    summary.update(
        {
            "price_mean_per_mwh": p.mean(),
            "price_min_per_mwh": p.min(),
            "price_max_per_mwh": p.max(),
            "negative_price_h": int((p < 0).sum()),
            "price_mean_usd_per_mwh": p.mean() * (EUR_TO_USD if cur == "EUR" else 1.0),
            "carbon_mean_t_per_mwh": frame["carbon_t_per_mwh"].mean(),
            "solar_cf_mean": frame["solar_cf"].mean(),
            "wind_cf_mean": frame["wind_cf"].mean(),
        }
    )
    return frame, summary
