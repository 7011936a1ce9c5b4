"""plan() plans the canonical form of a scenario and presents the plan in the caller's order.

The property tests (tests/test_properties.py) check the invariance on random instances; these
pin down the rule itself: what the canonical form is, that an already canonical scenario is
not copied, and in which order the plan's tables come back.
"""

from __future__ import annotations

import networkx as nx
import pytest

import greenopt
from greenopt import Scenario
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.scenario.canonical import canonical_graph, canonical_scenario


def _reversed(sc: Scenario) -> Scenario:
    """``sc`` with jobs, sites and links in reverse order, every link written backwards."""
    return Scenario(
        name=sc.name,
        horizon=sc.horizon,
        sites=sc.sites[::-1],
        jobs=sc.jobs[::-1],
        wan=[{"a": b, "b": a, **d} for a, b, d in list(sc.wan.edges(data=True))[::-1]],
        wan_share=sc.wan_share,
        net_kwh_per_gb=sc.net_kwh_per_gb,
    )


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return synthetic_scenario(jobs=12, sites=4, slots=12, seed=5, transit=2)


def test_canonical_form_sorts_sites_jobs_nodes_and_links(sc):
    c = canonical_scenario(_reversed(sc))
    assert [s.name for s in c.sites] == sorted(s.name for s in sc.sites)
    assert [j.name for j in c.jobs] == sorted(j.name for j in sc.jobs)
    assert list(c.wan.nodes) == sorted(sc.wan.nodes)
    assert all(list(nbrs) == sorted(nbrs) for nbrs in c.wan.adj.values())
    assert list(c.wan.edges) == sorted(tuple(sorted(e)) for e in sc.wan.edges)
    assert c == sc  # the same content
    assert canonical_scenario(c) is c  # already canonical: no copy


def test_canonical_graph_keeps_every_attribute():
    g = nx.Graph()
    g.add_edge("b", "a", gbps=10.0, latency_ms=3.0)
    g.add_node("x", kind="transit")
    g.add_edge("x", "a", gbps=1.0, latency_ms=9.0)
    c = canonical_graph(g)
    assert list(c.nodes) == ["a", "b", "x"]
    assert c.nodes["x"] == {"kind": "transit"}
    assert c.edges["a", "b"] == {"gbps": 10.0, "latency_ms": 3.0}
    assert nx.utils.graphs_equal(c, g)


KEYS = {
    "assignments": ["job", "slot"],
    "migrations": ["job", "slot"],
    "energy": ["site", "slot"],
    "jobs": ["job"],
}


@pytest.mark.parametrize("method", ["milp", "greedy", "run-now", "follow-renewables"])
def test_plan_comes_back_in_the_callers_order(sc, method):
    reordered = _reversed(sc)
    p = greenopt.plan(reordered, method)
    jobs = [j.name for j in reordered.jobs]
    T = reordered.horizon.slots
    assert p.jobs["job"].tolist() == jobs
    assert list(zip(p.energy["site"], p.energy["slot"], strict=True)) == [
        (s.name, t) for s in reordered.sites for t in range(T)
    ]
    rank = {name: k for k, name in enumerate(jobs)}
    rows = [(rank[j], t) for j, t in zip(p.assignments["job"], p.assignments["slot"], strict=True)]
    assert rows == sorted(rows)  # by job in the caller's order, then slot
    # exactly the order evaluate() presents for the caller's scenario
    again = greenopt.evaluate(reordered, p.assignments, objective=p.objective_spec)
    for table, key in KEYS.items():
        assert getattr(p, table)[key].equals(getattr(again, table)[key]), table
    assert greenopt.validate(reordered, p) == []
    # and the very plan of the scenario in its first order
    q = greenopt.plan(sc, method)
    assert (q.kpis, q.objective, q.status) == (p.kpis, p.objective, p.status)


def test_canonical_order_on_2000_jobs_presents_the_callers_order():
    # 2000 jobs in reverse order: the canonical copy is sorted, and presenting a plan made on it
    # puts every table back in the caller's order (how long it takes is bench_heuristics' job)
    sc = _reversed(synthetic_scenario(jobs=2000, sites=8, slots=96, seed=1))
    c = canonical_scenario(sc)
    assert c is not sc
    assert [j.name for j in c.jobs] == sorted(j.name for j in sc.jobs)
    assert [s.name for s in c.sites] == sorted(s.name for s in sc.sites)
    p = greenopt.plan(c, "run-now")
    from greenopt.scenario.canonical import present_in_order_of

    present_in_order_of(sc, p)
    job_pos = {j.name: k for k, j in enumerate(sc.jobs)}
    site_pos = {s.name: k for k, s in enumerate(sc.sites)}
    assert p.jobs["job"].tolist() == [j.name for j in sc.jobs]
    for table, column, pos in (
        (p.assignments, "job", job_pos),
        (p.migrations, "job", job_pos),
        (p.energy, "site", site_pos),
    ):
        key = list(zip(table[column].map(pos), table["slot"], strict=True))
        assert key == sorted(key), column
    assert greenopt.validate(sc, p) == []
