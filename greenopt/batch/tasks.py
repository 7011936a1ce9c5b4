"""The tasks of a batch: one scenario source, method, objective, options and (optionally) day
each, with ids that a re-run finds again (:func:`make_tasks`) and a **key of their content**
(:func:`task_key`) that tells a re-run whether the result found under that id is still this
task's: the bytes of the scenario file and of every file it names, the method, the objective,
every option and parameter, the day, the outputs asked for, greenopt's version and — in a
rolling chain — the previous day's key. Change any of them and the task is planned again."""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt import options as _options
from greenopt.batch.resume import PARTIAL
from greenopt.errors import OptionsError, ScenarioError
from greenopt.options import (
    COMMON,
    check_caller,
    file_options,
    layered,
    plan_kwargs,
    unknown_option,
)
from greenopt.scenario import Scenario


def load_source(source: str) -> Scenario:
    """A scenario from a YAML path or ``example:NAME``."""
    if source.startswith("example:"):
        from greenopt import examples

        return examples.load(source.split(":", 1)[1])
    from greenopt.io.files import load_scenario

    return load_scenario(source)


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
    #: the key of the task's content (:func:`task_key`); the previous day's in a rolling chain
    key: str = ""
    prev_key: str | None = None

    def plan_kwargs(self) -> dict[str, Any]:
        """Keywords of ``greenopt.plan`` besides method and objective: the task's options and
        those of its parameters its method takes (a sweep or a file may carry others)."""
        return plan_kwargs(self.options, self.method)


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

    Each source's options are layered as defaults < its file's ``plan:`` section < ``options``
    (:func:`greenopt.options.layered`; the file's section restricted to what a file may set);
    ``methods``/``objectives`` (when given) override the method and objective. ``params`` maps a
    plan keyword (``mip_gap``, ``time_limit``, ``seed``, ...) or a method parameter to the values
    to sweep; a method parameter applies to the tasks whose method takes it. Every option and
    value is checked when the tasks are made. With ``rolling``, the days of each (source,
    method, objective, params) form one chain. Ids are deterministic, so a re-run finds the
    earlier outputs; each task's :attr:`Task.key` says whether what it finds is still current.
    """
    if rolling and not days:
        raise ScenarioError("a rolling batch needs a date range (days)", "days")
    caller = check_caller(options or {})
    for m in methods or []:
        COMMON["method"].check(m)
    for o in objectives or []:
        COMMON["objective"].check(o)
    grid = [(name, _sweep_values(name, values)) for name, values in (params or {}).items()]
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
    digests: dict[str, str] = {}
    for source in sources:
        base = layered(file_options(source), caller)
        for method in methods or [base["method"]]:
            for objective in objectives or [base["objective"]]:
                for combo in combos:
                    opts = {k: v for k, v in base.items() if k not in ("method", "objective")}
                    opts["params"] = dict(opts["params"])
                    for k, v in combo.items():
                        if k in COMMON:
                            opts[k] = v
                        else:
                            opts["params"][k] = v
                    stem = "--".join(
                        [_slug(source_label(source)), _slug(method), _slug(objective)]
                        + [_slug(f"{k}={v}") for k, v in combo.items()]
                    )
                    prev: Task | None = None
                    for day in days or [None]:
                        tid = stem if day is None else f"{stem}--{day}"
                        if tid in seen:
                            raise ScenarioError(
                                f"two tasks would share the id {tid!r}: give the scenario files "
                                "distinct names",
                                tid,
                            )
                        seen.add(tid)
                        task = Task(
                            id=tid,
                            source=source,
                            method=method,
                            objective=objective,
                            options=opts,
                            day=day,
                            rolling=rolling,
                            prev=prev.id if rolling and prev else None,
                            parquet=parquet,
                            plots=plots,
                            report=report,
                            prev_key=prev.key if rolling and prev else None,
                        )
                        task.key = task_key(task, digests)
                        tasks.append(task)
                        prev = task
    return tasks


def _sweep_values(name: str, values: Sequence[Any]) -> list[Any]:
    """The values swept for ``name``, each checked (an option of every plan, or a parameter)."""
    if name in ("method", "objective"):
        raise OptionsError(
            f"sweep {name}s with the {name}s argument (--{name} on the command line), "
            "not as a parameter",
            name,
        )
    option = _options.spec(name)
    if option is None:
        raise unknown_option(name)
    return [option.check(v, "python") for v in values]


def source_digest(source: str) -> str:
    """SHA-256 of what a source plans: an example's name, or a scenario file's bytes and those
    of every file it names (:func:`greenopt.io.files.referenced_files`), each with its name."""
    h = hashlib.sha256()
    if source.startswith("example:"):
        h.update(source.encode())
        return h.hexdigest()
    from greenopt.io.files import referenced_files

    path = Path(source)
    for name, file in [("scenario", path), *referenced_files(path)]:
        h.update(f"\0{name}\0".encode())
        try:
            h.update(file.read_bytes())
        except OSError:
            h.update(b"\0missing")  # the plan will fail on it; a file that appears changes it
    return h.hexdigest()


def task_key(task: Task, digests: dict[str, str] | None = None) -> str:
    """The key of ``task``'s content (see the module docstring); ``digests`` caches
    :func:`source_digest` per source."""
    from greenopt import __version__

    cache = {} if digests is None else digests
    if task.source not in cache:
        cache[task.source] = source_digest(task.source)
    content = {
        "source": cache[task.source],
        "method": task.method,
        "objective": task.objective,
        "options": task.options,
        "day": task.day,
        "rolling": task.rolling,
        "prev": task.prev_key,
        "outputs": [task.parquet, task.plots, task.report],
        "greenopt": __version__,
    }
    text = json.dumps(content, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Options as JSON: a dataclass (an ``Objective``) by its fields, anything else by its repr."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)
