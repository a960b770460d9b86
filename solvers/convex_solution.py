"""A solved convex program read back in physical units: its values (`ConvexSolution`:
jobs, job-steps, GPUs, MWh), the per-row quality Q_b(w/x), the eight utility terms and
the KPIs through the one accounting, and the residuals of its linear constraint families.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import (
    TERMS,
    book_slot_terms,
    drop_penalties,
    energy_kpis,
    energy_slot_terms,
    service_row_terms,
)
from aigc_opt.formulations.arrays import DataCenterArrays, PoolArrays
from aigc_opt.formulations.convex import ConvexProgram
from aigc_opt.formulations.schedule import Schedule, startups


@dataclass
class ConvexSolution:
    """Values of a solved convex program, unscaled.

    ``jobs``: one row per service row with a, b, k, s (−1 for continuous steps), tau, t,
    x (jobs), w (job-steps) and steps = w/x (NaN where x = 0).
    ``drops`` (A, K, T) jobs; ``gpus`` (B, T); ``grid, renewable, charge, discharge, soc,
    generator`` (D, T) MWh per slot; ``generator_on`` (D, T) in [0, 1].
    """

    jobs: pd.DataFrame
    drops: np.ndarray
    gpus: np.ndarray
    grid: np.ndarray
    renewable: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    soc: np.ndarray
    generator: np.ndarray
    generator_on: np.ndarray

    def to_schedule(self, scn: Scenario) -> Schedule:
        """The `Schedule` of a discrete-level solution (every row has a level s ≥ 0)."""
        j = self.jobs
        if (j["s"] < 0).any():
            raise ValueError("continuous steps have no discrete schedule")
        sch = Schedule.empty(scn)
        keep = j["x"].to_numpy() != 0
        sch.jobs = j.loc[keep, ["a", "b", "k", "s", "tau", "t", "x"]].reset_index(drop=True)
        sch.drops = self.drops.copy()
        sch.gpus = self.gpus.copy()
        sch.grid, sch.renewable = self.grid.copy(), self.renewable.copy()
        sch.charge, sch.discharge = self.charge.copy(), self.discharge.copy()
        sch.generator, sch.generator_on = self.generator.copy(), self.generator_on.copy()
        return sch

    def tidy(self, scn: Scenario) -> dict[str, pd.DataFrame]:
        """Long tables with names: ``jobs`` (continuous steps), ``drops``, ``gpus``, ``energy``."""
        p = scn.params
        asp = np.asarray([b.name for b in p.asps], dtype=object)
        cls = np.asarray([k.name for k in p.job_classes], dtype=object)
        dcs = [d.name for d in p.data_centers]
        j = self.jobs[self.jobs["x"] > 0]
        jobs = pd.DataFrame(
            {
                "origin": asp[j["a"].to_numpy(int)],
                "server": asp[j["b"].to_numpy(int)],
                "job_class": cls[j["k"].to_numpy(int)],
                "arrival_slot": j["tau"].to_numpy(int),
                "slot": j["t"].to_numpy(int),
                "jobs": j["x"].to_numpy(float),
                "job_steps": j["w"].to_numpy(float),
                "steps": j["steps"].to_numpy(float),
            }
        )
        a, k, t = np.nonzero(self.drops > 0)
        drops = pd.DataFrame(
            {"origin": asp[a], "job_class": cls[k], "arrival_slot": t, "jobs": self.drops[a, k, t]}
        )
        T = scn.T
        gpus = pd.DataFrame(
            {
                "asp": np.repeat(asp, T),
                "slot": np.tile(np.arange(T), len(asp)),
                "active_gpus": self.gpus.ravel(),
            }
        )
        energy = pd.DataFrame(
            {
                "data_center": np.repeat(dcs, T),
                "slot": np.tile(np.arange(T), len(dcs)),
                "grid_mwh": self.grid.ravel(),
                "renewable_used_mwh": self.renewable.ravel(),
                "renewable_available_mwh": scn.renewable.ravel(),
                "charge_mwh": self.charge.ravel(),
                "discharge_mwh": self.discharge.ravel(),
                "soc_mwh": self.soc.ravel(),
                "generator_mwh": self.generator.ravel(),
                "generator_on": self.generator_on.ravel(),
                "price_usd_per_mwh": scn.price.ravel(),
                "carbon_t_per_mwh": scn.carbon.ravel(),
            }
        )
        return {"jobs": jobs, "drops": drops, "gpus": gpus, "energy": energy}


def extract_solution(prog: ConvexProgram) -> ConvexSolution:
    """Read the variable values of a solved program, in jobs, job-steps and MWh."""
    scn, rows, sc, v = prog.scenario, prog.rows, prog.scaling, prog.var
    D, B, T = scn.D, scn.A, scn.T

    def val(name: str, scale: float = 1.0) -> np.ndarray:
        value = v[name].value
        return np.zeros(v[name].size) if value is None else np.asarray(value) * scale

    x = val("x", sc.jobs)
    if rows.discrete:
        w = x * rows.n_lo
    else:
        w = val("w", sc.jobs)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(x > 0, w / x, np.nan)
    jobs = pd.DataFrame(
        {
            "a": rows.a,
            "b": rows.b,
            "k": rows.k,
            "s": rows.s,
            "tau": rows.tau,
            "t": rows.t,
            "x": x,
            "w": w,
            "steps": steps,
        }
    )
    idx = prog.index
    drops = np.zeros((scn.A, scn.K, T))
    drops[idx.ca, idx.ck, idx.ctau] = val("y", sc.jobs)

    def dt(name: str) -> np.ndarray:  # a (D, T) flow in MWh per slot
        return val(name, sc.mwh).reshape(D, T)

    return ConvexSolution(
        jobs=jobs,
        drops=drops,
        gpus=val("n").reshape(B, T),
        grid=dt("g"),
        renewable=dt("r"),
        charge=dt("ch"),
        discharge=dt("dis"),
        soc=dt("e"),
        generator=dt("o"),
        generator_on=val("u").reshape(D, T),
    )


def row_quality(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> np.ndarray:
    """Q_b(n) of every service row: Q_b(n_s) for discrete rows, else Q_b(w/x) with n clipped
    to the row's step range (which only absorbs solver round-off)."""
    rows = prog.rows
    if rows.discrete:
        return rows.quality
    q = np.zeros(rows.n)
    n = np.clip(np.nan_to_num(sol.jobs["steps"].to_numpy(float), nan=0.0), rows.n_lo, rows.n_hi)
    for b, asp in enumerate(scn.params.asps):
        sel = rows.b == b
        if sel.any():
            q[sel] = asp.quality.values(n[sel])
    return q


