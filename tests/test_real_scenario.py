"""build_real_scenario: real days from ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenopt.errors import ScenarioError
from greenopt.io import build_real_scenario, load_scenario, read_electricitymaps, save_scenario
from greenopt.io.formats import read_solcast
from greenopt.io.real import SOLCAST_GLOBAL, ZONES, _gcp_rtt, site_solar, zone_carbon
from greenopt.scenario.resample import resample_to_horizon

DAYS = ["2022-06-21", "2023-01-15", "2023-09-10"]


@pytest.mark.realdata
@pytest.mark.parametrize("day", DAYS)
def test_real_days_are_valid(data_dir, day):
    sc = build_real_scenario(data_dir, day)
    assert len(sc.sites) >= 6 and len(sc.jobs) >= 300
    assert sc.horizon.slots == 24 and pd.Timestamp(sc.horizon.start) == pd.Timestamp(day, tz="UTC")
    idx = sc.index
    assert np.all(idx.allowed.any(axis=1))  # every job has a site with enough GPUs
    assert np.all(idx.work_h <= (idx.end_slot - idx.first_slot) * idx.dt_h + 1e-9)
    kinds = {j.kind for j in sc.jobs}
    assert {"training", "latency_critical", "nearline"} <= kinds
    training = [j for j in sc.jobs if j.kind == "training"]
    assert len(training) == 90 and all(j.gpus >= 4 for j in training)  # Philly: multi-GPU
    assert all(j.gpus <= 8 for j in sc.jobs if j.kind != "training")  # Alibaba: 1–8 GPUs
    # carbon is the Electricity Maps export of each zone for that day
    de = read_electricitymaps(data_dir / "carbon" / "electricitymaps" / f"DE_{day[:4]}_hourly.csv")
    assert np.allclose(sc.site("frankfurt").carbon, de.loc[day].to_numpy(), atol=5e-4)
    # solar: zero at local night, positive at local noon
    madrid = sc.site("madrid").renewable_kw
    assert madrid[2] == 0 and madrid[12] > 0
    # the WAN routes every pair, latencies are half the measured GCP round-trip times
    assert np.all(sc.network.bottleneck_gbps[~np.eye(len(sc.sites), dtype=bool)] == 10.0)


@pytest.mark.realdata
def test_real_is_deterministic_and_seeded(data_dir):
    a = build_real_scenario(data_dir, "2023-03-05", n_jobs=120)
    assert a == build_real_scenario(data_dir, "2023-03-05", n_jobs=120)
    b = build_real_scenario(data_dir, "2023-03-05", n_jobs=120, seed=1)
    assert [j.name for j in a.jobs] != [j.name for j in b.jobs]


@pytest.mark.realdata
def test_real_round_trips_through_files(data_dir, tmp_path):
    sc = build_real_scenario(data_dir, "2023-07-01", n_jobs=60)
    assert load_scenario(save_scenario(sc, tmp_path)) == sc


@pytest.mark.realdata
def test_real_wan_latency_is_half_gcp_rtt(data_dir):
    sc = build_real_scenario(data_dir, "2023-07-01", n_jobs=10, gbps=25.0)
    rtt = _gcp_rtt(str(data_dir / "wan" / "gcp-latency" / "raw_gcp_latency.csv"))
    key = tuple(sorted(("europe-west3", "europe-southwest1")))  # Frankfurt–Madrid
    assert sc.wan.edges["frankfurt", "madrid"]["latency_ms"] == pytest.approx(rtt[key] / 2)
    assert sc.wan.edges["frankfurt", "madrid"]["gbps"] == 25.0
    assert sc.wan.number_of_edges() == 15  # full mesh of 6 sites


@pytest.mark.realdata
def test_solar_source_by_day(data_dir):
    if not (data_dir / SOLCAST_GLOBAL).is_file():
        pytest.skip("Solcast file absent")
    from greenopt.scenario import Horizon

    frankfurt = next(z for z in ZONES if z.site == "frankfurt")
    madrid = next(z for z in ZONES if z.site == "madrid")
    inside = Horizon(start=pd.Timestamp("2022-06-21", tz="UTC"), slot_minutes=60, slots=24)
    outside = Horizon(start=pd.Timestamp("2023-06-21", tz="UTC"), slot_minutes=60, slots=24)
    pv, src = site_solar(data_dir, frankfurt, inside, 100.0, "auto")
    berlin = read_solcast(data_dir / SOLCAST_GLOBAL, "Berlin")
    assert src == "solcast"
    assert np.allclose(pv, resample_to_horizon(berlin, inside) * 100.0)
    assert site_solar(data_dir, madrid, inside, 100.0, "auto")[1] == "pvlib"
    assert site_solar(data_dir, frankfurt, outside, 100.0, "auto")[1] == "pvlib"
    assert site_solar(data_dir, frankfurt, inside, 100.0, "pvlib")[1] == "pvlib"
    with pytest.raises(ScenarioError, match="Berlin"):
        site_solar(data_dir, frankfurt, outside, 100.0, "solcast")


@pytest.mark.realdata
def test_real_48_slots_across_new_year(data_dir):
    sc = build_real_scenario(data_dir, "2022-12-31", slots=48, n_jobs=50)
    assert sc.horizon.slots == 48 and len(sc.sites[0].carbon) == 48
    h = sc.horizon
    assert np.allclose(sc.site("oslo").carbon, zone_carbon(data_dir, "NO", h))


@pytest.mark.realdata
def test_real_day_outside_data(data_dir):
    with pytest.raises(ScenarioError, match="BR"):
        build_real_scenario(data_dir, "2021-03-01", n_jobs=10)
    with pytest.raises(ScenarioError, match="does not cover"):
        build_real_scenario(data_dir, "2023-12-31", slots=48, n_jobs=10)
    with pytest.raises(ScenarioError, match="day"):
        build_real_scenario(data_dir, "not-a-day")


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="real-data folder not found"):
        build_real_scenario(tmp_path / "absent", "2023-06-21")
