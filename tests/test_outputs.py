"""Output folders: ``--out`` checked before any work, written whole (a fresh folder renamed
into place, with a manifest), never mixing two runs, files honouring the umask."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.solvers import store


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line(res) -> str:
    out = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(out) == 1, res.stderr
    return out[0]


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if a command starts solving."""
    import aigc_opt.solvers.oracle as oracle

    def boom(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    monkeypatch.setattr(oracle, "solve_oracle", boom)


@pytest.mark.parametrize("command", [["solve"], ["run", "--policy", "greedy"], ["mpc"]])
def test_out_pointing_at_a_file_is_refused_before_any_work(tmp_path, no_solve, command):
    target = tmp_path / "afile"
    target.write_text("keep me")
    res = cli(*command, "-s", "tiny", "-H", "3", "--out", str(target))
    assert res.exit_code == 2
    line = one_line(res)
    assert "--out" in line and str(target) in line and "not a folder" in line
    assert target.read_text() == "keep me"


def test_out_below_a_file_and_foreign_folder_are_refused(tmp_path, no_solve):
    (tmp_path / "afile").write_text("")
    res = cli("solve", "-s", "tiny", "-H", "3", "--out", str(tmp_path / "afile" / "run"))
    assert res.exit_code == 2 and "is not a folder" in one_line(res)
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    res = cli("solve", "-s", "tiny", "-H", "3", "--out", str(home))
    assert res.exit_code == 2 and "not aigc-opt output" in one_line(res)
    assert (home / "thesis.tex").read_text() == "precious"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_in_a_read_only_folder_is_refused(tmp_path, no_solve):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    res = cli("solve", "-s", "tiny", "-H", "3", "--out", str(ro / "run"))
    assert res.exit_code == 2 and "not writable" in one_line(res)


def test_a_new_run_replaces_the_old_folder_as_a_whole(tmp_path):
    out = tmp_path / "run"
    assert cli("solve", "-s", "tiny", "-H", "3", "--out", str(out)).exit_code == 0
    (out / "schedule_stale.parquet").write_bytes(b"from another run")
    assert store.manifest_problem(out) is not None  # the folder now mixes two runs
    assert cli("solve", "-s", "tiny", "-H", "3", "--relax", "--out", str(out)).exit_code == 0
    assert not (out / "schedule_stale.parquet").exists()
    assert store.manifest_problem(out) is None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "solve"
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"manifest.json"}
    assert json.loads((out / "summary.json").read_text())["method"] == "oracle-lp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folders


def test_a_failed_write_leaves_the_previous_folder_untouched(tmp_path):
    out = tmp_path / "run"
    with store.output_dir(out, command="first") as tmp:
        store.write_json(tmp / "summary.json", {"status": "optimal"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError), store.output_dir(out, command="second") as tmp:
        store.write_json(tmp / "summary.json", {"status": "half"})
        raise RuntimeError("disk full")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_files_and_folders_honour_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        with store.output_dir(tmp_path / "run") as tmp:
            store.write_json(tmp / "summary.json", {"x": 1})
    finally:
        os.umask(old)
    run = tmp_path / "run"
    assert stat.S_IMODE((run / "summary.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((run / "manifest.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(run.stat().st_mode) == 0o777 & ~mask


def test_report_refuses_a_run_folder_that_disagrees_with_its_manifest(tmp_path):
    run = tmp_path / "runs" / "milp"
    assert cli("solve", "-s", "tiny", "-H", "3", "--out", str(run)).exit_code == 0
    (run / "schedule_old.parquet").write_bytes(b"left over")
    res = cli("report", str(tmp_path / "runs"), "--out", str(tmp_path / "rep"), "--no-figures")
    assert res.exit_code == 2
    line = one_line(res)
    assert str(run) in line and "schedule_old.parquet" in line and "manifest" in line
    assert not (tmp_path / "rep").exists()
    (run / "schedule_old.parquet").unlink()
    (run / "scenario.json").unlink()
    res = cli("report", str(tmp_path / "runs"), "--out", str(tmp_path / "rep"), "--no-figures")
    assert res.exit_code == 2 and "scenario.json" in one_line(res) and "missing" in res.stderr


def test_re_rendered_report_keeps_no_files_of_the_earlier_one(tmp_path):
    run = tmp_path / "runs" / "milp"
    assert cli("solve", "-s", "tiny", "-H", "3", "--out", str(run)).exit_code == 0
    rep = tmp_path / "rep"
    assert cli("report", str(run), "--out", str(rep), "--formats", "png").exit_code == 0
    pngs = list(rep.rglob("*.png"))
    assert pngs
    assert cli("report", str(run), "--out", str(rep), "--formats", "svg").exit_code == 0
    assert not list(rep.rglob("*.png")) and list(rep.rglob("*.svg"))
    assert store.manifest_problem(rep) is None
    manifest = json.loads((rep / "manifest.json").read_text())
    assert manifest["command"] == "report" and "index.md" in manifest["files"]
    assert manifest["figures"]  # the report's own entries are kept
