"""WAN routes, bottlenecks, capacities and the feasibility domain against hand calculations."""

from __future__ import annotations

import itertools
import math

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from greenopt import Scenario, ScenarioError
from greenopt.network import (
    energy_justified,
    feasibility_table,
    link_capacity_gb,
    link_key,
    max_checkpoint_gb,
    migration_time_h,
    renewable_windows,
    shortest_routes,
    time_feasible,
    transfer_hours,
)
from greenopt.network.feasibility import plot_domain

matplotlib.use("Agg")

START = pd.Timestamp("2024-01-01T00:00:00Z")


def _scenario(wan, sites=("a", "b"), slot_minutes=60, jobs=(), **kw) -> Scenario:
    return Scenario(
        horizon={"start": START, "slot_minutes": slot_minutes, "slots": 4},
        sites=[{"name": s, "gpus": 4, "renewable_kw": [0] * 4, "carbon": [100] * 4} for s in sites],
        wan=wan,
        jobs=list(jobs),
        **kw,
    )


# -- transfer time and link capacity -----------------------------------------------------------
def test_100_gb_over_10_gbps_takes_80_seconds():
    # 100 GB · 8 = 800 Gbit; / 10 Gbit/s = 80 s
    assert transfer_hours(100, 10) * 3600 == pytest.approx(80.0)
    assert transfer_hours(100, 10, efficiency=0.5) * 3600 == pytest.approx(160.0)
    assert transfer_hours(0, 10) == 0.0


def test_link_capacity_gb_per_slot():
    # 10 Gbit/s · 0.5 · 0.25 h · 3600 s/h / 8 bit/B = 562.5 GB
    assert link_capacity_gb(10, 0.5, 0.25) == pytest.approx(562.5)
    assert link_capacity_gb(1, 1.0, 1.0) == pytest.approx(450.0)


# -- routes ---------------------------------------------------------------------------------
def _graph(edges, latency=True) -> nx.Graph:
    g = nx.Graph()
    for a, b, gbps, lat in edges:
        attrs = {"gbps": gbps, "latency_ms": lat} if latency else {"gbps": gbps}
        g.add_edge(a, b, **attrs)
    return g


def test_least_latency_wins_over_fewer_hops():
    # a–b direct 12 ms; a–x–b 5 + 5 = 10 ms
    g = _graph([("a", "b", 100, 12), ("a", "x", 10, 5), ("x", "b", 2, 5)])
    assert shortest_routes(g, "a")["b"] == ("a", "x", "b")


def test_latency_tie_goes_to_fewer_hops():
    g = _graph([("a", "b", 100, 10), ("a", "x", 10, 5), ("x", "b", 2, 5)])
    assert shortest_routes(g, "a")["b"] == ("a", "b")


def test_latency_and_hop_tie_goes_to_smallest_node_sequence():
    # a–y–b 4 + 6 = 10 and a–x–b 5 + 5 = 10, both 2 hops: (a, x, b) < (a, y, b)
    g = _graph([("a", "y", 1, 4), ("y", "b", 1, 6), ("a", "x", 1, 5), ("x", "b", 1, 5)])
    assert shortest_routes(g, "a")["b"] == ("a", "x", "b")
    # read from the source: from b, (b, x, a) < (b, y, a)
    assert shortest_routes(g, "b")["a"] == ("b", "x", "a")


def test_float_noise_does_not_break_a_latency_tie():
    # 0.1 + 0.2 = 0.30000000000000004 in floating point, yet it ties with 0.3 + 0
    g = _graph([("a", "q", 1, 0.3), ("q", "b", 1, 0.0), ("a", "p", 1, 0.1), ("p", "b", 1, 0.2)])
    assert shortest_routes(g, "a")["b"] == ("a", "p", "b")


def test_without_latency_fewest_hops_then_smallest_sequence():
    two_hops = [("a", "n", 1, 0), ("n", "b", 1, 0), ("a", "m", 1, 0), ("m", "b", 1, 0)]
    three_hops = [("a", "k", 1, 0), ("k", "l", 1, 0), ("l", "b", 1, 0)]
    g = _graph([*two_hops, *three_hops], latency=False)
    assert shortest_routes(g, "a")["b"] == ("a", "m", "b")
    assert shortest_routes(g, "a")["l"] == ("a", "k", "l")  # 2 hops beat a–m–b–l (3)


