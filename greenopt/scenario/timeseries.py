"""Time-indexed site signals: what counts as one, and aligning it to a horizon (MODEL.md §1).

A site's per-slot signals (``renewable_kw``, ``carbon``, ``price``) are given either as one value
per slot (a list, a numpy array, a pandas Series with an integer index — as always), or as a
**time series**: a pandas Series with a timezone-aware index (or timestamps with offsets), an
xarray DataArray with one tz-aware time coordinate, or — for all of a site's signals at once — a
DataFrame (or xarray Dataset) with those columns passed as ``Site(..., signals=frame)``.

A time series may have any resolution. A :class:`~greenopt.scenario.Site` validated on its own does
not know the horizon, so it keeps the series (normalised: float values, sorted UTC index) until the
:class:`~greenopt.scenario.Scenario` holding it is validated; the scenario then aligns every series
to its slots with :func:`greenopt.scenario.resample.resample_to_horizon` (the time-weighted mean
over each slot, MODEL.md §1) and holds copies of its sites with one value per slot, so the same
``Site`` may serve scenarios with different horizons. A naive index, a series that does not cover
the horizon (a 2019 series for a 2023 horizon, say) or one with a gap is a
:class:`~greenopt.errors.ScenarioError` naming the site, the signal and the times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError
from greenopt.scenario.resample import resample_to_horizon, to_utc_index

if TYPE_CHECKING:
    from greenopt.scenario import Horizon, Site

#: The per-slot signals of a site (MODEL.md §2).
SIGNALS = ("renewable_kw", "carbon", "price")


def is_time_indexed(value: Any) -> bool:
    """Whether ``value`` is given by time (not one value per slot).

    A pandas Series is by time unless its index is integers (a RangeIndex from ``pd.Series(list)``
    is one value per slot, as before); an xarray DataArray is by time when it has a dimension
    coordinate (a bare DataArray is one value per slot).
    """
    if _is_xarray(value, "DataArray"):
        return any(d in value.coords for d in value.dims)
    if isinstance(value, pd.Series):
        return not pd.api.types.is_integer_dtype(value.index.dtype)
    return False


def as_time_series(value: Any, what: str, culprit: str | None = None) -> pd.Series:
    """``value`` (a time-indexed Series or DataArray) as floats on a sorted UTC index.

    Raises :class:`ScenarioError` starting with ``what`` (e.g. ``site 'oslo' field 'carbon'``)
    for a naive or unparsable timestamp, a repeated timestamp, or a missing, non-numeric or
    infinite value (naming its time); its ``culprit`` is ``culprit`` (default ``what``).
    """
    try:
        return _as_time_series(value, what)
    except ScenarioError as exc:
        raise ScenarioError(str(exc), culprit or what) from None


def _as_time_series(value: Any, what: str) -> pd.Series:
    if _is_xarray(value, "DataArray"):
        if value.ndim != 1:
            raise ScenarioError(
                f"{what}: an xarray DataArray must have one (time) dimension, got {value.dims}",
                what,
            )
        value = value.to_series()
    if value.empty:
        raise ScenarioError(f"{what}: the series is empty", what)
    index = to_utc_index(value.index, what)
    values = pd.to_numeric(pd.Series(value.to_numpy()), errors="coerce").to_numpy(dtype=float)
    series = pd.Series(values, index=index, name=value.name).sort_index()
    bad = ~np.isfinite(series.to_numpy())
    if bad.any():
        raise ScenarioError(
            f"{what}: missing, non-numeric or infinite value at {series.index[bad][0].isoformat()}",
            what,
        )
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ScenarioError(f"{what}: timestamp {dup.isoformat()} appears twice", what)
    series.index.name = "time"
    return series


def split_signals(frame: Any, site: str) -> dict[str, Any]:
    """A DataFrame (or xarray Dataset) of a site's signals → ``{signal: time series}``.

    Its columns (data variables) must be among :data:`SIGNALS`; each becomes that signal.
    """
    if _is_xarray(frame, "Dataset"):
        frame = frame.to_dataframe()
    if not isinstance(frame, pd.DataFrame):
        raise ScenarioError(
            f"site {site!r} field 'signals' must be a pandas DataFrame (or xarray Dataset) with "
            f"columns among {list(SIGNALS)}, got {type(frame).__name__}",
            site,
        )
    unknown = [str(c) for c in frame.columns if c not in SIGNALS]
    if unknown:
        raise ScenarioError(
            f"site {site!r} field 'signals' has unknown column(s) {unknown}; "
            f"allowed: {list(SIGNALS)}",
            site,
        )
    if frame.columns.empty:
        raise ScenarioError(f"site {site!r} field 'signals' has no columns", site)
    return {str(c): frame[c] for c in frame.columns}


def site_aligned(site: Site, horizon: Horizon) -> Site:
    """``site`` with every time-indexed signal resampled to ``horizon``'s slots.

    Returns ``site`` itself when all its signals are already per slot; otherwise a copy (the
    original keeps its series, so it can be aligned to another horizon). A missing ``price``
    becomes 0 in every slot, as for per-slot input.
    """
    timed = {f: getattr(site, f) for f in SIGNALS if isinstance(getattr(site, f), pd.Series)}
    if not timed:
        return site
    update: dict[str, np.ndarray] = {}
    for field, series in timed.items():
        what = f"site {site.name!r} field {field!r}"
        try:
            values = resample_to_horizon(series, horizon, what=what)
        except ScenarioError as exc:
            raise ScenarioError(str(exc), site.name) from None
        values = np.asarray(values, dtype=float)
        values.setflags(write=False)
        update[field] = values
    if site.price is None:
        zeros = np.zeros(horizon.slots)
        zeros.setflags(write=False)
        update["price"] = zeros
    return site.model_copy(update=update)


def _is_xarray(value: Any, kind: str) -> bool:
    """Whether ``value`` is an xarray ``kind`` (checked by type, so xarray is never imported)."""
    cls = type(value)
    return cls.__name__ == kind and cls.__module__.split(".")[0] == "xarray"
