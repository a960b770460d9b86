"""Python-callable policies used by the loader tests (sizes derived from the env)."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _action_shape() -> tuple[int, ...]:
    from aigc_opt.drl_compare.env import AIGCDataCenterEnv

    return AIGCDataCenterEnv("default", horizon=24).action_space.shape


def zeros(obs: np.ndarray) -> np.ndarray:
    return np.zeros(_action_shape(), dtype=np.float32)


def wrong_shape(obs: np.ndarray) -> np.ndarray:
    return np.zeros(3, dtype=np.float32)
