"""Multi-agent view: PettingZoo API, the same decoder as the flat env, the combined policy
in the comparison harness, and the shared-parameter PPO baseline."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")
torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from aigc_opt import load_scenario  # noqa: E402
from aigc_opt.drl_compare.compare import compare, summarize  # noqa: E402
from aigc_opt.drl_compare.env import AIGCDataCenterEnv  # noqa: E402
from aigc_opt.drl_compare.multiagent import JointPolicy, layout, parallel_env  # noqa: E402
from aigc_opt.drl_compare.policies import EnvPolicy  # noqa: E402


def test_parallel_api_test_passes():
    from pettingzoo.test import parallel_api_test

    env = parallel_env(scenario="default", horizon=24)
    parallel_api_test(env, num_cycles=30)
    scn = load_scenario("default")
    assert len(env.possible_agents) == scn.A + scn.D


@pytest.mark.parametrize("forecast_slots", [0, 3])
def test_agents_own_every_entry_once_and_see_their_own_data_center(forecast_slots):
    env = AIGCDataCenterEnv("default", horizon=6, forecast_slots=forecast_slots)
    lay = layout(env)
    a = np.random.default_rng(0).uniform(-1, 1, env.action_space.shape[0]).astype(np.float32)
    assert np.array_equal(lay.join(lay.split(a)), a)
    parts = env.split_action(a)
    # the data-center agent's action is the battery and generator entries of its center
    # (a center without a battery or generator has no such entry)
    tab = env.layout
    for d in range(env.D):
        want = [
            *parts["battery"][tab.battery_idx == d],
            *parts["generator"][tab.generator_idx == d],
        ]
        assert lay.split(a)[f"dc_{d}"].tolist() == pytest.approx(want)
    obs, _ = env.reset(seed=0)
    local = lay.local(obs)
    dc = env.full.dc_of_asp
    for i in range(env.A):
        # price (÷100) of the ASP's own data center is its 4th local entry
        assert local[f"asp_{i}"][3] == pytest.approx(env.episode.price[dc[i], 0] / 100, rel=1e-6)
        n_fc = forecast_slots * (3 + env.K)  # own DC's price, carbon, renewables; own arrivals
        assert local[f"asp_{i}"].size == 3 + 3 + env.K * (env.W + 1) + 2 + n_fc


def test_team_reward_is_the_flat_env_reward_for_the_same_joint_action():
    penv = parallel_env(scenario="default", horizon=6, start=30)
    flat = AIGCDataCenterEnv("default", horizon=6, start=30)
    obs, _ = penv.reset(seed=0)
    fobs, _ = flat.reset(seed=0)
    total = 0.0
    while penv.agents:
        acts = {ag: penv.action_space(ag).sample() for ag in penv.agents}
        assert np.array_equal(penv.state(), fobs)
        obs, rew, term, _, _ = penv.step(acts)
        fobs, r, done, _, info = flat.step(penv.layout.join(acts))
        assert set(rew.values()) == {r}
        total += r
    assert done and all(term.values())
    assert total == pytest.approx(info["episode_utility"], rel=1e-9)


def test_joint_policy_runs_in_compare_below_the_bound():
    full = load_scenario("default")
    env = AIGCDataCenterEnv(full, horizon=4)
    lay = layout(env)
    rng = np.random.default_rng(2)
    fixed = {ag: rng.uniform(-1, 1, len(ix)) for ag, ix in lay.act_idx.items()}
    joint = JointPolicy(lay, {ag: (lambda _o, a=a: a) for ag, a in fixed.items()})
    flat_action = lay.join(fixed)
    policies = {
        "joint": EnvPolicy(joint, "joint"),
        "flat": EnvPolicy(lambda _o: flat_action, "flat"),
    }
    cmp = compare(full, policies, baselines=[], horizon=4, episodes=1, seed=0)
    rows = {r["method"]: r for r in summarize(cmp.frame)}
    assert rows["joint"]["utility_mean"] == pytest.approx(rows["flat"]["utility_mean"])
    assert rows["joint"]["utility_mean"] <= rows["joint"]["oracle_bound_mean"] + 1e-6
    with pytest.raises(ValueError, match="no policy for agent"):
        JointPolicy(lay, {})


def test_shared_parameter_ppo_trains_and_its_onnx_is_the_joint_policy(tmp_path):
    from aigc_opt.drl_compare.multiagent import ippo_joint_policy, train_ippo
    from aigc_opt.drl_compare.policies import load_policy

    meta = train_ippo(18 * 16, tmp_path, seed=0, n_steps=16, scenario="default", horizon=4)
    from stable_baselines3 import PPO

    model = PPO.load(tmp_path / "model.zip", device="cpu")
    env = AIGCDataCenterEnv("default", horizon=4)
    joint = ippo_joint_policy(model, layout(env))
    onnx = load_policy(meta["onnx"], env.observation_space, env.action_space)
    obs, _ = env.reset(seed=0)
    for _ in range(4):
        a = np.clip(joint(obs), -1, 1)
        assert onnx(obs) == pytest.approx(a, abs=1e-5)
        obs, *_ = env.step(a)
