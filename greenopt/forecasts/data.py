"""Forecasts as data, and what is known at each decision slot (MODEL.md §11).

A :class:`Forecasts` holds, for one horizon and its sites, forecasts of the three site signals
(:data:`SIGNALS`: ``renewable_kw``, ``carbon``, ``price``) with the time each was issued, already on
the horizon's slots: per signal an array ``(issues, sites, slots)``, NaN where an issue says
nothing about a slot (a slot that starts before the issue, or one its forecast does not reach).
It may also hold a ``history``: actuals of the slots just before the horizon, known before it
starts — what ``persistence`` reads as "the day before". A scenario may carry one
(:attr:`greenopt.scenario.Scenario.forecasts`).

Issue time and decisions: an issue at time τ may inform the decision at slot ``k`` when
τ ≤ start of slot ``k`` — from its *issue slot* ⌈(τ − start) / Δ⌉ on (0 for issues before the
horizon). :func:`known_signals` is the one query an operating simulation needs: at decision slot
``k`` the actuals of slots ``< k`` and, for each site and slot ``≥ k``, the latest forecast issued
at or before the start of slot ``k`` that says something about that slot. It reads the actuals
of slots ``< k`` only, so what it returns cannot depend on anything that happens from ``k`` on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError, shown
from greenopt.scenario import Horizon, Scenario

#: The site signals a forecast may cover (MODEL.md §2), in this order everywhere.
SIGNALS: tuple[str, ...] = ("renewable_kw", "carbon", "price")
#: Signals that are physical quantities and never negative (prices may be, MODEL.md §2).
NONNEGATIVE: frozenset[str] = frozenset({"renewable_kw", "carbon"})
_EPS = 1e-9


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def to_utc_times(values: Any, what: str) -> pd.DatetimeIndex:
    """Timezone-aware timestamps in UTC; naive ones are refused (they are ambiguous)."""
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(values, utc=False, format="mixed"))
    except (ValueError, TypeError):
        idx = None  # different offsets, a naive one among aware ones, or unparsable: look closer
    if idx is None:
        for value in values:
            try:
                stamp = pd.Timestamp(value)
            except (ValueError, TypeError):
                raise ForecastError(
                    f"{what}: timestamp {shown(value)} could not be parsed", what
                ) from None
            if pd.isna(stamp):
                raise ForecastError(f"{what}: a timestamp is missing", what)
            if stamp.tzinfo is None:
                raise ForecastError(
                    f"{what}: timestamp {shown(value)} has no timezone; timestamps must be "
                    "timezone-aware (e.g. '2023-06-01T00:00:00Z')",
                    what,
                )
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="mixed")).as_unit("ns")
    if len(idx) and idx.tz is None:
        raise ForecastError(
            f"{what}: timestamps must be timezone-aware (e.g. '2023-06-01T00:00:00Z'); "
            f"{idx[0]!s} has no timezone",
            what,
        )
    if idx.hasnans:
        raise ForecastError(f"{what}: a timestamp is missing", what)
    idx = idx.tz_convert("UTC") if len(idx) else pd.DatetimeIndex([], tz="UTC")
    return idx.as_unit("ns")  # one unit (pandas may parse to microseconds)


@dataclass(frozen=True, eq=False)
class Forecasts:
    """Issued forecasts of site signals on a horizon's slots, plus the actuals known before it.

    - ``issue_times``: when each issue was made (UTC, strictly increasing; sorted on creation);
    - ``values[signal]``: ``(issues, sites, slots)`` float array, NaN where an issue says nothing
      about a slot; a value for a slot that starts before its issue time is an error;
    - ``history[signal]``: ``(sites, H)`` actuals of the ``H`` slots just before the horizon
      (same slot length, ending at its start), NaN where unknown.

    A signal absent from ``values`` is not forecast; one absent from ``history`` has none.
    Arrays are read-only. Malformed input raises :class:`~greenopt.errors.ForecastError` naming
    the site, signal and time at fault.
    """

    horizon: Horizon
    sites: tuple[str, ...]
    issue_times: pd.DatetimeIndex
    values: Mapping[str, np.ndarray]
    history: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.horizon, Horizon):
            raise ForecastError("forecasts need the Horizon they are aligned to", "horizon")
        sites = tuple(str(s) for s in self.sites)
        dup = sorted({s for s in sites if sites.count(s) > 1})
        if dup:
            raise ForecastError(f"forecasts: site {dup[0]!r} is given twice", dup[0])
        times = to_utc_times(self.issue_times, "forecast issue times")
        if times.has_duplicates:
            t = times[times.duplicated()][0]
            raise ForecastError(f"forecasts: issue time {t.isoformat()} appears twice", str(t))
        order = np.argsort(times.asi8, kind="stable")
        times = times[order]
        T, S, n_issues = self.horizon.slots, len(sites), len(times)
        end = pd.Timestamp(self.horizon.end).tz_convert("UTC")
        if n_issues and times[-1] >= end:
            raise ForecastError(
                f"forecasts: issue time {times[-1].isoformat()} is at or after the horizon's end "
                f"({end.isoformat()}): it can inform no decision",
                str(times[-1]),
            )
        object.__setattr__(self, "sites", sites)
        object.__setattr__(self, "issue_times", times)
        first_slot = self._issue_slots_of(times)
        values: dict[str, np.ndarray] = {}
        for signal, raw in self.values.items():
            _known_signal(signal)
            arr = np.array(raw, dtype=float)
            if arr.shape != (n_issues, S, T):
                raise ForecastError(
                    f"forecasts of {signal!r} have shape {arr.shape}; expected "
                    f"(issues={n_issues}, sites={S}, slots={T})",
                    signal,
                )
            arr = arr[order]
            self._check_values(signal, arr, first_slot)
            values[signal] = _readonly(arr)
        object.__setattr__(self, "values", {s: values[s] for s in SIGNALS if s in values})
        history: dict[str, np.ndarray] = {}
        for signal, raw in self.history.items():
            _known_signal(signal)
            arr = np.array(raw, dtype=float)
            if arr.ndim != 2 or arr.shape[0] != S:
                raise ForecastError(
                    f"history of {signal!r} has shape {arr.shape}; expected (sites={S}, slots)",
                    signal,
                )
            self._check_history(signal, arr)
            history[signal] = _readonly(arr)
        object.__setattr__(self, "history", {s: history[s] for s in SIGNALS if s in history})

    # -- validation --------------------------------------------------------------------------
    def _issue_slots_of(self, times: pd.DatetimeIndex) -> np.ndarray:
        start = pd.Timestamp(self.horizon.start).tz_convert("UTC")
        rel = (times - start).total_seconds().to_numpy() / 3600.0 / self.horizon.dt_h
        return _readonly(np.maximum(0, np.ceil(rel - _EPS)).astype(np.int64))

    def _slot_time(self, t: int) -> str:
        return self.horizon.slot_starts[t].tz_convert("UTC").isoformat()

    def _check_values(self, signal: str, arr: np.ndarray, first_slot: np.ndarray) -> None:
        bad = np.isinf(arr)
        if signal in NONNEGATIVE:
            bad |= arr < 0
        if bad.any():
            i, s, t = (int(x[0]) for x in np.nonzero(bad))
            raise ForecastError(
                f"forecast of {signal!r} at site {self.sites[s]!r} issued at "
                f"{self.issue_times[i].isoformat()} for the slot starting {self._slot_time(t)} is "
                f"{float(arr[i, s, t])!r}: {_rule(signal)}",
                self.sites[s],
            )
        before = np.arange(arr.shape[2])[None, :] < first_slot[:, None]  # (I, T)
        early = before[:, None, :] & np.isfinite(arr)
        if early.any():
            i, s, t = (int(x[0]) for x in np.nonzero(early))
            raise ForecastError(
                f"forecast of {signal!r} at site {self.sites[s]!r} issued at "
                f"{self.issue_times[i].isoformat()} has a value for the slot starting "
                f"{self._slot_time(t)}, which starts before it was issued",
                self.sites[s],
            )

    def _check_history(self, signal: str, arr: np.ndarray) -> None:
        bad = np.isinf(arr)
        if signal in NONNEGATIVE:
            bad |= arr < 0
        if bad.any():
            s, h = (int(x[0]) for x in np.nonzero(bad))
            when = pd.Timestamp(self.horizon.start) - pd.Timedelta(
                minutes=self.horizon.slot_minutes * (arr.shape[1] - h)
            )
            raise ForecastError(
                f"history of {signal!r} at site {self.sites[s]!r} for the slot starting "
                f"{when.tz_convert('UTC').isoformat()} is {float(arr[s, h])!r}: {_rule(signal)}",
                self.sites[s],
            )

    # -- queries -----------------------------------------------------------------------------
    @property
    def issue_slots(self) -> np.ndarray:
        """Per issue, the first decision slot it may inform (⌈(τ − start)/Δ⌉, at least 0)."""
        return self._issue_slots

    @cached_property
    def _issue_slots(self) -> np.ndarray:
        return self._issue_slots_of(self.issue_times)

    @cached_property
    def _latest(self) -> dict[str, np.ndarray]:
        """Per signal, ``[i, s, t]`` = the last issue ``≤ i`` with a value for ``(s, t)``, or -1.

        Built once, so :meth:`as_of` costs O(sites × slots) whatever the number of issues.
        """
        out = {}
        for signal, arr in self.values.items():
            has = np.isfinite(arr)
            idx = np.where(has, np.arange(arr.shape[0], dtype=np.int32)[:, None, None], -1)
            out[signal] = _readonly(np.maximum.accumulate(idx, axis=0).astype(np.int32))
        return out

    def as_of(self, k: int) -> dict[str, np.ndarray]:
        """Forecasts known at the start of slot ``k``: per signal an ``(S, T)`` array holding, for
        each site and slot ``≥ k``, the latest value issued at or before that time; NaN for slots
        ``< k`` and where no issue so far says anything. Signals never forecast are absent."""
        T, S = self.horizon.slots, len(self.sites)
        n = int(np.searchsorted(self.issue_slots, k, side="right"))  # issues usable at k
        out: dict[str, np.ndarray] = {}
        for signal, arr in self.values.items():
            res = np.full((S, T), np.nan)
            if n and k < T:
                idx = self._latest[signal][n - 1][:, k:]
                got = np.take_along_axis(arr[:, :, k:], np.maximum(idx, 0)[None], axis=0)[0]
                res[:, k:] = np.where(idx >= 0, got, np.nan)
            out[signal] = res
        return out

    def history_of(self, signal: str) -> np.ndarray:
        """``(S, H)`` actuals before the horizon for ``signal`` (``H`` = 0 when there are none)."""
        _known_signal(signal)
        h = self.history.get(signal)
        return h if h is not None else _readonly(np.zeros((len(self.sites), 0)))

    # -- reshaping ---------------------------------------------------------------------------
    def aligned_to(self, horizon: Horizon, sites: Iterable[str]) -> Forecasts:
        """These forecasts for exactly ``sites`` in that order (sites they lack get NaN).

        The horizon must be the same; a site unknown to ``sites`` is an error.
        """
        sites = tuple(sites)
        if horizon != self.horizon:
            raise ForecastError(
                f"forecasts are for the horizon {_describe(self.horizon)}, not "
                f"{_describe(horizon)}",
                "horizon",
            )
        if sites == self.sites:
            return self
        unknown = [s for s in self.sites if s not in sites]
        if unknown:
            raise ForecastError(
                f"forecasts name site {unknown[0]!r}, which the scenario does not have", unknown[0]
            )
        pos = [self.sites.index(s) if s in self.sites else -1 for s in sites]

        def pick(arr: np.ndarray, axis: int) -> np.ndarray:
            shape = list(arr.shape)
            shape[axis] = len(sites)
            out = np.full(shape, np.nan)
            for new, old in enumerate(pos):
                if old >= 0:
                    np.moveaxis(out, axis, 0)[new] = np.moveaxis(arr, axis, 0)[old]
            return out

        return Forecasts(
            horizon=self.horizon,
            sites=sites,
            issue_times=self.issue_times,
            values={s: pick(a, 1) for s, a in self.values.items()},
            history={s: pick(a, 0) for s, a in self.history.items()},
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy table ``issue_time, time, site, signal, value`` of every value given (UTC)."""
        starts = self.horizon.slot_starts.tz_convert("UTC")
        frames = []
        for signal, arr in self.values.items():
            i, s, t = np.nonzero(np.isfinite(arr))
            frames.append(
                pd.DataFrame(
                    {
                        "issue_time": self.issue_times[i],
                        "time": starts[t],
                        "site": np.array(self.sites, dtype=object)[s],
                        "signal": signal,
                        "value": arr[i, s, t],
                    }
                )
            )
        cols = ["issue_time", "time", "site", "signal", "value"]
        if not frames:
            return pd.DataFrame(columns=cols)
        return pd.concat(frames, ignore_index=True)[cols]

    @classmethod
    def empty(
        cls,
        horizon: Horizon,
        sites: Iterable[str],
        history: Mapping[str, np.ndarray] | None = None,
    ) -> Forecasts:
        """No issued forecast at all (only, optionally, the actuals before the horizon)."""
        return cls(
            horizon=horizon,
            sites=tuple(sites),
            issue_times=pd.DatetimeIndex([], tz="UTC"),
            values={},
            history=dict(history or {}),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Forecasts):
            return NotImplemented
        return (
            self.horizon == other.horizon
            and self.sites == other.sites
            and self.issue_times.equals(other.issue_times)
            and _arrays_equal(self.values, other.values)
            and _arrays_equal(self.history, other.history)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        hist = {s: a.shape[1] for s, a in self.history.items()}
        return (
            f"Forecasts({len(self.issue_times)} issues of {list(self.values)} for "
            f"{len(self.sites)} sites x {self.horizon.slots} slots; history slots {hist})"
        )


def _known_signal(signal: str) -> None:
    if signal not in SIGNALS:
        raise ForecastError(f"unknown signal {signal!r}; signals are {list(SIGNALS)}", signal)


def _rule(signal: str) -> str:
    return "values must be finite and >= 0" if signal in NONNEGATIVE else "values must be finite"


def _describe(h: Horizon) -> str:
    return f"{pd.Timestamp(h.start).isoformat()} x {h.slots} slots of {h.slot_minutes} min"


def _arrays_equal(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=True) for k in a
    )


