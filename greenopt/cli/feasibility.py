"""``greenopt feasibility``: the seed paper's feasibility domain (MODEL.md §9) as a table and,
with ``--out``, a CSV and a plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from greenopt.cli.common import console, guard, lit
from greenopt.errors import ScenarioError


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


@guard
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
    from greenopt.io.spreadsheet import write_csv
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
        write_csv(df, out / "feasibility.csv")
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
        console.print(
            f"wrote {lit(out / 'feasibility.csv')} and {lit(out / 'feasibility.png')}",
            highlight=False,
        )
