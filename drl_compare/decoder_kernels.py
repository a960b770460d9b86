"""Compiled loops of the action decoder (`aigc_opt.drl_compare.decoder`, whose module doc
states the rules): the rows an action requests, the battery and generator flows,
price-greedy's server order, and the two *fills*.

Requested rows arrive at a fill in priority order (fewest slots of wait left first, then
the higher-priced class). Both fills are first come, first served, so each row depends on
the capacity the rows before it left: a sequential loop. The loops are compiled with numba
(``cache=True``: the machine code is kept in the user's cache directory, see `_cache_dir`,
or in ``$NUMBA_CACHE_DIR`` when set, and reused by later processes); on arrays of a few
hundred entries they cost a few µs where numpy's per-call overhead cost tens.

Units: jobs (``x``), GPU-seconds (``gpu_left``, ``tau`` per job) and MWh of facility
energy (``e_left``, ``efac`` per job).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np


def _cache_dir() -> str:
    """Where the compiled code is kept: ``$XDG_CACHE_HOME/aigc-opt/numba`` (default
    ``~/.cache/…``), not ``__pycache__`` beside the installed source, which ``pip
    uninstall`` would leave behind (a leftover ``aigc_opt/`` folder of cache files then
    shadows a later editable install of the package)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "aigc-opt" / "numba")


if "numba" not in sys.modules:  # numba reads NUMBA_CACHE_DIR once, when first imported
    try:
        os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())
    except RuntimeError:  # no home directory: numba's own choice
        pass

from numba import njit  # noqa: E402

#: a row or a piece of a row below this many jobs is not served (round-off)
MIN_JOBS = 1e-9


@njit(cache=True)
def _first_come(group, use, cap, out):  # type: ignore[no-untyped-def]
    """Scale ``out`` to what each row keeps when the rows, in their given order, take
    ``cap[group]`` first come first served (``use`` per row): clip(capacity − use of
    earlier rows of its group, 0, its use) of its use."""
    total = np.zeros(cap.size)
    for i in range(use.size):
        total[group[i]] += use[i]
    if np.all(total <= cap):
        return
    before = np.zeros(cap.size)
    for i in range(use.size):
        gi, ui = group[i], use[i]
        if ui > 0:
            out[i] *= min(max(cap[gi] - before[gi], 0.0), ui) / ui
        before[gi] += ui


@njit(cache=True)
def fill_direct(  # type: ignore[no-untyped-def]
    pool, dc, gpu_use, e_per_job, x, gpu_left, e_left
):
    """Direct mode: the jobs each row keeps after two first-come-first-served cuts, rows in
    their given order: each pool's GPU time (``gpu_use`` GPU-s per row as requested), then
    each data center's energy (``e_per_job`` MWh per job, on the jobs left by the first
    cut)."""
    out = x.copy()
    _first_come(pool, gpu_use, gpu_left, out)
    _first_come(dc, e_per_job * out, e_left, out)
    return out


@njit(cache=True)
def fill_in_turn(  # type: ignore[no-untyped-def]
    a, k, g, b, x, servers, tau, efac, dc, gpu_left, e_left
):
    """Residual mode (price-greedy's rule): rows one at a time; a row on its default
    server (``servers[a, k, 0]``) tries the servers of (a, k) in price order (-1 ends
    them), the next when one is full; a row the action sent elsewhere tries only its
    server ``b``. At server c each takes min(jobs left, GPU time left / ``tau[c, k]``,
    energy left / ``efac[c, k]``). ``gpu_left`` and ``e_left`` are used up in place.

    Returns the served pieces (a, k, g, server, jobs) as five arrays."""
    n = x.size
    cap = n * servers.shape[2]
    out = np.empty((4, cap), np.int64)  # a, k, g, server
    ox = np.empty(cap)
    m = 0
    for i in range(n):
        ai, ki, bi = a[i], k[i], b[i]
        walk = bi == servers[ai, ki, 0]
        left = x[i]
        for j in range(servers.shape[2] if walk else 1):
            c = servers[ai, ki, j] if walk else bi
            if c < 0 or left <= 0:
                break
            t, e, d = tau[c, ki], efac[c, ki], dc[c]
            q = min(left, gpu_left[c] / t)
            if e > 0:
                q = min(q, e_left[d] / e)
            if q <= MIN_JOBS:
                continue
            out[0, m], out[1, m], out[2, m], out[3, m], ox[m] = ai, ki, g[i], c, q
            m += 1
            left -= q
            gpu_left[c] -= q * t
            e_left[d] -= q * e
    return out[0, :m], out[1, :m], out[2, :m], out[3, :m], ox[:m]


@njit(cache=True)
def price_order(tc, e_job, unit):  # type: ignore[no-untyped-def]
    """(A, K, B) servers of each (a, k) by price-greedy's cost ``tc[a, k, b] + unit[b] ·
    e_job[k, b]`` ($ per job; ``tc`` is inf where b is not allowed), cheapest first, ties
    by index (a stable sort): the allowed ones, then -1."""
    A, K, B = tc.shape
    out = np.full((A, K, B), -1, np.int64)
    cost = np.empty(B)
    for a in range(A):
        for k in range(K):
            for c in range(B):
                cost[c] = tc[a, k, c] + unit[c] * e_job[k, c]
            order = np.argsort(cost, kind="mergesort")  # stable; not allowed (inf) last
            for j in range(B):
                if cost[order[j]] == np.inf:
                    break
                out[a, k, j] = order[j]
    return out


