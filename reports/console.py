"""Readable terminal output (Rich) for results. Every number shown carries its status."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from aigc_opt.formulations.accounting import TERMS


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{digits}f}" if abs(x) < 1e6 else f"{x:,.1f}"
    return str(x)


def status_line(res: Any) -> str:
    """One line saying what the number is: optimum, incumbent with bound, or nothing."""
    if res.status == "optimal":
        kind = "optimal within the requested gap" if res.method != "oracle-lp" else "LP optimum"
        return f"[green]{res.status}[/] ({kind})"
    if res.status == "time_limit":
        return (
            "[yellow]time_limit[/]: incumbent is NOT proven optimal; only the bound is an "
            "upper bound"
        )
    return f"[red]{res.status}[/]: {res.message}"


def print_solve(res: Any, console: Console | None = None) -> None:
    c = console or Console()
    head = Table(
        title=f"aigc-opt {res.method} · scenario {res.scenario} · horizon {res.horizon}"
        f" · start {res.start}",
        show_header=False,
    )
    head.add_column("field")
    head.add_column("value", justify="right")
    head.add_row("status", status_line(res))
    head.add_row("utility U ($, incumbent)", _fmt(res.utility))
    head.add_row("best bound ($)", _fmt(res.best_bound))
    head.add_row("MIP gap", "—" if res.mip_gap is None else f"{res.mip_gap:.2e}")
    head.add_row("solver", f"{res.solver} {res.solver_version}")
    head.add_row("build / solve (s)", f"{res.build_seconds:.2f} / {res.solve_seconds:.2f}")
    head.add_row("violations (accounting)", str(len(res.violations)))
    c.print(head)
    if not res.terms:
        return
    c.print(terms_table(res.terms, res.utility))
    k = res.kpis
    dcs = Table(title="energy by source per data center (MWh), carbon (t)")
    cols = (
        "it_mwh",
        "grid_mwh",
        "renewable_used_mwh",
        "renewable_curtailed_mwh",
        "battery_charge_mwh",
        "battery_discharge_mwh",
        "generator_mwh",
        "carbon_t",
    )
    dcs.add_column("data center")
    for col in cols:
        dcs.add_column(col.replace("_mwh", "").replace("_", " "), justify="right")
    for name, row in k["data_centers"].items():
        dcs.add_row(name, *(_fmt(row[col], 3) for col in cols))
    c.print(dcs)
    c.print(kpi_table(k, title="jobs and service"))


def terms_table(terms: dict[str, float], utility: float | None) -> Table:
    """The eight utility terms ($) and U, one row each."""
    t = Table(title="utility terms ($)")
    t.add_column("term")
    t.add_column("value", justify="right")
    for n in TERMS:
        t.add_row(n, _fmt(terms[n]))
    t.add_row("[bold]U = revenue − costs[/]", _fmt(utility))
    return t


def kpi_table(k: dict[str, Any], *, title: str, energy: bool = False) -> Table:
    """Job counts, mean quality and wait, (optionally) total energy by source, carbon."""
    t = Table(title=title, show_header=False)
    t.add_column("kpi")
    t.add_column("value", justify="right")
    for key in ("jobs_arrived", "jobs_served", "jobs_transferred", "jobs_dropped"):
        t.add_row(key.replace("_", " "), f"{k[key]:,.1f}")
    t.add_row("mean quality", f"{k['mean_quality']:.4f}")
    t.add_row("mean wait (slots)", f"{k['mean_wait_slots']:.4f}")
    if energy:
        for key, v in k["energy_mwh"].items():
            t.add_row(f"energy {key} (MWh)", f"{v:,.4f}")
    t.add_row("carbon (t)", f"{k['carbon_t']:.4f}")
    return t