def merge_forecasts(*parts: Forecasts) -> Forecasts:
    """One :class:`Forecasts` from several for the same horizon (e.g. carbon from one archive,
    solar from another): sites and issue times are united; each signal of each site must come
    from one part only. Histories are united the same way (shorter ones padded with NaN)."""
    if not parts:
        raise ForecastError("merge_forecasts needs at least one Forecasts", "forecasts")
    horizon = parts[0].horizon
    sites: list[str] = []
    for p in parts:
        if p.horizon != horizon:
            raise ForecastError(
                f"cannot merge forecasts for {_describe(p.horizon)} with forecasts for "
                f"{_describe(horizon)}",
                "horizon",
            )
        sites += [s for s in p.sites if s not in sites]
    times = parts[0].issue_times
    for p in parts[1:]:
        times = times.union(p.issue_times)
    S, T = len(sites), horizon.slots
    values: dict[str, np.ndarray] = {}
    history: dict[str, np.ndarray] = {}
    owner: dict[tuple[str, str, str], int] = {}
    for n, p in enumerate(parts):
        rows = times.get_indexer(p.issue_times)
        for signal, arr in p.values.items():
            out = values.setdefault(signal, np.full((len(times), S, T), np.nan))
            for s_old, site in enumerate(p.sites):
                if not np.isfinite(arr[:, s_old]).any():
                    continue
                _claim(owner, ("forecasts", signal, site), n)
                out[rows, sites.index(site)] = arr[:, s_old]
        for signal, arr in p.history.items():
            H = max(q.history[signal].shape[1] for q in parts if signal in q.history)
            out = history.setdefault(signal, np.full((S, H), np.nan))
            for s_old, site in enumerate(p.sites):
                if not np.isfinite(arr[s_old]).any():
                    continue
                _claim(owner, ("history", signal, site), n)
                out[sites.index(site), H - arr.shape[1] :] = arr[s_old]
    return Forecasts(horizon, tuple(sites), times, values, history)


