"""The solver-level pieces as units: fix-and-optimise (greenopt.solvers.lns) and column generation
(greenopt.solvers.colgen), on models built from small instances and solved by HiGHS.

Budgets here are work-based (a stall count, generous sub-MILP limits that tiny sub-MILPs never
reach), so the runs are repeatable; no assertion is about time.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenopt
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.formulations.build import build_matrix
from greenopt.formulations.matrix import row_positions
from greenopt.formulations.relaxation import build_relaxation
from greenopt.formulations.solution import column_jobs, read_assignments, start_vector
from greenopt.heuristics.greedy import greedy_assignments
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.solvers import colgen, highs
from greenopt.solvers.highs import StandardForm
from greenopt.solvers.lns import Neighbourhoods, fix_and_optimise, neighbourhoods_for

#: HiGHS's thread count is left to the process's scheduler: asking colgen for more threads than
#: the scheduler was first started with makes HiGHS stop at once (no bound), see the report
OPTIONS = PlanOptions()


def _feasible(form: StandardForm, v: np.ndarray, tol: float = 1e-6) -> bool:
    """``v`` within the columns' bounds, integral where it must be, and every row satisfied."""
    ax = form.A @ v
    return bool(
        np.all(v >= form.col_lb - tol)
        and np.all(v <= form.col_ub + tol)
        and np.allclose(v[form.integer], np.round(v[form.integer]), atol=tol)
        and np.all(ax >= form.row_lb - tol)
        and np.all(ax <= form.row_ub + tol)
    )


def _sub_solver(calls: list[float] | None = None):
    def solve_sub(sub: StandardForm, x0: np.ndarray, limit: float):
        r = highs.solve(sub, x0, OPTIONS, limit, log=False, mip_gap=1e-4)
        if calls is not None:
            calls.append(limit)
        return r.values, r.status, r.interrupted

    return solve_sub


# -- fix-and-optimise ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_model():
    """The small example's MILP over every site, and the one-pass greedy plan as its incumbent
    (known to be above the optimum: 23.41 against 23.23 kg CO2)."""
    sc = greenopt.examples.load("small")
    ix, mx = build_matrix(sc, Objective("carbon"))
    form = highs.from_matrix(mx)
    v0 = start_vector(ix, mx, greedy_assignments(sc, "carbon"))
    assert v0 is not None and _feasible(form, v0)
    return sc, ix, mx, form, v0


def _lns(small_model, seed: int = 0, solve_sub=None, **kw):
    _, ix, mx, form, v0 = small_model
    kw = {"size": 4, "stall": 6, "sub_time": 60.0, "budget_s": math.inf, **kw}
    return fix_and_optimise(
        form,
        column_jobs(ix, mx),
        v0,
        neighbourhoods_for(ix),
        ix.T,
        solve_sub or _sub_solver(),
        seed=seed,
        **kw,
    )


def test_fix_and_optimise_improves_a_suboptimal_incumbent(small_model):
    sc, ix, mx, form, v0 = small_model
    start = form.objective(v0)
    res = _lns(small_model)
    assert res.objective < start - 0.05  # greedy 23.41 → 23.23 here
    assert res.improvements >= 1 and res.iterations >= res.improvements
    # the incumbent only ever improved, and what is returned is a solution of the model
    trace = [value for _, value in res.history]
    assert trace[0] == pytest.approx(start)
    assert all(b < a for a, b in itertools.pairwise(trace))
    assert res.objective == pytest.approx(trace[-1]) == pytest.approx(form.objective(res.values))
    assert _feasible(form, res.values)
    # and a valid plan once read back, no worse than the MILP's bound allows
    plan = greenopt.evaluate(sc, read_assignments(ix, mx, res.values), objective="carbon")
    assert greenopt.validate(sc, plan) == []
    best = greenopt.plan(sc, "milp", mip_gap=1e-6, time_limit=60)
    assert res.objective >= best.bound - 1e-6


def test_fix_and_optimise_keeps_back_the_time_of_its_final_polish(small_model):
    """The final LP polish runs after the search, so the search stops that much earlier (at
    2000 jobs it took 3.3 s and ran past the budget): a polish of at least 0.3 s and a budget
    of 0.5 s leave no time for a neighbourhood, and the polish still runs at the end."""
    import time as clock

    calls: list[int] = []

    def slow_polish(v: np.ndarray):
        calls.append(1)
        clock.sleep(0.3)
        return None  # nothing better: only its time matters here

    res = _lns(small_model, polish=slow_polish, budget_s=0.5)
    assert res.iterations == 0  # 0.5 − 0.3 (first polish) − 0.3 (the final one's) < 0
    assert len(calls) == 2  # before the search and at its end
    # a budget with room for the search: neighbourhoods run, then the final polish
    roomy = _lns(small_model, polish=slow_polish, budget_s=math.inf, max_neighbourhoods=3)
    assert roomy.iterations == 3


