"""Carbon adapters on recorded responses (tests/fixtures/carbon_api/, in the documented shapes).

No test goes to the network: the live clients are exercised with their one HTTP function
replaced, and for their refusals (no key, no package) before any request.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenopt.errors import DataSourceError, MissingDependencyError, ScenarioError
from greenopt.io import carbon_sources as cs
from greenopt.io.carbon_sources import (
    IMPORT_FACTORS,
    LIFECYCLE_FACTORS,
    carbon_from_carbon_aware_sdk,
    carbon_from_electricitymaps,
    carbon_from_entsoe,
    carbon_from_watttime,
)

DATA = Path(__file__).parent / "fixtures" / "carbon_api"


def load(name: str):
    return json.loads((DATA / name).read_text())


def entsoe_frame() -> pd.DataFrame:
    """The recorded query_generation DataFrame, as entsoe-py returns it (tz-aware local index)."""
    df = pd.read_csv(DATA / "entsoe_generation_DE_LU.csv", header=[0, 1], index_col=0)
    df.index = pd.DatetimeIndex(pd.to_datetime(df.index)).tz_convert("Europe/Berlin")
    return df


def assert_utc_series(s: pd.Series, name: str, n: int) -> None:
    assert isinstance(s.index, pd.DatetimeIndex) and str(s.index.tz) == "UTC"
    assert s.index.is_monotonic_increasing and not s.index.has_duplicates
    assert s.name == name and len(s) == n and s.dtype == float
    assert s.attrs["unit"] == "gCO2/kWh"


# -- Electricity Maps --------------------------------------------------------------------------
def test_electricitymaps_history_is_read_as_utc_gco2():
    doc = load("electricitymaps_history_DE.json")
    s = carbon_from_electricitymaps(doc)
    assert_utc_series(s, "DE", 24)
    assert s.index[0] == pd.Timestamp("2023-06-21T00:00Z")
    want = [p["carbonIntensity"] for p in doc["history"]]
    np.testing.assert_array_equal(s.to_numpy(), want)
    assert s.attrs["emission_factor_type"] == "lifecycle" and s.attrs["estimated"] == 0


def test_electricitymaps_past_range_at_15_minutes_from_path_text_and_dict_agree():
    path = DATA / "electricitymaps_past_range_ES_15min.json"
    a = carbon_from_electricitymaps(path)
    b = carbon_from_electricitymaps(path.read_text())
    c = carbon_from_electricitymaps(json.loads(path.read_text()))
    assert_utc_series(a, "ES", 96)
    pd.testing.assert_series_equal(a, b)
    pd.testing.assert_series_equal(a, c)
    assert (a.index.to_series().diff().dropna() == pd.Timedelta("15min")).all()
    assert a.attrs["temporal_granularity"] == "15_minutes"


def test_electricitymaps_single_point_and_unsorted_points():
    doc = load("electricitymaps_history_DE.json")
    one = carbon_from_electricitymaps(doc["history"][3])
    assert_utc_series(one, "DE", 1)
    shuffled = {"zone": "DE", "history": doc["history"][::-1]}
    pd.testing.assert_series_equal(
        carbon_from_electricitymaps(shuffled), carbon_from_electricitymaps(doc)
    )


def _em_bad(mutate) -> dict:
    doc = copy.deepcopy(load("electricitymaps_history_DE.json"))
    mutate(doc)
    return doc


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("history"), r"'history'.*'data'"),
        (lambda d: d["history"][5].update(carbonIntensity=None), r"carbonIntensity.*05:00"),
        (lambda d: d["history"][2].update(carbonIntensity="high"), r"carbonIntensity.*'high'"),
        (lambda d: d["history"][1].pop("datetime"), r"history\[1\] lacks field 'datetime'"),
        (lambda d: d["history"][4].update(zone="FR"), r"zone.*\['DE', 'FR'\]"),
        (lambda d: d["history"][4].update(emissionFactorType="direct"), r"emissionFactorType"),
        (lambda d: d["history"][0].update(datetime="2023-06-21T00:00:00"), r"no timezone"),
        (lambda d: d["history"][3].update(datetime=d["history"][2]["datetime"]), "appears twice"),
        (lambda d: d.update(history=[]), r"'history' is empty"),
        (lambda d: d.update(history={"a": 1}), r"'history' must be a list"),
    ],
)
def test_electricitymaps_bad_payloads_name_the_field(mutate, expected):
    with pytest.raises(ScenarioError, match=expected):
        carbon_from_electricitymaps(_em_bad(mutate))


def test_json_text_that_is_a_path_is_refused_with_a_hint(tmp_path):
    with pytest.raises(ScenarioError, match=r"not valid JSON.*pathlib.Path"):
        carbon_from_electricitymaps("history.json")
    with pytest.raises(ScenarioError, match="does not exist"):
        carbon_from_electricitymaps(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="got int"):
        carbon_from_electricitymaps(42)


# -- WattTime ----------------------------------------------------------------------------------
def test_watttime_lbs_per_mwh_become_g_per_kwh():
    doc = load("watttime_historical_CAISO_NORTH.json")
    s = carbon_from_watttime(doc)
    assert_utc_series(s, "CAISO_NORTH", 24)
    lbs = np.array([p["value"] for p in doc["data"]])
    # 1 lb/MWh = 453.59237 g / 1000 kWh
    np.testing.assert_allclose(s.to_numpy(), lbs * 0.45359237, rtol=0, atol=1e-12)
    assert s.attrs["signal_type"] == "co2_moer" and s.attrs["period_s"] == 300


def test_watttime_chunked_responses_are_joined():
    doc = load("watttime_historical_CAISO_NORTH.json")
    first = {"data": doc["data"][:10], "meta": doc["meta"]}
    second = {"data": doc["data"][10:], "meta": doc["meta"]}
    pd.testing.assert_series_equal(carbon_from_watttime([second, first]), carbon_from_watttime(doc))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["meta"].update(units="percentile"), r"meta.units.*'percentile'"),
        (lambda d: d["meta"].pop("units"), r"meta.units' is missing"),
        (lambda d: d.pop("meta"), r"meta.units' is missing"),
        (lambda d: d.pop("data"), r"'data' and 'meta'"),
        (lambda d: d["data"][3].update(value=None), r"'value' at 2023-06-21T16:15"),
        (lambda d: d["data"][3].pop("point_time"), r"data\[3\] lacks field 'point_time'"),
        (
            lambda d: d.update(data=[{"generated_at": "2023-06-21T16:00Z", "forecast": d["data"]}]),
            "historical forecast",
        ),
    ],
)
def test_watttime_bad_payloads_name_the_field(mutate, expected):
    doc = copy.deepcopy(load("watttime_historical_CAISO_NORTH.json"))
    mutate(doc)
    with pytest.raises(ScenarioError, match=expected):
        carbon_from_watttime(doc)


# -- carbon-aware-sdk --------------------------------------------------------------------------
def test_carbon_aware_sdk_picks_a_location():
    rows = load("carbon_aware_sdk_emissions.json")
    s = carbon_from_carbon_aware_sdk(rows, location="westus")
    assert_utc_series(s, "westus", 6)
    want = [r["rating"] for r in rows if r["location"] == "westus"]
    np.testing.assert_array_equal(s.to_numpy(), want)
    with pytest.raises(ScenarioError, match=r"\['eastus', 'westus'\].*location="):
        carbon_from_carbon_aware_sdk(rows)
    with pytest.raises(ScenarioError, match="no location 'northeurope'"):
        carbon_from_carbon_aware_sdk(rows, location="northeurope")


def test_carbon_aware_sdk_data_file_casing_and_short_timespans():
    # the SDK's JSON data files: capitalised keys, "01:00" durations, other offsets
    rows = [
        {"Location": "us-east-1", "Time": f"2021-10-25T1{k}:50:00-04:00", "Rating": 90 - k}
        | {"Duration": "01:00"}
        for k in range(4)
    ]
    s = carbon_from_carbon_aware_sdk(rows)
    assert_utc_series(s, "us-east-1", 4)
    assert s.index[0] == pd.Timestamp("2021-10-25T14:50Z")
    np.testing.assert_array_equal(s.to_numpy(), [90, 89, 88, 87])


def test_carbon_aware_sdk_gap_between_ratings_is_refused_with_its_times():
    rows = load("carbon_aware_sdk_emissions.json")
    for r in rows:
        r["duration"] = "00:30:00"
    gap = r"no rating from 2023-06-21T00:30:00\+00:00 to 2023-06-21T01:00.*lasts 30 min"
    with pytest.raises(ScenarioError, match=gap):
        carbon_from_carbon_aware_sdk(rows, location="eastus")


@pytest.mark.parametrize(
    ("text", "hours"),
    [("01:00:00", 1), ("01:00", 1), ("00:05:00", 5 / 60), ("1.02:00:00", 26), (15, 0.25)],
)
def test_timespans(text, hours):
    assert cs._timespan(text, "t", "w") == pd.Timedelta(hours=hours)


@pytest.mark.parametrize("bad", ["an hour", "-01:00:00", "00:00:00", 0, True])
def test_bad_timespans_name_duration(bad):
    with pytest.raises(ScenarioError, match="duration"):
        cs._timespan(bad, "t", "w")


def test_carbon_aware_sdk_bad_items():
    with pytest.raises(ScenarioError, match="item 0 lacks field 'rating'"):
        carbon_from_carbon_aware_sdk([{"location": "x", "time": "2023-06-21T00:00Z"}])
    with pytest.raises(ScenarioError, match="EmissionsData' must be a list"):
        carbon_from_carbon_aware_sdk({"location": "x"})


# -- ENTSO-E -----------------------------------------------------------------------------------
def test_entsoe_generation_mix_intensity_by_hand():
    df = entsoe_frame()
    s = carbon_from_entsoe(df, zone="DE_LU")
    assert_utc_series(s, "DE_LU", 12)
    assert s.index[0] == pd.Timestamp("2023-06-21T08:00Z")  # 10:00 in Berlin (CEST)
    gen = df.xs("Actual Aggregated", axis=1, level=1).drop(columns="Hydro Pumped Storage")
    # 10:15: Biomass is reported hourly, so its 10:00 reading (4300 MW) still holds
    row = gen.iloc[1].fillna(4300.0)
    factor = {"Biomass": 18, "Fossil Brown coal/Lignite": 1001, "Fossil Gas": 469, "Nuclear": 16}
    factor |= {"Solar": 46, "Wind Onshore": 12, "Wind Offshore": 12}
    want = sum(row[c] * f for c, f in factor.items()) / row.sum()
    assert s.iloc[1] == pytest.approx(want, rel=1e-12)
    assert s.attrs["unreported"] == 0


def test_entsoe_flat_columns_and_factors_for_other_types():
    df = entsoe_frame().xs("Actual Aggregated", axis=1, level=1).drop(columns="Biomass")
    df["Waste"] = 700.0
    with pytest.raises(ScenarioError, match=r"no emission factor for column\(s\) \['Waste'\]"):
        carbon_from_entsoe(df, zone="DE_LU")
    s = carbon_from_entsoe(df, zone="DE_LU", factors={**LIFECYCLE_FACTORS, "Waste": 0.0})
    kept = df.drop(columns=["Hydro Pumped Storage"])
    waste_free = carbon_from_entsoe(kept.drop(columns="Waste"), zone="DE_LU")
    # zero-emission waste only dilutes: intensity × total/(total + waste)
    total = kept.drop(columns="Waste").sum(axis=1).to_numpy()
    np.testing.assert_allclose(s.to_numpy(), waste_free.to_numpy() * total / (total + 700.0))


def test_entsoe_refusals():
    df = entsoe_frame()
    naive = df.copy()
    naive.index = naive.index.tz_localize(None)
    with pytest.raises(ScenarioError, match="no timezone"):
        carbon_from_entsoe(naive, zone="DE_LU")
    gap = df.copy()
    gap.iloc[5:8, gap.columns.get_loc(("Solar", "Actual Aggregated"))] = np.nan
    with pytest.raises(ScenarioError, match=r"'Solar' has no reading at 2023-06-21T09:15"):
        carbon_from_entsoe(gap, zone="DE_LU", unreported="error")
    # a 15-minute reading holds for its 15 minutes only: the three missing ones are unreported
    assert carbon_from_entsoe(gap, zone="DE_LU").attrs["unreported"] == 3
    dark = df.copy()
    dark.iloc[2] = 0.0
    with pytest.raises(ScenarioError, match=r"no generation reported at 2023-06-21T08:30"):
        carbon_from_entsoe(dark, zone="DE_LU")
    with pytest.raises(ScenarioError, match="query_generation DataFrame"):
        carbon_from_entsoe(df[("Solar", "Actual Aggregated")], zone="DE_LU")
    consumption_only = df.xs("Actual Consumption", axis=1, level=1, drop_level=False)
    with pytest.raises(ScenarioError, match="without 'Actual Aggregated'"):
        carbon_from_entsoe(consumption_only, zone="DE_LU")


@pytest.mark.realdata
def test_entsoe_method_reproduces_lets_wait_awhile_gb(data_file):
    """gb_production.csv × (LIFECYCLE + IMPORT factors) gives the published gb_ci.csv."""
    prod = pd.read_csv(data_file("carbon/entsoe-2020/gb_production.csv"), index_col=0)
    prod.index = pd.DatetimeIndex(pd.to_datetime(prod.index)).tz_localize("UTC")  # naive UTC
    ci = pd.read_csv(data_file("carbon/entsoe-2020/gb_ci.csv"), index_col=0)
    ci.index = pd.DatetimeIndex(pd.to_datetime(ci.index)).tz_localize("UTC")
    got = carbon_from_entsoe(prod, zone="GB", factors={**LIFECYCLE_FACTORS, **IMPORT_FACTORS})
    assert got.index.equals(ci.index)
    np.testing.assert_allclose(got.to_numpy(), ci["Carbon Intensity"].to_numpy(), rtol=1e-12)
    # 4 times lack their 4 import readings: counted as 0 MW there, as lets-wait-awhile does
    assert got.attrs["unreported"] == 16


# -- live clients, without the network ---------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test must not reach the network")

    monkeypatch.setattr(cs, "_get_json", refuse)


@pytest.mark.parametrize(
    ("call", "variable"),
    [
        (
            lambda: cs.fetch_electricitymaps("DE", "2023-06-21T00:00Z", "2023-06-22T00:00Z"),
            "ELECTRICITYMAPS_TOKEN",
        ),
        (
            lambda: cs.fetch_watttime("CAISO_NORTH", "2023-06-21T00:00Z", "2023-06-22T00:00Z"),
            "WATTTIME_USERNAME",
        ),
        (
            lambda: cs.fetch_entsoe("DE_LU", "2023-06-21T00:00Z", "2023-06-22T00:00Z"),
            "ENTSOE_API_KEY",
        ),
    ],
)
def test_live_clients_need_their_key(monkeypatch, no_network, call, variable):
    for name in ("ELECTRICITYMAPS_TOKEN", "WATTTIME_USERNAME", "WATTTIME_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ENTSOE_API_KEY", raising=False)
    with pytest.raises(DataSourceError, match=variable):
        call()


def test_missing_packages_name_the_extra(monkeypatch):
    monkeypatch.setenv("ENTSOE_API_KEY", "k")
    monkeypatch.setitem(sys.modules, "entsoe", None)  # import entsoe → ImportError
    with pytest.raises(MissingDependencyError, match=r"entsoe-py.*greenopt\[carbon-apis\]"):
        cs.fetch_entsoe("DE_LU", "2023-06-21T00:00Z", "2023-06-22T00:00Z")
    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(MissingDependencyError, match=r"requests.*greenopt\[carbon-apis\]"):
        cs._get_json("https://example.invalid", {}, source="test")


def test_electricitymaps_client_asks_past_range_in_pieces(monkeypatch):
    monkeypatch.setenv("ELECTRICITYMAPS_TOKEN", "secret")
    history = load("electricitymaps_history_DE.json")["history"]
    calls = []

    def fake(url, params, headers=None, auth=None, source=""):
        calls.append((url, dict(params), dict(headers or {})))
        start = pd.Timestamp(params["start"])
        points = [p for p in history if pd.Timestamp(p["datetime"]) >= start][:6]
        return {"zone": "DE", "temporalGranularity": "hourly", "data": points}

    monkeypatch.setattr(cs, "_get_json", fake)
    s = cs.fetch_electricitymaps("DE", "2023-06-21T00:00Z", "2023-07-03T00:00Z")
    assert [c[1]["start"] for c in calls] == ["2023-06-21T00:00:00Z", "2023-07-01T00:00:00Z"]
    assert calls[0][0].endswith("/v3/carbon-intensity/past-range")
    assert calls[0][2] == {"auth-token": "secret"}
    assert calls[0][1]["temporalGranularity"] == "hourly"
    assert calls[0][1]["emissionFactorType"] == "lifecycle"
    assert_utc_series(s, "DE", 6)


def test_watttime_client_logs_in_then_asks_historical(monkeypatch):
    monkeypatch.setenv("WATTTIME_USERNAME", "me")
    monkeypatch.setenv("WATTTIME_PASSWORD", "pw")
    doc = load("watttime_historical_CAISO_NORTH.json")
    calls = []

    def fake(url, params, headers=None, auth=None, source=""):
        calls.append((url, dict(params), headers, auth))
        return {"token": "jwt"} if url.endswith("/login") else doc

    monkeypatch.setattr(cs, "_get_json", fake)
    s = cs.fetch_watttime("CAISO_NORTH", "2023-06-21T16:00Z", "2023-06-21T18:00Z")
    assert calls[0][0].endswith("/login") and calls[0][3] == ("me", "pw")
    assert calls[1][0].endswith("/v3/historical")
    assert calls[1][1]["region"] == "CAISO_NORTH" and calls[1][1]["signal_type"] == "co2_moer"
    assert calls[1][2] == {"Authorization": "Bearer jwt"}
    assert_utc_series(s, "CAISO_NORTH", 24)


def test_live_client_times_must_be_aware(monkeypatch, no_network):
    monkeypatch.setenv("ELECTRICITYMAPS_TOKEN", "secret")
    with pytest.raises(ScenarioError, match="no timezone"):
        cs.fetch_electricitymaps("DE", "2023-06-21T00:00", "2023-06-22T00:00Z")
