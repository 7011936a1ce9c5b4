"""The MILP method: ``plan(scenario, method="milp", ...)``.

One pipeline for every size, each step reusing the last (MODEL.md in
``greenopt/formulations``, §10–11, has the math), each step a function below and the pieces in
their own modules (:mod:`.relaxation`, :mod:`.candidates`, :mod:`.search`, :mod:`.outcome`,
:mod:`.other` for other solvers, :mod:`.clock`, :mod:`.diagnose`):

1. **Start**: the greedy plan (``greenopt.heuristics.greedy``, with its re-placement passes) —
   the MIP start, and the plan returned if the solver finds nothing better (status
   ``fallback``).
2. **Relaxation**: the LP of :mod:`greenopt.formulations.relaxation` over every site a job's
   state can reach. Its optimum is a lower bound of every plan (the *reported bound* whenever
   the MILP is restricted), and the sites it runs each job at are the job's candidates.
3. **Model**: the MILP over each job's origin, its LP sites and the sites of the start plan,
   built as a Pyomo model once and compiled once to standard form
   (:func:`greenopt.solvers.highs.compile_pyomo`) — that, not HiGHS, is the measured-fastest
   hand-off.
4. **Solve**: up to ``bb_max`` binaries (default :data:`BB_MAX_BINARIES`) HiGHS runs
   branch-and-bound on the whole model from the start plan; above it, fix-and-optimise
   (:mod:`greenopt.solvers.lns`) re-solves it a few jobs at a time, exactly, with HiGHS, while the
   bound LP with the presence rows runs beside it in a second thread.
5. **Read back** the run shares (binaries rounded, tolerance noise cleaned) and score them
   with the shared evaluator, so the MILP's KPIs are computed like every other method's; the
   better of that plan and the start plan is returned, with bound, gap and status settled in
   one place (:mod:`.outcome`).

Statuses: ``optimal`` (gap closed), ``feasible`` (stopped within ``mip_gap``, or
fix-and-optimise found no further improvement), ``time_limit`` (best plan found when time ran
out), ``interrupted`` (Ctrl-C), ``fallback`` (nothing better than the start plan: it is
returned). The bound is HiGHS's when it solved the unrestricted model, else the relaxation's
(the larger of the two when both are valid), so the gap is always against a true lower bound.
When HiGHS reports a model infeasible it is asked again with presolve off before it is believed.

Any other Pyomo MILP solver (``solver="cbc"``, ``"glpk"``, ``"appsi_highs"``, ...) gets the same
model through ``pyomo.environ.SolverFactory`` (:mod:`.other`; ``appsi_highs`` receives the MIP
start).

Only the solver's own exceptions become :class:`~greenopt.errors.SolverError` (each solver call
is wrapped in :func:`~greenopt.solvers.solver_faults`); an exception anywhere else is greenopt's
bug and surfaces as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from greenopt import limits
from greenopt.errors import OptionsError, SolverError
from greenopt.evaluate import evaluate
from greenopt.formulations.build import build_matrix
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.pyomo_model import to_pyomo
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import sites_used, start_vector
from greenopt.heuristics.greedy import GreedySettings, greedy_state
from greenopt.milp.candidates import binaries_estimate, candidate_pairs, lp_sites, reachable_columns
from greenopt.milp.clock import (
    MATRIX_S_PER_COL,
    PYOMO_S_PER_COL,
    PYOMO_SHARE,
    START_SHARE,
    Clock,
    time_limit_of,
)
from greenopt.milp.diagnose import explain_hard, precheck_hard
from greenopt.milp.other import plan_other
from greenopt.milp.outcome import better_plan, finish
from greenopt.milp.relaxation import (
    HUGE_COLS,
    PRESENCE_MAX_COLS,
    Background,
    Relaxation,
    solve_relaxation,
)
from greenopt.milp.search import (
    Search,
    bound_with_every_move,
    fix_and_optimise_search,
    whole_model_search,
)
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs, solver_faults
from greenopt.solvers.highs import SolveResult, StandardForm
from greenopt.solvers.pyomo_any import available_solvers

#: Branch-and-bound on the whole model up to this many binaries; fix-and-optimise above.
BB_MAX_BINARIES = 8_000
#: Re-placement passes of the greedy plan that starts the MILP (each about one greedy's time).
START_PASSES = 2
#: The ``candidates`` parameter's default: best-scoring sites per job on huge models.
TOP_SITES = 2


def plan_milp(scenario: Scenario, options: PlanOptions) -> Plan:
    """The MILP planner (see the module docstring and :data:`greenopt.options.METHOD_PARAMS`
    for its parameters: ``bb_max``, ``handoff``, ``lns_size``, ``lns_sub_time``,
    ``lns_neighbourhoods``, ``presence``,
    ``candidates``, ``highs_options``, ``progress``, ``measure_direct``, ``bb_after``)."""
    clock = Clock(time_limit_of(options), deterministic=options.deterministic)
    if options.deterministic and options.threads is None:
        # HiGHS's default is the machine's core count: one thread is the same everywhere
        options = replace(options, threads=1)
    if options.deterministic and options.solver != "highs":
        raise OptionsError(
            f"deterministic mode bounds HiGHS by work (node limits, a count of neighbourhoods); "
            f"solver {options.solver!r} gets no such budget here: use solver='highs', or plan "
            "without deterministic=True",
            "deterministic",
        )
    if options.solver != "highs" and options.solver not in available_solvers():
        raise SolverError(
            f"solver {options.solver!r} is not available; "
            f"available: {', '.join(available_solvers())}"
        )
    if options.deadlines == "hard":
        precheck_hard(scenario)
    # before anything is built: a model too large for memory fails now, naming its sizes
    limits.check_milp(scenario, int(options.params.get("bb_max", BB_MAX_BINARIES)))
    if not scenario.jobs:  # an idle day (MODEL.md §4): nothing to decide, whatever the solver
        return _idle(scenario, options)
    notes: list[str] = [_budget_note(options, clock)]
    # -- 1. the start plan
    start = start_plan(scenario, options, clock)
    used = sites_used(scenario, start.assignments)
    if options.solver != "highs":
        other = plan_other(scenario, options, start, used, clock, notes)
        return other if isinstance(other, Plan) else _infeasible(scenario, options, other)
    # the steps below cannot be stopped once started: estimated from the model's size first
    columns = limits.milp_estimate(scenario, int(options.params.get("bb_max", BB_MAX_BINARIES)))
    n_cols = columns.sizes["model columns"]
    clock.expect_columns(n_cols)
    if not clock.fits(MATRIX_S_PER_COL * n_cols):
        return _out_of_time(scenario, options, start, clock, notes, n_cols)
    # -- 2. the relaxation: bound and candidate sites
    step = _relaxation(scenario, options, used, clock, notes)
    # -- 3. the model, built and compiled once
    model = _model(scenario, options, step.keep, start, clock, notes)
    clock.expect_columns(model.mx.n_cols)
    # -- 4. search
    search = _search(scenario, options, step, model, clock, notes)
    if search.infeasible is not None:
        return _infeasible(scenario, options, search.infeasible)
    if options.deterministic and search.ran_out:
        notes.append(
            "the time limit stopped the search before its work budget: this plan depends on "
            "the clock and is not repeatable (raise time_limit, or lower the work budget)"
        )
    bound = _bound(scenario, options, step, search, clock, notes)
    values = _polish(model, search, options, step.beside is None, clock, notes)
    # -- 5. read back, score, settle bound, gap and status
    ix, mx, form = model.ix, model.mx, model.form
    full = None if values is None else form.to_matrix_order(values, mx.n_cols)
    found = better_plan(scenario, options, ix, mx, full, start)
    result = finish(
        scenario,
        options,
        found,
        start,
        search.status,
        bound,
        restricted=ix.restricted,
        interrupted=search.interrupted,
        notes=notes,
        build_s=model.build_s,
        solve_s=search.solve_s,
        solver="highs",
        solver_version=highs.highs_version(),
    )
    if found is not None and values is not None:
        result.solver_objective = form.objective(values)
    result.start_accepted = search.start_accepted
    result.history = list(search.history)
    result.timings = {
        **model.timings,
        "binaries": float(mx.n_integer),
        "columns": float(mx.n_cols),
    }
    return result


def start_plan(scenario: Scenario, options: PlanOptions, clock: Clock | None = None) -> Plan:
    """The MIP start and fallback: the greedy plan with :data:`START_PASSES` re-placement passes
    — cut short after :data:`~greenopt.milp.clock.START_SHARE` of the time limit (its first pass
    always completes), never in deterministic mode."""
    deadline = None if clock is None else clock.deadline(START_SHARE)
    settings = GreedySettings(passes=START_PASSES)
    state = greedy_state(scenario, options.objective, settings, deadline)
    return evaluate(
        scenario,
        state.assignments(),
        method="greedy",
        objective=options.objective,
        deadlines=options.deadlines,
        status="heuristic",
    )


def _budget_note(options: PlanOptions, clock: Clock) -> str:
    """What bounds this run, in the plan's notes (and whether it is repeatable)."""
    if options.deterministic:
        safety = "" if clock.limit is None else f"; time limit {clock.limit:g} s as a safety net"
        return (
            "deterministic mode: work-based budgets (neighbourhoods, branch-and-bound nodes), "
            f"{options.threads} solver thread(s){safety}"
        )
    if clock.limit is None:
        return "no time limit"
    given = "" if options.time_limit is not None else " (the default)"
    return f"time limit {clock.limit:g} s{given} for the whole call; not repeatable run to run"


