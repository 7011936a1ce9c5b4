"""The plots of a plan, each drawn into one matplotlib Axes — the functions of :mod:`greenopt.plot`.

Every function takes the plan, its scenario and ``ax=None``: given an Axes it draws there (a
panel of the caller's own figure), otherwise it makes a figure of a size that suits the plan
(with pyplot, so a notebook shows it); it returns the Axes it drew into.

* :func:`gantt` — the plan over time by site. Up to :data:`GANTT_MAX_JOBS` jobs: one row per job
  under each site it runs at, a bar per run slot as wide as its share of the slot, coloured by
  job kind, ``▶`` where a migration arrives. Above (or when asked, ``aggregate=True``): one
  **utilisation track** per site — GPU-time used / GPU-time available in each slot, 0–100 %,
  stacked by job kind — and a track of migrations per slot; its height grows with the sites,
  never with the jobs.
* :func:`energy` — stacked renewable-used / grid / curtailed kWh per slot of one site (or all
  sites summed) with the grid's carbon intensity on a twin axis (``renewable_kwh + grid_kwh =
  facility_kwh``, ``renewable_kwh + curtailed_kwh = renewable_kw · Δh``, MODEL.md §6).
* :func:`wan` — the WAN on a map: nodes at their latitude/longitude when the scenario gives them
  (sites' ``latitude``/``longitude``, WAN nodes' ``latitude``/``longitude`` attributes as the
  Topology Zoo reader and the realistic example set them), otherwise a deterministic spring
  layout; the plan's migrations **aggregated per (src, dst) pair**: one arrow each, its width
  ∝ GB moved, the largest labelled ``moves× · GB``.

**Names are shown, never interpreted.** Site, job, kind and method names are user strings:
every text these functions draw is made with math parsing and TeX off (:func:`literal_text`),
so a kind ``$\\undefinedmacro$`` is drawn as written — also when the caller's figure is saved
later, outside these functions — and long names are cut to :data:`NAME_CHARS` characters.

**No global state.** Given an Axes, nothing here touches pyplot: the report draws on figures of
its own Agg canvas (:func:`new_figure`), safe in the worker threads of a batch. Only ``ax=None``
asks pyplot for a figure.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator
from matplotlib.transforms import blended_transform_factory

from greenopt import limits
from greenopt.result import Plan
from greenopt.scenario import Scenario

F = TypeVar("F", bound=Callable[..., Any])

#: Longest name a plot shows (then "…").
NAME_CHARS = 40
#: Most jobs a Gantt chart shows one row each; above, it shows site utilisation tracks.
GANTT_MAX_JOBS = 50
#: Most rows (a job at a site, site headers included) of a detailed Gantt chart: a plan of few
#: jobs that visit many sites is drawn as tracks too, so that the chart stays legible and short.
GANTT_MAX_ROWS = 80
#: Tallest figure the functions size for themselves, inches (1,980 px at the report's 110 dpi).
MAX_HEIGHT_IN = 18.0
#: Most points per drawn series; above, slots are binned.
MAX_POINTS = 600
#: Label put on the carbon twin axes of :func:`energy` (they are not site panels).
OVERLAY_LABEL = "carbon-overlay"
#: How many of the largest migration flows :func:`wan` labels (the rest are drawn unlabelled).
WAN_LABELS = 10

_KIND_COLOURS = {
    "training": "#1f77b4",
    "nearline": "#2ca02c",
    "evaluation": "#9467bd",
    "latency_critical": "#d62728",
}
_OTHER_COLOURS = ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"]
_ENERGY_COLOURS = {"renewable": "#4caf50", "grid": "#616161", "curtailed": "#c5e1a5"}
_CARBON_COLOUR = "#e65100"
_FLOW_COLOUR = "#1565c0"
_LITERAL = {"parse_math": False, "usetex": False}


# -- shared helpers ------------------------------------------------------------------------------
def literal_text(fn: F) -> F:
    """Run ``fn`` (which draws, and maybe saves, a figure) with matplotlib's math parsing and TeX
    off, so every string it draws is shown as it is."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context({"text.parse_math": False, "text.usetex": False}):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def name(text: Any) -> str:
    """A user string for a plot: as it is (drawn literally), at most :data:`NAME_CHARS`
    characters, line breaks, tabs and other control characters as spaces."""
    s = "".join(c if c.isprintable() else " " for c in str(text))
    return s if len(s) <= NAME_CHARS else s[: NAME_CHARS - 1] + "…"


