"""The MILP's search at fleet scale (issue #15): the reported bound is a true bound, parallel
fix-and-optimise keeps the incumbent consistent, and one Dask worker plans as no Dask does."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import greenopt
from greenopt.errors import OptionsError
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.formulations.build import build_matrix
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.solvers import highs
from greenopt.solvers.highs import StandardForm
from greenopt.solvers.lns import Neighbourhoods, _merge

has_dask = importlib.util.find_spec("distributed") is not None


def _exact_optimum(sc: greenopt.Scenario) -> float:
    """HiGHS to optimality (``mip_gap=0``) on the whole MILP: every reachable site and every
    move — a model whose optimum is at most every valid plan's objective."""
    ix, mx = build_matrix(sc, Objective.of("carbon"), "soft", absorbed_moves=False)
    assert not ix.restricted
    res = highs.solve(
        highs.from_matrix(mx), None, PlanOptions(threads=1, mip_gap=0.0), None, log=False
    )
    assert res.status == "optimal", res.status
    return float(res.objective)


# 20 random small instances: half with the default search (fix-and-optimise, then
# branch-and-bound; the root-cut bound beside it when the model's sites are cut), half forced
# through fix-and-optimise alone (bb_max=0) with the compact LP's presence rows off, so that the
# schedule relaxation's bound runs beside it
CASES = [(s, 6 + s % 5, 2 + s % 3, 8 + 2 * (s % 3), s % 2 == 1) for s in range(20)]


@pytest.mark.parametrize(("seed", "jobs", "sites", "slots", "lns"), CASES)
def test_reported_bound_never_exceeds_the_exact_optimum(seed, jobs, sites, slots, lns):
    sc = synthetic_scenario(jobs, sites, slots, seed)
    extra = {"bb_max": 0, "lns_neighbourhoods": 6, "presence": False} if lns else {}
    p = greenopt.plan(sc, method="milp", objective="carbon", time_limit=60, threads=1, **extra)
    assert not greenopt.validate(sc, p)
    opt = _exact_optimum(sc)
    tol = 1e-6 * max(1.0, abs(opt))
    assert p.kpis["objective"] >= opt - tol, "the plan beats the exact optimum"
    assert p.bound is not None
    assert p.bound <= opt + tol, f"bound {p.bound} exceeds the optimum {opt}"


@pytest.mark.parametrize(("seed", "jobs", "sites", "slots", "lns"), CASES[::3])
def test_the_bounds_that_see_the_dwell_rule_never_exceed_the_exact_optimum(
    seed, jobs, sites, slots, lns
):
    """The same instances with a strict dwell rule (α = 0.02: a stay pays 50× its transfer):
    the relaxation LP with its dwell rows (MODEL.md in greenopt/formulations, §11a), with and
    without presence rows, the root-cut bound and the plan's reported bound all stay at or
    below the exact optimum of the MILP with the rule."""
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.milp.relaxation import root_bound

    sc = synthetic_scenario(jobs, sites, slots, seed)
    sc = sc.with_jobs(list(sc.jobs), migration_alpha=0.02)
    opt = _exact_optimum(sc)
    tol = 1e-6 * max(1.0, abs(opt))
    obj = Objective.of("carbon")
    for presence in (True, False):
        _, mx = build_relaxation(sc, obj, "soft", presence=presence)
        lp = highs.solve(
            highs.from_matrix(mx), None, PlanOptions(threads=1), None, relax=True, log=False
        )
        assert lp.objective <= opt + tol, (presence, lp.objective, opt)
    root = root_bound(sc, obj, "soft", 60).bound
    assert root is not None and root <= opt + tol, (root, opt)
    extra = {"bb_max": 0, "lns_neighbourhoods": 6, "presence": False} if lns else {}
    p = greenopt.plan(sc, method="milp", objective="carbon", time_limit=60, threads=1, **extra)
    assert not greenopt.validate(sc, p)
    assert p.bound is not None and p.bound <= opt + tol, (p.bound, opt)


def _form(A: np.ndarray, c: np.ndarray, lb_rows: np.ndarray, ub_rows: np.ndarray) -> StandardForm:
    n = A.shape[1]
    return StandardForm(
        c=c,
        offset=0.0,
        A=sp.csc_array(A),
        col_lb=np.zeros(n),
        col_ub=np.full(n, 10.0),
        integer=np.zeros(n, dtype=bool),
        row_lb=lb_rows,
        row_ub=ub_rows,
        col_index=np.arange(n),
    )


