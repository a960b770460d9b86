"""Heuristic baselines: feasible without repair, below the oracle bound, seeded, and
doing what their names say."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from aigc_opt import load_scenario, solve_oracle
from aigc_opt.data.scenario import make_scenario
from aigc_opt.solvers.heuristics import HEURISTICS, LocalGreedy, PriceGreedy, RandomPolicy
from aigc_opt.solvers.policy import Policy, run_episode

from .test_simulator import stress_scenario

CASES = {
    "tiny": lambda: load_scenario("tiny"),
    "stress": stress_scenario,
    "default-24": lambda: load_scenario("default", horizon=24),
}


@pytest.fixture(scope="module", params=list(CASES))
def episode(request):
    scn = CASES[request.param]()
    return scn, solve_oracle(scn)


@pytest.mark.parametrize("name", list(HEURISTICS))
def test_heuristics_are_feasible_and_below_the_oracle_bound(episode, name):
    scn, oracle = episode
    pol = HEURISTICS[name]()
    assert isinstance(pol, Policy) and pol.name == name
    ep = run_episode(scn, pol, seed=0, mode="strict")  # strict: no repair needed
    assert ep.violations == [] and ep.repairs == []
    assert ep.utility <= oracle.best_bound + 1e-6 * max(1.0, abs(oracle.best_bound))


def test_random_is_seeded():
    scn = stress_scenario()
    a = run_episode(scn, RandomPolicy(), seed=1).utility
    b = run_episode(scn, RandomPolicy(), seed=1).utility
    c = run_episode(scn, RandomPolicy(), seed=2).utility
    assert a == b and a != c


def test_local_greedy_serves_at_home_with_the_fewest_steps():
    scn = load_scenario("default", horizon=12)
    ep = run_episode(scn, LocalGreedy())
    j = ep.schedule.jobs
    away = (j["a"] != j["b"]).to_numpy()
    # only a class the home pool cannot serve at any level leaves home
    can_home = scn.admissible.any(axis=2)  # (B, K)
    assert not can_home[j["a"].to_numpy()[away], j["k"].to_numpy()[away]].any()
    assert (j["a"] == j["b"]).any()
    first = scn.admissible.argmax(axis=2)  # (B, K) fewest admissible level
    assert (j["s"].to_numpy() == first[j["b"], j["k"]]).all()
    assert ep.schedule.charge.sum() == 0 and ep.schedule.generator.sum() == 0


def _two_regions(price_a: float, price_b: float):
    """One class, two pools in two regions, ample capacity; all jobs arrive at pool 0."""
    p = {
        "name": "two",
        "steps": [10],
        "carbon_price_usd_per_t": 0.0,
        "data_centers": [{"name": "a"}, {"name": "b"}],
        "asps": [
            {
                "name": f"p{i}",
                "data_center": dc,
                "gpus": 10,
                "idle_kw_per_gpu": 0.0,
                "gpu_seconds_per_step": 1.0,
                "kwh_per_step": 1.0,
                "quality": {"form": "table", "steps": [10, 20], "quality": [1.0, 1.0]},
            }
            for i, dc in enumerate(("a", "b"))
        ],
        "job_classes": [{"name": "k", "price_usd": 100.0}],
        "transfer": {"default_usd_per_job": 0.5},
    }
    T = 3
    arrivals = np.zeros((2, 1, T))
    arrivals[0, 0] = 50.0
    return make_scenario(
        p, np.array([[price_a] * T, [price_b] * T]), np.zeros((2, T)), np.zeros((2, T)), arrivals
    )


def test_price_greedy_routes_to_the_cheapest_pool():
    # 10 kWh per job: at 200 $/MWh at home vs 100 $/MWh away, moving saves 1 $ > 0.5 $
    ep = run_episode(_two_regions(200.0, 100.0), PriceGreedy())
    assert set(ep.schedule.jobs["b"]) == {1}
    ep = run_episode(_two_regions(120.0, 100.0), PriceGreedy())  # saves 0.2 $ < 0.5 $
    assert set(ep.schedule.jobs["b"]) == {0}
    local = run_episode(_two_regions(200.0, 100.0), LocalGreedy())
    assert set(local.schedule.jobs["b"]) == {0}


def test_price_greedy_spills_when_the_cheapest_pool_is_full():
    scn = _two_regions(200.0, 100.0)
    raw = scn.params.model_dump(by_alias=True)
    raw["asps"][1]["gpus"] = 1
    raw["asps"][1]["gpu_seconds_per_step"] = 180.0  # 1800 GPU-s per job: 2 jobs per slot
    small = make_scenario(raw, scn.price, scn.carbon, scn.renewable, scn.arrivals)
    ep = run_episode(small, PriceGreedy(), mode="strict")
    j = ep.schedule.jobs
    assert j.loc[j["b"] == 1, "x"].sum() == pytest.approx(2.0 * small.T)
    assert j.loc[j["b"] == 0, "x"].sum() > 0


def test_cli_run_json(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "aigc_opt",
            "run",
            "--policy",
            "greedy",
            "--scenario",
            "tiny",
            "--horizon",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["method"] == "greedy" and out["utility"] <= out["oracle_bound"]
    assert set(out["terms"]) == {
        "revenue",
        "delay_penalty",
        "drop_penalty",
        "transfer_cost",
        "energy_cost",
        "carbon_cost",
        "generator_cost",
        "battery_wear",
    }
