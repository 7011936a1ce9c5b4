"""Forecasters by name (:data:`FORECASTERS`): the one entry point the simulator and the command
line use to make forecasts of a scenario's signals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from greenopt.errors import ForecastError
from greenopt.forecasts.data import Forecasts
from greenopt.forecasts.error_model import ErrorModel
from greenopt.forecasts.forecasters import (
    FORECASTERS,
    complete_forecasts,
    oracle_forecasts,
    persistence_forecasts,
)
from greenopt.scenario import Scenario


def make_forecasts(
    scenario: Scenario,
    forecast: str | Forecasts = "persistence",
    *,
    seed: int = 0,
    history: Mapping[str, np.ndarray] | None = None,
    issue_slots: Iterable[int] | None = None,
    model=None,  # greenopt.forecasts.error_model.ErrorModel; None: the calibrated default
) -> Forecasts:
    """Forecasts of ``scenario``'s signals by the forecaster named ``forecast``
    (:data:`FORECASTERS`) or, given a :class:`Forecasts`, those completed by persistence (like
    ``"scenario"``).

    ``seed`` drives ``"error-model"`` (same seed, same forecasts); ``history`` overrides the
    scenario's actuals before the horizon; ``issue_slots`` are the decision slots forecasts are
    issued at (all by default).
    """
    if isinstance(forecast, Forecasts):
        carried = forecast.aligned_to(scenario.horizon, scenario.index.site_names)
        return complete_forecasts(scenario, carried, history, issue_slots)
    if forecast == "oracle":
        return oracle_forecasts(scenario, issue_slots=issue_slots)
    if forecast == "persistence":
        return persistence_forecasts(scenario, history=history, issue_slots=issue_slots)
    if forecast == "error-model":
        chosen = ErrorModel() if model is None else model
        return chosen.forecasts(scenario, seed=seed, history=history, issue_slots=issue_slots)
    if forecast == "scenario":
        if scenario.forecasts is None:
            raise ForecastError(
                f"scenario {scenario.name!r} carries no forecasts; choose one of "
                f"{[f for f in FORECASTERS if f != 'scenario']}",
                "forecasts",
            )
        return complete_forecasts(scenario, scenario.forecasts, history, issue_slots)
    raise ForecastError(
        f"unknown forecaster {forecast!r}; choose one of {list(FORECASTERS)} or pass Forecasts",
        str(forecast),
    )