def _out_of_time(
    scenario: Scenario,
    options: PlanOptions,
    start: Plan,
    clock: Clock,
    notes: list[str],
    n_cols: float,
) -> Plan:
    """The start plan, when the time left cannot build the model (status ``time_limit``)."""
    notes.append(
        f"time limit: building the model of about {n_cols:,.0f} columns would take about "
        f"{MATRIX_S_PER_COL * n_cols:.0f} s of the {clock.left(reserve=True):.1f} s left; the "
        "start plan is returned (raise time_limit, or plan with method='greedy')"
    )
    return finish(
        scenario,
        options,
        start,
        start,
        "time_limit",
        None,
        restricted=True,
        notes=notes,
        build_s=0.0,
        solve_s=0.0,
        solver="highs",
        solver_version=highs.highs_version(),
    )


# -- 2. the relaxation ----------------------------------------------------------------------------
@dataclass
class _RelaxationStep:
    relax: Relaxation  # solved before the search (no bound when it runs beside it instead)
    keep: list[set[int]]  # per job, the sites the model keeps besides its origin
    presence: bool  # whether the bound LP already has the presence rows
    launch: Callable[..., Background | None]  # launch(presence_rows, pairs=None): one beside
    beside: Background | None = None  # the relaxation running beside the search, if one is
    #: in deterministic mode, the bound LP solved after the search instead of beside it:
    #: (presence rows, job-site pairs or None)
    after: tuple[bool, np.ndarray | None] | None = None


