"""The WAN as the planners see it: routes between sites, bottlenecks, link capacity per slot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from greenopt.errors import ScenarioError
from greenopt.network.routes import (
    Link,
    link_capacity_gb,
    route_links,
    shortest_routes,
    transfer_hours,
)

if TYPE_CHECKING:
    from greenopt.scenario import Scenario


class Network:
    """Routes and capacities between a scenario's sites, computed once.

    ``bottleneck_gbps[a, b]`` is 0 where no route exists. ``disruption_h[j, a, b]`` is the hours
    job ``j`` loses moving from ``a`` to ``b`` (transfer + restore), ``inf`` where it cannot move;
    ``transfer_time_h[j, a, b]`` its transfer part alone (``state_gb·8/(bottleneck·3600)``).
    """

    def __init__(self, scenario: Scenario) -> None:
        idx = scenario.index
        names = idx.site_names
        S = len(names)
        self.site_names = names
        self.routes: dict[tuple[str, str], tuple[str, ...]] = {}
        self.links: dict[tuple[str, str], tuple[Link, ...]] = {}
        bottleneck = np.zeros((S, S))
        g = scenario.wan
        for a in names:
            if a not in g:
                continue
            paths = shortest_routes(g, a)
            for b in names:
                if b == a or b not in paths:
                    continue
                path = paths[b]
                links = route_links(path)
                self.routes[(a, b)] = path
                self.links[(a, b)] = links
                bottleneck[idx.site_pos[a], idx.site_pos[b]] = min(
                    float(g.edges[u, v]["gbps"]) for u, v in links
                )
        bottleneck.setflags(write=False)
        self.bottleneck_gbps = bottleneck
        self.link_gbps: dict[Link, float] = {
            (min(u, v), max(u, v)): float(d["gbps"]) for u, v, d in g.edges(data=True)
        }
        self.link_capacity_gb: dict[Link, float] = {
            link: link_capacity_gb(gbps, scenario.wan_share, idx.dt_h)
            for link, gbps in self.link_gbps.items()
        }
        # transfer hours per job and site pair: 8·S/(B·3600), inf where no route. Hours per GB
        # are taken where a route exists only, so 0 GB · (no route) is inf, never 0·inf = NaN.
        routed = bottleneck > 0
        h_per_gb = np.zeros((S, S))
        h_per_gb[routed] = 8.0 / (3600.0 * bottleneck[routed])
        transfer = idx.state_gb[:, None, None] * h_per_gb[None, :, :]
        transfer[:, ~routed] = np.inf
        disruption = transfer + idx.restore_h[:, None, None]
        for i in range(S):
            transfer[:, i, i] = 0.0
            disruption[:, i, i] = 0.0
        transfer.setflags(write=False)
        disruption.setflags(write=False)
        #: (J, S, S) hours the transfer of job j's state a → b takes (the dwell rule's measure)
        self.transfer_time_h = transfer
        self.disruption_h = disruption
        self.dt_h = idx.dt_h

    def route(self, a: str, b: str) -> tuple[str, ...] | None:
        return self.routes.get((a, b))

    def bottleneck(self, a: str, b: str) -> float:
        """Smallest link bandwidth (Gbit/s) on the route; 0 where there is none."""
        pos = {n: i for i, n in enumerate(self.site_names)}
        for name in (a, b):
            if name not in pos:
                # a KeyError here would not say which name was wrong, nor that it is not a site
                raise ScenarioError(f"{name!r} is not a site of this scenario", str(name))
        return float(self.bottleneck_gbps[pos[a], pos[b]])

    def transfer_h(self, state_gb: float, a: str, b: str) -> float:
        if a == b:
            return 0.0
        gbps = self.bottleneck(a, b)
        return transfer_hours(state_gb, gbps) if gbps > 0 else float("inf")

    def max_share_after_move(self, j: int) -> np.ndarray:
        """(S, S) largest share job ``j`` may run in a slot it arrives in: ``1 − disruption/Δh``.

        Non-positive where the move cannot happen in one slot (or no route exists).
        """
        return 1.0 - self.disruption_h[j] / self.dt_h
