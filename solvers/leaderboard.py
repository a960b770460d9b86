"""The bounds table: every catalog scenario at its catalogued horizons, solved by every
certified program and every baseline policy (``aigc-opt leaderboard``).

Per (scenario, horizon), slots [0, horizon) of the scenario:

* ``milp``: perfect-foresight MILP (HiGHS, 1 thread, seed 0, relative gap `MIP_GAP`,
  `TIME_LIMIT` s): status, incumbent U, best bound, gap;
* ``lp``: its LP relaxation's optimum (a bound); ``convex``: the convex program with
  continuous steps (a bound);
* ``mpc-perfect``, ``mpc-noisy``, ``mpc-persistence``: rolling-horizon MPC (LP windows,
  lookahead min(24, horizon)) with perfect, noisy:0.1 (seed 0) and persistence forecasts;
  ``greedy``, ``price-greedy``: the heuristics; each a simulated episode (seed 0).

Every gap is `gap_to_bound(U, bound)` against the tightest certified bound, the MILP's
best bound. Numbers are rounded (`DIGITS` decimals of $) so a rerun gives the same bytes;
solve times go to ``timings.csv``, outside the guarded files. A row whose MILP was
optimal in the existing table is never replaced by a non-optimal one.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aigc_opt.data.catalog import Catalog, Entry, check_hash, content_hash, load_scenario
from aigc_opt.solvers.result import gap_to_bound

FORMAT = "aigc-opt-leaderboard/1"
MIP_GAP = 1e-4
TIME_LIMIT = 600.0
DIGITS = 4
POLICIES = ("mpc-perfect", "mpc-noisy", "mpc-persistence", "greedy", "price-greedy")
COLUMNS = (
    "scenario",
    "tier",
    "horizon",
    "catalog_version",
    "data_hash",
    "milp_status",
    "milp_incumbent",
    "milp_bound",
    "milp_gap_pct",
    "lp_bound",
    "convex_bound",
    *(f"{p}{suffix}" for p in POLICIES for suffix in ("", "_gap_pct")),
)


def select(cat: Catalog, patterns: Sequence[str]) -> list[Entry]:
    """Catalog entries whose name matches any glob (all when none given); a pattern that
    matches nothing is an error (`ScenarioError`)."""
    from aigc_opt.data.scenario import ScenarioError

    if not patterns:
        return list(cat.entries)
    for p in patterns:
        if not any(fnmatch.fnmatchcase(e.name, p) for e in cat.entries):
            raise ScenarioError(
                cat.source,
                "--scenarios",
                p,
                f"matches no catalog scenario ({', '.join(cat.names())})",
            )
    return [e for e in cat.entries if any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), DIGITS) + 0.0


def _policy(name: str, horizon: int) -> Any:
    from aigc_opt.solvers.heuristics import HEURISTICS
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.mpc import MPCPolicy

    if name.startswith("mpc-"):
        fc = {"perfect": "perfect", "noisy": "noisy:0.1", "persistence": "persistence"}[name[4:]]
        return MPCPolicy(
            lookahead=min(24, horizon), forecaster=fc, options=HighsOptions(threads=1, seed=0)
        )
    return HEURISTICS[name]()


def solve_row(entry: Entry, version: str, horizon: int) -> tuple[dict[str, Any], dict[str, float]]:
    """One table row and its timings (s, measured on this machine)."""
    from aigc_opt.solvers.convex import solve_convex
    from aigc_opt.solvers.family_registry import family_for
    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_oracle
    from aigc_opt.solvers.policy import run_episode

    fam = family_for(entry.path)
    if fam is not None:
        return family_row(fam, entry, version, horizon)
    scn = load_scenario(entry.path, horizon=horizon)
    opts = HighsOptions(threads=1, seed=0, mip_gap=MIP_GAP, time_limit=TIME_LIMIT)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    milp = solve_oracle(scn, options=opts)
    times["milp"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lp = solve_oracle(scn, relax=True, options=opts)
    times["lp"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cvx = solve_convex(scn)
    times["convex"] = time.perf_counter() - t0
    bound = milp.best_bound
    row = _bound_columns(entry, version, horizon, milp, bound, lp, cvx)
    for name in POLICIES:
        t0 = time.perf_counter()
        ep = run_episode(scn, _policy(name, horizon), seed=0)
        times[name] = time.perf_counter() - t0
        row[name] = _r(ep.utility)
        row[f"{name}_gap_pct"] = _r(gap_to_bound(ep.utility, bound)[1])
    return row, {k: round(v, 2) for k, v in times.items()}


def _bound_columns(
    entry: Entry, version: str, horizon: int, milp: Any, bound: float | None, lp: Any, cvx: Any
) -> dict[str, Any]:
    """The columns every row starts with: the entry, then the MILP (incumbent, status and
    ``bound``), the LP and the convex bound (``cvx`` may be None: no convex program);
    a bound that is not ``optimal`` is left empty."""
    return {
        "scenario": entry.name,
        "tier": entry.tier,
        "horizon": horizon,
        "catalog_version": version,
        "data_hash": content_hash(entry.path),
        "milp_status": milp.status,
        "milp_incumbent": _r(milp.utility),
        "milp_bound": _r(bound),
        "milp_gap_pct": _r(gap_to_bound(milp.utility, bound)[1]),
        "lp_bound": _r(lp.best_bound if lp.status == "optimal" else None),
        "convex_bound": _r(cvx.best_bound if cvx is not None and cvx.status == "optimal" else None),
    }


def family_row(
    fam: Any, entry: Entry, version: str, horizon: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """The row of a scenario family's entry (MODEL.md §8): its MILP and LP (HiGHS, 1
    thread, seed 0), then its policies (MPC with window min(24, horizon) as
    ``mpc-perfect``, and its heuristics by name) with their gaps to the MILP's bound."""
    scn = fam.load_scenario(entry.path, horizon)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    milp = fam.solve(scn, time_limit=TIME_LIMIT, mip_gap=MIP_GAP, threads=1, seed=0)
    times["milp"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lp = fam.solve(scn, relax=True, time_limit=TIME_LIMIT, threads=1, seed=0)
    times["lp"] = time.perf_counter() - t0
    cvx = None
    if fam.convex is not None:
        t0 = time.perf_counter()
        cvx = fam.convex(scn, time_limit=TIME_LIMIT)
        times["convex"] = time.perf_counter() - t0
    bound = milp.best_bound if milp.status in ("optimal", "time_limit") else None
    row = _bound_columns(entry, version, horizon, milp, bound, lp, cvx)
    row = {"scenario": row["scenario"], "family": fam.name, **row}  # family second
    for p in fam.policies:
        name = "mpc-perfect" if p == "mpc" else p
        t0 = time.perf_counter()
        res = fam.run(scn, p, window=min(24, horizon))
        times[name] = time.perf_counter() - t0
        row[name] = _r(res.utility)
        row[f"{name}_gap_pct"] = _r(gap_to_bound(res.utility, bound)[1])
    return row, {k: round(v, 2) for k, v in times.items()}


def run(
    cat: Catalog,
    entries: Sequence[Entry],
    horizons: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Solve every (entry, horizon) pair; returns the table document (rows, timings).
    With ``out``, each row is written (merged) as soon as it is solved, so an interrupted
    run keeps what it finished."""
    rows, timings = [], []
    for e in entries:
        check_hash(e)
        for h in horizons or e.horizons:
            if progress:
                progress(f"{e.name} h{h}")
            row, t = solve_row(e, cat.version, h)
            rows.append(row)
            timings.append({"scenario": e.name, "horizon": h} | t)
            if out is not None:
                write(_doc(cat, [row], [timings[-1]]), out)
    return _doc(cat, rows, timings)


def _doc(cat: Catalog, rows: list[dict[str, Any]], timings: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "catalog_version": cat.version, "rows": rows, "timings": timings}


def _key(row: dict[str, Any]) -> tuple[str, int]:
    return str(row["scenario"]), int(row["horizon"])


def merge(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The old table with the new rows in place of the old rows of the same (scenario,
    horizon) and other new rows appended, except that a new row whose MILP is not optimal
    does not replace an old row of the same data hash whose MILP was. Returns (table,
    messages about the rows kept)."""
    kept: list[str] = []
    rows = list((old or {}).get("rows", []))
    where = {_key(r): i for i, r in enumerate(rows)}
    for r in new["rows"]:
        i = where.get(_key(r))
        if i is None:
            where[_key(r)] = len(rows)
            rows.append(r)
            continue
        o = rows[i]
        if (
            o.get("milp_status") == "optimal"
            and r["milp_status"] != "optimal"
            and o.get("data_hash") == r["data_hash"]
        ):
            kept.append(
                f"{r['scenario']} h{r['horizon']}: MILP {r['milp_status']}; optimal row kept"
            )
        else:
            rows[i] = r
    return {**new, "rows": rows}, kept


def cell_text(v: Any, spec: str = f".{DIGITS}f", missing: str = "") -> str:
    """One table cell: a float in format ``spec``, None as ``missing``, anything else as text."""
    if v is None:
        return missing
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def to_csv(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """``columns``, then any other column some row has (a family's policies), in order."""
    columns = list(dict.fromkeys([*columns, *(k for r in rows for k in r)]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([cell_text(r.get(c)) for c in columns])
    return buf.getvalue()


def to_markdown(table: dict[str, Any]) -> str:
    """The table as Markdown: utilities in $, gaps in % of the MILP best bound."""
    head = [
        "scenario",
        "h",
        "MILP U (status)",
        "bound",
        "gap %",
        "LP",
        "convex",
        *(f"{p} (gap %)" for p in POLICIES),
        "hash",
    ]
    lines = [
        f"# aigc-opt leaderboard — catalog {table['catalog_version']}",
        "",
        "Utility U in $ over the horizon's slots from slot 0; bounds are certified upper "
        "bounds (MILP best bound, LP relaxation, convex program with continuous steps); "
        "every gap is (bound − U) / max(|bound|, 1) against the MILP best bound. "
        f"MILP: HiGHS, 1 thread, seed 0, relative gap {MIP_GAP:g}, {TIME_LIMIT:g} s limit. "
        "LP and convex bounds are shown only at an optimal solver status ('not optimal': the "
        "solver stopped without a certified bound). "
        "Regenerate: `aigc-opt leaderboard --out benchmarks/leaderboard`.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in table["rows"]:
        if r.get("family"):
            continue  # listed below, with the family's own policies
        lines.append(_markdown_row(r, POLICIES, no_convex="not optimal"))
    for fam in dict.fromkeys(r["family"] for r in table["rows"] if r.get("family")):
        lines += _family_markdown(fam, [r for r in table["rows"] if r.get("family") == fam])
    return "\n".join(lines) + "\n"


def _family_markdown(family: str, rows: list[dict[str, Any]]) -> list[str]:
    """The rows of one scenario family (MODEL.md §8), under its own policy columns."""
    fixed = set(COLUMNS) | {"family"}
    pols = [k for k in rows[0] if k not in fixed and not k.endswith("_gap_pct")]
    head = ["scenario", "h", "MILP U (status)", "bound", "gap %", "LP", "convex",
            *(f"{p} (gap %)" for p in pols), "hash"]  # fmt: skip
    lines = [
        "",
        f"## Family {family}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += [_markdown_row(r, pols, no_convex="—") for r in rows]
    return lines


def _markdown_row(r: dict[str, Any], policies: Sequence[str], no_convex: str) -> str:
    """One table line: the bounds, then each policy's utility (gap %), then the data hash;
    ``no_convex`` stands where the convex bound is missing (not optimal, or no program)."""
    cells = [
        r["scenario"],
        str(r["horizon"]),
        f"{cell_text(r['milp_incumbent'])} ({r['milp_status']})",
        cell_text(r["milp_bound"]),
        cell_text(r["milp_gap_pct"]),
        cell_text(r["lp_bound"]) or "not optimal",
        cell_text(r["convex_bound"]) or no_convex,
        *(f"{cell_text(r.get(p))} ({cell_text(r.get(p + '_gap_pct'))})" for p in policies),
        r["data_hash"],
    ]
    return "| " + " | ".join(cells) + " |"


def write(table: dict[str, Any], out: str | Path) -> list[Path]:
    """Write leaderboard.md/.csv/.json (guarded, byte-stable) and timings.csv into ``out``,
    merged with the table already there (see `merge`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jpath = out / "leaderboard.json"
    old = json.loads(jpath.read_text(encoding="utf-8")) if jpath.exists() else None
    merged, kept = merge(old, table)
    for msg in kept:
        print(msg)
    doc = {k: merged[k] for k in ("format", "catalog_version", "rows")}
    files = {
        jpath: json.dumps(doc, indent=1, allow_nan=False) + "\n",
        out / "leaderboard.csv": to_csv(doc["rows"], COLUMNS),
        out / "leaderboard.md": to_markdown(doc),
    }
    old_t = {_key(r): r for r in _read_timings(out / "timings.csv")}
    for t in table["timings"]:
        old_t[_key(t)] = t
    tcols = ["scenario", "horizon", "milp", "lp", "convex", *POLICIES]
    files[out / "timings.csv"] = to_csv(list(old_t.values()), tcols)
    for path, text in files.items():
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return list(files)


def _read_timings(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [dict(r) for r in csv.DictReader(f)]
