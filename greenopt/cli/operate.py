"""``greenopt operate``: operate one scenario slot by slot under uncertainty (MODEL.md §11,
docs/operate.md) and write the operated plan's files, ``decisions.csv`` and, in ``kpis.json``,
the operation's facts into ``--out``.

Options are layered as for ``greenopt plan`` (defaults < the scenario file's ``plan:`` section <
flags and ``--param``), except the method: ``--method``, else greedy — a file's ``plan: method``
names how the day is *planned*, not how it is operated. ``--out`` follows ``plan``'s rule
(:mod:`greenopt.cli.outdir`: a folder holding an earlier run's outputs is replaced only with
``--overwrite``, one holding anything else is refused) and the outputs are staged: a failure or
Ctrl-C leaves ``--out`` as it was. Names from the scenario print literally (:func:`lit`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from greenopt.cli import flags
from greenopt.cli.common import (
    ArrivalMode,
    ForecasterName,
    MethodName,
    console,
    emit_json,
    fmt,
    guard,
    lit,
    show_outcome,
    source_of,
    start,
)
from greenopt.cli.outdir import check_out, write_staged
from greenopt.errors import OptionsError


def parse_delay_cost(text: str | None) -> float | str | None:
    """``--delay-cost``: ``auto`` (default), ``none``, or a number ``>= 0``."""
    if text is None or text.strip().lower() == "auto":
        return "auto"
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise OptionsError(
            f"--delay-cost must be auto, none or a number >= 0, got {text!r}", "delay_cost"
        )
    return value


@guard
def operate(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (or use --example).")
    ] = None,
    example: Annotated[
        str | None, typer.Option(help="Operate an embedded example instead: small | realistic.")
    ] = None,
    method: Annotated[
        MethodName, typer.Option("--method", "-m", help="Method asked at each decision.")
    ] = "greedy",
    forecast: Annotated[
        ForecasterName,
        typer.Option(
            help="Forecaster (scenario: the forecasts the scenario file carries, completed by "
            "persistence)."
        ),
    ] = "persistence",
    arrivals: Annotated[
        ArrivalMode,
        typer.Option(help="online: a job is known from its release; known: all jobs."),
    ] = "online",
    replan_every: Annotated[
        int,
        typer.Option(
            min=1, help="Slots between decisions (the horizon's length: one day-ahead plan)."
        ),
    ] = 1,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per decision (the MILP's budget).")
    ] = None,
    delay_cost: Annotated[
        str | None,
        typer.Option(
            help="Price of deferring known work while re-planning: auto | none | a number "
            "(objective units per hour of a job's lateness)  [default: auto]"
        ),
    ] = None,
    objective: flags.Objective = None,
    deadlines: flags.Deadlines = None,
    mip_gap: flags.MipGap = None,
    threads: flags.Threads = None,
    seed: flags.Seed = None,
    solver: flags.Solver = None,
    param: flags.Param = None,
    regret: Annotated[
        bool,
        typer.Option(help="Also plan the perfect-foresight plan and report the regret."),
    ] = False,
    out: flags.Out = Path("out"),
    overwrite: flags.Overwrite = False,
    parquet: flags.Parquet = False,
    report: flags.Report = True,
    report_format: flags.Format = "html",
    plots: flags.Plots = True,
    quiet: flags.Quiet = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document (facts, KPIs, files) on stdout."),
    ] = False,
) -> None:
    """Operate a scenario slot by slot on forecasts and write the plan, decisions.csv and KPIs."""
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
    from greenopt.report.operation import write_operation

    start(quiet=quiet, as_json=as_json)
    source = source_of(scenario, example)
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
    chosen = parse_delay_cost(delay_cost)
    check_out(out, overwrite)  # before any work: a folder that cannot be used fails now
    with console.status(f"Loading {lit(source)} ..."):
        sc = load_source(source)
    idx = sc.index
    console.print(
        f"[bold]{lit(sc.name)}[/]: {len(idx.site_names)} sites, {len(idx.job_names)} jobs, "
        f"{idx.T} slots of {sc.horizon.slot_minutes} min — operating with [cyan]{lit(method)}[/] "
        f"every {replan_every} slot(s), {forecast} forecasts, {arrivals} arrivals",
        highlight=False,
    )
    kwargs: dict[str, Any] = {**plan_kwargs(opts, method), **method_params}
    kwargs.pop("verbose", None)
    with console.status(f"Operating with {lit(method)} ..."):
        op = greenopt.operate(
            sc,
            method,
            forecast=forecast,
            arrivals=arrivals,
            replan_every=replan_every,
            delay_cost=chosen,
            **kwargs,
        )
        if regret:
            _ = op.regret  # plans the foresight plan once, inside the spinner
    violations = greenopt.validate(sc, op.plan)
    with console.status(f"Writing {lit(out)} ..."):
        written = write_staged(
            out,
            lambda folder: write_operation(
                op,
                folder,
                parquet=parquet,
                plots=plots,
                report=report_format if report else None,
                regret=regret,
            ),
        )
    d = op.decisions
    fell = int(d["status"].isin(["fallback", "no-plan"]).sum())
    console.print(
        f"status [bold green]{op.plan.status}[/]  objective {fmt(op.plan.objective, 6)}  "
        f"{len(d)} decisions, decision time p50 {d['wall_s'].median():.3g} s, "
        f"max {d['wall_s'].max():.3g} s  wall {op.plan.wall_s:.2f} s"
        + (f"  [yellow]{fell} fell back[/]" if fell else ""),
        highlight=False,
    )
    if regret:
        console.print(
            f"regret {fmt(op.regret, 6)} (foresight objective {fmt(op.foresight.objective, 6)})",
            highlight=False,
        )
    show_outcome(
        op.plan, violations, written, out, title="KPIs (on the actuals)", what="the operated plan"
    )
    if as_json:
        emit_json(
            {
                "scenario": sc.name,
                "source": source,
                "method": method,
                "forecast": forecast,
                "arrivals": arrivals,
                "status": str(op.plan.status),
                "objective": op.plan.objective,
                "kpis": op.plan.kpis,
                "regret": op.regret if regret else None,
                "decisions": len(d),
                "violations": [str(v) for v in violations],
                "out": str(out),
                "files": [p.name for p in written],
            }
        )
