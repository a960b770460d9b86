"""Golden-file comparison of regression numbers: read, compare, write. Pure: nothing here
solves; the numbers come from `aigc_opt.solvers.regress_cases` (``aigc-opt regress``) or from
a test (the ``utility_regression`` fixture).

`compare` checks each case's numbers against the golden document under its method's
tolerances (`aigc_opt.solvers.regress_cases.MethodTolerances`): a number drifts when
|current − golden| > atol + rtol · max(|golden|, scale), where the scale is |U| of the
golden case for the utility terms, jobs served for job counts and the energy supplied for
energy flows (each at least 1). A changed status, a crashed case, a number or case missing
from the current run fail; a case or number new to the golden file is reported, and fails
only with ``strict``. `update_golden` rewrites the file atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aigc_opt.solvers.regress_cases import (
    METHODS,
    MIP_GAP,
    SEED,
    THREADS,
    MethodTolerances,
    Outcome,
    RegressInputError,
    finite,
)
from aigc_opt.solvers.regress_families import FAMILY_TOLERANCES, tolerances_of
from aigc_opt.solvers.store import run_metadata, write_json

GOLDEN_FORMAT = "aigc-opt-regress/1"


def read_golden(path: str | Path) -> dict[str, Any]:
    """Read and check a golden file; raises `RegressInputError` with a one-line message."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise RegressInputError(f"--golden {p}: file not found (create it with --update)") from None
    except json.JSONDecodeError as exc:
        raise RegressInputError(
            f"--golden {p}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("format") != GOLDEN_FORMAT
        or not isinstance(data.get("cases"), dict)
    ):
        raise RegressInputError(
            f"--golden {p}: not an aigc-opt golden file (format {GOLDEN_FORMAT})"
        )
    return data


def golden_document(cases: dict[str, Any]) -> dict[str, Any]:
    """The golden file's content: format, settings, each method's tolerances, library
    versions and the cases (sorted by id)."""
    return {
        "format": GOLDEN_FORMAT,
        "about": "Golden numbers of `aigc-opt regress`. Regenerate with "
        "`aigc-opt regress --golden FILE --update` after reviewing the drift.",
        "settings": {"highs_threads": THREADS, "seed": SEED, "mip_gap": MIP_GAP},
        "tolerances": {
            name: {
                "headline": tol.headline.as_dict(),
                "terms": tol.terms.as_dict(),
                "kpis": (tol.kpis.as_dict() if tol.kpis else None),
            }
            for name, tol in _tolerances(cases).items()
        },
        "versions": run_metadata(),
        "cases": dict(sorted(cases.items())),
    }


def _tolerances(cases: dict[str, Any]) -> dict[str, MethodTolerances]:
    """Tolerances of every registered method and of the methods the cases use (a family's
    heuristics among them)."""
    names = [*METHODS, *FAMILY_TOLERANCES]
    names += sorted({str(c.get("method")) for c in cases.values()} - set(names))
    return {n: tolerances_of(n) for n in names}


def update_golden(
    path: str | Path, outcomes: Sequence[Outcome], *, partial: bool = False
) -> list[str]:
    """Write the outcomes to the golden file atomically; returns the ids whose numbers
    changed. Cases that failed keep their previous entry; with
    ``partial`` every other previous entry is kept too."""
    p = Path(path)
    old: dict[str, Any] = {}
    hashes: dict[str, Any] = {}
    if p.is_file():
        try:
            doc = read_golden(p)
            old, hashes = doc["cases"], dict(doc.get("scenario_hashes") or {})
        except Exception:
            old = {}
    new: dict[str, Any] = dict(old) if partial else {}
    changed: list[str] = []
    for o in outcomes:
        cid = o.case.id
        if o.error:
            if cid in old:
                new[cid] = old[cid]
            continue
        entry = {
            "scenario": o.case.scenario,
            "horizon": o.case.horizon,
            "start": o.case.start,
            "method": o.case.method,
            "status": o.status,
            **({"violations": o.violations} if o.violations else {}),
            "values": o.values,
        }
        if old.get(cid) != entry:
            changed.append(cid)
        new[cid] = entry
    if not partial:
        kept = {o.case.id for o in outcomes}
        changed += [cid for cid in old if cid not in kept]
    out = golden_document(new)
    if partial and hashes:  # scenarios not run this time keep their recorded content hash
        out["scenario_hashes"] = hashes
    write_json(p, out)
    return changed


# ---------------------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------------------
@dataclass
class Diff:
    """One compared number."""

    case: str
    metric: str
    golden: float | str | None
    current: float | str | None
    limit: float | None
    verdict: str  # ok | DRIFT | missing | new

    @property
    def delta(self) -> float | None:
        if isinstance(self.golden, float) and isinstance(self.current, float):
            return self.current - self.golden
        return None

    @property
    def ratio(self) -> float | None:
        d = self.delta
        if d is None or self.limit is None:
            return None
        return abs(d) / self.limit if self.limit > 0 else (0.0 if d == 0 else math.inf)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "metric": self.metric,
            "golden": self.golden,
            "current": self.current,
            "delta": self.delta,
            "limit": self.limit,
            "verdict": self.verdict,
        }


