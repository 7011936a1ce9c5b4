"""Running a batch on dask.distributed: :func:`run_batch` (the tasks that are not current, on a
local cluster or an existing scheduler) and :func:`run_task` (one plan, written atomically).

**A cluster that is not there fails fast.** An address given with ``scheduler`` is checked
before anything else (:func:`connect`, the check of :mod:`greenopt.solvers.cluster`):
``garbage``, ``http://…``, a port where another service listens or nothing answers fails within
:data:`CONNECT_TIMEOUT_S` seconds per step with a :class:`~greenopt.errors.ClusterError` naming
the address — Dask's own client would wait on such a port for ever. While the batch runs, a
cluster left without any worker for ``worker_wait`` seconds (default :data:`WORKER_WAIT_S`) ends
it: the tasks not finished are recorded as failed, the summary of what was done is written, then
the ClusterError says what happened.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict
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
    FolderLock,
    done_key,
    done_text,
    install,
    is_current,
    kpi_row,
    log_run,
    task_row,
)
from greenopt.batch.tasks import Task, load_source
from greenopt.errors import ClusterError, GreenoptError, ScenarioError
from greenopt.io.spreadsheet import write_csv
from greenopt.optional import require
from greenopt.scenario import Job
from greenopt.scenario.rolling import carry_over, day_scenario
from greenopt.solvers.cluster import CONNECT_TIMEOUT_S, has_workers, local_cluster
from greenopt.solvers.cluster import connect as cluster_connect

#: Default seconds a running batch waits for a worker when the cluster has none.
WORKER_WAIT_S = 60.0
#: How often the batch looks at the cluster while it waits for results.
POLL_S = 1.0


def run_task(task: Task, out: str, _after: Any = None) -> dict[str, Any]:
    """Plan one task and write its folder atomically; never raises (failures become rows).

    ``_after`` is the previous day's result in a rolling chain (only there to order the tasks).
    """
    import greenopt
    from greenopt.report.report import write_outputs

    root = Path(out)
    final = root / task.id
    if is_current(root, task):
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
                if done_key(prev) != task.prev_key:
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
    (tmp / DONE).write_text(done_text(task))  # last: marks completeness, holds the key
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
    worker_wait: float = WORKER_WAIT_S,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run ``tasks`` on dask.distributed; return (and write ``out/summary.csv``) the summary.

    ``scheduler``: address of an existing cluster (checked first, :func:`connect`); else a
    LocalCluster of ``workers`` workers (processes, or threads with ``processes=False``), closed
    at the end. Tasks whose folder holds their current result (same key) are skipped without
    starting any worker. ``worker_wait``: seconds without any worker before the batch gives up
    (module docstring). ``on_start(pending, total)`` and ``on_result(row)`` let a caller draw
    progress. Raises :class:`~greenopt.errors.ClusterError` (after writing the summary) when
    the cluster was lost, and :class:`~greenopt.errors.GreenoptError` at once when another batch
    is using ``out``.
    """
    root = Path(out).resolve()
    root.mkdir(parents=True, exist_ok=True)
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ScenarioError("task ids must be unique", "tasks")
    if workers < 1 and not scheduler:
        raise ScenarioError(f"workers must be >= 1, got {workers}", "workers")
    if not worker_wait > 0:
        raise ScenarioError(f"worker_wait must be > 0 seconds, got {worker_wait!r}", "worker_wait")
    with FolderLock(root):
        # only now, with the folder ours: another batch's work in progress is never removed
        shutil.rmtree(root / PARTIAL, ignore_errors=True)  # leftovers of a killed run
        rows: dict[str, dict[str, Any]] = {}
        pending = []
        for t in tasks:
            if is_current(root, t):
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
        lost: ClusterError | None = None
        if pending:
            done, lost = _run_on_dask(
                pending, root, workers, scheduler, processes, worker_wait, on_result
            )
            rows.update(done)
        summary = pd.DataFrame([rows[i] for i in ids], columns=SUMMARY_COLUMNS)
        from greenopt.result import _atomic

        _atomic(root / SUMMARY, lambda p: write_csv(summary, p))
    if lost is not None:
        raise lost
    return summary


# -- the cluster -----------------------------------------------------------------------------------
def connect(address: str, timeout: float | None = None) -> Any:
    """A :class:`distributed.Client` of the scheduler at ``address``, or a
    :class:`~greenopt.errors.ClusterError` naming the address within about ``2 × timeout``
    seconds (default :data:`CONNECT_TIMEOUT_S`): :func:`greenopt.solvers.cluster.connect`, the
    check fix-and-optimise's cluster makes too."""
    return cluster_connect(address, CONNECT_TIMEOUT_S if timeout is None else timeout)


def _run_on_dask(
    pending: Sequence[Task],
    root: Path,
    workers: int,
    scheduler: str | None,
    processes: bool,
    worker_wait: float,
    on_result: Callable[[dict[str, Any]], None] | None,
) -> tuple[dict[str, dict[str, Any]], ClusterError | None]:
    """Run ``pending`` and return their rows, and the ClusterError if the cluster was lost."""
    distributed = require(
        "distributed", "greenopt batch", extra="batch", package="dask[distributed]"
    )
    dask_wait = distributed.wait

    local = ExitStack()  # a local cluster, closed after the client
    if scheduler:
        client = connect(scheduler, CONNECT_TIMEOUT_S)
    else:
        client = local.enter_context(local_cluster(workers, processes))
    where = scheduler or "the local cluster"
    rows: dict[str, dict[str, Any]] = {}
    lost: ClusterError | None = None
    try:
        futures: dict[str, Any] = {}
        run = uuid.uuid4().hex[:8]
        for t in pending:  # tasks come in chain order, so a day's previous day is already here
            dep = futures.get(t.prev) if t.prev else None
            futures[t.id] = client.submit(
                run_task, t, str(root), dep, key=f"greenopt-{t.id}-{run}", pure=False
            )
        task_of = {fut.key: t for t, fut in zip(pending, futures.values(), strict=True)}
        left = set(futures.values())
        idle_since: float | None = None
        while left:
            try:
                finished, _ = dask_wait(list(left), timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                finished = set()
            for fut in finished:
                left.discard(fut)
                try:
                    row = fut.result()
                except Exception as exc:  # the worker itself died: record, carry on
                    row = task_row(task_of[fut.key], "failed", error=f"{type(exc).__name__}: {exc}")
                rows[row["task"]] = row
                if on_result:
                    on_result(row)
            if not left or finished:
                idle_since = None
                continue
            if has_workers(client):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= worker_wait:
                lost = ClusterError(
                    f"every Dask worker of {where} was lost: none for {worker_wait:g} s; "
                    f"{len(left)} task(s) not planned (recorded as failed), the results so far "
                    f"are kept in {str(root)!r} — re-run the batch to plan the rest",
                    where,
                )
                for fut in left:
                    row = task_row(task_of[fut.key], "failed", error="ClusterError: no worker")
                    rows[row["task"]] = row
                    if on_result:
                        on_result(row)
                client.cancel(list(left))
                break
    finally:
        client.close()
        local.close()
    return rows, lost
