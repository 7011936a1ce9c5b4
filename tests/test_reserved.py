"""Capacity reserved by work outside a scenario's jobs (``Site.reserved_gpus``,
``Site.reserved_kw``, ``Scenario.reserved_link_gb``): the residual problems of
greenopt.operate rest on it, so every method, the evaluator and the validator honour it."""

from __future__ import annotations

import numpy as np
import pytest

import greenopt
from greenopt import ScenarioError
from tests.test_operate import job, two_sites

METHODS = tuple(greenopt.METHODS)


def reserved(sc, site: str, gpus=None, kw=None, links=None):
    sites = [
        type(s)(**{**s.model_dump(), "reserved_gpus": gpus, "reserved_kw": kw})
        if s.name == site
        else s
        for s in sc.sites
    ]
    data = {n: getattr(sc, n) for n in type(sc).model_fields}
    data.update(sites=sites, reserved_link_gb=links)
    return type(sc)(**data)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_leaves_reserved_gpus_alone(method):
    # 2 GPUs at the clean site, both taken in slots 0–3: the 2-GPU job cannot run there then
    jobs = [job("j", work=2.0, gpus=2, deadline=6)]
    sc = reserved(two_sites(gpus=2, jobs=jobs), "clean", gpus=np.array([2.0, 2, 2, 2, 0, 0]))
    p = greenopt.plan(sc, method)
    assert greenopt.validate(sc, p) == []
    at_clean = p.assignments[p.assignments["site"] == "clean"]
    assert (at_clean["slot"] >= 4).all()
    if method == "milp":
        assert p.kpis["jobs_done"] == 1


def test_reserved_power_is_part_of_the_sites_energy():
    sc = two_sites(T=2)
    kw = np.array([3.0, 0.0])
    r = reserved(sc, "clean", kw=kw)
    p = greenopt.plan(r, "greedy")
    e = p.energy[p.energy["site"] == "clean"]
    assert e["facility_kwh"].tolist() == pytest.approx([3.0, 0.0])
    assert e["carbon_kg"].tolist() == pytest.approx([3.0 * 50 / 1000, 0.0])


def test_the_validator_counts_what_is_reserved():
    jobs = [job("j", work=1.0, gpus=2, deadline=2, origin="clean")]
    sc = two_sites(T=2, gpus=2, jobs=jobs)
    p = greenopt.plan(sc, "run-now")
    assert greenopt.validate(sc, p) == []
    r = reserved(sc, "clean", gpus=np.array([1.0, 1.0]))
    broken = greenopt.validate(r, greenopt.evaluate(r, p.assignments))
    assert [v.rule for v in broken] == ["capacity"]
    assert "1 reserved" in broken[0].message


def test_reserved_link_capacity_blocks_a_move():
    # the link carries 10 Gbit/s · 1 h = 4500 GB; 4499.5 GB reserved in slot 0 leave no room
    jobs = [job("mover", work=1.0, state_gb=1.0, deadline=1, allowed_regions="clean")]
    sc = two_sites(T=1, jobs=jobs)
    r = reserved(sc, "clean", links={("dirty", "clean"): np.array([4499.5])})
    for method in ("greedy", "milp"):
        p = greenopt.plan(r, method)
        assert greenopt.validate(r, p) == []
        assert p.kpis["migrations"] == 0 and p.kpis["deadline_misses"] == 1
    free = greenopt.plan(sc, "greedy")
    assert free.kpis["migrations"] == 1
    broken = greenopt.validate(r, greenopt.evaluate(r, free.assignments))
    assert [v.rule for v in broken] == ["link_capacity"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gpus": np.array([-1.0] * 6)}, "must be >= 0"),
        ({"gpus": np.array([1.0] * 5)}, "has 5 values for 6 slots"),
        ({"gpus": np.array([9.0] * 6)}, "more than its 4"),
        ({"kw": np.array([np.nan] * 6)}, "NaN"),
        ({"links": {("dirty", "mars"): np.zeros(6)}}, "which the WAN lacks"),
        ({"links": {("clean", "dirty"): np.zeros(3)}}, "has 3 values for 6 slots"),
    ],
)
def test_bad_reservations_are_scenario_errors(change, message):
    with pytest.raises(ScenarioError, match=message):
        reserved(two_sites(), "clean", **change)


def test_scenario_files_refuse_a_reservation_rather_than_drop_it(tmp_path):
    r = reserved(two_sites(), "clean", gpus=np.ones(6))
    with pytest.raises(ScenarioError, match="cannot hold reservations"):
        greenopt.save_scenario(r, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_online_planners_promise_counts_reserved_gpus():
    """The fall-back reservations that keep the online planner's promise see reserved GPUs: the
    origin's one GPU is taken in slots 3–5, so the first 3-hour job's fall-back is slots 0–2
    and a second job due in 3 hours can no longer be promised (it would have been, on slots
    the planner wrongly believed free, and one of the two would then miss its deadline)."""
    from greenopt.heuristics.online import OnlinePlanner

    # residency keeps both at their origin: only its GPU can keep the promise
    pinned = {"allowed_regions": "dirty"}
    jobs = [
        job("first", work=3.0, deadline=6, **pinned),
        job("second", work=3.0, deadline=3, **pinned),
    ]
    sc = reserved(two_sites(gpus=1, jobs=jobs), "dirty", gpus=np.array([0.0, 0, 0, 1, 1, 1]))
    planner = OnlinePlanner(sc)
    assert planner.submit("first").guaranteed
    assert not planner.submit("second").guaranteed
    planner.advance(sc.horizon.slots)
    p = planner.plan()
    assert greenopt.validate(sc, p) == []
    assert p.jobs.set_index("job").loc["first", "done"]