@njit(cache=True)
def requested_rows(  # type: ignore[no-untyped-def]
    act, route_of, level_of, level_top, serve_of, servers, levels, pending, wait, perm, th, w_max
):
    """The rows an action requests, before the fill (the decoder's ``route``, ``level`` and
    ``serve`` parts; entry indices into ``act`` are -1 where a part has no entry).

    Server b of (a, k) weighs ``w_max`` · max(0, (u − θ) / (1 − θ)), its default
    ``servers[a, k, 0]`` 1 (its own entry, in residual mode, ignored); pool b runs class k
    at position round(max(0, (u − θ) / (1 − θ)) · ``level_top[b, k]``) of ``levels[b, k]``;
    cohort (a, k, age) asks for clip((u + 1) / (1 − θ), 0, 1) of ``pending`` — all of it
    at age ≥ ``wait[k]``. Rows (a, k, age, b, level, jobs) above 1e-12 jobs come in the
    static fill order ``perm`` of the flat (a, k, age, b) cells.

    Returns (a, k, age, b, level, jobs, the (B, K) levels, jobs requested)."""
    A, K, G = pending.shape
    B = servers.shape[2]
    share = np.zeros((A, K, B))
    for a in range(A):
        for k in range(K):
            c0 = servers[a, k, 0]
            if c0 < 0:
                continue
            tot = 0.0
            for b in range(B):
                i = route_of[a, k, b]
                if i >= 0 and b != c0:
                    share[a, k, b] = w_max * max(0.0, (act[i] - th) / (1.0 - th))
                    tot += share[a, k, b]
            share[a, k, c0] = 1.0
            for b in range(B):
                share[a, k, b] /= tot + 1.0
    level = np.empty((B, K), np.int64)
    for b in range(B):
        for k in range(K):
            i = level_of[b, k]
            pos = 0
            if i >= 0:
                pos = int(np.rint(max(0.0, (act[i] - th) / (1.0 - th)) * level_top[b, k]))
            level[b, k] = levels[b, k, pos]
    want = np.empty((A, K, G))
    requested = 0.0
    for a in range(A):
        for k in range(K):
            i = serve_of[a, k]
            f = 1.0 if i < 0 else min(max((act[i] + 1.0) / (1.0 - th), 0.0), 1.0)
            for g in range(G):
                want[a, k, g] = pending[a, k, g] * (1.0 if g >= wait[k] else f)
                requested += want[a, k, g]
    rows = np.empty((5, perm.size), np.int64)  # a, k, g, b, level
    rx = np.empty(perm.size)
    m = 0
    for cell in perm:
        b = cell % B
        g = cell // B % G
        k = cell // (B * G) % K
        a = cell // (B * G * K)
        q = want[a, k, g] * share[a, k, b]
        if q > 1e-12:
            rows[0, m], rows[1, m], rows[2, m], rows[3, m] = a, k, g, b
            rows[4, m], rx[m] = level[b, k], q
            m += 1
    r = rows[:, :m]
    return r[0], r[1], r[2], r[3], r[4], rx[:m], level, requested


@njit(cache=True)
def energy_flows(  # type: ignore[no-untyped-def]
    act,
    battery_of,
    generator_of,
    charge_max,
    discharge_max,
    charge_min,
    gen_min,
    gen_max,
    e_base,
    reserve,
    th,
):
    """Battery and generator decisions of each data center from the action (MWh) and the
    energy the fill may use, max(``e_base`` + discharge + generator − charge − ``reserve``, 0)
    MWh.

    A battery entry u > θ charges (u − θ) / (1 − θ) · ``charge_max``, u < −θ discharges
    likewise; the terminal floor ``charge_min`` always applies. A generator entry u > 1/2
    switches it on at ``gen_min`` + (2u − 1)(``gen_max`` − ``gen_min``).

    Returns (charge, discharge, generator, generator on, energy for the fill)."""
    D = e_base.size
    ch = np.zeros(D)
    dis = np.zeros(D)
    gen = np.zeros(D)
    on = np.zeros(D)
    e_left = np.empty(D)
    for d in range(D):
        i = battery_of[d]
        if i >= 0:
            u = act[i]
            amt = max(0.0, (abs(u) - th) / (1.0 - th))
            if u > 0:
                ch[d] = amt * charge_max[d]
            elif u < 0:
                dis[d] = amt * discharge_max[d]
        ch[d] = max(ch[d], charge_min[d])
        if charge_min[d] > 0:
            dis[d] = 0.0
        i = generator_of[d]
        if i >= 0 and act[i] > 0.5:
            on[d] = 1.0
            gen[d] = gen_min[d] + (2 * act[i] - 1) * (gen_max[d] - gen_min[d])
        e_left[d] = max(e_base[d] + dis[d] + gen[d] - ch[d] - reserve[d], 0.0)
    return ch, dis, gen, on, e_left
