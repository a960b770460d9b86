"""The experiment folder::

    experiment.json          spec name and file, every job (key, scenario, method, …)
    spec.toml                a copy of the spec that was run
    results/<key>.parquet    one row per finished job (written atomically)
    failed/<key>.parquet     one row per failed job, with its error message

Every file is written to a temporary name and renamed, so a run killed at any moment
leaves only whole files. A job counts as finished when ``results/<key>.parquet``
exists; a re-run skips finished jobs and runs the failed and missing ones again.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.experiments.jobs import Job

MANIFEST = "experiment.json"


class ExperimentStore:
    """Reads and writes one experiment folder (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.results = self.root / "results"
        self.failed = self.root / "failed"

    def finished_keys(self) -> set[str]:
        return {p.stem for p in self.results.glob("*.parquet")} if self.results.is_dir() else set()

    def failed_keys(self) -> set[str]:
        return {p.stem for p in self.failed.glob("*.parquet")} if self.failed.is_dir() else set()

    def clear(self) -> None:
        """Forget every stored result (``--no-resume``)."""
        for d in (self.results, self.failed):
            if d.is_dir():
                shutil.rmtree(d)

    def write_manifest(self, spec_path: Path, spec_name: str, jobs: Sequence[Job]) -> None:
        from aigc_opt.solvers.store import run_metadata, write_json, write_text

        write_text(self.root / "spec.toml", spec_path.read_text())
        write_json(
            self.root / MANIFEST,
            {
                "name": spec_name,
                "spec": str(spec_path.resolve()),
                "jobs": [j.describe() for j in jobs],
                "versions": run_metadata(),
            },
        )

    def write(self, row: dict[str, Any]) -> Path:
        """Store one job's row: ``results/`` if it finished, else ``failed/``."""
        from aigc_opt.solvers.store import write_parquet

        folder = self.failed if row["failed"] else self.results
        path = folder / f"{row['key']}.parquet"
        write_parquet(path, pd.DataFrame([row]), {"key": row["key"]})
        if not row["failed"]:
            (self.failed / path.name).unlink(missing_ok=True)
        return path
