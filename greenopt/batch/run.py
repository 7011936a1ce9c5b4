"""Running a batch on dask.distributed: :func:`run_batch` (the tasks that are not complete, on a
local cluster or an existing scheduler) and :func:`run_task` (one plan, written atomically)."""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from greenopt.batch.resume import (
    CARRY,
    DONE,
    ERROR,
    PARTIAL,
    SUMMARY,
    SUMMARY_COLUMNS,
    install,
    is_complete,
    kpi_row,
    log_run,
    task_row,
)
from greenopt.batch.tasks import Task, load_source
from greenopt.errors import GreenoptError, ScenarioError
from greenopt.optional import require
from greenopt.scenario import Job
from greenopt.scenario.rolling import carry_over, day_scenario


def run_task(task: Task, out: str, _after: Any = None) -> dict[str, Any]:
    """Plan one task and write its folder atomically; never raises (failures become rows).

    ``_after`` is the previous day's result in a rolling chain (only there to order the tasks).
    """
    import greenopt
    from greenopt.report.report import write_outputs

    root = Path(out)
    final = root / task.id
    if (final / DONE).is_file():
        return kpi_row(task, "skipped", final / "kpis.json")
    tmp = root / PARTIAL / f"{task.id}.{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    try:
        full = load_source(task.source)
        extra: dict[str, Any] = {}
        if task.day is not None:
            carried: list[Job] = []
            if task.rolling and task.prev is not None:
                prev = root / task.prev
                if not (prev / DONE).is_file():
                    raise GreenoptError(f"previous day's task {task.prev!r} did not complete")
                carried = [Job(**d) for d in json.loads((prev / CARRY).read_text())["carried"]]
            scenario, remaining, aside = day_scenario(full, task.day, carried)
            if task.kind == "operate":  # persistence reads the source's day before
                scenario = scenario.with_jobs(scenario.jobs, forecasts=day_before(full, scenario))
        else:
            scenario = full
        kwargs = task.plan_kwargs()
        if task.kind == "operate":
            _operate(task, scenario, tmp, kwargs)
            return _finish(task, root, tmp, final, t0)
        result = greenopt.plan(scenario, task.method, objective=task.objective, **kwargs)
        if task.day is not None:
            carry = carry_over(scenario, result, remaining, aside)
            (tmp / CARRY).write_text(json.dumps(carry, indent=1) + "\n")
            extra = {"carried": len(carry["carried"]), "rolling_missed": len(carry["missed"])}
            result.notes.append(
                f"day {task.day}: {len(carried)} job(s) carried in, {extra['carried']} carried "
                f"out, {extra['rolling_missed']} missed"
            )
        write_outputs(
            scenario,
            result,
            tmp,
            parquet=task.parquet,
            plots=task.plots,
            report=task.report,
        )
        if extra:  # rolling facts next to the scorecard, for the summary
            facts = json.loads((tmp / "kpis.json").read_text())
            facts.update(extra)
            (tmp / "kpis.json").write_text(json.dumps(facts, indent=2) + "\n")
        return _finish(task, root, tmp, final, t0)
    except Exception as exc:  # every failure is recorded, never stops the batch
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        err = {
            "task": task.id,
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exc(),
            "task_spec": asdict(task),
        }
        (tmp / ERROR).write_text(json.dumps(err, indent=2, default=str) + "\n")
        install(tmp, final)
        row = task_row(task, "failed", error=f"{type(exc).__name__}: {exc}")
        row["wall_s"] = time.perf_counter() - t0
    log_run(root, row)
    return row


def _finish(task: Task, root: Path, tmp: Path, final: Path, t0: float) -> dict[str, Any]:
    """Mark a task's folder complete, install it and log the run."""
    (tmp / "task.json").write_text(json.dumps(asdict(task), indent=2, default=str) + "\n")
    (tmp / DONE).write_text(datetime.now().isoformat() + "\n")  # last: marks completeness
    install(tmp, final)
    row = kpi_row(task, "done", final / "kpis.json")
    row["wall_s"] = time.perf_counter() - t0
    log_run(root, row)
    return row


def _operate(task: Task, scenario: Any, tmp: Path, kwargs: dict[str, Any]) -> None:
    """An operate task: :func:`greenopt.operate`, its files (:mod:`greenopt.report.operation`)."""
    import greenopt
    from greenopt.report.operation import write_operation

    op = greenopt.operate(
        scenario,
        task.method,
        forecast=task.forecast,
        arrivals=task.arrivals,
        replan_every=task.replan_every,
        objective=task.objective,
        **kwargs,
    )
    write_operation(op, tmp, parquet=task.parquet, plots=task.plots, report=task.report)


