"""``greenopt batch``: plan many scenarios (files, folders, globs, sweeps, day ranges) in
parallel on Dask (:mod:`greenopt.batch`).

Re-running resumes: a task whose folder holds the result of the same content (scenario files,
method, every option, greenopt's version) is skipped; any change plans it again. One batch at a
time may use an output folder. Names are printed literally (:func:`~greenopt.cli.common.lit`),
and the summary table fits 80 columns (long task ids wrap instead of being cut).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from greenopt.cli.common import (
    EXIT_TASKS_FAILED,
    DeadlineRule,
    Methods,
    Objectives,
    ReportFormat,
    WorkerKind,
    console,
    emit_json,
    fmt,
    guard,
    lit,
    log,
    output,
    start,
)
from greenopt.cli.plan import TIME_LIMIT_HELP
from greenopt.options import DEFAULT_MILP_TIME_LIMIT


@guard
def batch(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario files, folders or globs (quote globs)."),
    ] = None,
    example: Annotated[
        list[str] | None, typer.Option(help="Embedded example(s) to add as sources.")
    ] = None,
    method: Annotated[
        list[Methods] | None,
        typer.Option(
            "--method",
            "-m",
            show_default="each file's, else milp",
            help="Method(s) to sweep (repeatable).",
        ),
    ] = None,
    objective: Annotated[
        list[Objectives] | None,
        typer.Option(
            "--objective",
            "-o",
            show_default="each file's, else carbon",
            help="Objective(s) to sweep (repeatable).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Sweep KEY=V1,V2,... (repeatable; a grid)."),
    ] = None,
    days: Annotated[
        str | None,
        typer.Option(
            help="Plan by day: FIRST[:LAST] ISO dates, inclusive (e.g. 2023-06-21:2023-06-23)."
        ),
    ] = None,
    rolling: Annotated[
        bool, typer.Option(help="Rolling day-ahead: carry unfinished jobs into the next day.")
    ] = False,
    deadlines: Annotated[
        DeadlineRule | None, typer.Option(show_default="soft", help="Deadline rule.")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(show_default=f"{DEFAULT_MILP_TIME_LIMIT:g}", help=TIME_LIMIT_HELP),
    ] = None,
    deterministic: Annotated[
        bool | None,
        typer.Option(
            "--deterministic/--no-deterministic",
            show_default="no-deterministic",
            help="Work-based budgets: every task's plan is the same on any worker or machine.",
        ),
    ] = None,
    mip_gap: Annotated[
        float | None, typer.Option(show_default="0.01", help="Relative MIP gap.")
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(show_default="the solver's choice", help="Solver threads per plan."),
    ] = None,
    seed: Annotated[int | None, typer.Option(show_default="0", help="Random seed.")] = None,
    solver: Annotated[
        str | None, typer.Option(show_default="highs", help="Pyomo solver for milp.")
    ] = None,
    memory_budget: Annotated[
        str | None,
        typer.Option(
            show_default="16GiB or GREENOPT_MEMORY_BUDGET",
            help="Memory each plan may take, e.g. 32GiB.",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Local workers (ignored with --scheduler).")] = 2,
    worker_kind: Annotated[
        WorkerKind, typer.Option(help="Local workers as processes or threads.")
    ] = "process",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    worker_wait: Annotated[
        float,
        typer.Option(help="Seconds without any Dask worker before the batch gives up."),
    ] = 60.0,
    out: Annotated[Path, typer.Option(help="Output folder (one sub-folder per task).")] = Path(
        "batch-out"
    ),
    parquet: Annotated[bool, typer.Option(help="Also write Parquet tables.")] = False,
    plots: Annotated[bool, typer.Option(help="Write the plots of every plan.")] = False,
    report: Annotated[
        ReportFormat | None, typer.Option(help="Write a report per plan: html or md.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document (the summary) on stdout."),
    ] = False,
) -> None:
    """Plan many scenarios (files, folders, globs, sweeps, day ranges) in parallel on Dask.

    Tasks whose result is current (same scenario files, method and options:
    out/<task>/DONE holds their key) are skipped, so re-running resumes an interrupted batch;
    a changed input re-plans its tasks. Exit code 1 when some task failed (its error is in
    out/<task>/error.json), 6 when the Dask cluster cannot be reached or loses every worker.
    """
    start(quiet=quiet, as_json=as_json)
    from greenopt import batch as B
    from greenopt.options import parse_assignments

    specs = list(sources or []) + [f"example:{e}" for e in example or []]
    if not specs:
        raise typer.BadParameter(
            "give scenario files, folders or globs, or --example NAME", param_hint="SOURCES"
        )
    if worker_wait <= 0:
        raise typer.BadParameter("must be > 0 seconds", param_hint="'--worker-wait'")
    day_list = None
    if days:
        first, _, last = days.partition(":")
        day_list = B.day_range(first, last or first)
    processes = worker_kind == "process"
    flags = {
        "deadlines": deadlines,
        "time_limit": time_limit,
        "deterministic": deterministic,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
        "solver": solver,
        "memory_budget": memory_budget,
    }
    tasks = B.make_tasks(
        B.expand_sources(specs),
        methods=None if method is None else [str(m.value) for m in method],
        objectives=None if objective is None else [str(o.value) for o in objective],
        params=parse_assignments(param, sweep=True),
        days=day_list,
        rolling=rolling,
        options=flags,
        parquet=parquet,
        plots=plots,
        report=report,
    )
    where = scheduler or f"local cluster, {workers} {'process' if processes else 'thread'} workers"
    console.print(f"{len(tasks)} task(s) on {lit(where)} → {lit(out)}", highlight=False)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not output.chatty,
    ) as progress:
        bar = progress.add_task("planning", total=len(tasks))

        def started(pending: int, total: int) -> None:
            if pending < total:
                progress.console.print(
                    f"resuming: {total - pending} task(s) already complete", highlight=False
                )

        def finished(row: dict[str, Any]) -> None:
            progress.advance(bar)
            if row["status"] == "failed":
                log.warning(f"failed {row['task']}: {row['error']}")

        summary = B.run_batch(
            tasks,
            out,
            workers=workers,
            scheduler=scheduler,
            processes=processes,
            worker_wait=worker_wait,
            on_start=started,
            on_result=finished,
        )
    console.print(summary_table(summary, out / B.SUMMARY))
    counts = summary["status"].value_counts().to_dict()
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), highlight=False)
    if as_json:
        emit_json(
            {
                "out": str(out),
                "counts": counts,
                "tasks": summary.astype(object).where(summary.notna(), None).to_dict("records"),
            }
        )
    if counts.get("failed"):
        raise typer.Exit(EXIT_TASKS_FAILED)


def summary_table(summary: Any, path: Path) -> Table:
    """The batch summary as a table that fits 80 columns: long task ids wrap, numbers are
    short, the full table is in ``summary.csv``."""
    table = Table(title=f"Batch summary ({lit(path)})", show_edge=False, pad_edge=False)
    table.add_column("task", overflow="fold", ratio=1, min_width=12)
    table.add_column("status", no_wrap=True)
    for col in ("kg CO2", "grid kWh", "misses", "moves", "s"):
        table.add_column(col, justify="right", no_wrap=True)
    colours = {"done": "green", "skipped": "cyan", "failed": "red"}
    for r in summary.to_dict("records"):
        table.add_row(
            lit(r["task"]),
            f"[{colours.get(r['status'], 'white')}]{lit(r['status'])}[/]",
            fmt(r["carbon_kg"]),
            fmt(r["grid_kwh"]),
            fmt(r["deadline_misses"]),
            fmt(r["migrations"]),
            fmt(r["wall_s"], 3),
        )
    return table
