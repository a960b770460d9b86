"""Real-data scenarios assembled from the shipped profiles (``data/profiles``).

`write_catalog()` regenerates the shipped real-data scenarios — ``us4-2023-winter``,
``us4-2023-spring``, ``us4-2023-summer``, ``us4-2023-autumn``,
``transatlantic-2023-summer`` and the embedded ``default`` — bit for bit from the profiles
(``aigc-opt data scenarios``). `assemble` builds one scenario from a `ScenarioSpec` and hourly
energy series, so the same code serves a user's own data (`scenario_from_recipe` reads raw
files in the formats of `aigc_opt.data.loaders`).

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

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from aigc_opt.data.scenario import ScenarioError

__all__ = [
    "PROFILE_DIR",
    "SCENARIO_DIR",
    "DCSpec",
    "AspSpec",
    "ClassSpec",
    "ScenarioSpec",
    "CATALOG",
    "Profiles",
    "assemble",
    "write_scenario",
    "write_catalog",
    "scenario_from_recipe",
]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
REFERENCE_STEPS = 20


@dataclass(frozen=True)
class DCSpec:
    """A data center: region, PUE, grid cap (MW), battery and generator (scenario TOML
    tables), on-site/contracted PV and wind nameplate (MW)."""

    name: str
    region: str
    pue: float
    grid_cap_mw: float | None
    battery: dict[str, float]
    generator: dict[str, Any] | None
    pv_mw: float
    wind_mw: float


@dataclass(frozen=True)
class AspSpec:
    """An ASP: model (``models.csv`` name) on a GPU type, pool size, home data center."""

    name: str
    data_center: str
    model: str
    gpu: str
    gpus: int


@dataclass(frozen=True)
class ClassSpec:
    """A job class (MODEL.md §2) and its share of each ASP's arrivals."""

    name: str
    price_usd: float
    quality_floor: float
    max_wait_slots: int
    delay_usd_per_slot: float
    drop_usd: float
    work_factor: float
    share: float


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything a real-data scenario is built from, besides the profiles."""

    name: str
    description: str
    season: str
    data_centers: tuple[DCSpec, ...]
    asps: tuple[AspSpec, ...]
    classes: tuple[ClassSpec, ...]
    seed: int
    mean_load: float = 0.8
    eur_to_usd: float | None = None
    carbon_price_usd_per_t: float = 50.0
    steps: tuple[int, ...] = (10, 15, 20, 30, 50)
    image_payload_gb: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: (factor, first local hour, hours): arrivals × factor in that daily local-time window
    surge: tuple[float, int, int] | None = None


def _battery(cap: float, power: float, wear: float = 5.0) -> dict[str, float]:
    return {
        "capacity_mwh": cap,
        "soc_min_mwh": round(0.1 * cap, 6),
        "charge_mw": power,
        "discharge_mw": power,
        "eta_charge": 0.95,
        "eta_discharge": 0.95,
        "soc_initial_mwh": round(0.5 * cap, 6),
        "wear_usd_per_mwh": wear,
    }


GENERATOR_PJM = {
    "min_mw": 0.03,
    "max_mw": 0.1,
    "fuel_usd_per_mwh": 95.0,
    "emission_t_per_mwh": 0.55,
    "startup_usd": 15.0,
    "initially_on": False,
}
DC_US = {
    "caiso": DCSpec("caiso", "US-CAL-CISO", 1.2, 0.5, _battery(0.3, 0.15), None, 0.15, 0.03),
    "ercot": DCSpec("ercot", "US-TEX-ERCO", 1.3, 0.5, _battery(0.2, 0.1), None, 0.08, 0.10),
    "pjm": DCSpec("pjm", "US-MIDA-PJM", 1.25, 0.5, _battery(0.2, 0.1), GENERATOR_PJM, 0.06, 0.04),
    "nyiso": DCSpec("nyiso", "US-NY-NYIS", 1.3, 0.5, _battery(0.2, 0.1), None, 0.04, 0.04),
    "delu": DCSpec("delu", "DE-LU", 1.2, 0.5, _battery(0.2, 0.1), None, 0.06, 0.06),
}
REGION_OF = {
    "US-CAL-CISO": "caiso",
    "US-TEX-ERCO": "ercot",
    "US-MIDA-PJM": "pjm",
    "US-NY-NYIS": "nyiso",
    "DE-LU": "delu",
    "FR": "fr",
}
ASPS_US4 = (
    AspSpec("sdxl-ca", "caiso", "SDXL 1.0", "A100", 160),
    AspSpec("pixart-ca", "caiso", "PixArt-Σ", "H100", 80),
    AspSpec("sd21-tx", "ercot", "Stable Diffusion 2.1", "A100", 120),
    AspSpec("sd35m-va", "pjm", "Stable Diffusion 3.5 Medium", "H100", 140),
    AspSpec("flux-ny", "nyiso", "FLUX.1 Dev", "H100", 120),
)
ASPS_TRANSATLANTIC = (*ASPS_US4[:4], AspSpec("flux-de", "delu", "FLUX.1 Dev", "H100", 120))
CLASSES = (
    ClassSpec("draft", 0.0004, 0.35, 2, 0.00003, 0.0002, 1.0, 0.50),
    ClassSpec("standard", 0.0008, 0.45, 1, 0.00008, 0.0006, 1.0, 0.35),
    ClassSpec("premium", 0.0016, 0.545, 0, 0.0002, 0.002, 1.5, 0.15),
)
SEASON_SEED = {"winter": 20231, "spring": 20232, "summer": 20233, "autumn": 20234}


def _us4(season: str, name: str | None = None, description: str | None = None) -> ScenarioSpec:
    return ScenarioSpec(
        name=name or f"us4-2023-{season}",
        description=description
        or (f"CAISO, ERCOT, PJM, NYISO: {season} 2023 week of real series, measured models"),
        season=season,
        data_centers=tuple(DC_US[n] for n in ("caiso", "ercot", "pjm", "nyiso")),
        asps=ASPS_US4,
        classes=CLASSES,
        seed=SEASON_SEED[season],
    )


CATALOG: tuple[ScenarioSpec, ...] = (
    *(_us4(s) for s in ("winter", "spring", "summer", "autumn")),
    ScenarioSpec(
        name="transatlantic-2023-summer",
        description="CAISO, ERCOT, PJM + DE-LU (EUR to USD): summer 2023 week, real series",
        season="summer",
        data_centers=tuple(DC_US[n] for n in ("caiso", "ercot", "pjm", "delu")),
        asps=ASPS_TRANSATLANTIC,
        classes=CLASSES,
        seed=20235,
        eur_to_usd=None,
    ),
    _us4(
        "summer",
        name="default",
        description=(
            "4 US data centers, 5 ASPs, 3 classes, 5 step levels, 168 h (= us4-2023-summer)"
        ),
    ),
)


# ----------------------------------------------------------------------------------------
# profiles
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profiles:
    """The shipped profile tables (see ``data/profiles/PROVENANCE.md``)."""

    energy: pd.DataFrame
    weeks: pd.DataFrame
    shape: pd.DataFrame
    models: pd.DataFrame
    quality: pd.DataFrame
    meta: dict[str, Any]
    directory: Path

    @classmethod
    def read(cls, directory: str | Path = PROFILE_DIR) -> Profiles:
        d = Path(directory)
        need = (
            "energy_weeks_2023.csv",
            "weeks_2023.csv",
            "arrival_shape.csv",
            "models.csv",
            "quality.csv",
            "arrivals.json",
        )
        for n in need:
            if not (d / n).exists():
                raise ScenarioError(
                    d / n, "file", n, "profile file not found; run 'aigc-opt data build' first"
                )
        return cls(
            energy=pd.read_csv(d / "energy_weeks_2023.csv", keep_default_na=True),
            weeks=pd.read_csv(d / "weeks_2023.csv"),
            shape=pd.read_csv(d / "arrival_shape.csv"),
            models=pd.read_csv(d / "models.csv"),
            quality=pd.read_csv(d / "quality.csv"),
            meta=json.loads((d / "arrivals.json").read_text(encoding="utf-8")),
            directory=d,
        )

    def week(self, season: str) -> tuple[pd.Timestamp, dict[str, pd.DataFrame]]:
        """UTC start and per-region hourly frames of a season's representative week."""
        row = self.weeks[self.weeks["season"] == season]
        if row.empty:
            raise ScenarioError(
                self.directory / "weeks_2023.csv",
                "season",
                season,
                f"unknown season (known: {', '.join(self.weeks['season'])})",
            )
        start = pd.Timestamp(row["start_utc"].iloc[0])
        sel = self.energy[self.energy["season"] == season]
        out = {}
        for region, g in sel.groupby("region", sort=False):
            out[str(region)] = g.sort_values("hour").reset_index(drop=True)
        return start, out


