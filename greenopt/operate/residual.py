"""The residual problem at decision slot ``k``: what is left to decide, as a plain Scenario.

At the start of slot ``k`` the operator knows the actuals of slots ``< k``, the forecasts issued
by then, the jobs released so far, and what it has committed (a :class:`~.ledger.Ledger`). The
residual problem is a valid :class:`~greenopt.scenario.Scenario`, so every method plans it
unchanged:

* **horizon** — slots ``k..T-1`` of the full one (start shifted, ``T − k`` slots);
* **signals** — per site, what is known at ``k`` of slots ``≥ k``
  (:func:`greenopt.forecasts.known_signals`: forecasts; the actuals of slots ``< k`` are not in
  the residual horizon at all);
* **capacity already taken** — committed rows in slots ``≥ k`` (a pause-free block, or a stay
  committed until its dwell is paid, see :mod:`.commit`) reserve their GPU-time and power
  (``Site.reserved_gpus``, ``Site.reserved_kw``) and their migrations' link GB
  (``Scenario.reserved_link_gb``);
* **jobs** — each known job that can still run: ``work_h`` = its remaining work (capped at the
  whole slots left in its window: a scenario refuses more, and it will miss anyway), ``origin`` =
  the site of its last committed run (where its state is; MODEL.md §5 derives the next migration
  from there), ``release`` = the start of the first slot it may use (``k``, or after its rows
  committed ahead), the same deadline and every other field. A pause-free job that has started
  is not there: its whole block was committed when it started. A job that is not migratable and
  has run is pinned to its site: the residual gives every site a region of its own (its name)
  and the job that one region; every other job's ``allowed_regions`` becomes the names of the
  sites it allowed, so residency is unchanged.

The residual's plan maps back to the full horizon by adding ``k`` to its slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.forecasts import KnownSignals
from greenopt.operate.ledger import LEFT_TOL_H, Ledger
from greenopt.scenario import Job, Scenario, Site


@dataclass(frozen=True)
class Residual:
    """The residual problem at decision slot ``k`` and how it maps to the full horizon.

    ``jobs`` are the full scenario's positions of the residual's jobs; ``work_h`` the work each
    was given (its remaining work, or less when capped to its window); ``capped`` the jobs whose
    work was capped.
    """

    k: int
    scenario: Scenario
    jobs: np.ndarray
    work_h: np.ndarray
    capped: np.ndarray

    def to_full(self, assignments: pd.DataFrame) -> pd.DataFrame:
        """A residual plan's ``job, slot, site, share`` rows on the full horizon's slots."""
        out = assignments[["job", "slot", "site", "share"]].copy()
        out["slot"] = out["slot"].to_numpy(dtype=np.int64) + self.k
        return out


def residual_problem(
    scenario: Scenario,
    ledger: Ledger,
    known: KnownSignals,
    k: int,
    visible: np.ndarray,
) -> Residual:
    """The residual problem of ``scenario`` at decision slot ``k`` (see the module docstring).

    ``known``: the signals known at ``k``; ``visible``: (J,) bool, the jobs known at ``k``.
    """
    idx = scenario.index
    h = scenario.horizon
    T, dt = idx.T, idx.dt_h
    starts = h.slot_starts
    reserved = ledger.reserved_from(k)
    sites = []
    for i, site in enumerate(scenario.sites):
        data = {name: getattr(site, name) for name in Site.model_fields}
        data.update(
            region=site.name,  # a region of its own: residency by site (see the docstring)
            renewable_kw=known.renewable_kw[i, k:],
            carbon=known.carbon[i, k:],
            price=known.price[i, k:],
            # what the scenario itself reserves, and what the committed rows take
            reserved_gpus=_or_none(idx.reserved_gpus[i, k:] + reserved.gpus[i]),
            reserved_kw=_or_none(idx.reserved_kw[i, k:] + reserved.kw[i]),
        )
        sites.append(Site(**data))
    regions = [s.region for s in scenario.sites]
    jobs: list[Job] = []
    picked: list[int] = []
    work: list[float] = []
    capped: list[bool] = []
    for j, job in enumerate(scenario.jobs):
        if not visible[j] or ledger.closed(j):
            continue
        first = max(k, int(ledger.last_slot[j]) + 1, int(idx.first_slot[j]))
        end = int(idx.end_slot[j])
        if end <= first:
            continue  # its window is over: what is left of it is a miss
        left = ledger.remaining_h(j)
        window_h = (end - first) * dt
        given = min(left, window_h)
        if given <= LEFT_TOL_H:
            continue
        data = job.model_dump()
        data.update(
            origin=idx.site_names[int(ledger.last_site[j])],
            release=starts[first].to_pydatetime(),
            work_h=given,
        )
        if not job.migratable and ledger.ran(j):
            data["allowed_regions"] = (idx.site_names[int(ledger.last_site[j])],)
        elif job.allowed_regions is not None:
            data["allowed_regions"] = tuple(
                s.name
                for s, r in zip(scenario.sites, regions, strict=True)
                if r in job.allowed_regions
            )
        jobs.append(Job(**data))
        picked.append(j)
        work.append(given)
        capped.append(given < left - LEFT_TOL_H)
    link_gb = {lk: gb[k:].copy() for lk, gb in idx.reserved_link_gb.items()}
    for lk, gb in reserved.link_gb.items():
        link_gb[lk] = link_gb.get(lk, 0.0) + gb
    fields = {name: getattr(scenario, name) for name in Scenario.model_fields}
    fields.update(
        name=f"{scenario.name}@{k}",
        horizon={
            "start": starts[k].to_pydatetime(),
            "slot_minutes": h.slot_minutes,
            "slots": T - k,
        },
        sites=sites,
        jobs=jobs,
        forecasts=None,  # the residual's signals are already what is known at k
        reserved_link_gb={lk: gb for lk, gb in link_gb.items() if gb.any()} or None,
    )
    res = Scenario(**fields)
    return Residual(
        k=k,
        scenario=res,
        jobs=np.array(picked, dtype=np.int64),
        work_h=np.array(work, dtype=float),
        capped=np.array(capped, dtype=bool),
    )


def _or_none(a: np.ndarray) -> np.ndarray | None:
    return a if a.any() else None