def test_merge_applies_moves_on_disjoint_rows_and_defers_conflicts():
    # rows: x0 + x1 ≤ 4, x2 + x3 ≤ 4; cost −1 each; incumbent zero
    A = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    cm = _form(A, -np.ones(4), np.full(2, -np.inf), np.full(2, 4.0))
    v = np.zeros(4)
    first = np.array([4.0, 0.0, 0.0, 0.0])  # fills row 0
    second = np.array([0.0, 0.0, 0.0, 4.0])  # fills row 1: disjoint, applied too
    third = np.array([0.0, 4.0, 0.0, 0.0])  # row 0 again: alone feasible, together not
    answers = [(first, "optimal"), (second, "optimal"), (third, "optimal")]
    out, gain, conflicts = _merge(cm, v, 0.0, answers)
    assert gain == pytest.approx(8.0)
    assert conflicts == [2]
    np.testing.assert_allclose(out, [4.0, 0.0, 0.0, 4.0])
    assert np.all(cm.A @ out <= cm.row_ub + 1e-12)
    # a worse answer is neither applied nor a conflict
    out, gain, conflicts = _merge(cm, out, -8.0, [(np.zeros(4), "optimal")])
    assert gain == 0.0 and conflicts == []


def test_hot_neighbourhood_frees_the_jobs_where_the_grid_is_drawn():
    # 4 jobs, 2 sites, 4 slots; jobs 0 and 1 run at site 0, where all the emissions are
    T = 4
    hoods = Neighbourhoods(
        first=np.zeros(4, dtype=np.int64),
        end=np.full(4, T, dtype=np.int64),
        cand=np.ones((4, 2), dtype=bool),
        weight=np.ones(4),
    )
    run_j = np.repeat(np.arange(4), T)
    run_t = np.tile(np.arange(T), 4)
    run_s = np.where(run_j < 2, 0, 1)
    run_col = np.arange(16)
    grid_col = 16 + np.arange(2 * T)
    hoods.run = (run_col, run_j, run_s, run_t)
    hoods.grid = (grid_col, np.repeat([0, 1], T), np.tile(np.arange(T), 2))
    v = np.zeros(16 + 2 * T)
    v[:16] = 0.5
    v[16 : 16 + T] = 3.0  # grid at site 0 only
    c = np.ones_like(v)
    rng = np.random.default_rng(0)
    for _ in range(10):
        free = hoods.hot(rng, 2, T, v, c)
        assert len(free) == 2
        assert np.intersect1d(free, [0, 1]).size == 1  # one dirty job, one to swap with
        assert np.intersect1d(free, [2, 3]).size == 1


def test_lagrangian_neighbourhood_frees_the_job_farthest_from_its_best_response():
    """6 jobs, 2 sites, 4 slots: in the incumbent every job runs at site 0, jobs 4 and 5 also
    at site 1 in slots 0-1. Job 2 alone pays more at the duals than its least reduced cost (its
    Lagrangian schedule: site 1, slots 0-1), so it is always freed, with one of the jobs
    holding those site-slots; without a gap anywhere the neighbourhood falls back to
    ``related``."""
    T, J = 4, 6
    hoods = Neighbourhoods(
        first=np.zeros(J, dtype=np.int64),
        end=np.full(J, T, dtype=np.int64),
        cand=np.ones((J, 2), dtype=bool),
        weight=np.ones(J),
    )
    run_j = np.repeat(np.arange(J), 2 * T)  # a column per job, site, slot
    run_s = np.tile(np.repeat([0, 1], T), J)
    run_t = np.tile(np.arange(T), 2 * J)
    run_col = np.arange(J * 2 * T)
    hoods.run = (run_col, run_j, run_s, run_t)
    v = np.where((run_s == 0) | ((run_j >= 4) & (run_t < 2)), 0.5, 0.0)
    price = np.where(run_s == 0, 1.0, 0.1)  # site 1 is where the duals say work belongs
    cost = np.bincount(run_j, weights=price * v, minlength=J)
    lower = cost.copy()
    lower[2] -= 1.5  # job 2's best response is far cheaper than what it does
    wants = [np.zeros(0, dtype=np.int64)] * J
    wants[2] = np.array([1 * T + 0, 1 * T + 1])
    hoods.lagrange = (price, lower, wants)
    rng = np.random.default_rng(0)
    for _ in range(10):
        free = hoods.lagrangian(rng, 2, T, v)
        assert len(free) == 2 and 2 in free
        assert np.intersect1d(free, [4, 5]).size == 1  # a holder of its wanted site-slots
    for k in (3, 4):  # larger: filled up with its related jobs
        free = hoods.lagrangian(rng, k, T, v)
        assert len(free) == k and 2 in free and len(set(free.tolist())) == k
    hoods.lagrange = (price, cost, wants)  # nobody off their best response
    related = hoods.lagrangian(np.random.default_rng(1), 2, T, v)
    np.testing.assert_array_equal(related, hoods.related(np.random.default_rng(1), 2))


