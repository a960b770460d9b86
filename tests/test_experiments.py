"""Experiments: spec validation, job keys, the process pool and Dask giving the same numbers,
interrupt-and-resume, failed jobs recorded with their message, and the experiment report."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data.catalog import scenario_path
from aigc_opt.experiments.executor import open_executor, run_jobs
from aigc_opt.experiments.jobs import expand
from aigc_opt.experiments.spec import SpecError, load_spec
from aigc_opt.experiments.store import ExperimentStore
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports import experiment as rx
from aigc_opt.solvers import interrupt

METHODS = """
[[methods]]
kind = "oracle"
program = "milp"

[[methods]]
kind = "oracle"
program = "lp"

[[methods]]
kind = "oracle"
program = "convex"

[[methods]]
kind = "mpc"
forecast = "noisy:0.3"
lookahead = 2

[[methods]]
kind = "heuristic"
name = "greedy"

[[methods]]
kind = "heuristic"
name = "random"
"""

SPEC = f"""
name = "unit"
scenarios = ["tiny"]
horizons = [2]
starts = [0, 1]
seeds = [0, 1]
{METHODS}
"""
# 2 episodes × (4 deterministic methods + 2 stochastic × 2 seeds) = 16 jobs
N_JOBS = 2 * (4 + 2 * 2)

RAISING_POLICY = """
def explode(obs):
    raise RuntimeError("policy exploded")
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def infeasible_tiny(folder: Path) -> Path:
    """tiny with a terminal SoC of 1 MWh that a 0.1 MW charger cannot reach in 3 slots."""
    src = scenario_path("tiny").parent
    dst = folder / "tiny-infeasible"
    shutil.copytree(src, dst)
    text = (dst / "scenario.toml").read_text()
    for old, new in (
        ('name = "tiny"', 'name = "tiny-infeasible"'),
        ("charge_mw = 1.0", "charge_mw = 0.1"),
        ("soc_initial_mwh = 0.0", "soc_initial_mwh = 0.0\nsoc_terminal_mwh = 1.0"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    (dst / "scenario.toml").write_text(text)
    return dst / "scenario.toml"


def run_spec(spec_path: Path, out: Path, workers: int = 2, scheduler: str | None = None):
    jobs = expand(load_spec(spec_path), spec_path)
    store = ExperimentStore(out)
    store.write_manifest(spec_path, "unit", jobs)
    with open_executor(workers, scheduler) as (ex, _):
        tally = run_jobs(jobs, store, ex)
    return jobs, tally


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pool")
    spec = _write(tmp / "unit.toml", SPEC)
    jobs, tally = run_spec(spec, tmp / "out")
    return spec, tmp / "out", jobs, tally


TINY = 'scenarios = ["tiny"]\n'
MPC = '[[methods]]\nkind = "mpc"\n'


# ---- spec ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("[bad\n", "toml", "'bad.toml'"),
        (TINY + MPC + "lookahead = 0\n", "methods[0].lookahead", "0"),
        (TINY + '[[methods]]\nkind = "solver"\n', "methods[0].kind", "'solver'"),
        (TINY + MPC + 'forecast = "noisy:x"\n', "methods[0].forecast", "'noisy:x'"),
        ('scenarios = ["nowhere"]\n' + MPC, "scenarios[0]", "'nowhere'"),
        (TINY + "horizons = [4]\n" + MPC, "starts", "0"),
        (TINY + "threads = 2\n" + MPC, "threads", "2"),
    ],
)  # fmt: skip
def test_bad_spec_is_one_line_naming_file_key_value_exit_2(tmp_path, text, key, value):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    res = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert str(spec) in lines[0] and f"{key} = {value}" in lines[0], lines[0]
    assert not (tmp_path / "o").exists()


def test_expansion_counts_and_keys_follow_resolved_inputs(tmp_path):
    spec_path = _write(tmp_path / "s.toml", SPEC)
    jobs = expand(load_spec(spec_path), spec_path)
    assert len(jobs) == N_JOBS == len({j.key for j in jobs})
    assert [j.key for j in expand(load_spec(spec_path), spec_path)] == [j.key for j in jobs]
    # a copy of the scenario under another path is the same input; a changed price is not
    copy = tmp_path / "copy"
    shutil.copytree(scenario_path("tiny").parent, copy)
    moved = _write(tmp_path / "m.toml", SPEC.replace('["tiny"]', '["copy/scenario.toml"]'))
    assert {j.key for j in expand(load_spec(moved), moved)} == {j.key for j in jobs}
    energy = copy / "energy.csv"
    energy.write_text(_bump_price(energy))
    assert not {j.key for j in expand(load_spec(moved), moved)} & {j.key for j in jobs}


