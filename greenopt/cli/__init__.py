"""The ``greenopt`` command line (typer + rich).

Commands: ``plan``, ``batch``, ``bench``, ``doctor``, ``feasibility``, ``example``.
Planning options are layered: built-in defaults < the scenario file's ``plan:`` section < flags.
An error greenopt raises (bad scenario, unknown method, infeasible hard deadlines, missing or
failing solver) prints one red line and exits with code 2 — never a traceback.

Ctrl-C: during a MILP solve it stops the solver, and ``greenopt plan`` writes the best plan found
so far (``"status": "interrupted"`` in ``kpis.json``) and exits with code 130; anywhere else
(loading, a heuristic, writing) it stops at once, exits with code 130 and writes nothing.
``greenopt plan`` builds its outputs in a hidden folder next to ``--out`` and moves them into
``--out`` only once all are written, so a failure or Ctrl-C leaves nothing half-written there.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from greenopt.errors import GreenoptError, ScenarioError

app = typer.Typer(
    name="greenopt",
    help="Plan AI workloads across WAN-connected datacenters onto renewable, low-carbon power.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])
EXIT_USER_ERROR = 2
#: Exit code after Ctrl-C (128 + SIGINT), as shells report a process stopped by it.
EXIT_INTERRUPTED = 130


def _guard(fn: F) -> F:
    """Turn greenopt's own errors (and unreadable/unwritable paths) into one red line, exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GreenoptError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            err_console.print("[bold yellow]interrupted[/] (Ctrl-C)", highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def _write_staged(out: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
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


def _version(value: bool) -> None:
    if value:
        from greenopt import __version__

        console.print(f"greenopt {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Plan AI workloads across WAN-connected datacenters onto renewable, low-carbon power."""


# -- helpers ----------------------------------------------------------------------------------
def _scalar(text: str) -> Any:
    """``"200"`` → 200, ``"0.5"`` → 0.5, ``"true"`` → True, otherwise the string."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | bool | str) else text


def _params(items: list[str] | None, sweep: bool = False) -> dict[str, Any]:
    """``KEY=VALUE`` (or ``KEY=V1,V2,...`` for a sweep) into a mapping."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--param {item!r} must look like KEY=VALUE", "param")
        key = key.strip().replace("-", "_")
        out[key] = [_scalar(v.strip()) for v in value.split(",")] if sweep else _scalar(value)
    return out


def _source(scenario: Path | None, example: str | None) -> str:
    if scenario is not None and example is not None:
        raise ScenarioError("give a SCENARIO file or --example, not both", "scenario")
    if scenario is None and example is None:
        raise ScenarioError("give a SCENARIO file or --example NAME (e.g. --example small)")
    if example is not None:
        from greenopt import examples

        if example not in examples.names():
            raise ScenarioError(
                f"example {example!r} is unknown; choose one of {examples.names()}", example
            )
        return f"example:{example}"
    if not scenario.is_file():  # type: ignore[union-attr]
        raise ScenarioError(f"scenario file {str(scenario)!r} does not exist", str(scenario))
    return str(scenario)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


