"""Random but realistic planning instances, for benchmarks and property tests.

``synthetic_scenario(jobs, sites, slots, seed)`` builds a :class:`~greenopt.scenario.Scenario`
that always passes the model's consistency checks (MODEL.md §1–4):

* **sites** in a few residency regions, GPU capacity sized from the jobs' demand so that
  ``Σ site GPU-hours ≈ headroom · Σ job GPU-hours`` (``headroom`` ≈ 1 makes capacity tight);
* **renewable supply** solar-like, ``peak · max(0, sin(π(h − sunrise)/daylight))`` with clouds,
  at a different phase per site (sites spread over longitudes), plus some wind at a few sites;
* **grid carbon** a diurnal shape around a per-site mean (20–650 g/kWh) with a solar dip, and a
  price that follows it;
* a random **connected WAN**: sites plus transit nodes on a random spanning tree and a few extra
  links, 1–100 Gbit/s, latencies on every link;
* **jobs** of the four kinds with windows aligned to slots, ``work_h ≤`` window, GPUs within the
  origin's capacity, ``migratable``/``preemptible`` flags and residency restrictions (the origin's
  region always allowed).

Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from greenopt.scenario import Job, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")
KINDS = ("training", "nearline", "evaluation", "latency_critical")
_GBPS = np.array([1.0, 10.0, 25.0, 40.0, 100.0])
_GPU_KW = 0.7  # IT power per GPU (kW), H100-class


def synthetic_scenario(
    jobs: int = 200,
    sites: int = 8,
    slots: int = 96,
    seed: int = 0,
    *,
    slot_minutes: int | None = None,
    headroom: float = 2.0,
    regions: int | None = None,
    transit: int | None = None,
    non_preemptible: float | None = None,
    non_migratable: float | None = None,
    residency: float = 0.15,
    renewable_scale: float = 1.0,
    grid_limit: bool = False,
    name: str | None = None,
) -> Scenario:
    """A random instance of ``jobs`` jobs on ``sites`` sites over ``slots`` slots.

    ``slot_minutes`` defaults to a one-day horizon (``1440 / slots``, at least 1 minute).
    ``headroom`` is site GPU-time over job GPU-time (≈1: tight; 2: comfortable).
    ``non_preemptible`` / ``non_migratable``: fraction of jobs with that flag cleared (default:
    by kind — latency-critical and evaluation jobs cannot pause, latency-critical cannot move).
    ``residency``: fraction of jobs restricted to a subset of regions. ``grid_limit`` gives half
    of the sites a ``grid_kw_max`` (always above their idle load). ``renewable_scale`` scales the
    renewable supply relative to the sites' full-load power.
    """
    if jobs < 0 or sites < 1 or slots < 1:
        raise ValueError("synthetic_scenario needs jobs >= 0, sites >= 1 and slots >= 1")
    rng = np.random.default_rng(seed)
    dt_min = slot_minutes if slot_minutes is not None else max(1, round(1440 / slots))
    dt_h = dt_min / 60.0
    T = slots
    n_regions = regions if regions is not None else max(1, min(sites, math.ceil(sites / 2)))

    # -- jobs, first without origin (to size capacity from their demand) ------------------------
    kinds = rng.choice(len(KINDS), size=jobs, p=[0.3, 0.3, 0.2, 0.2])
    raw = [_job_shape(rng, KINDS[k], T, dt_h) for k in kinds]
    demand_gpu_h = sum(r["gpus"] * r["work_h"] for r in raw)
    horizon_h = T * dt_h
    max_job_gpus = max((r["gpus"] for r in raw), default=1)

    # -- sites ---------------------------------------------------------------------------------
    weights = rng.uniform(0.5, 1.5, size=sites)
    per_site = headroom * demand_gpu_h / horizon_h * weights / weights.sum()
    site_gpus = np.maximum(np.ceil(per_site), 8).astype(int)
    site_gpus[rng.integers(0, sites)] = max(int(site_gpus.max()), max_job_gpus)
    hours = (np.arange(T) + 0.5) * dt_h  # slot mid-points, hours since start (UTC)
    site_objs: list[Site] = []
    for i in range(sites):
        pue = float(np.round(rng.uniform(1.05, 1.5), 3))
        idle = float(np.round(0.02 * site_gpus[i] * _GPU_KW + rng.uniform(0.5, 3.0), 3))
        full_kw = pue * (idle + site_gpus[i] * _GPU_KW)
        # solar at a phase set by the site's longitude: local noon = 12 − lon/15 (UTC hours)
        lon = rng.uniform(-150, 150)
        noon = (12.0 - lon / 15.0) % 24.0
        daylight = rng.uniform(10.0, 16.0)
        phase = ((hours - noon + 12.0) % 24.0) - 12.0  # hours from local noon, in [-12, 12)
        shape = np.maximum(0.0, np.cos(np.pi * phase / daylight))
        clouds = np.clip(1.0 - 0.3 * rng.random(T) * rng.uniform(0, 1), 0.2, 1.0)
        peak = renewable_scale * full_kw * rng.uniform(0.2, 1.2)
        renewable = peak * shape * clouds
        if rng.random() < 0.3:  # a wind farm: slow random walk
            wind = np.abs(np.cumsum(rng.normal(0, 0.1, T))) % 1.0
            renewable = renewable + renewable_scale * full_kw * 0.3 * wind
        ci_mean = rng.uniform(20.0, 650.0)
        dip = rng.uniform(0.0, 0.4) * ci_mean
        carbon = (
            ci_mean * (1 + 0.1 * np.cos(2 * np.pi * (hours - noon - 8) / 24))
            - dip * shape
            + rng.normal(0, 0.02 * ci_mean, T)
        )
        carbon = np.maximum(carbon, 5.0)  # keep gCO2/kWh (the kg/kWh guard refuses peaks ≤ 1.5)
        price = np.round(0.04 + carbon / 4000.0 + rng.normal(0, 0.005, T), 4)
        grid_max = None
        if grid_limit and i % 2 == 0:
            grid_max = float(np.round(pue * (idle + 0.6 * site_gpus[i] * _GPU_KW), 3))
        site_objs.append(
            Site(
                name=f"s{i:02d}",
                region=f"R{i % n_regions}",
                gpus=int(site_gpus[i]),
                pue=pue,
                idle_kw=idle,
                grid_kw_max=grid_max,
                renewable_kw=np.round(renewable, 3),
                carbon=np.round(carbon, 2),
                price=price,
                longitude=float(np.round(lon, 3)),
            )
        )

    # -- jobs ----------------------------------------------------------------------------------
    region_names = sorted({s.region for s in site_objs})
    job_objs: list[Job] = []
    for k, r in enumerate(raw):
        origin = int(rng.integers(0, sites))
        gpus = int(min(r["gpus"], site_gpus[origin]))
        migratable = r["migratable"]
        preemptible = r["preemptible"]
        if non_migratable is not None:
            migratable = bool(rng.random() >= non_migratable)
        if non_preemptible is not None:
            preemptible = bool(rng.random() >= non_preemptible)
        allowed = None
        if len(region_names) > 1 and rng.random() < residency:
            others = [g for g in region_names if g != site_objs[origin].region]
            extra = rng.choice(others, size=int(rng.integers(0, len(others) + 1)), replace=False)
            allowed = tuple(sorted({site_objs[origin].region, *map(str, extra)}))
        job_objs.append(
            Job(
                name=f"j{k:05d}",
                kind=r["kind"],
                origin=site_objs[origin].name,
                release=START + pd.Timedelta(minutes=dt_min * r["first"]),
                deadline=START + pd.Timedelta(minutes=dt_min * r["end"]),
                work_h=r["work_h"],
                gpus=gpus,
                power_kw=round(_GPU_KW * gpus * rng.uniform(0.8, 1.0), 3),
                state_gb=r["state_gb"],
                restore_h=r["restore_h"],
                migratable=migratable,
                preemptible=preemptible,
                allowed_regions=allowed,
                priority=r["priority"],
            )
        )

    wan = _random_wan(rng, [s.name for s in site_objs], transit)
    return Scenario(
        name=name or f"synthetic-{jobs}j-{sites}s-{slots}t-{seed}",
        horizon={"start": START, "slot_minutes": dt_min, "slots": T},
        sites=site_objs,
        jobs=job_objs,
        wan=wan,
    )


def _job_shape(rng: np.random.Generator, kind: str, T: int, dt_h: float) -> dict:
    """Kind-typical size, window and flags; the window ``[first, end)`` is in slots."""
    if kind == "training":
        gpus = int(rng.choice([4, 8, 16]))
        work = rng.uniform(2.0, 8.0)
        slack = rng.uniform(1.3, 3.0)
        state = float(rng.choice([50.0, 200.0, 800.0, 2000.0]))
        restore, prio, migr, pre = float(rng.uniform(0.01, 0.1)), 1.0, True, True
    elif kind == "nearline":
        gpus = int(rng.choice([1, 2]))
        work = rng.uniform(0.5, 3.0)
        slack = rng.uniform(2.0, 4.0)
        state, restore, prio, migr, pre = float(rng.uniform(1, 20)), 0.0, 1.0, True, True
    elif kind == "evaluation":
        gpus = int(rng.choice([1, 2, 4]))
        work = rng.uniform(0.5, 2.0)
        slack = rng.uniform(1.5, 3.0)
        state, restore, prio, migr, pre = float(rng.uniform(5, 50)), 0.0, 1.0, True, False
    else:  # latency_critical
        gpus = 1
        work = rng.uniform(0.1, 1.0)
        slack = rng.uniform(1.0, 1.5)
        state, restore, prio, migr, pre = 1.0, 0.0, 3.0, False, False
    work_slots = max(1, math.ceil(work / dt_h - 1e-9))
    length = min(T, max(work_slots, math.ceil(work_slots * slack)))
    first = int(rng.integers(0, T - length + 1))
    end = first + length
    work_h = float(min(np.round(work, 3), length * dt_h))
    return {
        "kind": kind,
        "gpus": gpus,
        "work_h": max(work_h, 1e-3),
        "first": first,
        "end": end,
        "state_gb": float(np.round(state, 2)),
        "restore_h": float(np.round(restore, 4)),
        "priority": prio,
        "migratable": migr,
        "preemptible": pre,
    }


def _random_wan(rng: np.random.Generator, site_names: list[str], transit: int | None) -> list[dict]:
    """A connected random WAN: a random spanning tree over sites and transit nodes, plus extras."""
    n_transit = transit if transit is not None else max(1, len(site_names) // 4)
    nodes = [*site_names, *(f"x{i:02d}" for i in range(n_transit))]
    if len(nodes) == 1:
        return []
    order = list(rng.permutation(len(nodes)))
    edges: dict[tuple[str, str], dict] = {}

    def add(a: str, b: str) -> None:
        key = (a, b) if a < b else (b, a)
        if a == b or key in edges:
            return
        edges[key] = {
            "a": key[0],
            "b": key[1],
            "gbps": float(rng.choice(_GBPS)),
            "latency_ms": float(np.round(rng.uniform(1.0, 100.0), 2)),
        }

    for pos in range(1, len(order)):  # random recursive tree: connected by construction
        add(nodes[order[pos]], nodes[order[int(rng.integers(0, pos))]])
    for _ in range(len(nodes) // 2):
        a, b = rng.choice(len(nodes), size=2, replace=False)
        add(nodes[int(a)], nodes[int(b)])
    return list(edges.values())