def new_figure(figsize: tuple[float, float], layout: str | None = "constrained") -> Figure:
    """A figure on its own Agg canvas, outside pyplot: no global state, safe in worker threads,
    never a window, nothing to close (``layout``: matplotlib's layout engine, if any)."""
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """The caller's Axes, or one on a new pyplot figure of ``figsize`` (inches)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: the caller asked for a figure of its own

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def kind_colour(kind: str, others: dict[str, str]) -> str:
    """The colour of job kind ``kind`` (the four standard kinds fixed, others in order met)."""
    if kind in _KIND_COLOURS:
        return _KIND_COLOURS[kind]
    if kind not in others:
        others[kind] = _OTHER_COLOURS[len(others) % len(_OTHER_COLOURS)]
    return others[kind]


def bin_size(T: int, max_points: int = MAX_POINTS) -> int:
    """Slots per drawn point so that a series of ``T`` slots has at most ``max_points``."""
    return max(1, math.ceil(T / max_points))


def time_axis(ax: Axes, scenario: Scenario) -> None:
    """Label an x axis drawn in hours from the horizon start with clock times (its time zone).

    Ticks fall every 1, 2, 3, 4, 6, 12 or 24·k hours — the smallest step giving at most 12
    (fewer on a narrow Axes: one per 0.8 in).
    """
    start = pd.Timestamp(scenario.horizon.start)
    span_h = scenario.horizon.slots * scenario.horizon.dt_h
    # at most 12 ticks, fewer on a narrow panel (one per 0.8 in)
    fig = ax.get_figure()
    wide = ax.get_position().width * fig.get_figwidth() if fig is not None else 10.0
    most = max(3, min(12, int(wide / 0.8)))
    step = next((s for s in (1, 2, 3, 4, 6, 12) if span_h / s <= most), None)
    if step is None:
        step = 24 * int(np.ceil(span_h / 24 / most))
    fmt = "%H:%M" if span_h <= 24 else "%d %b %H:%M"
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _: (start + pd.Timedelta(hours=float(x))).strftime(fmt))
    )
    zone = start.tzname() or "UTC"
    day = f"{start:%Y-%m-%d}" + ("" if span_h <= 24 else " onwards")
    ax.set_xlabel(f"time ({zone}), {day}")
    ax.set_xlim(0, span_h)


def _label(ax: Axes, x: float, y: float, text: str, transform: Any = None, **kw: Any) -> Any:
    """A text drawn literally (math parsing and TeX off, whatever rcParams say later)."""
    return ax.text(x, y, text, transform=transform or ax.transData, **_LITERAL, **kw)


def _title(ax: Axes, text: str, legend_above: bool = False, fontsize: float = 10) -> None:
    """The Axes' title, left; raised over a legend drawn just above the Axes."""
    pad = 22.0 if legend_above and ax.get_legend() is not None else 6.0
    ax.set_title(text, loc="left", fontsize=fontsize, pad=pad, **_LITERAL)


# -- Gantt -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GanttLayout:
    """What :func:`gantt` draws for a plan: ``aggregate`` (tracks) or not, its ``rows`` (job
    rows and site headers when detailed; sites plus the migration track when aggregated), and
    the figure size it asks for, inches."""

    aggregate: bool
    rows: int
    size: tuple[float, float]


def _site_rows(scenario: Scenario, plan: Plan) -> list[list[str]]:
    """The jobs that run at each site (in the scenario's site order; jobs in its job order)."""
    idx = scenario.index
    a = plan.assignments
    if not len(a):
        return [[] for _ in idx.site_names]
    pairs = a[["site", "job"]].drop_duplicates()
    by_site = pairs.groupby("site", sort=False)["job"].agg(list).to_dict()
    return [sorted(by_site.get(s, []), key=idx.job_pos.get) for s in idx.site_names]


def gantt_layout(plan: Plan, scenario: Scenario, aggregate: bool | None = None) -> GanttLayout:
    """The layout :func:`gantt` uses (see :class:`GanttLayout`); ``aggregate=None`` decides from
    the plan's size: tracks above :data:`GANTT_MAX_JOBS` jobs or :data:`GANTT_MAX_ROWS` rows."""
    S = len(scenario.index.site_names)
    job_rows = sum(len(r) for r in _site_rows(scenario, plan)) if aggregate is not True else 0
    rows = job_rows + S
    if aggregate is None:
        aggregate = (
            len(scenario.jobs) > GANTT_MAX_JOBS
            or rows > GANTT_MAX_ROWS
            or len(plan.assignments) > limits.MAX_ARTISTS
        )
    if aggregate:
        # one track per site (at most 0.8 in, at least 0.3 in) and the migrations' track
        band = min(0.8, max(0.3, (MAX_HEIGHT_IN - 2.2) / (S + 0.6)))
        return GanttLayout(True, S + 1, (11.0, min(MAX_HEIGHT_IN, 2.2 + band * (S + 0.6))))
    row = min(0.24, (MAX_HEIGHT_IN - 1.6) / max(rows, 1))
    return GanttLayout(False, rows, (11.0, min(MAX_HEIGHT_IN, 1.6 + row * max(rows, 4))))


@literal_text
def gantt(
    plan: Plan,
    scenario: Scenario,
    *,
    ax: Axes | None = None,
    aggregate: bool | None = None,
    per: int | None = None,
) -> Axes:
    """The plan over time by site, drawn into ``ax`` (or a new figure); returns the Axes.

    ``aggregate``: ``None`` decides from the plan's size (:func:`gantt_layout`): one row per job
    under each site up to :data:`GANTT_MAX_JOBS` jobs, else a utilisation track per site
    (GPU-time used / available per slot, stacked by job kind) and a track of migrations.
    ``per``: slots per drawn point of the tracks (``None``: enough for at most
    :data:`MAX_POINTS` points).
    """
    layout = gantt_layout(plan, scenario, aggregate)
    ax = _axes(ax, layout.size)
    if layout.aggregate:
        _gantt_tracks(ax, plan, scenario, per or bin_size(scenario.index.T))
    else:
        _gantt_rows(ax, plan, scenario)
    return ax


