"""compare: labels, one run record for every method, confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_opt import load_scenario, solve_oracle
from aigc_opt.drl_compare.compare import BASELINES, compare, summarize
from aigc_opt.drl_compare.env import AIGCDataCenterEnv
from aigc_opt.drl_compare.policies import EnvPolicy, PolicyLoadError, parse_policy_specs
from aigc_opt.drl_compare.splits import split_starts
from aigc_opt.solvers.mpc import MPCPolicy
from aigc_opt.solvers.policy import RUN_RECORD_KEYS, run_episode
from aigc_opt.solvers.result import ci95


def test_duplicate_labels_are_rejected_and_automatic_labels_are_unique():
    with pytest.raises(PolicyLoadError, match="used twice"):
        parse_policy_specs(["same=a.zip", "same=b.onnx"])
    with pytest.raises(PolicyLoadError, match="used twice"):
        parse_policy_specs(["greedy=a.zip"], reserved=BASELINES)
    got = parse_policy_specs(["runs/a/model.zip", "runs/b/model.zip", "x=m.onnx", "pkg.mod:act"])
    assert [n for n, _ in got] == ["model", "model-2", "x", "act"]
    assert [p for _, p in got] == ["runs/a/model.zip", "runs/b/model.zip", "m.onnx", "pkg.mod:act"]


def test_drl_run_record_has_the_keys_of_mpc():
    scn = load_scenario("tiny")
    bound = solve_oracle(scn).best_bound
    env = AIGCDataCenterEnv(scn, horizon=scn.T)
    zero = np.zeros(env.action_space.shape, dtype=np.float32)
    drl = run_episode(scn, EnvPolicy(lambda obs: zero, "zero", kind="callable"), seed=0)
    mpc = run_episode(scn, MPCPolicy(lookahead=2, forecaster="perfect"), seed=0)
    d, m = drl.summary(bound), mpc.summary(bound)
    assert set(RUN_RECORD_KEYS) <= set(d) and set(RUN_RECORD_KEYS) <= set(m)
    assert set(d) - set(RUN_RECORD_KEYS) <= {"kind", "source"}  # the policy's own info
    assert d["gap_usd"] == pytest.approx(bound - drl.utility)
    assert d["kpis"].keys() == m["kpis"].keys() and d["kpis"]
    assert drl.schedule.gpus.shape == mpc.schedule.gpus.shape


def test_ci95_is_the_student_t_half_width():
    v = np.array([1.0, 2.0, 4.0])
    # t_{0.975, 2} = 4.302652729911275; s = sqrt(7/3)
    assert ci95(v) == pytest.approx(4.302652729911275 * np.sqrt(7 / 3) / np.sqrt(3), rel=1e-9)
    assert ci95(np.array([1.0])) is None


def test_compare_rows_carry_mean_std_ci_and_the_zero_action_matches_greedy():
    full = load_scenario("default")
    env = AIGCDataCenterEnv(full, horizon=6)
    zero = np.zeros(env.action_space.shape, dtype=np.float32)
    res = compare(
        full,
        {"za": EnvPolicy(lambda obs: zero, "za")},
        baselines=["oracle", "greedy"],
        horizon=6,
        episodes=2,
        seed=0,
        split="test",
    )
    rows = {r["method"]: r for r in summarize(res.frame)}
    assert set(rows) == {"oracle", "greedy", "za"}
    for r in rows.values():
        for key in ("utility", "gap", "gap_pct"):
            assert {f"{key}_mean", f"{key}_std", f"{key}_ci95"} <= set(r)
    assert rows["za"]["utility_mean"] >= rows["greedy"]["utility_mean"] - 1e-9
    assert rows["oracle"]["gap_mean"] <= rows["za"]["gap_mean"] + 1e-9
    gaps = [r["gap_mean"] for r in summarize(res.frame)]
    assert gaps == sorted(gaps)  # rows ordered by gap
    starts = {r["start"] for r in res.records}
    assert starts <= set(split_starts(full, 6, "test").tolist())
    rec_keys = {frozenset(set(r) - {"kind", "oracle_status"}) for r in res.records}
    assert len(rec_keys) == 1  # one run record shape for every method


def test_missing_rl_extra_names_the_install_command():
    from aigc_opt.drl_compare.policies import require_rl

    with pytest.raises(PolicyLoadError, match=r'pip install "aigc-opt\[rl\]"') as err:
        require_rl("aigc-opt train", ("no_such_module_for_this_test",))
    assert "\n" not in str(err.value)


def test_train_never_overwrites_a_run(tmp_path):
    from aigc_opt.drl_compare.train import train, unique_run_dir

    run = tmp_path / "ppo"
    run.mkdir()
    (run / "model.zip").write_bytes(b"earlier run")
    with pytest.raises(ValueError, match="holds another run"):
        train("ppo", 10, run)
    assert (run / "model.zip").read_bytes() == b"earlier run"
    assert unique_run_dir(run) == tmp_path / "ppo-2"
    assert unique_run_dir(tmp_path / "fresh") == tmp_path / "fresh"


def test_year_scenario_splits_follow_the_2023_calendar():
    """On the shipped full-year scenario every test episode lies inside one of the catalog's
    test weeks and every train episode inside a train week: the agent never trains on a
    slot it is judged on."""
    from aigc_opt.data.catalog import load_scenario as load
    from aigc_opt.data.splits import WEEK_SLOTS, weeks
    from aigc_opt.drl_compare.splits import split_starts

    year = load("us4-2023")
    for split in ("train", "val", "test"):
        own = {t for w in weeks(split) for t in range(w, w + WEEK_SLOTS)}
        starts = split_starts(year, 24, split)
        assert starts.size > 0
        assert all(s + i in own for s in starts for i in range(24)), split
