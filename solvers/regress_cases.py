"""The regression catalog: shipped scenarios × horizons × methods, solved deterministically.

A **case** is one method on one shipped scenario cut to a horizon. Every case is solved with
deterministic settings (HiGHS ``threads=1``, ``random_seed=0``; fixed seeds for noisy
forecasts and random policies) and yields a flat dict of numbers (`flatten`): the utility
U, the proven bound where the method has one, the eight utility terms and a few KPIs.
`aigc_opt.reports.regress` compares those numbers with a golden file under the method's
tolerances; ``aigc-opt regress`` runs both.

Tolerances (`MethodTolerances`) have three tiers:

* ``headline`` — U, ``best_bound`` and ``oracle_bound``: tight for certified optima
  (1e-6 relative for the LP optimum; the MIP gap for the MILP incumbent and bound, since two
  correct solves may stop anywhere inside it), looser for chains of solves (MPC);
* ``terms`` — the eight terms, relative to max(|U|, 1) of the golden case: an optimum may be
  degenerate (several schedules with the same U), so terms are guarded less tightly;
* ``kpis`` — job counts, energy and carbon, relative to max(|value|, 1); not compared for
  optima (LP, MILP, convex), whose schedules are not unique.

A number drifts when |current − golden| > atol + rtol · max(|golden|, scale).

Methods are a registry (`register_method`): each is a callable ``Scenario -> summary dict``
(the keys of `SolveResult.summary`) with its tolerances. Solver modules are imported when a
case runs, so reading tolerances (the pytest plugin does) stays cheap.
"""

from __future__ import annotations

import fnmatch
import math
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.solvers.highs import HighsOptions

MIP_GAP = 1e-5
"""Relative MIP gap requested from HiGHS for catalog MILPs (MODEL.md definition)."""

SEED = 0
"""Seed of every random element of the catalog (HiGHS, noisy forecasts, random policy)."""

THREADS = 1
"""HiGHS threads for catalog solves (one thread: the same path on every machine)."""

MPC_LOOKAHEAD = 6
"""Window of the catalog's MPC cases (slots): short, so the chain stays fast."""

MPC_NOISE = "noisy:0.1"
"""Forecaster of the ``mpc-noisy`` case (seeded with `SEED`)."""


class RegressInputError(ValueError):
    """A bad golden file or option value; ``str(err)`` is a one-line message."""


# ---------------------------------------------------------------------------------------
# tolerances
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tolerance:
    """|current − golden| ≤ atol + rtol · max(|golden|, scale) passes."""

    rtol: float
    atol: float = 0.0

    def limit(self, golden: float, scale: float = 1.0) -> float:
        return self.atol + self.rtol * max(abs(golden), scale)

    def as_dict(self) -> dict[str, float]:
        return {"rtol": self.rtol, "atol": self.atol}


@dataclass(frozen=True)
class MethodTolerances:
    """Per-method tolerances for headline numbers, utility terms and KPIs."""

    headline: Tolerance
    terms: Tolerance
    kpis: Tolerance | None
    """None: KPIs are recorded but not compared (schedules not unique, e.g. interior-point
    solutions of a degenerate relaxation)."""

    def for_metric(self, metric: str) -> Tolerance | None:
        if metric.startswith("terms."):
            return self.terms
        if metric.startswith("kpis."):
            return self.kpis
        return self.headline