def test_scheduler_and_workers_are_the_callers_alone():
    from greenopt.options import check_file_section

    with pytest.raises(OptionsError, match="scheduler"):
        check_file_section({"method": "milp", "scheduler": "tcp://10.0.0.5:8786"}, "x.yaml")
    with pytest.raises(OptionsError, match="workers"):
        check_file_section({"method": "milp", "workers": 4}, "x.yaml")
    with pytest.raises(OptionsError, match="scheduler"):
        greenopt.plan(synthetic_scenario(4, 2, 6, 0), method="milp", scheduler="")
    with pytest.raises(OptionsError, match="workers"):
        greenopt.plan(synthetic_scenario(4, 2, 6, 0), method="milp", workers=0)


@pytest.mark.skipif(not has_dask, reason="needs the batch extra (dask[distributed])")
def test_one_dask_worker_gives_the_plan_of_no_dask():
    sc = synthetic_scenario(40, 4, 16, 3)
    kw = {
        "method": "milp",
        "objective": "carbon",
        "threads": 1,
        "bb_max": 0,  # fix-and-optimise
        "lns_neighbourhoods": 5,  # a work-based budget: no clock in the plan
        "lns_size": 4,
    }
    alone = greenopt.plan(sc, **kw)
    on_dask = greenopt.plan(sc, workers=1, **kw)
    assert any("Dask" in n for n in on_dask.notes)
    assert not greenopt.validate(sc, on_dask)
    pd.testing.assert_frame_equal(alone.assignments, on_dask.assignments)
    assert alone.kpis["objective"] == on_dask.kpis["objective"]


@pytest.mark.parametrize("seed", range(5))
def test_root_cut_bound_never_exceeds_the_exact_optimum(seed):
    from greenopt.milp.relaxation import root_bound, solve_relaxation

    sc = synthetic_scenario(8 + seed, 3, 10, 100 + seed)
    obj = Objective.of("carbon")
    root = root_bound(sc, obj, "soft", None)
    lp = solve_relaxation(sc, obj, "soft", PlanOptions(threads=1), True, None)
    opt = _exact_optimum(sc)
    assert root.bound is not None and lp.bound is not None
    assert root.bound <= opt + 1e-6 * max(1.0, abs(opt))
    assert root.bound >= lp.bound - 1e-6 * max(1.0, abs(lp.bound))  # cuts only lift the LP


# -- the search under trust's rules (issue 11 part 2): deterministic mode, Dask addresses ----------
def test_deterministic_mode_defers_the_schedule_bound_and_repeats_its_plan():
    # fix-and-optimise (bb_max=0) without the compact LP's presence rows: the schedule
    # relaxation's bound, which races the search otherwise, is solved after it for a count of
    # rounds — the same plan and the same bound run to run
    from greenopt.milp.prepare import DET_SCHEDULE_ROUNDS

    sc = synthetic_scenario(10, 3, 10, 7)
    kw = {"method": "milp", "objective": "carbon", "deterministic": True, "bb_max": 0}
    a = greenopt.plan(sc, presence=False, **kw)
    b = greenopt.plan(sc, presence=False, **kw)
    assert not greenopt.validate(sc, a)
    after = [n for n in a.notes if n.startswith("bound after the search")]
    assert after and "schedule relaxation" in after[0], a.notes
    assert "priced at the compact LP's duals" in after[0], after  # its floor, at once
    rounds = int(after[0].split("schedule relaxation: ")[1].split(" rounds")[0])
    assert 1 <= rounds <= DET_SCHEDULE_ROUNDS
    assert not any("beside the search" in n for n in a.notes)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.bound == b.bound and a.kpis["objective"] == b.kpis["objective"]
    opt = _exact_optimum(sc)
    assert a.bound <= opt + 1e-6 * max(1.0, abs(opt)) <= a.kpis["objective"] + 2e-6 * abs(opt)


