"""Warnings about a valid scenario: things that are allowed but probably not what was meant.

:func:`check_scenario` never raises for these (errors are raised when the scenario is built, see
:func:`greenopt.scenario.check_consistency`); it returns one :class:`Issue` per finding, so a user
or the CLI can show them before planning. Codes:

* ``no_gpus``        a site has zero GPUs: no job can ever run there.
* ``no_surplus``     a site's renewable power never exceeds its idle facility load
                     ``pue · idle_kw``: work moved there never runs on renewables.
* ``must_move``      a job's origin is not a site it may run at (region not allowed or too few
                     GPUs): it can meet its deadline only away from its origin, so its state must
                     move first (once, if it is not migratable).
* ``stranded``       a ``must_move`` job whose state cannot reach any allowed site within one
                     slot: it can never run (a deadline miss under soft deadlines, infeasible
                     under hard ones).
* ``never_migrates`` a migratable job whose state cannot leave its origin within one slot over
                     any route, ``disruption_h(origin, b) ≥ Δh`` for every other allowed site
                     ``b`` (MODEL.md §5): it will in fact never migrate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from greenopt.scenario.models import Scenario

#: Shares at or below this after a move leave no room to run (MODEL.md §5 tolerance).
_MIN_SHARE = 1e-6


@dataclass(frozen=True)
class Issue:
    """One finding: ``level`` is ``"warning"``; ``culprit`` names the site or job."""

    level: str
    code: str
    message: str
    culprit: str | None = None

    def __str__(self) -> str:
        return f"{self.level}: [{self.code}] {self.message}"


def check_scenario(scenario: Scenario) -> list[Issue]:
    """Warnings that are not errors (see the module docstring), sites first, then jobs."""
    idx = scenario.index
    net = scenario.network
    out: list[Issue] = []

    for i, site in enumerate(scenario.sites):
        if idx.site_gpus[i] == 0:
            out.append(
                Issue(
                    "warning",
                    "no_gpus",
                    f"site {site.name!r} has 0 GPUs: no job can run there",
                    site.name,
                )
            )
        idle_load = idx.pue[i] * idx.idle_kw[i]
        if not np.any(idx.renewable_kw[i] > idle_load + 1e-9):
            out.append(
                Issue(
                    "warning",
                    "no_surplus",
                    f"site {site.name!r}: renewable power (max "
                    f"{float(idx.renewable_kw[i].max(initial=0.0)):g} kW) never exceeds its idle "
                    f"load pue·idle_kw = {idle_load:g} kW, so work there never runs on renewables",
                    site.name,
                )
            )

    names = idx.site_names
    for j, job in enumerate(scenario.jobs):
        o = int(idx.origin[j])
        allowed = np.flatnonzero(idx.allowed[j])
        # (S,) share left in the slot the job arrives in, from its origin; ≤ 0: cannot move
        room = net.max_share_after_move(j)[o]
        movable = [int(b) for b in allowed if b != o and room[b] > _MIN_SHARE]
        if not idx.allowed[j, o]:
            why = _why_not_allowed(scenario, j, o)
            if movable:
                out.append(
                    Issue(
                        "warning",
                        "must_move",
                        f"job {job.name!r} cannot run at its origin {names[o]!r} ({why}): it "
                        f"can meet its deadline only at {[names[b] for b in movable]}, after "
                        f"moving its {job.state_gb:g} GB of state"
                        + ("" if job.migratable else " (once: it is not migratable)"),
                        job.name,
                    )
                )
            else:
                out.append(
                    Issue(
                        "warning",
                        "stranded",
                        f"job {job.name!r} cannot run at its origin {names[o]!r} ({why}) and "
                        f"its {job.state_gb:g} GB of state cannot reach any allowed site "
                        f"{[names[b] for b in allowed]} within one slot: it can never run",
                        job.name,
                    )
                )
            continue
        others = [int(b) for b in allowed if b != o]
        if job.migratable and others and not movable:
            fastest = min(others, key=lambda b: (net.disruption_h[j, o, b], names[b]))
            d = float(net.disruption_h[j, o, fastest])
            how = "no WAN route" if np.isinf(d) else f"{d:.3g} h"
            out.append(
                Issue(
                    "warning",
                    "never_migrates",
                    f"job {job.name!r}: moving its {job.state_gb:g} GB of state from "
                    f"{names[o]!r} takes at least {how} (to {names[fastest]!r}), not less than a "
                    f"slot ({idx.dt_h:g} h): it can never migrate",
                    job.name,
                )
            )
    return out


def _why_not_allowed(scenario: Scenario, j: int, s: int) -> str:
    job = scenario.jobs[j]
    site = scenario.sites[s]
    reasons = []
    if job.allowed_regions is not None and site.region not in job.allowed_regions:
        reasons.append(f"region {site.region!r} not in {list(job.allowed_regions)}")
    if site.gpus < job.gpus:
        reasons.append(f"it has {site.gpus} GPUs, the job needs {job.gpus}")
    return "; ".join(reasons)
