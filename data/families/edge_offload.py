"""``edge-offload`` scenarios: AIGC tasks from devices offloaded to edge servers.

A scenario is a TOML file (`EdgeOffloadSpec`: servers with their resident model, devices
with their link rates, step levels, prices) naming one CSV table ``arrivals`` in long
format (``slot, device, tasks``). `load_edge_offload` validates both and returns an
`EdgeOffloadScenario` with dense arrays indexed by device u, server e, step level s and
slot t. Problems raise `ScenarioError` (one line: file, field, value). The model is
docs/families/edge-offload.md.
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

FAMILY = "edge-offload"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EdgeServer(_Model):
    """A text-to-image model on an edge server (``host``) with ``gpus`` GPUs. Entries with
    the same ``host`` share its GPUs; with ``max_resident`` set, a host holds at most that
    many of its models in memory, and loading one costs ``load_seconds`` and ``load_kwh``."""

    name: str = Field(min_length=1)
    model: str = ""
    gpus: int = Field(ge=0, description="GPUs (one task per GPU at a time)")
    gpu_seconds_fixed: float = Field(ge=0, description="τ⁰: GPU-seconds per task")
    gpu_seconds_per_step: float = Field(gt=0, description="τ¹: GPU-seconds per denoising step")
    kwh_fixed: float = Field(ge=0, description="e⁰: kWh per task")
    kwh_per_step: float = Field(ge=0, description="e¹: kWh per step")
    quality_alpha: float = Field(gt=0, description="α of Q(n) = min(q_max, α ln n + c)")
    quality_c: float = Field(description="c of Q(n)")
    quality_max: float = Field(gt=0, le=1, description="q_max")
    host: str = Field(default="", description="physical server (default: its own name)")
    load_seconds: float = Field(
        default=0.0, ge=0, description="GPU-seconds of the host a load of this model takes"
    )
    load_kwh: float = Field(default=0.0, ge=0, description="kWh a load of this model takes")


class Device(_Model):
    """A device group (e.g. a cell's users) and its link rate to each reachable server."""

    name: str = Field(min_length=1)
    rates_mbps: dict[str, float] = Field(description="server → link rate (Mbit/s, > 0)")


class EdgeOffloadSpec(_Model):
    family: Literal["edge-offload"] = FAMILY
    name: str = ""
    description: str = ""
    slot_seconds: float = Field(default=10.0, gt=0, le=3600, description="Δ (s)")
    max_wait_slots: int = Field(default=2, ge=0, le=100, description="W: a task may wait W slots")
    steps: list[int] = Field(min_length=1, description="denoising step levels n_s")
    payload_mbit: float = Field(gt=0, description="B: prompt up + image down (Mbit)")
    quality_usd: float = Field(ge=0, description="p: $ per task at quality 1")
    delay_usd_per_s: float = Field(ge=0, description="w: $ per second of service delay")
    energy_usd_per_kwh: float = Field(ge=0, description="π: $ per kWh")
    drop_usd: float = Field(ge=0, description="ρ: $ per dropped task")
    quality_floor: float = Field(default=0.0, ge=0, le=1, description="q^min of every task")
    max_resident: int | None = Field(
        default=None,
        ge=1,
        description="M: models a host holds in GPU memory (model residency and switching, "
        "MODEL.md §7); absent: every model is always resident",
    )
    arrivals: str = "arrivals.csv"
    servers: list[EdgeServer] = Field(min_length=1)
    devices: list[Device] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EdgeOffloadSpec:
        names = [s.name for s in self.servers]
        if len(set(names)) != len(names):
            raise ValueError(f"server names repeat: {names}")
        if any(n < 1 for n in self.steps) or len(set(self.steps)) != len(self.steps):
            raise ValueError(f"steps must be distinct integers ≥ 1: {self.steps}")
        for dev in self.devices:
            for srv, rate in dev.rates_mbps.items():
                if srv not in names:
                    raise ValueError(f"device {dev.name}: unknown server {srv!r}")
                if not rate > 0:
                    raise ValueError(f"device {dev.name}: rate to {srv} must be > 0, got {rate}")
        gpus: dict[str, int] = {}
        for srv in self.servers:
            if gpus.setdefault(srv.host or srv.name, srv.gpus) != srv.gpus:
                raise ValueError(f"server {srv.name}: models on host {srv.host!r} differ in gpus")
            for n in self.steps:
                if srv.quality_alpha * np.log(n) + srv.quality_c < 0:
                    raise ValueError(f"server {srv.name}: Q({n}) < 0 (log form invalid there)")
        return self


@dataclass(frozen=True)
class EdgeOffloadScenario(FamilyScenario):
    """Validated scenario. ``arrivals`` (U, T) tasks; ``rate`` (U, E) Mbit/s (0 = no link);
    ``quality`` (E, S); ``gpu_s`` (E, S) GPU-seconds per task; ``kwh`` (E, S) per task."""

    spec: EdgeOffloadSpec
    name: str
    arrivals: np.ndarray
    start: int = 0
    source: str = ""

    family: ClassVar[str] = FAMILY

    @property
    def T(self) -> int:
        return int(self.arrivals.shape[1])

    @property
    def U(self) -> int:
        return len(self.spec.devices)

    @property
    def E(self) -> int:
        return len(self.spec.servers)

    @property
    def S(self) -> int:
        return len(self.spec.steps)

    @property
    def W(self) -> int:
        return int(self.spec.max_wait_slots)

    @property
    def steps(self) -> np.ndarray:
        return np.array(self.spec.steps, dtype=float)

    @property
    def rate(self) -> np.ndarray:
        names = [s.name for s in self.spec.servers]
        r = np.zeros((self.U, self.E))
        for u, dev in enumerate(self.spec.devices):
            for srv, v in dev.rates_mbps.items():
                r[u, names.index(srv)] = v
        return r

    @property
    def quality(self) -> np.ndarray:
        n = self.steps
        return np.array(
            [
                np.minimum(s.quality_max, s.quality_alpha * np.log(n) + s.quality_c)
                for s in self.spec.servers
            ]
        )

    @property
    def gpu_s(self) -> np.ndarray:
        n = self.steps
        return np.array(
            [s.gpu_seconds_fixed + s.gpu_seconds_per_step * n for s in self.spec.servers]
        )

    @property
    def kwh(self) -> np.ndarray:
        n = self.steps
        return np.array([s.kwh_fixed + s.kwh_per_step * n for s in self.spec.servers])

    @property
    def capacity_s(self) -> np.ndarray:
        """GPU-seconds per slot of each server (model entry; its host's GPUs)."""
        return np.array([s.gpus for s in self.spec.servers], dtype=float) * self.spec.slot_seconds

    @property
    def host(self) -> np.ndarray:
        """(E,) host index of each model entry (entries without ``host`` are their own)."""
        names = [s.host or s.name for s in self.spec.servers]
        return np.unique(names, return_inverse=True)[1].astype(int)

    @property
    def H(self) -> int:
        return int(self.host.max()) + 1

    @property
    def host_capacity_s(self) -> np.ndarray:
        """(H,) GPU-seconds per slot of each host."""
        cap = np.zeros(self.H)
        cap[self.host] = self.capacity_s
        return cap

    @property
    def residency(self) -> bool:
        """Model residency and switching are modelled (``max_resident`` set)."""
        return self.spec.max_resident is not None

    @property
    def load_s(self) -> np.ndarray:
        """(E,) GPU-seconds of its host one load of the model takes."""
        return np.array([s.load_seconds for s in self.spec.servers])

    @property
    def load_kwh(self) -> np.ndarray:
        """(E,) kWh one load of the model takes."""
        return np.array([s.load_kwh for s in self.spec.servers])

    @property
    def resident0(self) -> np.ndarray:
        """(E,) resident before slot 0: the first ``max_resident`` models of each host in
        file order (every model without residency)."""
        if not self.residency:
            return np.ones(self.E, dtype=bool)
        rank = np.array([int((self.host[:e] == self.host[e]).sum()) for e in range(self.E)])
        return rank < int(self.spec.max_resident or 0)

    def cut(self, horizon: int | None = None, start: int = 0) -> EdgeOffloadScenario:
        end = self.window(horizon, start)
        return replace(self, arrivals=self.arrivals[:, start:end], start=self.start + start)

    def summary(self) -> dict[str, Any]:
        return {
            "family": FAMILY,
            "name": self.name,
            "servers": self.E,
            "devices": self.U,
            "step_levels": self.S,
            "tasks": int(self.arrivals.sum()),
            "slots": self.T,
            "slot_seconds": self.spec.slot_seconds,
            "description": self.spec.description,
        }


def from_frames(
    spec: EdgeOffloadSpec | dict[str, Any],
    arrivals: pd.DataFrame,
    *,
    name: str | None = None,
    source: str | Path = "<scenario>",
    arrivals_source: str | Path = "<arrivals>",
) -> EdgeOffloadScenario:
    """Validate a spec and the arrivals table into a scenario."""
    spec = validate_spec(EdgeOffloadSpec, spec, source)
    for col in ("slot", "device", "tasks"):
        if col not in arrivals.columns:
            raise _fail(arrivals_source, "columns", list(arrivals.columns), f"missing {col!r}")
    devs = [d.name for d in spec.devices]
    for col in ("slot", "tasks"):
        v = pd.to_numeric(arrivals[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < 0) | (np.abs(v - np.round(v)) > 1e-9)
        if bad.any():
            i = int(np.argmax(bad))
            raise _fail(
                arrivals_source,
                f"{col} (row {i + 1})",
                arrivals[col].iloc[i],
                "must be an integer ≥ 0",
            )
    dev = arrivals["device"].astype(str)
    unknown = ~dev.isin(devs).to_numpy()
    if unknown.any():
        i = int(np.argmax(unknown))
        raise _fail(
            arrivals_source, f"device (row {i + 1})", dev.iloc[i], f"unknown device (known: {devs})"
        )
    slots = arrivals["slot"].astype(int).to_numpy()
    if len(slots) == 0:
        raise _fail(arrivals_source, "slot", None, "the table has no rows")
    lam = np.zeros((len(devs), int(slots.max()) + 1))
    np.add.at(
        lam,
        (dev.map({n: i for i, n in enumerate(devs)}).to_numpy(dtype=int), slots),
        arrivals["tasks"].astype(float).to_numpy(),
    )
    source = Path(source)
    return EdgeOffloadScenario(
        spec=spec, name=name or spec.name or source.parent.name, arrivals=lam, source=str(source)
    )


def load_edge_offload(path: str | Path, *, name: str | None = None) -> EdgeOffloadScenario:
    """Read and validate an edge-offload scenario TOML and its arrivals table."""
    path = Path(path)
    spec = read_spec(EdgeOffloadSpec, path)
    apath = (path.parent / spec.arrivals).resolve()
    if not apath.is_file():
        raise _fail(path, "arrivals", spec.arrivals, f"table not found ({apath})")
    try:
        df = pd.read_csv(apath)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _fail(apath, "arrivals", spec.arrivals, f"not a readable CSV ({exc})") from None
    return from_frames(spec, df, name=name, source=path, arrivals_source=apath)
