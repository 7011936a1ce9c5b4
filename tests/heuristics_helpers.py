"""Hand-made instances for the heuristic tests (two or three hourly sites, a few jobs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenopt.scenario import Job, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")


def hour(h: float) -> pd.Timestamp:
    return START + pd.Timedelta(hours=h)


def two_sites(
    carbon_a,
    carbon_b=None,
    ren_a=None,
    ren_b=None,
    jobs=(),
    gpus=(8, 8),
    gbps: float = 100.0,
) -> Scenario:
    """Sites ``a`` and ``b`` (hourly, T = len(carbon_a)) on one link, with ``jobs``."""
    T = len(carbon_a)
    carbon_b = [500.0] * T if carbon_b is None else carbon_b
    ren_a = [0.0] * T if ren_a is None else ren_a
    ren_b = [0.0] * T if ren_b is None else ren_b
    sites = [
        Site(name="a", gpus=gpus[0], renewable_kw=ren_a, carbon=carbon_a),
        Site(name="b", gpus=gpus[1], renewable_kw=ren_b, carbon=carbon_b),
    ]
    return Scenario(
        name="hand",
        horizon={"start": START, "slot_minutes": 60, "slots": T},
        sites=sites,
        jobs=list(jobs),
        wan=[{"a": "a", "b": "b", "gbps": gbps, "latency_ms": 5.0}],
    )


def job(name="j", origin="a", release=0, deadline=8, work=2.0, gpus=4, **kw) -> Job:
    return Job(
        name=name,
        origin=origin,
        release=hour(release),
        deadline=hour(deadline),
        work_h=work,
        gpus=gpus,
        power_kw=kw.pop("power_kw", 2.8),
        **kw,
    )


def runs(plan, name: str) -> pd.DataFrame:
    a = plan.assignments
    return a[a["job"] == name].sort_values("slot").reset_index(drop=True)


def slots_of(plan, name: str) -> list[int]:
    return [int(t) for t in runs(plan, name)["slot"]]


def sites_of(plan, name: str) -> list[str]:
    return list(runs(plan, name)["site"])


def flat(value: float, T: int) -> list[float]:
    return list(np.full(T, value))
