"""Fuzz the command line with hostile scenario files and option values (hypothesis).

Each case copies the shipped ``tiny`` scenario, mutates one field of its TOML or one cell
of its CSV tables (NaN, ±inf, huge or negative numbers, wrong types, markup-like text,
missing fields), draws hostile option values, and runs ``solve``, ``run`` or ``mpc``
in-process through the CLI entry point. Every case must either run (exit 0) or exit 2
with one plain line naming the file (or option), the field and the value; never a
traceback, never exit 1 from an unhandled exception, never a hang (per-case alarm).

Fixed seed, ``FUZZ_CASES`` cases (default 1000); slow (minutes), so marked ``slow``.

Failure kinds it found in the command line before its hardening (300 cases): a hang
(a slot number of 1.8e8 in a CSV allocated a dense array of that length), Rich
``MarkupError`` on option values like ``[/x]``, a ``FileExistsError`` traceback for
``--out`` naming a file (after the solve), multi-line usage boxes, error lines without
the value, and a ``ValueError`` traceback for a negative ``--seed``.
"""

from __future__ import annotations

import collections
import json
import math
import os
import shutil
import signal
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data.catalog import SCENARIO_DIR

CASES = int(os.environ.get("FUZZ_CASES", "1000"))
CASE_TIMEOUT_S = 60
TINY = SCENARIO_DIR / "tiny"
RAW = tomllib.loads((TINY / "scenario.toml").read_text())


# ---------------------------------------------------------------------------------------
# a TOML writer for the mutated parameters (inline tables; nan and inf are valid TOML)
# ---------------------------------------------------------------------------------------
def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dump_toml(raw: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in raw.items())


def leaf_paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in leaf_paths(v, (*prefix, k))]
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return [p for i, v in enumerate(obj) for p in leaf_paths(v, (*prefix, i))]
    return [prefix]


PATHS = leaf_paths(RAW)
HOSTILE_NUMBERS = [
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -1.5,
    0,
    0.0,
    1e-300,
    1e300,
    2**62,
    -(2**62),
    10**12,
    True,
]
HOSTILE_TEXT = ["", "[/x]", "[link=http://x]y[/link]", "[bold]b", "2023-13-45", "a\nb", "x" * 200]
scalars = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS + HOSTILE_TEXT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)
toml_edits = st.tuples(
    st.just("toml"),
    st.sampled_from(PATHS),
    st.sampled_from(["set", "set", "set", "delete"]),
    scalars,
)
csv_cells = st.one_of(
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "-1",
            "1e12",
            "1000000000000",
            "[/x]",
            "",
            "1.5",
            "0x10",
            "1e400",
            "9" * 30,
            '"[link=x]"',
            "dc1",
            "fast",
        ]
    ),  # fmt: skip
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
)
csv_edits = st.tuples(
    st.just("csv"),
    st.sampled_from(["energy.csv", "arrivals.csv"]),
    st.integers(min_value=0, max_value=6),  # data row (wraps)
    st.integers(min_value=0, max_value=4),  # column (wraps)
    csv_cells,
)
edits = st.one_of(st.just(("none",)), st.just(("none",)), toml_edits, toml_edits, csv_edits)


def opt(flag: str, values: list[Any]) -> st.SearchStrategy[list[str]]:
    """The option left out (most often), or given one of ``values``."""
    given_ = st.sampled_from(values).map(lambda v: [flag, str(v)])
    return st.one_of(st.just([]), st.just([]), st.just([]), st.just([]), given_)


