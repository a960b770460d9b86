"""Scenario loading, validation and cutting."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

from aigc_opt import ScenarioError, load_scenario, shipped_names
from aigc_opt.data.catalog import scenario_path
from aigc_opt.formulations.index import build_index


def _read_table(path):
    """A series file as shipped: CSV, or Parquet for the full-year scenario."""
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("name", shipped_names())
def test_loaded_sizes_and_series_equal_the_files(name: str):
    """Sizes counted in the TOML and CSV files (read with tomllib and pandas) are the
    loaded sizes, and every series value sits at its (name, slot) place."""
    path = scenario_path(name)
    raw = tomllib.loads(path.read_text())
    energy = _read_table(path.parent / raw["series"]["energy"])
    arrivals = _read_table(path.parent / raw["series"]["arrivals"])
    scn = load_scenario(name)
    sizes = (scn.D, scn.A, scn.K, scn.S, scn.T)
    assert sizes == (
        len(raw["data_centers"]),
        len(raw["asps"]),
        len(raw["job_classes"]),
        len(raw["steps"]),
        energy["slot"].nunique(),
    )
    dcs = [d["name"] for d in raw["data_centers"]]
    for row in energy.sample(n=min(len(energy), 50), random_state=0).itertuples():
        d = dcs.index(row.data_center)
        assert scn.price[d, row.slot] == pytest.approx(row.price_usd_per_mwh)
        assert scn.carbon[d, row.slot] == pytest.approx(row.carbon_t_per_mwh)
    asps = [b["name"] for b in raw["asps"]]
    classes = [k["name"] for k in raw["job_classes"]]
    per = arrivals.groupby(["asp", "job_class"])["jobs"].sum()
    for (asp, cls), total in per.items():
        assert scn.arrivals[asps.index(asp), classes.index(cls)].sum() == pytest.approx(total)


def test_default_has_the_required_shape():
    """MODEL.md's default: at least 4 data centers in distinct regions, at least 5 ASPs,
    3 classes, at least 5 step levels, a battery everywhere and a generator somewhere."""
    assert {"default", "tiny"} <= set(shipped_names())
    d = load_scenario("default")
    assert d.D >= 4 and d.A >= 5 and d.K == 3 and d.S >= 5
    assert all(dc.battery is not None for dc in d.params.data_centers)
    assert any(dc.generator is not None for dc in d.params.data_centers)
    assert len({dc.region for dc in d.params.data_centers}) == d.D
    assert (d.renewable.sum(axis=1) > 0).all()


@pytest.mark.parametrize("start_frac, horizon_frac", [(0, 0), (0.03, 0.15), (0, 1), (0.6, 0.4)])
def test_cut_keeps_the_series_window(start_frac: float, horizon_frac: float):
    full = load_scenario("default")
    start = int(start_frac * full.T)
    horizon = max(1, int(horizon_frac * full.T))
    cut = load_scenario("default", horizon=horizon, start=start)
    assert cut.T == horizon and cut.start_slot == start
    np.testing.assert_array_equal(cut.price, full.price[:, start : start + horizon])
    np.testing.assert_array_equal(cut.arrivals, full.arrivals[:, :, start : start + horizon])


@pytest.mark.parametrize(
    "window",
    [
        lambda T: (0, T + 1),  # one slot too long
        lambda T: (T - 8, 10),  # runs past the end
        lambda T: (-1, 5),
        lambda T: (0, 0),
    ],
)
def test_cut_outside_the_series_is_an_error(window):
    start, horizon = window(load_scenario("default").T)
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


@pytest.mark.parametrize(
    "curve",
    [
        {"form": "exp", "q_max": 0.9, "beta": 0.12},
        {"form": "log", "alpha": 0.11, "c": 0.18, "q_max": 0.55},
        {"form": "table", "steps": [4, 10, 20, 50], "quality": [0.2, 0.45, 0.58, 0.62]},
    ],
)
def test_vectorised_quality_equals_the_closed_form(curve):
    """`values` (numpy) against a hand-written Q(n) per form, and the table's hull pieces:
    min_j (m_j·n + c_j) is the piecewise-linear interpolation of the (concave) table."""
    from pydantic import TypeAdapter

    from aigc_opt.data.quality import QualityCurve

    q = TypeAdapter(QualityCurve).validate_python(curve)
    n = np.linspace(4.0, 50.0, 37)
    if curve["form"] == "exp":
        want = [0.9 * (1 - np.exp(-0.12 * x)) for x in n]
    elif curve["form"] == "log":
        want = [min(0.55, 0.11 * np.log(x) + 0.18) for x in n]
    else:
        xs, ys = curve["steps"], curve["quality"]
        want = []
        for x in n:
            j = max(i for i in range(len(xs) - 1) if xs[i] <= x)
            want.append(ys[j] + (ys[j + 1] - ys[j]) * (x - xs[j]) / (xs[j + 1] - xs[j]))
        m, c = q.hull_pieces()
        assert np.allclose(np.min(m[None, :] * n[:, None] + c[None, :], axis=1), want, atol=1e-12)
        with pytest.raises(ValueError, match="outside the table range"):
            q.values(np.array([3.0]))
    assert np.allclose(q.values(n), want, atol=1e-12)
    assert q.values(n.reshape(37, 1)).shape == (37, 1)
