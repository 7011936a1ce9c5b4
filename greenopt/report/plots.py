"""Plots of a plan (matplotlib, Agg backend — no display needed).

* :func:`gantt` — one panel per site: a bar per run slot of each job that runs there, as wide as
  the share of the slot it runs (``share · Δh`` hours from the slot's start), coloured by job kind;
  a migration arriving in a slot is marked with a triangle at the start of the bar.
* :func:`energy_stack` — one panel per site: stacked renewable-used / grid / curtailed energy per
  slot (kWh; ``renewable_kwh + grid_kwh = facility_kwh`` and ``renewable_kwh + curtailed_kwh =
  renewable_kw · Δh``, MODEL.md §6), with the grid carbon intensity (gCO2/kWh) on a twin axis.
* :func:`wan_map` — the WAN with sites at their longitude/latitude when every site has them (transit
  nodes at the mean of their neighbours), otherwise a deterministic spring layout; links drawn with
  a width growing with ``log(gbps)``, migrations as arrows src → dst labelled with count and GB.

Time axes are labelled with clock times in the horizon's time zone (date shown when the horizon
spans more than a day). Every function returns the :class:`~matplotlib.figure.Figure` and, given
``path``, saves a PNG.
The twin (carbon) axes carry the label ``"carbon-overlay"`` so a caller can count the site panels.

**Names are shown, never interpreted.** Site, job and kind names and the scenario's are user
strings: a kind ``$\\undefinedmacro$`` would make matplotlib's mathtext (or TeX, where
``text.usetex`` is on) parse it and fail — after planning. Every plot is built and saved with
math parsing and TeX off (:func:`literal_text`), and long names are cut to
:data:`NAME_CHARS` characters.

**Bounded time and memory.** :func:`greenopt.limits.plot_budget` decides from the plan's size
how each plot is drawn: in detail (a bar per run slot, a stacked bar per slot), aggregated
(GPUs in use per site and kind, energy as stacked areas, slots binned to at most
:data:`~greenopt.limits.MAX_POINTS` points) or not at all, with a note saying why.
:func:`plot_all` never loses a plan over a plot: a plot that fails is skipped with a note (only
a failure to write a file, such as a full disk, is raised).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from greenopt import limits
from greenopt.result import Plan
from greenopt.scenario import Scenario

F = TypeVar("F", bound=Callable[..., Any])
#: Longest name a plot shows (then "…").
NAME_CHARS = 40

#: Label put on the carbon twin axes of :func:`energy_stack` (they are not site panels).
OVERLAY_LABEL = "carbon-overlay"
PLOTS = ("gantt", "energy", "wan")

_KIND_COLOURS = {
    "training": "#1f77b4",
    "nearline": "#2ca02c",
    "evaluation": "#9467bd",
    "latency_critical": "#d62728",
}
_OTHER_COLOURS = ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"]
_ENERGY_COLOURS = {"renewable": "#4caf50", "grid": "#616161", "curtailed": "#c5e1a5"}


def literal_text(fn: F) -> F:
    """Run ``fn`` (which builds and saves a figure) with matplotlib's math parsing and TeX off,
    so every string it draws is shown as it is."""

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


def _pixels(figsize: tuple[float, float], dpi: int) -> float:
    return figsize[0] * figsize[1] * dpi * dpi


def _kind_colour(kind: str, others: dict[str, str]) -> str:
    if kind in _KIND_COLOURS:
        return _KIND_COLOURS[kind]
    if kind not in others:
        others[kind] = _OTHER_COLOURS[len(others) % len(_OTHER_COLOURS)]
    return others[kind]


def _figure(figsize: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas, outside pyplot: no global state, safe in worker threads,
    never a window, nothing to close."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


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


def _time_axis(ax: Axes, scenario: Scenario) -> None:
    """Label an x axis drawn in hours from the horizon start with clock times (its time zone).

    Ticks fall every 1, 2, 3, 4, 6, 12 or 24·k hours — the smallest step giving at most 12.
    """
    start = pd.Timestamp(scenario.horizon.start)
    span_h = scenario.horizon.slots * scenario.horizon.dt_h
    step = next((s for s in (1, 2, 3, 4, 6, 12) if span_h / s <= 12), None)
    if step is None:
        step = 24 * int(np.ceil(span_h / 24 / 12))
    fmt = "%H:%M" if span_h <= 24 else "%d %b %H:%M"
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _: (start + pd.Timedelta(hours=float(x))).strftime(fmt))
    )
    zone = start.tzname() or "UTC"
    day = f"{start:%Y-%m-%d}" + ("" if span_h <= 24 else " onwards")
    ax.set_xlabel(f"time ({zone}), {day}")


@literal_text
def gantt(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = 110,
    notes: list[str] | None = None,
) -> Figure | None:
    """Per-site Gantt chart of the plan's run slots (one panel per site); a large plan is drawn
    aggregated — GPUs in use per site and job kind — or skipped (``None``), with a note."""
    idx = scenario.index
    a = plan.assignments
    rows_per_site = [
        sorted(set(a.loc[a["site"] == s, "job"]), key=idx.job_pos.get) for s in idx.site_names
    ]
    heights = [max(1, len(r)) for r in rows_per_site]
    figsize = (10, 1.2 + 0.28 * sum(heights) + 0.5 * len(heights))
    how = limits.plot_budget(
        "gantt",
        sites=len(idx.site_names),
        slots=idx.T,
        artists=len(a) + len(plan.migrations),
        rows=sum(len(r) for r in rows_per_site),
        pixels=_pixels(figsize, dpi),
    )
    if how.note and notes is not None:
        notes.append(how.note)
    if how.mode == "skip":
        return None
    if how.mode == "aggregate":
        return _save(_gantt_by_kind(scenario, plan, how.bin), path, dpi)
    dt = idx.dt_h
    kinds = {job.name: job.kind for job in scenario.jobs}
    arrivals = {(r.job, int(r.slot)) for r in plan.migrations.itertuples()}
    fig = _figure(figsize=figsize)
    grid = fig.add_gridspec(len(heights), 1, height_ratios=[h + 1.5 for h in heights])
    others: dict[str, str] = {}
    axes = []
    for k, (site, jobs) in enumerate(zip(idx.site_names, rows_per_site, strict=True)):
        ax = fig.add_subplot(grid[k, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        row_of = {job: i for i, job in enumerate(jobs)}
        here = a[a["site"] == site]
        for r in here.itertuples():
            y = row_of[r.job]
            colour = _kind_colour(kinds[r.job], others)
            ax.broken_barh(
                [(r.slot * dt, r.share * dt)], (y - 0.38, 0.76), facecolors=colour, linewidth=0
            )
            if (r.job, int(r.slot)) in arrivals:
                ax.plot(r.slot * dt, y, marker=">", color="black", markersize=5)
        ax.set_yticks(range(len(jobs)), [name(j) for j in jobs], fontsize=7)
        ax.set_ylim(-0.7, max(1, len(jobs)) - 0.3)
        ax.invert_yaxis()
        ax.set_xlim(0, idx.T * dt)
        gpus = int(idx.site_gpus[idx.site_pos[site]])
        ax.set_title(f"{name(site)} ({gpus} GPUs)", fontsize=9, loc="left")
        ax.grid(True, axis="x", alpha=0.3)
        if not jobs:
            ax.text(0.5, 0.5, "no jobs", transform=ax.transAxes, ha="center", va="center")
    _time_axis(axes[-1], scenario)
    present = sorted({kinds[j] for j in a["job"]}) if len(a) else []
    handles = [Patch(color=_kind_colour(k, others), label=name(k)) for k in present]
    if len(plan.migrations):
        handles.append(
            Line2D([], [], marker=">", color="black", linestyle="", label="migration in")
        )
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, ncols=min(len(handles), 6))
    fig.suptitle(
        f"Plan by site — {name(plan.method)} ({name(plan.objective_name)})", x=0.02, ha="left"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _save(fig, path, dpi)


def _bins(T: int, per: int) -> np.ndarray:
    """Start slot of each bin of ``per`` slots."""
    return np.arange(0, T, per)


def _gantt_by_kind(scenario: Scenario, plan: Plan, per: int) -> Figure:
    """The aggregated Gantt chart: per site, GPUs in use by job kind (mean over each bin of
    ``per`` slots), stacked — bounded by sites × kinds × bins, whatever the number of jobs."""
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    a = plan.assignments
    kinds_of = np.array([j.kind for j in scenario.jobs], dtype=object)
    kinds = sorted(set(kinds_of[[idx.job_pos[j] for j in a["job"]]])) if len(a) else []
    starts = _bins(T, per)
    x = np.append(starts, T) * dt
    use = np.zeros((S, len(kinds), len(starts)))
    if len(a):
        j = np.array([idx.job_pos[v] for v in a["job"]])
        s = np.array([idx.site_pos[v] for v in a["site"]])
        k = np.searchsorted(kinds, kinds_of[j].astype(str))
        b = a["slot"].to_numpy(dtype=np.int64) // per
        np.add.at(use, (s, k, b), a["share"].to_numpy(dtype=float) * idx.gpus[j])
        use /= np.minimum(per, T - starts)[None, None, :]
    fig = _figure(figsize=(10, 1.2 + 1.6 * S))
    axes = fig.subplots(S, 1, sharex=True, squeeze=False)
    others: dict[str, str] = {}
    for i, site in enumerate(idx.site_names):
        ax = axes[i, 0]
        bottom = np.zeros(len(starts))
        for kk, kind in enumerate(kinds):
            top = bottom + use[i, kk]
            ax.fill_between(
                x, np.append(bottom, bottom[-1]), np.append(top, top[-1]), step="post",
                color=_kind_colour(kind, others), linewidth=0,
            )  # fmt: skip
            bottom = top
        gpus = int(idx.site_gpus[i])
        ax.axhline(gpus, color="black", linewidth=0.8, linestyle="--")
        ax.set_ylabel("GPUs", fontsize=8)
        ax.set_title(f"{name(site)} ({gpus} GPUs in use at most)", fontsize=9, loc="left")
        ax.grid(True, axis="y", alpha=0.3)
    axes[-1, 0].set_xlim(0, T * dt)
    _time_axis(axes[-1, 0], scenario)
    handles = [Patch(color=_kind_colour(k, others), label=name(k)) for k in kinds]
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, ncols=min(len(handles), 6))
    fig.suptitle(
        f"GPUs in use by job kind — {name(plan.method)} ({name(plan.objective_name)}); "
        f"{len(idx.job_names):,} jobs" + (f", {per} slots per step" if per > 1 else ""),
        x=0.02,
        ha="left",
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


@literal_text
def energy_stack(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = 110,
    notes: list[str] | None = None,
) -> Figure | None:
    """Per-site stacked renewable / grid / curtailed kWh with carbon intensity overlaid; a long
    horizon is drawn as stacked areas over bins of slots, too many sites are skipped (``None``),
    with a note."""
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    figsize = (10, 2.3 * S + 0.8)
    how = limits.plot_budget(
        "energy", sites=S, slots=T, artists=3 * S * T, pixels=_pixels(figsize, dpi)
    )
    if how.note and notes is not None:
        notes.append(how.note)
    if how.mode == "skip":
        return None
    per = how.bin
    starts = _bins(T, per)
    e = plan.energy.set_index(["site", "slot"])
    fig = _figure(figsize=figsize)
    axes = fig.subplots(S, 1, sharex=True, squeeze=False)
    x = (starts + np.minimum(per, T - starts) / 2) * dt
    edges = np.append(starts, T) * dt
    for k, site in enumerate(idx.site_names):
        ax = axes[k, 0]
        rows = e.loc[site].reindex(range(T), fill_value=0.0)
        ren, grid, curt = (
            np.add.reduceat(rows[col].to_numpy(dtype=float), starts)
            for col in ("renewable_kwh", "grid_kwh", "curtailed_kwh")
        )
        layers = [
            (ren, "renewable", "renewable used"),
            (grid, "grid", "grid"),
            (curt, "curtailed", "curtailed renewable"),
        ]
        if how.mode == "detail":
            bottom = np.zeros(len(starts))
            for values, colour, label in layers:
                ax.bar(x, values, width=dt * 0.9, bottom=bottom, color=_ENERGY_COLOURS[colour],
                       label=label)  # fmt: skip
                bottom = bottom + values
        else:
            bottom = np.zeros(len(starts))
            for values, colour, label in layers:
                top = bottom + values
                ax.fill_between(
                    edges, np.append(bottom, bottom[-1]), np.append(top, top[-1]), step="post",
                    color=_ENERGY_COLOURS[colour], linewidth=0, label=label,
                )  # fmt: skip
                bottom = top
        ax.set_ylabel("kWh" if per == 1 else f"kWh per {per} slots", fontsize=8)
        ax.set_title(
            f"{name(site)}: grid {grid.sum():.0f} kWh, renewable {ren.sum():.0f} kWh, "
            f"curtailed {curt.sum():.0f} kWh",
            fontsize=9,
            loc="left",
        )
        ax.grid(True, axis="y", alpha=0.3)
        twin = ax.twinx()
        twin.set_label(OVERLAY_LABEL)
        carbon = np.add.reduceat(idx.carbon[k], starts) / np.minimum(per, T - starts)
        twin.plot(x, carbon, color="#e65100", linewidth=1.5, label="carbon intensity")
        twin.set_ylabel("gCO2/kWh", fontsize=8, color="#e65100")
        twin.set_ylim(bottom=0)
        if k == 0:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = twin.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", ncols=4)
    axes[-1, 0].set_xlim(0, T * dt)
    _time_axis(axes[-1, 0], scenario)
    fig.suptitle(
        f"Energy by site — {name(plan.method)} ({name(plan.objective_name)})", x=0.02, ha="left"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, path, dpi)


def site_positions(scenario: Scenario) -> tuple[dict[str, tuple[float, float]], bool]:
    """Node positions for the WAN map and whether they are geographic (lon, lat).

    Geographic when every site has a latitude and longitude; transit nodes then sit at the mean
    of their positioned neighbours (repeated until all are placed). Otherwise a spring layout
    with a fixed seed, so the map is deterministic.
    """
    g = nx.Graph(scenario.wan)
    g.add_nodes_from(s.name for s in scenario.sites)
    if all(s.latitude is not None and s.longitude is not None for s in scenario.sites):
        pos = {s.name: (float(s.longitude), float(s.latitude)) for s in scenario.sites}
        pending = [n for n in sorted(g.nodes) if n not in pos]
        while pending:
            progress = False
            for n in list(pending):
                known = [pos[m] for m in g.neighbors(n) if m in pos]
                if known:
                    pos[n] = tuple(np.mean(known, axis=0))  # type: ignore[assignment]
                    pending.remove(n)
                    progress = True
            if not progress:  # isolated transit island: park it at the sites' centroid
                centre = tuple(np.mean(list(pos.values()), axis=0))
                for n in pending:
                    pos[n] = centre  # type: ignore[assignment]
                break
        return pos, True
    layout = nx.spring_layout(g, seed=0)
    return {n: (float(p[0]), float(p[1])) for n, p in layout.items()}, False


@literal_text
def wan_map(
    scenario: Scenario,
    plan: Plan,
    path: str | os.PathLike[str] | None = None,
    dpi: int = 110,
    notes: list[str] | None = None,
) -> Figure | None:
    """The WAN with the plan's migrations as arrows (width ∝ GB moved, labelled count / GB);
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
    pos, geographic = site_positions(scenario)
    sites = {s.name for s in scenario.sites}
    fig = _figure(figsize=(7, 5.5))
    ax = fig.subplots()
    for a, b, d in scenario.wan.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        width = 0.8 + 0.8 * np.log10(1 + float(d.get("gbps", 1.0)))
        ax.plot([x0, x1], [y0, y1], color="#9e9e9e", linewidth=width, zorder=1)
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            f"{float(d.get('gbps', 0)):g} Gb/s",
            fontsize=7,
            color="#616161",
            ha="center",
            va="center",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5},
        )
    moves = (
        plan.migrations.groupby(["src", "dst"])["gb"].agg(["count", "sum"]).reset_index()
        if len(plan.migrations)
        else None
    )
    if moves is not None:
        top = float(moves["sum"].max()) or 1.0
        for r in moves.itertuples():
            (x0, y0), (x1, y1) = pos[r.src], pos[r.dst]
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#1565c0",
                    "linewidth": 1.0 + 3.0 * float(r.sum) / top,
                    "connectionstyle": "arc3,rad=0.18",
                    "shrinkA": 10,
                    "shrinkB": 10,
                },
                zorder=3,
            )
            ax.text(
                x0 + 0.6 * (x1 - x0),
                y0 + 0.6 * (y1 - y0),
                f"{int(r.count)}× / {float(r.sum):.0f} GB",
                fontsize=7,
                color="#0d47a1",
                zorder=4,
            )
    gpus = {s.name: s.gpus for s in scenario.sites}
    for n, (x, y) in pos.items():
        is_site = n in sites
        ax.scatter(
            [x],
            [y],
            s=60 + 4 * gpus.get(n, 0) if is_site else 25,
            color="#2e7d32" if is_site else "#bdbdbd",
            edgecolors="black",
            zorder=5,
        )
        ax.annotate(
            name(n), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=9, zorder=6
        )
    if geographic:
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
        ax.set_aspect("equal", adjustable="datalim")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    n_mig = len(plan.migrations)
    gb = float(plan.migrations["gb"].sum()) if n_mig else 0.0
    ax.set_title(
        f"WAN and migrations: {n_mig} moves, {gb:.0f} GB ({name(plan.method)})", fontsize=10
    )
    ax.margins(0.15)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_all(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    dpi: int = 110,
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
    """The figure's site panels (its axes less the carbon twin overlays)."""
    return [ax for ax in fig.axes if ax.get_label() != OVERLAY_LABEL]
