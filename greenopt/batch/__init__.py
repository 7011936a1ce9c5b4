"""Many plans at once on dask.distributed: scenario files, sweeps and rolling day-ahead runs.

A batch is a list of :class:`Task` — one scenario source (a YAML file or ``example:NAME``), one
method, one objective, options, and optionally one day of the source's horizon
(:mod:`~greenopt.batch.tasks`). Tasks run on a dask.distributed cluster: a
:class:`~distributed.LocalCluster` of worker *processes* by default, or an existing scheduler
given by address (its workers must see the same output folder) (:mod:`~greenopt.batch.run`).
Each task's folder is written atomically, so a re-run resumes where a killed one stopped
(:mod:`~greenopt.batch.resume`). ``rolling=True`` plans the days of a date range in turn,
carrying unfinished jobs into the next day (:mod:`greenopt.scenario.rolling`); each day writes
``carry.json`` (carried jobs, misses) and the next day's task reads it, so a resumed chain
continues from the files. Without ``rolling``, each day of a sweep is planned independently
(same slicing, nothing carried).
"""

from greenopt.batch.resume import (
    CARRY,
    DONE,
    ERROR,
    PARTIAL,
    RUNS_LOG,
    SUMMARY,
    SUMMARY_COLUMNS,
    is_complete,
)
from greenopt.batch.run import run_batch, run_task
from greenopt.batch.tasks import Task, expand_sources, load_source, make_tasks, source_label
from greenopt.scenario.rolling import LEFT_TOL_H, carry_over, day_range, day_scenario, tile_days

__all__ = [
    "CARRY",
    "DONE",
    "ERROR",
    "LEFT_TOL_H",
    "PARTIAL",
    "RUNS_LOG",
    "SUMMARY",
    "SUMMARY_COLUMNS",
    "Task",
    "carry_over",
    "day_range",
    "day_scenario",
    "expand_sources",
    "is_complete",
    "load_source",
    "make_tasks",
    "run_batch",
    "run_task",
    "source_label",
    "tile_days",
]
