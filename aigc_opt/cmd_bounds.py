"""``aigc-opt bounds``: the bound hierarchy U_convex ≥ U_LP ≥ U_MILP on one scenario.

Solves the three programs of MODEL.md §5 on the same horizon — the MILP (HiGHS), its LP
relaxation (HiGHS) and the convex program with continuous denoising steps (cvxpy) — and
reports each utility with its status, the gaps between them in % of U_MILP, the seconds
spent, and which numbers are valid upper bounds on the utility of any policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aigc_opt.cli import (
    Backend,
    BackendOpt,
    HorizonOpt,
    JsonOpt,
    OutOpt,
    ScenarioOpt,
    StartOpt,
    UserError,
    check_positive,
    emit_json,
    err_console,
    load_cli_scenario,
    stdout_to_stderr,
)
from aigc_opt.solvers import interrupt
from aigc_opt.solvers.result import STOPPED

ORDER = ("convex", "lp", "milp")
LABELS = {"convex": "convex", "lp": "LP", "milp": "MILP"}
ORDER_REL_TOL = 1e-6
"""Relative slack allowed when checking U_convex ≥ U_LP ≥ U_MILP (solver tolerances)."""


def solve_hierarchy(
    scn: Any,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    integer_jobs: bool = False,
    convex_solver: str = "clarabel",
    progress: Any = None,
    backend: str = "highs",
) -> dict[str, Any]:
    """Solve MILP, LP relaxation and convex program on ``scn``; returns their SolveResults
    keyed ``milp``, ``lp``, ``convex`` and the built convex program under ``_convex_program``.

    With the ``highs`` backend the program is built and passed to HiGHS once: the LP
    relaxation is the same HiGHS model with its integrality switched off.
    """
    import time

    from aigc_opt.formulations.convex import build_convex
    from aigc_opt.solvers.convex import ConvexOptions, solve_program
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_lp_after_milp, solve_oracle

    say = progress or (lambda _msg: None)
    out: dict[str, Any] = {}
    milp_opts = HighsOptions(time_limit=time_limit, mip_gap=mip_gap)
    lp_opts = HighsOptions(time_limit=time_limit)
    if backend == "highs":
        say("MILP and LP relaxation (HiGHS, one build) ...")
        out["milp"], out["lp"] = solve_lp_after_milp(
            scn, integer_jobs=integer_jobs, milp_options=milp_opts, lp_options=lp_opts
        )
    else:
        say("MILP (HiGHS) ...")
        out["milp"] = solve_oracle(
            scn,
            integer_jobs=integer_jobs,
            options=milp_opts,
            backend=backend,  # type: ignore[arg-type]
        )
        say("LP relaxation (HiGHS) ...")
        out["lp"] = solve_oracle(scn, relax=True, options=lp_opts, backend=backend)  # type: ignore[arg-type]
    say(f"convex program (cvxpy/{convex_solver}) ...")
    t0 = time.perf_counter()
    prog = build_convex(scn)
    out["convex"] = solve_program(
        prog,
        ConvexOptions(solver=convex_solver, time_limit=time_limit),
        build_seconds=time.perf_counter() - t0,
    )
    out["_convex_program"] = prog
    return out


def bound_value(res: Any) -> float | None:
    """The number that bounds every policy's utility, or None (see `validity`)."""
    if res.status == "optimal":
        return res.best_bound
    if res.status in STOPPED and res.method == "oracle-milp":
        return res.best_bound
    return None


def validity(key: str, res: Any) -> str:
    """Short answer to "is this an upper bound on any policy's utility?" (see the notes)."""
    if key == "milp":
        return "best bound" if bound_value(res) is not None else "no"
    return "yes" if bound_value(res) is not None else "no"


def gaps_pct(results: dict[str, Any]) -> dict[str, float | None]:
    """Differences between the utilities in % of |U_MILP|."""
    u = {k: results[k].utility for k in ORDER}
    base = u["milp"]

    def pct(a: float | None, b: float | None) -> float | None:
        if a is None or b is None or base is None or base == 0:
            return None
        return 100.0 * (a - b) / abs(base)

    return {
        "convex_vs_lp": pct(u["convex"], u["lp"]),
        "lp_vs_milp": pct(u["lp"], u["milp"]),
        "convex_vs_milp": pct(u["convex"], u["milp"]),
    }


def ordering_holds(results: dict[str, Any], rel_tol: float = ORDER_REL_TOL) -> bool | None:
    """U_convex ≥ U_LP ≥ U_MILP within ``rel_tol``·max(1, |U_MILP|); None if a value is missing."""
    u = [results[k].utility for k in ORDER]
    if any(v is None for v in u):
        return None
    tol = rel_tol * max(1.0, abs(u[2]))
    return u[0] >= u[1] - tol and u[1] >= u[2] - tol


