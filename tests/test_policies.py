"""Policy loaders: a tiny PPO really trained, saved, loaded (zip, ONNX), compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aigc_opt import load_scenario, solve_oracle
from aigc_opt.drl_compare.env import AIGCDataCenterEnv
from aigc_opt.drl_compare.policies import EnvPolicy, PolicyLoadError, load_policy
from aigc_opt.solvers.policy import run_episode

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    from aigc_opt.drl_compare.train import train

    out = tmp_path_factory.mktemp("ppo")
    # eight short rollouts, so that SB3 logs its losses within the 2,048 steps
    hyper = {"n_steps": 256, "batch_size": 128}
    train("ppo", 2048, out, horizon=24, seed=0, env_options={"action_mode": "direct"}, hyper=hyper)
    return out


@pytest.fixture(scope="module")
def env() -> AIGCDataCenterEnv:
    return AIGCDataCenterEnv("default", horizon=24)


def test_zip_and_onnx_give_the_same_actions_and_stay_below_the_bound(trained, env):
    zp = load_policy(trained / "model.zip", env.observation_space, env.action_space, trust=True)
    ox = load_policy(trained / "model.onnx", env.observation_space, env.action_space)
    assert zp.kind.startswith("sb3-") and ox.kind == "onnx"
    assert zp.meta["vecnormalize"]  # train saves VecNormalize statistics; both apply them
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=0)
    observations = [obs] + [rng.normal(size=obs.shape).astype(np.float32) for _ in range(20)]
    for o in observations:
        np.testing.assert_allclose(zp(o), ox(o), atol=1e-5)
    full = load_scenario("default")
    ep = full.cut(horizon=24)
    res = run_episode(ep, EnvPolicy(zp, "ppo-zip", kind="ppo"), seed=0)
    bound = solve_oracle(ep).best_bound
    assert res.utility <= bound + 1e-6 * abs(bound)
    assert res.violations == []


def test_vecnormalize_round_trip(trained, env):
    """The statistics saved beside the zip are the ones the loader applies."""
    import pickle

    with (trained / "vecnormalize.pkl").open("rb") as fh:
        vn = pickle.load(fh)
    zp = load_policy(trained / "model.zip", env.observation_space, env.action_space, trust=True)
    obs = np.random.default_rng(2).normal(size=env.observation_space.shape).astype(np.float32)
    want = np.clip(
        (obs - vn.obs_rms.mean) / np.sqrt(vn.obs_rms.var + vn.epsilon), -vn.clip_obs, vn.clip_obs
    )
    np.testing.assert_allclose(zp.obs_transform(obs), want, rtol=1e-6, atol=1e-6)
    assert not np.allclose(vn.obs_rms.var, 1.0)  # statistics were really learned


def test_torchscript_and_callable_loaders(tmp_path, env):
    import torch

    n_in, n_out = env.observation_space.shape[0], env.action_space.shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.Tanh())
    path = tmp_path / "policy.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    with pytest.raises(PolicyLoadError, match="--trust"):
        load_policy(path, env.observation_space, env.action_space)
    pol = load_policy(path, env.observation_space, env.action_space, trust=True)
    obs, _ = env.reset(seed=0)
    with torch.no_grad():
        ref = net(torch.as_tensor(obs[None])).numpy()[0]
    np.testing.assert_allclose(pol(obs), ref, atol=1e-6)
    cal = load_policy("tests.policy_fixtures:zeros", env.observation_space, env.action_space)
    assert (cal(obs) == 0).all()


def test_loader_errors(tmp_path, trained, env):
    with pytest.raises(PolicyLoadError, match="--trust"):
        load_policy(trained / "model.zip", env.observation_space, env.action_space)
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PolicyLoadError, match="corrupt|zip"):
        load_policy(bad, env.observation_space, env.action_space, trust=True)
    with pytest.raises(PolicyLoadError, match="action shape"):
        load_policy("tests.policy_fixtures:wrong_shape", env.observation_space, env.action_space)


def test_train_writes_tensorboard_scalars(trained):
    import json

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    meta = json.loads((trained / "train.json").read_text())
    runs = sorted(Path(meta["tensorboard"]).iterdir())
    assert len(runs) == 1
    acc = EventAccumulator(str(runs[0]))
    acc.Reload()
    assert {"train/loss", "rollout/ep_rew_mean"} <= set(acc.Tags()["scalars"])
    assert acc.Scalars("train/loss")[-1].step == meta["timesteps"]


def test_stochastic_zip_samples_reproducibly_and_exports_refuse_it(trained, env):
    """Sampled actions differ from the deterministic ones, the same episode seed gives the
    same samples, and ONNX / callables (deterministic exports) are refused in one line."""
    spaces = (env.observation_space, env.action_space)
    det = load_policy(trained / "model.zip", *spaces, trust=True)
    sto = load_policy(trained / "model.zip", *spaces, trust=True, deterministic=False)
    obs, _ = env.reset(seed=0)
    sto.reset(7)
    first = [sto(obs) for _ in range(3)]
    sto.reset(7)
    again = [sto(obs) for _ in range(3)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], first[1])  # samples, not one action
    assert not np.allclose(first[0], det(obs))
    assert sto.meta["deterministic"] is False and det.meta["deterministic"] is True
    for spec in (trained / "model.onnx", "tests.policy_fixtures:zeros"):
        with pytest.raises(PolicyLoadError, match="--stochastic") as err:
            load_policy(spec, *spaces, deterministic=False)
        assert "\n" not in str(err.value)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_opt", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


@pytest.mark.parametrize("case", ["no-trust", "corrupt", "wrong-shape"])
def test_compare_cli_errors_are_one_line_with_exit_2(case, trained, tmp_path):
    if case == "no-trust":
        args = ["--policy", str(trained / "model.zip")]
    elif case == "corrupt":
        bad = tmp_path / "corrupt.onnx"
        bad.write_bytes(b"\x00garbage")
        args = ["--policy", str(bad)]
    else:
        args = ["--policy", "tests.policy_fixtures:wrong_shape"]
    p = run_cli("compare", *args, "--horizon", "6", "--episodes", "1", "--baselines", "oracle")
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert len([ln for ln in p.stderr.splitlines() if ln.strip()]) == 1, p.stderr


def test_torch_export_loader(tmp_path, env):
    import torch

    n_in, n_out = env.observation_space.shape[0], env.action_space.shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.Tanh()).eval()
    prog = torch.export.export(net, (torch.zeros(1, n_in),))
    path = tmp_path / "policy.pt2"
    torch.export.save(prog, str(path))
    pol = load_policy(path, env.observation_space, env.action_space, trust=True)
    obs, _ = env.reset(seed=0)
    with torch.no_grad():
        ref = net(torch.as_tensor(obs[None])).numpy()[0]
    np.testing.assert_allclose(pol(obs), ref, atol=1e-6)


class _TouchOnUnpickle:
    """Unpickling this creates the file named by ``marker``: a stand-in for any payload."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_pt2(tmp_path: Path, n_in: int, n_out: int, marker: Path) -> Path:
    """A valid ``torch.export`` archive whose weight is replaced by a pickle payload that
    ``torch.export.load`` would unpickle (its weights config asks for pickle)."""
    import io
    import json
    import zipfile

    import torch

    net = torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.Tanh()).eval()
    ok = tmp_path / "ok.pt2"
    torch.export.save(torch.export.export(net, (torch.zeros(1, n_in),)), str(ok))
    src = zipfile.ZipFile(ok)
    cfg_name = next(n for n in src.namelist() if n.endswith("weights_config.json"))
    cfg = json.loads(src.read(cfg_name))
    meta = next(iter(cfg["config"].values()))
    meta["use_pickle"] = True
    buf = io.BytesIO()
    torch.save(_TouchOnUnpickle(str(marker)), buf)
    evil = tmp_path / "evil.pt2"
    with zipfile.ZipFile(evil, "w") as dst:
        for n in src.namelist():
            if n == cfg_name:
                dst.writestr(n, json.dumps(cfg))
            elif n.endswith("/" + meta["path_name"]):
                dst.writestr(n, buf.getvalue())
            else:
                dst.writestr(src.getinfo(n), src.read(n))
    return evil


