"""The greedy heuristic and the shared capacity state: valid plans, feasibility-domain moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from heuristics_helpers import flat, job, runs, sites_of, slots_of, two_sites
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as hst

import greenopt
import greenopt.heuristics.retime as retime_module
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.greedy import GreedySettings, greedy_assignments, urgency_order
from greenopt.heuristics.state import CapacityState, placement


def _valid(sc, plan):
    v = greenopt.validate(sc, plan)
    assert v == [], [str(x) for x in v[:5]]


@pytest.mark.parametrize("objective", ["carbon", "grid", "cost", "weighted"])
def test_greedy_valid_on_small_and_beats_run_now(objective):
    sc = greenopt.examples.load("small")
    p = greenopt.plan(sc, method="greedy", objective=objective)
    _valid(sc, p)
    assert p.kpis["deadline_misses"] == 0
    base = greenopt.plan(sc, method="run-now", objective=objective)
    assert p.objective <= base.objective + 1e-9


@pytest.mark.parametrize(
    "kw",
    [
        {"seed": 0},
        {"seed": 1, "headroom": 1.0},
        {"seed": 2, "non_preemptible": 0.6, "grid_limit": True},
        {"seed": 3, "non_migratable": 0.7, "residency": 0.7},
        {"seed": 4, "headroom": 0.9, "non_preemptible": 0.3, "non_migratable": 0.3},
    ],
)
def test_greedy_valid_on_random_instances(kw):
    sc = synthetic_scenario(80, 5, 32, **kw)
    p = greenopt.plan(sc, method="greedy", guide=False)
    _valid(sc, p)
    _valid(sc, greenopt.plan(sc, method="greedy", guide=False, domain=False, split=False))


def test_greedy_prefers_clean_slots_and_renewable():
    carbon = [500, 500, 100, 100, 500, 500]
    sc = two_sites(carbon, jobs=[job(release=0, deadline=6, work=2, gpus=4)])
    p = greenopt.plan(sc, method="greedy", guide=False)
    assert slots_of(p, "j") == [2, 3] and set(sites_of(p, "j")) == {"a"}


def test_greedy_moves_only_inside_the_feasibility_domain():
    ren_b = flat(40.0, 8)  # a long renewable window at b
    small = job("small", release=0, deadline=8, work=3, state_gb=10.0)
    sc = two_sites(flat(500, 8), flat(500, 8), None, ren_b, [small], gbps=10.0)
    p = greenopt.plan(sc, method="greedy", guide=False, domain=True)
    _valid(sc, p)
    assert set(sites_of(p, "small")) == {"b"}
    # 4000 GB over 10 Gbit/s = 0.89 h > α·W = 0.1·8 h: outside the domain, stays home
    # (physically the move fits: 0.89 h < Δh and the link carries 4500 GB per slot)
    big = job("big", release=0, deadline=8, work=3, state_gb=4000.0)
    sc = two_sites(flat(500, 8), flat(500, 8), None, ren_b, [big], gbps=10.0)
    p = greenopt.plan(sc, method="greedy", guide=False, domain=True)
    _valid(sc, p)
    assert set(sites_of(p, "big")) == {"a"}
    # with a larger budget α the same move is allowed
    p = greenopt.plan(sc, method="greedy", guide=False, domain=True, alpha=0.5)
    _valid(sc, p)
    assert "b" in set(sites_of(p, "big"))
    # the default leaves the domain out: the move pays (its stay at b finishes the job, so the
    # dwell rule holds) and it is made
    p = greenopt.plan(sc, method="greedy", guide=False)
    _valid(sc, p)
    assert "b" in set(sites_of(p, "big"))
    assert p.objective < greenopt.plan(sc, method="greedy", guide=False, domain=True).objective


def test_greedy_splits_work_between_origin_and_a_later_window():
    # a is clean early, b has renewable late; a job with a long window uses both
    carbon_a = [50, 50, 600, 600, 600, 600]
    ren_b = [0, 0, 0, 0, 40, 40]
    jb = job(release=0, deadline=6, work=4, gpus=4, state_gb=5.0)
    sc = two_sites(carbon_a, flat(600, 6), None, ren_b, [jb])
    p = greenopt.plan(sc, method="greedy", guide=False)
    _valid(sc, p)
    r = runs(p, "j").set_index("slot")
    assert list(r.loc[[0, 1], "site"]) == ["a", "a"] and list(r.loc[[4, 5], "site"]) == ["b", "b"]
    assert r.loc[[0, 1, 4, 5], "share"].sum() > 3.99  # only the move's seconds made up elsewhere
    assert p.kpis["migrations"] == 1 and int(p.migrations["slot"].iloc[0]) == 4


def test_greedy_reports_misses_instead_of_breaking_rules():
    jobs = [job(f"j{k}", release=0, deadline=2, work=2, gpus=8) for k in range(3)]
    sc = two_sites(flat(300, 4), jobs=jobs, gpus=(8, 8))
    p = greenopt.plan(sc, method="greedy", guide=False)
    _valid(sc, p)
    assert p.kpis["deadline_misses"] == 1
    with pytest.raises(greenopt.InfeasibleError):
        greenopt.plan(sc, method="greedy", guide=False, deadlines="hard")


def test_greedy_assignments_table_and_determinism():
    sc = synthetic_scenario(40, 4, 24, 5)
    a = greedy_assignments(sc, "carbon")
    assert list(a.columns) == ["job", "slot", "site", "share"]
    assert ((a["share"] > 0) & (a["share"] <= 1)).all()
    pd.testing.assert_frame_equal(a, greedy_assignments(sc, "carbon"))


def test_urgency_order_is_least_slack_first():
    jobs = [
        job("loose", release=0, deadline=8, work=1),
        job("tight", release=0, deadline=3, work=3),
        job("mid", release=0, deadline=6, work=3),
    ]
    sc = two_sites(flat(300, 8), jobs=jobs)
    names = [sc.index.job_names[j] for j in urgency_order(sc)]
    assert names == ["tight", "mid", "loose"]


def test_settings_from_params_ignore_unknown_keys():
    cfg = GreedySettings.from_params({"alpha": 0.2, "threshold": 5})
    assert cfg.alpha == 0.2 and cfg.domain is None  # the domain: by the day's size


# -- the shared state -------------------------------------------------------------------------
def test_state_check_rejects_each_broken_rule():
    jobs = [
        job("p", release=0, deadline=4, work=2, gpus=8),
        job("np", release=0, deadline=4, work=3, gpus=2, preemptible=False, migratable=False),
        job("big", release=0, deadline=4, work=1, gpus=2, state_gb=10000.0),
    ]
    sc = two_sites(flat(300, 4), jobs=jobs, gbps=1.0)
    st = CapacityState(sc)
    jp, jn, jb = (sc.index.job_pos[n] for n in ("p", "np", "big"))
    assert st.check(placement(jp, [0, 1], 0, [1, 1])) is None
    assert st.check(placement(jp, [3, 4], 0, [1, 1])) == "window"
    assert st.check(placement(jp, [0, 1, 2], 0, [1, 1, 1])) == "overrun"
    st.commit(placement(jp, [0, 1], 0, [1, 1]))
    assert st.gpu_left[0, 0] == 0 and st.gpu_left[0, 2] == 8
    assert st.check(placement(jn, [0], 0, [0.5])) == "capacity"
    assert st.check(placement(jn, [2, 3], [0, 1], [1, 1])) == "migratable"
    assert st.check(placement(jn, [1, 3], 1, [1, 1])) == "non_preemptible"
    assert st.check(placement(jb, [0], 1, [0.5])) == "disruption"
    with pytest.raises(greenopt.PlanError):
        st.commit(placement(jn, [0], 0, [0.5]))


def test_state_cost_uses_renewable_first_and_the_objective():
    sc = two_sites(flat(400, 2), ren_a=[2.8, 0.0], jobs=[job(release=0, deadline=2, work=1)])
    st = CapacityState(sc, "carbon")
    j = 0
    u = st.unmet * st.dt
    green = st.cost(placement(j, [0], 0, [1.0])) + u
    grey = st.cost(placement(j, [1], 0, [1.0])) + u
    lat = st.late_coef[j] * st.late_w[j]
    assert green == pytest.approx(lat[0])  # 2.8 kWh all renewable
    assert grey == pytest.approx(lat[1] + 2.8 * 400 / 1000)
    assert np.all(st.window_hours_rows(np.array([0]))[0] == [1.0, 0.0])


# -- LP re-timing (greenopt.heuristics.retime) -------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_retime_keeps_sites_and_is_never_worse(seed):
    from greenopt.formulations.solution import sites_used

    sc = synthetic_scenario(30, 4, 24, seed=seed)
    g = greenopt.plan(sc, method="greedy", guide=False, passes=2, retime=False)
    r = greenopt.plan(sc, method="greedy", guide=False, passes=2, retime=True)
    _valid(sc, r)
    assert r.kpis["unmet_work_h"] <= g.kpis["unmet_work_h"] + 1e-6
    assert r.objective <= g.objective + 1e-9
    # the greedy's moves stay, and its sites (a job may also run at its origin before its move)
    key = ["job", "slot", "src", "dst"]
    pd.testing.assert_frame_equal(r.migrations[key], g.migrations[key])
    origin = [sc.index.site_pos[j.origin] for j in sc.jobs]
    used_r, used_g = sites_used(sc, r.assignments), sites_used(sc, g.assignments)
    assert all(a <= b | {o} for a, b, o in zip(used_r, used_g, origin, strict=True))
    assert any(n.startswith("LP re-timing") for n in r.notes)


def test_retime_recovers_curtailed_renewable_on_a_known_instance():
    sc = synthetic_scenario(30, 4, 24, seed=1)
    g = greenopt.plan(sc, method="greedy", guide=False, passes=2, retime=False)
    r = greenopt.plan(sc, method="greedy", guide=False, passes=2, retime=True)
    best = greenopt.plan(sc, method="milp", mip_gap=0.01, time_limit=60)
    # measured: greedy 70.67, re-timed 66.78 (with the feasibility domain, opt-in since issue 15:
    # 73.43 and 67.33), optimum 65.80 (kg CO2; with and without the dwell rule). Any lower
    # bound serves: a 1 % gap's is found in seconds, proving 1e-6 took 20–60 s
    assert r.objective < g.objective - 0.05 * g.objective
    assert best.bound is not None and r.objective >= best.bound - 1e-6
    assert r.kpis["curtailed_kwh"] < g.kpis["curtailed_kwh"]


def test_retime_skips_a_model_above_its_column_limit():
    from greenopt.heuristics.retime import retime
    from greenopt.plan import PlanOptions

    sc = greenopt.examples.load("small")
    a = greedy_assignments(sc, "carbon")
    assert retime(sc, a, "carbon", "soft", PlanOptions(), max_columns=10) is None
    assert retime(sc, a, "carbon", "soft", PlanOptions()) is not None


def test_the_default_greedy_re_times_up_to_the_auto_limit_and_retime_true_up_to_the_max(
    monkeypatch,
):
    """retime left at None re-times a plan whose LP has at most RETIME_AUTO_COLUMNS columns
    (1000 x 15 x 96's 168,284 are re-timed now: 857.3 -> 828.7), retime=True up to
    RETIME_MAX_COLUMNS; a plan above the limit is kept, with a note saying so."""
    import greenopt.heuristics.greedy as greedy

    sc = greenopt.examples.load("small")
    base = greenopt.plan(sc, method="greedy", guide=False, retime=False)
    auto = greenopt.plan(sc, method="greedy", guide=False)
    assert any(n.startswith("LP re-timing") and "skipped" not in n for n in auto.notes)
    assert auto.objective <= base.objective + 1e-9
    monkeypatch.setattr(greedy, "RETIME_AUTO_COLUMNS", 10)  # the small day's LP is above it
    skipped = greenopt.plan(sc, method="greedy", guide=False)
    assert any("LP re-timing skipped" in n for n in skipped.notes)
    assert skipped.objective == pytest.approx(base.objective, rel=1e-12)
    asked = greenopt.plan(sc, method="greedy", guide=False, retime=True)  # up to the max
    assert asked.objective == pytest.approx(auto.objective, rel=1e-12)
    assert retime_module.RETIME_AUTO_COLUMNS <= retime_module.RETIME_MAX_COLUMNS


@pytest.mark.parametrize("objective", ["carbon", "cost", "weighted"])
@pytest.mark.parametrize("seed", [0, 3])
def test_state_value_is_the_objective_up_to_the_empty_plan(seed, objective):
    # value() sums every commit's marginal cost: its difference from the empty state's is the
    # evaluated objective's difference from the empty plan's, whatever the commits' order
    sc = synthetic_scenario(40, 4, 24, seed, grid_limit=bool(seed % 2))
    from greenopt.heuristics.greedy import greedy_state

    st = greedy_state(sc, objective, GreedySettings(passes=1))
    a = st.assignments()
    plan = greenopt.evaluate(sc, a, method="greedy", objective=objective)
    empty = greenopt.evaluate(sc, a.iloc[:0], method="greedy", objective=objective)
    got = st.value() - CapacityState(sc, objective).value()
    assert got == pytest.approx(plan.objective - empty.objective, rel=1e-7, abs=1e-6)


def test_window_table_follows_the_state():
    # the remembered table is the one window_hours_rows computes, after commits and releases
    sc = synthetic_scenario(30, 4, 24, 3)
    st = CapacityState(sc, "carbon")
    every = np.arange(st.S)
    from greenopt.heuristics.greedy import place_job

    for j in range(st.J):
        for o in range(st.S):
            np.testing.assert_array_equal(st.window_table(o), st.window_hours_rows(every, o))
        p = place_job(st, j, 0, GreedySettings(domain=True))
        if p is not None:
            st.commit(p)
        if j % 7 == 6:
            st.release(j - 3)


def test_default_effort_by_the_days_size():
    small, large = synthetic_scenario(20, 3, 12, 0), synthetic_scenario(1001, 3, 12, 0)
    s = GreedySettings().resolved(small)
    assert (s.passes, s.route, s.retime, s.domain) == (2, True, True, False)
    g = GreedySettings().resolved(large)
    assert (g.passes, g.route, g.retime, g.domain) == (0, False, False, True)
    # what the caller sets is kept
    k = GreedySettings(passes=1, retime=False, domain=True).resolved(small)
    assert (k.passes, k.route, k.retime, k.domain) == (1, True, False, True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=hst.integers(0, 10_000),
    headroom=hst.sampled_from([0.9, 1.2, 2.0]),
    grid_limit=hst.booleans(),
    objective=hst.sampled_from(["carbon", "cost"]),
)
# an ejection move that paid before the short jobs were repaired took the room the repair would
# have used (4062 → 8702 with more work unmet): the repair now comes first
@example(seed=250, headroom=0.9, grid_limit=False, objective="carbon")
def test_default_improvement_is_valid_and_never_worse_than_its_first_pass(
    seed, headroom, grid_limit, objective
):
    # the default effort on a small day: its first pass (same placement knobs), then passes,
    # ejection moves and LP re-timing, each kept only when it does not make the plan worse
    sc = synthetic_scenario(25, 3, 16, seed, headroom=headroom, grid_limit=grid_limit)
    first = greenopt.plan(
        sc, method="greedy", guide=False, objective=objective, passes=0, eject=0, retime=False
    )
    best = greenopt.plan(sc, method="greedy", guide=False, objective=objective)
    _valid(sc, first)
    _valid(sc, best)
    assert best.kpis["unmet_work_h"] <= first.kpis["unmet_work_h"] + 1e-6
    if best.kpis["unmet_work_h"] >= first.kpis["unmet_work_h"] - 1e-6:
        assert best.objective <= first.objective + 1e-6 * max(1.0, abs(first.objective))
