"""Forecasters of the exogenous series for MPC (and optionally for observations).

A forecaster is called at slot t (after slot t's data are revealed) and returns a
`SeriesForecast` for slots t+1 … t+n, cut at the end of the episode (so it may hold fewer
than n slots). Interface::

    fc.reset(scenario, seed)         # once per episode; the scenario holds the truth
    fc(t, n) -> SeriesForecast       # price, carbon, renewable (D, m); arrivals (A, K, m)

Forecasters (`make_forecaster` parses the CLI spelling):

* ``perfect``: the truth.
* ``persistence``: slot t's value for every later slot.
* ``seasonal`` (seasonal naive): the value of the same slot one day earlier
  (24 h / Δ slots; for a target more than one day ahead, the latest same-hour slot ≤ t).
  During the episode's first day, when that slot lies before slot 0 of the episode, the
  forecast falls back to persistence (slot t's value). Only the episode's own history is
  used.
* ``noisy:σ``: truth × (1 + ε) with ε ~ N(0, σ²) independent per series, entity, target
  slot and issue time, from a generator seeded at `reset`. Renewables and carbon are
  clipped at 0, arrivals rounded to integers ≥ 0; prices keep their sign (they may be
  negative).
* ``module:function`` (user callable): ``function(scenario, t, n)`` returning a
  `SeriesForecast` or a dict with the four arrays; it must use slots ≤ t of the scenario
  only (not enforced). Shapes are checked.

Persistence and seasonal naive read only slots ≤ t; perfect and noisy read the future by
definition.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from aigc_opt.data.scenario import Scenario

SERIES = ("price", "carbon", "renewable", "arrivals")


@dataclass(frozen=True)
class SeriesForecast:
    """Forecast of slots t+1 … t+m: price (D, m) $/MWh, carbon (D, m) tCO2/MWh,
    renewable (D, m) MWh, arrivals (A, K, m) jobs."""

    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    arrivals: np.ndarray

    @property
    def slots(self) -> int:
        return int(self.price.shape[1])


def _truth(scn: Scenario, lo: int, hi: int) -> dict[str, np.ndarray]:
    return {
        "price": scn.price[:, lo:hi],
        "carbon": scn.carbon[:, lo:hi],
        "renewable": scn.renewable[:, lo:hi],
        "arrivals": scn.arrivals[:, :, lo:hi],
    }


class Forecaster:
    """Base class: holds the episode's scenario; subclasses implement `_forecast`."""

    name = "forecaster"

    def __init__(self) -> None:
        self.scenario: Scenario | None = None
        self.rng = np.random.default_rng(0)

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.rng = np.random.default_rng(seed)

    def __call__(self, t: int, n: int) -> SeriesForecast:
        if self.scenario is None:
            raise RuntimeError("call reset(scenario, seed) first")
        m = max(0, min(n, self.scenario.T - 1 - t))
        return self._forecast(t, m)

    def _forecast(self, t: int, m: int) -> SeriesForecast:  # pragma: no cover - abstract
        raise NotImplementedError


class PerfectForecaster(Forecaster):
    name = "perfect"

    def _forecast(self, t: int, m: int) -> SeriesForecast:
        return SeriesForecast(
            **{k: v.copy() for k, v in _truth(self.scenario, t + 1, t + 1 + m).items()}
        )


class PersistenceForecaster(Forecaster):
    name = "persistence"

    def _forecast(self, t: int, m: int) -> SeriesForecast:
        now = _truth(self.scenario, t, t + 1)
        return SeriesForecast(**{k: np.repeat(v, m, axis=-1) for k, v in now.items()})


class SeasonalNaiveForecaster(Forecaster):
    """Same slot one day earlier; persistence while that slot precedes the episode."""

    name = "seasonal"

    def __init__(self, period_hours: float = 24.0):
        super().__init__()
        self.period_hours = period_hours

    def _forecast(self, t: int, m: int) -> SeriesForecast:
        scn = self.scenario
        P = max(1, int(round(self.period_hours / scn.dt)))
        target = t + 1 + np.arange(m)
        back = np.ceil((target - t) / P).astype(int)  # days back so the source is ≤ t
        src = target - back * P
        src = np.where(src >= 0, src, t)  # first day: persistence
        return SeriesForecast(
            price=scn.price[:, src],
            carbon=scn.carbon[:, src],
            renewable=scn.renewable[:, src],
            arrivals=scn.arrivals[:, :, src],
        )


