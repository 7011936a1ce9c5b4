"""Regenerate the plot images of the docs (docs/plots.md, docs/cli.md, the README):
``python docs/make_plot_images.py`` from the repository root.

The small example's plan is the MILP's (it stops at its 1 % gap, not at a clock); the realistic
example's is the greedy's (deterministic; the MILP's plan depends on its time limit)."""

from __future__ import annotations

from pathlib import Path

import greenopt
from greenopt.report import plots

IMAGES = Path(__file__).resolve().parent / "images"


def main() -> None:
    small = greenopt.examples.load("small")
    realistic = greenopt.examples.load("realistic")
    for prefix, scenario, plan in (
        ("small-milp", small, greenopt.plan(small, "milp")),
        ("realistic-greedy", realistic, greenopt.plan(realistic, "greedy")),
    ):
        plots.gantt(scenario, plan, IMAGES / f"{prefix}-gantt.png")
        plots.energy_stack(scenario, plan, IMAGES / f"{prefix}-energy.png")
        plots.wan_map(scenario, plan, IMAGES / f"{prefix}-wan.png")
        print(f"{prefix}: {plan.summary()}")


if __name__ == "__main__":
    main()
