"""Renewable supply and grid profiles for the embedded examples, generated with pvlib."""

from __future__ import annotations

import numpy as np
import pandas as pd


def solar_kw(
    latitude: float,
    longitude: float,
    times: pd.DatetimeIndex,
    capacity_kw: float,
    tilt: float | None = None,
    azimuth: float | None = None,
    clearness: float = 0.75,
) -> np.ndarray:
    """Mean AC power (kW) of a fixed-tilt PV plant over each slot starting at ``times``.

    pvlib's Ineichen clear-sky irradiance (with its bundled Linke turbidity climatology), scaled by
    a ``clearness`` index for typical clouds, transposed to the plane of array (Hay–Davies) and
    converted with PVWatts DC/AC models at a 1.2 DC/AC ratio and cell temperature from the SAPM
    model. Each slot's power is the mean of 5-minute samples inside it.
    """
    import pvlib

    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(hours=1)
    fine = pd.date_range(times[0], times[-1] + step, freq="5min", inclusive="left")
    loc = pvlib.location.Location(latitude, longitude)
    solpos = loc.get_solarposition(fine)
    cs = loc.get_clearsky(fine, model="ineichen", solar_position=solpos)
    tilt = abs(latitude) * 0.9 if tilt is None else tilt
    azimuth = (180.0 if latitude >= 0 else 0.0) if azimuth is None else azimuth
    dni_extra = pvlib.irradiance.get_extra_radiation(fine)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        solpos["apparent_zenith"],
        solpos["azimuth"],
        cs["dni"] * clearness,
        cs["ghi"] * clearness,
        cs["dhi"] * clearness,
        dni_extra=dni_extra,
        model="haydavies",
    )
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    cell_t = pvlib.temperature.sapm_cell(poa["poa_global"], 20.0, 2.0, **params)
    pdc0 = capacity_kw * 1.2
    pdc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"].fillna(0.0), cell_t, pdc0, -0.004)
    ac = pvlib.inverter.pvwatts(pdc, capacity_kw, eta_inv_nom=0.96)
    ac = ac.clip(lower=0.0).fillna(0.0)
    per_slot = ac.groupby(np.arange(len(ac)) // int(step / pd.Timedelta("5min"))).mean()
    return per_slot.to_numpy()[: len(times)]
