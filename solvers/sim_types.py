"""Types of the slot simulator: decisions, observations, limits, step results, and a
scenario's static parameters as arrays (`ScenarioArrays`, `slot_limits`).

Units: jobs (real-valued, the fluid model of MODEL.md §5), GPUs, MWh per slot, $.
`aigc_opt.solvers.simulator` re-exports every public name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.schedule import JOB_COLUMNS, Schedule

Mode = Literal["repair", "strict"]

#: Relative tolerance under which a decision counts as satisfying a constraint
#: (scaled by max(1, |row scale|), as in `accounting.check_constraints`).
TOL = 1e-6
#: GPU counts this close to an integer are snapped to it instead of rounded up.
GPU_SNAP = 1e-6


class DecisionError(ValueError):
    """A slot decision was rejected; ``str(err)`` says which rule and where."""


@dataclass
class Repair:
    """One change the simulator made to a decision (rule of docs/simulator.md)."""

    rule: str
    where: str
    amount: float

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "where": self.where, "amount": self.amount}


# ---------------------------------------------------------------------------------------
# decisions and observations
# ---------------------------------------------------------------------------------------
def _opt(v: np.ndarray | None) -> np.ndarray | None:
    return None if v is None else np.array(v, dtype=float, copy=True)


@dataclass
class SlotDecisions:
    """Decisions of one slot t (units: jobs, GPUs, MWh per slot).

    Service rows (length N): ``a`` origin ASP, ``b`` serving ASP, ``k`` class, ``s``
    step level, ``tau`` arrival slot of the cohort (absolute slot of the episode), ``x``
    jobs served (real ≥ 0). Pool and data-center arrays are optional; ``None`` means the
    default given in the module docstring.
    """

    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    k: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    s: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    tau: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=float))
    gpus: np.ndarray | None = None
    grid: np.ndarray | None = None
    renewable: np.ndarray | None = None
    charge: np.ndarray | None = None
    discharge: np.ndarray | None = None
    generator: np.ndarray | None = None
    generator_on: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return int(np.asarray(self.x).size)

    def copy(self) -> SlotDecisions:
        return SlotDecisions(
            a=np.array(self.a, dtype=int, copy=True),
            b=np.array(self.b, dtype=int, copy=True),
            k=np.array(self.k, dtype=int, copy=True),
            s=np.array(self.s, dtype=int, copy=True),
            tau=np.array(self.tau, dtype=int, copy=True),
            x=np.array(self.x, dtype=float, copy=True),
            gpus=_opt(self.gpus),
            grid=_opt(self.grid),
            renewable=_opt(self.renewable),
            charge=_opt(self.charge),
            discharge=_opt(self.discharge),
            generator=_opt(self.generator),
            generator_on=_opt(self.generator_on),
        )

    def rows_frame(self, t: int) -> pd.DataFrame:
        """Service rows as a Schedule jobs frame for slot ``t``."""
        n = self.n_rows
        return pd.DataFrame(
            {
                "a": np.asarray(self.a, dtype=np.int64),
                "b": np.asarray(self.b, dtype=np.int64),
                "k": np.asarray(self.k, dtype=np.int64),
                "s": np.asarray(self.s, dtype=np.int64),
                "tau": np.asarray(self.tau, dtype=np.int64),
                "t": np.full(n, t, dtype=np.int64),
                "x": np.asarray(self.x, dtype=float),
            },
            columns=JOB_COLUMNS,
        )

    @classmethod
    def from_schedule(cls, sch: Schedule, t: int) -> SlotDecisions:
        """Slot ``t`` of a schedule (e.g. the oracle's) as decisions, every field given."""
        j = sch.jobs
        sel = (j["t"].to_numpy(int) == t) if len(j) else np.zeros(0, dtype=bool)
        jt = j[sel] if len(j) else j
        return cls(
            a=jt["a"].to_numpy(int),
            b=jt["b"].to_numpy(int),
            k=jt["k"].to_numpy(int),
            s=jt["s"].to_numpy(int),
            tau=jt["tau"].to_numpy(int),
            x=jt["x"].to_numpy(float),
            gpus=sch.gpus[:, t].copy(),
            grid=sch.grid[:, t].copy(),
            renewable=sch.renewable[:, t].copy(),
            charge=sch.charge[:, t].copy(),
            discharge=sch.discharge[:, t].copy(),
            generator=sch.generator[:, t].copy(),
            generator_on=sch.generator_on[:, t].copy(),
        )


@dataclass(frozen=True)
class SlotLimits:
    """What slot t allows, per pool (B,) and data center (D,).

    ``gpu_seconds`` capacity of each pool at all GPUs on (GPU-s); ``grid_mwh`` import cap
    (inf when absent); ``charge_max`` / ``discharge_max`` battery room in MWh at the bus,
    from the power limits, the SoC bounds and the terminal-reachability floor (R4);
    ``charge_min`` charge forced by that floor (0 except near the end of a horizon);
    ``generator_min`` / ``generator_max`` output when on (MWh).
    """

    gpu_seconds: np.ndarray
    grid_mwh: np.ndarray
    charge_min: np.ndarray
    charge_max: np.ndarray
    discharge_max: np.ndarray
    generator_min: np.ndarray
    generator_max: np.ndarray


@dataclass(frozen=True)
class Observation:
    """What a policy sees at the start of slot t (see the module docstring for shapes)."""

    t: int
    T: int
    hour_of_day: float
    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    arrivals: np.ndarray
    pending: np.ndarray
    soc: np.ndarray
    generator_on: np.ndarray
    limits: SlotLimits
    forecast: Any | None = None

    @property
    def slots_left(self) -> int:
        """Slots from t to the end of the episode, t included."""
        return self.T - self.t


@dataclass
class StepResult:
    """Outcome of one `Simulator.step`.

    ``reward`` is the slot's utility ($) and ``terms`` its eight terms ($, names of
    `TERMS`); ``decisions`` are the decisions as applied (after repair);
    ``observation`` is the next slot's, or None when the episode is over.
    """

    observation: Observation | None
    reward: float
    terms: dict[str, float]
    done: bool
    repairs: list[Repair]
    decisions: SlotDecisions
    dropped: float = 0.0


# ---------------------------------------------------------------------------------------
# static data of a scenario, as arrays
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioArrays:
    """Static parameters of a scenario as arrays indexed by b, k or d (units of `Scenario`)."""

    A: int
    K: int
    D: int
    T: int
    W: np.ndarray  # (K,)
    Wmax: int
    G: np.ndarray  # (B,)
    idle_kw: np.ndarray  # (B,)
    dc_of: np.ndarray  # (B,)
    pue: np.ndarray  # (D,)
    cap: np.ndarray  # (D,) MWh/slot, inf = none
    pch: np.ndarray
    pdis: np.ndarray
    eta_c: np.ndarray
    eta_d: np.ndarray
    smin: np.ndarray
    smax: np.ndarray
    send: np.ndarray
    e0: np.ndarray
    omin: np.ndarray
    omax: np.ndarray
    u0: np.ndarray
    slot_gpu_s: float
    charge_reach: np.ndarray  # (D, T) MWh of SoC the battery can still gain after slot t

    @classmethod
    def of(cls, scn: Scenario) -> ScenarioArrays:
        p = scn.params
        dcs = p.data_centers
        dt = scn.dt

        def bat(attr: str) -> np.ndarray:
            return np.array([float(getattr(d.battery, attr)) if d.battery else 0.0 for d in dcs])

        def gen(attr: str) -> np.ndarray:
            return np.array(
                [float(getattr(d.generator, attr)) if d.generator else 0.0 for d in dcs]
            )

        wait = scn.class_arrays["wait"]
        return cls(
            A=scn.A,
            K=scn.K,
            D=scn.D,
            T=scn.T,
            W=wait,
            Wmax=int(wait.max()),
            G=np.array([b.gpus for b in p.asps], dtype=float),
            idle_kw=np.array([b.idle_kw_per_gpu for b in p.asps], dtype=float),
            dc_of=scn.dc_of_asp,
            pue=np.array([d.pue for d in dcs], dtype=float),
            cap=np.array([np.inf if d.grid_cap_mw is None else d.grid_cap_mw * dt for d in dcs]),
            pch=bat("charge_mw") * dt,
            pdis=bat("discharge_mw") * dt,
            eta_c=np.array([d.battery.eta_charge if d.battery else 1.0 for d in dcs]),
            eta_d=np.array([d.battery.eta_discharge if d.battery else 1.0 for d in dcs]),
            smin=bat("soc_min_mwh"),
            smax=bat("capacity_mwh"),
            send=np.array([d.battery.terminal_mwh if d.battery else 0.0 for d in dcs]),
            e0=bat("soc_initial_mwh"),
            omin=gen("min_mw") * dt,
            omax=gen("max_mw") * dt,
            u0=np.array(
                [
                    1.0
                    if d.generator and d.generator.initially_on and d.generator.max_mw > 0
                    else 0.0
                    for d in dcs
                ]
            ),
            slot_gpu_s=3600.0 * dt,
            charge_reach=_charge_reach(scn, dcs, dt),
        )


def _charge_reach(scn: Scenario, dcs: list[Any], dt: float) -> np.ndarray:
    """(D, T) MWh: the most SoC a battery can gain in slots t+1 … T−1 without relying on the
    generator. A slot charges at most min(charge power × Δ, energy the bus can supply with
    no IT load: grid cap × Δ + renewables), times η_charge (MODEL.md §4, balance and
    battery). The generator is left out because the repair rules never commit it: a policy
    that keeps it off must still be able to reach the terminal floor."""
    pch = np.array([d.battery.charge_mw * dt if d.battery else 0.0 for d in dcs])
    eta = np.array([d.battery.eta_charge if d.battery else 1.0 for d in dcs])
    cap = np.array([np.inf if d.grid_cap_mw is None else d.grid_cap_mw * dt for d in dcs])
    supply = cap[:, None] + np.asarray(scn.renewable, dtype=float)
    per_slot = eta[:, None] * np.minimum(pch[:, None], supply)  # (D, T)
    after = np.cumsum(per_slot[:, ::-1], axis=1)[:, ::-1]  # slots t … T−1
    return np.concatenate([after[:, 1:], np.zeros((len(dcs), 1))], axis=1)


def slot_limits(
    scn: Scenario, t: int, soc: np.ndarray, *, _st: ScenarioArrays | None = None
) -> SlotLimits:
    """Limits of slot ``t`` given the SoC (D,) at its start (see `SlotLimits`)."""
    st = _st or ScenarioArrays.of(scn)
    floor = soc_floor(st, t)
    room_up = np.maximum(st.smax - soc, 0.0) / st.eta_c
    ch_max = np.minimum(st.pch, room_up)
    ch_min = np.minimum(np.maximum(floor - soc, 0.0) / st.eta_c, ch_max)
    dis_max = np.minimum(st.pdis, np.maximum(soc - np.maximum(st.smin, floor), 0.0) * st.eta_d)
    return SlotLimits(
        gpu_seconds=st.G * st.slot_gpu_s,
        grid_mwh=st.cap.copy(),
        charge_min=ch_min,
        charge_max=ch_max,
        discharge_max=dis_max,
        generator_min=st.omin.copy(),
        generator_max=st.omax.copy(),
    )


def soc_floor(st: ScenarioArrays, t: int) -> np.ndarray:
    """Lowest SoC at the end of slot t from which the terminal floor is still reachable
    (charge power, grid cap, renewables and generator of the slots after t; see
    `ScenarioArrays.charge_reach`)."""
    return st.send - st.charge_reach[:, t]
