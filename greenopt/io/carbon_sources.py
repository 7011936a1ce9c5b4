"""Carbon intensity from four public sources, as UTC pandas Series in gCO2/kWh.

Each adapter takes what the source returns — a JSON response (parsed, as text, or a
:class:`pathlib.Path` to a saved one) or, for ENTSO-E, entsoe-py's DataFrame — and returns a float
Series on a sorted, timezone-aware UTC index, named by the zone or region, where each value holds
from its timestamp until the next one (the convention of
:func:`greenopt.scenario.resample.resample_to_horizon`). Pass it as a site's ``carbon`` and the
scenario resamples it to its slots. ``series.attrs`` records the source, unit and signal. A payload
that is not what the source documents — a missing or misspelt field, a null or non-numeric value, an
unknown unit, a naive timestamp — is a :class:`~greenopt.errors.ScenarioError` naming the field (and
the time, where there is one), never a guess.

Sources and the response shapes read here (as documented by each provider):

- **Electricity Maps API v3** (https://portal.electricitymaps.com/docs/api):
  ``GET /v3/carbon-intensity/history`` → ``{"zone", "history": [point, ...]}`` and
  ``GET /v3/carbon-intensity/past-range`` →
  ``{"zone", "temporalGranularity", "data": [point, ...]}`` (a bare point, as from ``/latest``
  or ``/past``, also reads), each point
  ``{"zone", "carbonIntensity", "datetime", "updatedAt", "emissionFactorType", "isEstimated",
  "estimationMethod"}``; ``carbonIntensity`` is gCO2eq/kWh, ``datetime`` the start of the period
  in UTC. Authentication: header ``auth-token``. (Shapes as in the API reference and in the
  carbon-aware-sdk's Electricity Maps data source, ``HistoryCarbonIntensityData``.)
- **WattTime API v3** (https://docs.watttime.org): ``GET /v3/historical`` (and ``/v3/forecast``)
  → ``{"data": [{"point_time", "value"}, ...], "meta": {"region", "signal_type", "units",
  "data_point_period_seconds", "warnings", ...}}`` with ``units`` ``"lbs_co2_per_mwh"`` for the
  ``co2_moer``/``co2_aoer`` signals, converted here by 453.59237 g/lb ÷ 1000 kWh/MWh. A list of
  such responses (the official Python client fetches long ranges in 30-day chunks) is joined.
  Authentication: ``GET /login`` with HTTP basic auth returns a bearer ``token``.
- **Green Software Foundation carbon-aware-sdk** (https://github.com/Green-Software-Foundation/
  carbon-aware-sdk, WebApi ``GET /emissions/bylocation(s)``) → an array of ``EmissionsData``
  ``[{"location", "time", "rating", "duration"}, ...]``, ``rating`` in g/kWh, ``time`` with its
  offset, ``duration`` a .NET TimeSpan (``"01:00:00"``, ``"1.02:00:00"``; the SDK's JSON data
  files write ``"01:00"`` and capitalise the keys, also read here).
- **ENTSO-E** through entsoe-py (https://github.com/EnergieID/entsoe-py):
  ``EntsoePandasClient.query_generation`` → a DataFrame of MW by production type (columns
  ``(type, "Actual Aggregated" | "Actual Consumption")``, or flat when there is no consumption),
  indexed in the zone's local time. The intensity is the generation-weighted mean of lifecycle
  emission factors, the method of lets-wait-awhile (Wiesner et al., Middleware '21), whose
  factors are :data:`LIFECYCLE_FACTORS`; with their import factors it reproduces that project's
  published ``gb_ci.csv`` from its ``gb_production.csv`` (tested on the real data).

Live clients (:func:`fetch_electricitymaps`, :func:`fetch_watttime`, :func:`fetch_entsoe`,
:func:`fetch_carbon_aware_sdk`) need the ``carbon-apis`` extra (``requests``, ``entsoe-py``) and
read their keys from the environment (``ELECTRICITYMAPS_TOKEN``, ``WATTTIME_USERNAME`` and
``WATTTIME_PASSWORD``, ``ENTSOE_API_KEY``); they go to the network only when called.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import DataSourceError, ScenarioError
from greenopt.scenario.resample import to_utc_index

UNIT = "gCO2/kWh"
#: 1 lb = 453.59237 g and 1 MWh = 1000 kWh, so lbs/MWh × 0.45359237 = g/kWh.
LBS_PER_MWH_TO_G_PER_KWH = 453.59237 / 1000.0

#: Lifecycle emission factors (gCO2eq/kWh) by ENTSO-E production type, as used by lets-wait-awhile
#: (dos-group/lets-wait-awhile, ``compute_carbon_intensity.py``): the median life-cycle values of
#: the IPCC's review (SRREN 2011, Annex II) — biopower 18, solar PV 46, geothermal 45, hydro 4,
#: wind 12, nuclear 16, gas 469, oil 840, coal 1001 — with 770 for "Other" (mean of the fossil
#: values) and 22 for "Other renewable" (mean of the renewable ones). Pumped storage and batteries
#: are left out of the mix (:data:`EXCLUDED_TYPES`). Pass your own mapping for other types.
LIFECYCLE_FACTORS: dict[str, float] = {
    "Biomass": 18.0,
    "Fossil Brown coal/Lignite": 1001.0,
    "Fossil Gas": 469.0,
    "Fossil Hard coal": 1001.0,
    "Fossil Oil": 840.0,
    "Geothermal": 45.0,
    "Hydro Run-of-river and poundage": 4.0,
    "Hydro Run-of-river and pondage": 4.0,  # the spelling of newer ENTSO-E exports
    "Hydro Water Reservoir": 4.0,
    "Nuclear": 16.0,
    "Other": 770.0,
    "Other renewable": 22.0,
    "Solar": 46.0,
    "Wind Offshore": 12.0,
    "Wind Onshore": 12.0,
}

#: Production-mix intensities (gCO2/kWh) lets-wait-awhile gives imports from each neighbour
#: (carbonfootprint.com, 2020 electricity factors), for DataFrames that carry import columns.
IMPORT_FACTORS: dict[str, float] = {
    "AT": 133.0,
    "BE": 153.0,
    "CZ": 545.0,
    "DK": 154.0,
    "FR": 39.0,
    "DE": 379.0,
    "IE": 348.0,
    "IT": 339.0,
    "LU": 139.0,
    "NL": 452.0,
    "NO": 11.0,
    "PL": 791.0,
    "ES": 220.0,
    "SE": 12.0,
    "CH": 12.0,
    "GB": 233.0,
}

#: Storage re-delivers energy charged earlier at an unknown intensity: left out of the mix.
EXCLUDED_TYPES = ("Hydro Pumped Storage", "Batteries", "Energy storage")

ELECTRICITYMAPS_URL = "https://api.electricitymaps.com/v3"
WATTTIME_URL = "https://api.watttime.org"


# -- payloads ----------------------------------------------------------------------------------
def _payload(payload: Any, what: str) -> Any:
    """Parsed JSON: as given (mapping or list), parsed from text, or read from a Path."""
    if isinstance(payload, os.PathLike):
        path = Path(payload)
        if not path.is_file():
            raise ScenarioError(f"{what}: file {str(path)!r} does not exist", str(path))
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                f"{what}: file {path.name!r} is not valid JSON ({exc})", str(path)
            ) from None
    if isinstance(payload, str | bytes | bytearray):
        try:
            return json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{what}: the text is not valid JSON ({exc}); to read a file, pass a pathlib.Path",
                what,
            ) from None
    if isinstance(payload, Mapping | list | tuple):
        return payload
    raise ScenarioError(
        f"{what}: expected a JSON response (a mapping or list, its text, or a pathlib.Path), "
        f"got {type(payload).__name__}",
        what,
    )


def _records(value: Any, field: str, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        raise ScenarioError(
            f"{what}: field {field!r} must be a list of points, got {type(value).__name__}", field
        )
    if not value:
        raise ScenarioError(f"{what}: field {field!r} is empty (no data points)", field)
    for i, point in enumerate(value):
        if not isinstance(point, Mapping):
            raise ScenarioError(
                f"{what}: {field}[{i}] must be a mapping, got {type(point).__name__}", field
            )
    return list(value)


def _field(point: Mapping[str, Any], key: str, where: str, what: str) -> Any:
    if key not in point:
        raise ScenarioError(
            f"{what}: {where} lacks field {key!r}; it has {sorted(map(str, point))}", key
        )
    return point[key]


def _number(value: Any, field: str, when: str, what: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)):
        raise ScenarioError(f"{what}: field {field!r} at {when} is {value!r}, not a number", field)
    return float(value)


def _series(
    times: list[Any], values: list[float], name: str, what: str, attrs: dict[str, Any]
) -> pd.Series:
    index = to_utc_index(pd.Index(times), what)
    series = pd.Series(np.asarray(values, dtype=float), index=index, name=name).sort_index()
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ScenarioError(f"{what}: timestamp {dup.isoformat()} appears twice", what)
    series.index.name = "time"
    series.attrs.update({"unit": UNIT, **attrs})
    return series


# -- Electricity Maps --------------------------------------------------------------------------
def carbon_from_electricitymaps(payload: Any) -> pd.Series:
    """An Electricity Maps v3 carbon-intensity response → gCO2eq/kWh, UTC, named by zone.

    Reads ``/carbon-intensity/history`` (``history``), ``/past-range`` (``data``) and single
    points (``/latest``, ``/past``). Every point needs ``datetime`` and a numeric
    ``carbonIntensity`` (null — no data for that period — is an error naming the time); all
    points must be of one zone and one ``emissionFactorType``. ``attrs`` carries ``zone``,
    ``emission_factor_type``, ``temporal_granularity`` and ``estimated`` (points flagged
    ``isEstimated``).
    """
    what = "Electricity Maps response"
    doc = _payload(payload, what)
    if isinstance(doc, Mapping) and ("history" in doc or "data" in doc):
        key = "history" if "history" in doc else "data"
        points = _records(doc[key], key, what)
    elif isinstance(doc, Mapping) and "carbonIntensity" in doc:
        key, points = "point", [doc]
    elif isinstance(doc, list | tuple):
        key, points = "points", _records(doc, "points", what)
    else:
        found = sorted(map(str, doc)) if isinstance(doc, Mapping) else type(doc).__name__
        raise ScenarioError(
            f"{what}: expected field 'history' (/carbon-intensity/history) or 'data' "
            f"(/carbon-intensity/past-range); it has {found}",
            "history",
        )
    times, values = [], []
    for i, p in enumerate(points):
        when = _field(p, "datetime", f"{key}[{i}]", what)
        times.append(when)
        values.append(
            _number(
                _field(p, "carbonIntensity", f"{key}[{i}]", what), "carbonIntensity", when, what
            )
        )
    zones = {
        str(z)
        for z in [doc.get("zone") if isinstance(doc, Mapping) else None]
        + [p.get("zone") for p in points]
        if z
    }
    if len(zones) > 1:
        raise ScenarioError(
            f"{what}: field 'zone': points of several zones {sorted(zones)}", "zone"
        )
    factor_types = {str(p["emissionFactorType"]) for p in points if p.get("emissionFactorType")}
    if len(factor_types) > 1:
        raise ScenarioError(
            f"{what}: field 'emissionFactorType' mixes {sorted(factor_types)}: one series must "
            "be all lifecycle or all direct",
            "emissionFactorType",
        )
    zone = zones.pop() if zones else "electricitymaps"
    granularity = doc.get("temporalGranularity") if isinstance(doc, Mapping) else None
    return _series(
        times,
        values,
        zone,
        what,
        {
            "source": "Electricity Maps API v3",
            "zone": zone,
            "signal": "average (consumption-based) intensity",
            "emission_factor_type": factor_types.pop() if factor_types else None,
            "temporal_granularity": granularity,
            "estimated": sum(bool(p.get("isEstimated")) for p in points),
        },
    )


# -- WattTime ----------------------------------------------------------------------------------
_WATTTIME_UNITS = {"lbs_co2_per_mwh": LBS_PER_MWH_TO_G_PER_KWH}


def carbon_from_watttime(payload: Any) -> pd.Series:
    """A WattTime v3 ``/historical`` or ``/forecast`` response (or a list of them) → gCO2/kWh.

    Values are converted from ``meta.units`` (``lbs_co2_per_mwh``: × 0.45359237); any other unit
    — ``percentile`` of ``/signal-index``, ``$_per_mwh`` of ``health_damage`` — is refused, as is
    a response without ``meta.units``. The Series is named by ``meta.region``; ``attrs`` carries
    ``region``, ``signal_type`` (``co2_moer`` is the *marginal* rate) and ``period_s``.
    """
    what = "WattTime response"
    doc = _payload(payload, what)
    docs = list(doc) if isinstance(doc, list | tuple) else [doc]
    if not docs:
        raise ScenarioError(f"{what}: the list of responses is empty", what)
    times: list[Any] = []
    values: list[float] = []
    metas: list[Mapping[str, Any]] = []
    for k, d in enumerate(docs):
        where = f"{what}" if len(docs) == 1 else f"{what} #{k + 1}"
        if not isinstance(d, Mapping) or "data" not in d:
            found = sorted(map(str, d)) if isinstance(d, Mapping) else type(d).__name__
            raise ScenarioError(
                f"{where}: expected fields 'data' and 'meta'; it has {found}", "data"
            )
        meta = d.get("meta")
        if not isinstance(meta, Mapping) or "units" not in meta:
            raise ScenarioError(
                f"{where}: field 'meta.units' is missing: the unit of the values is unknown",
                "meta.units",
            )
        units = str(meta["units"])
        if units not in _WATTTIME_UNITS:
            raise ScenarioError(
                f"{where}: field 'meta.units' is {units!r}; only {sorted(_WATTTIME_UNITS)} "
                "(a CO2 emission rate) converts to gCO2/kWh",
                "meta.units",
            )
        scale = _WATTTIME_UNITS[units]
        for i, p in enumerate(_records(d["data"], "data", where)):
            if "forecast" in p and "point_time" not in p:
                raise ScenarioError(
                    f"{where}: data[{i}] is a historical forecast (field 'forecast'); pass one "
                    "forecast's points, e.g. {'data': doc['data'][0]['forecast'], 'meta': ...}",
                    "forecast",
                )
            when = _field(p, "point_time", f"data[{i}]", where)
            times.append(when)
            values.append(
                _number(_field(p, "value", f"data[{i}]", where), "value", when, where) * scale
            )
        metas.append(meta)
    regions = {str(m["region"]) for m in metas if m.get("region")}
    signals = {str(m["signal_type"]) for m in metas if m.get("signal_type")}
    for field, found in (("region", regions), ("signal_type", signals)):
        if len(found) > 1:
            raise ScenarioError(f"{what}: field 'meta.{field}' differs: {sorted(found)}", field)
    region = regions.pop() if regions else "watttime"
    periods = {m.get("data_point_period_seconds") for m in metas} - {None}
    return _series(
        times,
        values,
        region,
        what,
        {
            "source": "WattTime API v3",
            "region": region,
            "signal_type": signals.pop() if signals else None,
            "signal": "marginal operating emissions rate (MOER)",
            "period_s": periods.pop() if len(periods) == 1 else None,
        },
    )


# -- carbon-aware-sdk --------------------------------------------------------------------------
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")


def _timespan(value: Any, when: str, what: str) -> pd.Timedelta:
    """A .NET TimeSpan (``[d.]hh:mm[:ss[.fffffff]]``), or a number of minutes."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return pd.Timedelta(minutes=float(value))
    m = _TIMESPAN.match(str(value).strip()) if isinstance(value, str) else None
    if m is None:
        raise ScenarioError(
            f"{what}: field 'duration' at {when} is {value!r}, not a TimeSpan like '01:00:00'",
            "duration",
        )
    days, hours, minutes, seconds, frac = m.groups()
    span = pd.Timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=float(f"{seconds or 0}.{frac or 0}"),
    )
    if span <= pd.Timedelta(0):
        raise ScenarioError(f"{what}: field 'duration' at {when} is {value!r}, not > 0", "duration")
    return span


