"""The MILP of MODEL.md §3–4 as arrays: one sparse matrix for HiGHS, no modelling layer.

The same program as `formulations.milp.build_milp` (same columns, rows, objective and
integrality modes), assembled with numpy/scipy from the shared `Index` and parameter
arrays (`formulations.arrays`) and handed to highspy in one ``passModel``. One function
per constraint family, named as in the Pyomo builder; each returns its rows as COO
triplets plus row bounds. Nothing here imports Pyomo.

Columns (``ArrayProgram.cols`` holds each block's offset), blocks in this order:
``x`` per service row, ``y`` per cohort, ``n`` per pool and slot (b·T + t), and per data
center and slot (d·T + t) ``g, r, ch, dis, e, o, z, u, v``. Columns that Pyomo fixes
(z without a battery, u and v without a generator) have bounds [0, 0] here. The renewable
limit r ≤ R is a column bound, not a row.

Integrality (MODEL.md §5): ``relax=True`` none; default n, z, u integer; with
``integer_jobs`` also x, y.

What is builder-neutral (parameters, cohort sizes, the objective's coefficient vectors:
`arrays.term_coefficients`) lives in `formulations.arrays`; what remains parallel to the
Pyomo builder (the ``build_*`` keyword signature, one function per constraint family) is
deliberate: two independent builders of one program cross-check each other in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.formulations.arrays import (
    DataCenterArrays,
    PoolArrays,
    cohort_sizes,
    term_coefficients,
)
from aigc_opt.formulations.index import Index, build_index
from aigc_opt.formulations.schedule import DC_FIELDS, Schedule, schedule_from_values

DC_BLOCKS = ("g", "r", "ch", "dis", "e", "o", "z", "u", "v")


@dataclass
class Rows:
    """One constraint family: COO entries (row within the family, column, value) and
    row bounds (−inf / +inf for one-sided rows)."""

    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def n(self) -> int:
        return int(self.lower.size)


@dataclass
class ArrayProgram:
    """The program as arrays (maximise ``cost @ x``) with its index and layout.

    ``cols`` maps a block name to its first column; ``rows`` maps a family name to its
    slice of rows; ``terms`` maps each of the eight `TERMS` to (columns, $ per unit) so
    that the term's value is ``coef @ col_value[columns]`` (costs positive).
    """

    scenario: Scenario
    index: Index
    relax: bool
    integer_jobs: bool
    cols: dict[str, int]
    rows: dict[str, slice]
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sp.csc_array
    integer: np.ndarray  # bool per column
    terms: dict[str, tuple[np.ndarray, np.ndarray]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_cols(self) -> int:
        return int(self.cost.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.size)

    def block(self, name: str, size: int | None = None) -> np.ndarray:
        """Column indices of a block (``x``, ``y``, ``n`` or one of `DC_BLOCKS`)."""
        scn, idx = self.scenario, self.index
        sizes = {"x": idx.n_rows, "y": idx.n_cohorts, "n": scn.A * scn.T}
        k = sizes.get(name, scn.D * scn.T) if size is None else size
        return np.arange(self.cols[name], self.cols[name] + k)

    def schedule(self, values: np.ndarray, slots: int | None = None) -> Schedule:
        """The `Schedule` of a column vector (slots [0, slots)); integer columns rounded."""
        scn = self.scenario

        def grid(name: str, rows: int) -> np.ndarray:
            return np.asarray(values[self.block(name)].reshape(rows, scn.T))

        flows = {"gpus": grid("n", scn.A)}
        for field_, block in zip(DC_FIELDS, ("g", "r", "ch", "dis", "o", "u"), strict=True):
            flows[field_] = grid(block, scn.D)
        return schedule_from_values(
            scn,
            self.index,
            values[self.block("x")],
            values[self.block("y")],
            flows,
            integer=not self.relax,
            slots=slots,
        )

    def term_values(self, values: np.ndarray) -> dict[str, float]:
        """The eight utility terms ($) of a column vector, from the named cost vectors."""
        return {n: float(c @ values[cols]) for n, (cols, c) in self.terms.items()}


# ---------------------------------------------------------------------------------------
# layout and bounds
# ---------------------------------------------------------------------------------------
def layout(scn: Scenario, idx: Index) -> dict[str, int]:
    """First column of each block."""
    sizes = [("x", idx.n_rows), ("y", idx.n_cohorts), ("n", scn.A * scn.T)]
    sizes += [(name, scn.D * scn.T) for name in DC_BLOCKS]
    starts = np.cumsum([0] + [s for _, s in sizes])
    return {name: int(starts[i]) for i, (name, _) in enumerate(sizes)} | {"_end": int(starts[-1])}


def column_bounds(scn: Scenario, idx: Index, cols: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every column (r ≤ R is the renewable limit)."""
    T = scn.T
    dc, pools = DataCenterArrays.of(scn), PoolArrays.of(scn)
    lo = np.zeros(cols["_end"])
    hi = np.full(cols["_end"], np.inf)

    def put(name: str, lower: np.ndarray | float, upper: np.ndarray | float) -> None:
        sl = slice(cols[name], cols[name] + scn.D * T)
        lo[sl], hi[sl] = lower, upper

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, T)

    n0 = cols["n"]
    hi[n0 : n0 + scn.A * T] = rep(pools.gpus)
    put("g", 0.0, rep(dc.grid_cap_mwh))
    put("r", 0.0, scn.renewable.ravel())
    put("ch", 0.0, rep(dc.charge_max_mwh))
    put("dis", 0.0, rep(dc.discharge_max_mwh))
    put("e", rep(dc.soc_min_mwh), rep(dc.soc_max_mwh))
    put("o", 0.0, rep(dc.gen_max_mwh))
    has_bat = (dc.charge_max_mwh > 0) | (dc.discharge_max_mwh > 0)
    put("z", 0.0, rep(has_bat.astype(float)))
    put("u", 0.0, rep(dc.has_generator.astype(float)))
    put("v", 0.0, np.where(rep(dc.has_generator), np.inf, 0.0))
    return lo, hi


