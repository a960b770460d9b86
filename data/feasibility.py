"""Necessary conditions for a scenario to have any feasible schedule, in user terms.

Every constraint of MODEL.md §3 can be met by serving nothing (jobs may be dropped, GPUs
switched off, the generator left off, renewables curtailed) except the battery's
**terminal state-of-charge floor**: the battery must end at or above ``soc_terminal_mwh``,
and it can gain at most η_c · min(P^ch·Δ, energy available at the data center) per slot,
where the energy available is the grid cap (unbounded without one), the renewables and
the generator's maximum. `check_feasible` raises `ScenarioError` naming the data center,
the field and the reachable value when the floor is out of reach. It runs when a scenario
is built or loaded (`aigc_opt.data.scenario.make_scenario`), so neither a solver nor the
simulator or the environment ever plays such a scenario; call it again on a scenario cut
to a shorter horizon (the floor applies at the horizon's last slot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from aigc_opt.data.scenario import Scenario


def reachable_soc(scn: Scenario, d: int) -> float:
    """Highest state of charge (MWh) data center ``d``'s battery can hold after the
    scenario's last slot, charging as fast as power and available energy allow."""
    dc = scn.params.data_centers[d]
    bat = dc.battery
    if bat is None:
        return 0.0
    dt = scn.dt
    supply = np.full(scn.T, np.inf if dc.grid_cap_mw is None else dc.grid_cap_mw * dt)
    supply = supply + scn.renewable[d]
    if dc.generator is not None:
        supply = supply + dc.generator.max_mw * dt
    gain = bat.eta_charge * np.minimum(bat.charge_mw * dt, supply)
    return float(min(bat.capacity_mwh, bat.soc_initial_mwh + gain.sum()))


def check_feasible(scn: Scenario) -> None:
    """Raise `ScenarioError` if no schedule can meet a battery's terminal floor."""
    from aigc_opt.data.scenario import ScenarioError

    for d, dc in enumerate(scn.params.data_centers):
        bat = dc.battery
        if bat is None:
            continue
        best = reachable_soc(scn, d)
        if bat.terminal_mwh > best + 1e-9:
            raise ScenarioError(
                scn.source,
                f"data_centers[{d}].battery.soc_terminal_mwh",
                bat.terminal_mwh,
                f"infeasible: the battery of data center {dc.name!r} cannot reach its terminal "
                f"state-of-charge floor: from {bat.soc_initial_mwh:g} MWh, charging at most "
                f"{bat.charge_mw:g} MW (η {bat.eta_charge:g}) for {scn.T} slots of {scn.dt:g} h "
                f"reaches {best:.6g} MWh",
            )