def _brute_force_route(g: nx.Graph, a: str, b: str) -> tuple[str, ...]:
    def key(path):
        lat = sum(float(g.edges[u, v].get("latency_ms", 0.0)) for u, v in itertools.pairwise(path))
        return (round(lat, 9), len(path) - 1, tuple(path))

    return min((tuple(p) for p in nx.all_simple_paths(g, a, b)), key=key)


@pytest.mark.parametrize("seed", range(25))
def test_routes_match_brute_force_on_random_graphs_with_ties(seed):
    rng = np.random.default_rng(seed)
    nodes = [f"n{i}" for i in range(7)]
    g = nx.Graph()
    g.add_nodes_from(nodes)
    with_latency = seed % 3 != 0
    for u, v in itertools.combinations(nodes, 2):
        if rng.random() < 0.45:
            attrs = {"gbps": float(rng.choice([1, 10]))}
            if with_latency:
                attrs["latency_ms"] = float(rng.choice([1, 2, 3]))  # few values: many ties
            g.add_edge(u, v, **attrs)
    for a in nodes:
        routes = shortest_routes(g, a)
        for b in nodes:
            if b == a:
                continue
            if nx.has_path(g, a, b):
                assert routes[b] == _brute_force_route(g, a, b), (a, b)
            else:
                assert b not in routes


def test_network_routes_bottleneck_and_links():
    wan = [
        {"a": "a", "b": "b", "gbps": 100, "latency_ms": 12},
        {"a": "a", "b": "x", "gbps": 10, "latency_ms": 5},
        {"a": "x", "b": "b", "gbps": 2, "latency_ms": 5},
    ]
    net = _scenario(wan).network
    assert net.route("a", "b") == ("a", "x", "b")
    assert net.route("b", "a") == ("b", "x", "a")
    # the bottleneck is the smallest gbps on the route, not the fat direct link
    assert net.bottleneck("a", "b") == 2.0
    assert net.bottleneck_gbps.tolist() == [[0.0, 2.0], [2.0, 0.0]]
    assert net.links[("a", "b")] == (("a", "x"), ("b", "x"))
    assert link_key("x", "b") == ("b", "x")
    # per slot of 1 h at wan_share 1: gbps · 450 GB
    assert net.link_capacity_gb == {
        ("a", "b"): pytest.approx(45000.0),
        ("a", "x"): pytest.approx(4500.0),
        ("b", "x"): pytest.approx(900.0),
    }
    # 100 GB over the 2 Gbit/s bottleneck: 400 s
    assert net.transfer_h(100, "a", "b") * 3600 == pytest.approx(400.0)
    assert net.transfer_h(100, "a", "a") == 0.0
    with pytest.raises(ScenarioError, match="'x' is not a site"):
        net.bottleneck("a", "x")  # x is a transit node, not a site


def test_disruption_and_max_share_after_move():
    job = {
        "name": "j",
        "origin": "a",
        "release": START,
        "deadline": START + pd.Timedelta(hours=1),
        "work_h": 0.5,
        "gpus": 1,
        "power_kw": 1,
        "state_gb": 100,
        "restore_h": 0.1,
    }
    wan = [
        {"a": "a", "b": "b", "gbps": 10},
        {"a": "c", "b": "d", "gbps": 10},
    ]
    sc = _scenario(wan, sites=("a", "b", "c", "d"), slot_minutes=15, jobs=[job], wan_share=0.5)
    net = sc.network
    # 100 GB over 10 Gbit/s = 80 s = 0.02222 h, + 0.1 h restore
    d = 80 / 3600 + 0.1
    assert net.disruption_h[0, 0, 1] == pytest.approx(d)
    assert net.disruption_h[0, 1, 0] == pytest.approx(d)
    assert net.disruption_h[0, 0, 0] == 0.0
    assert math.isinf(net.disruption_h[0, 0, 2])  # a and c are not connected
    assert net.route("a", "c") is None and net.bottleneck("a", "c") == 0.0
    share = net.max_share_after_move(0)
    assert share[0, 1] == pytest.approx(1 - d / 0.25)  # Δh = 0.25 h
    assert share[0, 0] == 1.0
    assert share[0, 2] == -math.inf
    # 15-minute slots, half the link: 10 · 0.5 · 0.25 · 3600 / 8
    assert net.link_capacity_gb[("a", "b")] == pytest.approx(562.5)


def test_numeric_node_names_become_strings():
    g = nx.Graph()
    g.add_edge("a", 7, gbps=1.0)
    g.add_edge(7, "b", gbps=3.0)
    net = _scenario(g).network
    assert net.route("a", "b") == ("a", "7", "b")
    assert net.bottleneck("a", "b") == 1.0


