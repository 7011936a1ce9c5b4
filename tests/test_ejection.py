"""Ejection moves of the greedy (greenopt.heuristics.ejection): the swap single-job moves miss."""

from __future__ import annotations

import pytest
from heuristics_helpers import job, sites_of, two_sites
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenopt
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.ejection import ejection_moves
from greenopt.heuristics.greedy import GreedySettings, greedy_state, place_job, urgency_order


def _contested():
    """Site ``a`` (a clean grid, 10 g/kWh) has GPUs for one of two jobs at a time; site ``b``
    (500 g/kWh, the origin) has renewable power covering 90 % of the small job ``fit``. Both
    jobs must run in slots 0–1 (no slack; ``fit`` is first in urgency order, by name). ``fit``
    prefers the clean grid (10 against 0.1 · 500 g per kWh), so the greedy gives it ``a`` and
    the big job ``hog`` runs on ``b``'s grid; the optimum is the swap: ``hog`` on the clean
    grid, ``fit`` on the renewable site.
    """
    kw = {"origin": "b", "release": 0, "deadline": 2, "work": 2.0, "gpus": 4, "state_gb": 0.0}
    jobs = [job("fit", power_kw=1.0, **kw), job("hog", power_kw=10.0, **kw)]
    return two_sites([10.0] * 2, [500.0] * 2, None, [0.9] * 2, jobs, gpus=(4, 4))


def test_ejection_finds_the_swap_onto_a_contested_clean_grid():
    sc = _contested()
    plain = greenopt.plan(sc, method="greedy", guide=False, objective="carbon", eject=0, passes=4)
    assert sites_of(plain, "fit") == ["a", "a"]  # the single-job passes cannot undo it
    p = greenopt.plan(
        sc, method="greedy", guide=False, objective="carbon"
    )  # small day: ejection on by default
    assert greenopt.validate(sc, p) == []
    assert sites_of(p, "hog") == ["a", "a"] and sites_of(p, "fit") == ["b", "b"]
    m = greenopt.plan(sc, method="milp", objective="carbon", mip_gap=0.0, time_limit=60)
    assert m.status in ("optimal", "feasible") and (m.gap or 0.0) <= 1e-6
    assert p.objective == pytest.approx(m.objective, rel=1e-6, abs=1e-9)
    assert p.objective < plain.objective - 1.0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    headroom=st.sampled_from([0.9, 1.2, 2.0]),
    grid_limit=st.booleans(),
    alpha=st.sampled_from([None, 0.1]),
)
def test_ejection_keeps_plans_valid_and_never_worse(seed, headroom, grid_limit, alpha):
    sc = synthetic_scenario(25, 3, 16, seed, headroom=headroom, grid_limit=grid_limit)
    sc = sc.model_copy(update={"migration_alpha": alpha})
    cfg = GreedySettings(eject=0, route=True).for_scenario(sc)
    state = greedy_state(sc, "carbon", cfg)
    before = greenopt.evaluate(sc, state.assignments(), method="greedy", objective="carbon")
    ejection_moves(state, urgency_order(sc), lambda s, j: place_job(s, j, 0, cfg), 400)
    after = greenopt.evaluate(sc, state.assignments(), method="greedy", objective="carbon")
    assert greenopt.validate(sc, after) == []
    # soft deadlines price unmet work-hours, not missed jobs: a move may finish more work yet
    # leave two jobs a little short where one was far short (seed 4096: misses 1 → 2, unmet
    # work and objective 7928 → 1295), so the invariant is no more unmet work
    assert after.kpis["unmet_work_h"] <= before.kpis["unmet_work_h"] + 1e-6
    assert after.objective <= before.objective + 1e-6 * max(1.0, abs(before.objective))


def test_ejection_is_repeatable_and_bounded_by_its_budget():
    sc = synthetic_scenario(40, 4, 24, 7)
    cfg = GreedySettings(eject=0).for_scenario(sc)
    plans = []
    for _ in range(2):
        state = greedy_state(sc, "carbon", cfg)
        place = lambda s, j: place_job(s, j, 0, cfg)  # noqa: E731
        _, spent = ejection_moves(state, urgency_order(sc), place, 50)
        assert spent <= 50 + 6 + 1  # a move in flight finishes (its blockers, at most 6)
        plans.append(state.assignments())
    assert plans[0].equals(plans[1])
