"""Accounting and MILP of the ``edge-offload`` family (docs/families/edge-offload.md).

U = quality_value − delay_cost − energy_cost − drop_penalty ($). One task of device u served
by server e at step level s after waiting ``age`` slots contributes `task_values`:

    p · Q_e(n_s) − w · (B / r_{u,e} + age · Δ + τ_e(n_s)) − π · ε_e(n_s)

(transmission + queueing + compute delay in seconds; ε in kWh); a dropped task costs ρ.
`slot_terms` books a slot from these, and the MILP's objective is the same sum, so the
programs, the simulator and the environment share one accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aigc_opt.data.families.edge_offload import EdgeOffloadScenario
from aigc_opt.formulations.family_program import ArrayProgram, RowBuilder

TERMS = ("quality_value", "delay_cost", "energy_cost", "drop_penalty", "switching_cost")
REVENUE_TERM = "quality_value"


def admissible(scn: EdgeOffloadScenario) -> np.ndarray:
    """(U, E, S) bool: a link exists and the step level meets the quality floor."""
    ok_q = scn.quality >= scn.spec.quality_floor - 1e-9
    return (scn.rate > 0)[:, :, None] & ok_q[None, :, :]


def task_parts(scn: EdgeOffloadScenario) -> dict[str, np.ndarray]:
    """Per-task quality value, delay (s, without queueing) and energy cost, each (U, E, S)."""
    sp = scn.spec
    with np.errstate(divide="ignore"):
        tx = np.where(scn.rate > 0, sp.payload_mbit / np.where(scn.rate > 0, scn.rate, 1.0), np.inf)
    return {
        "quality": np.broadcast_to(sp.quality_usd * scn.quality[None], (scn.U, scn.E, scn.S)),
        "delay_s": tx[:, :, None] + scn.gpu_s[None],
        "energy": np.broadcast_to(sp.energy_usd_per_kwh * scn.kwh[None], (scn.U, scn.E, scn.S)),
    }


def loads_of(scn: EdgeOffloadScenario, resident: np.ndarray, before: np.ndarray) -> np.ndarray:
    """(E,) models loaded in a slot: residency ``resident`` (E,) rising over ``before``."""
    return np.maximum(np.asarray(resident, dtype=float) - np.asarray(before, dtype=float), 0.0)


def slot_terms(
    scn: EdgeOffloadScenario,
    served: np.ndarray,
    dropped: float,
    loads: np.ndarray | None = None,
) -> np.ndarray:
    """The five terms of one slot ($). ``served`` (U, E, S, W+1): tasks served this slot by
    age in slots; ``dropped``: tasks dropped in this slot; ``loads`` (E,): models loaded in
    this slot (model residency; each costs its load energy at π)."""
    parts = task_parts(scn)
    ages = np.arange(scn.W + 1) * scn.spec.slot_seconds
    x = np.where(admissible(scn)[..., None], served, 0.0)
    delay = (
        x * (np.where(np.isfinite(parts["delay_s"]), parts["delay_s"], 0)[..., None] + ages)
    ).sum()
    return np.array(
        [
            float((x.sum(axis=3) * parts["quality"]).sum()),
            float(scn.spec.delay_usd_per_s * delay),
            float((x.sum(axis=3) * parts["energy"]).sum()),
            float(scn.spec.drop_usd * dropped),
            0.0 if loads is None else float(scn.spec.energy_usd_per_kwh * scn.load_kwh @ loads),
        ]
    )


def utility_of(terms: np.ndarray) -> float:
    return float(terms[0] - terms[1:].sum())


@dataclass
class EdgeEvaluation:
    utility: float
    terms: dict[str, float]
    per_slot: np.ndarray
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)


def host_load(scn: EdgeOffloadScenario, served: np.ndarray, loads: np.ndarray) -> np.ndarray:
    """(H,) GPU-seconds a slot's serving (U, E, S, W+1) and model loads (E,) take per host."""
    per_entry = np.einsum("uesa,es->e", served, scn.gpu_s) + scn.load_s * loads
    return np.bincount(scn.host, weights=per_entry, minlength=scn.H)