# -- feasibility domain (MODEL.md §9) -------------------------------------------------------
def test_migration_time():
    # 8 · 450 / (0.5 · 1 · 3600) = 2 h, + 0.1 h restore
    assert migration_time_h(450, 1, efficiency=0.5, restore_h=0.1) == pytest.approx(2.1)


def test_max_checkpoint():
    # (0.1 · 4 h) · 10 Gbit/s · 3600 / 8 = 1800 GB
    assert max_checkpoint_gb(4, 10) == pytest.approx(1800.0)
    # (0.4 − 0.1) · 4500 = 1350 GB
    assert max_checkpoint_gb(4, 10, restore_h=0.1) == pytest.approx(1350.0)
    assert max_checkpoint_gb(4, 10, efficiency=0.5) == pytest.approx(900.0)
    assert max_checkpoint_gb(4, 10, restore_h=0.5) == 0.0  # restore alone exceeds αW


def test_time_feasible_at_the_boundary():
    assert time_feasible(1800, 10, 4)  # exactly αW = 0.4 h
    assert not time_feasible(1801, 10, 4)
    assert time_feasible(900, 10, 4, alpha=0.05)
    assert not time_feasible(1, 10, 4, restore_h=0.5)


def test_energy_justified():
    # T_mig = 80 s; gained = 5 kW · 1.2 · (2 − 0.0222) h = 11.87 kWh > 100 · 0.005 = 0.5 kWh
    assert energy_justified(100, 10, 2, power_kw=5, pue=1.2)
    # the window's surplus caps the gain: 0.4 kWh < 0.5 kWh
    assert not energy_justified(100, 10, 2, power_kw=5, pue=1.2, surplus_kwh=0.4)
    # the move takes longer than the window: nothing gained
    assert not energy_justified(36000, 1, 1, power_kw=100)


def test_renewable_windows():
    # surplus = [−2, 3, 4, −1, 5, −2] with Δh = 0.5 h
    w = renewable_windows([0, 5, 6, 1, 7, 0], load_kw=2, dt_h=0.5)
    assert [(x.start, x.end) for x in w] == [(1, 3), (4, 5)]
    assert [x.hours for x in w] == [1.0, 0.5]
    assert [x.surplus_kwh for x in w] == pytest.approx([3.5, 2.5])
    # a window running to the end of the horizon, and a per-slot load
    w = renewable_windows([0, 1, 1], load_kw=[0, 0.5, 2])
    assert [(x.start, x.end, x.surplus_kwh) for x in w] == [(1, 2, 0.5)]
    assert renewable_windows([1, 1], load_kw=1) == []  # equal is not a surplus


def test_feasibility_table():
    t = feasibility_table([900, 1800, 2000], [10], [4, 8])
    assert len(t) == 6
    row = t[(t["state_gb"] == 1800) & (t["window_h"] == 4)].iloc[0]
    assert row["t_mig_h"] == pytest.approx(0.4)
    assert row["s_max_gb"] == pytest.approx(1800.0)
    assert bool(row["time_feasible"])
    assert t[t["window_h"] == 4]["time_feasible"].tolist() == [True, True, False]
    assert t[t["window_h"] == 8]["time_feasible"].tolist() == [True, True, True]


def test_plot_domain_draws_one_line_per_window():
    import matplotlib.pyplot as plt

    ax = plot_domain(windows_h=(1, 2, 4), alpha=0.1, gbps_range=(1, 100))
    try:
        lines = ax.get_lines()
        assert len(lines) == 3
        assert [ln.get_label() for ln in lines] == ["W = 1 h", "W = 2 h", "W = 4 h"]
        x, y = lines[2].get_data()
        assert x[0] == pytest.approx(1.0) and x[-1] == pytest.approx(100.0)
        # W = 4 h at 1 Gbit/s: 0.4 · 1 · 3600 / 8 = 180 GB; at 100 Gbit/s: 18000 GB
        assert y[0] == pytest.approx(180.0) and y[-1] == pytest.approx(18000.0)
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    finally:
        plt.close(ax.figure)


def test_plot_domain_keeps_the_users_backend_and_axes():
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    try:
        matplotlib.use("svg")
        fig, ax = plt.subplots()
        assert plot_domain(windows_h=(2,), ax=ax) is ax
        assert len(ax.get_lines()) == 1
        assert matplotlib.get_backend() == "svg"  # not switched to Agg behind the user's back
        plt.close(fig)
    finally:
        matplotlib.use(before)
