"""The benchmark suites' command line: ``python -m benchmarks --suite quick|real|scaling|solvers``.

Every method on every instance of the suite, each plan validated (exit code 1 if any is
invalid); the table, report and plots go to ``--out`` (see docs/benchmarks.md). This was
``greenopt bench`` before the harness left the shipped package.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.harness.harness import run_suite
from benchmarks.harness.report import method_summary, solver_summary
from greenopt.cli.common import console, err_console, fmt, guard

app = typer.Typer(
    name="python -m benchmarks",
    help="greenopt's benchmark suites (every plan validated).",
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@guard
def bench(
    suite: Annotated[
        str, typer.Option(help="Suite: quick, real, scaling or solvers (see docs/benchmarks.md).")
    ] = "quick",
    out: Annotated[
        Path | None, typer.Option(help="Output folder (table, report, plots, logs).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            "--data",
            help="Real data folder (default: $GREENOPT_DATA, else ../shared/data).",
        ),
    ] = None,
    method: Annotated[
        list[str] | None, typer.Option("--method", "-m", help="Only these methods (repeat).")
    ] = None,
    solver: Annotated[
        list[str] | None, typer.Option("--solver", help="solvers suite: only these (repeat).")
    ] = None,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Seeds (repeat; default per suite).")
    ] = None,
    day: Annotated[
        list[str] | None, typer.Option("--day", help="real suite: days YYYY-MM-DD (repeat).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="MILP time limit per plan, s (default per suite).")
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="MILP target relative gap.")] = 0.01,
    threads: Annotated[int, typer.Option(help="MILP solver threads.")] = 1,
    gbps: Annotated[float, typer.Option(help="Real instances: WAN Gbit/s per link.")] = 10.0,
    objective: Annotated[str, typer.Option("--objective", "-o", help="Objective.")] = "carbon",
) -> None:
    """Run a benchmark suite: every method, each plan validated; exit 1 if any plan is invalid."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"suite {suite}", total=None)

        def step(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{suite}: {text}")

        result = run_suite(
            suite,
            out=out,
            data_dir=data_dir,
            methods=method,
            solvers=solver,
            seeds=seed,
            days=day,
            time_limit=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            gbps=gbps,
            objective=objective,
            progress=step,
        )
    if result.skipped:
        console.print(f"[bold yellow]suite {suite} skipped:[/] {result.skipped}", highlight=False)
        return
    summary = method_summary(result.table)
    t = Table(title=f"Suite {suite}: {len(result.table)} plans", show_edge=False)
    cols = {
        "method": "method",
        "plans": "plans",
        "carbon kg": "carbon kg",
        "carbon cut vs run-now": "cut vs run-now",
        "grid kWh": "grid kWh",
        "deadline misses": "misses",
        "migrations": "migrations",
        "migrations per job": "migr./job",
        "short runs": "short runs",
        "wall s": "wall s",
        "gap max": "gap max",
        "valid": "valid",
    }
    for c in cols.values():
        t.add_column(c, justify="left" if c == "method" else "right")
    for r in summary.to_dict("records"):
        cut, gap = r["carbon cut vs run-now"], r["gap max"]
        cells = {
            **{k: fmt(r[k]) for k in cols},
            "carbon cut vs run-now": "–" if math.isnan(cut) else f"{cut:.1%}",
            "gap max": "–" if math.isnan(gap) else f"{gap:.2%}",
        }
        style = "" if r["valid"] == r["plans"] else "red"
        t.add_row(*[cells[k] for k in cols], style=style)
    console.print(t)
    if suite == "solvers" or result.table["solver"].nunique() > 1:
        st = solver_summary(result.table, mip_gap)
        if len(st):
            s = Table(title="MILP by solver", show_edge=False)
            for c in ("solver", "plans", "reached gap", "median time to gap s", "wall s mean"):
                s.add_column(c, justify="left" if c == "solver" else "right")
            for r in st.to_dict("records"):
                s.add_row(
                    r["solver"],
                    fmt(r["plans"]),
                    fmt(r["reached gap"]),
                    fmt(r["median time to gap s"]),
                    fmt(r["wall s mean"]),
                )
            console.print(s)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if out is not None:
        console.print(
            f"results: {result.files['csv']} (+ .parquet), report: {result.files['report']}",
            highlight=False,
        )
    bad = result.invalid_lines()
    if bad:
        for line in bad:
            err_console.print(f"[bold red]invalid:[/] {line}", highlight=False)
        raise typer.Exit(1)
