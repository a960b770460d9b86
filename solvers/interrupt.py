"""A process-wide stop request: set by the CLI's SIGINT/SIGTERM handlers, polled by long
loops (simulation, MPC, sweeps, report rendering) and by HiGHS' interrupt callback, so a
solve stops at its next callback with its incumbent and bound instead of dying mid-call.

Loops call `check(where)`, which raises `StopRequested` once a stop was requested; the
CLI turns it into one line on stderr and exit code 130. `handlers()` installs the signal
handlers for the duration of a command: the first SIGINT/SIGTERM only records the request
(so files are never left half-written and a solve keeps its incumbent); a second one
exits at once with code 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

EXIT_CODE = 130
"""Exit code of a command stopped by a signal (128 + SIGINT, the shell convention)."""

_reason: list[str] = []


class StopRequested(BaseException):
    """A stop was requested (``reason``: e.g. "SIGINT") while ``where`` was running;
    ``kept`` says what the command kept (e.g. "incumbent U = 12.3 $ written to runs/x").

    A `BaseException`, like `KeyboardInterrupt`, so that ``except Exception`` blocks that
    turn failures into statuses never record a stop as a result."""

    def __init__(self, reason: str, where: str = "", kept: str = ""):
        self.reason = reason
        self.where = where
        self.kept = kept
        super().__init__(f"{reason} during {where}" if where else reason)


def request(reason: str) -> None:
    """Ask every running loop and solve in this process to stop (``reason``: e.g. "SIGINT")."""
    if not _reason:
        _reason.append(reason)


def requested() -> str | None:
    """The reason a stop was requested, or None."""
    return _reason[0] if _reason else None


def clear() -> None:
    """Forget a stop request (tests, or a command that handled it)."""
    _reason.clear()


def check(where: str = "", kept: str = "") -> None:
    """Raise `StopRequested` if a stop was requested (call it between units of work)."""
    if _reason:
        raise StopRequested(_reason[0], where, kept)


def _on_signal(signum: int, _frame: object) -> None:
    name = signal.Signals(signum).name
    if _reason:  # second signal: the user insists
        os.write(2, f"aborted: second {name}, exiting at once\n".encode())
        os._exit(EXIT_CODE)
    request(name)


@contextlib.contextmanager
def handlers() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call `request` (a second one exits with 130).

    Clears any earlier request on entry and exit; previous handlers are restored. Outside
    the main thread (where Python cannot install handlers) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    clear()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        clear()
