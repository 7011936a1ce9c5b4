"""The validator: one :class:`Violation` per broken rule of MODEL.md §5.

``validate(scenario, plan)`` returns ``[]`` for a valid plan. Rules (the ``rule`` field):

* ``one_site``        a job runs at more than one site in a slot (or twice in a slot)
* ``share``           a share is outside (0, 1]
* ``window``          a run slot outside the job's window                         (§5.1)
* ``residency``       a run at a site whose region is not allowed                  (§5.1)
* ``site_gpus``       a run at a site with fewer GPUs than the job needs           (§5.1)
* ``capacity``        Σ gpus·share at a site and slot exceeds its GPUs             (§5.2)
* ``route``           a migration between sites with no WAN route                  (§5.3)
* ``migratable``      a non-migratable job runs at more than one site              (§5.3)
* ``disruption``      a share above 1 − disruption_h/Δh in a slot a job arrives in (§5.3)
* ``link_capacity``   GB on a link in a slot exceed its capacity                   (§5.3)
* ``non_preemptible`` a non-preemptible job pauses or runs part of an inner slot   (§5.4)
* ``grid_max``        grid energy above grid_kw_max·Δh                             (§5.5)
* ``deadline``        under hard deadlines, a job not done                          (§5.6)
* ``overrun``         a job runs more than its work                                 (§5.7)
* ``dwell``           after a migration a→b the job works less than transfer_h/α at b
                      before it moves again, and is not done by then               (§5.8)
* ``reported``        the plan's migrations, energy, KPIs or objective differ from a
                      recomputation from its assignments
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.dwell import stays
from greenopt.evaluate import (
    SHARE_EPS,
    TOL,
    check_deadlines,
    evaluate,
    normalise_assignments,
    positions,
)
from greenopt.result import Plan
from greenopt.scenario import Scenario

RULES = (
    "one_site",
    "share",
    "window",
    "residency",
    "site_gpus",
    "capacity",
    "route",
    "migratable",
    "disruption",
    "link_capacity",
    "non_preemptible",
    "grid_max",
    "deadline",
    "overrun",
    "dwell",
    "reported",
)
_REL = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken rule, with where it broke and by how much."""

    rule: str
    message: str
    job: str | None = None
    site: str | None = None
    slot: int | None = None
    amount: float | None = None
    limit: float | None = None

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def _exceeds(amount: float, limit: float) -> bool:
    return amount > limit + TOL + _REL * abs(limit)


