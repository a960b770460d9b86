"""The shipped profile tables (``data/profiles``) that real-data scenarios are built from.

`Profiles.read` loads them; `Profiles.week` gives a season's representative week per region;
`model_row` and `quality_curve` look a model's measured figures up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.data.scenario import ScenarioError

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True)
class Profiles:
    """The shipped profile tables (see ``data/profiles/PROVENANCE.md``)."""

    energy: pd.DataFrame
    weeks: pd.DataFrame
    shape: pd.DataFrame
    models: pd.DataFrame
    quality: pd.DataFrame
    meta: dict[str, Any]
    directory: Path

    @classmethod
    def read(cls, directory: str | Path = PROFILE_DIR) -> Profiles:
        d = Path(directory)
        need = (
            "energy_weeks_2023.csv",
            "weeks_2023.csv",
            "arrival_shape.csv",
            "models.csv",
            "quality.csv",
            "arrivals.json",
        )
        for n in need:
            if not (d / n).exists():
                raise ScenarioError(
                    d / n, "file", n, "profile file not found; run 'aigc-opt data build' first"
                )
        return cls(
            energy=pd.read_csv(d / "energy_weeks_2023.csv", keep_default_na=True),
            weeks=pd.read_csv(d / "weeks_2023.csv"),
            shape=pd.read_csv(d / "arrival_shape.csv"),
            models=pd.read_csv(d / "models.csv"),
            quality=pd.read_csv(d / "quality.csv"),
            meta=json.loads((d / "arrivals.json").read_text(encoding="utf-8")),
            directory=d,
        )

    def week(self, season: str) -> tuple[pd.Timestamp, dict[str, pd.DataFrame]]:
        """UTC start and per-region hourly frames of a season's representative week."""
        row = self.weeks[self.weeks["season"] == season]
        if row.empty:
            raise ScenarioError(
                self.directory / "weeks_2023.csv",
                "season",
                season,
                f"unknown season (known: {', '.join(self.weeks['season'])})",
            )
        start = pd.Timestamp(row["start_utc"].iloc[0])
        sel = self.energy[self.energy["season"] == season]
        out = {}
        for region, g in sel.groupby("region", sort=False):
            out[str(region)] = g.sort_values("hour").reset_index(drop=True)
        return start, out

    def model_row(self, model: str, gpu: str) -> pd.Series:
        """The ``models.csv`` row of ``model`` on ``gpu`` (GPU-s and kWh per job and per step)."""
        m = self.models[(self.models["model"] == model) & (self.models["gpu"] == gpu)]
        if len(m) != 1:
            raise ScenarioError(
                self.directory / "models.csv",
                "model",
                f"{model} ({gpu})",
                "no measured profile for this model and GPU",
            )
        return m.iloc[0]

    def quality_curve(self, model: str) -> dict[str, Any]:
        """The scenario TOML's ``quality`` table of ``model`` (``log`` form, ``quality.csv``)."""
        q = self.quality[self.quality["model"] == model]
        if len(q) != 1:
            raise ScenarioError(
                self.directory / "quality.csv", "model", model, "no quality curve for this model"
            )
        r = q.iloc[0]
        return {
            "form": "log",
            "alpha": float(r["alpha"]),
            "c": float(r["c"]),
            "q_max": float(r["q_max"]),
        }
