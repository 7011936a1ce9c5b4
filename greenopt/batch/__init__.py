"""Many plans at once on dask.distributed: scenario files, sweeps and rolling day-ahead runs.

A batch is a list of :class:`Task` — one scenario source (a YAML file or ``example:NAME``), one
method, one objective, options, and optionally one day of the source's horizon
(:mod:`~greenopt.batch.tasks`). Tasks run on a dask.distributed cluster: a
:class:`~distributed.LocalCluster` of worker *processes* by default, or an existing scheduler
given by address (its workers must see the same output folder) (:mod:`~greenopt.batch.run`).
Each task's folder is written atomically, so a re-run resumes where a killed one stopped, and
holds the key of the task's content, so a re-run after the scenario or an option changed plans
that task again; one batch at a time may use a folder (:mod:`~greenopt.batch.resume`). An
unreachable scheduler or a cluster that lost every worker fails with a
:class:`~greenopt.errors.ClusterError` (:mod:`~greenopt.batch.run`). ``rolling=True`` plans the
days of a date range in turn, carrying unfinished jobs into the next day
(:mod:`greenopt.scenario.rolling`); each day writes ``carry.json`` (carried jobs, misses) and the
next day's task reads it, so a resumed chain continues from the files. Without ``rolling``, each
day of a sweep is planned independently (same slicing, nothing carried).
"""

from greenopt.batch.resume import (
    CARRY,
    DONE,
    ERROR,
    LOCK,
    PARTIAL,
    RUNS_LOG,
    SUMMARY,
    SUMMARY_COLUMNS,
    FolderLock,
    is_complete,
    is_current,
)
from greenopt.batch.run import WORKER_WAIT_S, connect, run_batch, run_task
from greenopt.batch.tasks import (
    Task,
    expand_sources,
    load_source,
    make_tasks,
    source_label,
    task_key,
)
from greenopt.scenario.rolling import LEFT_TOL_H, carry_over, day_range, day_scenario, tile_days

__all__ = [
    "CARRY",
    "DONE",
    "ERROR",
    "LEFT_TOL_H",
    "LOCK",
    "PARTIAL",
    "RUNS_LOG",
    "SUMMARY",
    "SUMMARY_COLUMNS",
    "WORKER_WAIT_S",
    "FolderLock",
    "Task",
    "carry_over",
    "connect",
    "day_range",
    "day_scenario",
    "expand_sources",
    "is_complete",
    "is_current",
    "load_source",
    "make_tasks",
    "run_batch",
    "run_task",
    "source_label",
    "task_key",
    "tile_days",
]
