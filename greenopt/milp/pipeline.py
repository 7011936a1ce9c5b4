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
   the MILP is restricted), and the sites it runs each job at are the job's candidates.
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
from greenopt.milp.clock import Clock
from greenopt.milp.diagnose import precheck_hard
from greenopt.milp.model import MilpModel
from greenopt.milp.prepare import BB_MAX_BINARIES, TOP_SITES, check_solver, prepare
from greenopt.milp.solve import solve
from greenopt.milp.start import START_PASSES, start_plan
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario

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
    ``lns_neighbourhoods``, ``extend``)."""
    clock = Clock(options.time_limit)
    check_solver(options)
    if options.deadlines == "hard":
        precheck_hard(scenario)
    # before anything is built: a model too large for memory fails now, naming its sizes
    limits.check_milp(scenario, int(options.params.get("bb_max", BB_MAX_BINARIES)))
    if not scenario.jobs:  # an idle day (MODEL.md §4): nothing to decide, whatever the solver
        return _idle(scenario, options)
    prep = prepare(scenario, options, clock)
    extend = options.params.get("extend")
    if extend is not None:
        extend(MilpModel(scenario, prep))
    return solve(prep, options, clock)


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
