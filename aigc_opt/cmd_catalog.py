"""``aigc-opt scenarios`` (list, validate, show) and ``aigc-opt leaderboard``.

aigc-opt scenarios [--catalog FILE] [--json]     the catalog, with tiers
aigc-opt scenarios validate PATH [--json]        exit 0, or one error line and exit 2
aigc-opt scenarios show PATH|NAME [--json]       sizes, parameter ranges, series summary
aigc-opt leaderboard [--out DIR] [--scenarios GLOB] [--horizons 24,168] [--catalog FILE]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aigc_opt.cli import JsonOpt, UserError, emit_json, stdout_to_stderr

CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="A catalog TOML (default: the shipped data/catalog.toml)"),
]
LIST_COLUMNS = ("name", "tier", "data_centers", "asps", "classes", "slots", "horizons", "hash")


def register(app: typer.Typer) -> None:
    """Add ``scenarios`` (with validate/show) and ``leaderboard`` to the main CLI."""
    sc = typer.Typer(
        help="The scenario catalog: list (default), validate a file, show one scenario.",
        invoke_without_command=True,
    )
    app.add_typer(sc, name="scenarios")

    @sc.callback()
    def scenarios(
        ctx: typer.Context,
        catalog: CatalogOpt = None,
        family: Annotated[
            str, typer.Option("--family", help="Scenario family: aigc-dc, geo-training, ...")
        ] = "aigc-dc",
        as_json: JsonOpt = False,
    ) -> None:
        """List the catalog's scenarios with tier, sizes, horizons and content hash."""
        from aigc_opt.cmd_families import family_command

        if ctx.invoked_subcommand is not None:
            return
        if family_command("scenarios", family=family, as_json=as_json):
            return
        _list(catalog, as_json)

    @sc.command("validate")
    def validate(
        path: Annotated[str, typer.Argument(help="Scenario TOML (or shipped name)")],
        as_json: JsonOpt = False,
    ) -> None:
        """Check a scenario file and its series; exit 0, or one error line and exit 2."""

        from aigc_opt.data.catalog import content_hash, load_scenario, resolve_path
        from aigc_opt.data.feasibility import check_feasible

        scn = load_scenario(path)
        check_feasible(scn)
        out = {"valid": True, "hash": content_hash(resolve_path(path))} | scn.summary()
        if as_json:
            emit_json(out)
        else:
            print(f"ok: {path} ({scn.D} data centers, {scn.A} ASPs, {scn.T} slots)")

    @sc.command("show")
    def show(
        name_or_path: Annotated[str, typer.Argument(help="Shipped name or scenario TOML")],
        as_json: JsonOpt = False,
    ) -> None:
        """Sizes, parameter ranges and a summary of the series of one scenario."""

        from aigc_opt.data.catalog import content_hash, load_scenario, resolve_path
        from aigc_opt.data.describe import describe

        scn = load_scenario(name_or_path)
        info = describe(scn) | {"hash": content_hash(resolve_path(name_or_path))}
        if as_json:
            emit_json(info)
        else:
            _print_show(info)

    app.command(name="leaderboard")(leaderboard)


def _list(catalog: Path | None, as_json: bool) -> None:
    from aigc_opt.data.catalog import load_scenario, read_catalog, shipped_names
    from aigc_opt.solvers.family_registry import family_for

    cat = read_catalog(catalog)
    rows = []
    for e in cat.entries:
        fam = family_for(e.path)  # a catalog may list family scenarios (MODEL.md §8)
        s = load_scenario(e.path).summary() if fam is None else fam.load_scenario(e.path).summary()
        rows.append(
            s
            | {
                "family": "aigc-dc" if fam is None else fam.name,
                "name": e.name,
                "tier": e.tier,
                "horizons": list(e.horizons),
                "stresses": e.stresses,
                "hash": e.hash,
                "path": str(e.path),
            }
        )
    if catalog is None:  # shipped folders the catalog does not list (should be none)
        listed = set(cat.names())
        for n in shipped_names():
            if n not in listed:
                rows.append(load_scenario(n).summary() | {"tier": "", "horizons": [], "hash": ""})
    if as_json:
        emit_json(rows)
        return
    t = Table(title=f"scenario catalog {cat.version} ({cat.source})")
    for col in (*LIST_COLUMNS, "description"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            *(
                ",".join(map(str, r[c])) if isinstance(r.get(c), list) else str(r.get(c, ""))
                for c in (*LIST_COLUMNS, "description")
            )
        )
    Console().print(t)


def _print_show(info: dict[str, Any]) -> None:
    c = Console()
    c.print(f"[bold]{info['name']}[/] — {info['description']}  (hash {info['hash']})")
    c.print(
        "sizes: "
        + ", ".join(f"{k} {v}" for k, v in info["sizes"].items())
        + f"; start {info['start_time']}"
    )
    t = Table(title="series")
    for col in ("series", "unit", "min", "mean", "max", "note"):
        t.add_column(col)
    for r in info["series"]:
        t.add_row(
            r["series"],
            r["unit"],
            f"{r['min']:.4g}",
            f"{r['mean']:.4g}",
            f"{r['max']:.4g}",
            r.get("note", ""),
        )
    c.print(t)
    t = Table(title="parameter ranges")
    for col in ("parameter", "unit", "min", "max"):
        t.add_column(col)
    for r in info["ranges"]:
        t.add_row(r["parameter"], r["unit"], f"{r['min']:.4g}", f"{r['max']:.4g}")
    c.print(t)


def leaderboard(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the table (Markdown, CSV, JSON)")
    ] = Path("benchmarks/leaderboard"),
    scenarios: Annotated[
        list[str] | None,
        typer.Option("--scenarios", help="Glob(s) of catalog scenario names (repeatable)"),
    ] = None,
    horizons: Annotated[
        str | None,
        typer.Option("--horizons", help="Comma list replacing the catalogued horizons"),
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solve every catalog scenario at its catalogued horizons; write the bounds table.

    Columns: MILP incumbent, best bound and gap; LP and convex bounds; MPC (perfect, noisy
    0.1, persistence) and heuristic utilities with their gaps to the best bound. Timings go
    to a separate file (timings.csv) so the table regenerates byte for byte.
    """

    from aigc_opt.data.catalog import read_catalog
    from aigc_opt.solvers import leaderboard as lb

    cat = read_catalog(catalog)
    hs = _horizons(horizons)
    entries = lb.select(cat, scenarios or [])
    progress = Console(stderr=True)
    with stdout_to_stderr() as real:
        table = lb.run(
            cat, entries, hs, progress=lambda m: progress.print(m, highlight=False), out=out
        )
        files = lb.write(table, out)
        if as_json:
            emit_json({"out": str(out), "files": [str(f) for f in files]} | table, real)
    if not as_json:
        progress.print(f"wrote {', '.join(str(f) for f in files)}")


def _horizons(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        hs = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--horizons {text!r}: expected a comma list of integers") from None
    if not hs or any(h < 1 for h in hs):
        raise UserError(f"--horizons {text!r}: expected integers ≥ 1")
    return hs
