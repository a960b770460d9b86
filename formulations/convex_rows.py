"""Service rows of the convex program: one per (cohort, server, slot) with continuous
steps, or one per step level (``discrete``), with their per-job coefficients in
physical units ($, GPU-seconds, kWh, steps). Builder-neutral: the program
(`aigc_opt.formulations.convex`) places them, the solver wrapper reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.index import Index

FORM_CODES = {"exp": 0, "log": 1, "table": 2}


@dataclass(frozen=True)
class ServiceRows:
    """Service rows of the convex program (length N each).

    ``a, b, k, tau, t, c`` index the row (c = cohort position in the `Index`); ``s`` is the
    step level for ``discrete`` rows and −1 otherwise. Per-job coefficients, physical
    units: ``price`` p_k ($ at quality 1), ``delay`` δ_k·(t − τ) ($), ``transfer`` c^tr_{a,b}
    ($), ``gpu_x`` / ``gpu_w`` (GPU-s per job / per job-step), ``kwh_x`` / ``kwh_w`` (kWh
    per job / per job-step above idle). ``n_lo`` / ``n_hi`` bound the steps of the row;
    ``quality`` is Q_b(n_s) (discrete rows only, else NaN). Continuous rows are ordered by
    the quality form of their server (exp, log, table); ``form`` holds its code.
    """

    discrete: bool
    a: np.ndarray
    b: np.ndarray
    k: np.ndarray
    s: np.ndarray
    tau: np.ndarray
    t: np.ndarray
    c: np.ndarray
    form: np.ndarray
    price: np.ndarray
    delay: np.ndarray
    transfer: np.ndarray
    gpu_x: np.ndarray
    gpu_w: np.ndarray
    kwh_x: np.ndarray
    kwh_w: np.ndarray
    n_lo: np.ndarray
    n_hi: np.ndarray
    quality: np.ndarray

    @property
    def n(self) -> int:
        return int(self.a.size)

    def form_slice(self, form: str) -> slice:
        """Contiguous block of continuous rows whose server has quality form ``form``."""
        code = FORM_CODES[form]
        lo = int(np.searchsorted(self.form, code, side="left"))
        hi = int(np.searchsorted(self.form, code, side="right"))
        return slice(lo, hi)


def min_steps(scn: Scenario) -> np.ndarray:
    """(B, K) n_lo(b, k) = max(n_min, n_k^min(b)) in steps; NaN when no level is admissible.

    Never above the smallest admissible step level, so every admissible discrete level
    lies in [n_lo, n_max] (the convex program relaxes the LP).
    """
    steps = scn.steps
    n_min, n_max = float(steps[0]), float(steps[-1])
    out = np.full((scn.A, scn.K), np.nan)
    for b, asp in enumerate(scn.params.asps):
        for k, cls in enumerate(scn.params.job_classes):
            adm = scn.admissible[b, k]
            if not adm.any():
                continue
            n = asp.quality.min_steps_for(cls.quality_floor, n_min, n_max)
            first = float(steps[np.flatnonzero(adm)[0]])
            out[b, k] = first if n is None else min(max(n, n_min), first)
    return out


def service_rows(scn: Scenario, idx: Index, *, discrete_levels: bool) -> ServiceRows:
    """Rows of the program built from the index (see `ServiceRows`)."""
    cls = scn.class_arrays
    coef = scn.job_figures  # (B, K) τ⁰, τ¹ (GPU-s) and e⁰, e¹ (kWh), work factor included
    form_of_b = np.array([FORM_CODES[b.quality.form] for b in scn.params.asps], dtype=int)
    if discrete_levels:
        n = scn.steps[idx.s]
        return ServiceRows(
            discrete=True,
            a=idx.a,
            b=idx.b,
            k=idx.k,
            s=idx.s,
            tau=idx.tau,
            t=idx.t,
            c=idx.c,
            form=form_of_b[idx.b],
            price=cls["price"][idx.k],
            delay=idx.delay,
            transfer=idx.transfer,
            gpu_x=idx.gpu_s,
            gpu_w=np.zeros(idx.n_rows),
            kwh_x=idx.kwh,
            kwh_w=np.zeros(idx.n_rows),
            n_lo=n,
            n_hi=n,
            quality=idx.quality,
        )
    # merge step levels: one row per (cohort, server, slot)
    key = (idx.c.astype(np.int64) * scn.A + idx.b) * scn.T + idx.t
    _, first = np.unique(key, return_index=True)
    order = first[np.argsort(form_of_b[idx.b[first]], kind="stable")]
    a, b, k, tau, t, c = (arr[order] for arr in (idx.a, idx.b, idx.k, idx.tau, idx.t, idx.c))
    n_lo = min_steps(scn)[b, k]
    N = order.size
    return ServiceRows(
        discrete=False,
        a=a,
        b=b,
        k=k,
        s=np.full(N, -1),
        tau=tau,
        t=t,
        c=c,
        form=form_of_b[b],
        price=cls["price"][k],
        delay=idx.delay[order],
        transfer=idx.transfer[order],
        gpu_x=coef["gpu0"][b, k],
        gpu_w=coef["gpu1"][b, k],
        kwh_x=coef["kwh0"][b, k],
        kwh_w=coef["kwh1"][b, k],
        n_lo=n_lo,
        n_hi=np.full(N, float(scn.steps[-1])),
        quality=np.full(N, np.nan),
    )
