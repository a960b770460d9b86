"""The MILP of MODEL.md §3–4 in Pyomo, written once; the LP relaxation by a switch.

One function per constraint family, named after it. Time series, cohort sizes and the
initial state enter as *mutable* Pyomo Params so that an MPC window built once can be
re-solved with new data through a persistent solver interface.

Integrality (MODEL.md §5):
  * ``relax=True``: the LP relaxation (every variable continuous).
  * default: GPUs n, battery mode z and generator status u integer; job counts x, y
    continuous. This relaxes the exact program, so its optimum and best bound are valid
    upper bounds for every policy, and it is what the simulator's fluid job model
    realises exactly (docs/model.md, "Job counts").
  * ``integer_jobs=True``: the exact program with x, y ∈ ℤ₊ too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.arrays import (
    DataCenterArrays,
    PoolArrays,
    cohort_sizes,
    term_coefficients,
)
from aigc_opt.formulations.index import Index, build_index


@dataclass
class Program:
    """A built Pyomo model with the index it was built on and the switches used."""

    model: pyo.ConcreteModel
    index: Index
    scenario: Scenario
    relax: bool
    integer_jobs: bool
    window: bool
    meta: dict[str, Any] = field(default_factory=dict)


def _linear(coefs: Any, vars_: Any, constant: float = 0.0) -> Any:
    return LinearExpression(constant=constant, linear_coefs=list(coefs), linear_vars=list(vars_))


def _where(m: pyo.ConcreteModel, has: np.ndarray, rule: Any) -> pyo.Constraint:
    """A constraint over (d, t) built by ``rule`` at the data centers where ``has[d]``."""
    return pyo.Constraint(
        m.D, m.T, rule=lambda m, d, t: rule(m, d, t) if has[d] else pyo.Constraint.Skip
    )


def _groups(keys: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Unique keys and, for each, the positions holding it."""
    if keys.size == 0:
        return np.zeros(0, dtype=keys.dtype), []
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    return uniq, np.split(order, starts[1:])


# ---------------------------------------------------------------------------------------
# variables
# ---------------------------------------------------------------------------------------
def add_variables(
    m: pyo.ConcreteModel, scn: Scenario, idx: Index, *, relax: bool, integer_jobs: bool
) -> None:
    """x (service), y (drops), n (GPUs), energy flows, battery mode z, generator u, v."""
    dc, pools = DataCenterArrays.of(scn), PoolArrays.of(scn)
    T, D, B = scn.T, scn.D, scn.A
    job_dom = pyo.NonNegativeIntegers if (integer_jobs and not relax) else pyo.NonNegativeReals
    m.X = pyo.RangeSet(0, idx.n_rows - 1) if idx.n_rows else pyo.Set(initialize=[])
    m.C = pyo.RangeSet(0, idx.n_cohorts - 1) if idx.n_cohorts else pyo.Set(initialize=[])
    m.T = pyo.RangeSet(0, T - 1)
    m.D = pyo.RangeSet(0, D - 1)
    m.B = pyo.RangeSet(0, B - 1)
    m.x = pyo.Var(m.X, domain=job_dom)
    m.y = pyo.Var(m.C, domain=job_dom)
    gpus = pools.gpus.tolist()
    m.n = pyo.Var(
        m.B,
        m.T,
        domain=pyo.NonNegativeReals if relax else pyo.NonNegativeIntegers,
        bounds=lambda _, b, t: (0, gpus[b]),
    )
    cap = [None if not np.isfinite(c) else float(c) for c in dc.grid_cap_mwh]
    m.g = pyo.Var(m.D, m.T, bounds=lambda _, d, t: (0, cap[d]))
    m.r = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    pch, pdis = dc.charge_max_mwh.tolist(), dc.discharge_max_mwh.tolist()
    m.ch = pyo.Var(m.D, m.T, bounds=lambda _, d, t: (0, pch[d]))
    m.dis = pyo.Var(m.D, m.T, bounds=lambda _, d, t: (0, pdis[d]))
    m.z = pyo.Var(m.D, m.T, domain=pyo.UnitInterval if relax else pyo.Binary)
    soc_lo, soc_hi = dc.soc_min_mwh.tolist(), dc.soc_max_mwh.tolist()
    m.e = pyo.Var(m.D, m.T, bounds=lambda _, d, t: (soc_lo[d], soc_hi[d]))
    omax = dc.gen_max_mwh.tolist()
    m.o = pyo.Var(m.D, m.T, bounds=lambda _, d, t: (0, omax[d]))
    m.u = pyo.Var(m.D, m.T, domain=pyo.UnitInterval if relax else pyo.Binary)
    m.v = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    for d in range(D):
        if pch[d] == 0 and pdis[d] == 0:
            for t in range(T):
                m.z[d, t].fix(0)
        if omax[d] == 0:
            for t in range(T):
                m.u[d, t].fix(0)
                m.v[d, t].fix(0)


