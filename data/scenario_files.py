"""Reading a scenario from disk: the TOML file and its two long-format series tables.

* ``energy``:   columns ``slot, data_center, price_usd_per_mwh, carbon_t_per_mwh, renewable_mwh``
* ``arrivals``: columns ``slot, asp, job_class, jobs``

Tables are CSV or Parquet. `load_scenario_file` pivots them to dense arrays and validates
everything through `aigc_opt.data.scenario.make_scenario`; every problem is a
`ScenarioError` naming the file, the field (or line) and the value.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from aigc_opt.data.scenario import (
    Scenario,
    ScenarioError,
    check_references,
    make_scenario,
    validate_params,
)

ENERGY_COLUMNS = ("slot", "data_center", "price_usd_per_mwh", "carbon_t_per_mwh", "renewable_mwh")
ARRIVAL_COLUMNS = ("slot", "asp", "job_class", "jobs")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; errors name the file."""
    if not path.exists():
        raise ScenarioError(path, "file", str(path), "series file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, comment="#")
    except Exception as exc:  # pandas raises many types
        raise ScenarioError(path, "file", path.name, f"cannot be read: {exc}") from None


def _pivot(
    df: pd.DataFrame, path: Path, keys: list[tuple[str, list[str]]], value: str, n_slots: int | None
) -> tuple[np.ndarray, int]:
    """Dense array [key1, key2, ..., slot] from a long table, checking completeness."""
    for col, names in keys:
        unknown = sorted(set(df[col].astype(str)) - set(names))
        if unknown:
            raise ScenarioError(path, col, unknown[0], f"unknown name (known: {', '.join(names)})")
    slots = pd.to_numeric(df["slot"], errors="coerce")
    if slots.isna().any() or (slots < 0).any() or (slots % 1 != 0).any():
        bad = df["slot"][slots.isna() | (slots < 0) | (slots % 1 != 0)].iloc[0]
        raise ScenarioError(path, "slot", bad, "slots must be integers ≥ 0")
    n_keys = int(np.prod([len(names) for _, names in keys]))
    per_key = len(df) // max(n_keys, 1)  # a larger slot leaves a hole: refuse, no allocation
    if len(slots) and slots.max() >= per_key:
        bad, keyname = df["slot"][slots >= per_key].iloc[0], "/".join(c for c, _ in keys)
        msg = f"beyond the table ({len(df)} rows: slots 0..{per_key - 1} per {keyname})"
        raise ScenarioError(path, "slot", bad, msg)
    vals = pd.to_numeric(df[value], errors="coerce")
    if vals.isna().any():
        row = int(np.flatnonzero(vals.isna().to_numpy())[0])
        raise ScenarioError(
            path, f"{value} (line {row + 2})", df[value].iloc[row], "missing or not a number (NaN)"
        )
    T = int(slots.max()) + 1 if len(slots) else 0
    shape = tuple(len(names) for _, names in keys) + (T,)
    arr = np.full(shape, np.nan)
    idx = tuple(
        pd.Categorical(df[col].astype(str), categories=names).codes for col, names in keys
    ) + (slots.astype(int).to_numpy(),)
    dup = pd.DataFrame({f"i{j}": v for j, v in enumerate(idx)}).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ScenarioError(path, f"line {row + 2}", df.iloc[row].to_dict(), "duplicated entry")
    arr[idx] = vals.to_numpy(dtype=float)
    if np.isnan(arr).any():
        first = np.argwhere(np.isnan(arr))[0]
        where = ", ".join(
            f"{col}={names[i]}" for (col, names), i in zip(keys, first[:-1], strict=True)
        )
        raise ScenarioError(path, value, "<absent>", f"no row for {where}, slot={first[-1]}")
    return arr, T


def load_scenario_file(path: str | Path, *, name: str | None = None) -> Scenario:
    """Load a scenario TOML (and its series tables) and validate everything."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(path, "file", str(path), "scenario file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "toml", path.name, f"not valid TOML: {exc}") from None
    params = validate_params(raw, str(path))
    check_references(params, str(path))
    if params.series is None:
        raise ScenarioError(path, "series", "<missing>", "required field is missing")
    energy_path = (path.parent / params.series.energy).resolve()
    arrivals_path = (path.parent / params.series.arrivals).resolve()
    energy = read_table(energy_path)
    arrivals = read_table(arrivals_path)
    for df, cols, p in (
        (energy, ENERGY_COLUMNS, energy_path),
        (arrivals, ARRIVAL_COLUMNS, arrivals_path),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ScenarioError(p, "columns", list(df.columns), f"missing column {missing[0]!r}")
    dcs = [d.name for d in params.data_centers]
    asps = [b.name for b in params.asps]
    classes = [k.name for k in params.job_classes]
    series = {}
    T = None
    for value in ("price_usd_per_mwh", "carbon_t_per_mwh", "renewable_mwh"):
        series[value], T = _pivot(energy, energy_path, [("data_center", dcs)], value, None)
    jobs, Ta = _pivot(
        arrivals, arrivals_path, [("asp", asps), ("job_class", classes)], "jobs", None
    )
    if Ta != T:
        raise ScenarioError(arrivals_path, "slot", Ta, f"arrivals have {Ta} slots, energy has {T}")
    for value, arr in list(series.items()) + [("jobs", jobs)]:
        src = arrivals_path if value == "jobs" else energy_path
        if value != "price_usd_per_mwh" and (arr < 0).any():
            first = tuple(int(i) for i in np.argwhere(arr < 0)[0])
            raise ScenarioError(src, value, float(arr[first]), f"negative value at {first}")
    try:
        scn = make_scenario(
            params,
            series["price_usd_per_mwh"],
            series["carbon_t_per_mwh"],
            series["renewable_mwh"],
            jobs,
            source=str(path),
        )
    except ScenarioError as exc:
        if exc.field.startswith("data_centers"):  # a parameter, not a series value
            raise
        fname = arrivals_path if exc.field == "jobs" else energy_path
        raise ScenarioError(fname, exc.field, exc.value, exc.message) from None
    return replace(scn, label=name or params.name)
