"""Typed, validated scenarios: every parameter of MODEL.md §2 with its unit.

A scenario is a TOML file (static parameters) that references two time-series tables
(CSV or Parquet), both in long ("tidy") format:

* ``energy``:   columns ``slot, data_center, price_usd_per_mwh, carbon_t_per_mwh, renewable_mwh``
* ``arrivals``: columns ``slot, asp, job_class, jobs``

`load_scenario_file` (`aigc_opt.data.scenario_files`) reads and validates both and returns
a `Scenario`: the pydantic parameter model (`aigc_opt.data.scenario_params`) plus dense
numpy arrays indexed by position (d, a/b, k, s, t). `make_scenario` builds one from
parameters and arrays. Any problem raises `ScenarioError`, whose one-line message names
the file, the field and the value.

Ranges of every field and series value: `aigc_opt.data.ranges` (errors, never clipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from aigc_opt.data import ranges
from aigc_opt.data.job_figures import resolve as resolve_job_figures
from aigc_opt.data.quality import LogQuality, TableQuality
from aigc_opt.data.scenario_params import ScenarioParams


class ScenarioError(ValueError):
    """A scenario file or value is invalid. ``str(err)`` is a one-line message."""

    def __init__(self, source: str | Path | None, field: str, value: Any, message: str):
        self.source = str(source) if source is not None else "<scenario>"
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{self.source}: {field} = {_short(value)}: {message}")


def _short(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with dense series arrays.

    Index order everywhere: d (data center), a/b (ASP, origin/server), k (class),
    s (step level), t (slot, 0 = first slot of this horizon).

    Attributes
    ----------
    price : (D, T) $/MWh;  carbon : (D, T) tCO2/MWh;  renewable : (D, T) MWh per slot;
    arrivals : (A, K, T) jobs per slot (integers ≥ 0).
    """

    params: ScenarioParams
    price: np.ndarray
    carbon: np.ndarray
    renewable: np.ndarray
    arrivals: np.ndarray
    source: str = "<memory>"
    start_slot: int = 0
    label: str = field(default="")

    # ----- sizes -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.label or self.params.name

    @property
    def T(self) -> int:
        return int(self.price.shape[1])

    @property
    def D(self) -> int:
        return len(self.params.data_centers)

    @property
    def A(self) -> int:
        return len(self.params.asps)

    @property
    def K(self) -> int:
        return len(self.params.job_classes)

    @property
    def S(self) -> int:
        return len(self.params.steps)

    @property
    def dt(self) -> float:
        return self.params.slot_hours

    # ----- derived parameters (computed once) ---------------------------------------------
    @cached_property
    def steps(self) -> np.ndarray:
        return np.asarray(self.params.steps, dtype=float)

    @cached_property
    def dc_of_asp(self) -> np.ndarray:
        names = [d.name for d in self.params.data_centers]
        return np.array([names.index(b.data_center) for b in self.params.asps], dtype=int)

    @cached_property
    def quality(self) -> np.ndarray:
        """(B, S) Q_b(n_s)."""
        return np.array(
            [[b.quality.value(float(n)) for n in self.params.steps] for b in self.params.asps]
        )

    @cached_property
    def job_figures(self) -> dict[str, np.ndarray]:
        """(B, K) resolved job figures ``gpu0``, ``gpu1`` (GPU-s), ``kwh0``, ``kwh1`` (kWh):
        see `aigc_opt.data.job_figures.resolve`."""
        return resolve_job_figures(self.params)

    @cached_property
    def gpu_seconds(self) -> np.ndarray:
        """(B, K, S) τ_{b,k}(n_s), GPU-seconds per job."""
        f = self.job_figures
        out: np.ndarray = f["gpu0"][:, :, None] + f["gpu1"][:, :, None] * self.steps[None, None]
        return out

    @cached_property
    def job_kwh(self) -> np.ndarray:
        """(B, K, S) e_{b,k}(n_s), kWh above idle per job."""
        f = self.job_figures
        out: np.ndarray = f["kwh0"][:, :, None] + f["kwh1"][:, :, None] * self.steps[None, None]
        return out

    @cached_property
    def admissible(self) -> np.ndarray:
        """(B, K, S) bool: Q_b(n_s) ≥ q_k^min − 1e-9 and pool has GPUs."""
        floor = np.array([k.quality_floor for k in self.params.job_classes])
        gpus = np.array([b.gpus for b in self.params.asps])
        ok = self.quality[:, None, :] >= floor[None, :, None] - 1e-9
        return ok & (gpus[:, None, None] > 0)

    @cached_property
    def transfer_cost(self) -> np.ndarray:
        """(A, B) $/job; NaN marks a forbidden pair. Diagonal is 0."""
        tr = self.params.transfer
        names = [b.name for b in self.params.asps]
        A = len(names)
        c = np.full((A, A), tr.default_usd_per_job, dtype=float)
        if tr.same_dc_usd_per_job is not None:
            same = self.dc_of_asp[:, None] == self.dc_of_asp[None, :]
            c[same] = tr.same_dc_usd_per_job
        for item in tr.costs:
            c[names.index(item.origin), names.index(item.server)] = item.usd_per_job
        for a, b in tr.forbidden:
            c[names.index(a), names.index(b)] = np.nan
        if not tr.enabled:
            c[:] = np.nan
        np.fill_diagonal(c, 0.0)
        return c

    @cached_property
    def class_arrays(self) -> dict[str, np.ndarray]:
        ks = self.params.job_classes
        return {
            "price": np.array([k.price_usd for k in ks]),
            "wait": np.array([k.max_wait_slots for k in ks], dtype=int),
            "delay": np.array([k.delay_usd_per_slot for k in ks]),
            "drop": np.array([k.drop_usd for k in ks]),
        }

    def slot_time(self, t: int) -> pd.Timestamp:
        """UTC timestamp of the start of slot t of this horizon."""
        t0 = pd.Timestamp(self.params.start_time)
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
        return t0 + pd.Timedelta(hours=self.dt * (self.start_slot + t))

    # ----- cutting ------------------------------------------------------------------------
    def cut(self, horizon: int | None = None, start: int = 0) -> Scenario:
        """The same scenario restricted to slots [start, start + horizon)."""
        T = self.T
        if horizon is None:
            horizon = T - start
        if start < 0 or start >= T:
            raise ScenarioError(self.source, "start", start, f"must lie in [0, {T - 1}]")
        if horizon < 1 or start + horizon > T:
            raise ScenarioError(
                self.source,
                "horizon",
                horizon,
                f"series has {T} slots; start {start} + horizon {horizon} exceeds it",
            )
        sl = slice(start, start + horizon)
        return replace(
            self,
            price=self.price[:, sl].copy(),
            carbon=self.carbon[:, sl].copy(),
            renewable=self.renewable[:, sl].copy(),
            arrivals=self.arrivals[:, :, sl].copy(),
            start_slot=self.start_slot + start,
        )

    def with_series(self, **arrays: np.ndarray) -> Scenario:
        """A copy with some series replaced (same shapes), e.g. forecasts or perturbations."""
        return replace(self, **arrays)  # type: ignore[arg-type]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_centers": self.D,
            "asps": self.A,
            "classes": self.K,
            "step_levels": self.S,
            "slots": self.T,
            "slot_hours": self.dt,
            "description": self.params.description,
        }

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario (parameters and series) as plain JSON-able data."""
        return {
            "params": self.params.model_dump(mode="json", by_alias=True),
            "start_slot": self.start_slot,
            "source": self.source,
            "series": {
                "price_usd_per_mwh": self.price.tolist(),
                "carbon_t_per_mwh": self.carbon.tolist(),
                "renewable_mwh": self.renewable.tolist(),
                "arrivals_jobs": self.arrivals.tolist(),
            },
        }


# ----------------------------------------------------------------------------------------
# Validation of cross references (done once, at load or construction)
# ----------------------------------------------------------------------------------------
def check_references(p: ScenarioParams, source: str) -> None:
    dcs = [d.name for d in p.data_centers]
    asps = [b.name for b in p.asps]
    classes = [k.name for k in p.job_classes]
    for i, b in enumerate(p.asps):
        if b.data_center not in dcs:
            raise ScenarioError(
                source,
                f"asps[{i}].data_center",
                b.data_center,
                f"no such data center (known: {', '.join(dcs)})",
            )
        if isinstance(b.quality, LogQuality | TableQuality):
            try:
                b.quality.check_steps(p.steps)
            except ValueError as exc:
                raise ScenarioError(
                    source, f"asps[{i}].quality", b.quality.form, str(exc)
                ) from None
        unknown = [(j, o) for j, o in enumerate(b.class_figures) if o.job_class not in classes]
        for j, o in unknown[:1]:
            raise ScenarioError(
                source,
                f"asps[{i}].class_figures[{j}].job_class",
                o.job_class,
                f"no such job class (known: {', '.join(classes)})",
            )
    for i, pair in enumerate(p.transfer.forbidden):
        for name in pair:
            if name not in asps:
                raise ScenarioError(source, f"transfer.forbidden[{i}]", name, "unknown ASP")
    for i, c in enumerate(p.transfer.costs):
        for name in (c.origin, c.server):
            if name not in asps:
                raise ScenarioError(source, f"transfer.costs[{i}]", name, "unknown ASP")
    for k_i, k in enumerate(p.job_classes):
        best = max(b.quality.value(float(n)) for b in p.asps for n in p.steps)
        if best < k.quality_floor - 1e-9:
            raise ScenarioError(
                source,
                f"job_classes[{k_i}].quality_floor",
                k.quality_floor,
                f"no model reaches it at any step level (best quality {best:.4f})",
            )


def make_scenario(
    params: ScenarioParams | dict[str, Any],
    price: np.ndarray,
    carbon: np.ndarray,
    renewable: np.ndarray,
    arrivals: np.ndarray,
    source: str = "<memory>",
) -> Scenario:
    """Build and validate a scenario from parameters and dense arrays.

    price, carbon, renewable have shape (D, T); arrivals (A, K, T).
    """
    if isinstance(params, dict):
        params = validate_params(params, source)
    check_references(params, source)
    D, A, K = len(params.data_centers), len(params.asps), len(params.job_classes)
    arrays = {
        "price_usd_per_mwh": (np.asarray(price, dtype=float), (D,)),
        "carbon_t_per_mwh": (np.asarray(carbon, dtype=float), (D,)),
        "renewable_mwh": (np.asarray(renewable, dtype=float), (D,)),
        "jobs": (np.asarray(arrivals, dtype=float), (A, K)),
    }
    T = None
    for fname, (arr, lead) in arrays.items():
        if arr.ndim != len(lead) + 1 or arr.shape[:-1] != lead:
            raise ScenarioError(
                source, fname, f"shape {arr.shape}", f"expected shape {lead + ('T',)}"
            )
        if T is None:
            T = arr.shape[-1]
        if arr.shape[-1] != T:
            raise ScenarioError(
                source, fname, f"{arr.shape[-1]} slots", f"other series have {T} slots"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ScenarioError(source, fname, float(arr[idx]), f"not finite at index {idx}")
        if fname != "price_usd_per_mwh" and (arr < 0).any():
            idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
            raise ScenarioError(source, fname, float(arr[idx]), f"negative at index {idx}")
        outside = ranges.first_outside(fname, arr)
        if outside:
            raise ScenarioError(source, fname, *outside)
    jobs = arrays["jobs"][0]
    if np.any(np.abs(jobs - np.round(jobs)) > 1e-9):
        idx = tuple(int(i) for i in np.argwhere(np.abs(jobs - np.round(jobs)) > 1e-9)[0])
        raise ScenarioError(source, "jobs", float(jobs[idx]), f"arrivals must be integers ({idx})")
    scn = Scenario(
        params=params,
        price=arrays["price_usd_per_mwh"][0],
        carbon=arrays["carbon_t_per_mwh"][0],
        renewable=arrays["renewable_mwh"][0],
        arrivals=np.round(jobs),
        source=source,
    )
    from aigc_opt.data.feasibility import check_feasible

    check_feasible(scn)
    return scn


def validate_params(raw: dict[str, Any], source: str) -> ScenarioParams:
    try:
        return ScenarioParams.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _format_loc(err.get("loc", ()))
        value = _lookup(raw, err.get("loc", ()))
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "missing":
            raise ScenarioError(source, loc, "<missing>", "required field is missing") from None
        raise ScenarioError(source, loc or "<root>", value, msg) from None


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("exp", "log", "table", "function-after"):
            continue  # discriminated-union tags add noise
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    cur = raw
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return cur
    return cur
