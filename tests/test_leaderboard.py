"""The shipped leaderboard regenerates to the same numbers, and its rows obey the bound
hierarchy (convex ≥ LP ≥ MILP bound ≥ every feasible utility)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aigc_opt.data.catalog import read_catalog
from aigc_opt.solvers.leaderboard import COLUMNS, POLICIES, solve_row, to_csv, to_markdown

TABLE = Path(__file__).resolve().parents[1] / "benchmarks" / "leaderboard"


def _shipped() -> dict:
    return json.loads((TABLE / "leaderboard.json").read_text(encoding="utf-8"))


def _rows() -> list[dict]:
    return _shipped()["rows"]


def test_shipped_files_agree_and_hashes_match_the_catalog():
    doc = _shipped()
    assert (TABLE / "leaderboard.csv").read_text(encoding="utf-8") == to_csv(doc["rows"], COLUMNS)
    assert (TABLE / "leaderboard.md").read_text(encoding="utf-8") == to_markdown(doc)
    cat = read_catalog()
    for r in doc["rows"]:
        e = cat.get(r["scenario"])
        assert r["data_hash"] == e.hash, r["scenario"]
        assert r["catalog_version"] == cat.version


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['scenario']}-h{r['horizon']}")
def test_bound_hierarchy(row):
    bound = row["milp_bound"]
    tol = 1e-6 * max(abs(bound), 1.0) + 1e-3  # 4-decimal rounding of the table
    assert row["convex_bound"] is None or row["convex_bound"] >= row["lp_bound"] - 1e-4 * abs(
        row["lp_bound"]
    )
    assert row["lp_bound"] >= bound - tol
    assert bound >= row["milp_incumbent"] - tol
    for p in POLICIES:
        assert row[p] <= bound + tol, p


def _regenerate(name: str) -> None:
    cat = read_catalog()
    rows = [r for r in _rows() if r["scenario"] == name]
    assert rows, f"{name} is not in the shipped table"
    for r in rows:
        new, _ = solve_row(cat.get(name), cat.version, r["horizon"])
        assert new == r


def test_tiny_row_regenerates_identically():
    _regenerate("tiny")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted({r["scenario"] for r in _rows()} - {"tiny"}))
def test_row_regenerates_identically(name):
    _regenerate(name)
