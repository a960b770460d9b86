"""Slot-by-slot simulator of MODEL.md: the one place where policies meet the model.

Every controller (oracle replay, MPC, heuristics, the Gymnasium environment and the
DRL policies it hosts) advances through a `Simulator` one slot at a time, with the
information of MODEL.md §6, and is judged by the utility of
`aigc_opt.formulations.accounting.slot_terms` -- the same function `evaluate` sums for
the oracle. Rules for repairing or rejecting decisions are in docs/simulator.md.

API
---
::

    sim = Simulator(scenario, mode="repair")       # or mode="strict"
    obs = sim.reset()                              # Observation of slot 0
    while not sim.done:
        dec = SlotDecisions(a=..., b=..., k=..., s=..., tau=..., x=...,
                            gpus=None, charge=..., discharge=..., generator=..., ...)
        step = sim.step(dec)       # StepResult: reward ($), terms, repairs, observation
        obs = step.observation     # None after the last slot
    sch = sim.schedule()           # the realized Schedule (accounting.evaluate accepts it)
    sim.evaluation()               # accounting.evaluate(scenario, sch)

`Observation` (slot t, before deciding): ``t``, ``T``, ``hour_of_day``, ``price`` (D,)
$/MWh, ``carbon`` (D,) tCO2/MWh, ``renewable`` (D,) MWh, ``arrivals`` (A, K) jobs of slot
t, ``pending`` (A, K, W_max + 1) jobs waiting by age (age 0 = arrived in slot t; a cohort
of class k is present for ages 0..W_k), ``soc`` (D,) MWh at the start of the slot,
``generator_on`` (D,) status of the previous slot, ``limits`` (`SlotLimits`: what the
slot allows, e.g. the battery's charge/discharge room) and ``forecast`` (optional
`aigc_opt.solvers.forecast.SeriesForecast` for slots t+1.., when the simulator was given a
forecaster).

`SlotDecisions` (one slot): service rows ``(a, b, k, s, tau, x)`` -- x ≥ 0 jobs of cohort
(a, k, τ) (τ = slot of arrival, t − W_k ≤ τ ≤ t) served by ASP b at step level s; job
counts are real-valued (the fluid model of the default program, MODEL.md §5); ``gpus``
(B,) active GPUs (None: just enough for the service); per data center, in MWh of the
slot: ``grid`` (None: the slack of the balance), ``renewable`` (None: renewables first),
``charge``, ``discharge``, ``generator`` (None: 0) and ``generator_on`` (None: on iff
generator > 0).

Repair (``mode="repair"``, the default) maps any well-formed decision to a feasible one
by the documented rules R1–R6 and lists what it changed in ``StepResult.repairs``;
``mode="strict"`` raises `DecisionError` instead of repairing. Malformed decisions
(wrong shapes, NaN, indices out of range, inadmissible (b, k, s), forbidden transfers,
cohorts outside their wait window) are always rejected with `DecisionError`.
`repair_decisions` applies the same rules without advancing (for decoders and policies
that want feasible decisions before stepping).

Modules: `aigc_opt.solvers.sim_types` (decisions, observations, limits, static arrays),
`aigc_opt.solvers.sim_repair` (rules R0–R6) and this one (the state machine).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.accounting import (
    TERMS,
    Evaluation,
    evaluate,
    slot_terms_rows,
    terms_static,
    utility_of,
)
from aigc_opt.formulations.schedule import JOB_COLUMNS, Schedule
from aigc_opt.solvers.sim_repair import repair_decisions
from aigc_opt.solvers.sim_types import (
    GPU_SNAP,
    TOL,
    DecisionError,
    Mode,
    Observation,
    Repair,
    ScenarioArrays,
    SlotDecisions,
    SlotLimits,
    StepResult,
    slot_limits,
)

__all__ = [
    "GPU_SNAP",
    "TOL",
    "DecisionError",
    "Mode",
    "Observation",
    "Repair",
    "ScenarioArrays",
    "Simulator",
    "SlotDecisions",
    "SlotLimits",
    "StepResult",
    "repair_decisions",
    "slot_limits",
]


@functools.cache
def _no_jobs() -> pd.DataFrame:
    """The empty jobs table (built once; the step path never reads jobs tables)."""
    return pd.DataFrame(
        {c: pd.Series(dtype=("float64" if c == "x" else "int64")) for c in JOB_COLUMNS}
    )


class Simulator:
    """Advance a scenario one slot at a time (see the module docstring).

    Parameters
    ----------
    scenario : the episode (its whole horizon is the episode).
    mode : ``"repair"`` (default) or ``"strict"``.
    forecaster : optional forecaster (`aigc_opt.solvers.forecast`) whose forecast for the
        next ``forecast_slots`` slots is put in each observation.
    forecast_slots : length of that forecast (slots).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        mode: Mode = "repair",
        forecaster: Any = None,
        forecast_slots: int = 0,
        seed: int | None = None,
    ):
        if mode not in ("repair", "strict"):
            raise ValueError(f"mode must be 'repair' or 'strict', got {mode!r}")
        self.scenario = scenario
        self.mode: Mode = mode
        self.forecaster = forecaster
        self.forecast_slots = int(forecast_slots)
        self._seed = seed
        self._st = ScenarioArrays.of(scenario)
        t0 = scenario.slot_time(0)
        self._hours = (t0.hour + t0.minute / 60.0 + scenario.dt * np.arange(scenario.T)) % 24.0
        ages = np.arange(self._st.Wmax + 1)
        # cohorts (class, age) whose window closes in a slot; at the last slot every cohort
        self._static = terms_static(scenario)
        self._closing = np.nonzero(ages[None, :] == self._st.W[:, None])
        self._closing_last = np.nonzero(ages[None, :] <= self._st.W[:, None])
        self._t = 0
        self._lim_t = -1
        self._started = False

    # ---- state ------------------------------------------------------------------------------
    @property
    def t(self) -> int:
        """Current slot (the one the next `step` decides)."""
        return self._t

    @property
    def T(self) -> int:
        return self._st.T

    @property
    def done(self) -> bool:
        return self._started and self._t >= self._st.T

    @property
    def pending(self) -> np.ndarray:
        """(A, K, W_max + 1) jobs waiting by age at the start of the current slot."""
        return self._pending.copy()

    @property
    def soc(self) -> np.ndarray:
        return self._soc.copy()

    @property
    def generator_on(self) -> np.ndarray:
        return self._u.copy()

    @property
    def repairs(self) -> list[Repair]:
        """Every repair of the episode so far, with its slot in ``where``."""
        return list(self._repairs)

    def reset(self, seed: int | None = None) -> Observation:
        """Start the episode; returns the observation of slot 0."""
        st, scn = self._st, self.scenario
        self._t = 0
        self._lim_t = -1
        self._started = True
        self._pending = np.zeros((st.A, st.K, st.Wmax + 1))
        self._pending[:, :, 0] = scn.arrivals[:, :, 0]
        self._soc = st.e0.copy()
        self._u = st.u0.copy()
        z = np.zeros((st.D, st.T))
        self._sch = Schedule(
            jobs=_no_jobs(),
            drops=np.zeros((st.A, st.K, st.T)),
            gpus=np.zeros((st.A, st.T)),
            grid=z.copy(),
            renewable=z.copy(),
            charge=z.copy(),
            discharge=z.copy(),
            generator=z.copy(),
            generator_on=z,
        )
        self._rows: list[tuple[np.ndarray, ...]] = []  # served rows per slot, JOB_COLUMNS order
        self._per_slot = np.zeros((st.T, len(TERMS)))
        self._repairs: list[Repair] = []
        if self.forecaster is not None and hasattr(self.forecaster, "reset"):
            self.forecaster.reset(scn, self._seed if seed is None else seed)
        return self.observation()

    def observation(self) -> Observation:
        """Observation of the current slot."""
        if not self._started:
            raise RuntimeError("call reset() first")
        if self.done:
            raise RuntimeError("the episode is over")
        t, scn, st = self._t, self.scenario, self._st
        fc = None
        if self.forecaster is not None and self.forecast_slots > 0:
            fc = self.forecaster(t, self.forecast_slots)
        return Observation(
            t=t,
            T=st.T,
            hour_of_day=float(self._hours[t]),
            price=scn.price[:, t].copy(),
            carbon=scn.carbon[:, t].copy(),
            renewable=scn.renewable[:, t].copy(),
            arrivals=scn.arrivals[:, :, t].copy(),
            pending=self._pending.copy(),
            soc=self._soc.copy(),
            generator_on=self._u.copy(),
            limits=self._limits(),
            forecast=fc,
        )

    def _limits(self) -> SlotLimits:
        """Limits of the current slot (computed once per slot)."""
        if self._lim_t != self._t:
            self._lim = slot_limits(self.scenario, self._t, self._soc, _st=self._st)
            for arr in vars(self._lim).values():  # shared by the observation and repair
                arr.setflags(write=False)
            self._lim_t = self._t
        return self._lim

    def repair(
        self, dec: SlotDecisions, *, well_formed: bool = False
    ) -> tuple[SlotDecisions, list[Repair]]:
        """Decisions the current slot would apply (rules R0–R6) without advancing;
        ``well_formed`` skips R0's checks (see `repair_decisions`)."""
        return repair_decisions(
            self.scenario,
            self._t,
            self._pending,
            self._soc,
            dec,
            mode=self.mode,
            _st=self._st,
            _lim=self._limits(),
            _well_formed=well_formed,
        )

    def step(self, dec: SlotDecisions, *, well_formed: bool = False) -> StepResult:
        """Apply one slot of decisions, account it, drop expired jobs, advance to t + 1.

        Numpy only: the slot's rows are kept as arrays and turned into the schedule's
        jobs table once, by `schedule`. ``well_formed=True`` is for decisions that pass
        rule R0 by construction (the environment's action decoder): its checks are
        skipped, R1–R6 apply as always."""
        if not self._started:
            raise RuntimeError("call reset() first")
        if self.done:
            raise RuntimeError("the episode is over; call reset()")
        t, st, scn = self._t, self._st, self.scenario
        applied, repairs = self.repair(dec, well_formed=well_formed)
        for r in repairs:
            r.where = f"t={t}, {r.where}"
        self._repairs.extend(repairs)
        # record the slot
        sch = self._sch
        keep = applied.x > 0
        a, b, k, s = (
            np.asarray(v, dtype=np.int64)[keep]
            for v in (applied.a, applied.b, applied.k, applied.s)
        )
        tau, x = (
            np.asarray(applied.tau, dtype=np.int64)[keep],
            np.asarray(applied.x, dtype=float)[keep],
        )
        rows = (a, b, k, s, tau, np.full(x.size, t, dtype=np.int64), x)
        self._rows.append(rows)
        sch.gpus[:, t] = applied.gpus
        sch.grid[:, t] = applied.grid
        sch.renewable[:, t] = applied.renewable
        sch.charge[:, t] = applied.charge
        sch.discharge[:, t] = applied.discharge
        sch.generator[:, t] = applied.generator
        sch.generator_on[:, t] = applied.generator_on
        # serve, then drop what expires (wait window closes now, or the horizon ends)
        pend = self._pending
        if x.size:
            np.subtract.at(pend, (a, k, t - tau), x)
        pend[pend < 1e-9] = 0.0  # round-off and any negative to 0
        kk, gg = self._closing_last if t == st.T - 1 else self._closing
        ok = gg <= t
        kk, gg = kk[ok], gg[ok]
        amt = pend[:, kk, gg]  # (A, n closing cohorts)
        dropped = float(amt.sum())
        if dropped:
            sch.drops[:, kk, t - gg] = amt
        pend[:, kk, gg] = 0.0
        # account the slot with the one utility function
        row = slot_terms_rows(scn, rows, sch, np.array([t]), self._static)[0]
        self._per_slot[t] = row
        terms = dict(zip(TERMS, row.tolist(), strict=True))
        # state transition
        self._soc = self._soc + st.eta_c * applied.charge - applied.discharge / st.eta_d
        self._u = applied.generator_on.copy()
        self._t += 1
        if self._t < st.T:
            pend[:, :, 1:] = pend[:, :, :-1].copy()
            pend[:, :, 0] = scn.arrivals[:, :, self._t]
        obs = self.observation() if self._t < st.T else None
        return StepResult(
            observation=obs,
            reward=utility_of(terms),
            terms=terms,
            done=self._t >= st.T,
            repairs=repairs,
            decisions=applied,
            dropped=dropped,
        )

    # ---- results ----------------------------------------------------------------------------
    def schedule(self) -> Schedule:
        """The realized schedule so far (slots not yet played are zero)."""
        rows = [r for r in self._rows if r[0].size]
        if rows:
            cols = [np.concatenate([r[i] for r in rows]) for i in range(len(JOB_COLUMNS))]
            jobs = pd.DataFrame(dict(zip(JOB_COLUMNS, cols, strict=True)), columns=JOB_COLUMNS)
        else:
            jobs = _no_jobs().copy()
        return replace(
            self._sch,
            jobs=jobs,
            drops=self._sch.drops.copy(),
            gpus=self._sch.gpus.copy(),
            grid=self._sch.grid.copy(),
            renewable=self._sch.renewable.copy(),
            charge=self._sch.charge.copy(),
            discharge=self._sch.discharge.copy(),
            generator=self._sch.generator.copy(),
            generator_on=self._sch.generator_on.copy(),
            meta={},
        )

    @property
    def per_slot_terms(self) -> np.ndarray:
        """(T, 8) utility terms per slot ($), as accounted at each step."""
        return self._per_slot.copy()

    def evaluation(self) -> Evaluation:
        """`accounting.evaluate` of the realized schedule (terms, U, KPIs, violations)."""
        return evaluate(self.scenario, self.schedule())
