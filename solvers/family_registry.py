"""The family registry: name → the pieces commands need (MODEL.md §8).

A scenario TOML declares ``family = "<name>"`` (absent: ``aigc-dc``, served by the
commands' own code paths). Every other family registers here its loader, oracle (MILP /
LP relaxation), bound hierarchy, policies (heuristics and MPC, run through its simulator),
Gymnasium environment (by dotted path: environments live one floor up, in drl_compare)
and the names of its utility terms. Commands, the regression catalog, experiments and the
leaderboard ask `family_for` and call these pieces; they never branch on a family's name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aigc_opt.data.families import DEFAULT_FAMILY, family_of, resolve, shipped_family_scenarios
from aigc_opt.data.scenario import ScenarioError


@dataclass(frozen=True)
class Family:
    """What a scenario family provides. ``solve(scn, relax=, time_limit=, mip_gap=, threads=,
    seed=)`` and ``run(scn, policy, window=, time_limit=)`` return `FamilyResult`s;
    ``bounds(scn, time_limit=, mip_gap=)`` returns ``{"milp": …, "lp": …}`` (and ``"convex"``
    where the family has one), ordered from the tightest program to the loosest bound."""

    name: str
    description: str
    load: Callable[[Path, str], Any]
    solve: Callable[..., Any]
    run: Callable[..., Any]
    policies: tuple[str, ...]
    terms: tuple[str, ...]
    env: str = ""
    """``module:Class`` of the family's Gymnasium environment ("" if none)."""
    convex: Callable[..., Any] | None = None
    """``convex(scn, time_limit=)``: the convex relaxation's `FamilyResult` (None if none)."""

    @property
    def default_scenario(self) -> str:
        """The family's first shipped scenario (its regression and documentation case)."""
        return self.scenarios()[0]

    @property
    def make_env(self) -> Callable[..., Any] | None:
        """The environment class (``make_env(scenario, **options)``), None without one."""
        if not self.env:
            return None
        module, _, name = self.env.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def bounds(
        self, scn: Any, *, time_limit: float | None = None, mip_gap: float = 1e-4
    ) -> dict[str, Any]:
        out = {
            "milp": self.solve(scn, time_limit=time_limit, mip_gap=mip_gap),
            "lp": self.solve(scn, relax=True, time_limit=time_limit),
        }
        if self.convex is not None:
            out["convex"] = self.convex(scn, time_limit=time_limit)
        return out

    def scenarios(self) -> list[str]:
        return list(shipped_family_scenarios(self.name))

    def load_scenario(self, ref: str | Path, horizon: int | None = None, start: int = 0) -> Any:
        path = resolve(ref)
        name = str(ref) if str(ref) in shipped_family_scenarios(self.name) else path.parent.name
        scn = self.load(path, name)
        if horizon is None and start == 0:
            return scn
        return scn.cut(horizon=horizon, start=start)


def _geo_training() -> Family:
    from aigc_opt.data.families.geo_training import load_geo_training
    from aigc_opt.formulations.geo_training_accounting import TERMS
    from aigc_opt.solvers.geo_training import run_policy, solve_oracle
    from aigc_opt.solvers.geo_training_sim import HEURISTICS

    return Family(
        name="geo-training",
        description="ML training jobs across geo-distributed data centers (seed 003)",
        load=lambda path, name: load_geo_training(path, name=name),
        solve=solve_oracle,
        run=run_policy,
        policies=(*HEURISTICS, "mpc"),
        terms=TERMS,
        env="aigc_opt.drl_compare.geo_training_env:GeoTrainingEnv",
    )


def _edge_offload() -> Family:
    from aigc_opt.data.families.edge_offload import load_edge_offload
    from aigc_opt.formulations.edge_offload import TERMS
    from aigc_opt.solvers.edge_offload import HEURISTICS, run_policy, solve_oracle
    from aigc_opt.solvers.edge_offload_convex import solve_convex

    return Family(
        name="edge-offload",
        description="AIGC tasks offloaded from devices to edge servers (seeds 001, 002)",
        load=lambda path, name: load_edge_offload(path, name=name),
        solve=solve_oracle,
        run=run_policy,
        policies=(*HEURISTICS, "mpc"),
        terms=TERMS,
        env="aigc_opt.drl_compare.edge_offload_env:EdgeOffloadEnv",
        convex=solve_convex,
    )


_FACTORIES: dict[str, Callable[[], Family]] = {
    "edge-offload": _edge_offload,
    "geo-training": _geo_training,
}


def family_names() -> list[str]:
    """Every family name, the default first."""
    return [DEFAULT_FAMILY, *sorted(_FACTORIES)]


def get_family(name: str) -> Family | None:
    """The registered family ``name``; None for ``aigc-dc`` (the commands' own code path)."""
    if name == DEFAULT_FAMILY:
        return None
    if name not in _FACTORIES:
        raise ScenarioError(
            "--family", "family", name, f"unknown family (known: {', '.join(family_names())})"
        )
    return _FACTORIES[name]()


def family_for(scenario: str | Path) -> Family | None:
    """The family of a scenario reference, or None for ``aigc-dc``."""
    return get_family(family_of(scenario))
