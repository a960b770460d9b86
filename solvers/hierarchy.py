"""The bound hierarchy U_convex ≥ U_LP ≥ U_MILP on one scenario (MODEL.md §5).

`solve_hierarchy` solves the three programs on the same horizon — the MILP (HiGHS), its LP
relaxation (HiGHS) and the convex program with continuous denoising steps (cvxpy) — and
returns a `Hierarchy`: the three `SolveResult`s, the built convex program, which numbers
are valid upper bounds on the utility of any policy (`bound_value`), the differences
between the utilities in % of |U_MILP| and whether the ordering holds within the solvers'
tolerances. `Hierarchy.write` stores everything in a run folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.convex import ConvexProgram, build_convex
from aigc_opt.solvers.convex import ConvexOptions, solve_program
from aigc_opt.solvers.convex_solution import convex_slot_terms
from aigc_opt.solvers.highs import HighsOptions
from aigc_opt.solvers.oracle import Backend, solve_lp_after_milp, solve_oracle
from aigc_opt.solvers.result import STOPPED, SolveResult
from aigc_opt.solvers.store import write_json, write_parquet

ORDER = ("convex", "lp", "milp")
"""The programs from the loosest relaxation to the MILP."""
ORDER_REL_TOL = 1e-6
"""Relative slack allowed when checking U_convex ≥ U_LP ≥ U_MILP (solver tolerances)."""


def bound_value(res: SolveResult) -> float | None:
    """The number that bounds every policy's utility ($), or None: a relaxation's optimum
    at status optimal, or the MILP's best bound (also when stopped early)."""
    if res.status == "optimal":
        return res.best_bound
    if res.status in STOPPED and res.method == "oracle-milp":
        return res.best_bound
    return None


def pct_of_milp(value: float | None, base: float | None) -> float | None:
    """``value`` in % of |U_MILP| (``base``); None without both numbers or when U_MILP = 0."""
    if value is None or base is None or base == 0:
        return None
    return 100.0 * value / abs(base)


@dataclass
class Hierarchy:
    """The three solves of one scenario and the convex program they came from."""

    milp: SolveResult
    lp: SolveResult
    convex: SolveResult
    convex_program: ConvexProgram

    def results(self) -> dict[str, SolveResult]:
        """The results keyed ``convex``, ``lp``, ``milp`` (the order of `ORDER`)."""
        return {"convex": self.convex, "lp": self.lp, "milp": self.milp}

    def summaries(self) -> dict[str, dict[str, object]]:
        """Each result's summary keyed ``milp``, ``lp``, ``convex`` (``bounds.json``)."""
        results = self.results()
        return {k: results[k].summary() for k in ("milp", "lp", "convex")}

    def gaps_pct(self) -> dict[str, float | None]:
        """Differences between the utilities in % of |U_MILP| (the value of each relaxation)."""
        u = {k: r.utility for k, r in self.results().items()}

        def diff(a: str, b: str) -> float | None:
            ua, ub = u[a], u[b]
            return None if ua is None or ub is None else pct_of_milp(ua - ub, u["milp"])

        return {
            "convex_vs_lp": diff("convex", "lp"),
            "lp_vs_milp": diff("lp", "milp"),
            "convex_vs_milp": diff("convex", "milp"),
        }

    def ordering_holds(self, rel_tol: float = ORDER_REL_TOL) -> bool | None:
        """U_convex ≥ U_LP ≥ U_MILP within ``rel_tol``·max(1, |U_MILP|); None if a value
        is missing."""
        u_convex, u_lp, u_milp = self.convex.utility, self.lp.utility, self.milp.utility
        if u_convex is None or u_lp is None or u_milp is None:
            return None
        tol = rel_tol * max(1.0, abs(u_milp))
        return u_convex >= u_lp - tol and u_lp >= u_milp - tol

    def write(self, out: Path) -> None:
        """Each result in ``out/<milp|lp|convex>/``, the convex solution's tables and its
        per-slot terms, and ``bounds.json`` (the three summaries)."""
        for key, res in self.results().items():
            res.write(out / key)
        prog = self.convex_program
        if prog.solution is not None:
            meta = {"method": self.convex.method, "scenario": self.convex.scenario}
            for name, df in prog.solution.tidy(prog.scenario).items():
                write_parquet(out / "convex" / f"solution_{name}.parquet", df, meta)
            per = pd.DataFrame(
                convex_slot_terms(prog.scenario, prog, prog.solution), columns=list(TERMS)
            )
            per.insert(0, "slot", range(prog.scenario.T))
            write_parquet(out / "convex" / "per_slot.parquet", per, meta)
        write_json(out / "bounds.json", self.summaries())


def solve_hierarchy(
    scn: Scenario,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    integer_jobs: bool = False,
    convex_solver: str = "clarabel",
    progress: Callable[[str], None] | None = None,
    backend: Backend = "highs",
) -> Hierarchy:
    """Solve the MILP, its LP relaxation and the convex program on ``scn``.

    With the ``highs`` backend the program is built and passed to HiGHS once: the LP
    relaxation is the same HiGHS model with its integrality switched off. ``progress`` is
    called with the name of each solve before it starts (it may raise to stop).
    """
    say = progress or (lambda _msg: None)
    milp_opts = HighsOptions(time_limit=time_limit, mip_gap=mip_gap)
    lp_opts = HighsOptions(time_limit=time_limit)
    if backend == "highs":
        say("MILP and LP relaxation (HiGHS, one build) ...")
        milp, lp = solve_lp_after_milp(
            scn, integer_jobs=integer_jobs, milp_options=milp_opts, lp_options=lp_opts
        )
    else:
        say("MILP (HiGHS) ...")
        milp = solve_oracle(scn, integer_jobs=integer_jobs, options=milp_opts, backend=backend)
        say("LP relaxation (HiGHS) ...")
        lp = solve_oracle(scn, relax=True, options=lp_opts, backend=backend)
    say(f"convex program (cvxpy/{convex_solver}) ...")
    t0 = time.perf_counter()
    prog = build_convex(scn)
    convex = solve_program(
        prog,
        ConvexOptions(solver=convex_solver, time_limit=time_limit),
        build_seconds=time.perf_counter() - t0,
    )
    return Hierarchy(milp=milp, lp=lp, convex=convex, convex_program=prog)
