"""Deterministic WAN routes, bottlenecks, transfer and disruption times (MODEL.md §3, §5).

A route from site ``a`` to ``b`` is the path of least total latency, then fewest hops, then the
lexicographically smallest node sequence read from ``a``. Dijkstra on the key
``(latency, hops, path)`` finds it: appending the same suffix to two paths preserves their order
under that key (equal latency and hops imply equal length, so the sequences compare prefix-wise),
so optimal routes have optimal prefixes and the label-setting argument holds.
"""

from __future__ import annotations

import heapq

import networkx as nx

# Latency sums are rounded so that float noise cannot break a documented tie.
_LAT_DECIMALS = 9

Link = tuple[str, str]  # an undirected link, endpoints sorted


def link_key(a: str, b: str) -> Link:
    return (a, b) if a <= b else (b, a)


def shortest_routes(graph: nx.Graph, source: str) -> dict[str, tuple[str, ...]]:
    """Routes from ``source`` to every reachable node, under the deterministic order above."""
    best: dict[str, tuple[float, int, tuple[str, ...]]] = {}
    heap: list[tuple[float, int, tuple[str, ...]]] = [(0.0, 0, (source,))]
    while heap:
        lat, hops, path = heapq.heappop(heap)
        node = path[-1]
        if node in best:
            continue
        best[node] = (lat, hops, path)
        for nbr in graph.neighbors(node):
            if nbr in best:
                continue
            w = float(graph.edges[node, nbr].get("latency_ms", 0.0))
            heapq.heappush(heap, (round(lat + w, _LAT_DECIMALS), hops + 1, (*path, nbr)))
    return {n: key[2] for n, key in best.items()}


def route_links(path: tuple[str, ...]) -> tuple[Link, ...]:
    return tuple(link_key(path[i], path[i + 1]) for i in range(len(path) - 1))


def transfer_hours(state_gb: float, gbps: float, efficiency: float = 1.0) -> float:
    """Hours to move ``state_gb`` GB over ``gbps`` Gbit/s: ``8·S / (η·B·3600)``.

    100 GB over 10 Gbit/s → 800 Gbit / 10 Gbit/s = 80 s = 0.0222 h.
    """
    if state_gb <= 0:
        return 0.0
    return state_gb * 8.0 / (efficiency * gbps * 3600.0)


def link_capacity_gb(gbps: float, wan_share: float, dt_h: float) -> float:
    """GB a link can carry for migrations in one slot: ``gbps · wan_share · Δh · 3600 / 8``."""
    return gbps * wan_share * dt_h * 3600.0 / 8.0
