"""The schedule relaxation (greenopt.milp.schedules, greenopt.solvers.pricing).

On random tiny scenarios (the property tests' strategy: negative prices, hard deadlines,
non-preemptible and non-migratable jobs, grid limits, scarce links, ...):

* the bound never exceeds the exact optimum (HiGHS on the whole MILP, gap 0), whatever the
  objective and deadlines, and the price-and-branch plan validates and never beats it;
* pricing's lower bound never exceeds the reduced cost of a schedule known to be feasible
  (the greedy's and the optimum's, one job at a time), at arbitrary prices — the property that
  makes the Lagrangian bound valid at every round;
* converged, the bound is at least the compact relaxation's.

No timed assertions: budgets are round counts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from test_properties import MILP_SIZE, PROPERTY, scenarios

import greenopt
from greenopt import InfeasibleError
from greenopt.milp import schedules as sched
from greenopt.milp.relaxation import solve_relaxation
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.solvers import pricing
from greenopt.validate import validate

EXACT = settings(PROPERTY, max_examples=25)


def _exact(sc, objective: str, deadlines: str):
    """HiGHS on the whole model to optimality, or None (too hard, or infeasible)."""
    try:
        p = greenopt.plan(
            sc,
            "milp",
            objective=objective,
            deadlines=deadlines,
            mip_gap=0.0,
            threads=1,
            highs_options={"mip_max_nodes": 20_000},
        )
    except InfeasibleError:
        return None
    return p if p.status == "optimal" else None


def _tol(v: float) -> float:
    return 1e-6 * max(1.0, abs(v))


@EXACT
@given(
    sc=scenarios(size=MILP_SIZE),
    objective=st.sampled_from(["carbon", "cost", "grid", "weighted"]),
    deadlines=st.sampled_from(["soft", "soft", "hard"]),
)
def test_bound_never_exceeds_the_exact_optimum(sc, objective, deadlines):
    exact = _exact(sc, objective, deadlines)
    if exact is None:
        reject()
    opt = exact.kpis["objective"]
    res = sched.schedule_bound(sc, objective, deadlines, time_limit=None, max_rounds=60)
    assert res.stats["outside"] == 0  # a valid plan's schedules are all in the relaxation
    assert (
        sched.schedule_bound(
            sc, objective, deadlines, time_limit=None, start=exact, integer=False, max_rounds=60
        ).stats["outside"]
        == 0
    )
    assert res.bound is not None
    assert res.bound <= opt + _tol(opt), (res.bound, opt, res.stats["rounds"])
    if res.plan is not None:
        assert validate(sc, res.plan) == []
        value = res.plan.kpis["objective"]
        if deadlines == "soft" or res.plan.kpis["unmet_work_h"] <= 1e-6:
            assert value >= opt - _tol(opt)


@settings(PROPERTY, max_examples=30)
@given(sc=scenarios(), objective=st.sampled_from(["carbon", "cost"]), seed=st.integers(0, 99))
def test_pricing_lower_bound_below_every_known_schedule(sc, objective, seed):
    """At random prices (any signs, links too), each job's pricing lower bound is at most the
    reduced cost of its schedule in a valid plan."""
    obj = Objective.of(objective)
    prob = sched._build(sc, obj, "soft")
    plan = greenopt.plan(sc, "greedy", objective=objective)
    schedules = sched.schedules_of_plan(prob, plan.assignments)
    rng = np.random.default_rng(seed)
    sp = prob.space
    J, S, T = sp.J, sp.S, sp.T
    run = rng.normal(0.5, 1.0, (J, S, T))
    arrive = rng.normal(0.1, 0.5, (J, S, T))
    route = -np.abs(rng.normal(0.0, 0.01, (S, S, T)))
    run[prob.x_col < 0] = np.inf
    arrive[prob.arr_col < 0] = np.inf
    prices = pricing.Prices(run=run, arrive=arrive, route=route)
    for exact in (True, False):
        res = pricing.price(sp, prices, classes=3, exact=exact, iterations=6)
        for sch in schedules:
            j = sch.job
            rc = float(np.sum(run[j, sch.sites, sch.slots] * sch.shares))
            for a, b, t in sch.moves:
                rc += arrive[j, b, t] - sp.gb[j] * route[a, b, t]
            rc += sp.unmet_cost * sch.unmet
            assert res.lower[j] <= rc + 1e-7 * max(1.0, abs(rc)), (j, res.by_class[j], rc)


@settings(
    PROPERTY,
    max_examples=20,
    suppress_health_check=[*PROPERTY.suppress_health_check, HealthCheck.filter_too_much],
)
@given(sc=scenarios(size=MILP_SIZE), objective=st.sampled_from(["carbon", "cost"]))
def test_converged_bound_at_least_the_compact_relaxation(sc, objective):
    obj = Objective.of(objective)
    compact = solve_relaxation(sc, obj, "soft", PlanOptions(threads=1), True, None)
    res = sched.schedule_bound(sc, obj, "soft", time_limit=None, integer=False, max_rounds=200)
    if not res.stats.get("converged"):
        reject()
    assert res.bound >= compact.bound - 1e-6 * max(1.0, abs(compact.bound))


def test_small_example_bound_plan_and_columns():
    """The embedded example: HiGHS proves its optimum within [23.2072, 23.2252] (its bound on
    the model with every move, its plan); the compact relaxation's bound is 23.168."""
    sc = greenopt.examples.load("small")
    best = greenopt.plan(sc, "milp", mip_gap=0.0, threads=1)
    compact = solve_relaxation(sc, Objective(), "soft", PlanOptions(threads=1), True, None)
    res = sched.schedule_bound(sc, "carbon", "soft", time_limit=None, max_rounds=100)
    bound, columns, plan, stats = res
    assert compact.bound - 1e-9 <= bound <= best.kpis["objective"] + 1e-9
    assert bound <= best.bound + 1e-6  # HiGHS's proven bound of the optimum is above ours
    assert plan is not None and validate(sc, plan) == []
    assert plan.kpis["objective"] >= best.bound - 1e-6
    assert len(columns) >= len(sc.jobs)
    assert stats["rounds"] >= 1 and stats["trace"] and stats["outside"] == 0


