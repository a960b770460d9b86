"""Per-(ASP, class) job figures (MODEL.md §2: τ_{b,k}(n) = τ⁰_{b,k} + τ¹_{b,k}·n GPU-s,
e_{b,k}(n) = e⁰_{b,k} + e¹_{b,k}·n kWh above idle).

The scenario format's shorthand is work_factor_k × (per-ASP figure); an ASP's
``class_figures`` entry replaces any of the four figures for one class with an absolute
value. `resolve` gives the (B, K) matrices every program, the simulator and the
heuristics read (through `Scenario.job_figures`, `gpu_seconds`, `job_kwh`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

FIELDS = {
    "gpu0": "gpu_seconds_fixed",
    "gpu1": "gpu_seconds_per_step",
    "kwh0": "kwh_fixed",
    "kwh1": "kwh_per_step",
}


class ClassFigures(BaseModel):
    """Per-(ASP, class) job figures that replace the shorthand
    work_factor_k × (per-ASP figure) for one class; fields left out keep the shorthand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_class: str = Field(description="name of the job class k these figures apply to")
    gpu_seconds_fixed: float | None = Field(
        default=None, ge=0, description="τ⁰_{b,k} (GPU-s per job), work factor not applied"
    )
    gpu_seconds_per_step: float | None = Field(
        default=None, gt=0, description="τ¹_{b,k} (GPU-s per step), work factor not applied"
    )
    kwh_fixed: float | None = Field(
        default=None, ge=0, description="e⁰_{b,k} (kWh per job above idle), no work factor"
    )
    kwh_per_step: float | None = Field(
        default=None, ge=0, description="e¹_{b,k} (kWh per step above idle), no work factor"
    )


def resolve(params: Any) -> dict[str, np.ndarray]:
    """(B, K) matrices ``gpu0`` τ⁰ and ``gpu1`` τ¹ (GPU-s per job and per step), ``kwh0``
    e⁰ and ``kwh1`` e¹ (kWh above idle per job and per step) of a `ScenarioParams`: each
    work_factor_k × the ASP's figure unless the ASP's ``class_figures`` overrides it."""
    wf = np.array([k.work_factor for k in params.job_classes])
    classes = [k.name for k in params.job_classes]
    out = {}
    for key, attr in FIELDS.items():
        m = np.array([getattr(b, attr) for b in params.asps])[:, None] * wf[None, :]
        for i, b in enumerate(params.asps):
            for o in b.class_figures:
                if getattr(o, attr) is not None:
                    m[i, classes.index(o.job_class)] = getattr(o, attr)
        out[key] = m
    return out
