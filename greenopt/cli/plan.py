"""``greenopt plan``: plan one scenario and write the plan's tables, ``kpis.json``, plots and a
report into ``--out``.

Options are layered by :mod:`greenopt.options`: defaults < the scenario file's ``plan:`` section
(only what a file may set) < flags and ``--param KEY=VALUE`` (parsed to the option's type).
Choices (method, objective, deadlines, report format) are checked by the command line before
anything is loaded. The output folder follows :mod:`greenopt.cli.outdir` (exactly one run's
files, or nothing changed).

**The time limit is the command's.** For the MILP, ``--time-limit`` (default
:data:`~greenopt.options.DEFAULT_MILP_TIME_LIMIT` s) bounds the whole command — loading, the
plan, the outputs: the plan gets what is left after loading less an estimate of the outputs
(:func:`outputs_seconds`), and plots not started when the limit is reached are skipped with a
note. In deterministic mode the limit is only a safety net (the plan is bounded by work).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from greenopt.cli import flags
from greenopt.cli.common import (
    EXIT_INTERRUPTED,
    MethodName,
    console,
    emit_json,
    err_console,
    fmt,
    guard,
    lit,
    log,
    show_outcome,
    source_of,
    start,
)
from greenopt.cli.outdir import check_out, write_staged
from greenopt.errors import OptionsError, shown

#: Seconds per job-slot to validate a plan and write its outputs (tables, plots, report) and a
#: floor: measured 4 s + 6 s for 5,000 jobs × 96 slots on a shared 2-core machine.
OUTPUT_S_PER_JOB_SLOT = 2.5e-5
OUTPUT_MIN_S = 1.0
#: Warnings about the scenario printed one by one; the rest are counted.
MAX_WARNINGS = 10


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


def outputs_seconds(jobs: int, slots: int, plots: bool, report: bool) -> float:
    """Estimated seconds to write a plan's outputs (see :data:`OUTPUT_S_PER_JOB_SLOT`)."""
    share = 0.15 + (0.75 if plots else 0.0) + (0.1 if report else 0.0)
    return OUTPUT_MIN_S + share * OUTPUT_S_PER_JOB_SLOT * jobs * slots


