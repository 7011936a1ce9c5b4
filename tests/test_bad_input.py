"""A catalogue of malformed inputs, each answered by greenopt's own error naming the culprit.

Every case asserts the error type (:class:`~greenopt.ScenarioError` for scenarios, scenario files
and plan() arguments, :class:`~greenopt.PlanError` for assignments tables) — never a pydantic,
pandas or KeyError — and that the site, job, field or file at fault appears in the message.
Scenarios are built from one valid base dict and mutated; files are written to ``tmp_path``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic
import pytest

import greenopt
from greenopt import PlanError, ScenarioError

T = 4
START = "2024-01-01T00:00:00Z"


def base() -> dict[str, Any]:
    """A valid scenario: oslo (NO, 8 GPUs) – berlin (DE, 4 GPUs), one 2-hour job."""
    return {
        "name": "base",
        "horizon": {"start": START, "slot_minutes": 60, "slots": T},
        "sites": [
            {
                "name": "oslo",
                "region": "NO",
                "gpus": 8,
                "pue": 1.1,
                "idle_kw": 1.0,
                "renewable_kw": [5, 5, 5, 5],
                "carbon": [30, 30, 30, 30],
            },
            {
                "name": "berlin",
                "region": "DE",
                "gpus": 4,
                "renewable_kw": [0, 1, 2, 0],
                "carbon": [300, 300, 300, 300],
                "price": [0.1, 0.1, 0.1, 0.1],
            },
        ],
        "wan": [{"a": "oslo", "b": "berlin", "gbps": 10, "latency_ms": 12}],
        "jobs": [
            {
                "name": "train",
                "origin": "oslo",
                "release": START,
                "deadline": "2024-01-01T04:00:00Z",
                "work_h": 2,
                "gpus": 4,
                "power_kw": 3,
                "state_gb": 100,
            }
        ],
    }


def test_base_is_valid():
    sc = greenopt.Scenario(**base())
    assert [s.name for s in sc.sites] == ["oslo", "berlin"]


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """``"sites.0.gpus"`` → d["sites"][0]["gpus"] = value."""

    def mutate(d: dict) -> None:
        *head, last = path.split(".")
        node: Any = d
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(path: str) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        *head, last = path.split(".")
        node: Any = d
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


def _do(*fns: Callable[[dict], None]) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        for f in fns:
            f(d)

    return mutate


def _append(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        node: Any = d
        for key in path.split("."):
            node = node[int(key)] if key.isdigit() else node[key]
        node.append(value)

    return mutate


NAN, INF = math.nan, math.inf
ROME = {"name": "rome", "gpus": 2, "renewable_kw": [0] * T, "carbon": [200] * T}
LINK = "oslo–berlin"  # a link's culprit, as its messages write it

# (id, mutation, words the message must contain, expected culprit or None)
SCENARIO_CASES: list[tuple[str, Callable[[dict], None], tuple[str, ...], str | None]] = [
    # capacities
    ("negative_site_gpus", _set("sites.0.gpus", -1), ("oslo", "gpus"), "oslo"),
    ("fractional_site_gpus", _set("sites.0.gpus", 2.5), ("oslo", "gpus", "whole"), "oslo"),
    ("text_site_gpus", _set("sites.1.gpus", "many"), ("berlin", "gpus"), "berlin"),
    ("boolean_site_gpus", _set("sites.1.gpus", True), ("berlin", "gpus"), "berlin"),
    ("zero_job_gpus", _set("jobs.0.gpus", 0), ("train", "gpus"), "train"),
    ("fractional_job_gpus", _set("jobs.0.gpus", 1.5), ("train", "gpus"), "train"),
    ("pue_below_one", _set("sites.0.pue", 0.9), ("oslo", "pue"), "oslo"),
    ("negative_idle", _set("sites.1.idle_kw", -2), ("berlin", "idle_kw"), "berlin"),
    ("negative_grid_max", _set("sites.1.grid_kw_max", -1), ("berlin", "grid_kw_max"), "berlin"),
    # series
    (
        "nan_renewable",
        _set("sites.0.renewable_kw", [1, NAN, 1, 1]),
        ("oslo", "renewable_kw"),
        "oslo",
    ),
    ("inf_carbon", _set("sites.1.carbon", [300, INF, 300, 300]), ("berlin", "carbon"), "berlin"),
    ("nan_price", _set("sites.1.price", [0.1, 0.1, NAN, 0.1]), ("berlin", "price"), "berlin"),
    (
        "negative_renewable",
        _set("sites.0.renewable_kw", [1, -1, 1, 1]),
        ("oslo", "renewable_kw"),
        "oslo",
    ),
    (
        "negative_carbon",
        _set("sites.1.carbon", [300, -5, 300, 300]),
        ("berlin", "carbon"),
        "berlin",
    ),
    ("short_series", _set("sites.0.carbon", [30, 30, 30]), ("oslo", "carbon", "3 values"), "oslo"),
    ("long_series", _set("sites.1.renewable_kw", [0] * 5), ("berlin", "renewable_kw"), "berlin"),
    (
        "carbon_in_kg",
        _set("sites.0.carbon", [0.03, 0.04, 0.03, 0.02]),
        ("oslo", "carbon", "kg"),
        "oslo",
    ),
    ("series_2d", _set("sites.0.carbon", [[1, 2], [3, 4]]), ("oslo", "carbon"), "oslo"),
    ("series_text", _set("sites.0.renewable_kw", "sunny"), ("oslo", "renewable_kw"), "oslo"),
    ("missing_carbon", _drop("sites.1.carbon"), ("berlin", "carbon"), "berlin"),
    # time
    (
        "naive_start",
        _set("horizon.start", "2024-01-01T00:00:00"),
        ("start", "timezone"),
        "horizon.start",
    ),
    ("unparsable_start", _set("horizon.start", "yesterday"), ("start",), "horizon.start"),
    (
        "naive_release",
        _set("jobs.0.release", "2024-01-01T00:00:00"),
        ("train", "release", "timezone"),
        "train",
    ),
    (
        "naive_deadline",
        _set("jobs.0.deadline", "2024-01-01T04:00:00"),
        ("train", "deadline"),
        "train",
    ),
    (
        "deadline_before_release",
        _set("jobs.0.deadline", "2023-12-31T00:00:00Z"),
        ("train", "deadline"),
        "train",
    ),
    ("deadline_equals_release", _set("jobs.0.deadline", START), ("train", "deadline"), "train"),
    ("work_longer_than_window", _set("jobs.0.work_h", 5), ("train", "work_h", "window"), "train"),
    (
        "window_outside_horizon",
        _do(
            _set("jobs.0.release", "2025-01-01T00:00:00Z"),
            _set("jobs.0.deadline", "2025-01-02T00:00:00Z"),
        ),
        ("train", "release"),
        "train",
    ),
    ("zero_slots", _set("horizon.slots", 0), ("slots",), "horizon.slots"),
    ("boolean_slots", _set("horizon.slots", True), ("slots", "boolean"), "horizon.slots"),
    (
        "fractional_slot_minutes",
        _set("horizon.slot_minutes", 7.5),
        ("slot_minutes",),
        "horizon.slot_minutes",
    ),
    # jobs against sites
    ("gpus_above_every_site", _set("jobs.0.gpus", 9), ("train", "gpus", "8"), "train"),
    (
        "gpus_above_every_allowed_site",
        _do(_set("jobs.0.gpus", 6), _set("jobs.0.allowed_regions", ["DE"])),
        ("train", "gpus", "4"),
        "train",
    ),
    ("unknown_origin", _set("jobs.0.origin", "paris"), ("train", "origin", "paris"), "train"),
    (
        "residency_excludes_every_site",
        _set("jobs.0.allowed_regions", ["FR"]),
        ("train", "allowed_regions", "FR"),
        "train",
    ),
    ("residency_empty", _set("jobs.0.allowed_regions", []), ("train", "allowed_regions"), "train"),
    ("missing_origin", _drop("jobs.0.origin"), ("train", "origin"), "train"),
    ("negative_work", _set("jobs.0.work_h", -1), ("train", "work_h"), "train"),
    ("nan_work", _set("jobs.0.work_h", NAN), ("train", "work_h"), "train"),
    ("infinite_power", _set("jobs.0.power_kw", INF), ("train", "power_kw"), "train"),
    ("negative_state", _set("jobs.0.state_gb", -10), ("train", "state_gb"), "train"),
    ("negative_restore", _set("jobs.0.restore_h", -0.1), ("train", "restore_h"), "train"),
    ("zero_priority", _set("jobs.0.priority", 0), ("train", "priority"), "train"),
    (
        "migratable_not_boolean",
        _set("jobs.0.migratable", "maybe"),
        ("train", "migratable"),
        "train",
    ),
    ("job_not_a_mapping", _set("jobs.0", 5), ("job #0",), "jobs[0]"),
    # WAN
    ("site_unreachable", _append("sites", ROME), ("rome", "WAN"), "rome"),
    ("no_wan", _set("wan", []), ("oslo", "berlin", "WAN"), "oslo"),
    ("zero_bandwidth", _set("wan.0.gbps", 0), ("oslo", "berlin", "gbps"), LINK),
    ("missing_bandwidth", _drop("wan.0.gbps"), ("oslo", "berlin", "gbps"), LINK),
    ("negative_bandwidth", _set("wan.0.gbps", -10), ("oslo", "berlin", "gbps"), LINK),
    ("nan_bandwidth", _set("wan.0.gbps", NAN), ("gbps",), LINK),
    ("text_bandwidth", _set("wan.0.gbps", "fast"), ("gbps", "fast"), LINK),
    ("negative_latency", _set("wan.0.latency_ms", -3), ("latency_ms",), LINK),
    ("unknown_link_attribute", _set("wan.0.capacity", 3), ("wan", "edge 0", "capacity"), "wan"),
    (
        "site_behind_transit_only",
        _do(
            _append("sites", ROME),
            _append("wan", {"a": "rome", "b": "x-transit", "gbps": 1, "latency_ms": 1}),
        ),
        ("rome", "no WAN route", "cannot be reached"),
        "rome",
    ),
    (
        "latency_on_some_links",
        _do(_append("sites", ROME), _append("wan", {"a": "berlin", "b": "rome", "gbps": 1})),
        ("latency_ms", "1 of 2"),
        "wan",
    ),
    ("misspelt_edge_key", _set("wan.0.bandwith", 10), ("wan", "edge 0"), "wan"),
    (
        "duplicate_edge",
        _append("wan", {"a": "berlin", "b": "oslo", "gbps": 1, "latency_ms": 1}),
        ("berlin", "oslo", "twice"),
        "wan",
    ),
    ("wan_not_a_list", _set("wan", 5), ("wan",), "wan"),
    ("wan_share_zero", _set("wan_share", 0), ("wan_share",), "wan_share"),
    ("wan_share_above_one", _set("wan_share", 1.5), ("wan_share",), "wan_share"),
    ("negative_net_energy", _set("net_kwh_per_gb", -0.1), ("net_kwh_per_gb",), "net_kwh_per_gb"),
    # names and keys
    ("duplicate_site", _set("sites.1.name", "oslo"), ("oslo", "more than once"), "oslo"),
    (
        "duplicate_job",
        lambda d: d["jobs"].append(dict(d["jobs"][0])),
        ("train", "more than once"),
        "train",
    ),
    ("typo_site_key", _set("sites.0.gpu", 3), ("oslo", "'gpu'", "spelling"), "oslo"),
    ("typo_job_key", _set("jobs.0.stat_gb", 3), ("train", "'stat_gb'"), "train"),
    ("typo_top_key", _set("wan_shar", 0.5), ("'wan_shar'",), "wan_shar"),
    (
        "typo_horizon_key",
        _set("horizon.slot_minute", 60),
        ("'slot_minute'",),
        "horizon.slot_minute",
    ),
    ("no_sites", _set("sites", []), ("sites",), "sites"),
    ("missing_horizon", _drop("horizon"), ("horizon",), "horizon"),
    ("empty_job_name", _set("jobs.0.name", ""), ("name",), "job.name"),
    ("empty_site_name", _set("sites.0.name", ""), ("name",), None),
    (
        "nan_among_negative_prices",  # negative prices are allowed (MODEL.md §2), NaN is not
        _set("sites.1.price", [-0.1, NAN, 0.1, 0.1]),
        ("berlin", "price", "NaN"),
        "berlin",
    ),
    (
        "inf_renewable",
        _set("sites.0.renewable_kw", [1, 1, INF, 1]),
        ("oslo", "renewable_kw"),
        "oslo",
    ),
    ("empty_series", _set("sites.0.carbon", []), ("oslo", "carbon", "0 values"), "oslo"),
    (
        "job_needs_more_gpus_than_its_only_region_has",
        _do(_set("jobs.0.gpus", 8), _set("jobs.0.allowed_regions", "DE")),
        ("train", "gpus", "largest 4"),
        "train",
    ),
    (
        "self_loop_link",
        _append("wan", {"a": "oslo", "b": "oslo", "gbps": 1, "latency_ms": 1}),
        ("oslo", "itself"),
        "oslo–oslo",
    ),
    (
        "duplicate_site_three_times",
        _do(_set("sites.1.name", "oslo"), _append("sites", {**ROME, "name": "oslo"})),
        ("oslo", "more than once"),
        "oslo",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "words", "culprit"),
    [c[1:] for c in SCENARIO_CASES],
    ids=[c[0] for c in SCENARIO_CASES],
)
def test_bad_scenario(mutate, words, culprit):
    d = base()
    mutate(d)
    with pytest.raises(ScenarioError) as info:
        greenopt.Scenario(**d)
    err = info.value
    assert not isinstance(err, pydantic.ValidationError | KeyError)
    msg = str(err)
    for w in words:
        assert w in msg, (w, msg)
    assert err.culprit, msg
    assert names_culprit(err.culprit, msg), (err.culprit, msg)
    if culprit is not None:
        assert err.culprit == culprit, msg


def names_culprit(culprit: str, msg: str) -> bool:
    """Whether ``msg`` names ``culprit``: as it is, by its file name (a path), by its last
    field (``horizon.start`` → ``'start'``) or as ``job #0`` (``jobs[0]``)."""
    m = re.fullmatch(r"(\w+)s\[(\d+)\]", culprit)
    candidates = {
        culprit,
        Path(culprit).name,
        f"'{culprit.rsplit('.', 1)[-1]}'",
        f"{m[1]} #{m[2]}" if m else culprit,
    }
    return any(c.lower() in msg.lower() for c in candidates)


