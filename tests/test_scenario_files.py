"""Scenario files (INTERFACE.md): round trip, resampling to slots, and errors naming the culprit."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml

import greenopt
from greenopt.errors import ScenarioError
from greenopt.io import load_scenario, save_scenario

START = "2023-06-01T00:00:00Z"
SITES_CSV = "name,region,gpus,pue,idle_kw\nalpha,NO,8,1.1,1\nbeta,DE,8,1.2,1\n"
JOBS_CSV = (
    "name,kind,origin,release,deadline,work_h,gpus,power_kw,state_gb\n"
    f"j1,training,alpha,{START},2023-06-01T04:00:00Z,2,4,2,50\n"
)


def hourly_series(sites=("alpha", "beta"), hours: int = 4) -> str:
    rows = ["time,site,renewable_kw,carbon,price"]
    for s in sites:
        for h in range(hours):
            rows.append(f"2023-06-01T{h:02d}:00:00Z,{s},{10 * h},{100 + h},0.1")
    return "\n".join(rows) + "\n"


def write_scenario(
    folder: Path,
    doc: dict | None = None,
    sites: str = SITES_CSV,
    series: str | None = None,
    jobs: str = JOBS_CSV,
    wan: object = "inline",
) -> Path:
    """A 4-slot hourly scenario folder; each part can be replaced to break it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sites.csv").write_text(sites)
    (folder / "timeseries.csv").write_text(hourly_series() if series is None else series)
    (folder / "jobs.csv").write_text(jobs)
    base = {
        "name": "files",
        "horizon": {"start": START, "slot_minutes": 60, "slots": 4},
        "sites": "sites.csv",
        "timeseries": "timeseries.csv",
        "jobs": "jobs.csv",
        "wan": [{"a": "alpha", "b": "beta", "gbps": 10, "latency_ms": 12}]
        if wan == "inline"
        else wan,
    }
    base.update(doc or {})
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def raises_naming(path: Path, *culprits: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    for c in culprits:
        assert c in str(err.value), f"{c!r} not named in: {err.value}"
    return err.value


# -- round trip --------------------------------------------------------------------------------
def test_small_example_round_trip(tmp_path):
    sc = greenopt.examples.load("small")
    path = save_scenario(sc, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {
        "scenario.yaml",
        "sites.csv",
        "timeseries.csv",
        "jobs.csv",
        "wan.graphml",
    }
    back = load_scenario(path)
    assert back == sc
    assert back.jobs[3].release == sc.jobs[3].release and back.jobs[3].release.tzinfo is not None
    assert np.array_equal(back.index.carbon, sc.index.carbon)
    # and the loaded copy saves to the same files
    save_scenario(back, tmp_path / "again")
    for name in ("sites.csv", "timeseries.csv", "jobs.csv"):
        assert (tmp_path / "out" / name).read_text() == (tmp_path / "again" / name).read_text()


def test_round_trip_detects_a_change(tmp_path):
    sc = greenopt.examples.load("small")
    path = save_scenario(sc, tmp_path)
    jobs = pd.read_csv(tmp_path / "jobs.csv")
    jobs.loc[0, "work_h"] = jobs.loc[0, "work_h"] / 2
    jobs.to_csv(tmp_path / "jobs.csv", index=False)
    assert load_scenario(path) != sc


# -- resampling --------------------------------------------------------------------------------
def test_fifteen_minute_and_two_hour_series_resampled_by_hand(tmp_path):
    rows = ["time,site,renewable_kw,carbon"]
    # alpha: 15-min renewable 0,1,2,...,15 kW and 15-min carbon
    for q in range(16):
        t = pd.Timestamp(START) + pd.Timedelta(minutes=15 * q)
        rows.append(f"{t.isoformat()},alpha,{q},{200 + 4 * q}")
    # beta: 2-hour steps: holds for two slots each
    for k, (pv, ci) in enumerate([(30, 300), (50, 500)]):
        t = pd.Timestamp(START) + pd.Timedelta(hours=2 * k)
        rows.append(f"{t.isoformat()},beta,{pv},{ci}")
    sc = load_scenario(write_scenario(tmp_path, series="\n".join(rows) + "\n"))
    alpha, beta = sc.site("alpha"), sc.site("beta")
    # hour h holds quarters 4h..4h+3: mean (4h + 1.5)
    assert alpha.renewable_kw.tolist() == pytest.approx([1.5, 5.5, 9.5, 13.5])
    assert alpha.carbon.tolist() == pytest.approx([206.0, 222.0, 238.0, 254.0])
    assert beta.renewable_kw.tolist() == pytest.approx([30, 30, 50, 50])
    assert beta.carbon.tolist() == pytest.approx([300, 300, 500, 500])
    assert alpha.price.tolist() == [0.0, 0.0, 0.0, 0.0]  # price column absent → 0


def test_forty_minute_series_time_weighted(tmp_path):
    """Samples every 40 min straddle slot edges: each slot mixes two samples by their minutes."""
    rows = ["time,site,renewable_kw,carbon"]
    for k, v in enumerate([10, 20, 30, 40, 50, 60]):
        t = pd.Timestamp(START) + pd.Timedelta(minutes=40 * k)
        rows.append(f"{t.isoformat()},alpha,{v},{v}")
        rows.append(f"{t.isoformat()},beta,0,100")
    sc = load_scenario(write_scenario(tmp_path, series="\n".join(rows) + "\n"))
    expected = [(40 * 10 + 20 * 20) / 60, (20 * 20 + 40 * 30) / 60]
    expected += [(40 * 40 + 20 * 50) / 60, (20 * 50 + 40 * 60) / 60]
    assert sc.site("alpha").carbon.tolist() == pytest.approx(expected)


def test_offset_timestamps_are_converted_to_utc(tmp_path):
    rows = ["time,site,renewable_kw,carbon"]
    for s in ("alpha", "beta"):
        for h in range(4):
            local = pd.Timestamp(START).tz_convert("Europe/Oslo") + pd.Timedelta(hours=h)
            rows.append(f"{local.isoformat()},{s},{h},{100 + h}")
    sc = load_scenario(write_scenario(tmp_path, series="\n".join(rows) + "\n"))
    assert sc.site("alpha").carbon.tolist() == [100, 101, 102, 103]


def test_series_not_covering_horizon(tmp_path):
    series = hourly_series(sites=("alpha",)) + "".join(
        f"2023-06-01T{h:02d}:00:00Z,beta,0,100,0\n" for h in range(3)
    )
    err = raises_naming(write_scenario(tmp_path, series=series), "beta", "does not cover")
    assert "04:00" in str(err)


def test_series_starting_late(tmp_path):
    series = hourly_series(sites=("alpha",)) + "".join(
        f"2023-06-01T{h:02d}:00:00Z,beta,0,100,0\n" for h in range(1, 6)
    )
    raises_naming(write_scenario(tmp_path, series=series), "beta", "does not cover")


# -- WAN: inline edges vs GraphML --------------------------------------------------------------
def test_inline_edges_equal_graphml(tmp_path):
    inline = load_scenario(write_scenario(tmp_path / "inline"))
    g = nx.Graph()
    g.add_edge("alpha", "beta", gbps=10.0, latency_ms=12.0)
    (tmp_path / "graphml").mkdir()
    nx.write_graphml(g, tmp_path / "graphml" / "w.graphml")
    path = write_scenario(tmp_path / "graphml", wan="w.graphml")
    from_graphml = load_scenario(path)
    assert from_graphml == inline
    # the same file one folder up is outside the scenario's folder: refused unless allowed
    nx.write_graphml(g, tmp_path / "w.graphml")
    up = write_scenario(tmp_path / "up", wan="../w.graphml")
    raises_naming(up, "wan", "../w.graphml", "outside")
    assert load_scenario(up, allow_outside=True) == inline
    assert from_graphml.network.bottleneck_gbps[0, 1] == 10.0


def test_graphml_with_extra_link_attribute_refused(tmp_path):
    g = nx.Graph()
    g.add_edge("alpha", "beta", gbps=10.0, colour="red")
    nx.write_graphml(g, tmp_path / "w.graphml")
    raises_naming(write_scenario(tmp_path, wan="w.graphml"), "colour", "alpha")


def test_inline_edge_with_bad_key(tmp_path):
    wan = [{"a": "alpha", "b": "beta", "gbps": 10, "bandwidth": 3}]
    raises_naming(write_scenario(tmp_path, wan=wan), "wan", "bandwidth")


def test_missing_graphml_file(tmp_path):
    raises_naming(write_scenario(tmp_path, wan="nowhere.graphml"), "nowhere.graphml")


# -- errors naming the culprit -----------------------------------------------------------------
def test_yaml_unknown_key(tmp_path):
    err = raises_naming(write_scenario(tmp_path, doc={"slotz": 4}), "slotz", "unknown")
    assert err.culprit == "slotz"


def test_horizon_unknown_field(tmp_path):
    doc = {"horizon": {"start": START, "slot_minutes": 60, "slots": 4, "tz": "UTC"}}
    raises_naming(write_scenario(tmp_path, doc=doc), "horizon", "tz")


def test_missing_job_column(tmp_path):
    jobs = "name,kind,origin,release,deadline,gpus,power_kw\n"
    jobs += f"j1,training,alpha,{START},2023-06-01T04:00:00Z,4,2\n"
    err = raises_naming(write_scenario(tmp_path, jobs=jobs), "jobs", "work_h")
    assert err.culprit == "work_h"


def test_missing_series_column(tmp_path):
    series = "time,site,renewable_kw\n" + "".join(
        f"2023-06-01T{h:02d}:00:00Z,{s},0\n" for s in ("alpha", "beta") for h in range(4)
    )
    raises_naming(write_scenario(tmp_path, series=series), "timeseries", "carbon")


def test_wrong_series_column_name(tmp_path):
    series = hourly_series().replace("carbon", "carbon_g")
    err = raises_naming(write_scenario(tmp_path, series=series), "carbon_g")
    assert err.culprit == "carbon_g"


def test_wrong_site_column_name(tmp_path):
    sites = SITES_CSV.replace("gpus", "gpu_count")
    raises_naming(write_scenario(tmp_path, sites=sites), "sites", "gpu_count")


def test_series_for_unknown_site(tmp_path):
    series = hourly_series(sites=("alpha", "beta", "gamma"))
    raises_naming(write_scenario(tmp_path, series=series), "gamma")


@pytest.mark.parametrize("which", ["jobs.csv", "sites.csv", "timeseries.csv"])
def test_empty_csv_file(tmp_path, which):
    path = write_scenario(tmp_path)
    (tmp_path / which).write_text("")
    raises_naming(path, which, "empty")


def test_header_only_jobs_csv_is_a_scenario_without_jobs(tmp_path):
    # MODEL.md §4: an idle day, exactly like inline ``jobs: []``
    path = write_scenario(tmp_path, jobs="name,kind,origin,release,deadline,work_h,gpus,power_kw\n")
    sc = load_scenario(path)
    assert sc.jobs == []
    assert sc == load_scenario(write_scenario(tmp_path / "inline", doc={"jobs": []}))


def test_empty_yaml(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text("")
    raises_naming(path, "scenario.yaml", "empty")


def test_naive_series_timestamps(tmp_path):
    series = hourly_series().replace("Z,", ",")
    raises_naming(write_scenario(tmp_path, series=series), "timezone", "alpha")


def test_naive_horizon_start(tmp_path):
    doc = {"horizon": {"start": "2023-06-01T00:00:00", "slot_minutes": 60, "slots": 4}}
    raises_naming(write_scenario(tmp_path, doc=doc), "horizon", "start", "timezone")


def test_naive_job_release(tmp_path):
    jobs = JOBS_CSV.replace(f",{START},", ",2023-06-01T00:00:00,")
    raises_naming(write_scenario(tmp_path, jobs=jobs), "j1", "release", "timezone")


def test_kg_carbon_refused(tmp_path):
    series = "time,site,renewable_kw,carbon\n" + "".join(
        f"2023-06-01T{h:02d}:00:00Z,{s},0,0.4\n" for s in ("alpha", "beta") for h in range(4)
    )
    raises_naming(write_scenario(tmp_path, series=series), "alpha", "kg/kWh")


def test_job_with_unknown_origin(tmp_path):
    jobs = JOBS_CSV.replace(",alpha,", ",gamma,")
    raises_naming(write_scenario(tmp_path, jobs=jobs), "j1", "origin", "gamma")


def test_valid_file_loads(tmp_path):
    """The fixture itself is valid (so the failures above are due to the one change each)."""
    sc = load_scenario(write_scenario(tmp_path))
    assert [s.name for s in sc.sites] == ["alpha", "beta"]
    assert sc.site("beta").carbon.tolist() == [100, 101, 102, 103]
    assert sc.jobs[0].work_h == 2 and sc.index.end_slot.tolist() == [4]
