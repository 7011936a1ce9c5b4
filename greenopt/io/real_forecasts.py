"""Forecast data for a real-trace scenario (:func:`greenopt.io.real.build_real_scenario`).

:func:`real_forecasts` gives such a scenario what an operator would have had:

- the **history**: the same sources' actuals for the ``history_days`` before the horizon (the
  Electricity Maps intensity of each zone; the solar of each site from the source its horizon
  used — Solcast where Solcast covered the horizon, else pvlib), so ``persistence`` predicts by
  the day before instead of by the last night's darkness; where the source does not reach back
  (Solcast before 2022-06-08), that signal's history is unknown (NaN);
- with ``solcast=True``, the **real Solcast forecasts** (65 minutes ahead, issued every 5 minutes)
  of the sites whose solar comes from Solcast, scaled to their plants.

Attach it with ``scenario.with_jobs(scenario.jobs, forecasts=real_forecasts(scenario))``. There is
no real forecast of the Electricity Maps intensity in the data: carbon is left to the forecaster
(``persistence`` completes what the scenario carries).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError, ScenarioError
from greenopt.forecasts.data import Forecasts, merge_forecasts
from greenopt.io.data import require_data_dir
from greenopt.io.forecast_archives import SOLCAST_ZIPS, read_solcast_archive
from greenopt.io.real import ZONES, site_solar, zone_carbon
from greenopt.scenario import Horizon, Scenario


def real_forecasts(
    scenario: Scenario,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    history_days: int = 1,
    solar: str = "auto",
    solar_kw_per_gpu: float = 0.5,
    solcast: bool = True,
) -> Forecasts:
    """History (and Solcast forecasts) for a scenario built by ``build_real_scenario`` with the
    same ``solar`` and ``solar_kw_per_gpu``. Sites must be those of :data:`ZONES`."""
    data = require_data_dir(data_dir)
    zones = {z.site: z for z in ZONES}
    unknown = [s.name for s in scenario.sites if s.name not in zones]
    if unknown:
        raise ForecastError(
            f"site {unknown[0]!r} is not a site of the real-trace scenario ({sorted(zones)})",
            unknown[0],
        )
    h = scenario.horizon
    per_day = round(1440 / h.slot_minutes)
    n_before = history_days * per_day
    before = Horizon(
        start=pd.Timestamp(h.start) - pd.Timedelta(minutes=h.slot_minutes * n_before),
        slot_minutes=h.slot_minutes,
        slots=n_before,
    )
    names = [s.name for s in scenario.sites]
    S = len(names)
    carbon = np.full((S, n_before), np.nan)
    renewable = np.full((S, n_before), np.nan)
    solcast_sites: dict[str, str] = {}
    capacity: dict[str, float] = {}
    for n, site in enumerate(scenario.sites):
        zone = zones[site.name]
        capacity[site.name] = solar_kw_per_gpu * site.gpus
        with contextlib.suppress(ScenarioError):  # the year before not in the data: unknown
            carbon[n] = np.round(zone_carbon(data, zone.zone, before), 3)
        _, source = site_solar(data, zone, h, capacity[site.name], solar)
        if source == "solcast":
            solcast_sites[site.name] = str(zone.solcast_city)
        with contextlib.suppress(ScenarioError):  # Solcast does not reach back: unknown
            kw, _ = site_solar(data, zone, before, capacity[site.name], source)
            renewable[n] = np.round(np.clip(kw, 0.0, None), 4)
    history = Forecasts.empty(h, names, history={"carbon": carbon, "renewable_kw": renewable})
    if not (solcast and solcast_sites):
        return history
    archive = read_solcast_archive(data / SOLCAST_ZIPS["global"])
    issued = archive.to_forecasts(h, solcast_sites, scale={s: capacity[s] for s in solcast_sites})
    return merge_forecasts(history, issued).aligned_to(h, names)
