"""The policy protocol, schedule replay, and running one episode through the simulator.

Every controller -- oracle replay, MPC, the heuristics, a DRL policy behind the
Gymnasium environment -- is a `Policy`::

    class Policy(Protocol):
        name: str
        def reset(self, scenario: Scenario, seed: int | None = None) -> None: ...
        def act(self, obs: Observation) -> SlotDecisions: ...

`reset` is called once per episode with the episode's scenario (static parameters are
public; a non-anticipative policy reads series only through the observations, or through
a forecaster) and a seed for its own randomness. `act` returns one slot of decisions.

`run_episode(scenario, policy, seed=...)` plays one episode through a `Simulator` and
returns an `EpisodeResult` whose utility is `accounting.evaluate` of the realized
schedule (the sum of the per-slot `slot_terms` the simulator booked). It is the one
episode loop of aigc-opt: `aigc-opt run`, `aigc-opt mpc` and `aigc-opt compare` (oracle
replay, MPC, heuristics and trained policies, the latter through
`aigc_opt.drl_compare.policies.EnvPolicy`) all play through it, so every method's run
record (`EpisodeResult.summary(bound)`) has the same keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.schedule import Schedule
from aigc_opt.solvers import interrupt
from aigc_opt.solvers.simulator import Mode, Observation, Repair, Simulator, SlotDecisions


@runtime_checkable
class Policy(Protocol):
    """One small interface for every controller (see the module docstring)."""

    name: str

    def reset(self, scenario: Scenario, seed: int | None = None) -> None: ...

    def act(self, obs: Observation) -> SlotDecisions: ...


class ScheduleReplay:
    """Replays a fixed schedule slot by slot (every field of `SlotDecisions` given)."""

    name = "replay"

    def __init__(self, schedule: Schedule, name: str | None = None):
        self.schedule = schedule
        if name:
            self.name = name

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        T = self.schedule.gpus.shape[1]
        if T != scenario.T:
            raise ValueError(f"schedule has {T} slots, the episode {scenario.T}")

    def act(self, obs: Observation) -> SlotDecisions:
        return SlotDecisions.from_schedule(self.schedule, obs.t)


class OracleReplay(ScheduleReplay):
    """Solves the perfect-foresight oracle at `reset` and replays its schedule.

    Replaying reproduces the oracle's utility (the central consistency test); the solve
    result is kept in ``self.result`` (its ``best_bound`` is the episode's upper bound).
    """

    name = "oracle-replay"

    def __init__(self, options: Any = None, *, result: Any = None):
        self.options = options
        self.result = result
        self.schedule = None  # type: ignore[assignment]

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        from aigc_opt.solvers.oracle import solve_oracle

        if (
            self.result is None
            or self.result.horizon != scenario.T
            or self.result.start != scenario.start_slot
        ):
            self.result = solve_oracle(scenario, options=self.options)
        if self.result.schedule is None:
            raise RuntimeError(
                f"the oracle found no solution: {self.result.status} ({self.result.message})"
            )
        self.schedule = self.result.schedule
        super().reset(scenario, seed)


#: keys of every run record (`EpisodeResult.summary`); a policy's own ``info`` (e.g. MPC's
#: lookahead and solve times, a trained policy's kind and source) is added beside them.
RUN_RECORD_KEYS = (
    "method",
    "scenario",
    "horizon",
    "start",
    "seed",
    "status",
    "utility",
    "terms",
    "kpis",
    "violations",
    "repairs",
    "seconds",
    "oracle_bound",
    "gap_usd",
    "gap_pct",
)


@dataclass
class EpisodeResult:
    """One episode of one policy, accounted by the simulator.

    ``utility`` ($) and ``terms`` ($, the eight names of `TERMS`) come from
    `accounting.evaluate` of the realized schedule; ``per_slot`` (T, 8) are the terms the
    simulator booked slot by slot (they sum to ``terms``); ``repairs`` every change the
    simulator made to the policy's decisions; ``violations`` the constraint check of the
    realized schedule (empty: the simulator only realizes feasible schedules).
    """

    method: str
    scenario: str
    horizon: int
    start: int
    seed: int | None
    utility: float
    terms: dict[str, float]
    kpis: dict[str, Any]
    per_slot: np.ndarray
    repairs: list[Repair]
    violations: list[dict[str, Any]]
    seconds: float
    schedule: Schedule
    status: str = "completed"
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self, bound: float | None = None) -> dict[str, Any]:
        """JSON-able run record (everything but the schedule and the per-slot array).

        ``bound`` is a certified upper bound on the episode's utility (e.g. the oracle's
        best bound); ``oracle_bound``, ``gap_usd`` and ``gap_pct`` (`gap_to_bound`) are
        None without it."""
        from aigc_opt.solvers.result import gap_to_bound

        gap_usd, gap_pct = gap_to_bound(self.utility, bound)
        counts: dict[str, int] = {}
        for r in self.repairs:
            counts[r.rule] = counts.get(r.rule, 0) + 1
        return {
            "method": self.method,
            "scenario": self.scenario,
            "horizon": self.horizon,
            "start": self.start,
            "seed": self.seed,
            "status": self.status,
            "utility": self.utility,
            "terms": {n: self.terms[n] for n in TERMS},
            "kpis": self.kpis,
            "violations": self.violations,
            "repairs": {"count": len(self.repairs), "by_rule": counts},
            "seconds": round(self.seconds, 4),
            "oracle_bound": bound,
            "gap_usd": gap_usd,
            "gap_pct": gap_pct,
            **self.info,
        }


def run_episode(
    scenario: Scenario,
    policy: Policy,
    *,
    seed: int | None = 0,
    mode: Mode = "repair",
    progress: Callable[[int, int], None] | None = None,
) -> EpisodeResult:
    """Play ``policy`` on ``scenario`` (whole horizon) through a `Simulator`.

    ``progress(t, T)`` is called after every slot. ``seconds`` covers the policy's reset
    (e.g. the oracle solve of `OracleReplay`) and every slot.
    """
    t0 = time.perf_counter()
    policy.reset(scenario, seed)
    sim = Simulator(scenario, mode=mode)
    obs: Observation | None = sim.reset(seed)
    while obs is not None:
        interrupt.check(f"slot {sim.t} of the {getattr(policy, 'name', 'policy')} episode")
        step = sim.step(policy.act(obs))
        obs = step.observation
        if progress is not None:
            progress(sim.t, sim.T)
    seconds = time.perf_counter() - t0
    ev = sim.evaluation()
    return EpisodeResult(
        method=getattr(policy, "name", type(policy).__name__),
        scenario=scenario.name,
        horizon=scenario.T,
        start=scenario.start_slot,
        seed=seed,
        utility=ev.utility,
        terms=ev.terms,
        kpis=ev.kpis,
        per_slot=sim.per_slot_terms,
        repairs=sim.repairs,
        violations=[v.as_dict() for v in ev.violations],
        seconds=seconds,
        schedule=sim.schedule(),
        info=dict(getattr(policy, "info", {}) or {}),
    )
