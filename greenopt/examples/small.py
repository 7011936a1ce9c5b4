"""The small example: 3 European sites, 20 jobs, 24 hourly slots (tests and docs).

Solar from pvlib (shipped with the package, see :mod:`greenopt.examples.profiles`); grid
intensities are diurnal shapes around June levels of the Electricity Maps 2023 yearly means
(Norway ≈ 30, Spain ≈ 130, Germany ≈ 380 gCO2/kWh direct), with Spain's and Germany's midday
solar dip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenopt.examples.profiles import solar_kw
from greenopt.scenario import Job, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")

# name, region, gpus, pue, idle_kw, lat, lon, solar_kw, carbon mean, solar dip (g/kWh), price mean
_SITES = [
    ("oslo", "NO", 16, 1.10, 2.0, 59.91, 10.75, 15.0, 30.0, 5.0, 0.06),
    ("madrid", "ES", 32, 1.25, 3.0, 40.42, -3.70, 60.0, 130.0, 60.0, 0.09),
    ("frankfurt", "DE", 24, 1.20, 3.0, 50.11, 8.68, 30.0, 380.0, 120.0, 0.14),
]
_KINDS = ["training", "nearline", "evaluation", "latency_critical"]


def build(seed: int = 7, jobs: int = 20) -> Scenario:
    """Build the small example (deterministic for a given ``seed``)."""
    slots = 24
    times = pd.date_range(START, periods=slots, freq="h")
    hours = np.arange(slots) + 0.5
    sites = []
    for name, region, gpus, pue, idle, lat, lon, pv, ci, dip, price in _SITES:
        solar = solar_kw(lat, lon, times, pv)
        shape = solar / max(pv, 1e-9)  # 0..~1 at noon
        carbon = ci * (1 + 0.08 * np.cos(2 * np.pi * (hours - 20) / 24)) - dip * shape
        sites.append(
            Site(
                name=name,
                region=region,
                gpus=gpus,
                pue=pue,
                idle_kw=idle,
                renewable_kw=np.round(solar, 3),
                carbon=np.round(carbon, 2),
                price=np.round(
                    price * (1 + 0.25 * np.cos(2 * np.pi * (hours - 19) / 24)) - 0.03 * shape, 4
                ),
                latitude=lat,
                longitude=lon,
            )
        )
    rng = np.random.default_rng(seed)
    job_list = []
    for k in range(jobs):
        kind = _KINDS[k % 4]
        origin = _SITES[int(rng.integers(0, 3))][0]
        release_h = int(rng.integers(0, 12))
        if kind == "training":
            gpus, work, slack, state = (
                int(rng.choice([4, 8])),
                float(rng.integers(3, 7)),
                2.5,
                float(rng.choice([50, 200, 800])),
            )
        elif kind == "nearline":
            gpus, work, slack, state = int(rng.choice([1, 2])), float(rng.integers(1, 4)), 3.0, 5.0
        elif kind == "evaluation":
            gpus, work, slack, state = (
                int(rng.choice([1, 2, 4])),
                float(rng.integers(1, 3)),
                2.0,
                20.0,
            )
        else:
            gpus, work, slack, state = 1, 1.0, 1.0, 1.0
        deadline_h = min(slots, release_h + int(np.ceil(work * slack)))
        work = min(work, deadline_h - release_h)
        job_list.append(
            Job(
                name=f"j{k:02d}-{kind[:5]}",
                kind=kind,
                origin=origin,
                release=START + pd.Timedelta(hours=release_h),
                deadline=START + pd.Timedelta(hours=deadline_h),
                work_h=work,
                gpus=gpus,
                power_kw=round(0.7 * gpus, 2),
                state_gb=state,
                restore_h=0.02 if kind == "training" else 0.0,
                migratable=kind != "latency_critical",
                preemptible=kind not in ("latency_critical", "evaluation"),
                allowed_regions=("NO", "DE") if k == 5 else None,
                priority=3.0 if kind == "latency_critical" else 1.0,
            )
        )
    wan = [
        {"a": "oslo", "b": "frankfurt", "gbps": 10.0, "latency_ms": 14.0},
        {"a": "frankfurt", "b": "madrid", "gbps": 40.0, "latency_ms": 22.0},
        {"a": "oslo", "b": "madrid", "gbps": 1.0, "latency_ms": 38.0},
    ]
    return Scenario(
        name="small",
        horizon={"start": START, "slot_minutes": 60, "slots": slots},
        sites=sites,
        jobs=job_list,
        wan=wan,
    )