def test_culprit_of_a_standalone_site_and_job():
    with pytest.raises(ScenarioError) as info:
        greenopt.Site(name="lyon", gpus=-3, renewable_kw=[0], carbon=[10])
    assert info.value.culprit == "lyon" and "lyon" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        greenopt.Horizon(start="2024-01-01T00:00:00", slot_minutes=60, slots=2)
    assert info.value.culprit == "horizon.start"


# -- scenario files ---------------------------------------------------------------------------
SCENARIO_YAML = """\
name: files
horizon: {start: "2024-01-01T00:00:00Z", slot_minutes: 60, slots: 4}
sites: sites.csv
timeseries: timeseries.csv
wan: wan.graphml
jobs: jobs.csv
"""
SITES_CSV = "name,region,gpus,pue,idle_kw\noslo,NO,8,1.1,1\nberlin,DE,4,1.2,2\n"
JOBS_CSV = (
    "name,origin,release,deadline,work_h,gpus,power_kw,state_gb,migratable\n"
    "train,oslo,2024-01-01T00:00:00Z,2024-01-01T04:00:00Z,2,4,3,100,true\n"
    "infer,berlin,2024-01-01T01:00:00Z,2024-01-01T03:00:00Z,1,1,1,5,false\n"
)
_EDGE = (
    '<edge source="oslo" target="berlin"><data key="gbps">10</data><data key="lat">12</data></edge>'
)
WAN_GRAPHML = """\
<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="gbps" for="edge" attr.name="gbps" attr.type="double"/>
  <key id="lat" for="edge" attr.name="latency_ms" attr.type="double"/>
  <graph edgedefault="undirected">
    <node id="oslo"/><node id="berlin"/>
    <edge source="oslo" target="berlin"><data key="gbps">10</data><data key="lat">12</data></edge>
  </graph>
</graphml>
"""


