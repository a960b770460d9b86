"""Oracle (MILP / LP relaxation), rolling-horizon MPC and policy runs of the ``geo-training``
family, each returned as a `FamilyResult` whose utility is re-accounted from its schedule."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from aigc_opt.data.families.geo_training import FAMILY, GeoTrainingScenario
from aigc_opt.formulations.geo_training_accounting import evaluate
from aigc_opt.formulations.geo_training_program import Runs, build_program, schedule_from
from aigc_opt.solvers.family_highs import solve_arrays, solve_oracle_program
from aigc_opt.solvers.family_result import FamilyResult, with_evaluation
from aigc_opt.solvers.geo_training_sim import (
    GeoObservation,
    GreedyPolicy,
    ReplayPolicy,
    Starts,
    simulate,
)


def chosen_runs(runs: Runs, x: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """``(job, d, g, start, slots)`` of each run (segment) of an integer solution."""
    pick = np.flatnonzero(np.round(x[: runs.K]) > 0.5)
    cols = (runs.j, runs.d, runs.g, runs.start, runs.slots)
    return [tuple(int(v[k]) for v in cols) for k in pick]  # type: ignore[misc]


def solve_oracle(
    scn: GeoTrainingScenario,
    *,
    relax: bool = False,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int = 0,
    seed: int = 0,
) -> FamilyResult:
    """Perfect-foresight MILP (or its LP relaxation with ``relax``) over the whole horizon."""
    t0 = time.perf_counter()
    prog, runs = build_program(scn)
    res, sol = solve_oracle_program(
        FAMILY, scn, prog, relax=relax, t0=t0, time_limit=time_limit, mip_gap=mip_gap,
        threads=threads, seed=seed,
    )  # fmt: skip
    if sol.x is not None:
        n, y = schedule_from(scn, runs, sol.x, integral=not relax)
        with_evaluation(res, evaluate(scn, n, y, runs=not relax))
        res.kpis["candidate_runs"] = runs.K
        res.schedule = chosen_runs(runs, sol.x) if not relax else None
    return res


@dataclass
class MPCPolicy:
    """Rolling-horizon MPC: at slot t solve the MILP for starts in t … t+L−1 from the
    simulator's state (jobs already started, GPUs they hold), with perfect forecasts of the
    series over each run's duration, and commit only the starts of slot t."""

    window: int = 12
    time_limit: float | None = None
    mip_gap: float = 1e-4
    name: str = "mpc"
    statuses: list[str] | None = None

    def act(self, obs: GeoObservation, scn: GeoTrainingScenario) -> Starts:
        busy = scn.cap[:, None] - obs.free
        prog, runs = build_program(
            scn, t0=obs.t, t1=min(obs.t + self.window, scn.T), waiting=obs.waiting, busy=busy,
            work_left=obs.work_left, resumed=obs.ran,
        )  # fmt: skip
        sol = solve_arrays(prog, time_limit=self.time_limit, mip_gap=self.mip_gap)
        if self.statuses is not None:
            self.statuses.append(sol.status)
        if sol.x is None:
            return {}
        return {j: (d, g, ell) for j, d, g, tau, ell in chosen_runs(runs, sol.x) if tau == obs.t}


def run_policy(
    scn: GeoTrainingScenario, policy_name: str, *, window: int = 12, time_limit: float | None = None
) -> FamilyResult:
    """Run a heuristic (`GreedyPolicy` names) or ``mpc`` through the simulator."""
    t0 = time.perf_counter()
    statuses: list[str] = []
    policy = (
        MPCPolicy(window=window, time_limit=time_limit, statuses=statuses)
        if policy_name == "mpc"
        else GreedyPolicy(policy_name)
    )
    sim, _ = simulate(scn, policy)
    ev = sim.evaluation()
    res = FamilyResult(
        family=FAMILY,
        method=policy_name,
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start,
        status="completed",
        solution_status="feasible",
        utility=ev.utility,
        terms=ev.terms,
        kpis=ev.kpis,
        violations=ev.violations,
        solve_seconds=time.perf_counter() - t0,
        options={"window": window} if policy_name == "mpc" else {},
        message=f"{len(sim.repairs)} refused starts" if sim.repairs else "",
    )
    if statuses:  # MPC: how its window programs ended (a limit-stopped window is not optimal)
        res.kpis["windows"] = len(statuses)
        res.kpis["windows_not_optimal"] = sum(s != "optimal" for s in statuses)
    return res


def replay(scn: GeoTrainingScenario, result: FamilyResult) -> float:
    """Utility of the oracle's runs replayed through the simulator ($)."""
    _, u = simulate(scn, ReplayPolicy(list(result.schedule or [])))
    return u
