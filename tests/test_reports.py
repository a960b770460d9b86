"""Reports render every table and figure from stored results only."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt import HighsOptions, load_scenario, solve_oracle
from aigc_opt.cli import app
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports.reader import ReportInputError, discover
from aigc_opt.reports.report import render_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
OPTS = HighsOptions(threads=1, seed=0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results tree: oracle MILP and LP on `default` (4 data centers, 6 slots), three
    MPC-like runs with different forecast noise (edited copies of the MILP summary, with
    per-slot terms but no schedule tables), a bounds-style bundle summary, and a tidy
    comparison table."""
    root = tmp_path_factory.mktemp("runs")
    scn = load_scenario("default", horizon=6)
    milp = solve_oracle(scn, options=OPTS)
    lp = solve_oracle(scn, relax=True, options=OPTS)
    milp.write(root / "solve")
    lp.write(root / "solve-lp")
    base = json.loads((root / "solve" / "summary.json").read_text())
    for sigma, gap in ((0.0, 0.5), (0.1, 2.0), (0.2, 4.0)):
        d = root / "mpc" / f"noise-{sigma}"
        d.mkdir(parents=True)
        shutil.copy(root / "solve" / "per_slot.parquet", d)  # summary + per-slot terms only
        s = dict(
            base,
            method="mpc",
            oracle_bound=base["best_bound"],
            gap_pct=gap,
            utility=base["best_bound"] * (1 - gap / 100),
            options={
                "forecast": "perfect" if sigma == 0 else f"noisy:{sigma}",
                "lookahead": 3,
                "seed": 0,
            },
        )
        s["terms"] = dict(base["terms"])
        s["terms"]["energy_cost"] += base["utility"] - s["utility"]
        (d / "summary.json").write_text(json.dumps(s))
    bundle = root / "bounds"
    bundle.mkdir()
    conv = dict(
        base,
        method="oracle-convex",
        status="optimal",
        utility=base["best_bound"] * 1.01,
        best_bound=base["best_bound"] * 1.01,
    )
    (bundle / "summary.json").write_text(json.dumps({"convex": conv}))
    rows = []
    for ep in range(2):
        for name, u in (("ppo", 0.9), ("greedy", 0.8)):
            util = base["best_bound"] * (u + 0.01 * ep)
            rows += [
                ("ppo" if name == "ppo" else name, ep, "utility", util),
                (name, ep, "gap_pct", 100 * (1 - util / base["best_bound"])),
                (name, ep, "oracle_bound", base["best_bound"]),
            ]
            rows += [(name, ep, t, base["terms"][t]) for t in TERMS]
    df = pd.DataFrame(rows, columns=["method", "episode", "metric", "value"])
    df["scenario"] = "default"
    df["horizon"] = 6
    df.to_parquet(root / "compare.parquet", index=False)
    return root