def carbon_from_carbon_aware_sdk(payload: Any, location: str | None = None) -> pd.Series:
    """The carbon-aware-sdk's ``EmissionsData`` array → gCO2/kWh (``rating``), UTC.

    Keys are matched case-insensitively (the WebApi writes ``location``, the SDK's data files
    ``Location``). ``location`` picks one location when the array holds several (an error lists
    them otherwise). Each rating holds for its ``duration``: a period that ends before the next
    one starts leaves a gap, refused with its times rather than bridged.
    """
    what = "carbon-aware-sdk EmissionsData"
    doc = _payload(payload, what)
    points = _records(doc, "EmissionsData", what)
    rows = [{str(k).lower(): v for k, v in p.items()} for p in points]
    for i, r in enumerate(rows):
        for key in ("location", "time", "rating"):
            _field(r, key, f"item {i}", what)
    locations = sorted({str(r["location"]) for r in rows})
    if location is None:
        if len(locations) > 1:
            raise ScenarioError(
                f"{what}: holds locations {locations}; pick one with location=", "location"
            )
        location = locations[0]
    elif location not in locations:
        raise ScenarioError(f"{what}: no location {location!r}; it has {locations}", location)
    rows = [r for r in rows if str(r["location"]) == location]
    times = [r["time"] for r in rows]
    values = [_number(r["rating"], "rating", r["time"], what) for r in rows]
    series = _series(
        times,
        values,
        location,
        what,
        {"source": "carbon-aware-sdk", "location": location, "signal": "as the SDK's data source"},
    )
    if all(r.get("duration") is not None for r in rows):
        start = to_utc_index(pd.Index(times), what)
        ends = start + pd.TimedeltaIndex([_timespan(r["duration"], r["time"], what) for r in rows])
        order = np.argsort(start.asi8, kind="stable")
        start, ends = start[order], ends[order]
        gap = np.flatnonzero(ends[:-1] < start[1:])
        if gap.size:
            k = int(gap[0])
            raise ScenarioError(
                f"{what}: location {location!r} has no rating from {ends[k].isoformat()} to "
                f"{start[k + 1].isoformat()} (the rating at {start[k].isoformat()} lasts "
                f"{(ends[k] - start[k]) / pd.Timedelta(minutes=1):g} min)",
                location,
            )
        series.attrs["duration"] = str(pd.Series(ends - start).median())
    return series


