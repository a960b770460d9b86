"""Benchmark sizes: the shipped ``default`` scenario, and tiled copies of it at scale.

==== ===================================================== ===========================
size scenario                                              program solved
==== ===================================================== ===========================
S    default, 24 h                                         MILP (gap 1e-4)
M    default, 168 h                                        MILP (gap 1e-4)
L    10 data centers × 20 ASPs × 168 h (tiled default)     MILP (gap 1e-3, 600 s limit)
XL   10 data centers × 20 ASPs × 720 h (tiled default)     LP relaxation (120 s limit)
XXL  20 data centers × 40 ASPs × 720 h (tiled default)     build and hand-off only
==== ===================================================== ===========================

Tiling: data center d copies ``default``'s data center d mod 4 (its battery, generator,
grid cap and real 2023 price/carbon/renewable series); ASP b copies ASP b mod 5 (its pool,
models and arrival series) and sits in data center b mod 10; series longer than the 168
shipped slots repeat the week. Transfers cost 3e-5 $/job between data centers, 0 within.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.catalog import load_scenario
from aigc_opt.data.scenario import Scenario, make_scenario


@dataclass(frozen=True)
class Size:
    name: str
    data_centers: int | None  # None: the shipped scenario as is
    asps: int | None
    hours: int
    relax: bool
    time_limit: float | None
    mip_gap: float = 1e-4
    build_only: bool = False


SIZES = {
    "S": Size("S", None, None, 24, relax=False, time_limit=None),
    "M": Size("M", None, None, 168, relax=False, time_limit=None),
    "L": Size("L", 10, 20, 168, relax=False, time_limit=600.0, mip_gap=1e-3),
    "XL": Size("XL", 10, 20, 720, relax=True, time_limit=120.0),
    "XXL": Size("XXL", 20, 40, 720, relax=True, time_limit=None, build_only=True),
}


def tiled(data_centers: int, asps: int, hours: int, base: str = "default") -> Scenario:
    """``base`` tiled to ``data_centers`` × ``asps`` × ``hours`` slots (module doc)."""
    src = load_scenario(base, horizon=None)
    p = src.params.model_dump(mode="json", by_alias=True)
    D0, A0, T0 = src.D, src.A, src.T
    dcs = []
    for d in range(data_centers):
        dc = dict(p["data_centers"][d % D0])
        dc["name"] = f"{dc['name']}-{d}"
        dcs.append(dc)
    pools = []
    for b in range(asps):
        asp = dict(p["asps"][b % A0])
        asp["name"] = f"{asp['name']}-{b}"
        asp["data_center"] = dcs[b % data_centers]["name"]
        pools.append(asp)
    p.update(
        name=f"{base}-{data_centers}x{asps}x{hours}",
        data_centers=dcs,
        asps=pools,
        transfer={"default_usd_per_job": 3e-5, "same_dc_usd_per_job": 0.0},
        series=None,
    )
    t = np.arange(hours) % T0
    dsel = np.arange(data_centers) % D0
    asel = np.arange(asps) % A0
    return make_scenario(
        p,
        src.price[dsel][:, t],
        src.carbon[dsel][:, t],
        src.renewable[dsel][:, t],
        src.arrivals[asel][:, :, t],
        source=f"<tiled {base}>",
    )


def scenario(size: Size) -> Scenario:
    if size.data_centers is None or size.asps is None:
        return load_scenario("default", horizon=size.hours)
    return tiled(size.data_centers, size.asps, size.hours)
