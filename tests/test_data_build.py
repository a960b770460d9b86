"""Derivation of the shipped profiles and real-data scenarios: deterministic, equal to
what ships, and consistent with the measurements they come from."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data import loaders as L
from aigc_opt.data.build import PROFILE_FILES, build_profiles
from aigc_opt.data.build_models import EDGE_LOG_FIT, GENEVAL, PUBLISHED_PER_STEP, edge_log_quality
from aigc_opt.data.build_regions import EUR_TO_USD
from aigc_opt.data.build_scenarios import SCENARIO_DIR, write_catalog, write_scenario
from aigc_opt.data.catalog import load_scenario, shipped_names
from aigc_opt.data.profile_tables import PROFILE_DIR, Profiles
from aigc_opt.data.scenario_specs import CATALOG

REAL = [s.name for s in CATALOG]
DEFAULT_NAMES = {
    "data_centers": ["caiso", "ercot", "pjm", "nyiso"],
    "asps": ["sdxl-ca", "pixart-ca", "sd21-tx", "sd35m-va", "flux-ny"],
    "job_classes": ["draft", "standard", "premium"],
}


@pytest.fixture(scope="module")
def built_twice(tmp_path_factory, request) -> tuple[Path, Path]:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip(f"public datasets not found at {SHARED_DATA} (they live beside the repo)")
    a, b = tmp_path_factory.mktemp("profiles_a"), tmp_path_factory.mktemp("profiles_b")
    build_profiles(SHARED_DATA, a)
    build_profiles(SHARED_DATA, b)
    return a, b


def test_profile_derivation_is_deterministic_and_equals_the_shipped_profiles(built_twice):
    a, b = built_twice
    for name in PROFILE_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
        assert (a / name).read_bytes() == (PROFILE_DIR / name).read_bytes(), (
            f"data/profiles/{name} differs from what 'aigc-opt data build' derives"
        )
    assert sorted(p.name for p in PROFILE_DIR.iterdir()) == sorted(PROFILE_FILES)


def test_scenarios_regenerate_bit_for_bit(tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    write_catalog(one)
    write_catalog(two)
    for name in REAL:
        for f in ("scenario.toml", "energy.csv", "arrivals.csv"):
            data = (one / name / f).read_bytes()
            assert data == (two / name / f).read_bytes()
            assert data == (SCENARIO_DIR / name / f).read_bytes(), (
                f"data/scenarios/{name}/{f} differs from 'aigc-opt data scenarios'"
            )


def test_scenario_toml_round_trips_any_description(tmp_path: Path):
    """The TOML writer escapes strings: quotes, backslashes and newlines survive a write and
    a load unchanged."""
    text = 'A "quoted" week \\ with a backslash,\na newline and a tab\t.'
    spec = replace(CATALOG[0], name="quoted", description=text)
    path = write_scenario(spec, tmp_path / "quoted")
    scn = load_scenario(path)
    assert scn.params.description == text and scn.name == "quoted"
    ref = load_scenario(CATALOG[0].name)
    np.testing.assert_array_equal(scn.arrivals, ref.arrivals)
    assert scn.params.model_dump(exclude={"name", "description"}) == ref.params.model_dump(
        exclude={"name", "description"}
    )


def test_shipped_profiles_are_small_and_documented():
    total = sum(p.stat().st_size for p in PROFILE_DIR.iterdir() if p.suffix != ".parquet")
    assert total < 400_000
    # the whole 2023 year of 6 regions (52,560 hourly rows) stays compact
    assert (PROFILE_DIR / "energy_2023.parquet").stat().st_size < 700_000
    prov = (PROFILE_DIR / "PROVENANCE.md").read_text()
    for word in (
        "ODbL",
        "CC BY 4.0",
        "Apache-2.0",
        "Electricity Maps",
        "Open-Meteo",
        "ML.ENERGY",
        "Splitwise",
        "GenEval",
    ):
        assert word in prov, word


@pytest.mark.parametrize("name", REAL)
def test_real_data_scenarios_are_listed_and_keep_the_default_structure(name: str):
    assert name in shipped_names()
    scn = load_scenario(name)
    p = scn.params
    assert (scn.T, scn.D, scn.A, scn.K, scn.S) == (168, 4, 5, 3, 5)
    assert list(p.steps) == [10, 15, 20, 30, 50]
    assert [k.name for k in p.job_classes] == DEFAULT_NAMES["job_classes"]
    assert all(d.battery is not None for d in p.data_centers)
    assert any(d.generator is not None and d.generator.max_mw > 0 for d in p.data_centers)
    assert np.isfinite(scn.price).all() and (scn.carbon > 0).all() and (scn.renewable >= 0).all()
    assert scn.admissible.any(axis=(0, 2)).all()  # every class can be served somewhere
    if name.startswith("us4") or name == "default":
        assert [d.name for d in p.data_centers] == DEFAULT_NAMES["data_centers"]
        assert [b.name for b in p.asps] == DEFAULT_NAMES["asps"]


def test_series_come_from_the_profiles_with_currency_conversion():
    prof = Profiles.read()
    start, regions = prof.week("summer")
    scn = load_scenario("transatlantic-2023-summer")
    assert scn.slot_time(0) == start
    d = [x.name for x in scn.params.data_centers].index("delu")
    eur = regions["delu"]["price_per_mwh"].to_numpy()
    assert set(regions["delu"]["currency"]) == {"EUR"}
    assert np.allclose(scn.price[d], np.round(eur * EUR_TO_USD, 3))
    us = load_scenario("us4-2023-summer")
    c = [x.name for x in us.params.data_centers].index("caiso")
    assert np.allclose(us.price[c], regions["caiso"]["price_per_mwh"].to_numpy())
    assert np.allclose(us.carbon[c], regions["caiso"]["carbon_t_per_mwh"].to_numpy())
    cf = 0.15 * regions["caiso"]["solar_cf"] + 0.03 * regions["caiso"]["wind_cf"]
    assert np.allclose(us.renewable[c], cf.to_numpy(), atol=1e-6)


def test_arrivals_match_the_stated_mean_load():
    prof = Profiles.read()
    scn = load_scenario("us4-2023-summer")
    spec = next(s for s in CATALOG if s.name == "us4-2023-summer")
    for b, asp in enumerate(spec.asps):
        m = prof.models[(prof.models["model"] == asp.model) & (prof.models["gpu"] == asp.gpu)]
        tau = float(m["gpu_seconds_fixed"].iloc[0] + 20 * m["gpu_seconds_per_step"].iloc[0])
        work = scn.arrivals[b].sum(axis=1) @ np.array([k.work_factor for k in spec.classes])
        load = work * tau / (asp.gpus * 3600.0 * scn.T)
        assert load == pytest.approx(spec.mean_load, rel=0.05), asp.name


def test_model_profiles_reproduce_their_measurements():
    prof = Profiles.read()
    m = prof.models
    ml = m[m["source"].str.startswith("ML.ENERGY")]
    assert len(ml) >= 12
    per_image = ml["energy_fixed_j"] + ml["steps_ref"] * ml["energy_per_step_j"]
    assert np.allclose(per_image, ml["energy_per_image_b1_j"], rtol=1e-4)
    lat = ml["gpu_seconds_fixed"] + ml["steps_ref"] * ml["gpu_seconds_per_step"]
    assert np.allclose(lat, ml["latency_b1_s"], rtol=1e-4)
    assert (m["gpu_seconds_fixed"] >= 0).all() and (m["energy_fixed_j"] >= 0).all()
    for p in PUBLISHED_PER_STEP:
        row = m[(m["model"] == p.model) & (m["gpu"] == p.gpu)].iloc[0]
        assert row["energy_per_step_j"] == pytest.approx(p.joules_per_step)
        assert row["gpu_seconds_per_step"] == pytest.approx(p.seconds_per_step)
        above = (p.joules_per_step - 1000 * row["idle_kw_per_gpu"] * p.seconds_per_step) / 3.6e6
        assert row["kwh_per_step"] == pytest.approx(above, rel=1e-6)


def test_quality_curves_hit_their_published_level():
    q = Profiles.read().quality
    assert edge_log_quality(6) == pytest.approx(EDGE_LOG_FIT["scale"] + EDGE_LOG_FIT["offset"])
    for _, r in q.iterrows():
        level = GENEVAL[r["model"]]
        at_ref = min(r["q_max"], r["alpha"] * math.log(level.steps_ref) + r["c"])
        assert at_ref == pytest.approx(level.geneval, abs=1e-5)
        n = np.array([5, 10, 15, 20, 30, 50])
        v = np.minimum(r["q_max"], r["alpha"] * np.log(n) + r["c"])
        assert (np.diff(v) >= -1e-12).all() and (v > 0).all()
        # below the reference, the ratio to the level follows the edge-AIGC fit
        s = 10
        assert v[1] / level.geneval == pytest.approx(
            edge_log_quality(s) / edge_log_quality(level.steps_ref), rel=1e-4
        )


def test_weeks_and_arrival_shape():
    prof = Profiles.read()
    w = prof.weeks.set_index("season")
    for season, months in (
        ("winter", (1, 2, 12)),
        ("spring", (3, 4, 5)),
        ("summer", (6, 7, 8)),
        ("autumn", (9, 10, 11)),
    ):
        start = pd.Timestamp(w.loc[season, "start_utc"])
        end = start + pd.Timedelta(hours=167)
        assert start.day_of_week == 0 and start.month in months and end.month in months
    shape = prof.shape
    assert len(shape) == 168
    for c in ("google", "alibaba", "combined"):
        assert shape[c].mean() == pytest.approx(1.0, abs=1e-4)
    meta = json.loads((PROFILE_DIR / "arrivals.json").read_text())
    assert 0.05 < meta["hourly_rate_cv"] < 0.5


def test_recipe_builds_a_scenario_from_user_files(shared_data: Path, tmp_path: Path):
    gd = shared_data / "green-dcc"
    lines = [
        'template = "us4-2023-summer"',
        'name = "mine"',
        'start = "2023-08-07T00:00:00Z"',
        "hours = 24",
        "seed = 3",
        f'power_curves = "{shared_data / "windpowerlib-oedb" / "power_curves.csv"}"',
    ]
    for dc, zone in (
        ("caiso", "US-CAL-CISO"),
        ("ercot", "US-TEX-ERCO"),
        ("pjm", "US-MIDA-PJM"),
        ("nyiso", "US-NY-NYIS"),
    ):
        lines += [
            f"[data_centers.{dc}]",
            f'price = {{ file = "{gd / "electricity_prices"}/'
            f'{zone}_electricity_prices_2023_processed.csv" }}',
            f'carbon = {{ file = "{gd / "carbon_intensity"}/{zone}_2023_hourly.csv" }}',
            f'weather = {{ file = "{gd / "weather"}/{zone}_2023.json" }}',
        ]
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(app, ["data", "recipe", str(recipe), "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    scn = load_scenario(tmp_path / "s" / "scenario.toml")
    assert (scn.T, scn.D, scn.A) == (24, 4, 5)
    ercot = L.load_price_csv(
        gd / "electricity_prices" / "US-TEX-ERCO_electricity_prices_2023_processed.csv", year=2023
    )
    want = ercot.data.loc[
        "2023-08-07 00:00+00:00":"2023-08-07 23:00+00:00", "price_usd_per_mwh"
    ].to_numpy()
    assert np.allclose(scn.price[1], want, atol=1e-3)
    bad = tmp_path / "bad.toml"
    bad.write_text('template = "us4-2023-summer"\nname = "x"\nstart = "2023-08-07T00:00:00Z"\n')
    res = CliRunner().invoke(app, ["data", "recipe", str(bad), "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "data_centers.caiso" in res.output
