"""Wind turbines: power curves and metadata of the oedb turbine library (windpowerlib)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from aigc_opt.data.loaders._common import fail_first, numeric, read_csv_text
from aigc_opt.data.loaders.series import DataFileError


def load_power_curves(path: str | Path) -> dict[str, pd.DataFrame]:
    """Power curves of the oedb turbine library (windpowerlib ``power_curves.csv``).

    One row per ``turbine_type``; every other column header is a wind speed in m/s and
    the cells are electrical power in W (empty = no point at that speed).

    Returns
    -------
    turbine type -> DataFrame ``wind_speed`` (m/s), ``value`` (W), as windpowerlib expects.
    """
    path = Path(path)
    df = read_csv_text(path, columns=["turbine_type"])
    speeds = {}
    for c in df.columns[1:]:
        try:
            speeds[c] = float(c)
        except ValueError:
            raise DataFileError(
                path,
                "wrong units header: wind-speed columns must be numbers in m/s",
                line=1,
                column=str(c),
            ) from None
    types = df["turbine_type"]
    fail_first(
        path,
        types.duplicated(),
        "duplicated turbine type",
        first_line=2,
        column="turbine_type",
        values=types,
    )
    values = {c: numeric(path, df, c, 2) for c in speeds}
    curves = {}
    for i, name in enumerate(df["turbine_type"]):
        pts = [(speeds[c], values[c][i]) for c in speeds if not math.isnan(values[c][i])]
        curves[str(name)] = pd.DataFrame(pts, columns=["wind_speed", "value"])
    return curves


def load_turbine_data(path: str | Path) -> pd.DataFrame:
    """Turbine metadata of the oedb library (``turbine_data.csv``); ``nominal_power`` in W."""
    path = Path(path)
    df = read_csv_text(
        path, columns=["turbine_type", "nominal_power", "rotor_diameter", "hub_height"]
    )
    out = df.copy()
    out["nominal_power"] = numeric(path, df, "nominal_power", 2)
    out["rotor_diameter"] = numeric(path, df, "rotor_diameter", 2)
    return out.set_index("turbine_type")