def write_results(out: Path, results: dict[str, Any]) -> None:
    """Each result in ``out/<milp|lp|convex>/``, the convex solution's tables, bounds.json."""
    from aigc_opt.solvers.store import write_json, write_parquet

    for key in ORDER:
        results[key].write(out / key)
    prog = results.get("_convex_program")
    if prog is not None and prog.solution is not None:
        import pandas as pd

        from aigc_opt.formulations.accounting import TERMS
        from aigc_opt.solvers.convex_solution import convex_slot_terms

        meta = {"method": results["convex"].method, "scenario": results["convex"].scenario}
        for name, df in prog.solution.tidy(prog.scenario).items():
            write_parquet(out / "convex" / f"solution_{name}.parquet", df, meta)
        per = pd.DataFrame(
            convex_slot_terms(prog.scenario, prog, prog.solution), columns=list(TERMS)
        )
        per.insert(0, "slot", range(prog.scenario.T))
        write_parquet(out / "convex" / "per_slot.parquet", per, meta)
    write_json(out / "bounds.json", {k: results[k].summary() for k in ("milp", "lp", "convex")})


def print_bounds(results: dict[str, Any]) -> None:
    """Rich table of the three programs, the gaps and what bounds what."""
    from rich.console import Console
    from rich.table import Table

    from aigc_opt.reports.console import _fmt

    c = Console()
    r0 = results["milp"]
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
    for key in ORDER:
        res = results[key]
        color = "green" if res.status == "optimal" else "red"
        rel = (
            "—"
            if res.utility is None or base is None or base == 0
            else f"{100.0 * (res.utility - base) / abs(base):+.4f} %"
        )
        t.add_row(
            LABELS[key],
            f"[{color}]{res.status}[/]",
            _fmt(res.utility, 2),
            _fmt(res.best_bound, 2),
            rel,
            f"{res.build_seconds + res.solve_seconds:.2f}",
            validity(key, res),
        )
    c.print(t)
    u = {k: results[k].utility for k in ORDER}
    g = gaps_pct(results)
    for a, b, key, what in (
        ("convex", "lp", "convex_vs_lp", "the discrete step levels"),
        ("lp", "milp", "lp_vs_milp", "integrality of GPUs, battery mode and generator status"),
    ):
        name_a, name_b = f"U_{LABELS[a]}", f"U_{LABELS[b]}"
        if u[a] is None or u[b] is None:
            c.print(f"{name_a} − {name_b}: — (a program has no value)")
        else:
            c.print(
                f"{name_a} − {name_b} = {u[a] - u[b]:,.4f} $ = {g[key]:.4f} % of U_MILP "
                f"(value of relaxing {what})"
            )
    holds = ordering_holds(results)
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
            ("U_convex", bound_value(results["convex"])),
            ("U_LP", bound_value(results["lp"])),
            ("the MILP best bound", bound_value(results["milp"])),
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
        mip_gap: Annotated[float, typer.Option("--mip-gap", help="Relative MIP gap")] = 1e-4,
        integer_jobs: Annotated[
            bool, typer.Option("--integer-jobs", help="MILP with integer job counts too (slower)")
        ] = False,
        solver: Annotated[
            str,
            typer.Option(
                "--solver", help="Conic solver of the convex program: clarabel, scs or ecos"
            ),
        ] = "clarabel",
        backend: BackendOpt = Backend.highs,
        out: OutOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Solve MILP, LP relaxation and convex program; print U_convex ≥ U_LP ≥ U_MILP."""

        def body() -> None:
            check_positive("time-limit", time_limit)
            check_positive("mip-gap", mip_gap, allow_zero=True)
            if solver.lower() not in ("clarabel", "scs", "ecos"):
                raise UserError(f"--solver = {solver}: choose clarabel, scs or ecos")
            from aigc_opt.cmd_families import family_command

            if family_command(
                "bounds", scenario, horizon=horizon, start=start, time_limit=time_limit,
                mip_gap=mip_gap, out=out, as_json=as_json,
            ):  # fmt: skip
                return
            scn = load_cli_scenario(scenario, horizon, start)
            with stdout_to_stderr() as real_stdout:
                results = solve_hierarchy(
                    scn,
                    time_limit=time_limit,
                    mip_gap=mip_gap,
                    integer_jobs=integer_jobs,
                    convex_solver=solver.lower(),
                    backend=backend.value,
                    progress=_progress,
                )
                interrupt.check("the bound hierarchy")
                if out is not None:
                    from aigc_opt.solvers.store import output_dir

                    with output_dir(out, command="bounds") as tmp:
                        write_results(tmp, results)
                if as_json:
                    emit_json(
                        {k: results[k].summary() for k in ("milp", "lp", "convex")}, real_stdout
                    )
            if not as_json:
                print_bounds(results)
            if any(results[k].status == "error" for k in ORDER):
                raise typer.Exit(1)

        body()
