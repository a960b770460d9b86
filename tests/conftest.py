"""Shared fixtures: small scenarios built in memory, and the path of ../shared/data."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aigc_opt.data.scenario import Scenario, make_scenario

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AIGC_OPT_SHARED_DATA") or REPO.parent / "shared" / "data")
"""The public datasets the data tests read (../shared/data beside the repository, or the
folder named by ``AIGC_OPT_SHARED_DATA``); those tests skip when it does not exist."""

BASE: dict[str, Any] = {
    "name": "unit",
    "slot_hours": 1.0,
    "carbon_price_usd_per_t": 0.0,
    "steps": [1],
    "data_centers": [{"name": "dc", "pue": 1.0}],
    "asps": [
        {
            "name": "a",
            "data_center": "dc",
            "gpus": 1,
            "idle_kw_per_gpu": 0.0,
            "gpu_seconds_per_step": 3600.0,  # one 1-step job fills one GPU-hour
            "kwh_per_step": 1000.0,  # 1 MWh per job
            "quality": {"form": "table", "steps": [1, 2], "quality": [1.0, 1.0]},
        }
    ],
    "job_classes": [
        {
            "name": "k",
            "price_usd": 100.0,
            "quality_floor": 0.0,
            "max_wait_slots": 0,
            "delay_usd_per_slot": 0.0,
            "drop_usd": 0.0,
        }
    ],
}


def unit_scenario(
    overrides: dict[str, Any] | None = None,
    *,
    price: list[float],
    arrivals: np.ndarray | list,
    carbon: list[float] | None = None,
    renewable: list[float] | None = None,
) -> Scenario:
    """A one-region scenario for hand-computed optima; ``overrides`` replace BASE keys."""
    p = copy.deepcopy(BASE)
    p.update(copy.deepcopy(overrides or {}))
    T = len(price)
    D = len(p["data_centers"])
    arr = np.asarray(arrivals, dtype=float)
    if arr.ndim == 1:
        arr = arr.reshape(1, 1, T)
    pr = np.tile(np.asarray(price, dtype=float), (D, 1))
    co = np.tile(np.asarray(carbon if carbon is not None else [0.0] * T, dtype=float), (D, 1))
    re = np.tile(np.asarray(renewable if renewable is not None else [0.0] * T, dtype=float), (D, 1))
    return make_scenario(p, pr, co, re, arr)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"public datasets not found at {SHARED_DATA} (they live beside the repo)")
    return SHARED_DATA


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped ``tiny`` scenario folder."""
    import shutil

    from aigc_opt.data.catalog import SCENARIO_DIR

    dst = tmp_path / "tiny"
    shutil.copytree(SCENARIO_DIR / "tiny", dst)
    return dst


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file by ``new`` (``old`` must be there)."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
