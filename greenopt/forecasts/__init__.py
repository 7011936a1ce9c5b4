"""Forecasts of the site signals and what is known when (MODEL.md §11); see docs/forecasts.md.

- :class:`Forecasts`: issued forecasts on a horizon's slots (+ the actuals known before it);
- :func:`known_signals`: actuals before decision slot ``k``, latest forecasts from ``k`` on;
- :func:`make_forecasts`: forecasters by name — ``oracle``, ``persistence``, ``error-model``,
  ``scenario`` (the forecasts a scenario carries, completed by persistence);
- :class:`ErrorModel` / :class:`ErrorProfile`: the calibrated, seeded forecast-error model;
- :class:`ForecastArchive`: real forecast files (loaders in :mod:`greenopt.io.forecast_archives`).
"""

from greenopt.forecasts.archive import ForecastArchive
from greenopt.forecasts.data import (
    SIGNALS,
    Forecasts,
    KnownSignals,
    known_signals,
    merge_forecasts,
    scenario_with_signals,
)
from greenopt.forecasts.error_model import CARBON, PRICE, SOLAR, ErrorModel, ErrorProfile
from greenopt.forecasts.forecasters import (
    FORECASTERS,
    completed_forecasts,
    oracle_forecasts,
    persistence_forecasts,
)
from greenopt.forecasts.registry import make_forecasts

__all__ = [
    "CARBON",
    "FORECASTERS",
    "PRICE",
    "SIGNALS",
    "SOLAR",
    "ErrorModel",
    "ErrorProfile",
    "ForecastArchive",
    "Forecasts",
    "KnownSignals",
    "completed_forecasts",
    "known_signals",
    "make_forecasts",
    "merge_forecasts",
    "oracle_forecasts",
    "persistence_forecasts",
    "scenario_with_signals",
]
