"""Time-indexed site signals (greenopt.scenario.timeseries): accepted at any resolution, aligned by
the scenario with the package's resampling, refused when naive, misaligned or short."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import Horizon, Job, Scenario, ScenarioError, Site

H = Horizon(start="2023-06-01T00:00:00Z", slot_minutes=60, slots=24)
Q = pd.date_range("2023-06-01T00:00Z", periods=96, freq="15min")  # quarter hours of H


def quarter(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=Q)


def make(**signals) -> Site:
    data = {"renewable_kw": [0.0] * 24, "carbon": [300.0] * 24} | signals
    return Site(name="oslo", gpus=8, **data)


def scenario(*sites: Site, horizon: Horizon = H, **kw) -> Scenario:
    return Scenario(horizon=horizon, sites=list(sites), **kw)


def test_quarter_hour_series_become_hourly_means():
    rng = np.random.default_rng(0)
    pv, ci, price = rng.uniform(0, 50, 96), rng.uniform(50, 500, 96), rng.uniform(-0.05, 0.3, 96)
    sc = scenario(make(renewable_kw=quarter(pv), carbon=quarter(ci), price=quarter(price)))
    s = sc.sites[0]
    for got, raw in ((s.renewable_kw, pv), (s.carbon, ci), (s.price, price)):
        assert isinstance(got, np.ndarray) and got.shape == (24,) and not got.flags.writeable
        np.testing.assert_allclose(got, raw.reshape(24, 4).mean(axis=1), rtol=1e-12)


def test_local_time_and_coarser_steps():
    ci = np.arange(96, dtype=float) + 100
    utc = scenario(make(carbon=quarter(ci))).sites[0].carbon
    berlin = quarter(ci).tz_convert("Europe/Berlin")  # same instants, local labels
    np.testing.assert_array_equal(scenario(make(carbon=berlin)).sites[0].carbon, utc)
    # a 2-hourly series: each value holds for two slots
    two_h = pd.Series(
        np.arange(12.0) * 10 + 100, index=pd.date_range(H.start, periods=12, freq="2h")
    )
    np.testing.assert_array_equal(
        scenario(make(carbon=two_h)).sites[0].carbon, np.repeat(np.arange(12.0) * 10 + 100, 2)
    )


def test_series_with_offsets_as_strings():
    local = pd.date_range(H.start, periods=24, freq="h").tz_convert("Europe/Oslo")
    idx = [t.isoformat() for t in local]  # "2023-06-01T02:00:00+02:00", ...
    s = scenario(make(carbon=pd.Series(np.arange(24.0) + 10, index=idx))).sites[0]
    np.testing.assert_array_equal(s.carbon, np.arange(24.0) + 10)


def test_misaligned_year_and_zone_is_refused_with_site_signal_and_times():
    tokyo = pd.Series(
        300.0, index=pd.date_range("2019-06-01", periods=24, freq="h", tz="Asia/Tokyo")
    )
    with pytest.raises(ScenarioError) as err:
        scenario(make(carbon=tokyo))
    assert err.value.culprit == "oslo"
    msg = str(err.value)
    assert "site 'oslo' field 'carbon'" in msg
    assert "2019-05-31T15:00:00+00:00" in msg and "2023-06-01T00:00:00+00:00" in msg


def test_naive_index_is_refused_when_the_site_is_built():
    with pytest.raises(
        ScenarioError, match=r"site 'oslo' field 'renewable_kw'.*no timezone"
    ) as err:
        make(renewable_kw=quarter(np.ones(96)).tz_localize(None))
    assert err.value.culprit == "oslo"


def test_short_series_and_gaps_are_refused():
    with pytest.raises(ScenarioError, match=r"field 'carbon'.*does not cover"):
        scenario(make(carbon=quarter(np.full(96, 200.0)).iloc[:80]))
    late = pd.Series(200.0, index=pd.date_range("2023-06-01T01:00Z", periods=30, freq="h"))
    with pytest.raises(ScenarioError, match=r"field 'carbon'.*does not cover"):
        scenario(make(carbon=late))


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (quarter(np.r_[np.full(10, 1.0), np.nan, np.full(85, 1.0)]), r"value at 2023-06-01T02:30"),
        (quarter(np.r_[np.full(40, 1.0), -1.0, np.full(55, 1.0)]), r"negative at 2023-06-01T10:00"),
        (pd.Series(1.0, index=Q.append(Q[:1])), "appears twice"),
        (quarter(np.full(96, 1.0)).iloc[:0].astype(float).set_axis(Q[:0]), "empty"),
    ],
)
def test_bad_series_name_site_field_and_time(series, expected):
    with pytest.raises(ScenarioError, match=rf"site 'oslo' field 'renewable_kw'.*{expected}"):
        make(renewable_kw=series)


def test_per_slot_input_works_as_before():
    per_slot = [float(h) for h in range(24)]
    for value in (per_slot, np.array(per_slot), pd.Series(per_slot)):
        np.testing.assert_array_equal(scenario(make(carbon=value)).sites[0].carbon, per_slot)
    with pytest.raises(ScenarioError, match=r"96 values for 24 slots.*timezone-aware index"):
        scenario(make(carbon=list(range(96))))


def test_signals_dataframe():
    frame = pd.DataFrame(
        {"renewable_kw": np.linspace(0, 9, 96), "carbon": np.full(96, 250.0)}, index=Q
    )
    s = scenario(Site(name="oslo", gpus=8, signals=frame)).sites[0]
    np.testing.assert_allclose(s.renewable_kw, np.linspace(0, 9, 96).reshape(24, 4).mean(1))
    np.testing.assert_array_equal(s.price, np.zeros(24))  # no price column: 0, as per slot
    with pytest.raises(ScenarioError, match=r"unknown column\(s\) \['co2'\]"):
        Site(name="oslo", gpus=8, signals=frame.rename(columns={"carbon": "co2"}))
    with pytest.raises(ScenarioError, match="'carbon' is given twice"):
        Site(name="oslo", gpus=8, signals=frame, carbon=[1.0] * 24)
    with pytest.raises(ScenarioError, match="must be a pandas DataFrame"):
        Site(name="oslo", gpus=8, signals=[1, 2, 3])
    # as a mapping inside the scenario, like a scenario built from dicts
    sc = Scenario(horizon=H, sites=[{"name": "oslo", "gpus": 8, "signals": frame}])
    np.testing.assert_array_equal(sc.sites[0].carbon, np.full(24, 250.0))


def test_xarray_dataarray_and_dataset():
    xr = pytest.importorskip("xarray")
    ci = quarter(np.arange(96.0) + 50).rename_axis("time")
    da = xr.DataArray(ci)
    s = scenario(make(carbon=da)).sites[0]
    np.testing.assert_allclose(s.carbon, (np.arange(96.0) + 50).reshape(24, 4).mean(1))
    ds = xr.Dataset({"carbon": da, "renewable_kw": da * 0})
    s = scenario(Site(name="oslo", gpus=8, signals=ds)).sites[0]
    np.testing.assert_array_equal(s.renewable_kw, np.zeros(24))
    with pytest.raises(ScenarioError, match="one \\(time\\) dimension"):
        make(carbon=xr.DataArray(np.ones((2, 96)), coords={"time": Q}, dims=("x", "time")))
    # a bare DataArray (no coordinate) is one value per slot, like a numpy array
    np.testing.assert_array_equal(
        scenario(make(carbon=xr.DataArray(np.full(24, 7.0)))).sites[0].carbon, np.full(24, 7.0)
    )


def test_one_site_serves_two_horizons():
    site = make(carbon=quarter(np.arange(96.0) + 100), renewable_kw=quarter(np.zeros(96)))
    morning = scenario(site, horizon=Horizon(start=H.start, slot_minutes=30, slots=12))
    day = scenario(site)
    assert isinstance(site.carbon, pd.Series)  # the Site keeps its series
    np.testing.assert_allclose(morning.sites[0].carbon, (np.arange(24.0) * 2 + 100.5)[:12])
    np.testing.assert_allclose(day.sites[0].carbon, np.arange(24.0) * 4 + 101.5)


def test_aligned_scenario_round_trips_and_plans_in_any_order(tmp_path):
    a = make(carbon=quarter(np.linspace(100, 400, 96)), renewable_kw=quarter(np.full(96, 3.0)))
    b = Site(name="bergen", gpus=8, renewable_kw=[0.0] * 24, carbon=[50.0] * 24)
    job = Job(
        name="j",
        origin="oslo",
        release=H.start,
        deadline=H.end,
        work_h=3,
        gpus=4,
        power_kw=2.0,
    )
    sc = scenario(a, b, jobs=[job], wan=[{"a": "oslo", "b": "bergen", "gbps": 1}], currency="NOK")
    path = greenopt.save_scenario(sc, tmp_path)
    again = greenopt.load_scenario(path)
    assert again == sc and again.currency == "NOK"
    plan = greenopt.plan(sc, method="greedy")
    assert greenopt.validate(sc, plan) == [] and plan.currency == "NOK"
    swapped = scenario(b, a, jobs=[job], wan=[{"a": "oslo", "b": "bergen", "gbps": 1}])
    other = greenopt.plan(swapped, method="greedy")
    assert other.kpis == pytest.approx(plan.kpis)
    assert sc.with_jobs([]).currency == "NOK"
