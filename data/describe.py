"""A plain summary of one scenario: sizes, parameter ranges and series statistics
(``aigc-opt scenarios show``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from aigc_opt.data.scenario import Scenario


def _stat(name: str, unit: str, x: np.ndarray, note: str = "") -> dict[str, Any]:
    return {
        "series": name,
        "unit": unit,
        "min": float(x.min()),
        "mean": float(x.mean()),
        "max": float(x.max()),
        "note": note,
    }


def _range(name: str, unit: str, values: list[float]) -> dict[str, Any]:
    return {"parameter": name, "unit": unit, "min": float(min(values)), "max": float(max(values))}


def describe(scn: Scenario) -> dict[str, Any]:
    """Sizes, parameter ranges (min/max over data centers, ASPs, classes) and per-series
    min/mean/max of one scenario, JSON-able."""
    p = scn.params
    dcs, asps, ks = p.data_centers, p.asps, p.job_classes
    gpu_h = float(sum(b.gpus for b in asps) * scn.dt)  # GPU-hours available per slot
    # work of all arrivals at their home pool's fewest admissible steps, GPU-hours per slot
    adm = scn.admissible
    first = np.where(adm.any(axis=2), adm.argmax(axis=2), 0)
    tau_min = np.take_along_axis(scn.gpu_seconds, first[:, :, None], axis=2)[:, :, 0]
    load = (scn.arrivals * tau_min[:, :, None]).sum(axis=(0, 1)) / 3600.0
    need = load / max(gpu_h, 1e-12)
    series = [
        _stat("price", "$/MWh", scn.price, f"{int((scn.price < 0).sum())} negative (d, t)"),
        _stat("carbon", "tCO2/MWh", scn.carbon),
        _stat("renewable", "MWh/slot", scn.renewable),
        _stat("arrivals (all ASPs, classes)", "jobs/slot", scn.arrivals.sum(axis=(0, 1))),
        _stat(
            "load at fewest steps, home pools",
            "share of all GPUs",
            need,
            f"{int((need > 1).sum())} slots above 1",
        ),
    ]
    ranges = [
        _range("pue", "-", [d.pue for d in dcs]),
        _range(
            "battery capacity", "MWh", [d.battery.capacity_mwh if d.battery else 0 for d in dcs]
        ),
        _range("generator max", "MW", [d.generator.max_mw if d.generator else 0 for d in dcs]),
        _range("gpus", "GPUs", [b.gpus for b in asps]),
        _range("gpu_seconds (b, k, s)", "GPU-s/job", list(scn.gpu_seconds.ravel())),
        _range("job_kwh (b, k, s)", "kWh/job", list(scn.job_kwh.ravel())),
        _range("quality (b, s)", "-", list(scn.quality.ravel())),
        _range("price_usd", "$/job", [k.price_usd for k in ks]),
        _range("max_wait_slots", "slots", [k.max_wait_slots for k in ks]),
    ]
    caps = [d.grid_cap_mw for d in dcs if d.grid_cap_mw is not None]
    if caps:  # data centers without a cap are left out of the range
        ranges.insert(1, _range("grid_cap_mw (capped data centers)", "MW", caps))
    return {
        "name": scn.name,
        "description": p.description,
        "source": scn.source,
        "start_time": str(scn.slot_time(0)),
        "sizes": {
            "data_centers": scn.D,
            "asps": scn.A,
            "classes": scn.K,
            "step_levels": scn.S,
            "slots": scn.T,
            "slot_hours": scn.dt,
        },
        "series": series,
        "ranges": ranges,
    }
