"""Train / validation / test splits of episode start slots.

A scenario's series is split so that an agent is trained on some episodes and judged on
others (docs/drl.md):

* **by the 2023 calendar** for the shipped full-year scenario ``us4-2023``: each slot takes
  the split of its week in `aigc_opt.data.splits` (test = the four representative weeks,
  val = one more week per season, train = the rest but the weeks next to a test week, which
  belong to no split);
* **by weeks**, when the series holds at least ``MIN_WEEKS`` whole weeks: week w (slots
  [w·L, (w+1)·L), L = one week of slots) belongs to ``train`` when w mod 5 ∈ {0, 1, 2},
  to ``val`` when w mod 5 = 3 and to ``test`` when w mod 5 = 4; a start belongs to a split
  when its whole episode lies in weeks of that split (episodes of different splits share
  no slot);
* **by start ranges** otherwise (e.g. the one-week shipped scenarios): the valid starts
  0 … T − h are cut in order into the first 70 % (``train``), the next 15 % (``val``) and
  the last 15 % (``test``). Episodes of neighbouring splits may then share up to h − 1
  slots of the series; the starts themselves never coincide.

``all`` is every valid start. `split_starts` returns the sorted start slots of a split.
"""

from __future__ import annotations

import numpy as np

from aigc_opt.data.scenario import Scenario

SPLITS = ("train", "val", "test", "all")
MIN_WEEKS = 3
_WEEK_ROLE = {0: "train", 1: "train", 2: "train", 3: "val", 4: "test"}


def split_starts(full: Scenario, horizon: int, split: str = "all") -> np.ndarray:
    """Sorted start slots of ``split`` for episodes of ``horizon`` slots (see module doc)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    n = full.T - horizon + 1
    if n < 1:
        raise ValueError(f"horizon {horizon} exceeds the scenario's {full.T} slots")
    starts = np.arange(n)
    if split == "all":
        return starts
    week = int(round(7 * 24 / full.dt))
    role = _calendar_roles(full)
    if role is None and full.T // week >= MIN_WEEKS:
        role = np.array([_WEEK_ROLE[(t // week) % 5] for t in range(full.T)])
    if role is not None:
        first, last = role[starts], role[starts + horizon - 1]
        same = np.array([len(set(role[s : s + horizon])) == 1 for s in starts])
        out = starts[(first == split) & (last == split) & same]
        if out.size == 0:
            raise ValueError(f"split {split!r} has no episode start for horizon {horizon}")
        return out
    cut1, cut2 = int(round(0.70 * n)), int(round(0.85 * n))
    rng = {"train": (0, cut1), "val": (cut1, cut2), "test": (cut2, n)}[split]
    out = starts[rng[0] : rng[1]]
    if out.size == 0:
        raise ValueError(f"split {split!r} has no episode start for horizon {horizon}")
    return out


def _calendar_roles(full: Scenario) -> np.ndarray | None:
    """Per slot, the split of its 2023 week (`aigc_opt.data.splits`) when ``full`` is the
    shipped full-year scenario from its first slot, else None."""
    from aigc_opt.data.splits import WEEK_SLOTS, YEAR_SCENARIO, table

    if full.name != YEAR_SCENARIO or full.start_slot != 0 or full.dt != 1.0:
        return None
    role = np.full(full.T, "none", dtype=object)
    for start, split in zip(table()["start_slot"], table()["split"], strict=True):
        role[int(start) : int(start) + WEEK_SLOTS] = split
    return role
