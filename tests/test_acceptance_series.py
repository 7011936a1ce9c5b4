"""Issue 16, acceptance 1: a scenario built from pvlib output and Electricity Maps JSON, both at
15-minute resolution, plans with the greedy and the MILP and validates; a misaligned one is
refused naming the site.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import Horizon, Job, Scenario, ScenarioError, Site
from greenopt.io import carbon_from_electricitymaps

pvlib = pytest.importorskip("pvlib")

DATA = Path(__file__).parent / "fixtures" / "carbon_api"
HORIZON = Horizon(start="2023-06-21T00:00:00Z", slot_minutes=60, slots=24)
SITES = {  # name: (Electricity Maps zone, latitude, longitude, time zone, PV kWp, GPUs)
    "berlin": ("DE", 52.52, 13.40, "Europe/Berlin", 60.0, 16),
    "madrid": ("ES", 40.42, -3.70, "Europe/Madrid", 80.0, 16),
}


def pv_kw(lat: float, lon: float, tz: str, kwp: float, start: pd.Timestamp) -> pd.Series:
    """pvlib clear-sky PVWatts AC power (kW) every 15 minutes for a day, in local time.

    pvlib gives the power at each timestamp; a value standing for the 15 minutes after it is
    taken at their midpoint (timestamp + 7.5 min) and labelled with the period's start.
    """
    times = pd.date_range(start.tz_convert(tz), periods=96, freq="15min")
    mid = times + pd.Timedelta(minutes=7.5)
    loc = pvlib.location.Location(lat, lon, tz=tz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        solpos = loc.get_solarposition(mid)
        cs = loc.get_clearsky(mid, solar_position=solpos)
        poa = pvlib.irradiance.get_total_irradiance(
            30, 180, solpos["apparent_zenith"], solpos["azimuth"], cs["dni"], cs["ghi"], cs["dhi"]
        )
        dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], 25.0, kwp * 1000, -0.004)
        ac_w = pvlib.inverter.pvwatts(dc, kwp * 1000 / 1.1).clip(lower=0).fillna(0)
    return pd.Series(ac_w.to_numpy() / 1000.0, index=times, name="pv_kw")


def site(name: str, horizon: Horizon = HORIZON, pv_start: str | None = None) -> Site:
    zone, lat, lon, tz, kwp, gpus = SITES[name]
    start = pd.Timestamp(pv_start) if pv_start else pd.Timestamp(horizon.start)
    carbon = carbon_from_electricitymaps(DATA / f"electricitymaps_past_range_{zone}_15min.json")
    return Site(
        name=name,
        region=zone,
        gpus=gpus,
        pue=1.2,
        idle_kw=2.0,
        renewable_kw=pv_kw(lat, lon, tz, kwp, start),
        carbon=carbon,
        latitude=lat,
        longitude=lon,
    )


def jobs() -> list[Job]:
    t0 = pd.Timestamp(HORIZON.start)
    spec = [  # name, origin, release h, deadline h, work h, gpus, kW, GB
        ("train-a", "berlin", 0, 24, 8, 8, 6.0, 40.0),
        ("train-b", "madrid", 2, 22, 6, 8, 6.0, 25.0),
        ("eval-a", "berlin", 6, 14, 2, 4, 2.5, 5.0),
        ("nearline", "madrid", 0, 12, 3, 4, 2.0, 1.0),
        ("eval-b", "madrid", 10, 20, 2, 8, 5.0, 5.0),
    ]
    return [
        Job(
            name=n,
            origin=o,
            release=t0 + pd.Timedelta(hours=r),
            deadline=t0 + pd.Timedelta(hours=d),
            work_h=w,
            gpus=g,
            power_kw=kw,
            state_gb=gb,
        )
        for n, o, r, d, w, g, kw, gb in spec
    ]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(
        name="pvlib-electricitymaps",
        horizon=HORIZON,
        sites=[site("berlin"), site("madrid")],
        jobs=jobs(),
        wan=[{"a": "berlin", "b": "madrid", "gbps": 10, "latency_ms": 20}],
        currency="EUR",
    )


def test_series_are_aligned_to_the_hourly_slots(scenario):
    for s in scenario.sites:
        zone = SITES[s.name][0]
        em = carbon_from_electricitymaps(DATA / f"electricitymaps_past_range_{zone}_15min.json")
        assert len(em) == 96 and len(s.carbon) == 24
        # the time-weighted mean of four 15-minute values is their plain mean
        np.testing.assert_allclose(s.carbon, em.to_numpy().reshape(24, 4).mean(axis=1))
        pv = pv_kw(*SITES[s.name][1:5], pd.Timestamp(HORIZON.start))
        np.testing.assert_allclose(s.renewable_kw, pv.to_numpy().reshape(24, 4).mean(axis=1))
        assert s.renewable_kw.max() > 0.5 * SITES[s.name][4] * 0.8  # midday PV near capacity
        np.testing.assert_array_equal(s.price, np.zeros(24))
    # local solar noon: ~11:00 UTC in Berlin, ~12:15 UTC in Madrid (longitude −3.7°, CEST)
    berlin, madrid = scenario.sites
    assert int(np.argmax(berlin.renewable_kw)) in (10, 11)
    assert int(np.argmax(madrid.renewable_kw)) in (11, 12, 13)


@pytest.mark.parametrize("method", ["greedy", "milp"])
def test_series_scenario_plans_and_validates(scenario, method):
    options = {"time_limit": 60} if method == "milp" else {}
    plan = greenopt.plan(scenario, method=method, objective="carbon", **options)
    assert greenopt.validate(scenario, plan) == []
    assert plan.kpis["deadline_misses"] == 0
    starts = pd.Timestamp(HORIZON.start) + pd.to_timedelta(plan.assignments["slot"], unit="h")
    assert (plan.assignments["time"].to_numpy() == starts.to_numpy()).all()
    assert plan.unit("cost") == "EUR"
    run_now = greenopt.plan(scenario, method="run-now", objective="carbon")
    assert plan.kpis["carbon_kg"] <= run_now.kpis["carbon_kg"] + 1e-9


def test_misaligned_series_is_refused_naming_the_site():
    # a 2019 Asia/Tokyo PV series for the 2023 UTC horizon: once accepted (its index dropped)
    tokyo = site("berlin", pv_start="2019-06-21T00:00:00+09:00")
    with pytest.raises(ScenarioError) as err:
        Scenario(horizon=HORIZON, sites=[tokyo, site("madrid")], jobs=[])
    assert err.value.culprit == "berlin"
    msg = str(err.value)
    assert "site 'berlin' field 'renewable_kw'" in msg
    assert "2019-06-20T15:00:00+00:00" in msg and "2023-06-21T00:00:00+00:00" in msg
    # the Electricity Maps JSON covers one day only: a horizon of the next day is refused too
    later = Horizon(start="2023-06-22T00:00:00Z", slot_minutes=60, slots=24)
    with pytest.raises(ScenarioError, match=r"site 'madrid' field 'carbon'.*does not cover"):
        Scenario(horizon=later, sites=[site("madrid", horizon=later)])
