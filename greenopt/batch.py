"""Many plans at once on dask.distributed: scenario files, sweeps and rolling day-ahead runs.

A batch is a list of :class:`Task` — one scenario source (a YAML file or ``example:NAME``), one
method, one objective, options, and optionally one day of the source's horizon. Tasks run on a
dask.distributed cluster: a :class:`~distributed.LocalCluster` of worker *processes* by default,
or an existing scheduler given by address (its workers must see the same output folder).

Outputs and resume
------------------
Each task writes into ``out/.partial/<id>.<random>/`` and, when everything is written (tables,
``kpis.json``, plots, report, ``task.json`` and last the ``DONE`` marker), the folder is renamed
to ``out/<id>/`` in one ``os.replace`` — so ``out/<id>/`` either is complete or does not exist.
A failure is recorded the same way as ``out/<id>/error.json`` (type, message, traceback) without a
``DONE`` marker, and does not stop the other tasks. Re-running the batch skips every task whose
``out/<id>/DONE`` exists and retries the rest (failed or never finished); leftovers of killed runs
in ``out/.partial`` are removed first. Every finished attempt appends one line to
``out/runs.jsonl`` (the audit trail: a task done once appears once). ``out/summary.csv`` lists
every task of the batch with its status and main KPIs.

Rolling day-ahead
-----------------
``rolling=True`` plans the days of a date range in turn over a multi-day source scenario. Day
``d`` covers ``[D0, D1)`` (midnight to midnight in the horizon's time zone) and plans:

* the jobs released in ``[D0, D1)``, and
* the jobs carried from day ``d−1``.

Since a scenario refuses a job whose work exceeds its window, a job's copy in the day plan has
``work_h = min(remaining work, whole-slot hours of its window inside the day)``; a job with no
whole slot in the day is set aside. After planning, each job's remaining work is
``left = remaining − work done today``. **Carry rule:** a job with ``left > 1e-6`` h whose
deadline is after ``D1`` moves to day ``d+1`` with ``work_h = left``, ``release = D1`` and
``origin`` = the site of its last run today (where its state now is; its old origin if it did not
run); every other field is unchanged (a non-preemptible job cut at midnight resumes at ``D1``: the
day boundary is the one pause the rolling scheme allows). A job with ``left > 1e-6`` and a
deadline at or before ``D1`` is a **rolling miss**. Each day writes ``carry.json`` (carried jobs,
misses) and the next day's task reads it, so a resumed chain continues from the files.
Without ``rolling``, each day of a sweep is planned independently (same slicing, nothing carried).
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from greenopt.errors import GreenoptError, ScenarioError
from greenopt.scenario import Job, Scenario, Site, job_window

#: Keys of a scenario file's ``plan:`` section (and of a task's options).
PLAN_KEYS = (
    "method",
    "objective",
    "deadlines",
    "time_limit",
    "mip_gap",
    "threads",
    "seed",
    "solver",
    "params",
)
#: The defaults under the scenario file's ``plan:`` section and the flags.
PLAN_DEFAULTS: dict[str, Any] = {
    "method": "milp",
    "objective": "carbon",
    "deadlines": "soft",
    "time_limit": None,
    "mip_gap": 0.01,
    "threads": None,
    "seed": 0,
    "solver": "highs",
    "params": {},
}
DONE = "DONE"
ERROR = "error.json"
PARTIAL = ".partial"
RUNS_LOG = "runs.jsonl"
SUMMARY = "summary.csv"
CARRY = "carry.json"
LEFT_TOL_H = 1e-6


# -- plan options: defaults < scenario file < flags -----------------------------------------
def file_plan_options(source: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``plan:`` section of a scenario YAML (``{}`` for examples or when absent)."""
    if str(source).startswith("example:"):
        return {}
    path = Path(source)
    try:
        doc = yaml.safe_load(path.read_text()) if path.is_file() else None
    except yaml.YAMLError:
        return {}  # load_scenario reports the broken file with its own message
    section = doc.get("plan") if isinstance(doc, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ScenarioError(f"{path.name}: 'plan' must be a mapping of options", "plan")
    unknown = sorted(set(section) - set(PLAN_KEYS))
    if unknown:
        raise ScenarioError(
            f"{path.name}: unknown plan option(s) {unknown}; allowed: {list(PLAN_KEYS)}",
            unknown[0],
        )
    if "params" in section and not isinstance(section["params"], dict):
        raise ScenarioError(f"{path.name}: plan 'params' must be a mapping", "params")
    return dict(section)


def resolve_options(
    file_options: dict[str, Any], flags: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, overridden by the file's ``plan:`` section, overridden by flags not ``None``.

    ``params`` dictionaries are merged key by key in the same order.
    """
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in PLAN_DEFAULTS.items()}
    for layer in (file_options, flags or {}):
        for key, value in layer.items():
            if value is None:
                continue
            if key == "params":
                out["params"].update(value)
            else:
                out[key] = value
    return out


def load_source(source: str) -> Scenario:
    """A scenario from a YAML path or ``example:NAME``."""
    if source.startswith("example:"):
        from greenopt import examples

        return examples.load(source.split(":", 1)[1])
    from greenopt.io.files import load_scenario

    return load_scenario(source)


# -- tasks ----------------------------------------------------------------------------------
@dataclass
class Task:
    """One plan of a batch. ``day`` (ISO date) plans one day of the source; ``prev`` names the
    previous day's task of a rolling chain (whose ``carry.json`` this day reads)."""

    id: str
    source: str
    method: str
    objective: str
    options: dict[str, Any] = field(default_factory=dict)
    day: str | None = None
    rolling: bool = False
    prev: str | None = None
    parquet: bool = False
    plots: bool = False
    report: str | None = None

    def plan_kwargs(self) -> dict[str, Any]:
        opts = dict(self.options)
        params = opts.pop("params", {}) or {}
        return {**opts, **params}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("_") or "x"


def source_label(source: str) -> str:
    """A short name for a source: the example name, the file's stem, or the folder's name when
    the file is called ``scenario.yaml``."""
    if source.startswith("example:"):
        return source.split(":", 1)[1]
    p = Path(source)
    return p.parent.name if p.stem == "scenario" and p.parent.name else p.stem


def expand_sources(specs: Iterable[str]) -> list[str]:
    """Scenario files from files, folders (every ``*.yaml``/``*.yml`` inside, recursively),
    glob patterns and ``example:NAME``; absolute paths, in a stable order, without repeats."""
    out: list[str] = []
    for spec in specs:
        if spec.startswith("example:"):
            found = [spec]
        elif Path(spec).is_dir():
            found = sorted(
                str(p.resolve())
                for p in Path(spec).rglob("*")
                if p.suffix in (".yaml", ".yml") and PARTIAL not in p.parts
            )
        elif any(c in spec for c in "*?["):
            found = sorted(str(Path(p).resolve()) for p in glob.glob(spec, recursive=True))
        elif Path(spec).is_file():
            found = [str(Path(spec).resolve())]
        else:
            raise ScenarioError(f"scenario source {spec!r} is not a file, folder or glob", spec)
        if not found:
            raise ScenarioError(f"scenario source {spec!r} matches no scenario file", spec)
        out += [f for f in found if f not in out]
    return out


def day_range(first: str | date, last: str | date) -> list[str]:
    """ISO dates from ``first`` to ``last`` inclusive."""
    try:
        a = first if isinstance(first, date) else date.fromisoformat(first)
        b = last if isinstance(last, date) else date.fromisoformat(last)
    except ValueError as exc:
        raise ScenarioError(f"days must be ISO dates like 2023-06-21 ({exc})", "days") from None
    if b < a:
        raise ScenarioError(f"day range ends ({b}) before it starts ({a})", "days")
    return [(a + timedelta(days=k)).isoformat() for k in range((b - a).days + 1)]


def make_tasks(
    sources: Sequence[str],
    methods: Sequence[str] | None = None,
    objectives: Sequence[str] | None = None,
    params: dict[str, Sequence[Any]] | None = None,
    days: Sequence[str] | None = None,
    rolling: bool = False,
    options: dict[str, Any] | None = None,
    parquet: bool = False,
    plots: bool = False,
    report: str | None = None,
) -> list[Task]:
    """The sweep ``sources × days × methods × objectives × params`` as tasks.

    Each source's options are resolved as defaults < its file's ``plan:`` section < ``options``;
    ``methods``/``objectives`` (when given) override the method and objective. ``params`` maps a
    plan keyword (``mip_gap``, ``time_limit``, ``seed``, or a method parameter) to the values to
    sweep. With ``rolling``, the days of each (source, method, objective, params) form one chain.
    Ids are deterministic, so a re-run finds the earlier outputs.
    """
    if rolling and not days:
        raise ScenarioError("a rolling batch needs a date range (days)", "days")
    grid = list(params.items()) if params else []
    combos = (
        [
            dict(zip([k for k, _ in grid], vals, strict=True))
            for vals in itertools.product(*[list(v) for _, v in grid])
        ]
        if grid
        else [{}]
    )
    tasks: list[Task] = []
    seen: set[str] = set()
    for source in sources:
        base = resolve_options(file_plan_options(source), options)
        for method in methods or [base["method"]]:
            for objective in objectives or [base["objective"]]:
                for combo in combos:
                    opts = {k: v for k, v in base.items() if k not in ("method", "objective")}
                    opts["params"] = dict(opts["params"])
                    for k, v in combo.items():
                        if k in opts and k != "params":
                            opts[k] = v
                        else:
                            opts["params"][k] = v
                    stem = "--".join(
                        [_slug(source_label(source)), _slug(method), _slug(objective)]
                        + [_slug(f"{k}={v}") for k, v in combo.items()]
                    )
                    prev: str | None = None
                    for day in days or [None]:
                        tid = stem if day is None else f"{stem}--{day}"
                        if tid in seen:
                            raise ScenarioError(
                                f"two tasks would share the id {tid!r}: give the scenario files "
                                "distinct names",
                                tid,
                            )
                        seen.add(tid)
                        tasks.append(
                            Task(
                                id=tid,
                                source=source,
                                method=method,
                                objective=objective,
                                options=opts,
                                day=day,
                                rolling=rolling,
                                prev=prev if rolling else None,
                                parquet=parquet,
                                plots=plots,
                                report=report,
                            )
                        )
                        prev = tid
    return tasks


# -- day slicing and the carry rule -----------------------------------------------------------
def _day_bounds(full: Scenario, day: str) -> tuple[datetime, int, int]:
    h = full.horizon
    per_day = 24 * 60 / h.slot_minutes
    if per_day != int(per_day):
        raise ScenarioError(
            f"slot_minutes {h.slot_minutes} does not divide a day: cannot plan by day", "horizon"
        )
    d0 = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=h.start.tzinfo)
    k0 = h.hours_since_start(d0) * 60 / h.slot_minutes
    n = int(per_day)
    if k0 != int(k0) or k0 < 0 or k0 + n > h.slots:
        raise ScenarioError(
            f"day {day} is not a whole day of scenario {full.name!r}'s horizon "
            f"({h.start.isoformat()} to {h.end.isoformat()})",
            "days",
        )
    return d0, int(k0), n


def day_scenario(
    full: Scenario, day: str, carried: Sequence[Job] = ()
) -> tuple[Scenario, dict[str, float], list[Job]]:
    """Day ``day`` of ``full`` with the jobs released that day plus ``carried``.

    Returns the day scenario, each planned job's *total* remaining work (its day copy may be
    capped to its window, see the module docstring), and the jobs set aside (no whole slot today).
    """
    d0, k0, n = _day_bounds(full, day)
    d1 = d0 + timedelta(minutes=full.horizon.slot_minutes * n)
    horizon = {"start": d0, "slot_minutes": full.horizon.slot_minutes, "slots": n}
    sites = []
    for s in full.sites:
        data = {name: getattr(s, name) for name in Site.model_fields}
        for series in ("renewable_kw", "carbon", "price"):
            data[series] = getattr(s, series)[k0 : k0 + n]
        sites.append(Site(**data))
    new = [j for j in full.jobs if d0 <= j.release < d1]
    names = {j.name for j in carried}
    clash = [j.name for j in new if j.name in names]
    if clash:
        raise ScenarioError(f"carried job(s) {clash} are also released on {day}", clash[0])
    from greenopt.scenario import Horizon

    hz = Horizon(**horizon)
    jobs: list[Job] = []
    remaining: dict[str, float] = {}
    aside: list[Job] = []
    for job in [*carried, *new]:
        first, end = job_window(hz, job)
        window_h = (end - first) * hz.dt_h
        if window_h <= 0:
            aside.append(job)
            continue
        remaining[job.name] = job.work_h
        data = job.model_dump()
        data["work_h"] = min(job.work_h, window_h)
        jobs.append(Job(**data))
    sc = Scenario(
        name=f"{full.name}-{day}",
        horizon=horizon,
        sites=sites,
        jobs=jobs,
        wan=full.wan,
        wan_share=full.wan_share,
        net_kwh_per_gb=full.net_kwh_per_gb,
        migration_alpha=full.migration_alpha,
    )
    return sc, remaining, aside


def carry_over(
    day_sc: Scenario, plan, remaining: dict[str, float], aside: Sequence[Job]
) -> dict[str, Any]:
    """Apply the carry rule to a planned day: ``{"carried": [job...], "missed": [...]}``."""
    d1 = day_sc.horizon.end
    done_h = dict(zip(plan.jobs["job"], plan.jobs["work_done_h"], strict=True))
    last_site = plan.assignments.groupby("job", sort=False)["site"].last().to_dict()
    carried: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for job in [*day_sc.jobs, *aside]:
        left = remaining.get(job.name, job.work_h) - float(done_h.get(job.name, 0.0))
        if left <= LEFT_TOL_H:
            continue
        if job.deadline > d1:
            data = job.model_dump(mode="json")
            data.update(
                work_h=left,
                release=d1.isoformat(),
                origin=last_site.get(job.name, job.origin),
            )
            carried.append(data)
        else:
            missed.append({"job": job.name, "unmet_h": left})
    return {"day_end": d1.isoformat(), "carried": carried, "missed": missed}


# -- running one task -------------------------------------------------------------------------
def is_complete(out: str | os.PathLike[str], task_id: str) -> bool:
    return (Path(out) / task_id / DONE).is_file()


def _install(tmp: Path, final: Path) -> None:
    """Replace ``final`` by the finished folder ``tmp`` (one rename; an old failure is dropped)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def _log_run(out: Path, row: dict[str, Any]) -> None:
    line = json.dumps({k: row.get(k) for k in ("task", "status", "wall_s", "error")})
    line = line[:-1] + f', "pid": {os.getpid()}, "at": "{datetime.now().isoformat()}"}}\n'
    with open(out / RUNS_LOG, "a", encoding="utf-8") as fh:  # one short O_APPEND write per run
        fh.write(line)


def _row(task: Task, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "task": task.id,
        "status": status,
        "source": task.source,
        "method": task.method,
        "objective": task.objective,
        "day": task.day,
        **extra,
    }


def _kpi_row(task: Task, status: str, kpis_file: Path) -> dict[str, Any]:
    facts = json.loads(kpis_file.read_text())
    k = facts.get("kpis", {})
    return _row(
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


def run_task(task: Task, out: str, _after: Any = None) -> dict[str, Any]:
    """Plan one task and write its folder atomically; never raises (failures become rows).

    ``_after`` is the previous day's result in a rolling chain (only there to order the tasks).
    """
    import greenopt
    from greenopt.report.report import write_outputs

    root = Path(out)
    final = root / task.id
    if (final / DONE).is_file():
        return _kpi_row(task, "skipped", final / "kpis.json")
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
        else:
            scenario = full
        kwargs = task.plan_kwargs()
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
        (tmp / "task.json").write_text(json.dumps(asdict(task), indent=2, default=str) + "\n")
        (tmp / DONE).write_text(datetime.now().isoformat() + "\n")  # last: marks completeness
        _install(tmp, final)
        row = _kpi_row(task, "done", final / "kpis.json")
        row["wall_s"] = time.perf_counter() - t0
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
        _install(tmp, final)
        row = _row(task, "failed", error=f"{type(exc).__name__}: {exc}")
        row["wall_s"] = time.perf_counter() - t0
    _log_run(root, row)
    return row


# -- the batch --------------------------------------------------------------------------------
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
            rows[t.id] = _kpi_row(t, "skipped", root / t.id / "kpis.json")
        else:
            pending.append(t)
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

    from distributed import Client, LocalCluster, as_completed

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
                row = _row(task, "failed", error=f"{type(exc).__name__}: {exc}")
            rows[row["task"]] = row
            if on_result:
                on_result(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return rows


def tile_days(scenario: Scenario, days: int) -> Scenario:
    """Repeat a one-day scenario over ``days`` consecutive days (series and jobs repeated;
    job ``name`` becomes ``name@dK`` for day K ≥ 1). For demos and tests of rolling batches."""
    h = scenario.horizon
    if h.slots * h.slot_minutes != 24 * 60:
        raise ScenarioError("tile_days needs a scenario of exactly one day", "horizon")
    import numpy as np

    sites = []
    for s in scenario.sites:
        data = {name: getattr(s, name) for name in Site.model_fields}
        for series in ("renewable_kw", "carbon", "price"):
            data[series] = np.tile(getattr(s, series), days)
        sites.append(Site(**data))
    jobs = []
    for k in range(days):
        shift = timedelta(days=k)
        for j in scenario.jobs:
            data = j.model_dump()
            data.update(
                name=j.name if k == 0 else f"{j.name}@d{k}",
                release=j.release + shift,
                deadline=j.deadline + shift,
            )
            jobs.append(Job(**data))
    return scenario.with_jobs(
        jobs,
        name=f"{scenario.name}-{days}d",
        horizon={"start": h.start, "slot_minutes": h.slot_minutes, "slots": h.slots * days},
        sites=sites,
    )
