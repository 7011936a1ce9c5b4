"""The MILP's search (MODEL.md in ``greenopt/formulations``, §10 step 4): HiGHS
branch-and-bound on the whole model, or fix-and-optimise a few jobs at a time above
``bb_max`` binaries; and the bound of the model that keeps every move.

Every HiGHS call is wrapped in :func:`~greenopt.solvers.solver_faults`, so an exception of the
solver becomes a :class:`~greenopt.errors.SolverError` and greenopt's own errors stay as they are.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from greenopt.errors import OptionsError
from greenopt.formulations.build import build_matrix
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import column_jobs, read_assignments, start_vector
from greenopt.milp.clock import Clock
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.scenario import Scenario
from greenopt.solvers import cluster, highs, solver_faults
from greenopt.solvers.cluster import SubSettings
from greenopt.solvers.highs import SolveResult, StandardForm
from greenopt.solvers.lns import fix_and_optimise, neighbourhoods_for

#: Fix-and-optimise defaults: jobs per neighbourhood, seconds per sub-MILP.
LNS_SIZE = 12
LNS_SUB_TIME = 2.0
#: Relative gap at which a fix-and-optimise sub-MILP stops (``lns_sub_gap``).
LNS_SUB_GAP = 1e-4
#: On models small enough for branch-and-bound, the share of the time fix-and-optimise gets
#: first (``lns_first``): measured on 100 jobs × 5 sites × 24 slots (2 cores, loaded), 60 s of
#: branch-and-bound from the greedy ended at 83.4 where fix-and-optimise reached 69.0; the
#: branch-and-bound after it brings HiGHS's bound (its cuts see across jobs).
LNS_FIRST = 0.5
#: Work budgets of deterministic mode (each a parameter): branch-and-bound nodes per solve of
#: the whole model (``bb_nodes``) and per fix-and-optimise sub-MILP (``lns_sub_nodes``), jobs
#: per neighbourhood (``lns_size``: a fixed size, since the adaptive one follows the clock) and
#: neighbourhoods as passes over the jobs (``lns_neighbourhoods``: this many times J / size).
#: Measured on the realistic example (240 jobs): a sub-MILP of 12 jobs spends 10–40 s in HiGHS's
#: root alone, whatever its node limit; one of 5 about 1–3 s.
DET_BB_NODES = 20_000
DET_SUB_NODES = 50
DET_SIZE = 5
DET_PASSES = 1
DET_MIN_NEIGHBOURHOODS = 20


@dataclass
class Search:
    """What the search left: column values (compiled order; ``None``: nothing found), status,
    seconds, and the facts the pipeline reports."""

    values: np.ndarray | None
    status: str
    solve_s: float
    interrupted: bool = False
    ran_out: bool = False
    history: list[tuple[float, float]] = field(default_factory=list)
    start_accepted: bool | None = None
    bound: float | None = None  # HiGHS's bound on the model searched (branch-and-bound only)
    fix_and_optimise: bool = False  # the plan came from fix-and-optimise
    infeasible: SolveResult | None = None  # HiGHS's answer when it found the model infeasible


def bb_nodes(options: PlanOptions) -> int | None:
    """Node limit of a solve of the whole model: ``bb_nodes``, else :data:`DET_BB_NODES` in
    deterministic mode, else none (the clock bounds it)."""
    nodes = options.params.get("bb_nodes")
    if nodes is None and options.deterministic:
        nodes = DET_BB_NODES
    return nodes


def branch_and_bound(
    form: StandardForm,
    start: np.ndarray | None,
    options: PlanOptions,
    time_limit: float | None,
    notes: list[str],
    progress: highs.Progress | None = None,
) -> SolveResult:
    """HiGHS on the whole model from the MIP start; an 'infeasible' is checked without presolve
    (HiGHS 1.15's presolve has declared feasible models of this kind infeasible)."""
    t0 = time.perf_counter()
    nodes = bb_nodes(options)
    with solver_faults("highs"):
        res = highs.solve(form, start, options, time_limit, node_limit=nodes, progress=progress)
    if res.start_accepted is not None:
        notes.append(f"MIP start {'accepted' if res.start_accepted else 'rejected'} by HiGHS")
    if res.status == "infeasible":
        notes.append("HiGHS said infeasible; re-solved with presolve off")
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1.0)
        with solver_faults("highs"):
            again = highs.solve(
                form, start, options, left, presolve=False, node_limit=nodes, progress=progress
            )
        again.solve_s += res.solve_s
        res = again
    return res


