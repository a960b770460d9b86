"""``aigc-opt experiment SPEC.toml``: expand a spec into jobs, run the unfinished ones on
local processes or a Dask cluster, store one Parquet file per job. A spec with
``[[train]]`` entries runs in two rounds: the training runs together with the spec's
methods, then the trained policies on the episodes (`aigc_opt.experiments.training`).

Exit codes: 0 every job finished; 1 some job failed (each recorded with its error under
``OUT/failed/``); 2 bad spec or option; 130 stopped by Ctrl-C (finished results kept; a
re-run resumes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from aigc_opt.cli import JsonOpt, UserError, emit_json, err_console, stdout_to_stderr


def register(app: typer.Typer) -> None:
    app.command(name="experiment")(experiment)


def experiment(
    spec: Annotated[
        Path,
        typer.Argument(
            help="Experiment spec (TOML), or the name of a shipped one: quick, paper",
            show_default=False,
        ),
    ],
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Local worker processes (default: CPU count)")
    ] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://HOST:PORT); default $DASK_SCHEDULER_ADDRESS. "
            "Without one, jobs run on local processes",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Experiment folder (default runs/<spec>)")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume/--no-resume", help="Skip jobs finished in --out (default)"),
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the expanded job list and its size only")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run an experiment spec: scenarios × horizons × starts × methods × seeds."""

    from aigc_opt.experiments.executor import ExecutorError, scheduler_address
    from aigc_opt.experiments.jobs import expand
    from aigc_opt.experiments.spec import SpecError, load_spec, resolve_spec_path
    from aigc_opt.experiments.store import ExperimentStore

    if workers < 0:
        raise UserError(f"--workers = {workers}: must be ≥ 1 (0: one per CPU)")
    from aigc_opt.experiments.training import place, policy_jobs

    path = resolve_spec_path(spec)
    folder = out if out is not None else Path("runs") / spec.stem
    try:
        sp = load_spec(path)
        jobs = place(expand(sp, path), folder)
    except SpecError as exc:
        raise UserError(str(exc)) from None
    store = ExperimentStore(folder)
    finished = store.finished_keys() if resume else set()
    if dry_run:
        if resume:  # trained policies of finished runs
            jobs += policy_jobs(sp, path, jobs, folder)
        _dry_run(jobs, finished, folder, as_json)
        return
    address = scheduler_address(scheduler)
    n = workers or os.cpu_count() or 1
    if not resume:
        store.clear()
    name = sp.name or spec.stem
    store.write_manifest(path, name, jobs)
    try:
        # 1: training runs and the methods of the spec; 2: the trained policies' episodes
        tally, where = _run(jobs, store, n, address, len(finished & {j.key for j in jobs}))
        if not tally.interrupted and sp.train:
            trained = policy_jobs(sp, path, jobs, folder)
            jobs += trained
            store.write_manifest(path, name, jobs)
            done = store.finished_keys() & {j.key for j in trained}
            more, _ = _run(trained, store, n, address, len(done))
            tally = tally.merge(more)
    except ExecutorError as exc:
        raise UserError(str(exc)) from None
    result = {"out": str(folder), "spec": str(path), "executor": where, **tally.as_dict()}
    if as_json:
        emit_json(result)
    else:
        _print(result)
    if tally.interrupted:
        raise typer.Exit(130)
    if tally.failed:
        raise typer.Exit(1)


def _run(jobs: list[Any], store: Any, workers: int, address: str | None, skipped: int) -> Any:
    from aigc_opt.experiments.executor import open_executor, run_jobs, stop_on_signals
    from aigc_opt.experiments.progress import progress
    from aigc_opt.solvers import interrupt

    interrupt.clear()
    todo = len(jobs) - skipped
    with stdout_to_stderr(), stop_on_signals(), open_executor(workers, address) as (ex, where):
        with progress(todo, len(jobs), skipped, where, err_console) as show:
            tally = run_jobs(jobs, store, ex, on_row=show)
    return tally, where


def _dry_run(jobs: list[Any], finished: set[str], folder: Path, as_json: bool) -> None:
    rows = [{**j.describe(), "finished": j.key in finished} for j in jobs]
    if as_json:
        emit_json(
            {"jobs": rows, "count": len(rows), "finished": len(finished & {j.key for j in jobs})}
        )
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{len(jobs)} jobs ({sum(r['finished'] for r in rows)} finished in {folder})")
    for col in ("key", "scenario", "horizon", "start", "method", "seed", "bound", "finished"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            *(
                str(r[c])
                for c in (
                    "key",
                    "scenario",
                    "horizon",
                    "start",
                    "method",
                    "seed",
                    "bound",
                    "finished",
                )
            )
        )
    Console().print(t)
    print(f"{len(jobs)} jobs")


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    c = Console()
    c.print(
        f"experiment → {escape(result['out'])} on {escape(result['executor'])}: "
        f"{result['jobs']} jobs; {result['done']} run now, {result['skipped']} finished before, "
        f"{result['failed']} failed, {result['left']} left",
        highlight=False,
    )
    for f in result["failures"]:
        c.print(
            f"  failed {f['key']} {escape(str(f['method']))} on {escape(str(f['scenario']))} "
            f"(start {f['start']}, seed {f['seed']}): {escape(str(f['error']))}",
            highlight=False,
            soft_wrap=True,
        )
    if result["interrupted"]:
        c.print(
            f"stopped: {result['interrupted']} job(s) not run; run the same command to resume",
            highlight=False,
        )
