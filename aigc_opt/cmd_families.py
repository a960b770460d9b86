"""Command bodies for scenario families other than ``aigc-dc``.

Each command keeps its own options; a one-line hook at the top of its body calls
`family_command`, which returns False for an ``aigc-dc`` scenario (the command goes on as
before) and otherwise runs the family's version and returns True. JSON output carries the
keys of the ``aigc-dc`` commands (``status``, ``utility``, ``best_bound``, ``terms`` …) plus
``family``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aigc_opt.cli import UserError, check_positive, emit_json, stdout_to_stderr
from aigc_opt.solvers.family_registry import Family, family_for, get_family


def family_command(command: str, scenario: str | None = None, **opts: Any) -> bool:
    """Run ``command`` for a family scenario; False when the scenario is ``aigc-dc``.

    ``scenarios`` takes ``family=`` instead of a scenario.
    """
    if command == "scenarios":
        fam = get_family(opts.pop("family"))
    else:
        fam = family_for(scenario or "default")
    if fam is None:
        return False
    handler = _HANDLERS.get(command)
    if handler is None:
        raise UserError(f"`{command}` is not available yet for family {fam.name}")
    handler(fam, scenario, **opts)
    return True


def _list(fam: Family, _scenario: Any, *, as_json: bool = False) -> None:
    rows = [fam.load_scenario(n).summary() for n in fam.scenarios()]
    if as_json:
        emit_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"shipped scenarios · family {fam.name}")
    cols = list(rows[0]) if rows else ["family", "name"]
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*(str(r[c]) for c in cols))
    Console().print(t)


def _print_results(title: str, results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    first = next(iter(results.values()))
    cols = ["program", "status", "U ($)", "best bound ($)", *first.terms, "seconds"]
    for c in cols:
        t.add_column(c, justify="left" if c in ("program", "status") else "right")

    def f(v: Any) -> str:  # 4 decimals for small-dollar families (edge tasks earn cents)
        return "—" if v is None else f"{v:,.2f}" if abs(v) >= 100 else f"{v:,.4f}"

    for key, r in results.items():
        t.add_row(
            key,
            r.status,
            f(r.utility),
            f(r.best_bound),
            *(f(r.terms.get(k)) for k in first.terms),
            f"{r.build_seconds + r.solve_seconds:.2f}",
        )
    Console().print(t)


def _write(out: Path | None, name: str, payload: dict[str, Any]) -> None:
    if out is None:
        return
    from aigc_opt.solvers.store import write_json

    write_json(Path(out) / name, payload)


def _solve(
    fam: Family,
    scenario: str,
    *,
    horizon: int | None,
    start: int,
    relax: bool = False,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int = 0,
    seed: int = 0,
    out: Path | None = None,
    as_json: bool = False,
    **_ignored: Any,
) -> None:
    scn = fam.load_scenario(scenario, horizon, start)
    with stdout_to_stderr() as real_stdout:
        res = fam.solve(
            scn, relax=relax, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed
        )
        _write(out, "summary.json", res.summary())
        if as_json:
            emit_json(res.summary(), real_stdout)
    if not as_json:
        _print_results(f"{fam.name} · {scn.name} · horizon {scn.T}", {res.method: res})


def _bounds(
    fam: Family,
    scenario: str,
    *,
    horizon: int | None,
    start: int,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    out: Path | None = None,
    as_json: bool = False,
    **_ignored: Any,
) -> None:
    scn = fam.load_scenario(scenario, horizon, start)
    with stdout_to_stderr() as real_stdout:
        results = fam.bounds(scn, time_limit=time_limit, mip_gap=mip_gap)
        payload = {k: r.summary() for k, r in results.items()}
        # the LP's bound is its optimum; its `utility` re-accounts a fractional schedule
        lp, milp = results["lp"].best_bound, results["milp"].utility
        ok = None if lp is None or milp is None else lp >= milp - 1e-6 * max(1.0, abs(milp))
        if "convex" in results and ok is not None:  # U_convex ≥ U_LP (to the LP's 1e-6)
            cvx = results["convex"].best_bound
            ok = None if cvx is None else ok and cvx >= lp - 1e-6 * max(1.0, abs(lp))
        payload["ordering_holds"] = ok
        _write(out, "summary.json", payload)  # a bundle of runs (`aigc-opt report` reads it)
        if as_json:
            emit_json(payload, real_stdout)
    if not as_json:
        _print_results(f"{fam.name} bounds · {scn.name} · horizon {scn.T}", results)
        from rich.console import Console

        verdict = "—" if ok is None else "holds" if ok else "VIOLATED"
        order = "U_convex ≥ U_LP ≥ U_MILP" if "convex" in results else "U_LP ≥ U_MILP"
        Console().print(f"ordering {order}: {verdict}")


def _play(
    fam: Family,
    scenario: str,
    *,
    policy: str,
    horizon: int | None,
    start: int,
    lookahead: int = 12,
    oracle_time_limit: float | None = None,
    out: Path | None = None,
    as_json: bool = False,
    **_ignored: Any,
) -> None:
    if policy not in fam.policies:
        raise UserError(f"--policy = {policy!r}: choose one of {', '.join(fam.policies)}")
    if lookahead < 1:
        raise UserError(f"--lookahead = {lookahead}: must be ≥ 1")
    check_positive("oracle-time-limit", oracle_time_limit)
    scn = fam.load_scenario(scenario, horizon, start)
    from aigc_opt.solvers.result import gap_to_bound

    with stdout_to_stderr() as real_stdout:
        res = fam.run(scn, policy, window=lookahead)
        oracle = fam.solve(scn, time_limit=oracle_time_limit)
        bound = oracle.best_bound if oracle.status in ("optimal", "time_limit") else None
        gap_usd, gap_pct = gap_to_bound(res.utility, bound)
        payload = res.summary() | {
            "oracle_bound": bound,
            "oracle_utility": oracle.utility,
            "oracle_status": oracle.status,
            "gap_usd": gap_usd,
            "gap_pct": gap_pct,
        }
        _write(out, "summary.json", payload)
        if as_json:
            emit_json(payload, real_stdout)
    if not as_json:
        _print_results(
            f"{fam.name} · {scn.name} · horizon {scn.T}", {policy: res, "oracle": oracle}
        )


def _mpc(fam: Family, scenario: str, **opts: Any) -> None:
    if "mpc" not in fam.policies:
        raise UserError(f"`mpc` is not available yet for family {fam.name}")
    _play(fam, scenario, policy="mpc", **opts)


_HANDLERS: dict[str, Callable[..., None]] = {
    "scenarios": _list,
    "solve": _solve,
    "bounds": _bounds,
    "run": _play,
    "mpc": _mpc,
}


def _compare(
    fam: Family,
    scenario: str,
    *,
    policy: list[str] | None = None,
    trust: bool = False,
    squashed: bool = False,
    baselines: str = "",
    horizon: int = 24,
    episodes: int = 5,
    seed: int = 0,
    out: Path | None = None,
    as_json: bool = False,
    **_ignored: Any,
) -> None:
    """Loaded policies (in the family's environment) and the family's baselines on the same
    episodes (start slots drawn with ``seed``); each episode's gap to the oracle's bound."""
    if fam.make_env is None:
        raise UserError(f"family {fam.name} has no Gymnasium environment")
    from aigc_opt.drl_compare.policies import PolicyLoadError, load_policy
    from aigc_opt.solvers.result import gap_to_bound

    check_positive("episodes", episodes)
    check_positive("horizon", horizon)
    full = fam.load_scenario(scenario)
    fam.load_scenario(scenario, horizon, 0)  # validates the horizon
    rng = np.random.default_rng(seed)
    starts = sorted(int(s) for s in rng.integers(0, full.T - horizon + 1, size=episodes))
    probe = fam.make_env(full.cut(horizon=horizon, start=starts[0]))
    loaded: dict[str, Any] = {}
    for spec in policy or []:
        try:
            pol = load_policy(
                spec, probe.observation_space, probe.action_space, trust=trust, squashed=squashed
            )
        except PolicyLoadError as exc:
            raise UserError(str(exc)) from None
        loaded[f"{pol.kind}:{pol.name}"] = pol
    wanted = [b.strip() for b in baselines.split(",") if b.strip() and b.strip() != "oracle"]
    bl = [b for b in wanted if b in fam.policies]
    if not any(b != "mpc" for b in bl):  # e.g. the aigc-dc defaults: add the heuristics
        bl += [p for p in fam.policies if p != "mpc"]
    rows: list[dict[str, Any]] = []
    with stdout_to_stderr() as real_stdout:
        for start in starts:
            scn = full.cut(horizon=horizon, start=start)
            oracle = fam.solve(scn)
            bound = oracle.best_bound if oracle.status in ("optimal", "time_limit") else None
            found = {"oracle": (oracle.utility, oracle.terms)}
            for name in bl:
                r = fam.run(scn, name)
                found[name] = (r.utility, r.terms)
            for name, pol in loaded.items():
                env = fam.make_env(scn)
                obs, _ = env.reset(seed=seed)
                done, info = False, {}
                while not done:
                    obs, _, done, _, info = env.step(pol(obs))
                found[name] = (info["episode_utility"], info["episode_terms"])
            for name, (u, terms) in found.items():
                usd, pct = gap_to_bound(u, bound)
                rows.append(
                    {"start": start, "method": name, "utility": u, "oracle_bound": bound,
                     "oracle_status": oracle.status, "gap_usd": usd, "gap_pct": pct,
                     "terms": terms}
                )  # fmt: skip
        methods = []
        for name in dict.fromkeys(r["method"] for r in rows):
            mine = [r for r in rows if r["method"] == name]
            methods.append(
                {
                    "method": name,
                    "episodes": len(mine),
                    "utility_mean": float(np.mean([r["utility"] for r in mine])),
                    "gap_pct_mean": float(np.mean([r["gap_pct"] for r in mine]))
                    if all(r["gap_pct"] is not None for r in mine)
                    else None,
                }
            )
        result = {
            "family": fam.name, "scenario": full.name, "horizon": horizon, "episodes": episodes,
            "seed": seed, "baselines": ["oracle", *bl], "methods": methods, "rows": rows,
        }  # fmt: skip
        _write(out, "compare.json", result)
        _write(out, "summary.json", _mean_runs(fam, full.name, horizon, rows))
        if as_json:
            emit_json(result, real_stdout)
    if not as_json:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{fam.name} compare · {full.name} · {episodes} × {horizon} slots")
        for c in ("method", "episodes", "mean U ($)", "mean gap to bound (%)"):
            t.add_column(c, justify="left" if c == "method" else "right")
        for m in methods:
            gap = "—" if m["gap_pct_mean"] is None else f"{m['gap_pct_mean']:.3f}"
            t.add_row(m["method"], str(m["episodes"]), f"{m['utility_mean']:,.4f}", gap)
        Console().print(t)


def _mean_runs(
    fam: Family, scenario: str, horizon: int, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per method, the means over the episodes (U, bound, gap, terms) in the keys of a
    run summary, so ``aigc-opt report`` reads the folder as a bundle of runs."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]

        def mean(key: str, rs: list[dict[str, Any]] = mine) -> float | None:
            vals = [r[key] for r in rs]
            return None if any(v is None for v in vals) else float(np.mean(vals))

        out[name] = {
            "family": fam.name, "scenario": scenario, "horizon": horizon, "method": name,
            "status": "mean", "episodes": len(mine), "utility": mean("utility"),
            "oracle_bound": mean("oracle_bound"), "gap_pct": mean("gap_pct"),
            "terms": {k: float(np.mean([r["terms"][k] for r in mine])) for k in fam.terms},
        }  # fmt: skip
    return out


def _train(
    fam: Family,
    scenario: str,
    *,
    algo: str = "ppo",
    timesteps: int | None = None,
    out: Path | None = None,
    horizon: int = 24,
    seed: int = 0,
    as_json: bool = False,
    **_ignored: Any,
) -> None:
    """A reference SB3 agent in the family's environment (random starts; `family_train`),
    with SB3's own hyper-parameters and `OTHER_TIMESTEPS` steps unless told."""
    from aigc_opt.cli import err_console
    from aigc_opt.drl_compare.family_train import train_family
    from aigc_opt.drl_compare.policies import PolicyLoadError
    from aigc_opt.drl_compare.train import OTHER_TIMESTEPS, unique_run_dir

    timesteps = OTHER_TIMESTEPS if timesteps is None else timesteps
    check_positive("timesteps", timesteps)
    if fam.make_env is None:
        raise UserError(f"family {fam.name} has no Gymnasium environment")
    run_dir = out or unique_run_dir(Path("runs") / f"{fam.name}-{algo.lower()}-{timesteps}")
    with stdout_to_stderr() as real:
        try:
            meta = train_family(fam, scenario, algo, timesteps, run_dir, horizon=horizon, seed=seed)
        except PolicyLoadError as exc:
            raise UserError(str(exc)) from None
        except ValueError as exc:
            raise UserError(str(exc).splitlines()[0]) from None
        if as_json:
            emit_json(meta, real)
    if not as_json:
        err_console.print(
            f"trained {meta['algo']} on {fam.name} for {timesteps} steps in "
            f"{meta['train_seconds']:.1f} s → {run_dir}"
        )


_HANDLERS["compare"] = _compare
_HANDLERS["train"] = _train
