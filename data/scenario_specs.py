"""What the real-data scenarios are made of, besides the profiles: data centers, ASPs,
job classes and the catalog of generated scenarios (`CATALOG`).

Units are in the names: MW, MWh, $ (USD); `battery` gives a data center's battery table
(MWh, MW, efficiencies, $/MWh wear).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: step count at which an arrival's GPU time sets the mean load (``ScenarioSpec.mean_load``)
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


def battery(cap: float, power: float, wear: float = 5.0) -> dict[str, float]:
    """Battery table of capacity ``cap`` (MWh) and charge/discharge power ``power`` (MW):
    SoC in [10 %, 100 %], starting at 50 %, 95 % efficiency each way, ``wear`` $/MWh."""
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
    "caiso": DCSpec("caiso", "US-CAL-CISO", 1.2, 0.5, battery(0.3, 0.15), None, 0.15, 0.03),
    "ercot": DCSpec("ercot", "US-TEX-ERCO", 1.3, 0.5, battery(0.2, 0.1), None, 0.08, 0.10),
    "pjm": DCSpec("pjm", "US-MIDA-PJM", 1.25, 0.5, battery(0.2, 0.1), GENERATOR_PJM, 0.06, 0.04),
    "nyiso": DCSpec("nyiso", "US-NY-NYIS", 1.3, 0.5, battery(0.2, 0.1), None, 0.04, 0.04),
    "delu": DCSpec("delu", "DE-LU", 1.2, 0.5, battery(0.2, 0.1), None, 0.06, 0.06),
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