def validate(scenario: Scenario, plan: Plan, deadlines: str | None = None) -> list[Violation]:
    """Check ``plan`` against every rule of MODEL.md §5 and its reported figures."""
    deadlines = check_deadlines(deadlines or plan.deadlines)
    idx = scenario.index
    net = scenario.network
    dt = idx.dt_h
    out: list[Violation] = []
    a = plan.assignments
    # Negative shares are reported as broken rules, not refused as malformed; the rest of the
    # table is normalised like evaluate() does (unknown jobs/sites or NaN raise PlanError).
    if len(a) and "share" in a.columns:
        share = pd.to_numeric(a["share"], errors="coerce")
        for row in a[share < -SHARE_EPS].itertuples(index=False):
            out.append(
                Violation(
                    "share",
                    f"job {row.job!r} slot {row.slot}: share {row.share:g} outside (0, 1]",
                    str(row.job),
                    str(row.site),
                    int(row.slot),
                    float(row.share),
                    1.0,
                )
            )
        a = a[~(share < -SHARE_EPS)]
    a = normalise_assignments(scenario, a)

    # one site per job and slot
    dup = a[a.duplicated(["job", "slot"], keep=False)]
    for (job, slot), g in dup.groupby(["job", "slot"], sort=True):
        out.append(
            Violation(
                "one_site",
                f"job {job!r} runs {len(g)} times in slot {slot} (sites {sorted(g['site'])})",
                job=job,
                slot=int(slot),
            )
        )

    for row in a.itertuples(index=False):
        j = idx.job_pos[row.job]
        s = idx.site_pos[row.site]
        job = scenario.jobs[j]
        if not (0 < row.share <= 1 + TOL):
            out.append(
                Violation(
                    "share",
                    f"job {row.job!r} slot {row.slot}: share {row.share:g} outside (0, 1]",
                    row.job,
                    row.site,
                    row.slot,
                    row.share,
                    1.0,
                )
            )
        if not idx.in_window(j, row.slot):
            out.append(
                Violation(
                    "window",
                    f"job {row.job!r} runs in slot {row.slot}, outside its window "
                    f"[{idx.first_slot[j]}, {idx.end_slot[j]})",
                    row.job,
                    row.site,
                    row.slot,
                )
            )
        region = scenario.sites[s].region
        if job.allowed_regions is not None and region not in job.allowed_regions:
            out.append(
                Violation(
                    "residency",
                    f"job {row.job!r} runs at site {row.site!r} in region {region!r}, "
                    f"not in {list(job.allowed_regions)}",
                    row.job,
                    row.site,
                    row.slot,
                )
            )
        if idx.site_gpus[s] < job.gpus:
            out.append(
                Violation(
                    "site_gpus",
                    f"job {row.job!r} needs {job.gpus} GPUs; site {row.site!r} has "
                    f"{idx.site_gpus[s]}",
                    row.job,
                    row.site,
                    row.slot,
                    float(job.gpus),
                    float(idx.site_gpus[s]),
                )
            )

    # capacity in GPU-time per site and slot
    if len(a):
        S, T = len(idx.site_names), idx.T
        cell = positions(a["site"], idx.site_pos) * T + a["slot"].to_numpy()
        gpu_time = idx.gpus[positions(a["job"], idx.job_pos)] * a["share"].to_numpy()
        use = np.bincount(cell, weights=gpu_time, minlength=S * T)
        over = [
            (idx.site_names[k // T], k % T, float(use[k]))
            for k in np.flatnonzero(use > 0).tolist()
            if _exceeds(float(use[k]), float(idx.site_gpus[k // T]))
        ]
        for site, slot, used in sorted(over):
            cap = float(idx.site_gpus[idx.site_pos[site]])
            out.append(
                Violation(
                    "capacity",
                    f"site {site!r} slot {slot}: {used:g} GPU-slots used of {cap:g}",
                    None,
                    site,
                    int(slot),
                    used,
                    cap,
                )
            )

    # migrations recomputed from the assignments
    # recomputed under the plan's own deadline mode: checking a soft plan against hard deadlines
    # must report the misses, not a "reported" objective that differs by the unmet penalty
    recomputed = evaluate(
        scenario,
        a,
        method=plan.method,
        objective=plan.objective_spec or plan.objective_name,
        deadlines=check_deadlines(plan.deadlines),
    )
    migs = recomputed.migrations
    share_at = {(r.job, r.slot): r.share for r in a.itertuples(index=False)}
    link_gb: dict[tuple[tuple[str, str], int], float] = defaultdict(float)
    for m in migs.itertuples(index=False):
        j = idx.job_pos[m.job]
        route = net.route(m.src, m.dst)
        if route is None:
            out.append(
                Violation(
                    "route",
                    f"job {m.job!r} moves {m.src!r}→{m.dst!r} in slot "
                    f"{m.slot} but no WAN route exists",
                    m.job,
                    m.dst,
                    m.slot,
                )
            )
            continue
        limit = 1.0 - m.disruption_h / dt
        sh = share_at[(m.job, m.slot)]
        if _exceeds(sh, limit):
            out.append(
                Violation(
                    "disruption",
                    f"job {m.job!r} arrives at {m.dst!r} in slot {m.slot} with "
                    f"disruption {m.disruption_h:.4g} h but runs share {sh:.4g} > {limit:.4g}",
                    m.job,
                    m.dst,
                    m.slot,
                    sh,
                    limit,
                )
            )
        for link in net.links[(m.src, m.dst)]:
            link_gb[(link, m.slot)] += m.gb
    for (link, slot), gb in sorted(link_gb.items()):
        cap = net.link_capacity_gb[link]
        if _exceeds(gb, cap):
            out.append(
                Violation(
                    "link_capacity",
                    f"link {link[0]}–{link[1]} slot {slot}: "
                    f"{gb:.4g} GB of migrations, capacity {cap:.4g} GB",
                    None,
                    None,
                    slot,
                    gb,
                    cap,
                )
            )

    out += _check_dwell(scenario, a)

    migs_of = {name: g for name, g in migs.groupby("job", sort=False)} if len(migs) else {}
    no_migs = migs.iloc[0:0]
    for name, rows in a.groupby("job", sort=False) if len(a) else []:
        job = scenario.jobs[idx.job_pos[name]]
        if not job.migratable and rows["site"].nunique() > 1:
            out.append(
                Violation(
                    "migratable",
                    f"job {job.name!r} is not migratable but runs at "
                    f"{sorted(rows['site'].unique())}",
                    job.name,
                )
            )
        if not job.preemptible:
            out += _check_contiguous(job.name, rows, migs_of.get(name, no_migs), dt)
        done_h = float(rows["share"].sum() * dt)
        if _exceeds(done_h, job.work_h):
            out.append(
                Violation(
                    "overrun",
                    f"job {job.name!r} runs {done_h:.6g} h for {job.work_h:.6g} h of work",
                    job.name,
                    None,
                    None,
                    done_h,
                    job.work_h,
                )
            )
    if deadlines == "hard":
        for row in recomputed.jobs.itertuples(index=False):
            if not row.done:
                out.append(
                    Violation(
                        "deadline",
                        f"job {row.job!r} is not done by its deadline "
                        f"({row.unmet_h:.4g} h of work left)",
                        row.job,
                        None,
                        None,
                        float(row.unmet_h),
                        0.0,
                    )
                )

    # grid limit
    e = recomputed.energy
    for site in scenario.sites:
        if site.grid_kw_max is None:
            continue
        lim = site.grid_kw_max * dt
        over = e[(e["site"] == site.name) & (e["grid_kwh"] > lim + TOL + _REL * lim)]
        for r in over.itertuples(index=False):
            out.append(
                Violation(
                    "grid_max",
                    f"site {site.name!r} slot {r.slot}: grid "
                    f"{r.grid_kwh:.4g} kWh above limit {lim:.4g} kWh",
                    None,
                    site.name,
                    int(r.slot),
                    float(r.grid_kwh),
                    lim,
                )
            )

    out += _check_reported(plan, recomputed)
    return out


def _check_dwell(scenario: Scenario, a: pd.DataFrame) -> list[Violation]:
    """Rule 8: a stay after a migration lasts ``transfer_h/α`` hours of work, or ends the job."""
    if scenario.migration_alpha is None:
        return []
    out: list[Violation] = []
    alpha = scenario.migration_alpha
    for r in stays(scenario, a).itertuples(index=False):
        if not r.short:
            continue
        then = (
            "stops there unfinished"
            if r.end_slot == a.loc[a["job"] == r.job, "slot"].max()
            else f"moves on after slot {r.end_slot}"
        )
        out.append(
            Violation(
                "dwell",
                f"job {r.job!r} moves {r.src!r}→{r.dst!r} in slot {r.slot}, works "
                f"{r.worked_h:.4g} h at {r.dst!r} and {then}; the dwell rule needs "
                f"{r.need_h:.4g} h (transfer {r.need_h * alpha:.4g} h / α {alpha:g})",
                r.job,
                r.dst,
                int(r.slot),
                float(r.worked_h),
                float(r.need_h),
            )
        )
    return out


def _check_contiguous(
    name: str, rows: pd.DataFrame, migs: pd.DataFrame, dt: float
) -> list[Violation]:
    out: list[Violation] = []
    slots = rows["slot"].to_numpy()
    if len(slots) > 1 and np.any(np.diff(slots) != 1):
        gap_at = int(slots[np.flatnonzero(np.diff(slots) != 1)[0]])
        return [
            Violation(
                "non_preemptible",
                f"job {name!r} is not preemptible but pauses after slot {gap_at}",
                name,
                None,
                gap_at,
            )
        ]
    disruption = dict(zip(migs["slot"], migs["disruption_h"], strict=True))
    for r in rows.iloc[1:-1].itertuples(index=False):
        want = 1.0 - disruption.get(r.slot, 0.0) / dt
        if r.share < want - TOL - _REL:
            out.append(
                Violation(
                    "non_preemptible",
                    f"job {name!r} is not preemptible but runs "
                    f"share {r.share:.4g} < {want:.4g} in inner slot {r.slot}",
                    name,
                    r.site,
                    int(r.slot),
                    float(r.share),
                    want,
                )
            )
    return out


def _close(x: float, y: float, tol: float = TOL) -> bool:
    if x is None or y is None:
        return x is y
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return abs(x - y) <= tol + _REL * max(abs(x), abs(y))


def _migration_keys(migrations: pd.DataFrame) -> list[tuple[str, ...]]:
    """``(job, slot, src, dst)`` of each migration, as strings (so 3 and "3" compare equal)."""
    if not len(migrations):
        return []
    columns = [migrations[c].astype(str).tolist() for c in ("job", "slot", "src", "dst")]
    return list(zip(*columns, strict=True))


def _check_reported(plan: Plan, fresh: Plan) -> list[Violation]:
    """The plan's tables and KPIs must be what its assignments imply."""
    out: list[Violation] = []
    got, want = _migration_keys(plan.migrations), _migration_keys(fresh.migrations)
    if sorted(got) != sorted(want):
        out.append(
            Violation(
                "reported",
                f"plan lists {len(got)} migrations; its assignments "
                f"imply {len(want)} ({sorted(set(want) ^ set(got))[:3]} differ)",
            )
        )
    cols = ["facility_kwh", "renewable_kwh", "grid_kwh", "curtailed_kwh", "carbon_kg", "cost"]
    if len(plan.energy) != len(fresh.energy):
        out.append(
            Violation("reported", "plan's energy table does not have one row per site and slot")
        )
    else:
        mine = plan.energy.sort_values(["site", "slot"]).reset_index(drop=True)
        ref = fresh.energy.sort_values(["site", "slot"]).reset_index(drop=True)
        for c in cols:
            diff = np.abs(mine[c].to_numpy(float) - ref[c].to_numpy(float))
            tol = TOL + _REL * np.abs(ref[c].to_numpy(float))
            if np.any(diff > tol):
                i = int(np.argmax(diff - tol))
                out.append(
                    Violation(
                        "reported",
                        f"energy column {c!r} at site {ref['site'][i]!r} slot "
                        f"{ref['slot'][i]}: reported {mine[c][i]:.6g}, recomputed {ref[c][i]:.6g}",
                        None,
                        str(ref["site"][i]),
                        int(ref["slot"][i]),
                        float(mine[c][i]),
                        float(ref[c][i]),
                    )
                )
    for k, v in fresh.kpis.items():
        if k not in plan.kpis:
            out.append(Violation("reported", f"KPI {k!r} is missing from the plan"))
        elif not _close(float(plan.kpis[k]), float(v), tol=1e-5):
            out.append(
                Violation(
                    "reported",
                    f"KPI {k!r}: reported {plan.kpis[k]:.6g}, recomputed {v:.6g}",
                    amount=float(plan.kpis[k]),
                    limit=float(v),
                )
            )
    return out
