"""The baselines of MODEL.md §10 reproduce their rules on hand-made instances; plans are valid."""

from __future__ import annotations

import pytest
from heuristics_helpers import flat, job, runs, sites_of, slots_of, two_sites

import greenopt
from greenopt.errors import ScenarioError
from greenopt.examples.synthetic import synthetic_scenario

BASELINES = ("run-now", "threshold", "greenest-region", "follow-renewables")


def _valid(sc, plan):
    v = greenopt.validate(sc, plan)
    assert v == [], [str(x) for x in v[:5]]


# -- run-now ----------------------------------------------------------------------------------
def test_run_now_starts_at_release_at_origin_without_moving():
    sc = two_sites(flat(600, 10), flat(10, 10), jobs=[job(release=2, deadline=9, work=2.5)])
    p = greenopt.plan(sc, method="run-now")
    _valid(sc, p)
    assert slots_of(p, "j") == [2, 3, 4]
    assert set(sites_of(p, "j")) == {"a"}
    assert list(runs(p, "j")["share"]) == pytest.approx([1, 1, 0.5])
    assert p.kpis["migrations"] == 0


def test_run_now_earliest_deadline_first_when_capacity_is_short():
    jobs = [
        job("late", release=0, deadline=6, work=2, gpus=8),
        job("early", release=0, deadline=3, work=2, gpus=8),
    ]
    sc = two_sites(flat(300, 6), jobs=jobs)
    p = greenopt.plan(sc, method="run-now")
    _valid(sc, p)
    assert slots_of(p, "early") == [0, 1]
    assert slots_of(p, "late") == [2, 3]


# -- threshold --------------------------------------------------------------------------------
def test_threshold_waits_for_first_slot_at_or_below_250():
    carbon = [400, 300, 260, 250, 240, 400, 400, 400, 400, 400, 400, 400]
    sc = two_sites(carbon, jobs=[job(release=0, deadline=12, work=2)])
    p = greenopt.plan(sc, method="threshold")
    _valid(sc, p)
    assert slots_of(p, "j") == [3, 4]


def test_threshold_never_waits_beyond_four_hours():
    sc = two_sites(flat(400, 12), jobs=[job(release=1, deadline=12, work=2)])
    p = greenopt.plan(sc, method="threshold")
    _valid(sc, p)
    assert slots_of(p, "j") == [5, 6]  # release 1 + 4 h


def test_threshold_never_waits_so_long_that_the_deadline_is_lost():
    sc = two_sites(flat(400, 12), jobs=[job(release=0, deadline=4, work=3)])
    p = greenopt.plan(sc, method="threshold")
    _valid(sc, p)
    assert slots_of(p, "j") == [1, 2, 3]
    assert p.kpis["deadline_misses"] == 0


def test_threshold_runs_on_renewable_surplus_and_parameters_are_configurable():
    ren = [0, 0, 10, 10, 0, 0, 0, 0, 0, 0]  # covers 2.8 kW job power in slots 2, 3
    sc = two_sites(flat(400, 10), ren_a=ren, jobs=[job(release=0, deadline=10, work=2)])
    p = greenopt.plan(sc, method="threshold")
    assert slots_of(p, "j") == [2, 3]
    carbon = [400, 340, 300, 300, 300, 300, 300, 300, 300, 300]
    sc = two_sites(carbon, jobs=[job(release=0, deadline=10, work=2)])
    assert slots_of(greenopt.plan(sc, method="threshold", threshold=350), "j") == [1, 2]
    assert slots_of(greenopt.plan(sc, method="threshold", max_delay_h=2), "j") == [2, 3]
    with pytest.raises(ScenarioError, match="threshold"):
        greenopt.plan(sc, method="threshold", threshold="high")


def test_threshold_non_preemptible_runs_one_block():
    carbon = [400, 200, 400, 400, 400, 400, 400, 400]
    sc = two_sites(carbon, jobs=[job(release=0, deadline=8, work=3, preemptible=False)])
    p = greenopt.plan(sc, method="threshold")
    _valid(sc, p)
    assert slots_of(p, "j") == [1, 2, 3]


# -- greenest-region --------------------------------------------------------------------------
def test_greenest_region_starts_at_the_cleanest_site_and_never_moves():
    carbon_a = flat(300, 8)
    carbon_b = [250, 150, 150, 400, 400, 400, 400, 400]  # b is cleanest and ≤ 200 from slot 1
    sc = two_sites(carbon_a, carbon_b, jobs=[job(release=0, deadline=8, work=3, state_gb=10)])
    p = greenopt.plan(sc, method="greenest-region")
    _valid(sc, p)
    assert slots_of(p, "j")[0] == 1  # waited for a site ≤ 200 g/kWh
    assert set(sites_of(p, "j")) == {"b"}  # stays there even when b turns dirty
    assert len(p.migrations) == 1 and int(p.migrations["slot"].iloc[0]) == 1


def test_greenest_region_threshold_parameter_and_deadline_guard():
    sc = two_sites(flat(300, 6), flat(280, 6), jobs=[job(release=0, deadline=6, work=2)])
    p = greenopt.plan(sc, method="greenest-region")  # never ≤ 200: starts just in time
    _valid(sc, p)
    assert slots_of(p, "j") == [4, 5] and p.kpis["deadline_misses"] == 0
    p = greenopt.plan(sc, method="greenest-region", threshold=290)
    assert slots_of(p, "j") == [0, 1] and set(sites_of(p, "j")) == {"b"}


# -- follow-renewables ------------------------------------------------------------------------
def test_follow_renewables_moves_to_the_most_surplus_every_slot():
    ren_a = [20, 20, 0, 0, 20, 20]
    ren_b = [0, 0, 20, 20, 0, 0]
    sc = two_sites(flat(300, 6), flat(300, 6), ren_a, ren_b, [job(deadline=6, work=5, gpus=4)])
    p = greenopt.plan(sc, method="follow-renewables")
    _valid(sc, p)
    assert sites_of(p, "j")[:5] == ["a", "a", "b", "b", "a"]
    assert p.kpis["migrations"] == 2


def test_follow_renewables_skips_moves_that_do_not_fit_their_slot():
    ren_b = [0, 50, 50, 50]
    big = job(deadline=4, work=3, state_gb=5000.0)  # 5000 GB over 1 Gbit/s: 11 h
    sc = two_sites(flat(300, 4), flat(300, 4), None, ren_b, [big], gbps=1.0)
    p = greenopt.plan(sc, method="follow-renewables")
    _valid(sc, p)
    assert set(sites_of(p, "j")) == {"a"}


# -- every baseline is valid ------------------------------------------------------------------
@pytest.mark.parametrize("method", BASELINES)
def test_baselines_valid_on_small_example(method):
    sc = greenopt.examples.load("small")
    p = greenopt.plan(sc, method=method)
    _valid(sc, p)
    assert p.method == method and p.kpis["jobs"] == len(sc.jobs)


@pytest.mark.parametrize("method", BASELINES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baselines_valid_on_random_instances(method, seed):
    sc = synthetic_scenario(
        60,
        4,
        24,
        seed,
        headroom=1.0 if seed == 1 else 2.0,
        non_preemptible=0.5 if seed == 2 else None,
        non_migratable=0.5 if seed == 0 else None,
        residency=0.4,
        grid_limit=seed == 2,
    )
    p = greenopt.plan(sc, method=method)
    _valid(sc, p)