OPTIMUM = MethodTolerances(headline=Tolerance(1e-6), terms=Tolerance(1e-4), kpis=None)
"""Certified optima of LPs: the optimum is unique in value, the schedule is not, so its KPIs
are recorded but not compared (the array and Pyomo builds of `default` at 24 h reach the
same U with 9.25 M and 9.44 M jobs transferred: two vertices of one optimal face)."""
MILP = MethodTolerances(headline=Tolerance(MIP_GAP + 1e-9), terms=Tolerance(1e-4), kpis=None)
"""MILPs solved to ``MIP_GAP``: incumbent and bound are each determined up to the gap; the
schedule is not unique (see `OPTIMUM`), so KPIs are not compared."""
CONVEX = MethodTolerances(headline=Tolerance(1e-5), terms=Tolerance(1e-3), kpis=None)
"""Interior-point conic optima (Clarabel at 1e-8): a little looser than simplex; the
relaxed schedule is not unique (e.g. battery cycling at zero wear), so KPIs are not
compared."""
CHAIN = MethodTolerances(headline=Tolerance(1e-3), terms=Tolerance(1e-2), kpis=Tolerance(2e-2))
"""Rolling-horizon chains: each window stops inside its MIP gap and the chain compounds it."""
ARITHMETIC = MethodTolerances(headline=Tolerance(1e-7), terms=Tolerance(1e-7), kpis=Tolerance(1e-6))
"""Deterministic heuristics (plain arithmetic, seeded randomness)."""


# ---------------------------------------------------------------------------------------
# the method registry
# ---------------------------------------------------------------------------------------
Solve = Callable[[Scenario], dict[str, Any]]


@dataclass(frozen=True)
class MethodSpec:
    """One catalog method: ``solve(scenario) -> summary dict`` plus its tolerances."""

    name: str
    solve: Solve
    tolerances: MethodTolerances
    description: str


METHODS: dict[str, MethodSpec] = {}
"""The registry, in registration order (the catalog's method order)."""


def register_method(
    name: str, *, tolerances: MethodTolerances, description: str
) -> Callable[[Solve], Solve]:
    """Decorator: add ``fn(scenario) -> summary dict`` to the catalog as method ``name``."""

    def deco(fn: Solve) -> Solve:
        METHODS[name] = MethodSpec(name, fn, tolerances, description)
        return fn

    return deco


def highs_options() -> HighsOptions:
    """The catalog's deterministic HiGHS settings."""
    return HighsOptions(threads=THREADS, seed=SEED, mip_gap=MIP_GAP)


@register_method(
    "oracle-milp",
    tolerances=MILP,
    description="perfect-foresight MILP (HiGHS, threads=1, seed=0, gap 1e-5)",
)
def _oracle_milp(scn: Scenario) -> dict[str, Any]:
    from aigc_opt.solvers.oracle import solve_oracle

    return solve_oracle(scn, options=highs_options()).summary()


@register_method(
    "oracle-lp",
    tolerances=OPTIMUM,
    description="LP relaxation of the oracle (HiGHS, threads=1, seed=0)",
)
def _oracle_lp(scn: Scenario) -> dict[str, Any]:
    from aigc_opt.solvers.oracle import solve_oracle

    return solve_oracle(scn, relax=True, options=highs_options()).summary()


@register_method(
    "oracle-convex",
    tolerances=CONVEX,
    description="convex program with continuous steps (cvxpy + Clarabel)",
)
def _oracle_convex(scn: Scenario) -> dict[str, Any]:
    from aigc_opt.solvers.convex import solve_convex

    return solve_convex(scn).summary()


def _episode(scn: Scenario, policy: Any) -> dict[str, Any]:
    """Summary of one simulated episode of ``policy`` (seed `SEED`)."""
    from aigc_opt.solvers.policy import run_episode

    return dict(run_episode(scn, policy, seed=SEED).summary())


def _mpc(forecaster: str) -> Any:
    from aigc_opt.solvers.mpc import MPCPolicy

    return MPCPolicy(lookahead=MPC_LOOKAHEAD, forecaster=forecaster, options=highs_options())


def _heuristic(name: str) -> Any:
    from aigc_opt.solvers.heuristics import HEURISTICS

    return HEURISTICS[name]()


@register_method(
    "mpc-perfect",
    tolerances=CHAIN,
    description=f"MPC, perfect forecasts, lookahead {MPC_LOOKAHEAD}",
)
def _mpc_perfect(scn: Scenario) -> dict[str, Any]:
    return _episode(scn, _mpc("perfect"))