# ----------------------------------------------------------------------------------------
# assembly
# ----------------------------------------------------------------------------------------
def _model_row(profiles: Profiles, model: str, gpu: str) -> pd.Series:
    m = profiles.models[(profiles.models["model"] == model) & (profiles.models["gpu"] == gpu)]
    if len(m) != 1:
        raise ScenarioError(
            profiles.directory / "models.csv",
            "model",
            f"{model} ({gpu})",
            "no measured profile for this model and GPU",
        )
    return m.iloc[0]


def _quality_row(profiles: Profiles, model: str) -> dict[str, Any]:
    q = profiles.quality[profiles.quality["model"] == model]
    if len(q) != 1:
        raise ScenarioError(
            profiles.directory / "quality.csv", "model", model, "no quality curve for this model"
        )
    r = q.iloc[0]
    return {
        "form": "log",
        "alpha": float(r["alpha"]),
        "c": float(r["c"]),
        "q_max": float(r["q_max"]),
    }


def _shape_for(shape: pd.DataFrame, times_utc: pd.DatetimeIndex, tz: str) -> np.ndarray:
    local = times_utc.tz_convert(tz)
    how = np.asarray(local.day_of_week) * 24 + np.asarray(local.hour)
    return shape["combined"].to_numpy(dtype=float)[how]


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
        m = _model_row(profiles, asp.model, asp.gpu)
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
    toml = _toml(spec, start_utc, asp_tables, profiles, eur, asp_notes)
    return toml, energy, arrivals