@dataclass
class CaseVerdict:
    """The verdict on one case, with the worst |Δ|/tolerance of its numbers."""

    case: str
    method: str
    verdict: str  # ok | DRIFT | STATUS | ERROR | MISSING | new
    status: str | None
    golden_status: str | None
    compared: int
    worst: float | None
    seconds: float
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in ("DRIFT", "STATUS", "ERROR", "MISSING")

    def as_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "case",
                "method",
                "verdict",
                "status",
                "golden_status",
                "compared",
                "worst",
                "seconds",
                "note",
            )
        }


@dataclass
class Comparison:
    """Every case verdict and every compared number; ``ok`` is the exit status."""

    cases: list[CaseVerdict]
    diffs: list[Diff]
    strict: bool = False

    @property
    def ok(self) -> bool:
        bad = any(c.failed for c in self.cases)
        if self.strict:
            bad = bad or any(c.verdict == "new" for c in self.cases)
        return not bad

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cases": [c.as_dict() for c in self.cases],
            "drift": [d.as_dict() for d in self.diffs if d.verdict != "ok"],
            "compared": [d.as_dict() for d in self.diffs],
        }


def compare_case(
    case_id: str,
    method: str,
    golden: dict[str, Any],
    current: dict[str, float],
    tol: MethodTolerances,
) -> list[Diff]:
    """Compare the numbers of one case under the method's tolerances."""
    gvals = golden.get("values", {})
    sc = scales(gvals)
    out: list[Diff] = []
    for metric in [*gvals, *(k for k in current if k not in gvals)]:
        g = finite(gvals.get(metric))
        c = current.get(metric)
        if g is None:
            out.append(Diff(case_id, metric, None, c, None, "new"))
            continue
        if c is None:
            out.append(Diff(case_id, metric, g, None, None, "missing"))
            continue
        t = tol.for_metric(metric)
        if t is None:
            continue
        lim = t.limit(g, scale_of(metric, sc))
        ok = abs(float(c) - g) <= lim
        out.append(Diff(case_id, metric, g, float(c), lim, "ok" if ok else "DRIFT"))
    return out


def scales(gvals: dict[str, Any]) -> dict[str, float]:
    """Magnitudes a metric family is compared against: |U| ($) for the terms, jobs served
    for job counts, energy supplied (MWh) for energy flows; each at least 1."""

    def g(k: str) -> float:
        return abs(finite(gvals.get(k)) or 0.0)

    supplied = sum(
        g(f"kpis.energy_mwh.{k}")
        for k in ("grid", "renewable_used", "battery_discharge", "generator")
    )
    return {
        "terms.": max(g("utility"), 1.0),
        "kpis.jobs_": max(g("kpis.jobs_served"), 1.0),
        "kpis.energy_mwh.": max(supplied, 1.0),
    }


def scale_of(metric: str, scales: dict[str, float]) -> float:
    """The scale of ``metric`` among ``scales`` (1 for headline numbers)."""
    for prefix, sc in scales.items():
        if metric.startswith(prefix):
            return sc
    return 1.0


def compare(
    golden: dict[str, Any],
    outcomes: Sequence[Outcome],
    *,
    strict: bool = False,
    partial: bool = False,
) -> Comparison:
    """Compare outcomes with a golden document (see `read_golden`)."""
    gcases: dict[str, Any] = golden.get("cases", {})
    verdicts: list[CaseVerdict] = []
    diffs: list[Diff] = []
    for o in outcomes:
        cid = o.case.id
        g = gcases.get(cid)
        gs = g.get("status") if g else None
        compared, worst = 0, None
        if o.error:
            verdict, note = "ERROR", o.error
        elif g is None:
            verdict, note = "new", "not in the golden file (run with --update)"
        else:
            ds = compare_case(cid, o.case.method, g, o.values, tolerances_of(o.case.method))
            diffs += ds
            compared = len(ds)
            ratios = [r for r in (d.ratio for d in ds) if r is not None]
            worst = max(ratios) if ratios else None
            bad = [d for d in ds if d.verdict in ("DRIFT", "missing")]
            if gs != o.status or g.get("violations", 0) != o.violations:
                verdict, note = "STATUS", f"status {gs} → {o.status}"
                if g.get("violations", 0) != o.violations:
                    note += f", violations {g.get('violations', 0)} → {o.violations}"
            elif bad:
                verdict = "DRIFT"
                note = ", ".join(d.metric for d in bad[:4]) + (" …" if len(bad) > 4 else "")
            else:
                verdict, note = "ok", ""
        verdicts.append(
            CaseVerdict(
                case=cid,
                method=o.case.method,
                verdict=verdict,
                status=o.status,
                golden_status=gs,
                compared=compared,
                worst=worst,
                seconds=round(o.seconds, 3),
                note=note,
            )
        )
    if not partial:
        ran = {o.case.id for o in outcomes}
        for cid, g in gcases.items():
            if cid not in ran:
                verdicts.append(
                    CaseVerdict(
                        case=cid,
                        method=str(g.get("method")),
                        verdict="MISSING",
                        status=None,
                        golden_status=g.get("status"),
                        compared=0,
                        worst=None,
                        seconds=0.0,
                        note="in the golden file but not in the catalog",
                    )
                )
    return Comparison(verdicts, diffs, strict)
