"""The ``aigc-opt`` command line (Typer + Rich).

Conventions shared by every command:
  * ``--json`` prints exactly one JSON document on stdout; everything else (HiGHS' banner,
    progress bars, logs) goes to stderr. Solver libraries that write to the process' stdout
    are silenced by pointing file descriptor 1 at stderr while they run.
  * Bad input (unknown scenario, invalid file, wrong option value, usage errors) prints
    one plain-text line ``error: ...`` on stderr (never read as Rich markup) and exits
    with code 2, never a traceback. `_CommandGroup` is the one place that does this.
  * SIGINT/SIGTERM stop a command at its next check with exit code 130 and one line
    ``interrupted: <signal> during <what>; <what was kept>``; a second signal exits at once.
  * ``--out DIR`` is checked before any work (`check_out_option`) and written as a whole
    (`aigc_opt.solvers.store.output_dir`): a fresh folder renamed into place, with a
    ``manifest.json`` listing its files.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from aigc_opt.solvers import interrupt

EXIT_USAGE = 2
"""Exit code of bad input: a wrong option value, an invalid scenario file, a bad --out."""


class UserError(Exception):
    """A problem with the user's input; reported as one line, exit code 2."""


def say_error(message: str, prefix: str = "error") -> None:
    """One plain-text line on stderr (user data is never read as markup)."""
    text = " ".join(str(message).split())  # one line, whatever the message holds
    sys.stderr.write(f"{prefix}: {text}\n")
    sys.stderr.flush()


_UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""Base class of usage errors (click's, or the copy of click that Typer ships)."""


class _CommandGroup(TyperGroup):
    """The command group of ``aigc-opt``: the one place where errors become exit codes.

    * bad input (`UserError`, `ScenarioError`, a missing file) and usage errors (unknown
      option, wrong type): one line ``error: ...`` on stderr, exit 2;
    * SIGINT/SIGTERM: handlers are installed for the whole command (see
      `aigc_opt.solvers.interrupt`); a stopped command prints one line ``interrupted:
      ...`` saying what was kept, exit 130.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except _UsageError as exc:
            argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
            say_error(_usage_line(exc, list(argv)))
            code = EXIT_USAGE
        except typer.Abort:
            say_error("aborted", prefix="interrupted")
            code = interrupt.EXIT_CODE
        if not standalone_mode:
            return code
        sys.exit(code or 0)

    def invoke(self, ctx: Any) -> Any:
        from aigc_opt.data.scenario import ScenarioError

        with interrupt.handlers():
            try:
                result = super().invoke(ctx)
                interrupt.check("the command", kept="it finished its work first; results kept")
                return result
            except (ScenarioError, UserError, FileNotFoundError) as exc:
                say_error(str(exc))
                raise typer.Exit(EXIT_USAGE) from None
            except interrupt.StopRequested as exc:
                say_error(_stopped_line(exc), prefix="interrupted")
                raise typer.Exit(interrupt.EXIT_CODE) from None
            except KeyboardInterrupt:
                say_error("stopped by SIGINT; nothing written", prefix="interrupted")
                raise typer.Exit(interrupt.EXIT_CODE) from None


def _usage_line(exc: Exception, argv: list[str]) -> str:
    """One line for a usage error: command, message, and the offending value as given."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "aigc-opt"
    msg = exc.format_message()  # type: ignore[attr-defined]
    opts = getattr(getattr(exc, "param", None), "opts", None) or []
    value = None
    for i, tok in enumerate(argv):
        for opt in opts:
            if tok == opt and i + 1 < len(argv):
                value = argv[i + 1]
            elif tok.startswith(opt + "="):
                value = tok[len(opt) + 1 :]
    if value is not None and repr(value) not in msg:
        msg = f"{msg} (got {value!r})"
    return f"{where}: {msg} (see {where} --help)"


def _stopped_line(exc: interrupt.StopRequested) -> str:
    what = f"{exc.reason} during {exc.where}" if exc.where else exc.reason
    kept = exc.kept or "nothing written"
    return f"{what}; {kept}"


app = typer.Typer(
    name="aigc-opt",
    help="Certified optimization baselines for AIGC workload scheduling with joint energy "
    "management across data centers: oracle bounds, MPC, heuristics and DRL gap reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_CommandGroup,
)
err_console = Console(stderr=True, highlight=False)


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
    """``--name`` must be a finite number > 0 (≥ 0 with ``allow_zero``); None passes."""
    if value is None:
        return
    if not math.isfinite(value):
        raise UserError(f"--{name} = {value}: must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        raise UserError(f"--{name} = {value}: must be {'≥' if allow_zero else '>'} 0")


def check_limits(time_limit: float | None, mip_gap: float) -> None:
    """``--time-limit`` > 0 (or unset) and ``--mip-gap`` ≥ 0, both finite."""
    check_positive("time-limit", time_limit)
    check_positive("mip-gap", mip_gap, allow_zero=True)


SEED_MAX = 2**31 - 1
"""Largest seed every consumer accepts (HiGHS' random_seed is a 32-bit int)."""
CORES = os.cpu_count() or 1
"""Largest ``--threads``."""


def check_out_option(value: Path | None) -> Path | None:
    """Callback of ``--out``: refuse an unusable folder before the command does any work."""
    from aigc_opt.solvers.store import out_problem

    if value is not None:
        problem = out_problem(value)
        if problem:
            raise typer.BadParameter(f"{value}: {problem}")
    return value


class Backend(enum.StrEnum):
    """Program builder: ``highs`` (numpy/scipy arrays handed to HiGHS in one call; the
    default, see docs/backends.md) or ``pyomo`` (the readable reference model)."""

    highs = "highs"
    pyomo = "pyomo"


BackendOpt = Annotated[
    Backend,
    typer.Option(
        "--backend",
        help="Program builder: highs (arrays passed to HiGHS, fast) or pyomo (reference)",
    ),
]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", "-s", help="Shipped scenario name or path to a .toml")
]
HorizonOpt = Annotated[
    int, typer.Option("--horizon", "-H", min=1, help="Slots to plan (1 up to the scenario's slots)")
]
StartOpt = Annotated[
    int, typer.Option("--start", min=0, help="First slot of the scenario's series")
]
MipGapOpt = Annotated[float, typer.Option("--mip-gap", help="Relative MIP gap")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Directory for Parquet/JSON results (replaced as a whole; checked before any work)",
        callback=check_out_option,
    ),
]


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
    mip_gap: MipGapOpt = 1e-4,
    threads: Annotated[
        int, typer.Option("--threads", min=0, max=CORES, help="HiGHS threads (0 = auto)")
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX, help="HiGHS random seed")] = 0,
    backend: BackendOpt = Backend.highs,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solve the perfect-foresight oracle (MILP, or LP with --relax) and report U."""
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_oracle
    from aigc_opt.solvers.store import output_dir

    check_limits(time_limit, mip_gap)
    from aigc_opt.cmd_families import family_command

    if family_command(
        "solve", scenario, horizon=horizon, start=start, relax=relax, time_limit=time_limit,
        mip_gap=mip_gap, threads=threads, seed=seed, out=out, as_json=as_json,
    ):  # fmt: skip
        return
    scn = load_cli_scenario(scenario, horizon, start)
    interrupt.check("loading the scenario")
    opts = HighsOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)
    with stdout_to_stderr() as real_stdout:
        res = solve_oracle(
            scn, relax=relax, integer_jobs=integer_jobs, options=opts, backend=backend.value
        )
        stopped = interrupt.requested() is not None
        written = out is not None and (not stopped or res.schedule is not None)
        if written and out is not None:
            with output_dir(out, command="solve") as tmp:
                res.write(tmp)
        if as_json:
            emit_json(res.summary(), real_stdout)
    if stopped:
        found = "no incumbent" if res.utility is None else f"incumbent U = {_num(res.utility)} $"
        kept = f"kept: status {res.status}, {found}, bound = {_num(res.best_bound)} $"
        kept += f", written to {out}" if written else ", nothing written"
        interrupt.check(f"the {res.method} solve", kept=kept)
    if not as_json:
        from aigc_opt.reports.console import print_solve

        print_solve(res)
    if res.status == "error":
        raise typer.Exit(1)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.4f}"


def _register_commands() -> None:
    """Add the commands that live in their own modules (imported here, after everything
    they import from this module is defined; a missing module is an ImportError)."""
    from aigc_opt import (
        cmd_bounds,
        cmd_catalog,
        cmd_data,
        cmd_drl,
        cmd_experiment,
        cmd_reports,
        cmd_sim,
    )

    for module in (
        cmd_catalog,
        cmd_bounds,
        cmd_sim,
        cmd_drl,
        cmd_reports,
        cmd_data,
        cmd_experiment,
    ):
        module.register(app)


_register_commands()


def main() -> None:
    # Tables printed to a file or pipe get a width that fits them, not the 80-column default.
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        os.environ["COLUMNS"] = "160"
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
