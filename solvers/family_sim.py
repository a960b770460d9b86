"""What the scenario families' simulators share: the slot counter, the per-slot terms, the
log of refused or repaired actions, `reset`, and the one episode loop (`play`).

A family's simulator subclasses `FamilySimulator` (a dataclass with the scenario as its
field), sets ``terms`` (its accounting's term names) and defines `_reset_state` (its own
state arrays), `observation` and `step` (apply an action, book the slot with the family's
``slot_terms``, advance ``t``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from aigc_opt.solvers import interrupt


@dataclass
class FamilySimulator:
    scn: Any
    t: int = 0
    per_slot: np.ndarray = field(init=False)
    """(T, len(terms)) $ booked in each slot."""
    repairs: list[dict[str, Any]] = field(init=False)
    """Actions refused or changed, one dict per event (slot, rule or reason)."""

    terms: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> Any:
        """Back to slot 0 with nothing booked; returns the first observation."""
        self.t = 0
        self.per_slot = np.zeros((self.scn.T, len(self.terms)))
        self.repairs = []
        self._reset_state()
        return self.observation()

    def _reset_state(self) -> None:  # pragma: no cover - every family defines it
        raise NotImplementedError

    def observation(self) -> Any:  # pragma: no cover - every family defines it
        raise NotImplementedError

    def step(self, action: Any) -> np.ndarray:  # pragma: no cover - every family defines it
        raise NotImplementedError

    @property
    def done(self) -> bool:
        return bool(self.t >= self.scn.T)

    def play(self, policy: Any) -> None:
        """The one episode loop: from slot 0, ``policy.act(observation, scenario)`` each slot
        until the horizon ends or a stop is requested (`solvers.interrupt`)."""
        obs = self.reset()
        while not self.done and not interrupt.requested():
            self.step(policy.act(obs, self.scn))
            if not self.done:
                obs = self.observation()
