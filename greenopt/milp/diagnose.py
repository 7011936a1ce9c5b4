"""Why hard deadlines cannot be met: the jobs at fault and a reason for each.

Every reason starts with one of the words of :data:`REASONS`, then says what is short:

* ``window``     the job alone cannot finish in its window: it cannot run at its origin (region
                 or GPUs), so its state must move first, and the move's stop/restore overhead
                 (``restore_h``) does not leave room for its work;
* ``bandwidth``  its state cannot reach a site where it could run in time: no WAN route, a
                 transfer longer than its window allows, a checkpoint larger than a slot's link
                 capacity, or links shared with other jobs' migrations;
* ``residency``  its allowed regions have no room for it, while sites in other regions do;
* ``grid``       the ``grid_kw_max`` limits of the sites it may use leave too little energy;
* ``capacity``   the GPUs of the sites it may use are taken by other jobs during its window.

:func:`job_reasons` finds the jobs infeasible on their own (``window``, ``bandwidth``) without
solving; :func:`precheck_hard` raises for them before a solve. :func:`explain_hard` (after the
solver found the hard-deadline model infeasible) solves the soft-deadline model — always
feasible; each unmet hour costs far more than any saving — and takes the jobs whose work is left
undone. It then solves the soft model again with one family of constraints relaxed at a time —
the short jobs' residency, the WAN's bandwidth, the sites' grid limits — and a job met only once
a family is relaxed gets that reason (a relaxation counts only if it lowers the total unmet
work, so that a tie broken differently cannot move a reason onto another job). The jobs still
short are short of ``capacity``. Each relaxation is one more soft solve, only when it can apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from greenopt.errors import InfeasibleError
from greenopt.options import PlanOptions
from greenopt.scenario import Scenario

if TYPE_CHECKING:
    from greenopt.result import Plan

#: ``plan_soft(scenario, options) -> Plan``: a soft-deadline plan (the MILP's)
SoftPlanner = Callable[[Scenario, PlanOptions], "Plan"]

REASONS = ("capacity", "window", "residency", "bandwidth", "grid")
#: Work (hours) below which a job counts as done, as in the evaluator.
_TOL = 1e-6
#: Factor the WAN's bandwidth is multiplied by in the bandwidth relaxation.
_BANDWIDTH_RELAX = 1e4


def job_reasons(scenario: Scenario) -> dict[str, str]:
    """Jobs that cannot be done whatever the other jobs do, with the reason (in job order)."""
    idx = scenario.index
    out: dict[str, str] = {}
    for j, name in enumerate(idx.job_names):
        why = _alone(scenario, j)
        if why is not None:
            out[name] = why
    return out


def _alone(scenario: Scenario, j: int) -> str | None:
    """Why job ``j`` alone on empty sites cannot finish in its window, or ``None``.

    A job allowed at its origin can (the scenario's checks guarantee a window as long as its
    work). One that is not must move in its first run slot: at site ``b`` it then does at most
    ``window − disruption(origin, b)`` hours, if the move fits in a slot and in the route's
    link capacity.
    """
    idx = scenario.index
    net = scenario.network
    dt = idx.dt_h
    o = int(idx.origin[j])
    if not idx.allowed[j, o]:
        window_h = float(idx.end_slot[j] - idx.first_slot[j]) * dt
        work = float(idx.work_h[j])
        gb = float(idx.state_gb[j])
        restore = float(idx.restore_h[j])
        names = idx.site_names
        origin = names[o]
        allowed = [int(b) for b in np.flatnonzero(idx.allowed[j])]
        best, best_without_transfer = -np.inf, -np.inf
        blocked: list[str] = []
        for b in allowed:
            links = net.links.get((origin, names[b]))
            if links is None:
                blocked.append(f"no WAN route to {names[b]!r}")
                continue
            if restore < dt:  # what it could do were the transfer instantaneous
                best_without_transfer = max(best_without_transfer, window_h - restore)
            cap = min(net.link_capacity_gb[link] for link in links)
            d = float(net.disruption_h[j, o, b])
            if gb > cap + _TOL:
                blocked.append(f"{names[b]!r}: {gb:g} GB exceed the route's {cap:.4g} GB per slot")
            elif d >= dt:
                blocked.append(f"{names[b]!r}: the move takes {d:.4g} h, a slot is {dt:g} h")
            else:
                best = max(best, window_h - d)
        if best >= work - _TOL:
            return None
        must = f"it cannot run at its origin {origin!r} ({_why_not_at(scenario, j, o)})"
        if best_without_transfer >= work - _TOL:
            detail = "; ".join(blocked) if blocked else "the transfer eats into its window"
            return (
                f"bandwidth: {must} and its {gb:g} GB of state cannot reach an allowed site in "
                f"time for {work:g} h of work in its {window_h:g} h window ({detail})"
            )
        if not any(net.links.get((origin, names[b])) for b in allowed):
            return (
                f"bandwidth: {must} and there is no WAN route from it to an allowed site "
                f"{[names[b] for b in allowed]}"
            )
        return (
            f"window: {must}, and its {window_h:g} h window cannot hold {work:g} h of work plus "
            f"the {restore:g} h stop/restore of the move"
        )
    return None


def _why_not_at(scenario: Scenario, j: int, s: int) -> str:
    job, site = scenario.jobs[j], scenario.sites[s]
    reasons = []
    if job.allowed_regions is not None and site.region not in job.allowed_regions:
        reasons.append(f"region {site.region!r} not allowed")
    if site.gpus < job.gpus:
        reasons.append(f"{site.gpus} GPUs for {job.gpus}")
    return "; ".join(reasons)


def infeasible_error(
    jobs: dict[str, str], what: str, headline: str = "hard deadlines cannot be met"
) -> InfeasibleError:
    """The InfeasibleError listing ``jobs`` (name → reason), the first ten in the message."""
    listed = "; ".join(f"{k!r} ({v})" for k, v in list(jobs.items())[:10])
    more = " ..." if len(jobs) > 10 else ""
    return InfeasibleError(f"{headline} ({what}): {len(jobs)} job(s): {listed}{more}", jobs)


def raise_if_missed(scenario: Scenario, result: Plan, method: str) -> None:
    """Under hard deadlines: raise :class:`InfeasibleError` naming the jobs ``result`` (a plan of
    ``scenario``) does not finish, with the reason each cannot be met where one is known."""
    missed = result.jobs.loc[~result.jobs["done"], "job"].tolist()
    if missed:
        alone = job_reasons(scenario)
        why = "not done by its deadline in this plan"
        raise infeasible_error(
            {name: alone.get(name, why) for name in missed},
            f"{method}, status {result.status}",
            headline="the plan misses hard deadlines",
        )


def precheck_hard(scenario: Scenario) -> None:
    """Raise :class:`InfeasibleError` for the jobs :func:`job_reasons` finds, before solving."""
    jobs = job_reasons(scenario)
    if jobs:
        raise infeasible_error(jobs, "found before solving")


def explain_hard(
    scenario: Scenario, options: PlanOptions, plan_soft: SoftPlanner
) -> InfeasibleError:
    """The InfeasibleError for a hard-deadline model the solver found infeasible.

    ``plan_soft(scenario, options)`` plans under soft deadlines (the MILP pipeline passes
    itself, so that this module does not import it).
    """
    soft_options = replace(options, deadlines="soft")
    unmet = _unmet(scenario, soft_options, plan_soft)
    short = {name: h for name, h in unmet.items() if h > _TOL}
    if not short:
        return infeasible_error(
            {"?": "the solver found the hard model infeasible but the soft one meets all"},
            "unexplained",
        )
    reasons: dict[str, str] = {}
    alone = job_reasons(scenario)
    for name in short:
        if name in alone:
            reasons[name] = alone[name]
    total = sum(short.values())
    for reason, relaxed in _relaxations(scenario, [n for n in short if n not in reasons]):
        left = [n for n in short if n not in reasons]
        if not left:
            break
        relaxed_unmet = _unmet(relaxed, soft_options, plan_soft)
        if sum(relaxed_unmet.values()) >= total - _TOL:
            continue
        for name in left:
            if relaxed_unmet.get(name, 0.0) <= _TOL:
                reasons[name] = _describe(scenario, reason, name, short[name])
    for name in short:
        reasons.setdefault(name, _describe(scenario, "capacity", name, short[name]))
    ordered = {name: reasons[name] for name in short}
    return infeasible_error(ordered, f"{len(short)} job(s) short of {total:.4g} h of work")


def _unmet(scenario: Scenario, options: PlanOptions, plan_soft: SoftPlanner) -> dict[str, float]:
    """Hours of work each job leaves undone in the soft-deadline MILP optimum."""
    soft = plan_soft(scenario, options)
    return {
        str(name): float(h) for name, h in zip(soft.jobs["job"], soft.jobs["unmet_h"], strict=True)
    }


def _relaxations(scenario: Scenario, short: list[str]):
    """``(reason, relaxed scenario)`` for each family of constraints that could apply."""
    restricted = [n for n in short if scenario.job(n).allowed_regions is not None]
    if restricted:
        jobs = [
            job.model_copy(update={"allowed_regions": None}) if job.name in restricted else job
            for job in scenario.jobs
        ]
        yield "residency", scenario.with_jobs(jobs)
    if scenario.wan.number_of_edges():
        wan = nx.Graph()
        wan.add_nodes_from(scenario.wan.nodes(data=True))
        for a, b, d in scenario.wan.edges(data=True):
            wan.add_edge(a, b, **{**d, "gbps": float(d["gbps"]) * _BANDWIDTH_RELAX})
        yield "bandwidth", scenario.with_jobs(list(scenario.jobs), wan=wan, wan_share=1.0)
    if any(site.grid_kw_max is not None for site in scenario.sites):
        sites = [site.model_copy(update={"grid_kw_max": None}) for site in scenario.sites]
        yield "grid", scenario.with_jobs(list(scenario.jobs), sites=sites)


def _describe(scenario: Scenario, reason: str, name: str, unmet_h: float) -> str:
    idx = scenario.index
    j = idx.job_pos[name]
    job = scenario.jobs[j]
    sites = [idx.site_names[s] for s in np.flatnonzero(idx.allowed[j])]
    window = f"its window (slots {int(idx.first_slot[j])}–{int(idx.end_slot[j]) - 1})"
    short = f"{unmet_h:.4g} h of its {job.work_h:g} h of work"
    if reason == "residency":
        return (
            f"residency: its allowed regions {list(job.allowed_regions or [])} have no room for "
            f"{short} in {window}; sites in other regions do"
        )
    if reason == "bandwidth":
        return (
            f"bandwidth: {short} needs a site its {job.state_gb:g} GB of state cannot reach in "
            f"time from {job.origin!r} (transfer time or link capacity shared with other moves)"
        )
    if reason == "grid":
        return f"grid: the grid_kw_max limits of {sites} leave too little energy for {short}"
    return (
        f"capacity: {short} cannot be placed in {window}: the GPUs of the sites it may use "
        f"{sites} are taken"
    )