NUMS = ["nan", "inf", "-inf", "-1", "0", "1e-9", "0.5", "3", "1e308", "abc"]
common = st.tuples(
    opt("--horizon", [-1, 0, 1, 2, 3, 4, 10**9, "x"]),
    opt("--start", [-1, 0, 1, 2, 3, 10**12]),
    opt("--seed", [-1, 0, 7, 2**31 - 1, 2**31, 2**70]),
)
commands = st.one_of(
    st.tuples(
        st.just(["solve"]),
        st.tuples(
            opt("--time-limit", NUMS),
            opt("--mip-gap", NUMS),
            opt("--threads", [-1, 0, 1, 2, 99]),
            st.sampled_from([[], ["--relax"]]),
        ),
    ),
    st.tuples(
        st.sampled_from([["run", "--policy", p] for p in ("greedy", "random", "price-greedy")]),
        st.tuples(opt("--oracle-time-limit", NUMS)),
    ),
    st.tuples(
        st.just(["mpc"]),
        st.tuples(
            opt("--lookahead", [-1, 0, 1, 2, 100000]),
            opt("--carry-weight", NUMS),
            opt("--forecast", ["perfect", "persistence", "noisy:0.1", "noisy:nan", "noisy:-1"]),
            opt("--window", ["lp", "milp", "[/x]"]),
        ),
    ),
)
outs = st.sampled_from(["none", "none", "new", "file"])


def apply_edit(folder: Path, edit: tuple) -> None:
    if edit[0] == "toml":
        _, path, op, value = edit
        raw = json.loads(json.dumps(RAW))
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        if op == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        (folder / "scenario.toml").write_text(dump_toml(raw))
    elif edit[0] == "csv":
        _, name, row, col, cell = edit
        lines = (folder / name).read_text().splitlines()
        data = lines[1:]
        cells = data[row % len(data)].split(",")
        cells[col % len(cells)] = cell
        data[row % len(data)] = ",".join(cells)
        (folder / name).write_text("\n".join([lines[0], *data]) + "\n")


class CaseTimeout(BaseException):
    """A case ran longer than `CASE_TIMEOUT_S`."""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


@pytest.mark.slow
def test_fuzz_cli_hostile_inputs_run_or_exit_2_with_one_line():
    stats: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="aigc-fuzz-"))
    runner = CliRunner()
    previous = signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()

    @seed(20261204)
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(edit=edits, command=commands, extra=common, out=outs)
    def one_case(edit, command, extra, out):
        stats["cases"] += 1
        folder = base / f"case{stats['cases']}"
        shutil.copytree(TINY, folder)
        apply_edit(folder, edit)
        verb, opts = command
        args = [*verb, "--scenario", str(folder / "scenario.toml")]
        args += [x for group in (*opts, *extra) for x in group]
        if not any(a in ("--horizon",) for a in args):
            args += ["--horizon", "3"]
        if out == "new":
            args += ["--out", str(folder / "out")]
        elif out == "file":
            args += ["--out", str(folder / "energy.csv")]
        signal.alarm(CASE_TIMEOUT_S)
        try:
            res = runner.invoke(app, args)
        except CaseTimeout:
            failures.append(f"hang (> {CASE_TIMEOUT_S} s): {args} {edit}")
            return
        finally:
            signal.alarm(0)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("note:")]
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            kind = type(res.exception).__name__
            failures.append(f"unhandled {kind}: {res.exception} | {args} {edit}")
        elif "Traceback" in res.stderr:
            failures.append(f"traceback | {args} {edit}")
        elif res.exit_code == 0:
            stats["ran"] += 1
        elif res.exit_code == 2:
            stats["exit 2"] += 1
            if len(lines) != 1 or not lines[0].startswith("error: "):
                failures.append(f"not one line: {res.stderr!r} | {args} {edit}")
            elif " = " not in lines[0] and "(got " not in lines[0]:
                failures.append(f"no field = value: {lines[0]} | {args} {edit}")
            elif str(folder) not in lines[0] and "--" not in lines[0]:
                failures.append(f"no file or option named: {lines[0]} | {args} {edit}")
        else:
            failures.append(f"exit {res.exit_code}: {res.stderr[-300:]!r} | {args} {edit}")
        shutil.rmtree(folder, ignore_errors=True)

    try:
        one_case()
    finally:
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(base, ignore_errors=True)
    seconds = time.perf_counter() - t0
    kinds = collections.Counter(f.split(":")[0].split(" (")[0] for f in failures)
    print(f"fuzz: {dict(stats)} in {seconds:.0f} s; failures by kind: {dict(kinds)}")
    assert stats["cases"] >= CASES
    assert not failures, "\n".join(failures[:20])
