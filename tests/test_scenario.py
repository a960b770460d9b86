"""Scenario loading, validation and cutting."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_opt import ScenarioError, load_scenario, shipped_names
from aigc_opt.formulations.index import build_index


def test_shipped_scenarios_load_and_default_has_the_required_shape():
    assert {"default", "tiny"} <= set(shipped_names())
    d = load_scenario("default")
    assert d.D >= 4 and d.A >= 5 and d.K == 3 and d.S >= 5 and d.T == 168
    assert all(dc.battery is not None for dc in d.params.data_centers)
    assert any(dc.generator is not None for dc in d.params.data_centers)
    assert len({dc.region for dc in d.params.data_centers}) == d.D
    assert (d.renewable.sum(axis=1) > 0).all()


@pytest.mark.parametrize("start, horizon", [(0, 1), (5, 24), (0, 168), (100, 68)])
def test_cut_keeps_the_series_window(start, horizon):
    full = load_scenario("default")
    cut = load_scenario("default", horizon=horizon, start=start)
    assert cut.T == horizon and cut.start_slot == start
    np.testing.assert_array_equal(cut.price, full.price[:, start : start + horizon])
    np.testing.assert_array_equal(cut.arrivals, full.arrivals[:, :, start : start + horizon])


@pytest.mark.parametrize("start, horizon", [(0, 169), (160, 10), (-1, 5), (0, 0)])
def test_cut_outside_the_series_is_an_error(start, horizon):
    with pytest.raises(ScenarioError):
        load_scenario("default", horizon=horizon, start=start)


def test_index_respects_wait_windows_and_admissibility():
    scn = load_scenario("default", horizon=24)
    idx = build_index(scn)
    wait = scn.class_arrays["wait"]
    assert (idx.t >= idx.tau).all()
    assert (idx.t <= np.minimum(idx.tau + wait[idx.k], scn.T - 1)).all()
    assert scn.admissible[idx.b, idx.k, idx.s].all()
    assert not np.isnan(scn.transfer_cost[idx.a, idx.b]).any()
    # every (a, b, k, s, τ, t) combination appears at most once
    assert not idx.rows_frame().duplicated().any()