def test_fix_and_optimise_is_repeatable(small_model):
    a, b = _lns(small_model, seed=3), _lns(small_model, seed=3)
    assert a.iterations == b.iterations and a.improvements == b.improvements
    assert [v for _, v in a.history] == [v for _, v in b.history]
    np.testing.assert_array_equal(a.values, b.values)


def test_fix_and_optimise_never_returns_worse(small_model):
    *_, form, v0 = small_model
    start = form.objective(v0)

    def worse(sub: StandardForm, x0: np.ndarray, limit: float):
        # a sub-solver that answers with a costlier assignment of the freed columns
        bumped = x0.copy()
        free = ~sub.integer & (sub.c > 0) & (sub.col_ub > x0)
        bumped[free] = np.minimum(sub.col_ub[free], x0[free] + 1.0)
        return bumped, "feasible", False

    res = _lns(small_model, solve_sub=worse)
    assert res.improvements == 0 and res.objective == pytest.approx(start)
    np.testing.assert_allclose(res.values, v0)

    res = _lns(small_model, solve_sub=lambda sub, x0, limit: (None, "no_solution", False))
    assert res.improvements == 0 and res.objective == pytest.approx(start)


def test_fix_and_optimise_stops_at_its_target_and_on_interrupt(small_model):
    _, _, _, form, v0 = small_model
    res = _lns(small_model, target=form.objective(v0) + 1.0)  # already below it
    assert res.iterations == 0
    res = _lns(small_model, solve_sub=lambda sub, x0, limit: (None, "interrupted", True))
    assert res.interrupted and res.iterations == 1


