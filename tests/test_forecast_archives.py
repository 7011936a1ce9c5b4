"""Loaders of the real forecast archives (skipped when ../shared/data is absent), their
conversion to a scenario's Forecasts, and malformed archive files (built here, no data needed)."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from greenopt.errors import ForecastError
from greenopt.forecasts import known_signals, make_forecasts
from greenopt.io.forecast_archives import (
    SGIP_FILES,
    SOLCAST_ZIPS,
    WATTTIME_ZIP,
    read_sgip_moer,
    read_solcast_archive,
    read_watttime_archive,
)
from greenopt.scenario import Horizon
from greenopt.scenario.resample import resample_to_horizon
from tests.forecast_helpers import scenario

FIVE = pd.Timedelta(minutes=5)


@pytest.fixture(scope="module")
def sgip(data_file):
    return read_sgip_moer(*(data_file(f) for f in SGIP_FILES["PGE"]))


@pytest.fixture(scope="module")
def watttime(data_file):
    return read_watttime_archive(data_file(WATTTIME_ZIP))


@pytest.fixture(scope="module")
def solcast(data_file):
    return read_solcast_archive(data_file(SOLCAST_ZIPS["global"]))


@pytest.mark.realdata
def test_sgip_moer_in_grams_with_36_leads_from_the_issue(sgip, data_file):
    assert sgip.signal == "carbon" and sgip.unit == "gCO2/kWh"
    assert sgip.series == ("SGIP_CAISO_PGE",)
    assert list(sgip.leads) == [FIVE * i for i in range(36)]  # f1 is the interval at `time`
    assert str(sgip.issue_times.tz) == "UTC" and sgip.issue_times.is_unique
    # the two monthly files overlap by two days: kept once, on one regular grid
    assert (np.diff(sgip.issue_times.asi8) == FIVE.value).all()
    assert sgip.issue_times[0] == pd.Timestamp("2021-06-30T00:00Z")
    with gzip.open(data_file(SGIP_FILES["PGE"][0])) as fh:
        raw = pd.read_csv(fh, nrows=1)
    assert sgip.values[0, 0, 0] == pytest.approx(raw["f1"].iloc[0] * 1000)
    assert sgip.values[0, 35, 0] == pytest.approx(raw["f36"].iloc[0] * 1000)
    assert sgip.actuals.iloc[0, 0] == pytest.approx(raw["moer"].iloc[0] * 1000)
    a = sgip.actuals.to_numpy()
    assert a.min() >= 0 and 400 < a.max() < 700  # grams, not kilograms


@pytest.mark.realdata
def test_watttime_archive_leads_and_values(watttime):
    assert watttime.series == ("Caiso_North",)
    assert watttime.leads[0] == FIVE and watttime.leads[12] == 13 * FIVE
    i = watttime.issue_times.get_loc(pd.Timestamp("2023-06-08T00:00Z"))
    assert watttime.values[i, 0, 0] == pytest.approx(412.406182804)  # forecast for 00:05
    assert watttime.actual("Caiso_North").iloc[0] == pytest.approx(425.01605069)
    # after a gap in the requests a few forecasts reach further; elsewhere missing
    assert np.isfinite(watttime.values[:, 13:]).sum() < 20


@pytest.mark.realdata
def test_solcast_archive_is_moved_to_interval_starts(solcast):
    assert solcast.signal == "renewable_kw" and len(solcast.series) == 10
    assert solcast.actuals.index[0] == pd.Timestamp("2022-06-08T00:00Z")  # row 00:05 ends it
    assert list(solcast.leads) == [FIVE * i for i in range(13)]
    v = solcast.values[np.isfinite(solcast.values)]
    assert v.min() >= 0 and v.max() <= 1
    assert np.isnan(solcast.values).sum() == 13  # missing in the file, kept missing
    berlin = solcast.series.index("Berlin")
    i = solcast.issue_times.get_loc(pd.Timestamp("2022-06-08T00:00Z"))
    assert solcast.values[i, 0, solcast.series.index("San Francisco")] == pytest.approx(0.344807)
    assert solcast.values[i, 0, berlin] == 0.0


@pytest.mark.realdata
def test_to_forecasts_on_five_minute_slots_keeps_the_values(solcast):
    day = Horizon(start=pd.Timestamp("2022-06-20T00:00Z"), slot_minutes=5, slots=288)
    fc = solcast.to_forecasts(
        day, {"sf": "San Francisco", "de": "Berlin"}, scale={"sf": 2.0, "de": 1.0}
    )
    issue = pd.Timestamp("2022-06-20T10:00Z")
    i = fc.issue_times.get_loc(issue)
    j = solcast.issue_times.get_loc(issue)
    got = fc.values["renewable_kw"][i, 0, 120:133]  # 10:00 + 0..60 min
    np.testing.assert_array_equal(
        got, solcast.values[j, :, solcast.series.index("San Francisco")] * 2.0
    )
    assert np.isnan(fc.values["renewable_kw"][i, 0, 133:]).all()
    assert np.isnan(fc.values["renewable_kw"][i, 0, :120]).all()
    # the issue before the horizon (23:55 the day before) informs its first slots
    assert fc.issue_slots[0] == 0 and fc.issue_times[0] < day.start


@pytest.mark.realdata
def test_to_forecasts_on_hourly_slots_averages_what_covers_a_slot(solcast, watttime):
    day = Horizon(start=pd.Timestamp("2022-06-20T00:00Z"), slot_minutes=60, slots=24)
    fc = solcast.to_forecasts(day, {"de": "Berlin"}, history_slots=24)
    issue = pd.Timestamp("2022-06-20T10:00Z")
    i, j = fc.issue_times.get_loc(issue), solcast.issue_times.get_loc(issue)
    col = solcast.series.index("Berlin")
    assert fc.values["renewable_kw"][i, 0, 10] == pytest.approx(solcast.values[j, :12, col].mean())
    assert np.isnan(fc.values["renewable_kw"][i, 0, 11])  # the 13th value only half covers it
    berlin = solcast.actual("Berlin")
    before = Horizon(start=pd.Timestamp("2022-06-19T00:00Z"), slot_minutes=60, slots=24)
    np.testing.assert_allclose(
        fc.history["renewable_kw"][0], resample_to_horizon(berlin, before), rtol=1e-12
    )
    # WattTime forecasts start 5 min after their issue: the 09:55 issue covers 10:00-11:00
    day23 = Horizon(start=pd.Timestamp("2023-06-20T00:00Z"), slot_minutes=60, slots=24)
    wt = watttime.to_forecasts(day23, {"north": "Caiso_North"})
    k = wt.issue_times.get_loc(pd.Timestamp("2023-06-20T09:55Z"))
    w = watttime.issue_times.get_loc(pd.Timestamp("2023-06-20T09:55Z"))
    assert wt.values["carbon"][k, 0, 10] == pytest.approx(watttime.values[w, :12, 0].mean())
    assert np.isnan(wt.values["carbon"][wt.issue_times.get_loc(day23.slot_starts[10])][0, 10])
    assert wt.as_of(10)["carbon"][0, 10] == pytest.approx(watttime.values[w, :12, 0].mean())


@pytest.mark.realdata
def test_a_scenario_carrying_real_forecasts_operates(solcast):
    day = Horizon(start=pd.Timestamp("2022-06-20T00:00Z"), slot_minutes=60, slots=24)
    berlin = resample_to_horizon(solcast.actual("Berlin"), day) * 100.0
    sc = scenario(berlin[None], np.full((1, 24), 300.0), names=["berlin"], start=day.start)
    fc = solcast.to_forecasts(day, {"berlin": "Berlin"}, scale=100.0, history_slots=24)
    sc = sc.with_jobs([], forecasts=fc)
    ops = make_forecasts(sc, "scenario")
    ks = known_signals(sc, ops, 10)
    assert ks.renewable_kw[0, 10] == pytest.approx(fc.as_of(10)["renewable_kw"][0, 10])
    # beyond the archive's reach: persistence of the day before (the history)
    assert ks.renewable_kw[0, 15] == pytest.approx(fc.history["renewable_kw"][0, 15])
    assert ks.carbon[0, 15] == 300.0


# -- malformed archive files (no real data needed) ------------------------------------------------
def _sgip(tmp_path, text, name="SGIP_CAISO_XX_2021-07.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_malformed_sgip_files(tmp_path):
    head = "time,moer,f1,f2\n"
    ok = head + "2021-07-01 00:00:00+00:00,0.3,0.31,0.32\n2021-07-01 00:05:00+00:00,0.3,0.3,0.3\n"
    arc = read_sgip_moer(_sgip(tmp_path, ok))
    assert arc.values.shape == (2, 2, 1) and arc.values[0, 1, 0] == pytest.approx(320.0)
    with pytest.raises(ForecastError, match=r"lacks column\(s\) \['moer'\]"):
        read_sgip_moer(_sgip(tmp_path, "time,f1\n2021-07-01 00:00:00,0.1\n"))
    with pytest.raises(ForecastError, match=r"f1\.\.fN"):
        read_sgip_moer(_sgip(tmp_path, "time,moer,f2\n2021-07-01 00:00:00,0.1,0.2\n"))
    bad = head + "2021-07-01 00:00:00+00:00,0.3,x,0.32\n"
    with pytest.raises(ForecastError, match=r"column 'f1' at 2021-07-01T00:00:00\+00:00"):
        read_sgip_moer(_sgip(tmp_path, bad))
    neg = head + "2021-07-01 00:00:00+00:00,-0.3,0.3,0.32\n"
    with pytest.raises(ForecastError, match="outside"):
        read_sgip_moer(_sgip(tmp_path, neg))
    gap = head + "2021-07-01 00:00:00+00:00,0.3,0.3,0.3\n2021-07-01 00:15:00+00:00,0.3,0.3,0.3\n"
    with pytest.raises(ForecastError, match=r"missing 2021-07-01T00:05:00\+00:00"):
        read_sgip_moer(_sgip(tmp_path, gap))
    with pytest.raises(ForecastError, match="not found"):
        read_sgip_moer(tmp_path / "nope.csv")


def _zip(tmp_path, actual, forecast, name="watttime_test.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        if actual is not None:
            zf.writestr("x_actual.csv", actual)
        if forecast is not None:
            zf.writestr("x_forecast.csv", forecast)
    return path


def test_malformed_vessim_archives(tmp_path):
    act = "time,Region\n2023-06-08 00:00:00,400\n2023-06-08 00:05:00,410\n"
    fc = "request_time,forecast_time,Region\n2023-06-08 00:00:00,2023-06-08 00:05:00,405\n"
    arc = read_watttime_archive(_zip(tmp_path, act, fc))
    assert arc.series == ("Region",) and arc.leads[0] == FIVE
    with pytest.raises(ForecastError, match=r"_forecast\.csv"):
        read_watttime_archive(_zip(tmp_path, act, None))
    late = "request_time,forecast_time,Region\n2023-06-08 00:05:00,2023-06-08 00:00:00,405\n"
    with pytest.raises(ForecastError, match="issued later"):
        read_watttime_archive(_zip(tmp_path, act, late))
    twice = fc + "2023-06-08 00:00:00,2023-06-08 00:05:00,406\n"
    with pytest.raises(ForecastError, match="two forecasts issued"):
        read_watttime_archive(_zip(tmp_path, act, twice))
    with pytest.raises(ForecastError, match=r"lacks column\(s\) \['Region'\]"):
        read_watttime_archive(_zip(tmp_path, act, "request_time,forecast_time,Other\n1,2,3\n"))
    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(ForecastError, match="not a readable zip"):
        read_watttime_archive(tmp_path / "junk.zip")
    sol_act = "datetime,Oslo\n2022-06-08 00:05:00,0.5\n2022-06-08 00:10:00,1.5\n"
    sol_fc = "datetime,period_end,Oslo\n2022-06-08 00:00:00,2022-06-08 00:05:00,0.4\n"
    with pytest.raises(ForecastError, match="series 'Oslo' has values outside 0–1"):
        read_solcast_archive(_zip(tmp_path, sol_act, sol_fc, "solcast_test.zip"))


@pytest.mark.realdata
def test_real_trace_scenarios_get_the_day_before_and_solcast_forecasts(data_dir):
    from greenopt.io.real import build_real_scenario
    from greenopt.io.real_forecasts import real_forecasts

    sc = build_real_scenario(data_dir, "2022-06-20", n_sites=3, n_jobs=20)
    fc = real_forecasts(sc, data_dir)
    day_before = build_real_scenario(data_dir, "2022-06-19", n_sites=3, n_jobs=20)
    np.testing.assert_array_equal(fc.history["carbon"], day_before.index.carbon)
    np.testing.assert_allclose(fc.history["renewable_kw"], day_before.index.renewable_kw)
    assert set(fc.values) == {"renewable_kw"}  # Solcast sites only: sao-paulo, oslo
    madrid = sc.index.site_pos["madrid"]
    assert np.isnan(fc.values["renewable_kw"][:, madrid]).all()  # pvlib solar: no forecast
    sc = sc.with_jobs(sc.jobs, forecasts=fc)
    ops = make_forecasts(sc, "scenario")
    pers = make_forecasts(sc, "persistence")
    ks = known_signals(sc, ops, 12)
    oslo = sc.index.site_pos["oslo"]
    assert ks.renewable_kw[oslo, 12] == pytest.approx(fc.as_of(12)["renewable_kw"][oslo, 12])
    np.testing.assert_array_equal(ks.carbon, known_signals(sc, pers, 12).carbon)
    np.testing.assert_array_equal(
        pers.as_of(3)["carbon"][:, 3:], fc.history["carbon"][:, 3:]
    )  # the day before
    with pytest.raises(ForecastError, match="not a site of the real-trace"):
        real_forecasts(scenario(np.zeros((1, 24)), np.ones((1, 24)) * 9), data_dir)
