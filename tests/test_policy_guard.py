"""Policies that return NaN/inf actions or raise: one line naming policy, episode and slot,
exit 2; no utility is reported for actions the policy did not take."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from tests import hostile_policies

N = hostile_policies.N_ACTIONS


@pytest.mark.parametrize(
    "fn, episode, slot, words",
    [
        ("nan_on_call_2", 0, 1, [f"1 non-finite entries of {N}", "index 5 = nan"]),
        ("inf_on_call_1", 0, 0, [f"{N} non-finite entries of {N}", "= inf"]),
        ("raises_on_call_4", 1, 0, ["raised ZeroDivisionError: [bold]division[/] by zero"]),
    ],
)
def test_hostile_policy_is_named_with_episode_and_slot(tmp_path, fn, episode, slot, words):
    hostile_policies.CALLS["n"] = 0
    out = tmp_path / "cmp"
    res = CliRunner().invoke(
        app,
        ["compare", "--scenario", "default", "--horizon", "3", "--episodes", "2"]
        + ["--baselines", "greedy", "--policy", f"tests.hostile_policies:{fn}", "--out", str(out)],
    )
    assert res.exit_code == 2, (res.stderr, res.exception)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert f"policy {fn}, episode {episode}, slot {slot}: " in lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not out.exists()  # nothing recorded