def test_deterministic_lns_first_is_a_count_of_neighbourhoods():
    # a small model: fix-and-optimise first (its budget a count of neighbourhoods, not a share
    # of seconds), then branch-and-bound (bb_nodes) from its plan; lns_first=0 turns it off
    from greenopt.milp.search import LNS_FIRST, lns_first_neighbourhoods, work_budget

    sc = synthetic_scenario(12, 3, 10, 4)
    kw = {"method": "milp", "objective": "carbon", "deterministic": True}
    a = greenopt.plan(sc, **kw)
    b = greenopt.plan(sc, **kw)
    assert not greenopt.validate(sc, a)
    lns = [n for n in a.notes if n.startswith("fix-and-optimise:")]
    assert lns and any(n.startswith("branch-and-bound on") for n in a.notes), a.notes
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.kpis["objective"] == b.kpis["objective"]
    off = greenopt.plan(sc, lns_first=0, **kw)
    assert not any(n.startswith("fix-and-optimise:") for n in off.notes), off.notes
    # the share scales the count: at the default share, work_budget's one pass over the jobs
    opts = PlanOptions(deterministic=True)
    base = work_budget(opts, 12)["lns_neighbourhoods"]
    v0 = np.zeros(1)
    assert lns_first_neighbourhoods(opts, v0, 12) == base
    half = PlanOptions(deterministic=True, params={"lns_first": LNS_FIRST / 2})
    assert lns_first_neighbourhoods(half, v0, 12) == -(-base // 2)
    assert lns_first_neighbourhoods(PlanOptions(), v0, 12) == 0  # wall-clock mode: a share


def test_a_day_of_two_neighbourhoods_goes_straight_to_branch_and_bound():
    # each sub-MILP would be most of the model: fix-and-optimise first only when asked for
    from greenopt.milp.clock import Clock
    from greenopt.milp.search import LNS_FIRST, LNS_SIZE, lns_first_share

    v0, clock = np.zeros(1), Clock(60.0)
    opts = PlanOptions(time_limit=60.0)
    assert lns_first_share(opts, clock, v0, 2 * LNS_SIZE) == 0.0
    assert lns_first_share(opts, clock, v0, 2 * LNS_SIZE + 1) == LNS_FIRST
    given = PlanOptions(time_limit=60.0, params={"lns_first": 0.3})
    assert lns_first_share(given, clock, v0, 5) == 0.3
    sc = synthetic_scenario(12, 3, 10, 4)
    p = greenopt.plan(sc, "milp", time_limit=30, mip_gap=0.05)
    assert not greenopt.validate(sc, p)
    assert not any(n.startswith("fix-and-optimise:") for n in p.notes), p.notes
    assert any(n.startswith("branch-and-bound on") for n in p.notes), p.notes


def test_a_scheduler_that_is_not_there_fails_before_planning_naming_it(monkeypatch):
    import socket

    from greenopt.errors import ClusterError
    from greenopt.solvers import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    started = []
    monkeypatch.setattr(
        "greenopt.milp.pipeline.start_plan", lambda *a, **k: started.append(1) or None
    )
    sc = synthetic_scenario(6, 2, 8, 0)
    silent = socket.socket()  # accepts connections, never answers (another service's port)
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        for address in ("garbage", f"tcp://127.0.0.1:{silent.getsockname()[1]}"):
            with pytest.raises(ClusterError) as info:
                greenopt.plan(sc, method="milp", scheduler=address)
            assert address in str(info.value) and info.value.culprit == address
    finally:
        silent.close()
    assert not started  # failed before the start plan
    # deterministic mode needs the round's size from the options, not from the cluster
    with pytest.raises(OptionsError, match="workers"):
        greenopt.plan(sc, method="milp", deterministic=True, scheduler="local")


@pytest.mark.skipif(not has_dask, reason="needs the batch extra (dask[distributed])")
def test_deterministic_rounds_on_dask_merge_in_a_fixed_order():
    # two workers, rounds of two neighbourhoods: whichever sub-MILP finishes first, the round
    # merges in the order drawn — the same plan twice
    sc = synthetic_scenario(40, 4, 16, 3)
    kw = {
        "method": "milp",
        "objective": "carbon",
        "deterministic": True,
        "bb_max": 0,
        "lns_neighbourhoods": 6,
        "lns_size": 4,
        "workers": 2,
    }
    a = greenopt.plan(sc, **kw)
    b = greenopt.plan(sc, **kw)
    assert any("2 neighbourhoods a round" in n for n in a.notes), a.notes
    assert not greenopt.validate(sc, a)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.kpis["objective"] == b.kpis["objective"]


def test_exchange_hands_plans_both_ways():
    # a plan offered before the solve is HiGHS's incumbent at once (its user-solution callback),
    # and the plan HiGHS ends with is kept for the search beside it
    sc = synthetic_scenario(8, 3, 10, 3)
    _, mx = build_matrix(sc, Objective.of("carbon"), "soft")
    form = highs.from_matrix(mx)
    opts = PlanOptions(threads=1, mip_gap=0.0)
    best = highs.solve(form, None, opts, None, log=False)
    ex = highs.Exchange()
    ex.offer(best.values, form.objective(best.values))
    res = highs.solve(form, None, replace(opts, mip_gap=0.5), None, log=False, exchange=ex)
    assert ex.done.is_set() is False  # set by the race's thread, not by solve()
    assert res.objective == pytest.approx(best.objective, rel=1e-9)
    got = ex.take()
    assert got is None or got[1] == pytest.approx(res.objective, rel=1e-9)
    assert ex.take() is None  # taken once


def test_race_returns_a_valid_plan_with_a_true_bound():
    # fix-and-optimise and branch-and-bound at once (more than two neighbourhoods of jobs, two
    # threads): a valid plan, its bound below it, and the sequential search still there
    sc = synthetic_scenario(26, 3, 8, 5)
    kw = {"method": "milp", "objective": "carbon", "time_limit": 8, "threads": 2}
    raced = greenopt.plan(sc, **kw)
    assert not greenopt.validate(sc, raced)
    assert any("beside fix-and-optimise" in n for n in raced.notes), raced.notes
    assert raced.bound is not None and raced.bound <= raced.kpis["objective"] + 1e-6
    one = greenopt.plan(sc, race=False, **kw)
    assert not greenopt.validate(sc, one)
    assert not any("beside fix-and-optimise" in n for n in one.notes)


def test_the_bound_beside_the_search_is_waited_for_no_longer_than_the_time_left():
    # 2000 x 20 x 96: the search stopped early and the bound LP beside it was waited for until
    # its own time limit, which HiGHS checks between iterations: the 30 s call ended at 31.5 s.
    # With a timeout the work is cancelled when it is up; deterministic mode's work (Deferred)
    # is computed whole, the clock never deciding it
    import time

    from greenopt.milp.relaxation import Background, Deferred

    def work(cancel):
        end = time.perf_counter() + 60.0
        while time.perf_counter() < end:
            if cancel is not None and cancel.cancelled:
                return "cancelled"
            time.sleep(0.01)
        return "done"

    assert Background(work).result(wait=True, timeout=0.1) == "cancelled"
    assert Background(lambda cancel: "quick").result(wait=True, timeout=5.0) == "quick"

    def short(cancel):
        assert cancel is None
        return "whole"

    assert Deferred(short).result(wait=True, timeout=0.0) == "whole"


@pytest.mark.skipif(not has_dask, reason="needs the batch extra (dask[distributed])")
def test_the_clusters_greenopt_starts_keep_dasks_error_logs_off_the_terminal():
    # greenopt reports a lost worker itself; Dask's ERROR records only repeat it, or print the
    # traceback of a heartbeat cut by the cluster's own closing (seen in a batch's stderr)
    import contextlib
    import logging
    import socket
    import warnings

    from greenopt.solvers.cluster import local_cluster

    def quiet() -> bool:
        return not logging.getLogger("distributed.worker").isEnabledFor(logging.ERROR)

    import distributed  # noqa: F401 (sets its loggers' levels on import)

    here = logging.getLogger("distributed")
    before = here.level
    held = socket.socket()  # Dask's default HTTP port taken (by another cluster, say)
    with contextlib.suppress(OSError):
        held.bind(("127.0.0.1", 8787))
        held.listen(1)
    try:
        for processes in (True, False):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                with local_cluster(1, processes=processes) as client:
                    assert all(client.run(quiet).values()), processes
                    assert quiet()  # this process: the scheduler, the nanny
            assert not [w for w in seen if "8787" in str(w.message)], processes
            assert here.level == before  # the caller's level is back
    finally:
        held.close()