# ---------------------------------------------------------------------------------------
# constraint families (MODEL.md §4), rows as COO triplets
# ---------------------------------------------------------------------------------------
def _dt_cols(cols: dict[str, int], name: str, d: np.ndarray, t: np.ndarray, T: int) -> np.ndarray:
    return np.asarray(cols[name] + d * T + t)


def cohort_conservation(scn: Scenario, idx: Index, cols: dict[str, int], lam: np.ndarray) -> Rows:
    """(1) Σ_{b,s,t} x + y = λ for every cohort (a, k, τ)."""
    C = idx.n_cohorts
    row = np.concatenate([idx.c, np.arange(C)])
    col = np.concatenate([cols["x"] + np.arange(idx.n_rows), cols["y"] + np.arange(C)])
    return Rows(row, col, np.ones(row.size), lam.copy(), lam.copy())


def gpu_time(scn: Scenario, idx: Index, cols: dict[str, int]) -> Rows:
    """(2) Σ x·τ_{b,k}(n_s) − 3600·Δ·n_{b,t} ≤ 0 for every (b, t) with service rows."""
    key = idx.b * scn.T + idx.t
    used = np.flatnonzero(np.bincount(key, minlength=scn.A * scn.T))
    pos = np.zeros(scn.A * scn.T, dtype=np.int64)
    pos[used] = np.arange(used.size)
    inv = pos[key]
    cap = PoolArrays.of(scn).gpu_seconds_per_slot
    row = np.concatenate([inv, np.arange(used.size)])
    col = np.concatenate([cols["x"] + np.arange(idx.n_rows), cols["n"] + used])
    val = np.concatenate([idx.gpu_s, np.full(used.size, -cap)])
    return Rows(row, col, val, np.full(used.size, -np.inf), np.zeros(used.size))


