"""Derive the compact profiles shipped in ``data/profiles/`` from the public datasets.

`build_profiles(source, out)` reads the raw files (see ``PROVENANCE.md`` next to the
profiles for each source, licence and the derivation) and writes small CSV/JSON files:

* ``regions_2023.csv``   — 2023 annual summary per region (mean price, carbon, PV/wind CF,
  filled hours, time-zone rule);
* ``weeks_2023.csv``      — the representative week chosen for each season;
* ``energy_weeks_2023.csv`` — for each season and region, 168 hourly values of price (local
  currency per MWh), grid carbon intensity (tCO2/MWh), PV and wind capacity factors;
* ``arrival_shape.csv``   — hour-of-week arrival intensity (mean 1) from cluster traces;
* ``burstiness.csv`` and ``arrivals.json`` — request-count statistics of the Azure trace and
  the hourly rate variability used to sample arrivals;
* ``models.csv``, ``gpus.csv``, ``quality.csv`` — measured model profiles
  (`aigc_opt.data.build_models`);
* ``PROVENANCE.md``      — sources, licences and derivation.

The output is a pure function of the input files: running it twice gives the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data import loaders as L
from aigc_opt.data.build_models import (
    EDGE_LOG_FIT,
    GENEVAL,
    GPUS,
    PUBLISHED_PER_STEP,
    derive_model_profiles,
    gpu_table,
    quality_table,
)
from aigc_opt.data.build_year import SPLIT_FILE, YEAR_FILE, write_year
from aigc_opt.data.loaders.renewables import (
    PVSpec,
    WindSpec,
    pv_capacity_factor,
    wind_capacity_factor,
)

__all__ = [
    "YEAR",
    "EUR_TO_USD",
    "SEASONS",
    "REGIONS",
    "RegionSpec",
    "build_profiles",
    "default_source",
    "PROFILE_FILES",
]

YEAR = 2023
#: USD per EUR: ECB euro reference rate, 2023 annual average of the daily rates.
EUR_TO_USD = 1.0813
SEASONS: dict[str, tuple[int, ...]] = {
    "winter": (1, 2, 12),
    "spring": (3, 4, 5),
    "summer": (6, 7, 8),
    "autumn": (9, 10, 11),
}
#: regions whose series decide the representative weeks
SELECTION_REGIONS = ("caiso", "ercot", "pjm", "nyiso")
PV = PVSpec()
WIND = WindSpec()

PROFILE_FILES = (
    "regions_2023.csv",
    "weeks_2023.csv",
    "energy_weeks_2023.csv",
    "arrival_shape.csv",
    "burstiness.csv",
    "arrivals.json",
    "models.csv",
    "gpus.csv",
    "quality.csv",
    YEAR_FILE,
    SPLIT_FILE,
    "PROVENANCE.md",
)


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


def default_source(repo: Path | None = None) -> Path | None:
    """``../shared/data`` next to the repository, if it exists."""
    repo = repo or Path(__file__).resolve().parents[1]
    cand = repo.parent / "shared" / "data"
    return cand if cand.exists() else None


# ----------------------------------------------------------------------------------------
# energy
# ----------------------------------------------------------------------------------------
def _region_year(
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


def _choose_weeks(years: dict[str, pd.DataFrame]) -> pd.DataFrame:
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


def _energy_weeks(
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
# ----------------------------------------------------------------------------------------
#: Google cluster-data 2011 starts at 19:00 US Eastern (EDT) on Sunday 1 May 2011.
GOOGLE_START_HOUR_OF_WEEK = 6 * 24 + 19  # hour of week, Monday 00:00 = 0


def _fold_week(values: np.ndarray, start_how: int) -> np.ndarray:
    """Mean per hour of week (Monday 00:00 local = 0) over the whole weeks of a trace."""
    n = (len(values) // 168) * 168
    how = (start_how + np.arange(n)) % 168
    out = np.bincount(how, weights=values[:n], minlength=168) / np.bincount(how, minlength=168)
    return out / out.mean()


def _circular_mean(x: np.ndarray, width: int) -> np.ndarray:
    k = np.ones(width) / width
    ext = np.concatenate([x[-(width // 2) :], x, x[: width - 1 - width // 2]])
    return np.convolve(ext, k, mode="valid")


def arrival_shapes(google: pd.Series, alibaba: pd.Series) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hour-of-week intensity shapes (mean 1, local time, Monday 00:00 = hour 0).

    * ``google``: the Google trace folded on the week with its documented anchor.
    * ``alibaba``: the Alibaba trace has no calendar anchor and no daily cycle; its weekly
      envelope (circular 24-h mean) is shifted to the position that best correlates with
      the Google envelope.
    * ``combined`` = (google + alibaba) / 2, the shape used for arrivals.
    """
    g = _fold_week(google.to_numpy(dtype=float), GOOGLE_START_HOUR_OF_WEEK)
    a_raw = _fold_week(alibaba.to_numpy(dtype=float), 0)
    a_env = _circular_mean(a_raw, 24)
    g_env = _circular_mean(g, 24)
    corr = [float(np.corrcoef(g_env, np.roll(a_env, s))[0, 1]) for s in range(168)]
    shift = int(np.argmax(corr))
    a = np.roll(a_env, shift)
    a = a / a.mean()
    comb = 0.5 * (g + a)
    comb = comb / comb.mean()
    df = pd.DataFrame({"hour_of_week": np.arange(168), "google": g, "alibaba": a, "combined": comb})
    info = {
        "alibaba_shift_h": shift,
        "alibaba_shift_corr": corr[shift],
        "google_start_hour_of_week": GOOGLE_START_HOUR_OF_WEEK,
    }
    return df, info


