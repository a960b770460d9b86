"""Reports render every table and figure from stored results only."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt import HighsOptions, load_scenario, solve_oracle
from aigc_opt.cli import app
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.reports.reader import discover
from aigc_opt.reports.report import render_report
from aigc_opt.reports.stored_run import ReportInputError
from aigc_opt.solvers.convex import solve_convex

OPTS = HighsOptions(threads=1, seed=0)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
H = 6
"""Horizon of the stored runs (slots of the `default` scenario)."""
NOISE = (0.0, 0.1, 0.2)
"""Forecast noise σ of the stored MPC runs (0 = perfect forecasts)."""


def cli(*args: str) -> Any:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results tree written by the commands themselves (``--out``): ``bounds`` (MILP, LP
    and convex run directories and their bundle ``bounds.json``), ``mpc`` at three forecast
    noise levels, and ``compare`` (a tidy comparison table of two heuristics)."""
    root = tmp_path_factory.mktemp("runs")
    common = ("--scenario", "default", "--horizon", str(H))
    cli("bounds", *common, "--out", str(root / "bounds"))
    for sigma in NOISE:
        forecast = "perfect" if sigma == 0 else f"noisy:{sigma}"
        out = root / "mpc" / f"noise-{sigma}"
        cli("mpc", *common, "--lookahead", "3", "--forecast", forecast, "--out", str(out))
    cli(
        "compare",
        *common,
        *("--baselines", "greedy,price-greedy", "--episodes", "2"),
        *("--out", str(root / "compare")),
    )
    return root


def stored_summaries(root: Path) -> dict[Path, dict]:
    """Every ``summary.json`` under ``root``, read with the json module."""
    return {p.parent: json.loads(p.read_text()) for p in sorted(root.rglob("summary.json"))}


def compare_means(root: Path) -> pd.DataFrame:
    """Per (method, metric) means over episodes of the stored comparison table."""
    df = pd.read_parquet(root / "compare" / "compare.parquet")
    return df.groupby(["method", "metric"])["value"].mean().unstack()


