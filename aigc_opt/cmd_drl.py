"""``aigc-opt train`` and ``aigc-opt compare``: the DRL comparison harness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from aigc_opt.cli import (
    SEED_MAX,
    JsonOpt,
    OutOpt,
    ScenarioOpt,
    UserError,
    check_positive,
    emit_json,
    err_console,
    stdout_to_stderr,
)
from aigc_opt.policy_guard import GuardedPolicy
from aigc_opt.solvers import interrupt


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(compare)


def train(
    algo: Annotated[
        str, typer.Option("--algo", help="ppo, sac, td3, a2c, d2sac or ippo (multi-agent)")
    ] = "ppo",
    timesteps: Annotated[
        int | None,
        typer.Option(
            "--timesteps",
            help="Environment steps [default: 300000 for ppo on aigc-dc scenarios, else 100000]",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="New run directory (never overwritten)")
    ] = None,
    n_envs: Annotated[int, typer.Option("--n-envs", help="Environment copies (vector env)")] = 1,
    action_mode: Annotated[
        str, typer.Option("--action-mode", help="residual (adjust price-greedy) or direct")
    ] = "residual",
    reward: Annotated[str, typer.Option("--reward", help="dense, sparse or delayed:K")] = "dense",
    shaping: Annotated[
        str, typer.Option("--shaping", help="none, diffusion or rrd (sparse/delayed reward)")
    ] = "none",
    forecast: Annotated[
        str | None, typer.Option("--forecast", help="Observation forecaster, e.g. noisy:0.1")
    ] = None,
    forecast_slots: Annotated[
        int, typer.Option("--forecast-slots", help="Forecast slots in observations")
    ] = 0,
    hp: Annotated[
        list[str] | None,
        typer.Option("--hp", help="Hyper-parameter KEY=VALUE (JSON value); repeatable"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML with tables named hyperparameters and env"),
    ] = None,
    eval_every: Annotated[
        int, typer.Option("--eval-every", help="Steps between validation evaluations (0: off)")
    ] = 0,
    eval_episodes: Annotated[int, typer.Option("--eval-episodes")] = 3,
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", help="Steps between checkpoints (0: off)")
    ] = 0,
    scenario: ScenarioOpt = "default",
    horizon: Annotated[int, typer.Option("--horizon", "-H", help="Episode length")] = 24,
    seed: Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train a reference Stable-Baselines3 agent (CPU) on the environment's train split."""

    def body() -> None:
        import json

        from aigc_opt.cmd_families import family_command
        from aigc_opt.data.catalog import load_scenario

        if family_command(
            "train", scenario, algo=algo, timesteps=timesteps, out=out, horizon=horizon,
            seed=seed, as_json=as_json,
        ):  # fmt: skip
            return
        from aigc_opt.drl_compare.env import parse_reward_mode
        from aigc_opt.drl_compare.policies import PolicyLoadError, require_rl
        from aigc_opt.drl_compare.train import (
            ALGOS,
            check_run_dir,
            default_timesteps,
            unique_run_dir,
        )
        from aigc_opt.drl_compare.train import train as run_train

        budget = timesteps if timesteps is not None else default_timesteps(algo)

        if algo.lower() not in ALGOS:
            raise UserError(f"--algo = {algo!r}: choose one of {', '.join(ALGOS)}")
        try:
            parse_reward_mode(reward)
        except ValueError as exc:
            raise UserError(f"--reward: {exc}") from None
        if action_mode not in ("direct", "residual"):
            raise UserError(f"--action-mode = {action_mode!r}: choose direct or residual")
        from aigc_opt.drl_compare.shaping import check_options

        try:
            check_options(algo.lower(), reward, shaping)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        check_positive("timesteps", budget)
        check_positive("n-envs", n_envs)
        check_positive("eval-every", eval_every, allow_zero=True)
        check_positive("checkpoint-every", checkpoint_every, allow_zero=True)
        try:
            require_rl("aigc-opt train", ("torch", "stable_baselines3", "onnx"))
        except PolicyLoadError as exc:
            raise UserError(str(exc)) from None
        load_scenario(scenario, horizon=horizon)  # validates name and horizon first
        hyper: dict[str, Any] = {}
        env_opts: dict[str, Any] = {}
        if config is not None:
            import tomllib

            try:
                data = tomllib.loads(config.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise UserError(f"{config}: cannot read the TOML ({exc})") from None
            hyper.update(data.get("hyperparameters", {}))
            env_opts.update(data.get("env", {}))
        for item in hp or []:
            key, sep, val = item.partition("=")
            if not sep or not key:
                raise UserError(f"--hp {item!r}: expected KEY=VALUE")
            try:
                hyper[key] = json.loads(val)
            except ValueError:
                hyper[key] = val
        env_opts.update({"action_mode": action_mode, "reward_mode": reward})
        if forecast_slots:
            env_opts.update({"forecast": forecast or "perfect", "forecast_slots": forecast_slots})
        if out is not None:
            try:  # before the heavy imports of training
                run_dir = check_run_dir(out)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        else:
            run_dir = unique_run_dir(Path("runs") / f"{algo.lower()}-{action_mode}-{budget}")
        with stdout_to_stderr() as real:
            try:
                meta = run_train(
                    algo,
                    budget,
                    run_dir,
                    scenario=scenario,
                    horizon=horizon,
                    seed=seed,
                    n_envs=n_envs,
                    env_options=env_opts,
                    hyper=hyper,
                    eval_every=eval_every,
                    eval_episodes=eval_episodes,
                    checkpoint_every=checkpoint_every,
                    log=err_console.file,
                    shaping=shaping,
                )
            except (TypeError, ValueError) as exc:
                raise UserError(str(exc).splitlines()[0]) from None
            if as_json:
                emit_json(meta, real)
        if not as_json:
            err_console.print(
                f"trained {meta['algo']} for {budget} steps in "
                f"{meta['train_seconds']:.1f} s → {run_dir}"
            )

    body()


def compare(
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            help="[NAME=]PATH: policy file (.zip SB3, .onnx, .pt/.pt2) or package.module:function;"
            " repeatable; labels must be unique",
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
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=SEED_MAX, help="Seed of the episode draw")
    ] = 0,
    split: Annotated[
        str, typer.Option("--split", help="Episode starts: test (default), val, train or all")
    ] = "test",
    mpc_forecast: Annotated[str, typer.Option("--mpc-forecast")] = "noisy:0.1",
    mpc_lookahead: Annotated[int, typer.Option("--mpc-lookahead", help="MPC window (slots)")] = 24,
    oracle_time_limit: Annotated[
        float | None,
        typer.Option("--oracle-time-limit", help="Per-episode oracle limit (s); bound stays valid"),
    ] = None,
    action_mode: Annotated[
        str | None,
        typer.Option("--action-mode", help="direct or residual (default: the run's, else direct)"),
    ] = None,
    forecast: Annotated[
        str | None, typer.Option("--forecast", help="Observation forecaster, e.g. noisy:0.1")
    ] = None,
    forecast_slots: Annotated[
        int | None, typer.Option("--forecast-slots", help="Forecast slots in observations")
    ] = None,
    env_config: Annotated[
        Path | None,
        typer.Option(
            "--env-config", help="TOML with environment options (table named env, or top level)"
        ),
    ] = None,
    squashed: Annotated[
        bool, typer.Option("--squashed", help="ONNX outputs are in [-1, 1] and must be unscaled")
    ] = False,
    stochastic: Annotated[
        bool,
        typer.Option(
            "--stochastic",
            help="Sample SB3 policies' actions (seeded per episode) instead of the"
            " deterministic ones; ONNX/TorchScript exports are deterministic and refused",
        ),
    ] = False,
    arrivals: Annotated[
        str,
        typer.Option(
            "--arrivals",
            help="profile (the scenario's series) or poisson (drawn per episode around it;"
            " the oracle bound is solved on the realised arrivals)",
        ),
    ] = "profile",
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run policies and baselines on identical episodes; report gaps to the oracle bound.

    A policy action holding NaN or ±inf, or a policy that raises, stops the comparison
    with one line naming the policy, episode and slot (exit 2); nothing is clipped.
    """

    def body() -> None:
        from aigc_opt.cmd_families import family_command
        from aigc_opt.data.catalog import load_scenario
        from aigc_opt.drl_compare.compare import BASELINES, summarize
        from aigc_opt.drl_compare.compare import compare as run_compare
        from aigc_opt.drl_compare.splits import SPLITS

        if family_command(
            "compare", scenario, policy=policy, trust=trust, squashed=squashed,
            baselines=baselines, horizon=horizon, episodes=episodes, seed=seed, out=out,
            as_json=as_json,
        ):  # fmt: skip
            return
        check_positive("episodes", episodes)
        check_positive("horizon", horizon)
        check_positive("mpc-lookahead", mpc_lookahead)
        check_positive("oracle-time-limit", oracle_time_limit)
        if split not in SPLITS:
            raise UserError(f"--split = {split!r}: choose one of {', '.join(SPLITS)}")
        from aigc_opt.drl_compare.arrivals import ARRIVALS

        if arrivals not in ARRIVALS:
            raise UserError(f"--arrivals = {arrivals!r}: choose one of {', '.join(ARRIVALS)}")
        full = load_scenario(scenario)
        load_scenario(scenario, horizon=horizon)  # validates the horizon
        bl = [b.strip() for b in baselines.split(",") if b.strip()]
        flags = {
            k: v
            for k, v in (
                ("action_mode", action_mode),
                ("forecast", forecast),
                ("forecast_slots", forecast_slots),
            )
            if v is not None
        }
        from aigc_opt.drl_compare.loading import PolicyLoadError, load_labelled

        if stochastic and not policy:
            raise UserError("--stochastic: no --policy to sample from")
        try:
            loaded = load_labelled(
                policy or [],
                full,
                horizon,
                reserved=tuple(BASELINES),
                trust=trust,
                squashed=squashed,
                deterministic=not stochastic,
                env_config=env_config,
                overrides=flags,
                wrap=GuardedPolicy,
            )
        except (PolicyLoadError, ValueError) as exc:
            raise UserError(str(exc)) from None
        from rich.progress import Progress

        with stdout_to_stderr() as real, Progress(console=err_console, transient=True) as prog:
            task = prog.add_task("comparing", total=episodes)

            def tick(msg: str) -> None:
                prog.update(task, advance=1, description=msg)
                for pol in loaded.values():
                    pol.model.fn.next_episode()
                interrupt.check(f"the comparison ({msg})")

            try:
                res = run_compare(
                    full,
                    loaded,
                    baselines=bl,
                    horizon=horizon,
                    episodes=episodes,
                    seed=seed,
                    split=split,
                    mpc_forecast=mpc_forecast,
                    mpc_lookahead=mpc_lookahead,
                    oracle_time_limit=oracle_time_limit,
                    progress=tick,
                    arrivals=arrivals,
                )
            except ValueError as exc:
                raise UserError(str(exc)) from None
            except RuntimeError:  # e.g. an oracle stopped by a signal gave no bound
                interrupt.check("the comparison")
                raise
            rows = summarize(res.frame)
            result = {
                "scenario": full.name,
                "horizon": horizon,
                "episodes": episodes,
                "seed": seed,
                "split": split,
                "arrivals": arrivals,
                "stochastic": stochastic,
                "baselines": [b for b in bl if b in BASELINES],
                "policies": {
                    k: {"kind": p.kind, "deterministic": not stochastic, **p.env_options}
                    for k, p in loaded.items()
                },
                "methods": rows,
            }
            if out is not None:
                _write(Path(out), res, result, full)
            if as_json:
                emit_json(result, real)
        if not as_json:
            _print(result)

    body()


def _write(out: Path, res: Any, result: dict[str, Any], full: Any) -> None:
    """compare.parquet (tidy), compare.json, and one run folder per (method, episode)
    written like `aigc-opt run --out` (summary, schedule, per-slot terms)."""
    from aigc_opt.solvers.store import (
        output_dir,
        run_metadata,
        write_json,
        write_parquet,
        write_run,
    )

    with output_dir(out, command="compare") as tmp:
        write_parquet(
            tmp / "compare.parquet",
            res.frame,
            {"scenario": full.name, "horizon": result["horizon"], "seed": result["seed"]},
        )
        write_json(tmp / "compare.json", {**result, "versions": run_metadata()})
        for label, e, ep, bound in res.runs:
            scn = full.cut(horizon=ep.horizon, start=ep.start)
            write_run(tmp / "runs" / label / f"episode-{e}", ep.summary(bound), ep.schedule, scn)


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from aigc_opt.formulations.accounting import TERMS

    extra = "".join(
        (
            f" · split {result['split']}",
            " · poisson arrivals" if result.get("arrivals") == "poisson" else "",
            " · sampled policy actions" if result.get("stochastic") else "",
        )
    )
    t = Table(
        title=f"compare · {result['scenario']} · horizon {result['horizon']} · "
        f"{result['episodes']} episodes · seed {result['seed']}{extra}"
    )
    for col in (
        "method",
        "utility mean ± std ($)",
        "95 % CI ($)",
        "gap to bound ($)",
        "gap to bound (%) ± CI",
        "gap to MPC ($)",
        "s/episode",
    ):
        t.add_column(col, justify="right" if col != "method" else "left")
    for r in result["methods"]:
        t.add_row(
            r["method"],
            f"{r['utility_mean']:,.2f} ± {r['utility_std']:,.2f}",
            "—" if r["utility_ci95"] is None else f"± {r['utility_ci95']:,.2f}",
            f"{r['gap_mean']:,.2f}",
            f"{r['gap_pct']:.2f}"
            + ("" if r["gap_pct_ci95"] is None else f" ± {r['gap_pct_ci95']:.2f}"),
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
