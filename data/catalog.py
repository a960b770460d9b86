"""Shipped scenarios and the catalog that names them.

Each scenario is a folder ``scenarios/<name>/`` holding ``scenario.toml`` and its series
tables. `load_scenario` accepts a shipped name or a path to a TOML file.

The **catalog** (``data/catalog.toml``, or a user's own file of the same form) lists
scenarios with their tier, the horizons the leaderboard solves them at, the decision they
stress and a content hash of the files::

    version = "2023.1"
    [[scenario]]
    name = "us4-peak"
    tier = "peak"
    horizons = [24]
    stresses = "deferral vs transfer vs fewer steps"
    hash = "3f2a..."          # content_hash of the scenario's files (optional in user files)
    path = "my/scenario.toml" # optional; default: the shipped scenario of that name
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aigc_opt.data.families import DEFAULT_FAMILY, shipped_family_scenarios
from aigc_opt.data.scenario import Scenario, ScenarioError
from aigc_opt.data.scenario_files import load_scenario_file

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
CATALOG_FILE = Path(__file__).resolve().parent / "catalog.toml"


def shipped_names() -> list[str]:
    """Names of the scenarios shipped inside the package, sorted."""
    return sorted(p.parent.name for p in SCENARIO_DIR.glob("*/scenario.toml"))


def scenario_path(name: str) -> Path:
    return SCENARIO_DIR / name / "scenario.toml"


def load_scenario(
    name_or_path: str | Path = "default", *, horizon: int | None = None, start: int = 0
) -> Scenario:
    """Load a shipped scenario by name, or a scenario TOML by path, cut to a horizon.

    Raises `ScenarioError` (one-line message) for an unknown name or an invalid file.
    """
    path = resolve_path(name_or_path)
    name = None if Path(str(name_or_path)).suffix == ".toml" else str(name_or_path)
    scn = load_scenario_file(path, name=name if path == scenario_path(str(name)) else None)
    if horizon is None and start == 0:
        return scn
    return scn.cut(horizon=horizon, start=start)


def resolve_path(name_or_path: str | Path) -> Path:
    """The TOML file of a shipped name or a path; `ScenarioError` for an unknown name."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return path / "scenario.toml" if path.is_dir() else path
    if text in shipped_names():
        return scenario_path(text)
    family = shipped_family_scenarios()
    if text in family:  # a scenario family's shipped scenario (MODEL.md §8)
        return family[text]
    raise ScenarioError(
        "--scenario",
        "scenario",
        text,
        f"unknown scenario (shipped: {', '.join(shipped_names())}; or give a path to a .toml file)",
    )


def content_hash(path: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of a scenario TOML and the series files it names,
    in that order: two scenarios with the same hash have the same bytes."""
    path = Path(path)
    h = hashlib.sha256(path.read_bytes())
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    family = raw.get("family", DEFAULT_FAMILY) != DEFAULT_FAMILY  # it names its own tables
    tables = raw if family else raw.get("series", {})
    for key in ("jobs", "energy", "arrivals") if family else ("energy", "arrivals"):
        rel = tables.get(key)
        if isinstance(rel, str) and (path.parent / rel).is_file():
            h.update((path.parent / rel).read_bytes())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------------------
# the catalog file
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One catalog scenario: name, tier, leaderboard horizons, what it stresses, TOML path
    and the recorded content hash ('' when the catalog records none)."""

    name: str
    tier: str
    horizons: tuple[int, ...]
    stresses: str
    path: Path
    hash: str = ""


@dataclass(frozen=True)
class Catalog:
    version: str
    entries: tuple[Entry, ...]
    source: str

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def get(self, name: str) -> Entry:
        for e in self.entries:
            if e.name == name:
                return e
        raise ScenarioError(
            self.source, "scenario", name, f"not in the catalog ({', '.join(self.names())})"
        )


def read_catalog(path: str | Path | None = None) -> Catalog:
    """Read a catalog TOML (default: the shipped ``catalog.toml``); one-line errors."""
    path = Path(path) if path is not None else CATALOG_FILE
    src = str(path)
    if not path.exists():
        raise ScenarioError(src, "file", src, "catalog file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(src, "toml", path.name, f"not valid TOML: {exc}") from None
    items = raw.get("scenario")
    if not isinstance(items, list) or not items:
        raise ScenarioError(src, "scenario", items, "expected a non-empty [[scenario]] list")
    entries, seen = [], set()
    for i, it in enumerate(items):
        entries.append(_entry(it, i, path, src))
        if entries[-1].name in seen:
            raise ScenarioError(src, f"scenario[{i}].name", entries[-1].name, "duplicated")
        seen.add(entries[-1].name)
    return Catalog(str(raw.get("version", "")), tuple(entries), src)


def _entry(it: Any, i: int, path: Path, src: str) -> Entry:
    where = f"scenario[{i}]"
    if not isinstance(it, dict):
        raise ScenarioError(src, where, it, "expected a table")
    unknown = sorted(set(it) - {"name", "tier", "horizons", "stresses", "hash", "path"})
    if unknown:
        raise ScenarioError(src, f"{where}.{unknown[0]}", it[unknown[0]], "unknown field")
    name = it.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(src, f"{where}.name", name, "required: a scenario name")
    horizons = it.get("horizons", [])
    if not isinstance(horizons, list) or any(
        not isinstance(h, int) or isinstance(h, bool) or h < 1 for h in horizons
    ):
        raise ScenarioError(src, f"{where}.horizons", horizons, "expected integers ≥ 1")
    if "path" in it:
        toml = (path.parent / str(it["path"])).resolve()
        if not toml.exists():
            raise ScenarioError(src, f"{where}.path", it["path"], "scenario file not found")
    elif name in shipped_names():
        toml = scenario_path(name)
    elif name in shipped_family_scenarios():
        toml = shipped_family_scenarios()[name]
    else:
        raise ScenarioError(
            src, f"{where}.name", name, "not a shipped scenario; give its path = '...'"
        )
    return Entry(
        name=name,
        tier=str(it.get("tier", "")),
        horizons=tuple(int(h) for h in horizons),
        stresses=str(it.get("stresses", "")),
        path=toml,
        hash=str(it.get("hash", "")),
    )


def check_hash(entry: Entry) -> None:
    """Raise `ScenarioError` if the scenario's files differ from the recorded hash."""
    if entry.hash and content_hash(entry.path) != entry.hash:
        raise ScenarioError(
            entry.path,
            "hash",
            content_hash(entry.path),
            f"the catalog records {entry.hash}: the scenario files changed "
            "(regenerate them, or run 'aigc-opt data scenarios --tiers' to refresh the catalog)",
        )


SLOW_TIERS = ("scale", "year")
"""Tiers whose scenarios are too large for the quick test suite."""


def quick_names() -> list[str]:
    """Shipped scenarios outside the slow tiers (every shipped one the catalog does not
    list counts as quick)."""
    slow = {e.name for e in read_catalog().entries if e.tier in SLOW_TIERS}
    return [n for n in shipped_names() if n not in slow]
