"""The static parameters of a scenario (the TOML file) as typed pydantic models, MODEL.md §2.

Units are in the field names and descriptions (MWh, MW, $, GPU-seconds, kWh, slots).
Every number is range-checked (`aigc_opt.data.ranges`); cross references between
sections (an ASP's data center, a class named in a figure) are checked when the scenario
is made (`aigc_opt.data.scenario.make_scenario`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aigc_opt.data import ranges
from aigc_opt.data.job_figures import ClassFigures
from aigc_opt.data.quality import QualityCurve


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