def whole_model_search(
    form: StandardForm,
    v0: np.ndarray | None,
    options: PlanOptions,
    limit: float | None,
    notes: list[str],
    n_binaries: int,
    progress: highs.Progress | None = None,
) -> Search:
    """Branch-and-bound on the whole model (from the start plan unless ``warm_start=False``;
    fix-and-optimise always starts from a plan); ``progress(primal, dual)`` as it goes."""
    start = v0 if options.warm_start else None
    res = branch_and_bound(form, start, options, limit, notes, progress)
    if res.status == "infeasible":
        return Search(None, "infeasible", res.solve_s, infeasible=res)
    notes.append(f"branch-and-bound on {n_binaries} binaries: {res.status}")
    return Search(
        values=res.values,
        status=res.status,
        solve_s=res.solve_s,
        interrupted=res.interrupted,
        ran_out=res.status == "time_limit",
        start_accepted=res.start_accepted,
        bound=res.bound,
    )


def bound_with_every_move(
    scenario: Scenario,
    obj: Objective,
    options: PlanOptions,
    ix: IndexSets,
    mx: Matrix,
    form: StandardForm,
    values: np.ndarray,
    time_limit: float | None,
    notes: list[str],
) -> float | None:
    """HiGHS's bound on the model that keeps every move (MIP start: the plan found).

    The model searched leaves out moves a job's slack cannot absorb; the model with them too
    gives a bound that holds for every plan (its tiny-miss plans are not returned). It is
    MODEL.md's model, without any change a caller made to the model searched: a bound of
    MODEL.md's objective.
    """
    full_ix, full_mx = build_matrix(scenario, obj, options.deadlines, absorbed_moves=False)
    if full_ix.restricted:
        return None
    plan = read_assignments(ix, mx, form.to_matrix_order(values, mx.n_cols))
    full = highs.from_matrix(full_mx)
    v0 = start_vector(full_ix, full_mx, plan)
    # a tenth of the gap asked for: the plan returned is the restricted model's, which may be
    # worse than this model's incumbent (a plan with a tiny miss), so its bound must be tight
    quiet = replace(options, log_file=None, mip_gap=0.1 * options.mip_gap)
    with solver_faults("highs"):
        res = highs.solve(full, v0, quiet, time_limit, node_limit=bb_nodes(options))
    notes.append(f"bound from the model with every move: {res.bound} ({res.status})")
    return res.bound


def sub_time(params: dict) -> float | None:
    """Seconds per fix-and-optimise sub-MILP: ``lns_sub_time``, else :data:`LNS_SUB_TIME` — or
    no limit when the search is bounded by ``lns_neighbourhoods`` (a work-based budget: no
    clock in the result)."""
    if "lns_sub_time" in params:
        return float(params["lns_sub_time"])
    return None if params.get("lns_neighbourhoods") is not None else LNS_SUB_TIME


def work_budget(options: PlanOptions, n_jobs: int) -> dict[str, Any]:
    """The parameters of fix-and-optimise with deterministic mode's defaults filled in:
    ``lns_size`` (:data:`DET_SIZE`), ``lns_neighbourhoods`` (:data:`DET_PASSES` passes over the
    jobs, at least :data:`DET_MIN_NEIGHBOURHOODS`) and ``lns_sub_nodes``
    (:data:`DET_SUB_NODES`)."""
    params = dict(options.params)
    if options.deterministic:
        params.setdefault("lns_size", DET_SIZE)
        size = int(params["lns_size"])
        if params.get("lns_neighbourhoods") is None:
            passes = math.ceil(DET_PASSES * n_jobs / max(size, 1))
            params["lns_neighbourhoods"] = max(DET_MIN_NEIGHBOURHOODS, passes)
        if params.get("lns_sub_nodes") is None:
            params["lns_sub_nodes"] = DET_SUB_NODES
        params.pop("lns_sub_time", None)  # seconds would put the clock back into the plan
    return params


