"""Units of the convex program: powers of ten that bring jobs, money and energy to O(1).

Unscaled, the default scenario has ~1e5 jobs per cohort, prices ~1e-3 $/job and energies
~1e-1 MWh per slot, and a conic solver reports "optimal" far from the optimum; see
`aigc_opt.formulations.convex` (section Scaling) for the measured effect. `Scaling.auto`
picks the units; `scaled_dc_arrays` gives the data-center parameters in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.arrays import DataCenterArrays


def _pow10(value: float) -> float:
    """10^floor(log10(value)) for value > 0, else 1."""
    return 10.0 ** math.floor(math.log10(value)) if value > 0 and math.isfinite(value) else 1.0


@dataclass(frozen=True)
class Scaling:
    """Units of the scaled program.

    Attributes
    ----------
    jobs : jobs per model unit of x, y, h, r, u (and job-steps per unit of w)
    usd : dollars per model unit of money (objective and every term)
    mwh : MWh per model unit of energy (g, r, ch, dis, e, o)
    """

    jobs: float = 1.0
    usd: float = 1.0
    mwh: float = 1.0

    def __post_init__(self) -> None:
        for name in ("jobs", "usd", "mwh"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"Scaling.{name} must be a positive finite number, got {v}")

    @classmethod
    def auto(cls, scn: Scenario) -> Scaling:
        """Powers of ten for the scenario (see the module docstring).

        * jobs: 10^floor(log10(max λ)), at least 1: the largest cohort is 1..10 units;
        * usd: 10^floor(log10(max_k p_k · jobs)): the largest price is 1..10 $-units per
          job-unit;
        * mwh: 10^(floor(log10(E)) − 1), E the largest per-slot energy figure of the
          scenario (grid caps, battery capacities and powers, generator sizes, renewables,
          and the energy a full pool draws in a slot at n_max): E is 10..100 units.
        """
        lam = float(np.max(scn.arrivals)) if scn.arrivals.size else 0.0
        jobs = max(1.0, _pow10(lam))
        price = float(max(k.price_usd for k in scn.params.job_classes))
        usd = _pow10(price * jobs)
        e_max = max(_energy_figures(scn))
        mwh = _pow10(e_max) / 10.0 if e_max > 0 else 1.0
        return cls(jobs=jobs, usd=usd, mwh=mwh)

    def as_dict(self) -> dict[str, float]:
        return {"jobs": self.jobs, "usd": self.usd, "mwh": self.mwh}


def _energy_figures(scn: Scenario) -> list[float]:
    """Per-slot energy figures (MWh) that set the energy unit of `Scaling.auto`."""
    dt = scn.dt
    out = [float(np.max(scn.renewable)) if scn.renewable.size else 0.0]
    dc = DataCenterArrays.of(scn)
    for arr in (dc.grid_cap_mwh, dc.soc_max_mwh, dc.charge_max_mwh, dc.discharge_max_mwh):
        out += arr[np.isfinite(arr)].tolist()
    out += dc.gen_max_mwh.tolist()
    n_max = float(scn.steps[-1])
    for b in scn.params.asps:  # a full pool at n_max: idle power plus job energy
        jobs = 3600.0 * dt / (b.gpu_seconds_fixed + b.gpu_seconds_per_step * n_max)
        kwh = b.idle_kw_per_gpu * dt + jobs * (b.kwh_fixed + b.kwh_per_step * n_max)
        out.append(b.gpus * kwh / 1000.0)
    return out


def scaled_dc_arrays(scn: Scenario, sc: Scaling) -> dict[str, np.ndarray]:
    """`DataCenterArrays` with energies in model units (MWh / ``sc.mwh``)."""
    dc = DataCenterArrays.of(scn)
    E = sc.mwh
    return {
        "pue": dc.pue,
        "grid_cap": dc.grid_cap_mwh / E,
        "has_bat": dc.has_battery.astype(float),
        "pch": dc.charge_max_mwh / E,
        "pdis": dc.discharge_max_mwh / E,
        "soc_lo": dc.soc_min_mwh / E,
        "soc_hi": dc.soc_max_mwh / E,
        "soc0": dc.soc_initial_mwh / E,
        "soc_end": dc.soc_terminal_mwh / E,
        "eta_c": dc.eta_charge,
        "eta_d": dc.eta_discharge,
        "wear": dc.wear_usd_per_mwh,
        "omin": dc.gen_min_mwh / E,
        "omax": dc.gen_max_mwh / E,
        "fuel": dc.fuel_usd_per_mwh,
        "gen_co2": dc.gen_co2_t_per_mwh,
        "startup": dc.startup_usd,
        "u0": dc.gen_initially_on,
    }
