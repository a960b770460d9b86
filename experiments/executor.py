"""Running jobs through a `concurrent.futures.Executor`: a local process pool, or a Dask
``distributed`` client's executor when a scheduler address is given (``--scheduler`` or
``DASK_SCHEDULER_ADDRESS``), so an existing cluster (Dask-Jobqueue on Slurm, Kubernetes)
runs the same spec unchanged.

Workers only compute rows; this process stores them (so the workers need no access to
the output folder). A stop request (`aigc_opt.solvers.interrupt`, set on Ctrl-C) cancels
the jobs not started and waits for the running ones; a second Ctrl-C abandons them. Rows
of interrupted jobs are never stored, so a re-run resumes with them. A SIGINT or SIGTERM
sent to this process alone (``kill PID``, a batch system's SIGTERM) is passed on to the
local pool's workers as SIGINT, so their running jobs stop at their next check as they
do on a terminal's Ctrl-C (which reaches the whole process group).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from aigc_opt.experiments.jobs import Job
from aigc_opt.experiments.run import failed_row, run_job
from aigc_opt.experiments.store import ExperimentStore

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


class ExecutorError(RuntimeError):
    """The executor cannot be set up (Dask missing, scheduler unreachable)."""


@dataclass
class Tally:
    """Counts of one run (jobs)."""

    total: int
    skipped: int = 0  # finished before this run
    done: int = 0
    failed: int = 0
    interrupted: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.total - self.skipped - self.done - self.failed

    def merge(self, other: Tally) -> Tally:
        """The counts of two rounds of one run."""
        return Tally(
            total=self.total + other.total,
            skipped=self.skipped + other.skipped,
            done=self.done + other.done,
            failed=self.failed + other.failed,
            interrupted=self.interrupted + other.interrupted,
            failures=self.failures + other.failures,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.total,
            "skipped": self.skipped,
            "done": self.done,
            "failed": self.failed,
            "left": self.left,
            "interrupted": self.interrupted,
            "failures": self.failures,
        }


def _worker_init() -> None:
    """Process-pool workers: Ctrl-C (sent to the whole terminal process group) becomes a
    stop request that the running job's loops and solves poll, not a KeyboardInterrupt."""
    from aigc_opt.solvers import interrupt

    signal.signal(signal.SIGINT, lambda *_: interrupt.request("SIGINT"))


def scheduler_address(option: str | None) -> str | None:
    return option or os.environ.get(SCHEDULER_ENV) or None


@contextlib.contextmanager
def open_executor(workers: int, scheduler: str | None = None) -> Iterator[tuple[Executor, str]]:
    """Yield (executor, description): a Dask client's executor when ``scheduler`` is set,
    else a process pool of ``workers`` spawned processes."""
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ExecutorError(
                f"--scheduler {scheduler}: Dask is not installed (pip install 'aigc-opt[cluster]')"
            ) from None
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            n = len(client.scheduler_info().get("workers", {}))
            yield client.get_executor(pure=False), f"Dask scheduler {scheduler} ({n} workers)"
        return
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)
    _local_pools.append(pool)
    try:
        yield pool, f"{workers} local process{'es' if workers > 1 else ''}"
    finally:
        _local_pools.remove(pool)
        pool.shutdown(wait=not _abandoned, cancel_futures=True)
        if _abandoned:
            _terminate(pool)


_abandoned: list[bool] = []
#: the open local pools, whose workers a stop signal is passed on to
_local_pools: list[ProcessPoolExecutor] = []


def _workers(pool: ProcessPoolExecutor) -> list[Any]:
    return list((getattr(pool, "_processes", None) or {}).values())


def _signal_workers() -> None:
    """Send SIGINT to every worker of the open local pools (a worker that already got
    the terminal's Ctrl-C just sees its stop request again)."""
    for pool in _local_pools:
        for proc in _workers(pool):
            with contextlib.suppress(ProcessLookupError, TypeError):
                os.kill(proc.pid, signal.SIGINT)


def _terminate(pool: ProcessPoolExecutor) -> None:
    stop = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    if stop is not None:
        stop()
        return
    for proc in _workers(pool):
        proc.terminate()


def run_jobs(
    jobs: Sequence[Job],
    store: ExperimentStore,
    executor: Executor,
    *,
    on_row: Callable[[dict[str, Any], Tally], None] | None = None,
    poll_seconds: float = 0.25,
) -> Tally:
    """Run the jobs of ``jobs`` not finished in ``store``; store each row as it arrives.

    ``on_row(row, tally)`` is called after each stored row (progress display). Stops
    submitting at a stop request (see the module docstring)."""
    from aigc_opt.solvers import interrupt
    from aigc_opt.solvers.interrupt import StopRequested

    finished = store.finished_keys()
    todo = [j for j in jobs if j.key not in finished]
    tally = Tally(total=len(jobs), skipped=len(jobs) - len(todo))
    _abandoned.clear()
    pending: dict[Future, Job] = {executor.submit(run_job, j): j for j in todo}
    stopping = False
    while pending:
        done, _ = wait(pending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
        for fut in done:
            job = pending.pop(fut)
            if fut.cancelled():
                tally.interrupted += 1
                continue
            try:
                row = fut.result()
            except BaseException as exc:  # a worker died or stopped, or the job was not sent
                row = failed_row(job, f"{type(exc).__name__}: {exc}".splitlines()[0])
                # the worker's StopRequested may arrive before this loop has seen the stop
                if stopping or interrupt.requested() or isinstance(exc, StopRequested):
                    row = failed_row(job, row["error"], "interrupted")
            if row["status"] == "interrupted":
                tally.interrupted += 1
                continue
            store.write(row)
            if row["failed"]:
                tally.failed += 1
                tally.failures.append(
                    {k: row[k] for k in ("key", "method", "scenario", "start", "seed", "error")}
                )
            else:
                tally.done += 1
            if on_row is not None:
                on_row(row, tally)
        reason = interrupt.requested()
        if reason and not stopping:
            stopping = True
            for fut in list(pending):
                if fut.cancel():
                    pending.pop(fut)
                    tally.interrupted += 1
        if stopping and _presses() > 1:
            _abandoned.append(True)
            tally.interrupted += len(pending)
            for fut in pending:
                fut.cancel()
            break
    return tally


_PRESSES: list[int] = [0]


def _presses() -> int:
    return _PRESSES[0]


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside: SIGINT/SIGTERM request a stop (`interrupt.request`); a second one
    abandons the running jobs."""
    from aigc_opt.solvers import interrupt

    def handler(signum: int, _frame: Any) -> None:
        _PRESSES[0] += 1
        interrupt.request(signal.Signals(signum).name)
        _signal_workers()

    _PRESSES[0] = 0
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
