"""Shipped scenarios: each is a folder ``scenarios/<name>/`` holding ``scenario.toml``
and its series tables. `load_scenario` accepts a shipped name or a path to a TOML file."""

from __future__ import annotations

from pathlib import Path

from aigc_opt.data.scenario import Scenario, ScenarioError, load_scenario_file

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


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
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        scn = load_scenario_file(path)
    elif text in shipped_names():
        scn = load_scenario_file(scenario_path(text), name=text)
    else:
        raise ScenarioError(
            "--scenario",
            "scenario",
            text,
            f"unknown scenario (shipped: {', '.join(shipped_names())}; "
            "or give a path to a .toml file)",
        )
    if horizon is None and start == 0:
        return scn
    return scn.cut(horizon=horizon, start=start)
