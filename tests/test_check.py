"""check_scenario: warnings about scenarios that are valid but probably not what was meant.

Sites (4 hourly slots, Δh = 1 h):  a: EU, 4 GPUs, pue 1.5, idle 1 kW (idle load 1.5 kW),
renewable [0, 2, 3, 0];  b: EU, 8 GPUs, idle 0, renewable [1, 1, 1, 1];  c: US, 0 GPUs, no
renewables.  WAN a–b 10 Gbit/s, b–c 1 Gbit/s.  Moving S GB over B Gbit/s takes 8S/(3600B) h.
"""

from __future__ import annotations

import pandas as pd
import pytest

import greenopt
from greenopt import Issue, Scenario, check_scenario

START = pd.Timestamp("2024-01-01T00:00:00Z")


def _job(name: str, origin: str = "a", **kw) -> dict:
    return {
        "name": name,
        "origin": origin,
        "release": START,
        "deadline": START + pd.Timedelta(hours=4),
        "work_h": 1.0,
        "gpus": 1,
        "power_kw": 1.0,
        **kw,
    }


def _scenario(jobs, c_gpus: int = 0, c_renewable=(0, 0, 0, 0)) -> Scenario:
    return Scenario(
        horizon={"start": START, "slot_minutes": 60, "slots": 4},
        sites=[
            {
                "name": "a",
                "region": "EU",
                "gpus": 4,
                "pue": 1.5,
                "idle_kw": 1.0,
                "renewable_kw": [0, 2, 3, 0],
                "carbon": [100] * 4,
            },
            {"name": "b", "region": "EU", "gpus": 8, "renewable_kw": [1] * 4, "carbon": [200] * 4},
            {
                "name": "c",
                "region": "US",
                "gpus": c_gpus,
                "renewable_kw": list(c_renewable),
                "carbon": [300] * 4,
            },
        ],
        wan=[{"a": "a", "b": "b", "gbps": 10}, {"a": "b", "b": "c", "gbps": 1}],
        jobs=jobs,
    )


def _codes(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(i.code, i.culprit) for i in issues]


def test_site_warnings_only_for_a_plain_scenario():
    issues = check_scenario(_scenario([_job("free", state_gb=10)]))
    # c: no GPUs, and renewables 0 never exceed its idle load 0
    assert _codes(issues) == [("no_gpus", "c"), ("no_surplus", "c")]
    assert all(i.level == "warning" for i in issues)
    assert "'c'" in issues[0].message and "0 GPUs" in issues[0].message
    assert str(issues[0]).startswith("warning: [no_gpus]")


def test_clean_scenario_has_no_issues():
    sc = _scenario([_job("free", state_gb=10)], c_gpus=2, c_renewable=(0, 5, 0, 0))
    assert check_scenario(sc) == []


def test_no_surplus_compares_with_the_idle_facility_load():
    # a's renewables peak at 3 kW > pue·idle = 1.5 kW: no warning; at 1.5 kW exactly: warning
    sc = _scenario([_job("free")], c_gpus=2, c_renewable=(0, 5, 0, 0))
    assert check_scenario(sc) == []
    data = sc.model_dump()
    data["sites"][0]["renewable_kw"] = [0, 1.5, 1.5, 0]
    (issue,) = check_scenario(Scenario(**data))
    assert (issue.code, issue.culprit) == ("no_surplus", "a")
    assert "1.5 kW" in issue.message


def test_job_too_big_for_its_origin_must_move():
    # needs 6 GPUs: a has 4, b has 8; 100 GB a→b takes 80 s
    sc = _scenario([_job("wide", gpus=6, state_gb=100)], c_gpus=2, c_renewable=(0, 5, 0, 0))
    (issue,) = check_scenario(sc)
    assert (issue.code, issue.culprit) == ("must_move", "wide")
    msg = issue.message
    assert "'a'" in msg and "['b']" in msg and "4 GPUs" in msg and "100 GB" in msg


def test_origin_outside_allowed_regions_must_move_once():
    job = _job("far", origin="c", allowed_regions=["EU"], migratable=False, state_gb=10)
    issues = check_scenario(_scenario([job], c_gpus=2))
    (issue,) = [i for i in issues if i.culprit == "far"]
    assert issue.code == "must_move"
    assert "'US'" in issue.message and "['a', 'b']" in issue.message
    assert "once" in issue.message


def test_state_that_cannot_leave_in_one_slot_is_stranded():
    # 450 GB over the 1 Gbit/s b–c link: 450·8/3600 = 1 h = Δh → no share left to run
    job = _job("stuck_far", origin="c", allowed_regions=["EU"], state_gb=450)
    issues = check_scenario(_scenario([job], c_gpus=2))
    (issue,) = [i for i in issues if i.culprit == "stuck_far"]
    assert issue.code == "stranded" and "never run" in issue.message
    # 449 GB fits (share 1 − 449·8/3600 > 0): an ordinary must_move
    job["state_gb"] = 449
    issues = check_scenario(_scenario([job], c_gpus=2))
    assert [i.code for i in issues if i.culprit == "stuck_far"] == ["must_move"]


@pytest.mark.parametrize(
    ("kw", "warned"),
    [
        ({"state_gb": 4500}, True),  # 4500 GB over 10 Gbit/s = 1 h = Δh
        ({"state_gb": 4499}, False),
        ({"state_gb": 0, "restore_h": 1.0}, True),  # the restore alone fills the slot
        ({"state_gb": 0, "restore_h": 0.99}, False),
        ({"state_gb": 4500, "migratable": False}, False),  # not meant to migrate anyway
        ({"state_gb": 4500, "gpus": 8, "origin": "b"}, False),  # b is its only allowed site
    ],
)
def test_never_migrates(kw, warned):
    job = _job("big_state", **kw)
    issues = [i for i in check_scenario(_scenario([job], c_gpus=2)) if i.culprit == "big_state"]
    assert [i.code for i in issues] == (["never_migrates"] if warned else [])
    if warned:
        assert "'a'" in issues[0].message and "'b'" in issues[0].message


def test_exported_and_deterministic():
    assert greenopt.check_scenario is check_scenario
    sc = _scenario([_job("wide", gpus=6, state_gb=100), _job("x", state_gb=4500)])
    assert check_scenario(sc) == check_scenario(sc)
    assert [i.code for i in check_scenario(sc)] == [
        "no_gpus",
        "no_surplus",
        "must_move",
        "never_migrates",
    ]


def test_small_example_has_no_warnings():
    assert check_scenario(greenopt.examples.load("small")) == []