def _legend_above(ax: Axes, handles: list[Any], labels: list[str] | None = None) -> None:
    """A one-line legend just above the Axes (the title goes above it, :func:`_title`)."""
    if handles:
        extra = {"labels": labels} if labels is not None else {}
        ax.legend(
            handles=handles, **extra, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8,
            ncols=min(len(handles), 6), frameon=False, borderaxespad=0.2, handlelength=1.5,
            columnspacing=1.0,
        )  # fmt: skip


def _gantt_rows(ax: Axes, plan: Plan, scenario: Scenario) -> None:
    """One row per job under a header row per site; bars per run slot, coloured by kind."""
    idx = scenario.index
    dt = idx.dt_h
    a = plan.assignments
    kinds = {job.name: job.kind for job in scenario.jobs}
    arrivals = {(r.job, int(r.slot), r.dst) for r in plan.migrations.itertuples()}
    others: dict[str, str] = {}
    left = blended_transform_factory(ax.transAxes, ax.transData)
    y = 0
    by_site = dict(tuple(a.groupby("site", sort=False))) if len(a) else {}
    used = _gpu_hours_by_site(plan, scenario)
    for s, (site, jobs) in enumerate(zip(idx.site_names, _site_rows(scenario, plan), strict=True)):
        gpus = int(idx.site_gpus[s])
        capacity = gpus * idx.T * dt
        ax.axhspan(y - 0.5, y + 0.5, color="#eceff1", zorder=0, linewidth=0)
        share = f", {used[s] / capacity:.0%} of its GPU-time used" if capacity > 0 else ""
        _label(ax, 0.005, y, f"{name(site)} — {gpus} GPUs{share}", left,
               fontsize=8, fontweight="bold", va="center", ha="left")  # fmt: skip
        row_of = {job: y + 1 + i for i, job in enumerate(jobs)}
        here = by_site.get(site)
        if here is not None and len(here):
            for kind, rows in here.groupby(here["job"].map(kinds), sort=True):
                x0 = rows["slot"].to_numpy(dtype=float) * dt
                x1 = x0 + rows["share"].to_numpy(dtype=float) * dt
                y0 = np.fromiter((row_of[j] for j in rows["job"]), dtype=float) - 0.38
                y1 = y0 + 0.76
                boxes = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1]], 1)
                ax.add_collection(
                    PolyCollection(boxes, facecolors=kind_colour(str(kind), others), linewidths=0)
                )
            marks = [
                (r.slot * dt, row_of[r.job])
                for r in here.itertuples()
                if (r.job, int(r.slot), site) in arrivals
            ]
            if marks:
                xs, ys = zip(*marks, strict=True)
                ax.plot(xs, ys, linestyle="", marker=">", color="black", markersize=4.5)
        for job, yy in row_of.items():
            _label(ax, -0.005, yy, name(job), left, fontsize=7, va="center", ha="right")
        if not jobs:
            _label(ax, 0.5, y + 1, "no jobs", left, fontsize=7, color="#757575",
                   ha="center", va="center")  # fmt: skip
            y += 1
        y += 1 + len(jobs)
    ax.set_ylim(y - 0.5, -0.5)
    ax.set_yticks([])
    ax.grid(True, axis="x", alpha=0.3)
    time_axis(ax, scenario)
    present = sorted({kinds[j] for j in a["job"]}) if len(a) else []
    handles: list[Any] = [Patch(color=kind_colour(k, others), label=name(k)) for k in present]
    if len(plan.migrations):
        handles.append(
            Line2D([], [], marker=">", color="black", linestyle="", label="migration arrives")
        )
    _legend_above(ax, handles)
    _title(ax, f"Plan by site — {name(plan.method)} ({name(plan.objective_name)})", True)


def _gpu_hours_by_site(plan: Plan, scenario: Scenario) -> np.ndarray:
    """GPU-hours the plan runs at each site (``Σ share · Δh · gpus``)."""
    idx = scenario.index
    out = np.zeros(len(idx.site_names))
    a = plan.assignments
    if len(a):
        j = np.fromiter((idx.job_pos[v] for v in a["job"]), dtype=np.int64, count=len(a))
        s = np.fromiter((idx.site_pos[v] for v in a["site"]), dtype=np.int64, count=len(a))
        np.add.at(out, s, a["share"].to_numpy(dtype=float) * idx.gpus[j] * idx.dt_h)
    return out


def utilisation(plan: Plan, scenario: Scenario, per: int = 1) -> tuple[list[str], np.ndarray]:
    """GPU-time used / GPU-time available per site, job kind and bin of ``per`` slots.

    Returns the kinds present (sorted) and an array ``(sites, kinds, bins)`` of fractions; summed
    over kinds it is the site's utilisation, ``Σ share·gpus / site_gpus`` averaged over the bin.
    """
    idx = scenario.index
    S, T = len(idx.site_names), idx.T
    a = plan.assignments
    kinds_of = np.array([j.kind for j in scenario.jobs], dtype=object)
    starts = np.arange(0, T, per)
    if not len(a):
        return [], np.zeros((S, 0, len(starts)))
    j = np.fromiter((idx.job_pos[v] for v in a["job"]), dtype=np.int64, count=len(a))
    s = np.fromiter((idx.site_pos[v] for v in a["site"]), dtype=np.int64, count=len(a))
    job_kinds = kinds_of[j].astype(str)
    kinds = sorted(set(job_kinds))
    k = np.searchsorted(kinds, job_kinds)
    b = a["slot"].to_numpy(dtype=np.int64) // per
    use = np.zeros((S, len(kinds), len(starts)))
    np.add.at(use, (s, k, b), a["share"].to_numpy(dtype=float) * idx.gpus[j])
    slots_in_bin = np.minimum(per, T - starts)
    capacity = np.maximum(idx.site_gpus.astype(float), 1e-12)
    use /= capacity[:, None, None] * slots_in_bin[None, None, :]
    return kinds, use


