"""The comparison figure's rows: baselines first, then policies, each ordered by mean gap,
with the Student-t half-width of `ci95`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aigc_opt.reports.compare_figures import compare_gap_figure, gap_rows
from aigc_opt.solvers.result import ci95

GAPS = {
    "greedy": [20.0, 22.0, 24.0],
    "ppo-a": [12.0, 11.0, 13.0],
    "oracle": [0.0, 0.0, 0.0],
    "ppo-b": [9.0, 8.0, 10.0],
    "price-greedy": [9.5, 9.0, 10.0],
}


def _tidy() -> pd.DataFrame:
    rows = [
        {"method": m, "episode": e, "metric": metric, "value": v if metric == "gap_pct" else 1.0}
        for m, vals in GAPS.items()
        for e, v in enumerate(vals)
        for metric in ("gap_pct", "utility")
    ]
    return pd.DataFrame(rows)


def test_rows_group_baselines_then_policies_by_mean_gap():
    rows = gap_rows(_tidy())
    assert rows["method"].tolist() == ["oracle", "price-greedy", "greedy", "ppo-b", "ppo-a"]
    assert rows["group"].tolist() == ["baseline"] * 3 + ["policy"] * 2
    ppo_a = rows.set_index("method").loc["ppo-a"]
    assert ppo_a["mean"] == pytest.approx(12.0)
    # t(0.975, 2) = 4.3027; std of (12, 11, 13) = 1; half-width 4.3027 / sqrt(3)
    assert ppo_a["ci95"] == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    assert ppo_a["ci95"] == pytest.approx(ci95(np.array(GAPS["ppo-a"])))
    np.testing.assert_array_equal(ppo_a["values"], GAPS["ppo-a"])


def test_figure_has_one_row_per_method():
    fig = compare_gap_figure(_tidy())
    assert fig is not None
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["oracle", "price-greedy", "greedy", "ppo-b", "ppo-a"]
    assert compare_gap_figure(_tidy()[lambda d: d["metric"] == "utility"]) is None
