"""Learning curves of several `aigc-opt train` runs: validation gap to the bound against
environment steps, mean ± std over the runs (seeds) of each (algorithm, action mode).

Reads ``learning_curve.csv`` and ``train.json`` of every run directory given; prints one
table row per (algorithm, mode, evaluation step) and writes the figure.

    python benchmarks/learning_curves.py RUN [RUN ...] --out learning_curves.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from tabulate import tabulate


def curves(runs: list[Path]) -> pd.DataFrame:
    """One row per (run, evaluation): algo, action mode, seed, steps, gap (%)."""
    rows = []
    for run in runs:
        csv = run / "learning_curve.csv"
        if not csv.is_file():
            continue
        meta = json.loads((run / "train.json").read_text())
        df = pd.read_csv(csv)
        df["algo"], df["mode"] = meta["algo"], meta["env"]["action_mode"]
        df["seed"], df["budget"] = meta["seed"], meta["timesteps"]
        rows.append(df)
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("learning_curves.png"))
    args = ap.parse_args()
    df = curves(args.runs)
    # the last evaluation of a run is at its final step (≥ the budget): put it on the budget
    df["steps"] = df[["timesteps", "budget"]].min(axis=1)
    df = df.drop_duplicates(["algo", "mode", "seed", "budget", "steps"], keep="last")
    agg = (
        df.groupby(["algo", "mode", "budget", "steps"])["gap_pct_mean"]
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    print(tabulate(agg, headers="keys", showindex=False, floatfmt=".2f"))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for (algo, mode, budget), g in agg.groupby(["algo", "mode", "budget"]):
        ax.errorbar(
            g["steps"], g["mean"], yerr=g["std"].fillna(0.0), marker="o", markersize=3,
            capsize=2, label=f"{algo} {mode} ({int(g['count'].max())} seeds, {budget:,} steps)",
        )  # fmt: skip
    res0 = agg[(agg["mode"] == "residual") & (agg["steps"] == 0)]["mean"]
    if len(res0):  # residual mode's zero action is price-greedy: its gap at step 0
        ax.axhline(float(res0.iloc[0]), color="grey", linestyle="--", linewidth=0.8)
        ax.annotate("price-greedy", (0, float(res0.iloc[0])), fontsize=6, va="bottom")
    ax.set_xscale("symlog", linthresh=1000)  # short off-policy runs stay visible
    ax.set_xlim(left=0)
    ax.set_xlabel("environment steps (linear below 1,000, log above)")
    ax.set_ylabel("validation gap to the bound (%)")
    ax.set_yscale("log")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
