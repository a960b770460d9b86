"""Slot-by-slot simulator of the ``geo-training`` family, its policies and its episode loop.

At slot t a policy sees a `GeoObservation` (waiting jobs, free GPUs per data center over
the rest of the horizon, this slot's prices and carbon) and returns starts
``{job: (data_center, gpus)}``. A start is accepted when the job is waiting, has arrived,
may still start (τ ≤ D_j + L − p + 1), ``gpus`` is one of its sizes and the data center has
that many GPUs free in every slot of the run; otherwise it is refused and logged in
``repairs``. An accepted run is committed to its end (non-preemptive, as in the MILP). Each
slot is booked with `geo_training_accounting.slot_terms`, the function that defines U.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from aigc_opt.data.families.geo_training import GeoTrainingScenario
from aigc_opt.formulations.geo_training_accounting import (
    TERMS,
    GeoEvaluation,
    evaluate,
    slot_terms,
    utility_of,
)
from aigc_opt.solvers import interrupt

Starts = dict[int, tuple[int, int]]


@dataclass
class GeoObservation:
    """What a non-anticipative policy knows at slot ``t``."""

    t: int
    waiting: np.ndarray  # (J,) bool: arrived, not started, may still start
    free: np.ndarray  # (D, T) GPUs not reserved by running jobs
    price: np.ndarray  # (D,) $/MWh this slot
    carbon: np.ndarray  # (D,) tCO2/MWh this slot


def run_slots(scn: GeoTrainingScenario, j: int, g: int) -> int:
    """Duration p (slots) of job j's run on g GPUs."""
    return int(round(scn.work[j] / (g * scn.dt)))


def may_start(scn: GeoTrainingScenario, j: int, g: int, t: int) -> bool:
    """Start rule of the family: τ ≤ D_j + L − p + 1 (a run must end by D_j + L)."""
    return t <= scn.deadline[j] + scn.spec.max_late_slots - run_slots(scn, j, g) + 1


@dataclass
class GeoSimulator:
    """Advance one slot per `step`; `evaluation` re-accounts the whole run (same U)."""

    scn: GeoTrainingScenario
    t: int = 0
    started: np.ndarray = field(init=False)
    n: np.ndarray = field(init=False)
    y: np.ndarray = field(init=False)
    busy: np.ndarray = field(init=False)
    per_slot: np.ndarray = field(init=False)
    repairs: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> GeoObservation:
        s = self.scn
        self.t = 0
        self.started = np.zeros(s.J, dtype=bool)
        self.n = np.zeros((s.J, s.D, s.T))
        self.y = np.zeros((s.J, s.D, s.T))
        self.busy = np.zeros((s.D, s.T))
        self.per_slot = np.zeros((s.T, len(TERMS)))
        self.repairs = []
        return self.observation()

    @property
    def done(self) -> bool:
        return self.t >= self.scn.T

    def observation(self) -> GeoObservation:
        s, t = self.scn, min(self.t, self.scn.T - 1)
        waiting = (~self.started) & (s.arrival <= t)
        waiting &= (
            np.array(
                [any(may_start(s, j, g, t) for g in s.sizes(j)) for j in range(s.J)], dtype=bool
            )
            if s.J
            else waiting
        )
        return GeoObservation(t, waiting, s.cap[:, None] - self.busy, s.price[:, t], s.carbon[:, t])

    def _accept(self, j: int, d: int, g: int) -> str | None:
        s, t = self.scn, self.t
        if not 0 <= j < s.J or not 0 <= d < s.D:
            return "unknown job or data center"
        if self.started[j] or s.arrival[j] > t:
            return "job not waiting"
        if g not in s.sizes(j):
            return f"gpus {g} not among the job's sizes {s.sizes(j)}"
        if not may_start(s, j, g, t):
            return "too late to start with this GPU count"
        end = min(t + run_slots(s, j, g), s.T)
        if (self.busy[d, t:end] + g > s.cap[d] + 1e-9).any():
            return "not enough free GPUs over the run"
        return None

    def step(self, starts: Starts) -> np.ndarray:
        """Apply this slot's starts, book the slot; returns its terms (`TERMS` order, $)."""
        s, t = self.scn, self.t
        for j, (d, g) in sorted(starts.items()):
            why = self._accept(int(j), int(d), int(g))
            if why is not None:
                self.repairs.append({"slot": t, "job": int(j), "refused": why})
                continue
            end = min(t + run_slots(s, j, g), s.T)
            self.started[j] = True
            self.n[j, d, t:end] = g
            self.y[j, d, t:end] = 1.0
            self.busy[d, t:end] += g
        prev = self.y[:, :, t - 1] if t > 0 else np.zeros((s.J, s.D))
        terms = slot_terms(s, t, self.n[:, :, t], self.y[:, :, t], prev)
        self.per_slot[t] = terms
        self.t += 1
        return terms

    def evaluation(self) -> GeoEvaluation:
        return evaluate(self.scn, self.n, self.y)


