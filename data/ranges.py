"""Ranges of a scenario's numbers, checked on load (`aigc_opt.data.scenario`).

Anything outside is an error naming file, field and value, never silently clipped:

* every number is finite: no field accepts ``nan`` or ``inf``. "No limit" is said by
  leaving a field out (``grid_cap_mw``: no grid cap; ``soc_terminal_mwh``: e_d^0);
* every number has magnitude ≤ `MAX_MAGNITUDE` (1e9), and the fields below have tighter
  ranges: ``slot_hours`` (0, 24], ``pue`` [1, 10], ``steps`` 1..`MAX_STEP` (10,000),
  ``max_wait_slots`` ≤ `MAX_WAIT_SLOTS` (1,000), ``work_factor`` (0, 1000],
  ``gpus`` ≤ 10⁷, names 1–64 characters of letters, digits, space and ``_ - . : / + @``;
* ``start_time`` is an ISO 8601 timestamp between 1900 and 2200 (naive = UTC);
* series: price |p| ≤ `MAX_PRICE` (1e5 $/MWh, negative allowed), carbon ≤ 10 t/MWh,
  renewable ≤ 1e6 MWh per slot, arrivals integers ≤ 1e9 jobs per slot; slots are
  integers 0..T−1 with exactly one row per key, so a slot number beyond the table's
  row count is refused before any array is allocated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAX_MAGNITUDE = 1e9
"""Largest magnitude of any number of a scenario's parameters."""
MAX_STEP = 10_000
"""Largest denoising step level."""
MAX_WAIT_SLOTS = 1_000
"""Largest waiting window W_k (slots)."""
MAX_PRICE = 1e5
"""Largest |electricity price| ($/MWh)."""
SERIES_RANGES = {
    "price_usd_per_mwh": (-MAX_PRICE, MAX_PRICE),
    "carbon_t_per_mwh": (0.0, 10.0),
    "renewable_mwh": (0.0, 1e6),
    "jobs": (0.0, 1e9),
}
"""Allowed [low, high] of each series value (see the module docstring)."""
NAME_PATTERN = r"^[\w .:/+@-]{1,64}$"
"""Names of scenarios, data centers, ASPs and classes (printed in tables and file names)."""


def check_magnitude(value: Any) -> Any:
    """Pydantic validator of every field: numbers of magnitude ≤ `MAX_MAGNITUDE`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if abs(value) > MAX_MAGNITUDE:
            raise ValueError(f"magnitude above {MAX_MAGNITUDE:g}")
    return value


def check_start_time(value: str) -> str:
    """Pydantic validator of ``start_time``: an ISO 8601 timestamp in [1900, 2200]."""
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise ValueError("not an ISO 8601 timestamp (e.g. 2023-01-02T00:00:00Z)") from None
    if t is pd.NaT or not 1900 <= t.year <= 2200:
        raise ValueError("must be a timestamp between 1900 and 2200")
    return value


def first_outside(name: str, arr: np.ndarray) -> tuple[float, str] | None:
    """(value, message) of the first entry of series ``name`` outside `SERIES_RANGES`."""
    low, high = SERIES_RANGES[name]
    out = (arr < low) | (arr > high)
    if not out.any():
        return None
    idx = tuple(int(i) for i in np.argwhere(out)[0])
    return float(arr[idx]), f"outside [{low:g}, {high:g}] at index {idx}"
