"""The MILP method: ``plan(scenario, method="milp", ...)``.

One pipeline for every size, each step reusing the last (MODEL.md in
``greenopt/formulations``, §10–11, has the math):

1. **Start**: the greedy plan (``greenopt.heuristics.greedy``, with its re-placement passes) —
   the MIP start, and the plan returned if the solver finds nothing better (status
   ``fallback``).
2. **Relaxation**: the LP of :mod:`greenopt.formulations.relaxation` over every site a job's
   state can reach. Its optimum is a lower bound of every plan (the *reported bound* whenever
   the MILP is restricted), and the sites it runs each job at are the job's candidates.
3. **Model**: the MILP over each job's origin, its LP sites and the sites of the start plan,
   built as a Pyomo model once and compiled once to standard form
   (:func:`greenopt.highs.compile_pyomo`) — that, not HiGHS, is the measured-fastest hand-off.
4. **Solve**: up to ``bb_max`` binaries (default :data:`BB_MAX_BINARIES`) HiGHS runs
   branch-and-bound on the whole model from the start plan; above it, fix-and-optimise
   (:mod:`greenopt.lns`) re-solves it a few jobs at a time, exactly, with HiGHS, while the
   bound LP with the presence rows runs beside it in a second thread.
5. **Read back** the run shares (binaries rounded, tolerance noise cleaned) and score them
   with the shared evaluator, so the MILP's KPIs are computed like every other method's; the
   better of that plan and the start plan is returned.

Statuses: ``optimal`` (gap closed), ``feasible`` (stopped within ``mip_gap``, or
fix-and-optimise found no further improvement), ``time_limit`` (best plan found when time ran
out), ``interrupted`` (Ctrl-C), ``fallback`` (nothing better than the start plan: it is
returned). The bound is HiGHS's when it solved the unrestricted model, else the relaxation's
(the larger of the two when both are valid), so the gap is always against a true lower bound.
When HiGHS reports a model infeasible it is asked again with presolve off before it is believed.

Any other Pyomo MILP solver (``solver="cbc"``, ``"glpk"``, ``"appsi_highs"``, ...) gets the same
model through ``pyomo.environ.SolverFactory`` (``appsi_highs`` receives the MIP start).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from greenopt import highs
from greenopt.colgen import solve_by_columns
from greenopt.errors import SolverError
from greenopt.evaluate import evaluate
from greenopt.formulations.build import build_matrix, to_pyomo
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.relaxation import build_relaxation
from greenopt.formulations.solution import (
    column_jobs,
    read_assignments,
    sites_used,
    start_vector,
)
from greenopt.highs import SolveResult, StandardForm
from greenopt.lns import fix_and_optimise, neighbourhoods_for
from greenopt.milp.tidy import tidy_read_back
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: Solvers tried when listing what is available.
KNOWN_SOLVERS = ("highs", "appsi_highs", "cbc", "glpk", "scip", "gurobi", "cplex", "xpress")
#: Time-limit option names of common Pyomo solvers.
_TIME_OPTION = {
    "cbc": "seconds",
    "glpk": "tmlim",
    "gurobi": "TimeLimit",
    "cplex": "timelimit",
    "scip": "limits/time",
    "xpress": "maxtime",
}
#: Branch-and-bound on the whole model up to this many binaries; fix-and-optimise above.
BB_MAX_BINARIES = 8_000
#: The relaxation gets the presence rows (a tighter bound, a larger LP) up to this many columns
#: when it must be solved before the MILP; above, they are solved beside fix-and-optimise.
PRESENCE_MAX_COLS = 40_000
#: Re-placement passes of the greedy plan that starts the MILP (each about one greedy's time).
START_PASSES = 2
#: The relaxation (without presence rows) is solved by column generation above this many
#: columns: 2.3 s instead of 6 s on 500×10×48.
COLGEN_MIN_COLS = 20_000
#: Above this many run-share columns the relaxation is solved beside the search, not before.
HUGE_COLS = 250_000
#: A job's LP sites: those carrying at least this share of its LP work.
LP_SITE_SHARE = 0.05
#: Share of the time limit (at least ``_RESERVE_MIN_S``) kept back for the final LP polish,
#: reading back and evaluating the plan, so that the whole call ends within the limit.
_RESERVE = 0.05
_RESERVE_MIN_S = 2.0


@dataclass
class Relaxation:
    """The relaxation's answer: its lower bound and each job's LP work per site."""

    bound: float | None
    work: np.ndarray | None  # (J, S) slot-shares of LP work, None when it did not solve
    seconds: float
    status: str
    presence: bool


def solve_relaxation(
    scenario: Scenario,
    objective: Objective,
    deadlines: str,
    options: Any,
    presence: bool,
    time_limit: float | None,
    pairs: np.ndarray | None = None,
    cancel: highs.Cancel | None = None,
) -> Relaxation:
    """Solve the LP of :mod:`greenopt.formulations.relaxation` (its optimum bounds every plan).

    Above :data:`COLGEN_MIN_COLS` columns (and without the presence rows) it is solved by column
    generation (:mod:`greenopt.colgen`) from the job-site ``pairs`` ((J, S) bool: e.g. each
    job's origin and the sites of a start plan): a valid bound after every round, the LP
    optimum once converged.
    """
    t0 = time.perf_counter()
    ix, mx = build_relaxation(scenario, objective, deadlines, presence=presence)
    form = highs.from_matrix(mx)
    xb = mx.cols["x"]
    if pairs is not None and not presence and mx.n_cols > COLGEN_MIN_COLS:
        initial = np.ones(mx.n_cols, dtype=bool)
        for name in ("x", "arr"):
            block = mx.cols[name]
            if block.n:
                initial[block.cols(np.arange(block.n))] = pairs[block.keys[:, 0], block.keys[:, 1]]
        work_rows = _row_positions(mx, "work")
        cg = solve_by_columns(
            form,
            initial,
            time_limit=time_limit,
            threads=options.threads,
            kept_rows=work_rows,
            cancel=cancel,
        )
        work = None
        if cg.values is not None:
            work = np.zeros((ix.J, ix.S))
            np.add.at(work, (ix.xj, ix.xs), cg.values[xb.cols(np.arange(xb.n))])
        status = "optimal" if cg.converged else ("time_limit" if cg.bound is not None else "none")
        return Relaxation(
            bound=cg.bound,
            work=work,
            seconds=time.perf_counter() - t0,
            status=f"{status} (column generation: {cg.rounds} rounds, {cg.columns} columns)",
            presence=presence,
        )
    # interior point beats simplex by ~3× on these degenerate transport-like LPs once large
    lp_options = {"solver": "ipm"} if mx.n_cols > 20_000 else {}
    quiet = replace(options, verbose=False, log_file=None)
    res = highs.solve(
        form,
        None,
        quiet,
        time_limit,
        relax=True,
        log=False,
        highs_options=lp_options,
        cancel=cancel,
    )
    work = None
    if res.values is not None and res.status == "optimal":
        work = np.zeros((ix.J, ix.S))
        np.add.at(work, (ix.xj, ix.xs), res.values[xb.cols(np.arange(xb.n))])
    return Relaxation(
        bound=res.bound if res.status == "optimal" else None,
        work=work,
        seconds=time.perf_counter() - t0,
        status=res.status,
        presence=presence,
    )


def _row_positions(mx: Matrix, name: str) -> np.ndarray:
    """Positions of row block ``name`` among all rows of ``mx`` (in ``row_arrays`` order)."""
    offset = 0
    for block_name, block in mx.rows.items():
        if block_name == name:
            return offset + np.arange(block.n)
        offset += block.n
    raise KeyError(name)


def start_plan(scenario: Scenario, options: Any) -> Plan:
    """The MIP start and fallback: the greedy plan with :data:`START_PASSES` re-placement passes."""
    from greenopt.heuristics.greedy import plan_greedy

    return plan_greedy(scenario, replace(options, params={"passes": START_PASSES}))


class _Clock:
    """Seconds left of the time limit (``None``: no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.t0 = time.perf_counter()
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self, reserve: bool = False) -> float | None:
        """Seconds left; with ``reserve``, less what the final steps need."""
        if self.limit is None:
            return None
        keep = max(_RESERVE * self.limit, _RESERVE_MIN_S) if reserve else 0.0
        return max(self.limit - self.elapsed() - keep, 0.05)


def plan_milp(scenario: Scenario, options: Any) -> Plan:
    """The MILP planner (see the module docstring); ``options`` is a ``PlanOptions``.

    ``options.params``: ``bb_max`` (binaries up to which branch-and-bound solves the whole
    model), ``handoff="direct"`` (skip Pyomo; the benchmark's comparison), ``lns_size`` and
    ``lns_sub_time`` (jobs per neighbourhood and seconds per sub-MILP of fix-and-optimise),
    ``presence`` (force the relaxation's presence rows on or off), ``highs_options``,
    ``progress`` (called as ``progress(seconds, best objective, bound or None)`` while
    fix-and-optimise improves the plan — the command line shows it).
    """
    clock = _Clock(options.time_limit)
    obj = Objective.of(options.objective)
    params = dict(options.params)
    solver = options.solver
    if solver != "highs" and solver not in available_solvers():
        raise SolverError(
            f"solver {solver!r} is not available; available: {', '.join(available_solvers())}"
        )
    if options.deadlines == "hard":
        from greenopt.diagnose import precheck_hard

        precheck_hard(scenario)
    notes: list[str] = []
    report = params.get("progress")
    start = start_plan(scenario, options)
    used = sites_used(scenario, start.assignments)
    if solver != "highs":
        return _plan_other(scenario, options, obj, start, used, clock, notes)

    # -- 2. the relaxation: bound and candidate sites ----------------------------------------
    def beside(presence_rows: bool, pairs: np.ndarray | None = None) -> _Background:
        """The relaxation solved in a second thread, on one core, until the time is up."""
        return _Background(
            lambda cancel: solve_relaxation(
                scenario,
                obj,
                options.deadlines,
                replace(options, threads=1),
                presence_rows,
                clock.left(reserve=True),
                pairs,
                cancel,
            )
        )

    n_reach = _reachable_columns(scenario)
    background: _Background | None = None
    pairs = _candidate_pairs(scenario, obj, used, top=int(params.get("candidates", 2)))
    if n_reach > HUGE_COLS:
        # too large to solve before the MILP: candidates from the start plan and the sites'
        # scores, and the bound by column generation beside the search, on its own core
        keep = [set(np.flatnonzero(row).tolist()) for row in pairs]
        relax = Relaxation(None, None, 0.0, "solved beside the search", False)
        background = beside(False, pairs)
        presence = True  # no second bound LP
    else:
        presence = bool(params.get("presence", n_reach <= PRESENCE_MAX_COLS))
        relax = solve_relaxation(
            scenario, obj, options.deadlines, options, presence, _fraction(clock, 0.3), pairs
        )
        notes.append(
            f"relaxation LP ({'with' if presence else 'without'} presence rows): "
            f"{relax.status}, bound {relax.bound}, {relax.seconds:.2f} s"
        )
        keep = [set(s) for s in used]
        if relax.work is not None:
            share = relax.work / np.maximum(relax.work.sum(axis=1, keepdims=True), 1e-12)
            for j, row in enumerate(share):
                keep[j] |= set(np.flatnonzero(row >= LP_SITE_SHARE).tolist())

    # -- 3. the model, built and compiled once ----------------------------------------------
    bb_max = int(params.get("bb_max", BB_MAX_BINARIES))
    t_build = time.perf_counter()
    whole = _binaries_estimate(scenario) <= bb_max  # small: every reachable site, a true bound
    ix, mx = build_matrix(
        scenario, obj, options.deadlines, None, keep=None if whole else keep, extra=used
    )
    timings = {"matrix_s": time.perf_counter() - t_build}
    if params.get("handoff") == "direct":
        form = highs.from_matrix(mx)
    else:
        t = time.perf_counter()
        model = to_pyomo(mx, scenario.name)
        timings["pyomo_s"] = time.perf_counter() - t
        t = time.perf_counter()
        form = highs.compile_pyomo(model)
        timings["compile_s"] = time.perf_counter() - t
        del model
    build_s = time.perf_counter() - t_build
    if params.get("measure_direct"):
        # the benchmark's reference: the same arrays straight into highspy, no Pyomo
        timings["direct_passmodel_s"] = highs.pass_model_seconds(highs.from_matrix(mx))
        timings["pyomo_passmodel_s"] = highs.pass_model_seconds(form)
    v0 = start_vector(ix, mx, start.assignments)
    if v0 is None:
        notes.append("warm start: the start plan uses runs or moves outside the model")
    v0 = v0[form.col_index] if v0 is not None else None

    # -- 4. solve -------------------------------------------------------------------------------
    bound_model: float | None = None
    history: list[tuple[float, float]] = []
    interrupted = False
    lns_path = False
    start_accepted: bool | None = None
    if mx.n_integer <= bb_max or v0 is None:
        limit = clock.left(reserve=True)
        if whole and ix.restricted and limit is not None:
            limit *= 0.7  # the rest for the bound with every move (below)
        # warm_start=False: B&B from scratch (fix-and-optimise always starts from a plan)
        res = _branch_and_bound(form, v0 if options.warm_start else None, options, limit, notes)
        start_accepted = res.start_accepted
        values, status, solve_s = res.values, res.status, res.solve_s
        interrupted = res.interrupted
        if res.status == "infeasible":
            return _infeasible(scenario, options, res)
        notes.append(f"branch-and-bound on {mx.n_integer} binaries: {res.status}")
        if not ix.restricted:
            bound_model = res.bound
        elif whole and values is not None and not interrupted:
            # only moves a job's slack cannot absorb were left out: the model with them too
            # gives a bound that holds for every plan (its tiny-miss plans are not returned)
            bound_model = _bound_with_every_move(
                scenario, obj, options, ix, mx, form, values, clock.left(reserve=True), notes
            )
    else:
        lns_path = True
        if not presence:
            # the tighter bound LP runs beside fix-and-optimise, each on one core
            background = beside(True)
        target = None
        if relax.bound is not None:
            target = relax.bound + options.mip_gap * abs(relax.bound)
        t_solve = time.perf_counter()
        sub_options = replace(options, threads=1, verbose=False, log_file=None)

        def solve_sub(sub: StandardForm, x0: np.ndarray, limit: float):
            r = highs.solve(sub, x0, sub_options, limit, log=False, mip_gap=1e-4)
            return r.values, r.status, r.interrupted

        budget = clock.left(reserve=True)
        at = np.full(mx.n_cols, -1, dtype=np.int64)
        at[form.col_index] = np.arange(form.n_cols)
        unmet_col = np.full(ix.J, -1, dtype=np.int64)
        if "unmet" in mx.cols:
            unmet_col = at[mx.cols["unmet"].cols(np.arange(ix.J))]

        def polish(v: np.ndarray) -> np.ndarray | None:
            left = clock.left(reserve=True)
            return highs.polish(form, v, options, None if left is None else 0.5 * left)

        lns = fix_and_optimise(
            form,
            column_jobs(ix, mx)[form.col_index],
            v0,
            neighbourhoods_for(ix),
            ix.T,
            solve_sub,
            budget_s=math.inf if budget is None else budget,
            seed=int(options.seed),
            size=int(params.get("lns_size", 12)),
            sub_time=float(params.get("lns_sub_time", 2.0)),
            target=target,
            unmet_col=unmet_col,
            polish=polish,
            polish_every=max(5.0, 0.15 * budget) if budget is not None else 30.0,
            progress=None
            if report is None
            else lambda r: report(clock.elapsed(), r.objective, relax.bound),
        )
        values, history, interrupted = lns.values, lns.history, lns.interrupted
        if params.get("bb_after", 0) and not interrupted:
            res = _branch_and_bound(form, values, options, float(params["bb_after"]), notes)
            notes.append(f"branch-and-bound after: {res.status} {res.objective} {res.bound}")
            if res.values is not None and form.objective(res.values) < form.objective(values):
                values = res.values
        solve_s = time.perf_counter() - t_solve
        ran_out = budget is not None and lns.seconds >= budget - 0.1
        status = "interrupted" if interrupted else ("time_limit" if ran_out else "feasible")
        notes.append(
            f"fix-and-optimise: {lns.iterations} neighbourhoods, {lns.improvements} "
            f"improvements, {lns.seconds:.1f} s ({mx.n_integer} binaries in the model)"
        )
    bounds = [b for b in (relax.bound, bound_model) if b is not None]
    if background is not None:
        late = background.result(wait=not ran_out and not interrupted)
        if late is not None and late.bound is not None:
            bounds.append(late.bound)
            notes.append(
                f"relaxation LP beside the search ({'with' if late.presence else 'without'} "
                f"presence rows): {late.status}, bound {late.bound:.6g}"
            )
        else:
            notes.append("the relaxation LP beside the search did not finish: no bound")
    bound = max(bounds) if bounds else None

    if values is not None and not interrupted and background is None and not lns_path:
        left = clock.left()
        better = highs.polish(form, values, options, None if left is None else 0.5 * left)
        if better is not None and form.objective(better) < form.objective(values) - 1e-9:
            notes.append(
                f"LP polish with the binaries fixed: {form.objective(values):.6g} → "
                f"{form.objective(better):.6g}"
            )
            values = better

    # -- 5. read back and score --------------------------------------------------------------
    facts = {
        "build_s": build_s,
        "solve_s": solve_s,
        "solver": "highs",
        "solver_version": highs.highs_version(),
    }
    plan = start
    if values is not None:
        assignments = read_assignments(ix, mx, form.to_matrix_order(values, mx.n_cols))
        tidied = tidy_read_back(scenario, assignments, obj, options, clock.left(), notes, start)
        found = evaluate(scenario, tidied.assignments, objective=obj, deadlines=options.deadlines)
        if found.no_worse_than(start):
            plan = found
    if plan is start:
        status = "interrupted" if interrupted else "fallback"
        notes.append("nothing better than the start plan was found: the greedy plan is returned")
    result = evaluate(
        scenario,
        plan.assignments,
        method="milp",
        objective=obj,
        deadlines=options.deadlines,
        status=status,
        bound=bound,
        **facts,
    )
    value = result.kpis["objective"]
    if bound is not None:
        # rounding the incumbent's shares can only cost 1e-9s; a bound never exceeds a plan
        bound = min(bound, value)
        result.bound = bound
        result.gap = (value - bound) / max(abs(value), 1e-9)
        if status in ("optimal", "feasible"):
            # optimal only when the gap to the true bound is closed (a restricted model's
            # optimum is not the problem's)
            result.status = "optimal" if result.gap <= 1e-6 else "feasible"
    else:
        result.gap = float("nan")
    if plan is not start and values is not None:
        result.solver_objective = tidied.solver_objective or form.objective(values)
    result.start_accepted = start_accepted
    result.history = list(history)
    result.timings = {**timings, "binaries": float(mx.n_integer), "columns": float(mx.n_cols)}
    result.notes.extend(notes)
    return result


# -- the pieces of plan_milp ----------------------------------------------------------------------
def _fraction(clock: _Clock, share: float) -> float | None:
    left = clock.left()
    return None if left is None else max(share * left, 0.5)


def _candidate_pairs(
    scenario: Scenario, obj: Objective, used: list[set[int]], top: int
) -> np.ndarray:
    """(J, S) bool: each job's origin, the sites the start plan uses and its ``top`` allowed
    sites with the lowest mean :func:`~greenopt.formulations.sets._site_scores` over its window."""
    from greenopt.formulations.sets import _site_scores

    idx = scenario.index
    J, S = len(idx.job_names), len(idx.site_names)
    pairs = np.zeros((J, S), dtype=bool)
    pairs[np.arange(J), idx.origin] = True
    for j, sites in enumerate(used):
        pairs[j, list(sites)] = True
    scores = _site_scores(scenario, obj)
    csum = np.concatenate([np.zeros((S, 1)), np.cumsum(scores, axis=1)], axis=1)
    width = np.maximum(idx.end_slot - idx.first_slot, 1)
    mean = (csum[:, idx.end_slot] - csum[:, idx.first_slot]) / width  # (S, J)
    mean = np.where(idx.allowed.T, mean, np.inf)
    best = np.argsort(mean, axis=0, kind="stable")[:top].T  # (J, top)
    rows = np.repeat(np.arange(J), best.shape[1])
    ok = np.isfinite(mean[best.ravel(), rows])
    pairs[rows[ok], best.ravel()[ok]] = True
    return pairs & (idx.allowed | (np.arange(S)[None, :] == idx.origin[:, None]))


def _reachable_columns(scenario: Scenario) -> int:
    """Run-share columns of the relaxation: Σ_j (sites j may run at) × (slots of its window)."""
    idx = scenario.index
    return int(np.sum(idx.allowed.sum(axis=1) * (idx.end_slot - idx.first_slot)))


def _binaries_estimate(scenario: Scenario) -> int:
    """Move binaries of the model over every allowed site (an upper bound of the true count)."""
    idx = scenario.index
    win = (idx.end_slot - idx.first_slot).astype(float)
    c = idx.allowed.sum(axis=1).astype(float)
    mobile = idx.migratable.astype(float)
    return int(np.sum(win * (mobile * c * (c - 1) + (1 - mobile) * (c - 1))))


def _branch_and_bound(
    form: StandardForm,
    start: np.ndarray | None,
    options: Any,
    time_limit: float | None,
    notes: list[str],
) -> SolveResult:
    """HiGHS on the whole model from the MIP start; an 'infeasible' is checked without presolve
    (HiGHS 1.15's presolve has declared feasible models of this kind infeasible)."""
    t0 = time.perf_counter()
    res = highs.solve(form, start, options, time_limit)
    if res.start_accepted is not None:
        notes.append(f"MIP start {'accepted' if res.start_accepted else 'rejected'} by HiGHS")
    if res.status == "infeasible":
        notes.append("HiGHS said infeasible; re-solved with presolve off")
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1.0)
        again = highs.solve(form, start, options, left, presolve=False)
        again.solve_s += res.solve_s
        res = again
    return res


