"""The schedule: one episode's decisions, whoever made them (solver, simulator, policy).

Integer codes index the scenario's lists (a/b ASP, k class, s step level, d data center,
t slot of the horizon). `Schedule.tidy` turns the codes into names for storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario

JOB_COLUMNS = ["a", "b", "k", "s", "tau", "t", "x"]
DC_FIELDS = ("grid", "renewable", "charge", "discharge", "generator", "generator_on")


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
    meta: dict = field(default_factory=dict)

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
        e0 = np.zeros(scn.D)
        eta_c = np.ones(scn.D)
        eta_d = np.ones(scn.D)
        for d, dc in enumerate(scn.params.data_centers):
            if dc.battery is not None:
                e0[d] = dc.battery.soc_initial_mwh
                eta_c[d] = dc.battery.eta_charge
                eta_d[d] = dc.battery.eta_discharge
        flow = eta_c[:, None] * self.charge - self.discharge / eta_d[:, None]
        return e0[:, None] + np.cumsum(flow, axis=1)

    def startups(self, scn: Scenario) -> np.ndarray:
        """(D, T) generator start-ups v = max(0, u_t − u_{t−1}) with u_{−1} = u^0."""
        u0 = np.array(
            [
                1.0 if (dc.generator is not None and dc.generator.initially_on) else 0.0
                for dc in scn.params.data_centers
            ]
        )
        prev = np.concatenate([u0[:, None], self.generator_on[:, :-1]], axis=1)
        return np.maximum(self.generator_on - prev, 0.0)

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
