"""Real-data scenarios assembled from the shipped profiles (``data/profiles``).

`write_catalog()` regenerates the shipped real-data scenarios — ``us4-2023-winter``,
``us4-2023-spring``, ``us4-2023-summer``, ``us4-2023-autumn``,
``transatlantic-2023-summer`` and the embedded ``default`` — bit for bit from the profiles
(``aigc-opt data scenarios``). `assemble` builds one scenario from a `ScenarioSpec` and hourly
energy series, so the same code serves a user's own data (`aigc_opt.data.user_recipe`
reads raw files in the formats of `aigc_opt.data.loaders`). The specs of the catalog are in
`aigc_opt.data.scenario_specs`, the profile tables in `aigc_opt.data.profile_tables`, the
TOML text and the folder layout in `aigc_opt.data.scenario_writer`.

What a scenario takes from where
--------------------------------
* price π (USD/MWh; EUR converted with ``eur_to_usd``), carbon κ (tCO2/MWh): the region's
  series in the chosen week;
* renewable R (MWh per slot) = (pv_mw · PV CF + wind_mw · wind CF) · Δ, with the data
  center's PV and wind nameplates (MW) as parameters;
* GPU time, energy above idle, idle power: ``models.csv`` (measured, see build_models);
  quality: ``quality.csv`` (``log`` form);
* arrivals λ_{a,k,t}: mean load × hour-of-week shape (ASP's local time, DST-aware) ×
  class share × Gamma rate noise (hourly CV from the Azure trace), Poisson-sampled with a
  seed. ``mean_load`` = the share of the home pool's GPU time the mean arrivals would use
  if every job ran 20 steps there;
* transfer cost c^tr_{a,b} = image payload (GB) × inter-region transfer price (USD/GB) of the
  two data centers' cloud regions (0 inside one data center).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from aigc_opt.data.profile_tables import PROFILE_DIR, Profiles
from aigc_opt.data.scenario import ScenarioError
from aigc_opt.data.scenario_specs import CATALOG, REFERENCE_STEPS, REGION_OF, ScenarioSpec
from aigc_opt.data.scenario_writer import scenario_toml, write_folder

__all__ = ["SCENARIO_DIR", "assemble", "write_scenario", "write_catalog"]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


def _shape_for(shape: pd.DataFrame, times_utc: pd.DatetimeIndex, tz: str) -> np.ndarray:
    local = times_utc.tz_convert(tz)
    how = np.asarray(local.day_of_week) * 24 + np.asarray(local.hour)
    return np.asarray(shape["combined"].to_numpy(dtype=float)[how], dtype=float)


def assemble(
    spec: ScenarioSpec, series: dict[str, pd.DataFrame], start_utc: pd.Timestamp, profiles: Profiles
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Scenario TOML text and the energy/arrival tables.

    Parameters
    ----------
    spec : the scenario's static choices.
    series : data-center name -> hourly frame with ``price_per_mwh``, ``currency``,
        ``carbon_t_per_mwh``, ``solar_cf``, ``wind_cf`` (one row per slot).
    start_utc : UTC time of slot 0.
    profiles : model, quality, arrival-shape and transfer tables.

    Returns
    -------
    (TOML text, energy table, arrivals table) in the formats of `aigc_opt.data.scenario`.
    """
    meta = profiles.meta
    eur = spec.eur_to_usd if spec.eur_to_usd is not None else float(meta["eur_to_usd"])
    T = None
    energy_rows = []
    for dc in spec.data_centers:
        if dc.name not in series:
            raise ScenarioError(spec.name, "data_centers", dc.name, "no series for it")
        s = series[dc.name]
        if T is None:
            T = len(s)
        if len(s) != T:
            raise ScenarioError(spec.name, dc.name, len(s), f"series length differs ({T})")
        for col in ("price_per_mwh", "carbon_t_per_mwh", "solar_cf", "wind_cf"):
            if s[col].isna().any():
                raise ScenarioError(
                    spec.name, f"{dc.name}.{col}", "NaN", "the region has no such series"
                )
        cur = set(s["currency"])
        if cur - {"USD", "EUR"} or len(cur) != 1:
            raise ScenarioError(
                spec.name, f"{dc.name}.currency", sorted(cur), "one of USD or EUR expected"
            )
        rate = eur if cur == {"EUR"} else 1.0
        price = s["price_per_mwh"].to_numpy(dtype=float) * rate
        renew = dc.pv_mw * s["solar_cf"].to_numpy(dtype=float) + dc.wind_mw * s["wind_cf"].to_numpy(
            dtype=float
        )
        energy_rows.append(
            pd.DataFrame(
                {
                    "slot": np.arange(T),
                    "data_center": dc.name,
                    "price_usd_per_mwh": np.round(price, 3) + 0.0,
                    "carbon_t_per_mwh": np.round(s["carbon_t_per_mwh"].to_numpy(dtype=float), 5)
                    + 0.0,
                    "renewable_mwh": np.round(renew, 6) + 0.0,
                }
            )
        )
    assert T is not None
    energy = pd.concat(energy_rows, ignore_index=True)

    times = pd.date_range(start_utc, periods=T, freq="h")
    cv = float(meta["hourly_rate_cv"])
    rng = np.random.default_rng(spec.seed)
    dc_by = {d.name: d for d in spec.data_centers}
    asp_tables, arrival_rows, asp_notes = [], [], []
    for asp in spec.asps:
        m = profiles.model_row(asp.model, asp.gpu)
        tau = float(m["gpu_seconds_fixed"]) + float(m["gpu_seconds_per_step"]) * REFERENCE_STEPS
        work = sum(k.share * k.work_factor for k in spec.classes) * tau
        mean_jobs = spec.mean_load * asp.gpus * 3600.0 / work
        region = REGION_OF.get(dc_by[asp.data_center].region, asp.data_center)
        tz = meta["local_tz"].get(region, "UTC")
        shape = _shape_for(profiles.shape, times, tz)
        if spec.surge is not None:
            factor, first, length = spec.surge
            hour = np.asarray(times.tz_convert(tz).hour)
            shape = np.where((hour - first) % 24 < length, shape * factor, shape)
        eps = rng.gamma(shape=1.0 / cv**2, scale=cv**2, size=T)
        for k in spec.classes:
            lam = mean_jobs * k.share * shape * eps
            jobs = rng.poisson(lam)
            arrival_rows.append(
                pd.DataFrame(
                    {"slot": np.arange(T), "asp": asp.name, "job_class": k.name, "jobs": jobs}
                )
            )
        asp_tables.append((asp, m))
        asp_notes.append(
            f"{asp.name}: {asp.model} on {asp.gpu}, {asp.gpus} GPUs, "
            f"mean {mean_jobs:.0f} jobs/h, users in {tz}"
        )
    arrivals = pd.concat(arrival_rows, ignore_index=True)
    toml = scenario_toml(spec, start_utc, asp_tables, profiles, eur, asp_notes)
    return toml, energy, arrivals


