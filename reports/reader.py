"""Read stored results for reports: run directories, nested result trees and tidy
comparison tables. Reports are rendered from these files only, never from objects in memory.

Accepted inputs (any mix, any depth):

* a **run directory**: ``summary.json`` (as written by `SolveResult.write` or
  `solvers.store.write_run`) plus optional ``schedule_*.parquet``, ``per_slot.parquet`` and
  ``scenario.json``;
* a **bundle summary**: a ``summary.json`` whose top-level values are summaries
  (e.g. ``{"milp": S, "lp": S, "convex": S}``); entries without a sub-directory of the same
  name become runs without schedule tables;
* a **directory of runs**: searched recursively for the two kinds above;
* a **tidy comparison table** (Parquet with at least the columns ``method``, ``metric`` and
  ``value``, optionally ``episode``, ``scenario``, ``horizon``): one row per method, episode
  and metric; each method becomes one run whose numbers are means over its episodes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.formulations.accounting import TERMS

RUN_TABLES = ("jobs", "drops", "gpus", "energy")
"""Schedule tables of a run directory, stored as ``schedule_<name>.parquet``."""

EpisodeKey = tuple[str, "int | None", int, str]

_RUN_FILES = {f"schedule_{n}.parquet" for n in RUN_TABLES} | {"per_slot.parquet"}
_VALID_BOUND_STATUS = ("optimal", "time_limit")


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
        for src in (self.options, self.summary):
            for key in ("forecast_noise", "noise", "sigma"):
                v = src.get(key)
                if isinstance(v, (int, float)):
                    return float(v)
        return None

    @property
    def lookahead(self) -> int | None:
        for src in (self.options, self.summary):
            v = src.get("lookahead")
            if isinstance(v, (int, float)):
                return int(v)
        return None

    @property
    def seed(self) -> int | None:
        for src in (self.summary, self.options):
            v = src.get("seed")
            if isinstance(v, (int, float)):
                return int(v)
        return None

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
        return _num(self.summary.get("utility"))

    @property
    def terms(self) -> dict[str, float | None]:
        t = self.summary.get("terms") or {}
        return {n: _num(t.get(n)) for n in TERMS}

    @property
    def kpis(self) -> dict[str, Any]:
        k = self.summary.get("kpis")
        return k if isinstance(k, dict) else {}

    @property
    def bound(self) -> float | None:
        """Upper bound on U for this episode ($): the stored oracle bound of a policy run,
        or the proven best bound of an oracle run (None unless its status is optimal or
        time_limit)."""
        ob = _num(self.summary.get("oracle_bound"))
        if ob is not None:
            return ob
        bb = _num(self.summary.get("best_bound"))
        if bb is not None and self.status in _VALID_BOUND_STATUS:
            return bb
        return self.extra.get("peer_bound")

    @property
    def gap_pct(self) -> float | None:
        """Gap to the bound in % of |bound|: the stored ``gap_pct`` if present, else
        100·(bound − U)/|bound|."""
        g = _num(self.summary.get("gap_pct"))
        if g is not None:
            return g
        u, b = self.utility, self.bound
        if u is None or b is None or b == 0:
            return None
        return 100.0 * (b - u) / abs(b)

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


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def _is_summary(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and ("utility" in obj or "terms" in obj)
        and ("method" in obj or "status" in obj)
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def _runs_from_summary(path: Path) -> list[Run]:
    """Runs stored in one ``summary.json`` (a run, or a bundle of named summaries)."""
    data = _read_json(path)
    folder = path.parent
    if _is_summary(data):
        return [Run(summary=data, path=folder, source=path)]
    if not isinstance(data, dict):
        return []
    out: list[Run] = []
    for key, val in data.items():
        if not _is_summary(val):
            continue
        sub = folder / str(key)
        if (sub / "summary.json").is_file():
            continue  # the sub-directory is read on its own, with its tables
        s = dict(val)
        s.setdefault("method", str(key))
        out.append(Run(summary=s, path=None, source=path, kind="bundle"))
    return out


def _is_compare_table(path: Path) -> bool:
    if path.suffix != ".parquet" or path.name in _RUN_FILES:
        return False
    try:
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
    except Exception:
        return False
    return {"method", "metric", "value"} <= names


_KPI_METRICS = (
    "jobs_served",
    "jobs_transferred",
    "jobs_dropped",
    "jobs_arrived",
    "mean_quality",
    "mean_wait_slots",
    "carbon_t",
)


def _runs_from_compare(path: Path) -> list[Run]:
    """One run per (method[, scenario, horizon]) of a tidy comparison table (episode means)."""
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise ReportInputError(f"{path}: cannot read Parquet ({exc})") from None
    df = df.copy()
    df["metric"] = df["metric"].astype(str)
    meta = _parquet_meta(path)
    for col in ("scenario", "horizon"):  # episode-level facts stored as file metadata
        if col not in df.columns and meta.get(col) is not None:
            df[col] = meta[col]
    keys = [c for c in ("method", "scenario", "horizon") if c in df.columns]
    out: list[Run] = []
    for key, grp in df.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        ident = dict(zip(keys, key, strict=True))
        means = grp.groupby("metric")["value"].mean()
        stds = grp.groupby("metric")["value"].std(ddof=0) if "episode" in grp else None
        n_ep = int(grp["episode"].nunique()) if "episode" in grp else 1

        def get(name: str, means: pd.Series = means) -> float | None:
            return _num(float(means[name])) if name in means.index else None

        terms = {n: get(n) for n in TERMS if n in means.index}
        energy = {
            k[len("energy_") :].removesuffix("_mwh"): get(k)
            for k in means.index
            if k.startswith("energy_")
        }
        kpis: dict[str, Any] = {k: get(k) for k in _KPI_METRICS if k in means.index}
        if energy:
            kpis["energy_mwh"] = energy
        summary: dict[str, Any] = {
            "method": str(ident["method"]),
            "scenario": str(ident.get("scenario", "?")),
            "horizon": int(ident["horizon"]) if "horizon" in ident else None,
            "start": int(grp["start"].iloc[0])
            if "start" in grp and grp["start"].nunique() == 1
            else 0,
            "status": "mean",
            "utility": get("utility"),
            "terms": terms,
            "kpis": kpis,
            "oracle_bound": get("oracle_bound"),
            "gap_pct": get("gap_pct"),
            "episodes": n_ep,
        }
        if stds is not None and "utility" in stds.index and n_ep > 1:
            summary["utility_std"] = _num(float(stds["utility"]))
        if n_ep > 1 and "gap_pct" in means.index:
            from aigc_opt.drl_compare.compare import ci95

            gaps = grp.loc[grp["metric"] == "gap_pct", "value"].to_numpy(float)
            summary["gap_pct_ci95"] = ci95(gaps)
        out.append(Run(summary=summary, path=None, source=path, kind="compare"))
    return out


def _parquet_meta(path: Path) -> dict[str, Any]:
    """The ``aigc_opt`` metadata `solvers.store.write_parquet` stores in a Parquet file."""
    try:
        import pyarrow.parquet as pq

        raw = (pq.read_schema(path).metadata or {}).get(b"aigc_opt")
        data = json.loads(raw) if raw else {}
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def discover(paths: Sequence[str | Path]) -> Collection:
    """Find every run under ``paths`` (run directories, trees of them, summary files and
    tidy comparison Parquet files). Raises `ReportInputError` when a path does not exist
    or nothing usable is found."""
    runs: list[Run] = []
    seen: set[Path] = set()
    inputs = [Path(p) for p in paths]
    for p in inputs:
        if not p.exists():
            raise ReportInputError(f"{p}: no such file or directory")
        for f in _candidate_files(p):
            rf = f.resolve()
            if rf in seen:
                continue
            seen.add(rf)
            if f.name.endswith(".json"):
                runs.extend(_runs_from_summary(f))
            elif _is_compare_table(f):
                runs.extend(_runs_from_compare(f))
    if not runs:
        raise ReportInputError(
            "no results found in "
            + ", ".join(str(p) for p in inputs)
            + " (expected run directories with summary.json, or a tidy comparison Parquet)"
        )
    _attach_peer_bounds(runs)
    runs.sort(key=_order)
    assign_labels(runs)
    return Collection(runs=runs, inputs=inputs)


def _candidate_files(p: Path) -> Iterable[Path]:
    if p.is_file():
        if p.suffix == ".json" or _is_compare_table(p):
            yield p
        elif p.suffix == ".parquet" and p.name in _RUN_FILES:
            s = p.parent / "summary.json"
            if s.is_file():
                yield s
        return
    for f in sorted(p.rglob("*")):
        if any(part.startswith(".") for part in f.relative_to(p).parts):
            continue  # hidden folders and temporary files
        if f.name == "summary.json" or _is_compare_table(f):
            yield f


_RANK = (
    ("oracle-convex", 0),
    ("convex", 0),
    ("oracle-lp", 1),
    ("oracle-milp", 2),
    ("oracle", 3),
    ("mpc", 4),
)


def _order(r: Run) -> tuple[Any, ...]:
    """Runs of one episode together; bounds first (loosest to tightest), then MPC by
    forecast noise, then every other method (heuristics, DRL) by name."""
    m = r.method.lower()
    rank = next((k for p, k in _RANK if m.startswith(p)), 5 if r.kind != "compare" else 6)
    noise = r.forecast_noise if r.forecast_noise is not None else math.inf
    return (
        r.scenario,
        r.horizon if r.horizon is not None else -1,
        r.start,
        r.episode_key[3],
        rank,
        noise,
        m,
        r.forecast or "",
        r.lookahead or 0,
        r.seed or 0,
        str(r.path or r.source),
    )


def _attach_peer_bounds(runs: list[Run]) -> None:
    """A run with no bound of its own borrows the tightest proven MILP bound of the same
    episode among the inputs (the oracle's best bound is an upper bound on any policy)."""
    best: dict[EpisodeKey, float] = {}
    for r in runs:
        if r.method == "oracle-milp" and r.status in _VALID_BOUND_STATUS:
            bb = _num(r.summary.get("best_bound"))
            if bb is not None:
                k = r.episode_key
                best[k] = min(bb, best.get(k, math.inf))
    for r in runs:
        if r.bound is None and not r.is_relaxation and r.episode_key in best:
            r.extra["peer_bound"] = best[r.episode_key]


def assign_labels(runs: list[Run]) -> None:
    """Give every run a short, unique label: the method, then the forecaster (and, for
    means over a comparison's episodes, their number), and only where still ambiguous the
    lookahead, seed, horizon, scenario, start and folder."""
    for r in runs:
        r.label = r.method + (
            f" [{r.forecast}]" if r.forecast and r.forecast not in r.method else ""
        )
        if r.kind == "compare":
            r.label += f" (mean of {r.summary.get('episodes')} ep.)"
    extras = (
        lambda r: f"L={r.lookahead}" if r.lookahead is not None else None,
        lambda r: f"seed={r.seed}" if r.seed is not None else None,
        lambda r: f"H={r.horizon}" if r.horizon is not None else None,
        lambda r: r.scenario,
        lambda r: f"start={r.start}",
        lambda r: f"({(r.path or r.source or Path('?')).name})",
    )
    for fn in extras:
        groups: dict[str, list[Run]] = {}
        for r in runs:
            groups.setdefault(r.label, []).append(r)
        for members in groups.values():
            if len(members) < 2:
                continue
            vals = [fn(r) for r in members]
            if len(set(vals)) < 2:
                continue
            for r, v in zip(members, vals, strict=True):
                if v is not None:
                    r.label = f"{r.label} {v}"
    counts: dict[str, int] = {}
    for r in runs:
        n = counts.get(r.label, 0)
        counts[r.label] = n + 1
        if n:
            r.label = f"{r.label} #{n + 1}"


def slug(text: str) -> str:
    """A file-name-safe version of a label."""
    s = re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_")
    return s or "run"
