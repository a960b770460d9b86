"""The convex program of MODEL.md §5 in cvxpy: continuous denoising steps, no integrality.

Per service row i = (a, b, k, τ, t) (the rows of `index.build_index` merged over step
levels s) there is a job count x_i ≥ 0 and a step budget w_i = x_i · n_i (job-steps) with

    n_lo(b, k) · x_i ≤ w_i ≤ n_max · x_i,    n_lo(b, k) = max(n_min, n_k^min(b)),

where n_min / n_max are the smallest / largest step levels of the scenario and n_k^min(b)
is the least n with Q_b(n) ≥ q_k^min (the quality floor). GPU time and energy are affine
in n, hence linear in (x, w):  τ_{b,k}(n)·x = τ⁰·x + τ¹·w  and  e_{b,k}(n)·x = e⁰·x + e¹·w.
Revenue p_k · x · Q_b(w / x) is the perspective of the concave quality curve, written
exactly for each form:

* ``exp``:   x·Q(w/x) = Q̄·(x − h) with h ≥ x·exp(−β·w/x), i.e. (−β·w, x, h) ∈ K_exp;
* ``log``:   x·Q(w/x) = min(Q̄·x, α·x·ln(w/x) + c·x) = α·u + c·x with u ≤ x·ln(w/x),
  i.e. (u, x, w) ∈ K_exp, and the cap as u ≤ x·ln(n_cap), n_cap = exp((Q̄ − c)/α)
  (α > 0, so α·u + c·x ≤ Q̄·x exactly when u ≤ x·ln(n_cap));
* ``table``: the upper concave hull is the minimum of its affine pieces m_j·n + c_j on
  the table's range, so x·Q(w/x) = min_j (m_j·w + c_j·x): r ≤ m_j·w + c_j·x for all j.

Everything else (drops, GPUs, grid, renewables, battery, generator) is the LP relaxation
of `milp.build_milp`: every integrality dropped, z and u in [0, 1].

``discrete_levels=True`` builds the same program restricted to the scenario's step levels:
one job count per (a, b, k, s, τ, t) row and no w, which is exactly the Pyomo LP
relaxation (used to cross-check the two implementations).

One function per constraint family, ``add_<family>(cons, var, scn, rows, sc)``, as in the
other builders; the parameters it reads come from `formulations.arrays`.

Scaling
-------
The program is solved in scaled units (`Scaling`): jobs (x, y, h, r, u) in units of
``jobs`` jobs, step budgets w in units of ``jobs`` job-steps (so w/x stays n in steps),
energy in units of ``mwh`` MWh and money in units of ``usd`` dollars. Unscaled, the
default scenario has ~1e5 jobs per cohort, prices ~1e-3 $/job and energies ~1e-1 MWh per
slot, and Clarabel reports "optimal" far from the optimum (default scenario, 24 slots,
tol 1e-9: the step-level LP 6e-3 below the HiGHS optimum; the convex program only
"inaccurate"). `Scaling.auto` picks powers of ten that bring the largest cohort to 1..10
units, the largest price to 1..10 money units per job unit and the largest per-slot
energy figure to 10..100 units; the same LP then matches HiGHS to 2e-11. Results are
always reported unscaled, in $, jobs and MWh.

DPP
---
The time series (price π, carbon κ, renewables R, per slot and data center) and the
cohort sizes λ are cvxpy Parameters holding the *physical* values; they enter only as
parameter × constant or parameter × variable products, so the problem is DPP: compiled
once (``ConvexOptions(dpp=True)``), a re-solve after `update_series` only substitutes
parameter values. cvxpy's parametrized compilation of exponential cones grows with
(variables × parameter entries), so for a single solve it is cheaper to compile with
the current values as constants, which is the default (see docs/bounds.md).

The rows and their coefficients are in `aigc_opt.formulations.convex_rows`, the units in
`aigc_opt.formulations.convex_scaling`, the quality curves' vectorised values and hull
pieces on the curve classes (`aigc_opt.data.quality`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from aigc_opt.data.scenario import Scenario, ScenarioError
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.arrays import (
    DataCenterArrays,
    PoolArrays,
    cohort_sizes,
    incidence,
    pool_to_dc,
    previous_slot,
)
from aigc_opt.formulations.convex_rows import ServiceRows, service_rows
from aigc_opt.formulations.convex_scaling import Scaling, scaled_dc_arrays
from aigc_opt.formulations.index import Index, build_index


# ---------------------------------------------------------------------------------------
# the program
# ---------------------------------------------------------------------------------------
@dataclass
class ConvexProgram:
    """A built cvxpy program with its rows, scaling and named parts.

    ``var`` maps names to cvxpy Variables (scaled units; per data center and slot the
    vectors are flattened d·T + t, per pool b·T + t); ``par`` maps names to Parameters
    (physical units); ``terms`` maps the eight `TERMS` to scaled expressions; ``families``
    maps constraint-family names to their linear constraints (cones are not listed).
    ``solution`` holds the last solve's values (set by the solver wrapper).
    """

    problem: cp.Problem
    scenario: Scenario
    index: Index
    rows: ServiceRows
    scaling: Scaling
    var: dict[str, cp.Variable]
    par: dict[str, cp.Parameter]
    terms: dict[str, cp.Expression]
    families: dict[str, list[cp.Constraint]]
    meta: dict[str, Any] = field(default_factory=dict)
    solution: Any = None

    @property
    def discrete_levels(self) -> bool:
        return self.rows.discrete

    @property
    def has_exp_cones(self) -> bool:
        return any(isinstance(c, cp.constraints.ExpCone) for c in self.problem.constraints)


def add_variables(
    var: dict[str, cp.Variable], scn: Scenario, rows: ServiceRows, idx: Index
) -> None:
    """x (service) and w (step budgets) per row, y per cohort, n per pool and slot, and the
    energy flows g, r, ch, dis, e, o, z, u, v per data center and slot (all scaled)."""
    DT, BT = scn.D * scn.T, scn.A * scn.T
    var["x"] = cp.Variable(rows.n, nonneg=True, name="x")
    if not rows.discrete:
        var["w"] = cp.Variable(rows.n, nonneg=True, name="w")
    var["y"] = cp.Variable(idx.n_cohorts, nonneg=True, name="y")
    var["n"] = cp.Variable(BT, nonneg=True, name="n")
    for name in ("g", "r", "ch", "dis", "e", "o", "z", "u", "v"):
        var[name] = cp.Variable(DT, nonneg=True, name=name)


def add_parameters(par: dict[str, cp.Parameter], scn: Scenario, idx: Index) -> None:
    """Series π ($/MWh), κ (tCO2/MWh), R (MWh) flattened d·T + t, and λ per cohort (jobs)."""
    DT = scn.D * scn.T
    par["price"] = cp.Parameter(DT, name="price_usd_per_mwh")
    par["carbon"] = cp.Parameter(DT, nonneg=True, name="carbon_t_per_mwh")
    par["renewable"] = cp.Parameter(DT, nonneg=True, name="renewable_mwh")
    par["arrivals"] = cp.Parameter(idx.n_cohorts, nonneg=True, name="cohort_jobs")
    set_series(par, scn, idx)


def set_series(par: dict[str, cp.Parameter], scn: Scenario, idx: Index) -> None:
    """Write a scenario's series into the Parameters (physical units)."""
    par["price"].value = scn.price.ravel().astype(float)
    par["carbon"].value = scn.carbon.ravel().astype(float)
    par["renewable"].value = scn.renewable.ravel().astype(float)
    par["arrivals"].value = cohort_sizes(idx, scn.arrivals)


