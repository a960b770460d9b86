"""Expansion of a spec into jobs: scenarios × horizons × starts × methods × seeds.

A job is one method on one episode (a scenario cut to ``horizon`` slots from ``start``)
with one seed. Its key is a hash of its resolved inputs: the scenario's content (every
parameter and series value, not its file name), horizon, start, seed, the method's
parameters and label, the bound program of a policy job and a policy file's bytes. The
same inputs give the same key in any spec, so results are reused across re-runs and
edited specs, and any change of input makes a new job.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aigc_opt.experiments import adapter
from aigc_opt.experiments.spec import Spec, SpecError

KEY_CHARS = 20
"""Hex characters of a job key (80 bits)."""


@dataclass(frozen=True)
class Job:
    """One unit of work; plain data, so it pickles to a process or a Dask worker."""

    key: str
    scenario: str  # display name
    scenario_ref: str  # shipped name or absolute path of the TOML
    horizon: int
    start: int
    seed: int
    method: str  # label
    kind: str  # oracle | mpc | heuristic | policy | train (start = -1: no episode)
    params: dict[str, Any] = field(hash=False)
    bound: str = "none"  # program solved for a policy job's certified bound
    noise: float | None = None  # relative forecast noise σ of an MPC job

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scenario": self.scenario,
            "horizon": self.horizon,
            "start": self.start,
            "seed": self.seed,
            "method": self.method,
            "kind": self.kind,
            "bound": self.bound,
            "params": self.params,
        }


def resolve_scenarios(spec: Spec, source: Path) -> list[str]:
    """Shipped names and absolute paths for the spec's ``scenarios`` (globs expanded)."""
    base = source.parent
    shipped = adapter.shipped_names()
    out: list[str] = []
    for i, entry in enumerate(spec.scenarios):
        is_path = "/" in entry or entry.endswith(".toml")
        if any(c in entry for c in "*?["):
            if is_path:
                pattern = entry if Path(entry).is_absolute() else str(base / entry)
                found = sorted(str(Path(p).resolve()) for p in glob.glob(pattern))
            else:
                found = [n for n in shipped if fnmatch.fnmatchcase(n, entry)]
            if not found:
                raise SpecError(source, f"scenarios[{i}]", entry, "the pattern matches nothing")
            out += found
        elif is_path:
            path = Path(entry) if Path(entry).is_absolute() else base / entry
            if not path.is_file():
                raise SpecError(source, f"scenarios[{i}]", entry, "scenario file not found")
            out.append(str(path.resolve()))
        elif entry in shipped:
            out.append(entry)
        else:
            raise SpecError(
                source,
                f"scenarios[{i}]",
                entry,
                f"unknown scenario (shipped: {', '.join(shipped)}; or a path or a glob)",
            )
    return list(dict.fromkeys(out))


def draw_starts(T: int, horizon: int, episodes: int, seed: int) -> list[int]:
    """``episodes`` start slots in [0, T − horizon], distinct while there are enough."""
    n = T - horizon + 1
    rng = np.random.default_rng(seed)
    if episodes <= n:
        return sorted(int(s) for s in rng.choice(n, size=episodes, replace=False))
    return sorted(int(s) for s in rng.integers(0, n, size=episodes))


def _policy_path(method: Any, source: Path, i: int) -> tuple[str, str]:
    """(resolved path or module:function, digest of the file's bytes or of the name)."""
    text = method.path
    path = Path(text) if Path(text).is_absolute() else source.parent / text
    if path.is_file():
        return str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest()
    if ":" in text and not text.endswith((".zip", ".onnx", ".pt", ".pt2")):
        return text, hashlib.sha256(text.encode()).hexdigest()
    raise SpecError(source, f"methods[{i}].path", text, "policy file not found")