def test_the_master_by_the_interior_point_method_reaches_the_same_bound(monkeypatch):
    """Large days switch the rounds' master from the simplex method to the IPM
    (IPM_AFTER_ITERATIONS); switched from the first round, the rounds end where the simplex's
    do (pricing finds no new schedule: the same master optimum, the same bound, the same plan)."""
    sc = greenopt.examples.load("small")
    kw = {"time_limit": None, "max_rounds": 100}
    simplex = sched.schedule_bound(sc, "carbon", "soft", **kw)
    assert "ipm_from_round" not in simplex.stats
    monkeypatch.setattr(sched, "IPM_AFTER_ITERATIONS", -1)
    ipm = sched.schedule_bound(sc, "carbon", "soft", **kw)
    assert ipm.stats["ipm_from_round"] == 1
    zs, zi = simplex.stats["master_objective"], ipm.stats["master_objective"]
    assert abs(zs - zi) <= 1e-6 * max(1.0, abs(zs)), (zs, zi)
    assert abs(simplex.bound - ipm.bound) <= 1e-5 * max(1.0, abs(zs))
    assert ipm.plan is not None and validate(sc, ipm.plan) == []
    assert ipm.plan.kpis["objective"] >= ipm.bound - 1e-6
    assert abs(ipm.plan.kpis["objective"] - simplex.plan.kpis["objective"]) <= 1e-6 * abs(zs)


def _compact_duals(sc, obj):
    """The compact relaxation's optimum (without presence and dwell rows) and its row duals
    per row block, as column generation hands them over (Relaxation.duals)."""
    from greenopt.formulations.matrix import row_positions
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.solvers import highs

    _, mx = build_relaxation(sc, obj, "soft", presence=False, dwell=False)
    res = highs.solve(
        highs.from_matrix(mx), None, PlanOptions(threads=1), None, relax=True, log=False,
        duals=True,
    )  # fmt: skip
    if res.status != "optimal":
        return None, None
    y = res.row_duals
    return res.objective, {n: (b.keys, y[row_positions(mx, n)]) for n, b in mx.rows.items()}


@EXACT
@given(
    sc=scenarios(size=MILP_SIZE),
    objective=st.sampled_from(["carbon", "cost", "weighted"]),
    noise=st.integers(0, 2**31 - 1),
)
def test_priced_at_the_compact_duals_is_a_bound_at_least_the_compact_one(sc, objective, noise):
    """One pricing pass of the schedule relaxation at the compact LP's optimal duals (what
    fleet-scale days get beside the search): at least the compact LP's bound, never above the
    exact optimum; at any other duals of the right signs still never above it."""
    obj = Objective.of(objective)
    compact, duals = _compact_duals(sc, obj)
    if duals is None:
        reject()
    exact = _exact(sc, objective, "soft")
    priced = sched.priced_bound(sc, obj, "soft", duals)
    assert priced is not None
    assert priced >= compact - _tol(compact)
    rng = np.random.default_rng(noise)
    shaken = {n: (k, y * rng.uniform(0, 2, len(y)) + rng.normal(0, 0.1, len(y)))
              for n, (k, y) in duals.items()}  # fmt: skip
    other = sched.priced_bound(sc, obj, "soft", shaken)
    if exact is not None:
        opt = exact.kpis["objective"]
        assert priced <= opt + _tol(opt), (priced, opt)
        assert other is None or other <= opt + _tol(opt), (other, opt)