def add_step_budget(
    cons: dict[str, list[cp.Constraint]], var: dict[str, cp.Variable], rows: ServiceRows
) -> None:
    """n_lo·x ≤ w ≤ n_max·x: step range and quality floor w ≥ n_k^min(b)·x (§5)."""
    if rows.discrete or rows.n == 0:
        return
    x, w = var["x"], var["w"]
    cons["step_budget"] = [w >= cp.multiply(rows.n_lo, x), w <= cp.multiply(rows.n_hi, x)]


def add_revenue(
    cons: dict[str, list[cp.Constraint]],
    var: dict[str, cp.Variable],
    scn: Scenario,
    rows: ServiceRows,
    sc: Scaling,
) -> cp.Expression:
    """Revenue Σ p_k·x·Q_b(w/x) in money units, exact for each quality form (module doc)."""
    x = var["x"]
    unit = sc.jobs / sc.usd
    if rows.n == 0:
        return cp.Constant(0.0)
    if rows.discrete:
        return (unit * rows.price * rows.quality) @ x
    w = var["w"]
    asps = scn.params.asps
    parts: list[cp.Expression] = []
    cones: list[cp.Constraint] = []
    hypo: list[cp.Constraint] = []
    blk = rows.form_slice("exp")
    if blk.stop > blk.start:
        bs = rows.b[blk]
        beta = np.array([asps[b].quality.beta for b in bs])
        qmax = np.array([asps[b].quality.q_max for b in bs])
        h = var["h_exp"] = cp.Variable(blk.stop - blk.start, nonneg=True, name="h_exp")
        cones.append(cp.constraints.ExpCone(cp.multiply(-beta, w[blk]), x[blk], h))
        parts.append((unit * rows.price[blk] * qmax) @ (x[blk] - h))
    blk = rows.form_slice("log")
    if blk.stop > blk.start:
        bs = rows.b[blk]
        alpha = np.array([asps[b].quality.alpha for b in bs])
        c0 = np.array([asps[b].quality.c for b in bs])
        qmax = np.array([asps[b].quality.q_max for b in bs])
        u = var["u_log"] = cp.Variable(blk.stop - blk.start, name="u_log")
        cones.append(cp.constraints.ExpCone(u, x[blk], w[blk]))
        # the cap min(Q̄, ·) as a cap on u: α·u + c·x ≤ Q̄·x  <=>  u ≤ ln(n_cap)·x
        hypo.append(u <= cp.multiply((qmax - c0) / alpha, x[blk]))
        parts.append((unit * rows.price[blk]) @ (cp.multiply(alpha, u) + cp.multiply(c0, x[blk])))
    blk = rows.form_slice("table")
    if blk.stop > blk.start:
        bs = rows.b[blk]
        pieces = {b: asps[b].quality.hull_pieces() for b in np.unique(bs)}
        J = max(p[0].size for p in pieces.values())
        # pad each hull with its last piece so every row has J pieces
        m = np.array([np.pad(pieces[b][0], (0, J - pieces[b][0].size), mode="edge") for b in bs])
        c0 = np.array([np.pad(pieces[b][1], (0, J - pieces[b][1].size), mode="edge") for b in bs])
        r = var["r_table"] = cp.Variable(blk.stop - blk.start, name="r_table")
        for j in range(J):
            hypo.append(r <= cp.multiply(m[:, j], w[blk]) + cp.multiply(c0[:, j], x[blk]))
        parts.append((unit * rows.price[blk]) @ r)
    cons["revenue_cones"] = cones
    if hypo:
        cons["revenue_hypograph"] = hypo
    return cp.sum(cp.hstack(parts)) if len(parts) > 1 else parts[0]


