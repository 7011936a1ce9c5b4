"""The embedded examples: both load; the realistic day has the promised shape and is feasible."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt.examples import profiles, realistic
from greenopt.scenario import JOB_KINDS, Scenario


@pytest.fixture(scope="module")
def built() -> tuple[Scenario, pd.DataFrame]:
    return realistic.build_with_witness()


@pytest.fixture(scope="module")
def sc(built) -> Scenario:
    return built[0]


def _spec(name: str) -> realistic.SiteSpec:
    return next(s for s in realistic.SITES if s.name == name)


def _local_hours(sc: Scenario, longitude: float) -> np.ndarray:
    """Mean solar time at the middle of each slot."""
    mid = sc.horizon.slot_starts + pd.Timedelta(minutes=sc.horizon.slot_minutes / 2)
    return ((mid.hour + mid.minute / 60.0).to_numpy(float) + longitude / 15.0) % 24.0


def _edf_run_now(sc: Scenario) -> pd.DataFrame:
    """Every job at its origin from its release; per site and slot, running non-preemptible jobs
    keep their GPUs, then earliest deadline first while GPUs are free; share = min(1, left/Δ).
    """
    ix = sc.index
    left = ix.work_h.astype(float).copy()
    started = np.zeros(len(left), dtype=bool)
    rows = []
    for t in range(ix.T):
        for s in range(len(ix.site_names)):
            free = int(ix.site_gpus[s])
            live = [
                j
                for j in range(len(left))
                if ix.origin[j] == s and ix.first_slot[j] <= t < ix.end_slot[j] and left[j] > 1e-9
            ]
            live.sort(
                key=lambda j: (not (started[j] and not ix.preemptible[j]), ix.deadline_h[j], j)
            )
            for j in live:
                if ix.gpus[j] > free:
                    continue
                share = min(1.0, left[j] / ix.dt_h)
                free -= int(ix.gpus[j])
                left[j] -= share * ix.dt_h
                started[j] = True
                rows.append((ix.job_names[j], t, ix.site_names[s], share))
    return pd.DataFrame(rows, columns=["job", "slot", "site", "share"])


# -- both examples --------------------------------------------------------------------------------
def test_both_examples_load(sc):
    assert greenopt.examples.names() == ["small", "realistic"]
    small = greenopt.examples.load("small")
    assert (len(small.sites), len(small.jobs), small.horizon.slots) == (3, 20, 24)
    loaded = greenopt.examples.load("realistic")
    assert isinstance(loaded, Scenario) and loaded == sc


def test_unknown_example_is_a_scenario_error():
    with pytest.raises(greenopt.ScenarioError, match="unknown"):
        greenopt.examples.load("nope")


# -- the realistic day: shape ---------------------------------------------------------------------
def test_sites_span_continents_with_coordinates(sc):
    assert len(sc.sites) >= 6
    continents = {_spec(s.name).continent for s in sc.sites}
    assert len(continents) >= 3
    for s in sc.sites:
        spec = _spec(s.name)
        assert s.latitude == spec.latitude and s.longitude == spec.longitude
        assert 1.1 <= s.pue <= 1.5 and 64 <= s.gpus <= 512
        assert s.idle_kw == pytest.approx(realistic.IDLE_KW_PER_GPU * s.gpus)
    assert len({s.region for s in sc.sites}) == len(sc.sites)


def test_jobs_cover_all_kinds_with_realistic_sizes(sc):
    assert len(sc.jobs) >= 200
    by_kind = {k: [j for j in sc.jobs if j.kind == k] for k in JOB_KINDS}
    assert all(len(v) >= 20 for v in by_kind.values())
    for j in by_kind["training"]:
        assert 8 <= j.gpus <= 64 and 50 <= j.state_gb <= 2000
        assert j.preemptible and j.migratable and j.work_h >= 1
    for j in by_kind["nearline"]:
        assert 1 <= j.gpus <= 8 and j.preemptible and j.migratable
    for j in by_kind["evaluation"]:
        assert 1 <= j.gpus <= 8 and j.work_h <= 2 and not j.preemptible
    dt = sc.horizon.dt_h
    for j in by_kind["latency_critical"]:
        window_h = (j.deadline - j.release).total_seconds() / 3600
        assert j.gpus <= 2 and not j.migratable and not j.preemptible
        assert j.work_h <= window_h < j.work_h + dt  # deadline ≈ release + work
        assert j.priority > 1
    for j in sc.jobs:  # H100-class: at most 0.7 kW per GPU
        assert 0 < j.power_kw <= 0.7 * j.gpus + 1e-9
    big = [j for j in by_kind["training"] if j.gpus == 64]
    assert big and max(j.state_gb for j in big) > 500  # tens of billions of parameters


def test_some_jobs_have_data_residency_inside_their_origin_region(sc):
    restricted = [j for j in sc.jobs if j.allowed_regions is not None]
    assert 5 <= len(restricted) <= 0.3 * len(sc.jobs)
    for j in restricted:
        assert sc.site(j.origin).region in j.allowed_regions
    assert any(set(j.allowed_regions) == {"NO", "ES", "DE"} for j in restricted)


def test_demand_is_40_to_70_percent_of_capacity(sc):
    ix = sc.index
    demand = float((ix.gpus * ix.work_h).sum())
    capacity = float(ix.site_gpus.sum() * ix.T * ix.dt_h)
    assert 0.40 <= demand / capacity <= 0.70


def test_wan_links_are_1_to_100_gbps_with_distance_latency(sc):
    edges = list(sc.wan.edges(data=True))
    gbps = [d["gbps"] for _, _, d in edges]
    assert min(gbps) >= 1 and max(gbps) <= 100 and min(gbps) == 1 and max(gbps) == 100
    assert set(realistic.TRANSIT) <= set(sc.wan.nodes)
    where = {s.name: (s.latitude, s.longitude) for s in sc.sites} | realistic.TRANSIT
    for a, b, d in edges:
        km = realistic.great_circle_km(where[a], where[b])
        assert d["latency_ms"] == pytest.approx(1.5 * km / 200 + 0.5, abs=0.06)
    # Madrid–Amsterdam over the haversine is ≈ 1,480 km
    assert realistic.great_circle_km(where["madrid"], where["amsterdam"]) == pytest.approx(
        1480, rel=0.02
    )
    net = sc.network
    assert np.isfinite(net.bottleneck_gbps[np.triu_indices(len(sc.sites), 1)]).all()


# -- renewable supply -----------------------------------------------------------------------------
def test_solar_is_zero_at_local_night_and_positive_at_local_noon(sc):
    for s in sc.sites:
        spec = _spec(s.name)
        if spec.solar_kw == 0:
            continue
        local = _local_hours(sc, s.longitude)
        noon = int(np.argmin(np.abs(local - 12.0)))
        night = int(np.argmin(np.abs(((local + 12.0) % 24.0) - 12.0)))  # nearest to 00:00
        assert s.renewable_kw[night] == 0.0, s.name
        assert s.renewable_kw[noon] > 0.2 * spec.solar_kw, s.name
        assert s.renewable_kw.max() <= spec.solar_kw + 1e-6


def test_renewable_windows_fall_at_different_utc_hours(sc):
    peaks = {s.name: int(np.argmax(s.renewable_kw)) for s in sc.sites if _spec(s.name).solar_kw > 0}
    assert len(set(peaks.values())) >= 5
    assert peaks["sydney"] < 6 < peaks["madrid"] < 14 < peaks["california"]


def test_wind_site_varies_and_stays_within_its_contract(sc):
    wind = next(s for s in sc.sites if _spec(s.name).wind_kw > 0)
    cap = _spec(wind.name).wind_kw
    r = wind.renewable_kw
    assert r.max() <= cap + 1e-6 and r.min() >= 0
    assert r.std() > 0.15 * r.mean() and r.max() - r.min() > 0.3 * cap
    assert 0.3 < r.mean() / cap < 0.7  # a West-Texas June capacity factor
    local = _local_hours(sc, wind.longitude)
    night = r[(local < 6) | (local >= 22)].mean()
    afternoon = r[(local >= 12) & (local < 18)].mean()
    assert night > afternoon  # nocturnal low-level jet


def test_wind_helper_follows_the_power_curve():
    times = pd.date_range("2023-06-21T00:00Z", periods=6, freq="h")
    calm = profiles.wind_kw(0.0, times, 100.0, mean_ms=1.5, amplitude_ms=0.0, gust_ms=0.0)
    rated = profiles.wind_kw(0.0, times, 100.0, mean_ms=14.0, amplitude_ms=0.0, gust_ms=0.0)
    storm = profiles.wind_kw(0.0, times, 100.0, mean_ms=30.0, amplitude_ms=0.0, gust_ms=0.0)
    assert np.all(calm == 0.0)  # below cut-in
    assert np.allclose(rated, 100.0, rtol=0.02)  # above rated speed
    assert np.all(storm == 0.0)  # past cut-out
    again = profiles.wind_kw(0.0, times, 100.0, seed=3)
    assert np.array_equal(again, profiles.wind_kw(0.0, times, 100.0, seed=3))


def test_windpowerlib_turbine_data_ship_inside_the_package():
    import windpowerlib

    folder = Path(windpowerlib.__file__).parent / "oedb"
    assert (folder / "power_curves.csv").is_file() and (folder / "turbine_data.csv").is_file()
    table = pd.read_csv(folder / "power_curves.csv", index_col=0)
    assert "GE120/2500" in table.index


# -- grid signals ---------------------------------------------------------------------------------
def test_carbon_and_price_means_follow_the_cited_levels(sc):
    for s in sc.sites:
        spec = _spec(s.name)
        assert s.carbon.mean() == pytest.approx(spec.carbon_mean, rel=0.01)
        assert s.price.mean() == pytest.approx(spec.price_mean, rel=0.01)
        assert s.price.min() > 0 and s.carbon.min() > 0
    order = sorted(sc.sites, key=lambda s: s.carbon.mean())
    assert [s.name for s in order][:2] == ["oslo", "sao-paulo"]
    assert order[-1].name == "mumbai"


def test_solar_heavy_grids_dip_at_local_noon(sc):
    for name in ("madrid", "frankfurt", "california"):
        s = sc.site(name)
        local = _local_hours(sc, s.longitude)
        noon = int(np.argmin(np.abs(local - 12.5)))
        assert s.carbon[noon] < 0.8 * s.carbon.mean(), name
        assert s.price[noon] < s.price.mean(), name


@pytest.mark.realdata
def test_cited_carbon_levels_match_electricity_maps_2023(data_file):
    zones = {
        "oslo": "NO",
        "madrid": "ES",
        "frankfurt": "DE",
        "texas": "ERCOT",
        "california": "US-CAL-CISO",
        "sao-paulo": "BR",
    }
    for site, zone in zones.items():
        df = pd.read_csv(data_file(f"carbon/electricitymaps/{zone}_2023_hourly.csv"))
        lca = next(c for c in df.columns if "LCA" in c)
        assert _spec(site).carbon_mean == pytest.approx(df[lca].mean(), rel=0.02), site


# -- determinism, files, speed --------------------------------------------------------------------
def test_same_seed_same_scenario_other_seed_other_jobs(sc):
    assert realistic.build(seed=7) == sc
    other = realistic.build(seed=8)
    assert other != sc
    assert other.sites == sc.sites  # the weather does not depend on the job seed
    assert realistic.build(weather_seed=1).site("texas") != sc.site("texas")


def test_save_load_round_trip(sc, tmp_path):
    path = greenopt.save_scenario(sc, tmp_path / "realistic")
    back = greenopt.load_scenario(path)
    assert back == sc


# -- feasibility ----------------------------------------------------------------------------------
def test_witness_plan_is_valid_and_meets_every_deadline(built):
    sc, witness = built
    plan = greenopt.evaluate(sc, witness, method="witness", deadlines="hard")
    assert greenopt.validate(sc, plan, deadlines="hard") == []
    assert plan.kpis["deadline_misses"] == 0 and plan.kpis["jobs_done"] == len(sc.jobs)
    assert plan.kpis["migrations"] == 0
    # the day is interesting: run-at-origin leaves renewable energy curtailed and grid in use
    assert plan.kpis["curtailed_kwh"] > 0.05 * plan.kpis["renewable_kwh"]
    assert 0.1 < plan.kpis["renewable_share"] < 0.7


def test_edf_run_now_at_origin_is_valid_with_few_misses(sc):
    plan = greenopt.evaluate(sc, _edf_run_now(sc), method="edf-run-now")
    assert greenopt.validate(sc, plan) == []
    assert plan.kpis["deadline_misses"] <= 0.05 * len(sc.jobs)
    assert plan.kpis["migrations"] == 0


@pytest.mark.skipif(
    importlib.util.find_spec("greenopt.heuristics.baselines") is None,
    reason="greenopt.heuristics.baselines (run-now) is not written yet",
)
def test_run_now_baseline_is_valid_with_few_misses(sc):
    plan = greenopt.plan(sc, method="run-now")
    assert greenopt.validate(sc, plan) == []
    assert plan.kpis["deadline_misses"] <= 0.05 * len(sc.jobs)


@pytest.mark.parametrize(("jobs", "slots", "slot_minutes"), [(40, 48, 30), (200, 96, 15)])
def test_other_sizes_and_resolutions_stay_feasible(jobs, slots, slot_minutes):
    sc, witness = realistic.build_with_witness(
        seed=3, jobs=jobs, slots=slots, slot_minutes=slot_minutes
    )
    assert len(sc.jobs) == jobs and sc.horizon.slots == slots
    plan = greenopt.evaluate(sc, witness, deadlines="hard")
    assert greenopt.validate(sc, plan, deadlines="hard") == []
    assert plan.kpis["deadline_misses"] == 0


def test_too_many_jobs_is_a_scenario_error():
    with pytest.raises(greenopt.ScenarioError, match="does not fit"):
        realistic.build(jobs=2000)


def test_latency_from_distance_is_physical():
    # Sydney–Los Angeles ≈ 12,000 km: ≥ 60 ms one way at 2/3 c even before route stretch
    km = realistic.great_circle_km((-33.87, 151.21), (34.05, -118.24))
    assert 11_500 < km < 12_500
    assert realistic.link_latency_ms((-33.87, 151.21), (34.05, -118.24)) > km / 200
    assert math.isclose(realistic.great_circle_km((0, 0), (0, 0)), 0.0)