# -- ENTSO-E -----------------------------------------------------------------------------------
def carbon_from_entsoe(
    generation: pd.DataFrame,
    zone: str,
    factors: Mapping[str, float] | None = None,
    exclude: Iterable[str] = EXCLUDED_TYPES,
    unreported: str = "zero",
) -> pd.Series:
    """entsoe-py's ``query_generation`` DataFrame (MW by production type) → gCO2/kWh, UTC.

    ``intensity(t) = Σ_type MW(type, t) · factor(type) / Σ_type MW(type, t)`` over the production
    types (and any import columns) present, with ``factors`` (default
    :data:`LIFECYCLE_FACTORS`; add :data:`IMPORT_FACTORS` for import columns). Only generation
    (``Actual Aggregated``) counts; ``Actual Consumption`` (storage pumping) and the ``exclude``d
    types are left out. A column with no factor is an error naming it — no factor is guessed.

    Types reported at a coarser step than others (hourly beside 15-minute ones) hold each reading
    for their own step; a reading still missing after that is ``unreported``: ``"zero"`` (no
    generation, as lets-wait-awhile counts it; their number is ``attrs["unreported"]``) or
    ``"error"``. A time with no generation at all is an error naming it. The index must be
    timezone-aware (entsoe-py gives the zone's local time).
    """
    what = f"ENTSO-E generation of {zone!r}"
    if not isinstance(generation, pd.DataFrame):
        raise ScenarioError(
            f"{what}: expected entsoe-py's query_generation DataFrame, got "
            f"{type(generation).__name__}",
            zone,
        )
    if unreported not in ("zero", "error"):
        raise ScenarioError(
            f"{what}: unreported must be 'zero' or 'error', got {unreported!r}", zone
        )
    if generation.empty:
        raise ScenarioError(f"{what}: the DataFrame is empty", zone)
    mw = _generation_columns(generation, what)
    factors = dict(LIFECYCLE_FACTORS if factors is None else factors)
    skip = set(exclude)
    mw = mw[[c for c in mw.columns if c not in skip]]
    unknown = [c for c in mw.columns if c not in factors]
    if unknown:
        raise ScenarioError(
            f"{what}: no emission factor for column(s) {unknown}; pass factors= with them "
            "(gCO2eq/kWh), e.g. factors={**LIFECYCLE_FACTORS, "
            f"{unknown[0]!r}: ...}}, or exclude= them",
            unknown[0],
        )
    index = to_utc_index(mw.index, what)
    mw = mw.set_axis(index).sort_index()
    if mw.index.has_duplicates:
        dup = mw.index[mw.index.duplicated()][0]
        raise ScenarioError(f"{what}: timestamp {dup.isoformat()} appears twice", zone)
    mw = mw.apply(pd.to_numeric, errors="coerce").astype(float)
    mw = _hold_each_column(mw)
    missing = mw.isna()
    if missing.to_numpy().any():
        if unreported == "error":
            col = missing.any().idxmax()
            when = mw.index[missing[col].to_numpy()][0]
            raise ScenarioError(f"{what}: column {col!r} has no reading at {when.isoformat()}", col)
        mw = mw.fillna(0.0)
    total = mw.sum(axis=1)
    empty = total.to_numpy() <= 0
    if empty.any():
        when = mw.index[empty][0]
        raise ScenarioError(f"{what}: no generation reported at {when.isoformat()}", zone)
    weights = pd.Series({c: float(factors[c]) for c in mw.columns})
    intensity = (mw * weights).sum(axis=1) / total
    out = pd.Series(intensity.to_numpy(), index=mw.index, name=zone)
    out.index.name = "time"
    out.attrs.update(
        {
            "unit": UNIT,
            "source": "ENTSO-E actual generation per production type (entsoe-py)",
            "zone": zone,
            "signal": "average intensity of the generation mix (lifecycle factors)",
            "unreported": int(missing.to_numpy().sum()),
        }
    )
    return out