def burstiness(src: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Request-count statistics of the Azure traces and the hourly rate variability.

    The rate coefficient of variation of the conversation trace, measured at 1..300 s
    windows, is fitted by a power law CV(w) = a·w^b (least squares in log-log) and
    extrapolated to one hour (3600 s): ``hourly_rate_cv``.
    """
    rows = []
    for kind in ("conv", "code"):
        tr = L.load_azure_trace(
            src / "azure-llm-inference-2023" / f"AzureLLMInferenceTrace_{kind}.csv"
        )
        st = L.request_burstiness(tr["time_utc"])
        st.insert(0, "trace", kind)
        rows.append(st)
    table = pd.concat(rows, ignore_index=True)
    conv = table[(table["trace"] == "conv") & (table["window_s"] <= 300)]
    b, loga = np.polyfit(np.log(conv["window_s"]), np.log(conv["rate_cv"]), 1)
    cv_h = float(math.exp(loga) * 3600.0**b)
    info = {
        "hourly_rate_cv": cv_h,
        "fit_exponent": float(b),
        "fit_windows_s": [1, 300],
        "trace": "AzureLLMInferenceTrace_conv.csv",
    }
    return table, info


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------
def _fmt(df: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    out = df.copy()
    for col, d in digits.items():
        if col in out.columns:
            out[col] = out[col].astype(float).round(d) + 0.0  # +0.0 turns -0.0 into 0.0
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    text = df.to_csv(index=False, lineterminator="\n")
    path.write_text(text, encoding="utf-8")


def build_profiles(source: str | Path, out: str | Path) -> dict[str, Path]:
    """Read the public datasets under ``source`` and write the profiles to ``out``.

    Parameters
    ----------
    source : directory holding the dataset folders (green-dcc, sustaindc-eia,
        azure-llm-inference-2023, ml-energy-leaderboard-v3, windpowerlib-oedb, ...).
    out : directory for the profiles (created if needed).

    Returns
    -------
    file name -> written path.
    """
    src, out = Path(source), Path(out)
    if not src.is_dir():
        raise L.DataFileError(src, "source directory not found")
    out.mkdir(parents=True, exist_ok=True)
    curves = L.load_power_curves(src / "windpowerlib-oedb" / "power_curves.csv")
    tdata = L.load_turbine_data(src / "windpowerlib-oedb" / "turbine_data.csv")
    turbine = (curves[WIND.turbine_type], float(tdata.loc[WIND.turbine_type, "nominal_power"]))

    years, summaries, currencies = {}, [], {}
    for spec in REGIONS:
        frame, summ = _region_year(src, spec, turbine)
        rate = EUR_TO_USD if summ["currency"] == "EUR" else 1.0
        frame["price_usd_per_mwh"] = frame["price_per_mwh"] * rate
        years[spec.name] = frame
        summaries.append(summ)
        currencies[spec.name] = summ["currency"]
    regions = pd.DataFrame(summaries)[
        [
            "region",
            "zone",
            "market",
            "currency",
            "price_mean_per_mwh",
            "price_mean_usd_per_mwh",
            "price_min_per_mwh",
            "price_max_per_mwh",
            "negative_price_h",
            "carbon_mean_t_per_mwh",
            "solar_cf_mean",
            "wind_cf_mean",
            "price_filled_h",
            "carbon_filled_h",
            "weather_filled_h",
            "site",
            "price_time_rule",
            "weather_time_rule",
            "price_gaps",
        ]
    ]
    weeks = _choose_weeks(years)
    energy = _energy_weeks(years, weeks, currencies)

    google = L.load_cluster_trace(src / "sustaindc-eia" / "GoogleClusteData_CPU_Data_Hourly_1.csv")
    alibaba = L.load_cluster_trace(src / "sustaindc-eia" / "Alibaba_CPU_Data_Hourly_1.csv")
    shape, shape_info = arrival_shapes(google, alibaba)
    bursts, burst_info = burstiness(src)

    ml = L.load_ml_energy_t2i(src / "ml-energy-leaderboard-v3" / "text-to-image_configurations.csv")
    models = derive_model_profiles(ml)
    quality = quality_table()
    transfer = L.load_transfer_prices(src / "green-dcc" / "aws_transmission_cost_matrix.csv")
    aws = sorted({r.aws_region for r in REGIONS})
    transfer = transfer.loc[aws, aws]

    written: dict[str, Path] = {}

    def put(name: str, df: pd.DataFrame, digits: dict[str, int]) -> None:
        p = out / name
        _write_csv(_fmt(df, digits), p)
        written[name] = p

    put(
        "regions_2023.csv",
        regions,
        {
            "price_mean_per_mwh": 3,
            "price_mean_usd_per_mwh": 3,
            "price_min_per_mwh": 3,
            "price_max_per_mwh": 3,
            "carbon_mean_t_per_mwh": 5,
            "solar_cf_mean": 5,
            "wind_cf_mean": 5,
        },
    )
    put("weeks_2023.csv", weeks, {"distance": 4})
    put(
        "energy_weeks_2023.csv",
        energy,
        {"price_per_mwh": 3, "carbon_t_per_mwh": 5, "solar_cf": 5, "wind_cf": 5},
    )
    put("arrival_shape.csv", shape, {"google": 5, "alibaba": 5, "combined": 5})
    put("burstiness.csv", bursts, {"window_s": 1, "mean": 4, "fano": 4, "rate_cv": 5})
    put(
        "models.csv",
        models,
        {
            "latency_b1_s": 5,
            "energy_per_image_b1_j": 3,
            "gpu_seconds_fixed": 5,
            "gpu_seconds_per_step": 6,
            "energy_fixed_j": 3,
            "energy_per_step_j": 4,
            "idle_kw_per_gpu": 3,
            "kwh_fixed": 12,
            "kwh_per_step": 12,
            "energy_per_image_bmax_j": 3,
            "images_per_s_bmax": 5,
        },
    )
    put("gpus.csv", gpu_table(), {"idle_kw": 3, "tdp_kw": 3})
    put("quality.csv", quality, {"alpha": 6, "c": 6, "q_max": 4, "geneval": 4})
    meta = {
        "year": YEAR,
        "eur_to_usd": EUR_TO_USD,
        "hourly_rate_cv": round(burst_info["hourly_rate_cv"], 5),
        "burstiness_fit_exponent": round(burst_info["fit_exponent"], 5),
        "burstiness_trace": burst_info["trace"],
        "arrival_shape": {
            k: (round(v, 5) if isinstance(v, float) else v) for k, v in shape_info.items()
        },
        "image_payload_gb": 0.0015,
        "transfer_usd_per_gb": {a: {b: float(transfer.loc[a, b]) for b in aws} for a in aws},
        "aws_region": {r.name: r.aws_region for r in REGIONS},
        "local_tz": {r.name: r.local_tz for r in REGIONS},
        "pv_system": {k: getattr(PV, k) for k in PV.__dataclass_fields__},
        "wind_turbine": {k: getattr(WIND, k) for k in WIND.__dataclass_fields__}
        | {"nominal_power_w": turbine[1]},
    }
    written.update(write_year(years, currencies, weeks, out))
    p = out / "arrivals.json"
    p.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written["arrivals.json"] = p
    p = out / "PROVENANCE.md"
    p.write_text(_provenance(regions, weeks, models, quality, meta), encoding="utf-8")
    written["PROVENANCE.md"] = p
    return written


SOURCES: tuple[tuple[str, str, str, str], ...] = (
    (
        "prices (regions_2023, energy_weeks_2023)",
        "green-dcc (HewlettPackard/green-dcc @3f6ea95), processed price files: CAISO OASIS, "
        "ERCOT and PJM and NYISO (via gridstatus), RTE eco2mix (EPEX day-ahead)",
        "repository MIT; public market data under each operator's terms of use; RTE eco2mix "
        "open data",
        "HPE green-dcc; CAISO, ERCOT, PJM, NYISO, RTE/EPEX SPOT",
    ),
    (
        "grid carbon intensity",
        "Electricity Maps free 2023 hourly datasets, via green-dcc",
        "ODbL 1.0 (database)",
        '"Electricity Maps (electricitymaps.com), 2023 hourly data"',
    ),
    (
        "weather → PV and wind capacity factors",
        "Open-Meteo historical weather API (ERA5), via green-dcc",
        "CC BY 4.0",
        '"Weather data by Open-Meteo.com", Hersbach et al. (ERA5)',
    ),
    (
        "wind power curve",
        "windpowerlib 0.2.2 oedb turbine library ({turbine})",
        "MIT (windpowerlib); oedb open data",
        "windpowerlib, Open Energy Database",
    ),
    (
        "arrival shape",
        "SustainDC (HewlettPackard/dc-rl @a92b475) hourly CPU traces derived "
        "from Google cluster-data 2011 and Alibaba clusterdata",
        "Google cluster-data CC BY 4.0; Alibaba clusterdata terms; repository MIT",
        "Reiss, Wilkes, Hellerstein (Google cluster-data 2011); Alibaba clusterdata",
    ),
    (
        "burstiness",
        "Azure LLM inference trace 2023 (Azure/AzurePublicDataset)",
        "CC BY 4.0",
        'Patel et al., "Splitwise", ISCA 2024',
    ),
    (
        "model GPU time and energy",
        "ML.ENERGY leaderboard v3 (ml-energy/leaderboard @0cd52da), text-to-image table",
        "Apache-2.0 (ML.ENERGY benchmark data)",
        'Chung et al., "The ML.ENERGY Benchmark", NeurIPS D&B 2025',
    ),
    (
        "model quality levels",
        "GenEval (djghosh13/geneval README; arXiv:2310.11513); Sana "
        "comparison table (arXiv:2410.10629)",
        "published figures (cited)",
        "Ghosh et al. 2023; Xie et al. 2024",
    ),
    (
        "transfer prices",
        "AWS inter-region data-transfer prices compiled in green-dcc",
        "MIT (repository)",
        "HPE green-dcc",
    ),
)


def _sources_table(meta: dict[str, Any]) -> str:
    rows = [
        (a, b.format(turbine=meta["wind_turbine"]["turbine_type"]), c, d) for a, b, c, d in SOURCES
    ]
    return _md_table(
        pd.DataFrame(rows, columns=["profile", "source", "licence / terms", "attribution"])
    )


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def _provenance(
    regions: pd.DataFrame,
    weeks: pd.DataFrame,
    models: pd.DataFrame,
    quality: pd.DataFrame,
    meta: dict[str, Any],
) -> str:
    reg = regions[
        [
            "region",
            "zone",
            "currency",
            "price_mean_per_mwh",
            "price_mean_usd_per_mwh",
            "carbon_mean_t_per_mwh",
            "solar_cf_mean",
            "wind_cf_mean",
            "price_filled_h",
        ]
    ]
    reg = _fmt(
        reg,
        {
            "price_mean_per_mwh": 2,
            "price_mean_usd_per_mwh": 2,
            "carbon_mean_t_per_mwh": 4,
            "solar_cf_mean": 4,
            "wind_cf_mean": 4,
        },
    )
    mod = _fmt(
        models[
            [
                "model",
                "gpu",
                "steps_ref",
                "gpu_seconds_fixed",
                "gpu_seconds_per_step",
                "energy_fixed_j",
                "energy_per_step_j",
            ]
        ],
        {
            "gpu_seconds_fixed": 4,
            "gpu_seconds_per_step": 4,
            "energy_fixed_j": 1,
            "energy_per_step_j": 2,
        },
    )
    per_step = "; ".join(
        f"{p.model} {p.joules_per_step} J and {p.seconds_per_step} s per step ({p.gpu})"
        for p in PUBLISHED_PER_STEP
    )
    geneval = "; ".join(f"{q.model} {q.geneval} ({q.source})" for q in GENEVAL.values())
    gpus = "; ".join(f"{g.name} {g.idle_kw} kW idle ({g.source})" for g in GPUS.values())
    fit = EDGE_LOG_FIT
    return f"""# Profiles shipped with aigc-opt: provenance, licences, derivation

Generated by `aigc-opt data build --source <datasets> --out <this folder>`
(`aigc_opt.data.build.build_profiles`). Re-running it on the same inputs gives the same bytes.
Only these derived, compact tables are shipped; the raw datasets are not.

## Sources and licences

{_sources_table(meta)}

## Derivation

- **Time**: every series is converted to UTC hour starts; the rule per file is in
  `regions_2023.csv` (`price_time_rule`, `weather_time_rule`) and in docs/data.md.
- **Gaps**: runs of ≤ 3 missing hours with data on both sides are linearly interpolated,
  longer or edge runs take the same hour of the nearest day with data (earlier first).
  Filled hours are counted in `regions_2023.csv` and flagged per hour in
  `energy_weeks_2023.csv` (`filled`).
- **Currency**: prices stay in the file's currency (`currency` column). Scenarios convert
  EUR with `eur_to_usd` = {meta["eur_to_usd"]} USD/EUR (ECB reference rate, 2023 average), a
  parameter of the scenario builder.
- **Carbon**: Electricity Maps direct (operational) intensity, gCO2eq/kWh / 1000 = tCO2/MWh.
- **PV**: pvlib PVWatts fixed-tilt system (tilt {meta["pv_system"]["tilt_deg"]}°, south,
  DC/AC {meta["pv_system"]["dc_ac_ratio"]}), irradiance from Ineichen clear sky scaled by
  Open-Meteo cloud cover (Larson et al. 2016, offset {meta["pv_system"]["cloud_offset"]}),
  Erbs decomposition; capacity factor = AC output per DC nameplate.
- **Wind**: windpowerlib ModelChain, {meta["wind_turbine"]["turbine_type"]} at
  {meta["wind_turbine"]["hub_height_m"]} m, Hellman exponent
  {round(meta["wind_turbine"]["hellman_exponent"], 4)} from the 10 m speed (km/h / 3.6),
  no density correction; capacity factor = power / nominal power.
- **Representative weeks**: for each season (winter = Jan, Feb, Dec 2023; spring = Mar–May;
  summer = Jun–Aug; autumn = Sep–Nov) the Monday-00:00-UTC weeks inside the season are
  candidates; each is described by the weekly mean price (USD), carbon, PV CF and wind CF
  of {", ".join(SELECTION_REGIONS)}; the candidate closest to the median candidate
  (Euclidean distance of z-scores), preferring weeks without filled hours, is chosen.
- **Arrival shape**: hour of week in local time (Monday 00:00 = 0). Google trace folded on
  the week from its documented start (Sunday 1 May 2011 19:00 US Eastern); the Alibaba
  trace has no calendar, so its weekly envelope (24-h circular mean) is shifted by
  {meta["arrival_shape"]["alibaba_shift_h"]} h, the shift best correlated with the Google envelope
  (r = {meta["arrival_shape"]["alibaba_shift_corr"]}); `combined` is their mean, normalised to 1.
- **Burstiness**: rate coefficient of variation of the Azure conversation trace at
  1–300 s windows, power-law fit extrapolated to 1 h: hourly rate CV =
  {meta["hourly_rate_cv"]} (exponent {meta["burstiness_fit_exponent"]}). Arrivals are sampled as
  Poisson(mean · shape · Gamma noise with this CV), with a seed.
- **Models**: batch-scaling split of the ML.ENERGY batch-1..32 measurements (H100/B200,
  1024 px, bf16, 1 GPU) into a step-independent part and a per-step part; published per-step
  figures for A100: {per_step}; energy above idle subtracts idle power × time.
  GPU idle power: {gpus}.
- **Quality**: GenEval overall score at the reference step count ({geneval}), scaled below
  it by the edge-AIGC log fit q(s) = {fit["scale"]}·ln(s)/ln({fit["log_base"]:g}) {fit["offset"]:+}
  ({fit["steps_min"]}–{fit["steps_max"]} steps) and flat above it.

## Full year and week partition

- `energy_2023.parquet`: every UTC hour of 2023 for every region (columns as in
  `energy_weeks_2023.csv`, same loaders, gap filling and rounding); scenarios cut windows
  from it (`aigc_opt.data.build_year.year_window`).
- `splits_2023.csv`: the 52 weeks starting Monday 00:00 UTC, each `train`, `val`, `test`
  or `gap`: test = the representative week of each season (above); val = per season the
  candidate closest to the median among weeks at least two weeks from the test week;
  gap = the weeks adjacent to a test week; train = the rest (`aigc_opt.data.splits`).

## 2023 annual means per region (as loaded)

{_md_table(reg)}

## Representative weeks

{_md_table(weeks[["season", "start_utc", "candidates", "clean_candidates"]])}

## Model profiles (total GPU energy; `models.csv` also has the above-idle kWh)

{_md_table(mod)}
"""