@pytest.fixture(scope="module")
def report(runs: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report")
    return render_report([runs], out), out


def test_discovers_every_run_the_commands_wrote(runs: Path) -> None:
    col = discover([runs])
    stored = stored_summaries(runs)
    means = compare_means(runs)
    want = sorted([s["method"] for s in stored.values()] + list(means.index))
    assert sorted(r.method for r in col.runs) == want
    assert len(col.runs) == len(stored) + len(means)
    labels = [r.label for r in col.runs]
    assert len(set(labels)) == len(labels), labels
    # bounds first (loosest to tightest), then MPC by noise, then the rest
    assert [r.method for r in col.runs][:3] == ["oracle-convex", "oracle-lp", "oracle-milp"]
    assert [r.forecast_noise for r in col.runs if r.is_mpc] == list(NOISE)
    for r in col.runs:
        if r.kind == "compare":
            assert r.summary["episodes"] == 2
            assert r.gap_pct == pytest.approx(means.loc[r.method, "gap_pct"], rel=1e-12)
            assert r.utility == pytest.approx(means.loc[r.method, "utility"], rel=1e-12)


def csv_row(out: Path, method: str) -> pd.Series:
    df = pd.read_csv(out / "tables" / "summary.csv")
    rows = df[df["method"] == method]
    assert len(rows) == 1, (method, list(df["method"]))
    return rows.iloc[0]


def test_report_numbers_equal_optima_solved_again_in_memory(report, runs: Path) -> None:
    """``bounds --out`` → files → ``report``: the LP and convex optima in the report's CSV
    equal the same programs solved again in memory (their optimal values are unique); the
    MILP incumbent lies below the LP bound within its gap; no policy beats its bound, and
    the MPC runs' bound (on the same episode) is below the convex bound."""
    _res, out = report
    scn = load_scenario("default", horizon=H)
    lp = solve_oracle(scn, relax=True, options=OPTS)
    conv = solve_convex(scn)
    assert lp.status == conv.status == "optimal"
    assert csv_row(out, "oracle-lp")["utility_usd"] == pytest.approx(lp.utility, rel=1e-7)
    assert csv_row(out, "oracle-convex")["utility_usd"] == pytest.approx(conv.utility, rel=1e-6)
    milp = csv_row(out, "oracle-milp")
    assert milp["status"] == "optimal"
    assert milp["utility_usd"] <= milp["bound_usd"] <= lp.utility * (1 + 1e-7)
    assert milp["bound_usd"] - milp["utility_usd"] <= 1e-4 * abs(milp["utility_usd"])
    df = pd.read_csv(out / "tables" / "summary.csv")
    policies = df[~df["method"].str.startswith("oracle")]
    # MPC runs, the comparison's two methods (means over episodes), and the comparison's
    # per-episode run folders (one per method and episode, drawn like any run)
    episode_runs = list((runs / "compare" / "runs").rglob("summary.json"))
    assert len(episode_runs) == 2 * 2
    assert len(policies) == len(NOISE) + 2 + len(episode_runs)
    assert (policies["utility_usd"] <= policies["bound_usd"] * (1 + 1e-9)).all()
    mpc = policies[policies["method"].str.startswith("mpc")]  # the same episode as the bounds
    assert len(mpc) == len(NOISE)
    assert (mpc["bound_usd"] <= conv.utility * (1 + 1e-6)).all()


def test_out_then_report_round_trip(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """What ``solve --json --out`` prints is what ``report`` finds in what it stored."""
    run = tmp_path / "lp"
    res = CliRunner().invoke(
        app,
        ["solve", "--relax", "--horizon", str(H), "--threads", "1", "--json", "--out", str(run)],
    )
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout or capfd.readouterr().out)  # solver fd 1 is redirected
    rep = CliRunner().invoke(app, ["report", str(run), "--out", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    row = csv_row(tmp_path / "rep", printed["method"])
    assert row["status"] == printed["status"]
    assert row["utility_usd"] == pytest.approx(printed["utility"], rel=1e-12)
    assert row["bound_usd"] == pytest.approx(printed["best_bound"], rel=1e-12)
    for n in TERMS:
        assert row[f"{n}_usd"] == pytest.approx(printed["terms"][n], rel=1e-12, abs=1e-9), n
    k = printed["kpis"]
    for key in ("jobs_served", "jobs_transferred", "jobs_dropped", "carbon_t", "mean_quality"):
        assert row[key] == pytest.approx(k[key], rel=1e-12, abs=1e-9), key
    for src, v in k["energy_mwh"].items():
        if f"energy_{src}_mwh" in row:
            assert row[f"energy_{src}_mwh"] == pytest.approx(v, rel=1e-12, abs=1e-9), src


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
        assert f"{s}_default_H{H}" in stems, sorted(stems)
    for s in ("utility_decomposition", "gap_to_bound"):
        assert f"{s}_default_H{H}_compare" in stems, sorted(stems)
    for p in res.files:
        assert p.is_file() and p.stat().st_size > 0, p
    for p in res.figures:
        magic = PNG_MAGIC if p.suffix == ".png" else PDF_MAGIC
        assert p.read_bytes()[: len(magic)] == magic, p
    assert {p.suffix for p in res.figures} == {".png", ".pdf"}
    assert not list(out.rglob("*.tmp"))


def test_csv_has_one_row_per_run_with_every_kpi(report, runs: Path) -> None:
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
    by_source = df.set_index("source")
    for folder, stored in stored_summaries(runs).items():
        row = by_source.loc[str(folder)]
        assert row["utility_usd"] == pytest.approx(stored["utility"], rel=1e-12)
        assert row["status"] == stored["status"]
        bound = stored.get("best_bound", stored.get("oracle_bound"))
        assert row["bound_usd"] == pytest.approx(bound, rel=1e-12)


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

    col = discover([runs, runs / "bounds" / "milp"])  # the same run twice is read once
    assert len(col.runs) == len(discover([runs]).runs)
    frame = pd.concat([summary_frame(col.runs)] * 2, ignore_index=True)
    text = summary_latex(frame, caption="wide")
    assert "\\begin{table*}" in text and "\\resizebox{\\textwidth}" in text
    _check_latex(text)


def test_markdown_table_shows_every_metric(report) -> None:
    res, out = report
    md = (out / "tables" / "summary.md").read_text()
    rows = [ln for ln in md.splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]
    assert all(len(c) == 1 + len(res.collection.runs) for c in cells)  # metric + one per run
    assert cells[0][1:] == [r.label for r in res.collection.runs]
    labels = [c[0] for c in cells[2:]]
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
        assert label in labels, label


def test_no_noise_figure_without_several_noise_levels(runs: Path, tmp_path: Path) -> None:
    res = render_report(
        [runs / "bounds" / "milp", runs / "mpc" / "noise-0.1"], tmp_path, formats=("png",)
    )
    stems = {p.stem for p in res.figures}
    assert "mpc_gap_vs_noise" not in stems
    assert "gap_to_bound" in stems


def test_summary_only_runs_give_tables_and_summary_figures(runs: Path, tmp_path: Path) -> None:
    """The bundle ``bounds`` writes (one JSON of named summaries, here away from its run
    directories) and the comparison table: tables and summary figures, no dispatch."""
    bundle = tmp_path / "saved" / "bounds.json"
    bundle.parent.mkdir()
    shutil.copy(runs / "bounds" / "bounds.json", bundle)
    col = discover([bundle])
    assert {r.kind for r in col.runs} == {"bundle"}
    assert sorted(r.method for r in col.runs) == sorted(
        json.loads(bundle.read_text())[k]["method"] for k in json.loads(bundle.read_text())
    )
    res = render_report([bundle, runs / "compare" / "compare.parquet"], tmp_path / "rep")
    assert (tmp_path / "rep" / "tables" / "summary.tex").is_file()
    stems = {p.stem for p in res.figures}
    assert {f"utility_decomposition_default_H{H}", f"gap_to_bound_default_H{H}"} <= stems, stems
    assert not any(s.startswith("dispatch_") for s in stems)


def test_cli_report_and_errors(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = CliRunner().invoke(
        app,
        ["report", str(runs / "bounds" / "milp"), "--out", str(out), "--json", "--formats", "png"],
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
        app, ["report", str(runs / "bounds"), "--out", str(tmp_path / "y"), "--formats", "gif"]
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
