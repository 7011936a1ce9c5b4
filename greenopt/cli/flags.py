"""The flags ``plan``, ``operate`` and ``batch`` share, declared once: the same name, type,
shown default and help wherever they appear (a flag that means something else in one command —
``batch``'s repeatable ``--param`` sweep, its ``--plots`` off by default — is declared there)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenopt.cli.common import DeadlineRule, ObjectiveName, ReportFormat
from greenopt.options import DEFAULT_MILP_TIME_LIMIT

#: Help text of the time limit (the default stated, as the README does).
TIME_LIMIT_HELP = (
    "Seconds the whole command may take with the MILP (loading, planning, writing). "
    "'inf': no limit. With --deterministic: none unless given (a safety net)."
)

Objective = Annotated[
    ObjectiveName | None,
    typer.Option("--objective", "-o", show_default="carbon", help="What the plan minimises."),
]
Deadlines = Annotated[DeadlineRule | None, typer.Option(show_default="soft", help="Deadline rule.")]
TimeLimit = Annotated[
    float | None,
    typer.Option(show_default=f"{DEFAULT_MILP_TIME_LIMIT:g}", help=TIME_LIMIT_HELP),
]
Deterministic = Annotated[
    bool | None,
    typer.Option(
        "--deterministic/--no-deterministic",
        show_default="no-deterministic",
        help="Work-based budgets instead of wall-clock ones: the same input gives "
        "byte-identical tables on every run, worker and machine.",
    ),
]
MipGap = Annotated[float | None, typer.Option(show_default="0.01", help="Relative MIP gap.")]
Threads = Annotated[
    int | None,
    typer.Option(show_default="the solver's choice", help="Solver threads (per plan)."),
]
Seed = Annotated[int | None, typer.Option(show_default="0", help="Random seed.")]
Solver = Annotated[
    str | None, typer.Option(show_default="highs", help="Pyomo solver name for milp.")
]
MemoryBudget = Annotated[
    str | None,
    typer.Option(
        show_default="16GiB or GREENOPT_MEMORY_BUDGET",
        help="Memory a plan may take (scenario, MILP, plots), e.g. 32GiB.",
    ),
]
Param = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Method parameter KEY=VALUE (repeatable)."),
]
Out = Annotated[Path, typer.Option(help="Output folder.")]
Overwrite = Annotated[bool, typer.Option(help="Replace the outputs of an earlier run in --out.")]
Parquet = Annotated[bool, typer.Option(help="Also write the tables as Parquet.")]
Report = Annotated[bool, typer.Option(help="Write report.html / report.md.")]
Format = Annotated[ReportFormat, typer.Option(help="html (self-contained) or md.")]
Plots = Annotated[bool, typer.Option(help="Write gantt.png, energy.png, wan.png.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]