def test_neighbourhood_seeding_is_repeatable():
    rng_data = np.random.default_rng(7)
    J, S, T = 30, 5, 24
    first = rng_data.integers(0, T // 2, J)
    hoods = Neighbourhoods(
        first=first,
        end=first + rng_data.integers(2, T // 2, J),
        cand=rng_data.random((J, S)) < 0.6,
        weight=rng_data.random(J) + 0.1,
    )

    def draw(seed: int) -> list[list[int]]:
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(5):
            out.append(hoods.site_window(rng, 6, T).tolist())
            out.append(hoods.related(rng, 6).tolist())
            out.append(hoods.random(rng, 6).tolist())
        return out

    assert draw(11) == draw(11)
    assert draw(11) != draw(12)
    for picked in draw(11):
        assert len(picked) <= 6 and picked == sorted(set(picked))  # sorted, no repeats


# -- column generation -----------------------------------------------------------------------------
def _relaxation_lp(dwell: bool):
    sc = synthetic_scenario(40, 5, 24, seed=1)
    _, mx = build_relaxation(sc, Objective("carbon"), "soft", presence=False, dwell=dwell)
    form = highs.from_matrix(mx)
    idx = sc.index
    initial = np.ones(mx.n_cols, dtype=bool)
    for name in ("x", "arr"):
        block = mx.cols[name]
        if block.n:
            at_origin = block.keys[:, 1] == idx.origin[block.keys[:, 0]]
            initial[block.cols(np.arange(block.n))] = at_origin
    direct = highs.solve(form, None, OPTIONS, None, relax=True, log=False)
    assert direct.status == "optimal"
    return form, row_positions(mx, "work"), initial, direct.objective


@pytest.fixture(scope="module")
def relaxation_lp():
    """The relaxation LP (no presence rows, dwell rows) of a 40-job synthetic day, its work
    rows, the origin-only starting columns, and its optimum solved directly by HiGHS."""
    return _relaxation_lp(dwell=True)


@pytest.fixture(scope="module")
def plain_relaxation_lp():
    """The same without the dwell rows: the form column generation solves in the MILP."""
    return _relaxation_lp(dwell=False)


def test_column_generation_bound_never_exceeds_the_lp_optimum(relaxation_lp):
    form, work_rows, initial, optimum = relaxation_lp
    cg = colgen.solve_by_columns(form, initial, time_limit=None, batch=50, kept_rows=work_rows)
    tol = 1e-7 * max(1.0, abs(optimum))
    assert cg.rounds > 2 and len(cg.history) == cg.rounds  # it did generate columns, round by round
    assert cg.columns > int(initial.sum())
    # valid every round, subgradient ascent included; the masters' optima are above it
    assert all(lower <= optimum + tol <= z + 2 * tol for _, z, lower in cg.history), cg.history
    assert cg.converged
    assert cg.bound == pytest.approx(optimum, rel=1e-7)  # equal once converged
    assert cg.objective == pytest.approx(optimum, rel=1e-7)
    assert _feasible(form, cg.values)


@pytest.mark.parametrize("lp", ["plain_relaxation_lp", "relaxation_lp"])
def test_subgradient_ascent_raises_a_weak_bound_and_stays_below_the_lp(lp, request):
    """The first restricted master's duals give a poor Lagrangian bound (2.14 against an LP
    optimum of 43.39); the ascent from them raises it — to 40.5 on the form column generation
    solves in the MILP (with the dwell rows, whose unbounded ``cum`` columns cut its steps
    short, to 18.5) — never above the LP optimum, and the duals it returns give the bound it
    says."""
    form, work_rows, initial, optimum = request.getfixturevalue(lp)
    first = colgen.solve_by_columns(
        form, initial, time_limit=None, kept_rows=work_rows, max_rounds=1, ascent=0.0
    )
    assert first.rounds == 1 and not first.converged
    dual_fn = colgen.Lagrangian(form, work_rows)
    start = dual_fn.value(first.row_duals)
    tol = 1e-7 * max(1.0, abs(optimum))
    lifted, y = dual_fn.ascend(first.row_duals, first.objective, iterations=300)
    assert start < lifted <= optimum + tol
    if lp == "plain_relaxation_lp":
        assert lifted > 0.9 * optimum  # a real step towards it, not a nudge
    assert dual_fn.value(y) == pytest.approx(lifted, rel=1e-12)
    assert lifted == colgen.lagrangian_bound(form, y, work_rows)
    # from zero duals too (every row unpriced: each job at its cheapest alone)
    zero, _ = dual_fn.ascend(np.zeros(form.A.shape[0]), first.objective, iterations=100)
    assert zero <= optimum + tol
    # by work: the same steps, the same bound, on every run
    again = colgen.solve_by_columns(
        form, initial, time_limit=None, kept_rows=work_rows, max_rounds=2, by_work=True
    )
    twice = colgen.solve_by_columns(
        form, initial, time_limit=None, kept_rows=work_rows, max_rounds=2, by_work=True
    )
    assert [h[1:] for h in again.history] == [h[1:] for h in twice.history]
    assert again.history[0][2] > start  # round 1's bound, raised by the ascent


def test_column_generation_without_kept_rows_converges_to_the_optimum(relaxation_lp):
    form, _, initial, optimum = relaxation_lp
    cg = colgen.solve_by_columns(form, initial, time_limit=None, batch=50)
    assert cg.converged and cg.rounds > 1
    assert cg.bound == pytest.approx(optimum, rel=1e-7)


def test_lagrangian_bound_holds_for_any_duals(relaxation_lp):
    form, work_rows, _, optimum = relaxation_lp
    rng = np.random.default_rng(0)
    n_rows = form.A.shape[0]
    tol = 1e-7 * max(1.0, abs(optimum))
    for scale in (0.0, 0.01, 1.0, 100.0):
        y = scale * rng.standard_normal(n_rows)
        assert colgen.lagrangian_bound(form, y, work_rows) <= optimum + tol


def test_column_generation_refuses_columns_whose_bounds_exclude_zero(relaxation_lp):
    form, _, initial, _ = relaxation_lp
    lb = form.col_lb.copy()
    lb[0] = 0.5
    shifted = StandardForm(
        form.c,
        form.offset,
        form.A,
        lb,
        form.col_ub,
        form.integer,
        form.row_lb,
        form.row_ub,
        form.col_index,
    )
    with pytest.raises(ValueError, match="0 inside"):
        colgen.solve_by_columns(shifted, initial, time_limit=None)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    jobs=st.integers(3, 14),
    sites=st.integers(2, 4),
    slots=st.sampled_from([8, 12, 16]),
    seed=st.integers(0, 10_000),
    dwell=st.booleans(),
    scale=st.sampled_from([0.0, 0.01, 1.0, 100.0]),
    objective=st.sampled_from(["carbon", "cost"]),
)
def test_the_ascents_bound_never_exceeds_the_lp_optimum(
    jobs, sites, slots, seed, dwell, scale, objective
):
    """On random days and from random duals, every bound the subgradient ascent reports is at
    most the relaxation LP's optimum (HiGHS, directly), and at least where it started."""
    sc = synthetic_scenario(jobs, sites, slots, seed=seed)
    _, mx = build_relaxation(sc, Objective(objective), "soft", presence=False, dwell=dwell)
    form = highs.from_matrix(mx)
    direct = highs.solve(form, None, OPTIONS, None, relax=True, log=False)
    assert direct.status == "optimal"
    work_rows = row_positions(mx, "work")
    dual_fn = colgen.Lagrangian(form, work_rows)
    y0 = scale * np.random.default_rng(seed).standard_normal(form.A.shape[0])
    start = dual_fn.value(y0)
    target = direct.objective + 1.0 + abs(direct.objective)  # above the maximum, as a master's
    lifted, y = dual_fn.ascend(y0, target, iterations=150)
    tol = 1e-7 * max(1.0, abs(direct.objective))
    assert lifted <= direct.objective + tol
    assert lifted >= start or not math.isfinite(start)
    assert dual_fn.value(y) == pytest.approx(lifted, rel=1e-9, abs=1e-9)