def _bound_with_every_move(
    scenario: Scenario,
    obj: Objective,
    options: Any,
    ix: Any,
    mx: Matrix,
    form: StandardForm,
    values: np.ndarray,
    time_limit: float | None,
    notes: list[str],
) -> float | None:
    """HiGHS's bound on the model that keeps every move (MIP start: the plan found)."""
    full_ix, full_mx = build_matrix(scenario, obj, options.deadlines, absorbed_moves=False)
    if full_ix.restricted:
        return None
    plan = read_assignments(ix, mx, form.to_matrix_order(values, mx.n_cols))
    full = highs.compile_pyomo(to_pyomo(full_mx, scenario.name))
    v0 = start_vector(full_ix, full_mx, plan)
    # a tenth of the gap asked for: the plan returned is the restricted model's, which may be
    # worse than this model's incumbent (a plan with a tiny miss), so its bound must be tight
    quiet = replace(options, log_file=None, mip_gap=0.1 * options.mip_gap)
    res = highs.solve(full, None if v0 is None else v0[full.col_index], quiet, time_limit)
    notes.append(f"bound from the model with every move: {res.bound} ({res.status})")
    return res.bound


def _infeasible(scenario: Scenario, options: Any, res: SolveResult) -> Plan:
    if options.deadlines == "hard":
        from greenopt.diagnose import explain_hard

        raise explain_hard(scenario, options)
    raise SolverError(f"{res.solver} reports the soft-deadline model infeasible")


