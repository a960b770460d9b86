"""Renewable power from weather: PV through pvlib, wind through windpowerlib.

Both functions return capacity factors (fraction of nameplate, 0..1) on the hourly UTC
index of their input, so that a data center's renewable energy per slot is
``R_{d,t} = pv_mw · pv_cf_t · Δ + wind_mw · wind_cf_t · Δ`` (MWh).

PV (`pv_capacity_factor`)
-------------------------
A fixed-tilt PVWatts system run by ``pvlib.modelchain.ModelChain.with_pvwatts``: solar
position at the middle of each hour, Perez transposition, physical IAM, SAPM cell
temperature (open rack, glass/polymer), PVWatts DC model with temperature coefficient,
PVWatts system losses (14.1 %) and PVWatts inverter (DC/AC ratio 1.2). The capacity factor
is AC power per unit of DC nameplate. Irradiance comes either from the weather itself
(GHI/DNI/DHI, e.g. TMY3) or, when only cloud cover is known (Open-Meteo), from pvlib's
Ineichen clear sky scaled by cloud cover with the linear relation of Larson et al. (2016)
— GHI = GHI_clear · (0.35 + 0.65 · (1 − cloud/100)), the relation pvlib's former
forecast module used — and split into DNI and DHI with pvlib's Erbs model.

Wind (`wind_capacity_factor`)
-----------------------------
windpowerlib's ``ModelChain`` with a ``WindTurbine`` built from an oedb power curve: the
10 m wind speed (m/s) is extrapolated to hub height with the Hellman power law
(exponent 1/7 unless given), the power curve is applied without air-density correction
(Open-Meteo gives no pressure), and the output is divided by the nominal power.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PVSpec", "WindSpec", "pv_capacity_factor", "wind_capacity_factor"]


@contextmanager
def _quiet_pandas_deprecations() -> Iterator[None]:
    """pvlib 0.16 still calls pandas APIs that pandas 3 deprecates (e.g.
    ``DatetimeIndex.dayofyear``); the results are unaffected, so those warnings are muted
    while pvlib runs."""
    with warnings.catch_warnings():
        category = getattr(pd.errors, "Pandas4Warning", DeprecationWarning)
        warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pvlib")
        yield


@dataclass(frozen=True)
class PVSpec:
    """A fixed-tilt PV system (per unit of DC nameplate).

    Attributes
    ----------
    tilt_deg : surface tilt (degrees from horizontal).
    azimuth_deg : surface azimuth (degrees, 180 = south).
    gamma_pdc_per_c : DC power temperature coefficient (1/°C).
    dc_ac_ratio : DC nameplate / inverter AC rating.
    eta_inverter : nominal inverter efficiency.
    cloud_offset : share of clear-sky GHI left under full cloud cover (Larson et al. 2016).
    """

    tilt_deg: float = 25.0
    azimuth_deg: float = 180.0
    gamma_pdc_per_c: float = -0.004
    dc_ac_ratio: float = 1.2
    eta_inverter: float = 0.96
    cloud_offset: float = 0.35


@dataclass(frozen=True)
class WindSpec:
    """A wind turbine and how the 10 m wind speed is brought to hub height.

    Attributes
    ----------
    turbine_type : oedb turbine name (label only).
    hub_height_m : hub height (m).
    hellman_exponent : wind-shear exponent of the power law (dimensionless).
    measurement_height_m : height of the input wind speed (m).
    """

    turbine_type: str = "V112/3075"
    hub_height_m: float = 94.0
    hellman_exponent: float = 1.0 / 7.0
    measurement_height_m: float = 10.0


def pv_capacity_factor(
    weather: pd.DataFrame,
    latitude: float,
    longitude: float,
    altitude_m: float = 0.0,
    spec: PVSpec | None = None,
) -> pd.Series:
    """Hourly PV capacity factor (AC kWh per kWp DC per hour) with pvlib.

    Parameters
    ----------
    weather : hourly frame on UTC hour starts. Needs ``temp_air_c`` (°C), a wind speed
        (``wind_speed_10m_m_per_s`` or ``wind_speed_m_per_s``, m/s), and either
        ``ghi_w_per_m2``, ``dni_w_per_m2``, ``dhi_w_per_m2`` (W/m², hourly means) or
        ``cloud_cover_pct`` (%).
    latitude, longitude : site (degrees).
    altitude_m : site elevation (m).
    spec : the PV system; default `PVSpec()`.

    Returns
    -------
    Series ``pv_cf`` (fraction 0..1) on ``weather.index``.
    """
    spec = spec or PVSpec()
    with _quiet_pandas_deprecations():
        return _pv_cf(weather, latitude, longitude, altitude_m, spec)


def _pv_cf(
    weather: pd.DataFrame, latitude: float, longitude: float, altitude_m: float, spec: PVSpec
) -> pd.Series:
    import pvlib
    from pvlib.location import Location
    from pvlib.modelchain import ModelChain
    from pvlib.pvsystem import PVSystem
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    idx = pd.DatetimeIndex(weather.index)
    if idx.tz is None:
        raise ValueError("weather index must be tz-aware (UTC hour starts)")
    mid = idx.tz_convert("UTC") + pd.Timedelta(minutes=30)
    loc = Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    wind_col = next(
        (c for c in ("wind_speed_10m_m_per_s", "wind_speed_m_per_s") if c in weather.columns), None
    )
    wind = (
        weather[wind_col].to_numpy(dtype=float) if wind_col is not None else np.full(len(idx), 1.0)
    )
    if {"ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"} <= set(weather.columns):
        ghi = weather["ghi_w_per_m2"].to_numpy(dtype=float)
        dni = weather["dni_w_per_m2"].to_numpy(dtype=float)
        dhi = weather["dhi_w_per_m2"].to_numpy(dtype=float)
    elif "cloud_cover_pct" in weather.columns:
        clear = loc.get_clearsky(mid, model="ineichen")
        cloud = np.clip(weather["cloud_cover_pct"].to_numpy(dtype=float), 0.0, 100.0) / 100.0
        ghi = clear["ghi"].to_numpy() * (spec.cloud_offset + (1 - spec.cloud_offset) * (1 - cloud))
        zenith = loc.get_solarposition(mid)["zenith"]
        split = pvlib.irradiance.erbs(pd.Series(ghi, index=mid), zenith, mid)
        dni = split["dni"].to_numpy(dtype=float)
        dhi = split["dhi"].to_numpy(dtype=float)
    else:
        raise ValueError("weather needs ghi/dni/dhi (W/m^2) or cloud_cover_pct")
    w = pd.DataFrame(
        {
            "ghi": ghi,
            "dni": dni,
            "dhi": dhi,
            "temp_air": weather["temp_air_c"].to_numpy(dtype=float),
            "wind_speed": wind,
        },
        index=mid,
    )
    pdc0 = 1000.0  # W: 1 kWp DC
    system = PVSystem(
        surface_tilt=spec.tilt_deg,
        surface_azimuth=spec.azimuth_deg,
        module_parameters={"pdc0": pdc0, "gamma_pdc": spec.gamma_pdc_per_c},
        inverter_parameters={"pdc0": pdc0 / spec.dc_ac_ratio, "eta_inv_nom": spec.eta_inverter},
        temperature_model_parameters=TEMPERATURE_MODEL_PARAMETERS["sapm"][
            "open_rack_glass_polymer"
        ],
    )
    mc = ModelChain.with_pvwatts(system, loc, aoi_model="physical", spectral_model="no_loss")
    mc.run_model(w)
    ac = pd.Series(mc.results.ac, index=mid).to_numpy(dtype=float)
    cf = np.clip(np.nan_to_num(ac, nan=0.0) / pdc0, 0.0, 1.0)
    return pd.Series(cf, index=weather.index, name="pv_cf")


def wind_capacity_factor(
    wind_speed_10m_m_per_s: pd.Series,
    power_curve: pd.DataFrame,
    nominal_power_w: float,
    spec: WindSpec | None = None,
) -> pd.Series:
    """Hourly wind capacity factor with windpowerlib.

    Parameters
    ----------
    wind_speed_10m_m_per_s : wind speed at ``spec.measurement_height_m`` (m/s), hourly.
    power_curve : ``wind_speed`` (m/s), ``value`` (W), e.g. from `load_power_curves`.
    nominal_power_w : turbine rating (W).
    spec : turbine and shear assumptions; default `WindSpec()`.

    Returns
    -------
    Series ``wind_cf`` (fraction 0..1) on the input index.
    """
    from windpowerlib import ModelChain, WindTurbine

    spec = spec or WindSpec()
    turbine = WindTurbine(
        hub_height=spec.hub_height_m,
        nominal_power=nominal_power_w,
        power_curve=power_curve.reset_index(drop=True),
        turbine_type=None,
    )
    weather = pd.DataFrame(
        {
            ("wind_speed", spec.measurement_height_m): wind_speed_10m_m_per_s.to_numpy(dtype=float),
            ("roughness_length", 0): 0.15,  # read by windpowerlib, unused with a given exponent
        },
        index=wind_speed_10m_m_per_s.index,
    )
    mc = ModelChain(
        turbine,
        wind_speed_model="hellman",
        hellman_exp=spec.hellman_exponent,
        power_output_model="power_curve",
        density_correction=False,
    )
    mc.run_model(weather)
    power = np.nan_to_num(np.asarray(mc.power_output, dtype=float), nan=0.0)
    return pd.Series(
        np.clip(power / nominal_power_w, 0.0, 1.0),
        index=wind_speed_10m_m_per_s.index,
        name="wind_cf",
    )
