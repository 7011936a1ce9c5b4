"""Forecasts as data, known_signals, the forecasters and non-anticipation (MODEL.md §11).

The properties (hypothesis, derandomized) are the contract an operating simulation relies on:

* ``known_signals(scenario, forecasts, k)`` never depends on the actuals of slots ``≥ k``;
* ``persistence`` issued at ``≤ k`` never depends on them either (MODEL.md's one exception: at
  the first decision with nothing known, the first slot's actual counts as observed);
* ``error-model`` forecasts of slot ``t`` depend on the actual of ``t`` itself (it is a
  synthetic forecaster: truth + calibrated noise) and on actuals before their issue — changing
  another future slot changes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import greenopt
from greenopt.errors import ForecastError, ScenarioError
from greenopt.forecasts import (
    FORECASTERS,
    SIGNALS,
    Forecasts,
    known_signals,
    make_forecasts,
    merge_forecasts,
    oracle_forecasts,
    persistence_forecasts,
    scenario_with_signals,
)
from greenopt.forecasts.forecasters import slots_per_day
from greenopt.forecasts.resample import samples_to_slots
from greenopt.scenario import Horizon
from greenopt.scenario.resample import resample_to_horizon
from tests.forecast_helpers import START, random_scenario, scenario

PROPERTY = settings(max_examples=100, derandomize=True, deadline=None)


def issued(sc, times, **values) -> Forecasts:
    return Forecasts(sc.horizon, sc.index.site_names, pd.DatetimeIndex(times), values)


def at(hours: float) -> pd.Timestamp:
    return START + pd.Timedelta(hours=hours)


# -- Forecasts and as_of --------------------------------------------------------------------
def test_as_of_takes_the_latest_issue_per_slot_and_ignores_later_ones():
    sc = scenario(np.zeros((1, 6)), np.full((1, 6), 100.0))
    a = np.full((3, 1, 6), np.nan)
    a[0, 0, :] = [1, 2, 3, 4, 5, 6]  # issued at 00:00 for the whole day
    a[1, 0, 2:4] = [30, 40]  # issued at 01:30 (informs slot 2 on) for slots 2-3 only
    a[2, 0, 5] = 600  # issued at 04:00 for slot 5
    fc = issued(sc, [at(0), at(1.5), at(4)], carbon=a)
    assert fc.issue_slots.tolist() == [0, 2, 4]
    np.testing.assert_array_equal(fc.as_of(0)["carbon"][0], [1, 2, 3, 4, 5, 6])
    # at slot 1 the 01:30 issue is not out yet
    np.testing.assert_array_equal(fc.as_of(1)["carbon"][0], [np.nan, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(fc.as_of(2)["carbon"][0], [np.nan, np.nan, 30, 40, 5, 6])
    np.testing.assert_array_equal(fc.as_of(4)["carbon"][0], [np.nan] * 4 + [5, 600])
    assert "renewable_kw" not in fc.as_of(3)


def test_known_signals_is_actuals_before_k_and_forecasts_from_k():
    sc = random_scenario(np.random.default_rng(1), 2, 8)
    fc = oracle_forecasts(sc)
    fake = {s: np.where(np.isfinite(a), a + 1000, np.nan) for s, a in fc.values.items()}
    fc = Forecasts(sc.horizon, fc.sites, fc.issue_times, fake)
    for k in (0, 3, 8):
        ks = known_signals(sc, fc, k)
        assert ks.k == k
        for s in SIGNALS:
            actual = getattr(sc.index, s)
            np.testing.assert_array_equal(ks[s][:, :k], actual[:, :k])
            np.testing.assert_array_equal(ks[s][:, k:], actual[:, k:] + 1000)
            assert not ks[s].flags.writeable


def test_known_signals_fallback_and_the_error_naming_what_is_missing():
    sc = scenario(np.zeros((2, 4)), np.full((2, 4), 100.0), names=["oslo", "rome"])
    a = np.full((1, 2, 4), np.nan)
    a[0, :, :2] = 50.0
    full = np.ones((1, 2, 4))
    fc = issued(sc, [at(0)], carbon=a, renewable_kw=full, price=full)
    with pytest.raises(ForecastError, match=r"'carbon' at site 'oslo'.*02:00") as err:
        known_signals(sc, fc, 0)
    assert err.value.culprit == "oslo"
    ks = known_signals(sc, fc, 0, fallback=persistence_forecasts(sc))
    np.testing.assert_array_equal(ks.carbon[:, :2], 50.0)
    np.testing.assert_array_equal(ks.carbon[:, 2:], 100.0)  # persistence of slot 0's actual
    with pytest.raises(ForecastError, match="renewable_kw"):
        known_signals(sc, issued(sc, [at(0)], carbon=a), 1)  # renewable is not forecast
    assert known_signals(sc, fc, 4).carbon.tolist() == sc.index.carbon.tolist()  # all past


@pytest.mark.parametrize("k", [-1, 5, 1.0, True, "2"])
def test_known_signals_refuses_a_bad_slot(k):
    sc = scenario(np.zeros((1, 4)), np.full((1, 4), 100.0))
    with pytest.raises(ForecastError, match="decision slot k"):
        known_signals(sc, oracle_forecasts(sc), k)


def test_known_signals_refuses_forecasts_of_another_scenario():
    sc = scenario(np.zeros((2, 4)), np.full((2, 4), 100.0), names=["a", "b"])
    other = scenario(np.zeros((2, 4)), np.full((2, 4), 100.0), names=["b", "a"])
    with pytest.raises(ForecastError, match="not aligned"):
        known_signals(sc, oracle_forecasts(other), 0)


def test_issue_slot_is_the_first_slot_starting_at_or_after_the_issue():
    sc = scenario(np.zeros((1, 6)), np.full((1, 6), 100.0), slot_minutes=60)
    a = np.full((4, 1, 6), np.nan)
    a[:, 0, 5] = 1.0
    fc = issued(sc, [at(-3), at(0), at(2), at(2.01)], carbon=a)
    assert fc.issue_slots.tolist() == [0, 0, 2, 3]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"signal": "wind"}, "unknown signal 'wind'"),
        ({"shape": (1, 1, 5)}, r"shape \(1, 1, 5\)"),
        ({"value": -1.0}, r"'carbon' at site 'site0' issued at 2023-06-21T00:00:00\+00:00.*02:00"),
        ({"value": np.inf}, "finite"),
        ({"early": True}, r"slot starting 2023-06-21T00:00:00\+00:00, which starts before"),
        ({"times": ["2023-06-21T00:00", "2023-06-21T00:00"]}, "timezone-aware"),
        ({"times": [at(0), at(0)]}, "appears twice"),
        ({"times": [at(0), at(7)]}, "at or after the horizon's end"),
    ],
)
def test_malformed_forecasts_are_refused_naming_the_culprit(change, match):
    sc = scenario(np.zeros((1, 6)), np.full((1, 6), 100.0))
    times = change.get("times", [at(0), at(1)])
    a = np.full(change.get("shape", (2, 1, 6)), np.nan)
    if "value" in change:
        a[0, 0, 2] = change["value"]
    if change.get("early"):
        a[1, 0, 0] = 5.0
    with pytest.raises(ForecastError, match=match):
        signal = change.get("signal", "carbon")
        Forecasts(sc.horizon, ("site0",), pd.DatetimeIndex(times), {signal: a})


def test_history_is_validated_and_negative_prices_are_allowed():
    sc = scenario(np.zeros((1, 4)), np.full((1, 4), 100.0))
    with pytest.raises(ForecastError, match=r"history of 'carbon' at site 'site0'.*2023-06-20T23"):
        Forecasts.empty(sc.horizon, ["site0"], history={"carbon": [[1.0, -2.0]]})
    with pytest.raises(ForecastError, match="expected"):
        Forecasts.empty(sc.horizon, ["site0"], history={"carbon": [1.0, 2.0]})
    Forecasts.empty(sc.horizon, ["site0"], history={"price": [[-5.0, np.nan]]})  # fine


def test_a_scenario_carries_forecasts_aligned_to_its_sites():
    base = scenario(np.zeros((2, 4)), np.full((2, 4), 100.0), names=["oslo", "rome"])
    a = np.full((1, 2, 4), np.nan)
    a[0, 0] = 10.0  # rome
    fc = Forecasts(base.horizon, ("rome", "oslo"), pd.DatetimeIndex([at(0)]), {"carbon": a})
    sc = base.with_jobs([], forecasts=fc)
    assert sc.forecasts.sites == ("oslo", "rome")
    np.testing.assert_array_equal(sc.forecasts.values["carbon"][0, 1], 10.0)
    assert sc == base.with_jobs([], forecasts=fc) and sc != base
    only_rome = Forecasts(base.horizon, ("rome",), pd.DatetimeIndex([at(0)]), {"carbon": a[:, :1]})
    padded = base.with_jobs([], forecasts=only_rome).forecasts
    assert np.isnan(padded.values["carbon"][0, 0]).all()
    alien = Forecasts(base.horizon, ("paris",), pd.DatetimeIndex([at(0)]), {"carbon": a[:, :1]})
    with pytest.raises(ScenarioError, match="site 'paris'") as err:
        base.with_jobs([], forecasts=alien)
    assert err.value.culprit == "paris"
    other = Horizon(start=START, slot_minutes=30, slots=8)
    with pytest.raises(ScenarioError, match="horizon"):
        base.with_jobs([], forecasts=Forecasts.empty(other, ["oslo", "rome"]))
    with pytest.raises(ScenarioError, match=r"greenopt\.forecasts\.Forecasts"):
        base.with_jobs([], forecasts={"carbon": 1})


def test_merge_forecasts_unites_signals_and_refuses_a_signal_given_twice():
    sc = random_scenario(np.random.default_rng(2), 2, 6)
    p = persistence_forecasts(sc, issue_slots=[0, 2])
    o = oracle_forecasts(sc, issue_slots=[1])
    carbon = Forecasts(sc.horizon, p.sites, p.issue_times, {"carbon": p.values["carbon"]})
    solar = Forecasts(
        sc.horizon, o.sites, o.issue_times, {"renewable_kw": o.values["renewable_kw"]}
    )
    both = merge_forecasts(carbon, solar)
    assert len(both.issue_times) == 3
    np.testing.assert_array_equal(both.as_of(2)["carbon"], p.as_of(2)["carbon"])
    np.testing.assert_array_equal(both.as_of(2)["renewable_kw"], o.as_of(2)["renewable_kw"])
    with pytest.raises(ForecastError, match="come from two"):
        merge_forecasts(carbon, p)


# -- persistence by hand -----------------------------------------------------------------------
def two_days(history: bool = False):
    T = 48
    carbon = np.arange(100.0, 100.0 + T)[None, :]  # slot t has carbon 100 + t
    hist = {"carbon": np.arange(50.0, 74.0)[None, :]} if history else None  # slot -24+h: 50+h
    return scenario(np.zeros((1, T)), carbon), hist


def test_persistence_predicts_the_day_before_else_the_latest_known():
    sc, _ = two_days()
    fc = persistence_forecasts(sc)
    c = lambda t: 100.0 + t  # noqa: E731
    at30 = fc.as_of(30)["carbon"][0]
    np.testing.assert_array_equal(at30[30:], [c(t - 24) for t in range(30, 48)])
    at5 = fc.as_of(5)["carbon"][0]
    # day before known only for slots 24..28; 5..23 have no day before; 29..47: one day
    # earlier is not known yet at slot 5 and two days earlier is not in the data
    expected = [c(4)] * 19 + [c(t - 24) for t in range(24, 29)] + [c(4)] * 19
    np.testing.assert_array_equal(at5[5:], expected)
    assert np.isnan(at5[:5]).all()
    # the very first decision, nothing known: the first slot's actual counts as observed
    np.testing.assert_array_equal(fc.as_of(0)["carbon"][0], [c(0)] * 48)


def test_persistence_reads_the_history_for_the_day_before():
    sc, hist = two_days(history=True)
    fc = persistence_forecasts(sc, history=hist)
    h = lambda t: 50.0 + t  # history slot t - 24 (t in 0..23)  # noqa: E731
    at5 = fc.as_of(5)["carbon"][0]
    expected = [h(t) for t in range(5, 24)] + [100.0 + t - 24 for t in range(24, 29)]
    expected += [h(t - 24) for t in range(29, 48)]  # two days earlier, in the history
    np.testing.assert_array_equal(at5[5:], expected)
    np.testing.assert_array_equal(fc.as_of(0)["carbon"][0], [h(t % 24) for t in range(48)])
    # an unknown (NaN) day before falls back to the latest known actual
    hist["carbon"][0, 10] = np.nan
    fc = persistence_forecasts(sc, history=hist)
    assert fc.as_of(3)["carbon"][0, 10] == 102.0
    assert fc.as_of(0)["carbon"][0, 10] == h(23)  # latest known at 0: the history's last
    assert fc.history["carbon"].shape == (1, 24)


def test_persistence_takes_the_scenarios_history():
    sc, hist = two_days(history=True)
    carried = sc.with_jobs([], forecasts=Forecasts.empty(sc.horizon, ["site0"], history=hist))
    assert persistence_forecasts(carried) == persistence_forecasts(sc, history=hist)


@pytest.mark.parametrize(
    "minutes, lag",
    [(60, 24), (5, 288), (7, 206), (64, 23), (960, 2), (1000, 1), (2880, 1), (5000, 1)],
)
def test_persistence_lags_by_the_whole_number_of_slots_nearest_a_day(minutes, lag):
    # 7-minute slots: 205.7 a day, so 206 (1442 minutes); 64: 22.5, a tie, the longer lag;
    # slots of a day or more: the slot before
    assert slots_per_day(Horizon(start=START, slot_minutes=minutes, slots=3)) == lag


def test_persistence_with_slots_that_do_not_divide_a_day_takes_the_nearest_slot():
    T = 250  # 7-minute slots: 29 h 10 min
    carbon = np.arange(100.0, 100.0 + T)[None, :]  # slot t has carbon 100 + t
    odd = scenario(np.zeros((1, T)), carbon, slot_minutes=7)
    fc = persistence_forecasts(odd)
    at230 = fc.as_of(230)["carbon"][0]
    np.testing.assert_array_equal(at230[230:], [100.0 + t - 206 for t in range(230, T)])
    at5 = fc.as_of(5)["carbon"][0]
    # one lag earlier is known for slots 206..210; the others take the latest known, slot 4
    expected = [100.0 + t - 206 if 206 <= t < 211 else 104.0 for t in range(5, T)]
    np.testing.assert_array_equal(at5[5:], expected)
    # operate() runs on such slots with persistence (it refused them before)
    sites = odd.sites
    day = greenopt.Scenario(
        name="odd",
        horizon=odd.horizon,
        sites=sites,
        jobs=[
            greenopt.Job(
                name="j",
                origin=sites[0].name,
                release=START,
                deadline=START + pd.Timedelta(minutes=7 * T),
                work_h=1.0,
                gpus=1,
                power_kw=1.0,
                state_gb=1.0,
            )
        ],
    )
    op = greenopt.operate(day, "greedy", forecast="persistence", replan_every=25)
    assert greenopt.validate(day, op.plan) == []
    assert op.plan.kpis["unmet_work_h"] == pytest.approx(0.0, abs=1e-6)


# -- the forecaster registry -------------------------------------------------------------------
def test_registry_by_name_and_its_errors():
    sc = random_scenario(np.random.default_rng(3), 2, 6)
    assert set(FORECASTERS) == {"oracle", "persistence", "error-model", "scenario"}
    assert make_forecasts(sc, "oracle") == oracle_forecasts(sc)
    assert make_forecasts(sc, "persistence") == persistence_forecasts(sc)
    assert make_forecasts(sc, "error-model", seed=4) == make_forecasts(sc, "error-model", seed=4)
    assert make_forecasts(sc, "error-model", seed=4) != make_forecasts(sc, "error-model", seed=5)
    with pytest.raises(ForecastError, match="unknown forecaster 'psychic'") as err:
        make_forecasts(sc, "psychic")
    assert err.value.culprit == "psychic"
    with pytest.raises(ForecastError, match="carries no forecasts"):
        make_forecasts(sc, "scenario")
    with pytest.raises(ForecastError, match="issue_slots"):
        make_forecasts(sc, "oracle", issue_slots=[6])
    day_ahead = make_forecasts(sc, "persistence", issue_slots=[0])
    assert len(day_ahead.issue_times) == 1
    ks = known_signals(sc, day_ahead, 4)  # the one day-ahead issue still informs slot 4
    np.testing.assert_array_equal(ks.carbon[:, 4:], day_ahead.as_of(0)["carbon"][:, 4:])


def test_scenario_forecasts_are_completed_by_persistence_where_they_say_nothing():
    sc = random_scenario(np.random.default_rng(4), 2, 6)
    a = np.full((2, 2, 6), np.nan)
    a[0, :, 0:2] = 7.0  # issued at 00:00, for the first two hours
    a[1, 0, 3] = 9.0  # issued at 02:30, for slot 3 of site0
    carried = Forecasts(
        sc.horizon, sc.index.site_names, pd.DatetimeIndex([at(0), at(2.5)]), {"carbon": a}
    )
    sc = sc.with_jobs([], forecasts=carried)
    fc = make_forecasts(sc, "scenario")
    assert fc == make_forecasts(sc, carried)
    pers = persistence_forecasts(sc)
    c0 = fc.as_of(0)["carbon"]
    np.testing.assert_array_equal(c0[:, :2], 7.0)
    np.testing.assert_array_equal(c0[:, 2:], pers.as_of(0)["carbon"][:, 2:])
    c3 = fc.as_of(3)["carbon"]
    assert c3[0, 3] == 9.0 and c3[1, 3] == pers.as_of(3)["carbon"][1, 3]
    np.testing.assert_array_equal(fc.as_of(3)["renewable_kw"], pers.as_of(3)["renewable_kw"])
    known_signals(sc, fc, 3)  # complete: no error


def test_scenario_with_signals_plans_on_what_is_known():
    sc = greenopt.examples.load("small")
    fc = make_forecasts(sc, "error-model", seed=1)
    seen = scenario_with_signals(sc, known_signals(sc, fc, 6))
    np.testing.assert_array_equal(seen.index.carbon, known_signals(sc, fc, 6).carbon)
    assert seen.jobs == sc.jobs
    plan = greenopt.plan(seen, method="greedy")
    assert greenopt.validate(seen, plan) == []


# -- non-anticipation (hypothesis) ---------------------------------------------------------------
@st.composite
def worlds(draw):
    """A scenario, another one that differs only from slot ``k`` on, and ``k``."""
    S = draw(st.integers(1, 3))
    T = draw(st.integers(1, 30))
    slot_minutes = draw(st.sampled_from([15, 30, 60, 120, 240]))
    seed = draw(st.integers(0, 2**32 - 1))
    k = draw(st.integers(0, T))
    rng = np.random.default_rng(seed)
    a = random_scenario(rng, S, T, slot_minutes)
    other = random_scenario(rng, S, T, slot_minutes)
    mixed = {}
    for s in SIGNALS:
        x = getattr(a.index, s).copy()
        x[:, k:] = getattr(other.index, s)[:, k:]
        mixed[s] = x
    b = scenario(mixed["renewable_kw"], mixed["carbon"], mixed["price"], slot_minutes=slot_minutes)
    hist = {s: rng.uniform(0, 300, (S, int(rng.integers(0, 2 * T + 1)))) for s in SIGNALS}
    return a, b, k, hist


@PROPERTY
@given(worlds())
def test_known_signals_never_reads_actuals_from_k_on(world):
    a, b, k, hist = world
    for fc in (oracle_forecasts(a), persistence_forecasts(a, history=hist)):
        fc_b = Forecasts(b.horizon, fc.sites, fc.issue_times, fc.values, fc.history)
        left, right = known_signals(a, fc, k), known_signals(b, fc_b, k)
        for s in SIGNALS:
            np.testing.assert_array_equal(left[s], right[s])


@PROPERTY
@given(worlds())
def test_persistence_issued_up_to_k_never_reads_actuals_from_k_on(world):
    a, b, k, hist = world
    ks = np.arange(min(k, a.horizon.slots - 1) + 1) if k else np.array([0])
    pa = persistence_forecasts(a, history=hist, issue_slots=ks)
    pb = persistence_forecasts(b, history=hist, issue_slots=ks)
    first_known = all(h.shape[1] for h in hist.values())
    for s in SIGNALS:
        x, y = pa.values[s], pb.values[s]
        if k == 0 and not first_known:  # MODEL.md §11: the first slot's actual counts as observed
            continue
        np.testing.assert_array_equal(x, y)


@PROPERTY
@given(worlds(), st.integers(0, 2**16))
def test_error_model_forecast_of_a_slot_reads_no_other_future_actual(world, seed):
    a, _, k, hist = world
    T = a.horizon.slots
    if k >= T:
        return
    # change one future slot p > k only
    p = T - 1
    if p <= k:
        return
    rng = np.random.default_rng(seed)
    changed = {s: getattr(a.index, s).copy() for s in SIGNALS}
    for s in SIGNALS:
        changed[s][:, p] = rng.uniform(1, 100, len(a.sites))
    b = scenario(
        changed["renewable_kw"],
        changed["carbon"],
        changed["price"],
        slot_minutes=a.horizon.slot_minutes,
    )
    ks = np.arange(k + 1)
    fa = make_forecasts(a, "error-model", seed=seed, history=hist, issue_slots=ks)
    fb = make_forecasts(b, "error-model", seed=seed, history=hist, issue_slots=ks)
    for s in SIGNALS:
        keep = np.ones(T, dtype=bool)
        keep[p] = False
        np.testing.assert_array_equal(fa.values[s][:, :, keep], fb.values[s][:, :, keep])


def test_every_forecaster_stays_physical():
    sc = random_scenario(np.random.default_rng(5), 3, 24)
    for name in ("oracle", "persistence", "error-model"):
        fc = make_forecasts(sc, name, seed=2)
        for s in ("renewable_kw", "carbon"):
            v = fc.values[s]
            assert np.all(v[np.isfinite(v)] >= 0), (name, s)


# -- resampling forecast samples: the rule of actuals --------------------------------------
@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([5, 10, 15, 20, 60, 90]),
    st.sampled_from([15, 30, 60]),
)
def test_samples_resample_like_actuals_where_they_cover(seed, step_min, slot_min):
    rng = np.random.default_rng(seed)
    T = 8
    n = (T * slot_min) // step_min + 2
    times = START + pd.to_timedelta(np.arange(n) * step_min, unit="min")
    values = rng.uniform(0, 100, n)
    horizon = Horizon(start=START, slot_minutes=slot_min, slots=T)
    want = resample_to_horizon(pd.Series(values, index=times), horizon)
    t_h = np.arange(n) * step_min / 60.0
    got = samples_to_slots(t_h, values, T, horizon.dt_h)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_samples_leave_uncovered_slots_open():
    # hourly slots; samples every 15 min from 00:30 to 02:45 with a gap at 01:30-02:00
    t_h = np.array([0.5, 0.75, 1.0, 1.25, 2.0, 2.25, 2.5, 2.75])
    v = np.arange(8.0)
    out = samples_to_slots(t_h, v, 4, 1.0)
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isnan(out[3])
    assert out[2] == pytest.approx(np.mean(v[4:]))
    assert samples_to_slots(np.array([1.0]), np.array([3.0]), 3, 1.0)[1] == 3.0
    assert np.isnan(samples_to_slots(np.array([1.0, 2.0]), np.array([3.0, np.nan]), 3, 1.0)[2])