def _relaxation(
    scenario: Scenario,
    options: PlanOptions,
    used: list[set[int]],
    clock: Clock,
    notes: list[str],
) -> _RelaxationStep:
    """Solve the relaxation before the search (its sites become the candidates), or, on huge
    models, start it beside the search and take the candidates from scores and the start plan."""
    obj = options.objective

    def beside(presence_rows: bool, pairs: np.ndarray | None = None) -> Background | None:
        """The relaxation solved in a second thread, on one core, until the time is up — in
        deterministic mode not at all: it is solved after the search (:func:`_bound`)."""
        if options.deterministic:
            return None
        return Background(
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

    n_reach = reachable_columns(scenario)
    top = int(options.params.get("candidates", TOP_SITES))
    pairs = candidate_pairs(scenario, obj, used, top=top)
    if n_reach > HUGE_COLS:
        # too large to solve before the MILP: candidates from the start plan and the sites'
        # scores, and the bound by column generation beside the search, on its own core
        keep = [set(np.flatnonzero(row).tolist()) for row in pairs]
        relax = Relaxation(None, None, 0.0, "solved beside the search", False)
        # presence=True: no second bound LP beside fix-and-optimise
        step = _RelaxationStep(relax, keep, True, beside, beside(False, pairs))
        if options.deterministic:
            step.after = (False, pairs)
        return step
    presence = bool(options.params.get("presence", n_reach <= PRESENCE_MAX_COLS))
    relax = solve_relaxation(
        scenario, obj, options.deadlines, options, presence, clock.share(0.3), pairs
    )
    notes.append(
        f"relaxation LP ({'with' if presence else 'without'} presence rows): "
        f"{relax.status}, bound {relax.bound}, {relax.seconds:.2f} s"
    )
    return _RelaxationStep(relax, lp_sites(used, relax.work), presence, beside)


# -- 3. the model ---------------------------------------------------------------------------------
@dataclass
class _Model:
    ix: IndexSets
    mx: Matrix
    form: StandardForm
    whole: bool  # every reachable site kept (the model's bound is a true one)
    build_s: float
    v0: np.ndarray | None  # the start plan's column values, compiled order
    timings: dict[str, float] = field(default_factory=dict)


def _model(
    scenario: Scenario,
    options: PlanOptions,
    keep: list[set[int]],
    start: Plan,
    clock: Clock,
    notes: list[str],
) -> _Model:
    """The MILP over the candidate sites (every reachable site when it has at most ``bb_max``
    binaries), built as a Pyomo model and compiled once to standard form (``handoff="direct"``:
    the same arrays straight to HiGHS), with the start plan as its MIP start.

    Unless ``handoff`` is given, a model whose Pyomo build would not fit in
    :data:`~greenopt.milp.clock.PYOMO_SHARE` of the time left goes straight to HiGHS (the same
    model; never by the clock in deterministic mode)."""
    params = options.params
    bb_max = int(params.get("bb_max", BB_MAX_BINARIES))
    t_build = time.perf_counter()
    whole = binaries_estimate(scenario) <= bb_max  # small: every reachable site, a true bound
    ix, mx = build_matrix(
        scenario, options.objective, options.deadlines, keep=None if whole else keep
    )
    timings = {"matrix_s": time.perf_counter() - t_build}
    direct = params.get("handoff") == "direct"
    pyomo_s = PYOMO_S_PER_COL * mx.n_cols
    if "handoff" not in params and not clock.fits(pyomo_s, PYOMO_SHARE):
        direct = True
        notes.append(
            f"the model ({mx.n_cols:,} columns) went straight to HiGHS: its Pyomo build would "
            f"take about {pyomo_s:.0f} s of the {clock.left(reserve=True):.0f} s left"
        )
    if direct:
        form = highs.from_matrix(mx)
    else:
        t = time.perf_counter()
        pyomo_model = to_pyomo(mx, scenario.name)
        timings["pyomo_s"] = time.perf_counter() - t
        t = time.perf_counter()
        form = highs.compile_pyomo(pyomo_model)
        timings["compile_s"] = time.perf_counter() - t
        del pyomo_model
    build_s = time.perf_counter() - t_build
    if params.get("measure_direct"):
        # the benchmark's reference: the same arrays straight into highspy, no Pyomo
        with solver_faults("highs"):
            timings["direct_passmodel_s"] = highs.pass_model_seconds(highs.from_matrix(mx))
            timings["pyomo_passmodel_s"] = highs.pass_model_seconds(form)
    v0 = start_vector(ix, mx, start.assignments)
    if v0 is None:
        notes.append("warm start: the start plan uses runs or moves outside the model")
    v0 = v0[form.col_index] if v0 is not None else None
    return _Model(ix, mx, form, whole, build_s, v0, timings)


# -- 4. search ------------------------------------------------------------------------------------
def _search(
    scenario: Scenario,
    options: PlanOptions,
    step: _RelaxationStep,
    model: _Model,
    clock: Clock,
    notes: list[str],
) -> Search:
    """Branch-and-bound up to ``bb_max`` binaries (or without a start plan), else
    fix-and-optimise with the tighter bound LP beside it when the first one lacked its rows."""
    ix, mx, form, v0 = model.ix, model.mx, model.form, model.v0
    bb_max = int(options.params.get("bb_max", BB_MAX_BINARIES))
    report = options.params.get("progress")
    if mx.n_integer <= bb_max or v0 is None:
        limit = clock.left(reserve=True)
        if model.whole and ix.restricted and limit is not None:
            limit *= 0.7  # the rest for the bound with every move (below)
        live = None
        if report is not None:

            def live(primal: float | None, dual: float | None) -> None:
                if primal is not None:
                    report(clock.elapsed(), primal, dual)

        search = whole_model_search(form, v0, options, limit, notes, mx.n_integer, progress=live)
        if search.infeasible is not None:
            return search
        if ix.restricted:
            search.bound = None  # the restricted model's bound bounds nothing
            room = clock.fits(PYOMO_S_PER_COL * 1.5 * mx.n_cols, 0.5)
            if model.whole and search.values is not None and not search.interrupted and room:
                # only moves a job's slack cannot absorb were left out: the model with them
                # too gives a bound that holds for every plan
                search.bound = bound_with_every_move(
                    scenario,
                    options.objective,
                    options,
                    ix,
                    mx,
                    form,
                    search.values,
                    clock.left(reserve=True),
                    notes,
                )
        return search
    if not step.presence:
        # the tighter bound LP runs beside fix-and-optimise, each on one core (after it, in
        # deterministic mode: two threads racing would make the plan depend on timing)
        step.beside = step.launch(True)
        if options.deterministic:
            step.after = (True, None)
    relax = step.relax
    target = None
    if relax.bound is not None:
        target = relax.bound + options.mip_gap * abs(relax.bound)
    return fix_and_optimise_search(
        ix,
        mx,
        form,
        v0,
        options,
        clock,
        target,
        notes,
        progress=None
        if report is None
        else lambda objective: report(clock.elapsed(), objective, relax.bound),
    )


def _bound(
    scenario: Scenario,
    options: PlanOptions,
    step: _RelaxationStep,
    search: Search,
    clock: Clock,
    notes: list[str],
) -> float | None:
    """The best true lower bound: the relaxation's, the search's over a model with every
    reachable site and move, and the relaxation's beside the search (stopped now if the time
    ran out or Ctrl-C came, else waited for) — in deterministic mode solved now, after the
    search, on the same thread."""
    bounds = [b for b in (step.relax.bound, search.bound) if b is not None]
    if step.after is not None and not search.interrupted:
        presence, pairs = step.after
        late = solve_relaxation(
            scenario,
            options.objective,
            options.deadlines,
            options,
            presence,
            clock.left(reserve=True),
            pairs,
        )
        if late.bound is not None:
            bounds.append(late.bound)
        notes.append(
            f"relaxation LP after the search ({'with' if presence else 'without'} presence "
            f"rows): {late.status}, bound {late.bound}"
        )
    if step.beside is not None:
        late = step.beside.result(wait=not search.ran_out and not search.interrupted)
        if late is not None and late.bound is not None:
            bounds.append(late.bound)
            notes.append(
                f"relaxation LP beside the search ({'with' if late.presence else 'without'} "
                f"presence rows): {late.status}, bound {late.bound:.6g}"
            )
        else:
            notes.append("the relaxation LP beside the search did not finish: no bound")
    return max(bounds) if bounds else None


def _polish(
    model: _Model,
    search: Search,
    options: PlanOptions,
    nothing_beside: bool,
    clock: Clock,
    notes: list[str],
) -> np.ndarray | None:
    """After branch-and-bound, an LP with the binaries fixed removes slack a relative gap leaves
    (fix-and-optimise polishes as it goes; with a relaxation beside the search, time is up)."""
    values = search.values
    if values is None or search.interrupted or not nothing_beside or search.fix_and_optimise:
        return values
    form = model.form
    left = clock.left()
    with solver_faults("highs"):
        better = highs.polish(form, values, options, None if left is None else 0.5 * left)
    if better is not None and form.objective(better) < form.objective(values) - 1e-9:
        notes.append(
            f"LP polish with the binaries fixed: {form.objective(values):.6g} → "
            f"{form.objective(better):.6g}"
        )
        values = better
    return values


def _idle(scenario: Scenario, options: PlanOptions) -> Plan:
    """The plan of a scenario without jobs: the sites' idle energy, optimal by definition."""
    idle = evaluate(
        scenario,
        [],
        method="milp",
        objective=options.objective,
        deadlines=options.deadlines,
        status="optimal",
        solver=options.solver,
    )
    idle.bound, idle.gap = idle.kpis["objective"], 0.0
    idle.notes.append("no jobs: the plan is the sites' idle energy")
    return idle


def _infeasible(scenario: Scenario, options: PlanOptions, res: SolveResult) -> Plan:
    if options.deadlines == "hard":
        raise explain_hard(scenario, options, plan_milp)
    raise SolverError(f"{res.solver} reports the soft-deadline model infeasible")
