"""The ONE utility and feasibility check of aigc-opt (MODEL.md §4).

`slot_terms` computes the eight utility terms per slot from a schedule alone; every
solver, the simulator and the Gymnasium environment account utility through it.
`evaluate` adds the KPIs and checks every constraint of §4, returning violations with
their size. Nothing here trusts a solver's objective value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import DataCenterArrays, PoolArrays
from aigc_opt.formulations.schedule import JOB_COLUMNS, Schedule, startups

TERMS = (
    "revenue",
    "delay_penalty",
    "drop_penalty",
    "transfer_cost",
    "energy_cost",
    "carbon_cost",
    "generator_cost",
    "battery_wear",
)
"""Names of the utility terms; U = revenue − (the other seven)."""


def utility_of(terms: dict[str, float]) -> float:
    """U = revenue minus the seven cost terms ($)."""
    return float(terms["revenue"] - sum(terms[n] for n in TERMS[1:]))


@dataclass
class Violation:
    constraint: str
    index: str
    amount: float

    def as_dict(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "index": self.index, "amount": self.amount}


@dataclass
class Evaluation:
    """Result of `evaluate`: terms ($), utility ($), KPIs and violations."""

    terms: dict[str, float]
    utility: float
    kpis: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    per_slot: pd.DataFrame | None = None

    @property
    def feasible(self) -> bool:
        return not self.violations


def service_row_terms(
    scn: Scenario,
    a: np.ndarray,
    b: np.ndarray,
    k: np.ndarray,
    wait: np.ndarray,
    x: np.ndarray,
    quality: np.ndarray,
) -> dict[str, np.ndarray]:
    """$ per service row of the three job terms: ``revenue`` p_k·Q·x, ``delay_penalty``
    δ_k·(t − τ)·x (``wait`` = t − τ in slots) and ``transfer_cost`` c^tr_{a,b}·x. ``quality``
    is Q per row: Q_b(n_s) for a discrete level, Q_b(w/x) for the convex program's steps."""
    cls = scn.class_arrays
    tc = scn.transfer_cost[a, b]  # NaN (forbidden pair) counts 0
    return {
        "revenue": cls["price"][k] * quality * x,
        "delay_penalty": cls["delay"][k] * wait * x,
        "transfer_cost": np.where(np.isnan(tc), 0.0, tc) * x,
    }