def _timeseries(hours: int = T, naive: bool = False, carbon_scale: float = 1.0) -> str:
    rows = ["time,site,renewable_kw,carbon,price"]
    for site, ren, ci in (("oslo", 5, 30), ("berlin", 1, 300)):
        for h in range(hours):
            stamp = f"2024-01-01T{h:02d}:00:00" + ("" if naive else "Z")
            rows.append(f"{stamp},{site},{ren},{ci * carbon_scale:g},0.1")
    return "\n".join(rows) + "\n"


def _files() -> dict[str, str]:
    return {
        "scenario.yaml": SCENARIO_YAML,
        "sites.csv": SITES_CSV,
        "timeseries.csv": _timeseries(),
        "wan.graphml": WAN_GRAPHML,
        "jobs.csv": JOBS_CSV,
    }


def _write(folder: Path, files: dict[str, str | bytes | None]) -> Path:
    for name, text in files.items():
        if text is None:
            continue
        p = folder / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
    return folder / "scenario.yaml"


def test_base_files_load(tmp_path):
    sc = greenopt.load_scenario(_write(tmp_path, _files()))
    assert [j.name for j in sc.jobs] == ["train", "infer"]
    assert sc.network.bottleneck("oslo", "berlin") == 10.0


def _yaml(old: str, new: str) -> dict[str, str]:
    return {"scenario.yaml": SCENARIO_YAML.replace(old, new)}


