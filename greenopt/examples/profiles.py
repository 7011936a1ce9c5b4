"""Renewable supply profiles for the embedded examples: PV with pvlib, wind with windpowerlib.

pvlib and windpowerlib are optional (``pip install 'greenopt[examples]'``): the profiles that the
embedded examples use at their default settings were computed by them once and ship with the
package (``greenopt/examples/data/profiles.npz``, written by
``python -m greenopt.examples.generate``), so :func:`solar_kw` and :func:`wind_kw` return those
arrays, bit for bit, without importing either library. Any other call computes its profile and
needs the extra; without it, it raises :class:`~greenopt.errors.MissingDependencyError`.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.optional import require

#: The shipped profiles: ``keys`` (one :func:`profile_key` each) and arrays ``p0, p1, …``.
DATA_FILE = Path(__file__).with_name("data") / "profiles.npz"

#: While :func:`recording` is active: every profile computed, by key (the shipped ones ignored).
_recorded: dict[str, np.ndarray] | None = None


def profile_key(kind: str, times: pd.DatetimeIndex, **params: Any) -> str:
    """A canonical text for one profile call: its kind, its slots and every parameter.

    Numbers are written by value (``15`` and ``15.0`` are the same call), so the key names the
    computation, not the caller's spelling of it.
    """
    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(hours=1)
    minutes = step / pd.Timedelta(minutes=1)
    parts = [f"start={pd.Timestamp(times[0]).isoformat()}", f"slots={len(times)}"]
    parts.append(f"slot_minutes={minutes:g}")
    for name in sorted(params):
        v = params[name]
        if isinstance(v, bool) or v is None or isinstance(v, str):
            parts.append(f"{name}={v!r}")
        else:
            x = float(v)
            parts.append(f"{name}={int(x) if x.is_integer() else x!r}")
    return f"{kind}({', '.join(parts)})"


@functools.cache
def _shipped() -> dict[str, np.ndarray]:
    if not DATA_FILE.is_file():
        return {}
    with np.load(DATA_FILE, allow_pickle=False) as npz:
        keys = [str(k) for k in npz["keys"]]
        return {k: npz[f"p{i}"] for i, k in enumerate(keys)}


def shipped_profiles() -> dict[str, np.ndarray]:
    """The profiles that ship with the package, by :func:`profile_key` (copies)."""
    return {k: v.copy() for k, v in _shipped().items()}


@contextlib.contextmanager
def recording() -> Iterator[dict[str, np.ndarray]]:
    """Inside the block every profile is computed (never taken from the shipped file) and
    recorded into the dict this yields: how the shipped file is made and checked."""
    global _recorded
    outer, _recorded = _recorded, {}
    try:
        yield _recorded
    finally:
        _recorded = outer


def _cached(key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The shipped profile ``key`` if there is one (and not recording); else ``compute()``."""
    if _recorded is None:
        hit = _shipped().get(key)
        if hit is not None:
            return hit.copy()
    out = compute()
    if _recorded is not None:
        _recorded[key] = out.copy()
    return out


def _quiet_libraries(func: Callable[..., Any]) -> Callable[..., Any]:
    """Silence pvlib's and windpowerlib's own deprecation notices about pandas (not ours to fix)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning):
                warnings.filterwarnings(
                    "ignore", category=category, module=r"(pvlib|windpowerlib)(\..*)?$"
                )
            return func(*args, **kwargs)

    return wrapper


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

    A shipped profile is returned as it is; any other needs pvlib (``greenopt[examples]``).
    """
    key = profile_key(
        "solar",
        times,
        latitude=latitude,
        longitude=longitude,
        capacity_kw=capacity_kw,
        tilt=tilt,
        azimuth=azimuth,
        clearness=clearness,
    )
    return _cached(
        key, lambda: _solar_kw(latitude, longitude, times, capacity_kw, tilt, azimuth, clearness)
    )


@_quiet_libraries
def _solar_kw(
    latitude: float,
    longitude: float,
    times: pd.DatetimeIndex,
    capacity_kw: float,
    tilt: float | None,
    azimuth: float | None,
    clearness: float,
) -> np.ndarray:
    pvlib = require(
        "pvlib",
        f"the PV profile at ({latitude}, {longitude}) from {times[0]} (not a shipped example "
        "profile)",
        extra="examples",
    )
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


def _standard_pressure_pa(elevation_m: float) -> float:
    """ISA surface pressure at ``elevation_m``: p = 101325 · (1 − 2.25577e-5 · h)^5.25588 Pa."""
    return 101325.0 * (1.0 - 2.25577e-5 * elevation_m) ** 5.25588


