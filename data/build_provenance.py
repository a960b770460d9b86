"""``PROVENANCE.md`` of the shipped profiles: sources, licences, derivation and summaries.

`provenance` renders the text from the tables `aigc_opt.data.build.build_profiles` writes;
`rounded` is the one rounding of a table's columns (also used for the CSV files).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from aigc_opt.data.build_models import EDGE_LOG_FIT, GENEVAL, GPUS, PUBLISHED_PER_STEP
from aigc_opt.data.build_weeks import SELECTION_REGIONS

#: the columns of ``regions_2023.csv`` that summarise a region's 2023 annual means
ANNUAL_MEANS = [
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


def rounded(df: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    """A copy with the named columns rounded to their number of decimals (no -0.0)."""
    out = df.copy()
    for col, d in digits.items():
        if col in out.columns:
            out[col] = out[col].astype(float).round(d) + 0.0  # +0.0 turns -0.0 into 0.0
    return out


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


def provenance(
    regions: pd.DataFrame,
    weeks: pd.DataFrame,
    models: pd.DataFrame,
    quality: pd.DataFrame,
    meta: dict[str, Any],
) -> str:
    reg = regions[ANNUAL_MEANS]
    reg = rounded(
        reg,
        {
            "price_mean_per_mwh": 2,
            "price_mean_usd_per_mwh": 2,
            "carbon_mean_t_per_mwh": 4,
            "solar_cf_mean": 4,
            "wind_cf_mean": 4,
        },
    )
    mod = rounded(
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
