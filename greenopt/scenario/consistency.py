"""The rules of MODEL.md §1–4 that tie a scenario's parts together (names, series lengths, units,
the WAN, jobs' origins, regions, GPUs and windows), checked when a :class:`Scenario` is built."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from greenopt.errors import ScenarioError
from greenopt.scenario.index import job_window

if TYPE_CHECKING:
    from greenopt.scenario.models import Scenario

# Grid intensities are gCO2/kWh; real grids range ~10–1000. A series whose largest value is below
# this was almost surely given in kg/kWh (e.g. WattTime MOER, 0.2–0.9) and is refused.
_KG_SUSPECT_MAX = 1.5


def check_consistency(sc: Scenario) -> None:
    """Every cross-object rule of MODEL.md §1–4; raises one ScenarioError listing all problems."""
    problems: list[tuple[str, str]] = []  # (culprit, message)
    T = sc.horizon.slots

    names = [s.name for s in sc.sites]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append((dup, f"site name {dup!r} is used more than once"))
    jnames = [j.name for j in sc.jobs]
    seen: set[str] = set()
    for n in jnames:
        if n in seen:
            problems.append((n, f"job name {n!r} is used more than once"))
        seen.add(n)

    for s in sc.sites:
        for field in ("renewable_kw", "carbon", "price"):
            arr = getattr(s, field)
            if len(arr) != T:
                problems.append(
                    (
                        s.name,
                        (
                            f"site {s.name!r} field '{field}' has {len(arr)} values for {T} slots "
                            "(a series at another resolution needs its times: give a pandas "
                            "Series with a timezone-aware index)"
                        ),
                    )
                )
        for field in ("reserved_gpus", "reserved_kw"):
            arr = getattr(s, field)
            if arr is not None and len(arr) != T:
                problems.append(
                    (s.name, f"site {s.name!r} field '{field}' has {len(arr)} values for {T} slots")
                )
        if (
            s.reserved_gpus is not None
            and len(s.reserved_gpus) == T
            and float(np.max(s.reserved_gpus, initial=0.0)) > s.gpus + 1e-6
        ):
            t = int(np.argmax(s.reserved_gpus))
            problems.append(
                (
                    s.name,
                    f"site {s.name!r} field 'reserved_gpus' reserves "
                    f"{float(s.reserved_gpus[t]):g} GPUs in slot {t}, more than its {s.gpus}",
                )
            )
        if len(s.carbon) and 0 < float(np.max(s.carbon)) <= _KG_SUSPECT_MAX:
            problems.append(
                (
                    s.name,
                    f"site {s.name!r} field 'carbon' peaks at {float(np.max(s.carbon)):.3g}: "
                    "intensities are gCO2/kWh; this looks like kg/kWh (multiply by 1000)",
                )
            )

    problems += _check_wan(sc)
    for (a, b), gb in (sc.reserved_link_gb or {}).items():
        if not sc.wan.has_edge(a, b):
            problems.append(
                (f"{a}-{b}", f"field 'reserved_link_gb' names link {a}–{b}, which the WAN lacks")
            )
        elif len(gb) != T:
            problems.append(
                (
                    f"{a}-{b}",
                    f"field 'reserved_link_gb' of link {a}–{b} has {len(gb)} values for {T} slots",
                )
            )

    site_by_name = {s.name: s for s in sc.sites}
    for j in sc.jobs:
        if j.origin not in site_by_name:
            problems.append((j.name, f"job {j.name!r} field 'origin': unknown site {j.origin!r}"))
            continue
        allowed = [
            s for s in sc.sites if j.allowed_regions is None or s.region in j.allowed_regions
        ]
        if not allowed:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'allowed_regions' {list(j.allowed_regions or [])} "
                    "matches no site's region",
                )
            )
            continue
        if max(s.gpus for s in allowed) < j.gpus:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'gpus' ({j.gpus}) exceeds every allowed site's "
                    f"capacity (largest {max(s.gpus for s in allowed)})",
                )
            )
        first, end = job_window(sc.horizon, j)
        window_h = (end - first) * sc.horizon.dt_h
        if end <= first:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} fields 'release'/'deadline': no whole slot of the horizon "
                    f"lies between {j.release.isoformat()} and {j.deadline.isoformat()}",
                )
            )
        elif j.work_h > window_h + 1e-9:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'work_h' ({j.work_h:g} h) is longer than its window "
                    f"({window_h:g} h of whole slots between release and deadline)",
                )
            )
    # a duplicated site name would otherwise report the same WAN problem once per copy
    problems = list(dict.fromkeys(problems))
    if problems:
        msg = "; ".join(m for _, m in problems)
        if len(problems) > 1:
            msg = f"{len(problems)} problems in scenario {sc.name!r}: {msg}"
        raise ScenarioError(msg, culprit=problems[0][0])


def _check_wan(sc: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    g = sc.wan
    with_lat = 0
    for a, b, d in g.edges(data=True):
        link = f"WAN link {a}–{b}"
        if a == b:
            problems.append((f"{a}–{b}", f"{link} joins node {a!r} to itself (MODEL.md §3)"))
        unknown = set(d) - {"gbps", "latency_ms"}
        if unknown:
            problems.append((f"{a}–{b}", f"{link} has unknown attribute(s) {sorted(unknown)}"))
        gbps = d.get("gbps")
        if gbps is None:
            problems.append((f"{a}–{b}", f"{link} field 'gbps' is missing"))
        elif not _finite_number(gbps) or float(gbps) <= 0:
            problems.append((f"{a}–{b}", f"{link} field 'gbps' must be > 0, got {gbps!r}"))
        if "latency_ms" in d:
            with_lat += 1
            lat = d["latency_ms"]
            if not _finite_number(lat) or float(lat) < 0:
                problems.append(
                    (f"{a}–{b}", f"{link} field 'latency_ms' must be >= 0, got {lat!r}")
                )
    if 0 < with_lat < g.number_of_edges():
        problems.append(
            (
                "wan",
                f"WAN: 'latency_ms' is given on {with_lat} of {g.number_of_edges()} links; "
                "give it on every link or on none",
            )
        )
    if len(sc.sites) > 1:
        site_names = [s.name for s in sc.sites]
        for s in site_names:
            if s not in g:
                problems.append((s, f"site {s!r} is not a node of the WAN: it cannot be reached"))
        present = [s for s in site_names if s in g]
        for s in present:
            comp = nx.node_connected_component(g, s)
            if not any(o in comp for o in present if o != s):
                problems.append(
                    (s, f"site {s!r} has no WAN route to any other site: it cannot be reached")
                )
    return problems


def _finite_number(x: Any) -> bool:
    try:
        return math.isfinite(float(x)) and not isinstance(x, bool)
    except (TypeError, ValueError):
        return False
