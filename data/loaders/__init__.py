"""Loaders for public energy, weather, workload and GPU-measurement formats.

Every time-series loader returns an `HourlySeries` (`series`): a tidy table indexed by the
UTC start of each hour (``time_utc``), one column per variable with its unit in the name
(``price_usd_per_mwh``, ``carbon_t_per_mwh``, ``wind_speed_10m_m_per_s`` ...), the units
spelled out in ``units``, the time-zone rule that was applied in ``time_rule``, and every
gap that was filled in ``gaps``.

Modules, one per source family
------------------------------
* `series` — `HourlySeries`, `Gap`, `DataFileError`, `fill_gaps`, `year_index`;
* `grid` — ISO/exchange prices, Electricity Maps carbon, wide UTC tables, EIA-930
  generation by fuel, SGIP/WattTime marginal emissions;
* `weather` — Open-Meteo JSON, NREL TMY3, SimBench PV/wind profiles;
* `workload` — cluster-utilisation traces, Azure LLM request traces and their burstiness;
* `gpu` — ML.ENERGY text-to-image measurements;
* `turbines` — the oedb wind-turbine library (power curves, turbine data);
* `network` — inter-region data-transfer prices;
* `renewables` — PV (pvlib) and wind (windpowerlib) capacity factors from weather;
* `formats` — the registry `FORMATS` (format name -> loader, options, summary) behind
  ``aigc-opt data check --format``.

Daylight-saving rule for naive wall-clock files
-----------------------------------------------
Naive local files (DE-LU and FR prices, SimBench profiles) carry 24 labels on every day, so
on the spring DST day the label that does not exist on the wall clock (02:00) is dropped
(its value repeats the next hour) and on the autumn day a single label of the repeated hour
is read as its first (summer-time) occurrence; the second occurrence is then a one-hour
gap. A label that appears twice is read as summer time, then winter time. Each family
module states the time-zone rule of its formats.

Gaps
----
`fill_gaps` fills missing hours with one documented rule: a run of at most
``max_interpolate_hours`` (default 3) missing hours with data on both sides is linearly
interpolated; every other missing hour takes the value of the same hour on the nearest day
with data, looking 1, 2, 3 ... days back first and then the same distance forward. Each
filled run is reported as a `Gap`.

Errors
------
A malformed file (missing column, wrong unit in a header, duplicated or non-monotonic
timestamps, unparsable values) raises `DataFileError`, a `ScenarioError` whose one-line
message names the file, the line and the column.
"""

from aigc_opt.data.loaders.formats import FORMATS, Format, check_file, read_file
from aigc_opt.data.loaders.gpu import ML_ENERGY_COLUMNS, load_ml_energy_t2i
from aigc_opt.data.loaders.grid import (
    load_carbon_csv,
    load_eia930_csv,
    load_moer_csv,
    load_price_csv,
    load_wide_csv,
)
from aigc_opt.data.loaders.network import load_transfer_prices
from aigc_opt.data.loaders.series import DataFileError, Gap, HourlySeries, fill_gaps, year_index
from aigc_opt.data.loaders.turbines import load_power_curves, load_turbine_data
from aigc_opt.data.loaders.weather import load_open_meteo_json, load_simbench_profiles, load_tmy3
from aigc_opt.data.loaders.workload import load_azure_trace, load_cluster_trace, request_burstiness

__all__ = [
    "DataFileError",
    "Gap",
    "HourlySeries",
    "fill_gaps",
    "year_index",
    "load_price_csv",
    "load_carbon_csv",
    "load_wide_csv",
    "load_open_meteo_json",
    "load_eia930_csv",
    "load_tmy3",
    "load_simbench_profiles",
    "load_moer_csv",
    "load_cluster_trace",
    "load_azure_trace",
    "request_burstiness",
    "load_ml_energy_t2i",
    "ML_ENERGY_COLUMNS",
    "load_power_curves",
    "load_turbine_data",
    "load_transfer_prices",
    "FORMATS",
    "Format",
    "read_file",
    "check_file",
]
