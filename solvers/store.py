"""Storing results: a run directory holds ``summary.json``, tidy Parquet tables and the
resolved scenario. Files are written to a temporary name and renamed, so a failure never
leaves a half-written file behind; a command's whole output folder is written the same
way (`output_dir`: a fresh temporary folder beside the target, renamed into place with a
``manifest.json`` listing every file), so a folder never mixes two runs. Files and
folders get the usual permissions (the process' umask), not a temporary file's 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily: checking --out must not wait for pandas
    import pandas as pd

    from aigc_opt.data.scenario import Scenario
    from aigc_opt.formulations.schedule import Schedule

MANIFEST = "manifest.json"
"""Name of the file that lists every file of an output folder (relative path → bytes)."""
OUTPUT_MARKERS = (MANIFEST, "summary.json", "bounds.json", "compare.json")
"""Files that mark a folder as aigc-opt output, which a new run may replace."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Create ``path``'s folder, let ``write`` fill a temporary file beside ``path``, then
    rename it to ``path``; on any failure the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; honour the umask
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
        import pandas as pd

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


def out_problem(out: str | Path) -> str | None:
    """Why ``out`` cannot receive a command's output folder, or None if it can.

    Checked before any work starts: ``out`` must be a new path below a writable folder,
    an empty folder, or a folder of earlier aigc-opt output (one of `OUTPUT_MARKERS`),
    which the new run replaces as a whole.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        return "exists and is not a folder"
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
        if names and not names & set(OUTPUT_MARKERS):
            return (
                "folder holds files that are not aigc-opt output (no manifest.json or "
                "summary.json); choose a new or empty folder"
            )
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"folder {parent} is not writable"
    return None


def manifest_problem(folder: str | Path) -> str | None:
    """Why the files of ``folder`` disagree with its `MANIFEST`, or None if they agree
    (or the folder has no manifest with a file list)."""
    folder = Path(folder)
    try:
        listed = json.loads((folder / MANIFEST).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(listed, dict):
        return None
    present = {
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    extra = sorted(present - set(listed))
    missing = sorted(set(listed) - present)
    if not extra and not missing:
        return None
    parts = []
    if extra:
        parts.append(f"{len(extra)} file(s) not in its manifest (e.g. {extra[0]})")
    if missing:
        parts.append(f"{len(missing)} listed file(s) missing (e.g. {missing[0]})")
    return f"{folder}: {' and '.join(parts)}; it may mix two runs, write it again"


@contextlib.contextmanager
def output_dir(target: str | Path, *, command: str = "") -> Iterator[Path]:
    """A fresh temporary folder beside ``target`` to write a command's files into.

    On success a `MANIFEST` listing every file is added (merged into a manifest the
    command wrote itself) and the folder is renamed to ``target``, replacing an earlier
    output folder as a whole. On any failure or interrupt the temporary folder is removed
    and ``target`` is left as it was.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        files = {
            str(p.relative_to(tmp)): p.stat().st_size
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and p.name != MANIFEST
        }
        manifest: dict[str, Any] = {}
        if (tmp / MANIFEST).is_file():
            manifest = json.loads((tmp / MANIFEST).read_text())
        write_json(tmp / MANIFEST, {**manifest, "command": command, "files": files})
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