def add_cohort_conservation(
    cons: dict[str, list[cp.Constraint]],
    var: dict[str, cp.Variable],
    par: dict[str, cp.Parameter],
    rows: ServiceRows,
    idx: Index,
    sc: Scaling,
) -> None:
    """(1) Σ_{b,s,t} x + y = λ for every cohort, in job units."""
    if idx.n_cohorts == 0:
        return
    A = incidence(rows.c, idx.n_cohorts)
    cons["cohort_conservation"] = [A @ var["x"] + var["y"] == par["arrivals"] / sc.jobs]


def _row_work(
    var: dict[str, cp.Variable],
    rows: ServiceRows,
    coef_x: np.ndarray,
    coef_w: np.ndarray,
    keys: np.ndarray,
    size: int,
) -> cp.Expression:
    """Σ over rows with the same key of coef_x·x + coef_w·w (a vector of length size)."""
    expr = incidence(keys, size, coef_x) @ var["x"]
    if not rows.discrete:
        expr = expr + incidence(keys, size, coef_w) @ var["w"]
    return expr


def add_gpu_time(
    cons: dict[str, list[cp.Constraint]],
    var: dict[str, cp.Variable],
    scn: Scenario,
    rows: ServiceRows,
    sc: Scaling,
) -> None:
    """(2) Σ (τ⁰·x + τ¹·w) ≤ 3600·Δ·n_{b,t} and 0 ≤ n ≤ G_b; rows in GPU-slots."""
    BT = scn.A * scn.T
    pools = PoolArrays.of(scn)
    G = np.repeat(pools.gpus, scn.T)
    unit = sc.jobs / pools.gpu_seconds_per_slot
    fam = [var["n"] <= G]
    if rows.n:
        keys = rows.b * scn.T + rows.t
        work = _row_work(var, rows, unit * rows.gpu_x, unit * rows.gpu_w, keys, BT)
        fam.append(work <= var["n"])
    cons["gpu_time"] = fam


