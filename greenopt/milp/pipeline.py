"""The MILP method: ``plan(scenario, method="milp", ...)``.

One pipeline for every size, each step reusing the last (MODEL.md in
``greenopt/formulations``, §10–11, has the math), steps 1–3 in :mod:`.prepare`, steps 4–5 in
:mod:`.solve`, the pieces in their own modules (:mod:`.relaxation`, :mod:`.candidates`,
:mod:`.search`, :mod:`.outcome`, :mod:`.other` for other solvers, :mod:`.extension` for a model
its caller changed, :mod:`.clock`, :mod:`.diagnose`):

1. **Start**: the greedy plan (``greenopt.heuristics.greedy``, with its re-placement passes) —
   the MIP start, and the plan returned if the solver finds nothing better (status
   ``fallback``).
2. **Relaxation**: the LP of :mod:`greenopt.formulations.relaxation` over every site a job's
   state can reach. Its optimum is a lower bound of every plan (the *reported bound* whenever
   the MILP is restricted), and the sites it runs each job at are the job's candidates. Its
   optimum also steers the greedy (:func:`greenopt.milp.start.guided_start`): that plan is
   the start instead when it is better (``guided_start``, on by default). On huge models it is
   solved beside the search instead, by column generation; its first restricted master is
   solved here for the guided start when it fits (:func:`greenopt.milp.prepare.first_master`).
3. **Model**: the MILP over each job's origin, its LP sites and the sites of the start plan
   (every reachable site up to ``bb_max`` binaries), as numpy arrays, and — when it is needed —
   as the labelled Pyomo model :func:`greenopt.build_model` returns
   (:mod:`greenopt.formulations.pyomo_model`). ``extend=fn`` calls ``fn(model)`` here with that
   model (a :class:`~greenopt.milp.model.MilpModel`), so the caller can add constraints,
   variables or objective terms to ``model.pyomo`` before it is solved.
4. **Solve**: the model handed to HiGHS in standard form (exactly the Pyomo model with the
   caller's changes; the arrays themselves when there is none), up to ``bb_max`` binaries
   (default :data:`BB_MAX_BINARIES`) branch-and-bound on the whole model from the start plan;
   above it, fix-and-optimise (:mod:`greenopt.solvers.lns`) re-solves it a few jobs at a time,
   exactly, with HiGHS, while the bound LP with the presence rows runs beside it in a second
   thread.
5. **Read back** the run shares (binaries rounded, tolerance noise cleaned) and score them
   with the shared evaluator, so the MILP's KPIs are computed like every other method's; the
   better of that plan and the start plan is returned, with bound, gap and status settled in
   one place (:mod:`.outcome`).

**Limits.** ``time_limit`` bounds the whole call (:mod:`.clock`): the start plan's re-placement
passes stop after a share of it, a model that cannot be built in the time left is not started
(the start plan is returned, status ``time_limit``), and a reserve is kept for reading back.
``deterministic=True`` replaces every wall-clock budget by a work budget (HiGHS node limits, a
count of fix-and-optimise neighbourhoods, one solver thread, the bound LP solved after the
search instead of beside it): the same input gives the same plan; a time limit given there is
only a safety net, and a plan it cuts says so. The plan's first note says which budget ran.

Statuses: ``optimal`` (gap closed), ``feasible`` (stopped within ``mip_gap``, or
fix-and-optimise found no further improvement), ``time_limit`` (best plan found when time ran
out), ``interrupted`` (Ctrl-C), ``fallback`` (nothing better than the start plan: it is
returned). The bound is HiGHS's when it solved the unrestricted model, else the relaxation's
(the larger of the two when both are valid), so the gap is always against a true lower bound.
When HiGHS reports a model infeasible it is asked again with presolve off before it is believed.

Any other Pyomo MILP solver (``solver="cbc"``, ``"glpk"``, ``"appsi_highs"``, ...) gets the
labelled model through ``pyomo.environ.SolverFactory`` (:mod:`.other`; ``appsi_highs`` receives
the MIP start).

Only the solver's own exceptions become :class:`~greenopt.errors.SolverError` (each solver call
is wrapped in :func:`~greenopt.solvers.solver_faults`); an exception anywhere else is greenopt's
bug and surfaces as it is.
"""

