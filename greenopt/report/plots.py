"""The report's figures: ``gantt.png``, ``energy.png`` and ``wan.png`` of a plan, each composed of
the one-Axes drawings of :mod:`greenopt.report.draw` (the functions of :mod:`greenopt.plot`).

* :func:`gantt` — :func:`~greenopt.report.draw.gantt`: one row per job under its sites up to
  :data:`~greenopt.report.draw.GANTT_MAX_JOBS` jobs, else a utilisation track per site (GPU-time
  used / available per slot, stacked by job kind) and a track of migrations.
* :func:`energy_stack` — one :func:`~greenopt.report.draw.energy` panel per site (renewable used,
  grid, curtailed kWh; the grid's carbon intensity on a twin axis), in one column up to 10 sites,
  in two or three beyond.
* :func:`wan_map` — :func:`~greenopt.report.draw.wan`: the WAN on its map, migrations aggregated
  per (src, dst) pair.

Each function returns the :class:`~matplotlib.figure.Figure` (or ``None`` when skipped) and,
given ``path``, saves a PNG. Every figure is at most
:data:`~greenopt.report.draw.MAX_HEIGHT_IN` inches tall (1,980 px at the default 110 dpi),
whatever the plan's size. The twin (carbon) axes carry the label ``"carbon-overlay"`` so a caller
can count the site panels (:func:`site_panels`).

**Names are shown, never interpreted.** Site, job and kind names and the scenario's are user
strings: a kind ``$\\undefinedmacro$`` would make matplotlib's mathtext (or TeX, where
``text.usetex`` is on) parse it and fail — after planning. Every plot is built and saved with
math parsing and TeX off (:func:`literal_text`), and long names are cut to
:data:`NAME_CHARS` characters.

**Thread-safe.** Figures live on their own Agg canvas (:func:`~greenopt.report.draw.new_figure`),
never in pyplot: batch workers draw in threads.

**Bounded time and memory.** :func:`greenopt.limits.plot_budget` decides from the plan's size
how each plot is drawn: in detail (a bar per run slot, a stacked bar per slot), aggregated
(utilisation tracks, energy as stacked areas, slots binned to at most
:data:`~greenopt.limits.MAX_POINTS` points) or not at all, with a note saying why.
:func:`plot_all` never loses a plan over a plot: a plot that fails is skipped with a note (only
a failure to write a file, such as a full disk, is raised).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from matplotlib.figure import Figure

from greenopt import limits
from greenopt.report import draw
from greenopt.report.draw import (
    NAME_CHARS,
    OVERLAY_LABEL,
    literal_text,
    name,
    site_positions,
)
from greenopt.result import Plan
from greenopt.scenario import Scenario

__all__ = [
    "NAME_CHARS",
    "OVERLAY_LABEL",
    "PLOTS",
    "energy_stack",
    "gantt",
    "literal_text",
    "name",
    "plot_all",
    "site_panels",
    "site_positions",
    "wan_map",
]

PLOTS = ("gantt", "energy", "wan")
#: Resolution of the report's PNGs.
DPI = 110


def _pixels(figsize: tuple[float, float], dpi: int) -> float:
    return figsize[0] * figsize[1] * dpi * dpi


def _figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A figure on its own Agg canvas, outside pyplot (see :func:`draw.new_figure`); no layout
    engine unless asked (the benchmark plots lay theirs out with ``tight_layout``)."""
    return draw.new_figure(figsize, layout)


def _save(fig: Figure, path: str | os.PathLike[str] | None, dpi: int) -> Figure:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.png")
        try:
            fig.savefig(tmp, dpi=dpi, format="png")
            os.replace(tmp, path)  # a reader never sees half a PNG
        finally:
            tmp.unlink(missing_ok=True)  # a drawing that failed leaves nothing behind
    return fig


@literal_text
def gantt(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = DPI,
    notes: list[str] | None = None,
) -> Figure | None:
    """The plan over time by site (:func:`greenopt.report.draw.gantt`): job rows up to
    :data:`~greenopt.report.draw.GANTT_MAX_JOBS` jobs, else site utilisation tracks; skipped
    (``None``) when too large to draw at all, with a note."""
    idx = scenario.index
    layout = draw.gantt_layout(plan, scenario)
    how = limits.plot_budget(
        "gantt",
        sites=len(idx.site_names),
        slots=idx.T,
        artists=len(plan.assignments) + len(plan.migrations),
        rows=0 if layout.aggregate else layout.rows,
        pixels=_pixels(layout.size, dpi),
    )
    note = how.note
    if how.mode == "aggregate" and not layout.aggregate:
        layout = draw.gantt_layout(plan, scenario, aggregate=True)
    elif layout.aggregate and how.mode == "detail":
        note = (
            f"gantt.png drawn as site utilisation tracks ({len(idx.job_names):,} jobs; one row "
            f"per job up to {draw.GANTT_MAX_JOBS} jobs and {draw.GANTT_MAX_ROWS} rows)"
        )
    if note and notes is not None:
        notes.append(note)
    if how.mode == "skip":
        return None
    fig = _figure(layout.size, "constrained")
    draw.gantt(plan, scenario, ax=fig.add_subplot(), aggregate=layout.aggregate, per=how.bin)
    return _save(fig, path, dpi)