@guard
def plan(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (or use --example).")
    ] = None,
    example: Annotated[
        str | None, typer.Option(help="Plan an embedded example instead: small | realistic.")
    ] = None,
    method: Annotated[
        MethodName | None,
        typer.Option(
            "--method",
            "-m",
            show_default="milp",
            help="Planning method.",
        ),
    ] = None,
    objective: flags.Objective = None,
    deadlines: flags.Deadlines = None,
    time_limit: flags.TimeLimit = None,
    deterministic: flags.Deterministic = None,
    mip_gap: flags.MipGap = None,
    threads: flags.Threads = None,
    seed: flags.Seed = None,
    solver: flags.Solver = None,
    memory_budget: flags.MemoryBudget = None,
    param: flags.Param = None,
    migration_alpha: Annotated[
        str | None,
        typer.Option(
            "--migration-alpha",
            help="The dwell rule's α (MODEL.md §5: after a migration a job works transfer/α "
            "hours at its destination before it moves again), overriding the scenario's; "
            "none turns the rule off.",
        ),
    ] = None,
    out: flags.Out = Path("out"),
    overwrite: flags.Overwrite = False,
    parquet: flags.Parquet = False,
    report: flags.Report = True,
    report_format: flags.Format = "html",
    plots: flags.Plots = True,
    solver_log: Annotated[
        Path | None, typer.Option(help="Write the solver's log to this file.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the solver's output and info lines.")
    ] = False,
    quiet: flags.Quiet = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document (status, KPIs, files) on stdout."),
    ] = False,
) -> None:
    """Plan one scenario and write the plan tables, kpis.json, plots and a report into --out."""
    t_start = time.perf_counter()
    start(quiet=quiet, as_json=as_json, verbose=verbose)
    import greenopt
    from greenopt import limits
    from greenopt.batch import load_source
    from greenopt.milp.clock import time_limit_of
    from greenopt.options import (
        check_caller,
        file_options,
        layered,
        parse_assignments,
        plan_kwargs,
        split_common,
    )
    from greenopt.report.report import write_outputs

    source = source_of(scenario, example)
    # --param may also set a common option (--param time_limit=5); a flag given wins
    from_params, method_params = split_common(parse_assignments(param))
    flags = {
        "method": method,
        "objective": objective,
        "deadlines": deadlines,
        "time_limit": time_limit,
        "deterministic": deterministic,
        "mip_gap": mip_gap,
        "threads": threads,
        "seed": seed,
        "solver": solver,
        "memory_budget": memory_budget,
    }
    flags = check_caller({**from_params, **{k: v for k, v in flags.items() if v is not None}})
    opts = layered(file_options(source), flags)
    alpha = None if migration_alpha is None else parse_migration_alpha(migration_alpha)
    if parquet:  # before planning, not after a long solve
        from greenopt.optional import require

        require("pyarrow", "Parquet output (--parquet)", extra="parquet")
    check_out(out, overwrite)  # before any work: a folder that cannot be used fails now
    with limits.budget_of_call(opts.get("memory_budget")):
        with console.status(f"Loading {lit(source)} ..."):
            sc = load_source(source)
            if migration_alpha is not None:
                sc = sc.with_jobs(list(sc.jobs), migration_alpha=alpha)
        idx = sc.index
        console.print(
            f"[bold]{lit(sc.name)}[/]: {len(idx.site_names)} sites, {len(idx.job_names)} jobs, "
            f"{idx.T} slots of {sc.horizon.slot_minutes} min — planning with "
            f"[cyan]{lit(opts['method'])}[/] ({lit(opts['objective'])}, "
            f"{lit(opts['deadlines'])} deadlines)",
            highlight=False,
        )
        warnings = [f"[{i.code}] {i.message}" for i in greenopt.check_scenario(sc)]
        for w in warnings[:MAX_WARNINGS]:
            log.warning(w)
        if len(warnings) > MAX_WARNINGS:
            log.warning(
                f"... and {len(warnings) - MAX_WARNINGS} more warnings about the scenario "
                "(--json lists them all; greenopt.check_scenario in Python)"
            )
        # the file's parameters that the method takes, then --param's (plan() rejects others)
        kwargs: dict[str, Any] = {
            **plan_kwargs(opts, opts["method"]),
            **method_params,
            "verbose": verbose,
        }
        if solver_log is not None:
            solver_log.parent.mkdir(parents=True, exist_ok=True)
            kwargs["log_file"] = str(solver_log)
        # the time limit is the command's: the plan gets what loading and the outputs leave
        deadline = None
        if opts["method"] == "milp":
            limit = time_limit_of(SimpleNamespace(**opts))
            if limit is not None:
                deadline = t_start + limit
                writing = outputs_seconds(len(idx.job_names), idx.T, plots, report)
                left = deadline - time.perf_counter() - writing
                kwargs["time_limit"] = max(left, min(1.0, limit))
        with console.status(f"Solving with {lit(opts['method'])} ...") as status:

            def progress(seconds: float, best: float, bound: float | None) -> None:
                gap = "" if bound is None else f", bound {bound:.6g}"
                status.update(
                    f"Solving with {lit(opts['method'])} ... {seconds:.0f} s, best plan "
                    f"{best:.6g}{gap}"
                )

            if opts["method"] == "milp":
                kwargs["progress"] = progress
            result = greenopt.plan(sc, opts["method"], **kwargs)
        violations = greenopt.validate(sc, result)
        with console.status(f"Writing {lit(out)} ..."):
            written = write_staged(
                out,
                lambda folder: write_outputs(
                    sc,
                    result,
                    folder,
                    parquet=parquet,
                    plots=plots,
                    report=report_format if report else None,
                    deadline=deadline,
                ),
            )
    for v in violations[:5]:
        log.warning(f"the plan breaks a rule of MODEL.md: {v}")
    _show(result, violations, written, out, solver_log)
    if as_json:
        emit_json(
            {
                "scenario": sc.name,
                "source": source,
                "method": result.method,
                "status": str(result.status),
                "objective": result.objective,
                "bound": result.bound,
                "gap": result.gap,
                "kpis": result.kpis,
                "violations": [str(v) for v in violations],
                "warnings": warnings,
                "notes": list(result.notes),
                "out": str(out),
                "files": [p.name for p in written],
                "wall_s": time.perf_counter() - t_start,
            }
        )
    if result.status == "interrupted":
        err_console.print(
            "[bold yellow]interrupted[/] (Ctrl-C): the plan written is the best found before the "
            'solver stopped ("status": "interrupted" in kpis.json)',
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED)


def _show(result: Any, violations: list, written: list[Path], out: Path, solver_log: Any) -> None:
    """The terminal summary: status line, KPI table, validation, files (not with -q/--json)."""
    gap = result.gap
    colour = "green" if result.status in ("optimal", "feasible", "heuristic") else "yellow"
    console.print(
        f"status [bold {colour}]{lit(result.status)}[/]  objective {fmt(result.objective, 6)}  "
        f"gap {'–' if gap is None else f'{gap:.2%}'}  "
        f"solver {lit(result.solver or '–')}  wall {result.wall_s:.2f} s",
        highlight=False,
    )
    show_outcome(result, violations, written, out, title="KPIs", what="the plan")
    if solver_log is not None:
        console.print(f"solver log: {lit(solver_log)}", highlight=False)
