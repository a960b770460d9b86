"""Seconds per MPC slot: one persistent window model updated per slot vs rebuilding it.

Runs MPC (perfect forecaster) through the simulator on ``default`` at horizon 168 and
lookahead 24 with the persistent window (built once, Params updated, HiGHS re-solving
from its previous basis). On every ``--rebuild-every``-th slot it also times what a
controller without a persistent model would do for that same observation: build the
window program from scratch, hand it to a fresh HiGHS instance and solve
it cold. Prints a table and the ratio of the mean seconds per slot.

    python benchmarks/mpc_persistent.py [--scenario default] [--horizon 168]
        [--lookahead 24] [--rebuild-every 8] [--window lp|milp] [--backend highs|pyomo]
"""

from __future__ import annotations

import argparse
import statistics
import time

from aigc_opt.data.catalog import load_scenario
from aigc_opt.solvers.mpc import MPCPolicy
from aigc_opt.solvers.policy import run_episode
from aigc_opt.solvers.simulator import Observation, SlotDecisions


class _Timed:
    """The persistent MPC, timing each `act`, plus a rebuilt window on some slots."""

    def __init__(self, lookahead: int, window: str, every: int, backend: str = "highs"):
        w = window
        self.mpc = MPCPolicy(lookahead, "perfect", window=w, backend=backend)  # type: ignore[arg-type]
        self.rebuild = MPCPolicy(lookahead, "perfect", window=w, backend=backend)  # type: ignore[arg-type]
        self.name = self.mpc.name
        self.every = every
        self.persistent: list[float] = []
        self.rebuilt: list[float] = []

    def reset(self, scenario, seed=None) -> None:
        self.scenario, self.seed = scenario, seed
        self.mpc.reset(scenario, seed)

    def act(self, obs: Observation) -> SlotDecisions:
        if obs.t % self.every == 0:
            t0 = time.perf_counter()
            self.rebuild.reset(self.scenario, self.seed)  # build + set_instance
            self.rebuild.act(obs)  # update Params + cold solve
            self.rebuilt.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dec = self.mpc.act(obs)
        self.persistent.append(time.perf_counter() - t0)
        return dec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="default")
    ap.add_argument("--horizon", type=int, default=168)
    ap.add_argument("--lookahead", type=int, default=24)
    ap.add_argument("--rebuild-every", type=int, default=8)
    ap.add_argument("--window", choices=("lp", "milp"), default="lp")
    ap.add_argument("--backend", choices=("highs", "pyomo"), default="highs")
    args = ap.parse_args()
    scn = load_scenario(args.scenario, horizon=args.horizon)
    pol = _Timed(args.lookahead, args.window, args.rebuild_every, args.backend)
    t0 = time.perf_counter()
    ep = run_episode(scn, pol, seed=0)
    total = time.perf_counter() - t0
    rows = [
        ("persistent (built once, Params updated)", pol.persistent),
        ("rebuild each slot (build + cold solve)", pol.rebuilt),
    ]
    print(
        f"MPC {args.window} window, scenario {args.scenario}, horizon {args.horizon}, "
        f"lookahead {args.lookahead}; episode utility {ep.utility:,.2f} $, "
        f"episode wall time {total:.1f} s (includes the rebuilt windows)"
    )
    print(f"{'method':<42} | {'slots':>5} | {'mean s/slot':>11} | {'median s/slot':>13}")
    print(f"{'-' * 42}-+-{'-' * 5}-+-{'-' * 11}-+-{'-' * 13}")
    for label, xs in rows:
        print(
            f"{label:<42} | {len(xs):>5} | {statistics.fmean(xs):>11.4f} | "
            f"{statistics.median(xs):>13.4f}"
        )
    ratio = statistics.fmean(pol.rebuilt) / statistics.fmean(pol.persistent)
    print(f"ratio rebuild / persistent (mean seconds per slot): {ratio:.1f}x")
    print(
        f"first persistent slot (cold solve): {pol.persistent[0]:.4f} s; "
        f"build of the persistent window: {pol.mpc.info['build_seconds']:.3f} s"
    )


if __name__ == "__main__":
    main()