def _transfer_costs(spec: ScenarioSpec, meta: dict[str, Any]) -> list[dict[str, Any]]:
    payload = (
        spec.image_payload_gb
        if spec.image_payload_gb is not None
        else float(meta["image_payload_gb"])
    )
    region = {d.name: REGION_OF.get(d.region, d.name) for d in spec.data_centers}
    aws = {dc: meta["aws_region"][r] for dc, r in region.items()}
    prices = meta["transfer_usd_per_gb"]
    out = []
    for a in spec.asps:
        for b in spec.asps:
            if a.name == b.name:
                continue
            usd = payload * float(prices[aws[a.data_center]][aws[b.data_center]])
            out.append({"from": a.name, "to": b.name, "usd_per_job": round(usd, 9)})
    return out


def _num(x: float) -> str:
    """A number for a comment, at the ten significant digits of the TOML values."""
    return format(float(x), ".10g")


def _value(v: Any) -> Any:
    """A TOML value: floats rounded to ten significant digits, numpy scalars to Python."""
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_value(x) for x in v]
    if isinstance(v, bool | str):
        return v
    if isinstance(v, int | np.integer):
        return int(v)
    return float(format(float(v), ".10g"))


def _toml(
    spec: ScenarioSpec,
    start: pd.Timestamp,
    asps: list[tuple[AspSpec, pd.Series]],
    profiles: Profiles,
    eur: float,
    asp_notes: list[str],
) -> str:
    """The scenario TOML: a comment header on provenance, then the parameters written by
    tomli-w (so any string, e.g. a description with quotes, is escaped correctly)."""
    meta = profiles.meta
    header: list[str] = [
        f"{spec.name}: generated by `aigc-opt data {'recipe' if spec.notes else 'scenarios'}` "
        "from data/profiles (see data/profiles/PROVENANCE.md and docs/data.md). "
        "Do not edit by hand.",
        *spec.notes,
        *(
            ()
            if spec.notes
            else (
                f"Week: {spec.season} 2023 representative week starting "
                f"{start:%Y-%m-%d %H:%M} UTC.",
                "Series: day-ahead/real-time prices (EUR converted at "
                f"{_num(eur)} USD/EUR), Electricity Maps direct carbon intensity, PV (pvlib) and "
                "wind (windpowerlib) from Open-Meteo weather.",
            )
        ),
        f"Arrivals: seed {spec.seed}, mean load {spec.mean_load} of each home pool at "
        f"{REFERENCE_STEPS} steps, hour-of-week shape from Google/Alibaba cluster traces, "
        f"hourly rate CV {meta['hourly_rate_cv']} (Azure trace).",
        *(f"  {n}" for n in asp_notes),
        "Class shares of arrivals: "
        + ", ".join(f"{k.name} {_num(k.share)}" for k in spec.classes)
        + ".",
        "Renewables (nameplate): "
        + ", ".join(
            f"{d.name} PV {_num(d.pv_mw)} MWp, wind {_num(d.wind_mw)} MW" for d in spec.data_centers
        )
        + ".",
        "Models: GPU time/energy from ML.ENERGY v3 (batch scaling) and published A100 "
        "per-step figures; quality = GenEval level scaled by the edge-AIGC log fit.",
    ]
    data_centers = []
    for dc in spec.data_centers:
        d: dict[str, Any] = {"name": dc.name, "region": dc.region, "pue": dc.pue}
        if dc.grid_cap_mw is not None:
            d["grid_cap_mw"] = dc.grid_cap_mw
        d["battery"] = dc.battery
        if dc.generator is not None:
            d["generator"] = dc.generator
        data_centers.append(d)
    doc: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "slot_hours": 1.0,
        "start_time": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "carbon_price_usd_per_t": spec.carbon_price_usd_per_t,
        "steps": list(spec.steps),
        "data_centers": data_centers,
        "asps": [
            {
                "name": asp.name,
                "data_center": asp.data_center,
                "model": f"{asp.model} ({asp.gpu})",
                "gpus": asp.gpus,
                **{
                    key: m[key]
                    for key in (
                        "idle_kw_per_gpu",
                        "gpu_seconds_fixed",
                        "gpu_seconds_per_step",
                        "kwh_fixed",
                        "kwh_per_step",
                    )
                },
                "quality": _quality_row(profiles, asp.model),
            }
            for asp, m in asps
        ],
        "job_classes": [
            {
                "name": k.name,
                "price_usd": k.price_usd,
                "quality_floor": k.quality_floor,
                "max_wait_slots": k.max_wait_slots,
                "delay_usd_per_slot": k.delay_usd_per_slot,
                "drop_usd": k.drop_usd,
                "work_factor": k.work_factor,
            }
            for k in spec.classes
        ],
        "transfer": {"default_usd_per_job": 0.0, "costs": _transfer_costs(spec, meta)},
        "series": {"energy": "energy.csv", "arrivals": "arrivals.csv"},
    }
    comments = "".join(f"# {line}\n" for line in header)
    return comments + tomli_w.dumps(_value(doc))