def day_before(full: Any, day: Any) -> Any:
    """The actuals of ``full`` in the day before ``day`` (a day slice of it), as the
    :class:`~greenopt.forecasts.Forecasts` history that ``persistence`` reads; slots before
    ``full``'s horizon come from its own forecasts' history where it has one, else are unknown."""
    import numpy as np

    from greenopt.forecasts import SIGNALS, Forecasts

    h = full.horizon
    D = day.horizon.slots
    k0 = round(h.hours_since_start(day.horizon.start) / h.dt_h)
    S = len(full.sites)
    history = {}
    for signal in SIGNALS:
        arr = np.full((S, D), np.nan)
        lo = k0 - D
        arr[:, max(0, -lo) :] = getattr(full.index, signal)[:, max(lo, 0) : k0]
        if lo < 0 and full.forecasts is not None:
            before = full.forecasts.history_of(signal)  # (S, H), ending at full's start
            n = min(-lo, before.shape[1])
            if n:
                arr[:, -lo - n : -lo] = before[:, before.shape[1] - n :]
        history[signal] = arr
    return Forecasts.empty(day.horizon, [s.name for s in day.sites], history=history)


def run_batch(
    tasks: Sequence[Task],
    out: str | os.PathLike[str],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    processes: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run ``tasks`` on dask.distributed; return (and write ``out/summary.csv``) the summary.

    ``scheduler``: address of an existing cluster; else a LocalCluster of ``workers`` workers
    (processes, or threads with ``processes=False``), closed at the end. Completed tasks are
    skipped without starting any worker. ``on_start(pending, total)`` and ``on_result(row)``
    let a caller draw progress.
    """
    root = Path(out).resolve()
    root.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / PARTIAL, ignore_errors=True)  # leftovers of a killed run
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ScenarioError("task ids must be unique", "tasks")
    rows: dict[str, dict[str, Any]] = {}
    pending = []
    for t in tasks:
        if is_complete(root, t.id):
            rows[t.id] = kpi_row(t, "skipped", root / t.id / "kpis.json")
        else:
            pending.append(t)
    if pending:  # a missing package fails the batch once, up front, not each task on a worker
        require("distributed", "greenopt batch", extra="batch", package="dask[distributed]")
        if any(t.parquet for t in pending):
            require("pyarrow", "Parquet output", extra="parquet")
    if on_start:
        on_start(len(pending), len(tasks))
    for r in rows.values():
        if on_result:
            on_result(r)
    if pending:
        rows.update(_run_on_dask(pending, root, workers, scheduler, processes, on_result))
    summary = pd.DataFrame([rows[i] for i in ids], columns=SUMMARY_COLUMNS)
    from greenopt.result import _atomic

    _atomic(root / SUMMARY, lambda p: summary.to_csv(p, index=False))
    return summary


def _run_on_dask(
    pending: Sequence[Task],
    root: Path,
    workers: int,
    scheduler: str | None,
    processes: bool,
    on_result: Callable[[dict[str, Any]], None] | None,
) -> dict[str, dict[str, Any]]:
    import logging

    distributed = require(
        "distributed", "greenopt batch", extra="batch", package="dask[distributed]"
    )
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    as_completed = distributed.as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        if workers < 1:
            raise ScenarioError(f"workers must be >= 1, got {workers}", "workers")
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    rows: dict[str, dict[str, Any]] = {}
    try:
        futures = {}
        by_id = {}
        run = uuid.uuid4().hex[:8]
        for t in pending:  # tasks come in chain order, so a day's previous day is already here
            dep = futures.get(t.prev) if t.prev else None
            by_id[t.id] = client.submit(
                run_task, t, str(root), dep, key=f"greenopt-{t.id}-{run}", pure=False
            )
            futures[t.id] = by_id[t.id]
        for fut in as_completed(list(by_id.values())):
            try:
                row = fut.result()
            except Exception as exc:  # the worker itself died: record, carry on
                task = next(t for t in pending if by_id[t.id] is fut)
                row = task_row(task, "failed", error=f"{type(exc).__name__}: {exc}")
            rows[row["task"]] = row
            if on_result:
                on_result(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return rows
