"""Real-format loaders: each on its public file (skipped when absent) and on a file written here."""

from __future__ import annotations

import gzip
import itertools
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from greenopt.errors import ScenarioError
from greenopt.io import (
    JobRules,
    jobs_from_alibaba,
    jobs_from_philly,
    pick_sites,
    read_alibaba,
    read_electricitymaps,
    read_entsoe_ci,
    read_philly,
    read_pvwatts,
    read_solcast,
    read_topology_zoo,
    read_watttime,
    resample_to_horizon,
)
from greenopt.io.data import data_dir, require_data_dir
from greenopt.io.topology import fibre_latency_ms, great_circle_km
from greenopt.scenario import Horizon, Job, Scenario, Site

UTC = "UTC"


def day_horizon(day: str, slots: int = 24) -> Horizon:
    return Horizon(start=pd.Timestamp(day, tz=UTC), slot_minutes=60, slots=slots)


def scenario_with(
    horizon: Horizon,
    carbon: pd.Series | None = None,
    solar_kw: pd.Series | None = None,
    jobs: list[Job] | None = None,
    wan: nx.Graph | None = None,
    sites: list[str] = ("a", "b"),
    gpus: int = 64,
) -> Scenario:
    """A scenario whose sites all take the given series (resampled to the horizon); consistency
    checks run when it is built."""
    T = horizon.slots
    ci = resample_to_horizon(carbon, horizon, "carbon") if carbon is not None else np.full(T, 100.0)
    pv = resample_to_horizon(solar_kw, horizon, "solar") if solar_kw is not None else np.zeros(T)
    site_list = [Site(name=s, gpus=gpus, renewable_kw=pv, carbon=ci, latitude=None) for s in sites]
    if wan is None:
        wan = [{"a": x, "b": y, "gbps": 10.0} for x, y in itertools.pairwise(sites)]
    return Scenario(horizon=horizon, sites=site_list, jobs=jobs or [], wan=wan)


# -- data folder -------------------------------------------------------------------------------
def test_data_dir_explicit_env_and_absent(tmp_path, monkeypatch):
    assert data_dir(tmp_path) == tmp_path.resolve()
    assert data_dir(tmp_path / "nope") is None
    monkeypatch.setenv("GREENOPT_DATA", str(tmp_path))
    assert data_dir() == tmp_path.resolve()
    monkeypatch.setenv("GREENOPT_DATA", str(tmp_path / "missing"))
    assert data_dir() is None
    with pytest.raises(ScenarioError, match="GREENOPT_DATA") as err:
        require_data_dir()
    assert "missing" in str(err.value)


# -- Electricity Maps --------------------------------------------------------------------------
EM_HEADER = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage\n"
)


def test_electricitymaps_small_file(tmp_path):
    rows = [
        f"2023-06-01 {h:02d}:00:00,Spain,Spain,ES,{100 + h},{150 + h},50,40\n" for h in range(4)
    ]
    f = tmp_path / "ES_2023_hourly.csv"
    f.write_text(EM_HEADER + "".join(rows), encoding="utf-8")
    direct = read_electricitymaps(f)
    assert str(direct.index.tz) == UTC
    assert direct.index[0] == pd.Timestamp("2023-06-01T00:00Z")
    assert direct.tolist() == [100.0, 101.0, 102.0, 103.0]
    assert read_electricitymaps(f, "lca").tolist() == [150.0, 151.0, 152.0, 153.0]
    sc = scenario_with(Horizon(start=direct.index[0], slot_minutes=60, slots=4), carbon=direct)
    assert sc.sites[0].carbon.tolist() == [100.0, 101.0, 102.0, 103.0]