def check_cluster(options: PlanOptions) -> None:
    """Before anything is planned: a ``scheduler`` address that is not a Dask scheduler fails
    now, naming it (:func:`greenopt.solvers.cluster.probe`: Dask's client would wait on it for
    ever), and deterministic mode asks for ``workers`` — the neighbourhoods of a round — since
    a cluster's count of workers depends on the machine and the moment."""
    scheduler, workers = options.params.get("scheduler"), options.params.get("workers")
    if scheduler is None and workers is None:
        return
    if options.deterministic and workers is None:
        raise OptionsError(
            "deterministic mode solves a fixed number of fix-and-optimise neighbourhoods a "
            f"round on a Dask cluster: give workers=N with scheduler={scheduler!r} (the "
            "cluster's own count of workers depends on the machine and the moment)",
            "workers",
        )
    if scheduler not in (None, "local"):
        cluster.probe(scheduler)


def _cluster(options: PlanOptions, notes: list[str]) -> tuple[cluster.Cluster | None, int]:
    """The Dask cluster the sub-MILPs go to — ``scheduler`` (``"local"`` or an address) and/or
    ``workers`` (a local cluster of that many) — and the neighbourhoods of a round: the
    cluster's workers, or in deterministic mode ``workers`` (a count of the options, not of the
    machine). ``(None, 1)``: solved here, one after the other."""
    scheduler, workers = options.params.get("scheduler"), options.params.get("workers")
    if scheduler is None and workers is None:
        return None, 1
    pool = cluster.Cluster(scheduler or "local", workers)
    batch = int(workers) if options.deterministic and workers else pool.workers
    notes.append(f"fix-and-optimise's sub-MILPs on {pool.where}: {batch} neighbourhoods a round")
    return pool, batch


def lns_first_share(
    options: PlanOptions, clock: Clock, v0: np.ndarray | None, n_jobs: int
) -> float:
    """The share of the time left that fix-and-optimise gets before branch-and-bound on a model
    of at most ``bb_max`` binaries (``lns_first``, default :data:`LNS_FIRST`): none without a
    start plan or a time limit (branch-and-bound alone then runs to the gap asked for), or in
    deterministic mode (a share of seconds is a clock: :func:`lns_first_neighbourhoods`).

    Also none, unless ``lns_first`` is given, on a day of at most two neighbourhoods of jobs
    (:data:`LNS_SIZE`): each sub-MILP is then most of the model, so fix-and-optimise is
    branch-and-bound done many times. Measured on 12 jobs × 4 sites × 12 slots: 35
    neighbourhoods in 30 s (14 sub-MILPs at their time limit) and then branch-and-bound, 32.7 s
    in all, against 4.7 s for branch-and-bound alone to the same 1 % gap (24.4062 vs 24.4072).
    """
    given = "lns_first" in options.params
    share = float(options.params.get("lns_first", LNS_FIRST))
    if v0 is None or not options.warm_start or clock.limit is None or options.deterministic:
        return 0.0
    if not given and n_jobs <= 2 * int(options.params.get("lns_size", LNS_SIZE)):
        return 0.0
    return min(max(share, 0.0), 1.0)


def lns_first_neighbourhoods(options: PlanOptions, v0: np.ndarray | None, n_jobs: int) -> int:
    """Deterministic mode's counterpart of :func:`lns_first_share` (0 elsewhere, or with
    ``lns_first=0``, or without a start plan): the neighbourhoods fix-and-optimise gets before
    branch-and-bound (which then has ``bb_nodes``) — ``lns_neighbourhoods`` when given, else
    :func:`work_budget`'s count scaled by ``lns_first`` / :data:`LNS_FIRST` (one pass over the
    jobs at the default share). Work, not seconds: the same plan on any machine."""
    share = min(max(float(options.params.get("lns_first", LNS_FIRST)), 0.0), 1.0)
    if not options.deterministic or v0 is None or not options.warm_start or share <= 0:
        return 0
    given = options.params.get("lns_neighbourhoods")
    if given is not None:
        return int(given)
    base = int(work_budget(options, n_jobs)["lns_neighbourhoods"])
    return max(1, math.ceil(base * share / LNS_FIRST))