def evaluate(
    scn: EdgeOffloadScenario,
    served: np.ndarray,
    dropped: np.ndarray,
    resident: np.ndarray | None = None,
) -> EdgeEvaluation:
    """Account a schedule: ``served`` (T, U, E, S, W+1) tasks by serving slot and age,
    ``dropped`` (T,) tasks dropped per slot, ``resident`` (T, E) model residency (default:
    every model always). Checks conservation, host capacity and, with residency, that a
    model serves only while resident and that a host holds at most M models."""
    res = np.ones((scn.T, scn.E)) if resident is None else np.asarray(resident, dtype=float)
    before = np.vstack([scn.resident0[None, :].astype(float), res[:-1]]) if scn.T else res
    loads = np.maximum(res - before, 0.0)
    per = np.array(
        [slot_terms(scn, served[t], float(dropped[t]), loads[t]) for t in range(scn.T)]
    ).reshape(scn.T, len(TERMS))
    tot = per.sum(axis=0) if scn.T else np.zeros(len(TERMS))
    out: list[dict[str, Any]] = []
    used = np.array([host_load(scn, served[t], loads[t]) for t in range(scn.T)])
    over = used - scn.host_capacity_s[None, :] if scn.T else np.zeros(1)
    if over.max(initial=0.0) > 1e-6:
        out.append({"constraint": "server capacity", "max_violation": float(over.max())})
    gpu_s = np.einsum("tuesa,es->te", served, scn.gpu_s)
    if (gpu_s * (res < 1e-9)).max(initial=0.0) > 1e-9:
        out.append({"constraint": "served by a resident model", "max_violation": 1.0})
    if scn.residency and scn.T:
        held = np.array([np.bincount(scn.host, weights=r, minlength=scn.H) for r in res])
        excess = held - float(scn.spec.max_resident or 0)
        if excess.max(initial=0.0) > 1e-6:
            out.append({"constraint": "max_resident", "max_violation": float(excess.max())})
    n_served = served.sum()
    total = scn.arrivals.sum()
    if abs(n_served + dropped.sum() - total) > 1e-6 * max(1.0, total):
        out.append(
            {
                "constraint": "every task served or dropped",
                "max_violation": float(abs(n_served + dropped.sum() - total)),
            }
        )
    if (served * ~admissible(scn)[None, ..., None] > 1e-9).any():
        out.append({"constraint": "admissible (link, quality floor)", "max_violation": 1.0})
    served_q = np.einsum("tuesa,es->", served, scn.quality)
    kpis = {
        "tasks": float(total),
        "served": float(n_served),
        "dropped": float(dropped.sum()),
        "mean_quality": float(served_q / n_served) if n_served else None,
        "mean_delay_s": float(tot[1] / scn.spec.delay_usd_per_s / n_served)
        if n_served and scn.spec.delay_usd_per_s > 0
        else None,
        "energy_kwh": float(np.einsum("tuesa,es->", served, scn.kwh)),
        "model_loads": float(loads.sum()),
    }
    return EdgeEvaluation(
        utility_of(tot), dict(zip(TERMS, map(float, tot), strict=True)), per, kpis, out
    )


@dataclass
class Cells:
    """Columns of x: (device u, server e, level s, arrival τ, serving slot t)."""

    c: np.ndarray  # cohort index (row of ``cohorts``)
    u: np.ndarray
    e: np.ndarray
    s: np.ndarray
    tau: np.ndarray
    t: np.ndarray