def it_energy_units(
    var: dict[str, cp.Variable], scn: Scenario, rows: ServiceRows, sc: Scaling
) -> cp.Expression:
    """(3) PUE_d·Σ_{b at d} E^IT_{b,t} per data center and slot, in energy units."""
    D, T = scn.D, scn.T
    pue = DataCenterArrays.of(scn).pue
    pools = PoolArrays.of(scn)
    d_of_b = pools.dc
    unit = sc.jobs / 1000.0 / sc.mwh  # kWh per job unit -> energy units
    idle = pools.idle_mwh_per_gpu_slot / sc.mwh
    pool_coef = np.repeat(pue[d_of_b] * idle, T)
    load = (pool_to_dc(scn) @ sp.diags_array(pool_coef)) @ var["n"]
    if rows.n:
        dr = d_of_b[rows.b]
        scale = unit * pue[dr]
        load = load + _row_work(
            var, rows, scale * rows.kwh_x, scale * rows.kwh_w, dr * T + rows.t, D * T
        )
    return load


def add_power_balance(
    cons: dict[str, list[cp.Constraint]],
    var: dict[str, cp.Variable],
    scn: Scenario,
    rows: ServiceRows,
    sc: Scaling,
) -> None:
    """(4) PUE_d·Σ_b E^IT_{b,t} = g + r + dis − ch + o (energy units), grid cap g ≤ Ḡ·Δ."""
    v = var
    fam = [it_energy_units(v, scn, rows, sc) == v["g"] + v["r"] + v["dis"] - v["ch"] + v["o"]]
    cap = np.repeat(scaled_dc_arrays(scn, sc)["grid_cap"], scn.T)
    capped = np.flatnonzero(np.isfinite(cap))
    if capped.size:
        fam.append(v["g"][capped] <= cap[capped])
    cons["power_balance"] = fam


def add_renewables(
    cons: dict[str, list[cp.Constraint]],
    var: dict[str, cp.Variable],
    par: dict[str, cp.Parameter],
    sc: Scaling,
) -> None:
    """r_{d,t} ≤ R_{d,t}: renewable energy used is at most what is available."""
    cons["renewable_limit"] = [var["r"] <= par["renewable"] / sc.mwh]


def add_battery(
    cons: dict[str, list[cp.Constraint]], var: dict[str, cp.Variable], scn: Scenario, sc: Scaling
) -> None:
    """(5) SoC dynamics, bounds, terminal floor; ch ≤ P^ch·Δ·z, dis ≤ P^dis·Δ·(1 − z)."""
    D, T = scn.D, scn.T
    dc = scaled_dc_arrays(scn, sc)
    rep = lambda a: np.repeat(a, T)  # noqa: E731
    e, ch, dis, z = var["e"], var["ch"], var["dis"], var["z"]
    start = np.zeros(D * T)
    start[np.arange(D) * T] = dc["soc0"]
    prev = previous_slot(D, T)
    last = np.arange(D) * T + T - 1
    has = np.flatnonzero(dc["has_bat"] > 0)
    cons["battery"] = [
        e
        == prev @ e
        + start
        + cp.multiply(rep(dc["eta_c"]), ch)
        - cp.multiply(1.0 / rep(dc["eta_d"]), dis),
        e >= rep(dc["soc_lo"]),
        e <= rep(dc["soc_hi"]),
        ch <= cp.multiply(rep(dc["pch"]), z),
        dis <= cp.multiply(rep(dc["pdis"]), 1 - z),
        z <= 1,
    ]
    if has.size:
        cons["battery"].append(e[last[has]] >= dc["soc_end"][has])


def add_generator(
    cons: dict[str, list[cp.Constraint]], var: dict[str, cp.Variable], scn: Scenario, sc: Scaling
) -> None:
    """(6) O^min·Δ·u ≤ o ≤ O^max·Δ·u, u ∈ [0, 1] (0 without a generator), v ≥ u_t − u_{t−1}."""
    D, T = scn.D, scn.T
    dc = scaled_dc_arrays(scn, sc)
    rep = lambda a: np.repeat(a, T)  # noqa: E731
    o, u, v = var["o"], var["u"], var["v"]
    has = (dc["omax"] > 0).astype(float)
    start = np.zeros(D * T)
    start[np.arange(D) * T] = dc["u0"] * has
    cons["generator"] = [
        o >= cp.multiply(rep(dc["omin"]), u),
        o <= cp.multiply(rep(dc["omax"]), u),
        u <= rep(has),
        v >= u - previous_slot(D, T) @ u - start,
    ]