def fix_and_optimise_search(
    ix: IndexSets,
    mx: Matrix,
    form: StandardForm,
    v0: np.ndarray,
    options: PlanOptions,
    clock: Clock,
    target: float | None,
    notes: list[str],
    progress: Callable[[float], None] | None = None,
    budget: float | None = None,
    neighbourhoods: int | None = None,
    exchange: highs.Exchange | None = None,
    outlast: bool = False,
    lagrange: Any = None,
) -> Search:
    """Fix-and-optimise (:mod:`greenopt.solvers.lns`) from ``v0`` until the time is up (or
    ``budget`` seconds are spent, or — a work budget — ``neighbourhoods`` are solved), each
    sub-MILP solved by HiGHS on one core (on a Dask cluster, ``scheduler``/``workers``, a round
    of them at once, merged in the order they were drawn); then, with ``params["bb_after"]``
    seconds, branch-and-bound from its plan. ``progress(objective)`` is called at each
    improvement. ``exchange``: plans traded with a branch-and-bound running beside it
    (:func:`race_search`), which it stops with when that one ends — unless ``outlast``: then it
    goes on to ``target`` or its budget. ``lagrange``: a pricing pass's view of the day
    (:class:`~greenopt.milp.schedules.LagrangianView`) to draw neighbourhoods from."""
    params = work_budget(options, ix.J)
    if neighbourhoods is not None:
        params["lns_neighbourhoods"] = int(neighbourhoods)
    t_solve = time.perf_counter()
    settings = SubSettings(
        mip_gap=float(params.get("lns_sub_gap", LNS_SUB_GAP)),
        seed=int(options.seed),
        highs_options=dict(params.get("highs_options") or {}),
        node_limit=params.get("lns_sub_nodes"),
    )

    def solve_sub(
        sub: StandardForm, x0: np.ndarray, limit: float | None
    ) -> tuple[np.ndarray | None, str, bool]:
        with solver_faults("highs"):
            return cluster.solve_sub(sub, x0, limit, settings)

    def improved(r: Any) -> None:
        if exchange is not None:
            exchange.offer(r.values, r.objective)
        if progress is not None:
            progress(r.objective)

    pool, batch = _cluster(options, notes)
    if budget is None:
        budget = clock.left(reserve=True)
    ours = np.flatnonzero(form.col_index >= 0)  # the rest are a caller's: free, owned by no job
    at = np.full(mx.n_cols, -1, dtype=np.int64)
    at[form.col_index[ours]] = ours
    unmet_col = np.full(ix.J, -1, dtype=np.int64)
    if "unmet" in mx.cols:
        unmet_col = at[mx.cols["unmet"].cols(np.arange(ix.J))]
    col_job = np.full(form.n_cols, -1, dtype=np.int64)
    col_job[ours] = column_jobs(ix, mx)[form.col_index[ours]]

    def polish(v: np.ndarray) -> np.ndarray | None:
        left = clock.left(reserve=True)
        with solver_faults("highs"):
            return highs.polish(form, v, options, None if left is None else 0.5 * left)

    def many(
        subs: list[tuple[StandardForm, np.ndarray, float | None]],
    ) -> list[tuple[np.ndarray | None, str, bool]]:
        assert pool is not None
        with solver_faults("highs"):
            return pool.solve_many(subs, settings)

    hoods = neighbourhoods_for(ix, mx, at, lagrange)
    try:
        lns = fix_and_optimise(
            form,
            col_job,
            v0,
            hoods,
            ix.T,
            solve_sub,
            budget_s=math.inf if budget is None else budget,
            seed=int(options.seed),
            size=int(params.get("lns_size", LNS_SIZE)),
            sub_time=sub_time(params),
            max_neighbourhoods=params.get("lns_neighbourhoods"),
            target=target,
            unmet_col=unmet_col,
            polish=polish,
            polish_every=max(5.0, 0.15 * budget) if budget is not None else 30.0,
            progress=improved,
            solve_many=None if pool is None else many,
            batch=batch,
            external=None if exchange is None else exchange.take,
            stop=None if exchange is None or outlast else exchange.done.is_set,
        )
    finally:
        if pool is not None:
            pool.close()
    values, interrupted = lns.values, lns.interrupted
    if params.get("bb_after", 0) and not interrupted:
        res = branch_and_bound(form, values, options, float(params["bb_after"]), notes)
        notes.append(f"branch-and-bound after: {res.status} {res.objective} {res.bound}")
        if res.values is not None and form.objective(res.values) < form.objective(values):
            values = res.values
    ran_out = budget is not None and lns.seconds >= budget - 0.1
    notes.append(
        f"fix-and-optimise: {lns.iterations} neighbourhoods, {lns.improvements} "
        f"improvements, {lns.seconds:.1f} s ({mx.n_integer} binaries in the model); "
        f"sub-MILPs: {dict(sorted(lns.sub_status.items()))}"
    )
    return Search(
        values=values,
        status="interrupted" if interrupted else ("time_limit" if ran_out else "feasible"),
        solve_s=time.perf_counter() - t_solve,
        interrupted=interrupted,
        ran_out=ran_out,
        history=list(lns.history),
        fix_and_optimise=True,
    )