def hub_wind_speed(
    fine_times: pd.DatetimeIndex,
    longitude: float,
    mean_ms: float = 8.5,
    amplitude_ms: float = 2.5,
    peak_local_hour: float = 2.0,
    gust_ms: float = 1.2,
    seed: int = 0,
) -> np.ndarray:
    """A deterministic synthetic hub-height wind speed (m/s) at ``fine_times``.

    ``v(t) = mean + amplitude · cos(2π (h_local(t) − peak) / 24) + ε(t)``, clipped at 0, where
    ``h_local = h_UTC + longitude / 15`` is mean solar time and ``ε`` is an AR(1) process
    (10-minute steps, φ = 0.9, stationary standard deviation ``gust_ms``) from ``seed``. The
    default peak at 02:00 local mimics the nocturnal low-level jet of the US Great Plains, where
    hub-height winds are strongest at night and weakest in the afternoon.
    """
    hours = (fine_times.hour + fine_times.minute / 60.0).to_numpy(dtype=float)
    local = (hours + longitude / 15.0) % 24.0
    base = mean_ms + amplitude_ms * np.cos(2 * np.pi * (local - peak_local_hour) / 24.0)
    rng = np.random.default_rng(seed)
    phi = 0.9
    shocks = rng.normal(0.0, gust_ms * np.sqrt(1 - phi**2), size=len(fine_times))
    eps = np.empty(len(fine_times))
    level = rng.normal(0.0, gust_ms)
    for i, shock in enumerate(shocks):  # a few hundred steps: a loop is fine
        level = phi * level + shock
        eps[i] = level
    return np.clip(base + eps, 0.0, None)


def wind_kw(
    longitude: float,
    times: pd.DatetimeIndex,
    capacity_kw: float,
    turbine_type: str = "GE120/2500",
    hub_height_m: float = 110.0,
    elevation_m: float = 0.0,
    temperature_c: float = 25.0,
    mean_ms: float = 8.5,
    amplitude_ms: float = 2.5,
    peak_local_hour: float = 2.0,
    gust_ms: float = 1.2,
    seed: int = 0,
) -> np.ndarray:
    """Mean power (kW) over each slot starting at ``times`` of a ``capacity_kw`` wind contract.

    The turbine's power curve comes from windpowerlib's bundled OEDB turbine library (the CSV
    files installed inside the ``windpowerlib`` package; nothing is fetched). It is driven by
    :func:`hub_wind_speed` at 10-minute steps with the density-corrected power curve
    (windpowerlib ``power_curve(..., density_correction=True)``), air density from the barometric
    height formula at ``elevation_m + hub_height_m`` and ``temperature_c``. The plant output is
    the turbine's per-unit output times ``capacity_kw`` (a contracted share of a wind farm of
    identical turbines; wake losses ignored), averaged over each slot.

    A shipped profile is returned as it is; any other needs windpowerlib (``greenopt[examples]``).
    """
    params = dict(
        turbine_type=turbine_type,
        hub_height_m=hub_height_m,
        elevation_m=elevation_m,
        temperature_c=temperature_c,
        mean_ms=mean_ms,
        amplitude_ms=amplitude_ms,
        peak_local_hour=peak_local_hour,
        gust_ms=gust_ms,
        seed=seed,
    )
    key = profile_key("wind", times, longitude=longitude, capacity_kw=capacity_kw, **params)
    return _cached(key, lambda: _wind_kw(longitude, times, capacity_kw, **params))


@_quiet_libraries
def _wind_kw(
    longitude: float,
    times: pd.DatetimeIndex,
    capacity_kw: float,
    turbine_type: str,
    hub_height_m: float,
    elevation_m: float,
    temperature_c: float,
    mean_ms: float,
    amplitude_ms: float,
    peak_local_hour: float,
    gust_ms: float,
    seed: int,
) -> np.ndarray:
    feature = f"the wind profile at longitude {longitude} from {times[0]} (not a shipped example "
    feature += "profile)"
    WindTurbine = require("windpowerlib", feature, extra="examples").WindTurbine
    barometric = require("windpowerlib.density", feature, extra="examples").barometric
    power_curve = require("windpowerlib.power_output", feature, extra="examples").power_curve
    turbine = WindTurbine(turbine_type=turbine_type, hub_height=hub_height_m)
    if turbine.power_curve is None:
        raise ValueError(f"turbine {turbine_type!r} has no power curve in windpowerlib's library")
    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(hours=1)
    n_sub = max(1, round(step / pd.Timedelta("10min")))  # ~10-minute samples per slot
    fine = pd.date_range(times[0], periods=len(times) * n_sub, freq=step / n_sub)
    speed = hub_wind_speed(fine, longitude, mean_ms, amplitude_ms, peak_local_hour, gust_ms, seed)
    density = barometric(
        np.full(len(fine), _standard_pressure_pa(elevation_m)),
        0.0,
        hub_height_m,
        np.full(len(fine), temperature_c + 273.15),
    )
    watts = power_curve(
        speed,
        turbine.power_curve["wind_speed"].to_numpy(dtype=float),
        turbine.power_curve["value"].to_numpy(dtype=float),
        density=density,
        density_correction=True,
    )
    per_unit = np.clip(np.asarray(watts, dtype=float) / float(turbine.nominal_power), 0.0, 1.0)
    per_slot = per_unit.reshape(len(times), n_sub).mean(axis=1)
    return per_slot * capacity_kw
