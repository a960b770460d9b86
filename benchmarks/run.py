"""Build and solve times of both backends at the sizes of `registry.SIZES`, and MPC
seconds per slot; prints a Markdown table and writes JSON.

Each (size, backend) run happens in a fresh subprocess (so its peak resident memory is
its own); a figure is the median of ``--runs`` runs. Build seconds cover the program
build and the hand-off to HiGHS; solve seconds the solve (MIP start included).

    python benchmarks/run.py [--sizes S M L XL XXL] [--backends highs pyomo] [--runs 3]
        [--skip-pyomo L XL XXL] [--mpc] [--build-only] [--out benchmarks/results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def one(size_name: str, backend: str, build: bool = False) -> dict:
    """Build and solve one size with one backend in this process."""
    from registry import SIZES, scenario

    from aigc_opt.solvers.highs import HighsOptions
    from aigc_opt.solvers.oracle import solve_oracle

    size = SIZES[size_name]
    scn = scenario(size)
    if size.build_only or build:
        return build_only(size, scn, backend)
    opts = HighsOptions(time_limit=size.time_limit, mip_gap=size.mip_gap)
    res = solve_oracle(scn, relax=size.relax, options=opts, backend=backend)  # type: ignore[arg-type]
    o = res.options
    return {
        "size": size_name,
        "backend": backend,
        "program": "LP" if size.relax else "MILP",
        "variables": o.get("variables"),
        "rows": o.get("rows"),
        "nonzeros": o.get("nonzeros"),
        "build_s": res.build_seconds,
        "solve_s": res.solve_seconds,
        "termination": res.status,
        "solution_status": res.solution_status,
        "utility": res.utility,
        "best_bound": res.best_bound,
        "gap_pct": None if res.mip_gap is None else 100.0 * res.mip_gap,
        "time_limit": size.time_limit,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def build_only(size: Any, scn: Any, backend: str) -> dict:
    """Build the size's program and hand it to HiGHS (``passModel`` for ``highs``, appsi's
    ``set_instance`` for ``pyomo``) without solving."""
    t0 = time.perf_counter()
    if backend == "highs":
        from aigc_opt.formulations.highs_arrays import build_arrays
        from aigc_opt.solvers.highs import ArrayHighs

        solver = ArrayHighs()
        solver.pass_program(build_arrays(scn, relax=size.relax))
        h = solver.h
    else:
        from aigc_opt.formulations.milp import build_milp
        from aigc_opt.solvers.highs import HighsOptions
        from aigc_opt.solvers.highs_pyomo import HighsSolver

        pyomo_solver = HighsSolver(HighsOptions())
        pyomo_solver.set_instance(build_milp(scn, relax=size.relax).model)
        h = pyomo_solver.highs
    return {
        "size": size.name,
        "backend": backend,
        "program": ("LP" if size.relax else "MILP") + " (build only)",
        "variables": int(h.getNumCol()),
        "rows": int(h.getNumRow()),
        "nonzeros": int(h.getNumNz()),
        "build_s": time.perf_counter() - t0,
        "solve_s": None,
        "termination": None,
        "gap_pct": None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _child(size: str, backend: str, build: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", size, backend]
        + (["--build-only"] if build else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    row = dict(runs[len(runs) // 2])
    for key in ("build_s", "solve_s", "peak_rss_mb"):
        if row.get(key) is not None:
            row[key] = statistics.median(r[key] for r in runs)
    row["runs"] = len(runs)
    return row


def mpc_rows(runs: int, horizon: int = 168, lookahead: int = 24) -> list[dict]:
    """MPC seconds per slot on ``default``: array window, Pyomo window, array rebuild."""
    from mpc_persistent import _Timed

    from aigc_opt.data.catalog import load_scenario
    from aigc_opt.solvers.policy import run_episode

    scn = load_scenario("default", horizon=horizon)
    out: dict[str, list[float]] = {}
    util: dict[str, float] = {}
    for _ in range(runs):
        for backend in ("highs", "pyomo"):
            pol = _Timed(lookahead, "lp", every=8, backend=backend)
            ep = run_episode(scn, pol, seed=0)
            util[backend] = ep.utility
            out.setdefault(f"{backend} persistent", []).append(statistics.fmean(pol.persistent))
            if backend == "highs":
                out.setdefault("highs rebuild", []).append(statistics.fmean(pol.rebuilt))
    return [
        {
            "method": k,
            "s_per_slot": statistics.median(v),
            "episode_s": statistics.median(v) * horizon,
            "utility": util[k.split()[0]],
            "runs": len(v),
        }
        for k, v in out.items()
    ]


def header() -> str:
    libs = ", ".join(f"{p} {version(p)}" for p in ("highspy", "pyomo", "numpy", "scipy"))
    return (
        f"{datetime.now(UTC).isoformat(timespec='seconds')} · {platform.node()} · "
        f"{platform.processor() or platform.machine()} · Python {platform.python_version()} · "
        f"{libs}"
    )


def table(rows: list[dict], mpc: list[dict]) -> str:
    cols = ["size", "backend", "program", "variables", "rows", "nonzeros", "build_s"]
    cols += ["solve_s", "termination", "gap_pct", "peak_rss_mb", "runs"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if isinstance(v, float):
                v = f"{v:.4f}" if c == "gap_pct" else f"{v:.2f}"
            cells.append("—" if v is None else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    if mpc:
        lines += ["", "| MPC (default, 168 slots, L = 24, LP window) | s/slot | 168 slots s |"]
        lines += ["|---|---|---|"]
        for m in mpc:
            lines.append(f"| {m['method']} | {m['s_per_slot']:.4f} | {m['episode_s']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=2, metavar=("SIZE", "BACKEND"))
    ap.add_argument("--sizes", nargs="+", default=["S", "M", "L", "XL"])
    ap.add_argument("--backends", nargs="+", default=["highs", "pyomo"])
    ap.add_argument("--skip-pyomo", nargs="*", default=["L", "XL", "XXL"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mpc", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="build and hand off, no solve")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(*args.child, build=args.build_only)))
        return
    rows = []
    for size in args.sizes:
        for backend in args.backends:
            if backend == "pyomo" and size in args.skip_pyomo:
                continue
            t0 = time.perf_counter()
            runs = [_child(size, backend, args.build_only) for _ in range(args.runs)]
            rows.append(_median(runs))
            print(f"{size} {backend}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    mpc = mpc_rows(args.runs) if args.mpc else []
    head = header()
    print(head)
    print(table(rows, mpc))
    args.out.write_text(json.dumps({"header": head, "sizes": rows, "mpc": mpc}, indent=2))


if __name__ == "__main__":
    main()
