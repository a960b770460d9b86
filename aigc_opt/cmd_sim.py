"""``aigc-opt mpc`` and ``aigc-opt run``: play a controller through the simulator and
report its realized utility against the oracle bound of the same episode."""

from __future__ import annotations

import enum
import time
from typing import Annotated, Any

import typer

from aigc_opt.cli import (
    SEED_MAX,
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

POLICIES = ("greedy", "price-greedy", "random", "oracle-replay")

SeedOpt = Annotated[
    int,
    typer.Option("--seed", min=0, max=SEED_MAX, help="Seed of the policy / forecaster noise"),
]
OracleLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--oracle-time-limit",
        help="Wall-clock limit of the oracle solve (s); its best bound stays a valid upper bound",
    ),
]


class BoundKind(enum.StrEnum):
    """Where the episode's bound comes from: ``oracle`` (the MILP of the whole horizon)
    or ``windows`` (relaxed weekly LPs whose optima add up to a bound; for long horizons
    such as a year, docs/bounds.md)."""

    oracle = "oracle"
    windows = "windows"


BoundOpt = Annotated[
    BoundKind,
    typer.Option(
        "--bound",
        help="oracle: MILP of the horizon (U and bound); windows: sum of relaxed weekly LPs "
        "(bound only, for long horizons)",
    ),
]


def episode_bound(scn: Any, kind: BoundKind, limit: float | None) -> Any:
    """The reference of an episode: the oracle's `SolveResult`, or the windows' bound."""
    from aigc_opt.solvers.highs import HighsOptions

    opts = HighsOptions(time_limit=limit)
    if kind == BoundKind.windows:
        from aigc_opt.solvers.window_bound import window_bound

        return window_bound(scn, options=opts)
    from aigc_opt.solvers.oracle import solve_oracle

    return solve_oracle(scn, options=opts)


def _summary(ep: Any, oracle: Any, seconds: float, oracle_seconds: float) -> dict[str, Any]:
    out = ep.summary(oracle.best_bound if oracle is not None else None)
    out.update(
        {
            "seconds": round(seconds, 4),
            "oracle_utility": oracle.utility if oracle is not None else None,
            "oracle_status": oracle.status if oracle is not None else None,
            "bound_method": oracle.method if oracle is not None else None,
            "oracle_seconds": round(oracle_seconds, 4),
        }
    )
    return out


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from aigc_opt.reports.console import kpi_table, terms_table

    c = Console()
    head = Table(
        title=f"aigc-opt {summary['method']} · scenario {summary['scenario']} · "
        f"horizon {summary['horizon']} · start {summary['start']} · seed "
        f"{summary['seed']}",
        show_header=False,
    )
    head.add_column("field")
    head.add_column("value", justify="right")
    head.add_row("realized utility U ($)", f"{summary['utility']:,.4f}")
    ob = summary["oracle_bound"]
    kind = "oracle" if summary.get("bound_method") != "windows-lp" else "windows-lp"
    head.add_row(
        f"{kind} bound ($, {summary['oracle_status']})", "—" if ob is None else f"{ob:,.4f}"
    )
    if ob is not None:
        head.add_row("gap to the bound ($)", f"{summary['gap_usd']:,.4f}")
        head.add_row("gap to the bound (%)", f"{summary['gap_pct']:.4f}")
    head.add_row("seconds (policy + simulation)", f"{summary['seconds']:.2f}")
    head.add_row("seconds (oracle)", f"{summary['oracle_seconds']:.2f}")
    head.add_row("repairs by the simulator", str(summary["repairs"]["count"]))
    head.add_row("constraint violations", str(len(summary["violations"])))
    c.print(head)
    c.print(terms_table(summary["terms"], summary["utility"]))
    c.print(kpi_table(summary["kpis"], title="jobs and energy", energy=True))


