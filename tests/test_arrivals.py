"""Stochastic arrivals: seeded Poisson draws around the profile, in the env and compare."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_opt import load_scenario, solve_oracle
from aigc_opt.drl_compare.arrivals import realise_arrivals
from aigc_opt.drl_compare.compare import compare, episode_starts
from aigc_opt.drl_compare.env import AIGCDataCenterEnv


def test_poisson_arrivals_are_seeded_integers_around_the_profile():
    ep = load_scenario("default").cut(horizon=24, start=10)
    a = realise_arrivals(ep, "poisson", 3).arrivals
    np.testing.assert_array_equal(a, realise_arrivals(ep, "poisson", 3).arrivals)
    assert not np.array_equal(a, realise_arrivals(ep, "poisson", 4).arrivals)
    assert not np.array_equal(a, ep.arrivals)
    assert (a >= 0).all() and np.array_equal(a, np.round(a))
    # a Poisson count is within 6 standard deviations of its mean
    assert (np.abs(a - ep.arrivals) <= 6 * np.sqrt(ep.arrivals) + 6).all()
    assert realise_arrivals(ep, "profile", 3) is ep
    with pytest.raises(ValueError, match="arrivals must be one of"):
        realise_arrivals(ep, "uniform", 3)


def test_env_draws_the_episode_arrivals_from_its_seed():
    env = AIGCDataCenterEnv("default", horizon=24, random_start=True, arrivals="poisson")
    _, info = env.reset(seed=5)
    first = env.episode.arrivals.copy()
    env.reset(seed=5)
    np.testing.assert_array_equal(first, env.episode.arrivals)
    profile = env.full.cut(horizon=24, start=info["start"]).arrivals
    assert info["arrivals"] == "poisson" and not np.array_equal(first, profile)
    # the simulator plays the realised arrivals: slot 0's pending jobs are its arrivals
    np.testing.assert_array_equal(env.sim.pending[:, :, 0], first[:, :, 0])


def test_compare_bounds_are_solved_on_the_realised_arrivals():
    full = load_scenario("default")
    res = compare(
        full, {}, baselines=["oracle", "greedy"], horizon=6, episodes=2, seed=1,
        split="test", arrivals="poisson",
    )  # fmt: skip
    starts = episode_starts(full, 6, 2, 1, "test")
    for label, e, ep, bound in res.runs:
        realised = realise_arrivals(full.cut(horizon=6, start=starts[e]), "poisson", 1 + e)
        assert ep.utility <= bound + 1e-6 * abs(bound)
        if label == "oracle":
            assert bound == pytest.approx(solve_oracle(realised).best_bound, rel=1e-9)
            profile_bound = solve_oracle(full.cut(horizon=6, start=starts[e])).best_bound
            assert bound != pytest.approx(profile_bound, rel=1e-12)
            jobs = ep.kpis["jobs_arrived"]
            assert jobs == pytest.approx(realised.arrivals.sum())
