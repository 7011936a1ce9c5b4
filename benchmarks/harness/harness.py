"""``run_suite``: every instance × run of a suite, each plan validated, and the outputs.

With ``out``, it writes (each file to a temporary name, then renamed):

| file | content |
|---|---|
| ``bench.csv``, ``bench.parquet`` | the tidy results table, one row per instance × run × seed |
| ``gap_progress.csv`` | the MILP's B&B progress parsed from every HiGHS log |
| ``report.md`` | the suite's report: validity, per-method headline, solvers, plots, every run |
| ``meta.json`` | suite, options, machine, package versions, notes, elapsed time |
| ``plots/carbon_grid.png``, ``plots/runtime.png``, ``plots/gap.png`` | the plots |
| ``logs/*.log`` | HiGHS's log of each MILP run |
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import plots as bench_plots
from benchmarks.harness.highs_log import LOG_COLUMNS, parse_highs_log, read_log_text
from benchmarks.harness.report import add_cuts, invalid_lines, markdown_report
from benchmarks.harness.runner import COLUMNS, instance_facts, run_one
from benchmarks.harness.suites import Instance, SuiteOptions, SuiteSkipped, suite
from greenopt.io.spreadsheet import write_csv
from greenopt.result import _atomic, _jsonable
from greenopt.scenario import Scenario

PLOT_FILES = {"carbon_grid": "carbon_grid.png", "runtime": "runtime.png", "gap": "gap.png"}
PROGRESS_COLUMNS = ["instance", "seed", "label", "key", *LOG_COLUMNS]

#: ``progress(done, total, text)`` callback, called before each run
Progress = Callable[[int, int, str], None]


@dataclass
class SuiteResult:
    """What :func:`run_suite` produced."""

    suite: str
    table: pd.DataFrame
    progress: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def invalid(self) -> pd.DataFrame:
        """Rows whose plan failed ``validate`` or whose method raised."""
        return self.table[~self.table["valid"].fillna(False).astype(bool)]

    def invalid_lines(self) -> list[str]:
        return invalid_lines(self.table)


def machine_facts() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def package_versions() -> dict[str, str | None]:
    from greenopt.solvers.doctor import package_versions as versions

    out = {"greenopt": None}
    out.update(versions(("greenopt", "pyomo", "highspy", "pandas", "numpy")))
    return out


def _build(inst: Instance) -> tuple[Scenario | None, float, str | None]:
    t0 = time.perf_counter()
    try:
        sc = inst.build()
        _ = sc.index, sc.network  # preprocessing once per instance, not in the first method
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"
    return sc, time.perf_counter() - t0, None


def _progress_rows(row: dict[str, Any], base: Path | None = None) -> pd.DataFrame:
    """The parsed HiGHS log of one result row (``log_file`` relative to ``base`` if given)."""
    log = row.get("log_file")
    progress = pd.DataFrame(columns=LOG_COLUMNS)
    if isinstance(log, str) and log:
        progress, _ = parse_highs_log(read_log_text(base / log if base is not None else log))
    history = row.get("history")
    if progress.empty and isinstance(history, str) and history:
        progress = _history_rows(json.loads(history), row.get("bound"))
    if progress.empty:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    progress.insert(0, "key", f"{row['instance']}#{row['seed']}")
    progress.insert(0, "label", row["label"])
    progress.insert(0, "seed", row["seed"])
    progress.insert(0, "instance", row["instance"])
    return progress[PROGRESS_COLUMNS]


def _history_rows(history: list[list[float]], bound: float | None) -> pd.DataFrame:
    """Fix-and-optimise's incumbent over time as log rows, its gap against the final bound."""
    rows = []
    for t, value in history:
        gap = None
        if bound is not None and np.isfinite(bound):
            gap = (value - bound) / max(abs(value), 1e-9)
        rows.append(
            {
                "run": 0,
                "source": "F",
                "nodes": np.nan,
                "best_bound": bound,
                "best_sol": value,
                "gap": gap,
                "time_s": t,
                "elapsed_s": t,
            }
        )
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def progress_table(rows: list[dict[str, Any]], base: Path | None = None) -> pd.DataFrame:
    """The B&B progress of every row with a HiGHS log, as one table (:data:`PROGRESS_COLUMNS`)."""
    parts = [p for p in (_progress_rows(r, base) for r in rows) if len(p)]
    if not parts:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def write_outputs(result: SuiteResult, out: Path, dpi: int = 100) -> dict[str, Path]:
    """Write the table, progress, plots, report and meta of ``result`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    table = result.table
    files["csv"] = _atomic(out / "bench.csv", lambda p: write_csv(table, p))
    files["parquet"] = _atomic(
        out / "bench.parquet", lambda p: table.to_parquet(p, index=False, engine="pyarrow")
    )
    files["progress"] = _atomic(out / "gap_progress.csv", lambda p: write_csv(result.progress, p))
    plot_rel: dict[str, str] = {}
    if not result.skipped:
        drawers = {
            "carbon_grid": lambda path: bench_plots.carbon_grid(table, path, dpi),
            "runtime": lambda path: bench_plots.runtime_vs_size(table, path, dpi),
            "gap": lambda path: bench_plots.gap_vs_time(result.progress, path, dpi),
        }
        for name, draw in drawers.items():
            path = out / "plots" / PLOT_FILES[name]
            draw(path)
            files[f"plot_{name}"] = path
            plot_rel[name] = f"plots/{PLOT_FILES[name]}"
    text = markdown_report(result.suite, table, result.meta, result.notes, plot_rel, result.skipped)
    files["report"] = _atomic(out / "report.md", lambda p: Path(p).write_text(text))
    payload = {**result.meta, "notes": result.notes, "skipped": result.skipped}
    files["meta"] = _atomic(
        out / "meta.json",
        lambda p: Path(p).write_text(json.dumps(_jsonable(payload), indent=2) + "\n"),
    )
    return files


def run_suite(
    name: str = "quick",
    out: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    methods: Sequence[str] | None = None,
    solvers: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    days: Sequence[str] | None = None,
    time_limit: float | None = None,
    mip_gap: float = 0.01,
    threads: int | None = 1,
    gbps: float = 10.0,
    objective: str = "carbon",
    progress: Progress | None = None,
) -> SuiteResult:
    """Run suite ``name`` (:mod:`benchmarks.harness.suites`) and return its :class:`SuiteResult`.

    ``None`` options take the suite's defaults; ``data_dir`` is found as
    :func:`greenopt.io.data.data_dir` does (explicit, ``$GREENOPT_DATA``, ``../shared/data``).
    A suite that cannot run here (``real`` without the data folder) returns an empty table with
    ``skipped`` saying why. Every plan is validated; ``result.invalid`` lists the failures.
    With ``out``, writes the files listed in this module's docstring.
    """
    if name == "operate":
        from benchmarks.harness.operate import run_operate_suite

        return run_operate_suite(
            out=out,
            data_dir=data_dir,
            methods=methods,
            seeds=seeds,
            days=days,
            foresight_limit=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            gbps=gbps,
            objective=objective,
            progress=progress,
        )
    s = suite(name)
    options = SuiteOptions(
        data_dir=Path(data_dir) if data_dir is not None else None,
        seeds=tuple(seeds) if seeds else None,
        time_limit=time_limit,
        methods=tuple(methods) if methods else None,
        solvers=tuple(solvers) if solvers else None,
        days=tuple(days) if days else None,
        gbps=gbps,
        mip_gap=mip_gap,
        threads=threads,
        objective=objective,
    )
    chosen_seeds = options.seeds or s.seeds
    limit = options.time_limit if options.time_limit is not None else s.time_limit
    meta: dict[str, Any] = {
        "suite": name,
        "description": s.description,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "options": {
            "objective": objective,
            "time_limit": limit,
            "mip_gap": mip_gap,
            "threads": threads,
            "seeds": list(chosen_seeds),
            "gbps": gbps,
            "methods": list(methods) if methods else None,
            "solvers": list(solvers) if solvers else None,
            "days": list(days) if days else None,
            "data_dir": str(data_dir) if data_dir is not None else None,
        },
        "machine": machine_facts(),
        "versions": package_versions(),
    }
    t_start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    skipped = None
    tmp_logs = None
    try:
        plan = s.build(options, chosen_seeds)
    except SuiteSkipped as exc:
        skipped = str(exc)
        plan = None
    if plan is not None:
        notes.extend(plan.notes)
        if out is not None:
            log_dir = Path(out) / "logs"
        else:
            tmp_logs = Path(tempfile.mkdtemp(prefix="greenopt-bench-logs-"))
            log_dir = tmp_logs
        total = len(plan.instances) * len(plan.runs)
        done = 0
        try:
            for inst in plan.instances:
                sc, build_s, error = _build(inst)
                if sc is None:
                    notes.append(f"instance {inst.name} seed {inst.seed} not built: {error}")
                    for run in plan.runs:
                        row = instance_facts(name, inst, None)
                        row.update(
                            method=run.method,
                            solver=run.solver,
                            label=run.label,
                            status="error",
                            valid=False,
                            error=f"instance not built: {error}",
                        )
                        rows.append(row)
                        done += 1
                    continue
                for run in plan.runs:
                    if progress is not None:
                        progress(done, total, f"{inst.name} seed {inst.seed} / {run.label}")
                    row = run_one(name, inst, sc, run, options, limit, log_dir)
                    row["scenario_build_s"] = build_s
                    rows.append(row)
                    done += 1
        finally:
            progress_rows = progress_table(rows)
            if tmp_logs is not None:
                shutil.rmtree(tmp_logs, ignore_errors=True)
                for r in rows:
                    r["log_file"] = None
    else:
        progress_rows = pd.DataFrame(columns=PROGRESS_COLUMNS)
    table = pd.DataFrame(rows, columns=COLUMNS)
    if len(table):
        table = add_cuts(table)
    elif out is None and skipped is None:
        notes.append("the suite has no runs")
    if out is not None and len(table):
        table["log_file"] = table["log_file"].map(
            lambda p: os.path.relpath(p, out) if isinstance(p, str) else None
        )
    meta["elapsed_s"] = time.perf_counter() - t_start
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    result = SuiteResult(name, table, progress_rows, notes, skipped, meta)
    if out is not None:
        result.files = write_outputs(result, Path(out))
    return result
