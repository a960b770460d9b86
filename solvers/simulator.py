"""Slot-by-slot simulator of MODEL.md: the one place where policies meet the model.

Every controller (oracle replay, MPC, heuristics, the Gymnasium environment and the
DRL policies it hosts) advances through a `Simulator` one slot at a time, with the
information of MODEL.md §6, and is judged by the utility of
`aigc_opt.formulations.accounting.slot_terms` -- the same function `evaluate` sums for
the oracle. Rules for repairing or rejecting decisions are in docs/simulator.md.

API
---
::

    sim = Simulator(scenario, mode="repair")       # or mode="strict"
    obs = sim.reset()                              # Observation of slot 0
    while not sim.done:
        dec = SlotDecisions(a=..., b=..., k=..., s=..., tau=..., x=...,
                            gpus=None, charge=..., discharge=..., generator=..., ...)
        step = sim.step(dec)       # StepResult: reward ($), terms, repairs, observation
        obs = step.observation     # None after the last slot
    sch = sim.schedule()           # the realized Schedule (accounting.evaluate accepts it)
    sim.evaluation()               # accounting.evaluate(scenario, sch)

`Observation` (slot t, before deciding): ``t``, ``T``, ``hour_of_day``, ``price`` (D,)
$/MWh, ``carbon`` (D,) tCO2/MWh, ``renewable`` (D,) MWh, ``arrivals`` (A, K) jobs of slot
t, ``pending`` (A, K, W_max + 1) jobs waiting by age (age 0 = arrived in slot t; a cohort
of class k is present for ages 0..W_k), ``soc`` (D,) MWh at the start of the slot,
``generator_on`` (D,) status of the previous slot, ``limits`` (`SlotLimits`: what the
slot allows, e.g. the battery's charge/discharge room) and ``forecast`` (optional
`aigc_opt.solvers.forecast.SeriesForecast` for slots t+1.., when the simulator was given a
forecaster).

`SlotDecisions` (one slot): service rows ``(a, b, k, s, tau, x)`` -- x ≥ 0 jobs of cohort
(a, k, τ) (τ = slot of arrival, t − W_k ≤ τ ≤ t) served by ASP b at step level s; job
counts are real-valued (the fluid model of the default program, MODEL.md §5); ``gpus``
(B,) active GPUs (None: just enough for the service); per data center, in MWh of the
slot: ``grid`` (None: the slack of the balance), ``renewable`` (None: renewables first),
``charge``, ``discharge``, ``generator`` (None: 0) and ``generator_on`` (None: on iff
generator > 0).

Repair (``mode="repair"``, the default) maps any well-formed decision to a feasible one
by the documented rules R1–R6 and lists what it changed in ``StepResult.repairs``;
``mode="strict"`` raises `DecisionError` instead of repairing. Malformed decisions
(wrong shapes, NaN, indices out of range, inadmissible (b, k, s), forbidden transfers,
cohorts outside their wait window) are always rejected with `DecisionError`.
`repair_decisions` applies the same rules without advancing (for decoders and policies
that want feasible decisions before stepping).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS, Evaluation, evaluate, slot_terms, utility_of
from aigc_opt.formulations.schedule import JOB_COLUMNS, Schedule

Mode = Literal["repair", "strict"]

#: Relative tolerance under which a decision counts as satisfying a constraint
#: (scaled by max(1, |row scale|), as in `accounting.check_constraints`).
TOL = 1e-6
#: GPU counts this close to an integer are snapped to it instead of rounded up.
GPU_SNAP = 1e-6


class DecisionError(ValueError):
    """A slot decision was rejected; ``str(err)`` says which rule and where."""


@dataclass
class Repair:
    """One change the simulator made to a decision (rule of docs/simulator.md)."""

    rule: str
    where: str
    amount: float

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "where": self.where, "amount": self.amount}


# ---------------------------------------------------------------------------------------
# decisions and observations
# ---------------------------------------------------------------------------------------
def _opt(v: np.ndarray | None) -> np.ndarray | None:
    return None if v is None else np.array(v, dtype=float, copy=True)


@dataclass
class SlotDecisions:
    """Decisions of one slot t (units: jobs, GPUs, MWh per slot).

    Service rows (length N): ``a`` origin ASP, ``b`` serving ASP, ``k`` class, ``s``
    step level, ``tau`` arrival slot of the cohort (absolute slot of the episode), ``x``
    jobs served (real ≥ 0). Pool and data-center arrays are optional; ``None`` means the
    default given in the module docstring.
    """

    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    k: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    s: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    tau: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=float))
    gpus: np.ndarray | None = None
    grid: np.ndarray | None = None
    renewable: np.ndarray | None = None
    charge: np.ndarray | None = None
    discharge: np.ndarray | None = None
    generator: np.ndarray | None = None
    generator_on: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return int(np.asarray(self.x).size)

    def copy(self) -> SlotDecisions:
        return SlotDecisions(
            a=np.array(self.a, dtype=int, copy=True),
            b=np.array(self.b, dtype=int, copy=True),
            k=np.array(self.k, dtype=int, copy=True),
            s=np.array(self.s, dtype=int, copy=True),
            tau=np.array(self.tau, dtype=int, copy=True),
            x=np.array(self.x, dtype=float, copy=True),
            gpus=_opt(self.gpus),
            grid=_opt(self.grid),
            renewable=_opt(self.renewable),
            charge=_opt(self.charge),
            discharge=_opt(self.discharge),
            generator=_opt(self.generator),
            generator_on=_opt(self.generator_on),
        )

    def rows_frame(self, t: int) -> pd.DataFrame:
        """Service rows as a Schedule jobs frame for slot ``t``."""
        n = self.n_rows
        return pd.DataFrame(
            {
                "a": np.asarray(self.a, dtype=np.int64),
                "b": np.asarray(self.b, dtype=np.int64),
                "k": np.asarray(self.k, dtype=np.int64),
                "s": np.asarray(self.s, dtype=np.int64),
                "tau": np.asarray(self.tau, dtype=np.int64),
                "t": np.full(n, t, dtype=np.int64),
                "x": np.asarray(self.x, dtype=float),
            },
            columns=JOB_COLUMNS,
        )

    @classmethod
    def from_schedule(cls, sch: Schedule, t: int) -> SlotDecisions:
        """Slot ``t`` of a schedule (e.g. the oracle's) as decisions, every field given."""
        j = sch.jobs
        sel = (j["t"].to_numpy(int) == t) if len(j) else np.zeros(0, dtype=bool)
        jt = j[sel] if len(j) else j
        return cls(
            a=jt["a"].to_numpy(int),
            b=jt["b"].to_numpy(int),
            k=jt["k"].to_numpy(int),
            s=jt["s"].to_numpy(int),
            tau=jt["tau"].to_numpy(int),
            x=jt["x"].to_numpy(float),
            gpus=sch.gpus[:, t].copy(),
            grid=sch.grid[:, t].copy(),
            renewable=sch.renewable[:, t].copy(),
            charge=sch.charge[:, t].copy(),
            discharge=sch.discharge[:, t].copy(),
            generator=sch.generator[:, t].copy(),
            generator_on=sch.generator_on[:, t].copy(),
        )


@dataclass(frozen=True)
class SlotLimits:
    """What slot t allows, per pool (B,) and data center (D,).

    ``gpu_seconds`` capacity of each pool at all GPUs on (GPU-s); ``grid_mwh`` import cap
    (inf when absent); ``charge_max`` / ``discharge_max`` battery room in MWh at the bus,
    from the power limits, the SoC bounds and the terminal-reachability floor (R4);
    ``charge_min`` charge forced by that floor (0 except near the end of a horizon);
    ``generator_min`` / ``generator_max`` output when on (MWh).
    """

    gpu_seconds: np.ndarray
    grid_mwh: np.ndarray
    charge_min: np.ndarray
    charge_max: np.ndarray
    discharge_max: np.ndarray
    generator_min: np.ndarray
    generator_max: np.ndarray


@dataclass(frozen=True)
class Observation:
    """What a policy sees at the start of slot t (see the module docstring for shapes)."""

    t: int
    T: int
    hour_of_day: float
    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    arrivals: np.ndarray
    pending: np.ndarray
    soc: np.ndarray
    generator_on: np.ndarray
    limits: SlotLimits
    forecast: Any | None = None

    @property
    def slots_left(self) -> int:
        """Slots from t to the end of the episode, t included."""
        return self.T - self.t


@dataclass
class StepResult:
    """Outcome of one `Simulator.step`.

    ``reward`` is the slot's utility ($) and ``terms`` its eight terms ($, names of
    `TERMS`); ``decisions`` are the decisions as applied (after repair);
    ``observation`` is the next slot's, or None when the episode is over.
    """

    observation: Observation | None
    reward: float
    terms: dict[str, float]
    done: bool
    repairs: list[Repair]
    decisions: SlotDecisions
    dropped: float = 0.0


# ---------------------------------------------------------------------------------------
# static data of a scenario, as arrays
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioArrays:
    """Static parameters of a scenario as arrays indexed by b, k or d (units of `Scenario`)."""

    A: int
    K: int
    D: int
    T: int
    W: np.ndarray  # (K,)
    Wmax: int
    G: np.ndarray  # (B,)
    idle_kw: np.ndarray  # (B,)
    dc_of: np.ndarray  # (B,)
    pue: np.ndarray  # (D,)
    cap: np.ndarray  # (D,) MWh/slot, inf = none
    pch: np.ndarray
    pdis: np.ndarray
    eta_c: np.ndarray
    eta_d: np.ndarray
    smin: np.ndarray
    smax: np.ndarray
    send: np.ndarray
    e0: np.ndarray
    omin: np.ndarray
    omax: np.ndarray
    u0: np.ndarray
    slot_gpu_s: float

    @classmethod
    def of(cls, scn: Scenario) -> ScenarioArrays:
        p = scn.params
        dcs = p.data_centers
        dt = scn.dt

        def bat(attr: str) -> np.ndarray:
            return np.array([float(getattr(d.battery, attr)) if d.battery else 0.0 for d in dcs])

        def gen(attr: str) -> np.ndarray:
            return np.array(
                [float(getattr(d.generator, attr)) if d.generator else 0.0 for d in dcs]
            )

        wait = scn.class_arrays["wait"]
        return cls(
            A=scn.A,
            K=scn.K,
            D=scn.D,
            T=scn.T,
            W=wait,
            Wmax=int(wait.max()),
            G=np.array([b.gpus for b in p.asps], dtype=float),
            idle_kw=np.array([b.idle_kw_per_gpu for b in p.asps], dtype=float),
            dc_of=scn.dc_of_asp,
            pue=np.array([d.pue for d in dcs], dtype=float),
            cap=np.array([np.inf if d.grid_cap_mw is None else d.grid_cap_mw * dt for d in dcs]),
            pch=bat("charge_mw") * dt,
            pdis=bat("discharge_mw") * dt,
            eta_c=np.array([d.battery.eta_charge if d.battery else 1.0 for d in dcs]),
            eta_d=np.array([d.battery.eta_discharge if d.battery else 1.0 for d in dcs]),
            smin=bat("soc_min_mwh"),
            smax=bat("capacity_mwh"),
            send=np.array([d.battery.terminal_mwh if d.battery else 0.0 for d in dcs]),
            e0=bat("soc_initial_mwh"),
            omin=gen("min_mw") * dt,
            omax=gen("max_mw") * dt,
            u0=np.array(
                [
                    1.0
                    if d.generator and d.generator.initially_on and d.generator.max_mw > 0
                    else 0.0
                    for d in dcs
                ]
            ),
            slot_gpu_s=3600.0 * dt,
        )


def slot_limits(
    scn: Scenario, t: int, soc: np.ndarray, *, _st: ScenarioArrays | None = None
) -> SlotLimits:
    """Limits of slot ``t`` given the SoC (D,) at its start (see `SlotLimits`)."""
    st = _st or ScenarioArrays.of(scn)
    floor = _soc_floor(st, t)
    room_up = np.maximum(st.smax - soc, 0.0) / st.eta_c
    ch_max = np.minimum(st.pch, room_up)
    ch_min = np.minimum(np.maximum(floor - soc, 0.0) / st.eta_c, ch_max)
    dis_max = np.minimum(st.pdis, np.maximum(soc - np.maximum(st.smin, floor), 0.0) * st.eta_d)
    return SlotLimits(
        gpu_seconds=st.G * st.slot_gpu_s,
        grid_mwh=st.cap.copy(),
        charge_min=ch_min,
        charge_max=ch_max,
        discharge_max=dis_max,
        generator_min=st.omin.copy(),
        generator_max=st.omax.copy(),
    )


def _soc_floor(st: ScenarioArrays, t: int) -> np.ndarray:
    """Lowest SoC at the end of slot t from which the terminal floor is still reachable."""
    return st.send - (st.T - 1 - t) * st.eta_c * st.pch


# ---------------------------------------------------------------------------------------
# repair
# ---------------------------------------------------------------------------------------
class _Log:
    def __init__(self, strict: bool):
        self.strict = strict
        self.items: list[Repair] = []

    def add(self, rule: str, where: str, amount: float) -> None:
        if self.strict:
            raise DecisionError(f"{rule} at {where}: off by {amount:.6g} (strict mode)")
        self.items.append(Repair(rule, where, float(amount)))


def _vec(v: Any, n: int, name: str) -> np.ndarray | None:
    if v is None:
        return None
    arr = np.asarray(v, dtype=float).reshape(-1)
    if arr.size != n:
        raise DecisionError(f"{name}: expected {n} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise DecisionError(f"{name}: values must be finite, got {arr.tolist()}")
    return arr.copy()


def repair_decisions(
    scn: Scenario,
    t: int,
    pending: np.ndarray,
    soc: np.ndarray,
    dec: SlotDecisions,
    *,
    mode: Mode = "repair",
    _st: ScenarioArrays | None = None,
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
    """
    st = _st or ScenarioArrays.of(scn)
    log = _Log(mode == "strict")
    A, K, D, B = st.A, st.K, st.D, st.A
    # ---- R0: well-formed rows (always rejected otherwise) --------------------------------
    try:
        a, b, k, s, tau = (np.asarray(v).reshape(-1) for v in (dec.a, dec.b, dec.k, dec.s, dec.tau))
        x = np.asarray(dec.x, dtype=float).reshape(-1).copy()
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"service rows: {exc}") from None
    n = x.size
    if not all(v.size == n for v in (a, b, k, s, tau)):
        raise DecisionError("service rows: a, b, k, s, tau, x must have the same length")
    for name, v in (("a", a), ("b", b), ("k", k), ("s", s), ("tau", tau)):
        if v.size and not np.all(np.equal(np.mod(v.astype(float), 1), 0)):
            raise DecisionError(f"service rows: {name} must be integers")
    a, b, k, s, tau = (v.astype(np.int64) for v in (a, b, k, s, tau))
    if not np.all(np.isfinite(x)):
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise DecisionError(f"service row {i}: x = {x[i]} is not finite")
    bad = (a < 0) | (a >= A) | (b < 0) | (b >= B) | (k < 0) | (k >= K) | (s < 0) | (s >= scn.S)
    if bad.any():
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
    flows = {
        f: _vec(getattr(dec, f), D, f)
        for f in ("grid", "renewable", "charge", "discharge", "generator", "generator_on")
    }

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
            for c in np.flatnonzero(over)[:20]:
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
        for bb in np.flatnonzero(frac):
            log.add("R3 gpus_integer", f"b={bb}", np.ceil(gpus[bb]) - gpus[bb])
        gpus = np.where(near, np.round(gpus), np.ceil(gpus))
        out = (gpus < 0) | (gpus > st.G)
        for bb in np.flatnonzero(out):
            log.add("R3 gpus_bounds", f"b={bb}", max(-gpus[bb], gpus[bb] - st.G[bb]))
        gpus = np.clip(gpus, 0.0, st.G)
        short = need > st.slot_gpu_s * gpus + TOL * np.maximum(1.0, st.slot_gpu_s * gpus)
        for bb in np.flatnonzero(short):
            log.add("R3 gpus_activated", f"b={bb}", min(enough[bb], st.G[bb]) - gpus[bb])
        gpus = np.where(short, np.minimum(enough, st.G), gpus)
    cap_s = st.slot_gpu_s * gpus
    over_b = need > cap_s + TOL * np.maximum(1.0, cap_s)
    if over_b.any():
        for bb in np.flatnonzero(over_b):
            log.add("R3 gpu_time_shed", f"b={bb}", need[bb] - cap_s[bb])
        f = np.ones(B)
        f[over_b] = cap_s[over_b] / need[over_b]
        x *= f[b]
        need = np.bincount(b, weights=gpu_s * x, minlength=B)

    # ---- R1 on energy flows ----------------------------------------------------------------
    lim = slot_limits(scn, t, soc, _st=st)
    R = scn.renewable[:, t]

    def clip(name: str, v: np.ndarray | None, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        if v is None:
            return None
        miss = np.maximum(lo - v, v - hi)
        for d in np.flatnonzero(miss > TOL * np.maximum(1.0, np.abs(hi))):
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
    for d in np.flatnonzero(both):
        log.add("R4 charge_xor_discharge", f"d={d}", min(ch[d], dis[d]))
    net = ch - dis
    ch = np.where(both, np.maximum(net, 0.0), ch)
    dis = np.where(both, np.maximum(-net, 0.0), dis)
    for d in np.flatnonzero(ch > lim.charge_max + TOL * np.maximum(1.0, st.smax)):
        log.add("R4 soc_max", f"d={d}", ch[d] - lim.charge_max[d])
    ch = np.minimum(ch, np.maximum(lim.charge_max, 0.0)) if np.any(ch > lim.charge_max) else ch
    for d in np.flatnonzero(dis > lim.discharge_max + TOL * np.maximum(1.0, st.smax)):
        log.add("R4 soc_min_or_terminal", f"d={d}", dis[d] - lim.discharge_max[d])
    dis = np.minimum(dis, lim.discharge_max) if np.any(dis > lim.discharge_max) else dis
    forced = ch < lim.charge_min - TOL * np.maximum(1.0, st.smax)
    for d in np.flatnonzero(forced):
        log.add("R4 terminal_charge", f"d={d}", lim.charge_min[d] - ch[d])
    if forced.any():
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
        for d in np.flatnonzero(np.abs(u - rnd) > TOL):
            log.add("R5 generator_binary", f"d={d}", abs(u[d] - rnd[d]))
        u = np.where(np.abs(u - rnd) > TOL, rnd, u)
    for d in np.flatnonzero((u > 0) & ~has_gen):
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
        for d in np.flatnonzero(~balanced):
            log.add("R6 balance_grid_slack", f"d={d}", abs(grid[d] - g[d]))
        inside = balanced & (grid >= -TOL * scale) & (grid <= st.cap + TOL * scale)
        g = np.where(inside, grid, g)  # a balanced decision is kept exactly as given
    for d in range(D):
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


# ---------------------------------------------------------------------------------------
# the simulator
# ---------------------------------------------------------------------------------------
class Simulator:
    """Advance a scenario one slot at a time (see the module docstring).

    Parameters
    ----------
    scenario : the episode (its whole horizon is the episode).
    mode : ``"repair"`` (default) or ``"strict"``.
    forecaster : optional forecaster (`aigc_opt.solvers.forecast`) whose forecast for the
        next ``forecast_slots`` slots is put in each observation.
    forecast_slots : length of that forecast (slots).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        mode: Mode = "repair",
        forecaster: Any = None,
        forecast_slots: int = 0,
        seed: int | None = None,
    ):
        if mode not in ("repair", "strict"):
            raise ValueError(f"mode must be 'repair' or 'strict', got {mode!r}")
        self.scenario = scenario
        self.mode: Mode = mode
        self.forecaster = forecaster
        self.forecast_slots = int(forecast_slots)
        self._seed = seed
        self._st = ScenarioArrays.of(scenario)
        t0 = scenario.slot_time(0)
        self._hours = (t0.hour + t0.minute / 60.0 + scenario.dt * np.arange(scenario.T)) % 24.0
        self._t = 0
        self._started = False

    # ---- state ------------------------------------------------------------------------------
    @property
    def t(self) -> int:
        """Current slot (the one the next `step` decides)."""
        return self._t

    @property
    def T(self) -> int:
        return self._st.T

    @property
    def done(self) -> bool:
        return self._started and self._t >= self._st.T

    @property
    def pending(self) -> np.ndarray:
        """(A, K, W_max + 1) jobs waiting by age at the start of the current slot."""
        return self._pending.copy()

    @property
    def soc(self) -> np.ndarray:
        return self._soc.copy()

    @property
    def generator_on(self) -> np.ndarray:
        return self._u.copy()

    @property
    def repairs(self) -> list[Repair]:
        """Every repair of the episode so far, with its slot in ``where``."""
        return list(self._repairs)

    def reset(self, seed: int | None = None) -> Observation:
        """Start the episode; returns the observation of slot 0."""
        st, scn = self._st, self.scenario
        self._t = 0
        self._started = True
        self._pending = np.zeros((st.A, st.K, st.Wmax + 1))
        self._pending[:, :, 0] = scn.arrivals[:, :, 0]
        self._soc = st.e0.copy()
        self._u = st.u0.copy()
        self._sch = Schedule.empty(scn)
        self._frames: list[pd.DataFrame] = []
        self._per_slot = np.zeros((st.T, len(TERMS)))
        self._repairs: list[Repair] = []
        if self.forecaster is not None and hasattr(self.forecaster, "reset"):
            self.forecaster.reset(scn, self._seed if seed is None else seed)
        return self.observation()

    def observation(self) -> Observation:
        """Observation of the current slot."""
        if not self._started:
            raise RuntimeError("call reset() first")
        if self.done:
            raise RuntimeError("the episode is over")
        t, scn, st = self._t, self.scenario, self._st
        fc = None
        if self.forecaster is not None and self.forecast_slots > 0:
            fc = self.forecaster(t, self.forecast_slots)
        hour = float(self._hours[t])
        return Observation(
            t=t,
            T=st.T,
            hour_of_day=hour,
            price=scn.price[:, t].copy(),
            carbon=scn.carbon[:, t].copy(),
            renewable=scn.renewable[:, t].copy(),
            arrivals=scn.arrivals[:, :, t].copy(),
            pending=self._pending.copy(),
            soc=self._soc.copy(),
            generator_on=self._u.copy(),
            limits=slot_limits(scn, t, self._soc, _st=st),
            forecast=fc,
        )

    def repair(self, dec: SlotDecisions) -> tuple[SlotDecisions, list[Repair]]:
        """Decisions the current slot would apply (rules R0–R6) without advancing."""
        return repair_decisions(
            self.scenario, self._t, self._pending, self._soc, dec, mode=self.mode, _st=self._st
        )

    def step(self, dec: SlotDecisions) -> StepResult:
        """Apply one slot of decisions, account it, drop expired jobs, advance to t + 1."""
        if not self._started:
            raise RuntimeError("call reset() first")
        if self.done:
            raise RuntimeError("the episode is over; call reset()")
        t, st, scn = self._t, self._st, self.scenario
        applied, repairs = self.repair(dec)
        for r in repairs:
            r.where = f"t={t}, {r.where}"
        self._repairs.extend(repairs)
        # record the slot
        sch = self._sch
        keep = applied.x > 0
        frame = applied.rows_frame(t)[keep] if applied.n_rows else applied.rows_frame(t)
        frame = frame.reset_index(drop=True)
        self._frames.append(frame)
        sch.gpus[:, t] = applied.gpus
        sch.grid[:, t] = applied.grid
        sch.renewable[:, t] = applied.renewable
        sch.charge[:, t] = applied.charge
        sch.discharge[:, t] = applied.discharge
        sch.generator[:, t] = applied.generator
        sch.generator_on[:, t] = applied.generator_on
        # serve, then drop what expires (wait window closes now, or the horizon ends)
        pend = self._pending
        if applied.n_rows:
            age = t - applied.tau
            np.subtract.at(pend, (applied.a, applied.k, age), applied.x)
        pend[np.abs(pend) < 1e-9] = 0.0
        np.maximum(pend, 0.0, out=pend)
        ages = np.arange(st.Wmax + 1)
        closing = (
            (ages[None, :] == st.W[:, None])
            if t < st.T - 1
            else np.ones((st.K, st.Wmax + 1), dtype=bool)
        )  # (K, ages)
        dropped = 0.0
        for kk, gg in zip(*np.nonzero(closing), strict=True):
            tau = t - gg
            if tau < 0:
                continue
            amt = pend[:, kk, gg]
            if amt.any():
                sch.drops[:, kk, tau] = amt
                dropped += float(amt.sum())
            pend[:, kk, gg] = 0.0
        # account the slot with the one utility function
        view = replace(sch, jobs=frame)
        row = slot_terms(scn, view, np.array([t]))[0]
        self._per_slot[t] = row
        terms = {name: float(v) for name, v in zip(TERMS, row, strict=True)}
        # state transition
        self._soc = self._soc + st.eta_c * applied.charge - applied.discharge / st.eta_d
        self._u = applied.generator_on.copy()
        self._t += 1
        if self._t < st.T:
            pend[:, :, 1:] = pend[:, :, :-1].copy()
            pend[:, :, 0] = scn.arrivals[:, :, self._t]
        obs = self.observation() if self._t < st.T else None
        return StepResult(
            observation=obs,
            reward=utility_of(terms),
            terms=terms,
            done=self._t >= st.T,
            repairs=repairs,
            decisions=applied,
            dropped=dropped,
        )

    # ---- results ----------------------------------------------------------------------------
    def schedule(self) -> Schedule:
        """The realized schedule so far (slots not yet played are zero)."""
        frames = [f for f in self._frames if len(f)]
        jobs = (
            pd.concat(frames, ignore_index=True) if frames else Schedule.empty(self.scenario).jobs
        )
        return replace(
            self._sch,
            jobs=jobs,
            drops=self._sch.drops.copy(),
            gpus=self._sch.gpus.copy(),
            grid=self._sch.grid.copy(),
            renewable=self._sch.renewable.copy(),
            charge=self._sch.charge.copy(),
            discharge=self._sch.discharge.copy(),
            generator=self._sch.generator.copy(),
            generator_on=self._sch.generator_on.copy(),
            meta={},
        )

    @property
    def per_slot_terms(self) -> np.ndarray:
        """(T, 8) utility terms per slot ($), as accounted at each step."""
        return self._per_slot.copy()

    def evaluation(self) -> Evaluation:
        """`accounting.evaluate` of the realized schedule (terms, U, KPIs, violations)."""
        return evaluate(self.scenario, self.schedule())
