"""Python-callable policies that misbehave after the loader's sample call (call 0)."""

from __future__ import annotations

import numpy as np


def _n_actions() -> int:
    """Action size of the default scenario's environment (read from the env, not assumed)."""
    from aigc_opt.drl_compare.env import AIGCDataCenterEnv

    return int(AIGCDataCenterEnv("default", horizon=3).action_space.shape[0])


N_ACTIONS = _n_actions()
CALLS = {"n": 0}


def _next() -> int:
    CALLS["n"] += 1
    return CALLS["n"] - 1


def nan_on_call_2(obs: np.ndarray) -> np.ndarray:
    a = np.zeros(N_ACTIONS, dtype=np.float32)
    if _next() == 2:
        a[5] = np.nan
    return a


def inf_on_call_1(obs: np.ndarray) -> np.ndarray:
    a = np.zeros(N_ACTIONS, dtype=np.float32)
    if _next() == 1:
        a[:] = np.inf
    return a


def raises_on_call_4(obs: np.ndarray) -> np.ndarray:
    if _next() == 4:
        raise ZeroDivisionError("[bold]division[/] by zero")
    return np.zeros(N_ACTIONS, dtype=np.float32)
