"""Learned agents in an experiment: the spec's ``[[train]]`` entries.

Each entry is trained once per seed of the spec, per scenario and horizon, by a job of
kind ``train``: `aigc_opt.drl_compare.train.train` called in the worker process (no
subprocess) on the scenario's ``train`` split, writing its run folder
``OUT/train/<key>/`` (``model.onnx``, ``train.json``, ``learning_curve.csv`` with the gap
to the certified bound on validation episodes every ``eval_every`` steps, …) and its log
``OUT/train/<key>.log``. Its row (``results/<key>.parquet``) records the wall time and
the CPU time of the run (``cpu_seconds``, process time of the worker), the steps done and
the last validation gap. A train job's key hashes the scenario's content, the horizon,
the seed and the entry's parameters (not its label), so a finished run is never redone;
an interrupted one leaves no row and is trained again from scratch.

Once a run finished, its deterministic ONNX actor becomes a ``policy`` method labelled by
the entry's label and plays every episode of the spec (`policy_jobs`), with the run's
seed as the job's seed; its key includes the ONNX file's digest, like any policy job.

On a Dask cluster the workers write the run folders, so ``OUT`` must be on a file system
they share with the experiment process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aigc_opt.experiments.jobs import EpisodeSet, Job

if TYPE_CHECKING:
    from aigc_opt.experiments.adapter import Outcome
    from aigc_opt.experiments.spec import Spec

TRAIN_DIR = "train"
"""Folder of the run folders inside an experiment folder."""


def train_jobs(spec: Spec, sets: list[EpisodeSet]) -> list[Job]:
    """One ``train`` job per entry, scenario, horizon and seed (``start`` = −1)."""
    jobs: list[Job] = []
    seen: set[tuple[str, int]] = set()
    for es in sets:
        if (es.ref, es.horizon) in seen:
            continue
        seen.add((es.ref, es.horizon))
        for entry in spec.train:
            params = entry.model_dump(mode="json", exclude={"label"})
            params["eval_every"] = entry.every
            for seed in spec.seeds:
                extra = {"train": 1}
                job = es.job(-1, seed, entry.label, "train", params, extra=extra, key_label="")
                jobs.append(job)
    return jobs


def place(jobs: list[Job], root: str | Path) -> list[Job]:
    """The jobs with each train job's run folder (``params["out"]``, absolute) set under
    ``root``; the folder is not part of the key."""
    base = (Path(root) / TRAIN_DIR).resolve()
    return [
        replace(j, params={**j.params, "out": str(base / j.key)}) if j.kind == "train" else j
        for j in jobs
    ]


def run_dir(root: str | Path, key: str) -> Path:
    """The run folder of train job ``key`` in the experiment folder ``root``."""
    return Path(root) / TRAIN_DIR / key


def policy_jobs(spec: Spec, source: str | Path, jobs: list[Job], root: str | Path) -> list[Job]:
    """The episode jobs of every finished training run among ``jobs`` (a run is finished
    when ``results/<key>.parquet`` exists and its ``model.onnx`` is in its folder)."""
    import hashlib

    from aigc_opt.experiments.jobs import episode_sets
    from aigc_opt.experiments.spec import PolicyMethod

    root = Path(root)
    sets = {(es.ref, es.horizon): es for es in episode_sets(spec, source)}
    out: list[Job] = []
    for tj in jobs:
        onnx = run_dir(root, tj.key) / "model.onnx"
        if tj.kind != "train" or not (root / "results" / f"{tj.key}.parquet").is_file():
            continue
        if not onnx.is_file():
            continue
        es = sets[(tj.scenario_ref, tj.horizon)]
        m = PolicyMethod(kind="policy", path=str(onnx.resolve()), label=tj.method)
        params = m.model_dump(mode="json")
        extra = {"policy_sha256": hashlib.sha256(onnx.read_bytes()).hexdigest(), "train": tj.key}
        for start in es.starts:
            job = es.job(start, tj.seed, m.name, "policy", params, bound=spec.bound, extra=extra)
            out.append(job)
    return out


def run(job: Job) -> Outcome:
    """Train one run in this process (see the module docstring); an `adapter.Outcome`."""
    from aigc_opt.experiments import adapter

    return adapter.train_agent(job.scenario_ref, job.horizon, job.seed, job.params)
