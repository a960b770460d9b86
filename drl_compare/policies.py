"""Loaders for trained policies, whatever library made them.

Size: one loader per file format (SB3 zip, TorchScript, torch.export, ONNX, callables),
which share the adapter and the trust guard; split by format it would spread one
contract over five modules.

Every loader returns a `LoadedPolicy`: a callable ``observation (np.ndarray) -> action``
in the environment's action space, already clipped (and unscaled where the format needs
it). Formats:

* ``*.zip`` — a Stable-Baselines3 model of any algorithm. The policy class and its
  arguments are read from the zip, so the user need not name the algorithm. Actions are
  the deterministic ones (``predict(deterministic=True)``) unless ``deterministic=False``
  asks for samples of the policy's distribution (torch's generator seeded per episode). SB3 zips
  unpickle Python objects, which can run arbitrary code: loading requires ``trust=True``
  (``--trust`` on the command line). A ``vecnormalize.pkl`` beside the zip is applied to
  observations (same trust rule).
* ``*.onnx`` — ONNX Runtime; one input (the observation batch), first output the action.
  ONNX exports of SB3 policies skip action post-processing, so the harness clips the
  action to the space (and, with ``squashed=True``, unscales it from [−1, 1]).
* ``*.pt`` / ``*.pt2`` / ``*.ts`` — TorchScript (``torch.jit.save``) or ``torch.export``
  programs (``torch.export.save``), called on a float32 batch. Both archive formats may
  unpickle Python objects (``torch.export.load`` unpickles weights and constants whose
  config asks for it), so they require ``trust=True`` like SB3 zips; the check comes
  before any byte of the file is read.

ONNX is the safe path for policies from others: its loader parses a protobuf graph and
never runs Python code from the file. ONNX and TorchScript exports (and callables) are
deterministic — the export holds the actor's mean action only — so ``deterministic=False``
is refused for them.
* ``package.module:function`` — a Python callable taking an observation and returning an
  action.

Each loader checks the policy's observation and action shapes against the environment's
spaces and raises `PolicyLoadError` (one-line message) on mismatch or a corrupt file.

`EnvPolicy` turns a loaded policy (or any ``obs -> action`` callable) into a simulator
`Policy` — it encodes the observation as the environment does, calls the model and
decodes the action — so trained policies play through the same episode loop
(`aigc_opt.solvers.policy.run_episode`) as the oracle replay, MPC and the heuristics.
When a ``train.json`` sits beside the policy file, its algorithm names the policy's kind
(``ppo``) and its environment options (forecasts, action mode) rebuild the observation
and action layout the policy was trained with.
"""

from __future__ import annotations

import importlib
import json
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces


class PolicyLoadError(ValueError):
    """A policy file cannot be loaded or does not fit the environment."""


RL_HINT = 'needs the rl extra: pip install "aigc-opt[rl]"'


def require_rl(what: str, modules: tuple[str, ...] = ("torch", "stable_baselines3")) -> None:
    """Raise `PolicyLoadError` ("<what> needs the rl extra: pip install …", one line) when
    one of ``modules`` is not installed."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise PolicyLoadError(f"{what} {RL_HINT} (missing: {', '.join(missing)})")


@dataclass
class LoadedPolicy:
    """A policy ``policy(obs) -> action`` (inside the action space); deterministic unless
    loaded with ``deterministic=False``, whose sampler `reset` seeds per episode."""

    name: str
    kind: str
    fn: Callable[[np.ndarray], np.ndarray]
    action_space: spaces.Box
    obs_transform: Callable[[np.ndarray], np.ndarray] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    on_reset: Callable[[int | None], None] | None = None

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (seeds a stochastic policy's sampler with ``seed``)."""
        if self.on_reset is not None:
            self.on_reset(seed)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float32)
        if self.obs_transform is not None:
            x = self.obs_transform(x)
        a = np.asarray(self.fn(x), dtype=np.float32).reshape(self.action_space.shape)
        return np.clip(a, self.action_space.low, self.action_space.high)


