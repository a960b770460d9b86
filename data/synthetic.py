"""Deterministic synthetic series for the embedded ``default`` scenario.

Plausible diurnal shapes (no market data): prices with a midday solar dip and an evening
peak, carbon following the marginal mix, PV bell curves and noisy wind, and arrivals with
a local-time diurnal cycle. `write_default_series` regenerates the shipped CSVs bit for bit.
Run ``python -m aigc_opt.data.synthetic`` to rewrite them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HOURS = 168
# data center: (UTC offset h, mean price $/MWh, price swing, carbon t/MWh, PV peak MW, wind MW)
REGIONS = {
    "caiso": (-7, 55.0, 40.0, 0.24, 0.12, 0.02),
    "ercot": (-5, 45.0, 30.0, 0.40, 0.06, 0.08),
    "pjm": (-4, 50.0, 25.0, 0.42, 0.04, 0.03),
    "nyiso": (-4, 60.0, 30.0, 0.28, 0.03, 0.03),
}
# ASP: (data center, UTC offset h, mean arrivals per slot per class share base)
ASPS = {
    "sdxl-ca": ("caiso", -7, 230_000.0),
    "pixart-ca": ("caiso", -7, 200_000.0),
    "sd21-tx": ("ercot", -5, 380_000.0),
    "sd35m-va": ("pjm", -4, 300_000.0),
    "flux-ny": ("nyiso", -4, 90_000.0),
}
CLASSES = {"draft": 0.5, "standard": 0.35, "premium": 0.15}


def _diurnal(local_hour: np.ndarray, peak: float, width: float) -> np.ndarray:
    d = (local_hour - peak + 12) % 24 - 12
    return np.exp(-0.5 * (d / width) ** 2)


def energy_series(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(HOURS)
    rows = []
    for dc, (off, mean, swing, co2, pv, wind) in REGIONS.items():
        lh = (t + off) % 24
        day = (t + off) // 24
        solar = np.clip(np.sin(np.pi * (lh - 6) / 13), 0, None) ** 1.5
        cloud = 0.6 + 0.4 * rng.random(8)[np.clip(day, 0, 7)]
        pv_mwh = pv * solar * cloud
        w = np.clip(0.35 + 0.25 * np.sin(2 * np.pi * t / 61 + rng.random() * 6)
                    + 0.1 * rng.standard_normal(HOURS), 0, 1)
        wind_mwh = wind * w
        evening = _diurnal(lh, 19, 2.5)
        morning = _diurnal(lh, 8, 2.0)
        price = mean + swing * (0.9 * evening + 0.4 * morning - 0.8 * solar) \
            + 6 * rng.standard_normal(HOURS)
        weekend = ((t + off) // 24 % 7) >= 5
        price = np.where(weekend, 0.85 * price, price)
        carbon = co2 * (1 + 0.25 * evening - 0.35 * solar) + 0.01 * rng.standard_normal(HOURS)
        for i in range(HOURS):
            rows.append((i, dc, round(float(price[i]), 3), round(float(max(carbon[i], 0.02)), 4),
                         round(float(pv_mwh[i] + wind_mwh[i]), 5)))
    return pd.DataFrame(rows, columns=["slot", "data_center", "price_usd_per_mwh",
                                       "carbon_t_per_mwh", "renewable_mwh"])


def arrival_series(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(HOURS)
    rows = []
    for asp, (_, off, base) in ASPS.items():
        lh = (t + off) % 24
        weekend = ((t + off) // 24 % 7) >= 5
        shape = 0.35 + 0.65 * _diurnal(lh, 14, 4.0) + 0.25 * _diurnal(lh, 21, 2.0)
        shape = np.where(weekend, 0.8 * shape, shape)
        for k, share in CLASSES.items():
            lam = base * share * shape
            jobs = rng.poisson(lam)
            for i in range(HOURS):
                rows.append((i, asp, k, int(jobs[i])))
    return pd.DataFrame(rows, columns=["slot", "asp", "job_class", "jobs"])


def write_default_series(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    energy_series().to_csv(out_dir / "energy.csv", index=False)
    arrival_series().to_csv(out_dir / "arrivals.csv", index=False)


if __name__ == "__main__":  # pragma: no cover
    write_default_series(Path(__file__).resolve().parent / "scenarios" / "default")
