"""Hostile scenario files and option values: one plain line naming file, field and value,
exit 2, before any work; nothing out of range reaches a solver."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from tests.conftest import edit


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.stderr, res.exception)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def tiny(tiny_copy: Path) -> Path:
    return tiny_copy


TOML_CASES = {
    # field, replaced text, new text, words the line must hold
    "inf capacity": ("capacity_mwh = 1.0", "capacity_mwh = inf", ["capacity_mwh", "inf"]),
    "nan quality intercept": (
        'quality = { form = "table", steps = [10, 20], quality = [0.5, 0.8] }',
        'quality = { form = "log", alpha = 0.1, c = nan }',
        ["asps[0].quality", "nan"],
    ),
    "nan table step": (
        "steps = [10, 20], quality = [0.5, 0.8]",
        "steps = [10, nan], quality = [0.5, 0.8]",
        ["asps[0].quality", "nan"],
    ),  # fmt: skip
    "inf delay penalty": (
        "delay_usd_per_slot = 0.05",
        "delay_usd_per_slot = inf",
        ["job_classes[0].delay_usd_per_slot", "inf"],
    ),
    "huge price": ("price_usd = 1.0", "price_usd = 1e300", ["price_usd", "1e+300", "magnitude"]),
    "slot_hours of a year": ("slot_hours = 1.0", "slot_hours = 8760.0", ["slot_hours", "8760"]),
    "bad start_time": (
        'start_time = "2023-07-10T00:00:00Z"',
        'start_time = "2023-13-45"',
        ["start_time", "2023-13-45", "timestamp"],
    ),
    "markup in a name": ('name = "dc1"', 'name = "[link=http://x]dc1"', ["[link=http://x]dc1"]),
}


@pytest.mark.parametrize("case", list(TOML_CASES))
@pytest.mark.parametrize("command", [["solve"], ["run", "--policy", "greedy"]])
def test_bad_parameter_is_one_line_naming_file_field_value(tiny, case, command):
    old, new, needles = TOML_CASES[case]
    toml = tiny / "scenario.toml"
    edit(toml, old, new)
    line = one_error_line(cli(*command, "-H", "3", "-s", str(toml)))
    assert str(toml) in line
    for needle in needles:
        assert needle in line, (needle, line)


def test_huge_slot_number_is_refused_before_allocating(tiny):
    csv = tiny / "energy.csv"
    csv.write_text(csv.read_text() + "1000000000000,dc1,50,0.1,0\n")
    t0 = time.perf_counter()
    line = one_error_line(cli("solve", "-H", "3", "-s", str(tiny / "scenario.toml")))
    assert time.perf_counter() - t0 < 20  # no terabyte array was allocated
    assert "energy.csv" in line and "slot = 1000000000000" in line and "beyond the table" in line


def test_csv_value_with_markup_is_printed_literally(tiny):
    edit(tiny / "energy.csv", "1,dc1,", "1,[/x],")
    line = one_error_line(cli("solve", "-H", "3", "-s", str(tiny / "scenario.toml")))
    assert "energy.csv" in line and "data_center = '[/x]'" in line


def test_series_out_of_range_names_file_and_value(tiny):
    edit(tiny / "energy.csv", "1,dc1,50,", "1,dc1,5e7,")
    line = one_error_line(cli("solve", "-H", "3", "-s", str(tiny / "scenario.toml")))
    assert "energy.csv" in line and "price_usd_per_mwh = 50000000.0" in line and "outside" in line


@pytest.mark.parametrize(
    "args, needles",
    [
        (["mpc", "--carry-weight", "nan"], ["--carry-weight", "nan"]),
        (["mpc", "--carry-weight", "inf"], ["--carry-weight", "inf"]),
        (["mpc", "--oracle-time-limit", "-inf"], ["--oracle-time-limit", "-inf"]),
        (["solve", "--time-limit", "nan"], ["--time-limit", "nan"]),
        (["solve", "--mip-gap", "inf"], ["--mip-gap", "inf"]),
        (["solve", "--threads", "100000"], ["--threads", "100000"]),
        (["solve", "--seed", "-1"], ["--seed", "-1"]),
        (["run", "--policy", "greedy", "--seed", "-5"], ["--seed", "-5"]),
        (["solve", "--mip-gap", "abc"], ["--mip-gap", "abc"]),
        (["solve", "--no-such-option"], ["--no-such-option"]),
        (["solve", "--start", "-1"], ["--start", "-1"]),
    ],
)
def test_bad_options_are_one_line(args, needles):
    line = one_error_line(cli(*args, "-s", "tiny", "-H", "3"))
    for needle in needles:
        assert needle in line, (needle, line)


def test_lookahead_is_clamped_to_the_horizon_with_a_note():
    res = cli("mpc", "-s", "tiny", "-H", "3", "--lookahead", "100000", "--json")
    assert res.exit_code == 0, res.stderr
    assert "note: --lookahead 100000 clamped to the horizon (3 slots)" in res.stderr