def _play(
    scn: Any,
    policy: Any,
    seed: int,
    *,
    oracle_limit: float | None,
    as_json: bool,
    out: Any,
    oracle: Any = None,
    progress_label: str | None = None,
    bound: BoundKind = BoundKind.oracle,
) -> dict[str, Any]:
    """Solve the oracle of the episode (unless given), run the policy, report."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from aigc_opt.solvers import interrupt
    from aigc_opt.solvers.policy import run_episode
    from aigc_opt.solvers.store import output_dir, write_run

    with stdout_to_stderr() as real_stdout:
        t0 = time.perf_counter()
        if oracle is None:
            oracle = episode_bound(scn, bound, oracle_limit)
        oracle_seconds = time.perf_counter() - t0
        interrupt.check(f"the oracle solve ({oracle.status})")
        if hasattr(policy, "result") and getattr(policy, "result", None) is None:
            policy.result = oracle  # oracle replay: replay the very solve reported
        t1 = time.perf_counter()
        if progress_label:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("slot {task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
                disable=not err_console.is_terminal,
            ) as bar:
                task = bar.add_task(progress_label, total=scn.T)
                ep = run_episode(
                    scn, policy, seed=seed, progress=lambda t, T: bar.update(task, completed=t)
                )
        else:
            ep = run_episode(scn, policy, seed=seed)
        seconds = time.perf_counter() - t1
        if hasattr(policy, "result"):  # the oracle solve is part of the replay's time
            seconds += oracle_seconds
        summary = _summary(ep, oracle, seconds, oracle_seconds)
        if out is not None:
            with output_dir(out, command=summary["method"]) as tmp:
                write_run(tmp, summary, ep.schedule, scn)
        if as_json:
            emit_json(summary, real_stdout)
    if not as_json:
        _print(summary)
    return summary


def register(app: typer.Typer) -> None:
    """Add ``mpc`` and ``run`` to the CLI."""

    @app.command()
    def mpc(
        horizon: HorizonOpt = 168,
        lookahead: Annotated[
            int, typer.Option("--lookahead", "-L", help="Window length L (slots)")
        ] = 24,
        forecast: Annotated[
            str,
            typer.Option(
                "--forecast",
                help="perfect | persistence | seasonal | noisy:SIGMA | module:function",
            ),
        ] = "perfect",
        window: Annotated[
            str,
            typer.Option(
                "--window", help="Window program: lp (fast, rounded) or milp (exact window)"
            ),
        ] = "lp",
        carry_weight: Annotated[
            float,
            typer.Option(
                "--carry-weight", help="Drop-penalty weight of jobs carried past the window"
            ),
        ] = 0.0,
        scenario: ScenarioOpt = "default",
        start: StartOpt = 0,
        seed: SeedOpt = 0,
        oracle_time_limit: OracleLimitOpt = None,
        bound: BoundOpt = BoundKind.oracle,
        backend: BackendOpt = Backend.highs,
        out: OutOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Rolling-horizon MPC through the simulator; gap to the oracle bound."""

        def body() -> None:
            from aigc_opt.solvers.forecast import make_forecaster
            from aigc_opt.solvers.mpc import MPCPolicy

            if lookahead < 1:
                raise UserError(f"--lookahead = {lookahead}: must be ≥ 1")
            if window not in ("lp", "milp"):
                raise UserError(f"--window = {window!r}: must be lp or milp")
            check_positive("carry-weight", carry_weight, allow_zero=True)
            check_positive("oracle-time-limit", oracle_time_limit)
            from aigc_opt.cmd_families import family_command

            if family_command(
                "mpc", scenario, horizon=horizon, start=start, lookahead=lookahead,
                oracle_time_limit=oracle_time_limit, out=out, as_json=as_json,
            ):  # fmt: skip
                return
            try:
                fc = make_forecaster(forecast)
            except ValueError as exc:
                raise UserError(f"--forecast = {forecast!r}: {exc}") from None
            scn = load_cli_scenario(scenario, horizon, start)
            if lookahead > scn.T:
                err_console.print(
                    f"note: --lookahead {lookahead} clamped to the horizon ({scn.T} slots)",
                    markup=False,
                )
            policy = MPCPolicy(
                min(lookahead, scn.T),
                fc,
                window=window,  # type: ignore[arg-type]
                carry_weight=carry_weight,
                backend=backend.value,
            )
            _play(
                scn,
                policy,
                seed,
                oracle_limit=oracle_time_limit,
                as_json=as_json,
                out=out,
                progress_label=f"MPC L={lookahead} {fc.name}",
                bound=bound,
            )

        body()

    @app.command()
    def run(
        policy: Annotated[
            str,
            typer.Option("--policy", "-p", help="greedy | price-greedy | random | oracle-replay"),
        ],
        horizon: HorizonOpt = 24,
        scenario: ScenarioOpt = "default",
        start: StartOpt = 0,
        seed: SeedOpt = 0,
        oracle_time_limit: OracleLimitOpt = None,
        bound: BoundOpt = BoundKind.oracle,
        out: OutOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Run a heuristic (or the oracle's schedule) through the simulator."""

        def body() -> None:
            from aigc_opt.cmd_families import family_command
            from aigc_opt.solvers.heuristics import HEURISTICS
            from aigc_opt.solvers.policy import OracleReplay

            if family_command(
                "run", scenario, policy=policy, horizon=horizon, start=start,
                oracle_time_limit=oracle_time_limit, out=out, as_json=as_json,
            ):  # fmt: skip
                return
            if policy not in POLICIES:
                raise UserError(f"--policy = {policy!r}: choose one of {', '.join(POLICIES)}")
            check_positive("oracle-time-limit", oracle_time_limit)
            if policy == "oracle-replay" and bound == BoundKind.windows:
                raise UserError("--bound = windows: oracle-replay needs the oracle's schedule")
            scn = load_cli_scenario(scenario, horizon, start)
            pol = OracleReplay() if policy == "oracle-replay" else HEURISTICS[policy]()
            _play(
                scn,
                pol,
                seed,
                oracle_limit=oracle_time_limit,
                as_json=as_json,
                out=out,
                progress_label=None,
                bound=bound,
            )

        body()
