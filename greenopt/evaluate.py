"""One evaluator: assignments ``(job, slot, site, share)`` → the full :class:`Plan`.

Every method's only product is an assignments table; this module derives migrations (MODEL.md §5),
per-site energy, carbon and cost (§6), the job table, KPIs and scorecard (§8) and the objective
(§7), so every method is scored the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import PlanError
from greenopt.objectives import Objective, lateness_weights
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.scenario.index import positions

ASSIGNMENT_COLUMNS = ["job", "slot", "site", "share"]
#: Shares below this are solver noise and dropped before evaluation.
SHARE_EPS = 1e-7
#: Absolute tolerance on shares and energies (MODEL.md §5).
TOL = 1e-6
DEADLINES = ("soft", "hard")
#: A run row doing less work than this (hours) is a *short run* unless it is the job's last
#: (MODEL.md §8 plausibility: 5 minutes).
SHORT_RUN_H = 5.0 / 60.0


def normalise_assignments(scenario: Scenario, assignments: Any) -> pd.DataFrame:
    """A clean ``job, slot, site, share`` table sorted by job (scenario order) then slot.

    Raises :class:`PlanError` naming the job or site for unknown names, bad slots or shares
    (NaN, infinite or negative beyond solver noise). Shares in ``[-SHARE_EPS, SHARE_EPS]`` are
    solver noise and dropped. Duplicate (job, slot) rows are kept: the validator reports them.
    """
    return _normalise(scenario, assignments)[0]


#: (job, site) positions (``ScenarioIndex.job_pos`` / ``site_pos``) of an assignments table's rows
Rows = tuple[np.ndarray, np.ndarray]


def _normalise(scenario: Scenario, assignments: Any) -> tuple[pd.DataFrame, Rows]:
    """:func:`normalise_assignments`, and the positions of its rows' jobs and sites (which the
    evaluation's tables would otherwise each look up again)."""
    if isinstance(assignments, pd.DataFrame):
        df = assignments
    else:
        if isinstance(assignments, str | bytes) or not isinstance(assignments, Iterable):
            raise PlanError(
                "assignments must be a DataFrame or an iterable of rows (job, slot, site, share), "
                f"got {type(assignments).__name__}"
            )
        rows = list(assignments)
        for i, row in enumerate(rows):
            ok = isinstance(row, dict) or (
                isinstance(row, list | tuple | np.ndarray) and len(row) == len(ASSIGNMENT_COLUMNS)
            )
            if not ok:
                raise PlanError(
                    f"assignments row {i} ({row!r}) must be a mapping or a 4-tuple "
                    f"{tuple(ASSIGNMENT_COLUMNS)}"
                )
        df = (
            pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
            if rows
            else pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
        )
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in df.columns]
    if missing:
        raise PlanError(
            f"assignments table lacks column(s) {missing}; needs {ASSIGNMENT_COLUMNS}, "
            f"has {[str(c) for c in df.columns]}"
        )
    df = df[ASSIGNMENT_COLUMNS].copy()
    idx = scenario.index
    df["job"] = df["job"].astype(str)
    df["site"] = df["site"].astype(str)
    # the distinct names first: iterating a pyarrow string column row by row is slow
    unknown_jobs = sorted(set(df["job"].unique()) - set(idx.job_pos))
    if unknown_jobs:
        raise PlanError(f"assignments name unknown job(s) {unknown_jobs[:5]}")
    unknown_sites = sorted(set(df["site"].unique()) - set(idx.site_pos))
    if unknown_sites:
        raise PlanError(f"assignments name unknown site(s) {unknown_sites[:5]}")
    share = pd.to_numeric(df["share"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(share) | (share < -SHARE_EPS)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        row = df.iloc[k]
        raise PlanError(
            f"job {row['job']!r} slot {_plain(row['slot'])}: share {_plain(row['share'])!r} "
            "is not a number in (0, 1]"
        )
    slot = pd.to_numeric(df["slot"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(slot) | (slot != np.round(slot)) | (slot < 0) | (slot >= idx.T)
    if bad.any():
        row = df.iloc[int(np.flatnonzero(bad)[0])]
        raise PlanError(
            f"job {row['job']!r}: slot {_plain(row['slot'])!r} is not a slot of the horizon "
            f"(0 to {idx.T - 1})"
        )
    df["slot"] = slot.astype(np.int64)
    df["share"] = share
    df = df[df["share"] > SHARE_EPS]
    # by job (in scenario order), then slot; stable, so duplicate rows keep their order
    job = positions(df["job"], idx.job_pos)
    order = np.lexsort((df["slot"].to_numpy(), job))
    site = positions(df["site"], idx.site_pos)
    return df.take(order).reset_index(drop=True), (job[order], site[order])


def _positions_of(scenario: Scenario, assignments: pd.DataFrame, rows: Rows | None) -> Rows:
    """``rows`` when given (by :func:`evaluate`), else the positions looked up."""
    if rows is not None:
        return rows
    idx = scenario.index
    return positions(assignments["job"], idx.job_pos), positions(assignments["site"], idx.site_pos)


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python value (so messages read ``4``, not ``np.int64(4)``)."""
    return x.item() if isinstance(x, np.generic) else x


def check_deadlines(deadlines: Any) -> str:
    """``"soft"`` or ``"hard"``; anything else is a :class:`PlanError` naming it."""
    if deadlines not in DEADLINES:
        raise PlanError(f"deadlines must be 'soft' or 'hard', got {deadlines!r}")
    return deadlines


def derive_migrations(
    scenario: Scenario, assignments: pd.DataFrame, *, rows: Rows | None = None
) -> pd.DataFrame:
    """Migrations implied by the run slots (MODEL.md §5).

    The job's state starts at its origin; each run at a site other than the previous run's (or
    the origin before the first run) is a migration in that slot.
    """
    idx = scenario.index
    net = scenario.network
    if assignments.empty:
        # typed even when empty, so sums and comparisons behave like a non-empty table's
        return pd.DataFrame(
            {
                "job": pd.Series(dtype=object),
                "slot": pd.Series(dtype=np.int64),
                "src": pd.Series(dtype=object),
                "dst": pd.Series(dtype=object),
                "gb": pd.Series(dtype=float),
                "disruption_h": pd.Series(dtype=float),
            }
        )
    j, s = _positions_of(scenario, assignments, rows)
    first_of_job = np.r_[True, j[1:] != j[:-1]]
    prev = np.where(first_of_job, idx.origin[j], np.r_[-1, s[:-1]])
    moved = prev != s
    jm, src, dst = j[moved], prev[moved], s[moved]
    names = np.array(idx.site_names, dtype=object)
    return pd.DataFrame(
        {
            "job": assignments["job"].to_numpy()[moved],
            "slot": assignments["slot"].to_numpy()[moved],
            "src": names[src],
            "dst": names[dst],
            "gb": idx.state_gb[jm],
            "disruption_h": net.disruption_h[jm, src, dst],
        }
    )


def energy_table(
    scenario: Scenario,
    assignments: pd.DataFrame,
    migrations: pd.DataFrame,
    *,
    rows: Rows | None = None,
) -> pd.DataFrame:
    """Per site and slot energy, carbon and cost, renewable first (MODEL.md §6).

    A site's ``reserved_kw`` (power drawn by work outside the plan, docs/operate.md) is part of
    its facility energy, so renewable-first accounting and the grid limit see the whole site.
    """
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    job_kw = np.zeros((S, T))
    if not assignments.empty:
        j, s = _positions_of(scenario, assignments, rows)
        t = assignments["slot"].to_numpy()
        np.add.at(job_kw, (s, t), idx.power_kw[j] * assignments["share"].to_numpy())
    mig_kwh = np.zeros((S, T))
    if not migrations.empty:
        d = positions(migrations["dst"], idx.site_pos)
        t = migrations["slot"].to_numpy().astype(np.int64)
        np.add.at(mig_kwh, (d, t), migrations["gb"].to_numpy(dtype=float) * scenario.net_kwh_per_gb)
    facility = idx.pue[:, None] * (idx.idle_kw[:, None] * dt + job_kw * dt) + mig_kwh
    facility = facility + idx.reserved_kw * dt  # work outside the plan (Site.reserved_kw)
    available = idx.renewable_kw * dt
    renewable = np.minimum(facility, available)
    grid = facility - renewable
    return pd.DataFrame(
        {
            "site": np.repeat(np.array(idx.site_names, dtype=object), T),
            "slot": np.tile(np.arange(T), S),
            "facility_kwh": facility.ravel(),
            "renewable_kwh": renewable.ravel(),
            "grid_kwh": grid.ravel(),
            "curtailed_kwh": (available - renewable).ravel(),
            "carbon_kg": (grid * idx.carbon / 1000.0).ravel(),
            "cost": (grid * idx.price).ravel(),
        }
    )


def job_table(
    scenario: Scenario,
    assignments: pd.DataFrame,
    migrations: pd.DataFrame,
    *,
    rows: Rows | None = None,
) -> pd.DataFrame:
    """Per job: done, first/last run slot, completion, delay and migrations (MODEL.md §8)."""
    idx = scenario.index
    J, dt = len(idx.job_names), idx.dt_h
    work_done = np.zeros(J)
    start = np.full(J, -1, dtype=np.int64)
    end = np.full(J, -1, dtype=np.int64)
    last_share = np.zeros(J)
    if not assignments.empty:
        j = _positions_of(scenario, assignments, rows)[0]
        t = assignments["slot"].to_numpy()
        sh = assignments["share"].to_numpy()
        np.add.at(work_done, j, sh * dt)
        # rows are sorted by job then slot: the first/last row of each job's run
        first = np.r_[True, j[1:] != j[:-1]]
        last = np.r_[j[1:] != j[:-1], True]
        start[j[first]] = t[first]
        end[j[last]] = t[last]
        last_share[j[last]] = sh[last]
    n_mig = np.zeros(J, dtype=np.int64)
    if not migrations.empty:
        np.add.at(n_mig, positions(migrations["job"], idx.job_pos), 1)
    ran = start >= 0
    done = work_done >= idx.work_h - TOL * np.maximum(1.0, idx.work_h)
    completion = np.where(ran, end * dt + last_share * dt, np.nan)
    delay = np.where(done, completion - (idx.release_h + idx.work_h), np.nan)
    return pd.DataFrame(
        {
            "job": list(idx.job_names),
            "kind": [job.kind for job in scenario.jobs],
            "done": done,
            "start_slot": np.where(ran, start, -1),
            "end_slot": np.where(ran, end, -1),
            "delay_h": delay,
            "migrations": n_mig,
            "work_done_h": work_done,
            "unmet_h": np.maximum(0.0, idx.work_h - work_done),
            "completion_h": completion,
            "deferred": ~ran | (start > idx.first_slot),
        }
    )


def short_run_rows(assignments: pd.DataFrame, dt_h: float) -> np.ndarray:
    """(rows,) bool: run rows with ``share·Δh`` under 5 minutes that are not their job's last
    run slot (MODEL.md §8 ``short_runs``). ``assignments`` sorted by job, then slot."""
    if assignments.empty:
        return np.zeros(0, dtype=bool)
    job = assignments["job"].to_numpy()
    last = np.r_[job[1:] != job[:-1], True]
    hours = assignments["share"].to_numpy(dtype=float) * dt_h
    return (hours < SHORT_RUN_H - 1e-12) & ~last


def kpi_totals(
    energy: pd.DataFrame,
    jobs: pd.DataFrame,
    migrations: pd.DataFrame,
    short_runs: int = 0,
) -> dict[str, float]:
    """The totals of MODEL.md §8 (``short_runs``: from :func:`short_run_rows`)."""
    facility = float(energy["facility_kwh"].sum())
    renewable = float(energy["renewable_kwh"].sum())
    delays = jobs.loc[jobs["done"], "delay_h"].to_numpy(dtype=float)
    return {
        "grid_kwh": float(energy["grid_kwh"].sum()),
        "renewable_kwh": renewable,
        "facility_kwh": facility,
        "renewable_share": renewable / facility if facility > 0 else 0.0,
        "curtailed_kwh": float(energy["curtailed_kwh"].sum()),
        "carbon_kg": float(energy["carbon_kg"].sum()),
        "cost": float(energy["cost"].sum()),
        "jobs": len(jobs),
        "jobs_done": int(jobs["done"].sum()),
        "deadline_misses": int((~jobs["done"]).sum()),
        "unmet_work_h": float(jobs["unmet_h"].sum()),
        "migrations": len(migrations),
        "migrated_gb": float(migrations["gb"].sum()) if len(migrations) else 0.0,
        "migrations_per_job": len(migrations) / len(jobs) if len(jobs) else 0.0,
        "short_runs": int(short_runs),
        "mean_delay_h": float(delays.mean()) if delays.size else 0.0,
        "p95_delay_h": float(np.percentile(delays, 95)) if delays.size else 0.0,
    }


def scorecard(
    scenario: Scenario,
    assignments: pd.DataFrame,
    migrations: pd.DataFrame,
    energy: pd.DataFrame,
    jobs: pd.DataFrame,
    short: np.ndarray | None = None,
    *,
    rows: Rows | None = None,
) -> pd.DataFrame:
    """Per job kind and overall: carbon and cost per 1,000 jobs, SLA, deferred-on-time, and the
    plausibility figures ``short_runs`` and ``migrations_per_job`` (``short``: the mask of
    :func:`short_run_rows` over ``assignments``; computed when not given).

    Each site-slot's carbon and cost are attributed to the jobs there in proportion to the
    facility energy each caused (its power share and its arriving migrations); idle load is not
    attributed to any kind, so the ``all`` row (which includes it) is more than the sum of kinds.
    """
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    J = len(idx.job_names)
    job_carbon = np.zeros(J)
    job_cost = np.zeros(J)
    fac = energy["facility_kwh"].to_numpy().reshape(S, T)
    carb = energy["carbon_kg"].to_numpy().reshape(S, T)
    cost = energy["cost"].to_numpy().reshape(S, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        carbon_per_kwh = np.where(fac > 0, carb / fac, 0.0)
        cost_per_kwh = np.where(fac > 0, cost / fac, 0.0)
    if not assignments.empty:
        j, s = _positions_of(scenario, assignments, rows)
        t = assignments["slot"].to_numpy()
        kwh = idx.pue[s] * idx.power_kw[j] * assignments["share"].to_numpy() * dt
        np.add.at(job_carbon, j, kwh * carbon_per_kwh[s, t])
        np.add.at(job_cost, j, kwh * cost_per_kwh[s, t])
    if not migrations.empty:
        j = positions(migrations["job"], idx.job_pos)
        d = positions(migrations["dst"], idx.site_pos)
        t = migrations["slot"].to_numpy().astype(np.int64)
        kwh = migrations["gb"].to_numpy(dtype=float) * scenario.net_kwh_per_gb
        np.add.at(job_carbon, j, kwh * carbon_per_kwh[d, t])
        np.add.at(job_cost, j, kwh * cost_per_kwh[d, t])
    kinds = jobs["kind"].to_numpy(dtype=object).astype(str)
    names, kind_of = np.unique(kinds, return_inverse=True)  # sorted, as groupby(sort=True)
    done = jobs["done"].to_numpy(dtype=bool)
    deferred = jobs["deferred"].to_numpy(dtype=bool)
    K = len(names)
    # one row per kind, then the overall row (index K): every job counts in both
    group = np.concatenate([kind_of, np.full(J, K)])
    n = np.bincount(group, minlength=K + 1)
    carbon = np.bincount(kind_of, weights=job_carbon, minlength=K)
    cost = np.bincount(kind_of, weights=job_cost, minlength=K)
    n_done = np.bincount(group, weights=np.tile(done, 2).astype(float), minlength=K + 1)
    n_deferred = np.bincount(group, weights=np.tile(deferred, 2).astype(float), minlength=K + 1)
    deferred_done = np.bincount(
        group, weights=np.tile(deferred & done, 2).astype(float), minlength=K + 1
    )
    if short is None:
        short = short_run_rows(assignments, dt)
    short_of_job = np.zeros(J)
    if short.any():
        job = rows[0][short] if rows else positions(assignments["job"][short], idx.job_pos)
        np.add.at(short_of_job, job, 1.0)
    n_mig = jobs["migrations"].to_numpy(dtype=float)
    short_runs = np.bincount(group, weights=np.tile(short_of_job, 2), minlength=K + 1)
    migrations_n = np.bincount(group, weights=np.tile(n_mig, 2), minlength=K + 1)
    # the overall row carries the whole energy table's carbon and cost (idle load included)
    carbon = np.append(carbon, float(energy["carbon_kg"].sum()))
    cost = np.append(cost, float(energy["cost"].sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_job = np.where(n > 0, 1000.0 / np.maximum(n, 1), 0.0)
        return pd.DataFrame(
            {
                "kind": [*names.tolist(), "all"],
                "jobs": n.astype(np.int64),
                "carbon_kg_per_1000_jobs": carbon * per_job,
                "cost_per_1000_jobs": cost * per_job,
                "sla_attainment": np.where(n > 0, n_done / np.maximum(n, 1), 1.0),
                "deferred_jobs": n_deferred.astype(np.int64),
                "deferred_on_time": np.where(
                    n_deferred > 0, deferred_done / np.maximum(n_deferred, 1), np.nan
                ),
                "short_runs": short_runs.astype(np.int64),
                "migrations_per_job": np.where(n > 0, migrations_n / np.maximum(n, 1), 0.0),
            }
        )


def objective_value(
    scenario: Scenario,
    objective: Objective,
    assignments: pd.DataFrame,
    energy: pd.DataFrame,
    jobs: pd.DataFrame,
    n_migrations: int,
    deadlines: str = "soft",
    *,
    rows: Rows | None = None,
) -> float:
    """The objective of MODEL.md §7 as defined in :mod:`greenopt.objectives`."""
    idx = scenario.index
    S, T = len(idx.site_names), idx.T
    grid = energy["grid_kwh"].to_numpy().reshape(S, T)
    value = float((objective.grid_coef(scenario) * grid).sum())
    lateness = np.zeros(len(idx.job_names))
    if not assignments.empty:
        j = _positions_of(scenario, assignments, rows)[0]
        t = assignments["slot"].to_numpy()
        np.add.at(lateness, j, lateness_weights(scenario)[j, t] * assignments["share"].to_numpy())
    value += float((objective.lateness_coef(scenario) * lateness).sum())
    value += objective.migration_penalty * n_migrations
    if deadlines == "soft":
        value += objective.unmet_penalty(scenario) * float(jobs["unmet_h"].sum())
    return value


def evaluate(
    scenario: Scenario,
    assignments: Any,
    *,
    method: str = "custom",
    objective: str | Objective = "carbon",
    deadlines: str = "soft",
    status: str = "heuristic",
    **facts: Any,
) -> Plan:
    """Turn any assignments table into the full :class:`Plan`, scored like every other."""
    deadlines = check_deadlines(deadlines)
    obj = Objective.of(objective)
    a, rows = _normalise(scenario, assignments)  # rows: looked up once for every table
    migrations = derive_migrations(scenario, a, rows=rows)
    energy = energy_table(scenario, a, migrations, rows=rows)
    jobs = job_table(scenario, a, migrations, rows=rows)
    short = short_run_rows(a, scenario.index.dt_h)
    kpis = kpi_totals(energy, jobs, migrations, int(short.sum()))
    kpis["objective"] = objective_value(
        scenario, obj, a, energy, jobs, len(migrations), deadlines, rows=rows
    )
    score = scorecard(scenario, a, migrations, energy, jobs, short, rows=rows)
    starts = scenario.horizon.slot_starts
    return Plan(
        assignments=with_slot_time(a, starts),
        migrations=with_slot_time(migrations, starts),
        energy=with_slot_time(energy, starts),
        jobs=jobs,
        kpis=kpis,
        scorecard=score,
        method=method,
        status=status,
        objective_name=obj.name,
        objective_spec=obj,
        deadlines=deadlines,
        objective=kpis["objective"],
        currency=scenario.currency,
        **facts,
    )


def with_slot_time(table: pd.DataFrame, starts: pd.DatetimeIndex) -> pd.DataFrame:
    """``table`` with a last column ``time``: the start of each row's ``slot`` (tz-aware)."""
    table["time"] = starts.take(table["slot"].to_numpy(dtype=np.int64))
    return table