def _claim(owner: dict[tuple[str, str, str], int], key: tuple[str, str, str], n: int) -> None:
    if key in owner and owner[key] != n:
        what, signal, site = key
        raise ForecastError(
            f"merge_forecasts: {what} of {signal!r} at site {site!r} come from two of the "
            "merged parts; give each signal of each site once",
            site,
        )
    owner[key] = n


@dataclass(frozen=True)
class KnownSignals:
    """The site signals as known at the start of decision slot ``k``: ``(S, T)`` read-only arrays
    holding actuals for slots ``< k`` and forecasts for slots ``≥ k`` (MODEL.md §11)."""

    k: int
    renewable_kw: np.ndarray
    carbon: np.ndarray
    price: np.ndarray

    def __getitem__(self, signal: str) -> np.ndarray:
        _known_signal(signal)
        return getattr(self, signal)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {s: getattr(self, s) for s in SIGNALS}


def known_signals(
    scenario: Scenario,
    forecasts: Forecasts,
    k: int,
    *,
    fallback: Forecasts | None = None,
) -> KnownSignals:
    """What is known of every site signal at the start of decision slot ``k`` (0 ≤ k ≤ T).

    Slots ``< k`` hold the scenario's actuals (only those are read); slots ``≥ k`` hold, per site,
    the latest value issued at or before the start of slot ``k`` (:meth:`Forecasts.as_of`), else
    ``fallback``'s, when given. A slot ``≥ k`` that neither covers is an error naming the site,
    signal and slot — never silently filled. ``forecasts`` must be aligned to the scenario (same
    horizon and site order; :meth:`Forecasts.aligned_to`). Cost: O(sites × slots) per call.
    """
    T = scenario.horizon.slots
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= T:
        raise ForecastError(f"decision slot k must be an integer in 0..{T}, got {k!r}", "k")
    k = int(k)
    idx = scenario.index
    for which in (forecasts, fallback):
        if which is not None and (
            which.horizon != scenario.horizon or which.sites != idx.site_names
        ):
            raise ForecastError(
                "forecasts are not aligned to the scenario (same horizon and sites in the same "
                "order); use forecasts.aligned_to(scenario.horizon, site names)",
                "forecasts",
            )
    ahead = forecasts.as_of(k)
    behind = fallback.as_of(k) if fallback is not None else {}
    S = len(idx.site_names)
    out: dict[str, np.ndarray] = {}
    for signal in SIGNALS:
        arr = np.empty((S, T))
        arr[:, :k] = getattr(idx, signal)[:, :k]  # the past: actuals, and nothing from k on
        future = ahead.get(signal)
        arr[:, k:] = future[:, k:] if future is not None else np.nan
        gap = np.isnan(arr[:, k:])
        if gap.any() and signal in behind:
            arr[:, k:] = np.where(gap, behind[signal][:, k:], arr[:, k:])
            gap = np.isnan(arr[:, k:])
        if gap.any():
            s, t = (int(x[0]) for x in np.nonzero(gap))
            raise ForecastError(
                f"no forecast of {signal!r} at site {idx.site_names[s]!r} for the slot starting "
                f"{scenario.horizon.slot_starts[k + t].isoformat()} was issued by the start of "
                f"decision slot {k}; give a fallback (e.g. persistence) or forecasts that cover it",
                idx.site_names[s],
            )
        out[signal] = _readonly(arr)
    return KnownSignals(k=k, **out)


def scenario_with_signals(
    scenario: Scenario, signals: KnownSignals | Mapping[str, Any]
) -> Scenario:
    """A copy of ``scenario`` whose sites carry ``signals`` (e.g. :func:`known_signals`) instead
    of the actuals — what a planner deciding at slot ``k`` should be given. Jobs, WAN and
    forecasts are kept."""
    given = signals.as_dict() if isinstance(signals, KnownSignals) else dict(signals)
    for signal in given:
        _known_signal(signal)
    sites = []
    for s, site in enumerate(scenario.sites):
        update = {sig: _readonly(np.array(arr[s], dtype=float)) for sig, arr in given.items()}
        sites.append(site.model_copy(update=update))
    return scenario.with_jobs(list(scenario.jobs), sites=sites)
