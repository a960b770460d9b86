"""Python-callable policies used by the loader tests."""

from __future__ import annotations

import numpy as np

N_ACTIONS = 118  # action size of the default scenario's environment


def zeros(obs: np.ndarray) -> np.ndarray:
    return np.zeros(N_ACTIONS, dtype=np.float32)


def wrong_shape(obs: np.ndarray) -> np.ndarray:
    return np.zeros(3, dtype=np.float32)
