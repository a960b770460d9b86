"""`FamilyResult`: the outcome of a solve or a policy run on a scenario family other than
``aigc-dc``, with the JSON keys of `SolveResult.summary` (``status``, ``utility``,
``best_bound``, ``mip_gap``, ``terms``, ``kpis`` …) plus ``family``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aigc_opt.solvers.result import gap_to_bound, mip_gap


@dataclass
class FamilyResult:
    """``utility`` is recomputed by the family's accounting from the schedule ($);
    ``objective`` is what the solver reported; ``best_bound`` a proven upper bound on the
    program's optimum (None for a policy run, or without a proof)."""

    family: str
    method: str
    scenario: str
    horizon: int
    start: int
    status: str
    utility: float | None
    best_bound: float | None = None
    objective: float | None = None
    terms: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    solver: str = ""
    solver_version: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    schedule: Any = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        gap_usd, gap_pct = gap_to_bound(self.utility, self.best_bound)
        return {
            "family": self.family,
            "scenario": self.scenario,
            "horizon": self.horizon,
            "start": self.start,
            "method": self.method,
            "status": self.status,
            "utility": self.utility,
            "best_bound": self.best_bound,
            "mip_gap": mip_gap(self.utility, self.best_bound),
            "gap_to_bound_usd": gap_usd,
            "gap_to_bound_pct": gap_pct,
            "objective": self.objective,
            "terms": dict(self.terms),
            "kpis": self.kpis,
            "violations": self.violations,
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "solver": self.solver,
            "solver_version": self.solver_version,
            "options": self.options,
            "message": self.message,
        }


def oracle_result(
    family: str, scn: Any, sol: Any, *, relax: bool, build_seconds: float, options: dict[str, Any]
) -> FamilyResult:
    """The `FamilyResult` of an `ArraySolution` (utility and terms still to be filled in
    from the schedule by the family's accounting)."""
    return FamilyResult(
        family=family,
        method="oracle-lp" if relax else "oracle-milp",
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start,
        status=sol.status,
        utility=None,
        best_bound=sol.best_bound,
        objective=sol.objective,
        build_seconds=build_seconds,
        solve_seconds=sol.seconds,
        solver="highs",
        solver_version=sol.version,
        options=options,
        message=sol.message,
    )


def with_evaluation(res: FamilyResult, ev: Any) -> FamilyResult:
    """Fill ``res``'s utility, terms, KPIs and violations from the family's accounting of
    its schedule (``ev``: an evaluation with those four attributes)."""
    res.utility, res.terms, res.kpis, res.violations = ev.utility, ev.terms, ev.kpis, ev.violations
    return res
