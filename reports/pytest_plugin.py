"""pytest plugin of aigc-opt (registered through the ``pytest11`` entry point).

It adds one fixture, ``utility_regression``, for regression tests of published numbers in
downstream repositories (a paper's repo pinning the U, bound and terms it reports)::

    from aigc_opt import HighsOptions, load_scenario, solve_oracle

    def test_table_2_oracle(utility_regression):
        scn = load_scenario("default", horizon=24)
        res = solve_oracle(scn, options=HighsOptions(threads=1, seed=0))
        utility_regression.check(res, method="oracle-milp")

The fixture is pytest-regressions' ``num_regression`` with aigc-opt's numbers and
tolerances: ``check`` flattens the result with `aigc_opt.solvers.regress_cases.flatten`
(U, best bound, the eight terms, KPIs; plus the solver status, compared exactly) and
compares each number under the tolerances of the named catalog method (``method=``), or
``rtol``/``atol`` given directly; utility terms are relative to max(|U|, 1) as in
``aigc-opt regress``. The golden file is pytest-regressions' CSV
``<test dir>/<test module>/<test name>.csv``: the first run writes it and fails; commit it.
``pytest --force-regen`` rewrites drifted files. pytest-regressions must be installed
(it is in aigc-opt's ``dev`` extra).

``check`` accepts a `SolveResult`, an `EpisodeResult`, a summary dict (``summary.json``) or a
plain ``{name: number}`` dict. The plugin imports nothing from aigc-opt until the fixture
is used, so it costs nothing in test suites that do not use it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest


class UtilityRegression:
    """aigc-opt numbers checked with pytest-regressions' ``num_regression``."""

    def __init__(self, num_regression: Any, name: str) -> None:
        self.num_regression = num_regression
        self.name = name

    def basename(self, basename: str | None = None) -> str:
        """Golden-file stem of this check (``basename`` distinguishes several checks)."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", basename or self.name).strip("_") or "check"

    def check(
        self,
        result: Any,
        *,
        method: str | None = None,
        rtol: float | None = None,
        atol: float = 0.0,
        basename: str | None = None,
    ) -> None:
        """Fail the test when a number (or the status) drifts from the golden file.

        ``method``: use the tolerances of that regression-catalog method (e.g.
        ``"oracle-milp"``, ``"oracle-lp"``, ``"mpc-noisy"``). Otherwise every number uses
        ``rtol`` (default 1e-6) and ``atol``.
        """
        import numpy as np

        from aigc_opt.solvers import regress_cases as rc

        status, values = _numbers(result)
        if method is not None:
            if method not in rc.METHODS:
                raise ValueError(f"unknown method {method!r}; known: {', '.join(rc.METHODS)}")
            tol = rc.METHODS[method].tolerances
        else:
            t = rc.Tolerance(1e-6 if rtol is None else rtol, atol)
            tol = rc.MethodTolerances(headline=t, terms=t, kpis=t)
        data: dict[str, Any] = {} if status is None else {"status": np.array([status])}
        data.update(values)
        self.num_regression.check(
            data,
            basename=self.basename(basename),
            tolerances=tolerances(values, tol),
            default_tolerance={"atol": 0.0, "rtol": 0.0},
        )


def tolerances(values: dict[str, float], tol: Any) -> dict[str, dict[str, float]]:
    """Per-number ``{"atol": limit, "rtol": 0}`` for pytest-regressions (which passes when
    |obtained − expected| ≤ atol + rtol · |expected|), with the limit of ``aigc-opt
    regress``: atol + rtol · max(|value|, scale), scale = |U| for terms, jobs served for job
    counts, energy supplied for energy flows. The scale is taken from the current numbers;
    within tolerance they differ from the golden ones by a second-order amount. A number
    the result does not have (NaN) must be absent from the golden file too; numbers whose
    tolerance is None (KPIs of relaxations) are not compared."""
    from aigc_opt.reports.regress import scale_of, scales

    sc = scales(values)
    out: dict[str, dict[str, float]] = {}
    for metric, v in values.items():
        t = tol.for_metric(metric)
        if t is None:
            limit = math.inf
        elif math.isnan(v):
            limit = 0.0  # absent now: equal only to an absent golden number
        else:
            limit = t.limit(v, scale_of(metric, sc))
        out[metric] = {"atol": limit, "rtol": 0.0}
    return out


def _numbers(result: Any) -> tuple[str | None, dict[str, float]]:
    from aigc_opt.solvers.regress_cases import flatten

    if hasattr(result, "summary") and callable(result.summary):
        result = result.summary()
    if not isinstance(result, dict):
        raise TypeError(
            "utility_regression.check expects a SolveResult, an EpisodeResult, "
            f"a summary dict or a dict of numbers, got {type(result).__name__}"
        )
    if "terms" in result or "utility" in result:
        st = result.get("status")
        return (None if st is None else str(st)), flatten(result, complete=True)
    values = {}
    for k, v in result.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise TypeError(f"utility_regression.check: {k!r} = {v!r} is not a finite number")
        values[str(k)] = float(v)
    return None, values


@pytest.fixture
def utility_regression(request: pytest.FixtureRequest) -> UtilityRegression:
    """Regression of U, bound, terms and KPIs against a golden CSV (see module doc)."""
    try:
        num_regression = request.getfixturevalue("num_regression")
    except pytest.FixtureLookupError:
        pytest.fail(
            "utility_regression needs pytest-regressions (pip install pytest-regressions)",
            pytrace=False,
        )
    return UtilityRegression(num_regression, request.node.name)
