"""Forecasters: forecasts of a scenario's signals, issued at its decision slots (MODEL.md §11).

Each forecaster returns a :class:`~greenopt.forecasts.data.Forecasts` with one issue at the start
of every slot in ``issue_slots`` (all slots by default; ``[0]`` is a single day-ahead forecast),
each covering every slot from its issue on. By name (:func:`make_forecasts`):

- ``"oracle"``: the actuals themselves — perfect foresight, the reference regret is measured
  against. It reads the future by definition.
- ``"persistence"``: MODEL.md §11 exactly. Issued at slot ``k``, slot ``t`` is predicted by the
  actual one day earlier, ``t − D`` (``D`` = slots per day) — or, for a target more than a day
  ahead, the same time on the latest day already known (``t − mD`` with the smallest ``m`` that is
  before ``k``); with slots that do not divide a day, ``D`` is the whole number of slots nearest
  one (:func:`slots_per_day`). Where that day is not in the data (before the scenario's
  ``history``, or no history: the first day of a one-day scenario), by the latest actual known at
  issue time, slot ``k − 1``; at the very first decision, with nothing known yet, the first
  slot's actual counts as observed. It reads only actuals of slots before its issue (plus that
  one exception).
- ``"error-model"``: the actuals with a seeded, calibrated forecast error that grows with lead
  time (:mod:`greenopt.forecasts.error_model`) — a synthetic forecaster with real-world skill.
  Like ``oracle`` it is built *from* the actuals it forecasts (each forecast of slot ``t`` depends
  on the actual of slot ``t``, the noise, and actuals before its issue — nothing else).
- ``"scenario"``: the forecasts the scenario carries (real forecast files, say), completed by
  ``persistence`` wherever they say nothing (a 65-minute-ahead forecast says nothing about the
  afternoon); the completion is explicit and documented, never a silent fill.

The actuals before the horizon (``history``) come from the argument, else from the scenario's
forecasts (:attr:`Forecasts.history`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from greenopt.errors import ForecastError
from greenopt.forecasts.data import SIGNALS, Forecasts
from greenopt.scenario import Horizon, Scenario

#: Forecasters by name (``make_forecasts(scenario, NAME)``).
FORECASTERS: tuple[str, ...] = ("oracle", "persistence", "error-model", "scenario")
MINUTES_PER_DAY = 1440


def issue_slots_of(horizon: Horizon, issue_slots: Iterable[int] | None) -> np.ndarray:
    """The decision slots forecasts are issued at: sorted, unique, each in ``0..T-1``."""
    T = horizon.slots
    if issue_slots is None:
        return np.arange(T)
    try:
        ks = np.unique(np.asarray(list(issue_slots), dtype=np.int64))
    except (TypeError, ValueError):
        raise ForecastError(
            f"issue_slots must be whole slot numbers, got {issue_slots!r}", "issue_slots"
        ) from None
    if ks.size == 0 or ks[0] < 0 or ks[-1] >= T:
        raise ForecastError(
            f"issue_slots must be one or more slots in 0..{T - 1}, got {ks.tolist()}", "issue_slots"
        )
    return ks


def issue_times_of(horizon: Horizon, ks: np.ndarray) -> pd.DatetimeIndex:
    """The start of each slot in ``ks`` (UTC): when a forecast issued there is made."""
    return horizon.slot_starts.tz_convert("UTC")[ks]


def history_for(
    scenario: Scenario, history: Mapping[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    """``history`` if given, else the scenario's (its forecasts'), as validated (S, H) arrays."""
    if history is None:
        return dict(scenario.forecasts.history) if scenario.forecasts is not None else {}
    names = scenario.index.site_names
    # validated by building a Forecasts around it
    return dict(Forecasts.empty(scenario.horizon, names, history=history).history)


def slots_per_day(horizon: Horizon) -> int:
    """``D``, persistence's lag in slots: the whole number of slots nearest one day (at least
    one; a tie goes to the longer lag). Exactly a day when the slots divide one; else the slot
    whose start is nearest the same time a day earlier — 7-minute slots: 206 slots, 1442
    minutes."""
    per_day = MINUTES_PER_DAY / horizon.slot_minutes
    return max(1, int(np.floor(per_day + 0.5)))


def oracle_forecasts(scenario: Scenario, *, issue_slots: Iterable[int] | None = None) -> Forecasts:
    """The actuals, issued at every slot of ``issue_slots`` for every slot from there on."""
    ks = issue_slots_of(scenario.horizon, issue_slots)
    ahead = np.arange(scenario.horizon.slots)[None, :] >= ks[:, None]  # (K, T)
    values = {
        s: np.where(ahead[:, None, :], getattr(scenario.index, s)[None], np.nan) for s in SIGNALS
    }
    return _issued(scenario, ks, values, history_for(scenario, None))


def persistence_forecasts(
    scenario: Scenario,
    *,
    history: Mapping[str, np.ndarray] | None = None,
    issue_slots: Iterable[int] | None = None,
) -> Forecasts:
    """MODEL.md §11's persistence forecast, issued at every slot of ``issue_slots``.

    ``history`` maps a signal to its ``(S, H)`` actuals of the ``H`` slots just before the
    horizon (NaN: unknown); by default the scenario's. The result carries that history too.
    """
    horizon = scenario.horizon
    ks = issue_slots_of(horizon, issue_slots)
    hist = history_for(scenario, history)
    D = slots_per_day(horizon)
    values = {
        s: persistence_values(getattr(scenario.index, s), hist.get(s), ks, D) for s in SIGNALS
    }
    return _issued(scenario, ks, values, hist)


def persistence_values(
    actual: np.ndarray, history: np.ndarray | None, ks: np.ndarray, per_day: int
) -> np.ndarray:
    """``(K, S, T)`` persistence forecasts of one signal issued at the slots ``ks``.

    ``actual`` is ``(S, T)``; ``history`` is ``(S, H)`` (slots ``-H..-1``, NaN unknown) or None.
    Issued at ``k`` it reads ``actual[:, :k]`` and the history only — plus ``actual[:, 0]`` when
    ``k`` is 0 and nothing at all is known (MODEL.md §11).
    """
    S, T = actual.shape
    hist = np.zeros((S, 0)) if history is None else np.asarray(history, dtype=float)
    H = hist.shape[1]
    t = np.arange(T)[None, :]
    k = ks[:, None]
    # the latest day already known: t - m*D with the smallest m >= 1 that lands before k
    m = (t - k + per_day) // per_day
    u = t - m * per_day  # (K, T), a slot before k (negative: in the history)
    # what is known at k: actual[:, :k] with the history before it, as one row per site
    known = np.concatenate([hist, actual], axis=1)  # column c is slot c - H
    col = np.clip(u + H, 0, H + T - 1)
    day_before = known[:, col]  # (S, K, T)
    in_data = (u + H >= 0)[None] & np.isfinite(day_before)
    latest = _latest_known(actual, hist, ks)  # (S, K)
    out = np.where(in_data, day_before, latest[:, :, None])
    out = np.where((t >= k)[None], out, np.nan)
    return np.moveaxis(out, 0, 1)


def _latest_known(actual: np.ndarray, hist: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """``(S, K)``: the latest actual known at each issue slot — slot ``k − 1``; at ``k = 0`` the
    history's last known value, else (nothing known yet) the first slot's actual."""
    S, H = hist.shape
    first = actual[:, 0].copy()
    if H:
        finite = np.isfinite(hist)
        last = H - 1 - np.argmax(finite[:, ::-1], axis=1)
        has = finite.any(axis=1)
        first = np.where(has, hist[np.arange(S), last], first)
    prev = actual[:, np.maximum(ks - 1, 0)]
    return np.where((ks >= 1)[None, :], prev, first[:, None])


def completed_forecasts(
    scenario: Scenario,
    primary: Forecasts,
    fallback: Forecasts,
    *,
    issue_slots: Iterable[int] | None = None,
) -> Forecasts:
    """At each decision slot of ``issue_slots``: what ``primary`` says as of then, and where it
    says nothing, what ``fallback`` says as of then — one issue per decision slot (its start is
    the issue time: both parts were issued at or before it). The history is ``primary``'s."""
    ks = issue_slots_of(scenario.horizon, issue_slots)
    S, T = len(scenario.sites), scenario.horizon.slots
    values = {s: np.full((len(ks), S, T), np.nan) for s in SIGNALS}
    for row, k in enumerate(ks):
        first, second = primary.as_of(int(k)), fallback.as_of(int(k))
        for s in SIGNALS:
            a = first.get(s, np.full((S, T), np.nan))
            b = second.get(s, np.full((S, T), np.nan))
            values[s][row] = np.where(np.isnan(a), b, a)
    return _issued(scenario, ks, values, dict(primary.history))


def complete_forecasts(
    scenario: Scenario,
    carried: Forecasts,
    history: Mapping[str, np.ndarray] | None,
    issue_slots: Iterable[int] | None,
) -> Forecasts:
    hist = history_for(scenario, history) if history is not None else dict(carried.history)
    fallback = persistence_forecasts(scenario, history=hist)
    primary = Forecasts(
        scenario.horizon, carried.sites, carried.issue_times, carried.values, history=hist
    )
    return completed_forecasts(scenario, primary, fallback, issue_slots=issue_slots)


def _issued(
    scenario: Scenario,
    ks: np.ndarray,
    values: Mapping[str, np.ndarray],
    history: Mapping[str, np.ndarray],
) -> Forecasts:
    return Forecasts(
        horizon=scenario.horizon,
        sites=scenario.index.site_names,
        issue_times=issue_times_of(scenario.horizon, ks),
        values=values,
        history=history,
    )
