"""Training callbacks of `aigc_opt.drl_compare.train` (need the rl extra): progress lines
and the learning curve of the gap to the certified bound on validation episodes."""

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
        return True


class GapCurve(BaseCallback):
    """Gap to the certified bound on validation episodes every ``every`` steps."""

    def __init__(self, scenario, horizon, opts, every, episodes, seed, log):  # noqa: ANN001
        super().__init__()
        from aigc_opt.data.catalog import load_scenario
        from aigc_opt.drl_compare.compare import episode_starts

        self.full = load_scenario(scenario)
        self.starts = episode_starts(self.full, horizon, episodes, seed, "val")
        self.horizon, self.opts, self.every, self.log = horizon, opts, every, log
        self.next = every
        self.bounds: dict[int, float] = {}
        self.rows: list[dict[str, Any]] = []

    def _bound(self, start: int) -> float:
        if start not in self.bounds:
            from aigc_opt.solvers.oracle import solve_oracle

            res = solve_oracle(self.full.cut(horizon=self.horizon, start=start))
            if res.best_bound is None:
                raise RuntimeError(f"validation start {start}: no oracle bound")
            self.bounds[start] = float(res.best_bound)
        return self.bounds[start]

    def evaluate(self) -> dict[str, Any]:
        import numpy as np

        from aigc_opt.drl_compare.policies import EnvPolicy
        from aigc_opt.solvers.policy import run_episode
        from aigc_opt.solvers.result import gap_to_bound

        venv, model = self.model.get_env(), self.model

        def act(obs: np.ndarray) -> np.ndarray:
            o = venv.normalize_obs(obs[None].astype(np.float32))
            return model.predict(o, deterministic=True)[0][0]

        pol = EnvPolicy(act, "eval", env_options=self.opts)
        utils, gaps = [], []
        for s in self.starts:
            ep = run_episode(self.full.cut(horizon=self.horizon, start=s), pol, seed=s)
            utils.append(ep.utility)
            gaps.append(gap_to_bound(ep.utility, self._bound(s))[1])
        row = {
            "timesteps": int(self.num_timesteps),
            "utility_mean": float(np.mean(utils)),
            "gap_pct_mean": float(np.mean(gaps)),
            "gap_pct_std": float(np.std(gaps, ddof=1)) if len(gaps) > 1 else 0.0,
        }
        self.rows.append(row)
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

    def _on_training_start(self) -> None:
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
