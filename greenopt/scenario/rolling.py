"""Rolling day-ahead planning over a multi-day scenario: day slices and the carry rule.

``rolling=True`` plans the days of a date range in turn over a multi-day source scenario. Day
``d`` covers ``[D0, D1)`` (midnight to midnight in the horizon's time zone) and plans:

* the jobs released in ``[D0, D1)``, and
* the jobs carried from day ``d−1``.

Since a scenario refuses a job whose work exceeds its window, a job's copy in the day plan has
``work_h = min(remaining work, whole-slot hours of its window inside the day)``; a job with no
whole slot in the day is set aside. After planning, each job's remaining work is
``left = remaining − work done today``. **Carry rule:** a job with ``left > 1e-6`` h whose
deadline is after ``D1`` moves to day ``d+1`` with ``work_h = left``, ``release = D1`` and
``origin`` = the site of its last run today (where its state now is; its old origin if it did not
run); every other field is unchanged (a non-preemptible job cut at midnight resumes at ``D1``: the
day boundary is the one pause the rolling scheme allows). A job with ``left > 1e-6`` and a
deadline at or before ``D1`` is a **rolling miss**.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from greenopt.errors import ScenarioError
from greenopt.scenario.index import job_window
from greenopt.scenario.models import Horizon, Job, Scenario, Site

if TYPE_CHECKING:
    from greenopt.result import Plan

#: Hours of work below which a job counts as finished.
LEFT_TOL_H = 1e-6


def day_range(first: str | date, last: str | date) -> list[str]:
    """ISO dates from ``first`` to ``last`` inclusive."""
    try:
        a = first if isinstance(first, date) else date.fromisoformat(first)
        b = last if isinstance(last, date) else date.fromisoformat(last)
    except ValueError as exc:
        raise ScenarioError(f"days must be ISO dates like 2023-06-21 ({exc})", "days") from None
    if b < a:
        raise ScenarioError(f"day range ends ({b}) before it starts ({a})", "days")
    return [(a + timedelta(days=k)).isoformat() for k in range((b - a).days + 1)]


def _day_bounds(full: Scenario, day: str) -> tuple[datetime, int, int]:
    h = full.horizon
    per_day = 24 * 60 / h.slot_minutes
    if per_day != int(per_day):
        raise ScenarioError(
            f"slot_minutes {h.slot_minutes} does not divide a day: cannot plan by day", "horizon"
        )
    d0 = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=h.start.tzinfo)
    k0 = h.hours_since_start(d0) * 60 / h.slot_minutes
    n = int(per_day)
    if k0 != int(k0) or k0 < 0 or k0 + n > h.slots:
        raise ScenarioError(
            f"day {day} is not a whole day of scenario {full.name!r}'s horizon "
            f"({h.start.isoformat()} to {h.end.isoformat()})",
            "days",
        )
    return d0, int(k0), n


def day_scenario(
    full: Scenario, day: str, carried: Sequence[Job] = ()
) -> tuple[Scenario, dict[str, float], list[Job]]:
    """Day ``day`` of ``full`` with the jobs released that day plus ``carried``.

    Returns the day scenario, each planned job's *total* remaining work (its day copy may be
    capped to its window, see the module docstring), and the jobs set aside (no whole slot today).
    """
    d0, k0, n = _day_bounds(full, day)
    d1 = d0 + timedelta(minutes=full.horizon.slot_minutes * n)
    horizon = {"start": d0, "slot_minutes": full.horizon.slot_minutes, "slots": n}
    sites = []
    for s in full.sites:
        data = {name: getattr(s, name) for name in Site.model_fields}
        for series in ("renewable_kw", "carbon", "price"):
            data[series] = getattr(s, series)[k0 : k0 + n]
        sites.append(Site(**data))
    new = [j for j in full.jobs if d0 <= j.release < d1]
    names = {j.name for j in carried}
    clash = [j.name for j in new if j.name in names]
    if clash:
        raise ScenarioError(f"carried job(s) {clash} are also released on {day}", clash[0])
    hz = Horizon(**horizon)
    jobs: list[Job] = []
    remaining: dict[str, float] = {}
    aside: list[Job] = []
    for job in [*carried, *new]:
        first, end = job_window(hz, job)
        window_h = (end - first) * hz.dt_h
        if window_h <= 0:
            aside.append(job)
            continue
        remaining[job.name] = job.work_h
        data = job.model_dump()
        data["work_h"] = min(job.work_h, window_h)
        jobs.append(Job(**data))
    sc = Scenario(
        name=f"{full.name}-{day}",
        horizon=horizon,
        sites=sites,
        jobs=jobs,
        wan=full.wan,
        wan_share=full.wan_share,
        net_kwh_per_gb=full.net_kwh_per_gb,
        migration_alpha=full.migration_alpha,
    )
    return sc, remaining, aside


def carry_over(
    day_sc: Scenario, plan: Plan, remaining: dict[str, float], aside: Sequence[Job]
) -> dict[str, Any]:
    """Apply the carry rule to a planned day: ``{"carried": [job...], "missed": [...]}``."""
    d1 = day_sc.horizon.end
    done_h = dict(zip(plan.jobs["job"], plan.jobs["work_done_h"], strict=True))
    last_site = plan.assignments.groupby("job", sort=False)["site"].last().to_dict()
    carried: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for job in [*day_sc.jobs, *aside]:
        left = remaining.get(job.name, job.work_h) - float(done_h.get(job.name, 0.0))
        if left <= LEFT_TOL_H:
            continue
        if job.deadline > d1:
            data = job.model_dump(mode="json")
            data.update(
                work_h=left,
                release=d1.isoformat(),
                origin=last_site.get(job.name, job.origin),
            )
            carried.append(data)
        else:
            missed.append({"job": job.name, "unmet_h": left})
    return {"day_end": d1.isoformat(), "carried": carried, "missed": missed}


def tile_days(scenario: Scenario, days: int) -> Scenario:
    """Repeat a one-day scenario over ``days`` consecutive days (series and jobs repeated;
    job ``name`` becomes ``name@dK`` for day K ≥ 1). For demos and tests of rolling batches."""
    h = scenario.horizon
    if h.slots * h.slot_minutes != 24 * 60:
        raise ScenarioError("tile_days needs a scenario of exactly one day", "horizon")
    sites = []
    for s in scenario.sites:
        data = {name: getattr(s, name) for name in Site.model_fields}
        for series in ("renewable_kw", "carbon", "price"):
            data[series] = np.tile(getattr(s, series), days)
        sites.append(Site(**data))
    jobs = []
    for k in range(days):
        shift = timedelta(days=k)
        for j in scenario.jobs:
            data = j.model_dump()
            data.update(
                name=j.name if k == 0 else f"{j.name}@d{k}",
                release=j.release + shift,
                deadline=j.deadline + shift,
            )
            jobs.append(Job(**data))
    return scenario.with_jobs(
        jobs,
        name=f"{scenario.name}-{days}d",
        horizon={"start": h.start, "slot_minutes": h.slot_minutes, "slots": h.slots * days},
        sites=sites,
    )
