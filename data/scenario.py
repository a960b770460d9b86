"""Typed, validated scenarios: every parameter of MODEL.md §2 with its unit.

A scenario is a TOML file (static parameters) that references two time-series tables
(CSV or Parquet), both in long ("tidy") format:

* ``energy``:   columns ``slot, data_center, price_usd_per_mwh, carbon_t_per_mwh, renewable_mwh``
* ``arrivals``: columns ``slot, asp, job_class, jobs``

`load_scenario` reads and validates both and returns a `Scenario`: the pydantic parameter
model plus dense numpy arrays indexed by position (d, a/b, k, s, t). Any problem raises
`ScenarioError`, whose one-line message names the file, the field and the value.

Ranges of every field and series value: `aigc_opt.data.ranges` (errors, never clipped).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aigc_opt.data import ranges
from aigc_opt.data.job_figures import ClassFigures
from aigc_opt.data.job_figures import resolve as resolve_job_figures
from aigc_opt.data.quality import LogQuality, QualityCurve, TableQuality


class ScenarioError(ValueError):
    """A scenario file or value is invalid. ``str(err)`` is a one-line message."""

    def __init__(self, source: str | Path | None, field: str, value: Any, message: str):
        self.source = str(source) if source is not None else "<scenario>"
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{self.source}: {field} = {_short(value)}: {message}")


def _short(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    _magnitude = field_validator("*", mode="after")(ranges.check_magnitude)


class Battery(_Model):
    """Battery of one data center. Energies in MWh, powers in MW."""

    capacity_mwh: float = Field(ge=0, description="S_d, usable capacity (MWh)")
    soc_min_mwh: float = Field(default=0.0, ge=0, description="S_d^min (MWh)")
    charge_mw: float = Field(ge=0, description="P_d^ch (MW)")
    discharge_mw: float = Field(ge=0, description="P_d^dis (MW)")
    eta_charge: float = Field(default=0.95, gt=0, le=1, description="η_d^c")
    eta_discharge: float = Field(default=0.95, gt=0, le=1, description="η_d^d")
    soc_initial_mwh: float = Field(ge=0, description="e_d^0 (MWh)")
    soc_terminal_mwh: float | None = Field(
        default=None, ge=0, description="e_d^end floor at the last slot (MWh); default e_d^0"
    )
    wear_usd_per_mwh: float = Field(default=0.0, ge=0, description="c_d^deg ($/MWh of ch+dis)")

    @model_validator(mode="after")
    def _check(self) -> Battery:
        if self.soc_min_mwh > self.capacity_mwh:
            raise ValueError(f"soc_min_mwh {self.soc_min_mwh} > capacity_mwh {self.capacity_mwh}")
        if not self.soc_min_mwh <= self.soc_initial_mwh <= self.capacity_mwh:
            raise ValueError(
                f"soc_initial_mwh {self.soc_initial_mwh} outside [soc_min_mwh, capacity_mwh] = "
                f"[{self.soc_min_mwh}, {self.capacity_mwh}]"
            )
        end = self.terminal_mwh
        if not self.soc_min_mwh <= end <= self.capacity_mwh:
            raise ValueError(f"soc_terminal_mwh {end} outside [soc_min_mwh, capacity_mwh]")
        return self

    @property
    def terminal_mwh(self) -> float:
        return self.soc_initial_mwh if self.soc_terminal_mwh is None else self.soc_terminal_mwh


class Generator(_Model):
    """On-site dispatchable generator. Powers in MW."""

    min_mw: float = Field(default=0.0, ge=0, description="O_d^min when on (MW)")
    max_mw: float = Field(ge=0, description="O_d^max when on (MW); 0 disables the generator")
    fuel_usd_per_mwh: float = Field(ge=0, description="c_d^fuel ($/MWh)")
    emission_t_per_mwh: float = Field(default=0.0, ge=0, description="κ_d^gen (tCO2/MWh)")
    startup_usd: float = Field(default=0.0, ge=0, description="c_d^su ($ per start)")
    initially_on: bool = Field(default=False, description="u_d^0")

    @model_validator(mode="after")
    def _check(self) -> Generator:
        if self.min_mw > self.max_mw:
            raise ValueError(f"min_mw {self.min_mw} > max_mw {self.max_mw}")
        return self


class DataCenter(_Model):
    """One data center d in its own electricity region."""

    name: str = Field(pattern=ranges.NAME_PATTERN)
    region: str = Field(default="", description="electricity market / zone label")
    pue: float = Field(default=1.0, ge=1, le=10, description="PUE_d (dimensionless, ≥ 1)")
    grid_cap_mw: float | None = Field(default=None, ge=0, description="Ḡ_d (MW); None = no cap")
    battery: Battery | None = None
    generator: Generator | None = None


class Asp(_Model):
    """AIGC service provider b: one model on a GPU pool in one data center.

    GPU time of a class-k job with n steps, in GPU-seconds:
    work_factor_k·(gpu_seconds_fixed + gpu_seconds_per_step·n);
    energy above idle, in kWh: work_factor_k·(kwh_fixed + kwh_per_step·n).
    An entry of ``class_figures`` replaces any of the four figures for one class k
    (absolute values, the work factor is not applied to them).
    """

    name: str = Field(pattern=ranges.NAME_PATTERN)
    data_center: str
    model: str = Field(default="", description="generative model m_b")
    gpus: int = Field(ge=0, le=10_000_000, description="G_b, GPUs in the pool")
    idle_kw_per_gpu: float = Field(default=0.0, ge=0, description="P_b^idle (kW per active GPU)")
    gpu_seconds_fixed: float = Field(default=0.0, ge=0, description="τ⁰ (GPU-s per job)")
    gpu_seconds_per_step: float = Field(gt=0, description="τ¹ (GPU-s per step)")
    kwh_fixed: float = Field(default=0.0, ge=0, description="e⁰ (kWh per job above idle)")
    kwh_per_step: float = Field(ge=0, description="e¹ (kWh per step above idle)")
    quality: QualityCurve
    class_figures: list[ClassFigures] = Field(
        default_factory=list,
        description="per-class overrides of the job figures (MODEL.md §2 τ_{b,k}, e_{b,k})",
    )


class JobClass(_Model):
    """Job class k (request type)."""

    name: str = Field(pattern=ranges.NAME_PATTERN)
    price_usd: float = Field(ge=0, description="p_k ($/job at quality 1)")
    quality_floor: float = Field(default=0.0, ge=0, le=1, description="q_k^min")
    max_wait_slots: int = Field(
        default=0, ge=0, le=ranges.MAX_WAIT_SLOTS, description="W_k (slots)"
    )
    delay_usd_per_slot: float = Field(default=0.0, ge=0, description="δ_k ($/job/slot)")
    drop_usd: float = Field(default=0.0, ge=0, description="ρ_k ($/job)")
    work_factor: float = Field(
        default=1.0, gt=0, le=1000, description="multiplies GPU time and energy"
    )


class TransferCost(_Model):
    origin: str = Field(alias="from")
    server: str = Field(alias="to")
    usd_per_job: float = Field(ge=0)


class Transfer(_Model):
    """Transfer costs c^tr_{a,b} ($/job); 0 for a = b."""

    default_usd_per_job: float = Field(default=0.0, ge=0)
    same_dc_usd_per_job: float | None = Field(default=None, ge=0)
    forbidden: list[tuple[str, str]] = Field(default_factory=list)
    costs: list[TransferCost] = Field(default_factory=list)
    enabled: bool = Field(default=True, description="False forbids every transfer")


class SeriesFiles(_Model):
    energy: str = Field(
        description="CSV/Parquet: slot, data_center, price_usd_per_mwh, "
        "carbon_t_per_mwh, renewable_mwh"
    )
    arrivals: str = Field(description="CSV/Parquet: slot, asp, job_class, jobs")


class ScenarioParams(_Model):
    """Static parameters of a scenario (the TOML file)."""

    name: str = Field(pattern=ranges.NAME_PATTERN)
    description: str = ""
    slot_hours: float = Field(default=1.0, gt=0, le=24, description="Δ (hours per slot)")
    start_time: str = Field(default="2023-01-02T00:00:00Z", description="UTC time of slot 0")
    carbon_price_usd_per_t: float = Field(default=0.0, ge=0, description="σ ($/tCO2)")
    steps: list[int] = Field(min_length=1, description="step levels n_s (ascending)")
    data_centers: list[DataCenter] = Field(min_length=1)
    asps: list[Asp] = Field(min_length=1)
    job_classes: list[JobClass] = Field(min_length=1)
    transfer: Transfer = Field(default_factory=Transfer)
    series: SeriesFiles | None = None

    _start_time = field_validator("start_time")(ranges.check_start_time)

    @model_validator(mode="after")
    def _check(self) -> ScenarioParams:
        if any(n < 1 for n in self.steps) or sorted(set(self.steps)) != list(self.steps):
            raise ValueError(f"steps must be ascending distinct integers ≥ 1, got {self.steps}")
        if self.steps[-1] > ranges.MAX_STEP:
            raise ValueError(f"steps must be ≤ {ranges.MAX_STEP}, got {self.steps[-1]}")
        for label, items in (
            ("data_centers", self.data_centers),
            ("asps", self.asps),
            ("job_classes", self.job_classes),
        ):
            names = [x.name for x in items]
            if len(set(names)) != len(names):
                raise ValueError(f"{label} names must be unique, got {names}")
        return self


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with dense series arrays.

    Index order everywhere: d (data center), a/b (ASP, origin/server), k (class),
    s (step level), t (slot, 0 = first slot of this horizon).

    Attributes
    ----------
    price : (D, T) $/MWh;  carbon : (D, T) tCO2/MWh;  renewable : (D, T) MWh per slot;
    arrivals : (A, K, T) jobs per slot (integers ≥ 0).
    """

    params: ScenarioParams
    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    arrivals: np.ndarray
    source: str = "<memory>"
    start_slot: int = 0
    label: str = field(default="")

    # ----- sizes -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.label or self.params.name

    @property
    def T(self) -> int:
        return int(self.price.shape[1])

    @property
    def D(self) -> int:
        return len(self.params.data_centers)

    @property
    def A(self) -> int:
        return len(self.params.asps)

    @property
    def K(self) -> int:
        return len(self.params.job_classes)

    @property
    def S(self) -> int:
        return len(self.params.steps)

    @property
    def dt(self) -> float:
        return self.params.slot_hours

    # ----- derived parameters (computed once) ---------------------------------------------
    @cached_property
    def steps(self) -> np.ndarray:
        return np.asarray(self.params.steps, dtype=float)

    @cached_property
    def dc_of_asp(self) -> np.ndarray:
        names = [d.name for d in self.params.data_centers]
        return np.array([names.index(b.data_center) for b in self.params.asps], dtype=int)

    @cached_property
    def quality(self) -> np.ndarray:
        """(B, S) Q_b(n_s)."""
        return np.array(
            [[b.quality.value(float(n)) for n in self.params.steps] for b in self.params.asps]
        )

    @cached_property
    def job_figures(self) -> dict[str, np.ndarray]:
        """(B, K) resolved job figures ``gpu0``, ``gpu1`` (GPU-s), ``kwh0``, ``kwh1`` (kWh):
        see `aigc_opt.data.job_figures.resolve`."""
        return resolve_job_figures(self.params)

    @cached_property
    def gpu_seconds(self) -> np.ndarray:
        """(B, K, S) τ_{b,k}(n_s), GPU-seconds per job."""
        f = self.job_figures
        return f["gpu0"][:, :, None] + f["gpu1"][:, :, None] * self.steps[None, None]

    @cached_property
    def job_kwh(self) -> np.ndarray:
        """(B, K, S) e_{b,k}(n_s), kWh above idle per job."""
        f = self.job_figures
        return f["kwh0"][:, :, None] + f["kwh1"][:, :, None] * self.steps[None, None]

    @cached_property
    def admissible(self) -> np.ndarray:
        """(B, K, S) bool: Q_b(n_s) ≥ q_k^min − 1e-9 and pool has GPUs."""
        floor = np.array([k.quality_floor for k in self.params.job_classes])
        gpus = np.array([b.gpus for b in self.params.asps])
        ok = self.quality[:, None, :] >= floor[None, :, None] - 1e-9
        return ok & (gpus[:, None, None] > 0)

    @cached_property
    def transfer_cost(self) -> np.ndarray:
        """(A, B) $/job; NaN marks a forbidden pair. Diagonal is 0."""
        tr = self.params.transfer
        names = [b.name for b in self.params.asps]
        A = len(names)
        c = np.full((A, A), tr.default_usd_per_job, dtype=float)
        if tr.same_dc_usd_per_job is not None:
            same = self.dc_of_asp[:, None] == self.dc_of_asp[None, :]
            c[same] = tr.same_dc_usd_per_job
        for item in tr.costs:
            c[names.index(item.origin), names.index(item.server)] = item.usd_per_job
        for a, b in tr.forbidden:
            c[names.index(a), names.index(b)] = np.nan
        if not tr.enabled:
            c[:] = np.nan
        np.fill_diagonal(c, 0.0)
        return c

    @cached_property
    def class_arrays(self) -> dict[str, np.ndarray]:
        ks = self.params.job_classes
        return {
            "price": np.array([k.price_usd for k in ks]),
            "wait": np.array([k.max_wait_slots for k in ks], dtype=int),
            "delay": np.array([k.delay_usd_per_slot for k in ks]),
            "drop": np.array([k.drop_usd for k in ks]),
        }

    def slot_time(self, t: int) -> pd.Timestamp:
        """UTC timestamp of the start of slot t of this horizon."""
        t0 = pd.Timestamp(self.params.start_time)
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
        return t0 + pd.Timedelta(hours=self.dt * (self.start_slot + t))

    # ----- cutting ------------------------------------------------------------------------
    def cut(self, horizon: int | None = None, start: int = 0) -> Scenario:
        """The same scenario restricted to slots [start, start + horizon)."""
        T = self.T
        if horizon is None:
            horizon = T - start
        if start < 0 or start >= T:
            raise ScenarioError(self.source, "start", start, f"must lie in [0, {T - 1}]")
        if horizon < 1 or start + horizon > T:
            raise ScenarioError(
                self.source,
                "horizon",
                horizon,
                f"series has {T} slots; start {start} + horizon {horizon} exceeds it",
            )
        sl = slice(start, start + horizon)
        return replace(
            self,
            price=self.price[:, sl].copy(),
            carbon=self.carbon[:, sl].copy(),
            renewable=self.renewable[:, sl].copy(),
            arrivals=self.arrivals[:, :, sl].copy(),
            start_slot=self.start_slot + start,
        )

    def with_series(self, **arrays: np.ndarray) -> Scenario:
        """A copy with some series replaced (same shapes), e.g. forecasts or perturbations."""
        return replace(self, **arrays)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_centers": self.D,
            "asps": self.A,
            "classes": self.K,
            "step_levels": self.S,
            "slots": self.T,
            "slot_hours": self.dt,
            "description": self.params.description,
        }

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario (parameters and series) as plain JSON-able data."""
        return {
            "params": self.params.model_dump(mode="json", by_alias=True),
            "start_slot": self.start_slot,
            "source": self.source,
            "series": {
                "price_usd_per_mwh": self.price.tolist(),
                "carbon_t_per_mwh": self.carbon.tolist(),
                "renewable_mwh": self.renewable.tolist(),
                "arrivals_jobs": self.arrivals.tolist(),
            },
        }


# ----------------------------------------------------------------------------------------
# Validation of cross references (done once, at load or construction)
# ----------------------------------------------------------------------------------------
def _check_references(p: ScenarioParams, source: str) -> None:
    dcs = [d.name for d in p.data_centers]
    asps = [b.name for b in p.asps]
    classes = [k.name for k in p.job_classes]
    for i, b in enumerate(p.asps):
        if b.data_center not in dcs:
            raise ScenarioError(
                source,
                f"asps[{i}].data_center",
                b.data_center,
                f"no such data center (known: {', '.join(dcs)})",
            )
        if isinstance(b.quality, LogQuality | TableQuality):
            try:
                b.quality.check_steps(p.steps)
            except ValueError as exc:
                raise ScenarioError(
                    source, f"asps[{i}].quality", b.quality.form, str(exc)
                ) from None
        unknown = [(j, o) for j, o in enumerate(b.class_figures) if o.job_class not in classes]
        for j, o in unknown[:1]:
            raise ScenarioError(
                source,
                f"asps[{i}].class_figures[{j}].job_class",
                o.job_class,
                f"no such job class (known: {', '.join(classes)})",
            )
    for i, pair in enumerate(p.transfer.forbidden):
        for name in pair:
            if name not in asps:
                raise ScenarioError(source, f"transfer.forbidden[{i}]", name, "unknown ASP")
    for i, c in enumerate(p.transfer.costs):
        for name in (c.origin, c.server):
            if name not in asps:
                raise ScenarioError(source, f"transfer.costs[{i}]", name, "unknown ASP")
    for k_i, k in enumerate(p.job_classes):
        best = max(b.quality.value(float(n)) for b in p.asps for n in p.steps)
        if best < k.quality_floor - 1e-9:
            raise ScenarioError(
                source,
                f"job_classes[{k_i}].quality_floor",
                k.quality_floor,
                f"no model reaches it at any step level (best quality {best:.4f})",
            )


def make_scenario(
    params: ScenarioParams | dict[str, Any],
    price: np.ndarray,
    carbon: np.ndarray,
    renewable: np.ndarray,
    arrivals: np.ndarray,
    source: str = "<memory>",
) -> Scenario:
    """Build and validate a scenario from parameters and dense arrays.

    price, carbon, renewable have shape (D, T); arrivals (A, K, T).
    """
    if isinstance(params, dict):
        params = _validate_params(params, source)
    _check_references(params, source)
    D, A, K = len(params.data_centers), len(params.asps), len(params.job_classes)
    arrays = {
        "price_usd_per_mwh": (np.asarray(price, dtype=float), (D,)),
        "carbon_t_per_mwh": (np.asarray(carbon, dtype=float), (D,)),
        "renewable_mwh": (np.asarray(renewable, dtype=float), (D,)),
        "jobs": (np.asarray(arrivals, dtype=float), (A, K)),
    }
    T = None
    for fname, (arr, lead) in arrays.items():
        if arr.ndim != len(lead) + 1 or arr.shape[:-1] != lead:
            raise ScenarioError(
                source, fname, f"shape {arr.shape}", f"expected shape {lead + ('T',)}"
            )
        if T is None:
            T = arr.shape[-1]
        if arr.shape[-1] != T:
            raise ScenarioError(
                source, fname, f"{arr.shape[-1]} slots", f"other series have {T} slots"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ScenarioError(source, fname, float(arr[idx]), f"not finite at index {idx}")
        if fname != "price_usd_per_mwh" and (arr < 0).any():
            idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
            raise ScenarioError(source, fname, float(arr[idx]), f"negative at index {idx}")
        outside = ranges.first_outside(fname, arr)
        if outside:
            raise ScenarioError(source, fname, *outside)
    jobs = arrays["jobs"][0]
    if np.any(np.abs(jobs - np.round(jobs)) > 1e-9):
        idx = tuple(int(i) for i in np.argwhere(np.abs(jobs - np.round(jobs)) > 1e-9)[0])
        raise ScenarioError(source, "jobs", float(jobs[idx]), f"arrivals must be integers ({idx})")
    scn = Scenario(
        params=params,
        price=arrays["price_usd_per_mwh"][0],
        carbon=arrays["carbon_t_per_mwh"][0],
        renewable=arrays["renewable_mwh"][0],
        arrivals=np.round(jobs),
        source=source,
    )
    from aigc_opt.data.feasibility import check_feasible

    check_feasible(scn)
    return scn


def _validate_params(raw: dict[str, Any], source: str) -> ScenarioParams:
    try:
        return ScenarioParams.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _format_loc(err.get("loc", ()))
        value = _lookup(raw, err.get("loc", ()))
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "missing":
            raise ScenarioError(source, loc, "<missing>", "required field is missing") from None
        raise ScenarioError(source, loc or "<root>", value, msg) from None


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("exp", "log", "table", "function-after"):
            continue  # discriminated-union tags add noise
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    cur = raw
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return cur
    return cur


# ----------------------------------------------------------------------------------------
# Reading files
# ----------------------------------------------------------------------------------------
ENERGY_COLUMNS = ("slot", "data_center", "price_usd_per_mwh", "carbon_t_per_mwh", "renewable_mwh")
ARRIVAL_COLUMNS = ("slot", "asp", "job_class", "jobs")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; errors name the file."""
    if not path.exists():
        raise ScenarioError(path, "file", str(path), "series file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, comment="#")
    except Exception as exc:  # pandas raises many types
        raise ScenarioError(path, "file", path.name, f"cannot be read: {exc}") from None


def _pivot(
    df: pd.DataFrame, path: Path, keys: list[tuple[str, list[str]]], value: str, n_slots: int | None
) -> tuple[np.ndarray, int]:
    """Dense array [key1, key2, ..., slot] from a long table, checking completeness."""
    for col, names in keys:
        unknown = sorted(set(df[col].astype(str)) - set(names))
        if unknown:
            raise ScenarioError(path, col, unknown[0], f"unknown name (known: {', '.join(names)})")
    slots = pd.to_numeric(df["slot"], errors="coerce")
    if slots.isna().any() or (slots < 0).any() or (slots % 1 != 0).any():
        bad = df["slot"][slots.isna() | (slots < 0) | (slots % 1 != 0)].iloc[0]
        raise ScenarioError(path, "slot", bad, "slots must be integers ≥ 0")
    n_keys = int(np.prod([len(names) for _, names in keys]))
    per_key = len(df) // max(n_keys, 1)  # a larger slot leaves a hole: refuse, no allocation
    if len(slots) and slots.max() >= per_key:
        bad, keyname = df["slot"][slots >= per_key].iloc[0], "/".join(c for c, _ in keys)
        msg = f"beyond the table ({len(df)} rows: slots 0..{per_key - 1} per {keyname})"
        raise ScenarioError(path, "slot", bad, msg)
    vals = pd.to_numeric(df[value], errors="coerce")
    if vals.isna().any():
        row = int(np.flatnonzero(vals.isna().to_numpy())[0])
        raise ScenarioError(
            path, f"{value} (line {row + 2})", df[value].iloc[row], "missing or not a number (NaN)"
        )
    T = int(slots.max()) + 1 if len(slots) else 0
    shape = tuple(len(names) for _, names in keys) + (T,)
    arr = np.full(shape, np.nan)
    idx = tuple(
        pd.Categorical(df[col].astype(str), categories=names).codes for col, names in keys
    ) + (slots.astype(int).to_numpy(),)
    dup = pd.DataFrame({f"i{j}": v for j, v in enumerate(idx)}).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ScenarioError(path, f"line {row + 2}", df.iloc[row].to_dict(), "duplicated entry")
    arr[idx] = vals.to_numpy(dtype=float)
    if np.isnan(arr).any():
        first = np.argwhere(np.isnan(arr))[0]
        where = ", ".join(
            f"{col}={names[i]}" for (col, names), i in zip(keys, first[:-1], strict=True)
        )
        raise ScenarioError(path, value, "<absent>", f"no row for {where}, slot={first[-1]}")
    return arr, T


def load_scenario_file(path: str | Path, *, name: str | None = None) -> Scenario:
    """Load a scenario TOML (and its series tables) and validate everything."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(path, "file", str(path), "scenario file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "toml", path.name, f"not valid TOML: {exc}") from None
    params = _validate_params(raw, str(path))
    _check_references(params, str(path))
    if params.series is None:
        raise ScenarioError(path, "series", "<missing>", "required field is missing")
    energy_path = (path.parent / params.series.energy).resolve()
    arrivals_path = (path.parent / params.series.arrivals).resolve()
    energy = read_table(energy_path)
    arrivals = read_table(arrivals_path)
    for df, cols, p in (
        (energy, ENERGY_COLUMNS, energy_path),
        (arrivals, ARRIVAL_COLUMNS, arrivals_path),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ScenarioError(p, "columns", list(df.columns), f"missing column {missing[0]!r}")
    dcs = [d.name for d in params.data_centers]
    asps = [b.name for b in params.asps]
    classes = [k.name for k in params.job_classes]
    series = {}
    T = None
    for value in ("price_usd_per_mwh", "carbon_t_per_mwh", "renewable_mwh"):
        series[value], T = _pivot(energy, energy_path, [("data_center", dcs)], value, None)
    jobs, Ta = _pivot(
        arrivals, arrivals_path, [("asp", asps), ("job_class", classes)], "jobs", None
    )
    if Ta != T:
        raise ScenarioError(arrivals_path, "slot", Ta, f"arrivals have {Ta} slots, energy has {T}")
    for value, arr in list(series.items()) + [("jobs", jobs)]:
        src = arrivals_path if value == "jobs" else energy_path
        if value != "price_usd_per_mwh" and (arr < 0).any():
            first = tuple(int(i) for i in np.argwhere(arr < 0)[0])
            raise ScenarioError(src, value, float(arr[first]), f"negative value at {first}")
    try:
        scn = make_scenario(
            params,
            series["price_usd_per_mwh"],
            series["carbon_t_per_mwh"],
            series["renewable_mwh"],
            jobs,
            source=str(path),
        )
    except ScenarioError as exc:
        if exc.field.startswith("data_centers"):  # a parameter, not a series value
            raise
        fname = arrivals_path if exc.field == "jobs" else energy_path
        raise ScenarioError(fname, exc.field, exc.value, exc.message) from None
    return replace(scn, label=name or params.name)
