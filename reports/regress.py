"""Regression of headline utility numbers against a committed golden file.

A **catalog** of cases (shipped scenario × horizon × method) is solved with deterministic
settings (HiGHS ``threads=1``, ``random_seed=0``; fixed seeds for noisy forecasts and random
policies). Each case yields a flat dict of numbers (`flatten`): the utility U, the proven
bound where the method has one, the eight utility terms and a few KPIs. `compare` checks
each number against the golden file under the method's tolerances and `print_comparison`
shows a diff table; ``aigc-opt regress`` exits 1 on drift.

Tolerances (`MethodTolerances`) have three tiers:

* ``headline`` — U, ``best_bound`` and ``oracle_bound``: tight for certified optima
  (1e-6 relative for the LP optimum; the MIP gap for the MILP incumbent and bound, since two
  correct solves may stop anywhere inside it), looser for chains of solves (MPC);
* ``terms`` — the eight terms, relative to max(|U|, 1) of the golden case: an optimum may be
  degenerate (several schedules with the same U), so terms are guarded less tightly;
* ``kpis`` — job counts, energy and carbon, relative to max(|value|, 1).

A number drifts when |current − golden| > atol + rtol · max(|golden|, scale).

Methods are a **registry** (`register_method`): each is a callable ``Scenario -> summary
dict`` (the keys of `SolveResult.summary`). A method whose module is not importable raises
`MethodUnavailable` and is skipped (and reported as missing if the golden file has it).
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigc_opt.formulations.accounting import TERMS

GOLDEN_FORMAT = "aigc-opt-regress/1"

MIP_GAP = 1e-5
"""Relative MIP gap requested from HiGHS for catalog MILPs (MODEL.md definition)."""

SEED = 0
"""Seed of every random element of the catalog (HiGHS, noisy forecasts, random policy)."""

THREADS = 1
"""HiGHS threads for catalog solves (one thread: the same path on every machine)."""


# ---------------------------------------------------------------------------------------
# tolerances and the method registry
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


class RegressInputError(ValueError):
    """A bad golden file or option value; ``str(err)`` is a one-line message."""


class MethodUnavailable(RuntimeError):
    """The method's implementation is not importable in this installation."""


@dataclass(frozen=True)
class MethodSpec:
    """One catalog method: ``solve(scenario) -> summary dict`` plus its tolerances."""

    name: str
    solve: Callable[[Any], dict[str, Any]]
    tolerances: MethodTolerances
    description: str


METHODS: dict[str, MethodSpec] = {}
"""The registry, in registration order (the catalog's method order)."""


