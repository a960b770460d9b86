"""MILP of the ``geo-training`` family as arrays (docs/families/geo-training.md, "Program").

Time-indexed and non-preemptive, as the simulator is: a job runs once, from its start slot
τ to the end of its work, in one data center d with one GPU count g from its allowed sizes.
Column x_{j,d,g,τ} ∈ {0, 1} picks that run; its duration is p = W_j / (g Δ) slots. Rows:

* one run per job: Σ_{d,g,τ} x ≤ 1 (a job never started earns nothing);
* capacity: Σ over runs covering slot t of g · x ≤ C_d for every (d, t).

Allowed starts: a_j ≤ τ ≤ min(T − 1, D_j + L − p + 1) (a run must end by D_j + L; a run cut
by the horizon's end counts its slots inside the horizon, as the simulator does).
The objective coefficient of a run is `accounting.slot_terms` summed over its slots.
`build_program` can start from a state (slot t0, jobs already started excluded, capacity
already taken by running jobs), so the oracle and MPC share
it. The LP relaxation drops integrality (`ArrayProgram.relaxed`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.families.geo_training import GeoTrainingScenario
from aigc_opt.formulations.family_program import ArrayProgram, RowBuilder


@dataclass
class Runs:
    """The candidate runs (one column each): job, data center, GPUs, start, duration."""

    j: np.ndarray
    d: np.ndarray
    g: np.ndarray
    start: np.ndarray
    slots: np.ndarray

    @property
    def K(self) -> int:
        return int(self.j.shape[0])


def candidate_runs(scn: GeoTrainingScenario, t0: int, t1: int, waiting: np.ndarray) -> Runs:
    """Runs of the waiting jobs starting in ``t0 … t1−1`` that are allowed (module doc)."""
    cols: list[tuple[int, int, int, int, int]] = []
    L = scn.spec.max_late_slots
    for j in np.flatnonzero(waiting):
        for g in scn.sizes(j):
            p = int(round(scn.work[j] / (g * scn.dt)))
            last = min(t1 - 1, int(scn.deadline[j]) + L - p + 1)
            for tau in range(max(int(scn.arrival[j]), t0), last + 1):
                for d in range(scn.D):
                    if g <= scn.cap[d]:
                        cols.append((j, d, g, tau, p))
    a = np.array(cols, dtype=np.int64).reshape(-1, 5)
    return Runs(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])


def run_values(scn: GeoTrainingScenario, runs: Runs) -> np.ndarray:
    """U contribution of each run over its slots inside the horizon ($):
    Σ_t g Δ (v − ℓ[t > D]) − g E_d (π + σκ), minus the migration cost when d is not the
    job's home."""
    e = scn.mwh_per_gpu_slot()
    out = -scn.migration[runs.j] * (runs.d != scn.home[runs.j])
    cost = scn.price + scn.sigma * scn.carbon  # (D, T) $/MWh
    for k in range(runs.K):
        j, d, g, tau, p = (int(v[k]) for v in (runs.j, runs.d, runs.g, runs.start, runs.slots))
        tt = np.arange(tau, min(tau + p, scn.T))
        late = tt > scn.deadline[j]
        out[k] += g * scn.dt * (scn.value[j] * tt.size - scn.late[j] * late.sum())
        out[k] -= g * e[d] * cost[d, tt].sum()
    return out


def build_program(
    scn: GeoTrainingScenario,
    *,
    t0: int = 0,
    t1: int | None = None,
    waiting: np.ndarray | None = None,
    busy: np.ndarray | None = None,
) -> tuple[ArrayProgram, Runs]:
    """The MILP over starts in ``t0 … t1−1`` (default: the whole horizon). Runs are valued
    and capacity is checked over the whole horizon (a run started in the window may end after
    it). ``waiting`` (J,) marks jobs not started yet (default all); ``busy`` (D, T) GPUs
    already taken by running jobs (default none)."""
    t1 = scn.T if t1 is None else t1
    waiting = np.ones(scn.J, dtype=bool) if waiting is None else np.asarray(waiting, dtype=bool)
    busy = np.zeros((scn.D, scn.T)) if busy is None else np.asarray(busy, dtype=float)
    runs = candidate_runs(scn, t0, t1, waiting)
    K = runs.K
    rb = RowBuilder(K)
    uj, rj = np.unique(runs.j, return_inverse=True)
    rb.add(rj, np.arange(K), 1.0, len(uj), -np.inf, 1.0)
    # capacity: run k covers slots start … min(start + p, T) − 1 at data center d
    T = scn.T
    span = np.minimum(runs.start + runs.slots, T) - runs.start
    col = np.repeat(np.arange(K), span)
    offs = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
    tt = np.repeat(runs.start, span) + offs
    dd = runs.d[col]
    rb.add(
        dd * T + tt,
        col,
        runs.g[col].astype(float),
        scn.D * T,
        -np.inf,
        (scn.cap[:, None] - busy).ravel(),
    )
    A, lo, hi = rb.matrix()
    prog = ArrayProgram(
        c=run_values(scn, runs),
        A=A,
        row_lo=lo,
        row_hi=hi,
        col_lo=np.zeros(K),
        col_hi=np.ones(K),
        integer=np.ones(K, dtype=bool),
        blocks={"x": slice(0, K)},
    )
    return prog, runs


def schedule_from(
    scn: GeoTrainingScenario, runs: Runs, x: np.ndarray, *, integral: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``n`` (GPUs) and ``y`` (placement) (J, D, T) of a solution; an integer solution
    is rounded first so the schedule is exactly integral, an LP solution is kept fractional."""
    x = np.round(x) if integral else np.asarray(x, dtype=float)
    n = np.zeros((scn.J, scn.D, scn.T))
    y = np.zeros((scn.J, scn.D, scn.T))
    for k in np.flatnonzero(x > 1e-12):
        j, d, g, tau, p = (int(v[k]) for v in (runs.j, runs.d, runs.g, runs.start, runs.slots))
        end = min(tau + p, scn.T)
        n[j, d, tau:end] += g * x[k]
        y[j, d, tau:end] += x[k]
    return n, y