# -- plan ------------------------------------------------------------------------------------
@app.command()
@_guard
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
    from greenopt.batch import file_plan_options, load_source, resolve_options
    from greenopt.report.report import kpi_rows, write_outputs

    source = _source(scenario, example)
    flags = {
        "method": method,
        "objective": objective,
        "deadlines": deadlines,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
        "solver": solver,
        "params": _params(param),
    }
    opts = resolve_options(file_plan_options(source), flags)
    if report and report_format not in ("html", "md"):
        raise ScenarioError(f"--report-format must be html or md, got {report_format!r}", "report")
    with console.status(f"Loading {source} ..."):
        sc = load_source(source)
    idx = sc.index
    console.print(
        f"[bold]{sc.name}[/]: {len(idx.site_names)} sites, {len(idx.job_names)} jobs, "
        f"{idx.T} slots of {sc.horizon.slot_minutes} min — planning with [cyan]{opts['method']}[/]"
        f" ({opts['objective']}, {opts['deadlines']} deadlines)",
        highlight=False,
    )
    kwargs = {k: v for k, v in opts.items() if k not in ("method", "params")}
    if solver_log is not None:
        solver_log.parent.mkdir(parents=True, exist_ok=True)
        kwargs["log_file"] = str(solver_log)
    with console.status(f"Solving with {opts['method']} ...") as status:

        def progress(seconds: float, objective: float, bound: float | None) -> None:
            gap = "" if bound is None else f", bound {bound:.6g}"
            status.update(
                f"Solving with {opts['method']} ... {seconds:.0f} s, best plan {objective:.6g}{gap}"
            )

        extra = {"progress": progress} if opts["method"] == "milp" else {}
        result = greenopt.plan(
            sc, opts["method"], verbose=verbose, **kwargs, **opts["params"], **extra
        )
    violations = greenopt.validate(sc, result)
    with console.status(f"Writing {out} ..."):
        written = _write_staged(
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
        f"status [bold {colour}]{result.status}[/]  objective {_fmt(result.objective, 6)}  "
        f"gap {'–' if gap is None or math.isnan(gap) else f'{gap:.2%}'}  "
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


# -- batch -----------------------------------------------------------------------------------
@app.command()
@_guard
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
    deadlines: Annotated[str | None, typer.Option(help="soft | hard")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit (s).")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    solver: Annotated[str | None, typer.Option(help="Pyomo solver for milp.")] = None,
    workers: Annotated[int, typer.Option(help="Local workers (ignored with --scheduler).")] = 2,
    processes: Annotated[
        bool, typer.Option("--processes/--threads", help="Local workers as processes or threads.")
    ] = True,
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

    specs = list(sources or []) + [f"example:{e}" for e in example or []]
    if not specs:
        raise ScenarioError("give scenario files, folders or globs, or --example NAME", "sources")
    day_list = None
    if days:
        first, _, last = days.partition(":")
        day_list = B.day_range(first, last or first)
    if report is not None and report not in ("html", "md"):
        raise ScenarioError(f"--report must be html or md, got {report!r}", "report")
    flags = {
        "deadlines": deadlines,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "seed": seed,
        "solver": solver,
    }
    tasks = B.make_tasks(
        B.expand_sources(specs),
        methods=method,
        objectives=objective,
        params=_params(param, sweep=True),
        days=day_list,
        rolling=rolling,
        options=flags,
        parquet=parquet,
        plots=plots,
        report=report,
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
            _fmt(r["carbon_kg"]),
            _fmt(r["grid_kwh"]),
            _fmt(r["deadline_misses"]),
            _fmt(r["migrations"]),
            _fmt(r["wall_s"], 3),
        )
    console.print(table)
    counts = summary["status"].value_counts().to_dict()
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), highlight=False)
    if counts.get("failed"):
        raise typer.Exit(1)


