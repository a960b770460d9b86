"""Convex relaxation of the ``edge-offload`` MILP: continuous denoising steps
(docs/families/edge-offload.md, "Programs and bounds").

The discrete step level s of a task becomes a continuous step count n ∈ [n_lo, n_hi] (the
admissible levels' range for the device and server). Per (cohort, server, serving slot)
there are x tasks and a step mass m = x·n (perspective variables); a task's quality value
p·Q(n) becomes p·min(q_max x, α x ln(m/x) + c x) = p·min(q_max x, −α rel_entr(x, m) + c x),
concave; compute time τ⁰x + τ¹m, energy ε⁰x + ε¹m and delay are linear. Any LP-feasible
schedule maps to a feasible point here (x = Σ_s x_s, m = Σ_s n_s x_s) whose quality is at
least the LP's by concavity of Q (Jensen), and every other term is equal, so
U_convex ≥ U_LP ≥ U_MILP. Drops, host capacity and (with ``max_resident``) residency w ∈
[0, 1] and loads v are the MILP's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from aigc_opt.data.families.edge_offload import EdgeOffloadScenario
from aigc_opt.formulations.edge_offload import admissible, build_program, task_parts


@dataclass
class EdgeConvex:
    """The cvxpy problem and its variables; ``quality``, ``delay``, ``energy``, ``drops``,
    ``switching`` are the term expressions ($)."""

    problem: cp.Problem
    x: cp.Variable
    m: cp.Variable
    quality: cp.Expression
    delay: cp.Expression
    energy: cp.Expression
    drops: cp.Expression
    switching: cp.Expression


def _sparse(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]):
    return sp.csr_matrix((vals, (rows, cols)), shape=shape)


def build_convex(scn: EdgeOffloadScenario) -> EdgeConvex | None:
    """The relaxation over the whole horizon (module docstring); None when no task can be
    served at all (no link, no capacity-free server: every task is dropped)."""
    _, cells, cohorts = build_program(scn)  # the cells and cohorts of the MILP
    key = (cells.c * scn.E + cells.e) * scn.T + cells.t
    _, first = np.unique(key, return_index=True)
    first = first[scn.host_capacity_s[scn.host[cells.e[first]]] > 0]  # servers with GPUs
    c, u, e, t, tau = (a[first] for a in (cells.c, cells.u, cells.e, cells.t, cells.tau))
    K, C = len(first), len(cohorts)
    if K == 0:
        return None
    adm = admissible(scn)
    steps = np.where(adm, scn.steps[None, None, :], np.nan)
    n_lo, n_hi = np.nanmin(steps, axis=2)[u, e], np.nanmax(steps, axis=2)[u, e]
    sp_ = scn.spec
    srv = scn.spec.servers
    alpha = np.array([s.quality_alpha for s in srv])[e]
    qc = np.array([s.quality_c for s in srv])[e]
    qmax = np.array([s.quality_max for s in srv])[e]
    tau0 = np.array([s.gpu_seconds_fixed for s in srv])[e]
    tau1 = np.array([s.gpu_seconds_per_step for s in srv])[e]
    e0 = np.array([s.kwh_fixed for s in srv])[e]
    e1 = np.array([s.kwh_per_step for s in srv])[e]
    tx = task_parts(scn)["delay_s"][u, e, 0] - scn.gpu_s[e, 0]  # transmission delay (s)
    x, m = cp.Variable(K, nonneg=True), cp.Variable(K, nonneg=True)
    y = cp.Variable(C, nonneg=True)
    lam = scn.arrivals[cohorts[:, 0], cohorts[:, 1]] if C else np.zeros(0)  # (u, τ) rows
    cons = [m >= cp.multiply(n_lo, x), m <= cp.multiply(n_hi, x)]
    if C:
        cons.append(_sparse(c, np.arange(K), np.ones(K), (C, K)) @ x + y == lam)
    gpu_s = cp.multiply(tau0, x) + cp.multiply(tau1, m)
    R = scn.E * scn.T if scn.residency else 0
    host_rows = _sparse(scn.host[e] * scn.T + t, np.arange(K), np.ones(K), (scn.H * scn.T, K))
    cap = np.repeat(scn.host_capacity_s, scn.T)
    switching: cp.Expression = cp.Constant(0.0)
    if R:
        w, v = cp.Variable(R), cp.Variable(R, nonneg=True)
        ee, tt = np.repeat(np.arange(scn.E), scn.T), np.tile(np.arange(scn.T), scn.E)
        per_et = _sparse(e * scn.T + t, np.arange(K), np.ones(K), (R, K))
        on_host = _sparse(scn.host[ee] * scn.T + tt, np.arange(R), np.ones(R), (scn.H * scn.T, R))
        prev = np.where(tt > 0, np.arange(R) - 1, 0)
        before = np.where(tt == 0, scn.resident0[ee].astype(float), 0.0)
        lag = _sparse(np.flatnonzero(tt > 0), prev[tt > 0], np.ones(int((tt > 0).sum())), (R, R))
        cons += [
            w >= 0,
            w <= 1,
            v <= 1,
            host_rows @ gpu_s + on_host @ cp.multiply(scn.load_s[ee], v) <= cap,
            per_et @ gpu_s <= cp.multiply(scn.capacity_s[ee], w),
            on_host @ w <= float(sp_.max_resident or 0),
            w - lag @ w - v <= before,
        ]
        switching = sp_.energy_usd_per_kwh * (scn.load_kwh[ee] @ v)
    else:
        cons.append(host_rows @ gpu_s <= cap)
    q = cp.minimum(
        cp.multiply(qmax, x), cp.multiply(-alpha, cp.rel_entr(x, m)) + cp.multiply(qc, x)
    )
    quality = sp_.quality_usd * cp.sum(q)
    age_s = (t - tau) * sp_.slot_seconds
    delay = sp_.delay_usd_per_s * ((tx + tau0 + age_s) @ x + tau1 @ m)
    energy = sp_.energy_usd_per_kwh * (e0 @ x + e1 @ m)
    drops = sp_.drop_usd * cp.sum(y) if C else cp.Constant(0.0)  # every window closes
    problem = cp.Problem(cp.Maximize(quality - delay - energy - drops - switching), cons)
    return EdgeConvex(problem, x, m, quality, delay, energy, drops, switching)