def _bump_price(energy: Path) -> str:
    df = pd.read_csv(energy)
    df["price_usd_per_mwh"] = df["price_usd_per_mwh"] + 1.0
    return df.to_csv(index=False)


# ---- running --------------------------------------------------------------------------------
def test_pool_run_stores_every_job_once_with_ordered_bounds(pool_run):
    _, out, jobs, tally = pool_run
    assert (tally.done, tally.failed, tally.interrupted) == (N_JOBS, 0, 0)
    assert ExperimentStore(out).finished_keys() == {j.key for j in jobs}
    _, rows = rx.read_rows(out)
    assert len(rows) == N_JOBS and rows["key"].is_unique
    assert set(rows["status"]) <= {"optimal", "completed"}
    for _, ep in rows.groupby("start"):
        u = ep.set_index("method")["utility"]
        assert u["oracle-convex"] >= u["oracle-lp"] - 1e-6 >= u["oracle-milp"] - 2e-6
        for m in ("greedy", "random", "mpc-noisy:0.3-L2"):
            assert (ep.loc[ep["method"] == m, "utility"] <= u["oracle-milp"] + 1e-6).all()
        # the eight terms add up to U in every row
        terms = ep[list(TERMS)].to_numpy()
        np.testing.assert_allclose(terms[:, 0] - terms[:, 1:].sum(axis=1), ep["utility"], atol=1e-6)


def test_rerun_skips_finished_jobs(pool_run):
    spec, out, jobs, _ = pool_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    with open_executor(1) as (ex, _):
        tally = run_jobs(jobs, ExperimentStore(out), ex)
    assert (tally.skipped, tally.done, tally.failed) == (N_JOBS, 0, 0)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()} == before


def test_interrupt_then_resume_runs_every_job_exactly_once(tmp_path):
    spec = _write(tmp_path / "s.toml", SPEC)
    jobs = expand(load_spec(spec), spec)
    store = ExperimentStore(tmp_path / "out")
    interrupt.clear()

    def stop_after_three(row, tally):
        if tally.done >= 3:
            interrupt.request("test")

    with open_executor(2) as (ex, _):  # one pool for both runs: it outlives a stop request
        try:
            first = run_jobs(jobs, store, ex, on_row=stop_after_three)
        finally:
            interrupt.clear()
        kept = store.finished_keys()
        assert first.interrupted > 0 and 3 <= len(kept) == first.done < N_JOBS
        second = run_jobs(jobs, store, ex)
    assert (second.skipped, second.done, second.failed) == (len(kept), N_JOBS - len(kept), 0)
    files = sorted(p.stem for p in (tmp_path / "out" / "results").glob("*.parquet"))
    assert files == sorted(j.key for j in jobs)
    assert not list((tmp_path / "out" / "results").glob(".*"))  # no temporary file left


def test_failed_jobs_are_recorded_with_their_message(tmp_path, monkeypatch):
    """A policy that raises fails its jobs, recorded with the message; the other jobs run;
    the exit code says that some failed."""
    (tmp_path / "exp_raising_policy.py").write_text(RAISING_POLICY)
    monkeypatch.syspath_prepend(str(tmp_path))  # the spawned workers inherit sys.path
    spec = _write(
        tmp_path / "f.toml",
        """
        scenarios = ["tiny"]
        horizons = [3]
        [[methods]]
        kind = "oracle"
        program = "milp"
        [[methods]]
        kind = "heuristic"
        name = "greedy"
        [[methods]]
        kind = "policy"
        path = "exp_raising_policy:explode"
        label = "exploding"
        """,
    )
    res = CliRunner().invoke(
        app, ["experiment", str(spec), "--workers", "2", "--out", str(tmp_path / "o"), "--json"]
    )
    assert res.exit_code == 1, res.output
    _, rows = rx.read_rows(tmp_path / "o")
    assert len(rows) == 3
    by = {r.method: r for r in rows.itertuples()}
    assert not by["oracle-milp"].failed and not by["greedy"].failed
    assert by["exploding"].failed and "policy exploded" in by["exploding"].error
    assert len(list((tmp_path / "o" / "failed").glob("*.parquet"))) == 1


def test_infeasible_scenario_is_refused_before_any_job(tmp_path):
    """A scenario that no schedule can satisfy is found when the spec is expanded: one
    line naming the file and the constraint, exit 2, nothing run."""
    infeasible = infeasible_tiny(tmp_path)
    spec = _write(
        tmp_path / "f.toml",
        f"""
        scenarios = ["tiny", "{infeasible}"]
        horizons = [3]
        [[methods]]
        kind = "heuristic"
        name = "greedy"
        """,
    )
    res = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "scenario.toml" in lines[0] and "terminal" in lines[0]
    assert not (tmp_path / "o" / "results").exists()


