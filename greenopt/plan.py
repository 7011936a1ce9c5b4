"""``plan()``: the one entry point, dispatching on ``method``.

Every method is a function ``(scenario, options) -> Plan`` that :func:`planner` names explicitly;
the MILP's module is imported only when it is asked for, so that a heuristic user never imports
Pyomo. The options are checked by :class:`~greenopt.options.PlanOptions` before anything runs.

Every method plans the scenario's *canonical form* (:func:`canonical_scenario`: sites and jobs
sorted by name, the WAN rebuilt with its nodes and links in sorted order), so the order in which
a scenario lists its sites, jobs or WAN links can never change a plan; the plan's tables are then
presented in the caller's order (:func:`present_in_order_of`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from greenopt import limits
from greenopt.errors import ScenarioError
from greenopt.heuristics.baselines import (
    plan_follow_renewables,
    plan_greenest_region,
    plan_run_now,
    plan_threshold,
)
from greenopt.heuristics.guided import plan_guided
from greenopt.heuristics.online import plan_online
from greenopt.milp.diagnose import raise_if_missed
from greenopt.options import METHODS, PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.scenario.canonical import canonical_scenario, present_in_order_of

if TYPE_CHECKING:
    from greenopt.milp.model import MilpModel

__all__ = [
    "METHODS",
    "PlanOptions",
    "build_model",
    "canonical_scenario",
    "plan",
    "planner",
    "present_in_order_of",
]

Planner = Callable[[Scenario, PlanOptions], Plan]
#: greenopt's logger: each plan's start and its notes at INFO (the command line shows them with
#: ``-v``; a library user configures ``logging`` as usual).
log = logging.getLogger("greenopt")


def planner(method: str) -> Planner:
    """The function that plans with ``method`` (one of :data:`~greenopt.options.METHODS`)."""
    if method == "milp":
        from greenopt.milp.pipeline import plan_milp  # Pyomo: only when the MILP is asked for

        return plan_milp
    heuristics: dict[str, Planner] = {
        "greedy": plan_guided,  # the plain greedy and, on days of ≤ 1000 jobs, LP-guided runs
        "online": plan_online,
        "run-now": plan_run_now,
        "threshold": plan_threshold,
        "greenest-region": plan_greenest_region,
        "follow-renewables": plan_follow_renewables,
    }
    return heuristics[method]


def build_model(
    scenario: Scenario, objective: Any = "carbon", deadlines: str = "soft", **options: Any
) -> MilpModel:
    """The MILP of ``scenario`` as a labelled Pyomo model you can read, write, extend and solve
    (a :class:`~greenopt.milp.model.MilpModel`): ``model.pyomo`` is the ``ConcreteModel``,
    ``model.solve(...)`` returns the :class:`Plan` through the pipeline of
    ``plan(method="milp")`` with whatever was added to the model first, ``model.write(path)``
    writes it as an LP file.

    ``options`` are those of ``plan(method="milp")`` (checked the same way); those that shape
    the model (``candidates``, ``presence``, ...) are given here, the others may also be given to
    ``solve``. Like ``plan()``, the model is of the scenario's canonical form (names are
    unchanged) and the plan is presented in the scenario's order. Building runs the MILP's first
    steps: the greedy start plan, and the relaxation that bounds it and, on large models, picks
    each job's candidate sites.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError(
            f"build_model() needs a greenopt.Scenario, got {type(scenario).__name__}", "scenario"
        )
    opts = PlanOptions.from_call("milp", objective=objective, deadlines=deadlines, **options)
    from greenopt.milp.model import build_model as build  # Pyomo: only when a model is asked for

    return build(scenario, opts)