class _Background:
    """Run ``work(cancel)`` in a thread (HiGHS releases the GIL while it solves)."""

    def __init__(self, work: Any) -> None:
        self._out: list[Any] = []
        self._cancel = highs.Cancel()
        self._thread = threading.Thread(
            target=lambda: self._out.append(work(self._cancel)), daemon=True
        )
        self._thread.start()

    def result(self, wait: bool) -> Any:
        """The result, waiting for it when ``wait``; otherwise HiGHS is stopped first (a solve
        left running would outlive the plan, and abort the process at exit). ``None`` if the
        work did not finish."""
        if not wait and self._thread.is_alive():
            self._cancel.cancel()
        self._thread.join()
        return self._out[0] if self._out else None


def _plan_other(
    scenario: Scenario,
    options: Any,
    obj: Objective,
    start: Plan,
    used: list[set[int]],
    clock: _Clock,
    notes: list[str],
) -> Plan:
    """A Pyomo solver other than HiGHS: the model with each job's best few sites, one solve."""
    candidates = _auto_candidates(scenario)
    ix, mx = build_matrix(scenario, obj, options.deadlines, candidates, extra=used)
    t0 = time.perf_counter()
    model = to_pyomo(mx, scenario.name)
    build_s = time.perf_counter() - t0
    v0 = start_vector(ix, mx, start.assignments)
    relax = None
    if ix.restricted:
        # the restricted model's optimum bounds nothing: the relaxation LP over every
        # reachable site does (HiGHS, always installed), as on the HiGHS path
        presence = _reachable_columns(scenario) <= PRESENCE_MAX_COLS
        relax = solve_relaxation(
            scenario, obj, options.deadlines, options, presence, _fraction(clock, 0.2)
        )
        notes.append(f"relaxation LP (HiGHS): {relax.status}, bound {relax.bound}")
    res = solve_other(model, mx, v0, options, clock.left(reserve=True))
    if res.status == "infeasible":
        return _infeasible(scenario, options, res)
    plan, status = start, "fallback"
    if res.values is not None:
        assignments = read_assignments(ix, mx, res.values)
        tidied = tidy_read_back(scenario, assignments, obj, options, clock.left(), notes, start)
        found = evaluate(scenario, tidied.assignments, objective=obj, deadlines=options.deadlines)
        if found.no_worse_than(start):
            plan, status = found, res.status
    bound = relax.bound if relax is not None else res.bound
    result = evaluate(
        scenario,
        plan.assignments,
        method="milp",
        objective=obj,
        deadlines=options.deadlines,
        status=status,
        bound=bound,
        build_s=build_s,
        solve_s=res.solve_s,
        solver=res.solver,
        solver_version=res.version,
    )
    value = result.kpis["objective"]
    if bound is not None:
        result.bound = min(bound, value)
        result.gap = (value - result.bound) / max(abs(value), 1e-9)
        if status in ("optimal", "feasible"):
            # as on the HiGHS path: optimal only once the gap to the true bound is closed
            result.status = "optimal" if result.gap <= 1e-6 else "feasible"
    else:
        result.gap = float("nan")
        if status == "optimal" and ix.restricted:
            result.status = "feasible"  # optimal for the restricted model only
    if ix.restricted:
        notes.append(f"candidate sites cut to origin + {candidates}: bound from the relaxation")
    result.notes.extend(notes)
    return result