def power_balance(scn: Scenario, idx: Index, cols: dict[str, int]) -> Rows:
    """(3–4) PUE_d·Σ_b E^IT_{b,t} − g − r − dis + ch − o = 0 per (d, t), E^IT in MWh."""
    D, T, B = scn.D, scn.T, scn.A
    dc, pools = DataCenterArrays.of(scn), PoolArrays.of(scn)
    pue = dc.pue
    d_row = pools.dc[idx.b]
    bt_b, bt_t = np.repeat(np.arange(B), T), np.tile(np.arange(T), B)
    dd, tt = np.repeat(np.arange(D), T), np.tile(np.arange(T), D)
    parts = [
        (d_row * T + idx.t, cols["x"] + np.arange(idx.n_rows), pue[d_row] * idx.kwh / 1000.0),
        (
            pools.dc[bt_b] * T + bt_t,
            cols["n"] + bt_b * T + bt_t,
            (pue[pools.dc] * pools.idle_mwh_per_gpu_slot)[bt_b],
        ),
    ]
    for name, sign in (("g", -1.0), ("r", -1.0), ("dis", -1.0), ("ch", 1.0), ("o", -1.0)):
        parts.append((dd * T + tt, _dt_cols(cols, name, dd, tt, T), np.full(D * T, sign)))
    row, col, val = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Rows(row, col, val, np.zeros(D * T), np.zeros(D * T))


def battery_dynamics(scn: Scenario, cols: dict[str, int], soc0: np.ndarray) -> Rows:
    """(5) e_t − e_{t−1} − η^c·ch_t + dis_t/η^d = 0 (t ≥ 1), = e^0 at t = 0, per battery."""
    T = scn.T
    dc = DataCenterArrays.of(scn)
    ds = np.flatnonzero(dc.has_battery)
    d, t = np.repeat(ds, T), np.tile(np.arange(T), ds.size)
    r = np.arange(d.size)
    later = t > 0
    row = np.concatenate([r, r[later], r, r])
    col = np.concatenate(
        [
            _dt_cols(cols, "e", d, t, T),
            _dt_cols(cols, "e", d[later], t[later] - 1, T),
            _dt_cols(cols, "ch", d, t, T),
            _dt_cols(cols, "dis", d, t, T),
        ]
    )
    val = np.concatenate(
        [np.ones(r.size), -np.ones(later.sum()), -dc.eta_charge[d], 1.0 / dc.eta_discharge[d]]
    )
    rhs = np.where(t == 0, soc0[d], 0.0)
    return Rows(row, col, val, rhs, rhs.copy())


def battery_terminal(scn: Scenario, cols: dict[str, int], soc_end: np.ndarray) -> Rows:
    """(5) e_{T−1} ≥ e^end per battery."""
    ds = np.flatnonzero(DataCenterArrays.of(scn).has_battery)
    col = _dt_cols(cols, "e", ds, np.full(ds.size, scn.T - 1), scn.T)
    return Rows(np.arange(ds.size), col, np.ones(ds.size), soc_end[ds], np.full(ds.size, np.inf))


def battery_modes(scn: Scenario, cols: dict[str, int]) -> tuple[Rows, Rows]:
    """(5) ch − P^ch·Δ·z ≤ 0 and dis + P^dis·Δ·z ≤ P^dis·Δ per battery and slot."""
    T = scn.T
    dc = DataCenterArrays.of(scn)
    ds = np.flatnonzero(dc.has_battery)
    d, t = np.repeat(ds, T), np.tile(np.arange(T), ds.size)
    r = np.arange(d.size)
    z = _dt_cols(cols, "z", d, t, T)
    inf = np.full(r.size, -np.inf)
    charge = Rows(
        np.concatenate([r, r]),
        np.concatenate([_dt_cols(cols, "ch", d, t, T), z]),
        np.concatenate([np.ones(r.size), -dc.charge_max_mwh[d]]),
        inf,
        np.zeros(r.size),
    )
    discharge = Rows(
        np.concatenate([r, r]),
        np.concatenate([_dt_cols(cols, "dis", d, t, T), z]),
        np.concatenate([np.ones(r.size), dc.discharge_max_mwh[d]]),
        inf.copy(),
        dc.discharge_max_mwh[d],
    )
    return charge, discharge


