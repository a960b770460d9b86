"""``aigc-opt data``: derive the shipped profiles, regenerate the real-data scenarios,
check a user's data file, and build a scenario from a user's files.

    aigc-opt data build [--source DIR] [--out DIR]     profiles from the public datasets
    aigc-opt data scenarios [--profiles DIR] [--out DIR] [--name N]...
    aigc-opt data check FILE --format price [--tz Europe/Berlin] [--eur-to-usd 1.08]
    aigc-opt data formats                              the formats `check` reads
    aigc-opt data recipe RECIPE.toml --out DIR
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from aigc_opt.cli import JsonOpt, UserError, emit_json, err_console


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _replace_files(tmp: Path, out: Path) -> list[Path]:
    """Move every file of ``tmp`` into ``out`` (rename per file, so readers never see a
    half-written file)."""
    out.mkdir(parents=True, exist_ok=True)
    moved = []
    for p in sorted(tmp.rglob("*")):
        if p.is_file():
            dst = out / p.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, dst)
            moved.append(dst)
    return moved


def register(app: typer.Typer) -> None:
    """Add the ``data`` sub-app to the main CLI."""
    data_app = typer.Typer(
        help="Real-data profiles and scenarios: derive, regenerate, check.", no_args_is_help=True
    )
    app.add_typer(data_app, name="data")

    @data_app.command("build")
    def build(
        source: Annotated[
            Path | None,
            typer.Option(
                "--source",
                help="Folder of the public datasets (default: ../shared/data next to "
                "the repository)",
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Where to write the profiles (default: the package's data/profiles)"
            ),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Derive the shipped profiles and their PROVENANCE.md from the public datasets.

        Prices, carbon, PV/wind capacity factors, arrival shape, burstiness and model
        profiles; the same inputs give the same bytes.
        """

        from aigc_opt.data.build import build_profiles, default_source
        from aigc_opt.data.build_provenance import ANNUAL_MEANS
        from aigc_opt.data.profile_tables import PROFILE_DIR

        src = source or default_source()
        if src is None:
            raise UserError("--source is required: no ../shared/data next to the repository")
        if not Path(src).is_dir():
            raise UserError(f"--source {src}: not a directory")
        dest = Path(out) if out is not None else PROFILE_DIR
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".profiles-") as tmp:
            with err_console.status("deriving profiles from the public datasets"):
                build_profiles(src, tmp)
            files = _replace_files(Path(tmp), dest)
        result = {
            "source": str(src),
            "out": str(dest),
            "files": {p.name: _sha(p) for p in files},
        }
        if as_json:
            import pandas as pd

            regions = pd.read_csv(dest / "regions_2023.csv")
            result["regions"] = regions[ANNUAL_MEANS].to_dict(orient="records")
            emit_json(_clean(result))
            return
        _print_files(result)

    @data_app.command("scenarios")
    def scenarios(
        profiles: Annotated[
            Path | None,
            typer.Option(
                "--profiles", help="Profile folder (default: the package's data/profiles)"
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Root folder for the scenario folders (default: the package's data/scenarios)",
            ),
        ] = None,
        name: Annotated[
            list[str] | None, typer.Option("--name", help="Only this scenario (repeatable)")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Regenerate the real-data scenarios from the profiles, bit for bit.

        us4-2023-{winter,spring,summer,autumn}, transatlantic-2023-summer, default, the
        stress tiers and the full year (aigc_opt.data.recipes); with the package's own
        folder as destination, also data/catalog.toml (tiers, horizons, content hashes).
        """

        from aigc_opt.data.build_scenarios import SCENARIO_DIR, write_catalog
        from aigc_opt.data.catalog import CATALOG_FILE
        from aigc_opt.data.profile_tables import PROFILE_DIR
        from aigc_opt.data.recipes import catalog_toml, recipes, write_recipes
        from aigc_opt.data.scenario_specs import CATALOG

        prof = profiles or PROFILE_DIR
        dest = Path(out) if out is not None else SCENARIO_DIR
        dest.mkdir(parents=True, exist_ok=True)
        weeks = [s.name for s in CATALOG]
        tiers = [r.spec.name for r in recipes(prof)]
        unknown = [n for n in name or [] if n not in weeks + tiers]
        if unknown:
            raise UserError(f"--name {unknown[0]}: unknown ({', '.join(weeks + tiers)})")
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".scenarios-") as tmp:
            wk = [n for n in name or [] if n in weeks]
            tr = [n for n in name or [] if n in tiers]
            if not name or wk:
                write_catalog(tmp, prof, names=wk or None)
            if not name or tr:
                write_recipes(tmp, prof, names=tr or None)
            files = _replace_files(Path(tmp), dest)
        if dest == SCENARIO_DIR:  # the shipped catalog records the new content hashes
            CATALOG_FILE.write_text(catalog_toml(dest, prof), encoding="utf-8")
        result = {"out": str(dest), "files": {str(p.relative_to(dest)): _sha(p) for p in files}}
        if as_json:
            emit_json(result)
            return
        _print_files(result)

    @data_app.command("check")
    def check(
        file: Annotated[Path, typer.Argument(help="Data file to read")],
        fmt: Annotated[
            str,
            typer.Option(
                "--format", "-f", help="File format, e.g. price or weather (list: data formats)"
            ),
        ],
        tz: Annotated[
            str,
            typer.Option(
                "--tz", help="Zone of naive timestamps (price, simbench): UTC or an IANA name"
            ),
        ] = "",
        eur_to_usd: Annotated[
            float | None, typer.Option("--eur-to-usd", help="USD per EUR for EUR price files")
        ] = None,
        year: Annotated[int | None, typer.Option("--year", help="Calendar year (UTC)")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Read one data file in a supported format and report what was loaded.

        Units, UTC span, means, the time-zone rule and the gaps that were filled; a
        malformed file gives a one-line error naming file, line and column (exit code 2).
        """

        summary = _check_file(file, fmt, tz, eur_to_usd, year)
        if as_json:
            emit_json(_clean(summary))
            return
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{fmt}: {file}")
        t.add_column("field")
        t.add_column("value", overflow="fold")
        for k, v in summary.items():
            t.add_row(k, str(v))
        Console().print(t)

    @data_app.command("formats")
    def formats(as_json: JsonOpt = False) -> None:
        """List the file formats ``data check --format`` reads (the loaders' registry)."""
        from aigc_opt.data.loaders import FORMATS

        rows: list[dict[str, Any]] = [
            {"format": n, "family": f.family, "options": list(f.options), "file": f.description}
            for n, f in FORMATS.items()
        ]
        if as_json:
            emit_json(rows)
            return
        from rich.console import Console
        from rich.table import Table

        t = Table(title="formats of aigc-opt data check")
        for col in ("format", "family", "options", "file"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(r["format"], r["family"], ", ".join(r["options"]) or "—", r["file"])
        Console().print(t)

    @data_app.command("recipe")
    def recipe(
        recipe_file: Annotated[Path, typer.Argument(help="Recipe TOML pointing at data files")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the scenario")],
        profiles: Annotated[
            Path | None,
            typer.Option(
                "--profiles", help="Profile folder (default: the package's data/profiles)"
            ),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Build a scenario from your own price, carbon and weather files.

        The recipe format is described in docs/data.md.
        """

        from aigc_opt.data.profile_tables import PROFILE_DIR
        from aigc_opt.data.scenario_files import load_scenario_file
        from aigc_opt.data.user_recipe import scenario_from_recipe

        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".recipe-") as tmp:
            scenario_from_recipe(recipe_file, tmp, profiles or PROFILE_DIR)
            load_scenario_file(Path(tmp) / "scenario.toml")  # validate before moving
            files = _replace_files(Path(tmp), out)
        result = {"out": str(out), "files": {p.name: _sha(p) for p in files}}
        if as_json:
            emit_json(result)
            return
        _print_files(result)


def _print_files(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"written to {result['out']}")
    t.add_column("file")
    t.add_column("sha256[:16]")
    for k, v in result["files"].items():
        t.add_row(k, v)
    Console().print(t)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN -> None, numpy scalars -> Python."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _check_file(
    file: Path, fmt: str, tz: str, eur_to_usd: float | None, year: int | None
) -> dict[str, Any]:
    from aigc_opt.data.loaders import FORMATS, check_file

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: unknown (one of {', '.join(FORMATS)})")
    if eur_to_usd is not None and not eur_to_usd > 0:
        raise UserError(f"--eur-to-usd = {eur_to_usd}: must be > 0")
    return check_file(fmt, file, naive_tz=tz or None, eur_to_usd=eur_to_usd, year=year)


__all__ = ["register"]
