"""pytest plugin of aigc-opt (registered through the ``pytest11`` entry point).

It adds one fixture, ``utility_regression``, for regression tests of published numbers in
downstream repositories (a paper's repo pinning the U, bound and terms it reports)::

    from aigc_opt import HighsOptions, load_scenario, solve_oracle

    def test_table_2_oracle(utility_regression):
        scn = load_scenario("default", horizon=24)
        res = solve_oracle(scn, options=HighsOptions(threads=1, seed=0))
        utility_regression.check(res, method="oracle-milp")

The first run writes ``<test dir>/<test module>/<test name>.json`` and fails (as
pytest-regressions does); commit the file. Later runs compare every number of
`aigc_opt.reports.regress.flatten` (U, best bound, the eight terms, KPIs) under the
tolerances of the named catalog method (``method=``), or ``rtol``/``atol`` given directly.
``pytest --aigc-opt-update`` (or pytest-regressions' ``--force-regen``) rewrites the files.

``check`` accepts a `SolveResult`, an `EpisodeResult`, a summary dict (``summary.json``) or a
plain ``{name: number}`` dict. The plugin imports nothing from aigc-opt until the fixture
is used, so it costs nothing in test suites that do not use it.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aigc-opt", "aigc-opt utility regression")
    group.addoption(
        "--aigc-opt-update",
        action="store_true",
        default=False,
        help="Rewrite the golden files of the utility_regression fixture",
    )


class UtilityRegression:
    """Compare a result's numbers with a golden JSON file beside the test module."""

    def __init__(self, datadir: Path, name: str, update: bool) -> None:
        self.datadir = datadir
        self.name = name
        self.update = update

    def path(self, basename: str | None = None) -> Path:
        """Golden file of this test (``basename`` distinguishes several checks in one test)."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", basename or self.name).strip("_") or "check"
        return self.datadir / f"{stem}.json"

    def check(
        self,
        result: Any,
        *,
        method: str | None = None,
        rtol: float | None = None,
        atol: float = 0.0,
        basename: str | None = None,
    ) -> None:
        """Fail the test when a number drifts from the golden file.

        ``method``: use the tolerances of that regression-catalog method (e.g.
        ``"oracle-milp"``, ``"oracle-lp"``, ``"mpc-noisy"``). Otherwise every number uses
        ``rtol`` (default 1e-6) and ``atol``; terms are relative to max(|U|, 1).
        """
        from aigc_opt.reports import regress as rg

        status, values = _numbers(result)
        if method is not None:
            if method not in rg.METHODS:
                raise ValueError(f"unknown method {method!r}; known: {', '.join(rg.METHODS)}")
            tol = rg.METHODS[method].tolerances
        else:
            t = rg.Tolerance(1e-6 if rtol is None else rtol, atol)
            tol = rg.MethodTolerances(headline=t, terms=t, kpis=t)
        path = self.path(basename)
        entry = {"method": method, "status": status, "values": values}
        if self.update or not path.is_file():
            _write_json(path, entry)
            pytest.fail(
                f"utility_regression: golden file written: {path}; re-run the test "
                "(and commit the file)",
                pytrace=False,
            )
        golden = json.loads(path.read_text())
        diffs = rg.compare_case(path.stem, method or "custom", golden, values, tol)
        bad = [d for d in diffs if d.verdict in ("DRIFT", "missing")]
        if golden.get("status") != status:
            bad.insert(0, rg.Diff(path.stem, "status", golden.get("status"), status, None, "DRIFT"))
        if bad:
            lines = [f"utility_regression: {len(bad)} number(s) drifted from {path}:"]
            for d in bad:
                delta = "" if d.delta is None else f" (Δ {d.delta:+.3e}, tolerance {d.limit:.3e})"
                lines.append(f"  {d.metric}: golden {d.golden!r}, now {d.current!r}{delta}")
            pytest.fail("\n".join(lines), pytrace=False)


def _numbers(result: Any) -> tuple[str | None, dict[str, float]]:
    from aigc_opt.reports.regress import flatten

    if hasattr(result, "summary") and callable(result.summary):
        result = result.summary()
    if not isinstance(result, dict):
        raise TypeError(
            "utility_regression.check expects a SolveResult, an EpisodeResult, "
            f"a summary dict or a dict of numbers, got {type(result).__name__}"
        )
    if "terms" in result or "utility" in result:
        st = result.get("status")
        return (None if st is None else str(st)), flatten(result)
    values = {}
    for k, v in result.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError(f"utility_regression.check: {k!r} = {v!r} is not a finite number")
        values[str(k)] = float(v)
    return None, values


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(obj, indent=2) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@pytest.fixture
def utility_regression(request: pytest.FixtureRequest) -> UtilityRegression:
    """Regression of U, bound, terms and KPIs against a golden JSON file (see module doc)."""
    update = bool(request.config.getoption("aigc_opt_update", default=False)) or bool(
        request.config.getoption("force_regen", default=False)
    )
    module = Path(str(request.path))
    return UtilityRegression(module.parent / module.stem, request.node.name, update)
