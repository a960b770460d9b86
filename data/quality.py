"""Quality curves Q_b(n): explicit service quality after n denoising steps (MODEL.md §2).

Three forms, all concave and non-decreasing in n:

* ``exp``:   Q(n) = q_max · (1 − exp(−beta · n))
* ``log``:   Q(n) = min(q_max, alpha · ln(n) + c), valid only where alpha·ln(n) + c ≥ 0
* ``table``: measured (n, Q) points, used through their upper concave hull
  (piecewise linear between hull vertices); n outside the table's range is an error.

Quality is dimensionless in [0, 1]; n is a number of denoising steps (≥ 1).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Curve(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def value(self, n: float) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def values(self, n: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        """Vectorised Q(n) for an array of step counts (same shape)."""
        raise NotImplementedError

    def min_steps_for(self, floor: float, n_lo: float, n_hi: float) -> float | None:
        """Least n in [n_lo, n_hi] with Q(n) ≥ floor (bisection on a non-decreasing curve)."""
        if self.value(n_hi) < floor - 1e-9:
            return None
        if self.value(n_lo) >= floor - 1e-9:
            return n_lo
        lo, hi = n_lo, n_hi
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if self.value(mid) >= floor - 1e-9:
                hi = mid
            else:
                lo = mid
        return hi


class ExpQuality(_Curve):
    """Saturating exponential Q(n) = q_max·(1 − exp(−beta·n)) (MODEL.md default form)."""

    form: Literal["exp"] = "exp"
    q_max: float = Field(gt=0, le=1, description="asymptotic quality Q̄_b (dimensionless)")
    beta: float = Field(gt=0, le=1e3, description="saturation rate β_b (1/step)")

    def value(self, n: float) -> float:
        return self.q_max * (1.0 - math.exp(-self.beta * n))

    def values(self, n: np.ndarray) -> np.ndarray:
        return self.q_max * (1.0 - np.exp(-self.beta * np.asarray(n, dtype=float)))


class LogQuality(_Curve):
    """Logarithmic Q(n) = min(q_max, alpha·ln(n) + c); alpha > 0."""

    form: Literal["log"] = "log"
    alpha: float = Field(gt=0, le=1e3, description="slope α_b per ln(step)")
    c: float = Field(ge=-1e3, le=1e3, description="intercept c_b (dimensionless)")
    q_max: float = Field(default=1.0, gt=0, le=1, description="cap Q̄_b")

    def value(self, n: float) -> float:
        return min(self.q_max, self.alpha * math.log(n) + self.c)

    def values(self, n: np.ndarray) -> np.ndarray:
        q = np.minimum(self.q_max, self.alpha * np.log(np.asarray(n, dtype=float)) + self.c)
        return np.asarray(q, dtype=float)

    def check_steps(self, steps: list[int]) -> None:
        for n in steps:
            if self.alpha * math.log(n) + self.c < 0:
                raise ValueError(
                    f"log quality alpha·ln({n}) + c = {self.alpha * math.log(n) + self.c:.4g} < 0 "
                    f"at step level {n}: the form is not valid there"
                )


def upper_concave_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Vertices of the upper concave hull of (n, Q) points sorted by n (monotone chain)."""
    pts = sorted(points)
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            # remove hull[-1] if it lies on or below the segment hull[-2] -> p
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


class TableQuality(_Curve):
    """Measured (steps, quality) points, used through their upper concave hull.

    ``strict_concave`` (default True) rejects a table that is not already concave, so that
    what the user measured is what the model uses; set it to False to accept the hull.
    """

    form: Literal["table"] = "table"
    steps: list[float] = Field(min_length=2, description="step counts n (ascending, ≥ 1)")
    quality: list[float] = Field(min_length=2, description="measured Q(n) in [0, 1]")
    strict_concave: bool = True

    @model_validator(mode="after")
    def _check(self) -> TableQuality:
        if len(self.steps) != len(self.quality):
            raise ValueError(
                f"steps ({len(self.steps)}) and quality ({len(self.quality)}) differ in length"
            )
        if any(b <= a for a, b in zip(self.steps, self.steps[1:], strict=False)):
            raise ValueError(f"steps must be strictly ascending, got {self.steps}")
        if any(not (0.0 <= q <= 1.0) for q in self.quality):
            raise ValueError(f"quality values must lie in [0, 1], got {self.quality}")
        if any(b < a - 1e-12 for a, b in zip(self.quality, self.quality[1:], strict=False)):
            raise ValueError(f"quality must be non-decreasing in steps, got {self.quality}")
        hull = upper_concave_hull(list(zip(self.steps, self.quality, strict=True)))
        if self.strict_concave:
            for n, q in zip(self.steps, self.quality, strict=True):
                if abs(_interp(hull, n) - q) > 1e-9:
                    raise ValueError(
                        f"quality table is not concave: point (n={n:g}, Q={q:g}) lies below "
                        f"its concave hull ({_interp(hull, n):.6g}); fix the table or set "
                        "strict_concave = false to use the hull"
                    )
        return self

    def hull(self) -> list[tuple[float, float]]:
        return upper_concave_hull(list(zip(self.steps, self.quality, strict=True)))

    def hull_pieces(self) -> tuple[np.ndarray, np.ndarray]:
        """Slopes m_j (1/step) and intercepts c_j of the hull's affine pieces: on the table's
        range Q(n) = min_j (m_j·n + c_j)."""
        hull = np.asarray(self.hull(), dtype=float)
        m = np.diff(hull[:, 1]) / np.diff(hull[:, 0])
        return m, hull[:-1, 1] - m * hull[:-1, 0]

    def value(self, n: float) -> float:
        self._check_range(np.asarray(n, dtype=float))
        return _interp(self.hull(), n)

    def values(self, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=float)
        self._check_range(n)
        hull = self.hull()
        return np.asarray(np.interp(n, [p[0] for p in hull], [p[1] for p in hull]), dtype=float)

    def _check_range(self, n: np.ndarray) -> None:
        if n.size == 0:
            return
        lo, hi = float(np.min(n)), float(np.max(n))
        for x in (lo, hi):
            if x < self.steps[0] - 1e-9 or x > self.steps[-1] + 1e-9:
                raise ValueError(
                    f"step count {x:g} outside the table range "
                    f"[{self.steps[0]:g}, {self.steps[-1]:g}]"
                )

    def check_steps(self, steps: list[int]) -> None:
        for n in steps:
            if n < self.steps[0] - 1e-9 or n > self.steps[-1] + 1e-9:
                raise ValueError(
                    f"step level {n} outside the quality table range "
                    f"[{self.steps[0]:g}, {self.steps[-1]:g}]"
                )


def _interp(hull: list[tuple[float, float]], n: float) -> float:
    xs = [p[0] for p in hull]
    ys = [p[1] for p in hull]
    return float(np.interp(n, xs, ys))


QualityCurve = Annotated[ExpQuality | LogQuality | TableQuality, Field(discriminator="form")]