def test_electricitymaps_wrong_columns_named(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("Datetime (UTC),Carbon Intensity (average)\n2023-06-01 00:00:00,3\n")
    with pytest.raises(ScenarioError, match=r"direct") as err:
        read_electricitymaps(f)
    assert "x.csv" in str(err.value)


def test_electricitymaps_real(data_file):
    f = data_file("carbon/electricitymaps/DE_2023_hourly.csv")
    s = read_electricitymaps(f)
    assert len(s) == 8760 and str(s.index.tz) == UTC
    assert s.index[0] == pd.Timestamp("2023-01-01T00:00Z")
    assert s.iloc[0] == pytest.approx(152.03)  # first row of the export
    assert (s.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()
    assert (read_electricitymaps(f, "lca") > s).all()  # life-cycle includes upstream emissions
    sc = scenario_with(day_horizon("2023-06-21"), carbon=s)
    assert sc.sites[0].carbon[0] == pytest.approx(s.loc["2023-06-21 00:00+00:00"])


# -- ENTSO-E-derived ---------------------------------------------------------------------------
def test_entsoe_small_file_mixed_steps(tmp_path):
    f = tmp_path / "gb_ci.csv"
    # 30-min steps, then 15-min steps (as GB's file switches); 30 min is the usual spacing
    times = ["2020-02-29 22:00", "2020-02-29 22:30", "2020-02-29 23:00", "2020-02-29 23:30"]
    times += [f"2020-03-01 {t}" for t in ("00:00", "00:30", "01:00", "01:15", "01:30", "01:45")]
    vals = [1, 1, 1, 1, 100, 200, 10, 20, 30, 40]
    f.write_text(
        "Time,Carbon Intensity\n"
        + "".join(f"{t}:00,{v}\n" for t, v in zip(times, vals, strict=True))
    )
    s = read_entsoe_ci(f)
    assert s.index[4] == pd.Timestamp("2020-03-01T00:00Z")
    sc = scenario_with(Horizon(start=s.index[4], slot_minutes=60, slots=2), carbon=s)
    assert sc.sites[0].carbon.tolist() == pytest.approx([150.0, 25.0])


def test_a_gap_longer_than_the_usual_spacing_is_an_error(tmp_path):
    # MODEL.md §1: 15-min steps are usual here, so a 30-min gap inside the horizon is a
    # missing sample (an error naming the missing time), never stretched over it
    f = tmp_path / "ger_ci.csv"
    times = ["00:00", "00:15", "00:30", "00:45", "01:15", "01:30", "01:45"]
    f.write_text("Time,Carbon Intensity\n" + "".join(f"2020-03-01 {t}:00,100\n" for t in times))
    s = read_entsoe_ci(f)
    with pytest.raises(ScenarioError, match="2020-03-01T01:00:00") as err:
        scenario_with(Horizon(start=s.index[0], slot_minutes=60, slots=2), carbon=s)
    assert "gap" in str(err.value)
    # outside the horizon the gap does not matter
    sc = scenario_with(Horizon(start=s.index[0], slot_minutes=15, slots=4), carbon=s)
    assert sc.sites[0].carbon.tolist() == [100.0] * 4


def test_entsoe_missing_column(tmp_path):
    f = tmp_path / "fr.csv"
    f.write_text("Time,CI\n2020-03-01 00:00:00,4\n")
    with pytest.raises(ScenarioError, match="Carbon Intensity") as err:
        read_entsoe_ci(f)
    assert err.value.culprit == "Carbon Intensity"


def test_entsoe_real_quarter_hourly_to_hourly(data_file):
    s = read_entsoe_ci(data_file("carbon/entsoe-2020/ger_ci.csv"))
    assert str(s.index.tz) == UTC and s.index[0] == pd.Timestamp("2019-12-20T00:00Z")
    sc = scenario_with(day_horizon("2020-05-10"), carbon=s)
    first_hour = s.loc["2020-05-10 00:00+00:00":"2020-05-10 00:45+00:00"]
    assert len(first_hour) == 4
    assert sc.sites[0].carbon[0] == pytest.approx(first_hour.mean())


# -- WattTime ----------------------------------------------------------------------------------
def test_watttime_vessim_layout_small(tmp_path):
    f = tmp_path / "wt.csv"
    f.write_text("time,Caiso_North\n2023-06-08 00:00:00,400\n2023-06-08 00:05:00,200\n")
    s = read_watttime(f)
    assert s.tolist() == [400.0, 200.0]  # already g/kWh
    assert s.index[1] == pd.Timestamp("2023-06-08T00:05Z")
    lbs = read_watttime(f, unit="lbs/MWh")
    assert lbs.iloc[0] == pytest.approx(400 * 0.45359237)


def test_watttime_sgip_layout_small_kg_to_g(tmp_path):
    f = tmp_path / "SGIP.csv.gz"
    body = (
        "time,moer,f1,f2\n"
        "2021-07-01 00:00:00+00:00,0.5,0.1,0.1\n"
        "2021-07-01 00:05:00+00:00,0.25,0.1,0.1\n"
    )
    with gzip.open(f, "wt") as fh:
        fh.write(body)
    s = read_watttime(f)
    assert s.tolist() == [500.0, 250.0]  # kg/kWh × 1000
    h = Horizon(start=s.index[0], slot_minutes=10, slots=1)
    sc = scenario_with(h, carbon=s)
    assert sc.sites[0].carbon.tolist() == pytest.approx([375.0])


def test_watttime_ambiguous_columns(tmp_path):
    f = tmp_path / "wt.csv"
    f.write_text("time,a,b\n2023-06-08 00:00:00,1,2\n")
    with pytest.raises(ScenarioError, match="column"):
        read_watttime(f)


def test_watttime_real_files(data_file):
    vessim = read_watttime(
        data_file("carbon/watttime-caiso-north-2023/watttime2023_caiso-north_actual.csv")
    )
    assert vessim.min() > 30 and vessim.max() < 500  # g/kWh as documented by vessim
    assert vessim.index[0] == pd.Timestamp("2023-06-08T00:00Z")
    moer = read_watttime(data_file("carbon/moer-caiso-2021/SGIP_CAISO_PGE_2021-07.csv.gz"))
    assert moer.max() == pytest.approx(663.75)  # 0.66375 kg/kWh in the file
    assert vessim.index.tz is not None and moer.index.tz is not None
    sc = scenario_with(day_horizon("2023-06-20"), carbon=vessim)
    assert sc.sites[0].carbon[0] == pytest.approx(
        vessim.loc["2023-06-20 00:00+00:00":"2023-06-20 00:55+00:00"].mean()
    )
    scenario_with(day_horizon("2021-07-10"), carbon=moer)


# -- Solcast -----------------------------------------------------------------------------------
def test_solcast_small_shifts_to_interval_start(tmp_path):
    f = tmp_path / "solcast.csv"
    f.write_text(
        "datetime,Berlin,Sydney\n"
        "2022-06-08 00:05:00,0.0,0.5\n2022-06-08 00:10:00,0.2,0.5\n"
        "2022-06-08 00:15:00,0.4,0.5\n2022-06-08 00:20:00,0.6,0.5\n"
    )
    s = read_solcast(f, "Berlin")
    assert s.index[0] == pd.Timestamp("2022-06-08T00:00Z")  # value for 00:00–00:05
    assert s.tolist() == [0.0, 0.2, 0.4, 0.6]
    h = Horizon(start=s.index[0], slot_minutes=10, slots=2)
    sc = scenario_with(h, solar_kw=s * 100)
    assert sc.sites[0].renewable_kw.tolist() == pytest.approx([10.0, 50.0])
    with pytest.raises(ScenarioError, match="Lagos") as err:
        read_solcast(f, "Lagos")
    assert "Berlin" in str(err.value)


def test_solcast_real(data_file):
    f = data_file("solar/solcast-2022/solcast2022_global_actual.csv")
    s = read_solcast(f, "Berlin")
    assert s.index[0] == pd.Timestamp("2022-06-08T00:00Z")
    assert s.min() >= 0 and s.max() <= 1
    noon = s.between_time("10:00", "12:00").mean()
    night = s.between_time("21:00", "23:00").mean()
    assert noon > 0.3 > night  # Berlin (UTC+2): solar noon ≈ 11:10 UTC
    sc = scenario_with(day_horizon("2022-06-21"), solar_kw=s * 50)
    assert sc.sites[0].renewable_kw.max() > 10


# -- PVWatts -----------------------------------------------------------------------------------
def test_pvwatts_small(tmp_path):
    f = tmp_path / "pvwatts.csv"
    f.write_text(
        "PVWatts: Hourly PV Performance Data,,\nDC System Size (kW):,4,\n,,\n"
        "Month,Day,Hour,AC System Output (W)\n1,1,0,0\n1,1,1,1000\n1,1,2,3000\nTotals, , ,4000\n"
    )
    s = read_pvwatts(f, year=2023, utc_offset_h=-7)
    assert s.index[0] == pd.Timestamp("2023-01-01T07:00Z")  # 00:00 MST
    assert s.tolist() == [0.0, 1.0, 3.0]  # kW


def test_pvwatts_real(data_file):
    s = read_pvwatts(data_file("weather/pvwatts_8760_rackmount.csv"), 2023, -7)
    assert len(s) == 8760
    assert s.sum() == pytest.approx(6023.67124, rel=1e-6)  # the file's Totals row, in kWh
    assert s.min() >= 0 and s.max() <= 4.0  # a 4 kW-DC system
    sc = scenario_with(day_horizon("2023-06-21"), solar_kw=s * 10)
    assert sc.sites[0].renewable_kw[19] > sc.sites[0].renewable_kw[7]  # noon MDT vs 1 am


# -- Topology Zoo ------------------------------------------------------------------------------
def write_zoo(path: Path) -> None:
    """A MultiGraph like the zoo's: parallel links, a link without speed, a node without
    coordinates, and a label used twice."""
    g = nx.MultiGraph()
    g.add_node("0", label="Quito", Latitude=0.0, Longitude=-78.0)
    g.add_node("1", label="East", Latitude=0.0, Longitude=-77.0)
    g.add_node("2", label="Hub", Latitude=0.0, Longitude=-79.0)
    g.add_node("3", label="Hub")  # same label, no coordinates
    g.add_edge("0", "1", LinkSpeedRaw=1e9)
    g.add_edge("0", "1", LinkSpeedRaw=2.5e9)  # parallel: capacities add
    g.add_edge("0", "2")  # no speed: default
    g.add_edge("2", "3", LinkSpeedRaw=155e6)
    nx.write_graphml(g, path)


def test_topology_small_rules(tmp_path):
    f = tmp_path / "Tiny.graphml"
    write_zoo(f)
    g = read_topology_zoo(f, default_gbps=10.0, scale=2.0)
    assert sorted(g.nodes) == ["East", "Hub#2", "Hub#3", "Quito"]
    assert g.edges["Quito", "East"]["gbps"] == pytest.approx((1 + 2.5) * 2)
    assert g.edges["Quito", "Hub#2"]["gbps"] == pytest.approx(20.0)
    assert g.edges["Hub#2", "Hub#3"]["gbps"] == pytest.approx(0.155 * 2)
    one_degree = 2 * math.pi * 6371.0 / 360  # km along the equator
    assert great_circle_km(0, -78, 0, -77) == pytest.approx(one_degree)
    lat = one_degree / (299_792.458 * 2 / 3 / 1000)
    assert g.edges["Quito", "East"]["latency_ms"] == pytest.approx(lat)
    assert fibre_latency_ms(one_degree) == pytest.approx(lat)
    # the node without coordinates: median of the links that have both ends placed
    assert g.edges["Hub#2", "Hub#3"]["latency_ms"] == pytest.approx(lat)
    assert all(set(d) == {"gbps", "latency_ms"} for *_, d in g.edges(data=True))
    sites = pick_sites(g, 3)
    assert sites == pick_sites(g, 3) and len(set(sites)) == 3
    assert sites[0] == "Hub#2"  # highest degree (2; the tie broken by name: Hub#2 < Quito)


def test_topology_missing_file_and_bad_k(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        read_topology_zoo(tmp_path / "nope.graphml")
    f = tmp_path / "Tiny.graphml"
    write_zoo(f)
    with pytest.raises(ScenarioError, match="asked for 9"):
        pick_sites(read_topology_zoo(f), 9)


@pytest.mark.parametrize("name", ["Geant2012", "Savvis", "Cogentco"])
def test_topology_real(data_file, name):
    f = data_file(f"wan/topology-zoo/{name}.graphml")
    g = read_topology_zoo(f, scale=10.0)
    raw = nx.read_graphml(f)
    assert g.number_of_nodes() == raw.number_of_nodes()
    assert all(isinstance(n, str) for n in g.nodes)
    assert all(d["gbps"] > 0 and d["latency_ms"] >= 0 for *_, d in g.edges(data=True))
    speeds = [float(d["LinkSpeedRaw"]) for *_, d in raw.edges(data=True) if "LinkSpeedRaw" in d]
    if speeds and not raw.is_multigraph():
        assert min(d["gbps"] for *_, d in g.edges(data=True)) == pytest.approx(
            min(speeds) / 1e9 * 10
        )
    sites = pick_sites(g, 4)
    h = day_horizon("2023-06-21", slots=4)
    sc = scenario_with(h, wan=g, sites=sites)
    assert len(sc.network.routes) == 12  # every ordered pair of picked sites is routable


# -- job traces --------------------------------------------------------------------------------
def write_philly(path: Path) -> None:
    jobs = [
        {"id": "application_1_1", "num_gpus": 8, "runtime": 120.0,
         "submitted_time": "2017-10-07 04:30:00", "attempts": []},
        {"id": "application_1_2", "num_gpus": 4, "runtime": 6000.0,
         "submitted_time": "2017-10-07 20:00:00", "attempts": []},
        {"id": "application_1_3", "num_gpus": 64, "runtime": 30.0,
         "submitted_time": "2017-10-08 00:10:00", "attempts": []},
    ]  # fmt: skip
    path.write_text(json.dumps(jobs))


def test_philly_small_rules_by_hand(tmp_path):
    f = tmp_path / "jobs.json"
    write_philly(f)
    h = day_horizon("2023-06-01")
    jobs = jobs_from_philly(f, h, ["a", "b"], max_gpus=32)
    assert [j.name for j in jobs] == ["philly-1_1", "philly-1_2"]  # 64 GPUs filtered out
    j1, j2 = jobs
    # release: 04:30 of 24 h squeezed into the first 18 h → 3.375 h → slot 3
    assert j1.release == pd.Timestamp("2023-06-01T03:00Z")
    assert j1.work_h == 2.0 and j1.kind == "training"
    assert j1.deadline == pd.Timestamp("2023-06-01T07:00Z")  # release + 2 × 2 h
    assert j1.power_kw == pytest.approx(8 * 0.5) and j1.state_gb == pytest.approx(80.0)
    # 100 h of work released at 15:00 (20/24 · 18 h): clipped to (24 − 15) / 2 = 4.5 h
    assert j2.release == pd.Timestamp("2023-06-01T15:00Z")
    assert j2.work_h == pytest.approx(4.5)
    assert j2.deadline == pd.Timestamp("2023-06-02T00:00Z")
    sc = scenario_with(h, jobs=jobs)
    assert sc.index.end_slot.tolist() == [7, 24]
    # without clipping the long job is dropped
    kept = jobs_from_philly(f, h, ["a", "b"], max_gpus=32, rules=JobRules(clip_work=False))
    assert [j.name for j in kept] == ["philly-1_1"]


def test_philly_missing_field(tmp_path):
    f = tmp_path / "jobs.json"
    f.write_text(json.dumps([{"id": "x", "num_gpus": 1, "submitted_time": "2017-01-01"}]))
    with pytest.raises(ScenarioError, match="runtime") as err:
        read_philly(f)
    assert err.value.culprit == "runtime"


def write_alibaba(path: Path) -> None:
    path.write_text(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
        "deletion_time,scheduled_time\n"
        "p0,1000,1,1,500,,LS,Running,3600,5400,3600\n"  # 0.5 h, half a GPU
        "p1,1000,1,2,1000,,BE,Succeeded,7200,14400,\n"  # 2 h from creation (not scheduled)
        "p2,1000,1,0,0,,BE,Running,0,100,0\n"  # no GPU: dropped
        "p3,1000,1,1,1000,,LS,Pending,0,100,\n"  # never ran: dropped
        "p4,1000,1,8,1000,,Burstable,Running,36000,90000,36000\n"  # censored at trace end
    )


def test_alibaba_small_rules_by_hand(tmp_path):
    f = tmp_path / "openb_pod_list_test.csv"
    write_alibaba(f)
    table = read_alibaba(f)
    assert table["name"].tolist() == ["p0", "p1"]
    assert table["work_h"].tolist() == pytest.approx([0.5, 2.0])
    assert table["kind"].tolist() == ["latency_critical", "nearline"]
    assert len(read_alibaba(f, keep_censored=True)) == 3
    h = day_horizon("2023-06-01")
    jobs = jobs_from_alibaba(f, h, ["a", "b", "c"])
    j0, j1 = jobs
    assert j0.power_kw == pytest.approx(0.25)  # 1 GPU × 0.5 share × 0.5 kW
    assert not j0.preemptible and j1.preemptible
    assert j0.release == pd.Timestamp("2023-06-01T00:00Z")  # 01:00 → 0.75 h → slot 0
    assert j0.deadline == pd.Timestamp("2023-06-01T01:00Z")  # k = 1, one slot
    assert j1.release == pd.Timestamp("2023-06-01T01:00Z")  # 02:00 → 1.5 h → slot 1
    assert j1.deadline == pd.Timestamp("2023-06-01T07:00Z")  # k = 3 × 2 h
    scenario_with(h, jobs=jobs, sites=["a", "b", "c"])


def test_alibaba_without_times_refused(tmp_path):
    f = tmp_path / "openb_pod_list_multigpu50.csv"
    f.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1,1,1,1000\n")
    with pytest.raises(ScenarioError, match="creation_time") as err:
        read_alibaba(f)
    assert err.value.culprit == "creation_time"


def test_sampling_is_seeded(tmp_path):
    f = tmp_path / "jobs.json"
    jobs = [
        {"id": f"j{i}", "num_gpus": 4, "runtime": 60.0 + i, "submitted_time": "2017-10-07 01:00"}
        for i in range(30)
    ]
    f.write_text(json.dumps(jobs))
    h = day_horizon("2023-06-01")
    a = jobs_from_philly(f, h, ["s"], n=10, seed=3)
    assert a == jobs_from_philly(f, h, ["s"], n=10, seed=3)
    assert [j.name for j in a] != [j.name for j in jobs_from_philly(f, h, ["s"], n=10, seed=4)]
    with pytest.raises(ScenarioError, match="only 30"):
        jobs_from_philly(f, h, ["s"], n=31)


def test_traces_real(data_file):
    h = day_horizon("2023-06-21")
    sites = ["a", "b", "c"]
    philly = jobs_from_philly(data_file("jobs/philly_jobs.json"), h, sites, n=100, max_gpus=32)
    alibaba = jobs_from_alibaba(data_file("jobs/openb_pod_list_default.csv"), h, sites, n=200)
    assert len(philly) == 100 and {j.kind for j in philly} == {"training"}
    assert all(4 <= j.gpus <= 32 for j in philly)
    assert all(1 <= j.gpus <= 8 for j in alibaba)
    assert np.median([j.work_h for j in alibaba]) < 1.0  # short tasks
    sc = scenario_with(h, jobs=philly + alibaba, sites=sites)
    assert len(sc.jobs) == 300
    assert set(sc.index.origin.tolist()) == {0, 1, 2}
    windows_h = (sc.index.end_slot - sc.index.first_slot) * sc.index.dt_h
    assert np.all(sc.index.work_h <= windows_h + 1e-9)
    assert len(read_alibaba(data_file("jobs/openb_pod_list_default.csv"))) > 5000
