"""Admissible index sets shared by every program builder (MILP, LP, convex, MPC windows).

A *cohort* c = (a, k, τ) is the set of class-k jobs that arrived at ASP a in slot τ.
Slots are relative to the horizon: τ ≥ 0 for arrivals inside it; τ < 0 for jobs already
pending at its start (their age is −τ), which only MPC windows and the simulator use.

A *service* row i = (a, b, k, s, τ, t) exists only when
  * the pair (a, b) is not forbidden (transfer cost not NaN),
  * (b, k, s) is admissible (Q_b(n_s) ≥ q_k^min − 1e-9, pool has GPUs),
  * max(τ, 0) ≤ t ≤ min(τ + W_k, T − 1) (inside the cohort's wait window).

Everything is built with numpy; rows carry their coefficients so builders only sum them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario


@dataclass(frozen=True)
class Index:
    """Cohorts and service rows of one program.

    Cohort arrays (length C): ``ca, ck, ctau`` (origin, class, arrival slot) and
    ``cdeadline`` = τ + W_k (may exceed T − 1).
    Row arrays (length N): ``a, b, k, s, tau, t, c`` (c = cohort position) and coefficients
    ``revenue`` ($/job), ``delay`` ($/job), ``transfer`` ($/job), ``gpu_s`` (GPU-s/job),
    ``kwh`` (kWh/job above idle), ``quality`` (Q), ``wait`` (slots).
    """

    T: int
    ca: np.ndarray
    ck: np.ndarray
    ctau: np.ndarray
    cdeadline: np.ndarray
    a: np.ndarray
    b: np.ndarray
    k: np.ndarray
    s: np.ndarray
    tau: np.ndarray
    t: np.ndarray
    c: np.ndarray
    revenue: np.ndarray
    delay: np.ndarray
    transfer: np.ndarray
    gpu_s: np.ndarray
    kwh: np.ndarray
    quality: np.ndarray
    wait: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.a.size)

    @property
    def n_cohorts(self) -> int:
        return int(self.ca.size)

    def rows_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"a": self.a, "b": self.b, "k": self.k, "s": self.s, "tau": self.tau, "t": self.t}
        )

    def cohort_of(self, a: int, k: int, tau: int) -> int:
        hit = np.flatnonzero((self.ca == a) & (self.ck == k) & (self.ctau == tau))
        return int(hit[0]) if hit.size else -1


def cohorts(
    scn: Scenario, *, min_tau: int = 0, skip_empty: bool = True, pending: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cohort arrays (a, k, τ) for τ in [min_tau, T − 1].

    With ``skip_empty`` cohorts with no jobs (arrivals, or ``pending[a, k, age−1]`` for
    τ < 0) are left out; they need no variables.
    """
    A, K, T = scn.A, scn.K, scn.T
    wait = scn.class_arrays["wait"]
    grid = np.meshgrid(np.arange(A), np.arange(K), np.arange(min_tau, T), indexing="ij")
    a, k, tau = (g.ravel() for g in grid)
    keep = tau + wait[k] >= 0  # a pending cohort whose window is over has nothing left
    if skip_empty:
        amount = np.zeros(a.size)
        inside = tau >= 0
        amount[inside] = scn.arrivals[a[inside], k[inside], tau[inside]]
        if pending is not None and (~inside).any():
            age = -tau[~inside]
            ok = age <= pending.shape[2]
            vals = np.zeros(age.size)
            vals[ok] = pending[a[~inside][ok], k[~inside][ok], age[ok] - 1]
            amount[~inside] = vals
        keep &= amount > 0
    return a[keep], k[keep], tau[keep]


def build_index(
    scn: Scenario,
    *,
    skip_empty: bool = True,
    pending: np.ndarray | None = None,
    min_tau: int | None = None,
) -> Index:
    """Enumerate cohorts and admissible service rows of a scenario (see module doc).

    ``pending`` (A, K, W_max) holds jobs already waiting at slot 0, by age 1..W_max
    (``pending[a, k, j]`` arrived j + 1 slots before slot 0). ``min_tau`` defaults to −W_max
    when ``pending`` is given, else 0.
    """
    wait = scn.class_arrays["wait"]
    if min_tau is None:
        min_tau = -int(wait.max()) if pending is not None else 0
    ca, ck, ctau = cohorts(scn, min_tau=min_tau, skip_empty=skip_empty, pending=pending)
    T = scn.T
    # candidate (cohort, server b, level s) triples
    adm = scn.admissible  # (B, K, S)
    allowed = ~np.isnan(scn.transfer_cost)  # (A, B)
    ok = allowed[ca][:, :, None] & adm[:, ck, :].transpose(1, 0, 2)  # (C, B, S)
    ci, bi, si = np.nonzero(ok)
    # expand over service slots t in [max(τ,0), min(τ+W_k, T−1)]
    t_lo = np.maximum(ctau[ci], 0)
    t_hi = np.minimum(ctau[ci] + wait[ck[ci]], T - 1)
    n_t = np.maximum(t_hi - t_lo + 1, 0)
    rep = np.repeat(np.arange(ci.size), n_t)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(n_t) - n_t, n_t)
    c = ci[rep]
    b = bi[rep]
    s = si[rep]
    t = t_lo[rep] + offs
    a, k, tau = ca[c], ck[c], ctau[c]
    cls = scn.class_arrays
    quality = scn.quality[b, s]
    w = t - tau
    return Index(
        T=T,
        ca=ca,
        ck=ck,
        ctau=ctau,
        cdeadline=ctau + wait[ck],
        a=a,
        b=b,
        k=k,
        s=s,
        tau=tau,
        t=t,
        c=c,
        revenue=cls["price"][k] * quality,
        delay=cls["delay"][k] * w,
        transfer=scn.transfer_cost[a, b],
        gpu_s=scn.gpu_seconds[b, k, s],
        kwh=scn.job_kwh[b, k, s],
        quality=quality,
        wait=w,
    )
