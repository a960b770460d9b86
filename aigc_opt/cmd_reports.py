"""``aigc-opt report`` (tables and figures from stored results) and ``aigc-opt regress``
(utility regression against a golden file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aigc_opt.cli import (
    JsonOpt,
    UserError,
    check_out_option,
    emit_json,
    err_console,
    say_error,
    stdout_to_stderr,
)
from aigc_opt.solvers import interrupt


def _console() -> Console:
    """Console for tables on stdout; wide when not a terminal (CI logs)."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=140)


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
    app.command(name="regress")(regress)


def report(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Run directories (summary.json + Parquet), folders of them (searched "
            "recursively), or tidy comparison Parquet files",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Directory for tables and figures (replaced as a whole)",
            callback=check_out_option,
        ),
    ],
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Tables only")] = False,
    fmt: Annotated[
        str, typer.Option("--formats", help="Figure formats, comma-separated (png, pdf, svg)")
    ] = "png,pdf",
    as_json: JsonOpt = False,
) -> None:
    """Render paper tables and figures from stored results.

    Tables as Markdown, LaTeX (booktabs) and CSV; figures as PNG and PDF. Nothing is
    re-solved: every number comes from the stored files.
    """

    def body() -> None:
        from aigc_opt.reports.report import describe_figure, render_report
        from aigc_opt.reports.stored_run import ReportInputError

        formats = tuple(f.strip().lower() for f in fmt.split(",") if f.strip())
        bad = [f for f in formats if f not in ("png", "pdf", "svg")]
        if bad or not formats:
            raise UserError(f"--formats = {fmt!r}: choose from png, pdf, svg")
        out_dir = out.absolute()  # the written paths are absolute
        if len(inputs) == 1 and _experiment_report(
            inputs[0], out, not no_figures, formats, as_json
        ):
            return
        try:
            res = render_report(inputs, out, figures_on=not no_figures, formats=formats)
        except ReportInputError as exc:
            raise UserError(str(exc)) from None
        if as_json:
            emit_json(
                {
                    "out": str(out),
                    "runs": [
                        {
                            "label": r.label,
                            "method": r.method,
                            "scenario": r.scenario,
                            "horizon": r.horizon,
                            "source": str(r.path or r.source),
                        }
                        for r in res.collection.runs
                    ],
                    "tables": [str(p) for p in res.tables],
                    "figures": [str(p) for p in res.figures],
                    "files": [str(p) for p in res.files],
                }
            )
            return
        from rich.markup import escape
        from rich.table import Table

        c = _console()
        t = Table(title=f"aigc-opt report · {len(res.collection.runs)} run(s) → {out}")
        t.add_column("run")
        t.add_column("method")
        t.add_column("scenario / horizon")
        t.add_column("source", overflow="fold")
        for r in res.collection.runs:
            t.add_row(
                *(
                    escape(x)
                    for x in (
                        r.label,
                        r.method,
                        f"{r.scenario} / {r.horizon}",
                        str(r.path or r.source),
                    )
                )
            )
        c.print(t)
        f = Table(title=f"files written under {out}")
        f.add_column("files", overflow="fold")
        f.add_column("content", overflow="fold")
        for p in res.tables:
            f.add_row(str(p.relative_to(out_dir)), "table")
        kinds: dict[str, list[Path]] = {}
        for p in res.figures:
            if p.suffix == f".{formats[0]}":
                key = next(
                    (k for k in ("dispatch", "soc", "jobs") if p.stem.startswith(k + "_")), p.stem
                )
                kinds.setdefault(key, []).append(p)
        exts = ",".join(formats)
        for key, paths in kinds.items():
            if len(paths) > 1 or paths[0].stem != key:
                name = f"figures/{key}_<run>.{{{exts}}} ×{len(paths)}"
                what = describe_figure(Path(key))
            else:
                name = f"figures/{key}.{{{exts}}}"
                what = describe_figure(paths[0])
            f.add_row(escape(name), escape(what))
        for p in res.extra:
            f.add_row(
                str(p.relative_to(out_dir)),
                "index of tables and figures"
                if p.suffix == ".md"
                else "inputs, runs and files (JSON)",
            )
        c.print(f)

    body()


CERTIFIED_STATUSES = ("optimal", "completed")
"""Statuses `regress --update` stores without --allow-nonoptimal: a solver's proven optimum,
or a simulated episode played to its end."""


class RegressRefused(UserError):
    """``regress --update`` would store a result that is not one; exit 1."""


def _not_certified(outcomes: list[Any]) -> list[str]:
    """Case ids (with the reason) that are not certified results: a status other than
    `CERTIFIED_STATUSES`, or constraint violations."""
    bad = []
    for o in outcomes:
        if o.error:
            continue  # kept out of the golden file anyway (the update exits 1)
        if o.status not in CERTIFIED_STATUSES:
            bad.append(f"{o.case.id} (status {o.status})")
        elif o.violations:
            bad.append(f"{o.case.id} ({o.violations} constraint violation(s))")
    return bad


def _experiment_report(
    folder: Path, out: Path, figures_on: bool, formats: tuple[str, ...], as_json: bool
) -> bool:
    """Render the experiment table if ``folder`` holds an experiment; False otherwise."""
    import json

    from aigc_opt.reports import experiment as ex

    if not ex.is_experiment(folder):
        return False
    try:
        res = ex.render_experiment(folder, out, figures_on=figures_on, formats=formats)
    except ex.ExperimentInputError as exc:
        raise UserError(str(exc)) from None
    frame = res.pop("summary")
    if as_json:
        emit_json({**res, "cells": json.loads(frame.to_json(orient="records"))})
    else:
        _console().print((out / "tables" / "experiment.md").read_text(), markup=False)
        _console().print(f"tables and figures written under {out}", highlight=False)
    return True


