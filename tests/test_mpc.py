"""MPC and forecasters: the full-window MPC is the oracle; orderings against the bound;
the window model is built once per episode; forecasters do what docs/mpc.md says."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from aigc_opt import HighsOptions, load_scenario, solve_oracle
from aigc_opt.formulations import milp as milp_module
from aigc_opt.solvers import mpc_window
from aigc_opt.solvers.forecast import (
    CallableForecaster,
    NoisyForecaster,
    SeriesForecast,
    make_forecaster,
)
from aigc_opt.solvers.mpc import MPCPolicy
from aigc_opt.solvers.policy import run_episode

from .test_simulator import stress_scenario

TIGHT = HighsOptions(mip_gap=1e-7)


# ---------------------------------------------------------------------------------------
# MPC
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["tiny", "stress", "default-4"])
def test_full_window_perfect_mpc_reproduces_the_oracle(case):
    """Perfect forecasts and a window covering the rest of the horizon: every re-solve is
    the oracle's tail problem, so the realized utility is the oracle's (MIP tolerance)."""
    scn = {
        "tiny": lambda: load_scenario("tiny"),
        "stress": stress_scenario,
        "default-4": lambda: load_scenario("default", horizon=4),
    }[case]()
    oracle = solve_oracle(scn, options=TIGHT)
    pol = MPCPolicy(scn.T, "perfect", window="milp", options=TIGHT)
    ep = run_episode(scn, pol, mode="strict")
    tol = 1e-6 * max(1.0, abs(oracle.utility))
    assert abs(ep.utility - oracle.utility) <= tol
    assert ep.utility <= oracle.best_bound + tol
    assert ep.violations == [] and pol.info["fallbacks"] == 0


def test_lp_window_mpc_is_feasible_and_close_on_a_hard_instance():
    scn = stress_scenario()
    oracle = solve_oracle(scn)
    for L in (2, 4, scn.T):
        ep = run_episode(scn, MPCPolicy(L, "perfect"))
        assert ep.violations == []
        assert ep.utility <= oracle.best_bound + 1e-6 * abs(oracle.best_bound)


def test_orderings_on_default():
    """oracle bound ≥ MPC(perfect, L=24) ≥ MPC(noisy 0.1) on default (the second ordering
    is not guaranteed in general; it holds on this episode and seed)."""
    scn = load_scenario("default", horizon=36)
    oracle = solve_oracle(scn)
    bound = oracle.best_bound
    perfect = run_episode(scn, MPCPolicy(24, "perfect"), seed=0)
    noisy = run_episode(scn, MPCPolicy(24, "noisy:0.1"), seed=0)
    for ep in (perfect, noisy):
        assert ep.violations == []
        assert ep.utility <= bound + 1e-6 * abs(bound)
    assert perfect.utility >= noisy.utility
    assert (bound - perfect.utility) / abs(bound) < 1e-3


@pytest.mark.parametrize(
    ("backend", "module", "builder"),
    [("highs", mpc_window, "build_arrays"), ("pyomo", milp_module, "build_milp")],
)
def test_window_is_built_once_and_only_data_change(monkeypatch, backend, module, builder):
    calls = []
    real = getattr(module, builder)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, builder, counting)
    scn = load_scenario("default", horizon=12)
    pol = MPCPolicy(6, "persistence", backend=backend)
    ep = run_episode(scn, pol)
    assert len(calls) == 1
    assert pol.info["slots"] == 12 and pol.info["window_status"] == {"optimal": 12}
    assert ep.violations == []


def test_array_and_pyomo_windows_play_the_same_episode():
    """The same window program, built twice: identical decisions up to solver round-off."""
    scn = load_scenario("default", horizon=12)
    a = run_episode(scn, MPCPolicy(6, "perfect", backend="highs"))
    b = run_episode(scn, MPCPolicy(6, "perfect", backend="pyomo"))
    assert a.violations == [] and b.violations == []
    assert a.utility == pytest.approx(b.utility, rel=1e-6)


def test_window_longer_than_what_is_left():
    """L fixed: near the end (and when L > T) the slots beyond the episode are switched
    off, so nothing is planned after the last slot."""
    scn = load_scenario("tiny")
    oracle = solve_oracle(scn)
    ep = run_episode(scn, MPCPolicy(10, "perfect", window="milp"))
    assert ep.utility == pytest.approx(oracle.utility, rel=1e-6)
    for backend in ("highs", "pyomo"):
        scn8 = load_scenario("default", horizon=8)
        pol = MPCPolicy(5, "perfect", backend=backend)
        run_episode(scn8, pol)
        if backend == "pyomo":
            m = pol._w.prog.model
            ub = np.array([[m.g[d, j].ub for j in range(5)] for d in range(scn8.D)])
        else:
            lp = pol._w.solver.h.getLp()
            ub = np.asarray(lp.col_upper_)[pol._w.prog.block("g")].reshape(scn8.D, 5)
        assert (ub[:, 1:] == 0).all() and (ub[:, 0] > 0).all()


def test_mpc_is_reproducible_with_a_seed():
    scn = load_scenario("default", horizon=12)
    a = run_episode(scn, MPCPolicy(6, "noisy:0.2"), seed=5).utility
    b = run_episode(scn, MPCPolicy(6, "noisy:0.2"), seed=5).utility
    c = run_episode(scn, MPCPolicy(6, "noisy:0.2"), seed=6).utility
    assert a == b and a != c


def test_bad_arguments():
    with pytest.raises(ValueError, match="lookahead"):
        MPCPolicy(0)
    with pytest.raises(ValueError, match="window"):
        MPCPolicy(4, window="qp")  # type: ignore[arg-type]


@pytest.mark.slow
def test_mpc_168_24_noisy_under_60_seconds():
    scn = load_scenario("default", horizon=168)
    t0 = time.perf_counter()
    ep = run_episode(scn, MPCPolicy(24, "noisy:0.1"), seed=0)
    assert time.perf_counter() - t0 < 60.0
    oracle = solve_oracle(scn)
    assert ep.utility <= oracle.best_bound + 1e-6 * abs(oracle.best_bound)


# ---------------------------------------------------------------------------------------
# forecasters
# ---------------------------------------------------------------------------------------
def _reset(spec, scn, seed=0):
    fc = make_forecaster(spec)
    fc.reset(scn, seed)
    return fc


def test_perfect_and_persistence():
    scn = load_scenario("default", horizon=48)
    f = _reset("perfect", scn)(10, 5)
    np.testing.assert_array_equal(f.price, scn.price[:, 11:16])
    np.testing.assert_array_equal(f.arrivals, scn.arrivals[:, :, 11:16])
    p = _reset("persistence", scn)(10, 5)
    np.testing.assert_array_equal(p.renewable, np.repeat(scn.renewable[:, 10:11], 5, axis=1))
    assert _reset("perfect", scn)(45, 10).slots == 2  # cut at the episode's end
    assert _reset("perfect", scn)(47, 10).slots == 0


def test_seasonal_naive_uses_the_day_before_and_persistence_on_day_one():
    scn = load_scenario("default", horizon=72)
    f = _reset("seasonal", scn)(30, 23)  # targets 31..53: sources 7..29
    np.testing.assert_array_equal(f.price, scn.price[:, 7:30])
    g = _reset("seasonal", scn)(5, 23)  # targets 6..28: 6..23 before slot 0 → slot 5
    np.testing.assert_array_equal(g.price[:, :18], np.repeat(scn.price[:, 5:6], 18, axis=1))
    np.testing.assert_array_equal(g.price[:, 18:], scn.price[:, 0:5])


def test_noisy_is_seeded_and_clipped():
    scn = load_scenario("default", horizon=48)
    a = _reset("noisy:0.5", scn, seed=1)(3, 10)
    b = _reset("noisy:0.5", scn, seed=1)(3, 10)
    c = _reset("noisy:0.5", scn, seed=2)(3, 10)
    np.testing.assert_array_equal(a.arrivals, b.arrivals)
    assert not np.array_equal(a.price, c.price)
    assert (a.arrivals >= 0).all() and np.all(a.arrivals == np.round(a.arrivals))
    assert (a.renewable >= 0).all()
    z = _reset(NoisyForecaster(0.0), scn)(3, 10)
    np.testing.assert_array_equal(z.price, scn.price[:, 4:14])


def test_user_callable_and_errors():
    scn = load_scenario("tiny")

    def flat(s, t, n):
        return SeriesForecast(
            price=np.full((s.D, n), 42.0),
            carbon=np.zeros((s.D, n)),
            renewable=np.zeros((s.D, n)),
            arrivals=np.ones((s.A, s.K, n)),
        )

    f = _reset(CallableForecaster(flat), scn)(0, 2)
    assert f.price.tolist() == [[42.0, 42.0]]
    bad = CallableForecaster(lambda s, t, n: {"price": np.zeros((9, n))})
    bad.reset(scn)
    with pytest.raises(ValueError, match="must return"):
        bad(0, 2)
    with pytest.raises(ValueError, match="unknown forecaster"):
        make_forecaster("crystal-ball")
    with pytest.raises(ValueError, match="not a number"):
        make_forecaster("noisy:abc")
    assert make_forecaster("numpy:zeros").name == "numpy:zeros"


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_opt", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_mpc_json_is_clean_and_complete(tmp_path):
    r = _cli(
        "mpc",
        "--horizon",
        "12",
        "--lookahead",
        "6",
        "--forecast",
        "noisy:0.1",
        "--seed",
        "0",
        "--json",
        "--out",
        str(tmp_path / "run"),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in (
        "method",
        "scenario",
        "horizon",
        "utility",
        "terms",
        "oracle_bound",
        "gap_pct",
        "seconds",
        "status",
    ):
        assert key in out
    assert out["utility"] <= out["oracle_bound"] + 1e-6 * abs(out["oracle_bound"])
    assert out["gap_pct"] == pytest.approx(
        100 * (out["oracle_bound"] - out["utility"]) / abs(out["oracle_bound"])
    )
    assert (tmp_path / "run" / "summary.json").exists()
    assert (tmp_path / "run" / "schedule_jobs.parquet").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("mpc", "--forecast", "crystal"), "unknown forecaster"),
        (("mpc", "--lookahead", "0"), "lookahead"),
        (("run", "--policy", "clever"), "--policy"),
    ],
)
def test_cli_bad_options_exit_2(args, needle):
    r = _cli(*args, "--horizon", "4")
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
