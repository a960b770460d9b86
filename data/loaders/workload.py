"""Workload traces: hourly cluster utilisation (Alibaba, Google, SustainDC format) and
per-request arrivals (Azure LLM inference), with the burstiness statistics of the latter.

Cluster traces carry hour numbers without a calendar (see `load_cluster_trace`); Azure
request timestamps are taken as UTC (the source does not say).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from aigc_opt.data.loaders._common import (
    fail_first,
    numeric,
    parse_times,
    read_csv_text,
)


# ----------------------------------------------------------------------------------------
# Cluster-utilisation traces (hourly, no calendar)
# ----------------------------------------------------------------------------------------
def load_cluster_trace(path: str | Path) -> pd.Series:
    """Hourly CPU utilisation of a cluster (SustainDC ``*_CPU_Data_Hourly_1.csv``).

    The file has an unnamed integer hour column and ``cpu_load`` (fraction of capacity,
    0..1). It has no calendar: hour 0 is the trace's first hour, whose local time must come
    from the trace's documentation (Google cluster-data 2011: Sunday 1 May 2011 19:00 US
    Eastern daylight time; Alibaba: not documented).

    Returns
    -------
    Series ``cpu_load`` (fraction) indexed by trace hour 0..N−1.
    """
    path = Path(path)
    df = read_csv_text(path, columns=["cpu_load"])
    first = df.columns[0]
    hours = numeric(path, df, first, 2, allow_blank=False)
    step = np.diff(hours)
    for mask, message in ((step == 0, "duplicated hour"), (step != 1, "hours must increase by 1")):
        fail_first(path, mask, message, first_line=2, column=str(first), values=hours, shift=1)
    load = numeric(path, df, "cpu_load", 2, allow_blank=False)
    fail_first(
        path,
        (load < 0) | (load > 1),
        "cpu_load must be a fraction in [0, 1]",
        first_line=2,
        column="cpu_load",
        values=load,
    )
    return pd.Series(load, index=pd.RangeIndex(len(load), name="trace_hour"), name="cpu_load")


# ----------------------------------------------------------------------------------------
# Request traces (Azure LLM inference)
# ----------------------------------------------------------------------------------------
def load_azure_trace(path: str | Path) -> pd.DataFrame:
    """Per-request arrivals of an Azure LLM inference trace.

    Columns ``TIMESTAMP`` (sub-second, taken as UTC), ``ContextTokens``,
    ``GeneratedTokens``. Timestamps must not decrease.

    Returns
    -------
    DataFrame ``time_utc`` (tz-aware), ``context_tokens``, ``generated_tokens``.
    """
    path = Path(path)
    df = read_csv_text(path, columns=["TIMESTAMP", "ContextTokens", "GeneratedTokens"])
    times, aware = parse_times(path, df["TIMESTAMP"], "TIMESTAMP", 2)
    utc = times.tz_convert("UTC") if aware else times.tz_localize("UTC")
    fail_first(
        path,
        np.diff(utc.asi8) < 0,
        "time goes backwards",
        first_line=2,
        column="TIMESTAMP",
        values=df["TIMESTAMP"].astype(str),
        shift=1,
    )
    return pd.DataFrame(
        {
            "time_utc": utc,
            "context_tokens": numeric(path, df, "ContextTokens", 2, allow_blank=False),
            "generated_tokens": numeric(path, df, "GeneratedTokens", 2, allow_blank=False),
        }
    )


def request_burstiness(
    times: pd.Series | pd.DatetimeIndex,
    windows_s: Sequence[float] = (1, 5, 10, 30, 60, 120, 300),
    min_windows: int = 10,
) -> pd.DataFrame:
    """Counting statistics of request arrivals at several window lengths.

    For each window length w (s) the trace is cut into whole windows and the counts N are
    summarised by their mean, the Fano factor Var(N)/E(N) and the coefficient of variation
    of the underlying rate, ``rate_cv`` = sqrt(max(Var − E, 0))/E (the part of the variance
    a Poisson process with a constant rate would not have).

    Returns
    -------
    DataFrame ``window_s, windows, mean, fano, rate_cv`` (windows with fewer than
    ``min_windows`` whole windows are left out).
    """
    t = pd.DatetimeIndex(times)
    s = (t - t[0]).total_seconds().to_numpy()
    span = float(s[-1]) if len(s) else 0.0
    rows = []
    for w in windows_s:
        n = int(span // w)
        if n < min_windows:
            continue
        counts = np.bincount((s // w).astype(int), minlength=n + 1)[:n].astype(float)
        mean = float(counts.mean())
        var = float(counts.var(ddof=1))
        rows.append(
            {
                "window_s": float(w),
                "windows": n,
                "mean": mean,
                "fano": var / mean,
                "rate_cv": math.sqrt(max(var - mean, 0.0)) / mean,
            }
        )
    return pd.DataFrame(rows)
