"""Forecasts in scenario files (MODEL.md §11): ``forecasts.csv`` and ``history.csv``.

In the scenario YAML (paths resolve inside its folder, like every file a scenario names —
:mod:`greenopt.io.files`)::

    forecasts: forecasts.csv                                  # issued forecasts only, or
    forecasts: {issued: forecasts.csv, history: history.csv}  # either key may be left out

``forecasts.csv`` has one row per forecast value: ``issue_time, time, site, signal, value`` — the
forecast of ``signal`` (``renewable_kw``, ``carbon`` or ``price``) at ``site`` issued at
``issue_time`` for the sample at ``time`` (a target time at or after the issue). Like the rows of
``timeseries.csv``, the samples of one issue, site and signal form a step function resampled to
the slots (time-weighted mean; each sample holds until the next for at most their usual
spacing); a slot it does not fully cover is left without forecast. An empty ``value`` says "no
forecast from this time" (a gap). Timestamps must carry their time zone.

``history.csv`` holds the actuals before the horizon (what ``persistence`` reads as the day
before): ``time, site`` and any of ``renewable_kw, carbon, price``, at any resolution, all
before the horizon's start; they are resampled onto slots of the horizon's length ending at its
start. Empty cells and sites without rows are unknown.

Malformed input raises :class:`~greenopt.errors.ForecastError` naming the file, site, signal and
time at fault; like the scenario's own tables, a message shows at most a short, inert snippet of
what a file holds (a file that is not a forecast table is described by what it lacks). Text cells
are written spreadsheet-safe and read back exactly (:mod:`greenopt.io.spreadsheet`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError, shown
from greenopt.forecasts.data import NONNEGATIVE, SIGNALS, Forecasts, to_utc_times
from greenopt.forecasts.resample import samples_to_slots
from greenopt.io.spreadsheet import unescape_frame, write_csv
from greenopt.scenario import Horizon

FORECAST_COLUMNS = ["issue_time", "time", "site", "signal", "value"]
HISTORY_COLUMNS = ["time", "site", *SIGNALS]
ENTRY_KEYS = ("issued", "history")


def read_forecasts_entry(
    value: Any,
    base: Path | Callable[[str, str], Path],
    horizon: Horizon,
    sites: Sequence[str],
) -> Forecasts | None:
    """The scenario YAML's ``forecasts`` entry (a file name or ``{issued, history}``).

    ``base``: the YAML's folder, or the scenario loader's ``resolve(name, field)`` that keeps
    references inside it (and refuses the others, naming the field)."""
    resolve = base if callable(base) else (lambda name, field: Path(base) / name)
    if value is None:
        return None
    plain = isinstance(value, str)
    if plain:
        value = {"issued": value}
    if not isinstance(value, dict):
        raise ForecastError(
            "'forecasts' must name a CSV file or be a mapping {issued: FILE, history: FILE}",
            "forecasts",
        )
    unknown = sorted(map(str, set(value) - set(ENTRY_KEYS)))
    if unknown:
        raise ForecastError(
            f"forecasts: unknown key(s) {[shown(k)[1:-1] for k in unknown[:5]]}; "
            f"allowed: {list(ENTRY_KEYS)}",
            str(unknown[0]),
        )
    for key in ENTRY_KEYS:
        if key in value and not isinstance(value[key], str):
            raise ForecastError(f"forecasts: {key!r} must name a CSV file", key)
    history = (
        read_history_csv(resolve(value["history"], "forecasts.history"), horizon, sites)
        if "history" in value
        else {}
    )
    if "issued" in value:
        path = resolve(value["issued"], "forecasts" if plain else "forecasts.issued")
        return read_forecasts_csv(path, horizon, sites, history=history)
    return Forecasts.empty(horizon, sites, history=history)


def _table(path: Path, what: str, columns: list[str], required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise ForecastError(f"{what}: file {str(path)!r} does not exist", str(path))
    try:
        df = pd.read_csv(
            path, dtype={"site": str, "signal": str}, keep_default_na=False, na_values=[""]
        )
    except pd.errors.EmptyDataError:
        raise ForecastError(f"{what}: file {path.name!r} is empty", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        # the parser's own words name a line and a count, never a cell; capped all the same
        reason = shown(str(exc).splitlines()[-1] if str(exc) else type(exc).__name__, 120)
        raise ForecastError(
            f"{what}: file {path.name!r} is not valid CSV ({reason[1:-1]})", str(path)
        ) from None
    cols = [str(c) for c in df.columns]
    if not any(c in required for c in cols):
        # any file at all may sit here: say what it lacks, never what its first line holds
        raise ForecastError(
            f"{what}: file {path.name!r} does not look like a {what} table: none of the "
            f"required columns {required} is in its first line ({len(cols)} column(s) there)",
            str(path),
        )
    unknown = [c for c in cols if c not in columns]
    if unknown:
        raise ForecastError(
            f"{what}: file {path.name!r} has unknown column(s) "
            f"{[shown(c)[1:-1] for c in unknown[:5]]}; allowed: {columns}",
            unknown[0],
        )
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ForecastError(f"{what}: file {path.name!r} lacks column(s) {missing}", missing[0])
    if df.empty:
        raise ForecastError(f"{what}: file {path.name!r} has a header but no rows", str(path))
    return unescape_frame(df)


def _sites(df: pd.DataFrame, sites: Sequence[str], what: str) -> None:
    if df["site"].isna().any():
        r = int(np.flatnonzero(df["site"].isna().to_numpy())[0])
        raise ForecastError(f"{what}: row {r + 2} has no site", "site")
    unknown = sorted(set(df["site"]) - set(sites))
    if unknown:
        listed = [shown(n)[1:-1] for n in unknown[:5]]
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ForecastError(f"{what}: unknown site(s) {listed}{more}", unknown[0])


def _numbers(column: pd.Series, what: str, describe) -> np.ndarray:
    """Floats (empty cells NaN); anything else that is not a finite number is an error."""
    vals = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = (np.isnan(vals) & column.notna().to_numpy()) | np.isinf(vals)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ForecastError(
            f"{what}: {describe(r)} is {shown(column.iloc[r])}, not a finite number",
            describe.culprit(r),
        )
    return vals


class _Row:
    """Describes a row of a forecast table in messages (site, signal, issue and target time)."""

    def __init__(
        self,
        df: pd.DataFrame,
        issue: pd.DatetimeIndex | None,
        time: pd.DatetimeIndex,
        signal: str | None = None,
    ):
        self.df, self.issue, self.time, self.signal = df, issue, time, signal

    def __call__(self, r: int) -> str:
        sig = self.signal or self.df["signal"].iloc[r]
        text = f"{sig!r} at site {self.df['site'].iloc[r]!r} for {self.time[r].isoformat()}"
        if self.issue is not None:
            text = f"forecast of {text} issued at {self.issue[r].isoformat()}"
        else:
            text = f"history of {text}"
        return text

    def culprit(self, r: int) -> str:
        return str(self.df["site"].iloc[r])


def read_forecasts_csv(
    path: str | Path,
    horizon: Horizon,
    sites: Sequence[str],
    *,
    history: dict[str, np.ndarray] | None = None,
) -> Forecasts:
    """``forecasts.csv`` (see the module docstring) → :class:`Forecasts` for these sites."""
    path = Path(path)
    what = "forecasts"
    df = _table(path, what, FORECAST_COLUMNS, FORECAST_COLUMNS)
    _sites(df, sites, f"{what} file {path.name!r}")
    bad_signal = sorted(set(df["signal"].dropna()) - set(SIGNALS))
    if bad_signal or df["signal"].isna().any():
        name = bad_signal[0] if bad_signal else ""
        raise ForecastError(
            f"{what}: file {path.name!r} has signal {shown(name)}; signals are {list(SIGNALS)}",
            name or "signal",
        )
    issue = to_utc_times(df["issue_time"], f"{what} file {path.name!r} column 'issue_time'")
    time = to_utc_times(df["time"], f"{what} file {path.name!r} column 'time'")
    row = _Row(df, issue, time)
    values = _numbers(df["value"], f"{what} file {path.name!r}", row)
    neg = df["signal"].isin(NONNEGATIVE).to_numpy() & (values < 0)
    if neg.any():
        r = int(np.flatnonzero(neg)[0])
        raise ForecastError(
            f"{what}: {row(r)} is {float(values[r])!r}: it must be >= 0", row.culprit(r)
        )
    early = time < issue
    if early.any():
        r = int(np.flatnonzero(early)[0])
        raise ForecastError(f"{what}: {row(r)} is for a time before it was issued", row.culprit(r))
    key = pd.DataFrame({"i": issue.asi8, "t": time.asi8, "s": df["site"], "g": df["signal"]})
    dup = key.duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise ForecastError(f"{what}: {row(r)} is given twice", row.culprit(r))
    issues = pd.DatetimeIndex(np.unique(issue.asi8)).tz_localize("UTC")
    site_pos = {s: n for n, s in enumerate(sites)}
    start = pd.Timestamp(horizon.start).tz_convert("UTC")
    t_h = (time - start).total_seconds().to_numpy() / 3600.0
    out = {
        s: np.full((len(issues), len(sites), horizon.slots), np.nan)
        for s in SIGNALS
        if (df["signal"] == s).any()
    }
    groups = (
        pd.DataFrame(
            {"i": issues.get_indexer(issue), "s": df["site"].map(site_pos), "g": df["signal"]}
        )
        .groupby(["i", "s", "g"], sort=False)
        .indices
    )
    for (i, s, signal), rows in groups.items():
        rows = rows[np.argsort(t_h[rows], kind="stable")]
        out[signal][i, s] = samples_to_slots(t_h[rows], values[rows], horizon.slots, horizon.dt_h)
    first = np.maximum(
        0, np.ceil((issues - start).total_seconds().to_numpy() / 3600 / horizon.dt_h - 1e-9)
    ).astype(np.int64)
    before = np.arange(horizon.slots)[None, :] < first[:, None]
    for arr in out.values():
        arr[before[:, None, :].repeat(arr.shape[1], axis=1)] = np.nan
    return Forecasts(horizon, tuple(sites), issues, out, history=history or {})


def read_history_csv(
    path: str | Path, horizon: Horizon, sites: Sequence[str]
) -> dict[str, np.ndarray]:
    """``history.csv`` (see the module docstring) → per signal ``(sites, H)`` actuals of the
    ``H`` slots before the horizon (NaN unknown), ``H`` reaching back to the earliest row."""
    path = Path(path)
    what = "forecast history"
    df = _table(path, what, HISTORY_COLUMNS, ["time", "site"])
    signals = [s for s in SIGNALS if s in df.columns]
    if not signals:
        raise ForecastError(
            f"{what}: file {path.name!r} has none of the signal columns {list(SIGNALS)}", "signal"
        )
    _sites(df, sites, f"{what} file {path.name!r}")
    time = to_utc_times(df["time"], f"{what} file {path.name!r} column 'time'")
    start = pd.Timestamp(horizon.start).tz_convert("UTC")
    late = time >= start
    if late.any():
        r = int(np.flatnonzero(late)[0])
        raise ForecastError(
            f"{what}: site {df['site'].iloc[r]!r} has a row at {time[r].isoformat()}, not before "
            f"the horizon's start {start.isoformat()} (actuals of the horizon belong in the "
            "timeseries)",
            str(df["site"].iloc[r]),
        )
    dup = pd.DataFrame({"t": time.asi8, "s": df["site"]}).duplicated()
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise ForecastError(
            f"{what}: site {df['site'].iloc[r]!r} at {time[r].isoformat()} is given twice",
            str(df["site"].iloc[r]),
        )
    back_h = (start - time.min()).total_seconds() / 3600.0
    H = math.ceil(back_h / horizon.dt_h - 1e-9)
    origin = start - pd.Timedelta(minutes=horizon.slot_minutes * H)
    t_h = (time - origin).total_seconds().to_numpy() / 3600.0
    out = {s: np.full((len(sites), H), np.nan) for s in signals}
    for signal in signals:
        row = _Row(df, None, time, signal)
        vals = _numbers(df[signal], f"{what} file {path.name!r}", row)
        if signal in NONNEGATIVE and (vals < 0).any():
            r = int(np.flatnonzero(vals < 0)[0])
            raise ForecastError(
                f"{what}: {row(r)} is {float(vals[r])!r}: it must be >= 0", row.culprit(r)
            )
        for n, site in enumerate(sites):
            rows = np.flatnonzero((df["site"] == site).to_numpy())
            if rows.size:
                rows = rows[np.argsort(t_h[rows], kind="stable")]
                out[signal][n] = samples_to_slots(t_h[rows], vals[rows], H, horizon.dt_h)
    return out


def write_forecasts(forecasts: Forecasts, folder: str | Path) -> dict[str, str]:
    """Write ``forecasts.csv`` and ``history.csv`` (those with content) into ``folder``; return
    the YAML entry naming them (``{}`` when there is nothing to write). Values are written per
    slot, with empty values for gaps inside an issue, so they read back exactly."""
    folder = Path(folder)
    entry: dict[str, str] = {}
    frame = _issued_rows(forecasts)
    if len(frame):
        write_csv(frame, folder / "forecasts.csv")
        entry["issued"] = "forecasts.csv"
    hist = _history_rows(forecasts)
    if len(hist):
        write_csv(hist, folder / "history.csv")
        entry["history"] = "history.csv"
    return entry


def _issued_rows(fc: Forecasts) -> pd.DataFrame:
    starts = [t.isoformat() for t in fc.horizon.slot_starts.tz_convert("UTC")]
    issued = [t.isoformat() for t in fc.issue_times]
    rows = []
    for signal, arr in fc.values.items():
        for i in range(arr.shape[0]):
            for s, site in enumerate(fc.sites):
                have = np.flatnonzero(np.isfinite(arr[i, s]))
                if not have.size:
                    continue
                for t in range(have[0], have[-1] + 1):  # gaps inside written as empty values
                    rows.append((issued[i], starts[t], site, signal, arr[i, s, t]))
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)


def _history_rows(fc: Forecasts) -> pd.DataFrame:
    if not fc.history:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    H = max(a.shape[1] for a in fc.history.values())
    start = pd.Timestamp(fc.horizon.start).tz_convert("UTC")
    times = [
        (start - pd.Timedelta(minutes=fc.horizon.slot_minutes * (H - h))).isoformat()
        for h in range(H)
    ]
    cols = {}
    for signal, arr in fc.history.items():
        padded = np.full((len(fc.sites), H), np.nan)
        padded[:, H - arr.shape[1] :] = arr
        cols[signal] = padded.ravel()
    frame = pd.DataFrame({"time": times * len(fc.sites), "site": np.repeat(fc.sites, H), **cols})
    # keep the earliest row even if empty: it tells the reader how far back the history reaches
    first = np.zeros(len(frame), dtype=bool)
    first[0] = True
    return frame[frame[list(fc.history)].notna().any(axis=1).to_numpy() | first]
