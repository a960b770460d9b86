"""The catalog: full-year data and week split, tier recipes, content hashes, per-(ASP,
class) job figures, infeasibility at load, schema doc, and the catalog commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aigc_opt.data import splits
from aigc_opt.data.build_year import read_year
from aigc_opt.data.catalog import (
    CATALOG_FILE,
    SCENARIO_DIR,
    check_hash,
    content_hash,
    load_scenario,
    read_catalog,
)
from aigc_opt.data.describe import describe
from aigc_opt.data.feasibility import reachable_soc
from aigc_opt.data.profile_tables import PROFILE_DIR
from aigc_opt.data.recipes import catalog_toml, write_recipes
from aigc_opt.data.scenario import ScenarioError, make_scenario
from aigc_opt.solvers.leaderboard import merge

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_opt", *args], capture_output=True, text=True, timeout=300
    )


# ---------------------------------------------------------------------------------------
# full year and split
# ---------------------------------------------------------------------------------------
def test_year_holds_every_hour_and_agrees_with_the_weekly_profiles():
    year = read_year(PROFILE_DIR)
    assert year.groupby("region", observed=True).size().eq(8760).all()
    weekly = pd.read_csv(PROFILE_DIR / "energy_weeks_2023.csv")
    for (season, region), w in weekly.groupby(["season", "region"]):
        start = pd.Timestamp(w["time_utc"].iloc[0])
        y = year[(year["region"] == region) & (year["time_utc"] >= start)].head(168)
        for col in ("price_per_mwh", "carbon_t_per_mwh", "solar_cf", "wind_cf"):
            np.testing.assert_array_equal(
                y[col].to_numpy(), w[col].to_numpy(), err_msg=f"{season} {region} {col}"
            )


def test_week_split_is_a_partition_with_test_weeks_kept_apart():
    t = splits.table()
    assert len(t) == 52 and t["start_slot"].is_unique
    tr, va, te = (set(splits.weeks(s)) for s in ("train", "val", "test"))
    assert not (tr & va or tr & te or va & te)
    assert len(te) == 4 and len(va) == 4  # one per season
    assert set(t.loc[t["split"] == "test", "season"]) == {"winter", "spring", "summer", "autumn"}
    for s in te:  # no training week touches a test week
        assert s - 168 not in tr and s + 168 not in tr
    # the test weeks are the representative weeks of the us4-2023-<season> scenarios
    year = load_scenario("us4-2023")
    assert year.T == 8760
    starts = {load_scenario(f"us4-2023-{s}").slot_time(0) for s in ("winter", "summer")}
    assert starts <= {year.slot_time(s) for s in te}
    summer = load_scenario("us4-2023-summer")
    slot = next(s for s in te if year.slot_time(s) == summer.slot_time(0))
    np.testing.assert_array_equal(year.cut(168, slot).price, summer.price)
    assert splits.split_of(slot + 5) == "test"
    with pytest.raises(ScenarioError, match="split"):
        splits.weeks("everything")


# ---------------------------------------------------------------------------------------
# tiers, recipes and hashes
# ---------------------------------------------------------------------------------------
def test_quick_recipes_regenerate_byte_identical_and_catalog_hashes_match(tmp_path):
    names = ["us4-peak", "transatlantic-volatile", "us4-island"]
    write_recipes(tmp_path, names=names)
    for n in names:
        for f in ("scenario.toml", "energy.csv", "arrivals.csv"):
            assert (tmp_path / n / f).read_bytes() == (SCENARIO_DIR / n / f).read_bytes(), (n, f)
    assert CATALOG_FILE.read_text(encoding="utf-8") == catalog_toml()
    cat = read_catalog()
    for e in cat.entries:
        check_hash(e)  # raises if a file changed since the catalog was written
    assert {"peak", "volatile", "island", "scale"} <= {e.tier for e in cat.entries}


def test_hash_changes_with_any_series_byte(tmp_path):
    import shutil

    shutil.copytree(SCENARIO_DIR / "tiny", tmp_path / "tiny")
    p = tmp_path / "tiny" / "scenario.toml"
    h0 = content_hash(p)
    arr = tmp_path / "tiny" / "arrivals.csv"
    arr.write_text(arr.read_text() + "\n")
    assert content_hash(p) != h0


def test_peak_exceeds_capacity_for_hours_and_volatile_has_negative_prices_and_spikes():
    peak = describe(load_scenario("us4-peak"))
    load = next(s for s in peak["series"] if s["series"].startswith("load"))
    assert load["max"] > 2.0  # twice the GPUs of all pools at the fewest steps
    scn = load_scenario("us4-peak")
    base = load_scenario("us4-2023-summer")
    assert scn.arrivals.sum() > 1.3 * base.arrivals.sum()
    vol = load_scenario("transatlantic-volatile")
    assert (vol.price < 0).sum() >= 10
    assert (vol.price > 300).sum() >= 10
    caps = [d.grid_cap_mw for d in vol.params.data_centers]
    assert max(caps) <= 0.1


# ---------------------------------------------------------------------------------------
# per-(ASP, class) job figures
# ---------------------------------------------------------------------------------------
def _tiny_raw():
    scn = load_scenario("tiny")
    raw = scn.params.model_dump(by_alias=True)
    raw.pop("series")
    return scn, raw


def test_class_figures_override_the_work_factor_shorthand():
    scn, raw = _tiny_raw()
    raw["job_classes"].append(dict(raw["job_classes"][0], name="big", work_factor=2.0))
    raw["asps"][1]["class_figures"] = [
        {"job_class": "big", "gpu_seconds_per_step": 50.0, "kwh_fixed": 0.2}
    ]
    arrivals = np.concatenate([scn.arrivals, scn.arrivals], axis=1)
    s2 = make_scenario(raw, scn.price, scn.carbon, scn.renewable, arrivals)
    n = np.array(raw["steps"], dtype=float)
    hq, fast = raw["asps"][1], raw["asps"][0]
    # overridden class at the hq pool: absolute figures, no work factor
    np.testing.assert_allclose(s2.gpu_seconds[1, 1], hq["gpu_seconds_fixed"] + 50.0 * n)
    np.testing.assert_allclose(s2.job_kwh[1, 1], 0.2 + 2.0 * hq["kwh_per_step"] * n)
    # other pairs keep work_factor × per-ASP figure
    np.testing.assert_allclose(s2.gpu_seconds[0, 1], 2.0 * fast["gpu_seconds_per_step"] * n)
    np.testing.assert_allclose(s2.gpu_seconds[1, 0], hq["gpu_seconds_per_step"] * n)
    raw["asps"][1]["class_figures"] = [{"job_class": "nope", "kwh_fixed": 0.1}]
    with pytest.raises(ScenarioError, match=r"asps\[1\]\.class_figures\[0\]\.job_class"):
        make_scenario(raw, scn.price, scn.carbon, scn.renewable, arrivals)


# ---------------------------------------------------------------------------------------
# infeasible scenarios
# ---------------------------------------------------------------------------------------
def test_unreachable_terminal_floor_is_refused_at_load_and_the_boundary_loads():
    scn, raw = _tiny_raw()
    bat = raw["data_centers"][0]["battery"]
    bat.update(soc_initial_mwh=0.0, charge_mw=0.1, eta_charge=1.0)
    # 3 slots × 0.1 MW × 1 h reach exactly 0.3 MWh
    bat["soc_terminal_mwh"] = 0.3
    ok = make_scenario(raw, scn.price, scn.carbon, scn.renewable, scn.arrivals)
    assert reachable_soc(ok, 0) == pytest.approx(0.3)
    bat["soc_terminal_mwh"] = 0.31
    with pytest.raises(ScenarioError) as err:
        make_scenario(raw, scn.price, scn.carbon, scn.renewable, scn.arrivals)
    msg = str(err.value)
    assert "soc_terminal_mwh" in msg and "terminal state-of-charge floor" in msg
    assert "0.3 MWh" in msg


def test_shipped_infeasible_fixture_fails_with_the_constraint_family():
    fixture = REPO.parent / "shared" / "checks" / "fixtures" / "infeasible-terminal"
    if not fixture.exists():
        pytest.skip("shared fixtures not present")
    r = run_cli("solve", "--scenario", str(fixture / "scenario.toml"))
    assert r.returncode == 2
    assert "terminal state-of-charge floor" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------------
# schema doc and commands
# ---------------------------------------------------------------------------------------
def test_schema_doc_is_up_to_date():
    from aigc_opt.data.schema_doc import render

    assert (REPO / "docs" / "scenario-schema.md").read_text(encoding="utf-8") == render()


def test_scenarios_commands(tmp_path):
    r = run_cli("scenarios", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert all("tier" in x and "name" in x for x in rows)
    assert any(x["tier"] == "peak" for x in rows)
    r = run_cli("scenarios", "validate", str(SCENARIO_DIR / "tiny" / "scenario.toml"))
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n')
    r = run_cli("scenarios", "validate", str(bad))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "bad.toml" in r.stderr
    r = run_cli("scenarios", "show", "tiny", "--json")
    info = json.loads(r.stdout)
    assert info["sizes"]["slots"] == 3 and info["hash"] == content_hash(
        SCENARIO_DIR / "tiny" / "scenario.toml"
    )
    r = run_cli("scenarios", "show", "no-such-scenario")
    assert r.returncode == 2 and "unknown scenario" in r.stderr


def test_unknown_names_are_errors(tmp_path):
    r = run_cli(
        "regress",
        "--golden",
        str(REPO / "tests" / "golden" / "utility.json"),
        "--scenario",
        f"no-such-scn={tmp_path / 'x.toml'}",
    )
    assert r.returncode == 2 and "no-such-scn" in r.stderr
    r = run_cli("leaderboard", "--scenarios", "no-such-*", "--out", str(tmp_path))
    assert r.returncode == 2 and "no-such-*" in r.stderr


def test_user_catalog_entries_and_errors(tmp_path):
    cat = tmp_path / "cat.toml"
    cat.write_text(
        'version = "mine"\n[[scenario]]\nname = "t"\ntier = "unit"\nhorizons = [3]\n'
        f'path = "{SCENARIO_DIR / "tiny" / "scenario.toml"}"\n'
    )
    c = read_catalog(cat)
    assert c.version == "mine" and c.get("t").horizons == (3,)
    cat.write_text('[[scenario]]\nname = "t"\nhorizons = [0]\n')
    with pytest.raises(ScenarioError, match=r"scenario\[0\]\.horizons"):
        read_catalog(cat)


def test_leaderboard_never_replaces_an_optimal_row_with_a_non_optimal_one():
    old = {"rows": [{"scenario": "s", "horizon": 24, "milp_status": "optimal", "data_hash": "h"}]}
    worse = {
        "rows": [{"scenario": "s", "horizon": 24, "milp_status": "time_limit", "data_hash": "h"}]
    }
    table, kept = merge(old, worse)
    assert table["rows"][0]["milp_status"] == "optimal" and len(kept) == 1
    changed = {"rows": [dict(worse["rows"][0], data_hash="other")]}
    table, kept = merge(old, changed)  # a changed scenario is a new row
    assert table["rows"][0]["milp_status"] == "time_limit" and kept == []
