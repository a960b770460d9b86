"""The action decoder, reward modes, info levels, forecasts and episode splits of the env."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aigc_opt import load_scenario
from aigc_opt.drl_compare.decoder import PARTS
from aigc_opt.drl_compare.env import AIGCDataCenterEnv
from aigc_opt.drl_compare.splits import split_starts
from aigc_opt.solvers.heuristics import LocalGreedy
from aigc_opt.solvers.policy import run_episode
from aigc_opt.solvers.simulator import Simulator


def _play_zero(env: AIGCDataCenterEnv, start: int) -> float:
    env.reset(seed=0, options={"start": start})
    zero = np.zeros(env.action_space.shape, dtype=np.float32)
    done = False
    while not done:
        _, _, done, _, info = env.step(zero)
    return info["episode_utility"]


@pytest.mark.parametrize("mode", ["direct", "residual"])
def test_build_action_inverts_split_action(mode):
    env = AIGCDataCenterEnv("default", horizon=6, action_mode=mode)
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
    parts = env.split_action(a)
    assert set(parts) == set(PARTS)
    assert sum(p.size for p in parts.values()) == env.action_space.shape[0]
    np.testing.assert_array_equal(env.build_action(**parts), a)
    fresh = {n: rng.uniform(-1, 1, p.size) for n, p in parts.items()}
    back = env.split_action(env.build_action(**fresh))
    for n in PARTS:
        np.testing.assert_allclose(back[n], fresh[n], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown action parts"):
        env.build_action(gpus=np.zeros(1))


def test_every_dimension_changes_the_decisions():
    """No dead dimensions: moving any one entry from 0 to +1 or −1 changes the decoded
    decisions in a state where every cohort waits and the battery has room both ways."""
    env = AIGCDataCenterEnv("default", horizon=24)
    env.reset(seed=0, options={"start": 30})
    obs = env._obs
    pend = np.where(obs.pending >= 0, 1.0, 0.0)  # one job in every (a, k, age)
    o = replace(obs, pending=pend)
    soc_mid = 0.5 * (env.layout.st.smin + env.layout.st.smax)
    from aigc_opt.solvers.sim_types import slot_limits

    o = replace(o, soc=soc_mid, limits=slot_limits(env.episode, 0, soc_mid))
    base = env.decode(np.zeros(env.action_space.shape), o)

    def key(d):
        return (
            tuple(np.round(d.x, 9)),
            tuple(d.b),
            tuple(d.s),
            tuple(np.round(d.charge, 9)),
            tuple(np.round(d.discharge, 9)),
            tuple(np.round(d.generator, 9)),
        )

    dead = []
    for i in range(env.action_space.shape[0]):
        moved = False
        for v in (1.0, -1.0):
            a = np.zeros(env.action_space.shape)
            a[i] = v
            moved |= key(env.decode(a, o)) != key(base)
        if not moved:
            dead.append(i)
    assert dead == []


def test_zero_action_in_direct_mode_is_at_least_greedy():
    full = load_scenario("default")
    env = AIGCDataCenterEnv(full, horizon=12, action_mode="direct")
    for start in (0, 75):
        greedy = run_episode(full.cut(horizon=12, start=start), LocalGreedy()).utility
        assert _play_zero(env, start) >= greedy - 1e-9 * abs(greedy)


def test_oldest_cohort_first_and_last_slot_never_deferred():
    """Hand-made slot on `tiny` (one class, W = 1): 10 fresh and 10 last-slot jobs at ASP 0
    whose pool holds 12 jobs: the 10 old jobs are served, 2 fresh; with the serve fraction
    at −1 the fresh ones are deferred but the old ones still served."""
    scn = load_scenario("tiny").cut(horizon=3)
    env = AIGCDataCenterEnv(scn, horizon=3)
    sim = Simulator(scn)
    obs = sim.reset()
    W = int(scn.class_arrays["wait"][0])
    assert W == 1
    pend = np.zeros_like(obs.pending)
    pend[0, 0, 0], pend[0, 0, W] = 10.0, 10.0
    s0 = env.layout.levels[0, 0, 0]
    cap = obs.limits.gpu_seconds.copy()
    cap[0] = 12.0 * scn.gpu_seconds[0, 0, s0]
    o = replace(obs, pending=pend, limits=replace(obs.limits, gpu_seconds=cap))
    parts = {n: np.zeros(p.size) for n, p in env.split_action(np.zeros(env.layout.size)).items()}
    dec = env.layout.decode(env.build_action(**parts), o)
    served = {int(o.t - t): x for t, x in zip(dec.decisions.tau, dec.decisions.x, strict=True)}
    assert served[W] == pytest.approx(10.0) and served[0] == pytest.approx(2.0)
    assert dec.requested == pytest.approx(20.0) and dec.served == pytest.approx(12.0)
    serve = parts["serve"].copy()
    serve[0] = -1.0  # (a=0, k=0): defer everything that may wait
    dec = env.layout.decode(env.build_action(**{**parts, "serve": serve}), o)
    served = {int(o.t - t): x for t, x in zip(dec.decisions.tau, dec.decisions.x, strict=True)}
    assert served == {W: pytest.approx(10.0)}


def test_sparse_and_delayed_rewards_and_info_levels():
    a = None
    runs = {}
    for mode in ("dense", "sparse", "delayed:4"):
        env = AIGCDataCenterEnv("default", horizon=8, reward_mode=mode)
        a = np.zeros(env.action_space.shape, dtype=np.float32) if a is None else a
        env.reset(seed=0)
        rewards, infos = [], []
        done = False
        while not done:
            _, r, done, _, info = env.step(a)
            rewards.append(r)
            infos.append(info)
        runs[mode] = (rewards, infos)
    dense, sparse, delayed = (runs[m][0] for m in ("dense", "sparse", "delayed:4"))
    assert sparse[:-1] == [0.0] * 7 and sparse[-1] == pytest.approx(sum(dense), rel=1e-12)
    assert [r != 0 for r in delayed] == [False, False, False, True] * 2
    assert delayed[3] == pytest.approx(sum(dense[:4]), rel=1e-12)
    assert all("utility" in i and "terms" in i for i in runs["dense"][1])
    for mode in ("sparse", "delayed:4"):
        assert not any("utility" in i or "terms" in i for i in runs[mode][1])
        assert "episode_utility" in runs[mode][1][-1]
    full = AIGCDataCenterEnv("default", horizon=8, reward_mode="sparse", info_level="full")
    full.reset(seed=0)
    assert "utility" in full.step(a)[4]
    with pytest.raises(ValueError, match="reward_mode"):
        AIGCDataCenterEnv("default", reward_mode="delayed:0")


def test_forecast_observation_comes_from_the_forecaster():
    env = AIGCDataCenterEnv("default", horizon=6, forecast="perfect", forecast_slots=2)
    obs, _ = env.reset(seed=0, options={"start": 10})
    D, F = env.D, 2
    fc = obs[-F * env._fc_dim :].reshape(F, env._fc_dim)
    np.testing.assert_allclose(fc[:, :D], env.episode.price[:, 1:3].T / 100.0, rtol=1e-6)
    plain = AIGCDataCenterEnv("default", horizon=6)
    assert env.observation_space.shape[0] == plain.observation_space.shape[0] + F * env._fc_dim
    noisy = AIGCDataCenterEnv("default", horizon=6, forecast="noisy:0.1", forecast_slots=2)
    o1, _ = noisy.reset(seed=3, options={"start": 10})
    o2, _ = noisy.reset(seed=3, options={"start": 10})
    np.testing.assert_array_equal(o1, o2)
    assert not np.allclose(o1[-F * env._fc_dim :], fc.ravel())


def test_splits_are_disjoint_and_cover_every_start():
    full = load_scenario("default")
    parts = {s: set(split_starts(full, 24, s).tolist()) for s in ("train", "val", "test")}
    assert all(parts.values())
    assert not (parts["train"] & parts["val"] or parts["train"] & parts["test"])
    assert not parts["val"] & parts["test"]
    n = full.T - 24 + 1
    assert parts["train"] | parts["val"] | parts["test"] == set(range(n))
    assert max(parts["train"]) < min(parts["val"]) <= max(parts["val"]) < min(parts["test"])
    env = AIGCDataCenterEnv(full, horizon=24, random_start=True, split="test")
    starts = {env.reset(seed=s)[1]["start"] for s in range(10)}
    assert starts <= parts["test"]


def test_zero_action_in_residual_mode_is_price_greedy():
    from aigc_opt.solvers.heuristics import PriceGreedy

    full = load_scenario("default")
    env = AIGCDataCenterEnv(full, horizon=12, action_mode="residual")
    for start in (0, 75):
        pg = run_episode(full.cut(horizon=12, start=start), PriceGreedy()).utility
        assert _play_zero(env, start) == pytest.approx(pg, rel=1e-9)


@pytest.mark.parametrize("mode", ["direct", "residual"])
@pytest.mark.parametrize("scenario", ["default", "tiny"])
def test_decoded_decisions_pass_rule_r0(mode, scenario):
    """The env skips rule R0's checks for decoded actions (`well_formed`): on random and
    extreme actions, the checked path accepts every decoded decision and applies exactly
    what the unchecked path applies."""
    env = AIGCDataCenterEnv(scenario, horizon=24, action_mode=mode)
    rng = np.random.default_rng(3)
    env.reset(seed=0)
    for i in range(60):
        a = rng.uniform(-1, 1, env.action_space.shape)
        if i % 3 == 0:
            a = np.sign(a)  # corner actions: every threshold crossed
        dec = env.layout.decode(a, env._obs).decisions
        checked, rep_c = env.sim.repair(dec)
        fast, rep_f = env.sim.repair(dec, well_formed=True)
        assert [(r.rule, r.where) for r in rep_c] == [(r.rule, r.where) for r in rep_f]
        for f in (
            "a",
            "b",
            "k",
            "s",
            "tau",
            "x",
            "gpus",
            "grid",
            "renewable",
            "charge",
            "discharge",
            "generator",
            "generator_on",
        ):
            np.testing.assert_array_equal(getattr(checked, f), getattr(fast, f), err_msg=f)
        for f in ("a", "b", "k", "s", "tau"):
            assert getattr(dec, f).dtype == np.int64
        _, _, done, _, _ = env.step(a)
        if done:
            env.reset(seed=i)
