"""`FamilyResult`: the outcome of a solve or a policy run on a scenario family other than
``aigc-dc`` — a `SolveResult` (same fields, same JSON keys) that also names its ``family``,
keeps the family's own utility terms and a family-specific schedule, and adds the gap to
its bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aigc_opt.solvers.result import SolveResult, gap_to_bound, mip_gap


@dataclass
class FamilyResult(SolveResult):
    """``utility`` is recomputed by the family's accounting from the schedule ($);
    ``objective`` is what the solver reported; ``best_bound`` a proven upper bound on the
    program's optimum (None for a policy run, or without a proof). ``schedule`` is the
    family's own (e.g. the runs of a geo-training oracle)."""

    best_bound: float | None = None
    schedule: Any = None
    family: str = ""

    def summary(self) -> dict[str, Any]:
        gap_usd, gap_pct = gap_to_bound(self.utility, self.best_bound)
        base = super().summary()
        return {
            "family": self.family,
            **base,
            "mip_gap": mip_gap(self.utility, self.best_bound),
            "gap_to_bound_usd": gap_usd,
            "gap_to_bound_pct": gap_pct,
            "terms": dict(self.terms),  # the family's terms, in its order
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
        solution_status=(
            "none" if sol.x is None else "optimal" if sol.status == "optimal" else "feasible"
        ),
    )


def with_evaluation(res: FamilyResult, ev: Any) -> FamilyResult:
    """Fill ``res``'s utility, terms, KPIs and violations from the family's accounting of
    its schedule (``ev``: an evaluation with those four attributes)."""
    res.utility, res.terms, res.kpis, res.violations = ev.utility, ev.terms, ev.kpis, ev.violations
    return res