class NoisyForecaster(Forecaster):
    """Truth × (1 + ε), ε ~ N(0, σ²), seeded at `reset`."""

    def __init__(self, sigma: float):
        super().__init__()
        if not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"noise level must be ≥ 0, got {sigma}")
        self.sigma = float(sigma)
        self.name = f"noisy:{sigma:g}"

    def _forecast(self, t: int, m: int) -> SeriesForecast:
        tr = _truth(self.scenario, t + 1, t + 1 + m)
        out = {}
        for key in SERIES:
            v = tr[key]
            noisy = v * (1.0 + self.sigma * self.rng.standard_normal(v.shape))
            if key == "arrivals":
                noisy = np.maximum(np.round(noisy), 0.0)
            elif key in ("renewable", "carbon"):
                noisy = np.maximum(noisy, 0.0)
            out[key] = noisy
        return SeriesForecast(**out)


class CallableForecaster(Forecaster):
    """Wraps ``fn(scenario, t, n) -> SeriesForecast | dict``; shapes are checked."""

    def __init__(self, fn: Callable[[Scenario, int, int], Any], name: str | None = None):
        super().__init__()
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")

    def _forecast(self, t: int, m: int) -> SeriesForecast:
        scn = self.scenario
        got = self.fn(scn, t, m)
        if isinstance(got, SeriesForecast):
            got = {k: getattr(got, k) for k in SERIES}
        if not isinstance(got, dict) or set(SERIES) - set(got):
            raise ValueError(
                f"forecaster {self.name!r} must return a SeriesForecast or a "
                f"dict with keys {SERIES}"
            )
        shapes = {
            "price": (scn.D, m),
            "carbon": (scn.D, m),
            "renewable": (scn.D, m),
            "arrivals": (scn.A, scn.K, m),
        }
        out = {}
        for key, shape in shapes.items():
            arr = np.asarray(got[key], dtype=float)
            if arr.shape != shape:
                raise ValueError(
                    f"forecaster {self.name!r}: {key} has shape {arr.shape}, expected {shape}"
                )
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"forecaster {self.name!r}: {key} is not finite")
            out[key] = arr
        out["arrivals"] = np.maximum(np.round(out["arrivals"]), 0.0)
        out["renewable"] = np.maximum(out["renewable"], 0.0)
        return SeriesForecast(**out)


def make_forecaster(spec: str | Forecaster | Callable[..., Any]) -> Forecaster:
    """A forecaster from its CLI spelling (see the module docstring) or an object.

    Raises ValueError with a one-line message for an unknown spelling.
    """
    if isinstance(spec, Forecaster):
        return spec
    if callable(spec):
        return CallableForecaster(spec)
    text = str(spec).strip()
    low = text.lower()
    if low == "perfect":
        return PerfectForecaster()
    if low == "persistence":
        return PersistenceForecaster()
    if low in ("seasonal", "seasonal-naive", "seasonal_naive"):
        return SeasonalNaiveForecaster()
    if low.startswith("noisy"):
        _, _, level = low.partition(":")
        try:
            sigma = float(level) if level else 0.1
        except ValueError:
            raise ValueError(f"noise level in {text!r} is not a number") from None
        return NoisyForecaster(sigma)
    if ":" in text:
        mod, _, fn = text.partition(":")
        try:
            obj = getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import forecaster {text!r}: {exc}") from None
        if not callable(obj):
            raise ValueError(f"forecaster {text!r} is not callable")
        return CallableForecaster(obj, name=text)
    raise ValueError(
        f"unknown forecaster {text!r} (perfect, persistence, seasonal, "
        "noisy:SIGMA, or module:function)"
    )
