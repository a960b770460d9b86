"""Experiments with learned agents ([[train]]): spec validation, and a smoke version of
experiments/seed-agents.toml (two entries, two seeds, a few hundred steps) that trains,
evaluates on the test split against the oracle bound, reports, and resumes without
retraining."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.experiments.jobs import expand
from aigc_opt.experiments.spec import load_spec

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

HEAD = """
name = "agents-smoke"
scenarios = ["default"]
horizons = [6]
split = "test"
episodes = 2
seeds = [0, 1]
bound = "none"

[[methods]]
kind = "oracle"
program = "milp"

[[methods]]
kind = "heuristic"
name = "greedy"
"""

ENTRIES = """
[[train]]
label = "PPO-sparse+diffusion"
algo = "ppo"
reward = "sparse"
shaping = "diffusion"
timesteps = 256
eval_every = 128
eval_episodes = 1
hyperparameters = { n_steps = 128, batch_size = 64, n_epochs = 2 }

[[train]]
label = "d2sac-dense"
algo = "d2sac"
reward = "dense"
timesteps = 120
eval_every = 60
eval_episodes = 1
hyperparameters = { hidden = 32, batch_size = 32, learning_starts = 30, buffer_size = 1000 }
"""


def _write(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    "entry, key, value",
    [
        ('algo = "dqn"\ntimesteps = 10', "train[0].algo", "'dqn'"),
        ('algo = "ppo"\ntimesteps = 0', "train[0].timesteps", "0"),
        ('algo = "ppo"\nreward = "delayed:0"\ntimesteps = 10', "train[0].reward", "'delayed:0'"),
        ('algo = "ppo"\nshaping = "diffusion"\ntimesteps = 10', "train[0].shaping", "diffusion"),
        ('algo = "d2sac"\nreward = "sparse"\nshaping = "rrd"\ntimesteps = 10', "train[0].shaping",
         "rrd"),
        ('algo = "ppo"\ntimesteps = 10\nbudget = 3', "train[0].budget", "3"),
    ],
)  # fmt: skip
def test_bad_train_entry_is_one_line_naming_file_field_value_exit_2(tmp_path, entry, key, value):
    path = _write(tmp_path, HEAD + '\n[[train]]\nlabel = "x"\n' + entry + "\n")
    res = CliRunner().invoke(app, ["experiment", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    msg = res.output.strip()
    assert len(msg.splitlines()) == 1 and "Traceback" not in msg
    assert "spec.toml" in msg and key in msg and value in msg, msg


def test_train_label_may_not_repeat_a_method_label(tmp_path):
    path = _write(tmp_path, HEAD + '\n[[train]]\nlabel = "greedy"\nalgo = "ppo"\ntimesteps = 8\n')
    res = CliRunner().invoke(app, ["experiment", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "train[0] has the label 'greedy'" in res.output


def test_train_jobs_one_per_entry_and_seed_on_test_split_starts(tmp_path):
    from aigc_opt.data.catalog import load_scenario
    from aigc_opt.drl_compare.splits import split_starts

    path = _write(tmp_path, HEAD + ENTRIES)
    spec = load_spec(path)
    jobs = expand(spec, path)
    train = [j for j in jobs if j.kind == "train"]
    assert len(train) == len(spec.train) * len(spec.seeds)
    assert len({j.key for j in train}) == len(train)
    test = set(split_starts(load_scenario("default"), 6, "test").tolist())
    starts = {j.start for j in jobs if j.kind != "train"}
    assert len(starts) == spec.episodes and starts <= test
    # the label is not part of a training run's key; the budget is
    relabelled = load_spec(_write(tmp_path, (HEAD + ENTRIES).replace("d2sac-dense", "D2")))
    assert {j.key for j in expand(relabelled, path) if j.kind == "train"} == {j.key for j in train}
    longer = load_spec(
        _write(tmp_path, (HEAD + ENTRIES).replace("timesteps = 120", "timesteps = 121"))
    )
    assert (
        len({j.key for j in expand(longer, path) if j.kind == "train"} - {j.key for j in train})
        == 2
    )


def test_smoke_experiment_trains_evaluates_reports_and_resumes(tmp_path):
    """The seed-agents experiment in small: 2 entries (one shaped, d2sac) × 2 seeds."""
    path = _write(tmp_path, HEAD + ENTRIES)
    out = tmp_path / "run"
    args = ["experiment", str(path), "--out", str(out), "--workers", "1", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = pd.concat([pd.read_parquet(p) for p in (out / "results").glob("*.parquet")])
    train = rows[rows["kind"] == "train"]
    assert len(train) == 4 and (train["cpu_seconds"] > 0).all()
    assert set(train["method"]) == {"PPO-sparse+diffusion", "d2sac-dense"}
    # every policy (trained or not) stays below the oracle's certified bound
    oracle = rows[rows["kind"] == "oracle"].set_index("start")["best_bound"]
    played = rows[rows["kind"].isin(["policy", "heuristic"])]
    assert len(played[played["kind"] == "policy"]) == 4 * 2  # runs × test episodes
    for _, r in played.iterrows():
        b = oracle[r["start"]]
        assert r["utility"] <= b + 1e-6 * max(1.0, abs(b)), (r["method"], r["start"])
    # a learning curve per run: the evaluation points, finite gaps ≥ 0
    for key in train["key"]:
        curve = pd.read_csv(out / "train" / key / "learning_curve.csv")
        assert len(curve) >= 3 and curve["timesteps"].iloc[0] == 0
        assert np.isfinite(curve["gap_pct_mean"]).all() and (curve["gap_pct_mean"] >= -1e-6).all()
    # the report: a row per trained label and baseline, finite CIs over the two seeds
    rep = CliRunner().invoke(app, ["report", str(out), "--out", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    agents = pd.read_csv(tmp_path / "rep" / "tables" / "agents.csv").set_index("method")
    assert set(agents.index) == {"PPO-sparse+diffusion", "d2sac-dense", "oracle-milp", "greedy"}
    for label in ("PPO-sparse+diffusion", "d2sac-dense"):
        a = agents.loc[label]
        assert a["n"] == 2 and a["ci_over"] == "seeds"
        assert math.isfinite(a["gap_pct_mean"]) and math.isfinite(a["gap_pct_ci95"])
        assert a["gap_pct_mean"] >= agents.loc["oracle-milp", "gap_pct_mean"] - 1e-9
    assert (tmp_path / "rep" / "figures" / "learning_curves.png").is_file()
    md = (tmp_path / "rep" / "tables" / "agents.md").read_text()
    assert "Does reward shaping help?" in md and "CPU" in md
    # resume: nothing is trained or played again
    onnx = {k: (out / "train" / k / "model.onnx").stat().st_mtime_ns for k in train["key"]}
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert '"done": 0' in again.output and '"skipped": 16' in again.output
    assert onnx == {k: (out / "train" / k / "model.onnx").stat().st_mtime_ns for k in onnx}
