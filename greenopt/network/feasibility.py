"""The seed paper's feasibility domain for migrating into a renewable window (MODEL.md §9).

For a checkpoint of ``S`` GB over ``B`` Gbit/s at efficiency ``η``, into a window of ``W`` hours
with disruption budget ``α``:

* ``T_mig = 8S / (η·B·3600) + restore_h``                      (hours)
* time-feasible when ``T_mig ≤ α·W``
* largest movable checkpoint ``S_max = (α·W − restore_h)·η·B·3600/8``  (GB)
* energy-justified when the renewable energy gained over the rest of the window,
  ``P·pue·(W − T_mig)`` (kWh, job power ``P`` kW, capped by the window's surplus) exceeds the
  energy the move costs, ``S·net_kwh_per_gb``.

A renewable window at a site is a maximal run of slots whose renewable power exceeds the site's
committed load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.network.routes import transfer_hours


def migration_time_h(
    state_gb: float, gbps: float, efficiency: float = 1.0, restore_h: float = 0.0
) -> float:
    """``T_mig = 8S/(ηB·3600) + restore_h`` in hours."""
    return transfer_hours(state_gb, gbps, efficiency) + restore_h


def max_checkpoint_gb(
    window_h: float,
    gbps: float,
    alpha: float = 0.1,
    efficiency: float = 1.0,
    restore_h: float = 0.0,
) -> float:
    """``S_max = (αW − restore_h)·ηB·3600/8``; 0 when the restore alone exceeds the budget."""
    return max(0.0, (alpha * window_h - restore_h) * efficiency * gbps * 3600.0 / 8.0)


def time_feasible(
    state_gb: float,
    gbps: float,
    window_h: float,
    alpha: float = 0.1,
    efficiency: float = 1.0,
    restore_h: float = 0.0,
) -> bool:
    """``T_mig ≤ α·W``."""
    return migration_time_h(state_gb, gbps, efficiency, restore_h) <= alpha * window_h + 1e-12


def energy_justified(
    state_gb: float,
    gbps: float,
    window_h: float,
    power_kw: float,
    pue: float = 1.0,
    net_kwh_per_gb: float = 0.005,
    efficiency: float = 1.0,
    restore_h: float = 0.0,
    surplus_kwh: float | None = None,
) -> bool:
    """Renewable energy gained over the rest of the window exceeds the migration's energy."""
    t_mig = migration_time_h(state_gb, gbps, efficiency, restore_h)
    gained = power_kw * pue * max(0.0, window_h - t_mig)
    if surplus_kwh is not None:
        gained = min(gained, surplus_kwh)
    return gained > state_gb * net_kwh_per_gb


@dataclass(frozen=True)
class RenewableWindow:
    """Slots ``[start, end)`` of a renewable surplus; ``surplus_kwh`` summed over them."""

    start: int
    end: int
    hours: float
    surplus_kwh: float


def renewable_windows(
    renewable_kw: Sequence[float] | np.ndarray,
    load_kw: float | Sequence[float] | np.ndarray = 0.0,
    dt_h: float = 1.0,
) -> list[RenewableWindow]:
    """Maximal runs of slots where renewable power exceeds the committed load."""
    ren = np.asarray(renewable_kw, dtype=float)
    load = np.broadcast_to(np.asarray(load_kw, dtype=float), ren.shape)
    surplus = ren - load
    on = surplus > 1e-9
    windows: list[RenewableWindow] = []
    t = 0
    n = len(ren)
    while t < n:
        if not on[t]:
            t += 1
            continue
        s = t
        while t < n and on[t]:
            t += 1
        windows.append(RenewableWindow(s, t, (t - s) * dt_h, float(surplus[s:t].sum() * dt_h)))
    return windows


def feasibility_table(
    sizes_gb: Iterable[float],
    bandwidths_gbps: Iterable[float],
    windows_h: Iterable[float],
    alpha: float = 0.1,
    efficiency: float = 1.0,
    restore_h: float = 0.0,
) -> pd.DataFrame:
    """One row per (size, bandwidth, window): ``t_mig_h``, ``s_max_gb``, ``time_feasible``."""
    rows = []
    for w in windows_h:
        for b in bandwidths_gbps:
            s_max = max_checkpoint_gb(w, b, alpha, efficiency, restore_h)
            for s in sizes_gb:
                t = migration_time_h(s, b, efficiency, restore_h)
                rows.append(
                    {
                        "state_gb": float(s),
                        "gbps": float(b),
                        "window_h": float(w),
                        "t_mig_h": t,
                        "s_max_gb": s_max,
                        "time_feasible": t <= alpha * w + 1e-12,
                    }
                )
    return pd.DataFrame(rows)


def plot_domain(
    windows_h: Iterable[float] = (1, 2, 4, 8),
    alpha: float = 0.1,
    efficiency: float = 1.0,
    restore_h: float = 0.0,
    gbps_range: tuple[float, float] = (0.1, 100.0),
    ax=None,
):
    """Plot ``S_max`` against bandwidth, one curve per window length (log-log).

    Checkpoints below a curve can move within that window's budget ``α·W``.
    Returns the matplotlib Axes.
    """
    # no matplotlib.use(): switching the backend here would silently stop a notebook's inline
    # figures; without a display matplotlib already falls back to Agg by itself
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    bw = np.logspace(np.log10(gbps_range[0]), np.log10(gbps_range[1]), 200)
    for w in windows_h:
        s_max = [max_checkpoint_gb(w, b, alpha, efficiency, restore_h) for b in bw]
        ax.plot(bw, s_max, label=f"W = {w:g} h")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("WAN bandwidth (Gbit/s)")
    ax.set_ylabel("largest movable checkpoint (GB)")
    ax.set_title(f"Feasibility domain (α = {alpha:g}, η = {efficiency:g})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax
