"""HiGHS' LP methods on one size's LP relaxation (array backend): seconds and status of
each, one run each, under a time limit. Prints a Markdown table.

    python benchmarks/lp_methods.py [--size L] [--methods simplex ipx hipo] [--limit 120]
"""

from __future__ import annotations

import argparse
import time

from registry import SIZES, scenario

from aigc_opt.formulations.highs_arrays import build_arrays
from aigc_opt.solvers.highs import ArrayHighs, HighsOptions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="L", choices=sorted(SIZES))
    ap.add_argument("--methods", nargs="+", default=["simplex", "ipx", "hipo"])
    ap.add_argument("--limit", type=float, default=120.0)
    args = ap.parse_args()
    prog = build_arrays(scenario(SIZES[args.size]), relax=True)
    print(f"LP relaxation of {args.size}: {prog.n_cols} columns, {prog.n_rows} rows")
    print("| method | termination | objective | solve s | simplex it | ipm it |")
    print("|---|---|---|---|---|---|")
    for method in args.methods:
        solver = ArrayHighs(HighsOptions(solver=method, time_limit=args.limit))
        solver.pass_program(prog)
        t0 = time.perf_counter()
        out = solver.solve()
        obj = "—" if out.objective is None else f"{out.objective:,.2f}"
        print(
            f"| {method} | {out.termination} | {obj} | {time.perf_counter() - t0:.1f} | "
            f"{out.info['simplex_iterations']} | {out.info['ipm_iterations']} |"
        )


if __name__ == "__main__":
    main()