def regress(
    golden: Annotated[Path, typer.Option("--golden", help="Golden JSON file of the catalog")],
    update: Annotated[
        bool, typer.Option("--update", help="Re-solve and rewrite the golden file (atomically)")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only cases whose id matches this glob (repeatable), e.g. "
            "'tiny/*' or '*/oracle-lp'",
        ),
    ] = None,
    scenario_override: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="NAME=PATH: load catalog scenario NAME from this TOML instead "
            "(repeatable), e.g. to check a modified copy",
        ),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="Catalog TOML (e.g. data/catalog.toml or your own): check its scenarios at "
            "their catalogued horizons instead of the built-in cases",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Also fail on catalog cases missing from the golden file"),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show every compared number, not only drifted ones"),
    ] = False,
    allow_nonoptimal: Annotated[
        bool,
        typer.Option(
            "--allow-nonoptimal",
            help="With --update: also store cases that are not certified results (a solver "
            "status other than optimal, an episode with constraint violations), recording "
            "their status and violation count",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check headline utility numbers against a golden file (exit 1 on drift).

    ``--update`` refuses (exit 1, golden file untouched) to store an oracle whose status
    is not optimal or an episode that is not completed without constraint violations,
    unless ``--allow-nonoptimal``.

    Solves the benchmark catalog deterministically (HiGHS threads=1, seed 0) and compares
    every number under per-method tolerances.
    """

    def body() -> None:
        from aigc_opt.solvers.regress_cases import RegressInputError

        try:
            run()
        except RegressInputError as exc:
            raise UserError(str(exc)) from None
        except RegressRefused as exc:
            say_error(str(exc))
            raise typer.Exit(1) from None

    def run() -> None:
        from aigc_opt.reports import regress as rg
        from aigc_opt.reports.console import print_comparison, print_update
        from aigc_opt.solvers import regress_cases as rc
        from aigc_opt.solvers import regress_families as rf

        overrides = rc.parse_overrides(scenario_override or [])
        all_cases = rc.default_catalog()
        if catalog is not None:  # a user's catalog TOML: its scenarios at their horizons
            from aigc_opt.data.catalog import read_catalog

            entries = read_catalog(catalog).entries
            all_cases = [
                rc.Case(e.name, h, m)
                for e in entries
                for h in e.horizons
                for m in rf.methods_for(str(e.path))
            ]
            overrides = {e.name: str(e.path) for e in entries} | overrides
        names = {c.scenario for c in all_cases}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise UserError(
                f"--scenario {unknown[0]}=...: no such scenario in the catalog "
                f"(known: {', '.join(sorted(names))})"
            )
        cases = rc.select_cases(all_cases, only or [])
        if not cases:
            raise UserError(
                f"--only {only}: matches no catalog case "
                f"(ids: {', '.join(c.id for c in all_cases)})"
            )
        reference = None if update else rg.read_golden(golden)  # fail before solving
        progress = Console(stderr=True)

        def tick(msg: str) -> None:
            progress.print(msg, highlight=False, markup=False)
            interrupt.check(f"regress ({msg})", kept=f"{golden} untouched")

        with stdout_to_stderr():  # solver libraries write to fd 1; keep stdout for results
            outcomes = rc.run_cases(
                cases,
                overrides=overrides,
                progress=tick,
            )
        hashes = _scenario_hashes(cases, overrides)
        if update:
            refused = [] if allow_nonoptimal else _not_certified(outcomes)
            if refused:
                raise RegressRefused(
                    f"regress --update: {golden} not written; {len(refused)} case(s) are not "
                    f"certified results: {', '.join(refused[:4])}"
                    + (" …" if len(refused) > 4 else "")
                    + " (pass --allow-nonoptimal to record them with their status)"
                )
            changed = rg.update_golden(golden, outcomes, partial=bool(only))
            _record_hashes(golden, hashes)
            failed = [o for o in outcomes if o.error]
            if as_json:
                emit_json(
                    {
                        "updated": str(golden),
                        "cases": [o.as_dict() for o in outcomes],
                        "changed": changed,
                    }
                )
            else:
                print_update(golden, outcomes, changed, _console())
            if failed:
                raise typer.Exit(1)
            return
        assert reference is not None  # read above unless --update
        cmp = rg.compare(reference, outcomes, strict=strict, partial=bool(only))
        stale = {
            n: (h, reference.get("scenario_hashes", {}).get(n))
            for n, h in hashes.items()
            if reference.get("scenario_hashes", {}).get(n) not in (None, h)
        }
        if as_json:
            emit_json(cmp.as_dict() | {"scenario_hashes_changed": stale})
        else:
            print_comparison(cmp, _console(), verbose=verbose)
            for n, (h, g) in stale.items():
                err_console.print(f"scenario {n}: content hash {h}, golden file records {g}")
        if not cmp.ok or stale:
            raise typer.Exit(1)

    body()


def _scenario_hashes(cases: list[Any], overrides: dict[str, str]) -> dict[str, str]:
    """Content hash of every scenario the cases use (its override file, or the shipped one)."""
    from aigc_opt.data.catalog import content_hash, resolve_path

    names = sorted({c.scenario for c in cases})
    return {n: content_hash(resolve_path(overrides.get(n, n))) for n in names}


def _record_hashes(golden: Path, hashes: dict[str, str]) -> None:
    """Add the scenarios' content hashes to a golden file just written (atomically)."""
    import json

    from aigc_opt.solvers.store import write_json

    doc = json.loads(golden.read_text(encoding="utf-8"))
    doc["scenario_hashes"] = dict(sorted((doc.get("scenario_hashes", {}) | hashes).items()))
    write_json(golden, doc)
