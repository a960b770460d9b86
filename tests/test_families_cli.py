"""Commands dispatch family scenarios through the registry (scenarios, solve, bounds, run)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aigc_opt.data.families import shipped_family_scenarios


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aigc_opt", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow  # four CLI processes per family
@pytest.mark.parametrize("family", ["geo-training", "edge-offload"])
def test_scenarios_solve_bounds_run(family):
    res = run_cli("scenarios", "--family", family, "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and all(r["family"] == family for r in rows)
    name = rows[0]["name"]
    res = run_cli("solve", "--scenario", name, "--horizon", "4", "--json")
    assert res.returncode == 0, res.stderr
    s = json.loads(res.stdout)
    assert s["family"] == family and s["status"] == "optimal"
    costs = sum(v for k, v in s["terms"].items() if k != next(iter(s["terms"])))
    assert s["utility"] == pytest.approx(next(iter(s["terms"].values())) - costs, abs=1e-9)
    res = run_cli("bounds", "--scenario", name, "--horizon", "4", "--json")
    assert res.returncode == 0, res.stderr
    b = json.loads(res.stdout)
    assert b["ordering_holds"] is True
    milp_u = b["milp"]["utility"]
    assert b["lp"]["best_bound"] >= milp_u - 1e-6 * max(1.0, abs(milp_u))
    policy = "fcfs-home" if family == "geo-training" else "opt-ts"
    res = run_cli("run", "--scenario", name, "--horizon", "4", "--policy", policy, "--json")
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    assert r["utility"] <= r["oracle_bound"] + 1e-9
    assert r["gap_usd"] == pytest.approx(r["oracle_bound"] - r["utility"])


def test_bad_family_and_bad_file_are_one_line_exit_2(tmp_path):
    res = run_cli("scenarios", "--family", "nope")
    assert res.returncode == 2
    path = shipped_family_scenarios("geo-training")["geo-us4-2023-summer"]
    text = path.read_text().replace("gpus = 40", "gpus = -3", 1)
    (tmp_path / "scenario.toml").write_text(text)
    for f in ("jobs.csv", "energy.csv"):
        (tmp_path / f).write_bytes((path.parent / f).read_bytes())
    res = run_cli("solve", "--scenario", str(tmp_path / "scenario.toml"))
    assert res.returncode == 2
    assert "scenario.toml: data_centers.0.gpus = -3" in " ".join(res.stderr.split())
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
