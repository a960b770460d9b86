"""The regression catalog's scenario families (MODEL.md §8): each family's default scenario
at `FAMILY_HORIZON` slots, with its own methods (oracle MILP and LP, its convex relaxation
where it has one, MPC with perfect forecasts, its heuristics) and their tolerances. The
aigc-dc catalog and the case runner are `aigc_opt.solvers.regress_cases`."""

from __future__ import annotations

from typing import Any

from aigc_opt.solvers.regress_cases import (
    ARITHMETIC,
    CHAIN,
    CONVEX,
    METHODS,
    MILP,
    MIP_GAP,
    MPC_LOOKAHEAD,
    OPTIMUM,
    SEED,
    THREADS,
    MethodSpec,
    MethodTolerances,
    Solve,
)

FAMILY_TOLERANCES: dict[str, MethodTolerances] = {
    "oracle-milp": MILP,
    "oracle-lp": OPTIMUM,
    "oracle-convex": CONVEX,
    "mpc-perfect": CHAIN,
}
"""Tolerances of a family's catalog methods; its heuristics are plain arithmetic."""


def family_methods(family: str) -> dict[str, MethodSpec]:
    """The catalog methods of a scenario family (`solvers.family_registry`): its oracle MILP
    and LP relaxation (deterministic HiGHS settings), MPC with perfect forecasts (window
    `MPC_LOOKAHEAD`) as ``mpc-perfect``, and each of its heuristics under its own name."""
    from aigc_opt.solvers.family_registry import get_family

    fam = get_family(family)
    if fam is None:
        return {}

    def oracle(relax: bool) -> Solve:
        def solve(scn: Any) -> dict[str, Any]:
            res = fam.solve(scn, relax=relax, mip_gap=MIP_GAP, threads=THREADS, seed=SEED)
            return dict(res.summary())

        return solve

    def play(policy: str) -> Solve:
        return lambda scn: dict(fam.run(scn, policy, window=MPC_LOOKAHEAD).summary())

    out = {
        "oracle-milp": MethodSpec("oracle-milp", oracle(False), MILP, "MILP (HiGHS, 1 thread)"),
        "oracle-lp": MethodSpec("oracle-lp", oracle(True), OPTIMUM, "LP relaxation"),
    }
    if fam.convex is not None:
        convex = fam.convex
        out["oracle-convex"] = MethodSpec(
            "oracle-convex",
            lambda scn: dict(convex(scn).summary()),
            CONVEX,
            "convex relaxation (cvxpy + Clarabel)",
        )
    for p in fam.policies:
        name = "mpc-perfect" if p == "mpc" else p
        tol = FAMILY_TOLERANCES.get(name, ARITHMETIC)
        out[name] = MethodSpec(name, play(p), tol, f"{fam.name} policy {p}")
    return out


def family_of_case(scenario: str) -> str:
    """Family of a catalog scenario name or path (``aigc-dc`` for the default model)."""
    from aigc_opt.data.families import family_of

    return family_of(scenario)


def methods_for(scenario: str) -> list[str]:
    """Method names the catalog runs on ``scenario`` (a name or a TOML path)."""
    family = family_of_case(scenario)
    return list(METHODS) if family == "aigc-dc" else list(family_methods(family))


def tolerances_of(method: str) -> MethodTolerances:
    """Tolerances of a catalog method (a family's heuristics: `ARITHMETIC`)."""
    if method in METHODS:
        return METHODS[method].tolerances
    return FAMILY_TOLERANCES.get(method, ARITHMETIC)


FAMILY_HORIZON = 24
"""Horizon (slots) of each family's default scenario in the catalog."""


def family_episodes() -> list[tuple[str, int | None]]:
    """(default scenario, `FAMILY_HORIZON`) of every registered family."""
    from aigc_opt.solvers.family_registry import family_names, get_family

    fams = [get_family(n) for n in family_names()]
    return [(f.default_scenario, FAMILY_HORIZON) for f in fams if f is not None]
