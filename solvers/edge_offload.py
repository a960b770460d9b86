"""Oracle (MILP / LP), simulator and policies of the ``edge-offload`` family.

Simulator: at slot t a policy sees the pending tasks by device and age (`EdgeObservation`)
and returns ``served`` (U, E, S, W+1) counts. Counts are floored to whole tasks, capped at
what is pending, zeroed where inadmissible, and scaled down (then floored) where a server's
GPU-seconds would be exceeded; every change is logged in ``repairs``. Tasks whose wait
window closes (age W after this slot, or the last slot) are dropped. Each slot is booked
with `formulations.edge_offload.slot_terms`, the function the MILP's objective sums.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from aigc_opt.data.families.edge_offload import FAMILY, EdgeOffloadScenario
from aigc_opt.formulations.edge_offload import (
    TERMS,
    admissible,
    build_program,
    evaluate,
    host_load,
    loads_of,
    schedule_from,
    slot_terms,
    task_parts,
    utility_of,
)
from aigc_opt.solvers.family_highs import solve_arrays, solve_oracle_program
from aigc_opt.solvers.family_result import FamilyResult, with_evaluation
from aigc_opt.solvers.family_sim import FamilySimulator


@dataclass
class EdgeObservation:
    t: int
    pending: np.ndarray  # (U, W+1) tasks waiting, by age (age 0 = arrived this slot)
    resident: np.ndarray  # (E,) models resident after the previous slot


Action = np.ndarray | tuple[np.ndarray, np.ndarray]
"""``served`` (U, E, S, W+1), or ``(served, resident)`` with the models to hold this slot
(E,); without ``resident`` the residency stays as it is."""


@dataclass
class EdgeSimulator(FamilySimulator):
    scn: EdgeOffloadScenario
    pending: np.ndarray = field(init=False)
    served: np.ndarray = field(init=False)
    dropped: np.ndarray = field(init=False)
    resident: np.ndarray = field(init=False)

    terms: ClassVar[tuple[str, ...]] = TERMS

    def _reset_state(self) -> None:
        s = self.scn
        self.pending = np.zeros((s.U, s.W + 1))
        self.pending[:, 0] = s.arrivals[:, 0]
        self.served = np.zeros((s.T, s.U, s.E, s.S, s.W + 1))
        self.dropped = np.zeros(s.T)
        self.resident = np.ones((s.T, s.E))

    def observation(self) -> EdgeObservation:
        return EdgeObservation(self.t, self.pending.copy(), self._before().copy())

    def _before(self) -> np.ndarray:
        """(E,) residency before this slot."""
        t = min(self.t, self.scn.T)
        return self.resident[t - 1] if t > 0 else self.scn.resident0.astype(float)

    def _residency(self, want: np.ndarray | None) -> np.ndarray:
        """This slot's residency: ``want`` (rounded) if it fits each host's memory, else the
        previous one (logged)."""
        s, before = self.scn, self._before()
        if want is None or not s.residency:
            return before
        r = (np.asarray(want, dtype=float) > 0.5).astype(float)
        if np.bincount(s.host, weights=r, minlength=s.H).max() > (s.spec.max_resident or 0):
            self.repairs.append({"slot": self.t, "rule": "max_resident"})
            return before
        return r

    def _repair(self, x: np.ndarray, resident: np.ndarray, loads: np.ndarray) -> np.ndarray:
        s = self.scn
        x = np.floor(np.maximum(np.nan_to_num(np.asarray(x, dtype=float)), 0.0) + 1e-9)
        x = np.where(admissible(s)[..., None], x, 0.0)
        if (x.sum(axis=(0, 2, 3)) * (resident < 0.5)).any():
            x = x * (resident >= 0.5)[None, :, None, None]
            self.repairs.append({"slot": self.t, "rule": "model not resident"})
        want = x.sum(axis=(1, 2))  # (U, W+1)
        over = want > self.pending + 1e-9
        if over.any():
            f = np.where(over, self.pending / np.maximum(want, 1e-12), 1.0)
            x = np.floor(x * f[:, None, None, :] + 1e-9)
            self.repairs.append({"slot": self.t, "rule": "more than pending"})
        used = host_load(s, x, np.zeros(s.E))
        free = np.maximum(s.host_capacity_s - host_load(s, 0 * x, loads), 0.0)
        if (used > free + 1e-9).any():
            f = np.minimum(1.0, free / np.maximum(used, 1e-12))[s.host]
            x = np.floor(x * f[None, :, None, None] + 1e-9)
            self.repairs.append({"slot": self.t, "rule": "server capacity"})
        return x

    def step(self, action: Action) -> np.ndarray:
        s, t = self.scn, self.t
        served, want = action if isinstance(action, tuple) else (action, None)
        resident = self._residency(want)
        loads = loads_of(s, resident, self._before())
        x = self._repair(served, resident, loads)
        self.pending -= x.sum(axis=(1, 2))
        drop = self.pending[:, s.W].sum() if t < s.T - 1 else self.pending.sum()
        self.served[t] = x
        self.dropped[t] = drop
        self.resident[t] = resident
        terms = slot_terms(s, x, float(drop), loads)
        self.per_slot[t] = terms
        self.t += 1
        if t < s.T - 1:
            self.pending = np.concatenate(
                [s.arrivals[:, t + 1 : t + 2], self.pending[:, :-1]], axis=1
            )
        else:
            self.pending[:] = 0.0
        return terms


class EdgePolicy(Protocol):
    name: str

    def act(self, obs: EdgeObservation, scn: EdgeOffloadScenario) -> Action: ...


def simulate(scn: EdgeOffloadScenario, policy: EdgePolicy) -> EdgeSimulator:
    """The one episode loop of the family."""
    sim = EdgeSimulator(scn)
    sim.play(policy)
    return sim


@dataclass
class GreedyOffload:
    """Per-task greedy, oldest tasks first.

    * ``opt-ts`` (LAD-TS's "Opt-TS"): every task takes the (server, step level) that is best
      for itself now — highest p·Q − w·delay − energy cost with the GPU time left this slot;
    * ``nearest-fewest``: the server with the fastest link, the fewest admissible steps.

    ``server_bonus`` ($ per task, per server) and ``quality_tilt`` ($ per unit of quality)
    are added to the ``opt-ts`` score; the Gymnasium environment sets them from its action.
    """

    name: str = "opt-ts"
    server_bonus: np.ndarray | None = None
    quality_tilt: float = 0.0

    def act(self, obs: EdgeObservation, scn: EdgeOffloadScenario) -> np.ndarray:
        parts = task_parts(scn)
        adm = admissible(scn)
        if self.name == "nearest-fewest":
            score = np.where(adm, scn.rate[:, :, None] * 1e6 - scn.steps[None, None, :], -np.inf)
        else:
            val = parts["quality"] - scn.spec.delay_usd_per_s * parts["delay_s"] - parts["energy"]
            val = val + self.quality_tilt * scn.quality[None]
            if self.server_bonus is not None:
                val = val + self.server_bonus[None, :, None]
            score = np.where(adm, val, -np.inf)
        score = np.where(obs.resident[None, :, None] >= 0.5, score, -np.inf)
        left = scn.host_capacity_s.copy()  # GPU-seconds per host (models never switched)
        x = np.zeros((scn.U, scn.E, scn.S, scn.W + 1))
        for age in range(scn.W, -1, -1):
            for u in range(scn.U):
                need = obs.pending[u, age]
                for flat in np.argsort(-score[u], axis=None, kind="stable"):
                    if need <= 0 or not np.isfinite(score[u].flat[flat]):
                        break
                    e, s = np.unravel_index(flat, (scn.E, scn.S))
                    h = scn.host[e]
                    k = min(need, np.floor(left[h] / scn.gpu_s[e, s] + 1e-9))
                    if k > 0:
                        x[u, e, s, age] += k
                        left[h] -= k * scn.gpu_s[e, s]
                        need -= k
        return x


HEURISTICS = ("opt-ts", "nearest-fewest")


@dataclass
class EdgeMPC:
    """Rolling horizon: at slot t solve the MILP over t … t+L−1 from the pending tasks
    (perfect forecasts of arrivals; tasks whose window outlasts the window are carried at no
    cost) and serve what it serves in slot t."""

    window: int = 6
    time_limit: float | None = None
    name: str = "mpc"
    statuses: list[str] = field(default_factory=list)

    def act(self, obs: EdgeObservation, scn: EdgeOffloadScenario) -> Action:
        t1 = min(obs.t + self.window, scn.T)
        prog, cells, _ = build_program(
            scn, t0=obs.t, t1=t1, pending=obs.pending, resident0=obs.resident
        )
        sol = solve_arrays(prog, time_limit=self.time_limit)
        self.statuses.append(sol.status)
        x = np.zeros((scn.U, scn.E, scn.S, scn.W + 1))
        if sol.x is None:
            return x
        xs = np.round(prog.block(sol.x, "x"))
        now = cells.t == obs.t
        np.add.at(x, (cells.u[now], cells.e[now], cells.s[now], obs.t - cells.tau[now]), xs[now])
        if not scn.residency:
            return x
        return x, np.round(prog.block(sol.x, "w").reshape(scn.E, t1 - obs.t)[:, 0])


@dataclass
class ReplayServed:
    """Replays a schedule: ``served`` (T, U, E, S, W+1) and ``resident`` (T, E)."""

    served: np.ndarray
    resident: np.ndarray | None = None
    name: str = "replay"

    def act(self, obs: EdgeObservation, scn: EdgeOffloadScenario) -> Action:
        if self.resident is None:
            return self.served[obs.t]
        return self.served[obs.t], self.resident[obs.t]


def solve_oracle(
    scn: EdgeOffloadScenario,
    *,
    relax: bool = False,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int = 0,
    seed: int = 0,
) -> FamilyResult:
    """Perfect-foresight MILP (whole tasks) or, with ``relax``, its LP relaxation."""
    t0 = time.perf_counter()
    prog, cells, cohorts = build_program(scn)
    res, sol = solve_oracle_program(
        FAMILY, scn, prog, relax=relax, t0=t0, time_limit=time_limit, mip_gap=mip_gap,
        threads=threads, seed=seed,
    )  # fmt: skip
    if sol.x is not None:
        served, dropped, resident = schedule_from(
            scn, prog, cells, cohorts, sol.x, integral=not relax
        )
        with_evaluation(res, evaluate(scn, served, dropped, resident))
        res.schedule = (served, resident)
    return res


def run_policy(
    scn: EdgeOffloadScenario, policy_name: str, *, window: int = 12, time_limit: float | None = None
) -> FamilyResult:
    t0 = time.perf_counter()
    policy: EdgePolicy = (
        EdgeMPC(window=window, time_limit=time_limit)
        if policy_name == "mpc"
        else GreedyOffload(policy_name)
    )
    sim = simulate(scn, policy)
    ev = evaluate(scn, sim.served, sim.dropped, sim.resident)
    if isinstance(policy, EdgeMPC):
        ev.kpis["windows"] = len(policy.statuses)
        ev.kpis["windows_not_optimal"] = sum(s != "optimal" for s in policy.statuses)
    return FamilyResult(
        family=FAMILY, method=policy_name, scenario=scn.name, horizon=scn.T, start=scn.start,
        status="completed", solution_status="feasible", utility=ev.utility, terms=ev.terms,
        kpis=ev.kpis, violations=ev.violations, solve_seconds=time.perf_counter() - t0,
        message=f"{len(sim.repairs)} repairs" if sim.repairs else "",
    )  # fmt: skip


def replay(scn: EdgeOffloadScenario, result: FamilyResult) -> float:
    served, resident = result.schedule
    sim = simulate(scn, ReplayServed(served, resident))
    return utility_of(sim.per_slot.sum(axis=0))
