"""``aigc-opt train`` and ``aigc-opt compare``: the DRL comparison harness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aigc_opt.cli import (
    JsonOpt,
    OutOpt,
    ScenarioOpt,
    UserError,
    check_positive,
    emit_json,
    err_console,
    guarded,
    stdout_to_stderr,
)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(compare)


def train(
    algo: Annotated[str, typer.Option("--algo", help="ppo or sac")] = "ppo",
    timesteps: Annotated[int, typer.Option("--timesteps", help="Environment steps")] = 50_000,
    reward: Annotated[str, typer.Option("--reward", help="dense or sparse")] = "dense",
    out: Annotated[Path | None, typer.Option("--out", help="Run directory")] = None,
    scenario: ScenarioOpt = "default",
    horizon: Annotated[int, typer.Option("--horizon", "-H", help="Episode length")] = 24,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train a reference Stable-Baselines3 agent (CPU) on the environment."""

    def body() -> None:
        from aigc_opt.data.catalog import load_scenario
        from aigc_opt.drl_compare.train import ALGOS
        from aigc_opt.drl_compare.train import train as run_train

        if algo.lower() not in ALGOS:
            raise UserError(f"--algo = {algo!r}: choose one of {', '.join(ALGOS)}")
        if reward not in ("dense", "sparse"):
            raise UserError(f"--reward = {reward!r}: choose dense or sparse")
        check_positive("timesteps", timesteps)
        load_scenario(scenario, horizon=horizon)  # validates name and horizon first
        run_dir = out or Path("runs") / f"{algo.lower()}-{reward}-{timesteps}"
        with stdout_to_stderr() as real:
            meta = run_train(
                algo,
                timesteps,
                run_dir,
                reward=reward,
                scenario=scenario,
                horizon=horizon,
                seed=seed,
                progress=False,
            )
            if as_json:
                emit_json(meta, real)
        if not as_json:
            err_console.print(
                f"trained {meta['algo']} for {timesteps} steps in "
                f"{meta['train_seconds']:.1f} s → {meta['model']}"
            )

    guarded(body)


def compare(
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            help="Policy file (.zip SB3, .onnx, .pt/.pt2) or package.module:function; repeatable",
        ),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Allow loading formats that unpickle (SB3 .zip, .pt, .pt2, vecnormalize.pkl):"
            " they can run code. ONNX needs no trust",
        ),
    ] = False,
    baselines: Annotated[
        str, typer.Option("--baselines", help="Comma list of oracle,mpc,greedy,price-greedy,random")
    ] = "oracle,mpc,greedy",
    scenario: ScenarioOpt = "default",
    horizon: Annotated[int, typer.Option("--horizon", "-H", help="Episode length")] = 24,
    episodes: Annotated[int, typer.Option("--episodes", help="Episodes per method")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the episode draw")] = 0,
    mpc_forecast: Annotated[str, typer.Option("--mpc-forecast")] = "noisy:0.1",
    squashed: Annotated[
        bool, typer.Option("--squashed", help="ONNX outputs are in [-1, 1] and must be unscaled")
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run policies and baselines on identical episodes; report gaps to the oracle bound."""

    def body() -> None:
        from aigc_opt.cmd_families import family_command
        from aigc_opt.data.catalog import load_scenario
        from aigc_opt.drl_compare.compare import compare as run_compare
        from aigc_opt.drl_compare.compare import summarize
        from aigc_opt.drl_compare.env import AIGCDataCenterEnv
        from aigc_opt.drl_compare.policies import PolicyLoadError, load_policy

        if family_command(
            "compare", scenario, policy=policy, trust=trust, squashed=squashed,
            baselines=baselines, horizon=horizon, episodes=episodes, seed=seed, out=out,
            as_json=as_json,
        ):  # fmt: skip
            return
        check_positive("episodes", episodes)
        check_positive("horizon", horizon)
        full = load_scenario(scenario)
        load_scenario(scenario, horizon=horizon)  # validates the horizon
        env = AIGCDataCenterEnv(full, horizon=horizon)
        loaded: dict[str, Any] = {}
        for spec in policy or []:
            try:
                pol = load_policy(
                    spec, env.observation_space, env.action_space, trust=trust, squashed=squashed
                )
            except PolicyLoadError as exc:
                raise UserError(str(exc)) from None
            name = pol.name if pol.name not in loaded else f"{pol.name}-{len(loaded)}"
            loaded[f"{pol.kind}:{name}"] = pol
        bl = [b.strip() for b in baselines.split(",") if b.strip()]
        from rich.progress import Progress

        with stdout_to_stderr() as real, Progress(console=err_console, transient=True) as prog:
            task = prog.add_task("comparing", total=episodes)

            def tick(msg: str) -> None:
                prog.update(task, advance=1, description=msg)

            try:
                df = run_compare(
                    full,
                    loaded,
                    baselines=bl,
                    horizon=horizon,
                    episodes=episodes,
                    seed=seed,
                    mpc_forecast=mpc_forecast,
                    progress=tick,
                )
            except ValueError as exc:
                raise UserError(str(exc)) from None
            rows = summarize(df)
            result = {
                "scenario": full.name,
                "horizon": horizon,
                "episodes": episodes,
                "seed": seed,
                "baselines": bl,
                "methods": rows,
            }
            if out is not None:
                from aigc_opt.solvers.store import run_metadata, write_json, write_parquet

                write_parquet(
                    Path(out) / "compare.parquet",
                    df,
                    {"scenario": full.name, "horizon": horizon, "seed": seed},
                )
                write_json(Path(out) / "compare.json", {**result, "versions": run_metadata()})
            if as_json:
                emit_json(result, real)
        if not as_json:
            _print(result)

    guarded(body)


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from aigc_opt.formulations.accounting import TERMS

    t = Table(
        title=f"compare · {result['scenario']} · horizon {result['horizon']} · "
        f"{result['episodes']} episodes · seed {result['seed']}"
    )
    for col in (
        "method",
        "utility mean ± std ($)",
        "gap to bound ($)",
        "gap to bound (%)",
        "gap to MPC ($)",
        "s/episode",
    ):
        t.add_column(col, justify="right" if col != "method" else "left")
    for r in result["methods"]:
        t.add_row(
            r["method"],
            f"{r['utility_mean']:,.2f} ± {r['utility_std']:,.2f}",
            f"{r['gap_mean']:,.2f}",
            f"{r['gap_pct']:.2f}",
            "—" if "gap_to_mpc_mean" not in r else f"{r['gap_to_mpc_mean']:,.2f}",
            f"{r['seconds_mean']:.2f}",
        )
    c = Console()
    c.print(t)
    terms = Table(title="mean utility terms per episode ($)")
    terms.add_column("method")
    for n in TERMS:
        terms.add_column(n, justify="right")
    for r in result["methods"]:
        terms.add_row(r["method"], *(f"{r['terms'][n]:,.2f}" for n in TERMS))
    c.print(terms)
