"""d2sac: the diffusion actor trains, and its exported deterministic actor is the one used
in training."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
torch.set_num_threads(1)

from aigc_opt.drl_compare.d2sac import D2SAC, export_onnx, learn  # noqa: E402
from aigc_opt.drl_compare.env import AIGCDataCenterEnv  # noqa: E402
from aigc_opt.drl_compare.policies import load_policy  # noqa: E402

TINY = {"hidden": 16, "batch_size": 16, "learning_starts": 12, "buffer_size": 64}


def test_exported_actor_gives_the_training_actions(tmp_path):
    env = AIGCDataCenterEnv("default", horizon=4, random_start=True, reward_scale=1e-3)
    before = D2SAC(env.observation_space.shape[0], env.action_space.shape[0], seed=0, **TINY)
    agent, log = learn(env, 24, seed=0, **TINY)
    assert len(log["episodes"]) == 6
    assert np.isfinite(log["last_update"]["loss_q"])
    # the updates changed the actor (same seed, same initial weights)
    w0 = before.actor.eps[0].weight.detach()
    assert not torch.allclose(w0, agent.actor.eps[0].weight.detach())
    path = export_onnx(agent.actor, env.observation_space.shape[0], tmp_path / "a.onnx")
    pol = load_policy(path, env.observation_space, env.action_space)
    obs, _ = env.reset(seed=3)
    for _ in range(4):
        a = agent.act(obs, deterministic=True)
        assert np.all(np.abs(a) <= 1.0)
        assert pol(obs) == pytest.approx(a, abs=1e-5)
        assert agent.act(obs, deterministic=True) == pytest.approx(a)  # deterministic
        obs, *_ = env.step(a)


def test_stochastic_samples_spread_around_and_logp_is_finite():
    agent = D2SAC(6, 3, seed=0, denoise_steps=4, hidden=16)
    obs = torch.zeros((256, 6))
    a, logp = agent.actor.sample(obs)
    assert a.shape == (256, 3) and torch.isfinite(logp).all()
    assert float(a.std(dim=0).min()) > 0.05  # exploration noise is there
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        D2SAC(6, 3, denoise=4)
