"""Builder-neutral parameter arrays of a scenario (MODEL.md §2), derived once.

Every program builder (the Pyomo MILP, the array-built HiGHS program, the cvxpy convex
program, the MPC windows) and the accounting read data-center and pool parameters from
here instead of re-reading the pydantic model. Units are in the field names; per-slot
energies are already multiplied by the slot length Δ.

Also here: the one cohort-size function (one age convention, below) and the sparse
incidence and shift matrices the builders share.

Age convention: a cohort with arrival slot τ < 0 has been waiting ``age = −τ`` slots at
slot 0 of the horizon, and ``pending[a, k, age − 1]`` holds its jobs (ages 1 … W_max).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.index import Index


@dataclass(frozen=True)
class DataCenterArrays:
    """Per data center d (length D each); energies per slot in MWh (power × Δ)."""

    pue: np.ndarray
    grid_cap_mwh: np.ndarray  # inf where uncapped
    has_battery: np.ndarray  # bool
    charge_max_mwh: np.ndarray
    discharge_max_mwh: np.ndarray
    soc_min_mwh: np.ndarray
    soc_max_mwh: np.ndarray
    soc_initial_mwh: np.ndarray
    soc_terminal_mwh: np.ndarray
    eta_charge: np.ndarray  # 1 without a battery
    eta_discharge: np.ndarray  # 1 without a battery
    wear_usd_per_mwh: np.ndarray
    has_generator: np.ndarray  # bool: a generator with O^max > 0
    gen_min_mwh: np.ndarray
    gen_max_mwh: np.ndarray
    fuel_usd_per_mwh: np.ndarray
    gen_co2_t_per_mwh: np.ndarray
    startup_usd: np.ndarray
    gen_initially_on: np.ndarray  # 0/1

    @classmethod
    def of(cls, scn: Scenario) -> DataCenterArrays:
        dcs = scn.params.data_centers
        dt = scn.dt

        def bat(fn: Callable[[Any], float], default: float) -> np.ndarray:
            return np.array([fn(d.battery) if d.battery else default for d in dcs], dtype=float)

        def gen(fn: Callable[[Any], float], default: float) -> np.ndarray:
            return np.array([fn(d.generator) if d.generator else default for d in dcs], float)

        gen_max = gen(lambda g: g.max_mw * dt, 0.0)
        return cls(
            pue=np.array([d.pue for d in dcs], dtype=float),
            grid_cap_mwh=np.array(
                [np.inf if d.grid_cap_mw is None else d.grid_cap_mw * dt for d in dcs]
            ),
            has_battery=np.array([d.battery is not None for d in dcs]),
            charge_max_mwh=bat(lambda b: b.charge_mw * dt, 0.0),
            discharge_max_mwh=bat(lambda b: b.discharge_mw * dt, 0.0),
            soc_min_mwh=bat(lambda b: b.soc_min_mwh, 0.0),
            soc_max_mwh=bat(lambda b: b.capacity_mwh, 0.0),
            soc_initial_mwh=bat(lambda b: b.soc_initial_mwh, 0.0),
            soc_terminal_mwh=bat(lambda b: b.terminal_mwh, 0.0),
            eta_charge=bat(lambda b: b.eta_charge, 1.0),
            eta_discharge=bat(lambda b: b.eta_discharge, 1.0),
            wear_usd_per_mwh=bat(lambda b: b.wear_usd_per_mwh, 0.0),
            has_generator=gen_max > 0,
            gen_min_mwh=gen(lambda g: g.min_mw * dt, 0.0),
            gen_max_mwh=gen_max,
            fuel_usd_per_mwh=gen(lambda g: g.fuel_usd_per_mwh, 0.0),
            gen_co2_t_per_mwh=gen(lambda g: g.emission_t_per_mwh, 0.0),
            startup_usd=gen(lambda g: g.startup_usd, 0.0),
            gen_initially_on=gen(lambda g: 1.0 if g.initially_on else 0.0, 0.0),
        )


@dataclass(frozen=True)
class PoolArrays:
    """Per GPU pool b (one per ASP; length B each)."""

    gpus: np.ndarray  # G_b (float)
    idle_mwh_per_gpu_slot: np.ndarray  # P_b^idle · Δ / 1000
    dc: np.ndarray  # data center of the pool (int)
    gpu_seconds_per_slot: float  # 3600 · Δ, GPU time of one active GPU in a slot

    @classmethod
    def of(cls, scn: Scenario) -> PoolArrays:
        asps = scn.params.asps
        return cls(
            gpus=np.array([b.gpus for b in asps], dtype=float),
            idle_mwh_per_gpu_slot=np.array([b.idle_kw_per_gpu for b in asps]) * scn.dt / 1000.0,
            dc=scn.dc_of_asp,
            gpu_seconds_per_slot=3600.0 * scn.dt,
        )


def cohort_sizes(idx: Index, arrivals: np.ndarray, pending: np.ndarray | None = None) -> np.ndarray:
    """Jobs in each cohort of ``idx``: ``arrivals[a, k, τ]`` (A, K, T) for τ ≥ 0 and
    ``pending[a, k, age − 1]`` (A, K, W) for τ < 0 with age = −τ (module doc); 0 for ages
    beyond ``pending`` or without it."""
    out = np.zeros(idx.n_cohorts)
    inside = idx.ctau >= 0
    out[inside] = arrivals[idx.ca[inside], idx.ck[inside], idx.ctau[inside]]
    if pending is not None and (~inside).any():
        age = -idx.ctau[~inside]
        ok = age <= pending.shape[2]
        vals = np.zeros(age.size)
        vals[ok] = pending[idx.ca[~inside][ok], idx.ck[~inside][ok], age[ok] - 1]
        out[~inside] = vals
    return out


def term_coefficients(
    scn: Scenario, idx: Index, drop_weight: np.ndarray | None = None
) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The eight utility terms of MODEL.md §4 as (variable block, $ per unit) pairs, in the
    order of `highs_arrays.objective_terms`; U = revenue − the other seven.

    Blocks: ``x`` per service row ($/job), ``y`` per cohort ($/job, ρ_k × ``drop_weight``),
    and ``g``, ``o``, ``v``, ``ch``, ``dis`` per (d, t) flattened d·T + t ($/MWh, $/start).
    The ``g`` entries price the scenario's series; the Pyomo MILP keeps price and carbon
    intensity as mutable parameters instead and reads only the other blocks from here.
    """
    dc = DataCenterArrays.of(scn)
    sigma = scn.params.carbon_price_usd_per_t

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, scn.T)

    rho = scn.class_arrays["drop"][idx.ck]
    if drop_weight is not None:
        rho = rho * drop_weight
    return {
        "revenue": [("x", idx.revenue)],
        "delay_penalty": [("x", idx.delay)],
        "drop_penalty": [("y", rho)],
        "transfer_cost": [("x", idx.transfer)],
        "energy_cost": [("g", scn.price.ravel().astype(float))],
        "carbon_cost": [
            ("g", sigma * scn.carbon.ravel()),
            ("o", sigma * rep(dc.gen_co2_t_per_mwh)),
        ],
        "generator_cost": [("o", rep(dc.fuel_usd_per_mwh)), ("v", rep(dc.startup_usd))],
        "battery_wear": [("ch", rep(dc.wear_usd_per_mwh)), ("dis", rep(dc.wear_usd_per_mwh))],
    }