def add_params(m: pyo.ConcreteModel, scn: Scenario, idx: Index, pending: np.ndarray | None) -> None:
    """Mutable data: series, cohort sizes, initial state, terminal floor, drop weights."""
    m.price = pyo.Param(m.D, m.T, mutable=True, initialize=lambda _, d, t: float(scn.price[d, t]))
    m.carbon = pyo.Param(m.D, m.T, mutable=True, initialize=lambda _, d, t: float(scn.carbon[d, t]))
    m.ren = pyo.Param(m.D, m.T, mutable=True, initialize=lambda _, d, t: float(scn.renewable[d, t]))
    amounts = cohort_sizes(idx, scn.arrivals, pending)
    m.lam = pyo.Param(m.C, mutable=True, initialize=lambda _, c: float(amounts[c]))
    m.drop_weight = pyo.Param(m.C, mutable=True, initialize=1.0)
    dc = DataCenterArrays.of(scn)
    m.soc0 = pyo.Param(m.D, mutable=True, initialize=lambda _, d: dc.soc_initial_mwh[d])
    m.soc_end = pyo.Param(m.D, mutable=True, initialize=lambda _, d: dc.soc_terminal_mwh[d])
    m.u0 = pyo.Param(m.D, mutable=True, initialize=lambda _, d: dc.gen_initially_on[d])


# ---------------------------------------------------------------------------------------
# constraint families (MODEL.md §4)
# ---------------------------------------------------------------------------------------
def add_cohort_conservation(m: pyo.ConcreteModel, idx: Index) -> None:
    """(1) Σ_{b,s,t} x + y = λ for every cohort (a, k, τ)."""
    uniq, groups = _groups(idx.c)
    rows: dict[int, np.ndarray] = dict(zip(uniq.tolist(), groups, strict=True))
    empty = np.zeros(0, dtype=int)

    def rule(m: Any, c: int) -> Any:
        sel = rows.get(c, empty)
        expr = _linear([1.0] * (sel.size + 1), [m.x[int(i)] for i in sel] + [m.y[c]])
        return expr == m.lam[c]

    m.cohort_conservation = pyo.Constraint(m.C, rule=rule)


def add_gpu_time(m: pyo.ConcreteModel, scn: Scenario, idx: Index) -> None:
    """(2) Σ x·τ_{b,k}(n_s) ≤ 3600·Δ·n_{b,t} (GPU-seconds)."""
    key = idx.b * scn.T + idx.t
    uniq, groups = _groups(key)
    rows = dict(zip(uniq.tolist(), groups, strict=True))
    cap = 3600.0 * scn.dt

    def rule(m: Any, b: int, t: int) -> Any:
        sel = rows.get(b * scn.T + t)
        if sel is None:
            return pyo.Constraint.Skip
        coefs = idx.gpu_s[sel].tolist() + [-cap]
        return _linear(coefs, [m.x[int(i)] for i in sel] + [m.n[b, t]]) <= 0

    m.gpu_time = pyo.Constraint(m.B, m.T, rule=rule)


def add_power_balance(m: pyo.ConcreteModel, scn: Scenario, idx: Index) -> None:
    """(3–4) PUE_d·Σ_b E^IT_{b,t} = g + r + dis − ch + o, with E^IT in MWh.

    E^IT_{b,t} = Σ x·e_{b,k}(n_s) / 1000 + n_{b,t}·P_b^idle·Δ / 1000.
    """
    pool, pue = PoolArrays.of(scn), DataCenterArrays.of(scn).pue
    key = pool.dc[idx.b] * scn.T + idx.t
    uniq, groups = _groups(key)
    rows = dict(zip(uniq.tolist(), groups, strict=True))
    idle = pool.idle_mwh_per_gpu_slot
    pools = {d: np.flatnonzero(pool.dc == d).tolist() for d in range(scn.D)}

    def rule(m: Any, d: int, t: int) -> Any:
        sel = rows.get(d * scn.T + t, np.zeros(0, dtype=int))
        coefs = (pue[d] * idx.kwh[sel] / 1000.0).tolist()
        vars_ = [m.x[int(i)] for i in sel]
        for b in pools[d]:
            coefs.append(float(pue[d] * idle[b]))
            vars_.append(m.n[b, t])
        coefs += [-1.0, -1.0, -1.0, 1.0, -1.0]
        vars_ += [m.g[d, t], m.r[d, t], m.dis[d, t], m.ch[d, t], m.o[d, t]]
        return _linear(coefs, vars_) == 0

    m.power_balance = pyo.Constraint(m.D, m.T, rule=rule)


def add_renewables(m: pyo.ConcreteModel) -> None:
    """r_{d,t} ≤ R_{d,t}: renewable energy used is at most what is available."""
    m.renewable_limit = pyo.Constraint(m.D, m.T, rule=lambda m, d, t: m.r[d, t] <= m.ren[d, t])


