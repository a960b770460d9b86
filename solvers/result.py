"""`SolveResult`: one result object whatever produced it (HiGHS MILP/LP, cvxpy, a policy)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.schedule import Schedule

TERMINATIONS = (
    "optimal",
    "time_limit",
    "iteration_limit",
    "interrupted",
    "infeasible",
    "unbounded",
    "infeasible_or_unbounded",
    "error",
)
"""Why a solver stopped. The convex program adds ``inaccurate`` (cvxpy's *_inaccurate)."""
STATUSES = (*TERMINATIONS, "inaccurate")
SOLUTION_STATUSES = ("optimal", "feasible", "none")
"""What a solver left behind: a proven optimum, a feasible incumbent, or nothing."""
STOPPED = ("time_limit", "iteration_limit", "interrupted")
"""Terminations that stop a search early; its incumbent and bound are still valid."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mip_gap(utility: float | None, bound: float | None) -> float | None:
    """MODEL.md §4: (best_bound − utility) / max(|utility|, 1); None without both numbers."""
    if utility is None or bound is None:
        return None
    return max(0.0, (bound - utility) / max(abs(utility), 1.0))


def gap_to_bound(utility: float | None, bound: float | None) -> tuple[float | None, float | None]:
    """Gap of a feasible utility to a certified upper bound: ``(bound − U`` in $, the same
    in % of ``max(|bound|, 1)``). The one definition every command, comparison and report
    uses for "how far from optimal"; ``(None, None)`` without both numbers."""
    if utility is None or bound is None:
        return None, None
    usd = float(bound) - float(utility)
    return usd, 100.0 * usd / max(abs(float(bound)), 1.0)


def ci95(values: Any) -> float | None:
    """Half-width of the 95 % confidence interval of the mean of ``values`` (Student t,
    n − 1 degrees of freedom); None for fewer than two values. The one spread every
    comparison, experiment and report gives beside a mean gap or utility."""
    import numpy as np
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return None
    return float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))


@dataclass
class SolveResult:
    """Outcome of one solve.

    ``utility`` is the incumbent's U recomputed by `accounting.evaluate` from the schedule
    ($); ``objective`` is what the solver reported for it. ``best_bound`` is a proven upper
    bound on the program's optimum (for an LP at an optimal status it is the optimum
    itself), None when none is known. ``status`` is the termination condition (one of
    `STATUSES`; also in summaries as ``termination``) and ``solution_status`` what was
    left behind (`SOLUTION_STATUSES`). Only ``status == "optimal"`` means the gap closed to
    the requested tolerance; a stopped result (`STOPPED`) carries an incumbent (maybe
    None) and a bound (maybe None). ``timestamp`` is the UTC time the result was made.
    """

    method: str
    scenario: str
    horizon: int
    start: int
    status: str
    utility: float | None
    best_bound: float | None
    objective: float | None = None
    mip_gap: float | None = None
    terms: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    solver: str = ""
    solver_version: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    schedule: Schedule | None = None
    scenario_obj: Scenario | None = field(default=None, repr=False)
    solution_status: str = "none"
    timestamp: str = field(default_factory=_now)

    @property
    def termination(self) -> str:
        return self.status

    @property
    def is_bound_valid(self) -> bool:
        """True when ``best_bound`` is a proven upper bound (optimal or limit-stopped)."""
        return self.best_bound is not None and self.status in ("optimal", *STOPPED)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (everything but the schedule)."""
        return {
            "scenario": self.scenario,
            "horizon": self.horizon,
            "start": self.start,
            "method": self.method,
            "status": self.status,
            "termination": self.status,
            "solution_status": self.solution_status,
            "utility": self.utility,
            "best_bound": self.best_bound,
            "mip_gap": self.mip_gap,
            "objective": self.objective,
            "terms": {n: self.terms.get(n) for n in TERMS} if self.terms else {},
            "kpis": self.kpis,
            "violations": self.violations,
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "solver": self.solver,
            "solver_version": self.solver_version,
            "options": self.options,
            "message": self.message,
            "timestamp": self.timestamp,
        }

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``summary.json``, the schedule tables (Parquet) and the resolved scenario."""
        from aigc_opt.solvers.store import write_run  # local: keeps result.py light

        return write_run(out_dir, self.summary(), self.schedule, self.scenario_obj)

    def to_json(self) -> str:
        return json.dumps(self.summary(), indent=2, default=_json_default)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
    except ImportError:  # pragma: no cover
        pass
    return str(obj)