FILE_CASES: list[tuple[str, dict[str, str | bytes | None], tuple[str, ...]]] = [
    ("empty_yaml", {"scenario.yaml": ""}, ("scenario.yaml", "empty")),
    ("yaml_is_a_list", {"scenario.yaml": "- oslo\n- berlin\n"}, ("scenario.yaml", "mapping")),
    ("yaml_syntax_error", {"scenario.yaml": "horizon: {start: [\n"}, ("scenario.yaml", "YAML")),
    ("yaml_typo_key", _yaml("jobs: jobs.csv", "job: jobs.csv"), ("'job'",)),
    ("yaml_missing_sites", _yaml("sites: sites.csv\n", ""), ("'sites'", "missing")),
    (
        "yaml_horizon_not_mapping",
        _yaml('{start: "2024-01-01T00:00:00Z", slot_minutes: 60, slots: 4}', "tomorrow"),
        ("horizon",),
    ),
    (
        "yaml_naive_start",
        _yaml('"2024-01-01T00:00:00Z"', '"2024-01-01T00:00:00"'),
        ("start", "timezone"),
    ),
    ("yaml_slots_text", _yaml("slots: 4", "slots: many"), ("slots",)),
    (
        "yaml_inline_job_typo",
        _yaml(
            "jobs: jobs.csv",
            "jobs: [{name: quick, origin: oslo, release: '2024-01-01T00:00:00Z', "
            "deadline: '2024-01-01T02:00:00Z', work_h: 1, gpus: 1, power_kw: 1, powr: 2}]",
        ),
        ("quick", "'powr'"),
    ),
    (
        "yaml_inline_wan_typo",
        _yaml("wan: wan.graphml", "wan: [{a: oslo, b: berlin, gbsp: 10}]"),
        ("wan", "gbsp"),
    ),
    ("yaml_sites_number", _yaml("sites: sites.csv", "sites: 5"), ("sites",)),
    ("missing_yaml", {"scenario.yaml": None}, ("scenario.yaml", "does not exist")),
    (
        "jobs_csv_unknown_column",
        {"jobs.csv": JOBS_CSV.replace("work_h", "work_hours")},
        ("jobs.csv", "work_hours"),
    ),
    (
        "jobs_csv_missing_column",
        {
            "jobs.csv": JOBS_CSV.replace("power_kw,", "")
            .replace(",3,100", ",100")
            .replace(",1,5", ",5")
        },
        ("jobs.csv", "power_kw"),
    ),
    ("jobs_csv_empty", {"jobs.csv": ""}, ("jobs.csv", "empty")),
    ("jobs_csv_missing", {"jobs.csv": None}, ("jobs.csv", "does not exist")),
    (
        "jobs_csv_naive_release",
        {"jobs.csv": JOBS_CSV.replace("2024-01-01T01:00:00Z", "2024-01-01T01:00:00")},
        ("infer", "release"),
    ),
    (
        "jobs_csv_bad_boolean",
        {"jobs.csv": JOBS_CSV.replace("false", "perhaps")},
        ("infer", "migratable"),
    ),
    (
        "jobs_csv_fractional_gpus",
        {"jobs.csv": JOBS_CSV.replace(",4,3,100,", ",4.5,3,100,")},
        ("train", "gpus"),
    ),
    (
        "jobs_csv_unknown_origin",
        {"jobs.csv": JOBS_CSV.replace("infer,berlin", "infer,bern")},
        ("infer", "bern"),
    ),
    (
        "sites_csv_wrong_column",
        {"sites.csv": SITES_CSV.replace("gpus", "gpu")},
        ("sites.csv", "'gpu'"),
    ),
    (
        "sites_csv_negative_gpus",
        {"sites.csv": SITES_CSV.replace("DE,4", "DE,-4")},
        ("berlin", "gpus"),
    ),
    (
        "timeseries_wrong_column",
        {"timeseries.csv": _timeseries().replace("carbon", "co2")},
        ("timeseries.csv", "co2"),
    ),
    ("timeseries_naive", {"timeseries.csv": _timeseries(naive=True)}, ("oslo", "timezone")),
    ("timeseries_short", {"timeseries.csv": _timeseries(hours=3)}, ("oslo", "does not cover")),
    (
        "timeseries_nan",
        {"timeseries.csv": _timeseries().replace("berlin,1,300,0.1", "berlin,1,,0.1", 1)},
        ("berlin", "carbon"),
    ),
    ("timeseries_in_kg", {"timeseries.csv": _timeseries(carbon_scale=0.001)}, ("oslo", "kg")),
    (
        "timeseries_unknown_site",
        {"timeseries.csv": _timeseries().replace("berlin", "bonn")},
        ("bonn",),
    ),
    ("timeseries_binary", {"timeseries.csv": b"\xff\xfe\x00garbage\x00\xff"}, ("timeseries.csv",)),
    ("graphml_broken", {"wan.graphml": "<graphml><oops"}, ("wan.graphml", "GraphML")),
    (
        "graphml_no_gbps",
        {"wan.graphml": WAN_GRAPHML.replace('<data key="gbps">10</data>', "")},
        ("oslo", "berlin", "gbps"),
    ),
    (
        "graphml_zero_gbps",
        {"wan.graphml": WAN_GRAPHML.replace(">10<", ">0<")},
        ("oslo", "berlin", "gbps"),
    ),
    ("graphml_missing", {"wan.graphml": None}, ("wan.graphml", "does not exist")),
    ("graphml_empty", {"wan.graphml": ""}, ("wan.graphml", "GraphML")),
    (
        "graphml_link_missing",
        {"wan.graphml": WAN_GRAPHML.replace(_EDGE, "")},
        ("oslo", "berlin", "no WAN route", "cannot be reached"),
    ),
    (
        "graphml_site_missing",
        {"wan.graphml": WAN_GRAPHML.replace('"berlin"', '"bern"')},
        ("berlin", "not a node of the WAN"),
    ),
    (
        "graphml_unknown_attribute",
        {"wan.graphml": WAN_GRAPHML.replace('attr.name="gbps"', 'attr.name="gbit"')},
        ("oslo", "berlin", "gbit"),
    ),
    ("sites_csv_empty", {"sites.csv": ""}, ("sites.csv", "empty")),
    ("sites_csv_header_only", {"sites.csv": SITES_CSV.splitlines()[0] + "\n"}, ("sites.csv",)),
    (
        "sites_csv_duplicate_name",
        {"sites.csv": SITES_CSV + "oslo,NO,8,1.1,1\n"},
        ("oslo", "more than once"),
    ),
    (
        "sites_csv_fractional_gpus",
        {"sites.csv": SITES_CSV.replace("DE,4", "DE,4.5")},
        ("berlin", "gpus", "whole"),
    ),
    ("timeseries_empty", {"timeseries.csv": ""}, ("timeseries.csv", "empty")),
    (
        "timeseries_infinite",
        {"timeseries.csv": _timeseries().replace("berlin,1,300,0.1", "berlin,1,inf,0.1", 1)},
        ("berlin", "carbon", "infinite"),
    ),
    (
        "timeseries_one_naive_timestamp",
        {"timeseries.csv": _timeseries().replace("02:00:00Z,oslo", "02:00:00,oslo")},
        ("oslo", "2024-01-01T02:00:00", "timezone"),
    ),
    (
        "timeseries_wrong_time_column",
        {"timeseries.csv": _timeseries().replace("time,", "timestamp,", 1)},
        ("timeseries.csv", "timestamp"),
    ),
    (
        "timeseries_site_without_rows",
        {"timeseries.csv": "\n".join(_timeseries().splitlines()[:5]) + "\n"},
        ("berlin", "no rows"),
    ),
    (
        "jobs_csv_duplicate_name",
        {"jobs.csv": JOBS_CSV + JOBS_CSV.splitlines()[1] + "\n"},
        ("train", "more than once"),
    ),
    (
        "jobs_csv_deadline_before_release",
        {
            "jobs.csv": JOBS_CSV.replace(
                "2024-01-01T01:00:00Z,2024-01-01T03:00:00Z",
                "2024-01-01T03:00:00Z,2024-01-01T01:00:00Z",
            )
        },
        ("infer", "deadline", "not after"),
    ),
    (
        "jobs_csv_work_longer_than_window",
        {"jobs.csv": JOBS_CSV.replace(",1,1,1,5,false", ",3,1,1,5,false")},
        ("infer", "work_h", "window"),
    ),
    (
        "jobs_csv_more_gpus_than_any_site",
        {"jobs.csv": JOBS_CSV.replace(",4,3,100,", ",64,3,100,")},
        ("train", "gpus", "64"),
    ),
    (
        "jobs_csv_residency_matches_no_site",
        {
            "jobs.csv": "\n".join(
                [
                    JOBS_CSV.splitlines()[0] + ",allowed_regions",
                    JOBS_CSV.splitlines()[1] + ",FR|US",
                    JOBS_CSV.splitlines()[2] + ",",
                ]
            )
            + "\n"
        },
        ("train", "allowed_regions", "FR"),
    ),
    (
        "yaml_horizon_typo",
        _yaml("slot_minutes: 60", "slot_minute: 60"),
        ("slot_minute", "spelling"),
    ),
    (
        "yaml_top_level_typo",
        _yaml("jobs: jobs.csv", "jobs: jobs.csv\nwan_shar: 0.5"),
        ("wan_shar",),
    ),
    ("yaml_only_a_comment", {"scenario.yaml": "# nothing here\n"}, ("scenario.yaml", "empty")),
    # a scenario file is data: its file references stay inside its folder (issue 11)
    ("jobs_outside_folder", _yaml("jobs: jobs.csv", "jobs: ../jobs.csv"), ("jobs", "outside")),
    ("sites_absolute_path", _yaml("sites: sites.csv", "sites: /etc/passwd"), ("/etc/passwd",)),
    (
        "timeseries_home_path",
        _yaml("timeseries: timeseries.csv", "timeseries: ~/.bashrc"),
        ("timeseries", "~/.bashrc", "outside"),
    ),
    ("wan_absolute_path", _yaml("wan: wan.graphml", "wan: /etc/hosts"), ("wan", "outside")),
    (
        "jobs_dotdot_inside_name",
        _yaml("jobs: jobs.csv", "jobs: sub/../../x/jobs.csv"),
        ("jobs", "outside"),
    ),
    ("jobs_empty_name", _yaml("jobs: jobs.csv", "jobs: ' '"), ("jobs", "empty")),
    # a file that is not the table it is named as is described, not quoted
    (
        "jobs_csv_is_an_env_file",
        {"jobs.csv": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI\nTOKEN=abc\n"},
        ("jobs.csv", "does not look like a jobs table"),
    ),
    (
        "sites_csv_is_a_key_file",
        {"sites.csv": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"},
        ("sites.csv", "does not look like a sites table"),
    ),
    (
        "timeseries_is_a_passwd_file",
        {"timeseries.csv": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\n"},
        ("timeseries.csv", "does not look like a timeseries table"),
    ),
    (
        "graphml_is_an_env_file",
        {"wan.graphml": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI\n"},
        ("wan.graphml", "GraphML"),
    ),
    # MODEL.md §1: a gap inside the horizon longer than the usual spacing is never filled
    (
        "timeseries_missing_hour",
        {
            "timeseries.csv": "\n".join(
                r
                for r in _timeseries(hours=8).splitlines()
                if not r.startswith("2024-01-01T02:00:00Z,oslo")
            )
            + "\n"
        },
        ("oslo", "2024-01-01T02:00:00", "gap"),
    ),
    # MODEL.md §3: a link joins two different nodes
    (
        "graphml_self_loop",
        {"wan.graphml": WAN_GRAPHML.replace(_EDGE, _EDGE + _EDGE.replace('"berlin"', '"oslo"'))},
        ("oslo", "itself"),
    ),
    (
        "yaml_inline_self_loop",
        _yaml(
            "wan: wan.graphml",
            "wan: [{a: oslo, b: berlin, gbps: 10}, {a: berlin, b: berlin, gbps: 1}]",
        ),
        ("berlin", "itself"),
    ),
    # issue 11: forecast files are references like any other
    (
        "forecasts_outside_folder",
        _yaml("jobs: jobs.csv", "jobs: jobs.csv\nforecasts: ../forecasts.csv"),
        ("forecasts", "outside"),
    ),
    (
        "forecast_history_absolute_path",
        _yaml("jobs: jobs.csv", "jobs: jobs.csv\nforecasts: {history: /etc/passwd}"),
        ("forecasts.history", "/etc/passwd", "outside"),
    ),
    (
        "forecasts_csv_is_an_env_file",
        {
            **_yaml("jobs: jobs.csv", "jobs: jobs.csv\nforecasts: forecasts.csv"),
            "forecasts.csv": "AWS_SECRET_ACCESS_KEY=abc123secret\n",
        },
        ("does not look like a forecasts table",),
    ),
]


@pytest.mark.parametrize(
    ("changes", "words"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_scenario_file(tmp_path, changes, words):
    files: dict[str, str | bytes | None] = {**_files(), **changes}
    path = _write(tmp_path, files)
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path)
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    assert info.value.culprit, msg
    assert names_culprit(info.value.culprit, msg), (info.value.culprit, msg)


def test_header_only_jobs_file_is_an_idle_day(tmp_path):
    # MODEL.md §4: valid, exactly like inline ``jobs: []`` (this was once refused)
    files = {**_files(), "jobs.csv": JOBS_CSV.splitlines()[0] + "\n"}
    sc = greenopt.load_scenario(_write(tmp_path, files))
    assert sc.jobs == []
    inline = greenopt.load_scenario(
        _write(tmp_path, {**files, **_yaml("jobs: jobs.csv", "jobs: []")})
    )
    assert inline == sc


def test_aware_timestamps_with_changing_offsets_are_accepted(tmp_path):
    # local time across a daylight-saving change (+01:00, then +02:00) is timezone-aware: the
    # same instants as the UTC file give the same scenario, not a "mixed timezones" error
    local = {0: "01:00:00+01:00", 1: "03:00:00+02:00", 2: "04:00:00+02:00", 3: "05:00:00+02:00"}
    text = _timeseries()
    for h, stamp in local.items():
        text = text.replace(f"2024-01-01T{h:02d}:00:00Z", f"2024-01-01T{stamp}")
    (tmp_path / "utc").mkdir()
    (tmp_path / "local").mkdir()
    utc = greenopt.load_scenario(_write(tmp_path / "utc", _files()))
    mixed = greenopt.load_scenario(_write(tmp_path / "local", {**_files(), "timeseries.csv": text}))
    assert mixed == utc


# -- plan() arguments -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sc() -> greenopt.Scenario:
    return greenopt.Scenario(**base())


_MB, _SUB = "memory_budget", "lns_sub_nodes"
PLAN_CASES = [
    ("unknown_method", {"method": "magic"}, "magic", "method"),
    ("unknown_objective", {"method": "run-now", "objective": "green"}, "green", "objective"),
    ("unknown_deadlines", {"method": "run-now", "deadlines": "firm"}, "firm", "deadlines"),
    ("negative_time_limit", {"method": "run-now", "time_limit": -1}, "time_limit", "time_limit"),
    ("zero_time_limit", {"method": "run-now", "time_limit": 0}, "time_limit", "time_limit"),
    ("mip_gap_above_one", {"method": "run-now", "mip_gap": 2}, "mip_gap", "mip_gap"),
    # issue 11: the options added with the limits and the deterministic mode
    ("time_limit_nan", {"method": "run-now", "time_limit": NAN}, "time_limit", "time_limit"),
    ("time_limit_minus_inf", {"method": "run-now", "time_limit": -INF}, "time_limit", "time_limit"),
    ("memory_budget_text", {"method": "run-now", "memory_budget": "lots"}, "'lots'", _MB),
    ("memory_budget_zero", {"method": "run-now", "memory_budget": 0}, _MB, _MB),
    ("memory_budget_bool", {"method": "run-now", "memory_budget": True}, _MB, _MB),
    ("deterministic_text", {"method": "run-now", "deterministic": "yes"}, "'yes'", "deterministic"),
    ("lns_sub_nodes_zero", {"method": "milp", "lns_sub_nodes": 0}, "lns_sub_nodes", _SUB),
    ("bb_nodes_fraction", {"method": "milp", "bb_nodes": 2.5}, "bb_nodes", "bb_nodes"),
    ("bb_nodes_for_greedy", {"method": "greedy", "bb_nodes": 10}, "bb_nodes", "bb_nodes"),
    ("deterministic_cbc", {"deterministic": True, "solver": "cbc"}, "'cbc'", "deterministic"),
]


@pytest.mark.parametrize(
    ("kwargs", "word", "culprit"), [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES]
)
def test_bad_plan_arguments(sc, kwargs, word, culprit):
    with pytest.raises(ScenarioError) as info:
        greenopt.plan(sc, **kwargs)
    assert word in str(info.value)
    assert info.value.culprit == culprit


def test_plan_needs_a_scenario():
    with pytest.raises(ScenarioError, match="dict"):
        greenopt.plan(base(), method="run-now")


# -- assignments passed to evaluate -----------------------------------------------------------
COLS = ["job", "slot", "site", "share"]
ASSIGNMENT_CASES = [
    ("unknown_job", [("ghost", 0, "oslo", 1.0)], "ghost"),
    ("unknown_site", [("train", 0, "paris", 1.0)], "paris"),
    ("slot_past_horizon", [("train", 4, "oslo", 1.0)], "slot 4"),
    ("negative_slot", [("train", -1, "oslo", 1.0)], "slot -1"),
    ("fractional_slot", [("train", 1.5, "oslo", 1.0)], "slot 1.5"),
    ("text_slot", [("train", "one", "oslo", 1.0)], "'one'"),
    ("nan_share", [("train", 0, "oslo", NAN)], "train"),
    ("infinite_share", [("train", 0, "oslo", INF)], "train"),
    ("negative_share", [("train", 1, "oslo", -0.5)], "train"),
    ("text_share", [("train", 1, "oslo", "half")], "'half'"),
    ("short_row", [("train", 0, "oslo")], "row 0"),
    (
        "missing_share_column",
        pd.DataFrame({"job": ["train"], "slot": [0], "site": ["oslo"]}),
        "share",
    ),
    (
        "wrong_column_name",
        pd.DataFrame({"job": ["train"], "slot": [0], "dc": ["oslo"], "share": [1.0]}),
        "'site'",
    ),
    ("mapping_without_share", [{"job": "train", "slot": 0, "site": "oslo"}], "train"),
    ("a_string", "train,0,oslo,1", "str"),
    ("none", None, "NoneType"),
]


@pytest.mark.parametrize(
    ("rows", "word"), [c[1:] for c in ASSIGNMENT_CASES], ids=[c[0] for c in ASSIGNMENT_CASES]
)
def test_bad_assignments(sc, rows, word):
    with pytest.raises(PlanError) as info:
        greenopt.evaluate(sc, rows)
    assert word in str(info.value), str(info.value)


def test_bad_evaluate_deadlines_and_objective(sc):
    with pytest.raises(PlanError, match="firm"):
        greenopt.evaluate(sc, [], deadlines="firm")
    with pytest.raises(ScenarioError, match="green") as info:
        greenopt.evaluate(sc, [], objective="green")
    assert info.value.culprit == "objective"


def test_catalogue_size():
    n = len(SCENARIO_CASES) + len(FILE_CASES) + len(PLAN_CASES) + len(ASSIGNMENT_CASES)
    assert n >= 150


#: Every kind of bad input issue #7 lists, and the catalogue's cases for it.
KINDS = {
    "negative or non-integer capacity": [
        "negative_site_gpus",
        "fractional_site_gpus",
        "sites_csv_negative_gpus",
        "sites_csv_fractional_gpus",
    ],
    "NaN or infinite values in series": [
        "nan_renewable",
        "inf_carbon",
        "timeseries_nan",
        "timeseries_infinite",
    ],
    "naive timestamps": [
        "naive_start",
        "naive_release",
        "timeseries_naive",
        "timeseries_one_naive_timestamp",
    ],
    "deadline before release": ["deadline_before_release", "jobs_csv_deadline_before_release"],
    "work longer than the window": ["work_longer_than_window", "jobs_csv_work_longer_than_window"],
    "more GPUs than any allowed site": [
        "gpus_above_every_site",
        "gpus_above_every_allowed_site",
        "jobs_csv_more_gpus_than_any_site",
    ],
    "unknown origin site": ["unknown_origin", "jobs_csv_unknown_origin"],
    "residency that excludes every site": [
        "residency_excludes_every_site",
        "jobs_csv_residency_matches_no_site",
    ],
    "a site the WAN cannot reach": [
        "site_unreachable",
        "site_behind_transit_only",
        "graphml_link_missing",
        "graphml_site_missing",
    ],
    "zero or missing bandwidth": [
        "zero_bandwidth",
        "missing_bandwidth",
        "graphml_no_gbps",
        "graphml_zero_gbps",
    ],
    "duplicate names": [
        "duplicate_site",
        "duplicate_job",
        "sites_csv_duplicate_name",
        "jobs_csv_duplicate_name",
        "duplicate_edge",
    ],
    "series that do not cover the horizon": [
        "short_series",
        "timeseries_short",
        "timeseries_site_without_rows",
    ],
    "carbon in kg instead of g": ["carbon_in_kg", "timeseries_in_kg"],
    "unknown keys or typos in YAML": [
        "yaml_typo_key",
        "yaml_horizon_typo",
        "yaml_top_level_typo",
        "yaml_inline_job_typo",
        "yaml_inline_wan_typo",
    ],
    "empty files": [
        "empty_yaml",
        "yaml_only_a_comment",
        "jobs_csv_empty",
        "sites_csv_empty",
        "timeseries_empty",
        "graphml_empty",
    ],
    # issue 11
    "file references outside the scenario's folder": [
        "jobs_outside_folder",
        "sites_absolute_path",
        "timeseries_home_path",
        "wan_absolute_path",
        "jobs_dotdot_inside_name",
    ],
    "a file that is not the table it is named as (never quoted)": [
        "jobs_csv_is_an_env_file",
        "sites_csv_is_a_key_file",
        "timeseries_is_a_passwd_file",
        "graphml_is_an_env_file",
    ],
    "a gap inside a series": ["timeseries_missing_hour"],
    "a WAN link from a node to itself": [
        "self_loop_link",
        "graphml_self_loop",
        "yaml_inline_self_loop",
    ],
    "forecast files outside the folder or not forecast tables": [
        "forecasts_outside_folder",
        "forecast_history_absolute_path",
        "forecasts_csv_is_an_env_file",
    ],
    "wrong column names": [
        "jobs_csv_unknown_column",
        "sites_csv_wrong_column",
        "timeseries_wrong_column",
        "timeseries_wrong_time_column",
    ],
}


def test_catalogue_covers_every_kind_the_issue_lists():
    ids = {c[0] for c in SCENARIO_CASES} | {c[0] for c in FILE_CASES}
    for kind, cases in KINDS.items():
        missing = [c for c in cases if c not in ids]
        assert not missing, (kind, missing)


# -- sizes beyond the memory budget (greenopt.limits) -------------------------------------------
SIZE_CASES = [
    # (id, jobs, slots, budget): each names the sizes and fails before any large allocation
    ("year_of_hourly_slots_87600_jobs", 87_600, 8_760, None),
    ("many_jobs_small_budget", 5_000, 96, "1MiB"),
    ("long_horizon_small_budget", 10, 100_000, "1MiB"),
]


@pytest.mark.parametrize(
    ("jobs", "slots", "budget"), [c[1:] for c in SIZE_CASES], ids=[c[0] for c in SIZE_CASES]
)
def test_oversize_scenario(jobs, slots, budget):
    from greenopt.errors import SizeError
    from greenopt.limits import check_scenario_size

    with pytest.raises(SizeError) as info:
        check_scenario_size(jobs, 6, slots, budget)
    msg = str(info.value)
    assert f"{jobs:,} jobs" in msg and f"{slots:,} slots" in msg and "budget" in msg


def test_bad_memory_budget():
    from greenopt.limits import parse_bytes

    for value in ("lots", "-1GiB", 0, True, "GiB"):
        with pytest.raises(ScenarioError) as info:
            parse_bytes(value)
        assert info.value.culprit == "memory_budget"
