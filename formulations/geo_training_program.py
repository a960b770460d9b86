"""MILP of the ``geo-training`` family as arrays (docs/families/geo-training.md, "Program").

Time-indexed, as the simulator is. Without preemption a job runs once, from its start slot
τ to the end of its work, in one data center d with one GPU count g from its allowed sizes:
column x_{j,d,g,τ} ∈ {0, 1} picks that run; its duration is p = W_j / (g Δ) slots. Rows:

* one run per job: Σ_{d,g,τ} x ≤ 1 (a job never started earns nothing);
* capacity: Σ over runs covering slot t of g · x ≤ C_d for every (d, t).

With ``preemption = true`` a column is a segment (j, d, g, τ, ℓ) of any ℓ slots with
g ℓ Δ ≤ W_j; the one-run row becomes "one segment at a time" (Σ over j's segments covering
t ≤ 1 per (j, t)) and "work": Σ g ℓ Δ x ≤ W_j. Every segment pays the resume cost r_j and
z_j ∈ [0, 1] with z_j ≤ Σ x (objective + r_j z_j) gives the first one back, so the program
pays r_j · (segments − 1), as the accounting does.

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


def candidate_runs(
    scn: GeoTrainingScenario, t0: int, t1: int, waiting: np.ndarray, work_left: np.ndarray
) -> Runs:
    """Runs of the waiting jobs starting in ``t0 … t1−1`` that are allowed (module doc).
    With preemption, every segment length ℓ with g ℓ Δ ≤ the job's work left that ends
    inside the horizon; without, the whole run (p slots)."""
    cols: list[tuple[int, int, int, int, int]] = []
    L = scn.spec.max_late_slots
    for j in np.flatnonzero(waiting):
        for g in scn.sizes(j):
            p = int(round(scn.work[j] / (g * scn.dt)))
            lengths = (
                range(1, int(np.floor(work_left[j] / (g * scn.dt) + 1e-9)) + 1)
                if scn.preemption
                else (p,)
            )
            for ell in lengths:
                last = min(t1 - 1, int(scn.deadline[j]) + L - ell + 1)
                if scn.preemption:
                    last = min(last, scn.T - ell)
                for tau in range(max(int(scn.arrival[j]), t0), last + 1):
                    for d in range(scn.D):
                        if g <= scn.cap[d]:
                            cols.append((j, d, g, tau, ell))
    a = np.array(cols, dtype=np.int64).reshape(-1, 5)
    return Runs(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])


def run_values(scn: GeoTrainingScenario, runs: Runs) -> np.ndarray:
    """U contribution of each run over its slots inside the horizon ($):
    Σ_t g Δ (v − ℓ[t > D]) − g E_d (π + σκ), minus the migration cost when d is not the
    job's home."""
    e = scn.mwh_per_gpu_slot()
    out = -scn.migration[runs.j] * (runs.d != scn.home[runs.j])
    if scn.preemption:  # every segment pays a resume; the job's first gets it back (z_j)
        out = out - scn.resume[runs.j]
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
    work_left: np.ndarray | None = None,
    resumed: np.ndarray | None = None,
) -> tuple[ArrayProgram, Runs]:
    """The MILP over starts in ``t0 … t1−1`` (default: the whole horizon). Runs are valued
    and capacity is checked over the whole horizon (a run started in the window may end after
    it). ``waiting`` (J,) marks jobs that may start now (default all); ``busy`` (D, T) GPUs
    already taken by running jobs (default none). With preemption: ``work_left`` (J,) GPU-h
    still to do (default W), ``resumed`` (J,) jobs that already ran (each new segment of
    theirs pays the resume cost)."""
    t1 = scn.T if t1 is None else t1
    waiting = np.ones(scn.J, dtype=bool) if waiting is None else np.asarray(waiting, dtype=bool)
    busy = np.zeros((scn.D, scn.T)) if busy is None else np.asarray(busy, dtype=float)
    left = scn.work if work_left is None else np.asarray(work_left, dtype=float)
    runs = candidate_runs(scn, t0, t1, waiting, left)
    K, T = runs.K, scn.T
    uj, rj = np.unique(runs.j, return_inverse=True)
    Z = len(uj) if scn.preemption else 0  # z_j: the job runs at all (its first segment)
    rb = RowBuilder(K + Z)
    span = np.minimum(runs.start + runs.slots, T) - runs.start
    col = np.repeat(np.arange(K), span)
    offs = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
    tt = np.repeat(runs.start, span) + offs
    if scn.preemption:
        # a job runs one segment at a time; its segments do at most its work left; z_j ≤ Σ x
        rb.add(rj[col] * T + tt, col, 1.0, len(uj) * T, -np.inf, 1.0)
        gpu_h = runs.g * runs.slots * scn.dt
        rb.add(rj, np.arange(K), gpu_h.astype(float), len(uj), -np.inf, left[uj] + 1e-9)
        rb.add(np.r_[rj, np.arange(Z)], np.r_[np.arange(K), K + np.arange(Z)],
               np.r_[-np.ones(K), np.ones(Z)], Z, -np.inf, 0.0)  # fmt: skip
    else:
        rb.add(rj, np.arange(K), 1.0, len(uj), -np.inf, 1.0)  # one run per job
    # capacity: run k covers slots start … min(start + p, T) − 1 at data center d
    rb.add(
        runs.d[col] * T + tt,
        col,
        runs.g[col].astype(float),
        scn.D * T,
        -np.inf,
        (scn.cap[:, None] - busy).ravel(),
    )
    A, lo, hi = rb.matrix()
    done_before = np.zeros(Z) if resumed is None or not Z else np.asarray(resumed, float)[uj]
    prog = ArrayProgram(
        c=np.r_[run_values(scn, runs), scn.resume[uj] if Z else np.zeros(0)],
        A=A,
        row_lo=lo,
        row_hi=hi,
        col_lo=np.zeros(K + Z),
        col_hi=np.r_[np.ones(K), 1.0 - done_before],
        integer=np.r_[np.ones(K, dtype=bool), np.zeros(Z, dtype=bool)],
        blocks={"x": slice(0, K), "z": slice(K, K + Z)},
    )
    return prog, runs


def schedule_from(
    scn: GeoTrainingScenario, runs: Runs, x: np.ndarray, *, integral: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``n`` (GPUs) and ``y`` (placement) (J, D, T) of a solution; an integer solution
    is rounded first so the schedule is exactly integral, an LP solution is kept fractional."""
    x = np.round(x[: runs.K]) if integral else np.asarray(x[: runs.K], dtype=float)
    n = np.zeros((scn.J, scn.D, scn.T))
    y = np.zeros((scn.J, scn.D, scn.T))
    for k in np.flatnonzero(x > 1e-12):
        j, d, g, tau, p = (int(v[k]) for v in (runs.j, runs.d, runs.g, runs.start, runs.slots))
        end = min(tau + p, scn.T)
        n[j, d, tau:end] += g * x[k]
        y[j, d, tau:end] += x[k]
    return n, y