@register_method(
    "mpc-noisy",
    tolerances=CHAIN,
    description=f"MPC, {MPC_NOISE} forecasts (seed {SEED}), lookahead {MPC_LOOKAHEAD}",
)
def _mpc_noisy(scn: Scenario) -> dict[str, Any]:
    return _episode(scn, _mpc(MPC_NOISE))


@register_method("greedy", tolerances=ARITHMETIC, description="local-greedy heuristic")
def _greedy(scn: Scenario) -> dict[str, Any]:
    return _episode(scn, _heuristic("greedy"))


@register_method("price-greedy", tolerances=ARITHMETIC, description="price-aware greedy heuristic")
def _price_greedy(scn: Scenario) -> dict[str, Any]:
    return _episode(scn, _heuristic("price-greedy"))


@register_method(
    "random", tolerances=ARITHMETIC, description=f"random feasible policy, seed {SEED}"
)
def _random(scn: Scenario) -> dict[str, Any]:
    return _episode(scn, _heuristic("random"))


# ---------------------------------------------------------------------------------------
# the catalog
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One catalog entry: ``method`` on shipped ``scenario`` cut to ``horizon`` slots
    (None = the scenario's full length) from slot ``start``."""

    scenario: str
    horizon: int | None
    method: str
    start: int = 0

    @property
    def id(self) -> str:
        h = "full" if self.horizon is None else f"h{self.horizon}"
        s = f"+{self.start}" if self.start else ""
        return f"{self.scenario}/{h}{s}/{self.method}"


CATALOG_EPISODES: tuple[tuple[str, int | None], ...] = (("tiny", None), ("default", 24))
"""(shipped scenario, horizon) pairs of the catalog; every registered method runs on each."""


def default_catalog(methods: Iterable[str] | None = None) -> list[Case]:
    """Every (episode, method) pair of the catalog, in a fixed order: the ``aigc-dc``
    episodes with every registered method, then each family's default scenario with the
    family's methods (`regress_families`). ``methods`` keeps only those names."""
    from aigc_opt.solvers.regress_families import family_episodes, methods_for

    keep = None if methods is None else set(methods)
    episodes = [*CATALOG_EPISODES, *family_episodes()]
    return [Case(s, h, m) for s, h in episodes for m in methods_for(s) if keep is None or m in keep]


def select_cases(cases: Sequence[Case], patterns: Sequence[str]) -> list[Case]:
    """Cases whose id matches any glob in ``patterns`` (all cases when none given)."""
    if not patterns:
        return list(cases)
    return [c for c in cases if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """``NAME=PATH`` items into a dict; raises `RegressInputError` on a malformed item."""
    out: dict[str, str] = {}
    for it in items:
        name, sep, path = it.partition("=")
        if not sep or not name or not path:
            raise RegressInputError(
                f"--scenario {it!r}: expected NAME=PATH (e.g. tiny=copy/scenario.toml)"
            )
        out[name.strip()] = path.strip()
    return out


# ---------------------------------------------------------------------------------------
# the numbers of a case
# ---------------------------------------------------------------------------------------
_KPI_KEYS = (
    "jobs_served",
    "jobs_transferred",
    "jobs_dropped",
    "carbon_t",
    "mean_quality",
    "mean_wait_slots",
)
ENERGY_KEYS = ("grid", "renewable_used", "battery_charge", "battery_discharge", "generator")
"""Energy flows (MWh) a case records, under ``kpis.energy_mwh.<source>``."""


def finite(v: Any) -> float | None:
    """``v`` as a float when it is a finite real number (not a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


METRICS: tuple[str, ...] = (
    "utility",
    "best_bound",
    "oracle_bound",
    *(f"terms.{n}" for n in TERMS),
    *(f"kpis.{k}" for k in _KPI_KEYS),
    *(f"kpis.energy_mwh.{k}" for k in ENERGY_KEYS),
)
"""Every key `flatten` can return, in its order."""


def flatten(summary: dict[str, Any] | Any, *, complete: bool = False) -> dict[str, float]:
    """The numbers a regression compares, from a summary dict or a `SolveResult`.

    Keys: ``utility``, ``best_bound``, ``oracle_bound`` (where present), ``terms.<name>``,
    ``kpis.<name>`` and ``kpis.energy_mwh.<source>``. Units: $, MWh, t, jobs, slots.
    ``complete``: every key of `METRICS`, NaN where the summary has no finite number.
    """
    if not isinstance(summary, dict):
        summary = summary.summary()
    out: dict[str, float] = dict.fromkeys(METRICS, math.nan) if complete else {}
    for key in ("utility", "best_bound", "oracle_bound"):
        v = finite(summary.get(key))
        if v is not None:
            out[key] = v
    terms = summary.get("terms") or {}
    family = "family" in summary  # a scenario family's summary: its own terms and KPIs
    for n in list(terms) if family else TERMS:
        v = finite(terms.get(n))
        if v is not None:
            out[f"terms.{n}"] = v
    kp = summary.get("kpis") or {}
    for k in kp if family else _KPI_KEYS:
        v = finite(kp.get(k))
        if v is not None:
            out[f"kpis.{k}"] = v
    e = kp.get("energy_mwh")
    en: dict[str, Any] = e if isinstance(e, dict) else {}
    for k in ENERGY_KEYS:
        v = finite(en.get(k))
        if v is not None:
            out[f"kpis.energy_mwh.{k}"] = v
    return out


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """The result of one case: status, flattened numbers and seconds, or the error."""

    case: Case
    status: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    violations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.id,
            "status": self.status,
            "violations": self.violations,
            "values": self.values,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def run_case(case: Case, scenario: Scenario) -> Outcome:
    """Solve one case on an already loaded scenario. A crash (or an unregistered method)
    is recorded as the case's error: a regression result, not a traceback."""
    out = Outcome(case)
    t0 = time.perf_counter()
    from aigc_opt.solvers.regress_families import family_methods

    family = getattr(scenario, "family", "aigc-dc")
    try:
        methods = METHODS if family == "aigc-dc" else family_methods(family)
        summary = methods[case.method].solve(scenario)
    except Exception as exc:
        out.seconds = time.perf_counter() - t0
        out.error = f"{type(exc).__name__}: {exc}"
        frames = traceback.format_exc(limit=3).strip().splitlines()
        if len(frames) >= 2:
            out.error += " | " + frames[-2].strip()
        return out
    out.seconds = time.perf_counter() - t0
    out.status = str(summary.get("status"))
    out.violations = len(summary.get("violations") or [])
    out.values = flatten(summary)
    return out


def load_catalog_scenario(
    name: str, horizon: int | None, start: int = 0, *, overrides: dict[str, str] | None = None
) -> Any:
    """Load catalog scenario ``name`` (or the TOML that ``overrides`` maps it to), cut to
    ``horizon`` slots from ``start``."""
    from aigc_opt.data.catalog import load_scenario
    from aigc_opt.solvers.family_registry import family_for

    src = (overrides or {}).get(name, name)
    fam = family_for(src)
    if fam is not None:
        return fam.load_scenario(src, horizon, start)
    return load_scenario(src, horizon=horizon, start=start)


def run_cases(
    cases: Sequence[Case],
    *,
    overrides: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Solve every case (scenarios loaded once per episode). ``overrides`` maps a catalog
    scenario name to a TOML path to load instead (e.g. a modified copy)."""
    overrides = overrides or {}
    loaded: dict[tuple[str, int | None, int], Any] = {}
    out: list[Outcome] = []
    for i, case in enumerate(cases, 1):
        key = (case.scenario, case.horizon, case.start)
        if key not in loaded:
            loaded[key] = load_catalog_scenario(
                case.scenario, case.horizon, case.start, overrides=overrides
            )
        o = run_case(case, loaded[key])
        if progress is not None:
            what = "ERROR" if o.error else o.status
            progress(f"[{i}/{len(cases)}] {case.id}: {what} ({o.seconds:.2f} s)")
        out.append(o)
    return out
