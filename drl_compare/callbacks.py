"""Training callbacks of `aigc_opt.drl_compare.train` (need the rl extra): progress lines
(which also end the training at a stop request, `aigc_opt.solvers.interrupt`) and the
learning curve of the gap to the certified bound on validation episodes: `ValidationGap`
for any learner's own loop, `GapCurve` for Stable-Baselines3 learners."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback


class Progress(BaseCallback):
    """One line on ``log`` every ~5 % of the budget (or 30 s): steps, episodes, mean
    episode utility ($) of the last 20 training episodes, elapsed time."""

    def __init__(self, total: int, log: Any):
        super().__init__()
        self.total, self.log = total, log
        self.every = max(1, total // 20)
        self.next, self.t0, self.last = self.every, time.perf_counter(), 0.0
        self.utils: list[float] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "episode_utility" in info:
                self.utils.append(float(info["episode_utility"]))
        now = time.perf_counter()
        if self.num_timesteps >= self.next or now - self.last > 30:
            self.next = (self.num_timesteps // self.every + 1) * self.every
            self.last = now
            recent = self.utils[-20:]
            mean = f"{sum(recent) / len(recent):,.1f} $" if recent else "—"
            print(
                f"step {self.num_timesteps}/{self.total} "
                f"({100 * self.num_timesteps / self.total:.0f} %), "
                f"episodes {len(self.utils)}, mean episode utility {mean}, "
                f"{now - self.t0:.0f} s",
                file=self.log,
                flush=True,
            )
        from aigc_opt.solvers import interrupt

        return not interrupt.requested()  # a stop request ends the training early


_BOUNDS: dict[tuple[str, int, int], float] = {}
"""Oracle best bounds ($) of validation episodes, per (scenario, horizon, start): solved
once per process and shared by every run that evaluates on the same episodes."""


class ValidationGap:
    """The learning curve of any policy: `evaluate` plays ``episodes`` validation episodes
    (`aigc_opt.drl_compare.splits`, ``val``; the same ones whatever the training seed, so
    curves of several seeds compare) with a deterministic ``obs → action`` map through
    `run_episode` and logs the mean gap (%) to the oracle's certified bound. ``seed`` is
    kept for the record only."""

    def __init__(self, scenario, horizon, opts, episodes, seed, log):  # noqa: ANN001
        from aigc_opt.data.catalog import load_scenario
        from aigc_opt.drl_compare.compare import episode_starts

        self.name = str(scenario)
        self.full = load_scenario(scenario)
        self.starts = episode_starts(self.full, horizon, episodes, 0, "val")  # same for all seeds
        self.horizon, self.opts, self.log = horizon, opts, log
        self.rows: list[dict[str, Any]] = []
        self.logger: Any = None  # set by `GapCurve` to its SB3 learner's logger

    def _bound(self, start: int) -> float:
        key = (self.name, self.horizon, start)
        if key not in _BOUNDS:
            from aigc_opt.solvers.oracle import solve_oracle

            res = solve_oracle(self.full.cut(horizon=self.horizon, start=start))
            if res.best_bound is None:
                raise RuntimeError(f"validation start {start}: no oracle bound")
            _BOUNDS[key] = float(res.best_bound)
        return _BOUNDS[key]

    def evaluate(self, act: Any, timesteps: int) -> dict[str, Any]:
        """Play the validation episodes with ``act`` (flat observation → flat action) and
        append a row (timesteps, mean U $, mean and std of the gap %)."""
        import numpy as np

        from aigc_opt.drl_compare.policies import EnvPolicy
        from aigc_opt.solvers.policy import run_episode
        from aigc_opt.solvers.result import gap_to_bound

        pol = EnvPolicy(act, "eval", env_options=self.opts)
        utils, gaps = [], []
        for s in self.starts:
            ep = run_episode(self.full.cut(horizon=self.horizon, start=s), pol, seed=s)
            utils.append(ep.utility)
            gaps.append(gap_to_bound(ep.utility, self._bound(s))[1])
        row = {
            "timesteps": int(timesteps),
            "utility_mean": float(np.mean(utils)),
            "gap_pct_mean": float(np.mean(gaps)),
            "gap_pct_std": float(np.std(gaps, ddof=1)) if len(gaps) > 1 else 0.0,
        }
        self.rows.append(row)
        if self.logger is not None:  # an SB3 learner's logger (TensorBoard scalars)
            self.logger.record("eval/gap_to_bound_pct", row["gap_pct_mean"])
            self.logger.record("eval/utility_usd", row["utility_mean"])
            self.logger.dump(row["timesteps"])  # at the evaluation's own step
        print(
            f"eval at {row['timesteps']}: gap to bound {row['gap_pct_mean']:.2f} % "
            f"(utility {row['utility_mean']:,.1f} $, {len(utils)} validation episodes)",
            file=self.log,
            flush=True,
        )
        return row

    def write(self, out: Path) -> str:
        """``learning_curve.csv`` and ``learning_curve.png`` under ``out``; returns the CSV."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd

        df = pd.DataFrame(self.rows)
        df.to_csv(out / "learning_curve.csv", index=False)
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.errorbar(df["timesteps"], df["gap_pct_mean"], yerr=df["gap_pct_std"], marker="o")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("gap to the oracle bound (%)")
        ax.set_title(f"validation episodes ({len(self.starts)})")
        fig.tight_layout()
        fig.savefig(out / "learning_curve.png", dpi=120)
        plt.close(fig)
        return str(out / "learning_curve.csv")


class GapCurve(BaseCallback):
    """`ValidationGap` every ``every`` steps of an SB3 learner (and at its start and end).

    ``policy_of(model)`` gives the deterministic flat ``obs → action`` map to evaluate;
    by default the model's own prediction on the VecNormalize-d observation."""

    def __init__(  # noqa: ANN001
        self, scenario, horizon, opts, every, episodes, seed, log, policy_of=None
    ):
        super().__init__()
        self.curve = ValidationGap(scenario, horizon, opts, episodes, seed, log)
        self.every, self.next = every, every
        self.policy_of = policy_of

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.curve.rows

    def _act(self) -> Any:
        import numpy as np

        if self.policy_of is not None:
            return self.policy_of(self.model)
        venv, model = self.model.get_env(), self.model

        def act(obs: np.ndarray) -> np.ndarray:
            o = venv.normalize_obs(obs[None].astype(np.float32))
            return model.predict(o, deterministic=True)[0][0]

        return act

    def evaluate(self) -> dict[str, Any]:
        return self.curve.evaluate(self._act(), self.num_timesteps)

    def _on_training_start(self) -> None:
        self.curve.logger = self.logger
        self.evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next:
            self.next += self.every
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if not self.rows or self.rows[-1]["timesteps"] != self.num_timesteps:
            self.evaluate()

    def write(self, out: Path) -> str:
        return self.curve.write(out)
