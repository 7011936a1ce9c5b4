"""Real forecast archives: what forecasters issued, and what then happened.

A :class:`ForecastArchive` is one real forecast product for one or more places (a WattTime
region, Solcast cities): at each issue time, values for target intervals at fixed leads, plus the
actuals on the same grid. The loaders (:mod:`greenopt.io.forecast_archives`) build them from the
files in ``../shared/data``; :meth:`ForecastArchive.to_forecasts` puts them on a scenario's slots
(the resampling rule of actuals, MODEL.md §1) and :mod:`greenopt.forecasts.calibration` measures
their error by lead time.

Time convention: every value holds over ``[time, time + step)`` (interval start, UTC); a lead is
the target interval's start minus the issue time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError
from greenopt.forecasts.data import SIGNALS, Forecasts
from greenopt.forecasts.resample import samples_to_slots
from greenopt.scenario import Horizon


@dataclass(frozen=True, eq=False)
class ForecastArchive:
    """Issued forecasts of one quantity at one or more places, with the actuals they forecast.

    - ``values``: ``(issues, leads, series)`` — the forecast issued at ``issue_times[i]`` for the
      interval starting ``issue_times[i] + leads[j]`` at place ``series[n]``; NaN where missing;
    - ``actuals``: a regular grid of interval starts (UTC, spacing ``step``) × ``series``;
    - ``signal``: the scenario signal it forecasts (``carbon`` in gCO2/kWh, or ``renewable_kw``
      for solar output normalised 0–1: scale by a plant's kW); ``unit`` says which.
    """

    name: str
    signal: str
    unit: str
    step: pd.Timedelta
    issue_times: pd.DatetimeIndex
    leads: pd.TimedeltaIndex
    series: tuple[str, ...]
    values: np.ndarray
    actuals: pd.DataFrame

    def __post_init__(self) -> None:
        # one time unit throughout (pandas may parse to microseconds): integer arithmetic below
        object.__setattr__(self, "issue_times", pd.DatetimeIndex(self.issue_times).as_unit("ns"))
        object.__setattr__(self, "leads", pd.TimedeltaIndex(self.leads).as_unit("ns"))
        object.__setattr__(self, "step", pd.Timedelta(self.step).as_unit("ns"))
        actuals = self.actuals.copy()
        actuals.index = pd.DatetimeIndex(actuals.index).as_unit("ns")
        object.__setattr__(self, "actuals", actuals)
        if self.signal not in SIGNALS:
            raise ForecastError(f"{self.name}: unknown signal {self.signal!r}", self.signal)
        shape = (len(self.issue_times), len(self.leads), len(self.series))
        if self.values.shape != shape:
            raise ForecastError(
                f"{self.name}: values have shape {self.values.shape}, expected {shape}", self.name
            )
        if list(self.actuals.columns) != list(self.series):
            raise ForecastError(f"{self.name}: actuals' columns differ from the series", self.name)
        steps = np.diff(self.actuals.index.asi8)
        if steps.size and not np.all(steps == self.step.value):
            raise ForecastError(f"{self.name}: actuals are not on a regular grid", self.name)
        self.values.setflags(write=False)

    # -- views ---------------------------------------------------------------------------------
    @property
    def lead_hours(self) -> np.ndarray:
        return self.leads.total_seconds().to_numpy() / 3600.0

    def actual(self, series: str) -> pd.Series:
        """The actuals of one place (UTC interval starts)."""
        if series not in self.series:
            raise ForecastError(f"{self.name}: no series {series!r}; it has {self.series}", series)
        return self.actuals[series]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table ``issue_time, time, series, value`` of every forecast value (UTC)."""
        i, j, n = np.nonzero(np.isfinite(self.values))
        return pd.DataFrame(
            {
                "issue_time": self.issue_times[i],
                "time": self.issue_times[i] + self.leads[j],
                "series": np.array(self.series, dtype=object)[n],
                "value": self.values[i, j, n],
            }
        )

    def actual_at_targets(self) -> np.ndarray:
        """``(issues, leads, series)``: the actual of each forecast's target interval (NaN where
        the actuals do not reach)."""
        grid = self.actuals.index.asi8
        target = self.issue_times.asi8[:, None] + self.leads.asi8[None, :]
        pos = np.clip((target - grid[0]) // self.step.value, 0, len(grid) - 1)
        on_grid = (target >= grid[0]) & (grid[pos] == target)
        acts = self.actuals.to_numpy(dtype=float)[pos]  # (I, L, N)
        return np.where(on_grid[:, :, None], acts, np.nan)

    def errors(self) -> np.ndarray:
        """``(issues, leads, series)``: forecast − actual (NaN where either is missing)."""
        return self.values - self.actual_at_targets()

    # -- onto a scenario -----------------------------------------------------------------------
    def to_forecasts(
        self,
        horizon: Horizon,
        sites: Mapping[str, str],
        *,
        scale: float | Mapping[str, float] = 1.0,
        history_slots: int = 0,
    ) -> Forecasts:
        """These forecasts for ``horizon``: ``sites`` maps a site name to the series it takes
        (e.g. ``{"oslo": "Stockholm"}``), ``scale`` multiplies them (a plant's kW for solar).

        Every issue that can say something about the horizon is kept, at its own issue time;
        its values are resampled onto the slots like actuals (time-weighted mean), a slot it
        does not fully cover left NaN. ``history_slots`` slots of actuals before the horizon are
        attached as the history (NaN where the archive does not reach back).
        """
        for site, name in sites.items():
            if name not in self.series:
                raise ForecastError(
                    f"{self.name}: site {site!r} asks for series {name!r}; it has "
                    f"{list(self.series)}",
                    site,
                )
        names = list(sites)
        factors = np.array(
            [float(scale[s]) if isinstance(scale, Mapping) else float(scale) for s in names]
        )
        start = pd.Timestamp(horizon.start).tz_convert("UTC")
        end = pd.Timestamp(horizon.end).tz_convert("UTC")
        reach = self.leads.max() + self.step
        keep = (self.issue_times < end) & (self.issue_times + reach > start)
        times = self.issue_times[keep]
        vals = self.values[keep]
        cols = [self.series.index(sites[s]) for s in names]
        step_h = self.step.total_seconds() / 3600.0
        rel_issue = (times - start).total_seconds().to_numpy() / 3600.0
        first = np.maximum(0, np.ceil(rel_issue / horizon.dt_h - 1e-9)).astype(np.int64)
        out = np.full((len(times), len(names), horizon.slots), np.nan)
        for i in range(len(times)):
            t_h = rel_issue[i] + self.lead_hours
            for s, col in enumerate(cols):
                row = samples_to_slots(t_h, vals[i, :, col], horizon.slots, horizon.dt_h, step_h)
                row[: first[i]] = np.nan  # slots begun before the issue
                out[i, s] = row * factors[s]
        history = {}
        if history_slots:
            history[self.signal] = self._history(horizon, cols, history_slots) * factors[:, None]
        return Forecasts(horizon, tuple(names), times, {self.signal: out}, history=history)

    def _history(self, horizon: Horizon, cols: list[int], n_slots: int) -> np.ndarray:
        """``(sites, n_slots)`` actuals of the slots before the horizon (NaN not covered)."""
        start = pd.Timestamp(horizon.start).tz_convert("UTC")
        before = start - pd.Timedelta(minutes=horizon.slot_minutes * n_slots)
        t_h = (self.actuals.index - before).total_seconds().to_numpy() / 3600.0
        step_h = self.step.total_seconds() / 3600.0
        acts = self.actuals.to_numpy(dtype=float)
        return np.stack(
            [samples_to_slots(t_h, acts[:, c], n_slots, horizon.dt_h, step_h) for c in cols]
        )

    def __repr__(self) -> str:
        return (
            f"ForecastArchive({self.name!r}: {self.signal} in {self.unit}, "
            f"{len(self.issue_times)} issues x {len(self.leads)} leads "
            f"({self.leads.min()}..{self.leads.max()}) x {len(self.series)} series)"
        )