def add_battery(m: pyo.ConcreteModel, scn: Scenario) -> None:
    """(5) SoC dynamics, terminal floor, and charge-or-discharge via z."""
    dc = DataCenterArrays.of(scn)
    has = dc.has_battery

    def dyn(m: Any, d: int, t: int) -> Any:
        if not has[d]:
            return m.e[d, t] == 0
        prev = m.soc0[d] if t == 0 else m.e[d, t - 1]
        return m.e[d, t] == prev + dc.eta_charge[d] * m.ch[d, t] - m.dis[d, t] / dc.eta_discharge[d]

    m.battery_dynamics = pyo.Constraint(m.D, m.T, rule=dyn)
    last = scn.T - 1
    m.battery_terminal = pyo.Constraint(
        m.D,
        rule=lambda m, d: (m.e[d, last] >= m.soc_end[d]) if has[d] else pyo.Constraint.Skip,
    )
    m.battery_charge_mode = _where(
        m, has, lambda m, d, t: m.ch[d, t] <= dc.charge_max_mwh[d] * m.z[d, t]
    )
    m.battery_discharge_mode = _where(
        m, has, lambda m, d, t: m.dis[d, t] <= dc.discharge_max_mwh[d] * (1 - m.z[d, t])
    )


def add_generator(m: pyo.ConcreteModel, scn: Scenario) -> None:
    """(6) O^min·Δ·u ≤ o ≤ O^max·Δ·u and start-ups v ≥ u_t − u_{t−1}."""
    dc = DataCenterArrays.of(scn)
    has = dc.has_generator
    m.generator_min = _where(m, has, lambda m, d, t: m.o[d, t] >= dc.gen_min_mwh[d] * m.u[d, t])
    m.generator_max = _where(m, has, lambda m, d, t: m.o[d, t] <= dc.gen_max_mwh[d] * m.u[d, t])
    m.generator_startup = _where(
        m, has, lambda m, d, t: m.v[d, t] >= m.u[d, t] - (m.u0[d] if t == 0 else m.u[d, t - 1])
    )


def add_objective(m: pyo.ConcreteModel, scn: Scenario, idx: Index) -> None:
    """The eight utility terms as named Expressions and U = revenue − costs (maximised).

    Coefficients come from `arrays.term_coefficients`, except that the grid energy of
    ``energy_cost`` / ``carbon_cost`` and the drop weights stay mutable parameters (MPC).
    """
    DT = [(d, t) for d in range(scn.D) for t in range(scn.T)]
    block = {"x": [m.x[i] for i in range(idx.n_rows)]}
    block |= {v: [getattr(m, v)[d, t] for d, t in DT] for v in ("o", "v", "ch", "dis")}
    coef = term_coefficients(scn, idx)
    m.terms = pyo.Expression(list(TERMS))
    for name in ("revenue", "delay_penalty", "transfer_cost", "generator_cost", "battery_wear"):
        parts = coef[name]
        m.terms[name] = _linear(
            [float(c) for _, cs in parts for c in cs], [v for b, _ in parts for v in block[b]]
        )
    rho = coef["drop_penalty"][0][1]
    m.terms["drop_penalty"] = sum(
        float(rho[c]) * m.drop_weight[c] * m.y[c] for c in range(idx.n_cohorts)
    )
    m.terms["energy_cost"] = sum(m.price[d, t] * m.g[d, t] for d, t in DT)
    sigma = scn.params.carbon_price_usd_per_t
    m.terms["carbon_cost"] = sum(sigma * m.carbon[d, t] * m.g[d, t] for d, t in DT) + _linear(
        coef["carbon_cost"][1][1].tolist(), block["o"]
    )
    m.utility = pyo.Objective(
        expr=m.terms["revenue"] - sum(m.terms[n] for n in TERMS[1:]), sense=pyo.maximize
    )


def build_milp(
    scn: Scenario,
    *,
    relax: bool = False,
    integer_jobs: bool = False,
    pending: np.ndarray | None = None,
    skip_empty: bool = True,
    index: Index | None = None,
) -> Program:
    """Assemble the program of MODEL.md §3–4 over ``scn``'s horizon.

    ``pending`` (A, K, W_max) adds cohorts already waiting at slot 0 (MPC windows);
    ``skip_empty=False`` keeps variables for empty cohorts so a window model can be reused
    when later data fill them.
    """
    idx = index if index is not None else build_index(scn, skip_empty=skip_empty, pending=pending)
    m = pyo.ConcreteModel(name=f"aigc-opt {scn.name}")
    add_variables(m, scn, idx, relax=relax, integer_jobs=integer_jobs)
    add_params(m, scn, idx, pending)
    add_cohort_conservation(m, idx)
    add_gpu_time(m, scn, idx)
    add_power_balance(m, scn, idx)
    add_renewables(m)
    add_battery(m, scn)
    add_generator(m, scn)
    add_objective(m, scn, idx)
    return Program(
        model=m,
        index=idx,
        scenario=scn,
        relax=relax,
        integer_jobs=integer_jobs,
        window=pending is not None,
    )
