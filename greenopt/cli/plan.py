"""``greenopt plan``: plan one scenario and write the plan's tables, ``kpis.json``, plots and a
report into ``--out``.

Options are layered by :mod:`greenopt.options`: defaults < the scenario file's ``plan:`` section
(only what a file may set) < flags and ``--param KEY=VALUE`` (parsed to the option's type). The
outputs are built in a hidden folder next to ``--out`` and moved in only once all are written,
so a failure or Ctrl-C leaves nothing half-written there.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from greenopt.cli.common import (
    EXIT_INTERRUPTED,
    console,
    err_console,
    fmt,
    guard,
    source_of,
)
from greenopt.errors import OptionsError, ScenarioError, shown

#: ``--migration-alpha`` values that turn the dwell rule off.
_RULE_OFF = ("none", "null", "off")


def parse_migration_alpha(text: str) -> float | None:
    """``--migration-alpha``: a number in (0, 1], or ``none`` (the dwell rule off)."""
    if text.strip().lower() in _RULE_OFF:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value <= 1.0:  # NaN fails too
        raise OptionsError(
            f"--migration-alpha must be a number in (0, 1] or none (the dwell rule off), "
            f"got {shown(text)}",
            "migration_alpha",
        )
    return value


def write_staged(out: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
    """Run ``write(folder)`` in a hidden folder next to ``out``, then move its files into
    ``out``; on any failure (or Ctrl-C) the hidden folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        written = write(staging)
        out.mkdir(parents=True, exist_ok=True)
        moved = []
        for path in written:
            target = out / path.relative_to(staging)
            os.replace(path, target)
            moved.append(target)
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@guard
def plan(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (or use --example).")
    ] = None,
    example: Annotated[
        str | None, typer.Option(help="Plan an embedded example instead: small | realistic.")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-m",
            help="milp | greedy | online | run-now | threshold | greenest-region | "
            "follow-renewables  [default: milp]",
        ),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option("--objective", "-o", help="carbon | grid | cost | weighted [default: carbon]"),
    ] = None,
    deadlines: Annotated[str | None, typer.Option(help="soft | hard  [default: soft]")] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Solver time limit in seconds (MILP).")
    ] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap  [default: 0.01]")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed  [default: 0]")] = None,
    solver: Annotated[
        str | None, typer.Option(help="Pyomo solver name for milp  [default: highs]")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Method parameter KEY=VALUE (repeatable)."),
    ] = None,
    migration_alpha: Annotated[
        str | None,
        typer.Option(
            "--migration-alpha",
            help="The dwell rule's α (MODEL.md §5: after a migration a job works transfer/α "
            "hours at its destination before it moves again), overriding the scenario's; "
            "none turns the rule off.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    parquet: Annotated[bool, typer.Option(help="Also write the tables as Parquet.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html / report.md.")] = True,
    report_format: Annotated[str, typer.Option(help="html (self-contained) | md")] = "html",
    plots: Annotated[bool, typer.Option(help="Write gantt.png, energy.png, wan.png.")] = True,
    solver_log: Annotated[
        Path | None, typer.Option(help="Write the solver's log to this file.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the solver's output.")
    ] = False,
) -> None:
    """Plan one scenario and write the plan tables, kpis.json, plots and a report into --out."""
    import greenopt
    from greenopt.batch import load_source
    from greenopt.options import (
        check_caller,
        file_options,
        layered,
        parse_assignments,
        plan_kwargs,
        split_common,
    )
    from greenopt.report.report import kpi_rows, write_outputs

    source = source_of(scenario, example)
    # --param may also set a common option (--param time_limit=5); a flag given wins
    from_params, method_params = split_common(parse_assignments(param))
    flags = {
        "method": method,
        "objective": objective,
        "deadlines": deadlines,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
        "solver": solver,
    }
    flags = check_caller({**from_params, **{k: v for k, v in flags.items() if v is not None}})
    opts = layered(file_options(source), flags)
    if parquet:  # before planning, not after a long solve
        from greenopt.optional import require

        require("pyarrow", "Parquet output (--parquet)", extra="parquet")
    if report and report_format not in ("html", "md"):
        raise ScenarioError(f"--report-format must be html or md, got {report_format!r}", "report")
    alpha = None if migration_alpha is None else parse_migration_alpha(migration_alpha)
    with console.status(f"Loading {source} ..."):
        sc = load_source(source)
        if migration_alpha is not None:
            sc = sc.with_jobs(list(sc.jobs), migration_alpha=alpha)
    idx = sc.index
    console.print(
        f"[bold]{sc.name}[/]: {len(idx.site_names)} sites, {len(idx.job_names)} jobs, "
        f"{idx.T} slots of {sc.horizon.slot_minutes} min — planning with [cyan]{opts['method']}[/]"
        f" ({opts['objective']}, {opts['deadlines']} deadlines)",
        highlight=False,
    )
    # the file's parameters that the method takes, then --param's (plan() rejects any other)
    kwargs = {**plan_kwargs(opts, opts["method"]), **method_params, "verbose": verbose}
    if solver_log is not None:
        solver_log.parent.mkdir(parents=True, exist_ok=True)
        kwargs["log_file"] = str(solver_log)
    with console.status(f"Solving with {opts['method']} ...") as status:

        def progress(seconds: float, objective: float, bound: float | None) -> None:
            gap = "" if bound is None else f", bound {bound:.6g}"
            status.update(
                f"Solving with {opts['method']} ... {seconds:.0f} s, best plan {objective:.6g}{gap}"
            )

        if opts["method"] == "milp":
            kwargs["progress"] = progress
        result = greenopt.plan(sc, opts["method"], **kwargs)
    violations = greenopt.validate(sc, result)
    with console.status(f"Writing {out} ..."):
        written = write_staged(
            out,
            lambda folder: write_outputs(
                sc,
                result,
                folder,
                parquet=parquet,
                plots=plots,
                report=report_format if report else None,
            ),
        )
    gap = result.gap
    colour = "green" if result.status in ("optimal", "feasible", "heuristic") else "yellow"
    console.print(
        f"status [bold {colour}]{result.status}[/]  objective {fmt(result.objective, 6)}  "
        f"gap {'–' if gap is None else f'{gap:.2%}'}  "
        f"solver {result.solver or '–'}  wall {result.wall_s:.2f} s",
        highlight=False,
    )
    table = Table(title="KPIs", show_edge=False)
    table.add_column("kpi")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for row in kpi_rows(result):
        table.add_row(*row)
    console.print(table)
    if violations:
        console.print(
            f"[bold yellow]warning:[/] the plan breaks {len(violations)} rule(s) of MODEL.md, "
            f"first: {violations[0]}",
            highlight=False,
        )
    else:
        console.print("validation: [green]OK[/] (0 violations)")
    names = ", ".join(p.name for p in written)
    console.print(f"wrote {len(written)} files into [bold]{out}[/]: {names}", highlight=False)
    if solver_log is not None:
        console.print(f"solver log: {solver_log}", highlight=False)
    if result.status == "interrupted":
        err_console.print(
            "[bold yellow]interrupted[/] (Ctrl-C): the plan written is the best found before the "
            'solver stopped ("status": "interrupted" in kpis.json)',
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
