"""edge-offload family: hand-solved optimum, bound ordering, replay, the Opt-TS greedy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigc_opt.data.families import shipped_family_scenarios
from aigc_opt.data.families.edge_offload import from_frames, load_edge_offload
from aigc_opt.data.scenario import ScenarioError
from aigc_opt.solvers.edge_offload import HEURISTICS, replay, run_policy, solve_oracle
from aigc_opt.solvers.edge_offload_convex import solve_convex

SERVER = {
    "gpu_seconds_fixed": 0.0,
    "gpu_seconds_per_step": 0.1,
    "kwh_fixed": 0.0,
    "kwh_per_step": 0.0,
    "quality_alpha": 0.2,
    "quality_c": 0.0,
    "quality_max": 1.0,
}


def _scenario(arrivals: np.ndarray, rates: list[dict], gpus: list[int], **kw):
    U, T = arrivals.shape
    spec = {
        "family": "edge-offload",
        "name": "hand",
        "slot_seconds": 1.0,
        "max_wait_slots": 1,
        "steps": [5, 10],
        "payload_mbit": 1.0,
        "quality_usd": 1.0,
        "delay_usd_per_s": 0.1,
        "drop_usd": 0.5,
        "servers": [{"name": f"e{i}", "gpus": g, **SERVER} for i, g in enumerate(gpus)],
        "energy_usd_per_kwh": 0.0,
        "devices": [{"name": f"u{u}", "rates_mbps": rates[u]} for u in range(U)],
        **kw,
    }
    rows = [
        {"slot": t, "device": f"u{u}", "tasks": int(arrivals[u, t])}
        for u in range(U)
        for t in range(T)
    ]
    return from_frames(spec, pd.DataFrame(rows))


def test_hand_solved_two_tasks_one_server():
    """Two tasks at slot 0, one server with 1 GPU-second per slot, T = 2, W = 1, link 10 Mbit/s
    (0.1 s). Per task: 5 steps → Q = 0.2 ln 5 = 0.32189, 0.5 GPU-s; 10 steps → Q = 0.46052,
    1.0 GPU-s. Value = Q − 0.1 $/s · (0.1 s link + compute s + 1 s per slot waited):
    5 steps now 0.26189, 10 steps now 0.35052, 10 steps next slot 0.25052, 5 steps next slot
    0.16189. Capacity 1 GPU-s per slot. Best: 10 steps now + 10 steps next slot = 0.60104;
    two at 5 steps now = 0.52378; 10 now + 5 next = 0.51241; dropping one costs 0.5."""
    scn = _scenario(np.array([[2, 0]]), [{"e0": 10.0}], gpus=[1])
    res = solve_oracle(scn)
    q10 = 0.2 * np.log(10)
    assert res.status == "optimal"
    assert res.utility == pytest.approx(2 * q10 - 0.1 * (2 * 1.1 + 1.0), abs=1e-6)
    assert res.best_bound == pytest.approx(res.utility, abs=1e-6)
    assert replay(scn, res) == pytest.approx(res.utility, abs=1e-9)
    # Opt-TS serves both now, each taking the best level that still fits: 10 steps for the
    # first (1 GPU-s), none left for the second, which waits and takes 10 steps next slot
    assert run_policy(scn, "opt-ts").utility == pytest.approx(res.utility, abs=1e-6)


def test_greedy_is_not_optimal_when_waiting_pays():
    """Opt-TS serves every task in its own best way now. Slot 0: 1 task of u0 (two servers:
    e0 fast link, e1 slow); slot 1: 2 tasks of u0; e0 has 1 GPU-s per slot. The greedy takes
    e0 at 10 steps in slot 0 and then cannot serve both slot-1 tasks well; the oracle plans."""
    scn = _scenario(np.array([[1, 2]]), [{"e0": 10.0, "e1": 1.0}], gpus=[1, 1])
    oracle = solve_oracle(scn)
    greedy = run_policy(scn, "opt-ts")
    assert greedy.utility <= oracle.best_bound + 1e-9
    assert oracle.violations == [] and greedy.violations == []


def test_hand_solved_model_residency_and_switching():
    """One host (1 GPU: 1 GPU-s per slot) with two models, memory for one (max_resident = 1);
    `base` (Q = 0.2 ln n) is resident at the start, `xl` (Q = 0.4 ln n) takes 0.5 GPU-s of
    the slot it is loaded in and 0.05 kWh at 1 $/kWh. Two tasks at slot 0 (T = 2, W = 1, link
    0.1 s, 0.1 GPU-s per step, w = 0.1 $/s).
    Staying on `base` (what Opt-TS does, it never switches): 10 steps now + 10 steps next
    slot = 2·0.2 ln 10 − 0.1·(1.1 + 2.1) = 0.60103.
    Loading `xl` in slot 0: 5 steps now on the 0.5 GPU-s left (0.4 ln 5 − 0.1·0.6) and
    10 steps next slot (0.4 ln 10 − 0.1·2.1), minus 0.05 for the load = 1.24481, the optimum
    (loading in slot 1 instead: 0.35052 + 0.48378 − 0.05 = 0.78430)."""
    xl = {**SERVER, "quality_alpha": 0.4}
    spec = {"max_resident": 1, "energy_usd_per_kwh": 1.0}
    servers = [
        {"name": "base", "host": "h", "gpus": 1, **SERVER},
        {"name": "xl", "host": "h", "gpus": 1, "load_seconds": 0.5, "load_kwh": 0.05, **xl},
    ]
    scn = _scenario(np.array([[2, 0]]), [{"base": 10.0, "xl": 10.0}], gpus=[], **spec,
                    servers=servers)  # fmt: skip
    best = 0.4 * np.log(5) - 0.06 + 0.4 * np.log(10) - 0.21 - 0.05
    res = solve_oracle(scn)
    assert res.status == "optimal" and res.violations == []
    assert res.utility == pytest.approx(best, abs=1e-6)
    assert res.best_bound == pytest.approx(best, abs=1e-6)
    assert res.terms["switching_cost"] == pytest.approx(0.05, abs=1e-9)
    assert res.kpis["model_loads"] == 1
    assert res.schedule[1].tolist() == [[0.0, 1.0], [0.0, 1.0]]
    assert solve_oracle(scn, relax=True).best_bound >= best - 1e-6
    assert replay(scn, res) == pytest.approx(best, abs=1e-9)
    assert run_policy(scn, "mpc", window=2).utility == pytest.approx(best, abs=1e-6)
    stay = 2 * 0.2 * np.log(10) - 0.1 * (1.1 + 2.1)
    assert run_policy(scn, "opt-ts").utility == pytest.approx(stay, abs=1e-9)
    from aigc_opt.drl_compare.edge_offload_env import EdgeOffloadEnv

    env = EdgeOffloadEnv(scn)
    env.reset(seed=0)
    total, done, t = 0.0, False, 0
    while not done:
        _, r, done, _, _ = env.step_served(*(a[t] for a in res.schedule))
        total, t = total + r, t + 1
    assert total == pytest.approx(best, abs=1e-9)


@st.composite
def small(draw):
    U, E, T = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    arr = np.array(draw(st.lists(st.integers(0, 6), min_size=U * T, max_size=U * T))).reshape(U, T)
    rates = [
        {f"e{e}": float(draw(st.sampled_from([1.0, 10.0, 100.0]))) for e in range(E)}
        for _ in range(U)
    ]
    gpus = [draw(st.integers(0, 2)) for _ in range(E)]
    kw: dict = {"max_wait_slots": draw(st.integers(0, 2))}
    if E > 1 and draw(st.booleans()):  # model residency: every model on one host
        g = max(gpus[0], 1)
        load = draw(st.sampled_from([0.0, 0.3]))
        kw |= {"max_resident": draw(st.integers(1, E - 1)), "energy_usd_per_kwh": 1.0}
        kw["servers"] = [
            {"name": f"e{e}", "host": "h", "gpus": g, "load_seconds": load, "load_kwh": 0.02,
             **SERVER, "quality_alpha": 0.1 * (e + 1)}
            for e in range(E)
        ]  # fmt: skip
    return _scenario(arr, rates, gpus, **kw)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small())
def test_lp_milp_policy_ordering_and_replay(scn):
    milp, lp = solve_oracle(scn), solve_oracle(scn, relax=True)
    assert milp.status == lp.status == "optimal"
    tol = 1e-6 * max(1.0, abs(milp.utility))
    assert lp.best_bound >= milp.utility - tol
    cvx = solve_convex(scn)  # continuous steps: U_convex ≥ U_LP
    assert cvx.status == "optimal" and cvx.best_bound >= cvx.utility
    assert cvx.best_bound >= lp.best_bound - 1e-6 * max(1.0, abs(lp.best_bound))
    assert lp.utility == pytest.approx(lp.best_bound, abs=1e-6 * max(1.0, abs(lp.best_bound)))
    assert milp.violations == []
    assert replay(scn, milp) == pytest.approx(milp.utility, abs=tol)
    for name in (*HEURISTICS, "mpc"):
        pol = run_policy(scn, name, window=2)
        assert pol.violations == []
        assert pol.utility <= milp.best_bound + tol


def test_shipped_scenario_and_bad_value(tmp_path):
    path = shipped_family_scenarios("edge-offload")["edge-azure-conv-2023"]
    scn = load_edge_offload(path).cut(6)
    res = solve_oracle(scn)
    assert res.status == "optimal"
    assert replay(scn, res) == pytest.approx(res.utility, abs=1e-6 * abs(res.utility))
    mpc = run_policy(scn, "mpc", window=3)
    assert mpc.violations == [] and mpc.kpis["windows_not_optimal"] == 0
    assert mpc.utility <= res.best_bound + 1e-9
    # with a window covering the whole horizon, MPC's first program is the oracle's (each
    # window is solved to a MIP gap of 1e-4, hence the tolerance)
    full = run_policy(scn, "mpc", window=scn.T)
    assert full.utility == pytest.approx(res.utility, abs=1e-3 * abs(res.utility))
    text = path.read_text().replace("drop_usd = 0.02", "drop_usd = -1.0")
    (tmp_path / "scenario.toml").write_text(text)
    (tmp_path / "arrivals.csv").write_bytes((path.parent / "arrivals.csv").read_bytes())
    with pytest.raises(ScenarioError) as err:
        load_edge_offload(tmp_path / "scenario.toml")
    assert "scenario.toml: drop_usd = -1.0" in str(err.value)


def test_env_replays_oracle_and_zero_action_is_opt_ts():
    from gymnasium.utils.env_checker import check_env

    from aigc_opt.drl_compare.edge_offload_env import EdgeOffloadEnv

    path = shipped_family_scenarios("edge-offload")["edge-azure-conv-2023"]
    scn = load_edge_offload(path).cut(6)
    env = EdgeOffloadEnv(scn)
    check_env(env, skip_render_check=True)
    oracle = solve_oracle(scn)
    env.reset(seed=0)
    total, done, t = 0.0, False, 0
    while not done:
        _, r, done, _, info = env.step_served(*(a[t] for a in oracle.schedule))
        total, t = total + r, t + 1
    assert total == pytest.approx(oracle.utility, abs=1e-9)
    env.reset(seed=0)
    done, total = False, 0.0
    while not done:
        _, r, done, _, _ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        total += r
    assert total == pytest.approx(run_policy(scn, "opt-ts").utility, abs=1e-12)
