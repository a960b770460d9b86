"""An upper bound on a long horizon's optimum from relaxed windows
(`formulations.window_relax`): U* ≤ Σ_windows max(window LP).

Each window's LP is solved by HiGHS and certified by weak duality: its bound is
`highs_arrays.dual_bound` of the solver's row duals (valid for any multipliers, so it does
not rest on the solver's tolerances). The result is a `SolveResult` with method
``windows-lp``, no incumbent (``utility`` None) and ``best_bound`` the sum; its status is
``optimal`` when every window's LP was, else the first stop (a stopped window contributes
the bound of the duals it left, or the result has no bound).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.highs_arrays import dual_bound
from aigc_opt.formulations.window_relax import relaxed_window
from aigc_opt.solvers.highs import ArrayHighs, HighsOptions, bound_from_duals, version
from aigc_opt.solvers.result import SolveResult

DEFAULT_WINDOW = 168
"""Slots per window: a week of hours (the relaxation gives up little at each edge)."""


def window_edges(T: int, window: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive windows of ``window`` slots covering [0, T)."""
    if window < 1:
        raise ValueError(f"window must be ≥ 1 slot, got {window}")
    return [(a, min(a + window, T)) for a in range(0, T, window)]


def window_bound(
    scn: Scenario,
    *,
    window: int = DEFAULT_WINDOW,
    options: HighsOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SolveResult:
    """The certified sum-of-windows bound on ``scn``'s horizon (module doc).

    ``options.time_limit`` (s) covers all windows together; ``progress(done, total)`` is
    called after each window.
    """
    options = options or HighsOptions()
    edges = window_edges(scn.T, window)
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit if options.time_limit is not None else None
    total: float | None = 0.0
    status, build_s, solve_s = "optimal", 0.0, 0.0
    windows: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(edges):
        left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
        tb = time.perf_counter()
        w = relaxed_window(scn, a, b)
        solver = ArrayHighs(replace(options, time_limit=left))
        solver.pass_program(w.program)
        build_s += time.perf_counter() - tb
        raw = solver.solve()
        solve_s += raw.solve_seconds
        bound = bound_from_duals(solver.h, partial(dual_bound, w.program, upper=w.upper))
        if raw.termination != "optimal" and status == "optimal":
            status = raw.termination
        windows.append(
            {
                "start": a,
                "stop": b,
                "tail": w.tail,
                "termination": raw.termination,
                "objective": raw.objective,
                "bound": bound,
                "seconds": round(raw.solve_seconds, 4),
            }
        )
        total = None if total is None or bound is None else total + bound
        if progress is not None:
            progress(i + 1, len(edges))
        if deadline is not None and time.perf_counter() >= deadline and i + 1 < len(edges):
            total, status = None, "time_limit" if status == "optimal" else status
            break
    gaps = [
        w["bound"] - w["objective"]
        for w in windows
        if w["bound"] is not None and w["objective"] is not None
    ]
    return SolveResult(
        method="windows-lp",
        scenario=scn.name,
        horizon=scn.T,
        start=scn.start_slot,
        status=status,
        solution_status="none",
        utility=None,
        best_bound=total,
        build_seconds=build_s,
        solve_seconds=solve_s,
        solver="highs",
        solver_version=version(),
        options={
            **options.as_dict(),
            "window": window,
            "windows": windows,
            "certificate_slack_usd": float(np.sum(gaps)) if gaps else None,
        },
        message=f"{len(windows)} of {len(edges)} windows of {window} slots, each bounded "
        "by weak duality",
    )
