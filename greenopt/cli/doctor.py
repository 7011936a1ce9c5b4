"""``greenopt doctor``: which MILP solvers Pyomo can use here, each checked by solving a tiny MILP
(:mod:`greenopt.solvers.doctor`), and the versions of the packages greenopt leans on."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from greenopt.cli.common import console, err_console, guard, lit


@guard
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
            lit(c.message),
        )
    console.print(t)
    working = [c.name for c in checks if c.works]
    if not working:
        err_console.print("[bold red]error:[/] no MILP solver works; method milp is unavailable")
        raise typer.Exit(1)
    console.print(f"working: {', '.join(working)}", highlight=False)
