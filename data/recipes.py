"""Recipes of the catalog's stress tiers and of the full-year scenario.

Each recipe is a `ScenarioSpec` (`aigc_opt.data.scenario_specs`) plus a window of the
2023 year (``energy_2023.parquet``): the same assembly as the representative-week
scenarios, with the knobs that make one decision matter. `write_recipes()` regenerates
the scenario folders bit for bit (``aigc-opt data scenarios --tiers``).

Tiers (the decision each one stresses):

* ``us4-peak`` — a daily surge (×3 arrivals for 6 local hours) pushes load above the
  pools' capacity even at the fewest steps; drafts may wait 4 slots and standard jobs 2,
  so deferral, transfer to idle pools and fewer steps compete.
* ``transatlantic-volatile`` — CAISO, ERCOT, PJM, DE-LU in the 2023 week with both the
  most negative-price hours and the most price spikes (`volatile_week`); tight grid caps
  and batteries 5× larger: battery arbitrage and shifting work into cheap hours pay.
* ``us4-island`` — the PJM data center's grid cap is far below its pool's load, so serving
  there needs the generator (minimum load 0.04 MW, 30 $ per start): unit commitment.
* ``scale-10x20``, ``scale-20x40`` — 10 data centers × 20 ASPs and 20 × 40 over the five
  real regions (two or four sites per region, sizes varied): solver scaling.
* ``us4-2023`` — the whole year (8760 slots) for training and evaluation by week
  (`aigc_opt.data.splits`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from aigc_opt.data.build_scenarios import SCENARIO_DIR, assemble, selected
from aigc_opt.data.build_year import YEAR_START, read_year, year_window
from aigc_opt.data.profile_tables import PROFILE_DIR, Profiles
from aigc_opt.data.scenario_specs import (
    ASPS_TRANSATLANTIC,
    ASPS_US4,
    CLASSES,
    DC_US,
    GENERATOR_PJM,
    REGION_OF,
    AspSpec,
    ClassSpec,
    ScenarioSpec,
    battery,
)
from aigc_opt.data.scenario_writer import write_folder

US4 = ("caiso", "ercot", "pjm", "nyiso")


@dataclass(frozen=True)
class Recipe:
    """A catalog scenario built from the year: spec, window, tier and catalogued horizons."""

    spec: ScenarioSpec
    tier: str
    start_utc: str
    hours: int
    horizons: tuple[int, ...]
    stresses: str
    parquet: bool = False


def volatile_week(year: pd.DataFrame, regions: tuple[str, ...]) -> pd.Timestamp:
    """Monday 00:00 UTC of the 2023 week that has both the most negative-price hours and
    the most price spikes in ``regions``: the largest min(negative hours, spike hours),
    summed over the regions, a spike being an hour above three times the region's annual
    mean price (earliest week on ties)."""
    best, best_score = None, -1
    prices = {
        r: year.loc[year["region"] == r].set_index("time_utc")["price_per_mwh"] for r in regions
    }
    for m in pd.date_range("2023-01-02T00:00:00Z", periods=52, freq="7D"):
        neg = spikes = 0
        for p in prices.values():
            wk = p.loc[m : m + pd.Timedelta(hours=167)]
            neg += int((wk < 0).sum())
            spikes += int((wk > 3 * float(p.mean())).sum())
        if min(neg, spikes) > best_score:
            best, best_score = m, min(neg, spikes)
    assert best is not None
    return best


def _classes(waits: tuple[int, int, int]) -> tuple[ClassSpec, ...]:
    return tuple(replace(k, max_wait_slots=w) for k, w in zip(CLASSES, waits, strict=True))


def _us4(name: str, description: str, seed: int, **kw: object) -> ScenarioSpec:
    base = ScenarioSpec(
        name=name,
        description=description,
        season="",
        data_centers=tuple(DC_US[n] for n in US4),
        asps=ASPS_US4,
        classes=CLASSES,
        seed=seed,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


SUMMER_TEST = "2023-07-31T00:00:00Z"


def _peak() -> Recipe:
    spec = _us4(
        "us4-peak",
        "us4 summer week with a daily 6-hour surge above pool capacity; drafts wait 4 slots",
        20236,
        classes=_classes((4, 2, 0)),
        surge=(3.0, 9, 6),
    )
    return Recipe(spec, "peak", SUMMER_TEST, 168, (24,), "deferral vs transfer vs fewer steps")


TRANSATLANTIC = ("caiso", "ercot", "pjm", "delu")


def _volatile(year: pd.DataFrame) -> Recipe:
    week = volatile_week(year, TRANSATLANTIC)
    dcs = tuple(
        replace(DC_US[n], grid_cap_mw=0.1, battery=battery(1.0, 0.25), generator=None)
        for n in TRANSATLANTIC
    )
    spec = _us4(
        "transatlantic-volatile",
        f"CAISO, ERCOT, PJM, DE-LU: the 2023 week from {week:%Y-%m-%d} with the most "
        "negative-price and spike hours; grid caps 0.1 MW, batteries 1 MWh / 0.25 MW, "
        "no generator",
        20237,
        data_centers=dcs,
        asps=ASPS_TRANSATLANTIC,
    )
    return Recipe(
        spec,
        "volatile",
        week.strftime("%Y-%m-%dT%H:%M:%SZ"),
        168,
        (24,),
        "battery arbitrage and load shifting under tight grid caps",
    )


def _island() -> Recipe:
    gen = dict(GENERATOR_PJM, min_mw=0.04, max_mw=0.1, startup_usd=30.0)
    dcs = tuple(
        replace(DC_US[n], grid_cap_mw=0.005, generator=gen) if n == "pjm" else DC_US[n] for n in US4
    )
    spec = _us4(
        "us4-island",
        "us4 summer week; PJM's grid cap (0.005 MW) is below its pool's load, so serving "
        "there needs the generator (min 0.04 MW, start-up 30 $); daily 4-hour ×2 surge",
        20238,
        data_centers=dcs,
        surge=(2.0, 10, 4),
    )
    return Recipe(spec, "island", SUMMER_TEST, 168, (24,), "generator unit commitment")


MODELS = (
    ("SDXL 1.0", "A100", "sdxl"),
    ("PixArt-Σ", "H100", "pixart"),
    ("Stable Diffusion 2.1", "A100", "sd21"),
    ("Stable Diffusion 3.5 Medium", "H100", "sd35m"),
    ("FLUX.1 Dev", "H100", "flux"),
)
REGIONS5 = ("caiso", "ercot", "pjm", "nyiso", "delu")


def _scale(n_dc: int, n_asp: int) -> Recipe:
    """``n_dc`` sites spread over the five regions, ``n_asp // n_dc`` ASPs per site."""
    rng = np.random.default_rng(1000 * n_dc + n_asp)
    dcs, asps = [], []
    for i in range(n_dc):
        base = DC_US[REGIONS5[i % len(REGIONS5)]]
        name = f"{base.name}-{i // len(REGIONS5) + 1}"
        dcs.append(
            replace(
                base,
                name=name,
                pue=round(float(rng.uniform(1.15, 1.4)), 2),
                generator=base.generator if i % 4 == 2 else None,
            )
        )
        for j in range(n_asp // n_dc):
            model, gpu, short = MODELS[(i + 2 * j) % len(MODELS)]
            gpus = int(rng.integers(6, 17)) * 10
            asps.append(AspSpec(f"{short}-{name}-{j + 1}", name, model, gpu, gpus))
    spec = ScenarioSpec(
        name=f"scale-{n_dc}x{n_asp}",
        description=f"{n_dc} data centers × {n_asp} ASPs over CAISO, ERCOT, PJM, NYISO, DE-LU "
        "(summer 2023 week)",
        season="",
        data_centers=tuple(dcs),
        asps=tuple(asps),
        classes=CLASSES,
        seed=20230 + n_dc,
    )
    horizons = (24,) if n_dc <= 10 else (6,)  # 20 × 40 at 24 slots: no incumbent in 200 s
    return Recipe(spec, "scale", SUMMER_TEST, 168, horizons, "solver scaling")


def _year() -> Recipe:
    spec = _us4(
        "us4-2023",
        "CAISO, ERCOT, PJM, NYISO: the whole year 2023 (8760 h) for training and "
        "evaluation by week (aigc_opt.data.splits)",
        2023,
    )
    return Recipe(spec, "year", "2023-01-01T00:00:00Z", 8760, (), "training data", True)


def recipes(profiles_dir: str | Path = PROFILE_DIR) -> list[Recipe]:
    """Every recipe of the catalog, in catalog order."""
    year = read_year(profiles_dir)
    return [_peak(), _volatile(year), _island(), _scale(10, 20), _scale(20, 40), _year()]


def _notes(r: Recipe, start: pd.Timestamp) -> tuple[str, ...]:
    out = [
        f"Tier: {r.tier} — stresses {r.stresses}. Recipe: aigc_opt.data.recipes.",
        f"Series: data/profiles/energy_2023.parquet from {start:%Y-%m-%d %H:%M} UTC, "
        f"{r.hours} h (prices EUR→USD at the profiles' rate, Electricity Maps direct carbon, "
        "pvlib PV and windpowerlib wind from Open-Meteo weather).",
    ]
    if r.spec.surge is not None:
        f, h0, n = r.spec.surge
        out.append(f"Surge: arrivals × {f:g} from {h0:02d}:00 local time for {n} h every day.")
    return tuple(out)


def write_recipe(r: Recipe, out_root: Path, profiles: Profiles, year: pd.DataFrame) -> Path:
    """Write one recipe's scenario folder (CSV series; Parquet for the year)."""
    start = pd.Timestamp(r.start_utc)
    series = {
        dc.name: year_window(year, REGION_OF[dc.region], start, r.hours)
        for dc in r.spec.data_centers
    }
    spec = replace(r.spec, notes=_notes(r, start))
    toml, energy, arrivals = assemble(spec, series, start, profiles)
    toml = toml.replace("`aigc-opt data recipe`", "`aigc-opt data scenarios --tiers`")
    return write_folder(out_root / r.spec.name, toml, energy, arrivals, parquet=r.parquet)


def write_recipes(
    out_root: str | Path = SCENARIO_DIR,
    profiles_dir: str | Path = PROFILE_DIR,
    names: list[str] | None = None,
) -> list[Path]:
    """Regenerate the recipe scenarios (all, or ``names``)."""
    profiles = Profiles.read(profiles_dir)
    year = read_year(profiles_dir)
    chosen = selected(recipes(profiles_dir), lambda r: r.spec.name, names, "recipe")
    return [write_recipe(r, Path(out_root), profiles, year) for r in chosen]


CATALOG_VERSION = "2023.1"
"""Version of the shipped catalog: bump it when a scenario's files or the list change."""
WEEK_ENTRIES: tuple[tuple[str, str, tuple[int, ...], str], ...] = (
    ("tiny", "unit", (3,), "hand-computed optima"),
    ("default", "week", (24,), "the reference week (= us4-2023-summer)"),
    ("us4-2023-winter", "week", (24,), "representative week; test split"),
    ("us4-2023-spring", "week", (24,), "representative week; test split"),
    ("us4-2023-summer", "week", (24,), "representative week; test split"),
    ("us4-2023-autumn", "week", (24,), "representative week; test split"),
    ("transatlantic-2023-summer", "week", (24,), "EUR market, transatlantic transfer"),
)


def catalog_toml(root: str | Path = SCENARIO_DIR, profiles_dir: str | Path = PROFILE_DIR) -> str:
    """The shipped catalog file (``data/catalog.toml``): every scenario with its tier,
    catalogued horizons, what it stresses and the content hash of its files under ``root``."""
    from aigc_opt.data.catalog import content_hash

    rows = [*WEEK_ENTRIES] + [
        (r.spec.name, r.tier, r.horizons, r.stresses) for r in recipes(profiles_dir)
    ]
    out = [
        "# The scenario catalog of aigc-opt: tier, leaderboard horizons, the decision each",
        "# scenario stresses and the content hash of its files. Generated by",
        "# `aigc-opt data scenarios` (aigc_opt.data.recipes.catalog_toml); do not edit by hand.",
        f'version = "{CATALOG_VERSION}"',
        "",
    ]
    for name, tier, horizons, stresses in rows:
        out += [
            "[[scenario]]",
            f'name = "{name}"',
            f'tier = "{tier}"',
            f"horizons = [{', '.join(str(h) for h in horizons)}]",
            f'stresses = "{stresses}"',
            f'hash = "{content_hash(Path(root) / name / "scenario.toml")}"',
            "",
        ]
    text = "\n".join(out)
    tomllib.loads(text)
    return text


__all__ = [
    "CATALOG_VERSION",
    "Recipe",
    "catalog_toml",
    "recipes",
    "volatile_week",
    "write_recipe",
    "write_recipes",
    "YEAR_START",
]
