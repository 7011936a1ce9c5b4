"""Forecast samples onto a horizon's slots: the rule of MODEL.md §1, with gaps left open.

Actuals and forecasts are resampled alike: each sample holds from its time until the next sample,
for at most the samples' usual spacing (their median step; the slot length when there is one
sample), and a slot's value is the time-weighted mean over the slot. Unlike actuals, a forecast
need not cover the horizon — it says nothing about slots before it was issued or beyond its
reach — so a slot that is not fully covered is NaN here, never an error and never filled.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-9  # hours; timestamps are compared to this tolerance


def samples_to_slots(
    times_h: np.ndarray,
    values: np.ndarray,
    slots: int,
    dt_h: float,
    spacing_h: float | None = None,
) -> np.ndarray:
    """Time-weighted slot means of a step function; NaN where a slot is not fully covered.

    ``times_h`` are the samples' times in hours from the horizon start (strictly increasing);
    a NaN value leaves its interval uncovered. A sample that exactly fills one slot gives that
    slot its value unchanged (so values written per slot read back bit for bit).
    """
    t = np.asarray(times_h, dtype=float)
    v = np.asarray(values, dtype=float)
    out = np.full(slots, np.nan)
    if t.size == 0:
        return out
    if spacing_h is None:
        spacing_h = float(np.median(np.diff(t))) if t.size > 1 else dt_h
    nxt = np.append(t[1:], np.inf)
    end = np.where(nxt - t <= spacing_h + _EPS, nxt, t + spacing_h)
    known = np.isfinite(v)
    width = np.where(known, end - t, 0.0)
    integral = np.where(known, v, 0.0) * width
    # cumulative value and coverage at every start and end knot (continuous, non-decreasing x)
    x = np.column_stack([t, end]).ravel()
    cum_v = np.concatenate([[0.0], np.cumsum(integral)])
    cum_c = np.concatenate([[0.0], np.cumsum(width)])
    fv = np.column_stack([cum_v[:-1], cum_v[1:]]).ravel()
    fc = np.column_stack([cum_c[:-1], cum_c[1:]]).ravel()
    edges = np.arange(slots + 1) * dt_h
    at_v = np.interp(edges, x, fv)
    at_c = np.interp(edges, x, fc)
    covered = np.diff(at_c) >= dt_h - _EPS
    out[covered] = np.diff(at_v)[covered] / dt_h
    # samples that fill exactly one slot: their value as given (no rounding through the sums)
    idx = np.rint(t / dt_h).astype(np.int64)
    exact = (
        known
        & (np.abs(t - idx * dt_h) < _EPS)
        & (np.abs(end - (idx + 1) * dt_h) < _EPS)
        & (idx >= 0)
        & (idx < slots)
    )
    out[idx[exact]] = v[exact]
    return out
