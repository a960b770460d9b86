"""Solving the convex program (`formulations.convex`) with a conic solver through cvxpy.

Solvers and their capabilities (a small table instead of ``if name == ...`` chains):

==========  =========  ====  ===========================================================
name        exp cone   LP    tolerance options set from ``ConvexOptions.tol``
==========  =========  ====  ===========================================================
clarabel    yes        yes   tol_gap_abs = tol_gap_rel = tol_feas = tol
scs         yes        yes   eps_abs = eps_rel = max(tol, 1e-6) (first-order method)
ecos        yes        yes   abstol = reltol = feastol = tol
highs       no         yes   HiGHS defaults (simplex/IPM with crossover: exact LP optimum)
==========  =========  ====  ===========================================================

Tolerance: Clarabel and ECOS are asked for ``tol`` = 1e-9 (duality gap and feasibility,
on the scaled program). A solve that ends inaccurate or fails numerically is retried
(`ConvexOptions.attempts`): for Clarabel at the same tolerance with a shorter
interior-point step (max_step_fraction 0.9), then at ``fallback_tol`` = 1e-8;
``options["tol_reached"]`` records which tolerance an optimal status refers to. On 1,800
random small scenarios the first attempt was optimal in 99.3 % of the cases and the
ladder in all of them. Against solves at 1e-11, optima at 1e-9 were within 9e-9
relative (median 3e-10), at 1e-8 within 2e-7; on the default scenario (24 slots) 1e-9
lands within ~1e-9.

Statuses: cvxpy's ``optimal`` is reported as ``optimal``; every ``*_inaccurate`` status as
``inaccurate``; ``infeasible`` / ``unbounded`` as such; a time or iteration limit as
``time_limit``; a solver failure as ``error``. Only an ``optimal`` solve carries a
``best_bound``, and it is certified (`certified_bound`): the solver's dual objective
(Clarabel reports it; for the others the primal objective) plus the stated accuracy
tol·(1 + |value|) in model units, and never below the recomputed utility. The primal
objective alone was seen up to 1.6e-8 relative below the exact LP optimum. Any other
status leaves ``best_bound`` None, so it is never shown as a bound.

Accounting: for continuous steps the schedule has no discrete level s, so
`accounting.evaluate` cannot replay it. The eight utility terms are recomputed here from
the solution alone, in $, with the exact quality curve: revenue Σ p_k·x·Q_b(w/x), and every
cost term as in MODEL.md §4; U = revenue − the other seven. For ``discrete_levels=True``
the solution is a `Schedule` and `accounting.evaluate` accounts it, as for the Pyomo LP.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import (
    TERMS,
    book_slot_terms,
    drop_penalties,
    energy_kpis,
    energy_slot_terms,
    evaluate,
    service_row_terms,
    utility_of,
)
from aigc_opt.formulations.arrays import DataCenterArrays, PoolArrays
from aigc_opt.formulations.convex import ConvexProgram, build_convex
from aigc_opt.formulations.convex_scaling import Scaling
from aigc_opt.formulations.schedule import Schedule, startups
from aigc_opt.solvers.result import SolveResult, mip_gap

CAPABILITIES: dict[str, dict[str, bool]] = {
    "clarabel": {"exp_cone": True, "lp": True},
    "scs": {"exp_cone": True, "lp": True},
    "ecos": {"exp_cone": True, "lp": True},
    "highs": {"exp_cone": False, "lp": True},
}

_CVXPY_NAME = {"clarabel": cp.CLARABEL, "scs": cp.SCS, "ecos": cp.ECOS, "highs": cp.HIGHS}

_STATUS = {
    cp.OPTIMAL: "optimal",
    cp.OPTIMAL_INACCURATE: "inaccurate",
    cp.INFEASIBLE: "infeasible",
    cp.INFEASIBLE_INACCURATE: "inaccurate",
    cp.UNBOUNDED: "unbounded",
    cp.UNBOUNDED_INACCURATE: "inaccurate",
    cp.USER_LIMIT: "time_limit",
    cp.SOLVER_ERROR: "error",
}


@dataclass
class ConvexOptions:
    """Options of a convex solve.

    ``solver``: clarabel (default), scs, ecos, or highs (discrete-level LP only).
    ``tol``: requested accuracy (relative duality gap and feasibility; see module table).
    ``fallback_tol``: the looser tolerance of the last attempt (`attempts`; None = none);
    ``options["tol_reached"]`` of the result says which one an optimal status refers to.
    ``time_limit``: seconds for all attempts together (None = none; ECOS has none).
    ``max_iter``: iteration cap (None = the solver's default).
    ``dpp``: compile the parametrized program once and re-solve later by substituting
    Parameter values (worth it for small programs solved many times); False compiles
    with the current values as constants, which is much cheaper for one solve (see
    docs/bounds.md, "DPP").
    """

    solver: str = "clarabel"
    tol: float = 1e-9
    fallback_tol: float | None = 1e-8
    time_limit: float | None = None
    max_iter: int | None = None
    dpp: bool = False
    verbose: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.solver = self.solver.lower()
        if self.solver not in CAPABILITIES:
            raise ValueError(
                f"unknown convex solver {self.solver!r} (known: {', '.join(CAPABILITIES)})"
            )
        if not self.tol > 0 or (self.fallback_tol is not None and not self.fallback_tol > 0):
            raise ValueError(f"tolerances must be > 0, got {self.tol}, {self.fallback_tol}")

    def attempts(self) -> list[tuple[float, dict[str, Any]]]:
        """(tolerance, extra solver settings) tried in order until one ends optimal.

        Clarabel: ``tol``; ``tol`` with a shorter interior-point step (max_step_fraction
        0.9, which rescued every numerical failure seen on random scenarios); then
        ``fallback_tol`` with that step. Other solvers: ``tol``, then ``fallback_tol``.
        HiGHS: one attempt.
        """
        if self.solver == "highs":
            return [(self.tol, {})]
        cautious = {"max_step_fraction": 0.9} if self.solver == "clarabel" else {}
        out: list[tuple[float, dict[str, Any]]] = [(self.tol, {})]
        if cautious:
            out.append((self.tol, cautious))
        if self.fallback_tol is not None and self.fallback_tol > self.tol:
            out.append((self.fallback_tol, cautious))
        return out

    def effective_tol(self, tol: float) -> float | None:
        """The tolerance the solver is asked for at ``tol`` (SCS: at least 1e-6; HiGHS: its
        own defaults, None)."""
        if self.solver == "highs":
            return None
        return max(tol, 1e-6) if self.solver == "scs" else tol

    def solver_kwargs(
        self, tol: float | None = None, time_limit: float | None = None
    ) -> dict[str, Any]:
        """Keyword arguments cvxpy passes to the solver, at ``tol`` (default ``self.tol``)
        and with ``time_limit`` seconds (default ``self.time_limit``)."""
        s = self.solver
        tol = self.tol if tol is None else tol
        limit = self.time_limit if time_limit is None else time_limit
        out: dict[str, Any] = {}
        if s == "clarabel":
            out = {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol}
            if limit is not None:
                out["time_limit"] = float(limit)
            if self.max_iter is not None:
                out["max_iter"] = int(self.max_iter)
        elif s == "scs":
            eps = max(tol, 1e-6)
            out = {"eps_abs": eps, "eps_rel": eps}
            if limit is not None:
                out["time_limit_secs"] = float(limit)
            if self.max_iter is not None:
                out["max_iters"] = int(self.max_iter)
        elif s == "ecos":
            out = {"abstol": tol, "reltol": tol, "feastol": tol}
            if self.max_iter is not None:
                out["max_iters"] = int(self.max_iter)
        elif s == "highs" and limit is not None:
            out = {"time_limit": float(limit)}
        out.update(self.extra)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "solver": self.solver,
            "tol": self.tol,
            "fallback_tol": self.fallback_tol,
            "time_limit": self.time_limit,
            "max_iter": self.max_iter,
            "dpp": self.dpp,
        }


# ---------------------------------------------------------------------------------------
# the solution in physical units
# ---------------------------------------------------------------------------------------
@dataclass
class ConvexSolution:
    """Values of a solved convex program, unscaled.

    ``jobs``: one row per service row with a, b, k, s (−1 for continuous steps), tau, t,
    x (jobs), w (job-steps) and steps = w/x (NaN where x = 0).
    ``drops`` (A, K, T) jobs; ``gpus`` (B, T); ``grid, renewable, charge, discharge, soc,
    generator`` (D, T) MWh per slot; ``generator_on`` (D, T) in [0, 1].
    """

    jobs: pd.DataFrame
    drops: np.ndarray
    gpus: np.ndarray
    grid: np.ndarray
    renewable: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    soc: np.ndarray
    generator: np.ndarray
    generator_on: np.ndarray

    def to_schedule(self, scn: Scenario) -> Schedule:
        """The `Schedule` of a discrete-level solution (every row has a level s ≥ 0)."""
        j = self.jobs
        if (j["s"] < 0).any():
            raise ValueError("continuous steps have no discrete schedule")
        sch = Schedule.empty(scn)
        keep = j["x"].to_numpy() != 0
        sch.jobs = j.loc[keep, ["a", "b", "k", "s", "tau", "t", "x"]].reset_index(drop=True)
        sch.drops = self.drops.copy()
        sch.gpus = self.gpus.copy()
        sch.grid, sch.renewable = self.grid.copy(), self.renewable.copy()
        sch.charge, sch.discharge = self.charge.copy(), self.discharge.copy()
        sch.generator, sch.generator_on = self.generator.copy(), self.generator_on.copy()
        return sch

    def tidy(self, scn: Scenario) -> dict[str, pd.DataFrame]:
        """Long tables with names: ``jobs`` (continuous steps), ``drops``, ``gpus``, ``energy``."""
        p = scn.params
        asp = np.asarray([b.name for b in p.asps], dtype=object)
        cls = np.asarray([k.name for k in p.job_classes], dtype=object)
        dcs = [d.name for d in p.data_centers]
        j = self.jobs[self.jobs["x"] > 0]
        jobs = pd.DataFrame(
            {
                "origin": asp[j["a"].to_numpy(int)],
                "server": asp[j["b"].to_numpy(int)],
                "job_class": cls[j["k"].to_numpy(int)],
                "arrival_slot": j["tau"].to_numpy(int),
                "slot": j["t"].to_numpy(int),
                "jobs": j["x"].to_numpy(float),
                "job_steps": j["w"].to_numpy(float),
                "steps": j["steps"].to_numpy(float),
            }
        )
        a, k, t = np.nonzero(self.drops > 0)
        drops = pd.DataFrame(
            {"origin": asp[a], "job_class": cls[k], "arrival_slot": t, "jobs": self.drops[a, k, t]}
        )
        T = scn.T
        gpus = pd.DataFrame(
            {
                "asp": np.repeat(asp, T),
                "slot": np.tile(np.arange(T), len(asp)),
                "active_gpus": self.gpus.ravel(),
            }
        )
        energy = pd.DataFrame(
            {
                "data_center": np.repeat(dcs, T),
                "slot": np.tile(np.arange(T), len(dcs)),
                "grid_mwh": self.grid.ravel(),
                "renewable_used_mwh": self.renewable.ravel(),
                "renewable_available_mwh": scn.renewable.ravel(),
                "charge_mwh": self.charge.ravel(),
                "discharge_mwh": self.discharge.ravel(),
                "soc_mwh": self.soc.ravel(),
                "generator_mwh": self.generator.ravel(),
                "generator_on": self.generator_on.ravel(),
                "price_usd_per_mwh": scn.price.ravel(),
                "carbon_t_per_mwh": scn.carbon.ravel(),
            }
        )
        return {"jobs": jobs, "drops": drops, "gpus": gpus, "energy": energy}


def extract_solution(prog: ConvexProgram) -> ConvexSolution:
    """Read the variable values of a solved program, in jobs, job-steps and MWh."""
    scn, rows, sc, v = prog.scenario, prog.rows, prog.scaling, prog.var
    D, B, T = scn.D, scn.A, scn.T

    def val(name: str, scale: float = 1.0) -> np.ndarray:
        value = v[name].value
        return np.zeros(v[name].size) if value is None else np.asarray(value) * scale

    x = val("x", sc.jobs)
    if rows.discrete:
        w = x * rows.n_lo
    else:
        w = val("w", sc.jobs)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(x > 0, w / x, np.nan)
    jobs = pd.DataFrame(
        {
            "a": rows.a,
            "b": rows.b,
            "k": rows.k,
            "s": rows.s,
            "tau": rows.tau,
            "t": rows.t,
            "x": x,
            "w": w,
            "steps": steps,
        }
    )
    idx = prog.index
    drops = np.zeros((scn.A, scn.K, T))
    drops[idx.ca, idx.ck, idx.ctau] = val("y", sc.jobs)
    dt = lambda name: val(name, sc.mwh).reshape(D, T)  # noqa: E731
    return ConvexSolution(
        jobs=jobs,
        drops=drops,
        gpus=val("n").reshape(B, T),
        grid=dt("g"),
        renewable=dt("r"),
        charge=dt("ch"),
        discharge=dt("dis"),
        soc=dt("e"),
        generator=dt("o"),
        generator_on=val("u").reshape(D, T),
    )


def row_quality(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> np.ndarray:
    """Q_b(n) of every service row: Q_b(n_s) for discrete rows, else Q_b(w/x) with n clipped
    to the row's step range (which only absorbs solver round-off)."""
    rows = prog.rows
    if rows.discrete:
        return rows.quality
    q = np.zeros(rows.n)
    n = np.clip(np.nan_to_num(sol.jobs["steps"].to_numpy(float), nan=0.0), rows.n_lo, rows.n_hi)
    for b, asp in enumerate(scn.params.asps):
        sel = rows.b == b
        if sel.any():
            q[sel] = asp.quality.values(n[sel])
    return q


def convex_slot_terms(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> np.ndarray:
    """Utility terms per slot ($), shape (T, 8) in the order of `TERMS`.

    The accounting's own term functions (`accounting.service_row_terms`,
    `drop_penalties`, `energy_slot_terms`, booked by `book_slot_terms`); the convex
    program only passes its per-row quality Q_b(w/x) (`row_quality`) and its flows.
    """
    rows, T = prog.rows, scn.T
    x = sol.jobs["x"].to_numpy(float)
    per_row = service_row_terms(
        scn, rows.a, rows.b, rows.k, rows.t - rows.tau, x, row_quality(scn, prog, sol)
    )
    starts = startups(sol.generator_on, DataCenterArrays.of(scn).gen_initially_on)
    energy = energy_slot_terms(
        scn, sol.grid, sol.generator, starts, sol.charge, sol.discharge, np.arange(T)
    )
    return book_slot_terms(T, np.arange(T), rows.t, per_row, drop_penalties(scn, sol.drops), energy)


def convex_terms(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> dict[str, float]:
    """The eight utility terms ($) of a solution, recomputed from its values alone."""
    per = convex_slot_terms(scn, prog, sol)
    return {n: float(per[:, i].sum()) for i, n in enumerate(TERMS)}


def convex_kpis(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> dict[str, Any]:
    """KPIs in the layout of `accounting.kpis`, plus the job-weighted mean steps."""
    rows = prog.rows
    j = sol.jobs
    x = j["x"].to_numpy(float)
    w = j["w"].to_numpy(float)
    served = float(x.sum())
    q = row_quality(scn, prog, sol)
    it = np.zeros((scn.A, scn.T))
    np.add.at(it, (rows.b, rows.t), rows.kwh_x * x + rows.kwh_w * w)
    it = it / 1000.0 + sol.gpus * PoolArrays.of(scn).idle_mwh_per_gpu_slot[:, None]
    energy = energy_kpis(scn, it, sol)
    return {
        "energy_mwh": energy["energy_mwh"],
        "carbon_t": energy["carbon_t"],
        "jobs_arrived": float(scn.arrivals.sum()),
        "jobs_served": served,
        "jobs_transferred": float(x[rows.a != rows.b].sum()),
        "jobs_dropped": float(sol.drops.sum()),
        "mean_quality": float((q * x).sum() / served) if served > 0 else 0.0,
        "mean_wait_slots": float(((rows.t - rows.tau) * x).sum() / served) if served > 0 else 0.0,
        "mean_steps": float(w.sum() / served) if served > 0 else 0.0,
        "data_centers": energy["data_centers"],
    }


def linear_violations(prog: ConvexProgram, tol: float = 1e-6) -> list[dict[str, Any]]:
    """Largest residual of each linear constraint family (model units) above ``tol`` times
    max(1, the family's largest term); cones are checked through the exact revenue."""
    out = []
    for name, fam in prog.families.items():
        worst = 0.0
        scale = 1.0
        for con in fam:
            res = con.violation()
            if res is None:
                continue
            worst = max(worst, float(np.max(res)) if np.size(res) else 0.0)
            for arg in con.args:
                val = arg.value
                if val is not None and np.size(val):
                    scale = max(scale, float(np.max(np.abs(val))))
        if worst > tol * scale:
            out.append(
                {"constraint": name, "index": "max over rows (model units)", "amount": worst}
            )
    return out


# ---------------------------------------------------------------------------------------
# solving
# ---------------------------------------------------------------------------------------
def method_name(discrete_levels: bool) -> str:
    return "oracle-lp-cvxpy" if discrete_levels else "oracle-convex"


def solve_program(
    prog: ConvexProgram, options: ConvexOptions | None = None, *, build_seconds: float = 0.0
) -> SolveResult:
    """Solve (or re-solve after `update_series`) a built program and account the result.

    Compilation is timed into ``build_seconds``, the solver calls into ``solve_seconds``.
    With ``options.dpp`` the first call compiles the parametrized program and later calls
    only substitute Parameter values. Sets ``prog.solution`` to the `ConvexSolution`.
    """
    options = options or ConvexOptions()
    scn = prog.scenario
    prog.solution = None
    res = SolveResult(
        method=method_name(prog.discrete_levels),
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start_slot,
        status="error",
        utility=None,
        best_bound=None,
        solver=f"cvxpy/{options.solver}",
        solver_version=_versions(options.solver),
        options={
            **options.as_dict(),
            "scaling": prog.scaling.as_dict(),
            "discrete_levels": prog.discrete_levels,
            **prog.meta,
        },
        scenario_obj=scn,
    )
    if prog.has_exp_cones and not CAPABILITIES[options.solver]["exp_cone"]:
        res.message = f"{options.solver} cannot solve exponential cones; use clarabel, scs or ecos"
        return res
    name = _CVXPY_NAME[options.solver]
    problem = prog.problem
    t0 = time.perf_counter()
    try:
        data, chain, inverse = problem.get_problem_data(
            name, ignore_dpp=not options.dpp, solver_opts={}
        )
    except cp.error.SolverError as exc:
        res.message = f"cvxpy could not compile for {options.solver}: {exc}"
        return res
    res.build_seconds = build_seconds + time.perf_counter() - t0
    res.options["compile_seconds"] = round(time.perf_counter() - t0, 4)
    t1 = time.perf_counter()
    raw = cp.SOLVER_ERROR
    raw_gap: float | None = None
    raw_scale = 0.0
    messages = []
    for tol, settings in options.attempts():
        left = None
        if options.time_limit is not None:  # the limit covers every attempt together
            left = options.time_limit - (time.perf_counter() - t1)
            if left <= 0:
                break
        kwargs = {**options.solver_kwargs(tol, left), **settings}
        try:
            solution = chain.solve_via_data(
                problem, data, warm_start=False, verbose=options.verbose, solver_opts=kwargs
            )
            raw_gap = _raw_duality_gap(solution)
            raw_scale = _feasibility_scale(solution, data)
            with warnings.catch_warnings():  # the status says it; no warning on stderr
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                problem.unpack_results(solution, chain, inverse)
            raw = problem.status
        except cp.error.SolverError as exc:
            raw = cp.SOLVER_ERROR
            messages.append(
                f"{options.solver} failed at tol {tol:g}"
                + "".join(f", {k}={v}" for k, v in settings.items())
                + f": {str(exc).split('.')[0]}"
            )
            continue
        reached = options.effective_tol(tol)
        messages.append(
            f"cvxpy status {raw}"
            + ("" if reached is None else f" at tol {reached:g}")
            + "".join(f", {k}={v}" for k, v in settings.items())
        )
        res.options["tol_reached"] = reached if raw == cp.OPTIMAL else None
        res.options["attempts"] = len(messages)
        if raw not in (cp.OPTIMAL_INACCURATE, cp.SOLVER_ERROR):
            break  # optimal, or a definite answer (infeasible, unbounded, limit)
    res.solve_seconds = time.perf_counter() - t1
    res.status = _STATUS.get(raw, "error")
    res.message = "; ".join(messages)
    stats = problem.solver_stats
    if stats is not None:
        res.options["solver_seconds"] = stats.solve_time
        res.options["iterations"] = stats.num_iters
    if raw not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or problem.value is None:
        return res
    _account(prog, res, raw_gap, raw_scale)
    return res


def _raw_duality_gap(solution: Any) -> float | None:
    """Primal minus dual objective of the solver's own (minimisation) problem, in model
    units, when the solver reports both (Clarabel's ``obj_val`` and ``obj_val_dual``)."""
    p = getattr(solution, "obj_val", None)
    d = getattr(solution, "obj_val_dual", None)
    if p is None or d is None or not (np.isfinite(p) and np.isfinite(d)):
        return None
    return float(p - d)


def _feasibility_scale(solution: Any, data: dict) -> float:
    """(1 + ‖c‖_∞)·(1 + ‖x‖_1) of the solver's problem: what a residual of size tol in
    the dual constraints can move the objective by."""
    x = getattr(solution, "x", None)
    c = data.get("c")
    if x is None or c is None:
        return 0.0
    c_max = float(np.max(np.abs(c), initial=0.0))
    return (1.0 + c_max) * (1.0 + float(np.sum(np.abs(x))))


def certified_bound(value: float, raw_gap: float | None, tol: float | None, scale: float) -> float:
    """Upper bound on the maximum (model units) from a solve that reported ``value``: the
    dual objective (``value`` + the raw duality gap when the solver reports it; never
    below ``value``) plus the stated accuracy: tol·(1 + |value|) for the gap and
    tol·``scale`` (`_feasibility_scale`) for the dual residual."""
    dual = value + max(raw_gap or 0.0, 0.0)
    t = tol or 0.0
    return dual + t * (1.0 + abs(value)) + t * scale


def _account(
    prog: ConvexProgram, res: SolveResult, raw_gap: float | None = None, raw_scale: float = 0.0
) -> None:
    """Terms, utility, KPIs and violations of the loaded solution; bound only if optimal."""
    scn = prog.scenario
    sol = extract_solution(prog)
    prog.solution = sol
    objective = float(prog.problem.value) * prog.scaling.usd
    res.objective = objective
    if prog.discrete_levels:
        sch = sol.to_schedule(scn)
        ev = evaluate(scn, sch, relaxed=True)
        res.schedule = sch
        res.terms, res.kpis = ev.terms, ev.kpis
        res.violations = [v.as_dict() for v in ev.violations]
    else:
        res.terms = convex_terms(scn, prog, sol)
        res.kpis = convex_kpis(scn, prog, sol)
        res.violations = linear_violations(prog)
    res.terms = {n: float(res.terms[n]) for n in TERMS}
    res.utility = utility_of(res.terms)
    if res.status == "optimal":  # certified; never below the utility of the solution
        value = float(prog.problem.value)
        bound = certified_bound(value, raw_gap, res.options.get("tol_reached"), raw_scale)
        res.options["dual_objective"] = (
            None if raw_gap is None else (value + raw_gap) * prog.scaling.usd
        )
        res.best_bound = max(bound * prog.scaling.usd, res.utility)
        res.mip_gap = mip_gap(res.utility, res.best_bound)
    if abs(res.utility - objective) > 1e-6 * max(1.0, abs(objective)):
        res.message += (
            f"; accounting U={res.utility:.6f} differs from solver objective {objective:.6f}"
        )


def solve_convex(
    scn: Scenario,
    *,
    discrete_levels: bool = False,
    options: ConvexOptions | None = None,
    scaling: Scaling | None = None,
) -> SolveResult:
    """Build and solve the convex program of MODEL.md §5 (``oracle-convex``).

    ``discrete_levels=True`` solves the same program restricted to the scenario's step
    levels (``oracle-lp-cvxpy``), which must equal the Pyomo LP relaxation.
    """
    t0 = time.perf_counter()
    prog = build_convex(scn, discrete_levels=discrete_levels, scaling=scaling)
    return solve_program(prog, options, build_seconds=time.perf_counter() - t0)


def _versions(solver: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    pkg = {"clarabel": "clarabel", "scs": "scs", "ecos": "ecos", "highs": "highspy"}[solver]
    try:
        return f"cvxpy {cp.__version__}, {pkg} {version(pkg)}"
    except PackageNotFoundError:
        return f"cvxpy {cp.__version__}"
