"""What every command shares: the consoles, the guard that turns greenopt's errors into one red
line and exit code 2, and small formatting helpers."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from greenopt.errors import GreenoptError, ScenarioError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])
EXIT_USER_ERROR = 2
#: Exit code after Ctrl-C (128 + SIGINT), as shells report a process stopped by it.
EXIT_INTERRUPTED = 130


def guard(fn: F) -> F:
    """Turn greenopt's own errors (and unreadable/unwritable paths) into one red line, exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GreenoptError as exc:
            # escaped: a message may hold brackets ("pip install 'greenopt[parquet]'", names)
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_USER_ERROR) from None
        except OSError as exc:
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            err_console.print("[bold yellow]interrupted[/] (Ctrl-C)", highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def source_of(scenario: Path | None, example: str | None) -> str:
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


def fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)
