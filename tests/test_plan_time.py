"""Plan tables carry tz-aware slot times; every quantity has a unit; Plan.to_xarray()."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import Horizon, Job, MissingDependencyError, Scenario, Site

START = "2023-06-01T06:00:00+02:00"  # a horizon written in local time (CEST)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    h = Horizon(start=START, slot_minutes=30, slots=12)
    sites = [
        Site(name="north", gpus=8, renewable_kw=[0.0] * 12, carbon=[50.0] * 6 + [400.0] * 6),
        Site(name="east", gpus=8, renewable_kw=[0.0] * 12, carbon=[300.0] * 12, price=[0.2] * 12),
    ]
    jobs = [
        Job(
            name=f"j{k}",
            origin="east",
            release=h.start,
            deadline=h.end,
            work_h=2,
            gpus=4,
            power_kw=3.0,
            state_gb=5.0,
        )
        for k in range(3)
    ]
    wan = [{"a": "north", "b": "east", "gbps": 10}]
    return Scenario(horizon=h, sites=sites, jobs=jobs, wan=wan, currency="EUR")


@pytest.fixture(scope="module")
def plan(scenario):
    p = greenopt.plan(scenario, method="greedy")
    assert greenopt.validate(scenario, p) == []
    return p


def test_tables_keep_their_columns_and_gain_time_last(plan):
    assert list(plan.assignments.columns) == ["job", "slot", "site", "share", "time"]
    assert list(plan.migrations.columns) == [
        "job",
        "slot",
        "src",
        "dst",
        "gb",
        "disruption_h",
        "time",
    ]
    assert list(plan.energy.columns)[:-1] == [
        "site",
        "slot",
        "facility_kwh",
        "renewable_kwh",
        "grid_kwh",
        "curtailed_kwh",
        "carbon_kg",
        "cost",
    ]
    assert plan.energy.columns[-1] == "time"
    assert len(plan.migrations) > 0  # the plan moves work to the clean site


@pytest.mark.parametrize("table", ["assignments", "migrations", "energy"])
def test_time_is_the_slot_start_in_the_horizon_zone(plan, table):
    df = getattr(plan, table)
    times = pd.DatetimeIndex(df["time"])
    assert times.tz is not None
    want = pd.Timestamp(START) + pd.to_timedelta(df["slot"].to_numpy() * 30, unit="min")
    assert (times == want).all()
    assert all(t.utcoffset() == pd.Timedelta(hours=2) for t in times[:3])


def test_empty_tables_still_have_a_typed_time_column(scenario):
    idle = greenopt.evaluate(scenario.with_jobs([]), [])
    for table in (idle.assignments, idle.migrations):
        assert len(table) == 0 and isinstance(table["time"].dtype, pd.DatetimeTZDtype)


def test_every_quantity_has_a_unit(plan):
    units = plan.units
    missing = [name for name, unit in units.items() if unit is None]
    assert missing == []
    assert units["cost"] == "EUR" and units["carbon_kg"] == "kg CO2"
    assert units["grid_kwh"] == "kWh" and units["share"] == "fraction of the slot"
    assert units["cost_per_1000_jobs"] == "EUR per 1,000 jobs"
    assert set(plan.kpis) <= set(units)


def test_units_of_new_names_follow_their_suffix_and_currency_defaults(plan):
    assert plan.unit("battery_kwh") == "kWh"
    assert plan.unit("wait_h") == "h"
    assert plan.unit("cost_saved") == "EUR"
    assert plan.unit("price_per_kwh") == "per kWh"
    assert plan.unit("mystery") is None
    unpriced = greenopt.evaluate(
        greenopt.examples.load("small"), [], method="none", objective="carbon"
    )
    assert unpriced.currency is None and unpriced.unit("cost") == "currency (unspecified)"


def test_to_xarray_is_the_energy_table_on_site_by_time(plan, scenario):
    pytest.importorskip("xarray")
    ds = plan.to_xarray()
    assert ds.sizes == {"site": 2, "time": 12}
    assert list(ds["site"].values) == ["north", "east"]  # the scenario's order
    assert ds.indexes["time"].equals(scenario.horizon.slot_starts)
    np.testing.assert_array_equal(ds["slot"].values, np.arange(12))
    e = plan.energy.set_index(["site", "slot"])
    for var in ("facility_kwh", "grid_kwh", "carbon_kg", "cost"):
        for i, site in enumerate(["north", "east"]):
            np.testing.assert_array_equal(ds[var].values[i], e.loc[site, var].to_numpy())
    assert ds["cost"].attrs["units"] == "EUR" and ds["grid_kwh"].attrs["units"] == "kWh"
    assert ds.attrs["currency"] == "EUR" and ds.attrs["method"] == "greedy"
    assert float(ds["carbon_kg"].sum()) == pytest.approx(plan.kpis["carbon_kg"])


def test_to_xarray_without_xarray_names_the_extra(plan, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(MissingDependencyError, match=r"greenopt\[xarray\]"):
        plan.to_xarray()
