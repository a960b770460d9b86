"""Arrival statistics of the public traces: the hour-of-week shape and the burstiness.

`arrival_shapes` folds the Google and Alibaba cluster traces on the week (mean 1, local
time, Monday 00:00 = hour 0); `burstiness` measures the Azure LLM inference trace's request
counts and extrapolates its rate variability to one hour.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aigc_opt.data import loaders as L

#: Google cluster-data 2011 starts at 19:00 US Eastern (EDT) on Sunday 1 May 2011.
GOOGLE_START_HOUR_OF_WEEK = 6 * 24 + 19  # hour of week, Monday 00:00 = 0


def _fold_week(values: np.ndarray, start_how: int) -> np.ndarray:
    """Mean per hour of week (Monday 00:00 local = 0) over the whole weeks of a trace."""
    n = (len(values) // 168) * 168
    how = (start_how + np.arange(n)) % 168
    out = np.bincount(how, weights=values[:n], minlength=168) / np.bincount(how, minlength=168)
    return np.asarray(out / out.mean(), dtype=float)


def _circular_mean(x: np.ndarray, width: int) -> np.ndarray:
    k = np.ones(width) / width
    ext = np.concatenate([x[-(width // 2) :], x, x[: width - 1 - width // 2]])
    return np.convolve(ext, k, mode="valid")


def arrival_shapes(google: pd.Series, alibaba: pd.Series) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hour-of-week intensity shapes (mean 1, local time, Monday 00:00 = hour 0).

    * ``google``: the Google trace folded on the week with its documented anchor.
    * ``alibaba``: the Alibaba trace has no calendar anchor and no daily cycle; its weekly
      envelope (circular 24-h mean) is shifted to the position that best correlates with
      the Google envelope.
    * ``combined`` = (google + alibaba) / 2, the shape used for arrivals.
    """
    g = _fold_week(google.to_numpy(dtype=float), GOOGLE_START_HOUR_OF_WEEK)
    a_raw = _fold_week(alibaba.to_numpy(dtype=float), 0)
    a_env = _circular_mean(a_raw, 24)
    g_env = _circular_mean(g, 24)
    corr = [float(np.corrcoef(g_env, np.roll(a_env, s))[0, 1]) for s in range(168)]
    shift = int(np.argmax(corr))
    a = np.roll(a_env, shift)
    a = a / a.mean()
    comb = 0.5 * (g + a)
    comb = comb / comb.mean()
    df = pd.DataFrame({"hour_of_week": np.arange(168), "google": g, "alibaba": a, "combined": comb})
    info = {
        "alibaba_shift_h": shift,
        "alibaba_shift_corr": corr[shift],
        "google_start_hour_of_week": GOOGLE_START_HOUR_OF_WEEK,
    }
    return df, info


def burstiness(src: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Request-count statistics of the Azure traces and the hourly rate variability.

    The rate coefficient of variation of the conversation trace, measured at 1..300 s
    windows, is fitted by a power law CV(w) = a·w^b (least squares in log-log) and
    extrapolated to one hour (3600 s): ``hourly_rate_cv``.
    """
    rows = []
    for kind in ("conv", "code"):
        tr = L.load_azure_trace(
            src / "azure-llm-inference-2023" / f"AzureLLMInferenceTrace_{kind}.csv"
        )
        st = L.request_burstiness(tr["time_utc"])
        st.insert(0, "trace", kind)
        rows.append(st)
    table = pd.concat(rows, ignore_index=True)
    conv = table[(table["trace"] == "conv") & (table["window_s"] <= 300)]
    b, loga = np.polyfit(np.log(conv["window_s"]), np.log(conv["rate_cv"]), 1)
    cv_h = float(math.exp(loga) * 3600.0**b)
    info = {
        "hourly_rate_cv": cv_h,
        "fit_exponent": float(b),
        "fit_windows_s": [1, 300],
        "trace": "AzureLLMInferenceTrace_conv.csv",
    }
    return table, info
