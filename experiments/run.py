"""One job → one tidy row. `run_job` never raises: an exception or a failed solve becomes a
row with ``failed = True`` and the error message, so one bad job never stops the rest.

Row columns (units): key, method, kind, scenario, horizon (slots), start (slot), seed,
noise (relative forecast σ of MPC), status (the solver's or ``completed`` for an episode;
``interrupted`` rows are never stored), failed, utility ($, `accounting.evaluate`),
best_bound ($, a proven upper bound on the episode's optimal U: the method's own for an
oracle program, the ``bound`` program's for a policy), bound_method, bound_status,
gap_usd / gap_pct (`gap_to_bound`: bound − U, in $ and in % of max(|bound|, 1)), the eight
terms of `accounting.TERMS` ($), the KPIs of `KPIS`, seconds (the method's wall time),
cpu_seconds (the job's CPU time: process time of the worker, bound included),
bound_seconds, message, error, versions (JSON of package versions in the worker). A
``train`` job (`aigc_opt.experiments.training`) has no utility; its row adds algo,
reward, shaping, timesteps, val_gap_pct (last point of its learning curve, %) and
shaping_corr (correlation of r̂ with the true slot utility at the last refit).
"""

from __future__ import annotations

import json
import math
import platform
import time
from typing import Any

from aigc_opt.experiments import adapter
from aigc_opt.experiments.jobs import Job
from aigc_opt.formulations.accounting import TERMS

KPIS = (
    "jobs_arrived",
    "jobs_served",
    "jobs_transferred",
    "jobs_dropped",
    "mean_quality",
    "mean_wait_slots",
    "carbon_t",
    "energy_grid_mwh",
    "energy_renewable_used_mwh",
    "energy_renewable_curtailed_mwh",
    "energy_battery_charge_mwh",
    "energy_battery_discharge_mwh",
    "energy_generator_mwh",
    "energy_it_mwh",
)
"""KPI columns of a row (jobs; quality 0–1; slots; t CO2; MWh). Missing ones are NaN."""

NUMBERS = ("utility", "best_bound", "gap_usd", "gap_pct", *TERMS, *KPIS)


def _nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def _method(job: Job) -> Any:
    from pydantic import TypeAdapter

    from aigc_opt.experiments.spec import Method

    return TypeAdapter(Method).validate_python(job.params)


def _execute(job: Job) -> adapter.Outcome:
    if job.kind == "train":
        from aigc_opt.experiments import training

        return training.run(job)
    full = adapter.load_full(job.scenario_ref)
    scn = full.cut(horizon=job.horizon, start=job.start)
    p = job.params
    if job.kind == "oracle":
        return adapter.solve_program(
            scn,
            p["program"],
            time_limit=p.get("time_limit"),
            mip_gap=p.get("mip_gap", 1e-4),
            integer_jobs=p.get("integer_jobs", False),
        )
    method = _method(job)
    if job.kind == "policy":
        out = adapter.play_trained(full, job.start, job.horizon, method, p["path"])
    else:
        out = adapter.play(scn, method, job.seed)
    if job.bound != "none":
        b = adapter.solve_program(scn, job.bound)
        out.best_bound, out.bound_method = b.best_bound, b.bound_method
        out.bound_status, out.bound_seconds = b.status, b.seconds
        if b.best_bound is None:
            note = f"bound oracle-{job.bound}: {b.status} ({b.message})"
            out.message = "; ".join(m for m in (out.message, note) if m)
    return out


def base_row(job: Job) -> dict[str, Any]:
    """The columns that describe the job itself."""
    return {
        "key": job.key,
        "method": job.method,
        "kind": job.kind,
        "scenario": job.scenario,
        "horizon": job.horizon,
        "start": job.start,
        "seed": job.seed,
        "noise": _nan(job.noise),
        "params": json.dumps(job.params, sort_keys=True),
    }


def failed_row(job: Job, error: str, status: str = "error") -> dict[str, Any]:
    """A row for a job that produced nothing but an error message."""
    row = base_row(job)
    row.update({n: math.nan for n in NUMBERS})
    row.update(
        status=status,
        failed=status != "interrupted",
        bound_method="",
        bound_status="",
        seconds=math.nan,
        cpu_seconds=math.nan,
        bound_seconds=math.nan,
        message="",
        error=error,
        versions=json.dumps(_versions()),
    )
    return row


def _versions() -> dict[str, Any]:
    return {**adapter.versions(), "python": platform.python_version()}


def run_job(job: Job) -> dict[str, Any]:
    """Run one job in this process; see the module docstring for the row."""
    from aigc_opt.solvers import interrupt

    if interrupt.requested():
        return failed_row(job, "not started: stop requested", "interrupted")
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        out = _execute(job)
    except Exception as exc:  # recorded, never raised: the other jobs go on
        return failed_row(job, f"{type(exc).__name__}: {exc}".splitlines()[0])
    if interrupt.requested():
        return failed_row(job, f"stopped after {time.perf_counter() - t0:.1f} s", "interrupted")
    gap_usd, gap_pct = adapter.gap(out.utility, out.best_bound)
    failed = out.status in adapter.FAILED
    message = out.message
    if gap_usd is not None and gap_usd < -1e-6 * max(1.0, abs(out.best_bound or 0.0)):
        message += f"; utility exceeds the bound by {-gap_usd:.6g} $"
    row = base_row(job)
    row.update(
        status=out.status,
        failed=failed,
        utility=_nan(out.utility),
        best_bound=_nan(out.best_bound),
        bound_method=out.bound_method or "",
        bound_status=out.bound_status or "",
        gap_usd=_nan(gap_usd),
        gap_pct=_nan(gap_pct),
        **{n: _nan(out.terms.get(n)) for n in TERMS},
        **{k: _nan(out.kpis.get(k)) for k in KPIS},
        seconds=out.seconds,
        cpu_seconds=time.process_time() - c0,
        bound_seconds=out.bound_seconds,
        message=message.strip("; "),
        error=(f"{out.status}: {message}".strip(": ") if failed else ""),
        versions=json.dumps(_versions()),
        **out.extra,
    )
    return row