def _gantt_tracks(ax: Axes, plan: Plan, scenario: Scenario, per: int) -> None:
    """A utilisation track per site (0–100 % of its GPU-time, stacked by job kind) and a track
    of migrations arriving per slot."""
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    kinds, use = utilisation(plan, scenario, per)
    starts = np.arange(0, T, per)
    edges = np.append(starts, T) * dt
    gap = 0.35
    left = blended_transform_factory(ax.transAxes, ax.transData)
    others: dict[str, str] = {}
    total = use.sum(axis=1) if len(kinds) else np.zeros((S, len(starts)))
    weights = np.minimum(per, T - starts)
    for i, site in enumerate(idx.site_names):
        base = (S - i) * (1 + gap)  # first site on top; the migration track at 0
        bottom = np.zeros(len(starts))
        for kk, kind in enumerate(kinds):
            top = bottom + use[i, kk]
            ax.fill_between(
                edges, base + np.append(bottom, bottom[-1]), base + np.append(top, top[-1]),
                step="post", color=kind_colour(kind, others), linewidth=0,
            )  # fmt: skip
            bottom = top
        ax.axhspan(base, base + 1, color="#f5f5f5", zorder=0, linewidth=0)
        ax.axhline(base + 1, color="#9e9e9e", linewidth=0.6, linestyle="--")
        ax.axhline(base, color="#9e9e9e", linewidth=0.6)
        mean = float(np.average(total[i], weights=weights)) if len(starts) else 0.0
        _label(ax, -0.006, base + 0.5, f"{name(site)}\n{int(idx.site_gpus[i])} GPUs", left,
               fontsize=8, ha="right", va="center")  # fmt: skip
        _label(ax, 1.006, base + 0.5, f"{mean:.0%}", left, fontsize=8, ha="left", va="center")
        if i == 0:
            _label(ax, 1.006, base + 1.0, "mean", left, fontsize=7, ha="left", va="bottom",
                   style="italic", color="#616161")  # fmt: skip
    # migrations arriving per bin, scaled to the track's height
    arrive = np.zeros(len(starts))
    if len(plan.migrations):
        np.add.at(arrive, plan.migrations["slot"].to_numpy(dtype=np.int64) // per, 1)
    peak = float(arrive.max()) if len(arrive) else 0.0
    ax.axhspan(0, 1, color="#f5f5f5", zorder=0, linewidth=0)
    if peak > 0:
        ax.bar(
            (starts + weights / 2) * dt, arrive / peak * 0.95, width=weights * dt * 0.8,
            bottom=0, color=_FLOW_COLOUR, linewidth=0,
        )  # fmt: skip
    step = "slot" if per == 1 else f"{per} slots"
    _label(ax, -0.006, 0.5, f"migrations\nper {step}", left, fontsize=8, ha="right", va="center")
    _label(ax, 1.006, 0.5, f"max {peak:.0f}", left, fontsize=7, ha="left", va="center")
    ax.set_ylim(-0.15, (S + 1) * (1 + gap) - gap + 0.15)
    ax.set_yticks([])
    ax.grid(True, axis="x", alpha=0.3)
    time_axis(ax, scenario)
    counts = pd.Series([j.kind for j in scenario.jobs]).value_counts()
    handles = [
        Patch(color=kind_colour(k, others), label=f"{name(k)} ({int(counts.get(k, 0))} jobs)")
        for k in kinds
    ]
    _legend_above(ax, handles)
    _title(
        ax,
        f"GPU utilisation by site and job kind — {name(plan.method)} "
        f"({name(plan.objective_name)}), {len(scenario.jobs):,} jobs",
        legend_above=True,
    )


# -- energy ----------------------------------------------------------------------------------------
_ENERGY_COLUMNS = ("renewable_kwh", "grid_kwh", "curtailed_kwh")


@literal_text
def energy(
    plan: Plan,
    scenario: Scenario,
    *,
    site: str | None = None,
    ax: Axes | None = None,
    per: int | None = None,
    bars: bool | None = None,
    legend: bool = True,
) -> Axes:
    """Stacked renewable-used / grid / curtailed kWh per slot at ``site`` (``None``: all sites
    summed), drawn into ``ax`` (or a new figure); returns the Axes.

    Bars are one :class:`~matplotlib.collections.PolyCollection` per layer (renewable used,
    grid, curtailed), in that stacking order. A twin axis (labelled :data:`OVERLAY_LABEL`)
    shows the site's grid carbon intensity, or for all sites the intensity of the grid energy
    the plan draws (``Σ carbon_kg / Σ grid_kwh``).
    ``per`` slots per drawn point (``None``: at most :data:`MAX_POINTS` points); ``bars``:
    stacked bars (``None``: when at most 200 points) or stacked areas.
    """
    idx = scenario.index
    T, dt = idx.T, idx.dt_h
    ax = _axes(ax, (10.0, 3.4))
    per = per or bin_size(T)
    starts = np.arange(0, T, per)
    widths = np.minimum(per, T - starts)
    e = plan.energy
    columns = [*_ENERGY_COLUMNS, "carbon_kg"]
    if site is None:
        rows = e.groupby("slot")[columns].sum()
    else:
        if site not in idx.site_pos:
            from greenopt.errors import ScenarioError

            raise ScenarioError(f"site {name(site)!r} is not in the scenario", str(site))
        rows = e.loc[e["site"] == site].set_index("slot")[columns]
    rows = rows.reindex(range(T), fill_value=0.0)
    ren, grid, curt, carbon_kg = (
        np.add.reduceat(rows[c].to_numpy(dtype=float), starts) if T else np.zeros(0)
        for c in columns
    )
    layers = [(ren, "renewable", "renewable used"), (grid, "grid", "grid"),
              (curt, "curtailed", "curtailed renewable")]  # fmt: skip
    x = (starts + widths / 2) * dt
    edges = np.append(starts, T) * dt
    bars = len(starts) <= 200 if bars is None else bars
    bottom = np.zeros(len(starts))
    for values, colour, label in layers:
        if bars:  # one collection of rectangles per layer (thousands of patches are slow)
            half = widths * dt * 0.45
            x0, x1, y0, y1 = x - half, x + half, bottom, bottom + values
            boxes = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1]], 1)
            ax.add_collection(PolyCollection(boxes, facecolors=_ENERGY_COLOURS[colour],
                                             linewidths=0, label=label))  # fmt: skip
        else:
            top = bottom + values
            ax.fill_between(
                edges, np.append(bottom, bottom[-1:]), np.append(top, top[-1:]), step="post",
                color=_ENERGY_COLOURS[colour], linewidth=0, label=label,
            )  # fmt: skip
        bottom = bottom + values
    ax.set_ylabel("kWh per slot" if per == 1 else f"kWh per {per} slots", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    peak = float(bottom.max()) if len(bottom) else 0.0
    ax.set_ylim(0, 1.1 * peak if peak > 0 else 1.0)
    twin = ax.twinx()
    twin.set_label(OVERLAY_LABEL)
    if site is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            intensity = np.where(grid > 1e-9, 1000.0 * carbon_kg / np.maximum(grid, 1e-12), np.nan)
        what = "grid carbon drawn"
    else:
        intensity = np.add.reduceat(idx.carbon[idx.site_pos[site]], starts) / widths
        what = "carbon intensity"
    twin.plot(x, intensity, color=_CARBON_COLOUR, linewidth=1.5, label=what)
    twin.set_ylabel("gCO2/kWh", fontsize=8, color=_CARBON_COLOUR)
    twin.tick_params(axis="y", labelsize=8, colors=_CARBON_COLOUR)
    high = float(np.nanmax(intensity)) if np.isfinite(intensity).any() else 0.0
    twin.set_ylim(0, 1.15 * high if high > 0 else 1.0)
    ax.tick_params(axis="y", labelsize=8)
    time_axis(ax, scenario)
    if legend:
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = twin.get_legend_handles_labels()
        _legend_above(ax, h1 + h2, labels=l1 + l2)
    where = f"all {len(idx.site_names)} sites" if site is None else name(site)
    _title(
        ax,
        f"{where}: grid {grid.sum():,.0f} kWh, renewable {ren.sum():,.0f} kWh, "
        f"curtailed {curt.sum():,.0f} kWh",
        legend_above=legend,
        fontsize=9,
    )
    return ax


# -- WAN map -------------------------------------------------------------------------------------
def _coordinate(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def site_positions(scenario: Scenario) -> tuple[dict[str, tuple[float, float]], bool]:
    """Node positions for the WAN map and whether they are geographic (longitude, latitude).

    Geographic when every site has a position: its own ``latitude``/``longitude``, else those
    of its WAN node. Other WAN nodes sit at their node's ``latitude``/``longitude`` attributes
    (as the Topology Zoo reader sets them), or at the mean of their placed neighbours (repeated
    until all are placed; an island of unplaced nodes at the sites' centroid). Otherwise a
    spring layout with a fixed seed, so the map is deterministic.
    """
    g = nx.Graph(scenario.wan)
    g.add_nodes_from(s.name for s in scenario.sites)
    known: dict[str, tuple[float, float]] = {}
    for n, d in scenario.wan.nodes(data=True):
        lat, lon = _coordinate(d.get("latitude")), _coordinate(d.get("longitude"))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            known[str(n)] = (lon, lat)
    for s in scenario.sites:
        if s.latitude is not None and s.longitude is not None:
            known[s.name] = (float(s.longitude), float(s.latitude))
    if all(s.name in known for s in scenario.sites):
        pos = {n: known[n] for n in g.nodes if n in known}
        pending = [n for n in sorted(g.nodes) if n not in pos]
        while pending:
            progress = False
            for n in list(pending):
                near = [pos[m] for m in g.neighbors(n) if m in pos]
                if near:
                    pos[n] = tuple(np.mean(near, axis=0))  # type: ignore[assignment]
                    pending.remove(n)
                    progress = True
            if not progress:  # isolated transit island: park it at the sites' centroid
                centre = tuple(np.mean([pos[s.name] for s in scenario.sites], axis=0))
                for n in pending:
                    pos[n] = centre  # type: ignore[assignment]
                break
        return pos, True
    layout = nx.spring_layout(g, seed=0)
    return {n: (float(p[0]), float(p[1])) for n, p in layout.items()}, False


def cut_meridian(longitudes: Sequence[float]) -> float:
    """Where to cut the globe for a map of these longitudes: in the middle of the widest empty
    band of meridians, so the map is as narrow as it can be (−180 when that band spans the
    antimeridian; e.g. Europe–Americas–Australia is cut in the Pacific). Longitudes west of the
    cut are drawn 360° further east."""
    lons = sorted(set(float(v) for v in longitudes))
    if len(lons) < 2:
        return -180.0
    gaps = [(b - a, a) for a, b in itertools.pairwise(lons)]
    wrap = lons[0] + 360.0 - lons[-1]
    widest, after = max(gaps)
    if widest <= wrap:
        return -180.0
    return after + widest / 2


def _lon_text(v: float, _: Any = None) -> str:
    v = (v + 180.0) % 360.0 - 180.0
    return f"{abs(v):.0f}°" + ("E" if v > 0.5 else "W" if v < -0.5 else "")


def _lat_text(v: float, _: Any = None) -> str:
    return f"{abs(v):.0f}°" + ("N" if v > 0.5 else "S" if v < -0.5 else "")


def _copies(
    p: tuple[float, float], q: tuple[float, float], geographic: bool
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The segment p→q the short way round the globe: once, or — when that way leaves the map
    across its cut — twice, shifted by 360° (the axes clip each copy at the map's edge)."""
    (x0, y0), (x1, y1) = p, q
    if not geographic or abs(x1 - x0) <= 180.0:
        return [(p, q)]
    shift = 360.0 if x1 < x0 else -360.0
    return [((x0, y0), (x1 + shift, y1)), ((x0 - shift, y0), (x1, y1))]


class _Placer:
    """Greedy label placement on a map: boxes in points (estimated text extents), each label
    at the first candidate offset that overlaps nothing placed before."""

    def __init__(self, points_per_unit: float) -> None:
        self.k = points_per_unit
        self.boxes: list[tuple[float, float, float, float]] = []

    def box(self, x: float, y: float, text: str, size: float, dx: float, dy: float,
             ha: str, va: str) -> tuple[float, float, float, float]:  # fmt: skip
        lines = text.split("\n")
        w = 0.58 * size * max(len(s) for s in lines) + 2
        h = 1.2 * size * len(lines) + 1
        X, Y = x * self.k + dx, y * self.k + dy
        x0 = X - {"left": 0.0, "center": w / 2, "right": w}[ha]
        y0 = Y - {"bottom": 0.0, "center": h / 2, "top": h}[va]
        return (x0, y0, x0 + w, y0 + h)

    def overlap(self, b: tuple[float, float, float, float]) -> float:
        area = 0.0
        for c in self.boxes:
            w = min(b[2], c[2]) - max(b[0], c[0])
            h = min(b[3], c[3]) - max(b[1], c[1])
            if w > 0 and h > 0:
                area += w * h
        return area

    def block(self, x: float, y: float, radius_pt: float) -> None:
        X, Y = x * self.k, y * self.k
        self.boxes.append((X - radius_pt, Y - radius_pt, X + radius_pt, Y + radius_pt))

    def place(
        self, x: float, y: float, text: str, size: float,
        candidates: Sequence[tuple[float, float, str, str]], force: bool,
    ) -> tuple[float, float, str, str] | None:  # fmt: skip
        best, best_area = None, math.inf
        for c in candidates:
            box = self.box(x, y, text, size, *c)
            area = self.overlap(box)
            if area < best_area:
                best, best_area = (c, box), area
            if area == 0:
                break
        if best is None or (best_area > 0 and not force):
            return None
        self.boxes.append(best[1])
        return best[0]


_AROUND = (
    (5.0, 4.0, "left", "bottom"), (5.0, -4.0, "left", "top"), (-5.0, 4.0, "right", "bottom"),
    (-5.0, -4.0, "right", "top"), (0.0, 8.0, "center", "bottom"), (0.0, -8.0, "center", "top"),
    (9.0, 0.0, "left", "center"), (-9.0, 0.0, "right", "center"),
)  # fmt: skip


def _gb_text(gb: float) -> str:
    return f"{gb / 1000:.1f} TB" if gb >= 1000 else f"{gb:.0f} GB"


def flows(plan: Plan) -> pd.DataFrame:
    """The plan's migrations aggregated per (src, dst) pair: ``src, dst, moves, gb,
    disruption_h``, the largest ``gb`` first (ties by name)."""
    m = plan.migrations
    if not len(m):
        return pd.DataFrame(
            {"src": [], "dst": [], "moves": [], "gb": [], "disruption_h": []}
        ).astype({"moves": int, "gb": float, "disruption_h": float})
    agg = m.groupby(["src", "dst"], sort=True).agg(
        moves=("gb", "size"), gb=("gb", "sum"), disruption_h=("disruption_h", "sum")
    )
    agg = agg.reset_index().sort_values(["gb", "src", "dst"], ascending=[False, True, True])
    return agg.reset_index(drop=True)


def wan_size(scenario: Scenario) -> tuple[float, float]:
    """The figure size (inches) :func:`wan` asks for: 12 in wide for a wide map, 8 in tall
    for a tall one, the other side as the map needs."""
    pos, geographic = site_positions(scenario)
    (x0, x1), (y0, y1) = _extent(pos, geographic)
    ratio = (y1 - y0) / max(x1 - x0, 1e-9)
    if ratio <= 0.6:  # a wide map: 12 in wide, as tall as the map needs
        return 12.0, float(max(4.5, 11.4 * ratio + 1.0))
    return float(max(6.0, 7.0 / ratio + 0.6)), 8.0  # a tall one: 8 in tall, as wide as it needs


def _extent(
    pos: dict[str, tuple[float, float]], geographic: bool
) -> tuple[tuple[float, float], tuple[float, float]]:
    xs = np.array([p[0] for p in pos.values()] or [0.0])
    ys = np.array([p[1] for p in pos.values()] or [0.0])
    if geographic:
        cut = cut_meridian(xs)
        xs = np.where(xs < cut, xs + 360.0, xs)
        px = max(8.0, 0.06 * float(np.ptp(xs)))
        py = max(6.0, 0.12 * float(np.ptp(ys)))
        return (float(xs.min() - px), float(xs.max() + px)), (
            max(-90.0, float(ys.min() - py)),
            min(90.0, float(ys.max() + py)),
        )
    px = max(0.15, 0.12 * float(np.ptp(xs)))
    py = max(0.15, 0.12 * float(np.ptp(ys)))
    return (float(xs.min() - px), float(xs.max() + px)), (
        float(ys.min() - py),
        float(ys.max() + py),
    )


@literal_text
def wan(
    plan: Plan,
    scenario: Scenario,
    *,
    ax: Axes | None = None,
    labels: int = WAN_LABELS,
) -> Axes:
    """The WAN and the plan's migrations on a map, drawn into ``ax`` (or a new figure);
    returns the Axes.

    Nodes at their longitude/latitude when the scenario gives them (:func:`site_positions`;
    the map is cut at the widest empty band of meridians, :func:`cut_meridian`, and a link
    that crosses the cut leaves one edge and comes back at the other), else on a spring layout.
    Links are grey, wider for more Gbit/s. Migrations are aggregated per (src, dst) pair
    (:func:`flows`): one arrow each, its width ∝ the GB moved; the ``labels`` largest are
    labelled ``moves× · GB``.
    """
    ax = _axes(ax, wan_size(scenario) if ax is None else (12.0, 6.0))
    pos, geographic = site_positions(scenario)
    if geographic:
        cut = cut_meridian([p[0] for p in pos.values()])
        pos = {n: ((x + 360.0 if x < cut else x), y) for n, (x, y) in pos.items()}
    (x0, x1), (y0, y1) = _extent(pos, geographic)
    sites = {s.name: s for s in scenario.sites}
    speeds = sorted({float(d.get("gbps", 1.0)) for _, _, d in scenario.wan.edges(data=True)})
    f = flows(plan)
    top = float(f["gb"].max()) if len(f) else 0.0
    n_labels = min(labels, len(f))

    # the frame first (limits, ticks, title, legend), so the map's scale can be measured
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    if geographic:
        step = 30.0 if (x1 - x0) > 90 else 10.0 if (x1 - x0) > 25 else 5.0
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.yaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(_lon_text))
        ax.yaxis.set_major_formatter(FuncFormatter(_lat_text))
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#e0e0e0", linewidth=0.6)
        ax.set_facecolor("#f7fbff")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    handles: list[Any] = [
        Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor="#2e7d32",
               markeredgecolor="black", label="site (size: GPUs)"),
    ]  # fmt: skip
    if any(n not in sites for n in pos):
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=4.5,
                              markerfacecolor="#e0e0e0", markeredgecolor="#616161",
                              label="transit node"))  # fmt: skip
    for gbps in speeds[:: max(1, len(speeds) // 3)][:3]:
        handles.append(Line2D([], [], color="#bdbdbd", linewidth=_link_width(gbps),
                              label=f"link {gbps:g} Gb/s"))  # fmt: skip
    if top > 0:
        handles.append(Line2D([], [], color=_FLOW_COLOUR, linewidth=6.0,
                              label=f"migrations src → dst, width ∝ GB\n(largest {_gb_text(top)};"
                                    " labels: moves × GB)"))  # fmt: skip
    moves = len(plan.migrations)
    gb = float(plan.migrations["gb"].sum()) if moves else 0.0
    _title(
        ax,
        f"WAN and migrations — {name(plan.method)}\n{moves:,} moves, {_gb_text(gb)}, "
        f"{len(f)} (src, dst) pairs",
    )
    placer = _Placer(_points_per_unit(ax, x1 - x0, y1 - y0))

    # links: grey, wider for more capacity (log scale)
    for a, b, d in scenario.wan.edges(data=True):
        gbps = float(d.get("gbps", 1.0))
        for (u, v), (p, q) in _copies(pos[a], pos[b], geographic):
            ax.plot([u, p], [v, q], color="#bdbdbd", linewidth=_link_width(gbps), zorder=1,
                    solid_capstyle="round")  # fmt: skip

    # migrations per (src, dst): one arrow each, width ∝ GB
    labelled = set(range(n_labels))
    label_at: list[tuple[int, float, float, float, float, float]] = []
    for i in reversed(range(len(f))):  # the largest drawn last, on top
        r = f.iloc[i]
        share = float(r["gb"]) / top if top > 0 else 0.0
        width = 0.9 + 5.1 * share
        for k, ((u, v), (p, q)) in enumerate(_copies(pos[r["src"]], pos[r["dst"]], geographic)):
            # bent by a few points whatever its length: a→b and b→a run side by side
            rad = min(0.25, 14.0 / max(placer.k * math.hypot(p - u, q - v), 1e-9))
            arrow = FancyArrowPatch(
                (u, v), (p, q), arrowstyle="-|>", connectionstyle=f"arc3,rad={rad}",
                mutation_scale=7 + 2.2 * width, linewidth=width, color=_FLOW_COLOUR,
                alpha=0.5 + 0.4 * share, shrinkA=6, shrinkB=7, zorder=3,
            )  # fmt: skip
            arrow.set_gid("migration" if k == 0 else "migration-wrapped")
            ax.add_patch(arrow)
            # the curve's midpoint: the chord's middle + rad/2 · (dy, −dx)
            mx, my = (u + p) / 2 + rad / 2 * (q - v), (v + q) / 2 - rad / 2 * (p - u)
            if i in labelled and x0 <= mx <= x1 and y0 <= my <= y1:
                label_at.append((i, u, v, p, q, rad))
                labelled.discard(i)  # one label per pair (a wrapped pair has two copies)

    # nodes: sites (green, sized by GPUs), transit (small grey); sites' labels first
    order = sorted(pos, key=lambda n: (n not in sites, n))
    for n in order:
        x, y = pos[n]
        if n in sites:
            size = 40.0 + 0.45 * sites[n].gpus
            ax.scatter([x], [y], s=size, color="#2e7d32", edgecolors="black", linewidths=0.6,
                       zorder=5)  # fmt: skip
            placer.block(x, y, math.sqrt(size) / 2 + 1)
        else:
            ax.scatter([x], [y], s=16, color="#e0e0e0", edgecolors="#616161", linewidths=0.6,
                       zorder=4)  # fmt: skip
            placer.block(x, y, 3.0)
    for n in order:
        x, y = pos[n]
        is_site = n in sites
        text = name(n)
        size = 9.0 if is_site else 7.0
        spot = placer.place(x, y, text, size, _AROUND, force=is_site)
        if spot is None:
            continue
        dx, dy, ha, va = spot
        ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
            fontsize=size, color="black" if is_site else "#616161",
            fontweight="bold" if is_site else "normal", style="normal" if is_site else "italic",
            zorder=8, annotation_clip=True, **_LITERAL,
        )  # fmt: skip

    # flow labels: on the curve, moved along it or beside it if the middle is taken; a label
    # with no free place is left out (every pair is in the report's migration table)
    for i, u, v, p, q, rad in sorted(label_at):
        r = f.iloc[i]
        text = f"{int(r['moves'])}× · {_gb_text(float(r['gb']))}"
        cx, cy = (u + p) / 2 + rad * (q - v), (v + q) / 2 - rad * (p - u)
        chord = max(math.hypot(p - u, q - v), 1e-9)
        nx_, ny_ = (q - v) / chord, -(p - u) / chord  # unit normal, on the bulge's side
        spot = None
        for off in (0.0, 9.0, -9.0):
            for t in (0.5, 0.38, 0.62, 0.28, 0.72):
                # a point of the quadratic Bézier: (1−t)²P0 + 2t(1−t)C + t²P2
                bx = (1 - t) ** 2 * u + 2 * t * (1 - t) * cx + t**2 * p + nx_ * off / placer.k
                by = (1 - t) ** 2 * v + 2 * t * (1 - t) * cy + t**2 * q + ny_ * off / placer.k
                b = placer.box(bx, by, text, 7.0, 0.0, 0.0, "center", "center")
                if placer.overlap(b) == 0 and x0 <= bx <= x1 and y0 <= by <= y1:
                    spot = (bx, by, b)
                    break
            if spot is not None:
                break
        if spot is None:
            continue
        placer.boxes.append(spot[2])
        bbox = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6}
        _label(ax, spot[0], spot[1], text, fontsize=7, color="#0d47a1", ha="center",
               va="center", zorder=7, clip_on=True, bbox=bbox)  # fmt: skip
    ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.9)
    return ax


def _points_per_unit(ax: Axes, width: float, height: float) -> float:
    """Points per data unit of a map of ``width × height`` units in ``ax`` (equal aspect), as
    laid out: the figure's layout engine is run first when it has one."""
    fig = ax.get_figure()
    engine = fig.get_layout_engine() if fig is not None else None
    if engine is not None:
        # a layout that cannot run yet: measure the Axes as they are
        with contextlib.suppress(Exception):
            engine.execute(fig)
        ax.apply_aspect()
    box = ax.get_position()
    w_pt = box.width * fig.get_figwidth() * 72.0
    h_pt = box.height * fig.get_figheight() * 72.0
    return min(w_pt / width, h_pt / height)


def _link_width(gbps: float) -> float:
    return 0.6 + 1.1 * math.log10(1.0 + max(gbps, 0.0))
