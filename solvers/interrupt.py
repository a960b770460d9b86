"""A process-wide stop request: set by the CLI's SIGINT/SIGTERM handlers, polled by long
loops (simulation, MPC, sweeps, report rendering) and by HiGHS' interrupt callback, so a
solve stops at its next callback with its incumbent and bound instead of dying mid-call."""

from __future__ import annotations

_reason: list[str] = []


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
