"""One benchmark run: plan an instance with one method (and solver), validate it, measure it.

:func:`run_one` returns one row of the tidy results table (columns :data:`COLUMNS`): the
instance's facts, the run's status and validity, every KPI of MODEL.md §8 (totals and the
overall scorecard), the solver facts (objective, bound, gap, build/solve/wall seconds), the peak
memory and, for HiGHS, the path of its log. A method that raises is a row too (``status
"error"``, ``valid`` False, the exception in ``error``): one broken method never stops a suite.
"""

from __future__ import annotations

import json
import math
import traceback
from pathlib import Path
from typing import Any

from benchmarks.harness.memory import PeakMemory
from benchmarks.harness.suites import Instance, Run, SuiteOptions
from greenopt.scenario import Scenario

#: MODEL.md §8 totals copied from ``plan.kpis``.
KPI_COLUMNS = [
    "grid_kwh",
    "renewable_kwh",
    "facility_kwh",
    "renewable_share",
    "curtailed_kwh",
    "carbon_kg",
    "cost",
    "jobs_done",
    "deadline_misses",
    "unmet_work_h",
    "migrations",
    "migrated_gb",
    "migrations_per_job",
    "short_runs",
    "mean_delay_h",
    "p95_delay_h",
]
#: MODEL.md §8 scorecard, the ``all`` row.
SCORECARD_COLUMNS = [
    "carbon_kg_per_1000_jobs",
    "cost_per_1000_jobs",
    "sla_attainment",
    "deferred_on_time",
]
COLUMNS = [
    "suite",
    "instance",
    "family",
    "day",
    "seed",
    "method",
    "solver",
    "label",
    "sites",
    "jobs",
    "slots",
    "size",
    "gbps",
    "status",
    "valid",
    "violations",
    "error",
    *KPI_COLUMNS,
    *SCORECARD_COLUMNS,
    "objective",
    "bound",
    "gap",
    "time_limit",
    "mip_gap",
    "time_to_gap_s",
    "build_s",
    "solve_s",
    "wall_s",
    "peak_rss_mb",
    "scenario_build_s",
    "solver_version",
    "carbon_cut_vs_run_now",
    "grid_cut_vs_run_now",
    "log_file",
    "history",
    "notes",
]


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def instance_facts(suite: str, inst: Instance, sc: Scenario | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "suite": suite,
        "instance": inst.name,
        "family": inst.family,
        "day": inst.facts.get("day"),
        "seed": inst.seed,
        "gbps": inst.facts.get("gbps"),
    }
    if sc is not None:
        row.update(sites=len(sc.sites), jobs=len(sc.jobs), slots=sc.horizon.slots)
        row["size"] = row["sites"] * row["jobs"] * row["slots"]
    return row


def _plan_kwargs(run: Run, options: SuiteOptions, time_limit: float, seed: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"objective": options.objective, "seed": seed}
    if run.method == "milp":
        kwargs.update(
            solver=run.solver or "highs",
            time_limit=time_limit,
            mip_gap=options.mip_gap,
            threads=options.threads,
        )
    return kwargs


def run_one(
    suite: str,
    inst: Instance,
    sc: Scenario,
    run: Run,
    options: SuiteOptions,
    time_limit: float,
    log_dir: Path,
) -> dict[str, Any]:
    """Plan ``sc`` with ``run``, validate, and return the row (see the module docstring)."""
    import greenopt

    row = instance_facts(suite, inst, sc)
    row.update(method=run.method, solver=run.solver, label=run.label)
    kwargs = _plan_kwargs(run, options, time_limit, inst.seed)
    if run.method == "milp":
        row.update(time_limit=time_limit, mip_gap=options.mip_gap)
        if (run.solver or "highs") == "highs":
            log = log_dir / f"{inst.name}-seed{inst.seed}-{run.label.replace('/', '-')}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.unlink(missing_ok=True)  # HiGHS appends to its log file
            kwargs["log_file"] = str(log)
            row["log_file"] = str(log)
    mem = PeakMemory()
    try:
        with mem:
            p = greenopt.plan(sc, run.method, **kwargs)
        violations = greenopt.validate(sc, p)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a broken method is a finding, not the end of the suite
        last = traceback.extract_tb(exc.__traceback__)[-1]
        row.update(
            status="error",
            valid=False,
            error=f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})",
            peak_rss_mb=mem.peak_mb,
        )
        return row
    row.update(
        status=p.status,
        valid=not violations,
        violations=len(violations),
        error="; ".join(str(v) for v in violations[:5]) if violations else None,
    )
    for k in KPI_COLUMNS:
        row[k] = _finite(p.kpis.get(k))
    overall = p.scorecard[p.scorecard["kind"] == "all"]
    if len(overall):
        for k in SCORECARD_COLUMNS:
            row[k] = _finite(overall.iloc[0].get(k))
    row.update(
        objective=_finite(p.objective),
        bound=_finite(p.bound),
        gap=_finite(p.gap),
        build_s=p.build_s,
        solve_s=p.solve_s,
        wall_s=p.wall_s,
        peak_rss_mb=mem.peak_mb,
        solver_version=p.solver_version,
        notes=" | ".join(p.notes) if p.notes else None,
    )
    if run.method == "milp":
        row["solver"] = p.solver or run.solver
        # fix-and-optimise has no branch-and-bound log: its incumbent over time instead
        row["history"] = json.dumps([[round(t, 3), v] for t, v in p.history]) if p.history else None
        gap = row["gap"]
        reached = gap is not None and gap <= options.mip_gap * 1.001 + 1e-9
        row["time_to_gap_s"] = p.wall_s if reached else None
    return row