def add_objective(
    var: dict[str, cp.Variable],
    par: dict[str, cp.Parameter],
    scn: Scenario,
    rows: ServiceRows,
    idx: Index,
    sc: Scaling,
    revenue: cp.Expression,
) -> dict[str, cp.Expression]:
    """The eight utility terms in money units (names of `TERMS`)."""
    T = scn.T
    dc = scaled_dc_arrays(scn, sc)
    rep = lambda a: np.repeat(a, T)  # noqa: E731
    x = var["x"]
    job = sc.jobs / sc.usd
    energy = sc.mwh / sc.usd
    sigma = scn.params.carbon_price_usd_per_t
    rho = scn.class_arrays["drop"][idx.ck]
    zero = cp.Constant(0.0)
    return {
        "revenue": revenue,
        "delay_penalty": (job * rows.delay) @ x if rows.n else zero,
        "drop_penalty": (job * rho) @ var["y"] if idx.n_cohorts else zero,
        "transfer_cost": (job * rows.transfer) @ x if rows.n else zero,
        "energy_cost": energy * (par["price"] @ var["g"]),
        "carbon_cost": energy * sigma * (par["carbon"] @ var["g"])
        + (energy * sigma * rep(dc["gen_co2"])) @ var["o"],
        "generator_cost": (energy * rep(dc["fuel"])) @ var["o"]
        + (rep(dc["startup"]) / sc.usd) @ var["v"],
        "battery_wear": (energy * rep(dc["wear"])) @ (var["ch"] + var["dis"]),
    }


def build_convex(
    scn: Scenario,
    *,
    discrete_levels: bool = False,
    scaling: Scaling | None = None,
    skip_empty: bool = True,
    index: Index | None = None,
) -> ConvexProgram:
    """Assemble the convex program of MODEL.md §5 over ``scn``'s horizon.

    ``discrete_levels=True`` restricts steps to the scenario's levels (an LP equal to the
    Pyomo LP relaxation). ``scaling`` defaults to `Scaling.auto`. ``skip_empty=False``
    keeps variables for empty cohorts, so `update_series` may later fill them.
    """
    sc = scaling or Scaling.auto(scn)
    idx = index if index is not None else build_index(scn, skip_empty=skip_empty)
    if (idx.ctau < 0).any():
        raise ValueError("the convex program covers cohorts arriving inside the horizon only")
    rows = service_rows(scn, idx, discrete_levels=discrete_levels)
    var: dict[str, cp.Variable] = {}
    par: dict[str, cp.Parameter] = {}
    cons: dict[str, list[cp.Constraint]] = {}
    add_variables(var, scn, rows, idx)
    add_parameters(par, scn, idx)
    add_step_budget(cons, var, rows)
    revenue = add_revenue(cons, var, scn, rows, sc)
    add_cohort_conservation(cons, var, par, rows, idx, sc)
    add_gpu_time(cons, var, scn, rows, sc)
    add_power_balance(cons, var, scn, rows, sc)
    add_renewables(cons, var, par, sc)
    add_battery(cons, var, scn, sc)
    add_generator(cons, var, scn, sc)
    terms = add_objective(var, par, scn, rows, idx, sc, revenue)
    utility = terms["revenue"] - sum(terms[n] for n in TERMS[1:])
    constraints = [c for fam in cons.values() for c in fam]
    problem = cp.Problem(cp.Maximize(utility), constraints)
    families = {k: v for k, v in cons.items() if k != "revenue_cones"}
    n_cones = sum(c.args[0].size for c in cons.get("revenue_cones", []))
    return ConvexProgram(
        problem=problem,
        scenario=scn,
        index=idx,
        rows=rows,
        scaling=sc,
        var=var,
        par=par,
        terms=terms,
        families=families,
        meta={"rows": rows.n, "cohorts": idx.n_cohorts, "exp_cones": n_cones},
    )


def update_series(prog: ConvexProgram, scn: Scenario) -> None:
    """Load another scenario's series (same structure) into the program's Parameters.

    Only Parameter values change, so the next solve reuses cvxpy's compiled problem.
    Raises `ScenarioError` when the structure differs or a cohort that has no variables
    (it was empty at build time and ``skip_empty`` was on) now has jobs.
    """
    old = prog.scenario
    if (scn.D, scn.A, scn.K, scn.T) != (old.D, old.A, old.K, old.T) or scn.params != old.params:
        raise ScenarioError(
            scn.source,
            "scenario",
            scn.name,
            "update_series needs the same parameters and horizon as the build",
        )
    idx = prog.index
    covered = np.zeros(scn.arrivals.shape, dtype=bool)
    covered[idx.ca, idx.ck, idx.ctau] = True
    missing = (scn.arrivals > 0) & ~covered
    if missing.any():
        a, k, t = (int(i) for i in np.argwhere(missing)[0])
        raise ScenarioError(
            scn.source,
            "jobs",
            float(scn.arrivals[a, k, t]),
            f"cohort (a={a}, k={k}, tau={t}) was empty at build time; "
            "build with skip_empty=False to re-solve with new arrivals",
        )
    set_series(prog.par, scn, idx)
    prog.scenario = scn