def energy_grid(sites: int) -> tuple[int, int, tuple[float, float]]:
    """Columns, rows and figure size (inches) of the energy figure of ``sites`` site panels:
    one column up to 10 sites, two up to 24, three beyond; panels at most 1.8 in tall and the
    figure at most :data:`~greenopt.report.draw.MAX_HEIGHT_IN`."""
    cols = 1 if sites <= 10 else 2 if sites <= 24 else 3
    rows = max(1, math.ceil(sites / cols))
    panel = min(1.8, (draw.MAX_HEIGHT_IN - 0.7) / rows)
    return cols, rows, (11.0 if cols == 1 else 15.0, 0.7 + panel * rows)


@literal_text
def energy_stack(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = DPI,
    notes: list[str] | None = None,
) -> Figure | None:
    """One :func:`greenopt.report.draw.energy` panel per site; a long horizon is drawn as stacked
    areas over bins of slots, too many sites are skipped (``None``), with a note."""
    idx = scenario.index
    S, T = len(idx.site_names), idx.T
    cols, rows, figsize = energy_grid(S)
    how = limits.plot_budget(
        "energy", sites=S, slots=T, artists=3 * S * T, pixels=_pixels(figsize, dpi)
    )
    if how.note and notes is not None:
        notes.append(how.note)
    if how.mode == "skip":
        return None
    fig = _figure(figsize, "constrained")
    axes = fig.subplots(rows, cols, squeeze=False)  # each panel sets the horizon as its x range
    for k in range(rows * cols):
        ax = axes[k // cols, k % cols] if cols > 1 else axes[k, 0]
        if k >= S:
            ax.set_visible(False)
            continue
        draw.energy(
            plan, scenario, site=idx.site_names[k], ax=ax, per=how.bin,
            bars=how.mode == "detail", legend=k == 0,
        )  # fmt: skip
        if k // cols < rows - 1 and k + cols < S:  # a panel below shows the time axis
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
    fig.suptitle(
        f"Energy by site — {name(plan.method)} ({name(plan.objective_name)})",
        x=0.01, ha="left", fontsize=11,
    )  # fmt: skip
    return _save(fig, path, dpi)


@literal_text
def wan_map(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = DPI,
    notes: list[str] | None = None,
) -> Figure | None:
    """The WAN and the plan's migrations per (src, dst) pair (:func:`greenopt.report.draw.wan`);
    a WAN too large to draw is skipped (``None``) with a note."""
    g = scenario.wan
    how = limits.plot_budget(
        "wan", sites=len(scenario.sites), slots=0,
        artists=g.number_of_nodes() + g.number_of_edges() + len(scenario.sites),
    )  # fmt: skip
    if how.note and notes is not None:
        notes.append(how.note)
    if how.mode == "skip":
        return None
    fig = _figure(draw.wan_size(scenario), "constrained")
    draw.wan(plan, scenario, ax=fig.add_subplot())
    return _save(fig, path, dpi)


def plot_all(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    dpi: int = DPI,
    notes: list[str] | None = None,
    deadline: float | None = None,
) -> dict[str, Path]:
    """Write ``gantt.png``, ``energy.png`` and ``wan.png`` into ``out``; return name → path of
    those drawn. A plot skipped for its size, or that fails to draw, is left out and a line
    saying why is added to ``notes``: a plot never costs the plan it shows. Only an
    :class:`OSError` (the file could not be written: a full disk, a read-only folder) is raised,
    as for every other output file. ``deadline`` (a ``time.perf_counter()`` value, e.g. the end
    of a time limit): the plots not started by then are skipped, with a note."""
    out = Path(out)
    notes = [] if notes is None else notes
    written: dict[str, Path] = {}
    for title, fn in (("gantt", gantt), ("energy", energy_stack), ("wan", wan_map)):
        path = out / f"{title}.png"
        if deadline is not None and time.perf_counter() >= deadline:
            notes.append(f"{title}.png not drawn: the time limit was reached")
            continue
        try:
            fig = fn(scenario, plan, path, dpi=dpi, notes=notes)
        except OSError:
            raise
        except Exception as exc:  # a plot bug or a name matplotlib cannot draw
            text = " ".join(str(exc).split())[:200]
            notes.append(f"{title}.png not drawn: {type(exc).__name__}: {text}")
            continue
        if fig is not None:
            written[title] = path
    return written


def site_panels(fig: Figure) -> list:
    """The figure's site panels (its visible axes less the carbon twin overlays)."""
    return [ax for ax in fig.axes if ax.get_label() != OVERLAY_LABEL and ax.get_visible()]