def drop_close_slot(idx: Index, scn: Scenario, horizon: int | None = None) -> np.ndarray:
    """Slot each cohort's drop penalty is booked in: min(τ + W_k, T − 1)."""
    T = scn.T if horizon is None else horizon
    return np.asarray(np.minimum(idx.cdeadline, T - 1))


def incidence(keys: np.ndarray, size: int, values: np.ndarray | None = None) -> sp.csr_array:
    """Sparse (size × len(keys)) matrix with ``values`` (default 1) at (keys[i], i):
    e.g. service rows → cohort, service rows → (pool, slot), pools → (data center, slot)."""
    vals = np.ones(keys.size) if values is None else np.asarray(values, dtype=float)
    return sp.csr_array((vals, (keys, np.arange(keys.size))), shape=(size, keys.size))


def previous_slot(D: int, T: int) -> sp.csr_array:
    """(D·T × D·T) shift over vectors flattened d·T + t: (P @ v)[d·T + t] = v[d·T + t − 1]
    for t ≥ 1 and 0 for t = 0 (state of charge / generator status t − 1 → t)."""
    rows = (np.arange(D)[:, None] * T + np.arange(1, T)[None, :]).ravel()
    return sp.csr_array((np.ones(rows.size), (rows, rows - 1)), shape=(D * T, D * T))


def pool_to_dc(scn: Scenario) -> sp.csr_array:
    """(D·T × B·T) incidence of pool-slots (b·T + t) in data-center-slots (d·T + t)."""
    T = scn.T
    keys = np.repeat(scn.dc_of_asp, T) * T + np.tile(np.arange(T), scn.A)
    return incidence(keys, scn.D * T)