#: Above this many move binaries, a solver other than HiGHS sees fewer candidate sites.
AUTO_MOVE_BUDGET = 60_000


def _auto_candidates(scenario: Scenario) -> int | None:
    """All sites while the move binaries stay within :data:`AUTO_MOVE_BUDGET`, else fewer."""
    idx = scenario.index
    win = (idx.end_slot - idx.first_slot).astype(float)
    mig = idx.migratable.astype(float)
    n_allowed = idx.allowed.sum(axis=1).astype(float)
    for k in (None, 4, 3, 2, 1):
        c = n_allowed if k is None else np.minimum(n_allowed, k + 1)
        moves = float(np.sum(mig * win * c * (c - 1) + (1 - mig) * win * (c - 1)))
        if moves <= AUTO_MOVE_BUDGET:
            return k
    return 1


# -- other Pyomo solvers ------------------------------------------------------------------------
def solve_other(
    model: Any, mx: Matrix, start: np.ndarray | None, options: Any, time_limit
) -> SolveResult:
    """Any Pyomo MILP solver by name (``appsi_highs`` takes the warm start)."""
    import pyomo.environ as pyo
    from pyomo.opt import TerminationCondition as TC

    name = options.solver
    try:
        opt = pyo.SolverFactory(name)
        ok = opt is not None and opt.available(exception_flag=False)
    except Exception:
        ok = False
    if not ok:
        raise SolverError(
            f"solver {name!r} is not available; available: {', '.join(available_solvers())}"
        )
    kwargs: dict[str, Any] = {"load_solutions": False}
    if start is not None and name.startswith("appsi"):
        for v, val in zip(model._columns, start.tolist(), strict=True):
            v.set_value(val, skip_validation=True)
        kwargs["warmstart"] = True
    if name.startswith("appsi"):
        opt.config.time_limit = time_limit
        opt.config.mip_gap = options.mip_gap
        opt.config.load_solution = False
        kwargs = {"warmstart": kwargs.get("warmstart", False)} if "warmstart" in kwargs else {}
    elif "rel_gap" in getattr(opt, "config", {}):  # pyomo.contrib.solver, e.g. scip_direct
        opt.config.time_limit = time_limit
        opt.config.rel_gap = options.mip_gap
    else:
        if time_limit is not None and name in _TIME_OPTION:
            # glpsol refuses a fractional --tmlim
            limit = math.ceil(time_limit) if name == "glpk" else time_limit
            opt.options[_TIME_OPTION[name]] = limit
        gap_option = {"cbc": "ratioGap", "glpk": "mipgap", "scip": "limits/gap"}.get(name)
        if gap_option is not None:
            opt.options[gap_option] = options.mip_gap
    t0 = time.perf_counter()
    results = opt.solve(model, **kwargs)
    solve_s = time.perf_counter() - t0
    tc = results.solver.termination_condition
    values = None
    try:
        model.solutions.load_from(results)
        values = np.array([v.value if v.value is not None else 0.0 for v in model._columns])
    except Exception:
        try:
            opt.load_vars()
            values = np.array([v.value if v.value is not None else 0.0 for v in model._columns])
        except Exception:
            values = None
    if values is not None and all(v.value is None for v in model._columns):
        values = None  # nothing loaded: e.g. glpsol stopped at its time limit with no solution
    if tc == TC.optimal:
        status = "optimal"
    elif tc in (TC.infeasible, TC.infeasibleOrUnbounded):
        status = "infeasible"
    elif values is not None:
        status = "time_limit" if tc in (TC.maxTimeLimit,) else "feasible"
    else:
        status = "no_solution"
    bound = None
    try:
        lb = results.problem[0].lower_bound
        bound = float(lb) if lb is not None and math.isfinite(float(lb)) else None
    except Exception:
        pass
    obj = float(pyo.value(model.obj)) if values is not None else None
    version = opt.version()
    version = ".".join(map(str, version)) if isinstance(version, tuple | list) else str(version)
    return SolveResult(status, values, obj, bound, name, version, solve_s)


def available_solvers() -> list[str]:
    import pyomo.environ as pyo

    out = []
    # scip_direct: SCIP through pyscipopt (pyomo.contrib.solver), when no scip executable
    for n in (*KNOWN_SOLVERS, "scip_direct"):
        try:
            if pyo.SolverFactory(n).available(exception_flag=False):
                out.append(n)
        except Exception:
            continue
    return out
