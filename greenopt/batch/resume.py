"""A batch's output folder, which is what makes a batch resumable.

Each task writes into ``out/.partial/<id>.<random>/`` and, when everything is written (tables,
``kpis.json``, plots, report, ``task.json`` and last the ``DONE`` marker), the folder is renamed
to ``out/<id>/`` in one ``os.replace`` — so ``out/<id>/`` either is complete or does not exist.
A failure is recorded the same way as ``out/<id>/error.json`` (type, message, traceback) without a
``DONE`` marker, and does not stop the other tasks. Re-running the batch skips every task whose
``out/<id>/DONE`` exists and retries the rest (failed or never finished); leftovers of killed runs
in ``out/.partial`` are removed first. Every finished attempt appends one line to
``out/runs.jsonl`` (the audit trail: a task done once appears once). ``out/summary.csv`` lists
every task of the batch with its status and main KPIs.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenopt.batch.tasks import Task

DONE = "DONE"
ERROR = "error.json"
PARTIAL = ".partial"
RUNS_LOG = "runs.jsonl"
SUMMARY = "summary.csv"
CARRY = "carry.json"

SUMMARY_COLUMNS = [
    "task",
    "status",
    "method",
    "objective",
    "forecast",
    "day",
    "plan_status",
    "objective_value",
    "carbon_kg",
    "grid_kwh",
    "renewable_share",
    "deadline_misses",
    "migrations",
    "carried",
    "rolling_missed",
    "wall_s",
    "error",
    "source",
]


def is_complete(out: str | os.PathLike[str], task_id: str) -> bool:
    return (Path(out) / task_id / DONE).is_file()


def install(tmp: Path, final: Path) -> None:
    """Replace ``final`` by the finished folder ``tmp`` (one rename; an old failure is dropped)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def log_run(out: Path, row: dict[str, Any]) -> None:
    line = json.dumps({k: row.get(k) for k in ("task", "status", "wall_s", "error")})
    line = line[:-1] + f', "pid": {os.getpid()}, "at": "{datetime.now().isoformat()}"}}\n'
    with open(out / RUNS_LOG, "a", encoding="utf-8") as fh:  # one short O_APPEND write per run
        fh.write(line)


def task_row(task: Task, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "task": task.id,
        "status": status,
        "source": task.source,
        "method": task.method,
        "objective": task.objective,
        "forecast": task.forecast,
        "day": task.day,
        **extra,
    }


def kpi_row(task: Task, status: str, kpis_file: Path) -> dict[str, Any]:
    facts = json.loads(kpis_file.read_text())
    k = facts.get("kpis", {})
    return task_row(
        task,
        status,
        plan_status=facts.get("status"),
        objective_value=facts.get("objective"),
        carbon_kg=k.get("carbon_kg"),
        grid_kwh=k.get("grid_kwh"),
        renewable_share=k.get("renewable_share"),
        deadline_misses=k.get("deadline_misses"),
        migrations=k.get("migrations"),
        wall_s=facts.get("wall_s"),
        carried=facts.get("carried"),
        rolling_missed=facts.get("rolling_missed"),
        error=None,
    )
