"""aigc-opt: certified optimization baselines for AIGC workload scheduling with joint
energy management across geo-distributed data centers.

Public API::

    from aigc_opt import load_scenario, solve_oracle, evaluate
"""

from __future__ import annotations

__version__ = "0.1.0"

from aigc_opt.data.catalog import load_scenario, shipped_names  # noqa: E402
from aigc_opt.data.scenario import Scenario, ScenarioError  # noqa: E402
from aigc_opt.formulations.accounting import TERMS, evaluate  # noqa: E402
from aigc_opt.formulations.schedule import Schedule  # noqa: E402
from aigc_opt.solvers.highs import HighsOptions  # noqa: E402
from aigc_opt.solvers.oracle import solve_oracle  # noqa: E402
from aigc_opt.solvers.result import SolveResult  # noqa: E402

from aigc_opt.drl_compare.env import register as _register_env  # noqa: E402

_register_env()

__all__ = [
    "TERMS", "HighsOptions", "Scenario", "ScenarioError", "Schedule", "SolveResult",
    "evaluate", "load_scenario", "shipped_names", "solve_oracle", "__version__",
]
