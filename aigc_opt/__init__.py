"""aigc-opt: certified optimization baselines for AIGC workload scheduling with joint
energy management across geo-distributed data centers.

Public API (imported lazily, so ``import aigc_opt`` stays cheap)::

    from aigc_opt import load_scenario, solve_oracle, evaluate

Importing the package registers the Gymnasium environment ``aigc_opt/AIGCDataCenter-v0``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

ENV_ID = "aigc_opt/AIGCDataCenter-v0"

_LAZY = {
    "load_scenario": "aigc_opt.data.catalog",
    "shipped_names": "aigc_opt.data.catalog",
    "Scenario": "aigc_opt.data.scenario",
    "ScenarioError": "aigc_opt.data.scenario",
    "TERMS": "aigc_opt.formulations.accounting",
    "evaluate": "aigc_opt.formulations.accounting",
    "Schedule": "aigc_opt.formulations.schedule",
    "HighsOptions": "aigc_opt.solvers.highs",
    "solve_oracle": "aigc_opt.solvers.oracle",
    "SolveResult": "aigc_opt.solvers.result",
}

__all__ = [*_LAZY, "ENV_ID", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aigc_opt' has no attribute {name!r}")


def _register_env() -> None:
    try:
        import gymnasium as gym
    except ImportError:  # pragma: no cover - gymnasium is a dependency
        return
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="aigc_opt.drl_compare.env:AIGCDataCenterEnv")


_register_env()
