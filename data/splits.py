"""Train / validation / test partition of 2023 by weeks.

The unit is a week starting Monday 00:00 UTC (52 of them lie inside 2023). Slots count
hours from 2023-01-01 00:00 UTC, i.e. they index the full-year scenario ``us4-2023``
(8760 slots), so an episode of up to 168 slots starting at ``weeks(split)[i]`` stays
inside that week::

    from aigc_opt.data.splits import weeks
    from aigc_opt.data.catalog import load_scenario
    year = load_scenario("us4-2023")
    for start in weeks("train"):
        episode = year.cut(horizon=168, start=start)

* ``test`` — one week per season, the representative week that the ``us4-2023-<season>``
  scenarios use; never used for training;
* ``val`` — one week per season, closest to the season's median week among those at least
  two weeks from the test week;
* ``train`` — every other week except the ``gap`` weeks directly before and after a test
  week.

The partition is derived by ``aigc-opt data build`` (`aigc_opt.data.build_year`) and
shipped as ``data/profiles/splits_2023.csv``.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from aigc_opt.data.build_year import SPLIT_FILE
from aigc_opt.data.profile_tables import PROFILE_DIR
from aigc_opt.data.scenario import ScenarioError

SPLITS = ("train", "val", "test")
"""The splits `weeks` accepts (``gap`` weeks belong to none)."""
YEAR_SCENARIO = "us4-2023"
"""The shipped full-year scenario whose slots `weeks` returns."""
WEEK_SLOTS = 168


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """The partition: week, start_utc, start_slot, season, split (one row per week)."""
    return pd.read_csv(PROFILE_DIR / SPLIT_FILE)


def weeks(split: str) -> list[int]:
    """Start slots (hours since 2023-01-01 00:00 UTC) of the weeks of ``split``.

    Raises `ScenarioError` for a split other than train, val, test.
    """
    if split not in SPLITS:
        raise ScenarioError("--split", "split", split, f"expected one of {', '.join(SPLITS)}")
    t = table()
    return [int(s) for s in t.loc[t["split"] == split, "start_slot"]]


def split_of(slot: int) -> str:
    """The split of the week holding ``slot`` (``gap`` or ``none`` outside the weeks)."""
    t = table()
    hit = t[(t["start_slot"] <= slot) & (slot < t["start_slot"] + WEEK_SLOTS)]
    return str(hit["split"].iloc[0]) if len(hit) else "none"