def plan(scenario: Scenario, method: str | None = None, **options: Any) -> Plan:
    """Plan ``scenario`` with ``method`` and return the evaluated :class:`Plan`.

    ``method``: ``milp`` (the default; Pyomo + ``solver``), ``greedy``, ``online``, ``run-now``,
    ``threshold``, ``greenest-region``, ``follow-renewables``. ``options``: ``solver``
    (``"highs"``), ``objective`` (``"carbon"``), ``deadlines`` (``"soft"``), ``time_limit``
    (seconds the whole MILP call may take; unset: :data:`~greenopt.options.DEFAULT_MILP_TIME_LIMIT`,
    ``math.inf``: none), ``mip_gap`` (``0.01``), ``threads``, ``seed`` (``0``), ``warm_start``
    (``True``), ``deterministic`` (``False``: work-based budgets, the same plan every run),
    ``memory_budget`` (``"16GiB"``, :mod:`greenopt.limits`), ``log_file``, ``verbose``
    (``False``) — the defaults are
    :class:`~greenopt.options.PlanOptions`'s — and the method's own parameters
    (:data:`greenopt.options.METHOD_PARAMS`). An unknown name, a value of the wrong type or out
    of range raises :class:`~greenopt.errors.OptionsError` naming it (with the closest known
    name). ``method="milp"`` also takes ``extend=fn``: ``fn(model)`` is called with the MILP as
    :func:`build_model` returns it, before it is solved, to add constraints, variables or
    objective terms to ``model.pyomo`` (a Python function only: a scenario file cannot set it),
    and ``start=plan_or_table``: a plan to start from (a :class:`Plan` or a ``job, slot, site,
    share`` table — an earlier plan of a changed problem, say): its jobs' rows that still obey
    the rules here are kept, the rest placed by the greedy, and the better of that and the
    greedy's own plan is the MIP start and fallback (:mod:`greenopt.milp.start`; Python only).
    ``deadlines="hard"`` raises :class:`~greenopt.errors.InfeasibleError` naming the jobs that
    cannot be met.

    **Order does not matter.** The method plans :func:`canonical_scenario` of ``scenario``:
    sites sorted by name, jobs sorted by name, the WAN with its nodes and links in sorted order.
    Two scenarios that differ only in the order of their sites, jobs or WAN links (or in the
    direction a link is written, ``a–b`` or ``b–a``) therefore get the same plan: the same
    ``(job, slot, site, share)`` rows, migrations, energy, KPIs, objective and status. The tables
    are presented in the order of the scenario passed in — ``assignments`` and ``migrations`` by
    job (in ``scenario.jobs`` order) then slot, ``energy`` by site (in ``scenario.sites`` order)
    then slot, ``jobs`` in ``scenario.jobs`` order — i.e. as ``evaluate(scenario, ...)`` would
    present them. Solver facts (status, bound, gap, timings, notes) are kept as the method
    reported them. A scenario already in canonical order is planned as it is, with no copy.

    **Faults.** A solver that fails (an exception from the solver or its Pyomo interface, not
    greenopt's own) raises :class:`~greenopt.errors.SolverError` naming the method and solver,
    with the original exception chained; Ctrl-C during a HiGHS solve returns the best plan so
    far with ``status == "interrupted"``.
    """
    t0 = time.perf_counter()  # the time limit bounds the whole call, the planner's import too
    if not isinstance(scenario, Scenario):
        raise ScenarioError(
            f"plan() needs a greenopt.Scenario, got {type(scenario).__name__}", "scenario"
        )
    opts = PlanOptions.from_call(method, **options)
    with limits.timed_call(t0):
        run = planner(opts.method)
        log.info("planning %r with %s (%s)", scenario.name, opts.method, opts.objective.name)
        with limits.budget_of_call(opts.memory_budget):
            canonical = canonical_scenario(scenario)
            result = run(canonical, opts)
    if canonical is not scenario:
        present_in_order_of(scenario, result)
    result.wall_s = time.perf_counter() - t0
    for note in result.notes:
        log.info("%s: %s", opts.method, note)
    log.info(
        "%s: status %s, objective %.6g, %.2f s", opts.method, result.status, result.objective,
        result.wall_s,
    )  # fmt: skip
    if opts.deadlines == "hard":
        raise_if_missed(canonical, result, opts.method)
    return result
