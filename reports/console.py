"""Readable terminal output (Rich) for results and regression comparisons. Every number
shown carries its status."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports.regress import Comparison
from aigc_opt.solvers.leaderboard import cell_text
from aigc_opt.solvers.regress_cases import Outcome


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


# ---------------------------------------------------------------------------------------
# regression (``aigc-opt regress``)
# ---------------------------------------------------------------------------------------
def _num(v: Any) -> str:
    return cell_text(v, ".10g", "—")


_STYLE = {
    "ok": "green",
    "DRIFT": "bold red",
    "STATUS": "bold red",
    "ERROR": "bold red",
    "MISSING": "bold red",
    "new": "yellow",
    "missing": "bold red",
}


def print_comparison(cmp: Comparison, console: Console, *, verbose: bool = False) -> None:
    """Case table, then the drifted numbers (every number with ``verbose``), then one
    summary line (the last line of the output)."""
    t = Table(title="aigc-opt regress · cases")
    for col, just in (
        ("case", "left"),
        ("status", "left"),
        ("numbers", "right"),
        ("worst |Δ|/tol", "right"),
        ("s", "right"),
        ("verdict", "left"),
        ("note", "left"),
    ):
        t.add_column(
            col,
            justify="left" if just == "left" else "right",
            overflow="fold",
            no_wrap=col == "case",
        )
    for c in cmp.cases:
        st = c.status or "—"
        if c.golden_status and c.golden_status != c.status:
            st = f"{c.golden_status} → {st}"
        worst = "—" if c.worst is None else f"{c.worst:.3g}"
        t.add_row(
            escape(c.case),
            escape(st),
            str(c.compared),
            worst,
            f"{c.seconds:.2f}",
            f"[{_STYLE.get(c.verdict, '')}]{c.verdict}[/]",
            escape(c.note),
        )
    console.print(t)
    rows = [d for d in cmp.diffs if verbose or d.verdict != "ok"]
    if rows:
        d_t = Table(title="numbers" if verbose else "drift")
        for col in ("case", "metric", "golden", "current", "Δ", "tolerance", "verdict"):
            d_t.add_column(
                col,
                justify="left" if col in ("case", "metric", "verdict") else "right",
                overflow="fold",
            )
        for d in rows:
            d_t.add_row(
                escape(d.case),
                escape(d.metric),
                escape(_num(d.golden)),
                escape(_num(d.current)),
                "—" if d.delta is None else f"{d.delta:+.3e}",
                "—" if d.limit is None else f"{d.limit:.3e}",
                f"[{_STYLE.get(d.verdict, '')}]{d.verdict}[/]",
            )
        console.print(d_t)
    n_num = sum(c.compared for c in cmp.cases)
    failed = [c for c in cmp.cases if c.failed]
    new = [c for c in cmp.cases if c.verdict == "new"]
    secs = sum(c.seconds for c in cmp.cases)
    if cmp.ok:
        extra = f"; {len(new)} new case(s) not in the golden file" if new else ""
        console.print(
            f"[green]regress: OK[/] — {len(cmp.cases)} cases, {n_num} numbers within "
            f"tolerance ({secs:.1f} s solving){extra}",
            highlight=False,
        )
    else:
        n_drift = sum(1 for d in cmp.diffs if d.verdict != "ok" and d.verdict != "new")
        what = ", ".join(f"{c.case} {c.verdict}" for c in (failed or new)[:3])
        what += " …" if len(failed or new) > 3 else ""
        console.print(
            f"[bold red]regress: FAILED[/] — {len(failed or new)} of "
            f"{len(cmp.cases)} cases ({n_drift} numbers out of tolerance): "
            f"{escape(what)}",
            highlight=False,
        )


def print_update(
    path: Path, outcomes: Sequence[Outcome], changed: Sequence[str], console: Console
) -> None:
    """The cases written to the golden file by ``regress --update``, changed or not."""
    t = Table(title=f"aigc-opt regress --update → {escape(str(path))}")
    for col in ("case", "status", "U ($)", "bound ($)", "s", "note"):
        t.add_column(col, overflow="fold")
    for o in outcomes:
        note = (
            "ERROR: " + o.error if o.error else ("changed" if o.case.id in changed else "unchanged")
        )
        t.add_row(
            escape(o.case.id),
            escape(o.status or "—"),
            _num(o.values.get("utility")),
            _num(o.values.get("best_bound", o.values.get("oracle_bound"))),
            f"{o.seconds:.2f}",
            escape(note),
        )
    console.print(t)
    n_err = sum(1 for o in outcomes if o.error)
    msg = f"golden file written: {escape(str(path))} ({len(changed)} case(s) changed"
    msg += f", {n_err} failed and kept their previous entry)" if n_err else ")"
    console.print(msg, highlight=False)
