"""The ``aigc-opt`` command line (Typer + Rich).

Conventions shared by every command:
  * ``--json`` prints exactly one JSON document on stdout; everything else (HiGHS' banner,
    progress bars, logs) goes to stderr. Solver libraries that write to the process' stdout
    are silenced by pointing file descriptor 1 at stderr while they run.
  * Bad input (unknown scenario, invalid file, wrong option value) prints a one-line
    ``error: ...`` on stderr and exits with code 2, never a traceback.
  * ``--out DIR`` writes files atomically (temporary name, then rename).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="aigc-opt",
    help="Certified optimization baselines for AIGC workload scheduling with joint energy "
    "management across data centers: oracle bounds, MPC, heuristics and DRL gap reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


class UserError(Exception):
    """A problem with the user's input; reported as one line, exit code 2."""


# ---------------------------------------------------------------------------------------
# shared helpers for command modules
# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[Any]:
    """Point fd 1 at stderr for the duration; yields a writer to the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        real = os.fdopen(os.dup(saved), "w")
        try:
            yield real
        finally:
            sys.stdout.flush()
            real.flush()
            real.close()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body; turn expected errors into one line on stderr and exit code 2."""
    from aigc_opt.data.scenario import ScenarioError

    try:
        return fn()
    except (ScenarioError, UserError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except FileNotFoundError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def emit_json(obj: Any, stream: Any | None = None) -> None:
    text = json.dumps(obj, indent=2, default=_default, allow_nan=False)
    (stream or sys.stdout).write(text + "\n")


def _default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def load_cli_scenario(scenario: str, horizon: int | None, start: int) -> Any:
    from aigc_opt.data.catalog import load_scenario

    return load_scenario(scenario, horizon=horizon, start=start)


def check_positive(name: str, value: float | None, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise UserError(f"--{name} = {value}: must be {'≥' if allow_zero else '>'} 0")


def check_backend(backend: str) -> None:
    if backend not in ("highs", "pyomo"):
        raise UserError(f"--backend = {backend}: choose highs or pyomo")


BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="Program builder: highs (arrays passed to HiGHS, fast) or pyomo (reference)",
    ),
]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", "-s", help="Shipped scenario name or path to a .toml")
]
HorizonOpt = Annotated[int, typer.Option("--horizon", "-H", help="Slots to plan (1..168)")]
StartOpt = Annotated[int, typer.Option("--start", help="First slot of the scenario's series")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Directory for Parquet/JSON results")]


# ---------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------
@app.command()
def scenarios(as_json: JsonOpt = False) -> None:
    """List the shipped scenarios with their sizes."""

    def body() -> None:
        from aigc_opt.data.catalog import load_scenario, shipped_names

        rows = [load_scenario(n).summary() for n in shipped_names()]
        if as_json:
            emit_json(rows)
            return
        from rich.table import Table

        t = Table(title="shipped scenarios")
        for col in (
            "name",
            "data_centers",
            "asps",
            "classes",
            "step_levels",
            "slots",
            "description",
        ):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(
                *(
                    str(r[c])
                    for c in (
                        "name",
                        "data_centers",
                        "asps",
                        "classes",
                        "step_levels",
                        "slots",
                        "description",
                    )
                )
            )
        Console().print(t)

    guarded(body)


# ---------------------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------------------
@app.command()
def solve(
    horizon: HorizonOpt = 24,
    scenario: ScenarioOpt = "default",
    start: StartOpt = 0,
    relax: Annotated[bool, typer.Option("--relax", help="Solve the LP relaxation")] = False,
    integer_jobs: Annotated[
        bool, typer.Option("--integer-jobs", help="Exact program: job counts integer too (slower)")
    ] = False,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", help="Wall-clock limit of the solve (s), enforced"),
    ] = None,
    mip_gap: Annotated[float, typer.Option("--mip-gap", help="Relative MIP gap")] = 1e-4,
    threads: Annotated[int, typer.Option("--threads", help="HiGHS threads (0 = auto)")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="HiGHS random seed")] = 0,
    backend: BackendOpt = "highs",
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solve the perfect-foresight oracle (MILP, or LP with --relax) and report U."""

    def body() -> None:
        from aigc_opt.solvers.highs import HighsOptions
        from aigc_opt.solvers.oracle import solve_oracle

        check_positive("time-limit", time_limit)
        check_positive("mip-gap", mip_gap, allow_zero=True)
        check_positive("threads", threads, allow_zero=True)
        check_backend(backend)
        scn = load_cli_scenario(scenario, horizon, start)
        opts = HighsOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)
        with stdout_to_stderr() as real_stdout:
            res = solve_oracle(
                scn,
                relax=relax,
                integer_jobs=integer_jobs,
                options=opts,
                backend=backend,  # type: ignore[arg-type]
            )
            if out is not None:
                res.write(out)
            if as_json:
                emit_json(res.summary(), real_stdout)
        if not as_json:
            from aigc_opt.reports.console import print_solve

            print_solve(res)
        if res.status == "error":
            raise typer.Exit(1)

    guarded(body)


def _register_optional_commands() -> None:
    """Commands that live in their own modules register themselves here."""
    import importlib

    for mod in (
        "aigc_opt.cmd_bounds",
        "aigc_opt.cmd_sim",
        "aigc_opt.cmd_drl",
        "aigc_opt.cmd_reports",
        "aigc_opt.cmd_data",
    ):
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue
            raise
        module.register(app)


_register_optional_commands()


def main() -> None:
    # Tables printed to a file or pipe get a width that fits them, not the 80-column default.
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        os.environ["COLUMNS"] = "160"
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
