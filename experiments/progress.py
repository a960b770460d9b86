"""Progress of a run on stderr: a Rich bar (done / failed / left, ETA) on a terminal,
plain lines every ``every`` seconds otherwise (batch jobs, CI logs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aigc_opt.experiments.executor import Tally


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class PlainProgress:
    """One line per ``every`` seconds (and at the end) with counts, elapsed time and ETA."""

    def __init__(self, stream: Any, todo: int, every: float = 10.0):
        self.stream, self.todo, self.every = stream, todo, every
        self.t0 = self.last = time.monotonic()

    def line(self, tally: Tally) -> str:
        ran = tally.done + tally.failed
        elapsed = time.monotonic() - self.t0
        eta = "—" if ran == 0 else _clock(elapsed / ran * max(self.todo - ran, 0))
        return (
            f"experiment: {tally.done + tally.skipped}/{tally.total} done "
            f"({tally.skipped} before this run), {tally.failed} failed, {tally.left} left; "
            f"elapsed {_clock(elapsed)}, ETA {eta}"
        )

    def __call__(self, row: dict[str, Any], tally: Tally) -> None:
        now = time.monotonic()
        if now - self.last >= self.every or tally.left == 0:
            self.last = now
            print(self.line(tally), file=self.stream, flush=True)


@contextmanager
def progress(todo: int, total: int, skipped: int, label: str, console: Any) -> Iterator[Any]:
    """A callback ``(row, tally)`` for `executor.run_jobs`, shown as a bar or as lines
    (``console``: the Rich console on stderr)."""
    stream = sys.stderr
    if not stream.isatty():
        plain = PlainProgress(stream, todo)
        print(
            f"experiment: {total} jobs, {skipped} finished before, {todo} to run on {label}",
            file=stream,
            flush=True,
        )
        yield plain
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]experiment[/]"),
        BarColumn(),
        TextColumn(
            "{task.fields[done]} done · [red]{task.fields[failed]} failed[/] · "
            "{task.fields[left]} left"
        ),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("run", total=todo, done=skipped, failed=0, left=todo)
        console.print(f"{total} jobs, {skipped} finished before, {todo} to run on {label}")

        def update(row: dict[str, Any], tally: Tally) -> None:
            bar.update(
                task,
                completed=tally.done + tally.failed,
                done=tally.done + tally.skipped,
                failed=tally.failed,
                left=tally.left,
            )

        yield update
