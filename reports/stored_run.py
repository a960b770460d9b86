"""One stored result as reports see it (`Run`: a summary read lazily from disk, with its
schedule tables and resolved scenario) and everything found under a report's inputs
(`Collection`). Money in $, energy in MWh, slots as stored.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.solvers.result import gap_to_bound

RUN_TABLES = ("jobs", "drops", "gpus", "energy")
"""Schedule tables of a run directory, stored as ``schedule_<name>.parquet``."""

EpisodeKey = tuple[str, "int | None", int, str]

VALID_BOUND_STATUS = ("optimal", "time_limit")
"""Statuses whose stored ``best_bound`` is a proven bound."""


def _first_number(sources: tuple[dict[str, Any], ...], keys: tuple[str, ...]) -> float | None:
    """The first int or float stored under one of ``keys``, searching ``sources`` in order."""
    for src in sources:
        for key in keys:
            v = src.get(key)
            if isinstance(v, (int, float)):
                return v
    return None


class ReportInputError(ValueError):
    """An input path holds nothing a report can use, or a file cannot be read."""


@dataclass
class Run:
    """One stored result (a method on one episode), read lazily from disk.

    ``summary`` is the stored JSON object; ``path`` the run directory (None for runs that
    come from a bundle entry or a comparison table without a directory of their own).
    """

    summary: dict[str, Any]
    path: Path | None = None
    source: Path | None = None
    label: str = ""
    kind: str = "run"  # "run" | "bundle" | "compare"
    extra: dict[str, Any] = field(default_factory=dict)

    # -- identity -------------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.summary.get("method") or "unknown")

    @property
    def scenario(self) -> str:
        return str(self.summary.get("scenario") or "?")

    @property
    def horizon(self) -> int | None:
        h = self.summary.get("horizon")
        return int(h) if isinstance(h, (int, float)) else None

    @property
    def start(self) -> int:
        s = self.summary.get("start")
        return int(s) if isinstance(s, (int, float)) else 0

    @property
    def episode_key(self) -> EpisodeKey:
        """(scenario, horizon in slots, start slot, episode set): runs with equal keys are
        comparable. The episode set is "" for a single episode and names the comparison
        table for means over several episodes."""
        group = (
            f"{self.source.stem} ({self.summary.get('episodes')} episodes)"
            if (self.kind == "compare" and self.source is not None)
            else ""
        )
        return (self.scenario, self.horizon, self.start, group)

    @property
    def status(self) -> str:
        return str(self.summary.get("status") or "—")

    @property
    def options(self) -> dict[str, Any]:
        o = self.summary.get("options")
        return o if isinstance(o, dict) else {}

    @property
    def forecast(self) -> str | None:
        """Forecaster spec of an MPC run (e.g. ``"noisy:0.1"``), if stored."""
        for src in (self.options, self.summary):
            f = src.get("forecast")
            if isinstance(f, str) and f:
                return f
        return None

    @property
    def forecast_noise(self) -> float | None:
        """Relative forecast noise σ (perfect = 0, ``noisy:σ`` = σ); None for other forecasters."""
        f = self.forecast
        if f is None:
            return None
        if f.strip().lower() == "perfect":
            return 0.0
        m = re.fullmatch(r"\s*noisy\s*[:=]\s*([0-9.eE+-]+)\s*", f)
        if m:
            try:
                return float(m.group(1))
            except ValueError:
                return None
        v = _first_number((self.options, self.summary), ("forecast_noise", "noise", "sigma"))
        return None if v is None else float(v)

    @property
    def lookahead(self) -> int | None:
        v = _first_number((self.options, self.summary), ("lookahead",))
        return None if v is None else int(v)

    @property
    def seed(self) -> int | None:
        v = _first_number((self.summary, self.options), ("seed",))
        return None if v is None else int(v)

    @property
    def is_mpc(self) -> bool:
        return self.method.lower().startswith("mpc")

    @property
    def is_relaxation(self) -> bool:
        """LP or convex relaxation: its utility is the value of a relaxed (not deployable)
        schedule and is itself an upper bound."""
        m = self.method.lower()
        return m.endswith("-lp") or "convex" in m or m in ("lp", "convex")

    # -- numbers --------------------------------------------------------------------
    @property
    def utility(self) -> float | None:
        """Realized (or incumbent) utility U ($)."""
        return number(self.summary.get("utility"))

    @property
    def terms(self) -> dict[str, float | None]:
        t = self.summary.get("terms") or {}
        names = list(t) if self.summary.get("family") else TERMS  # a family's own terms
        return {n: number(t.get(n)) for n in names}

    @property
    def kpis(self) -> dict[str, Any]:
        k = self.summary.get("kpis")
        return k if isinstance(k, dict) else {}

    @property
    def bound(self) -> float | None:
        """Upper bound on U for this episode ($): the stored oracle bound of a policy run,
        or the proven best bound of an oracle run (None unless its status is optimal or
        time_limit)."""
        ob = number(self.summary.get("oracle_bound"))
        if ob is not None:
            return ob
        bb = number(self.summary.get("best_bound"))
        if bb is not None and self.status in VALID_BOUND_STATUS:
            return bb
        return self.extra.get("peer_bound")

    @property
    def gap_pct(self) -> float | None:
        """Gap to the bound in %: the stored ``gap_pct`` if present, else the one gap
        definition (`aigc_opt.solvers.result.gap_to_bound`: % of max(|bound|, 1))."""
        g = number(self.summary.get("gap_pct"))
        if g is not None:
            return g
        return gap_to_bound(self.utility, self.bound)[1]

    # -- stored tables --------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return self._table_path(name) is not None

    def _table_path(self, name: str) -> Path | None:
        if self.path is None:
            return None
        fname = "per_slot.parquet" if name == "per_slot" else f"schedule_{name}.parquet"
        p = self.path / fname
        return p if p.is_file() else None

    def table(self, name: str) -> pd.DataFrame | None:
        """A stored table: ``jobs``, ``drops``, ``gpus``, ``energy`` or ``per_slot``."""
        cache = self.extra.setdefault("_tables", {})
        if name not in cache:
            p = self._table_path(name)
            if p is None:
                cache[name] = None
            else:
                try:
                    cache[name] = pd.read_parquet(p)
                except Exception as exc:  # a corrupt file is an input error, not a crash
                    raise ReportInputError(f"{p}: cannot read Parquet ({exc})") from None
        return cache[name]

    @cached_property
    def scenario_params(self) -> dict[str, Any] | None:
        """``params`` of the stored resolved scenario (``scenario.json``), if any."""
        if self.path is None:
            return None
        p = self.path / "scenario.json"
        if not p.is_file():
            return None
        try:
            data = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        params = data.get("params", data) if isinstance(data, dict) else None
        return params if isinstance(params, dict) else None

    @property
    def slot_hours(self) -> float:
        """Slot length Δ (h); 1 when not stored."""
        p = self.scenario_params or {}
        v = p.get("slot_hours")
        return float(v) if isinstance(v, (int, float)) and v > 0 else 1.0

    def battery(self, data_center: str) -> dict[str, Any] | None:
        """Stored battery parameters of a data center (MWh, MW), if any."""
        for dc in (self.scenario_params or {}).get("data_centers", []) or []:
            if dc.get("name") == data_center:
                b = dc.get("battery")
                return b if isinstance(b, dict) else None
        return None


@dataclass
class Collection:
    """Everything found under the report's inputs."""

    runs: list[Run]
    inputs: list[Path]

    def episodes(self) -> dict[EpisodeKey, list[Run]]:
        """Runs grouped by episode (scenario, horizon, start, episode set), in input order."""
        out: dict[EpisodeKey, list[Run]] = {}
        for r in self.runs:
            out.setdefault(r.episode_key, []).append(r)
        return out


def number(v: Any) -> float | None:
    """A stored value as a finite float; None for anything else (booleans included)."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    return None
