"""The LP-guided greedy (greenopt.heuristics.guided): valid, never worse than the plain greedy,
off with guide=False, deterministic, and better where the greedy's job order misleads it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from heuristics_helpers import flat, job, sites_of, two_sites

import greenopt
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.greedy import plan_greedy
from greenopt.heuristics.guided import (
    GUIDE_MAX_JOBS,
    VARIANTS,
    guided_state,
    solve_guide,
    variants_for,
)
from greenopt.options import PlanOptions
from greenopt.plan import canonical_scenario


def _valid(sc, plan):
    v = greenopt.validate(sc, plan)
    assert v == [], [str(x) for x in v[:5]]


def _rows(plan) -> pd.DataFrame:
    a = plan.assignments[["job", "slot", "site", "share"]]
    return a.sort_values(["job", "slot"]).reset_index(drop=True)


@pytest.mark.parametrize(
    "kw",
    [
        {"seed": 0},
        {"seed": 1, "headroom": 0.9},
        {"seed": 2, "non_preemptible": 0.6, "grid_limit": True},
        {"seed": 3, "non_migratable": 0.7, "residency": 0.7},
        {"seed": 4, "headroom": 0.9, "non_preemptible": 0.3, "non_migratable": 0.3},
    ],
)
@pytest.mark.parametrize("objective", ["carbon", "cost"])
def test_guided_plans_are_valid_and_never_worse_than_the_plain_greedy(kw, objective):
    kw = dict(kw)
    seed = kw.pop("seed")
    sc = synthetic_scenario(20, 3, 16, seed, **kw)
    plain = greenopt.plan(sc, method="greedy", objective=objective, guide=False)
    guided = greenopt.plan(sc, method="greedy", objective=objective, guide=True)
    _valid(sc, plain)
    _valid(sc, guided)
    assert guided.kpis["unmet_work_h"] <= plain.kpis["unmet_work_h"] + 1e-6
    if guided.kpis["unmet_work_h"] >= plain.kpis["unmet_work_h"] - 1e-6:
        assert guided.objective <= plain.objective + 1e-9
    # the default on a small day is the guided one
    default = greenopt.plan(sc, method="greedy", objective=objective)
    pd.testing.assert_frame_equal(_rows(default), _rows(guided))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_variant_alone_gives_a_valid_plan(seed):
    # each variant's state, unpolished by the best-of choice, obeys every rule (dwell included)
    sc = canonical_scenario(synthetic_scenario(20, 3, 16, seed, non_preemptible=0.3))
    guide = solve_guide(sc, "carbon", "soft")
    assert guide is not None
    from greenopt.heuristics.greedy import GreedySettings

    for variant in VARIANTS:
        st = guided_state(sc, "carbon", GreedySettings(), guide, variant)
        p = greenopt.evaluate(sc, st.assignments(), objective="carbon")
        _valid(sc, p)
        assert p.objective >= guide.bound - 1e-6 * max(1.0, abs(guide.bound))


def test_guide_false_is_exactly_the_plain_greedy():
    sc = synthetic_scenario(30, 4, 16, 7)
    off = greenopt.plan(sc, method="greedy", guide=False)
    plain = plan_greedy(canonical_scenario(sc), PlanOptions.from_call("greedy"))
    pd.testing.assert_frame_equal(_rows(off), _rows(plain))
    assert off.objective == plain.objective


def test_guided_greedy_is_deterministic():
    sc = synthetic_scenario(30, 4, 16, 5)
    a = greenopt.plan(sc, method="greedy", guide=True)
    b = greenopt.plan(sc, method="greedy", guide=True)
    pd.testing.assert_frame_equal(_rows(a), _rows(b))
    assert a.objective == b.objective


def test_guidance_gives_the_clean_site_to_the_job_that_gains_most():
    # one clean site with room for one job, two jobs of equal urgency: the greedy places the
    # low-power one first (name order) on the clean site, and no single-job move undoes it
    # (ejection moves off). The LP's capacity dual prices the clean GPUs above what the
    # low-power job saves there, so the guided run sends it to the dirty site instead.
    T = 3
    sc = two_sites(
        flat(10.0, T),
        flat(500.0, T),
        gpus=(4, 8),
        jobs=[
            job("first", release=0, deadline=3, work=3.0, gpus=4, power_kw=0.5),
            job("second", release=0, deadline=3, work=3.0, gpus=4, power_kw=5.0),
        ],
    )
    plain = greenopt.plan(sc, method="greedy", eject=0, guide=False)
    guided = greenopt.plan(sc, method="greedy", eject=0, guide=True)
    _valid(sc, guided)
    assert sites_of(plain, "first") == ["a"] * 3
    assert sites_of(guided, "second") == ["a"] * 3
    assert sites_of(guided, "first") == ["b"] * 3
    assert guided.objective < 0.2 * plain.objective
    assert any("LP-guided greedy" in n for n in guided.notes)


def test_variants_by_size():
    assert variants_for(0) == ()
    assert len(variants_for(100)) == len(VARIANTS)
    assert len(variants_for(300)) == 2
    assert len(variants_for(500)) == 1
    assert len(variants_for(GUIDE_MAX_JOBS)) == 1
    assert variants_for(GUIDE_MAX_JOBS + 1) == ()
    assert len(variants_for(GUIDE_MAX_JOBS + 1, force=True)) == 1


def test_hard_deadlines_and_an_idle_day():
    sc = two_sites(
        flat(10.0, 4), flat(500.0, 4), gpus=(4, 8), jobs=[job("j", deadline=4, work=2.0)]
    )
    p = greenopt.plan(sc, method="greedy", deadlines="hard", guide=True)
    _valid(sc, p)
    assert p.kpis["deadline_misses"] == 0
    idle = two_sites(flat(10.0, 4), flat(500.0, 4))
    q = greenopt.plan(idle, method="greedy", guide=True)
    _valid(idle, q)
    assert len(q.assignments) == 0


def _fleet_scale(monkeypatch, sc) -> list[int | None]:
    """Make ``sc`` count as above GUIDE_MAX_COLS (its guide by column generation, as at fleet
    size); returns the list to which each column generation appends its ``max_rounds``."""
    import greenopt.heuristics.guided as guided
    import greenopt.solvers.colgen as colgen

    monkeypatch.setattr(guided, "GUIDE_MAX_COLS", guided.guide_columns(sc) - 1)
    monkeypatch.setattr(guided, "COLGEN_MIN_COLS", 0)
    rounds: list[int | None] = []
    real = colgen.solve_by_columns

    def spy(*args, **kwargs):
        rounds.append(kwargs.get("max_rounds"))
        return real(*args, **kwargs)

    monkeypatch.setattr(colgen, "solve_by_columns", spy)
    return rounds


def test_above_the_column_limit_the_default_is_steered_by_the_first_restricted_master(monkeypatch):
    # 1000 x 15 x 96 (308,146 columns): the guide LP did not converge in 60 s, so the default
    # kept the plain plan; one round of column generation (the first restricted master) steers
    # it from 1035.5 to 857.3 in ~14 s. guide=True asks the same; guide=False the plain plan
    sc = synthetic_scenario(30, 3, 16, 4)
    rounds = _fleet_scale(monkeypatch, sc)
    default = greenopt.plan(sc, method="greedy")
    forced = greenopt.plan(sc, method="greedy", guide=True)
    assert rounds == [1, 1]
    assert default.assignments.equals(forced.assignments)
    for p in (default, forced):
        assert not any("not solved" in n for n in p.notes)  # it did guide
        _valid(sc, p)
    plain = greenopt.plan(sc, method="greedy", guide=False)
    assert rounds == [1, 1]  # guide=False: no LP
    assert default.no_worse_than(plain)


def test_a_first_master_estimated_too_long_is_skipped_by_default(monkeypatch):
    # 1000 jobs x 50 sites x 288 slots: the first master is estimated at ~44 s (by its columns),
    # beyond GUIDE_MASTER_SECONDS: the default keeps the plain plan at once and says why;
    # guide=True still solves it
    import greenopt.heuristics.guided as guided

    sc = synthetic_scenario(30, 3, 16, 4)
    rounds = _fleet_scale(monkeypatch, sc)
    monkeypatch.setattr(guided, "GUIDE_MASTER_SECONDS", 1e-9)
    default = greenopt.plan(sc, method="greedy")
    assert rounds == []
    assert any("first restricted master would take" in n for n in default.notes)
    plain = greenopt.plan(sc, method="greedy", guide=False)
    assert default.assignments.equals(plain.assignments)
    forced = greenopt.plan(sc, method="greedy", guide=True)
    assert rounds == [1]
    _valid(sc, forced)


def test_the_guide_lp_is_estimated_against_the_memory_budget_before_it_is_built():
    # the guide LP spans every reachable site (1000 jobs x 100 sites x 96 slots: 2.1 GB peak
    # against 0.4 GB for the plain greedy): over the budget the default keeps the plain plan
    # and says why; guide=True is a SizeError naming it, before anything is built
    from greenopt.errors import SizeError
    from greenopt.limits import relaxation_estimate, scenario_estimate

    sc = synthetic_scenario(30, 3, 16, 4)
    idx = sc.index
    low = scenario_estimate(len(idx.job_names), len(idx.site_names), idx.T).bytes
    high = relaxation_estimate(sc).bytes
    assert low < high
    budget = (low + high) // 2
    default = greenopt.plan(sc, method="greedy", memory_budget=budget)
    assert any("LP guide skipped: it would need" in n for n in default.notes)
    plain = greenopt.plan(sc, method="greedy", guide=False)
    assert default.assignments.equals(plain.assignments)
    with pytest.raises(SizeError, match="guide LP"):
        greenopt.plan(sc, method="greedy", guide=True, memory_budget=budget)
    guided = greenopt.plan(sc, method="greedy", memory_budget=high * 2)
    assert not any("LP guide skipped" in n for n in guided.notes)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_widened_guide_steers_by_both_supports_and_keeps_the_better_plan(seed):
    """with_schedules (the huge day's guided start): the guide keeps its own run shares and gets
    a wider support — its shares plus each job's Lagrangian schedule — and best_guided steers
    the greedy by each in turn: its plan is the better of the two, named for the support that
    won, and valid."""
    from dataclasses import replace

    from greenopt.heuristics.greedy import GreedySettings
    from greenopt.heuristics.guided import best_guided, with_schedules
    from greenopt.milp.relaxation import solve_relaxation
    from greenopt.milp.schedules import priced_schedules
    from greenopt.objectives import Objective

    sc = canonical_scenario(synthetic_scenario(40, 4, 24, seed, headroom=0.9))
    opts = PlanOptions.from_call("greedy")
    obj = Objective.of("carbon")
    relax = solve_relaxation(sc, obj, "soft", PlanOptions(threads=1), False, None, guide=True)
    guide = relax.guide
    bound, schedules, _, _ = priced_schedules(sc, obj, "soft", relax.duals)
    assert schedules
    wide = with_schedules(guide, schedules, bound)
    assert wide.x is guide.x and wide.widened is not None  # its own support is kept
    assert wide.bound == max(bound, guide.bound)
    own, more = guide.x > 1e-9, wide.widened > 1e-9
    assert np.all(more[own]) and more.sum() >= own.sum()
    for sch in schedules:  # each Lagrangian schedule is inside the wider support
        assert np.all(more[sch.job, sch.sites, sch.slots])
    plain = plan_greedy(sc, opts)
    settings = GreedySettings()
    runs = [
        best_guided(sc, opts, g, VARIANTS[:1], settings, plain, 0.0)
        for g in (guide, replace(guide, x=wide.widened), wide)
    ]
    (by_own, _), (by_wide, _), (both, name) = runs
    _valid(sc, both)
    better = by_own if by_own.no_worse_than(by_wide) else by_wide
    assert both.objective == pytest.approx(better.objective, rel=1e-12)
    if by_wide.objective < by_own.objective - 1e-9:
        assert name is not None and name.endswith("Lagrangian schedules")
    elif name is not None:
        assert not name.endswith("Lagrangian schedules")
