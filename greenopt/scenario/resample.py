"""Resampling a time series onto a horizon's slots (MODEL.md §1).

Each sample holds until the next one (a step function); a slot's value is the time-weighted mean
of that step function over the slot. A sample holds for at most the series' usual spacing (its
median step): the last one for exactly that, so a series must reach the horizon's end, and a gap
inside the horizon longer than that spacing (a missing hour in an hourly series) is an error
naming the series and the missing time — never filled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError, shown

if TYPE_CHECKING:
    from greenopt.scenario import Horizon


def to_utc_index(index: pd.Index, what: str) -> pd.DatetimeIndex:
    """Parse ``index`` as timezone-aware timestamps (naive ones are refused), in UTC.

    Offsets may differ from one timestamp to the next (local time across a daylight-saving
    change, ``+01:00`` then ``+02:00``); a naive or unparsable timestamp is named in the error.
    """
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(index, utc=False, format="mixed"))
    except (ValueError, TypeError):
        idx = None  # mixed offsets, or something unparsable: look at each timestamp
    if idx is not None and idx.tz is not None:
        return _no_missing(idx, what).tz_convert("UTC")
    for value in index:
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ScenarioError(
                f"{what}: timestamp {shown(value)} could not be parsed", what
            ) from None
        if pd.isna(stamp):
            raise ScenarioError(f"{what}: a timestamp is missing", what)
        if stamp.tzinfo is None:
            raise ScenarioError(
                f"{what}: timestamp {shown(value)} has no timezone: timestamps must be "
                "timezone-aware (e.g. '2023-06-01T00:00:00Z'); naive timestamps are ambiguous",
                what,
            )
    # every timestamp is aware, with different offsets
    return _no_missing(pd.DatetimeIndex(pd.to_datetime(index, utc=True, format="mixed")), what)


def _no_missing(idx: pd.DatetimeIndex, what: str) -> pd.DatetimeIndex:
    if idx.hasnans:
        k = int(np.flatnonzero(idx.isna())[0])
        raise ScenarioError(f"{what}: timestamp number {k + 1} is missing", what)
    return idx


def resample_to_horizon(series: pd.Series, horizon: Horizon, what: str = "series") -> np.ndarray:
    """Time-weighted mean of a step-function series over each slot of ``horizon``."""
    if series.empty:
        raise ScenarioError(f"{what}: the series is empty", what)
    s = series.copy()
    s.index = to_utc_index(s.index, what)
    s = s.sort_index()
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise ScenarioError(f"{what}: timestamp {dup.isoformat()} appears twice", what)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        bad = s.index[~np.isfinite(values)][0]
        raise ScenarioError(f"{what}: missing, NaN or infinite value at {bad.isoformat()}", what)
    t = (
        s.index - pd.Timestamp(horizon.start).tz_convert("UTC")
    ).total_seconds().to_numpy() / 3600.0
    step = float(np.median(np.diff(t))) if len(t) > 1 else horizon.dt_h
    edges = np.arange(horizon.slots + 1) * horizon.dt_h
    last_covered = t[-1] + step
    if t[0] > 1e-9 or last_covered < edges[-1] - 1e-9:
        raise ScenarioError(
            f"{what}: covers {s.index[0].isoformat()} to "
            f"{(s.index[-1] + pd.Timedelta(hours=step)).isoformat()}, which does not cover the "
            f"horizon {pd.Timestamp(horizon.start).isoformat()} to "
            f"{pd.Timestamp(horizon.end).isoformat()}",
            what,
        )
    _no_gap(s.index, t, step, float(edges[-1]), what)
    # samples exactly on the slot starts at the slot length: take them as they are (exact)
    if abs(step - horizon.dt_h) < 1e-9:
        pos = np.searchsorted(t, edges[:-1] - 1e-9)
        if np.all(pos < len(t)) and np.allclose(
            t[np.minimum(pos, len(t) - 1)], edges[:-1], atol=1e-9
        ):
            return values[pos].copy()
    # integral of the step function from t[0] to each edge, then differences per slot
    knots = np.append(t, last_covered)
    cum = np.concatenate([[0.0], np.cumsum(values * np.diff(knots))])
    at_edges = np.interp(edges, knots, cum)
    return np.diff(at_edges) / horizon.dt_h


def _no_gap(index: pd.DatetimeIndex, t: np.ndarray, step: float, end_h: float, what: str) -> None:
    """MODEL.md §1: no stretch of the horizon ``[0, end_h)`` lies more than ``step`` hours after
    a sample and before the next one (``t``: sample times in hours from the horizon start)."""
    if len(t) < 2:
        return
    gaps = np.diff(t)
    tol = 1e-6 * max(step, 1e-9)
    uncovered_from = t[:-1] + step
    inside = (gaps > step + tol) & (uncovered_from < end_h - tol) & (t[1:] > tol)
    if not np.any(inside):
        return
    i = int(np.flatnonzero(inside)[0])
    missing = index[i] + pd.Timedelta(hours=step)
    raise ScenarioError(
        f"{what}: no value from {missing.isoformat()} to {index[i + 1].isoformat()}, a gap of "
        f"{gaps[i]:g} h between samples inside the horizon where the series' usual spacing is "
        f"{step:g} h (a missing time is an error, never filled)",
        what,
    )
