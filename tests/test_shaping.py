"""Reward shaping: delayed payments, return decomposition on toy buffers, the wrapper and
the SB3 callback."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")
torch.set_num_threads(1)

from aigc_opt.drl_compare.env import AIGCDataCenterEnv  # noqa: E402
from aigc_opt.drl_compare.shaping import (  # noqa: E402
    DelayedReward,
    DiffusionRewardModel,
    Episode,
    EpisodeBuffer,
    RRDModel,
    ShapedReward,
    correlation,
    features,
    make_env,
    parse_reward,
    project,
    segments_of,
)


def test_parse_reward_modes():
    assert parse_reward("dense") == ("dense", None)
    assert parse_reward("Sparse") == ("sparse", None)
    assert parse_reward("delayed:6") == ("delayed", 6)
    for bad in ("delayed:0", "delayed:x", "delayed", "hourly"):
        with pytest.raises(ValueError, match="--reward"):
            parse_reward(bad)


def test_delayed_reward_pays_block_sums_of_the_dense_reward():
    horizon, k = 7, 3
    actions = np.random.default_rng(0).uniform(-1, 1, (horizon, 118))
    dense = AIGCDataCenterEnv("default", horizon=horizon, start=5)
    actions = actions[:, : dense.action_space.shape[0]]
    dense.reset(seed=0)
    r_dense = [dense.step(a)[1] for a in actions]
    delayed = DelayedReward(AIGCDataCenterEnv("default", horizon=horizon, start=5), k)
    delayed.reset(seed=0)
    steps = [delayed.step(a) for a in actions]
    paid = [s[1] for s in steps]
    want = [0, 0, sum(r_dense[:3]), 0, 0, sum(r_dense[3:6]), r_dense[6]]
    assert paid == pytest.approx(want, rel=1e-12, abs=1e-9)
    assert all("utility" not in s[4] and "terms" not in s[4] for s in steps)
    assert steps[-1][2] is True


def test_projection_makes_segment_sums_equal_the_returns():
    seg = segments_of(10, 4)  # blocks of 4, 4, 2
    assert seg.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    pred = np.arange(10.0)
    ret = np.array([1.0, -2.0, 5.0])
    y = project(pred, seg, ret)
    assert np.bincount(seg, weights=y) == pytest.approx(ret)
    # the residual is spread evenly: differences inside a segment are kept
    assert np.diff(y[:4]) == pytest.approx(np.diff(pred[:4]))


def toy_buffer(n_episodes: int, T: int, rng: np.random.Generator, k: int | None = None):
    """Episodes of random features; the dense reward is a known function of them."""
    w = np.array([2.0, -1.0, 0.5, 0.0])
    buf = EpisodeBuffer(capacity=n_episodes)
    for _ in range(n_episodes):
        x = rng.normal(size=(T, 4)).astype(np.float32)
        dense = x @ w + 0.3 * np.tanh(x[:, 3] * 2)
        seg = segments_of(T, k)
        paid = np.zeros(T)
        ends = np.r_[np.flatnonzero(np.diff(seg)), T - 1]
        paid[ends] = np.bincount(seg, weights=dense)
        buf.add(Episode(x, paid, seg, dense))
    return buf


@pytest.mark.parametrize(
    "model_cls, kw",
    [
        (DiffusionRewardModel, {"n_steps": 10, "rounds": 2, "steps": 120}),
        (RRDModel, {"steps": 400}),
    ],
)
def test_decomposition_sums_to_returns_and_recovers_the_dense_reward(model_cls, kw):
    rng = np.random.default_rng(1)
    train = toy_buffer(160, 10, rng)
    model = model_cls(4, seed=0, hidden=32, **kw)
    x, seg, ret = train.arrays()
    model.fit(x, seg, ret)
    # held-out episodes: per-episode sums match the returns, r̂ tracks the dense reward
    test = toy_buffer(40, 10, rng)
    xt, segt, rett = test.arrays()
    pred = model.predict(xt)
    sums = np.bincount(segt, weights=pred)
    rel = np.abs(sums - rett).mean() / np.abs(rett).mean()
    assert rel < 0.15, rel
    true = np.concatenate([e.true for e in test.episodes])
    assert correlation(pred, true) > 0.95
    # a constant per-episode split (the uninformed answer) would not correlate
    flat = np.repeat(rett / 10, 10)
    assert correlation(flat, true) < correlation(pred, true) - 0.3


def test_shaped_wrapper_pays_env_reward_plus_beta_rhat():
    rng = np.random.default_rng(2)
    base = AIGCDataCenterEnv("default", horizon=5, reward_mode="sparse", reward_scale=1e-3)
    n_feat = base.observation_space.shape[0] + base.action_space.shape[0] + 1
    model = RRDModel(n_feat, seed=0, hidden=16, steps=5)
    x = rng.normal(size=(20, n_feat)).astype(np.float32)
    model.fit(x, np.repeat(np.arange(4), 5), np.ones(4))
    buf = EpisodeBuffer()
    shaped = ShapedReward(base, model, buf, beta=0.5)
    plain = AIGCDataCenterEnv("default", horizon=5, reward_mode="sparse", reward_scale=1e-3)
    obs, _ = shaped.reset(seed=0)
    plain.reset(seed=0)
    for t in range(5):
        a = rng.uniform(-1, 1, base.action_space.shape[0]).astype(np.float32)
        want = 0.5 * model.predict(features(obs, a, t / 5)[None])[0]
        obs, r, term, _, _ = shaped.step(a)
        r_env = plain.step(a)[1]
        assert r - r_env == pytest.approx(want, rel=1e-5, abs=1e-9)
    assert term and len(buf) == 1
    ep = buf.episodes[0]
    # the stored true utility is the simulator's, and the sparse payment is its sum
    assert ep.paid.sum() == pytest.approx(ep.true.sum() * 1e-3, rel=1e-9)
    assert ep.paid[:-1].tolist() == [0.0] * 4


def test_ppo_callback_refits_and_relabels_the_rollout(tmp_path):
    from stable_baselines3 import PPO

    env, cb = make_env(
        lambda mode: AIGCDataCenterEnv(
            "default", horizon=6, reward_mode=mode, random_start=True, reward_scale=1e-3
        ),
        "delayed:3",
        "rrd",
        seed=0,
        out=tmp_path,
        model_kw={"hidden": 16, "steps": 20},
    )
    model = PPO("MlpPolicy", env, n_steps=24, batch_size=24, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=48, callback=cb)
    assert len(cb.rows) == 2 and (tmp_path / "shaping.csv").exists()
    assert np.isfinite(cb.rows[-1]["sum_rel_error"])
    assert np.isfinite(cb.rows[-1]["corr_new_episodes"])  # scored before the refit
    # relabelled: a delayed:3 env pays at 2 of every 3 steps nothing, the buffer is dense
    rewards = model.rollout_buffer.rewards[:, 0]
    assert np.count_nonzero(rewards) == rewards.size
    summary = cb.summary()
    assert summary["model"] == "rrd" and summary["refits"] == 2


def test_make_env_rejects_shaping_under_dense_reward():
    with pytest.raises(ValueError, match="--shaping needs"):
        make_env(lambda mode: AIGCDataCenterEnv("default", horizon=4), "dense", "diffusion")
    with pytest.raises(ValueError, match="--shaping ="):
        make_env(lambda mode: AIGCDataCenterEnv("default", horizon=4), "sparse", "gan")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--reward", "delayed:0"], ["--reward", "delayed:0"]),
        (["--reward", "dense", "--shaping", "diffusion"], ["--shaping needs"]),
        (["--reward", "sparse", "--shaping", "gan"], ["--shaping", "gan"]),
        (["--algo", "d2sac", "--reward", "sparse", "--shaping", "rrd"], ["not d2sac"]),
    ],
)
def test_train_cli_rejects_bad_reward_and_shaping_in_one_line(args, words, tmp_path):
    from typer.testing import CliRunner

    from aigc_opt.cli import app

    res = CliRunner().invoke(app, ["train", *args, "--timesteps", "8", "--out", str(tmp_path)])
    assert res.exit_code == 2
    msg = res.output.strip()
    assert len(msg.splitlines()) == 1 and "Traceback" not in msg
    assert all(w in msg for w in words), msg
    assert not (tmp_path / "train.json").exists()


def test_sac_callback_relabels_the_replay_buffer_with_the_refitted_model():
    from stable_baselines3 import SAC

    env, cb = make_env(
        lambda mode: AIGCDataCenterEnv(
            "default", horizon=6, reward_mode=mode, random_start=True, reward_scale=1e-3
        ),
        "sparse",
        "rrd",
        beta=0.5,
        model_kw={"hidden": 16, "steps": 20},
        refit_every=30,
    )
    model = SAC("MlpPolicy", env, learning_starts=20, batch_size=8, seed=0, device="cpu",
                policy_kwargs={"net_arch": [16]})  # fmt: skip
    model.learn(total_timesteps=30, callback=cb)
    rb = model.replay_buffer
    assert len(cb.rows) == 1 and rb.pos == 30
    r_env = cb._r_env[:30, 0]
    assert np.count_nonzero(r_env) == 5  # sparse: one payment per 6-slot episode
    want = r_env + 0.5 * cb.model_.predict(cb._x[:30, 0])
    assert rb.rewards[:30, 0] == pytest.approx(want, rel=1e-5, abs=1e-7)