# -- bench -----------------------------------------------------------------------------------
@app.command()
@_guard
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
    from benchmarks.harness import run_suite
    from benchmarks.harness.report import method_summary, solver_summary

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
        "wall s": "wall s",
        "gap max": "gap max",
        "valid": "valid",
    }
    for c in cols.values():
        t.add_column(c, justify="left" if c == "method" else "right")
    for r in summary.to_dict("records"):
        cut, gap = r["carbon cut vs run-now"], r["gap max"]
        cells = {
            **{k: _fmt(r[k]) for k in cols},
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
                    _fmt(r["plans"]),
                    _fmt(r["reached gap"]),
                    _fmt(r["median time to gap s"]),
                    _fmt(r["wall s mean"]),
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


# -- doctor ----------------------------------------------------------------------------------
@app.command()
@_guard
def doctor() -> None:
    """Which MILP solvers Pyomo can use here — each must really solve a tiny MILP — and versions."""
    from greenopt import __version__
    from greenopt.solvers.doctor import check_solvers, package_versions

    console.print(f"greenopt {__version__}, Python {sys.version.split()[0]}", highlight=False)
    pk = Table(title="Packages", show_edge=False)
    pk.add_column("package")
    pk.add_column("version")
    for name, ver in package_versions().items():
        pk.add_row(name, ver or "[red]missing[/]")
    console.print(pk)
    with console.status("Solving a tiny MILP with each solver ..."):
        checks = check_solvers()
    t = Table(title="MILP solvers", show_edge=False)
    for c in ("solver", "available", "works", "version", "time", "note"):
        t.add_column(c)
    for c in checks:
        t.add_row(
            c.name,
            "yes" if c.available else "no",
            "[green]yes[/]" if c.works else ("[red]no[/]" if c.available else "no"),
            c.version or "–",
            f"{c.seconds:.2f} s",
            c.message,
        )
    console.print(t)
    working = [c.name for c in checks if c.works]
    if not working:
        err_console.print("[bold red]error:[/] no MILP solver works; method milp is unavailable")
        raise typer.Exit(1)
    console.print(f"working: {', '.join(working)}", highlight=False)


# -- feasibility -----------------------------------------------------------------------------
def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ScenarioError(
            f"--{what} must be numbers separated by commas, got {text!r}", what
        ) from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise ScenarioError(f"--{what} must be positive numbers, got {text!r}", what)
    return values


@app.command()
@_guard
def feasibility(
    sizes: Annotated[str, typer.Option(help="Checkpoint sizes, GB, comma-separated.")] = (
        "1,10,100,1000"
    ),
    gbps: Annotated[str, typer.Option(help="WAN bandwidths, Gbit/s, comma-separated.")] = (
        "1,10,40,100"
    ),
    windows: Annotated[str, typer.Option(help="Renewable windows, hours.")] = "1,2,4,8",
    alpha: Annotated[float, typer.Option(help="Disruption budget fraction α.")] = 0.1,
    efficiency: Annotated[float, typer.Option(help="Link efficiency η.")] = 1.0,
    restore_h: Annotated[float, typer.Option(help="Fixed restore time per move (h).")] = 0.0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for feasibility.csv and feasibility.png.")
    ] = None,
) -> None:
    """The seed paper's feasibility domain: which checkpoints can move within α·W (MODEL.md §9)."""
    from greenopt.network.feasibility import feasibility_table, plot_domain

    if not 0 < alpha <= 1 or not 0 < efficiency <= 1 or restore_h < 0:
        raise ScenarioError("need 0 < alpha ≤ 1, 0 < efficiency ≤ 1 and restore_h ≥ 0", "alpha")
    s, b, w = _floats(sizes, "sizes"), _floats(gbps, "gbps"), _floats(windows, "windows")
    df = feasibility_table(s, b, w, alpha=alpha, efficiency=efficiency, restore_h=restore_h)
    t = Table(
        title=f"Largest movable checkpoint S_max (GB), α = {alpha:g}, η = {efficiency:g}; "
        "✓≤x: given sizes up to x GB move in time, ✗: none",
        show_edge=False,
    )
    t.add_column("window h \\ Gbit/s")
    for bw in b:
        t.add_column(f"{bw:g}", justify="right")
    for win in w:
        cells = []
        for bw in b:
            sub = df[(df["window_h"] == win) & (df["gbps"] == bw)]
            ok = sub.loc[sub["time_feasible"], "state_gb"]
            mark = f" ✓≤{ok.max():g}" if len(ok) else " ✗"
            cells.append(f"{sub['s_max_gb'].iloc[0]:,.0f}{mark}")
        t.add_row(f"{win:g}", *cells)
    console.print(t)
    feasible = int(df["time_feasible"].sum())
    console.print(f"{feasible} of {len(df)} (size, bandwidth, window) combinations are feasible")
    if out is not None:
        import matplotlib.pyplot as plt

        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "feasibility.csv", index=False)
        ax = plot_domain(
            w,
            alpha=alpha,
            efficiency=efficiency,
            restore_h=restore_h,
            gbps_range=(min(b) / 2, max(b) * 2),
        )
        for size in s:
            ax.axhline(size, color="grey", linewidth=0.6, linestyle=":")
        ax.figure.savefig(out / "feasibility.png", dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        console.print(f"wrote {out / 'feasibility.csv'} and {out / 'feasibility.png'}")


# -- example ---------------------------------------------------------------------------------
@app.command()
@_guard
def example(
    name: Annotated[str, typer.Argument(help="Example name: small | realistic.")] = "small",
    folder: Annotated[Path, typer.Argument(help="Folder to write the scenario files into.")] = (
        Path("example")
    ),
) -> None:
    """Write an embedded example as scenario files (scenario.yaml + CSV + GraphML)."""
    from greenopt import examples
    from greenopt.io.files import save_scenario

    sc = examples.load(name)
    path = save_scenario(sc, folder)
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    console.print(
        f"wrote example [bold]{name}[/] ({len(sc.sites)} sites, {len(sc.jobs)} jobs, "
        f"{sc.horizon.slots} slots) to {folder}: {', '.join(files)}",
        highlight=False,
    )
    console.print(f"plan it with: greenopt plan {path} --method greedy --out out", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    app()
