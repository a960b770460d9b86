"""The format registry: every file format a loader reads, by the name ``aigc-opt data check
--format`` takes.

Each `Format` names its loader, the reading options the loader accepts (``naive_tz``,
``eur_to_usd``, ``year``) and a summary of what was read. `read_file` dispatches by name and
passes only the options the format accepts (unset options keep the loader's defaults);
`check_file` returns the summary as a JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from aigc_opt.data.loaders import gpu, grid, network, turbines, weather, workload
from aigc_opt.data.loaders.series import HourlySeries


@dataclass(frozen=True)
class Format:
    """One readable file format.

    Attributes
    ----------
    name : registry key (``--format``).
    family : loader module the format belongs to (``grid``, ``weather`` ...).
    load : ``load(path, **options)``.
    options : reading options ``load`` accepts.
    description : one line: what the file is and which columns it needs.
    summarize : ``summarize(path, result)`` -> JSON-ready dict.
    """

    name: str
    family: str
    load: Callable[..., Any]
    options: tuple[str, ...]
    description: str
    summarize: Callable[[Path, Any], dict[str, Any]]


def _series_summary(path: Path, s: HourlySeries) -> dict[str, Any]:
    d = s.data
    return {
        "file": str(path),
        "rows": len(d),
        "first_utc": d.index[0].isoformat(),
        "last_utc": d.index[-1].isoformat(),
        "time_rule": s.time_rule,
        "units": s.units,
        "mean": {c: float(d[c].mean()) for c in d.columns},
        "filled_hours": s.filled_hours,
        "gaps": [str(g) for g in s.gaps],
        "notes": list(s.notes),
        "meta": {k: v for k, v in s.meta.items() if isinstance(v, str | int | float)},
    }


def _cluster_summary(path: Path, c: pd.Series) -> dict[str, Any]:
    return {
        "file": str(path),
        "rows": len(c),
        "unit": "fraction of capacity",
        "mean": float(c.mean()),
        "min": float(c.min()),
        "max": float(c.max()),
    }


def _azure_summary(path: Path, a: pd.DataFrame) -> dict[str, Any]:
    return {
        "file": str(path),
        "requests": len(a),
        "first_utc": a["time_utc"].iloc[0].isoformat(),
        "last_utc": a["time_utc"].iloc[-1].isoformat(),
        "burstiness": workload.request_burstiness(a["time_utc"]).to_dict(orient="records"),
    }


def _ml_energy_summary(path: Path, m: pd.DataFrame) -> dict[str, Any]:
    return {
        "file": str(path),
        "rows": len(m),
        "models": sorted(set(m["nickname"])),
        "gpus": sorted(set(m["gpu_model"])),
    }


def _power_curves_summary(path: Path, pc: dict[str, pd.DataFrame]) -> dict[str, Any]:
    return {"file": str(path), "turbines": len(pc), "unit": "W at wind speed in m/s"}


def _transfer_summary(path: Path, tr: pd.DataFrame) -> dict[str, Any]:
    return {
        "file": str(path),
        "regions": list(tr.index),
        "unit": "USD/GB",
        "max": float(tr.to_numpy().max()),
    }


_YEAR = ("year",)
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "price",
            "grid",
            grid.load_price_csv,
            ("naive_tz", "eur_to_usd", "year"),
            "ISO/exchange prices: Datetime, Price (USD/MWh) or Price (EUR/MWh)",
            _series_summary,
        ),
        Format(
            "carbon",
            "grid",
            grid.load_carbon_csv,
            _YEAR,
            "Electricity Maps carbon intensity: Datetime (UTC), Carbon Intensity gCO2eq/kWh",
            _series_summary,
        ),
        Format(
            "eia930",
            "grid",
            grid.load_eia930_csv,
            _YEAR,
            "EIA-930 generation by fuel (SustainDC): timestamp, WND, SUN, ..., avg_CI",
            _series_summary,
        ),
        Format(
            "moer",
            "grid",
            grid.load_moer_csv,
            (),
            "SGIP/WattTime marginal emissions, 5-minute: time, moer (kg/kWh)",
            _series_summary,
        ),
        Format(
            "wide",
            "grid",
            grid.load_wide_csv,
            _YEAR,
            "wide UTC table whose column names end in a unit suffix (_usd_mwh, _cf, ...)",
            _series_summary,
        ),
        Format(
            "weather",
            "weather",
            weather.load_open_meteo_json,
            _YEAR,
            "Open-Meteo hourly weather JSON (temperature, cloud cover, 10 m wind)",
            _series_summary,
        ),
        Format(
            "tmy3",
            "weather",
            weather.load_tmy3,
            _YEAR,
            "NREL TMY3 typical-year irradiance CSV (station line, then hourly rows)",
            _series_summary,
        ),
        Format(
            "simbench",
            "weather",
            weather.load_simbench_profiles,
            ("naive_tz", "year"),
            "SimBench RESProfile per-unit PV and wind profiles: time, PV1.., WP1..",
            _series_summary,
        ),
        Format(
            "cluster",
            "workload",
            workload.load_cluster_trace,
            (),
            "hourly cluster CPU utilisation (SustainDC): hour, cpu_load",
            _cluster_summary,
        ),
        Format(
            "azure",
            "workload",
            workload.load_azure_trace,
            (),
            "Azure LLM inference requests: TIMESTAMP, ContextTokens, GeneratedTokens",
            _azure_summary,
        ),
        Format(
            "ml-energy",
            "gpu",
            gpu.load_ml_energy_t2i,
            (),
            "ML.ENERGY v3 text-to-image configurations (energy per image, latency, power)",
            _ml_energy_summary,
        ),
        Format(
            "power-curves",
            "turbines",
            turbines.load_power_curves,
            (),
            "oedb turbine power curves: turbine_type, then one column per wind speed (m/s)",
            _power_curves_summary,
        ),
        Format(
            "transfer",
            "network",
            network.load_transfer_prices,
            (),
            "square matrix of inter-region data-transfer prices (USD/GB)",
            _transfer_summary,
        ),
    )
}
"""Every readable format by name."""


def read_file(fmt: str, path: str | Path, **options: Any) -> Any:
    """Read ``path`` as format ``fmt``; options the format does not take, and options set
    to None, are ignored. Raises KeyError for an unknown format name."""
    f = FORMATS[fmt]
    kwargs = {k: v for k, v in options.items() if k in f.options and v is not None}
    return f.load(Path(path), **kwargs)


def check_file(fmt: str, path: str | Path, **options: Any) -> dict[str, Any]:
    """Read ``path`` as ``fmt`` and summarise it (rows, time range, units, filled hours ...)."""
    return FORMATS[fmt].summarize(Path(path), read_file(fmt, path, **options))