def register_method(
    name: str, *, tolerances: MethodTolerances, description: str
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Decorator: add ``fn(scenario) -> summary dict`` to the catalog as method ``name``."""

    def deco(fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        METHODS[name] = MethodSpec(name, fn, tolerances, description)
        return fn

    return deco


OPTIMUM = MethodTolerances(headline=Tolerance(1e-6), terms=Tolerance(1e-4), kpis=Tolerance(1e-3))
"""Certified optima of LPs: the optimum is unique in value, the schedule may not be."""
MILP = MethodTolerances(
    headline=Tolerance(MIP_GAP + 1e-9), terms=Tolerance(1e-4), kpis=Tolerance(1e-3)
)
"""MILPs solved to ``MIP_GAP``: incumbent and bound are each determined up to the gap."""
CONVEX = MethodTolerances(headline=Tolerance(1e-5), terms=Tolerance(1e-3), kpis=None)
"""Interior-point conic optima (Clarabel at 1e-8): a little looser than simplex; the
relaxed schedule is not unique (e.g. battery cycling at zero wear), so KPIs are not
compared."""
CHAIN = MethodTolerances(headline=Tolerance(1e-3), terms=Tolerance(1e-2), kpis=Tolerance(2e-2))
"""Rolling-horizon chains: each window stops inside its MIP gap and the chain compounds it."""
ARITHMETIC = MethodTolerances(headline=Tolerance(1e-7), terms=Tolerance(1e-7), kpis=Tolerance(1e-6))
"""Deterministic heuristics (plain arithmetic, seeded randomness)."""


def _highs_options() -> Any:
    from aigc_opt.solvers.highs import HighsOptions

    return HighsOptions(threads=THREADS, seed=SEED, mip_gap=MIP_GAP)


@register_method(
    "oracle-milp",
    tolerances=MILP,
    description="perfect-foresight MILP (HiGHS, threads=1, seed=0, gap 1e-5)",
)
def _oracle_milp(scn: Any) -> dict[str, Any]:
    from aigc_opt.solvers.oracle import solve_oracle

    return solve_oracle(scn, options=_highs_options()).summary()


@register_method(
    "oracle-lp",
    tolerances=OPTIMUM,
    description="LP relaxation of the oracle (HiGHS, threads=1, seed=0)",
)
def _oracle_lp(scn: Any) -> dict[str, Any]:
    from aigc_opt.solvers.oracle import solve_oracle

    return solve_oracle(scn, relax=True, options=_highs_options()).summary()


@register_method(
    "oracle-convex",
    tolerances=CONVEX,
    description="convex program with continuous steps (cvxpy + Clarabel)",
)
def _oracle_convex(scn: Any) -> dict[str, Any]:
    try:
        from aigc_opt.solvers.convex import solve_convex
    except ImportError as exc:
        raise MethodUnavailable(f"aigc_opt.solvers.convex not importable ({exc})") from None
    return solve_convex(scn).summary()


MPC_LOOKAHEAD = 6
"""Window of the catalog's MPC cases (slots): short, so the chain stays fast."""
MPC_NOISE = "noisy:0.1"
"""Forecaster of the ``mpc-noisy`` case (seeded with `SEED`)."""


# HOOK(policies): MPC and the heuristics run through `aigc_opt.solvers.policy.run_episode`
# (the simulator). Each hook imports its module lazily; when the module is absent the case
# is skipped (MethodUnavailable). If those APIs change, adapt the factories below; keep the
# fixed seed and single-threaded HiGHS options.
def _episode(scn: Any, module: str, make_policy: Callable[[Any], Any]) -> dict[str, Any]:
    """Run one simulated episode of the policy built by ``make_policy(module)``."""
    import importlib

    try:
        mod = importlib.import_module(module)
        from aigc_opt.solvers.policy import run_episode
    except ImportError as exc:
        raise MethodUnavailable(f"{module} not importable ({exc})") from None
    return dict(run_episode(scn, make_policy(mod), seed=SEED).summary())


@register_method(
    "mpc-perfect",
    tolerances=CHAIN,
    description=f"MPC, perfect forecasts, lookahead {MPC_LOOKAHEAD}",
)
def _mpc_perfect(scn: Any) -> dict[str, Any]:
    return _episode(
        scn,
        "aigc_opt.solvers.mpc",
        lambda m: m.MPCPolicy(
            lookahead=MPC_LOOKAHEAD, forecaster="perfect", options=_highs_options()
        ),
    )


@register_method(
    "mpc-noisy",
    tolerances=CHAIN,
    description=f"MPC, {MPC_NOISE} forecasts (seed {SEED}), lookahead {MPC_LOOKAHEAD}",
)
def _mpc_noisy(scn: Any) -> dict[str, Any]:
    return _episode(
        scn,
        "aigc_opt.solvers.mpc",
        lambda m: m.MPCPolicy(
            lookahead=MPC_LOOKAHEAD, forecaster=MPC_NOISE, options=_highs_options()
        ),
    )


@register_method("greedy", tolerances=ARITHMETIC, description="local-greedy heuristic")
def _greedy(scn: Any) -> dict[str, Any]:
    return _episode(scn, "aigc_opt.solvers.heuristics", lambda m: m.HEURISTICS["greedy"]())


@register_method("price-greedy", tolerances=ARITHMETIC, description="price-aware greedy heuristic")
def _price_greedy(scn: Any) -> dict[str, Any]:
    return _episode(scn, "aigc_opt.solvers.heuristics", lambda m: m.HEURISTICS["price-greedy"]())


@register_method(
    "random", tolerances=ARITHMETIC, description=f"random feasible policy, seed {SEED}"
)
def _random(scn: Any) -> dict[str, Any]:
    return _episode(scn, "aigc_opt.solvers.heuristics", lambda m: m.HEURISTICS["random"]())


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
    """Every (episode, method) pair of the catalog, in a fixed order."""
    names = list(METHODS) if methods is None else list(methods)
    return [Case(s, h, m) for s, h in CATALOG_EPISODES for m in names]


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
# running
# ---------------------------------------------------------------------------------------
_KPI_KEYS = (
    "jobs_served",
    "jobs_transferred",
    "jobs_dropped",
    "carbon_t",
    "mean_quality",
    "mean_wait_slots",
)
_ENERGY_KEYS = ("grid", "renewable_used", "battery_charge", "battery_discharge", "generator")


def _finite(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def flatten(summary: dict[str, Any] | Any) -> dict[str, float]:
    """The numbers a regression compares, from a summary dict or a `SolveResult`.

    Keys: ``utility``, ``best_bound``, ``oracle_bound`` (where present), ``terms.<name>``,
    ``kpis.<name>`` and ``kpis.energy_mwh.<source>``. Units: $, MWh, t, jobs, slots.
    Usable directly with pytest-regressions' ``num_regression.check``.
    """
    if not isinstance(summary, dict):
        summary = summary.summary()
    out: dict[str, float] = {}
    for key in ("utility", "best_bound", "oracle_bound"):
        v = _finite(summary.get(key))
        if v is not None:
            out[key] = v
    terms = summary.get("terms") or {}
    for n in TERMS:
        v = _finite(terms.get(n))
        if v is not None:
            out[f"terms.{n}"] = v
    kp = summary.get("kpis") or {}
    for k in _KPI_KEYS:
        v = _finite(kp.get(k))
        if v is not None:
            out[f"kpis.{k}"] = v
    en = kp.get("energy_mwh") if isinstance(kp.get("energy_mwh"), dict) else {}
    for k in _ENERGY_KEYS:
        v = _finite(en.get(k))
        if v is not None:
            out[f"kpis.energy_mwh.{k}"] = v
    return out


@dataclass
class Outcome:
    """The result of one case: status, flattened numbers, seconds, or why it did not run."""

    case: Case
    status: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    unavailable: str | None = None
    violations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.id,
            "status": self.status,
            "violations": self.violations,
            "values": self.values,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "unavailable": self.unavailable,
        }


def run_case(case: Case, scenario: Any) -> Outcome:
    """Solve one case on an already loaded scenario."""
    spec = METHODS.get(case.method)
    out = Outcome(case)
    if spec is None:
        out.unavailable = f"method {case.method!r} is not registered"
        return out
    t0 = time.perf_counter()
    try:
        summary = spec.solve(scenario)
    except MethodUnavailable as exc:
        out.unavailable = str(exc)
        return out
    except Exception as exc:  # a crash is a regression result, not a traceback
        out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - t0
        tb = traceback.format_exc(limit=3)
        out.error += " | " + tb.strip().splitlines()[-2].strip() if tb else ""
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

    src = (overrides or {}).get(name, name)
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
            what = "skipped" if o.unavailable else "ERROR" if o.error else o.status
            progress(f"[{i}/{len(cases)}] {case.id}: {what} ({o.seconds:.2f} s)")
        out.append(o)
    return out


# ---------------------------------------------------------------------------------------
# the golden file
# ---------------------------------------------------------------------------------------
def read_golden(path: str | Path) -> dict[str, Any]:
    """Read and check a golden file; raises `RegressInputError` with a one-line message."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise RegressInputError(f"--golden {p}: file not found (create it with --update)") from None
    except json.JSONDecodeError as exc:
        raise RegressInputError(
            f"--golden {p}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("format") != GOLDEN_FORMAT
        or not isinstance(data.get("cases"), dict)
    ):
        raise RegressInputError(
            f"--golden {p}: not an aigc-opt golden file (format {GOLDEN_FORMAT})"
        )
    return data


def golden_document(cases: dict[str, Any]) -> dict[str, Any]:
    from aigc_opt.solvers.store import run_metadata

    return {
        "format": GOLDEN_FORMAT,
        "about": "Golden numbers of `aigc-opt regress`. Regenerate with "
        "`aigc-opt regress --golden FILE --update` after reviewing the drift.",
        "settings": {"highs_threads": THREADS, "seed": SEED, "mip_gap": MIP_GAP},
        "tolerances": {
            m.name: {
                "headline": m.tolerances.headline.as_dict(),
                "terms": m.tolerances.terms.as_dict(),
                "kpis": (m.tolerances.kpis.as_dict() if m.tolerances.kpis else None),
            }
            for m in METHODS.values()
        },
        "versions": run_metadata(),
        "cases": dict(sorted(cases.items())),
    }


def update_golden(
    path: str | Path, outcomes: Sequence[Outcome], *, partial: bool = False
) -> list[str]:
    """Write the outcomes to the golden file atomically; returns the ids whose numbers
    changed. Cases that failed or were unavailable keep their previous entry; with
    ``partial`` every other previous entry is kept too."""
    from aigc_opt.solvers.store import write_json

    p = Path(path)
    old: dict[str, Any] = {}
    if p.is_file():
        try:
            old = read_golden(p)["cases"]
        except Exception:
            old = {}
    new: dict[str, Any] = dict(old) if partial else {}
    changed: list[str] = []
    for o in outcomes:
        cid = o.case.id
        if o.error or o.unavailable:
            if cid in old:
                new[cid] = old[cid]
            continue
        entry = {
            "scenario": o.case.scenario,
            "horizon": o.case.horizon,
            "start": o.case.start,
            "method": o.case.method,
            "status": o.status,
            **({"violations": o.violations} if o.violations else {}),
            "values": o.values,
        }
        if old.get(cid) != entry:
            changed.append(cid)
        new[cid] = entry
    if not partial:
        kept = {o.case.id for o in outcomes}
        changed += [cid for cid in old if cid not in kept]
    write_json(p, golden_document(new))
    return changed


# ---------------------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------------------
@dataclass
class Diff:
    """One compared number."""

    case: str
    metric: str
    golden: float | str | None
    current: float | str | None
    limit: float | None
    verdict: str  # ok | DRIFT | missing | new

    @property
    def delta(self) -> float | None:
        if isinstance(self.golden, float) and isinstance(self.current, float):
            return self.current - self.golden
        return None

    @property
    def ratio(self) -> float | None:
        d = self.delta
        if d is None or self.limit is None:
            return None
        return abs(d) / self.limit if self.limit > 0 else (0.0 if d == 0 else math.inf)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "metric": self.metric,
            "golden": self.golden,
            "current": self.current,
            "delta": self.delta,
            "limit": self.limit,
            "verdict": self.verdict,
        }


@dataclass
class CaseVerdict:
    case: str
    method: str
    verdict: str  # ok | DRIFT | STATUS | ERROR | MISSING | new | skipped
    status: str | None
    golden_status: str | None
    compared: int
    worst: float | None
    seconds: float
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in ("DRIFT", "STATUS", "ERROR", "MISSING")

    def as_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "case",
                "method",
                "verdict",
                "status",
                "golden_status",
                "compared",
                "worst",
                "seconds",
                "note",
            )
        }


@dataclass
class Comparison:
    cases: list[CaseVerdict]
    diffs: list[Diff]
    strict: bool = False

    @property
    def ok(self) -> bool:
        bad = any(c.failed for c in self.cases)
        if self.strict:
            bad = bad or any(c.verdict == "new" for c in self.cases)
        return not bad

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cases": [c.as_dict() for c in self.cases],
            "drift": [d.as_dict() for d in self.diffs if d.verdict != "ok"],
            "compared": [d.as_dict() for d in self.diffs],
        }


def compare_case(
    case_id: str,
    method: str,
    golden: dict[str, Any],
    current: dict[str, float],
    tol: MethodTolerances,
) -> list[Diff]:
    """Compare the numbers of one case under the method's tolerances."""
    gvals = golden.get("values", {})
    scales = _scales(gvals)
    out: list[Diff] = []
    for metric in [*gvals, *(k for k in current if k not in gvals)]:
        g = _finite(gvals.get(metric))
        c = current.get(metric)
        if g is None:
            out.append(Diff(case_id, metric, None, c, None, "new"))
            continue
        if c is None:
            out.append(Diff(case_id, metric, g, None, None, "missing"))
            continue
        t = tol.for_metric(metric)
        if t is None:
            continue
        lim = t.limit(g, _scale_of(metric, scales))
        ok = abs(float(c) - g) <= lim
        out.append(Diff(case_id, metric, g, float(c), lim, "ok" if ok else "DRIFT"))
    return out


def _scales(gvals: dict[str, Any]) -> dict[str, float]:
    """Magnitudes a metric family is compared against: |U| ($) for the terms, jobs served
    for job counts, energy supplied (MWh) for energy flows; each at least 1."""

    def g(k: str) -> float:
        return abs(_finite(gvals.get(k)) or 0.0)

    supplied = sum(
        g(f"kpis.energy_mwh.{k}")
        for k in ("grid", "renewable_used", "battery_discharge", "generator")
    )
    return {
        "terms.": max(g("utility"), 1.0),
        "kpis.jobs_": max(g("kpis.jobs_served"), 1.0),
        "kpis.energy_mwh.": max(supplied, 1.0),
    }


def _scale_of(metric: str, scales: dict[str, float]) -> float:
    for prefix, sc in scales.items():
        if metric.startswith(prefix):
            return sc
    return 1.0


def compare(
    golden: dict[str, Any],
    outcomes: Sequence[Outcome],
    *,
    strict: bool = False,
    partial: bool = False,
) -> Comparison:
    """Compare outcomes with a golden document (see `read_golden`)."""
    gcases: dict[str, Any] = golden.get("cases", {})
    verdicts: list[CaseVerdict] = []
    diffs: list[Diff] = []
    for o in outcomes:
        cid = o.case.id
        g = gcases.get(cid)
        gs = g.get("status") if g else None
        base = dict(
            case=cid,
            method=o.case.method,
            status=o.status,
            golden_status=gs,
            seconds=round(o.seconds, 3),
        )
        if o.unavailable:
            verdicts.append(
                CaseVerdict(
                    **base,
                    verdict="MISSING" if g else "skipped",
                    compared=0,
                    worst=None,
                    note=o.unavailable,
                )
            )
            continue
        if o.error:
            verdicts.append(
                CaseVerdict(**base, verdict="ERROR", compared=0, worst=None, note=o.error)
            )
            continue
        if g is None:
            verdicts.append(
                CaseVerdict(
                    **base,
                    verdict="new",
                    compared=0,
                    worst=None,
                    note="not in the golden file (run with --update)",
                )
            )
            continue
        spec = METHODS[o.case.method]
        ds = compare_case(cid, o.case.method, g, o.values, spec.tolerances)
        diffs += ds
        ratios = [d.ratio for d in ds if d.ratio is not None]
        worst = max(ratios) if ratios else None
        bad = [d for d in ds if d.verdict in ("DRIFT", "missing")]
        if gs != o.status or g.get("violations", 0) != o.violations:
            verdict, note = "STATUS", f"status {gs} → {o.status}"
            if g.get("violations", 0) != o.violations:
                note += f", violations {g.get('violations', 0)} → {o.violations}"
        elif bad:
            verdict = "DRIFT"
            note = ", ".join(d.metric for d in bad[:4]) + (" …" if len(bad) > 4 else "")
        else:
            verdict, note = "ok", ""
        verdicts.append(
            CaseVerdict(**base, verdict=verdict, compared=len(ds), worst=worst, note=note)
        )
    if not partial:
        ran = {o.case.id for o in outcomes}
        for cid, g in gcases.items():
            if cid not in ran:
                verdicts.append(
                    CaseVerdict(
                        case=cid,
                        method=str(g.get("method")),
                        verdict="MISSING",
                        status=None,
                        golden_status=g.get("status"),
                        compared=0,
                        worst=None,
                        seconds=0.0,
                        note="in the golden file but not in the catalog",
                    )
                )
    return Comparison(verdicts, diffs, strict)


# ---------------------------------------------------------------------------------------
# printing
# ---------------------------------------------------------------------------------------
def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


_STYLE = {
    "ok": "green",
    "DRIFT": "bold red",
    "STATUS": "bold red",
    "ERROR": "bold red",
    "MISSING": "bold red",
    "new": "yellow",
    "skipped": "dim",
    "missing": "bold red",
}


def print_comparison(cmp: Comparison, console: Any, *, verbose: bool = False) -> None:
    """Case table, then the drifted numbers (every number with ``verbose``), then one
    summary line (the last line of the output)."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="aigc-opt regress · cases")
    for col, just in (
        ("case", "left"),
        ("status", "left"),
        ("numbers", "right"),
        ("worst |Δ|/tol", "right"),
        ("s", "right"),
        ("verdict", "left"),
        ("note", "left"),
    ):
        t.add_column(
            col,
            justify=just,
            overflow="fold",  # type: ignore[arg-type]
            no_wrap=col == "case",
        )
    skipped = [c for c in cmp.cases if c.verdict == "skipped"]
    for c in cmp.cases:
        if c.verdict == "skipped":
            continue
        st = c.status or "—"
        if c.golden_status and c.golden_status != c.status:
            st = f"{c.golden_status} → {st}"
        worst = "—" if c.worst is None else f"{c.worst:.3g}"
        t.add_row(
            escape(c.case),
            escape(st),
            str(c.compared),
            worst,
            f"{c.seconds:.2f}",
            f"[{_STYLE.get(c.verdict, '')}]{c.verdict}[/]",
            escape(c.note),
        )
    console.print(t)
    rows = [d for d in cmp.diffs if verbose or d.verdict != "ok"]
    if rows:
        d_t = Table(title="numbers" if verbose else "drift")
        for col in ("case", "metric", "golden", "current", "Δ", "tolerance", "verdict"):
            d_t.add_column(
                col,
                justify="left" if col in ("case", "metric", "verdict") else "right",
                overflow="fold",
            )
        for d in rows:
            d_t.add_row(
                escape(d.case),
                escape(d.metric),
                escape(_num(d.golden)),
                escape(_num(d.current)),
                "—" if d.delta is None else f"{d.delta:+.3e}",
                "—" if d.limit is None else f"{d.limit:.3e}",
                f"[{_STYLE.get(d.verdict, '')}]{d.verdict}[/]",
            )
        console.print(d_t)
    n_num = sum(c.compared for c in cmp.cases)
    failed = [c for c in cmp.cases if c.failed]
    new = [c for c in cmp.cases if c.verdict == "new"]
    secs = sum(c.seconds for c in cmp.cases)
    if skipped:
        notes = sorted({c.note for c in skipped})
        console.print(
            f"[dim]skipped {len(skipped)} case(s) of methods not available: "
            f"{', '.join(sorted({c.method for c in skipped}))} "
            f"({escape('; '.join(notes))})[/]",
            highlight=False,
        )
    n_run = len(cmp.cases) - len(skipped)
    if cmp.ok:
        extra = f"; {len(new)} new case(s) not in the golden file" if new else ""
        console.print(
            f"[green]regress: OK[/] — {n_run} cases, {n_num} numbers within "
            f"tolerance ({secs:.1f} s solving){extra}",
            highlight=False,
        )
    else:
        n_drift = sum(1 for d in cmp.diffs if d.verdict != "ok" and d.verdict != "new")
        what = ", ".join(f"{c.case} {c.verdict}" for c in (failed or new)[:3])
        what += " …" if len(failed or new) > 3 else ""
        console.print(
            f"[bold red]regress: FAILED[/] — {len(failed or new)} of "
            f"{len(cmp.cases)} cases ({n_drift} numbers out of tolerance): "
            f"{escape(what)}",
            highlight=False,
        )


def print_update(
    path: Path, outcomes: Sequence[Outcome], changed: Sequence[str], console: Any
) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"aigc-opt regress --update → {escape(str(path))}")
    for col in ("case", "status", "U ($)", "bound ($)", "s", "note"):
        t.add_column(col, overflow="fold")
    skipped = [o for o in outcomes if o.unavailable]
    for o in outcomes:
        if o.unavailable:
            continue
        note = (
            "ERROR: " + o.error if o.error else ("changed" if o.case.id in changed else "unchanged")
        )
        t.add_row(
            escape(o.case.id),
            escape(o.status or "—"),
            _num(o.values.get("utility")),
            _num(o.values.get("best_bound", o.values.get("oracle_bound"))),
            f"{o.seconds:.2f}",
            escape(note),
        )
    console.print(t)
    if skipped:
        console.print(
            f"[dim]skipped (method not available): "
            f"{', '.join(sorted({o.case.method for o in skipped}))}[/]",
            highlight=False,
        )
    n_err = sum(1 for o in outcomes if o.error)
    msg = f"golden file written: {escape(str(path))} ({len(changed)} case(s) changed"
    msg += f", {n_err} failed and kept their previous entry)" if n_err else ")"
    console.print(msg, highlight=False)