from __future__ import annotations

from greenopt import limits
from greenopt.evaluate import evaluate
from greenopt.milp.clock import MATRIX_S_PER_COL, PYOMO_S_PER_COL, Clock, budget_note, milp_clock
from greenopt.milp.diagnose import precheck_hard
from greenopt.milp.model import MilpModel
from greenopt.milp.outcome import finish
from greenopt.milp.prepare import (
    BB_MAX_BINARIES,
    TOP_SITES,
    check_solver,
    prepare,
    run_options,
    wants_pyomo,
)
from greenopt.milp.solve import solve
from greenopt.milp.start import START_PASSES, start_plan
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs

__all__ = [
    "BB_MAX_BINARIES",
    "START_PASSES",
    "TOP_SITES",
    "check_solver",
    "plan_milp",
    "start_plan",
]


def plan_milp(scenario: Scenario, options: PlanOptions) -> Plan:
    """The MILP planner (see the module docstring and :data:`greenopt.options.METHOD_PARAMS`
    for its parameters: ``bb_max``, ``handoff``, ``lns_size``, ``lns_sub_time``, ``presence``,
    ``candidates``, ``highs_options``, ``progress``, ``measure_direct``, ``bb_after``,
    ``lns_neighbourhoods``, ``lns_sub_nodes``, ``bb_nodes``, ``extend``)."""
    clock = milp_clock(options)
    check_solver(options)
    options = run_options(options)
    if options.deadlines == "hard":
        precheck_hard(scenario)
    # before anything is built: a model too large for memory fails now, naming its sizes
    limits.check_milp(scenario, int(options.params.get("bb_max", BB_MAX_BINARIES)))
    if not scenario.jobs:  # an idle day (MODEL.md §4): nothing to decide, whatever the solver
        return _idle(scenario, options)
    # -- 1. the start plan (cut short by the clock, never in deterministic mode)
    start = start_plan(scenario, options, clock)
    late = _out_of_time(scenario, options, start, clock)
    if late is not None:
        return late
    # -- 2–3. the relaxation and the model
    prep = prepare(scenario, options, clock, start=start)
    extend = options.params.get("extend")
    if extend is not None:
        extend(MilpModel(scenario, prep))
    # -- 4–5. search, read back, settle bound, gap and status
    return solve(prep, options, clock)


def _out_of_time(
    scenario: Scenario, options: PlanOptions, start: Plan, clock: Clock
) -> Plan | None:
    """The start plan (status ``time_limit``) when the model cannot be built in the time left:
    the matrix (and the labelled Pyomo model, when one is asked for) cannot be stopped once
    started, so they are estimated from the model's size first (:mod:`.clock`). Never in
    deterministic mode, nor for a model its caller extends (only a solve of that model answers
    them)."""
    if options.solver != "highs" or options.params.get("extend") is not None:
        return None
    columns = limits.milp_estimate(scenario, int(options.params.get("bb_max", BB_MAX_BINARIES)))
    n_cols = float(columns.sizes["model columns"])
    clock.expect_columns(n_cols)
    per_col = MATRIX_S_PER_COL + (PYOMO_S_PER_COL if wants_pyomo(options) else 0.0)
    if clock.fits(per_col * n_cols):
        return None
    notes = [
        budget_note(options, clock),
        f"time limit: building the model of about {n_cols:,.0f} columns would take about "
        f"{per_col * n_cols:.0f} s of the {clock.left(reserve=True):.1f} s left; the start plan "
        "is returned (raise time_limit, or plan with method='greedy')",
    ]
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
