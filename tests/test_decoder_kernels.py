"""The decoder's compiled loops against hand-computed cases and plain numpy statements of
the same rules (independent of the loops' code)."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_opt.drl_compare.decoder import DEADBAND, ROUTE_MAX
from aigc_opt.drl_compare.decoder_kernels import (
    energy_flows,
    fill_direct,
    fill_in_turn,
    price_order,
    requested_rows,
)


def test_fill_in_turn_spills_default_rows_and_keeps_sent_rows_on_their_server():
    """Two pools, one data center without an energy limit: 1 GPU-s per job, 10 GPU-s at
    pool 0 and 4 at pool 1; (a=0, k=0) prefers pool 0, then pool 1."""
    servers = np.array([[[0, 1]]])
    tau = np.ones((2, 1))
    efac = np.zeros((2, 1))
    dc = np.array([0, 0])
    gpu = np.array([10.0, 4.0])
    energy = np.array([1.0])
    # row 1: 8 jobs on the default (pool 0) → 8 at pool 0
    # row 2: 5 jobs on the default → 2 at pool 0 (full), 3 spill to pool 1
    # row 3: 3 jobs sent to pool 1 → 1 left there, no spill back to pool 0
    a = np.zeros(3, dtype=np.int64)
    out = fill_in_turn(
        a, a, np.array([2, 1, 0]), np.array([0, 0, 1]), np.array([8.0, 5.0, 3.0]),
        servers, tau, efac, dc, gpu, energy,
    )  # fmt: skip
    oa, ok, og, ob, ox = out
    assert ob.tolist() == [0, 0, 1, 1]
    assert og.tolist() == [2, 1, 1, 0]
    np.testing.assert_allclose(ox, [8.0, 2.0, 3.0, 1.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(gpu, [0.0, 0.0], atol=1e-12)


def test_fill_in_turn_stops_at_the_energy_budget():
    servers = np.array([[[0, -1]]])
    out = fill_in_turn(
        np.array([0]), np.array([0]), np.array([0]), np.array([0]), np.array([10.0]),
        servers, np.ones((2, 1)), np.full((2, 1), 0.5), np.array([0, 0]),
        np.array([100.0, 0.0]), np.array([2.0]),
    )  # fmt: skip
    np.testing.assert_allclose(out[4], [4.0])  # 2 MWh / 0.5 MWh per job


def test_fill_in_turn_ends_a_chain_at_its_padding():
    """(a=0, k=0) may use pool 0 only (-1 pads its chain): what pool 0 cannot take stays
    unserved, although pool 1 has room."""
    out = fill_in_turn(
        np.array([0]), np.array([0]), np.array([0]), np.array([0]), np.array([5.0]),
        np.array([[[0, -1]]]), np.ones((2, 1)), np.zeros((2, 1)), np.array([0, 0]),
        np.array([1.0, 100.0]), np.array([1.0]),
    )  # fmt: skip
    assert out[3].tolist() == [0]
    np.testing.assert_allclose(out[4], [1.0])


def _prefix_fit(group, use, cap):
    """Fraction of each row kept, first come first served, by cumulative sums."""
    before = np.array([use[:i][group[:i] == group[i]].sum() for i in range(use.size)])
    kept = np.clip(cap[group] - before, 0.0, use)
    return np.where(use > 0, kept / np.where(use > 0, use, 1.0), 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_fill_direct_is_two_prefix_cuts(seed):
    rng = np.random.default_rng(seed)
    n, B, D = 40, 5, 3
    pool = rng.integers(0, B, n)
    dc = rng.integers(0, D, B)[pool]
    x = rng.uniform(0, 10, n) * (rng.random(n) > 0.1)
    tau = rng.uniform(1, 3, n)
    e = rng.uniform(0.01, 0.1, n)
    gpu = rng.uniform(0, 80, B)
    energy = rng.uniform(0, 6, D)
    got = fill_direct(pool, dc, tau * x, e, x, gpu, energy)
    want = x * _prefix_fit(pool, tau * x, gpu)
    want = want * _prefix_fit(dc, e * want, energy)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert (np.bincount(pool, tau * got, minlength=B) <= gpu + 1e-9).all()
    assert (np.bincount(dc, e * got, minlength=D) <= energy + 1e-9).all()


@pytest.mark.parametrize("seed", range(5))
def test_price_order_is_a_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    A, K, B = 4, 3, 6
    tc = rng.integers(0, 3, (A, K, B)).astype(float)  # ties on purpose
    tc[rng.random((A, K, B)) < 0.3] = np.inf
    e_job = rng.integers(0, 2, (K, B)) * 0.5
    unit = rng.integers(1, 3, B).astype(float)
    n_ok = np.isfinite(tc).sum(axis=2)
    cost = tc + unit[None, None, :] * e_job[None, :, :]
    order = np.argsort(cost, axis=2, kind="stable")
    want = np.where(np.arange(B)[None, None, :] < n_ok[:, :, None], order, -1)
    np.testing.assert_array_equal(price_order(tc, e_job, unit), want)


@pytest.mark.parametrize("seed", range(5))
def test_requested_rows_follow_the_documented_formulas(seed):
    rng = np.random.default_rng(seed)
    A, K, G, S = 3, 2, 3, 4
    B, th = A, DEADBAND
    servers = np.array([[rng.permutation(B) for _ in range(K)] for _ in range(A)])
    levels = np.sort(rng.integers(0, S, (B, K, S)), axis=2)
    top = rng.integers(0, S, (B, K))
    n = A * K * B + B * K + A * K
    act = rng.uniform(-1, 1, n)
    route_of = np.arange(A * K * B).reshape(A, K, B)
    level_of = A * K * B + np.arange(B * K).reshape(B, K)
    serve_of = A * K * B + B * K + np.arange(A * K).reshape(A, K)
    pending = rng.uniform(0, 5, (A, K, G))
    wait = np.array([1, 2])
    perm = rng.permutation(A * K * G * B)
    a, k, g, b, s, x, level, requested = requested_rows(
        act, route_of, level_of, top, serve_of, servers, levels, pending, wait, perm, th,
        ROUTE_MAX,
    )  # fmt: skip
    w = ROUTE_MAX * np.maximum(0.0, (act[route_of] - th) / (1 - th))
    first = servers[:, :, 0]
    w[np.arange(A)[:, None], np.arange(K)[None, :], first] = 0.0
    dflt = np.zeros((A, K, B))
    dflt[np.arange(A)[:, None], np.arange(K)[None, :], first] = 1.0
    share = (w + dflt) / (w.sum(axis=2, keepdims=True) + 1.0)
    pos = np.rint(np.maximum(0.0, (act[level_of] - th) / (1 - th)) * top).astype(int)
    want_level = np.take_along_axis(levels, pos[:, :, None], axis=2)[:, :, 0]
    np.testing.assert_array_equal(level, want_level)
    f = np.clip((act[serve_of] + 1) / (1 - th), 0, 1)
    last = np.arange(G)[None, :] >= wait[:, None]
    want = pending * np.where(last[None], 1.0, f[:, :, None])
    assert requested == pytest.approx(want.sum(), rel=1e-12)
    req = (want[:, :, :, None] * share[:, :, None, :]).reshape(-1)[perm]
    keep = req > 1e-12
    cells = np.unravel_index(perm[keep], (A, K, G, B))
    for got, exp in zip((a, k, g, b), cells, strict=True):
        np.testing.assert_array_equal(got, exp)
    np.testing.assert_array_equal(s, want_level[b, k])
    np.testing.assert_allclose(x, req[keep], rtol=1e-12)


def test_energy_flows_hand_case():
    """Three data centers: charge at u = 1, discharge at u = −0.625 (half way), a
    generator at u = 0.75 (half way), a terminal floor that forces charge."""
    act = np.array([1.0, -0.625, 0.0, 0.75])
    battery_of = np.array([0, 1, 2])
    generator_of = np.array([-1, 3, -1])
    cmax = np.array([2.0, 2.0, 2.0])
    dmax = np.array([1.0, 4.0, 1.0])
    cmin = np.array([0.0, 0.0, 0.5])
    gmin, gmax = np.zeros(3), np.array([0.0, 3.0, 0.0])
    ch, dis, gen, on, e_left = energy_flows(
        act, battery_of, generator_of, cmax, dmax, cmin, gmin, gmax,
        np.array([10.0, 10.0, 0.2]), np.array([1.0, 1.0, 0.1]), DEADBAND,
    )  # fmt: skip
    np.testing.assert_allclose(ch, [2.0, 0.0, 0.5])
    np.testing.assert_allclose(dis, [0.0, 2.0, 0.0])
    np.testing.assert_allclose(gen, [0.0, 1.5, 0.0])
    np.testing.assert_array_equal(on, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(e_left, [7.0, 12.5, 0.0])


CACHE_PROBE = """
import numpy as np
from aigc_opt.drl_compare import decoder_kernels as k
k.fill_direct(np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones(1), np.ones(1),
              np.ones(1), np.ones(1), np.ones(1))
print(k.__file__)
"""


def test_compiled_code_is_cached_in_the_user_cache_not_beside_the_source(tmp_path):
    """``pip uninstall`` leaves files it did not install: numba's cache must not sit in
    the package folder, where it would outlive the package."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", CACHE_PROBE], env=env, capture_output=True, text=True, check=True
    )
    cached = list((tmp_path / "aigc-opt" / "numba").rglob("*fill_direct*.nbi"))
    assert len(cached) == 1
    source_cache = Path(out.stdout.strip()).parent / "__pycache__"
    assert not list(source_cache.glob("*fill_direct*.nb*"))
