"""Slot-by-slot simulator of the ``geo-training`` family, its policies and its episode loop.

At slot t a policy sees a `GeoObservation` (waiting jobs, free GPUs per data center over
the rest of the horizon, this slot's prices and carbon) and returns starts
``{job: (data_center, gpus)}``. A start is accepted when the job is waiting, has arrived,
may still start (τ ≤ D_j + L − p + 1), ``gpus`` is one of its sizes and the data center has
that many GPUs free in every slot of the run; otherwise it is refused and logged in
``repairs``. An accepted run is committed to its end (non-preemptive, as in the MILP;
with preemption a run is one segment of the job, which may start another one after it). Each
slot is booked with `geo_training_accounting.slot_terms`, the function that defines U.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from aigc_opt.data.families.geo_training import GeoTrainingScenario
from aigc_opt.formulations.geo_training_accounting import (
    TERMS,
    GeoEvaluation,
    evaluate,
    slot_terms,
    utility_of,
)
from aigc_opt.solvers.family_sim import FamilySimulator

Starts = dict[int, tuple[int, ...]]
"""``{job: (data_center, gpus)}`` or ``(data_center, gpus, slots)``: without ``slots`` a run
lasts the job's whole (remaining) work, cut by the horizon and, with preemption, by the
job's last slot."""


@dataclass
class GeoObservation:
    """What a non-anticipative policy knows at slot ``t``."""

    t: int
    waiting: np.ndarray  # (J,) bool: arrived, not started, may still start
    free: np.ndarray  # (D, T) GPUs not reserved by running jobs
    price: np.ndarray  # (D,) $/MWh this slot
    carbon: np.ndarray  # (D,) tCO2/MWh this slot
    work_left: np.ndarray  # (J,) GPU-h not done yet
    ran: np.ndarray  # (J,) bool: the job ran in an earlier slot (a new segment is a resume)


def run_slots(scn: GeoTrainingScenario, j: int, g: int) -> int:
    """Duration p (slots) of job j's run on g GPUs."""
    return int(round(scn.work[j] / (g * scn.dt)))


def may_start(scn: GeoTrainingScenario, j: int, g: int, t: int) -> bool:
    """Start rule of the family: τ ≤ D_j + L − p + 1 (a run must end by D_j + L); with
    preemption a segment of one slot is enough."""
    shortest = 1 if scn.preemption else run_slots(scn, j, g)
    return t <= scn.deadline[j] + scn.spec.max_late_slots - shortest + 1


def segment_slots(scn: GeoTrainingScenario, j: int, g: int, t: int, left: float) -> int:
    """Default length of a run started at t on g GPUs with ``left`` GPU-h to do: the whole
    run p; with preemption the whole remaining work, cut to end inside the horizon and by
    D_j + L."""
    if not scn.preemption:
        return run_slots(scn, j, g)
    whole = int(np.floor(left / (g * scn.dt) + 1e-9))
    return min(whole, scn.T - t, int(scn.deadline[j]) + scn.spec.max_late_slots - t + 1)


@dataclass
class GeoSimulator(FamilySimulator):
    """Advance one slot per `step`; `evaluation` re-accounts the whole run (same U)."""

    scn: GeoTrainingScenario
    started: np.ndarray = field(init=False)
    n: np.ndarray = field(init=False)
    y: np.ndarray = field(init=False)
    busy: np.ndarray = field(init=False)
    until: np.ndarray = field(init=False)

    terms: ClassVar[tuple[str, ...]] = TERMS

    def _reset_state(self) -> None:
        s = self.scn
        self.started = np.zeros(s.J, dtype=bool)
        self.n = np.zeros((s.J, s.D, s.T))
        self.y = np.zeros((s.J, s.D, s.T))
        self.busy = np.zeros((s.D, s.T))
        self.until = np.zeros(s.J, dtype=int)  # end (exclusive) of the job's last run

    def observation(self) -> GeoObservation:
        s, t = self.scn, min(self.t, self.scn.T - 1)
        left = self.work_left()
        ready = left > 1e-9 if s.preemption else ~self.started
        waiting = ready & (s.arrival <= t) & (self.until <= t)
        waiting &= (
            np.array(
                [any(may_start(s, j, g, t) for g in s.sizes(j)) for j in range(s.J)], dtype=bool
            )
            if s.J
            else waiting
        )
        ran = self.y[:, :, :t].sum(axis=(1, 2)) > 0
        free = s.cap[:, None] - self.busy
        return GeoObservation(t, waiting, free, s.price[:, t], s.carbon[:, t], left, ran)

    def work_left(self) -> np.ndarray:
        """GPU-h of each job not booked yet (J,)."""
        return self.scn.work - self.n.sum(axis=(1, 2)) * self.scn.dt

    def _accept(self, j: int, d: int, g: int, ell: int) -> str | None:
        s, t = self.scn, self.t
        if not 0 <= j < s.J or not 0 <= d < s.D:
            return "unknown job or data center"
        if s.arrival[j] > t or self.until[j] > t or (self.started[j] and not s.preemption):
            return "job not waiting"
        if g not in s.sizes(j):
            return f"gpus {g} not among the job's sizes {s.sizes(j)}"
        if not s.preemption and ell != run_slots(s, j, g):
            return "without preemption a run lasts the whole work"
        if ell < 1 or t + ell - 1 > s.deadline[j] + s.spec.max_late_slots:
            return "too late to start with this GPU count and length"
        if s.preemption and (t + ell > s.T or g * ell * s.dt > self.work_left()[j] + 1e-9):
            return "segment beyond the horizon or the work left"
        end = min(t + ell, s.T)
        if (self.busy[d, t:end] + g > s.cap[d] + 1e-9).any():
            return "not enough free GPUs over the run"
        return None

    def step(self, starts: Starts) -> np.ndarray:
        """Apply this slot's starts, book the slot; returns its terms (`TERMS` order, $)."""
        s, t = self.scn, self.t
        for j, start in sorted(starts.items()):
            j, d, g = int(j), int(start[0]), int(start[1])
            ell = int(start[2]) if len(start) > 2 else None
            if ell is None and 0 <= j < s.J and g > 0:
                ell = segment_slots(s, j, g, t, float(self.work_left()[j]))
            why = self._accept(j, d, g, -1 if ell is None else ell)
            if why is not None:
                self.repairs.append({"slot": t, "job": j, "refused": why})
                continue
            end = min(t + int(ell or 0), s.T)
            self.started[j] = True
            self.until[j] = end
            self.n[j, d, t:end] = g
            self.y[j, d, t:end] = 1.0
            self.busy[d, t:end] += g
        zero = np.zeros((s.J, s.D))
        n_prev, y_prev = (self.n[:, :, t - 1], self.y[:, :, t - 1]) if t > 0 else (zero, zero)
        ran = self.y[:, :, :t].sum(axis=(1, 2)) > 0
        terms = slot_terms(s, t, self.n[:, :, t], self.y[:, :, t], n_prev, y_prev, ran)
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
    sim.play(policy)
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
                if segment_slots(scn, j, g, obs.t, float(obs.work_left[j])) < 1:
                    continue  # with preemption: less work left than one slot at g GPUs
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

    runs: list[tuple[int, int, int, int, int]]
    """``(job, data center, gpus, start, slots)`` of each run (or segment)."""
    name: str = "replay"

    def act(self, obs: GeoObservation, scn: GeoTrainingScenario) -> Starts:
        return {j: (d, g, ell) for j, d, g, tau, ell in self.runs if tau == obs.t}