def test_priced_stops_when_asked():
    sc = greenopt.examples.load("small")
    obj = Objective.of("carbon")
    _, duals = _compact_duals(sc, obj)
    assert sched.priced_bound(sc, obj, "soft", duals, stop=lambda: True) is None
    assert sched.priced_bound(sc, obj, "soft", duals) is not None


@EXACT
@given(sc=scenarios(size=MILP_SIZE), objective=st.sampled_from(["carbon", "cost", "weighted"]))
def test_the_priced_pass_gives_each_job_a_schedule_of_its_own(sc, objective):
    """priced_schedules (the Lagrangian schedules that widen a huge day's guided start): the
    bound of priced_bound at the same duals and, from the same pass, at most one schedule per
    job, each one of its job's schedules — its runs and arrivals the relaxation's own, inside
    its window, its work done or counted unmet, its reduced cost at least the job's priced
    lower bound."""
    obj = Objective.of(objective)
    _, duals = _compact_duals(sc, obj)
    if duals is None:
        reject()
    got = sched.priced_schedules(sc, obj, "soft", duals)
    assert got is not None
    bound, schedules, _, _ = got
    assert bound == sched.priced_bound(sc, obj, "soft", duals)
    jobs = [s.job for s in schedules]
    assert jobs == sorted(set(jobs))
    prob = sched._build(sc, obj, "soft")
    master = sched._Master(prob, 1)
    n = master.n_c + master.n_l
    y = np.zeros(n)
    off = 0
    for name, block in prob.mx.rows.items():
        y[off : off + block.n] = duals[name][1]
        off += block.n
    y = sched._clean_duals(y, master.row_lb[:n], master.row_ub[:n])
    prices = sched._prices(prob, y[: master.n_c], y[master.n_c :])
    lower = pricing.price(prob.space, prices, want_paths=False).lower
    space = prob.space
    for s in schedules:
        j = s.job
        cost, rows, vals = sched._column(prob, s)  # raises for a run or arrival outside
        assert np.all((s.slots >= space.first[j]) & (s.slots < space.end[j]))
        assert np.all((s.shares > 0) & (s.shares <= space.x_ub[j] + 1e-9))
        done = float(s.shares.sum()) * space.dt + s.unmet
        assert abs(done - space.work[j]) <= 1e-6 * max(1.0, space.work[j])
        reduced = cost - float(y[rows] @ vals)
        assert reduced >= lower[j] - 1e-6 * max(1.0, abs(reduced)), (j, reduced, lower[j])
    assert sched.priced_schedules(sc, obj, "soft", duals, stop=lambda: True) is None


@pytest.mark.parametrize("deterministic", [True, False])
def test_a_huge_day_prices_the_schedule_relaxation_at_the_column_generations_duals(
    monkeypatch, deterministic
):
    """Above HUGE_COLS the bound beside the search is the compact LP's column generation's,
    then one pricing pass of the schedule relaxation at its duals: the better of the two is
    reported, a true bound."""
    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.milp import prepare, relaxation

    sc = synthetic_scenario(14, 3, 12, 5)
    exact = _exact(sc, "carbon", "soft")
    monkeypatch.setattr(prepare, "HUGE_COLS", 0)  # this day is "huge"
    monkeypatch.setattr(relaxation, "COLGEN_MIN_COLS", 0)  # its LP by column generation
    p = greenopt.plan(sc, "milp", threads=1, deterministic=deterministic, time_limit=60)
    assert validate(sc, p) == []
    said = [n for n in p.notes if "priced at its duals" in n]
    assert said, p.notes
    priced = float(said[0].split("priced at its duals ")[1].split()[0])
    assert p.bound >= priced - _tol(priced)
    assert exact is not None
    opt = exact.kpis["objective"]
    assert p.bound <= opt + _tol(opt) and p.kpis["objective"] >= opt - _tol(opt)


def test_bad_deadlines_named():
    sc = greenopt.examples.load("small")
    with pytest.raises(greenopt.ScenarioError, match="deadlines"):
        sched.schedule_bound(sc, "carbon", "later", time_limit=1.0)


def test_works_after_highs_ran_with_more_threads():
    """HiGHS refuses (kError) a Highs asking for fewer threads than its process-wide scheduler
    was started with; the schedule relaxation must not depend on who ran HiGHS first."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 0
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(1), np.zeros(1), np.ones(1)
    h.passModel(lp)
    h.run()  # the scheduler starts with the default thread count
    sc = greenopt.examples.load("small")
    res = sched.schedule_bound(sc, "carbon", "soft", time_limit=None, max_rounds=20, threads=1)
    assert res.bound is not None and res.stats["rounds"] >= 1
    assert res.plan is not None and validate(sc, res.plan) == []
