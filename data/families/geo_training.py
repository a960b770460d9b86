"""``geo-training`` scenarios: ML training jobs placed across geo-distributed data centers.

A scenario is a TOML file (static parameters, `GeoTrainingSpec`) naming two CSV tables:

* ``jobs``:   one row per job — ``job, arrival_slot, deadline_slot, gpu_hours, gpus_min,
  gpus_max, value_usd_per_gpu_hour, lateness_usd_per_gpu_hour, migration_usd``
* ``energy``: long format — ``slot, data_center, price_usd_per_mwh, carbon_t_per_mwh``

`load_geo_training` validates everything and returns a `GeoTrainingScenario` (the spec plus
dense numpy arrays indexed by job j, data center d and slot t). Any problem raises
`ScenarioError`, whose one-line message names the file, the field and the value.
The model is docs/families/geo-training.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aigc_opt.data.families import FamilyScenario, read_spec, validate_spec
from aigc_opt.data.families import fail as _fail

FAMILY = "geo-training"
JOB_COLUMNS = {
    "arrival_slot": "a_j, first slot the job may run (slot index)",
    "deadline_slot": "D_j, last slot that is on time (slot index, ≥ arrival_slot)",
    "gpu_hours": "W_j, work (GPU-hours, > 0)",
    "gpus_min": "g_j^min, fewest GPUs when running (integer ≥ 1)",
    "gpus_max": "g_j^max, most GPUs when running (integer ≥ gpus_min)",
    "value_usd_per_gpu_hour": "v_j, value of one GPU-hour of progress ($/GPU-h ≥ 0)",
    "lateness_usd_per_gpu_hour": "ℓ_j, penalty per GPU-hour done after the deadline ($/GPU-h ≥ 0)",
    "migration_usd": "c_j, cost of running the job away from its home data center ($ ≥ 0)",
}
ENERGY_COLUMNS = ("slot", "data_center", "price_usd_per_mwh", "carbon_t_per_mwh")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainingDataCenter(_Model):
    """One data center: its GPU capacity and the power of a busy GPU."""

    name: str = Field(min_length=1)
    region: str = Field(default="", description="electricity region (label)")
    gpus: int = Field(ge=0, description="C_d, GPUs available to training jobs")
    pue: float = Field(default=1.2, ge=1.0, le=3.0, description="PUE_d, facility / IT energy")
    gpu_kw: float = Field(gt=0, le=5.0, description="P_d, power of one busy GPU (kW)")


class GeoTrainingSpec(_Model):
    """The TOML part of a geo-training scenario."""

    family: Literal["geo-training"] = FAMILY
    name: str = Field(default="", description="scenario name")
    description: str = ""
    slot_hours: float = Field(default=1.0, gt=0, le=24, description="Δ (hours per slot)")
    start_time: str | None = Field(default=None, description="UTC time of slot 0 (label)")
    carbon_price_usd_per_t: float = Field(default=0.0, ge=0, le=1e4, description="σ ($/tCO2)")
    max_late_slots: int = Field(
        default=24, ge=0, le=10_000, description="L: a job may run until slot D_j + L, no later"
    )
    preemption: bool = Field(
        default=False,
        description="a job may stop and resume later, at any data center and GPU count "
        "(each resume costs its resume_usd); otherwise one run per job, to the end",
    )
    jobs: str = Field(default="jobs.csv", description="path of the jobs table")
    energy: str = Field(default="energy.csv", description="path of the energy table")
    data_centers: list[TrainingDataCenter] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> GeoTrainingSpec:
        names = [d.name for d in self.data_centers]
        if len(set(names)) != len(names):
            raise ValueError(f"data center names repeat: {names}")
        return self


@dataclass(frozen=True)
class GeoTrainingScenario(FamilyScenario):
    """A validated geo-training scenario: spec plus arrays.

    Jobs (length J): ``arrival``, ``deadline`` (slot indices, deadline may lie past the
    horizon), ``work`` (GPU-h), ``gmin``, ``gmax`` (GPUs), ``value``, ``late`` ($/GPU-h),
    ``migration`` ($ per start away from home), ``resume`` ($ per resume after a
    preemption; the optional ``resume_usd`` column, default 0). Data centers (length D):
    ``cap`` (GPUs), ``pue``,
    ``gpu_kw`` (kW). Series (D, T): ``price`` ($/MWh), ``carbon`` (tCO2/MWh).
    """

    spec: GeoTrainingSpec
    name: str
    job_names: tuple[str, ...]
    arrival: np.ndarray
    deadline: np.ndarray
    work: np.ndarray
    gmin: np.ndarray
    gmax: np.ndarray
    value: np.ndarray
    late: np.ndarray
    migration: np.ndarray
    home_dc: np.ndarray
    resume: np.ndarray
    price: np.ndarray
    carbon: np.ndarray
    start: int = 0
    source: str = ""

    family: ClassVar[str] = FAMILY

    @property
    def T(self) -> int:
        return int(self.price.shape[1])

    @property
    def J(self) -> int:
        return len(self.job_names)

    @property
    def D(self) -> int:
        return len(self.spec.data_centers)

    @property
    def dt(self) -> float:
        return float(self.spec.slot_hours)

    @property
    def sigma(self) -> float:
        return float(self.spec.carbon_price_usd_per_t)

    @property
    def preemption(self) -> bool:
        return bool(self.spec.preemption)

    @property
    def last_slot(self) -> np.ndarray:
        """Last slot each job may run in: min(D_j + L, T − 1) (may be < a_j only if L < 0)."""
        return np.minimum(self.deadline + self.spec.max_late_slots, self.T - 1)

    @property
    def home(self) -> np.ndarray:
        """Home data center index of each job (where its data and checkpoints live)."""
        return self.home_dc

    def sizes(self, j: int) -> list[int]:
        """GPU counts job j may run with: g^min · 2^i up to g^max (each divides W_j/Δ)."""
        out, g = [], int(self.gmin[j])
        while g <= self.gmax[j]:
            out.append(g)
            g *= 2
        return out

    @property
    def cap(self) -> np.ndarray:
        return np.array([d.gpus for d in self.spec.data_centers], dtype=float)

    @property
    def pue(self) -> np.ndarray:
        return np.array([d.pue for d in self.spec.data_centers], dtype=float)

    @property
    def gpu_kw(self) -> np.ndarray:
        return np.array([d.gpu_kw for d in self.spec.data_centers], dtype=float)

    @property
    def dc_names(self) -> list[str]:
        return [d.name for d in self.spec.data_centers]

    def mwh_per_gpu_slot(self) -> np.ndarray:
        """Facility energy of one busy GPU for one slot, per data center (MWh)."""
        return self.pue * self.gpu_kw * self.dt / 1000.0

    def cut(self, horizon: int | None = None, start: int = 0) -> GeoTrainingScenario:
        """Slots ``start … start+horizon−1``; jobs arriving in them, times shifted by −start."""
        end = self.window(horizon, start)
        keep = (self.arrival >= start) & (self.arrival < end)
        return replace(
            self,
            job_names=tuple(n for n, k in zip(self.job_names, keep, strict=True) if k),
            arrival=self.arrival[keep] - start,
            deadline=self.deadline[keep] - start,
            work=self.work[keep],
            gmin=self.gmin[keep],
            gmax=self.gmax[keep],
            value=self.value[keep],
            late=self.late[keep],
            migration=self.migration[keep],
            home_dc=self.home_dc[keep],
            resume=self.resume[keep],
            price=self.price[:, start:end],
            carbon=self.carbon[:, start:end],
            start=self.start + start,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "family": FAMILY,
            "name": self.name,
            "data_centers": self.D,
            "jobs": self.J,
            "gpus": int(self.cap.sum()),
            "gpu_hours": round(float(self.work.sum()), 3),
            "slots": self.T,
            "description": self.spec.description,
        }


def _read_table(base: Path, rel: str, field: str, columns: list[str]) -> tuple[Path, pd.DataFrame]:
    path = (base / rel).resolve()
    if not path.is_file():
        raise _fail(base / "scenario.toml", field, rel, f"table not found ({path})")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _fail(path, field, rel, f"not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise _fail(path, "columns", list(df.columns), f"missing {missing}")
    return path, df


def _numeric(path: Path, df: pd.DataFrame, col: str, *, integer: bool = False) -> np.ndarray:
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(vals)
    if integer:
        bad |= np.isfinite(vals) & (np.abs(vals - np.round(vals)) > 1e-9)
    if bad.any():
        i = int(np.argmax(bad))
        kind = "an integer" if integer else "a finite number"
        raise _fail(path, f"{col} (row {i + 1})", df[col].iloc[i], f"must be {kind}")
    return vals


def _require(path: Path, df: pd.DataFrame, col: str, ok: np.ndarray, message: str) -> None:
    if not ok.all():
        i = int(np.argmin(ok))
        raise _fail(path, f"{col} (row {i + 1})", df[col].iloc[i], message)


def _jobs(path: Path, df: pd.DataFrame) -> dict[str, np.ndarray]:
    v = {
        c: _numeric(
            path, df, c, integer=c in ("arrival_slot", "deadline_slot", "gpus_min", "gpus_max")
        )
        for c in JOB_COLUMNS
    }
    _require(path, df, "arrival_slot", v["arrival_slot"] >= 0, "must be ≥ 0")
    _require(
        path, df, "deadline_slot", v["deadline_slot"] >= v["arrival_slot"], "must be ≥ arrival_slot"
    )
    _require(path, df, "gpu_hours", v["gpu_hours"] > 0, "must be > 0")
    _require(path, df, "gpus_min", v["gpus_min"] >= 1, "must be ≥ 1")
    _require(path, df, "gpus_max", v["gpus_max"] >= v["gpus_min"], "must be ≥ gpus_min")
    for c in ("value_usd_per_gpu_hour", "lateness_usd_per_gpu_hour", "migration_usd"):
        _require(path, df, c, v[c] >= 0, "must be ≥ 0")
    names = df["job"].astype(str)
    if names.duplicated().any():
        i = int(np.argmax(names.duplicated().to_numpy()))
        raise _fail(path, f"job (row {i + 1})", names.iloc[i], "repeats an earlier job name")
    return v


def _sizes_divide(work: float, gmin: float, gmax: float, dt: float) -> bool:
    g = gmin
    while g <= gmax:
        slots = work / (g * dt)
        if abs(slots - round(slots)) > 1e-9:
            return False
        g *= 2
    return True


def _energy(path: Path, df: pd.DataFrame, dcs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    slot = _numeric(path, df, "slot", integer=True)
    _require(path, df, "slot", slot >= 0, "must be ≥ 0")
    price = _numeric(path, df, "price_usd_per_mwh")
    _require(path, df, "price_usd_per_mwh", np.abs(price) <= 1e5, "must be within ±1e5 $/MWh")
    carbon = _numeric(path, df, "carbon_t_per_mwh")
    _require(path, df, "carbon_t_per_mwh", (carbon >= 0) & (carbon <= 5), "must be in [0, 5]")
    dc = df["data_center"].astype(str)
    unknown = ~dc.isin(dcs).to_numpy()
    _require(path, df, "data_center", ~unknown, f"unknown data center (known: {dcs})")
    T = int(slot.max()) + 1 if len(slot) else 0
    if T == 0:
        raise _fail(path, "slot", None, "the table has no rows")
    P = np.full((len(dcs), T), np.nan)
    K = np.full((len(dcs), T), np.nan)
    d_idx = dc.map({n: i for i, n in enumerate(dcs)}).to_numpy(dtype=int)
    s_idx = slot.astype(int)
    if pd.Series(list(zip(d_idx, s_idx, strict=True))).duplicated().any():
        raise _fail(path, "slot", "duplicate", "a (slot, data_center) pair repeats")
    P[d_idx, s_idx] = price
    K[d_idx, s_idx] = carbon
    if np.isnan(P).any():
        d, t = np.argwhere(np.isnan(P))[0]
        raise _fail(path, "slot", int(t), f"no row for data center {dcs[d]} in this slot")
    return P, K


def load_geo_training(path: str | Path, *, name: str | None = None) -> GeoTrainingScenario:
    """Read and validate a geo-training scenario TOML and its two tables."""
    path = Path(path)
    spec = read_spec(GeoTrainingSpec, path)
    base = path.parent
    jpath, jdf = _read_table(base, spec.jobs, "jobs", ["job", "home", *JOB_COLUMNS])
    epath, edf = _read_table(base, spec.energy, "energy", list(ENERGY_COLUMNS))
    return from_frames(
        spec,
        jdf,
        edf,
        name=name or spec.name or path.parent.name,
        source=path,
        jobs_source=jpath,
        energy_source=epath,
    )


def from_frames(
    spec: GeoTrainingSpec | dict[str, Any],
    jobs: pd.DataFrame,
    energy: pd.DataFrame,
    *,
    name: str | None = None,
    source: str | Path = "<scenario>",
    jobs_source: str | Path = "<jobs>",
    energy_source: str | Path = "<energy>",
) -> GeoTrainingScenario:
    """Validate a spec and the two tables (as read from the files) into a scenario."""
    source = Path(source)
    spec = validate_spec(GeoTrainingSpec, spec, source)
    jpath, jdf = Path(jobs_source), jobs
    for col in ("job", "home", *JOB_COLUMNS):
        if col not in jdf.columns:
            raise _fail(jpath, "columns", list(jdf.columns), f"missing {col!r}")
    v = _jobs(jpath, jdf)
    epath, edf = Path(energy_source), energy
    price, carbon = _energy(epath, edf, [d.name for d in spec.data_centers])
    dcs = [d.name for d in spec.data_centers]
    home = jdf["home"].astype(str)
    _require(jpath, jdf, "home", home.isin(dcs).to_numpy(), f"unknown data center (known: {dcs})")
    sizes_ok = np.array(
        [
            _sizes_divide(w, lo, hi, spec.slot_hours)
            for w, lo, hi in zip(v["gpu_hours"], v["gpus_min"], v["gpus_max"], strict=True)
        ]
    )
    _require(
        jpath,
        jdf,
        "gpu_hours",
        sizes_ok,
        "must be a whole number of slots at every allowed GPU count (g^min·2^i ≤ g^max)",
    )
    too_big = v["gpus_min"] > max(d.gpus for d in spec.data_centers)
    _require(jpath, jdf, "gpus_min", ~too_big, "exceeds every data center's GPU capacity")
    late_arrival = v["arrival_slot"] >= price.shape[1]
    _require(
        jpath, jdf, "arrival_slot", ~late_arrival, f"beyond the series ({price.shape[1]} slots)"
    )
    resume = np.zeros(len(jdf))
    if "resume_usd" in jdf.columns:
        resume = _numeric(jpath, jdf, "resume_usd")
        _require(jpath, jdf, "resume_usd", resume >= 0, "must be ≥ 0")
    return GeoTrainingScenario(
        spec=spec,
        name=name or spec.name or source.parent.name,
        job_names=tuple(jdf["job"].astype(str)),
        arrival=v["arrival_slot"].astype(int),
        deadline=v["deadline_slot"].astype(int),
        work=v["gpu_hours"],
        gmin=v["gpus_min"],
        gmax=v["gpus_max"],
        value=v["value_usd_per_gpu_hour"],
        late=v["lateness_usd_per_gpu_hour"],
        migration=v["migration_usd"],
        home_dc=home.map({n: i for i, n in enumerate(dcs)}).to_numpy(dtype=int),
        resume=resume,
        price=price,
        carbon=carbon,
        source=str(source),
    )
