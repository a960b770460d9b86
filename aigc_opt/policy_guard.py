"""Policies run by ``aigc-opt compare``: the rule for actions that are not numbers, and for
policies that raise.

Rule (also in ``aigc-opt compare --help``): a raw action (before clipping to the action
space) holding NaN or ±inf rejects the comparison
with one line naming the policy, the episode and the slot; nothing is clipped or
replaced by zeros, so no reported utility comes from actions the policy did not take.
A policy that raises does the same, with the exception's type and message.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aigc_opt.cli import UserError


class PolicyRunError(UserError):
    """A policy produced a non-finite action or raised; one line, exit 2."""


class GuardedPolicy:
    """Wraps an observation→action function; counts episodes and slots to name them in
    errors.

    Call `next_episode` between episodes (slots restart at 0).
    """

    def __init__(self, name: str, policy: Callable[[np.ndarray], np.ndarray]):
        self.name = name
        self.policy = policy
        self.episode = 0
        self.slot = 0

    def next_episode(self) -> None:
        self.episode += 1
        self.slot = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        where = f"policy {self.name}, episode {self.episode}, slot {self.slot}"
        try:
            action = np.asarray(self.policy(obs), dtype=float)
        except Exception as exc:
            detail = " ".join(str(exc).split())
            raise PolicyRunError(f"{where}: raised {type(exc).__name__}: {detail}") from None
        bad = ~np.isfinite(action)
        if bad.any():
            first = int(np.flatnonzero(bad.ravel())[0])
            raise PolicyRunError(
                f"{where}: action has {int(bad.sum())} non-finite entries of {action.size} "
                f"(first: index {first} = {action.ravel()[first]}); the comparison is refused"
            )
        self.slot += 1
        return action