def _generation_columns(df: pd.DataFrame, what: str) -> pd.DataFrame:
    """Flat columns of generation in MW: ``Actual Aggregated`` of a two-level header."""
    if not isinstance(df.columns, pd.MultiIndex):
        return df.rename(columns=str)
    for level in range(df.columns.nlevels):
        metrics = set(df.columns.get_level_values(level))
        if "Actual Aggregated" in metrics:
            kept = df.xs("Actual Aggregated", axis=1, level=level)
            if isinstance(kept.columns, pd.MultiIndex):
                raise ScenarioError(
                    f"{what}: columns have {df.columns.nlevels} levels; expected (type, metric)",
                    "columns",
                )
            return kept.rename(columns=str)
    raise ScenarioError(
        f"{what}: two-level columns without 'Actual Aggregated' (generation); it has "
        f"{sorted({str(c) for c in df.columns.get_level_values(-1)})}",
        "Actual Aggregated",
    )


def _hold_each_column(mw: pd.DataFrame) -> pd.DataFrame:
    """Each column's reading holds until its next one, for at most the column's median step."""
    out = mw.copy()
    times = pd.Series(mw.index, index=mw.index)
    for col in mw.columns:
        known = mw[col].notna().to_numpy()
        if known.all() or known.sum() < 2:
            continue
        at = mw.index[known]
        step = pd.Series(at).diff().median()
        last = times.where(known).ffill()
        held = mw[col].ffill()
        ok = (times - last) < step
        out[col] = held.where(ok | pd.Series(known, index=mw.index))
    return out


