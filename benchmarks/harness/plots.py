"""Benchmark plots (matplotlib Figure API on an Agg canvas: no pyplot state, no display).

* :func:`carbon_grid` — two panels: carbon (kg CO2) and grid energy (kWh) per method; a bar is
  the mean over the suite's instances, the dots are the instances.
* :func:`runtime_vs_size` — wall seconds against instance size (jobs × sites × slots) on log-log
  axes, one line per method; MILP runs stopped by their time limit are hollow markers.
* :func:`gap_vs_time` — the MILP's relative gap (log axis) against seconds, from HiGHS's
  branch-and-bound log (:mod:`benchmarks.harness.highs_log`), one line per instance; the LP-guided
  first phase (a restricted model, whose bound is not the full problem's) is dashed.

Each function returns the :class:`~matplotlib.figure.Figure` and, given ``path``, writes a PNG;
instance and method names are drawn literally (:func:`greenopt.report.plots.literal_text`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from greenopt.report.plots import _figure, _save, literal_text

_METHOD_COLOURS = {
    "run-now": "#7f7f7f",
    "threshold": "#bcbd22",
    "greenest-region": "#17becf",
    "follow-renewables": "#ff7f0e",
    "online": "#9467bd",
    "greedy": "#2ca02c",
    "milp": "#1f77b4",
}
_OTHER = ["#d62728", "#8c564b", "#e377c2", "#1a55ff", "#aa8800", "#00aa88"]
#: a MILP run that ended at its time limit (or fell back) — drawn hollow
STOPPED = ("time_limit", "fallback", "interrupted")


def method_colour(label: str, order: list[str]) -> str:
    if label in _METHOD_COLOURS:
        return _METHOD_COLOURS[label]
    return _OTHER[order.index(label) % len(_OTHER)] if label in order else _OTHER[0]


def _labels(table: pd.DataFrame) -> list[str]:
    """Run labels in the table's first-seen order."""
    return list(dict.fromkeys(table["label"].tolist()))


def _ok(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] != "error"]


@literal_text
def carbon_grid(
    table: pd.DataFrame, path: str | os.PathLike[str] | None = None, dpi: int = 100
) -> Figure:
    """Carbon and grid energy per method (bars: mean over instances; dots: each instance)."""
    data = _ok(table)
    labels = _labels(data)
    fig = _figure((max(6.0, 1.1 * len(labels) + 2.5), 6.2))
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(labels))
    for ax, column, title in (
        (axes[0], "carbon_kg", "carbon (kg CO2)"),
        (axes[1], "grid_kwh", "grid energy (kWh)"),
    ):
        for i, label in enumerate(labels):
            values = data.loc[data["label"] == label, column].astype(float).dropna()
            if values.empty:
                continue
            colour = method_colour(label, labels)
            ax.bar(i, values.mean(), color=colour, alpha=0.75, width=0.7)
            jitter = np.linspace(-0.2, 0.2, len(values)) if len(values) > 1 else [0.0]
            ax.scatter(i + np.asarray(jitter), values, s=10, color="black", zorder=3)
        ax.set_ylabel(title)
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_xticks(x, labels, rotation=25, ha="right")
    n = data["instance"].astype(str).str.cat(data["seed"].astype(str), "#").nunique()
    axes[0].set_title(f"Carbon and grid energy per method (bar: mean of {n} instance(s))")
    fig.tight_layout()
    return _save(fig, path, dpi)


@literal_text
def runtime_vs_size(
    table: pd.DataFrame, path: str | os.PathLike[str] | None = None, dpi: int = 100
) -> Figure:
    """Wall seconds vs jobs × sites × slots, log-log; hollow markers: MILP stopped by time."""
    data = _ok(table).dropna(subset=["size", "wall_s"])
    labels = _labels(data)
    fig = _figure((7.0, 4.6))
    ax = fig.subplots()
    for label in labels:
        rows = data[data["label"] == label]
        mean = rows.groupby("size")["wall_s"].mean().sort_index()
        colour = method_colour(label, labels)
        ax.plot(mean.index, mean.to_numpy(), "-", color=colour, alpha=0.6, label=label)
        stopped = rows["status"].isin(STOPPED)
        ax.scatter(rows.loc[~stopped, "size"], rows.loc[~stopped, "wall_s"], color=colour, s=18)
        ax.scatter(
            rows.loc[stopped, "size"],
            rows.loc[stopped, "wall_s"],
            facecolors="none",
            edgecolors=colour,
            s=30,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("instance size: jobs × sites × slots")
    ax.set_ylabel("wall time per plan (s)")
    ax.set_title("Runtime vs instance size (hollow: MILP stopped at its time limit)")
    ax.grid(which="both", alpha=0.25)
    if labels:
        ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return _save(fig, path, dpi)


@literal_text
def gap_vs_time(
    progress: pd.DataFrame, path: str | os.PathLike[str] | None = None, dpi: int = 100
) -> Figure:
    """MILP gap vs time: one line per ``key`` (instance and seed) — from HiGHS's log for
    branch-and-bound, from the incumbent's history (against the final bound) for
    fix-and-optimise."""
    n_keys = progress["key"].nunique() if len(progress) else 0
    fig = _figure((7.0, 4.4 + 0.14 * (n_keys + 1)))
    ax = fig.subplots()
    data = progress.dropna(subset=["gap"]) if len(progress) else progress
    if data.empty:
        ax.text(0.5, 0.5, "no MILP progress in this suite", ha="center")
        ax.set_axis_off()
        return _save(fig, path, dpi)
    keys = list(dict.fromkeys(data["key"].tolist()))
    palette = colormaps["tab10" if len(keys) <= 10 else "tab20"]
    for i, key in enumerate(keys):
        colour = palette(i % palette.N)
        rows = data[data["key"] == key]
        last = rows["run"].max()
        for run, part in rows.groupby("run"):
            full = run == last
            ax.step(
                part["elapsed_s"],
                np.maximum(part["gap"].to_numpy(), 1e-4) * 100,
                "-" if full else "--",
                where="post",
                color=colour,
                lw=1.6 if full else 0.9,
                alpha=1.0 if full else 0.6,
                label=key if full else None,
            )
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xlabel("seconds since the search started")
    ax.set_ylabel("relative gap (%)")
    ax.set_title("MILP gap vs time (HiGHS's log, or fix-and-optimise's incumbent vs final bound)")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    fig.tight_layout()
    return _save(fig, path, dpi)