def generator(scn: Scenario, cols: dict[str, int], u0: np.ndarray) -> tuple[Rows, Rows, Rows]:
    """(6) o − O^min·Δ·u ≥ 0, o − O^max·Δ·u ≤ 0, v − u_t + u_{t−1} ≥ 0 (u_{−1} = u^0)."""
    T = scn.T
    dc = DataCenterArrays.of(scn)
    ds = np.flatnonzero(dc.has_generator)
    d, t = np.repeat(ds, T), np.tile(np.arange(T), ds.size)
    r = np.arange(d.size)
    o, u, v = (_dt_cols(cols, n, d, t, T) for n in ("o", "u", "v"))
    ones, inf = np.ones(r.size), np.full(r.size, np.inf)
    gmin = Rows(
        np.concatenate([r, r]),
        np.concatenate([o, u]),
        np.concatenate([ones, -dc.gen_min_mwh[d]]),
        np.zeros(r.size),
        inf,
    )
    gmax = Rows(
        np.concatenate([r, r]),
        np.concatenate([o, u]),
        np.concatenate([ones, -dc.gen_max_mwh[d]]),
        -inf,
        np.zeros(r.size),
    )
    later = t > 0
    startup = Rows(
        np.concatenate([r, r, r[later]]),
        np.concatenate([v, u, _dt_cols(cols, "u", d[later], t[later] - 1, T)]),
        np.concatenate([ones, -ones, np.ones(later.sum())]),
        np.where(t == 0, -u0[d], 0.0),
        inf.copy(),
    )
    return gmin, gmax, startup