def _check_shape(kind: str, what: str, got: tuple, want: tuple, src: str) -> None:
    if tuple(got) != tuple(want):
        raise PolicyLoadError(
            f"{src}: {kind} policy {what} shape {tuple(got)} does not match the environment's "
            f"{tuple(want)}"
        )


def unscale(action: np.ndarray, space: spaces.Box) -> np.ndarray:
    """Map an action from [−1, 1] to the space's [low, high] (SB3's squashed outputs)."""
    return space.low + 0.5 * (np.asarray(action) + 1.0) * (space.high - space.low)


# ---------------------------------------------------------------------------------------
# Stable-Baselines3
# ---------------------------------------------------------------------------------------
def load_sb3_zip(
    path: Path,
    obs_space: spaces.Box,
    act_space: spaces.Box,
    *,
    trust: bool,
    deterministic: bool = True,
) -> LoadedPolicy:
    """Load an SB3 zip of any algorithm (policy class read from the zip); with
    ``deterministic=False`` actions are sampled (``predict(deterministic=False)``)."""
    if not trust:
        raise PolicyLoadError(
            f"{path}: Stable-Baselines3 zips unpickle Python objects, which can run arbitrary "
            "code; pass --trust (trust=True) to load a file you trust"
        )
    if not zipfile.is_zipfile(path):
        raise PolicyLoadError(f"{path}: not a valid zip file (corrupt or not an SB3 model)")
    require_rl(f"{path}: loading a Stable-Baselines3 model")
    try:
        from stable_baselines3.common.save_util import load_from_zip_file

        data, params, _ = load_from_zip_file(path, device="cpu", print_system_info=False)
    except Exception as exc:  # SB3 raises many kinds on a corrupt archive
        raise PolicyLoadError(
            f"{path}: cannot read the SB3 model ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    if not data or "policy_class" not in data or "policy" not in (params or {}):
        raise PolicyLoadError(f"{path}: no policy_class/policy parameters in the SB3 zip")
    p_obs = data.get("observation_space")
    p_act = data.get("action_space")
    if p_obs is not None:
        _check_shape("SB3", "observation", p_obs.shape, obs_space.shape, str(path))
    if p_act is not None:
        _check_shape("SB3", "action", p_act.shape, act_space.shape, str(path))
    policy_cls = data["policy_class"]
    kwargs = dict(data.get("policy_kwargs") or {})
    try:
        policy = policy_cls(p_obs or obs_space, p_act or act_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(params["policy"])
    except Exception as exc:
        raise PolicyLoadError(
            f"{path}: the stored policy does not load ({type(exc).__name__}: {exc})"
        ) from None
    policy.set_training_mode(False)

    def fn(obs: np.ndarray) -> np.ndarray:
        action, _ = policy.predict(obs, deterministic=deterministic)
        return action

    def seed_sampler(seed: int | None) -> None:
        import torch

        torch.manual_seed(0 if seed is None else seed)

    algo = _algo_name(policy_cls)
    obs_tf = _vecnormalize(path.parent / "vecnormalize.pkl", obs_space)
    return LoadedPolicy(
        name=path.stem,
        kind=f"sb3-{algo}",
        fn=fn,
        action_space=act_space,
        obs_transform=obs_tf,
        meta={
            "policy_class": f"{policy_cls.__module__}.{policy_cls.__name__}",
            "vecnormalize": obs_tf is not None,
            "deterministic": deterministic,
        },
        on_reset=None if deterministic else seed_sampler,
    )


def _algo_name(policy_cls: type) -> str:
    mod = policy_cls.__module__.split(".")
    for name in ("ppo", "a2c", "sac", "td3", "ddpg", "dqn"):
        if name in mod:
            return name
    return "onpolicy" if "common" in mod else policy_cls.__name__.lower()


def _vecnormalize(path: Path, obs_space: spaces.Box) -> Callable[[np.ndarray], np.ndarray] | None:
    """Observation normalisation of a saved VecNormalize (mean/var/clip), if present."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            vn = pickle.load(fh)  # noqa: S301 - only reached with trust
    except Exception as exc:
        raise PolicyLoadError(f"{path}: cannot read VecNormalize statistics ({exc})") from None
    if not getattr(vn, "norm_obs", False):
        return None
    rms = vn.obs_rms
    _check_shape("VecNormalize", "observation", np.shape(rms.mean), obs_space.shape, str(path))
    mean, std = np.asarray(rms.mean), np.sqrt(np.asarray(rms.var) + vn.epsilon)
    clip = float(vn.clip_obs)
    return lambda obs: np.clip((obs - mean) / std, -clip, clip).astype(np.float32)


# ---------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------
def load_onnx(
    path: Path, obs_space: spaces.Box, act_space: spaces.Box, *, squashed: bool = False
) -> LoadedPolicy:
    """ONNX Runtime policy; clipping (and unscaling when ``squashed``) done here."""
    require_rl(f"{path}: loading an ONNX policy", ("onnxruntime",))
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise PolicyLoadError(f"{path}: not a loadable ONNX model ({type(exc).__name__})") from None
    inp = sess.get_inputs()[0]
    shape = tuple(d if isinstance(d, int) else -1 for d in inp.shape)
    if len(shape) >= 1 and shape[-1] != -1:
        _check_shape(
            "ONNX", "observation", shape[-len(obs_space.shape) :], obs_space.shape, str(path)
        )
    out = sess.get_outputs()[0]
    oshape = tuple(d if isinstance(d, int) else -1 for d in out.shape)
    if oshape and oshape[-1] != -1:
        _check_shape("ONNX", "action", oshape[-len(act_space.shape) :], act_space.shape, str(path))

    def fn(obs: np.ndarray) -> np.ndarray:
        a = sess.run(None, {inp.name: obs.reshape((1, *obs_space.shape)).astype(np.float32)})[0]
        a = np.asarray(a).reshape(act_space.shape)
        return unscale(a, act_space) if squashed else a

    return LoadedPolicy(
        name=path.stem, kind="onnx", fn=fn, action_space=act_space, meta={"squashed": squashed}
    )


# ---------------------------------------------------------------------------------------
# TorchScript / torch.export
# ---------------------------------------------------------------------------------------
def load_torch(
    path: Path, obs_space: spaces.Box, act_space: spaces.Box, *, trust: bool
) -> LoadedPolicy:
    """TorchScript (``torch.jit.load``) or ``torch.export`` (``.pt2``) policy.

    Refused without ``trust`` before the file is opened: both formats can unpickle
    Python objects, and unpickling can run arbitrary code."""
    kind = "torch-export" if path.suffix.lower() == ".pt2" else "torchscript"
    if not trust:
        raise PolicyLoadError(
            f"{path}: {kind} files can unpickle Python objects, which can run arbitrary code; "
            "pass --trust (trust=True) to load a file you trust, or export the policy to ONNX"
        )
    require_rl(f"{path}: loading a {kind} policy", ("torch",))
    import torch

    module: Any
    try:
        if kind == "torch-export":
            module = torch.export.load(str(path)).module()
        else:
            module = torch.jit.load(str(path), map_location="cpu")
            module.eval()
    except Exception as exc:
        raise PolicyLoadError(
            f"{path}: not a loadable {kind} file ({type(exc).__name__})"
        ) from None

    def fn(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module(torch.as_tensor(obs.reshape((1, *obs_space.shape)), dtype=torch.float32))
        if isinstance(out, tuple | list):
            out = out[0]
        return out.detach().cpu().numpy().reshape(-1)

    probe = np.asarray(obs_space.sample(), dtype=np.float32)
    try:
        a = fn(probe)
    except Exception as exc:
        raise PolicyLoadError(
            f"{path}: {kind} policy fails on an observation of shape "
            f"{obs_space.shape} ({type(exc).__name__})"
        ) from None
    _check_shape(kind, "action", a.shape, (int(np.prod(act_space.shape)),), str(path))
    return LoadedPolicy(name=path.stem, kind=kind, fn=fn, action_space=act_space)


# ---------------------------------------------------------------------------------------
# Python callable
# ---------------------------------------------------------------------------------------
def load_callable(spec: str, obs_space: spaces.Box, act_space: spaces.Box) -> LoadedPolicy:
    """``package.module:function`` taking an observation and returning an action."""
    mod_name, _, fn_name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:
        raise PolicyLoadError(f"{spec}: cannot import the callable ({exc})") from None
    if not callable(fn):
        raise PolicyLoadError(f"{spec}: is not callable")
    try:
        a = np.asarray(fn(np.asarray(obs_space.sample(), dtype=np.float32)))
    except Exception as exc:
        raise PolicyLoadError(
            f"{spec}: fails on a sample observation ({type(exc).__name__}: {exc})"
        ) from None
    _check_shape("callable", "action", a.shape, act_space.shape, spec)
    return LoadedPolicy(name=fn_name, kind="callable", fn=fn, action_space=act_space)


def load_policy(
    spec: str | Path,
    obs_space: spaces.Box,
    act_space: spaces.Box,
    *,
    trust: bool = False,
    squashed: bool = False,
    deterministic: bool = True,
) -> LoadedPolicy:
    """Load a policy by file type (see module docstring) and check it against the spaces.

    ``deterministic=False`` (sampled actions) needs an SB3 ``.zip``: other formats hold
    a deterministic actor only and are refused with a one-line `PolicyLoadError`."""
    text = str(spec)
    path = Path(text)
    is_callable = ":" in text and not path.exists()
    if is_callable and text.endswith((".zip", ".onnx", ".pt", ".pt2")):
        is_callable = False
    if not deterministic and (is_callable or path.suffix.lower() != ".zip"):
        what = "a Python callable" if is_callable else f"a {path.suffix or 'file'} export"
        raise PolicyLoadError(
            f"--stochastic: {text} is {what}, which holds a deterministic policy only; "
            "sample from the Stable-Baselines3 .zip instead"
        )
    if is_callable:
        return load_callable(text, obs_space, act_space)
    if not path.exists():
        raise PolicyLoadError(f"{path}: policy file not found")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return load_sb3_zip(path, obs_space, act_space, trust=trust, deterministic=deterministic)
    if suffix == ".onnx":
        return load_onnx(path, obs_space, act_space, squashed=squashed)
    if suffix in (".pt", ".pt2", ".ts", ".torchscript"):
        return load_torch(path, obs_space, act_space, trust=trust)
    raise PolicyLoadError(
        f"{path}: unknown policy format {suffix!r} "
        "(expected .zip, .onnx, .pt, .pt2 or package.module:function)"
    )


def export_sb3_onnx(model: Any, path: Path, vecnormalize: Any = None) -> Path:
    """Export an SB3 model's deterministic actor to ONNX (action before clipping).

    With ``vecnormalize`` (a `VecNormalize` with ``norm_obs``), its observation statistics
    are applied inside the graph — (obs − mean) / sqrt(var + ε) clipped to ±clip_obs — so
    the ONNX file takes raw observations, like zip + ``vecnormalize.pkl``."""
    import torch

    mean = std = None
    clip = 0.0
    if vecnormalize is not None and getattr(vecnormalize, "norm_obs", False):
        rms = vecnormalize.obs_rms
        mean = torch.as_tensor(np.asarray(rms.mean), dtype=torch.float32)
        std = torch.as_tensor(
            np.sqrt(np.asarray(rms.var) + vecnormalize.epsilon), dtype=torch.float32
        )
        clip = float(vecnormalize.clip_obs)

    class _Actor(torch.nn.Module):
        def __init__(self, policy: Any):
            super().__init__()
            self.policy = policy

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            if mean is not None:
                obs = torch.clamp((obs - mean) / std, -clip, clip)
            return self.policy._predict(obs, deterministic=True)

    actor = _Actor(model.policy).eval()
    dummy = torch.zeros((1, *model.observation_space.shape), dtype=torch.float32)
    torch.onnx.export(
        actor,
        (dummy,),
        str(path),
        input_names=["obs"],
        output_names=["action"],
        dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return path


# ---------------------------------------------------------------------------------------
# a loaded policy as a simulator Policy
# ---------------------------------------------------------------------------------------
#: environment options that shape observations and actions (recorded in train.json)
ENV_SHAPE_OPTIONS = ("forecast", "forecast_slots", "action_mode")


class EnvPolicy:
    """A `aigc_opt.solvers.policy.Policy` around an ``obs vector -> action`` model.

    ``reset(scenario, seed)`` builds the environment's encoder and decoder for the
    episode (and the observation forecaster, seeded with ``seed``, when the options ask
    for forecasts); ``act(obs)`` encodes, calls the model, decodes to `SlotDecisions`.
    """

    def __init__(
        self,
        model: Callable[[np.ndarray], np.ndarray],
        name: str,
        *,
        kind: str = "callable",
        env_options: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ):
        self.model = model
        self.name = name
        self.kind = kind
        self.env_options = {k: v for k, v in (env_options or {}).items() if k in ENV_SHAPE_OPTIONS}
        self.info = {"kind": kind, **(meta or {})}
        self.env: Any = None
        self._fc: Any = None

    def reset(self, scenario: Any, seed: int | None = None) -> None:
        from aigc_opt.drl_compare.env import AIGCDataCenterEnv

        self.env = AIGCDataCenterEnv(scenario, horizon=scenario.T, **self.env_options)
        self.env.episode = scenario
        self._fc = None
        if self.env.forecast is not None:
            from aigc_opt.solvers.forecast import make_forecaster

            self._fc = make_forecaster(self.env.forecast)
            self._fc.reset(scenario, seed)
        if isinstance(self.model, LoadedPolicy):
            self.model.reset(seed)
        elif hasattr(self.model, "reset"):
            self.model.reset()

    def act(self, obs: Any) -> Any:
        if self._fc is not None:
            obs = replace(obs, forecast=self._fc(obs.t, self.env.forecast_slots))
        action = self.model(self.env.encode(obs))
        return self.env.layout.decode(action, obs).decisions


def run_meta(spec: str | Path) -> dict[str, Any]:
    """``train.json`` beside a policy file (its run metadata), or {} when absent/unreadable."""
    path = Path(str(spec))
    meta = path.parent / "train.json"
    if not path.suffix or not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_policy_specs(specs: list[str], reserved: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``[NAME=]PATH`` specs → (label, path) pairs with unique labels.

    An explicit label is used as given; a duplicate explicit label (or one equal to a name
    in ``reserved``, e.g. a baseline) raises `PolicyLoadError`. Without a label, the
    file's stem (the function name for ``module:function``) is used, made unique with
    ``-2``, ``-3``…"""
    out: list[tuple[str, str]] = []
    explicit: set[str] = set()
    for spec in specs:
        name, sep, rest = spec.partition("=")
        if sep and name and rest and not any(c in name for c in "/\\:"):
            if name in explicit or name in reserved:
                raise PolicyLoadError(
                    f"--policy {spec}: label {name!r} is used twice (labels must be unique)"
                )
            explicit.add(name)
            out.append((name, rest))
        else:
            out.append(("", spec))
    taken = set(explicit) | set(reserved)
    labelled: list[tuple[str, str]] = []
    for name, path in out:
        if not name:
            is_callable = ":" in path and not Path(path).exists()
            base = (path.rpartition(":")[2] if is_callable else Path(path).stem) or "policy"
            name, i = base, 2
            while name in taken:
                name, i = f"{base}-{i}", i + 1
            taken.add(name)
        labelled.append((name, path))
    return labelled