def convex_slot_terms(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> np.ndarray:
    """Utility terms per slot ($), shape (T, 8) in the order of `TERMS`.

    The accounting's own term functions (`accounting.service_row_terms`,
    `drop_penalties`, `energy_slot_terms`, booked by `book_slot_terms`); the convex
    program only passes its per-row quality Q_b(w/x) (`row_quality`) and its flows.
    """
    rows, T = prog.rows, scn.T
    x = sol.jobs["x"].to_numpy(float)
    per_row = service_row_terms(
        scn, rows.a, rows.b, rows.k, rows.t - rows.tau, x, row_quality(scn, prog, sol)
    )
    starts = startups(sol.generator_on, DataCenterArrays.of(scn).gen_initially_on)
    energy = energy_slot_terms(
        scn, sol.grid, sol.generator, starts, sol.charge, sol.discharge, np.arange(T)
    )
    return book_slot_terms(T, np.arange(T), rows.t, per_row, drop_penalties(scn, sol.drops), energy)


def convex_terms(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> dict[str, float]:
    """The eight utility terms ($) of a solution, recomputed from its values alone."""
    per = convex_slot_terms(scn, prog, sol)
    return {n: float(per[:, i].sum()) for i, n in enumerate(TERMS)}


def convex_kpis(scn: Scenario, prog: ConvexProgram, sol: ConvexSolution) -> dict[str, Any]:
    """KPIs in the layout of `accounting.kpis`, plus the job-weighted mean steps."""
    rows = prog.rows
    j = sol.jobs
    x = j["x"].to_numpy(float)
    w = j["w"].to_numpy(float)
    served = float(x.sum())
    q = row_quality(scn, prog, sol)
    it = np.zeros((scn.A, scn.T))
    np.add.at(it, (rows.b, rows.t), rows.kwh_x * x + rows.kwh_w * w)
    it = it / 1000.0 + sol.gpus * PoolArrays.of(scn).idle_mwh_per_gpu_slot[:, None]
    energy = energy_kpis(scn, it, sol)
    return {
        "energy_mwh": energy["energy_mwh"],
        "carbon_t": energy["carbon_t"],
        "jobs_arrived": float(scn.arrivals.sum()),
        "jobs_served": served,
        "jobs_transferred": float(x[rows.a != rows.b].sum()),
        "jobs_dropped": float(sol.drops.sum()),
        "mean_quality": float((q * x).sum() / served) if served > 0 else 0.0,
        "mean_wait_slots": float(((rows.t - rows.tau) * x).sum() / served) if served > 0 else 0.0,
        "mean_steps": float(w.sum() / served) if served > 0 else 0.0,
        "data_centers": energy["data_centers"],
    }


def linear_violations(prog: ConvexProgram, tol: float = 1e-6) -> list[dict[str, Any]]:
    """Largest residual of each linear constraint family (model units) above ``tol`` times
    max(1, the family's largest term); cones are checked through the exact revenue."""
    out = []
    for name, fam in prog.families.items():
        worst = 0.0
        scale = 1.0
        con: Any
        for con in fam:
            res = con.violation()
            if res is None:
                continue
            worst = max(worst, float(np.max(res)) if np.size(res) else 0.0)
            for arg in con.args:
                val = arg.value
                if val is not None and np.size(val):
                    scale = max(scale, float(np.max(np.abs(val))))
        if worst > tol * scale:
            out.append(
                {"constraint": name, "index": "max over rows (model units)", "amount": worst}
            )
    return out