def race_search(
    ix: IndexSets,
    mx: Matrix,
    form: StandardForm,
    v0: np.ndarray,
    options: PlanOptions,
    clock: Clock,
    limit: float | None,
    target: float | None,
    notes: list[str],
    progress: Callable[[float], None] | None = None,
    live: highs.Progress | None = None,
) -> Search:
    """Fix-and-optimise on this thread and HiGHS's branch-and-bound on the whole model (one
    thread) beside it, at once, for ``limit`` seconds, trading plans (:class:`~greenopt.solvers.
    highs.Exchange`): each plan fix-and-optimise finds is handed to HiGHS (its root heuristics
    and dives start from it), each plan HiGHS finds becomes fix-and-optimise's incumbent. The
    better plan of the two; the search ends when branch-and-bound does (its gap reached, or
    the time).

    Why: one after the other (fix-and-optimise for a share of the time, then branch-and-bound
    from its plan), branch-and-bound spent its whole share in its root node's cut rounds on a
    loaded machine (real-trace days, 300 jobs × 6 sites, ~4,600 binaries: 26 s of cuts, no
    plan better than fix-and-optimise's), and fix-and-optimise's sub-MILPs use one core."""
    t0 = time.perf_counter()
    exchange = highs.Exchange()
    cancel = highs.Cancel()
    out: list[Any] = []
    one = replace(options, threads=1)

    def bb() -> None:
        try:
            with solver_faults("highs"):
                out.append(
                    highs.solve(
                        form,
                        v0,
                        one,
                        limit,
                        node_limit=bb_nodes(options),
                        progress=live,
                        exchange=exchange,
                        cancel=cancel,
                    )
                )
        except BaseException as exc:  # re-raised on this thread below
            out.append(exc)
        finally:
            exchange.done.set()

    thread = threading.Thread(target=bb, name="greenopt-race-bb", daemon=True)
    thread.start()
    try:
        lns = fix_and_optimise_search(
            ix,
            mx,
            form,
            v0,
            options,
            clock,
            target,
            notes,
            progress,
            budget=limit,
            exchange=exchange,
            # branch-and-bound ends at its gap to its own bound, which bounds only the model
            # searched when moves were left out (ix.restricted): the plan's reported gap is to
            # the relaxation's lower bound, so fix-and-optimise goes on until that gap is met
            # (real day 2023-01-15 stopped at 38 s with 1.05 % reported, 22 s unused)
            outlast=ix.restricted and target is not None,
        )
    except BaseException:
        cancel.cancel()  # a solve left running would outlive the plan
        thread.join()
        raise
    reached = target is not None and lns.values is not None and form.objective(lns.values) <= target
    if lns.interrupted or reached:
        cancel.cancel()  # Ctrl-C, or a plan within the gap of the relaxation's bound
    # fix-and-optimise ended first (it stalled, or reached the target): HiGHS goes on
    while thread.is_alive():
        try:
            thread.join(0.1)
        except KeyboardInterrupt:
            cancel.cancel()
            lns.interrupted = True
    res = out[0] if out else None
    if isinstance(res, BaseException):
        raise res
    assert res is not None
    notes.append(
        f"branch-and-bound beside fix-and-optimise (1 thread each): {res.status}, {res.objective}"
    )
    values, status = lns.values, lns.status
    if res.values is not None and (values is None or _lower(form, res.values, values)):
        values = res.values
    interrupted = lns.interrupted or res.interrupted
    if interrupted:
        status = "interrupted"
    elif reached or res.status in ("optimal", "feasible"):
        status = "feasible"  # within the gap: of the relaxation's bound, or of HiGHS's
    elif res.status == "time_limit" or lns.ran_out:
        status = "time_limit"
    return Search(
        values=values,
        status=status,
        solve_s=time.perf_counter() - t0,
        interrupted=interrupted,
        ran_out=status == "time_limit",
        history=list(lns.history),
        start_accepted=res.start_accepted,
        bound=res.bound,
        fix_and_optimise=False,
    )


def _lower(form: StandardForm, v: np.ndarray, than: np.ndarray) -> bool:
    a, b = form.objective(v), form.objective(than)
    return a < b - 1e-9 * max(1.0, abs(b))
