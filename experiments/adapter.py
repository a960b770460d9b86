"""The one place where experiments call the solvers, through their public entry points.

Everything a job needs from the solver floor goes through these functions, which turn
what the solvers return (`SolveResult`, `EpisodeResult`, the comparison harness' tuple)
into one flat `Outcome`. When the solver API changes, only this module changes.

HiGHS runs with one thread per job (the executor runs jobs side by side).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aigc_opt.data.scenario import Scenario

HEURISTIC_NAMES = ("greedy", "price-greedy", "random", "opt-ts", "nearest-fewest")
HEURISTIC_NAMES += ("edf-cheapest", "carbon-greedy", "fcfs-home")
"""Heuristics by name: `aigc_opt.solvers.heuristics.HEURISTICS`, then those of the scenario
families (`aigc_opt.solvers.family_registry`; a family scenario runs only its own)."""

FAILED = ("infeasible", "unbounded", "error")
"""Statuses that make a job failed (recorded with the solver's message)."""

BOUND_OK = ("optimal", "time_limit")
"""Statuses at which a solver's best bound is a proven upper bound on U."""


@dataclass
class Outcome:
    """What one method produced on one episode.

    ``utility`` ($) is `accounting.evaluate`'s U of the realized or solved schedule (None
    without one); ``best_bound`` ($) a proven upper bound on the episode's optimal U (the
    method's own for an oracle program; the ``bound`` program's for a policy), None when
    none was proven; ``terms`` the eight utility terms ($); ``kpis`` scalar KPIs;
    ``seconds`` the method's wall time (solve, or policy + simulation), bound excluded;
    ``extra`` further columns of the row (a training run's folder, steps, last gap).
    """

    status: str
    utility: float | None
    best_bound: float | None = None
    bound_method: str | None = None
    bound_status: str | None = None
    terms: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    bound_seconds: float = 0.0
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def check_forecast(spelling: str) -> None:
    """Raise ValueError unless ``spelling`` names a forecaster."""
    from aigc_opt.solvers.forecast import make_forecaster

    make_forecaster(spelling)


def load_full(ref: str) -> Scenario:
    """The whole scenario (every slot) of a shipped name or a TOML path."""
    from aigc_opt.data.catalog import load_scenario
    from aigc_opt.solvers.family_registry import family_for

    fam = family_for(ref)
    return load_scenario(ref) if fam is None else fam.load_scenario(ref)


def shipped_names() -> list[str]:
    from aigc_opt.data.catalog import shipped_names as names
    from aigc_opt.data.families import shipped_family_scenarios

    return [*names(), *shipped_family_scenarios()]


def _family(scn: Any) -> Any:
    """The scenario's family (`family_registry.Family`), None for ``aigc-dc``."""
    from aigc_opt.solvers.family_registry import get_family

    return get_family(getattr(scn, "family", "aigc-dc"))


def scenario_digest(scn: Scenario) -> str:
    """SHA-256 of the resolved scenario (parameters and every series; not its file path)."""
    if _family(scn) is not None:
        return str(scn.digest())
    data = {k: v for k, v in scn.to_dict().items() if k != "source"}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def gap(utility: float | None, bound: float | None) -> tuple[float | None, float | None]:
    """Gap of U to a certified bound: ($, % of max(|bound|, 1)) (`result.gap_to_bound`)."""
    from aigc_opt.solvers.result import gap_to_bound

    return gap_to_bound(utility, bound)


def versions() -> dict[str, str | None]:
    """Versions of aigc-opt and the solver libraries in this (worker) process."""
    from aigc_opt.solvers.store import run_metadata

    return run_metadata()


def flat_kpis(kpis: dict[str, Any]) -> dict[str, float]:
    """The scalar KPIs of `accounting.kpis`, energy by source as ``energy_<source>_mwh``."""
    out: dict[str, float] = {}
    for k, v in kpis.items():
        if isinstance(v, int | float):
            out[k] = float(v)
    for src, v in (kpis.get("energy_mwh") or {}).items():
        out[f"energy_{src}_mwh"] = float(v)
    return out


def _highs(time_limit: float | None = None, mip_gap: float = 1e-4) -> Any:
    from aigc_opt.solvers.highs import HighsOptions

    return HighsOptions(time_limit=time_limit, mip_gap=mip_gap, threads=1, seed=0)


def solve_program(
    scn: Scenario,
    program: str,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    integer_jobs: bool = False,
) -> Outcome:
    """Solve the episode's perfect-foresight ``program`` (milp, lp or convex)."""
    t0 = time.perf_counter()
    fam = _family(scn)
    if fam is not None:
        if program == "convex" and fam.convex is not None:
            res = fam.convex(scn, time_limit=time_limit)
        elif program in ("milp", "lp"):
            res = fam.solve(scn, relax=program == "lp", time_limit=time_limit, mip_gap=mip_gap,
                            threads=1)  # fmt: skip
        else:
            raise ValueError(f"family {fam.name} has no {program} program")
        out = family_outcome(res, time.perf_counter() - t0)
        valid = res.best_bound is not None and res.status in BOUND_OK
        out.best_bound = float(res.best_bound) if valid else None
        out.bound_method, out.bound_status = (f"oracle-{program}" if valid else None), res.status
        return out
    if program == "convex":
        from aigc_opt.solvers.convex import ConvexOptions, solve_convex

        res = solve_convex(scn, options=ConvexOptions(time_limit=time_limit))
    else:
        from aigc_opt.solvers.oracle import solve_oracle

        res = solve_oracle(
            scn,
            relax=program == "lp",
            integer_jobs=integer_jobs,
            options=_highs(time_limit, mip_gap),
        )
    seconds = time.perf_counter() - t0
    valid = res.best_bound is not None and res.status in BOUND_OK
    note = violation_note(res.violations)
    return Outcome(
        status=res.status,
        utility=res.utility,
        best_bound=float(res.best_bound) if valid else None,
        bound_method=f"oracle-{program}" if valid else None,
        bound_status=res.status,
        terms={k: float(v) for k, v in res.terms.items()},
        kpis=flat_kpis(res.kpis),
        seconds=seconds,
        message="; ".join(m for m in (res.message, f"the solution {note}" if note else "") if m),
    )


def make_policy(method: Any) -> Any:
    """A `Policy` for an ``mpc`` or ``heuristic`` method of the spec."""
    if method.kind == "mpc":
        from aigc_opt.solvers.mpc import MPCPolicy

        return MPCPolicy(
            method.lookahead,
            method.forecast,
            window=method.window,
            carry_weight=method.carry_weight,
            options=_highs(),
            name=method.name,
        )
    from aigc_opt.solvers.heuristics import HEURISTICS

    return HEURISTICS[method.name_]()


def play(scn: Scenario, method: Any, seed: int) -> Outcome:
    """One episode of an ``mpc`` or ``heuristic`` method through the simulator."""
    from aigc_opt.solvers.policy import run_episode

    fam = _family(scn)
    if fam is not None:  # the family's own simulator; its MPC forecasts perfectly
        name = "mpc" if method.kind == "mpc" else method.name_
        if name == "mpc" and method.forecast != "perfect":
            raise ValueError(f"family {fam.name}: MPC runs with perfect forecasts only")
        if name not in fam.policies:
            raise ValueError(f"family {fam.name} has no policy {name!r} ({fam.policies})")
        t0 = time.perf_counter()
        res = fam.run(scn, name, window=getattr(method, "lookahead", 12))
        return family_outcome(res, time.perf_counter() - t0)

    return episode_outcome(run_episode(scn, make_policy(method), seed=seed))


def episode_outcome(ep: Any) -> Outcome:
    """The row of one simulated episode (an `EpisodeResult`); a realized schedule that
    violates a constraint is reported as ``infeasible`` with the constraint named."""
    note = violation_note(ep.violations)
    return Outcome(
        status="infeasible" if note else ep.status,
        utility=float(ep.utility),
        terms={k: float(v) for k, v in ep.terms.items()},
        kpis=flat_kpis(ep.kpis),
        seconds=float(ep.seconds),
        message=f"the realized schedule {note}" if note else "",
    )


def family_outcome(res: Any, seconds: float) -> Outcome:
    """The row of a scenario family's result (`FamilyResult`): its status (``infeasible``
    when the schedule breaks a rule of its accounting), U, terms and scalar KPIs."""
    bad = res.violations[0]["constraint"] if res.violations else ""
    return Outcome(
        status="infeasible" if bad and res.status == "completed" else res.status,
        utility=res.utility,
        terms={k: float(v) for k, v in res.terms.items()},
        kpis={k: float(v) for k, v in res.kpis.items() if finite_number(v)},
        seconds=seconds,
        message="; ".join(m for m in (res.message, f"violates {bad}" if bad else "") if m),
    )


def finite_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def violation_note(violations: list[dict[str, Any]]) -> str:
    """``violates <constraint> (<index>) by <amount>[ and N more]``, or "" when none."""
    if not violations:
        return ""
    v = violations[0]
    more = f" and {len(violations) - 1} more" if len(violations) > 1 else ""
    return f"violates {v['constraint']} ({v['index']}) by {v['amount']:.6g}{more}"


def play_trained(full: Scenario, start: int, horizon: int, method: Any, path: str) -> Outcome:
    """One episode of a trained policy (file or ``module:function``) through the one episode
    loop (`run_episode` with the environment's encoder and decoder), with the environment
    options recorded in the run's ``train.json``."""
    from aigc_opt.drl_compare.env import AIGCDataCenterEnv
    from aigc_opt.drl_compare.policies import ENV_SHAPE_OPTIONS, EnvPolicy, load_policy, run_meta
    from aigc_opt.solvers.policy import run_episode

    meta = run_meta(path)
    opts = {k: v for k, v in (meta.get("env") or {}).items() if k in ENV_SHAPE_OPTIONS}
    env = AIGCDataCenterEnv(full, horizon=horizon, **opts)
    pol = load_policy(
        path, env.observation_space, env.action_space, trust=method.trust, squashed=method.squashed
    )
    kind = str(meta.get("algo") or pol.kind)
    policy = EnvPolicy(pol, method.name, kind=kind, env_options=opts)
    return episode_outcome(run_episode(full.cut(horizon=horizon, start=start), policy, seed=0))


def train_agent(ref: str, horizon: int, seed: int, params: dict[str, Any]) -> Outcome:
    """One training run of a ``[[train]]`` entry (`aigc_opt.drl_compare.train.train`, in
    this process) into the empty folder ``params["out"]`` (a partial folder left by an
    interrupted run is removed first); progress lines go to ``<out>.log``. The outcome has
    no utility (the trained policy's episodes are jobs of their own); ``extra`` holds the
    steps done, the ONNX file and the last validation gap (%) of the learning curve."""
    import shutil
    from pathlib import Path

    from aigc_opt.drl_compare.train import train

    out = Path(params["out"])
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(out.with_name(out.name + ".log"), "w") as log:
        meta = train(
            params["algo"],
            int(params["timesteps"]),
            out,
            scenario=ref,
            horizon=horizon,
            seed=seed,
            env_options={"reward_mode": params["reward"]},
            hyper=params.get("hyperparameters") or None,
            eval_every=int(params["eval_every"]),
            eval_episodes=int(params["eval_episodes"]),
            shaping=params["shaping"],
            log=log,
        )
    seconds = time.perf_counter() - t0
    curve = out / "learning_curve.csv"
    last_gap = float("nan")
    if curve.is_file():
        import pandas as pd

        last_gap = float(pd.read_csv(curve)["gap_pct_mean"].iloc[-1])
    shaping = meta.get("shaping")
    corr = (shaping.get("last") or {}).get("corr_buffer") if isinstance(shaping, dict) else None
    return Outcome(
        status="completed",
        utility=None,
        seconds=seconds,
        message=f"trained {params['algo']} for {params['timesteps']} steps",
        extra={
            "algo": params["algo"],
            "reward": params["reward"],
            "shaping": params["shaping"],
            "timesteps": int(params["timesteps"]),
            "val_gap_pct": last_gap,
            "shaping_corr": float("nan") if corr is None else float(corr),
        },
    )