def write_scenario(
    spec: ScenarioSpec, out_dir: str | Path, profiles: Profiles | None = None
) -> Path:
    """Write ``scenario.toml``, ``energy.csv``, ``arrivals.csv`` of one catalog scenario."""
    profiles = profiles or Profiles.read()
    start, regions = profiles.week(spec.season)
    series = {dc.name: regions[REGION_OF[dc.region]] for dc in spec.data_centers}
    toml, energy, arrivals = assemble(spec, series, start, profiles)
    return _write(out_dir, toml, energy, arrivals)


def _write(out_dir: str | Path, toml: str, energy: pd.DataFrame, arrivals: pd.DataFrame) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(toml, encoding="utf-8")
    (out / "energy.csv").write_text(
        energy.to_csv(index=False, lineterminator="\n"), encoding="utf-8"
    )
    (out / "arrivals.csv").write_text(
        arrivals.to_csv(index=False, lineterminator="\n"), encoding="utf-8"
    )
    return out / "scenario.toml"


def write_catalog(
    out_root: str | Path = SCENARIO_DIR,
    profiles_dir: str | Path = PROFILE_DIR,
    names: list[str] | None = None,
) -> list[Path]:
    """Regenerate the real-data catalog scenarios (all of `CATALOG`, or ``names``)."""
    profiles = Profiles.read(profiles_dir)
    known = [s.name for s in CATALOG]
    for n in names or []:
        if n not in known:
            raise ScenarioError(
                "--name", "name", n, f"not a generated scenario ({', '.join(known)})"
            )
    return [
        write_scenario(s, Path(out_root) / s.name, profiles)
        for s in CATALOG
        if names is None or s.name in names
    ]


