"""``greenopt example``: write an embedded example as scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenopt.cli.common import console, guard, lit


@guard
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
        f"wrote example [bold]{lit(name)}[/] ({len(sc.sites)} sites, {len(sc.jobs)} jobs, "
        f"{sc.horizon.slots} slots) to {lit(folder)}: {lit(', '.join(files))}",
        highlight=False,
    )
    console.print(
        f"plan it with: greenopt plan {lit(path)} --method greedy --out out", highlight=False
    )
