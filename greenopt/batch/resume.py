"""A batch's output folder, which is what makes a batch resumable — and safe to re-run.

Each task writes into ``out/.partial/<id>.<random>/`` and, when everything is written (tables,
``kpis.json``, plots, report, ``task.json`` and last the ``DONE`` marker), the folder is renamed
to ``out/<id>/`` in one ``os.replace`` — so ``out/<id>/`` either is complete or does not exist.
A failure is recorded the same way as ``out/<id>/error.json`` (type, message, traceback) without a
``DONE`` marker, and does not stop the other tasks.

**Resuming by content.** ``DONE`` holds the task's key (:func:`greenopt.batch.tasks.task_key`:
the scenario's bytes and those of the files it names, method, objective, every option, day,
outputs, greenopt's version). A re-run skips a task only when ``out/<id>/DONE`` holds *its*
key (:func:`is_current`): change the scenario, ``--deadlines``, ``--seed`` or anything else and
the task is planned again and its old result replaced, never reported as current. Every finished
attempt appends one line to ``out/runs.jsonl`` (the audit trail: a task done once appears once).
``out/summary.csv`` lists every task of the batch with its status and main KPIs (written
spreadsheet-safe, :mod:`greenopt.io.spreadsheet`).

**One batch per folder.** A batch holds an exclusive lock on ``out/.lock`` (:class:`FolderLock`,
``flock``) from before it clears the leftovers of killed runs in ``out/.partial`` until it ends;
a second batch on the same folder fails at once, naming the process that holds it. The kernel
releases the lock when its process ends, however it ends, so a killed batch never leaves it
stuck.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenopt.batch.tasks import Task

DONE = "DONE"
LOCK = ".lock"
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
    """Whether ``out/<task_id>`` holds a finished plan (of whatever content: see
    :func:`is_current`)."""
    return (Path(out) / task_id / DONE).is_file()


def done_key(folder: Path) -> str | None:
    """The key in ``folder/DONE`` (its first line), or ``None`` without one."""
    try:
        return (folder / DONE).read_text().split("\n", 1)[0].strip() or None
    except OSError:
        return None


def is_current(out: str | os.PathLike[str], task: Task) -> bool:
    """Whether ``out/<id>`` holds the finished plan of exactly this task (same key)."""
    return bool(task.key) and done_key(Path(out) / task.id) == task.key


def done_text(task: Task) -> str:
    """What ``DONE`` holds: the task's key, then when it finished."""
    return f"{task.key}\n{datetime.now().isoformat()}\n"


class FolderLock:
    """An exclusive lock on ``out/.lock`` for the life of a batch (see the module docstring).

    ``acquire()`` raises :class:`~greenopt.errors.GreenoptError` at once when another process
    holds it, naming that process (pid, host, start) as the lock file records it.
    """

    def __init__(self, out: Path) -> None:
        self.path = Path(out) / LOCK
        self._fh: Any = None

    def acquire(self) -> FolderLock:
        from greenopt.errors import GreenoptError

        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the batch
        if not _try_lock(fh):
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise GreenoptError(
                f"batch folder {str(self.path.parent)!r} is in use by another batch ({holder}); "
                "wait for it to finish or choose another --out"
            )
        fh.seek(0)
        fh.truncate()
        started = datetime.now().isoformat(timespec="seconds")
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            try:
                self._fh.seek(0)
                self._fh.truncate()
                self._fh.flush()
            finally:
                self._fh.close()  # closing releases the lock
                self._fh = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fh: Any) -> bool:
    """Take an exclusive, non-blocking lock on the open file ``fh``; ``False`` if held."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


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