# -- live clients (the carbon-apis extra) ------------------------------------------------------
def _env(name: str, source: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise DataSourceError(
            f"{source}: the environment variable {name} is not set (it holds your API key)"
        )
    return value


def _get_json(
    url: str,
    params: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    source: str = "",
) -> Any:
    """One HTTPS GET returning parsed JSON; HTTP and network failures are DataSourceErrors."""
    from greenopt.optional import require

    requests = require("requests", f"{source} (live client)", extra="carbon-apis")
    try:
        rsp = requests.get(url, params=dict(params), headers=headers, auth=auth, timeout=60)
    except requests.RequestException as exc:
        raise DataSourceError(f"{source}: request to {url} failed ({exc})") from None
    if rsp.status_code != 200:
        raise DataSourceError(f"{source}: {url} answered HTTP {rsp.status_code}: {rsp.text[:200]}")
    try:
        return rsp.json()
    except ValueError:
        raise DataSourceError(f"{source}: {url} did not answer JSON: {rsp.text[:200]}") from None


def _utc(when: Any, what: str) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        raise ScenarioError(
            f"{what}: {when!r} has no timezone: give e.g. '2023-06-01T00:00Z'", what
        )
    return stamp.tz_convert("UTC")


def _chunks(start: pd.Timestamp, end: pd.Timestamp, size: pd.Timedelta):
    while start < end:
        stop = min(end, start + size)
        yield start, stop
        start = stop


def _iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_electricitymaps(
    zone: str,
    start: datetime | str,
    end: datetime | str,
    granularity: str = "hourly",
    emission_factor_type: str = "lifecycle",
) -> pd.Series:
    """Past carbon intensity of ``zone`` from ``/v3/carbon-intensity/past-range`` (live).

    Token from ``ELECTRICITYMAPS_TOKEN``. ``granularity``: ``"5_minutes"``, ``"15_minutes"`` or
    ``"hourly"``; long ranges are fetched in pieces (10 days hourly, 1 day finer).
    """
    source = "Electricity Maps"
    token = _env("ELECTRICITYMAPS_TOKEN", source)
    t0, t1 = _utc(start, "start"), _utc(end, "end")
    size = pd.Timedelta(days=10 if granularity == "hourly" else 1)
    points: list[Any] = []
    zone_of: str | None = None
    for a, b in _chunks(t0, t1, size):
        doc = _get_json(
            f"{ELECTRICITYMAPS_URL}/carbon-intensity/past-range",
            {
                "zone": zone,
                "start": _iso(a),
                "end": _iso(b),
                "temporalGranularity": granularity,
                "emissionFactorType": emission_factor_type,
            },
            headers={"auth-token": token},
            source=source,
        )
        if not isinstance(doc, Mapping) or "data" not in doc:
            raise DataSourceError(f"{source}: unexpected answer without 'data': {str(doc)[:200]}")
        points += list(doc["data"])
        zone_of = zone_of or doc.get("zone")
    series = carbon_from_electricitymaps({"zone": zone_of or zone, "data": points})
    series = series[~series.index.duplicated()]  # pieces share their boundary point
    return series[(series.index >= t0) & (series.index < t1)]


def fetch_watttime(
    region: str, start: datetime | str, end: datetime | str, signal_type: str = "co2_moer"
) -> pd.Series:
    """Historical ``signal_type`` of ``region`` from WattTime's ``/v3/historical`` (live).

    Logs in with ``WATTTIME_USERNAME`` and ``WATTTIME_PASSWORD``; fetches 30 days at a time.
    """
    source = "WattTime"
    user = _env("WATTTIME_USERNAME", source)
    password = _env("WATTTIME_PASSWORD", source)
    login = _get_json(f"{WATTTIME_URL}/login", {}, auth=(user, password), source=source)
    token = login.get("token") if isinstance(login, Mapping) else None
    if not token:
        raise DataSourceError(f"{source}: login gave no token (check the username and password)")
    t0, t1 = _utc(start, "start"), _utc(end, "end")
    docs = [
        _get_json(
            f"{WATTTIME_URL}/v3/historical",
            {"region": region, "signal_type": signal_type, "start": _iso(a), "end": _iso(b)},
            headers={"Authorization": f"Bearer {token}"},
            source=source,
        )
        for a, b in _chunks(t0, t1, pd.Timedelta(days=30))
    ]
    series = carbon_from_watttime(docs) if len(docs) > 1 else carbon_from_watttime(docs[0])
    series = series[~series.index.duplicated()]
    return series[(series.index >= t0) & (series.index < t1)]


def fetch_entsoe(
    country_code: str,
    start: datetime | str,
    end: datetime | str,
    factors: Mapping[str, float] | None = None,
) -> pd.Series:
    """Generation-mix intensity of ``country_code`` from ENTSO-E via entsoe-py (live).

    Key from ``ENTSOE_API_KEY``; see :func:`carbon_from_entsoe` for the method.
    """
    from greenopt.optional import require

    source = "ENTSO-E"
    key = _env("ENTSOE_API_KEY", source)
    entsoe = require("entsoe", "ENTSO-E live client", extra="carbon-apis", package="entsoe-py")
    t0, t1 = _utc(start, "start"), _utc(end, "end")
    try:
        df = entsoe.EntsoePandasClient(api_key=key).query_generation(country_code, start=t0, end=t1)
    except Exception as exc:  # entsoe-py raises requests' and its own exception types
        raise DataSourceError(
            f"{source}: query_generation({country_code!r}) failed ({exc})"
        ) from None
    return carbon_from_entsoe(df, zone=country_code, factors=factors)


def fetch_carbon_aware_sdk(
    base_url: str, location: str, start: datetime | str, end: datetime | str
) -> pd.Series:
    """Observed emissions of ``location`` from a carbon-aware-sdk WebApi at ``base_url`` (live).

    ``GET {base_url}/emissions/bylocation?location=...&time=...&toTime=...``; the WebApi holds
    its own data-source keys, so none is read here.
    """
    t0, t1 = _utc(start, "start"), _utc(end, "end")
    doc = _get_json(
        f"{base_url.rstrip('/')}/emissions/bylocation",
        {"location": location, "time": _iso(t0), "toTime": _iso(t1)},
        source="carbon-aware-sdk",
    )
    return carbon_from_carbon_aware_sdk(doc, location=location)