def objective_terms(
    scn: Scenario, idx: Index, cols: dict[str, int], drop_weight: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The eight utility terms (`arrays.term_coefficients`) as (columns, $ per unit)."""
    return {
        name: (
            np.concatenate([cols[block] + np.arange(coef.size) for block, coef in parts]),
            np.concatenate([coef for _, coef in parts]),
        )
        for name, parts in term_coefficients(scn, idx, drop_weight).items()
    }


def build_arrays(
    scn: Scenario,
    *,
    relax: bool = False,
    integer_jobs: bool = False,
    pending: np.ndarray | None = None,
    skip_empty: bool = True,
    index: Index | None = None,
) -> ArrayProgram:
    """Assemble the program of MODEL.md §3–4 as arrays (arguments as `milp.build_milp`)."""
    idx = index if index is not None else build_index(scn, skip_empty=skip_empty, pending=pending)
    cols = layout(scn, idx)
    lo, hi = column_bounds(scn, idx, cols)
    dc = DataCenterArrays.of(scn)
    lam = cohort_sizes(idx, scn.arrivals, pending)
    families: list[tuple[str, Rows]] = [
        ("cohort_conservation", cohort_conservation(scn, idx, cols, lam)),
        ("gpu_time", gpu_time(scn, idx, cols)),
        ("power_balance", power_balance(scn, idx, cols)),
        ("battery_dynamics", battery_dynamics(scn, cols, dc.soc_initial_mwh)),
        ("battery_terminal", battery_terminal(scn, cols, dc.soc_terminal_mwh)),
    ]
    ch_mode, dis_mode = battery_modes(scn, cols)
    families += [("battery_charge_mode", ch_mode), ("battery_discharge_mode", dis_mode)]
    gmin, gmax, gsu = generator(scn, cols, dc.gen_initially_on)
    families += [("generator_min", gmin), ("generator_max", gmax), ("generator_startup", gsu)]
    offsets = np.cumsum([0] + [f.n for _, f in families])
    rows = {
        name: slice(int(offsets[i]), int(offsets[i + 1])) for i, (name, _) in enumerate(families)
    }
    n_rows, n_cols = int(offsets[-1]), cols["_end"]
    matrix = sp.csc_array(
        (
            np.concatenate([f.val for _, f in families]),
            (
                np.concatenate([f.row + offsets[i] for i, (_, f) in enumerate(families)]),
                np.concatenate([f.col for _, f in families]),
            ),
        ),
        shape=(n_rows, n_cols),
    )
    terms = objective_terms(scn, idx, cols, np.ones(idx.n_cohorts))
    cost = np.zeros(n_cols)
    for name, (c, coef) in terms.items():
        np.add.at(cost, c, coef if name == "revenue" else -coef)
    integer = np.zeros(n_cols, dtype=bool)
    if not relax:
        for name in ("n", "z", "u"):
            integer[cols[name] : cols[name] + (scn.A if name == "n" else scn.D) * scn.T] = True
        if integer_jobs:
            integer[cols["x"] : cols["n"]] = True
    return ArrayProgram(
        scenario=scn,
        index=idx,
        relax=relax,
        integer_jobs=integer_jobs,
        cols=cols,
        rows=rows,
        cost=cost,
        col_lower=lo,
        col_upper=hi,
        row_lower=np.concatenate([f.lower for _, f in families]),
        row_upper=np.concatenate([f.upper for _, f in families]),
        matrix=matrix,
        integer=integer,
        terms=terms,
        meta={"families": list(rows), "terms": list(TERMS)},
    )


# ---------------------------------------------------------------------------------------
# a bound from any row multipliers (weak duality)
# ---------------------------------------------------------------------------------------
def implied_upper(prog: ArrayProgram) -> np.ndarray:
    """Finite column upper bounds that keep the program's optimum: x_i and y_c ≤ λ_c
    (cohort conservation), v ≤ 1 (a start-up never pays to exceed u_t − u_{t−1} ≤ 1), and
    g ≤ PUE·(idle + the most energy per GPU-second × GPU time) + P^ch·Δ per data center
    and slot (power balance with every other supply at 0)."""
    scn, idx = prog.scenario, prog.index
    hi = prog.col_upper.copy()
    lam = prog.row_upper[prog.rows["cohort_conservation"]]
    x = prog.block("x")
    hi[x] = np.minimum(hi[x], lam[idx.c])
    hi[prog.block("y")] = np.minimum(hi[prog.block("y")], lam)
    hi[prog.block("v")] = np.minimum(hi[prog.block("v")], 1.0)
    dc, pools = DataCenterArrays.of(scn), PoolArrays.of(scn)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scn.gpu_seconds > 0, scn.job_kwh / scn.gpu_seconds, 0.0)
    per_gpu = (
        pools.idle_mwh_per_gpu_slot + ratio.max(axis=(1, 2)) * pools.gpu_seconds_per_slot / 1000
    )
    load = np.zeros(scn.D)
    np.add.at(load, pools.dc, pools.gpus * per_gpu)
    g_cap = dc.pue * load * (1 + 1e-9) + dc.charge_max_mwh
    g = prog.block("g")
    hi[g] = np.minimum(hi[g], np.repeat(g_cap, scn.T))
    return hi


def dual_bound(prog: ArrayProgram, y: np.ndarray, upper: np.ndarray | None = None) -> float:
    """Upper bound on the LP relaxation's optimum (so on the MILP's) from any row
    multipliers ``y`` (weak duality): c·x = (c − Aᵀy)·x + y·Ax, each part maximised over
    the column bounds (``upper`` defaults to `implied_upper`) and the row bounds. Returns
    inf when a part is unbounded."""
    upper = implied_upper(prog) if upper is None else upper
    rc = prog.cost - prog.matrix.T @ y
    lo = prog.col_lower
    with np.errstate(invalid="ignore"):
        col = np.where(rc > 0, rc * upper, np.where(rc < 0, rc * lo, 0.0))
        row = np.where(y > 0, y * prog.row_upper, np.where(y < 0, y * prog.row_lower, 0.0))
    total = float(col.sum() + row.sum())
    return total if np.isfinite(total) else float("inf")
