"""geo-training family: hand-solved optimum, bound ordering, replay, validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigc_opt.data.families import family_of, shipped_family_scenarios
from aigc_opt.data.families.geo_training import from_frames, load_geo_training
from aigc_opt.data.scenario import ScenarioError
from aigc_opt.formulations.geo_training_accounting import TERMS, utility_of
from aigc_opt.solvers.geo_training import replay, run_policy, solve_oracle
from aigc_opt.solvers.geo_training_sim import HEURISTICS


def _scenario(jobs: list[dict], price: np.ndarray, carbon: np.ndarray, caps: list[int], **kw):
    D, T = price.shape
    spec = {
        "family": "geo-training",
        "name": "hand",
        "data_centers": [
            {"name": f"dc{d}", "gpus": caps[d], "pue": 1.0, "gpu_kw": 1.0} for d in range(D)
        ],
        **kw,
    }
    energy = pd.DataFrame(
        [
            {
                "slot": t,
                "data_center": f"dc{d}",
                "price_usd_per_mwh": price[d, t],
                "carbon_t_per_mwh": carbon[d, t],
            }
            for t in range(T)
            for d in range(D)
        ]
    )
    rows = [
        {
            "job": f"j{i}",
            "home": "dc0",
            "value_usd_per_gpu_hour": 1.0,
            "lateness_usd_per_gpu_hour": 0.5,
            "migration_usd": 1.0,
            **job,
        }
        for i, job in enumerate(jobs)
    ]
    return from_frames(spec, pd.DataFrame(rows), energy)


def test_hand_solved_one_job():
    """One job, W = 4 GPU-h, sizes {2, 4}, deadline slot 1, home dc0 (cap 4), dc1 (cap 2).
    Energy per busy GPU-slot 0.001 MWh. Candidates (U = 4 − late − energy − migration):
    dc0 g4 τ0: 4 − 0.4·4 = 2.4;  dc0 g2 τ0: 4 − 2·.001·(400+500) = 2.2;
    dc1 g2 τ0: 4 − 2·.001·(50+50) − 1 = 2.8 (best);  dc0 g4 τ2: 4 − 2 − 0.4 = 1.6."""
    price = np.array([[400.0, 500.0, 100.0], [50.0, 50.0, 50.0]])
    scn = _scenario(
        [{"arrival_slot": 0, "deadline_slot": 1, "gpu_hours": 4, "gpus_min": 2, "gpus_max": 4}],
        price,
        np.zeros_like(price),
        caps=[4, 2],
    )
    res = solve_oracle(scn)
    assert res.status == "optimal"
    assert res.utility == pytest.approx(2.8, abs=1e-6)
    assert res.best_bound == pytest.approx(2.8, abs=1e-6)
    assert res.schedule == [(0, 1, 2, 0, 2)]
    assert res.terms["migration_cost"] == pytest.approx(1.0, abs=1e-9)
    assert res.terms["energy_cost"] == pytest.approx(0.2, abs=1e-9)
    assert res.violations == []
    assert replay(scn, res) == pytest.approx(2.8, abs=1e-6)
    # the greedy policies try the largest GPU count first: g = 4 fits only at dc0 (2.4),
    # which the oracle beats by 0.4 $ by running slower at the cheaper dc1
    assert run_policy(scn, "edf-cheapest").utility == pytest.approx(2.4, abs=1e-6)
    assert run_policy(scn, "fcfs-home").utility == pytest.approx(2.4, abs=1e-6)


def test_carbon_price_and_lateness_hand_solved():
    """σ = 100 $/t, κ(dc0) = 1 t/MWh: carbon adds 0.1 $/GPU-h at dc0. One job W = 2, size 2
    only, deadline 0, one data center: τ0 gives 2 − 2·.001·(10 + 100) = 1.78;
    τ1 (late) gives 2 − 1 − 0.002·(0 + 100) = 0.8. Optimum 1.78."""
    price = np.array([[10.0, 0.0]])
    scn = _scenario(
        [{"arrival_slot": 0, "deadline_slot": 0, "gpu_hours": 2, "gpus_min": 2, "gpus_max": 2}],
        price,
        np.ones_like(price),
        caps=[2],
        carbon_price_usd_per_t=100.0,
    )
    res = solve_oracle(scn)
    assert res.utility == pytest.approx(1.78, abs=1e-6)
    assert res.terms["carbon_cost"] == pytest.approx(0.2, abs=1e-9)
    assert utility_of(np.array([res.terms[k] for k in TERMS])) == pytest.approx(res.utility)


def test_hand_solved_preemption_and_migration():
    """One job, W = 4 GPU-h on 2 GPUs only (p = 2 slots), deadline slot 1, home dc0; both data
    centers hold 2 GPUs; energy per busy GPU-slot 0.001 MWh; prices dc0 (100, 900), dc1
    (900, 100) $/MWh; migration c = 0.3 $, resume r = 0.2 $.
    One run: dc0 from slot 0: 4 − 0.002·1000 = 2.0; dc1: 4 − 2.0 − 0.3 = 1.7.
    Preempted: dc0 in slot 0 (2 − 0.2 = 1.8), then migrated to dc1 in slot 1
    (2 − 0.2 − 0.3 migration − 0.2 resume = 1.3): 3.1, the optimum (the other order gives
    −0.1; a single segment at most 1.8)."""
    price = np.array([[100.0, 900.0], [900.0, 100.0]])
    job = {"arrival_slot": 0, "deadline_slot": 1, "gpu_hours": 4, "gpus_min": 2, "gpus_max": 2,
           "migration_usd": 0.3, "resume_usd": 0.2}  # fmt: skip
    scn = _scenario([job], price, np.zeros_like(price), caps=[2, 2], preemption=True)
    res = solve_oracle(scn)
    assert res.status == "optimal" and res.violations == []
    assert res.utility == pytest.approx(3.1, abs=1e-6)
    assert res.best_bound == pytest.approx(3.1, abs=1e-6)
    assert res.schedule == [(0, 0, 2, 0, 1), (0, 1, 2, 1, 1)]
    expect = {"work_value": 4.0, "energy_cost": 0.4, "migration_cost": 0.3, "resume_cost": 0.2}
    for k, v in expect.items():
        assert res.terms[k] == pytest.approx(v, abs=1e-9), k
    assert res.kpis["segments"] == 2 and res.kpis["segments_away_from_home"] == 1
    assert solve_oracle(scn, relax=True).best_bound >= 3.1 - 1e-6
    assert replay(scn, res) == pytest.approx(3.1, abs=1e-9)
    assert run_policy(scn, "mpc", window=2).utility == pytest.approx(3.1, abs=1e-6)
    # the greedy runs the job to its end at the cheaper data center now (dc0): 2.0
    assert run_policy(scn, "edf-cheapest").utility == pytest.approx(2.0, abs=1e-9)
    from aigc_opt.drl_compare.geo_training_env import GeoTrainingEnv

    env = GeoTrainingEnv(scn)
    env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        t = env.sim.t
        _, r, done, _, _ = env.step_starts(
            {j: (d, g, ell) for j, d, g, tau, ell in res.schedule if tau == t}
        )
        total += r
    assert total == pytest.approx(3.1, abs=1e-9)
    # without preemption the same job runs once: the best run is dc0 from slot 0
    plain = replace(scn, spec=scn.spec.model_copy(update={"preemption": False}))
    assert solve_oracle(plain).utility == pytest.approx(2.0, abs=1e-6)


@st.composite
def small_scenarios(draw):
    D = draw(st.integers(1, 3))
    T = draw(st.integers(2, 6))
    caps = [draw(st.sampled_from([2, 4, 8])) for _ in range(D)]
    price = np.array(draw(st.lists(st.floats(-50, 600), min_size=D * T, max_size=D * T))).reshape(
        D, T
    )
    carbon = np.array(draw(st.lists(st.floats(0, 1), min_size=D * T, max_size=D * T))).reshape(D, T)
    jobs = []
    for _ in range(draw(st.integers(1, 5))):
        gmin = draw(st.sampled_from([1, 2]))
        gmax = gmin * draw(st.sampled_from([1, 2, 4]))
        a = draw(st.integers(0, T - 1))
        jobs.append(
            {
                "arrival_slot": a,
                "deadline_slot": a + draw(st.integers(0, 3)),
                "gpu_hours": gmax * draw(st.integers(1, 3)),
                "gpus_min": gmin,
                "gpus_max": gmax,
                "migration_usd": draw(st.sampled_from([0.0, 0.5, 2.0])),
                "resume_usd": draw(st.sampled_from([0.0, 0.3, 1.0])),
            }
        )
    return _scenario(jobs, price, carbon, caps=caps, carbon_price_usd_per_t=50.0,
                     max_late_slots=2, preemption=draw(st.booleans()))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenarios())
def test_lp_milp_policies_ordering_and_replay(scn):
    milp = solve_oracle(scn)
    lp = solve_oracle(scn, relax=True)
    assert milp.status == lp.status == "optimal"
    tol = 1e-6 * max(1.0, abs(milp.utility))
    assert lp.best_bound >= milp.utility - tol
    assert milp.best_bound >= milp.utility - tol
    assert milp.violations == []
    assert replay(scn, milp) == pytest.approx(milp.utility, abs=tol)
    for name in (*HEURISTICS, "mpc"):
        pol = run_policy(scn, name, window=2)
        assert pol.violations == []
        assert pol.utility <= milp.best_bound + tol


def test_shipped_scenario_replay_and_policies():
    path = shipped_family_scenarios("geo-training")["geo-us4-2023-summer"]
    assert family_of("geo-us4-2023-summer") == "geo-training"
    assert family_of("default") == "aigc-dc"
    scn = load_geo_training(path).cut(8)
    milp = solve_oracle(scn)
    assert milp.status == "optimal" and milp.violations == []
    assert replay(scn, milp) == pytest.approx(milp.utility, abs=1e-6 * abs(milp.utility))
    for name in (*HEURISTICS, "mpc"):
        assert run_policy(scn, name, window=4).utility <= milp.best_bound + 1e-6


def test_bad_file_names_file_field_value(tmp_path):
    path = shipped_family_scenarios("geo-training")["geo-us4-2023-summer"]
    for f in ("scenario.toml", "energy.csv"):
        (tmp_path / f).write_bytes((path.parent / f).read_bytes())
    jobs = pd.read_csv(path.parent / "jobs.csv")
    jobs.loc[3, "gpus_max"] = 0
    jobs.to_csv(tmp_path / "jobs.csv", index=False)
    with pytest.raises(ScenarioError) as err:
        load_geo_training(tmp_path / "scenario.toml")
    msg = str(err.value)
    assert "jobs.csv" in msg and "gpus_max (row 4)" in msg and "= 0" in msg and "\n" not in msg


def test_env_replays_oracle_and_zero_action_is_the_heuristic():
    from gymnasium.utils.env_checker import check_env

    from aigc_opt.drl_compare.geo_training_env import GeoTrainingEnv

    path = shipped_family_scenarios("geo-training")["geo-us4-2023-summer"]
    scn = load_geo_training(path).cut(8)
    env = GeoTrainingEnv(scn)
    check_env(env, skip_render_check=True)
    milp = solve_oracle(scn)
    env.reset(seed=0)
    total, done, info = 0.0, False, {}
    while not done:
        t = env.sim.t
        starts = {j: (d, g, ell) for j, d, g, tau, ell in milp.schedule if tau == t}
        _, r, done, _, info = env.step_starts(starts)
        total += r
    assert total == pytest.approx(milp.utility, abs=1e-6 * abs(milp.utility))
    assert info["episode_utility"] == pytest.approx(milp.utility, abs=1e-6 * abs(milp.utility))
    env.reset(seed=0)
    done, total = False, 0.0
    while not done:
        _, r, done, _, _ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        total += r
    assert total == pytest.approx(run_policy(scn, "edf-cheapest").utility, abs=1e-9)
