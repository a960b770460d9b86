"""``aigc-opt bounds``: the bound hierarchy U_convex ≥ U_LP ≥ U_MILP on one scenario.

Solves the three programs of MODEL.md §5 on the same horizon — the MILP (HiGHS), its LP
relaxation (HiGHS) and the convex program with continuous denoising steps (cvxpy) — and
reports each utility with its status, the gaps between them in % of U_MILP, the seconds
spent, and which numbers are valid upper bounds on the utility of any policy. The solving
is `aigc_opt.solvers.hierarchy`; this module parses, calls and prints.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer

from aigc_opt.cli import (
    Backend,
    BackendOpt,
    HorizonOpt,
    JsonOpt,
    MipGapOpt,
    OutOpt,
    ScenarioOpt,
    StartOpt,
    check_limits,
    emit_json,
    err_console,
    load_cli_scenario,
    stdout_to_stderr,
)
from aigc_opt.solvers import interrupt

if TYPE_CHECKING:
    from aigc_opt.solvers.hierarchy import Hierarchy

LABELS = {"convex": "convex", "lp": "LP", "milp": "MILP"}


class ConicSolver(enum.StrEnum):
    """Conic solver of the convex program (``--solver``)."""

    clarabel = "clarabel"
    scs = "scs"
    ecos = "ecos"


def _validity(key: str, bound: float | None) -> str:
    """Short answer to "is this an upper bound on any policy's utility?" (see the notes)."""
    if bound is None:
        return "no"
    return "best bound" if key == "milp" else "yes"


def print_bounds(h: Hierarchy) -> None:
    """Rich table of the three programs, the gaps and what bounds what."""
    from rich.console import Console
    from rich.table import Table

    from aigc_opt.reports.console import _fmt
    from aigc_opt.solvers.hierarchy import ORDER_REL_TOL, bound_value, pct_of_milp

    c = Console()
    results = h.results()
    r0 = h.milp
    t = Table(title=f"aigc-opt bounds · {r0.scenario} · horizon {r0.horizon} · start {r0.start}")
    for col in (
        "program",
        "status",
        "U ($)",
        "best bound ($)",
        "vs U_MILP",
        "seconds",
        "upper bound",
    ):
        t.add_column(col, justify="left" if col in ("program", "status") else "right")
    base = r0.utility
    for key, res in results.items():
        color = "green" if res.status == "optimal" else "red"
        rel = pct_of_milp(None if res.utility is None or base is None else res.utility - base, base)
        t.add_row(
            LABELS[key],
            f"[{color}]{res.status}[/]",
            _fmt(res.utility, 2),
            _fmt(res.best_bound, 2),
            "—" if rel is None else f"{rel:+.4f} %",
            f"{res.build_seconds + res.solve_seconds:.2f}",
            _validity(key, bound_value(res)),
        )
    c.print(t)
    u = {k: r.utility for k, r in results.items()}
    g = h.gaps_pct()
    for a, b, key, what in (
        ("convex", "lp", "convex_vs_lp", "the discrete step levels"),
        ("lp", "milp", "lp_vs_milp", "integrality of GPUs, battery mode and generator status"),
    ):
        name_a, name_b = f"U_{LABELS[a]}", f"U_{LABELS[b]}"
        ua, ub = u[a], u[b]
        if ua is None or ub is None:
            c.print(f"{name_a} − {name_b}: — (a program has no value)")
        else:
            pct = "—" if g[key] is None else f"{g[key]:.4f}"
            c.print(
                f"{name_a} − {name_b} = {ua - ub:,.4f} $ = {pct} % of U_MILP "
                f"(value of relaxing {what})"
            )
    holds = h.ordering_holds()
    if holds is None:
        c.print("ordering U_convex ≥ U_LP ≥ U_MILP: not checked (a program has no value)")
    else:
        verdict = "[green]holds[/]" if holds else "[red]VIOLATED[/]"
        c.print(
            f"ordering U_convex ≥ U_LP ≥ U_MILP: {verdict} "
            f"(tolerance {ORDER_REL_TOL:g} · max(1, |U_MILP|))"
        )
    valid = [
        f"{n} = {_fmt(v, 2)}"
        for n, v in (
            ("U_convex", bound_value(h.convex)),
            ("U_LP", bound_value(h.lp)),
            ("the MILP best bound", bound_value(h.milp)),
        )
        if v is not None
    ]
    c.print(
        "Upper bounds on the utility of any policy in this scenario (perfect foresight "
        "or not, DRL included): "
        + (", ".join(valid) if valid else "none")
        + ". Each is the optimum of a relaxation, valid only at status optimal (the MILP's "
        "best bound also when stopped early: time_limit, iteration_limit, interrupted). "
        "U_MILP is the utility of a feasible schedule: "
        "achievable, not a bound."
    )


def _progress(msg: str) -> None:
    interrupt.check(f"the bound hierarchy (before {msg})")
    err_console.print(f"solving {msg}", style="dim", markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``bounds`` command to the CLI app."""

    @app.command("bounds")
    def bounds(
        horizon: HorizonOpt = 24,
        scenario: ScenarioOpt = "default",
        start: StartOpt = 0,
        time_limit: Annotated[
            float | None, typer.Option("--time-limit", help="Wall-clock limit of each solve (s)")
        ] = None,
        mip_gap: MipGapOpt = 1e-4,
        integer_jobs: Annotated[
            bool, typer.Option("--integer-jobs", help="MILP with integer job counts too (slower)")
        ] = False,
        solver: Annotated[
            ConicSolver,
            typer.Option(
                "--solver", case_sensitive=False, help="Conic solver of the convex program"
            ),
        ] = ConicSolver.clarabel,
        backend: BackendOpt = Backend.highs,
        out: OutOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Solve MILP, LP relaxation and convex program; print U_convex ≥ U_LP ≥ U_MILP."""
        check_limits(time_limit, mip_gap)
        from aigc_opt.cmd_families import family_command

        if family_command(
            "bounds", scenario, horizon=horizon, start=start, time_limit=time_limit,
            mip_gap=mip_gap, out=out, as_json=as_json,
        ):  # fmt: skip
            return
        from aigc_opt.solvers.hierarchy import solve_hierarchy

        scn = load_cli_scenario(scenario, horizon, start)
        with stdout_to_stderr() as real_stdout:
            h = solve_hierarchy(
                scn,
                time_limit=time_limit,
                mip_gap=mip_gap,
                integer_jobs=integer_jobs,
                convex_solver=solver.value,
                backend=backend.value,
                progress=_progress,
            )
            interrupt.check("the bound hierarchy")
            if out is not None:
                from aigc_opt.solvers.store import output_dir

                with output_dir(out, command="bounds") as tmp:
                    h.write(tmp)
            if as_json:
                emit_json(h.summaries(), real_stdout)
        if not as_json:
            print_bounds(h)
        if any(r.status == "error" for r in h.results().values()):
            raise typer.Exit(1)
