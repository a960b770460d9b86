"""Storing results: a run directory holds ``summary.json``, tidy Parquet tables and the
resolved scenario. Files are written to a temporary name and renamed, so a failure never
leaves a half-written file behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.data.scenario import Scenario
from aigc_opt.formulations.schedule import Schedule


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Create ``path``'s folder, let ``write`` fill a temporary file beside ``path``, then
    rename it to ``path``; on any failure the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary name in the same folder, then rename)."""
    atomic_write(path, lambda p: p.write_text(text))


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=2, default=str) + "\n"))


def write_parquet(path: Path, df: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if meta:
        md = dict(table.schema.metadata or {})
        md[b"aigc_opt"] = json.dumps(meta, default=str).encode()
        table = table.replace_schema_metadata(md)
    atomic_write(path, lambda p: pq.write_table(table, p))


def run_metadata() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for pkg in ("aigc-opt", "highspy", "pyomo", "cvxpy", "numpy", "pandas"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def write_run(
    out_dir: str | Path,
    summary: dict[str, Any],
    schedule: Schedule | None,
    scenario: Scenario | None,
) -> list[Path]:
    """Write one run: summary.json, schedule_*.parquet, per_slot.parquet, scenario.json."""
    out = Path(out_dir)
    written: list[Path] = []
    meta = {
        "versions": run_metadata(),
        "method": summary.get("method"),
        "scenario": summary.get("scenario"),
    }
    if schedule is not None and scenario is not None:
        for name, df in schedule.tidy(scenario).items():
            path = out / f"schedule_{name}.parquet"
            write_parquet(path, df, meta)
            written.append(path)
        from aigc_opt.formulations.accounting import TERMS, slot_terms

        per = pd.DataFrame(slot_terms(scenario, schedule), columns=list(TERMS))
        per.insert(0, "slot", range(scenario.T))
        path = out / "per_slot.parquet"
        write_parquet(path, per, meta)
        written.append(path)
    if scenario is not None:
        path = out / "scenario.json"
        write_json(path, scenario.to_dict())
        written.append(path)
    path = out / "summary.json"
    write_json(path, {**summary, "versions": meta["versions"]})
    written.append(path)
    return written