def test_untrusted_pt2_payload_never_runs(tmp_path, env):
    """A .pt2 whose weights unpickle a payload is refused before the file is read, in the
    library and on the command line (exit 2, one line, the payload's file not created)."""
    marker = tmp_path / "PWNED"
    evil = _evil_pt2(tmp_path, env.observation_space.shape[0], env.action_space.shape[0], marker)
    with pytest.raises(PolicyLoadError, match="--trust"):
        load_policy(evil, env.observation_space, env.action_space)
    assert not marker.exists()
    p = run_cli(
        "compare",
        "--policy",
        str(evil),
        "--horizon",
        "3",
        "--episodes",
        "1",
        "--baselines",
        "greedy",
        "--scenario",
        "tiny",
    )
    assert p.returncode == 2, p.stderr
    assert not marker.exists()
    assert "--trust" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_off_policy_actors_start_at_the_zero_action(algo):
    """SAC's and TD3's deterministic actions start at 0 — price-greedy's decision in
    residual mode — and still learn: the output layer's gradient is not zero."""
    import torch
    from stable_baselines3.common.vec_env import DummyVecEnv

    from aigc_opt.drl_compare.train import DEFAULTS, _make_model

    venv = DummyVecEnv([lambda: AIGCDataCenterEnv("tiny", horizon=6, action_mode="residual")])
    hp = {**DEFAULTS[algo], "learning_starts": 10, "buffer_size": 100}
    model = _make_model(algo, venv, hp, seed=3, tb_dir=None)
    obs = np.stack([venv.observation_space.sample() for _ in range(5)])
    act, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(act, np.zeros_like(act))
    actor = model.actor
    head = actor.mu if algo == "sac" else actor.mu[-2]
    out = actor(torch.as_tensor(obs, dtype=torch.float32))
    (out - 0.5).pow(2).sum().backward()
    assert head.weight.grad.abs().sum() > 0
    no_zero = _make_model(algo, venv, {**hp, "zero_action_start": False}, seed=3, tb_dir=None)
    assert np.abs(no_zero.predict(obs, deterministic=True)[0]).max() > 0