def drop_penalties(scn: Scenario, drops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(slot, $)`` per nonzero entry of ``drops`` (A, K, T): ρ_k·y booked in the slot the
    cohort's wait window closes, min(τ + W_k, T − 1)."""
    cls = scn.class_arrays
    ai, ki, ti = np.nonzero(drops)
    close = np.minimum(ti + cls["wait"][ki], drops.shape[2] - 1)
    return close, cls["drop"][ki] * drops[ai, ki, ti]


def energy_slot_terms(
    scn: Scenario,
    grid: np.ndarray,
    generator: np.ndarray,
    startups: np.ndarray,
    charge: np.ndarray,
    discharge: np.ndarray,
    slots: np.ndarray,
    dc: DataCenterArrays | None = None,
) -> dict[str, np.ndarray]:
    """$ per slot (of ``slots``) of the four energy terms from (D, T) flows in MWh and
    start-ups: ``energy_cost`` π·g, ``carbon_cost`` σ·(κ·g + κ^gen·o), ``generator_cost``
    c^fuel·o + c^su·v, ``battery_wear`` c^deg·(ch + dis). ``dc``: the scenario's
    `DataCenterArrays` when the caller already has them."""
    dc = DataCenterArrays.of(scn) if dc is None else dc
    sigma = scn.params.carbon_price_usd_per_t
    g, o, v = grid[:, slots], generator[:, slots], startups[:, slots]
    return {
        "energy_cost": (scn.price[:, slots] * g).sum(0),
        "carbon_cost": sigma
        * (scn.carbon[:, slots] * g + dc.gen_co2_t_per_mwh[:, None] * o).sum(0),
        "generator_cost": (dc.fuel_usd_per_mwh[:, None] * o + dc.startup_usd[:, None] * v).sum(0),
        "battery_wear": (
            dc.wear_usd_per_mwh[:, None] * (charge[:, slots] + discharge[:, slots])
        ).sum(0),
    }


def book_slot_terms(
    T: int,
    slots: np.ndarray,
    row_slot: np.ndarray,
    rows: dict[str, np.ndarray],
    drops: tuple[np.ndarray, np.ndarray],
    energy: dict[str, np.ndarray],
) -> np.ndarray:
    """Assemble the (len(slots), 8) table in the order of `TERMS` from the named parts:
    per-row job terms booked in their serving slot ``row_slot``, drop penalties
    ``(slot, $)`` and per-slot energy terms. Entries outside ``slots`` are left out."""
    pos = np.full(T, -1)
    pos[slots] = np.arange(slots.size)
    out = np.zeros((slots.size, len(TERMS)))
    n = slots.size
    keep = pos[row_slot] >= 0
    at = pos[row_slot[keep]]
    for name, usd in rows.items():  # bincount adds in row order, as a loop would
        out[:, TERMS.index(name)] += np.bincount(at, usd[keep], minlength=n)
    close, usd = drops
    keep = pos[close] >= 0
    out[:, TERMS.index("drop_penalty")] += np.bincount(pos[close[keep]], usd[keep], minlength=n)
    for name, per_slot in energy.items():
        out[:, TERMS.index(name)] = per_slot
    return out


def slot_terms(scn: Scenario, sch: Schedule, slots: np.ndarray | None = None) -> np.ndarray:
    """Utility terms per slot, shape (len(slots), 8) in the order of `TERMS` ($).

    Job terms are booked in the slot a job is served; a cohort's drop penalty in the slot
    its wait window closes, min(τ + W_k, T − 1); energy terms in their slot.
    """
    j = sch.jobs
    rows = tuple(j[c].to_numpy(float if c == "x" else int) for c in JOB_COLUMNS)
    return slot_terms_rows(scn, rows, sch, slots)


def terms_static(scn: Scenario) -> DataCenterArrays:
    """What `slot_terms_rows` reads of the scenario besides its series (computed once by a
    caller that accounts many slots, e.g. the simulator)."""
    return DataCenterArrays.of(scn)


def slot_terms_rows(
    scn: Scenario,
    rows: tuple[np.ndarray, ...] | None,
    sch: Schedule,
    slots: np.ndarray | None = None,
    static: DataCenterArrays | None = None,
) -> np.ndarray:
    """`slot_terms` with the job rows given as arrays in the order of ``JOB_COLUMNS``
    (a, b, k, s, tau, t, x) instead of ``sch.jobs`` (which is not read): the simulator's
    per-slot path, free of DataFrames. ``static`` is `terms_static` of the scenario."""
    T = scn.T
    slots = np.arange(T) if slots is None else np.asarray(slots, dtype=int)
    if rows is None or not rows[0].size:
        empty = np.zeros(0, dtype=int)
        rows = (empty, empty, empty, empty, empty, empty, np.zeros(0))
    a, b, k, s, tau, t = (np.asarray(v, dtype=int) for v in rows[:6])
    x = np.asarray(rows[6], dtype=float)
    svc = service_row_terms(scn, a, b, k, t - tau, x, scn.quality[b, s])
    dc = DataCenterArrays.of(scn) if static is None else static
    ups = startups(sch.generator_on, dc.gen_initially_on)
    energy = energy_slot_terms(
        scn, sch.grid, sch.generator, ups, sch.charge, sch.discharge, slots, dc
    )
    return book_slot_terms(T, slots, t, svc, drop_penalties(scn, sch.drops), energy)


def it_energy_mwh(scn: Scenario, sch: Schedule) -> np.ndarray:
    """(B, T) IT energy E^IT_{b,t} in MWh: job energy plus idle power of active GPUs."""
    E = np.zeros((scn.A, scn.T))
    j = sch.jobs
    if len(j):
        b, k, s, t = (j[c].to_numpy(int) for c in ("b", "k", "s", "t"))
        np.add.at(E, (b, t), scn.job_kwh[b, k, s] * j["x"].to_numpy(float))
    return np.asarray(E / 1000.0 + sch.gpus * PoolArrays.of(scn).idle_mwh_per_gpu_slot[:, None])


def kpis(scn: Scenario, sch: Schedule) -> dict[str, Any]:
    """Energy by source (MWh), carbon (t), job counts, mean quality, mean wait (slots)."""
    j = sch.jobs
    x = j["x"].to_numpy(float) if len(j) else np.zeros(0)
    served = float(x.sum())
    transferred = float(x[(j["a"] != j["b"]).to_numpy()].sum()) if len(j) else 0.0
    if len(j) and served > 0:
        q = scn.quality[j["b"].to_numpy(int), j["s"].to_numpy(int)]
        mean_q = float((q * x).sum() / served)
        mean_wait = float(((j["t"] - j["tau"]).to_numpy() * x).sum() / served)
    else:
        mean_q = mean_wait = 0.0
    energy = energy_kpis(scn, it_energy_mwh(scn, sch), sch)
    steps = scn.params.steps
    by_level = {}
    if len(j):
        agg = pd.Series(x).groupby(j["s"].to_numpy(int)).sum()
        by_level = {str(steps[int(s)]): float(v) for s, v in agg.items()}
    return {
        "energy_mwh": energy["energy_mwh"],
        "carbon_t": energy["carbon_t"],
        "jobs_arrived": float(scn.arrivals.sum()),
        "jobs_served": served,
        "jobs_transferred": transferred,
        "jobs_dropped": float(sch.drops.sum()),
        "mean_quality": mean_q,
        "mean_wait_slots": mean_wait,
        "jobs_served_by_steps": by_level,
        "data_centers": energy["data_centers"],
    }


def energy_kpis(scn: Scenario, it: np.ndarray, flows: Any) -> dict[str, Any]:
    """Energy by source (MWh), carbon (t), in total and per data center.

    ``it`` (B, T) is the IT energy in MWh; ``flows`` is anything with (D, T) arrays
    ``grid, renewable, charge, discharge, generator`` in MWh (a `Schedule`, or the convex
    program's solution).
    """
    gen_co2 = DataCenterArrays.of(scn).gen_co2_t_per_mwh
    per_dc = {}
    for d, dcm in enumerate(scn.params.data_centers):
        mask = scn.dc_of_asp == d
        per_dc[dcm.name] = {
            "it_mwh": float(it[mask].sum()),
            "facility_mwh": float(it[mask].sum() * dcm.pue),
            "grid_mwh": float(flows.grid[d].sum()),
            "renewable_used_mwh": float(flows.renewable[d].sum()),
            "renewable_curtailed_mwh": float((scn.renewable[d] - flows.renewable[d]).sum()),
            "battery_charge_mwh": float(flows.charge[d].sum()),
            "battery_discharge_mwh": float(flows.discharge[d].sum()),
            "generator_mwh": float(flows.generator[d].sum()),
            "carbon_t": float(
                (scn.carbon[d] * flows.grid[d]).sum() + gen_co2[d] * flows.generator[d].sum()
            ),
        }
    return {
        "energy_mwh": {
            "grid": float(flows.grid.sum()),
            "renewable_used": float(flows.renewable.sum()),
            "renewable_curtailed": float((scn.renewable - flows.renewable).sum()),
            "battery_charge": float(flows.charge.sum()),
            "battery_discharge": float(flows.discharge.sum()),
            "generator": float(flows.generator.sum()),
            "it": float(it.sum()),
        },
        "carbon_t": float(
            (scn.carbon * flows.grid).sum() + (gen_co2[:, None] * flows.generator).sum()
        ),
        "data_centers": per_dc,
    }


class _Flags:
    """Collects violations: a row is violated when it misses by more than
    tol · max(1, |its scale|); at most 20 listed per constraint, then a summary line."""

    def __init__(self, tol: float):
        self.tol = tol
        self.out: list[Violation] = []

    def __call__(
        self, name: str, miss: np.ndarray, scale: Any, labels: Callable[[int], str]
    ) -> None:
        lim = self.tol * np.maximum(1.0, np.abs(scale))
        bad = np.flatnonzero(np.ravel(miss > lim))
        for i in bad[:20]:
            self.out.append(Violation(name, labels(i), float(np.ravel(miss)[i])))
        if bad.size > 20:
            self.out.append(Violation(name, f"... {bad.size - 20} more", float(np.max(miss))))


def _dt_label(shape: tuple[int, ...]) -> Callable[[int], str]:
    return lambda i: "d={}, t={}".format(*np.unravel_index(i, shape))


def check_service_rows(scn: Scenario, sch: Schedule, flag: _Flags) -> pd.DataFrame:
    """x ≥ 0, indices in range, admissible (b, k, s), allowed transfer, inside the wait
    window. Returns the rows with valid indices (for the families below)."""
    j = sch.jobs
    a, b, k, s, tau, t = (j[c].to_numpy(int) for c in ("a", "b", "k", "s", "tau", "t"))
    x = j["x"].to_numpy(float)

    def rows(i: int) -> str:
        return f"row {i} (a={a[i]}, b={b[i]}, k={k[i]}, s={s[i]}, tau={tau[i]}, t={t[i]})"

    flag("jobs_nonnegative", -x, 0.0, rows)
    T = scn.T
    bad = (a < 0) | (a >= scn.A) | (b < 0) | (b >= scn.A) | (k < 0) | (k >= scn.K)
    bad |= (s < 0) | (s >= scn.S) | (t < 0) | (t >= T) | (tau < 0) | (tau >= T)
    flag("index_range", bad.astype(float), 0.0, rows)
    ok = ~bad
    inadm = np.zeros(x.size, dtype=bool)
    forb = np.zeros(x.size, dtype=bool)
    outside = np.zeros(x.size, dtype=bool)
    inadm[ok] = ~scn.admissible[b[ok], k[ok], s[ok]]
    forb[ok] = np.isnan(scn.transfer_cost[a[ok], b[ok]])
    outside[ok] = (t[ok] < tau[ok]) | (t[ok] > tau[ok] + scn.class_arrays["wait"][k[ok]])
    flag("admissible_config", np.where(inadm, np.abs(x), 0.0), 0.0, rows)
    flag("transfer_allowed", np.where(forb, np.abs(x), 0.0), 0.0, rows)
    flag("wait_window", np.where(outside, np.abs(x), 0.0), 0.0, rows)
    return j.loc[ok]


def check_cohort_conservation(
    scn: Scenario, sch: Schedule, jobs: pd.DataFrame, flag: _Flags
) -> None:
    """(1) Σ_{b,s,t} x + y = λ per cohort, y ≥ 0."""
    served = np.zeros((scn.A, scn.K, scn.T))
    a, k, tau = (jobs[c].to_numpy(int) for c in ("a", "k", "tau"))
    np.add.at(served, (a, k, tau), jobs["x"].to_numpy(float))
    lam = scn.arrivals
    label = lambda i: "a={}, k={}, tau={}".format(*np.unravel_index(i, lam.shape))  # noqa: E731
    flag("cohort_conservation", np.abs(served + sch.drops - lam), lam, label)
    flag("drops_nonnegative", -sch.drops, 0.0, label)


def check_gpu_time(
    scn: Scenario, sch: Schedule, jobs: pd.DataFrame, flag: _Flags, relaxed: bool
) -> None:
    """(2) Σ x·τ ≤ 3600·Δ·n, 0 ≤ n ≤ G, n integer (unless relaxed)."""
    pools = PoolArrays.of(scn)
    need = np.zeros((scn.A, scn.T))
    b, k, s, t = (jobs[c].to_numpy(int) for c in ("b", "k", "s", "t"))
    np.add.at(need, (b, t), scn.gpu_seconds[b, k, s] * jobs["x"].to_numpy(float))
    cap = pools.gpu_seconds_per_slot * sch.gpus
    G = pools.gpus[:, None]
    bt = lambda i: "b={}, t={}".format(*np.unravel_index(i, sch.gpus.shape))  # noqa: E731
    flag("gpu_time", need - cap, cap, bt)
    flag("gpus_bounds", np.maximum(-sch.gpus, sch.gpus - G), G, bt)
    if not relaxed:
        flag("gpus_integer", np.abs(sch.gpus - np.round(sch.gpus)), 0.0, bt)


def check_power_balance(scn: Scenario, sch: Schedule, flag: _Flags) -> None:
    """(3–4) PUE·Σ_b E^IT = g + r + dis − ch + o; 0 ≤ g ≤ Ḡ·Δ."""
    dc, pools = DataCenterArrays.of(scn), PoolArrays.of(scn)
    load = np.zeros((scn.D, scn.T))
    np.add.at(load, pools.dc, it_energy_mwh(scn, sch))
    load *= dc.pue[:, None]
    supply = sch.grid + sch.renewable + sch.discharge - sch.charge + sch.generator
    label = _dt_label(load.shape)
    flag("power_balance", np.abs(load - supply), load, label)
    cap = dc.grid_cap_mwh[:, None]
    flag("grid_bounds", np.maximum(-sch.grid, sch.grid - cap), sch.grid, label)


def check_renewable_limit(scn: Scenario, sch: Schedule, flag: _Flags) -> None:
    """0 ≤ r ≤ R."""
    miss = np.maximum(-sch.renewable, sch.renewable - scn.renewable)
    flag("renewable_limit", miss, scn.renewable, _dt_label(sch.renewable.shape))


def check_battery(scn: Scenario, sch: Schedule, flag: _Flags, relaxed: bool) -> None:
    """(5) 0 ≤ ch ≤ P^ch·Δ, 0 ≤ dis ≤ P^dis·Δ, not both (unless relaxed: the mode z),
    S^min ≤ SoC ≤ S, SoC at the last slot ≥ e^end."""
    dc = DataCenterArrays.of(scn)
    label = _dt_label(sch.charge.shape)
    pch, pdis = dc.charge_max_mwh[:, None], dc.discharge_max_mwh[:, None]
    flag("battery_charge_bounds", np.maximum(-sch.charge, sch.charge - pch), pch, label)
    miss = np.maximum(-sch.discharge, sch.discharge - pdis)
    flag("battery_discharge_bounds", miss, pdis, label)
    if not relaxed:
        flag("battery_charge_mode", np.minimum(sch.charge, sch.discharge), 0.0, label)
    soc = sch.soc(scn)
    lo, hi = dc.soc_min_mwh[:, None], dc.soc_max_mwh[:, None]
    flag("battery_soc_bounds", np.maximum(lo - soc, soc - hi), hi, label)
    end = dc.soc_terminal_mwh
    flag("battery_terminal", end - soc[:, -1], end, lambda i: f"d={i}")


def check_generator(scn: Scenario, sch: Schedule, flag: _Flags, relaxed: bool) -> None:
    """(6) O^min·Δ·u ≤ o ≤ O^max·Δ·u, u ∈ [0, 1] (0 without a generator), u binary
    (unless relaxed). Start-ups are derived from u, so they need no check."""
    dc = DataCenterArrays.of(scn)
    u = sch.generator_on
    label = _dt_label(u.shape)
    omin, omax = dc.gen_min_mwh[:, None], dc.gen_max_mwh[:, None]
    flag("generator_min", omin * u - sch.generator, omin, label)
    flag("generator_max", sch.generator - omax * u, omax, label)
    flag("generator_status", np.maximum(-u, u - (omax > 0)), 0.0, label)
    if not relaxed:
        flag("generator_binary", np.abs(u - np.round(u)), 0.0, label)


def check_constraints(
    scn: Scenario, sch: Schedule, *, relaxed: bool = False, tol: float = 1e-6
) -> list[Violation]:
    """Every constraint of MODEL.md §4 checked on the schedule alone, one `check_<family>`
    per constraint family (names as in the builders).

    ``tol`` is relative: a row is violated when it misses by more than
    tol · max(1, |its scale|). ``relaxed`` skips integrality and the charge/discharge
    exclusivity (the LP relaxation's feasible set).
    """
    flag = _Flags(tol)
    jobs = check_service_rows(scn, sch, flag)
    check_cohort_conservation(scn, sch, jobs, flag)
    check_gpu_time(scn, sch, jobs, flag, relaxed)
    check_power_balance(scn, sch, flag)
    check_renewable_limit(scn, sch, flag)
    check_battery(scn, sch, flag, relaxed)
    check_generator(scn, sch, flag, relaxed)
    return flag.out


def evaluate(
    scn: Scenario, sch: Schedule, *, relaxed: bool = False, tol: float = 1e-6
) -> Evaluation:
    """Recompute every utility term and check every constraint from the schedule alone.

    Returns terms ($), U ($), KPIs and the list of violated constraints with their size
    (empty when feasible within ``tol``, relative to each row's scale).
    """
    per = slot_terms(scn, sch)
    terms = {n: float(per[:, i].sum()) for i, n in enumerate(TERMS)}
    frame = pd.DataFrame(per, columns=list(TERMS))
    frame.insert(0, "slot", np.arange(scn.T))
    frame["utility"] = frame["revenue"] - frame[list(TERMS[1:])].sum(axis=1)
    return Evaluation(
        terms=terms,
        utility=utility_of(terms),
        kpis=kpis(scn, sch),
        violations=check_constraints(scn, sch, relaxed=relaxed, tol=tol),
        per_slot=frame,
    )