def write_scenario(
    spec: ScenarioSpec, out_dir: str | Path, profiles: Profiles | None = None
) -> Path:
    """Write ``scenario.toml``, ``energy.csv``, ``arrivals.csv`` of one catalog scenario."""
    profiles = profiles or Profiles.read()
    start, regions = profiles.week(spec.season)
    series = {dc.name: regions[REGION_OF[dc.region]] for dc in spec.data_centers}
    toml, energy, arrivals = assemble(spec, series, start, profiles)
    return write_folder(out_dir, toml, energy, arrivals)


T_item = TypeVar("T_item")


def selected(
    items: Sequence[T_item], name_of: Callable[[T_item], str], names: list[str] | None, what: str
) -> list[T_item]:
    """The ``items`` whose name is in ``names`` (all when None), in their own order; a name
    that is none of theirs is a `ScenarioError` on ``--name`` saying ``not a <what>``."""
    known = [name_of(i) for i in items]
    for n in names or []:
        if n not in known:
            raise ScenarioError("--name", "name", n, f"not a {what} ({', '.join(known)})")
    return [i for i in items if names is None or name_of(i) in names]


def write_catalog(
    out_root: str | Path = SCENARIO_DIR,
    profiles_dir: str | Path = PROFILE_DIR,
    names: list[str] | None = None,
) -> list[Path]:
    """Regenerate the real-data catalog scenarios (all of `CATALOG`, or ``names``)."""
    profiles = Profiles.read(profiles_dir)
    chosen = selected(CATALOG, lambda s: s.name, names, "generated scenario")
    return [write_scenario(s, Path(out_root) / s.name, profiles) for s in chosen]
