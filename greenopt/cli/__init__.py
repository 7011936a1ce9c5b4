"""The ``greenopt`` command line (typer + rich): one module per command.

Commands: ``plan`` (:mod:`.plan`), ``batch`` (:mod:`.batch`), ``doctor`` (:mod:`.doctor`),
``feasibility`` (:mod:`.feasibility`), ``example`` (:mod:`.example`); what they share is in
:mod:`.common` (output modes, exit codes, escaping) and :mod:`.outdir` (``plan --out``). Planning
options are layered by :mod:`greenopt.options`: built-in defaults < the scenario file's ``plan:``
section < flags; closed choices (method, objective, deadlines, report format, worker kind) are
checked by the command line before anything runs. An error greenopt raises prints one red line
and exits with the code of its kind — 2 usage, 3 bad input, 4 infeasible, 5 solver, 6 cluster,
130 interrupted (:mod:`.common` has the table, docs/cli.md too) — never a traceback.

Ctrl-C: during a MILP solve it stops the solver, and ``greenopt plan`` writes the best plan found
so far (``"status": "interrupted"`` in ``kpis.json``) and exits with code 130; anywhere else
(loading, a heuristic, writing) it stops at once, exits with code 130 and writes nothing.

The benchmark suites have their own command line outside the package: ``python -m benchmarks``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from greenopt.cli import batch, doctor, example, feasibility, plan
from greenopt.cli.common import console

app = typer.Typer(
    name="greenopt",
    help="Plan AI workloads across WAN-connected datacenters onto renewable, low-carbon power.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


app.command()(plan.plan)
app.command()(batch.batch)
app.command()(doctor.doctor)
app.command()(feasibility.feasibility)
app.command()(example.example)