@dataclass(frozen=True)
class EpisodeSet:
    """The episodes of one scenario and horizon: start slots, and the scenario's digest."""

    ref: str
    name: str
    digest: str
    horizon: int
    starts: list[int]

    def job(
        self,
        start: int,
        seed: int,
        method: str,
        kind: str,
        params: dict[str, Any],
        *,
        bound: str = "none",
        extra: dict[str, Any] | None = None,
        noise: float | None = None,
        key_label: str | None = None,
    ) -> Job:
        """A job on this scenario and horizon, keyed by `job_key` (with ``key_label`` in
        place of the label ``method`` when given)."""
        label = method if key_label is None else key_label
        key = job_key(self.digest, self.horizon, start, seed, label, params, bound, extra or {})
        return Job(
            key=key,
            scenario=self.name,
            scenario_ref=self.ref,
            horizon=self.horizon,
            start=start,
            seed=seed,
            method=method,
            kind=kind,
            params=params,
            bound=bound,
            noise=noise,
        )


def episode_sets(spec: Spec, source: str | Path) -> list[EpisodeSet]:
    """The spec's episodes per scenario and horizon: ``starts`` as given, ``episodes``
    random starts, or (with ``split``) ``episodes`` starts of that split (all of them
    without ``episodes``; `aigc_opt.drl_compare.splits`)."""
    source = Path(source)
    out: list[EpisodeSet] = []
    names: dict[str, str] = {}
    for ref in resolve_scenarios(spec, source):
        full = adapter.load_full(ref)
        name = full.name if full.name not in names.values() else ref
        names[ref] = name
        digest = adapter.scenario_digest(full)
        for horizon in spec.horizons:
            if (spec.episodes is not None or spec.split is not None) and horizon > full.T:
                raise SpecError(source, "horizons", horizon, f"scenario {name} has {full.T} slots")
            if spec.split is not None:
                from aigc_opt.drl_compare.splits import split_starts

                try:
                    pool = split_starts(full, horizon, spec.split)
                except ValueError as exc:
                    raise SpecError(source, "split", spec.split, f"{name}: {exc}") from None
                n = spec.episodes or pool.size
                rng = np.random.default_rng(spec.episode_seed)
                pick = rng.choice(pool, size=min(n, pool.size), replace=False)
                starts = sorted(int(s) for s in pick)
            elif spec.episodes is not None:
                starts = draw_starts(full.T, horizon, spec.episodes, spec.episode_seed)
            else:
                starts = list(spec.starts)
            for start in starts:
                if start + horizon > full.T:
                    raise SpecError(
                        source,
                        "starts",
                        start,
                        f"start {start} + horizon {horizon} exceeds the {full.T} slots "
                        f"of scenario {name}",
                    )
            out.append(EpisodeSet(ref, name, digest, horizon, starts))
    return out


def expand(spec: Spec, source: str | Path) -> list[Job]:
    """Every job of ``spec`` (read from ``source``) known before training, in a stable
    order: first the training runs of its ``[[train]]`` entries
    (`aigc_opt.experiments.training`), then every method on every episode. The trained
    policies' own jobs follow from `training.policy_jobs` once their runs finished."""
    from aigc_opt.experiments.training import train_jobs

    source = Path(source)
    sets = episode_sets(spec, source)
    policies = {
        i: _policy_path(m, source, i) for i, m in enumerate(spec.methods) if m.kind == "policy"
    }
    jobs: list[Job] = train_jobs(spec, sets)
    for es in sets:
        for start in es.starts:
            for i, m in enumerate(spec.methods):
                params = m.model_dump(mode="json", by_alias=True)
                extra: dict[str, Any] = {}
                if m.kind == "policy":
                    params["path"], extra["policy_sha256"] = policies[i]
                bound = "none" if m.kind == "oracle" else spec.bound
                for seed in spec.seeds if m.stochastic else spec.seeds[:1]:
                    noise = getattr(m, "noise", None)
                    job = es.job(start, seed, m.name, m.kind, params, bound=bound, extra=extra,
                                 noise=noise)  # fmt: skip
                    jobs.append(job)
    return list({j.key: j for j in jobs}.values())


def job_key(
    digest: str,
    horizon: int,
    start: int,
    seed: int,
    label: str,
    params: dict[str, Any],
    bound: str,
    extra: dict[str, Any],
) -> str:
    """Hash of a job's resolved inputs (see the module docstring)."""
    text = json.dumps(
        {
            "scenario_sha256": digest,
            "horizon": horizon,
            "start": start,
            "seed": seed,
            "label": label,
            "params": {k: v for k, v in params.items() if k != "path"},
            "bound": bound,
            **extra,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]
