"""The schedule: one episode's decisions, whoever made them (solver, simulator, policy).

Integer codes index the scenario's lists (a/b ASP, k class, s step level, d data center,
t slot of the horizon). `Schedule.tidy` turns the codes into names for storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import DataCenterArrays
from aigc_opt.formulations.index import Index

JOB_COLUMNS = ["a", "b", "k", "s", "tau", "t", "x"]
DC_FIELDS = ("grid", "renewable", "charge", "discharge", "generator", "generator_on")


def startups(generator_on: np.ndarray, initially_on: np.ndarray) -> np.ndarray:
    """(D, T) start-ups v = max(0, u_t − u_{t−1}) of a status (D, T) with u_{−1} = u^0 (D,)."""
    prev = np.concatenate([initially_on[:, None], generator_on[:, :-1]], axis=1)
    return np.asarray(np.maximum(generator_on - prev, 0.0))


@dataclass
class Schedule:
    """Decisions of one episode over T slots.

    jobs : DataFrame with int columns a, b, k, s, tau, t and float x (jobs served, ≥ 0)
    drops : (A, K, T) jobs of cohort (a, k, τ) dropped
    gpus : (B, T) active GPUs n_{b,t}
    grid, renewable, charge, discharge, generator : (D, T) MWh per slot
    generator_on : (D, T) 0/1
    """

    jobs: pd.DataFrame
    drops: np.ndarray
    gpus: np.ndarray
    grid: np.ndarray
    renewable: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    generator: np.ndarray
    generator_on: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, scn: Scenario) -> Schedule:
        D, A, K, T = scn.D, scn.A, scn.K, scn.T
        z = np.zeros((D, T))
        return cls(
            jobs=pd.DataFrame(
                {c: pd.Series(dtype=("float64" if c == "x" else "int64")) for c in JOB_COLUMNS}
            ),
            drops=np.zeros((A, K, T)),
            gpus=np.zeros((A, T)),
            grid=z.copy(),
            renewable=z.copy(),
            charge=z.copy(),
            discharge=z.copy(),
            generator=z.copy(),
            generator_on=z.copy(),
        )

    def soc(self, scn: Scenario) -> np.ndarray:
        """(D, T) state of charge at the end of each slot (MWh), from charge/discharge."""
        dc = DataCenterArrays.of(scn)
        flow = dc.eta_charge[:, None] * self.charge - self.discharge / dc.eta_discharge[:, None]
        return np.asarray(dc.soc_initial_mwh[:, None] + np.cumsum(flow, axis=1))

    def startups(self, scn: Scenario) -> np.ndarray:
        """(D, T) generator start-ups v = max(0, u_t − u_{t−1}) with u_{−1} = u^0."""
        return startups(self.generator_on, DataCenterArrays.of(scn).gen_initially_on)

    def tidy(self, scn: Scenario) -> dict[str, pd.DataFrame]:
        """Long-format tables with names: ``jobs``, ``drops``, ``gpus``, ``energy``."""
        p = scn.params
        asp = [b.name for b in p.asps]
        cls = [k.name for k in p.job_classes]
        dcs = [d.name for d in p.data_centers]
        j = self.jobs
        jobs = pd.DataFrame(
            {
                "origin": np.asarray(asp, dtype=object)[j["a"].to_numpy(int)],
                "server": np.asarray(asp, dtype=object)[j["b"].to_numpy(int)],
                "job_class": np.asarray(cls, dtype=object)[j["k"].to_numpy(int)],
                "steps": np.asarray(p.steps)[j["s"].to_numpy(int)],
                "arrival_slot": j["tau"].to_numpy(int),
                "slot": j["t"].to_numpy(int),
                "jobs": j["x"].to_numpy(float),
            }
        )
        a, k, t = np.nonzero(self.drops > 0)
        drops = pd.DataFrame(
            {
                "origin": np.asarray(asp, dtype=object)[a],
                "job_class": np.asarray(cls, dtype=object)[k],
                "arrival_slot": t,
                "jobs": self.drops[a, k, t],
            }
        )
        T = self.gpus.shape[1]
        gpus = pd.DataFrame(
            {
                "asp": np.repeat(asp, T),
                "slot": np.tile(np.arange(T), len(asp)),
                "active_gpus": self.gpus.ravel(),
            }
        )
        soc = self.soc(scn)
        D = len(dcs)
        energy = pd.DataFrame(
            {
                "data_center": np.repeat(dcs, T),
                "slot": np.tile(np.arange(T), D),
                "grid_mwh": self.grid.ravel(),
                "renewable_used_mwh": self.renewable.ravel(),
                "renewable_available_mwh": scn.renewable.ravel(),
                "charge_mwh": self.charge.ravel(),
                "discharge_mwh": self.discharge.ravel(),
                "soc_mwh": soc.ravel(),
                "generator_mwh": self.generator.ravel(),
                "generator_on": self.generator_on.ravel(),
                "price_usd_per_mwh": scn.price.ravel(),
                "carbon_t_per_mwh": scn.carbon.ravel(),
            }
        )
        return {"jobs": jobs, "drops": drops, "gpus": gpus, "energy": energy}

    @classmethod
    def from_tidy(cls, scn: Scenario, tables: dict[str, pd.DataFrame]) -> Schedule:
        """Inverse of `tidy` (names back to codes)."""
        p = scn.params
        asp = {b.name: i for i, b in enumerate(p.asps)}
        kls = {k.name: i for i, k in enumerate(p.job_classes)}
        dcs = {d.name: i for i, d in enumerate(p.data_centers)}
        lvl = {n: i for i, n in enumerate(p.steps)}
        sch = cls.empty(scn)
        j = tables["jobs"]
        sch.jobs = pd.DataFrame(
            {
                "a": j["origin"].map(asp).to_numpy(int),
                "b": j["server"].map(asp).to_numpy(int),
                "k": j["job_class"].map(kls).to_numpy(int),
                "s": j["steps"].map(lvl).to_numpy(int),
                "tau": j["arrival_slot"].to_numpy(int),
                "t": j["slot"].to_numpy(int),
                "x": j["jobs"].to_numpy(float),
            }
        )
        dr = tables["drops"]
        sch.drops[
            dr["origin"].map(asp).to_numpy(int),
            dr["job_class"].map(kls).to_numpy(int),
            dr["arrival_slot"].to_numpy(int),
        ] = dr["jobs"].to_numpy(float)
        g = tables["gpus"]
        sch.gpus[g["asp"].map(asp).to_numpy(int), g["slot"].to_numpy(int)] = g["active_gpus"]
        e = tables["energy"]
        d, t = e["data_center"].map(dcs).to_numpy(int), e["slot"].to_numpy(int)
        for attr, col in (
            ("grid", "grid_mwh"),
            ("renewable", "renewable_used_mwh"),
            ("charge", "charge_mwh"),
            ("discharge", "discharge_mwh"),
            ("generator", "generator_mwh"),
            ("generator_on", "generator_on"),
        ):
            getattr(sch, attr)[d, t] = e[col].to_numpy(float)
        return sch


def schedule_from_values(
    scn: Scenario,
    idx: Index,
    x: np.ndarray,
    y: np.ndarray,
    flows: dict[str, np.ndarray],
    *,
    integer: bool,
    slots: int | None = None,
) -> Schedule:
    """The `Schedule` of a program's solution, whichever builder made it: ``x`` per service
    row and ``y`` per cohort of ``idx``; ``flows`` maps ``gpus`` (B, T) and the fields
    ``grid, renewable, charge, discharge, generator, generator_on`` (D, T) to values.
    Keeps slots [0, slots); with ``integer`` GPUs and generator status are snapped to
    integers (solvers return 0.9999999)."""
    T = scn.T if slots is None else slots
    sch = Schedule.empty(scn) if slots is None else Schedule.empty(scn.cut(horizon=T))
    keep = (np.abs(x) > 0) & (idx.t < T)
    sch.jobs = pd.DataFrame(
        {
            "a": idx.a[keep],
            "b": idx.b[keep],
            "k": idx.k[keep],
            "s": idx.s[keep],
            "tau": idx.tau[keep],
            "t": idx.t[keep],
            "x": x[keep],
        }
    )
    inside = (idx.ctau >= 0) & (idx.ctau < T)
    sch.drops[idx.ca[inside], idx.ck[inside], idx.ctau[inside]] = y[inside]
    for name, values in flows.items():
        setattr(sch, name, np.asarray(values, dtype=float)[:, :T].copy())
    if integer:
        sch.gpus = np.round(sch.gpus)
        sch.generator_on = np.round(sch.generator_on)
    return sch
