"""``greenopt batch``: plan many scenarios (files, folders, globs, sweeps, day ranges) in
parallel on Dask (:mod:`greenopt.batch`); with ``--forecast``, operate them instead (days ×
forecasters × methods, :func:`greenopt.operate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from greenopt.cli.common import console, fmt, guard
from greenopt.errors import ScenarioError

WORKER_KINDS = ("process", "thread")


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
        list[str] | None, typer.Option("--method", "-m", help="Method(s) to sweep (repeatable).")
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option("--objective", "-o", help="Objective(s) to sweep (repeatable)."),
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
    forecast: Annotated[
        list[str] | None,
        typer.Option(
            "--forecast",
            help="Operate instead of plan (greenopt operate), once per forecaster (repeatable): "
            "persistence | oracle | error-model | scenario.",
        ),
    ] = None,
    arrivals: Annotated[
        str, typer.Option(help="Operate tasks: online | known job arrivals.")
    ] = "online",
    replan_every: Annotated[int, typer.Option(help="Operate tasks: slots between decisions.")] = 1,
    deadlines: Annotated[str | None, typer.Option(help="soft | hard")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit (s).")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads per plan.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    solver: Annotated[str | None, typer.Option(help="Pyomo solver for milp.")] = None,
    workers: Annotated[int, typer.Option(help="Local workers (ignored with --scheduler).")] = 2,
    worker_kind: Annotated[
        str, typer.Option(help="Local workers as processes or threads: process | thread.")
    ] = "process",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder (one sub-folder per task).")] = Path(
        "batch-out"
    ),
    parquet: Annotated[bool, typer.Option(help="Also write Parquet tables.")] = False,
    plots: Annotated[bool, typer.Option(help="Write the plots of every plan.")] = False,
    report: Annotated[str | None, typer.Option(help="Write a report per plan: html | md.")] = None,
) -> None:
    """Plan many scenarios (files, folders, globs, sweeps, day ranges) in parallel on Dask.

    Completed tasks (out/<task>/DONE) are skipped, so re-running resumes an interrupted batch.
    Exit code 1 when some task failed (its error is in out/<task>/error.json).
    """
    from greenopt import batch as B
    from greenopt.options import parse_assignments

    specs = list(sources or []) + [f"example:{e}" for e in example or []]
    if not specs:
        raise ScenarioError("give scenario files, folders or globs, or --example NAME", "sources")
    day_list = None
    if days:
        first, _, last = days.partition(":")
        day_list = B.day_range(first, last or first)
    if report is not None and report not in ("html", "md"):
        raise ScenarioError(f"--report must be html or md, got {report!r}", "report")
    if worker_kind not in WORKER_KINDS:
        raise ScenarioError(
            f"--worker-kind must be process or thread, got {worker_kind!r}", "worker_kind"
        )
    processes = worker_kind == "process"
    flags = {
        "deadlines": deadlines,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
        "solver": solver,
    }
    tasks = B.make_tasks(
        B.expand_sources(specs),
        methods=method,
        objectives=objective,
        params=parse_assignments(param, sweep=True),
        days=day_list,
        rolling=rolling,
        options=flags,
        parquet=parquet,
        plots=plots,
        report=report,
        forecasts=forecast,
        arrivals=arrivals,
        replan_every=replan_every,
    )
    where = scheduler or f"local cluster, {workers} {'process' if processes else 'thread'} workers"
    console.print(f"{len(tasks)} task(s) on {where} → {out}", highlight=False)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
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
                progress.console.print(
                    f"[red]failed[/] {row['task']}: {row['error']}", highlight=False
                )

        summary = B.run_batch(
            tasks,
            out,
            workers=workers,
            scheduler=scheduler,
            processes=processes,
            on_start=started,
            on_result=finished,
        )
    table = Table(title=f"Batch summary ({out / B.SUMMARY})", show_edge=False)
    for col, just in (
        ("task", "left"),
        ("status", "left"),
        ("carbon_kg", "right"),
        ("grid_kwh", "right"),
        ("deadline_misses", "right"),
        ("migrations", "right"),
        ("wall_s", "right"),
    ):
        table.add_column(col.replace("_", " "), justify=just)  # type: ignore[arg-type]
    colours = {"done": "green", "skipped": "cyan", "failed": "red"}
    for r in summary.to_dict("records"):
        table.add_row(
            r["task"],
            f"[{colours.get(r['status'], 'white')}]{r['status']}[/]",
            fmt(r["carbon_kg"]),
            fmt(r["grid_kwh"]),
            fmt(r["deadline_misses"]),
            fmt(r["migrations"]),
            fmt(r["wall_s"], 3),
        )
    console.print(table)
    counts = summary["status"].value_counts().to_dict()
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), highlight=False)
    if counts.get("failed"):
        raise typer.Exit(1)
