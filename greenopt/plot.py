"""Plots of a plan, each drawn into one matplotlib Axes.

>>> import matplotlib.pyplot as plt
>>> import greenopt
>>> scenario = greenopt.examples.load("small")
>>> plan = greenopt.plan(scenario, method="greedy")
>>> fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8))
>>> greenopt.plot.gantt(plan, scenario, ax=top) is top
True
>>> ax = greenopt.plot.energy(plan, scenario, site="oslo", ax=bottom)

Every function takes the plan and its scenario, draws into ``ax`` when given (a panel of your
own figure) or into a new figure sized for the plan, and returns the Axes it drew into (the model
is PyJobShop's ``plot_machine_gantt(..., ax=None)``):

* :func:`gantt` — the plan by site over time: one row per job up to 50 jobs, else a GPU
  utilisation track per site (GPU-time used / available per slot, stacked by job kind) and a
  track of migrations per slot.
* :func:`energy` — renewable used / grid / curtailed kWh per slot at a site (or all sites), with
  the carbon intensity on a twin axis.
* :func:`wan` — the WAN on a map (latitude/longitude where the scenario gives them) and the
  migrations aggregated per (src, dst) pair, arrow width ∝ GB.
* :func:`domain` — the seed paper's feasibility domain (MODEL.md §9): the largest checkpoint that
  moves within ``α·W`` against bandwidth (no plan needed).

Names (sites, jobs, kinds) are drawn as written, never parsed as math. Given an Axes, nothing
here touches pyplot's global state, so threads may draw figures of their own
(:func:`greenopt.report.draw.new_figure`) side by side. The report's figures
(:mod:`greenopt.report.plots`) are built from these functions.
"""

from greenopt.network.feasibility import plot_domain as domain
from greenopt.report.draw import (
    GANTT_MAX_JOBS,
    energy,
    flows,
    gantt,
    new_figure,
    site_positions,
    utilisation,
    wan,
)

__all__ = [
    "GANTT_MAX_JOBS",
    "domain",
    "energy",
    "flows",
    "gantt",
    "new_figure",
    "site_positions",
    "utilisation",
    "wan",
]
