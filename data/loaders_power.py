"""Former import path of `aigc_opt.data.loaders.renewables` (PV and wind capacity factors)."""

from aigc_opt.data.loaders.renewables import (
    PVSpec,
    WindSpec,
    pv_capacity_factor,
    wind_capacity_factor,
)

__all__ = ["PVSpec", "WindSpec", "pv_capacity_factor", "wind_capacity_factor"]
