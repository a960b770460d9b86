"""Scenario families beside the default ``aigc-dc`` model (MODEL.md §8).

A scenario TOML may declare ``family = "<name>"``; absent means ``aigc-dc``. Shipped
family scenarios live in ``families/scenarios/<name>/scenario.toml``; their names are
unique across families, so ``--scenario NAME`` finds the family by the name alone.
This module only answers "which family is this scenario reference?" and "which
scenarios does a family ship?"; the programs, simulators and policies of each family are
wired together in `aigc_opt.solvers.family_registry`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from aigc_opt.data.scenario import ScenarioError

SpecT = TypeVar("SpecT", bound=BaseModel)

DEFAULT_FAMILY = "aigc-dc"
FAMILY_SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


def _declared_family(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_FAMILY  # the aigc-dc loader reports the file's problem in one line
    family = raw.get("family", DEFAULT_FAMILY)
    if not isinstance(family, str):
        raise ScenarioError(path, "family", family, "must be a family name (a string)")
    return family


def shipped_family_scenarios(family: str | None = None) -> dict[str, Path]:
    """Shipped family scenarios ``{name: scenario.toml}`` (of one family, or of all), sorted."""
    out: dict[str, Path] = {}
    for p in sorted(FAMILY_SCENARIO_DIR.glob("*/scenario.toml")):
        if family is None or _declared_family(p) == family:
            out[p.parent.name] = p
    return out


def family_of(ref: str | Path) -> str:
    """Family of a scenario reference (a shipped name or a path to a TOML file)."""
    text = str(ref)
    path = Path(text)
    if path.suffix == ".toml" or path.is_file():
        return _declared_family(path) if path.is_file() else DEFAULT_FAMILY
    shipped = shipped_family_scenarios()
    if text in shipped:
        return _declared_family(shipped[text])
    return DEFAULT_FAMILY


def resolve(ref: str | Path) -> Path:
    """Path of the TOML behind a family scenario reference (shipped name or path)."""
    text = str(ref)
    shipped = shipped_family_scenarios()
    if text in shipped:
        return shipped[text]
    path = Path(text)
    if not path.is_file():
        raise ScenarioError("--scenario", "scenario", text, "no such scenario file")
    return path


class FamilyScenario:
    """What every family's scenario class shares (each is a frozen dataclass with at least
    ``spec``, ``name``, ``start`` and ``source`` fields and a ``T`` property): the family
    name, the check of a cut's window, and a content digest."""

    family: ClassVar[str]
    spec: BaseModel
    name: str
    start: int
    source: str

    @property
    def T(self) -> int:  # pragma: no cover - every family defines it
        raise NotImplementedError

    def window(self, horizon: int | None, start: int) -> int:
        """End slot (exclusive) of ``horizon`` slots from ``start``; `ScenarioError` when
        the window leaves the series."""
        if start < 0 or start >= self.T:
            raise ScenarioError(self.source, "start", start, f"must be in 0 … {self.T - 1}")
        end = self.T if horizon is None else start + horizon
        if horizon is not None and (horizon < 1 or end > self.T):
            raise ScenarioError(
                self.source, "horizon", horizon, f"must be in 1 … {self.T - start} (series length)"
            )
        return end

    def digest(self) -> str:
        """SHA-256 of the spec and every array (not the source path): equal digests, equal
        scenarios."""
        h = hashlib.sha256(self.family.encode())
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if f.name == "source":
                continue
            if isinstance(v, np.ndarray):
                h.update(f"{f.name}{v.shape}{v.dtype}".encode() + np.ascontiguousarray(v).tobytes())
            elif isinstance(v, BaseModel):
                h.update(v.model_dump_json().encode())
            else:
                h.update(f"{f.name}={v!r}".encode())
        return h.hexdigest()


def fail(source: str | Path, field: str, value: Any, message: str) -> ScenarioError:
    """`ScenarioError` with numpy scalars shown as plain numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return ScenarioError(source, field, value, message)


def validate_spec(model: type[SpecT], raw: Any, source: str | Path) -> SpecT:
    """``model.model_validate(raw)``; the first error becomes a one-line `ScenarioError`."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "scenario"
        raise fail(source, field, err.get("input"), err["msg"]) from None


def read_spec(model: type[SpecT], path: Path) -> SpecT:
    """Read a scenario TOML and validate it against ``model``."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise fail(path, "file", str(path), "not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(path, "toml", str(path), f"invalid TOML ({exc})") from None
    return validate_spec(model, raw, path)