@pytest.fixture(scope="module")
def report(runs: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report")
    return render_report([runs], out), out


def test_discovers_every_kind_of_input(runs: Path) -> None:
    col = discover([runs])
    methods = sorted(r.method for r in col.runs)
    assert methods == sorted(
        ["oracle-milp", "oracle-lp", "mpc", "mpc", "mpc", "oracle-convex", "ppo", "greedy"]
    )
    labels = [r.label for r in col.runs]
    assert len(set(labels)) == len(labels), labels
    # bounds first, then MPC by noise, then the rest
    assert [r.method for r in col.runs][:3] == ["oracle-convex", "oracle-lp", "oracle-milp"]
    assert [r.forecast_noise for r in col.runs if r.method == "mpc"] == [0.0, 0.1, 0.2]
    ppo = next(r for r in col.runs if r.method == "ppo")
    assert ppo.kind == "compare" and ppo.summary["episodes"] == 2
    assert ppo.gap_pct == pytest.approx(9.5)


def test_every_table_and_figure_is_written(report) -> None:
    res, out = report
    names = {p.name for p in res.files}
    for stem in ("summary", "energy_by_dc"):
        for ext in ("md", "tex", "csv"):
            assert f"{stem}.{ext}" in names
    stems = {p.stem for p in res.figures}
    for s in ("dispatch_oracle-milp", "soc_oracle-milp", "jobs_oracle-milp"):
        assert s in stems, sorted(stems)
    # runs and the comparison table's episode means are separate episode groups
    for s in ("utility_decomposition", "gap_to_bound", "cumulative_utility", "mpc_gap_vs_noise"):
        assert f"{s}_default_H6" in stems, sorted(stems)
    for s in ("utility_decomposition", "gap_to_bound"):
        assert f"{s}_default_H6_compare" in stems, sorted(stems)
    for p in res.files:
        assert p.is_file() and p.stat().st_size > 0, p
    for p in res.figures:
        magic = PNG_MAGIC if p.suffix == ".png" else PDF_MAGIC
        assert p.read_bytes()[: len(magic)] == magic, p
    assert {p.suffix for p in res.figures} == {".png", ".pdf"}
    assert not list(out.rglob("*.tmp"))


def test_csv_has_one_row_per_run_with_every_kpi(report) -> None:
    res, out = report
    df = pd.read_csv(out / "tables" / "summary.csv")
    assert len(df) == len(res.collection.runs)
    for col in (
        "utility_usd",
        "bound_usd",
        "gap_pct",
        *(f"{t}_usd" for t in TERMS),
        "energy_grid_mwh",
        "energy_renewable_used_mwh",
        "energy_renewable_curtailed_mwh",
        "energy_battery_charge_mwh",
        "energy_battery_discharge_mwh",
        "energy_generator_mwh",
        "carbon_t",
        "jobs_served",
        "jobs_transferred",
        "jobs_dropped",
        "mean_quality",
        "mean_wait_slots",
    ):
        assert col in df.columns, col
    milp = df[df["method"] == "oracle-milp"].iloc[0]
    stored = json.loads((res.collection.runs[2].path / "summary.json").read_text())
    assert milp["utility_usd"] == pytest.approx(stored["utility"], rel=1e-12)
    assert milp["bound_usd"] == pytest.approx(stored["best_bound"], rel=1e-12)


def _check_latex(text: str) -> None:
    begins = re.findall(r"\\begin\{(\w+\*?)\}", text)
    ends = re.findall(r"\\end\{(\w+\*?)\}", text)
    assert begins and sorted(begins) == sorted(ends), (begins, ends)
    stack: list[str] = []
    for m in re.finditer(r"\\(begin|end)\{(\w+\*?)\}", text):
        if m.group(1) == "begin":
            stack.append(m.group(2))
        else:
            assert stack and stack.pop() == m.group(2)
    assert not stack
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert rule in text
    assert text.index("\\toprule") < text.index("\\midrule") < text.index("\\bottomrule")
    body = text[text.index("\\toprule") : text.index("\\bottomrule")]
    ncols = len(re.search(r"\\begin\{tabular\}\{(\w+)\}", text).group(1))
    for line in body.splitlines():
        if line.endswith("\\\\") and "\\multicolumn" not in line:
            cells = re.split(r"(?<!\\)&", line)
            assert len(cells) == ncols, line
    # no unescaped special characters outside math and comments
    for line in text.splitlines():
        if line.startswith("%"):
            continue
        line = line.removesuffix("{%")  # \resizebox{...}{!}{% : a line-end comment
        plain = re.sub(r"\$[^$]*\$", "", line.replace("\\$", ""))
        assert not re.search(r"(?<!\\)[_%#]", plain), line
    assert text.count("{") == text.count("}")


def test_latex_tables_are_balanced_booktabs(report) -> None:
    _res, out = report
    for name in ("summary.tex", "energy_by_dc.tex"):
        _check_latex((out / "tables" / name).read_text())


def test_wide_latex_table_spans_text_width(runs: Path, tmp_path: Path) -> None:
    from aigc_opt.reports.tables import summary_frame, summary_latex

    col = discover([runs, runs / "solve"])  # the same run twice is read once
    assert len(col.runs) == 8
    frame = pd.concat([summary_frame(col.runs)] * 2, ignore_index=True)
    text = summary_latex(frame, caption="wide")
    assert "\\begin{table*}" in text and "\\resizebox{\\textwidth}" in text
    _check_latex(text)


def test_markdown_table_shows_every_metric(report) -> None:
    _res, out = report
    md = (out / "tables" / "summary.md").read_text()
    for label in (
        "Utility U ($)",
        "Upper bound ($)",
        "Gap to bound (%)",
        "Revenue ($)",
        "Battery wear ($)",
        "Grid (MWh)",
        "Renewables curtailed (MWh)",
        "Carbon (t CO2)",
        "Jobs served (jobs)",
        "Jobs transferred (jobs)",
        "Jobs dropped (jobs)",
        "Mean quality",
        "Mean wait (slots)",
    ):
        assert f"| {label} |" in md, label
    header = md.splitlines()[2]
    assert header.count("|") == 1 + 1 + 8  # metric + eight runs


def test_no_noise_figure_without_several_noise_levels(runs: Path, tmp_path: Path) -> None:
    res = render_report([runs / "solve", runs / "mpc" / "noise-0.1"], tmp_path, formats=("png",))
    stems = {p.stem for p in res.figures}
    assert "mpc_gap_vs_noise" not in stems
    assert "gap_to_bound" in stems


def test_summary_only_runs_give_tables_and_summary_figures(runs: Path, tmp_path: Path) -> None:
    res = render_report([runs / "bounds", runs / "compare.parquet"], tmp_path)
    assert (tmp_path / "tables" / "summary.tex").is_file()
    stems = {p.stem for p in res.figures}
    assert {"utility_decomposition_default_H6", "utility_decomposition_default_H6_compare"} <= stems
    assert not any(s.startswith("dispatch_") for s in stems)


def test_cli_report_and_errors(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = CliRunner().invoke(
        app, ["report", str(runs / "solve"), "--out", str(out), "--json", "--formats", "png"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["figures"] and all(f.endswith(".png") for f in doc["figures"])
    assert (out / "index.md").is_file() and (out / "manifest.json").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(app, ["report", str(empty), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "no results found" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(
        app, ["report", str(runs / "solve"), "--out", str(tmp_path / "y"), "--formats", "gif"]
    )
    assert res.exit_code == 2 and "--formats" in res.output


def test_reader_rejects_missing_and_corrupt_inputs(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such file"):
        discover([tmp_path / "nope"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{not json")
    with pytest.raises(ReportInputError, match="not valid JSON"):
        discover([bad])
