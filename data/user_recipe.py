"""A scenario from the user's own data files: a recipe TOML names a catalog scenario as
template and, per data center, the price, carbon and weather files to read
(`scenario_from_recipe`, ``aigc-opt data recipe``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.data import loaders as L
from aigc_opt.data.build_scenarios import assemble
from aigc_opt.data.loaders.renewables import (
    PVSpec,
    WindSpec,
    pv_capacity_factor,
    wind_capacity_factor,
)
from aigc_opt.data.profile_tables import PROFILE_DIR, Profiles
from aigc_opt.data.scenario import ScenarioError
from aigc_opt.data.scenario_specs import CATALOG, REGION_OF, ScenarioSpec
from aigc_opt.data.scenario_writer import write_folder


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
    return write_folder(out_dir, toml, energy, arrivals)


def _turbine_curve(raw: dict[str, Any], base: Path, turbine: str) -> pd.DataFrame:
    """Power curve of ``turbine``: from the recipe's ``power_curves`` file, else windpowerlib's."""
    if "power_curves" in raw:
        curves = L.load_power_curves(base / raw["power_curves"])
        if turbine not in curves:
            raise ScenarioError(base / raw["power_curves"], "turbine_type", turbine, "not found")
        return curves[turbine]
    from windpowerlib import WindTurbine

    t = WindTurbine(hub_height=100.0, turbine_type=turbine)
    return t.power_curve[["wind_speed", "value"]].reset_index(drop=True)
