"""The Gymnasium environment: checkers, determinism, identical dynamics and utility."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import aigc_opt  # noqa: F401  (registers the environment)
from aigc_opt import ENV_ID, load_scenario, solve_oracle
from aigc_opt.drl_compare.env import AIGCDataCenterEnv
from aigc_opt.solvers.simulator import SlotDecisions


def test_registered_and_checkers_pass():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)


def play(env: AIGCDataCenterEnv, actions: np.ndarray, seed: int, options: dict):
    obs, info = env.reset(seed=seed, options=options)
    trace = [(obs.copy(), 0.0, dict(info))]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        trace.append((obs.copy(), r, {k: v for k, v in info.items()}))
        if term:
            break
    return trace


def test_same_seed_and_options_give_the_same_episode():
    env = AIGCDataCenterEnv("default", horizon=12, random_start=True)
    actions = np.random.default_rng(3).uniform(-1, 1, (12, env.action_space.shape[0]))
    first = play(env, actions, seed=7, options={})
    second = play(env, actions, seed=7, options={})
    assert first[0][2]["start"] == second[0][2]["start"]
    for (o1, r1, i1), (o2, r2, i2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2
        assert i1.get("terms") == i2.get("terms")
    other = play(env, actions, seed=8, options={})
    assert [r for _, r, _ in other] != [r for _, r, _ in first] or other[0][2]["start"] != first[0][
        2
    ]["start"]


@pytest.mark.parametrize("horizon", [24])
def test_oracle_schedule_through_the_env_reproduces_the_oracle_utility(horizon):
    scn = load_scenario("default", horizon=horizon, start=10)
    res = solve_oracle(scn)
    env = AIGCDataCenterEnv("default", horizon=horizon)
    env.reset(options={"start": 10, "horizon": horizon})
    total = 0.0
    for t in range(horizon):
        _, r, term, _, info = env.step_decisions(SlotDecisions.from_schedule(res.schedule, t))
        total += r
    assert term
    assert info["episode_utility"] == pytest.approx(res.utility, rel=1e-6)
    assert total == pytest.approx(res.utility, rel=1e-6)
    assert env.sim.repairs == []


def test_every_action_decodes_to_a_feasible_schedule_below_the_bound():
    horizon = 12
    scn = load_scenario("default", horizon=horizon, start=30)
    bound = solve_oracle(scn).best_bound
    env = AIGCDataCenterEnv("default", horizon=horizon, start=30)
    rng = np.random.default_rng(0)
    for trial in range(3):
        env.reset(seed=trial)
        done = False
        while not done:
            a = rng.uniform(-1, 1, env.action_space.shape[0]).astype(np.float32)
            if trial == 2:  # extreme corners
                a = np.sign(a).astype(np.float32)
            _, _, done, _, info = env.step(a)
        ev = env.sim.evaluation()
        assert ev.violations == []
        assert ev.utility == pytest.approx(info["episode_utility"], rel=1e-9)
        assert ev.utility <= bound + 1e-6 * abs(bound)


def test_sparse_reward_pays_the_episode_utility_at_the_end():
    dense = AIGCDataCenterEnv("default", horizon=6, reward_mode="dense")
    sparse = AIGCDataCenterEnv("default", horizon=6, reward_mode="sparse")
    a = np.zeros(dense.action_space.shape, dtype=np.float32)
    rd = [r for _, r, _ in play(dense, [a] * 6, 0, {})[1:]]
    rs = [r for _, r, _ in play(sparse, [a] * 6, 0, {})[1:]]
    assert rs[:-1] == [0.0] * 5
    assert rs[-1] == pytest.approx(sum(rd), rel=1e-12)
