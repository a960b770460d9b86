"""The one accounting of the ``geo-training`` family (docs/families/geo-training.md).

U = work_value − lateness_penalty − energy_cost − carbon_cost − migration_cost − resume_cost,
in $.
`slot_terms` books one slot; the MILP/LP objective, `evaluate` (programs' checks, replay),
the simulator and the Gymnasium environment all add up this function.

A schedule is ``n`` (J, D, T): GPUs job j runs at data center d in slot t, and ``y`` (J, D, T):
the job's placement there (1 = running). For an integer schedule ``y = [n > 0]``; the LP
relaxation may give a fractional ``y``, which this accounting takes as given. A job pays its
migration cost c_j in the slot a run (with preemption: a segment) starts at a data center
other than its home, and with preemption its resume cost r_j for each segment after its
first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aigc_opt.data.families.geo_training import GeoTrainingScenario

TERMS = (
    "work_value",
    "lateness_penalty",
    "energy_cost",
    "carbon_cost",
    "migration_cost",
    "resume_cost",
)
REVENUE_TERM = "work_value"
TOL = 1e-6


def segment_starts(
    scn: GeoTrainingScenario,
    n_t: np.ndarray,
    y_t: np.ndarray,
    n_prev: np.ndarray,
    y_prev: np.ndarray,
) -> np.ndarray:
    """(J, D) segments starting in a slot: the placement's rise; with preemption also a
    running job whose GPU count changed (a resize restarts from a checkpoint)."""
    rise: np.ndarray = np.maximum(y_t - y_prev, 0.0)
    if not scn.preemption:
        return rise
    out: np.ndarray = np.where(np.abs(n_t - n_prev) > TOL, y_t, rise)
    return out


def slot_terms(
    scn: GeoTrainingScenario,
    t: int,
    n_t: np.ndarray,
    y_t: np.ndarray,
    n_prev: np.ndarray,
    y_prev: np.ndarray,
    ran_before: np.ndarray,
) -> np.ndarray:
    """The six terms of slot ``t`` ($), in `TERMS` order. ``n_t``, ``y_t``, ``n_prev``,
    ``y_prev``: (J, D); ``ran_before`` (J,): the job ran in an earlier slot (a segment
    starting now is then a resume)."""
    gpu_h = n_t * scn.dt  # GPU-hours per (j, d)
    per_job = gpu_h.sum(axis=1)
    late = t > scn.deadline
    e_dc = n_t.sum(axis=0) * scn.mwh_per_gpu_slot()  # MWh per data center
    away = np.arange(scn.D)[None, :] != scn.home[:, None]
    starts = segment_starts(scn, n_t, y_t, n_prev, y_prev)
    resumes = starts.sum(axis=1) * ran_before if scn.preemption else np.zeros(scn.J)
    return np.array(
        [
            float(scn.value @ per_job),
            float((scn.late * late) @ per_job),
            float(scn.price[:, t] @ e_dc),
            float(scn.sigma * (scn.carbon[:, t] @ e_dc)),
            float(scn.migration @ (starts * away).sum(axis=1)),
            float(scn.resume @ resumes),
        ]
    )


def utility_of(terms: np.ndarray) -> float:
    """U from a term vector in `TERMS` order: work value minus the four costs."""
    return float(terms[0] - terms[1:].sum())


def placement_of(n: np.ndarray) -> np.ndarray:
    """Placement of an integer schedule: 1 where the job runs."""
    return (n > TOL).astype(float)


@dataclass
class GeoEvaluation:
    """U, its terms, per-slot terms (T, 5), KPIs and feasibility violations of a schedule."""

    utility: float
    terms: dict[str, float]
    per_slot: np.ndarray
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)


def violations_of(
    scn: GeoTrainingScenario, n: np.ndarray, y: np.ndarray, *, runs: bool = True
) -> list[dict[str, Any]]:
    """Constraints of docs/families/geo-training.md that the schedule breaks (tolerance 1e-5).
    ``runs=False`` skips the non-preemption rules (one run per job, constant GPUs, no stop
    before the work is done), which a fractional LP schedule does not obey."""
    out: list[dict[str, Any]] = []

    def check(name: str, excess: np.ndarray) -> None:
        worst = float(excess.max()) if excess.size else 0.0
        if worst > TOL * 10:
            out.append(
                {
                    "constraint": name,
                    "max_violation": worst,
                    "count": int((excess > TOL * 10).sum()),
                }
            )

    gmax = scn.gmax[:, None, None]
    gmin = scn.gmin[:, None, None]
    check("gpus >= 0", -n)
    check("gpus <= gpus_max * placed", n - gmax * y)
    check("gpus >= gpus_min * placed", gmin * y - n)
    check("placement in [0, 1]", np.maximum(y - 1.0, -y))
    check("one data center per job", y.sum(axis=1) - 1.0)
    check("capacity", n.sum(axis=0) - scn.cap[:, None])
    check("work <= gpu_hours", n.sum(axis=(1, 2)) * scn.dt - scn.work)
    before = np.arange(scn.T)[None, :] < scn.arrival[:, None]
    after = np.arange(scn.T)[None, :] > scn.last_slot[:, None]
    check("no run before arrival", (n.sum(axis=1) + y.sum(axis=1)) * before)
    check("no run after deadline + max_late_slots", (n.sum(axis=1) + y.sum(axis=1)) * after)
    if runs and not scn.preemption:
        starts = np.maximum(np.diff(y, axis=2, prepend=0.0), 0.0).sum(axis=(1, 2))
        check("one run per job", starts - 1.0)
        gpus = n.sum(axis=1)
        both = (gpus[:, 1:] > TOL) & (gpus[:, :-1] > TOL)
        check("constant GPUs during a run", np.abs(np.diff(gpus, axis=1)) * both)
        done = gpus.sum(axis=1) * scn.dt
        running_at_end = gpus[:, -1] > TOL
        stopped = (done > TOL) & (done < scn.work - TOL) & ~running_at_end
        check("no stop before the work is done", stopped.astype(float))
    return out


def evaluate(
    scn: GeoTrainingScenario, n: np.ndarray, y: np.ndarray | None = None, *, runs: bool = True
) -> GeoEvaluation:
    """Account a whole schedule slot by slot with `slot_terms`; add KPIs and violations
    (``runs=False`` for a fractional LP schedule, see `violations_of`)."""
    n = np.asarray(n, dtype=float)
    y = placement_of(n) if y is None else np.asarray(y, dtype=float)
    per = np.zeros((scn.T, len(TERMS)))
    zero = np.zeros((scn.J, scn.D))
    segments = np.zeros((scn.J, scn.D))
    for t in range(scn.T):
        n_prev, y_prev = (n[:, :, t - 1], y[:, :, t - 1]) if t else (zero, zero)
        ran = y[:, :, :t].sum(axis=(1, 2)) > TOL
        per[t] = slot_terms(scn, t, n[:, :, t], y[:, :, t], n_prev, y_prev, ran)
        segments += segment_starts(scn, n[:, :, t], y[:, :, t], n_prev, y_prev)
    tot = per.sum(axis=0)
    done = n.sum(axis=(1, 2)) * scn.dt
    finished = done >= scn.work - 1e-6
    slots = np.arange(scn.T)
    late_work = (n.sum(axis=1) * (slots[None, :] > scn.deadline[:, None])).sum(axis=1) * scn.dt
    energy = n.sum(axis=0) * scn.mwh_per_gpu_slot()[:, None]
    kpis = {
        "jobs": scn.J,
        "gpu_hours_done": float(done.sum()),
        "gpu_hours_requested": float(scn.work.sum()),
        "jobs_completed": int(finished.sum()),
        "jobs_completed_on_time": int((finished & (late_work <= 1e-9)).sum()),
        "gpu_utilization": float(done.sum() / max(scn.cap.sum() * scn.T * scn.dt, 1e-12)),
        "energy_mwh": float(energy.sum()),
        "carbon_t": float((energy * scn.carbon).sum()),
        "jobs_started": float((y.sum(axis=(1, 2)) > TOL).sum()),
        "segments": float(segments.sum()),
        "segments_away_from_home": float(
            (segments * (np.arange(scn.D)[None, :] != scn.home[:, None])).sum()
        ),
    }
    return GeoEvaluation(
        utility=utility_of(tot),
        terms={k: float(v) for k, v in zip(TERMS, tot, strict=True)},
        per_slot=per,
        kpis=kpis,
        violations=violations_of(scn, n, y, runs=runs),
    )