# ---- report ---------------------------------------------------------------------------------
def test_ci95_matches_student_t_by_hand():
    mean, half, n = rx.ci95(pd.Series([1.0, 2.0, 3.0, math.nan]))
    # s = 1, t(0.975, 2) = 4.302653: half-width 4.302653 / sqrt(3)
    assert (mean, n) == (2.0, 3) and half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert math.isnan(rx.ci95(pd.Series([5.0]))[1])


def test_report_of_an_experiment_gives_ci_tables_and_figures(pool_run, tmp_path):
    _, out, _, _ = pool_run
    res = CliRunner().invoke(
        app, ["report", str(out), "--out", str(tmp_path / "r"), "--formats", "png"]
    )
    assert res.exit_code == 0, res.output
    md = (tmp_path / "r" / "tables" / "experiment.md").read_text()
    assert "±" in md and "95 % CI" in md
    tex = (tmp_path / "r" / "tables" / "experiment.tex").read_text()
    assert r"\toprule" in tex and r"\pm" in tex
    csv = pd.read_csv(tmp_path / "r" / "tables" / "experiment.csv")
    _, rows = rx.read_rows(out)
    gaps = rx.with_episode_gaps(rows)
    # every gap is measured against the smallest certified bound of its episode: the MILP's
    assert (gaps["bound_source"] == "oracle-milp").all()
    assert (gaps["episode_bound"] >= gaps["utility"] - 1e-6).all()
    rand = csv[csv["method"] == "random"].iloc[0]
    r = gaps[gaps["method"] == "random"]
    assert rand["n"] == 4
    assert rand["gap_pct_mean"] == pytest.approx(r["gap_pct"].mean())
    figs = {p.stem for p in (tmp_path / "r" / "figures").glob("*.png")}
    assert {"experiment_gap", "experiment_utility"} <= figs


# ---- Dask and Ctrl-C (slower: a local cluster, a subprocess) --------------------------------
@pytest.mark.slow
def test_dask_local_cluster_gives_the_numbers_of_the_process_pool(pool_run, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec, pool_out, _, _ = pool_run
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        _, tally = run_spec(spec, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert (tally.done, tally.failed) == (N_JOBS, 0)
    cols = ["key", "status", "utility", "best_bound", *TERMS, "jobs_served", "jobs_dropped"]
    a = rx.read_rows(pool_out)[1][cols].sort_values("key").reset_index(drop=True)
    b = rx.read_rows(tmp_path / "dask")[1][cols].sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.slow
def test_ctrl_c_keeps_finished_results_and_a_rerun_completes(tmp_path):
    spec = _write(tmp_path / "s.toml", SPEC)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "aigc_opt",
        "experiment",
        str(spec),
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("results/*.parquet"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    kept = len(list(out.glob("results/*.parquet")))
    assert 2 <= kept < N_JOBS
    env = {**os.environ, "COLUMNS": "200"}
    again = subprocess.run(cmd + ["--json"], capture_output=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr.decode()
    assert sorted(p.stem for p in out.glob("results/*.parquet")) == sorted(
        j.key for j in expand(load_spec(spec), spec)
    )


LONG_MPC = """
name = "long"
scenarios = ["us4-2023"]
horizons = [4000]
[[methods]]
kind = "mpc"
forecast = "perfect"
lookahead = 24
"""


@pytest.mark.slow
def test_sigterm_to_the_parent_alone_stops_the_running_job(tmp_path):
    """``kill PID`` reaches only the parent; it passes the stop on to its pool's worker,
    whose 4,000-slot MPC job (over a minute) stops at its next slot instead of finishing,
    and is counted as interrupted (never stored), not as failed."""
    spec = _write(tmp_path / "long.toml", LONG_MPC)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aigc_opt", "experiment", str(spec), "--workers", "1"]
    pipe = subprocess.PIPE
    proc = subprocess.Popen(cmd + ["--out", str(out)], stdout=pipe, stderr=pipe, text=True)
    try:
        time.sleep(8)  # the worker has started (or is about to start) the job
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)  # to the parent's pid only
        sent = time.monotonic()
        summary, err = proc.communicate(timeout=40)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 40
    assert not list(out.glob("results/*.parquet"))  # the interrupted job left no row
    assert "0 failed, 1 left" in summary, summary


def test_spec_error_names_duplicate_labels(tmp_path):
    spec = _write(
        tmp_path / "d.toml",
        'scenarios = ["tiny"]\n[[methods]]\nkind = "heuristic"\nname = "greedy"\n'
        '[[methods]]\nkind = "heuristic"\nname = "greedy"\n',
    )
    with pytest.raises(SpecError, match=r"methods\[1\] has the label 'greedy'"):
        load_spec(spec)
