"""Read stored results for reports: run directories, nested result trees and tidy
comparison tables. Reports are rendered from these files only, never from objects in memory.
What one run holds: `aigc_opt.reports.stored_run`.

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
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports.stored_run import (
    RUN_TABLES,
    VALID_BOUND_STATUS,
    Collection,
    EpisodeKey,
    ReportInputError,
    Run,
    number,
)

_RUN_FILES = {f"schedule_{n}.parquet" for n in RUN_TABLES} | {"per_slot.parquet"}


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
            return number(float(means[name])) if name in means.index else None

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
            summary["utility_std"] = number(float(stds["utility"]))
        if n_ep > 1 and "gap_pct" in means.index:
            from aigc_opt.solvers.result import ci95

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
        if r.method == "oracle-milp" and r.status in VALID_BOUND_STATUS:
            bb = number(r.summary.get("best_bound"))
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
