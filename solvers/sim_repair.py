"""Repair rules R0–R6 of docs/simulator.md: map one slot's well-formed decisions to
feasible ones (``mode="repair"``) or reject them (``mode="strict"``).

`repair_decisions` is the only entry point; `aigc_opt.solvers.simulator` re-exports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.solvers.sim_types import (
    GPU_SNAP,
    TOL,
    DecisionError,
    Mode,
    Repair,
    ScenarioArrays,
    SlotDecisions,
    SlotLimits,
    slot_limits,
)


class _Log:
    def __init__(self, strict: bool):
        self.strict = strict
        self.items: list[Repair] = []

    def add(self, rule: str, where: str, amount: float) -> None:
        if self.strict:
            raise DecisionError(f"{rule} at {where}: off by {amount:.6g} (strict mode)")
        self.items.append(Repair(rule, where, float(amount)))


def _hits(mask: np.ndarray) -> list[int]:
    """Indices where a small boolean array is true (faster than numpy for a few entries)."""
    return [i for i, m in enumerate(mask.tolist()) if m]


def _vec(v: Any, n: int, name: str) -> np.ndarray | None:
    if v is None:
        return None
    arr = np.array(v, dtype=float).reshape(-1)  # a copy
    if arr.size != n:
        raise DecisionError(f"{name}: expected {n} values, got {arr.size}")
    if not np.isfinite(arr.sum()):
        raise DecisionError(f"{name}: values must be finite, got {arr.tolist()}")
    return arr


_FLOWS = ("grid", "renewable", "charge", "discharge", "generator", "generator_on")


def _flows(dec: SlotDecisions, D: int) -> dict[str, np.ndarray | None]:
    """The data-center flows of ``dec`` as float copies (None where not given), checked
    as `_vec` does; the given ones are converted in one array."""
    given = [f for f in _FLOWS if getattr(dec, f) is not None]
    out: dict[str, np.ndarray | None] = dict.fromkeys(_FLOWS)
    try:
        arr = np.array([getattr(dec, f) for f in given], dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (len(given), D) or not np.isfinite(arr.sum()):
        return {f: _vec(getattr(dec, f), D, f) for f in _FLOWS}  # names the bad field
    out.update(zip(given, arr, strict=True))
    return out


def repair_decisions(
    scn: Scenario,
    t: int,
    pending: np.ndarray,
    soc: np.ndarray,
    dec: SlotDecisions,
    *,
    mode: Mode = "repair",
    _st: ScenarioArrays | None = None,
    _lim: SlotLimits | None = None,
    _well_formed: bool = False,
) -> tuple[SlotDecisions, list[Repair]]:
    """Apply rules R0–R6 of docs/simulator.md to one slot's decisions.

    Parameters
    ----------
    scn : the episode's scenario (slot ``t`` data are read from it).
    t : slot of the episode.
    pending : (A, K, W_max + 1) jobs waiting by age at the start of slot t (arrivals of t
        at age 0).
    soc : (D,) MWh at the start of slot t.
    dec : the policy's decisions (not modified).
    mode : ``"repair"`` or ``"strict"`` (raise `DecisionError` on the first repair).

    Returns
    -------
    (decisions as applied, every field filled; list of `Repair`)

    ``_well_formed=True`` skips rule R0's checks for decisions known to pass them: the
    environment's action decoder builds its rows as int64 arrays from admissible,
    permitted, waiting cells, its flows as finite arrays of length D, and no pool
    counts. R1–R6 run as always; a test checks that both paths apply the same decisions
    to the decoder's output.
    """
    st = _st or ScenarioArrays.of(scn)
    log = _Log(mode == "strict")
    A, K, D, B = st.A, st.K, st.D, st.A
    # ---- R0: well-formed rows (always rejected otherwise) --------------------------------
    if _well_formed:  # the decoder's rows: R0 holds by construction
        a, b, k, s, tau, x, gpus, flows = _as_given(dec)
    else:
        a, b, k, s, tau, x, gpus, flows = _checked_r0(scn, st, t, dec)
    n = x.size
    age = t - tau
    # ---- R1: job counts ≥ 0 ----------------------------------------------------------------
    neg = x < 0
    if neg.any():
        if (x < -TOL).any():
            i = int(np.argmin(x))
            log.add("R1 jobs_nonnegative", f"row {i}", -x[i])
        x[neg] = 0.0
    # ---- R2: a cohort is served at most what it holds ---------------------------------------
    if n:
        cid = (a * K + k) * (st.Wmax + 1) + age
        served = np.bincount(cid, weights=x, minlength=A * K * (st.Wmax + 1))
        avail = pending.reshape(-1)
        over = served > avail + TOL * np.maximum(1.0, avail)
        if over.any():
            for c in _hits(over)[:20]:
                aa, kk, gg = np.unravel_index(c, pending.shape)
                log.add(
                    "R2 cohort_overserved", f"a={aa}, k={kk}, tau={t - gg}", served[c] - avail[c]
                )
            factor = np.ones_like(served)
            factor[over] = avail[over] / served[over]
            x *= factor[cid]
    # ---- R3: GPUs integer in [0, G_b], enough for the GPU time -------------------------------
    gpu_s = scn.gpu_seconds[b, k, s]
    need = np.bincount(b, weights=gpu_s * x, minlength=B)
    enough = np.ceil(need / st.slot_gpu_s - 1e-7)
    if gpus is None:
        gpus = np.minimum(enough, st.G)
    else:
        near = np.abs(gpus - np.round(gpus)) <= GPU_SNAP
        frac = ~near
        for bb in _hits(frac):
            log.add("R3 gpus_integer", f"b={bb}", np.ceil(gpus[bb]) - gpus[bb])
        gpus = np.where(near, np.round(gpus), np.ceil(gpus))
        out = (gpus < 0) | (gpus > st.G)
        for bb in _hits(out):
            log.add("R3 gpus_bounds", f"b={bb}", max(-gpus[bb], gpus[bb] - st.G[bb]))
        gpus = np.clip(gpus, 0.0, st.G)
        short = need > st.slot_gpu_s * gpus + TOL * np.maximum(1.0, st.slot_gpu_s * gpus)
        for bb in _hits(short):
            log.add("R3 gpus_activated", f"b={bb}", min(enough[bb], st.G[bb]) - gpus[bb])
        gpus = np.where(short, np.minimum(enough, st.G), gpus)
    cap_s = st.slot_gpu_s * gpus
    over_b = need > cap_s + TOL * np.maximum(1.0, cap_s)
    if over_b.any():
        for bb in _hits(over_b):
            log.add("R3 gpu_time_shed", f"b={bb}", need[bb] - cap_s[bb])
        f = np.ones(B)
        f[over_b] = cap_s[over_b] / need[over_b]
        x *= f[b]
        need = np.bincount(b, weights=gpu_s * x, minlength=B)

    # ---- R1 on energy flows ----------------------------------------------------------------
    lim = _lim if _lim is not None else slot_limits(scn, t, soc, _st=st)
    R = scn.renewable[:, t]

    def clip(name: str, v: np.ndarray | None, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        if v is None:
            return None
        miss = np.maximum(lo - v, v - hi)
        if max(miss.tolist()) <= 0:
            return v
        for d in _hits(miss > TOL * np.maximum(1.0, np.abs(hi))):
            log.add(f"R1 {name}_bounds", f"d={d}", miss[d])
        return np.where(miss > 0, np.clip(v, lo, hi), v)

    zero = np.zeros(D)
    ren = clip("renewable", flows["renewable"], zero, R)
    grid = flows["grid"]
    # ---- R4: battery ------------------------------------------------------------------------
    ch = np.zeros(D) if flows["charge"] is None else flows["charge"]
    dis = np.zeros(D) if flows["discharge"] is None else flows["discharge"]
    ch = clip("charge", ch, zero, st.pch)
    dis = clip("discharge", dis, zero, st.pdis)
    both = (ch > TOL) & (dis > TOL)
    if both.any():
        for d in _hits(both):
            log.add("R4 charge_xor_discharge", f"d={d}", min(ch[d], dis[d]))
        net = ch - dis
        ch = np.where(both, np.maximum(net, 0.0), ch)
        dis = np.where(both, np.maximum(-net, 0.0), dis)
    tol_s = TOL * np.maximum(1.0, st.smax)
    if (ch > lim.charge_max).any():
        for d in _hits(ch > lim.charge_max + tol_s):
            log.add("R4 soc_max", f"d={d}", ch[d] - lim.charge_max[d])
        ch = np.minimum(ch, np.maximum(lim.charge_max, 0.0))
    if (dis > lim.discharge_max).any():
        for d in _hits(dis > lim.discharge_max + tol_s):
            log.add("R4 soc_min_or_terminal", f"d={d}", dis[d] - lim.discharge_max[d])
        dis = np.minimum(dis, lim.discharge_max)
    forced = ch < lim.charge_min - tol_s
    if forced.any():
        for d in _hits(forced):
            log.add("R4 terminal_charge", f"d={d}", lim.charge_min[d] - ch[d])
        ch = np.where(forced, lim.charge_min, ch)
        dis = np.where(forced, 0.0, dis)
    # ---- R5: generator ------------------------------------------------------------------------
    has_gen = st.omax > 0
    o = np.zeros(D) if flows["generator"] is None else flows["generator"]
    u = flows["generator_on"]
    if u is None:
        u = (o > TOL).astype(float)
    else:
        rnd = np.where(u >= 0.5, 1.0, 0.0)
        off = np.abs(u - rnd) > TOL
        if off.any():
            for d in _hits(off):
                log.add("R5 generator_binary", f"d={d}", abs(u[d] - rnd[d]))
            u = np.where(off, rnd, u)
    absent = (u > 0) & ~has_gen
    if absent.any():
        for d in _hits(absent):
            log.add("R5 generator_absent", f"d={d}", u[d])
    u = np.where(has_gen, u, 0.0)
    o = clip("generator", o, st.omin * u, st.omax * u)

    # ---- R6: energy balance; grid is the slack ----------------------------------------------
    job_kwh = scn.job_kwh[b, k, s]
    dcb = st.dc_of[b] if n else np.zeros(0, dtype=int)

    def load_of(xv: np.ndarray, nv: np.ndarray) -> np.ndarray:
        e_jobs = np.bincount(dcb, weights=job_kwh * xv, minlength=D)
        e_idle = np.bincount(st.dc_of, weights=nv * st.idle_kw * scn.dt, minlength=D)
        return st.pue * (e_jobs + e_idle) / 1000.0

    load = load_of(x, gpus)
    ren_given = ren is not None
    if ren is None:
        ren = np.minimum(R, np.maximum(load + ch - dis - o, 0.0))
    g = load + ch - dis - o - ren
    scale = np.maximum(1.0, load)
    if grid is not None:
        balanced = np.abs(grid - g) <= TOL * scale
        for d in _hits(~balanced):
            log.add("R6 balance_grid_slack", f"d={d}", abs(grid[d] - g[d]))
        inside = balanced & (grid >= -TOL * scale) & (grid <= st.cap + TOL * scale)
        g = np.where(inside, grid, g)  # a balanced decision is kept exactly as given
    # one data center's repair changes only its own entries, so the check can run first
    off_balance = (g < -TOL * scale) | (g > st.cap + TOL * scale)
    for d in _hits(off_balance):
        if g[d] < -TOL * scale[d]:  # surplus: curtail, discharge less, generate less
            g = _surplus(d, g, ren, dis, o, u, st, log, ren_given)
        if g[d] > st.cap[d] + TOL * scale[d]:  # deficit beyond the grid cap
            g, x, gpus = _deficit(
                scn, st, d, g, ren, ch, dis, o, x, gpus, b, dcb, gpu_s, job_kwh, lim, R, log
            )
    applied = SlotDecisions(
        a=a,
        b=b,
        k=k,
        s=s,
        tau=tau,
        x=x,
        gpus=gpus,
        grid=g,
        renewable=ren,
        charge=ch,
        discharge=dis,
        generator=o,
        generator_on=u,
    )
    return applied, log.items


def _as_given(dec: SlotDecisions) -> tuple[Any, ...]:
    """Rows and flows of decisions that pass rule R0 by construction, as float copies
    where R1–R6 modify them (``x`` and the flows)."""
    x = np.array(dec.x, dtype=float)
    flows = {f: None if (v := getattr(dec, f)) is None else np.array(v) for f in _FLOWS}
    return dec.a, dec.b, dec.k, dec.s, dec.tau, x, None, flows


def _checked_r0(scn: Scenario, st: ScenarioArrays, t: int, dec: SlotDecisions) -> tuple[Any, ...]:
    """Rule R0: the service rows as int64 arrays and ``x`` as a float copy, the pool counts
    and the flows; raises `DecisionError` naming the first malformed row or field."""
    A, K, D, B = st.A, st.K, st.D, st.A
    try:
        a, b, k, s, tau = (np.asarray(v).reshape(-1) for v in (dec.a, dec.b, dec.k, dec.s, dec.tau))
        x = np.asarray(dec.x, dtype=float).reshape(-1).copy()
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"service rows: {exc}") from None
    n = x.size
    if not all(v.size == n for v in (a, b, k, s, tau)):
        raise DecisionError("service rows: a, b, k, s, tau, x must have the same length")
    for name, v in (("a", a), ("b", b), ("k", k), ("s", s), ("tau", tau)):
        if v.dtype.kind in "iub":
            continue
        if v.size and not np.all(np.equal(np.mod(v.astype(float), 1), 0)):
            raise DecisionError(f"service rows: {name} must be integers")
    a, b, k, s, tau = (np.asarray(v, dtype=np.int64) for v in (a, b, k, s, tau))
    if n and not np.isfinite(x.sum()):
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise DecisionError(f"service row {i}: x = {x[i]} is not finite")
    idx = np.stack((a, b, k, s))
    if n and (idx.min() < 0 or (idx.max(axis=1) >= (A, B, K, scn.S)).any()):
        bad = (a < 0) | (a >= A) | (b < 0) | (b >= B) | (k < 0) | (k >= K) | (s < 0) | (s >= scn.S)
        i = int(np.flatnonzero(bad)[0])
        raise DecisionError(
            f"service row {i}: index out of range (a={a[i]}, b={b[i]}, k={k[i]}, s={s[i]})"
        )
    age = t - tau
    outside = (age < 0) | (age > st.W[k]) | (tau < 0)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise DecisionError(
            f"service row {i}: cohort (a={a[i]}, k={k[i]}, tau={tau[i]}) is "
            f"not waiting in slot {t} (wait window {st.W[k[i]]} slots)"
        )
    inadm = ~scn.admissible[b, k, s]
    if inadm.any():
        i = int(np.flatnonzero(inadm)[0])
        raise DecisionError(
            f"service row {i}: (b={b[i]}, k={k[i]}, s={s[i]}) is not "
            "admissible (quality floor or empty pool)"
        )
    forb = np.isnan(scn.transfer_cost[a, b])
    if forb.any():
        i = int(np.flatnonzero(forb)[0])
        raise DecisionError(f"service row {i}: transfer {a[i]} -> {b[i]} is forbidden")
    gpus = _vec(dec.gpus, B, "gpus")
    flows = _flows(dec, D)
    return a, b, k, s, tau, x, gpus, flows


def _surplus(
    d: int,
    g: np.ndarray,
    ren: np.ndarray,
    dis: np.ndarray,
    o: np.ndarray,
    u: np.ndarray,
    st: ScenarioArrays,
    log: _Log,
    ren_given: bool,
) -> np.ndarray:
    """R6 surplus at data center d (supply above load + charge): discharge less, run the
    generator down to its minimum, curtail renewables, then switch the generator off.
    Arrays are modified in place; returns the grid import (≥ 0)."""
    short = -g[d]
    for name, arr, room in (
        ("R6 discharge_reduced", dis, dis[d]),
        ("R6 generator_reduced", o, o[d] - st.omin[d] * u[d]),
        ("R6 renewable_curtailed", ren, ren[d]),
    ):
        take = min(short, room)
        if take > 0:
            if name != "R6 renewable_curtailed" or ren_given:
                log.add(name, f"d={d}", take)
            arr[d] -= take
            short -= take
    if short > 0 and u[d] > 0:
        log.add("R6 generator_off", f"d={d}", o[d])
        short -= o[d]  # the load the generator covered now comes from the grid
        o[d] = 0.0
        u[d] = 0.0
    g[d] = max(-short, 0.0)
    return g


def _deficit(
    scn: Scenario,
    st: ScenarioArrays,
    d: int,
    g: np.ndarray,
    ren: np.ndarray,
    ch: np.ndarray,
    dis: np.ndarray,
    o: np.ndarray,
    x: np.ndarray,
    gpus: np.ndarray,
    b: np.ndarray,
    dcb: np.ndarray,
    gpu_s: np.ndarray,
    job_kwh: np.ndarray,
    lim: SlotLimits,
    R: np.ndarray,
    log: _Log,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R6 deficit at data center d (grid import above its cap): use all renewables, charge
    less (down to the terminal-forced charge), switch off idle GPUs, then serve the same
    fraction f of every job at the data center (largest f that fits, with GPUs rounded up
    for what remains); as a last resort charge below the forced amount."""
    excess = g[d] - st.cap[d]
    add = min(excess, R[d] - ren[d])
    if add > 0:
        log.add("R6 renewable_used", f"d={d}", add)
        ren[d] += add
        excess -= add
    cut = min(excess, ch[d] - lim.charge_min[d])
    if cut > 0:
        log.add("R6 charge_reduced", f"d={d}", cut)
        ch[d] -= cut
        excess -= cut
    fixed = ch[d] - dis[d] - o[d] - ren[d]  # MWh the grid supplies beyond the load
    budget = st.cap[d] - fixed  # facility load allowed (MWh)
    pools = np.flatnonzero(st.dc_of == d)
    rows = np.flatnonzero(dcb == d)
    need_b = np.bincount(b[rows], weights=gpu_s[rows] * x[rows], minlength=st.A)[pools]
    e_rows = job_kwh[rows] * x[rows]
    idle = st.idle_kw[pools] * scn.dt
    pue = st.pue[d]

    def load(f: float) -> tuple[float, np.ndarray]:
        n = np.minimum(gpus[pools], np.ceil(f * need_b / st.slot_gpu_s - 1e-7))
        return pue * (f * e_rows.sum() + (n * idle).sum()) / 1000.0, n

    cur, n1 = load(1.0)
    if excess > 0 and np.any(n1 < gpus[pools]):
        log.add("R6 idle_gpus_off", f"d={d}", float((gpus[pools] - n1).sum()))
        gpus[pools] = n1
    if excess > 0 and cur > budget:
        lo, hi = 0.0, 1.0
        if load(0.0)[0] > budget:
            hi = 0.0
        else:
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if load(mid)[0] <= budget:
                    lo = mid
                else:
                    hi = mid
        f = lo
        log.add("R6 service_shed", f"d={d}", float(x[rows].sum() * (1.0 - f)))
        x[rows] *= f
        gpus[pools] = load(f)[1]
    now = pue * ((job_kwh[rows] * x[rows]).sum() + (gpus[pools] * idle).sum()) / 1000.0
    g[d] = now + fixed
    if g[d] > st.cap[d] + TOL * max(1.0, now):  # the forced charge itself does not fit
        cut = min(g[d] - st.cap[d], ch[d])
        log.add("R6 terminal_charge_unreachable", f"d={d}", cut)
        ch[d] -= cut
        g[d] -= cut
    g[d] = max(g[d], 0.0)
    return g, x, gpus
