"""The policies of a comparison: ``[NAME=]PATH`` specs → labelled `EnvPolicy` objects.

Environment options of each policy (the ones that shape observations and actions,
`ENV_SHAPE_OPTIONS`) come from, later winning: the run's ``train.json`` beside the file,
a TOML file (`env_options_toml`), then explicit values (command-line flags). Errors are
`PolicyLoadError` or ValueError with one line naming the policy, file or field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.drl_compare.policies import (
    ENV_SHAPE_OPTIONS,
    EnvPolicy,
    PolicyLoadError,
    load_policy,
    parse_policy_specs,
    run_meta,
)

#: wraps a loaded policy's raw ``obs -> action`` function (label, function) → function
Wrap = Callable[[str, Callable[[np.ndarray], np.ndarray]], Callable[[np.ndarray], np.ndarray]]


def env_options_toml(path: Path) -> dict[str, Any]:
    """Environment options from a TOML file (keys of table ``[env]``, or top-level keys)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the TOML ({exc})") from None
    table = data.get("env", data)
    unknown = sorted(set(table) - set(ENV_SHAPE_OPTIONS))
    if unknown:
        raise ValueError(
            f"{path}: field {unknown[0]!r} is not an environment option "
            f"(allowed: {', '.join(ENV_SHAPE_OPTIONS)})"
        )
    return dict(table)


def load_labelled(
    specs: list[str],
    full: Scenario,
    horizon: int,
    *,
    reserved: tuple[str, ...] = (),
    trust: bool = False,
    squashed: bool = False,
    deterministic: bool = True,
    env_config: Path | None = None,
    overrides: dict[str, Any] | None = None,
    wrap: Wrap | None = None,
) -> dict[str, EnvPolicy]:
    """Labelled simulator policies of ``specs`` (labels unique and not in ``reserved``).

    ``wrap(label, fn)`` wraps each policy's raw action function (before clipping), e.g.
    a guard that rejects non-finite actions; ``deterministic=False`` samples SB3 policies
    (other formats are refused)."""
    from aigc_opt.drl_compare.env import AIGCDataCenterEnv

    toml_opts = env_options_toml(env_config) if env_config is not None else {}
    loaded: dict[str, EnvPolicy] = {}
    for label, path in parse_policy_specs(specs, reserved=reserved):
        meta = run_meta(path)
        opts = {k: v for k, v in (meta.get("env") or {}).items() if k in ENV_SHAPE_OPTIONS}
        opts.update(toml_opts)
        opts.update(overrides or {})
        try:
            env: Any = AIGCDataCenterEnv(full, horizon=horizon, **opts)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--policy {label}: environment options {opts}: {exc}") from None
        pol = load_policy(
            path,
            env.observation_space,
            env.action_space,
            trust=trust,
            squashed=squashed,
            deterministic=deterministic,
        )
        kind = str(meta.get("algo") or pol.kind)
        if wrap is not None:
            pol.fn = wrap(label, pol.fn)
        loaded[label] = EnvPolicy(
            pol, label, kind=kind, env_options=opts, meta={"source": path, **pol.meta}
        )
    return loaded


__all__ = ["PolicyLoadError", "env_options_toml", "load_labelled"]
