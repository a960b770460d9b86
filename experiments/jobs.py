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
    kind: str  # oracle | mpc | heuristic | policy
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


def expand(spec: Spec, source: str | Path) -> list[Job]:
    """Every job of ``spec`` (read from ``source``), in a stable order."""
    source = Path(source)
    refs = resolve_scenarios(spec, source)
    policies = {
        i: _policy_path(m, source, i) for i, m in enumerate(spec.methods) if m.kind == "policy"
    }
    jobs: list[Job] = []
    names: dict[str, str] = {}
    for ref in refs:
        full = adapter.load_full(ref)
        name = full.name if full.name not in names.values() else ref
        names[ref] = name
        digest = adapter.scenario_digest(full)
        for horizon in spec.horizons:
            if spec.episodes is not None:
                if horizon > full.T:
                    raise SpecError(
                        source, "horizons", horizon, f"scenario {name} has {full.T} slots"
                    )
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
                for i, m in enumerate(spec.methods):
                    params = m.model_dump(mode="json", by_alias=True)
                    extra: dict[str, Any] = {}
                    if m.kind == "policy":
                        params["path"], extra["policy_sha256"] = policies[i]
                    bound = "none" if m.kind == "oracle" else spec.bound
                    for seed in spec.seeds if m.stochastic else spec.seeds[:1]:
                        key = job_key(digest, horizon, start, seed, m.name, params, bound, extra)
                        jobs.append(
                            Job(
                                key=key,
                                scenario=name,
                                scenario_ref=ref,
                                horizon=horizon,
                                start=start,
                                seed=seed,
                                method=m.name,
                                kind=m.kind,
                                params=params,
                                bound=bound,
                                noise=getattr(m, "noise", None),
                            )
                        )
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
