"""What every command shares: the consoles, the output modes (``--quiet``, ``--json``), the exit
codes, the guard that turns greenopt's errors into one red line, the ``greenopt`` logger's
terminal handler, and small formatting helpers.

**Exit codes** (docs/cli.md lists them for users):

====  ===========================================================================================
0     success
1     ``batch``: some task failed (its ``error.json`` says why); anything else: a bug in greenopt
2     usage: an unknown flag, a value not among a flag's choices, an option's wrong name, type or
      value (:class:`~greenopt.errors.OptionsError`, also from a scenario file's ``plan:``), or a
      feature whose optional package is not installed
      (:class:`~greenopt.errors.MissingDependencyError`: the message names the extra)
3     bad input: a scenario, forecast or data file that is wrong, missing or unreadable, a scenario
      too large for the memory budget, an output folder that cannot be used
4     infeasible: hard deadlines that no plan can meet (:class:`~greenopt.errors.InfeasibleError`)
5     solver failure: the solver is missing or failed (:class:`~greenopt.errors.SolverError`)
6     cluster failure: the Dask scheduler cannot be reached, or every worker was lost
130   interrupted (Ctrl-C)
====  ===========================================================================================

**Names are shown, never interpreted.** Every string that comes from the user or a file (a
scenario named ``Q3 plan [/draft]``, a job ``[/x]``, an error quoting one) is printed through
:func:`lit`, which escapes rich's markup.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from greenopt.errors import (
    ClusterError,
    GreenoptError,
    InfeasibleError,
    MissingDependencyError,
    OptionsError,
    ScenarioError,
    SolverError,
)
from greenopt.forecasts.forecasters import FORECASTERS
from greenopt.objectives import OBJECTIVES
from greenopt.operate.simulate import ARRIVALS
from greenopt.options import DEADLINES, METHODS

console = Console()
err_console = Console(stderr=True)
#: The library's logger; the command line shows its warnings (and, with -v, its info) on stderr.
log = logging.getLogger("greenopt")

F = TypeVar("F", bound=Callable[..., Any])
EXIT_OK = 0
EXIT_TASKS_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INFEASIBLE = 4
EXIT_SOLVER = 5
EXIT_CLUSTER = 6
#: Exit code after Ctrl-C (128 + SIGINT), as shells report a process stopped by it.
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_TASKS_FAILED: "some batch task failed",
    EXIT_USAGE: "usage: a wrong flag, choice or option, or an optional package not installed",
    EXIT_INPUT: "bad input: a scenario or data file, or the output folder",
    EXIT_INFEASIBLE: "infeasible: hard deadlines no plan can meet",
    EXIT_SOLVER: "solver failure",
    EXIT_CLUSTER: "cluster failure: Dask scheduler or workers",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


def lit(value: Any) -> str:
    """``value`` as literal text for rich (its markup escaped): ``[/x]`` prints as ``[/x]``."""
    return escape(str(value))


@dataclass
class Output:
    """How a command talks: ``quiet`` (errors only), ``json`` (one JSON document on stdout,
    nothing else there)."""

    quiet: bool = False
    json: bool = False
    verbose: bool = False

    @property
    def chatty(self) -> bool:
        """Whether progress, tables and summaries are printed."""
        return not (self.quiet or self.json)


#: The current command's output mode (set by :func:`start`).
output = Output()


def start(*, quiet: bool = False, as_json: bool = False, verbose: bool = False) -> Output:
    """Set the command's output mode and route the ``greenopt`` logger to stderr."""
    global output
    output = Output(quiet=quiet, json=as_json, verbose=verbose)
    console.quiet = not output.chatty
    _install_log_handler(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    return output


class _RichLogHandler(logging.Handler):
    """``greenopt`` log records as ``warning: ...`` lines on stderr, their text literal."""

    STYLES: ClassVar[dict[int, str]] = {logging.WARNING: "bold yellow", logging.ERROR: "bold red"}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = record.levelname.lower()
            style = self.STYLES.get(record.levelno, "dim")
            err_console.print(
                f"[{style}]{level}:[/] {lit(record.getMessage())}", highlight=False, soft_wrap=True
            )
        except Exception:  # logging must never raise
            self.handleError(record)


def _install_log_handler(level: int) -> None:
    for h in list(log.handlers):
        if isinstance(h, _RichLogHandler):
            log.removeHandler(h)
    handler = _RichLogHandler(level)
    log.addHandler(handler)
    log.setLevel(min(level, logging.INFO))
    log.propagate = False


def emit_json(document: dict[str, Any]) -> None:
    """Print ``document`` as the one JSON document of stdout (``--json``)."""
    sys.stdout.write(json.dumps(_plain(document), indent=2, default=str) + "\n")
    sys.stdout.flush()


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        try:
            return _plain(x.item())
        except (TypeError, ValueError):
            return str(x)
    return x


def exit_code_of(exc: BaseException) -> int:
    """The exit code of an error greenopt raised (see the module docstring)."""
    if isinstance(exc, ClusterError):
        return EXIT_CLUSTER
    if isinstance(exc, OptionsError | MissingDependencyError):
        return EXIT_USAGE
    if isinstance(exc, InfeasibleError):
        return EXIT_INFEASIBLE
    if isinstance(exc, SolverError):
        return EXIT_SOLVER
    return EXIT_INPUT


def _fail(code: int, kind: str, message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {lit(message)}", highlight=False, soft_wrap=True)
    if output.json:
        emit_json({"error": {"type": kind, "message": message}, "exit_code": code})
    return typer.Exit(code)


def guard(fn: F) -> F:
    """Turn greenopt's own errors (and unreadable/unwritable paths) into one red line and the
    exit code of their kind; Ctrl-C into a yellow line and 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GreenoptError as exc:
            # escaped by _fail: a message may hold brackets ("pip install 'greenopt[parquet]'")
            raise _fail(exit_code_of(exc), type(exc).__name__, str(exc)) from None
        except OSError as exc:
            raise _fail(EXIT_INPUT, type(exc).__name__, str(exc)) from None
        except KeyboardInterrupt:
            err_console.print("[bold yellow]interrupted[/] (Ctrl-C)", highlight=False)
            if output.json:
                emit_json({"error": {"type": "KeyboardInterrupt"}, "exit_code": EXIT_INTERRUPTED})
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def source_of(scenario: Path | None, example: str | None) -> str:
    """``scenario`` or ``example:NAME``; giving both or neither is a usage error (exit 2)."""
    if scenario is not None and example is not None:
        raise typer.BadParameter(
            "give a SCENARIO file or --example, not both", param_hint="SCENARIO"
        )
    if scenario is None and example is None:
        raise typer.BadParameter(
            "give a SCENARIO file or --example NAME (e.g. --example small)", param_hint="SCENARIO"
        )
    if example is not None:
        from greenopt import examples

        if example not in examples.names():
            raise typer.BadParameter(
                f"example {example!r} is unknown; choose one of {', '.join(examples.names())}",
                param_hint="'--example'",
            )
        return f"example:{example}"
    if not scenario.is_file():  # type: ignore[union-attr]
        raise ScenarioError(f"scenario file {str(scenario)!r} does not exist", str(scenario))
    return str(scenario)


def fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


# -- closed choices, checked by the command line before anything runs (exit 2) -------------------
MethodName = Literal[METHODS]  # type: ignore[valid-type]
ObjectiveName = Literal[tuple(OBJECTIVES)]  # type: ignore[valid-type]
DeadlineRule = Literal[DEADLINES]  # type: ignore[valid-type]
ReportFormat = Literal["html", "md"]
WorkerKind = Literal["process", "thread"]
ForecasterName = Literal[FORECASTERS]  # type: ignore[valid-type]
ArrivalMode = Literal[ARRIVALS]  # type: ignore[valid-type]
#: The same choices for repeatable flags (typer takes an Enum, not a Literal, in a list).
Methods = StrEnum("Methods", {m: m for m in METHODS})  # type: ignore[misc]
Objectives = StrEnum("Objectives", {o: o for o in OBJECTIVES})  # type: ignore[misc]
Forecasters = StrEnum("Forecasters", {f: f for f in FORECASTERS})  # type: ignore[misc]


def show_outcome(
    plan: Any, violations: list, written: list[Path], out: Path, *, title: str, what: str
) -> None:
    """The end of ``plan``'s and ``operate``'s terminal summary: the KPI table, the validation,
    the files written — every cell printed literally."""
    from rich.table import Table

    from greenopt.report.report import kpi_rows

    table = Table(title=title, show_edge=False)
    table.add_column("kpi")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for row in kpi_rows(plan):
        table.add_row(*(lit(cell) for cell in row))
    console.print(table)
    if violations:
        console.print(
            f"[bold yellow]warning:[/] {what} breaks {len(violations)} rule(s) of MODEL.md, "
            f"first: {lit(violations[0])}",
            highlight=False,
        )
    else:
        console.print("validation: [green]OK[/] (0 violations)")
    names = ", ".join(p.name for p in written)
    console.print(
        f"wrote {len(written)} files into [bold]{lit(out)}[/]: {lit(names)}", highlight=False
    )