# ----------------------------------------------------------------------------------------
# user data: a recipe pointing at raw files
# ----------------------------------------------------------------------------------------
def scenario_from_recipe(
    recipe: str | Path, out_dir: str | Path, profiles_dir: str | Path = PROFILE_DIR
) -> Path:
    """Build a scenario from a recipe TOML that points at the user's own data files.

    The recipe names a shipped catalog scenario as ``template`` (its data centers, ASPs,
    classes and arrival settings are reused), a UTC ``start`` and ``hours``, and per data
    center the files to read (paths relative to the recipe)::

        template = "us4-2023-summer"
        name = "my-week"
        start = "2023-08-07T00:00:00Z"
        hours = 168
        eur_to_usd = 1.08            # optional
        seed = 1                     # optional
        [data_centers.caiso]
        price = { file = "caiso_prices.csv", naive_tz = "UTC" }
        carbon = { file = "US-CAL-CISO_2023_hourly.csv" }
        weather = { file = "US-CAL-CISO_2023.json" }

    Prices, carbon and weather are read with `load_price_csv`, `load_carbon_csv` and
    `load_open_meteo_json`; PV and wind capacity factors are computed with pvlib and
    windpowerlib (turbine from the profiles' metadata, curve from ``power_curves``, a path
    in the recipe, default: windpowerlib's own library). Data centers without an entry
    keep the template's profile series, which requires the same week.
    """
    from aigc_opt.data import loaders as L
    from aigc_opt.data.loaders.renewables import (
        PVSpec,
        WindSpec,
        pv_capacity_factor,
        wind_capacity_factor,
    )

    recipe = Path(recipe)
    if not recipe.exists():
        raise ScenarioError(recipe, "file", str(recipe), "recipe not found")
    try:
        raw = tomllib.loads(recipe.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(recipe, "toml", recipe.name, f"not valid TOML: {exc}") from None
    base = recipe.parent
    by_name = {s.name: s for s in CATALOG}
    tmpl = raw.get("template", "us4-2023-summer")
    if tmpl not in by_name:
        raise ScenarioError(recipe, "template", tmpl, f"unknown ({', '.join(by_name)})")
    spec0 = by_name[tmpl]
    for key in ("start", "name"):
        if key not in raw:
            raise ScenarioError(recipe, key, "<missing>", "required field is missing")
    start = pd.Timestamp(raw["start"])
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    hours = int(raw.get("hours", 168))
    spec = ScenarioSpec(
        name=str(raw["name"]),
        description=str(raw.get("description", f"user data ({tmpl})")),
        season=spec0.season,
        data_centers=spec0.data_centers,
        asps=spec0.asps,
        classes=spec0.classes,
        seed=int(raw.get("seed", spec0.seed)),
        mean_load=float(raw.get("mean_load", spec0.mean_load)),
        eur_to_usd=raw.get("eur_to_usd", spec0.eur_to_usd),
        notes=(
            f"Series: files named in {recipe.name} from {start:%Y-%m-%d %H:%M} UTC, "
            f"{hours} h (data centers without files: the {tmpl} profiles).",
        ),
    )
    profiles = Profiles.read(profiles_dir)
    idx = pd.date_range(start, periods=hours, freq="h", name="time_utc")
    dcs = raw.get("data_centers", {})
    unknown = sorted(set(dcs) - {d.name for d in spec.data_centers})
    if unknown:
        raise ScenarioError(recipe, "data_centers", unknown[0], "not in the template")
    wind_meta = profiles.meta["wind_turbine"]
    curve = None
    series: dict[str, pd.DataFrame] = {}
    p_start, p_regions = profiles.week(spec.season)
    for dc in spec.data_centers:
        entry = dcs.get(dc.name)
        if entry is None:
            if p_start != start or hours != 168:
                raise ScenarioError(
                    recipe,
                    f"data_centers.{dc.name}",
                    "<missing>",
                    "give files for it (the template's week differs)",
                )
            series[dc.name] = p_regions[REGION_OF[dc.region]]
            continue
        for key in ("price", "carbon", "weather"):
            if key not in entry or "file" not in entry[key]:
                raise ScenarioError(
                    recipe,
                    f"data_centers.{dc.name}.{key}.file",
                    "<missing>",
                    "required field is missing",
                )
        pe = entry["price"]
        price = L.load_price_csv(
            base / pe["file"], naive_tz=pe.get("naive_tz", "UTC"), year=start.year
        )
        cur = price.meta["currency"]
        ci = L.load_carbon_csv(
            base / entry["carbon"]["file"],
            year=start.year,
            basis=entry["carbon"].get("basis", "direct"),
        )
        w = L.load_open_meteo_json(base / entry["weather"]["file"], year=start.year)
        pv = pv_capacity_factor(
            w.data, w.meta["latitude"], w.meta["longitude"], w.meta["elevation"] or 0.0, PVSpec()
        )
        if curve is None:
            curve = _turbine_curve(raw, base, wind_meta["turbine_type"])
        wind = wind_capacity_factor(
            w.data["wind_speed_10m_m_per_s"],
            curve,
            float(wind_meta["nominal_power_w"]),
            WindSpec(
                turbine_type=wind_meta["turbine_type"],
                hub_height_m=wind_meta["hub_height_m"],
                hellman_exponent=wind_meta["hellman_exponent"],
            ),
        )
        frame = pd.DataFrame(
            {
                "price_per_mwh": price.data[f"price_{cur.lower()}_per_mwh"],
                "carbon_t_per_mwh": ci.data["carbon_t_per_mwh"],
                "solar_cf": pv,
                "wind_cf": wind,
            }
        ).reindex(idx)
        if frame.isna().any().any():
            raise ScenarioError(
                recipe,
                "start",
                str(start),
                f"{dc.name}: the files do not cover {hours} h from there",
            )
        frame["currency"] = cur
        series[dc.name] = frame.reset_index(drop=True)
    toml, energy, arrivals = assemble(spec, series, start, profiles)
    return _write(out_dir, toml, energy, arrivals)


def _turbine_curve(raw: dict[str, Any], base: Path, turbine: str) -> pd.DataFrame:
    from aigc_opt.data import loaders as L

    if "power_curves" in raw:
        curves = L.load_power_curves(base / raw["power_curves"])
        if turbine not in curves:
            raise ScenarioError(base / raw["power_curves"], "turbine_type", turbine, "not found")
        return curves[turbine]
    from windpowerlib import WindTurbine

    t = WindTurbine(hub_height=100.0, turbine_type=turbine)
    return t.power_curve[["wind_speed", "value"]].reset_index(drop=True)