class GeoPolicy(Protocol):
    name: str

    def act(self, obs: GeoObservation, scn: GeoTrainingScenario) -> Starts: ...


def simulate(scn: GeoTrainingScenario, policy: GeoPolicy) -> tuple[GeoSimulator, float]:
    """The one episode loop: returns the simulator and the episode utility ($)."""
    sim = GeoSimulator(scn)
    obs = sim.reset()
    while not sim.done:
        if interrupt.requested():
            break
        sim.step(policy.act(obs, scn))
        if not sim.done:
            obs = sim.observation()
    return sim, utility_of(sim.per_slot.sum(axis=0))


# ----------------------------------------------------------------------------- policies
def _fits(obs: GeoObservation, scn: GeoTrainingScenario, j: int, d: int, g: int) -> bool:
    end = min(obs.t + run_slots(scn, j, g), scn.T)
    return bool((obs.free[d, obs.t : end] >= g - 1e-9).all())


def _reserve(obs: GeoObservation, scn: GeoTrainingScenario, j: int, d: int, g: int) -> None:
    obs.free[d, obs.t : min(obs.t + run_slots(scn, j, g), scn.T)] -= g


@dataclass
class GreedyPolicy:
    """Start waiting jobs now, largest GPU count that fits, in a priority order, at the best
    data center by a per-slot score; a job whose run would lose money at this slot's prices
    waits (unless its start window closes now).

    * ``edf-cheapest``: earliest deadline first, cheapest energy + carbon now (plus the
      migration cost spread over the run) — the deadline-aware, price-following baseline of
      geo-distributed scheduling papers;
    * ``carbon-greedy``: earliest deadline first, lowest carbon intensity now;
    * ``fcfs-home``: first come first served, home data center only (no migration).

    ``dc_bonus`` ($/GPU-h, per data center) is subtracted from the ``edf-cheapest`` score and
    ``margin_floor`` ($/GPU-h) is the least value-minus-energy margin that starts a job now;
    the Gymnasium environment sets both from its action.
    """

    name: str = "edf-cheapest"
    dc_bonus: np.ndarray | None = None
    margin_floor: float = 0.0

    def act(self, obs: GeoObservation, scn: GeoTrainingScenario) -> Starts:
        e = scn.mwh_per_gpu_slot()
        jobs = np.flatnonzero(obs.waiting)
        key = scn.arrival[jobs] if self.name == "fcfs-home" else scn.deadline[jobs]
        out: Starts = {}
        for j in jobs[np.argsort(key, kind="stable")]:
            j = int(j)
            if self.name == "fcfs-home":
                dcs = [int(scn.home[j])]
            elif self.name == "carbon-greedy":
                dcs = [int(d) for d in np.argsort(obs.carbon, kind="stable")]
            else:
                per_gpu_h = e * (obs.price + scn.sigma * obs.carbon) / scn.dt
                away = (np.arange(scn.D) != scn.home[j]) * scn.migration[j] / scn.work[j]
                bonus = 0.0 if self.dc_bonus is None else self.dc_bonus
                dcs = [int(d) for d in np.argsort(per_gpu_h + away - bonus, kind="stable")]
            for g in sorted(scn.sizes(j), reverse=True):
                if not may_start(scn, j, g, obs.t):
                    continue
                last_chance = not may_start(scn, j, g, obs.t + 1)
                placed = False
                for d in dcs:
                    if not _fits(obs, scn, j, d, g):
                        continue
                    margin = (
                        scn.value[j] - e[d] * (obs.price[d] + scn.sigma * obs.carbon[d]) / scn.dt
                    )
                    if margin <= self.margin_floor and not last_chance:
                        break  # wait for cheaper energy
                    out[j] = (d, g)
                    _reserve(obs, scn, j, d, g)
                    placed = True
                    break
                if placed:
                    break
        return out


HEURISTICS = ("edf-cheapest", "carbon-greedy", "fcfs-home")


@dataclass
class ReplayPolicy:
    """Replays a fixed set of runs ``{job: (d, g, start)}`` (e.g. the oracle's)."""

    runs: dict[int, tuple[int, int, int]]
    name: str = "replay"

    def act(self, obs: GeoObservation, scn: GeoTrainingScenario) -> Starts:
        return {j: (d, g) for j, (d, g, tau) in self.runs.items() if tau == obs.t}
