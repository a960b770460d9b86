"""A relaxation of the perfect-foresight program on one window of slots, such that the
windows' optima add up to an upper bound on the whole horizon's optimum.

A year of hourly slots is too large for one LP, but the program couples slots only
through the state of charge, the generator status and the jobs that wait across a
window's edge. Cut the horizon [0, T) into windows [a, b) and relax each window so that
the restriction of *any* feasible schedule of the whole horizon stays feasible for it
with at least its share of U. Share of window [a, b): the energy terms of slots [a, b)
and the job terms of the cohorts that arrive in [a, b) (revenue, delay and transfer of
their service wherever it happens, and their drop penalty). The relaxation:

1. **Initial state free.** The state of charge before slot a is a free value in
   [S^min, S] (the first battery row's right-hand side becomes that range) and the
   generator's status before slot a any value in [0, 1] (v_a ≥ u_a − 1). The terminal
   floor e^end holds only when b = T.
2. **A tail for the window's own cohorts.** Cohorts arriving in [a, b) may be served up to
   W_max slots past b, as in the whole horizon; the tail slots [b, b + W_max) carry no
   arrivals, no energy rows and no energy costs (their energy is the next window's
   share), only the GPU-time rows and the job terms.
3. **Room for the cohorts carried in.** Cohorts that arrived before a and are served in
   [a, a + W_max) belong to the previous window's share; their energy draw is replaced
   by a free disposal in the power balance of those slots, at most PUE_d × the largest
   above-idle energy the pools of d can draw in a slot (`carried_disposal_mwh`).

Every constraint of a window's program is implied by the whole horizon's constraints on
the restricted schedule, and every share is at most the window's objective at that
point, so Σ_windows max ≤ U*. All integrality is dropped (the windows are LPs); the sum
of their certified dual bounds (`highs_arrays.dual_bound`) is the horizon's bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import DataCenterArrays, PoolArrays
from aigc_opt.formulations.highs_arrays import ArrayProgram, build_arrays, implied_upper


@dataclass
class Window:
    """One window's relaxed program and the column upper bounds its dual bound uses."""

    start: int  # first slot of the window (of the whole horizon)
    stop: int  # one past its last slot
    tail: int  # slots past ``stop`` in the program (own cohorts' service only)
    program: ArrayProgram
    upper: np.ndarray  # finite column bounds that keep the program's optimum


def max_wait(scn: Scenario) -> int:
    """W_max: the longest wait of any class (slots)."""
    return int(scn.class_arrays["wait"].max(initial=0))


def carried_disposal_mwh(scn: Scenario) -> np.ndarray:
    """Per data center, PUE_d × the most above-idle energy its pools draw in one slot
    (MWh): every GPU busy for the slot at the class and step level with the most energy
    per GPU-second."""
    pools, dc = PoolArrays.of(scn), DataCenterArrays.of(scn)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scn.gpu_seconds > 0, scn.job_kwh / scn.gpu_seconds, 0.0)
    per_pool = pools.gpus * ratio.max(axis=(1, 2)) * pools.gpu_seconds_per_slot / 1000.0
    out = np.zeros(scn.D)
    np.add.at(out, pools.dc, per_pool)
    return dc.pue * out


def relaxed_window(scn: Scenario, start: int, stop: int) -> Window:
    """The relaxed LP of slots [start, stop) of ``scn`` (module doc)."""
    T, W = scn.T, max_wait(scn)
    if not 0 <= start < stop <= T:
        raise ValueError(f"window [{start}, {stop}) outside [0, {T})")
    end = min(stop + W, T)
    inner = stop - start
    sub = scn.cut(horizon=end - start, start=start)
    if end > stop:
        arrivals = sub.arrivals.copy()
        arrivals[:, :, inner:] = 0
        sub = sub.with_series(arrivals=arrivals)
    prog = build_arrays(sub, relax=True)
    Ts, cols, rows = sub.T, prog.cols, prog.rows
    dc = DataCenterArrays.of(sub)
    upper = implied_upper(prog)
    if start > 0:
        bats = np.flatnonzero(dc.has_battery)
        first = rows["battery_dynamics"].start + np.arange(bats.size) * Ts
        prog.row_lower[first] = dc.soc_min_mwh[bats]
        prog.row_upper[first] = dc.soc_max_mwh[bats]
        gens = np.flatnonzero(dc.has_generator)
        prog.row_lower[rows["generator_startup"].start + np.arange(gens.size) * Ts] = -1.0
        carried = min(W, inner)
        if carried > 0:
            spill = carried_disposal_mwh(sub)
            d = np.repeat(np.arange(sub.D), carried)
            t = np.tile(np.arange(carried), sub.D)
            prog.row_lower[rows["power_balance"].start + d * Ts + t] = -spill[d]
            g = cols["g"] + d * Ts + t
            upper[g] = upper[g] + spill[d]
    if stop < T:
        prog.row_lower[rows["battery_terminal"]] = -np.inf
    if end > stop:
        d = np.repeat(np.arange(sub.D), end - stop)
        t = np.tile(np.arange(inner, Ts), sub.D)
        prog.row_lower[rows["power_balance"].start + d * Ts + t] = -np.inf
        prog.row_upper[rows["power_balance"].start + d * Ts + t] = np.inf
        for name in ("g", "r", "ch", "dis", "o", "z", "u", "v"):
            c = cols[name] + d * Ts + t
            prog.col_lower[c] = 0.0
            prog.col_upper[c] = 0.0
            upper[c] = 0.0
            prog.cost[c] = 0.0
    prog.meta["window"] = {"start": start, "stop": stop, "tail": end - stop}
    return Window(start, stop, end - stop, prog, upper)
