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
"""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from greenopt.result import Plan
from greenopt.scenario import Scenario

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
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)  # a reader never sees half a PNG
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


def gantt(
    scenario: Scenario, plan: Plan, path: str | os.PathLike[str] | None = None, dpi: int = 110
) -> Figure:
    """Per-site Gantt chart of the plan's run slots (one panel per site)."""
    idx = scenario.index
    dt = idx.dt_h
    a = plan.assignments
    kinds = {job.name: job.kind for job in scenario.jobs}
    arrivals = {(r.job, int(r.slot)) for r in plan.migrations.itertuples()}
    rows_per_site = [
        sorted(set(a.loc[a["site"] == s, "job"]), key=idx.job_pos.get) for s in idx.site_names
    ]
    heights = [max(1, len(r)) for r in rows_per_site]
    fig = _figure(figsize=(10, 1.2 + 0.28 * sum(heights) + 0.5 * len(heights)))
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
        ax.set_yticks(range(len(jobs)), jobs, fontsize=7)
        ax.set_ylim(-0.7, max(1, len(jobs)) - 0.3)
        ax.invert_yaxis()
        ax.set_xlim(0, idx.T * dt)
        gpus = int(idx.site_gpus[idx.site_pos[site]])
        ax.set_title(f"{site} ({gpus} GPUs)", fontsize=9, loc="left")
        ax.grid(True, axis="x", alpha=0.3)
        if not jobs:
            ax.text(0.5, 0.5, "no jobs", transform=ax.transAxes, ha="center", va="center")
    _time_axis(axes[-1], scenario)
    present = sorted({kinds[j] for j in a["job"]}) if len(a) else []
    handles = [Patch(color=_kind_colour(k, others), label=k) for k in present]
    if len(plan.migrations):
        handles.append(
            Line2D([], [], marker=">", color="black", linestyle="", label="migration in")
        )
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, ncols=len(handles))
    fig.suptitle(f"Plan by site — {plan.method} ({plan.objective_name})", x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _save(fig, path, dpi)


def energy_stack(
    scenario: Scenario, plan: Plan, path: str | os.PathLike[str] | None = None, dpi: int = 110
) -> Figure:
    """Per-site stacked renewable / grid / curtailed kWh with carbon intensity overlaid."""
    idx = scenario.index
    S, T, dt = len(idx.site_names), idx.T, idx.dt_h
    e = plan.energy.set_index(["site", "slot"])
    fig = _figure(figsize=(10, 2.3 * S + 0.8))
    axes = fig.subplots(S, 1, sharex=True, squeeze=False)
    x = np.arange(T) * dt + dt / 2
    for k, site in enumerate(idx.site_names):
        ax = axes[k, 0]
        rows = e.loc[site].reindex(range(T), fill_value=0.0)
        ren = rows["renewable_kwh"].to_numpy(dtype=float)
        grid = rows["grid_kwh"].to_numpy(dtype=float)
        curt = rows["curtailed_kwh"].to_numpy(dtype=float)
        ax.bar(x, ren, width=dt * 0.9, color=_ENERGY_COLOURS["renewable"], label="renewable used")
        ax.bar(x, grid, width=dt * 0.9, bottom=ren, color=_ENERGY_COLOURS["grid"], label="grid")
        ax.bar(
            x,
            curt,
            width=dt * 0.9,
            bottom=ren + grid,
            color=_ENERGY_COLOURS["curtailed"],
            label="curtailed renewable",
        )
        ax.set_ylabel("kWh", fontsize=8)
        ax.set_title(
            f"{site}: grid {grid.sum():.0f} kWh, renewable {ren.sum():.0f} kWh, "
            f"curtailed {curt.sum():.0f} kWh",
            fontsize=9,
            loc="left",
        )
        ax.grid(True, axis="y", alpha=0.3)
        twin = ax.twinx()
        twin.set_label(OVERLAY_LABEL)
        twin.plot(x, idx.carbon[k], color="#e65100", linewidth=1.5, label="carbon intensity")
        twin.set_ylabel("gCO2/kWh", fontsize=8, color="#e65100")
        twin.set_ylim(bottom=0)
        if k == 0:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = twin.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", ncols=4)
    axes[-1, 0].set_xlim(0, T * dt)
    _time_axis(axes[-1, 0], scenario)
    fig.suptitle(f"Energy by site — {plan.method} ({plan.objective_name})", x=0.02, ha="left")
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


def wan_map(
    scenario: Scenario, plan: Plan, path: str | os.PathLike[str] | None = None, dpi: int = 110
) -> Figure:
    """The WAN with the plan's migrations as arrows (width ∝ GB moved, labelled count / GB)."""
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
        ax.annotate(n, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=9, zorder=6)
    if geographic:
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
        ax.set_aspect("equal", adjustable="datalim")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    n_mig = len(plan.migrations)
    gb = float(plan.migrations["gb"].sum()) if n_mig else 0.0
    ax.set_title(f"WAN and migrations: {n_mig} moves, {gb:.0f} GB ({plan.method})", fontsize=10)
    ax.margins(0.15)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_all(
    scenario: Scenario, plan: Plan, out: str | os.PathLike[str], dpi: int = 110
) -> dict[str, Path]:
    """Write ``gantt.png``, ``energy.png`` and ``wan.png`` into ``out``; return name → path."""
    out = Path(out)
    written: dict[str, Path] = {}
    for name, fn in (("gantt", gantt), ("energy", energy_stack), ("wan", wan_map)):
        path = out / f"{name}.png"
        fn(scenario, plan, path, dpi=dpi)
        written[name] = path
    return written


def site_panels(fig: Figure) -> list:
    """The figure's site panels (its axes less the carbon twin overlays)."""
    return [ax for ax in fig.axes if ax.get_label() != OVERLAY_LABEL]
