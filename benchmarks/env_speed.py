"""Environment speed: steps per second of ``aigc_opt/AIGCDataCenter-v0``, single process.

Random actions (seeded) on a shipped scenario; episodes restart when they end; 200 steps
of warm-up (the decoder's compiled kernels load on first use) are not timed. Prints one
table row per action mode: steps per wall-clock second and per CPU second of this process
(on a shared machine the wall figure is inflated by other processes; the CPU figure less).

    python benchmarks/env_speed.py [--scenario default] [--horizon 24] [--seconds 5]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from tabulate import tabulate

import aigc_opt


def measure(scenario: str, horizon: int, mode: str, seconds: float) -> tuple[int, float, float]:
    env = gym.make(aigc_opt.ENV_ID, scenario=scenario, horizon=horizon, action_mode=mode)
    env.reset(seed=0)
    env.action_space.seed(0)
    acts = np.stack([env.action_space.sample() for _ in range(1000)])
    for i in range(200):  # warm up: loads the decoder's compiled kernels
        if env.step(acts[i])[2]:
            env.reset()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(acts[n % len(acts)])
        n += 1
        if term or trunc:
            env.reset()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n, n / wall, n / cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="default")
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    rows = []
    for mode in ("direct", "residual"):
        n, wall, cpu = measure(args.scenario, args.horizon, mode, args.seconds)
        rows.append([args.scenario, args.horizon, mode, n, f"{wall:,.0f}", f"{cpu:,.0f}"])
    print(
        tabulate(
            rows,
            headers=["scenario", "h", "action mode", "steps", "steps/s (wall)", "steps/CPU-s"],
        )
    )


if __name__ == "__main__":
    main()
