"""The online planner: valid plans, no knowledge of future jobs, clock discipline."""

from __future__ import annotations

import pandas as pd
import pytest
from heuristics_helpers import flat, job, slots_of, two_sites

import greenopt
from greenopt.errors import ScenarioError
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.online import OnlinePlanner, simulate_online


def _valid(sc, plan):
    v = greenopt.validate(sc, plan)
    assert v == [], [str(x) for x in v[:5]]


def test_online_valid_on_small_and_comparable():
    sc = greenopt.examples.load("small")
    p = greenopt.plan(sc, method="online")
    _valid(sc, p)
    assert p.method == "online" and p.kpis["jobs"] == len(sc.jobs)
    assert any("p99" in n for n in p.notes)
    assert p.objective <= greenopt.plan(sc, method="run-now").objective + 1e-9


@pytest.mark.parametrize(
    "kw",
    [
        {"seed": 0},
        {"seed": 1, "headroom": 1.0, "non_preemptible": 0.5},
        {"seed": 2, "non_migratable": 0.6, "residency": 0.6, "grid_limit": True},
    ],
)
def test_online_valid_on_random_instances(kw):
    sc = synthetic_scenario(80, 6, 48, **kw)
    _valid(sc, simulate_online(sc))


def test_online_decisions_ignore_future_jobs():
    sc = synthetic_scenario(40, 4, 24, 3)
    full = simulate_online(sc).assignments
    order = sorted(range(len(sc.jobs)), key=lambda k: (sc.index.release_h[k], k))
    first = [sc.jobs[k] for k in sorted(order[:15])]
    part = simulate_online(sc.with_jobs(first)).assignments
    names = {j.name for j in first}
    key = ["job", "slot"]
    mine = full[full["job"].isin(names)].sort_values(key).reset_index(drop=True)
    assert len(part) > 0
    pd.testing.assert_frame_equal(mine, part.sort_values(key).reset_index(drop=True))


def test_submit_places_from_now_on_and_clock_rules():
    jobs = [job("x", release=0, deadline=8, work=2), job("y", release=0, deadline=8, work=2)]
    carbon = [100, 100, 500, 500, 500, 500, 500, 500]
    sc = two_sites(carbon, jobs=jobs)
    planner = OnlinePlanner(sc)
    d = planner.submit("x")
    assert d.placed and d.slots == (0, 1) and d.site == "a"
    planner.advance(3)
    d = planner.submit(sc.jobs[1])
    assert min(d.slots) >= 3
    assert slots_of(planner.plan(), "y") == list(d.slots)
    with pytest.raises(ScenarioError, match="back in time"):
        planner.advance(2)
    with pytest.raises(ScenarioError, match="already submitted"):
        planner.submit("x")
    with pytest.raises(ScenarioError, match="not in scenario"):
        planner.submit("nope")


def test_online_reports_a_job_it_cannot_place():
    jobs = [
        job("x", release=0, deadline=2, work=2, gpus=8),
        job("y", release=0, deadline=2, work=2, gpus=8),
    ]
    sc = two_sites(flat(300, 4), jobs=jobs, gpus=(8, 0))
    planner = OnlinePlanner(sc)
    assert planner.submit("x").placed
    assert not planner.submit("y").placed
    p = planner.plan()
    _valid(sc, p)
    assert p.kpis["deadline_misses"] == 1
