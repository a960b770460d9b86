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
from pathlib import Path

import pandas as pd

from aigc_opt.data import loaders as L
from aigc_opt.data.build_arrivals import arrival_shapes, burstiness
from aigc_opt.data.build_models import derive_model_profiles, gpu_table, quality_table
from aigc_opt.data.build_provenance import provenance, rounded
from aigc_opt.data.build_regions import EUR_TO_USD, PV, REGIONS, WIND, YEAR, region_year
from aigc_opt.data.build_weeks import choose_weeks, energy_weeks
from aigc_opt.data.build_year import SPLIT_FILE, YEAR_FILE, write_year

__all__ = ["build_profiles", "default_source", "PROFILE_FILES"]

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


def default_source(repo: Path | None = None) -> Path | None:
    """``../shared/data`` next to the repository, if it exists."""
    repo = repo or Path(__file__).resolve().parents[1]
    cand = repo.parent / "shared" / "data"
    return cand if cand.exists() else None


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
        frame, summ = region_year(src, spec, turbine)
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
    weeks = choose_weeks(years)
    energy = energy_weeks(years, weeks, currencies)

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
        _write_csv(rounded(df, digits), p)
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
    p.write_text(provenance(regions, weeks, models, quality, meta), encoding="utf-8")
    written["PROVENANCE.md"] = p
    return written