def build_program(
    scn: EdgeOffloadScenario,
    *,
    t0: int = 0,
    t1: int | None = None,
    pending: np.ndarray | None = None,
    resident0: np.ndarray | None = None,
) -> tuple[ArrayProgram, Cells, np.ndarray]:
    """The MILP over slots ``t0 … t1−1`` (default: the whole horizon from nothing pending):
    integer x per cell, continuous drops y per cohort (u, τ). Cohorts are the ``pending``
    tasks (U, W+1) by age at t0 (τ = t0 − age; default: the arrivals of t0) and the arrivals
    of t0+1 … t1−1. Rows: Σ x + y = λ per cohort; Σ τ_e(n_s) x (+ load GPU time) ≤ G_h Δ
    per (host h, t). With residency (``max_resident``): binary w_{e,t} (model e resident),
    continuous loads v_{e,t} ≥ w_{e,t} − w_{e,t−1} (``resident0`` before t0, default the
    scenario's), Σ τ x ≤ G Δ w per (e, t), Σ_{e on h} w ≤ M; each load costs π ε^load.
    A cohort whose window runs past t1−1 < T−1 is carried: its y costs nothing (MPC).
    Returns the program, the cells and the cohorts (rows of (u, τ, λ))."""
    t1 = scn.T if t1 is None else t1
    adm = admissible(scn)
    parts = task_parts(scn)
    base = parts["quality"] - scn.spec.delay_usd_per_s * parts["delay_s"] - parts["energy"]
    first = scn.arrivals[:, t0 : t0 + 1] if pending is None else pending
    cohort_list = [(u, t0 - a, first[u, a]) for u in range(scn.U) for a in range(first.shape[1])]
    cohort_list += [
        (u, tau, scn.arrivals[u, tau]) for tau in range(t0 + 1, t1) for u in range(scn.U)
    ]
    cohorts = np.array([c for c in cohort_list if c[2] > 0], dtype=float).reshape(-1, 3)
    rows = []
    for c, (u, tau, _) in enumerate(cohorts.astype(int)):
        for t in range(max(tau, t0), min(tau + scn.W, t1 - 1) + 1):
            e, s = np.nonzero(adm[u])
            rows.append(np.stack([np.full(e.shape, c), e, s, np.full(e.shape, t)], axis=1))
    a = np.concatenate(rows) if rows else np.zeros((0, 4), dtype=int)
    c_idx, e, s, t = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    K, C = len(a), len(cohorts)
    ci = cohorts[:, :2].astype(int)
    u, tau = (ci[c_idx, 0], ci[c_idx, 1]) if K else (c_idx, c_idx)
    lam = cohorts[:, 2]
    value = base[u, e, s] - scn.spec.delay_usd_per_s * (t - tau) * scn.spec.slot_seconds
    closes = (ci[:, 1] + scn.W <= t1 - 1) | (t1 >= scn.T)
    L = t1 - t0
    R = scn.E * L if scn.residency else 0  # residency w_{e,t} and loads v_{e,t}
    w0, v0 = K + C, K + C + R
    rb = RowBuilder(K + C + 2 * R)
    rb.add(np.r_[c_idx, np.arange(C)], np.r_[np.arange(K), K + np.arange(C)], 1.0, C, lam, lam)
    # host capacity: serving plus the GPU time of this slot's loads
    ee, tt = np.repeat(np.arange(scn.E), L), np.tile(np.arange(L), scn.E)  # (e, t − t0) of w, v
    rows_x = scn.host[e] * L + t - t0
    rows_v = scn.host[ee] * L + tt if R else np.zeros(0, dtype=int)
    rb.add(np.r_[rows_x, rows_v], np.r_[np.arange(K), v0 + np.arange(R)],
           np.r_[scn.gpu_s[e, s], scn.load_s[ee] if R else np.zeros(0)], scn.H * L, -np.inf,
           np.repeat(scn.host_capacity_s, L))  # fmt: skip
    if R:
        # a model serves only while resident: Σ τ x ≤ G Δ w_{e,t}
        rb.add(np.r_[e * L + t - t0, np.arange(R)], np.r_[np.arange(K), w0 + np.arange(R)],
               np.r_[scn.gpu_s[e, s], -scn.capacity_s[ee]], R, -np.inf, 0.0)  # fmt: skip
        # at most M models per host
        rb.add(scn.host[ee] * L + tt, w0 + np.arange(R), 1.0, scn.H * L, -np.inf,
               float(scn.spec.max_resident or 0))  # fmt: skip
        # loads: w_{e,t} − w_{e,t−1} − v_{e,t} ≤ 0 (before t0: ``resident0``)
        prev = np.where(tt > 0, w0 + np.arange(R) - 1, -1)
        has = prev >= 0
        before = scn.resident0 if resident0 is None else np.asarray(resident0, dtype=float)
        rb.add(np.r_[np.arange(R), np.arange(R), np.flatnonzero(has)],
               np.r_[w0 + np.arange(R), v0 + np.arange(R), prev[has]],
               np.r_[np.ones(R), -np.ones(R), -np.ones(int(has.sum()))], R, -np.inf,
               np.where(tt == 0, before[ee], 0.0))  # fmt: skip
    A, lo, hi = rb.matrix()
    load_usd = scn.spec.energy_usd_per_kwh * scn.load_kwh[ee] if R else np.zeros(0)
    prog = ArrayProgram(
        c=np.r_[value, -scn.spec.drop_usd * closes, np.zeros(R), -load_usd],
        A=A,
        row_lo=lo,
        row_hi=hi,
        col_lo=np.zeros(K + C + 2 * R),
        col_hi=np.r_[lam[c_idx], lam, np.ones(2 * R)],
        integer=np.r_[
            np.ones(K, dtype=bool),
            np.zeros(C, dtype=bool),
            np.ones(R, dtype=bool),
            np.zeros(R, dtype=bool),
        ],  # fmt: skip
        blocks={"x": slice(0, K), "y": slice(K, K + C), "w": slice(w0, v0), "v": slice(v0, v0 + R)},
    )
    return prog, Cells(c_idx, u, e, s, tau, t), ci


def schedule_from(
    scn: EdgeOffloadScenario,
    prog: ArrayProgram,
    cells: Cells,
    cohorts: np.ndarray,
    x: np.ndarray,
    *,
    integral: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``served`` (T, U, E, S, W+1), ``dropped`` (T,) and ``resident`` (T, E) of a solution
    over the whole horizon; a cohort's drops are booked in the slot its window closes,
    min(τ + W, T − 1)."""
    xs, ys = prog.block(x, "x"), prog.block(x, "y")
    if integral:  # whole tasks; the drops are what is left of each cohort
        xs = np.round(xs)
        lam = scn.arrivals[cohorts[:, 0], cohorts[:, 1]] if len(cohorts) else np.zeros(0)
        ys = lam - np.bincount(cells.c, weights=xs, minlength=len(cohorts))
    served = np.zeros((scn.T, scn.U, scn.E, scn.S, scn.W + 1))
    np.add.at(served, (cells.t, cells.u, cells.e, cells.s, cells.t - cells.tau), xs)
    dropped = np.zeros(scn.T)
    if len(cohorts):
        np.add.at(dropped, np.minimum(cohorts[:, 1] + scn.W, scn.T - 1), ys)
    resident = np.ones((scn.T, scn.E))
    if scn.residency:
        w = prog.block(x, "w").reshape(scn.E, scn.T).T
        resident = np.round(w) if integral else w
    return served, dropped, resident
