"""Internet Topology Zoo GraphML → a WAN graph with ``gbps`` and ``latency_ms`` on every link.

The Topology Zoo gives link speeds as ``LinkSpeedRaw`` in bit/s (where known) and node positions
as ``Latitude``/``Longitude`` degrees (where known), but no latencies. This reader makes a WAN that
obeys MODEL.md §3:

- ``gbps = LinkSpeedRaw / 1e9 · scale``; links without a speed get ``default_gbps · scale``
  (the zoo's 2000s-era 155 Mbit/s–10 Gbit/s links can be scaled up to today's with ``scale``).
- ``latency_ms = d / (2/3 · c)``: the great-circle distance ``d`` between the link's end nodes
  (haversine, Earth radius 6371 km) at the speed of light in fibre (2/3 of c ≈ 199.86 km/ms).
  Links with an end lacking coordinates get the median latency of the links that have both, so
  latency is on every link or (when no node has coordinates) on none.
- Parallel links (the zoo's MultiGraphs) collapse into one link whose capacity is the sum of
  theirs (they carry traffic side by side) and whose latency is the same geometric estimate.
- Node names are strings: the node's ``label`` when that label is unique in the file, else
  ``"<label>#<id>"`` (or the GraphML id when there is no label). A link from a node to itself
  is an error naming the node (MODEL.md §3), not silently dropped.
- Nodes keep ``latitude``/``longitude`` attributes where known (edges carry only gbps/latency).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np

from greenopt.errors import ScenarioError, shown

EARTH_RADIUS_KM = 6371.0
FIBRE_KM_PER_MS = 299_792.458 / 1000.0 * 2.0 / 3.0  # 2/3 of c, in km per millisecond


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km: ``2R·asin(√(sin²(Δφ/2) + cosφ₁cosφ₂sin²(Δλ/2)))``."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def fibre_latency_ms(km: float) -> float:
    """One-way propagation delay over ``km`` of fibre at 2/3 of the speed of light."""
    return km / FIBRE_KM_PER_MS


def read_topology_zoo(
    path: str | os.PathLike[str], default_gbps: float = 10.0, scale: float = 1.0
) -> nx.Graph:
    """Read a Topology Zoo GraphML file into an undirected simple WAN graph (see module doc)."""
    p = Path(path)
    what = f"topology file {p.name!r}"
    if not p.is_file():
        raise ScenarioError(f"{what}: file {str(p)!r} does not exist", str(p))
    if not (default_gbps > 0 and scale > 0):
        raise ScenarioError(
            f"{what}: default_gbps and scale must be > 0, got {default_gbps!r}, {scale!r}",
            "default_gbps",
        )
    try:
        raw = nx.read_graphml(p)
    except Exception as exc:  # networkx raises several parse error types
        reason = shown(f"{type(exc).__name__}: {exc}", 120)[1:-1]
        raise ScenarioError(f"{what}: not valid GraphML ({reason})", str(p)) from None
    if raw.number_of_nodes() == 0:
        raise ScenarioError(f"{what}: the graph has no nodes", str(p))

    labels = {n: str(d.get("label", "")).strip() for n, d in raw.nodes(data=True)}
    counts = Counter(lbl for lbl in labels.values() if lbl)
    names = {
        n: (lbl if lbl and counts[lbl] == 1 else f"{lbl}#{n}" if lbl else str(n))
        for n, lbl in labels.items()
    }

    g = nx.Graph(name=p.stem)
    coords: dict[str, tuple[float, float]] = {}
    for n in sorted(raw.nodes, key=lambda x: names[x]):
        d = raw.nodes[n]
        attrs = {}
        lat, lon = d.get("Latitude"), d.get("Longitude")
        if lat is not None and lon is not None:
            coords[names[n]] = (float(lat), float(lon))
            attrs = {"latitude": float(lat), "longitude": float(lon)}
        g.add_node(names[n], **attrs)

    # sum capacities of parallel links; deterministic regardless of the file's edge order
    capacity: dict[tuple[str, str], float] = {}
    for u, v, d in raw.edges(data=True):
        a, b = sorted((names[u], names[v]))
        if a == b:
            raise ScenarioError(
                f"{what}: a link from node {shown(a)} to itself (MODEL.md §3: a link joins two "
                "different nodes)",
                a,
            )
        speed = d.get("LinkSpeedRaw")
        gbps = float(speed) / 1e9 if speed not in (None, "") and float(speed) > 0 else default_gbps
        capacity[(a, b)] = capacity.get((a, b), 0.0) + gbps * scale

    latency: dict[tuple[str, str], float] = {}
    for a, b in capacity:
        if a in coords and b in coords:
            latency[(a, b)] = fibre_latency_ms(great_circle_km(*coords[a], *coords[b]))
    fill = float(np.median(list(latency.values()))) if latency else None
    for (a, b), gbps in sorted(capacity.items()):
        attrs = {"gbps": gbps}
        if fill is not None:
            attrs["latency_ms"] = latency.get((a, b), fill)
        g.add_edge(a, b, **attrs)
    return g


def pick_sites(g: nx.Graph, k: int) -> list[str]:
    """``k`` site nodes spread over the graph, deterministically.

    Farthest-point selection: start at the node of highest degree (ties: smallest name), then
    repeatedly add the node whose smallest route latency (hop count where links have no latency)
    to the chosen nodes is largest (ties: higher degree, then smallest name). Only nodes in the
    largest connected component are candidates, so every pick can reach every other.
    """
    if k < 1:
        raise ScenarioError(f"pick_sites: k must be >= 1, got {k}", "k")
    if g.number_of_nodes() == 0:
        raise ScenarioError("pick_sites: the graph has no nodes", "graph")
    comp = max(nx.connected_components(g), key=lambda c: (len(c), sorted(c)))
    if k > len(comp):
        raise ScenarioError(
            f"pick_sites: asked for {k} sites but the largest connected part has {len(comp)} nodes",
            "k",
        )
    sub = g.subgraph(comp)
    weighted = all("latency_ms" in d for _, _, d in sub.edges(data=True)) and sub.number_of_edges()
    weight = "latency_ms" if weighted else None
    deg = dict(sub.degree())
    first = min(comp, key=lambda n: (-deg[n], n))
    chosen = [first]
    dist = dict(nx.single_source_dijkstra_path_length(sub, first, weight=weight))
    while len(chosen) < k:
        nxt = min(
            (n for n in comp if n not in chosen),
            key=lambda n: (-dist[n], -deg[n], n),
        )
        chosen.append(nxt)
        for n, d in nx.single_source_dijkstra_path_length(sub, nxt, weight=weight).items():
            dist[n] = min(dist[n], d)
    return chosen
