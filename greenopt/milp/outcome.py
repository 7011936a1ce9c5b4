"""The MILP's last step, for every solver: read the solution back, keep the better of it and the
start plan, score it with the shared evaluator, and settle bound, gap and status — in one place.

* **Read back** (:func:`better_plan`): run shares from the column values, cleaned so that solver
  tolerances cannot break validity (:func:`greenopt.formulations.solution.read_assignments`),
  evaluated like every other method's plan; kept only if no worse than the start plan (fewer
  unmet hours, then a lower objective) — otherwise the start plan is returned (``fallback``, or
  ``interrupted`` after Ctrl-C).
* **Bound, gap, status** (:func:`settle`): the bound never exceeds the plan's objective (rounding
  the incumbent's shares can only cost 1e-9s); ``gap = (objective − bound) / |objective|``, or
  ``None`` without a bound; a solver's ``optimal``/``feasible`` becomes ``optimal`` only once the
  gap to the true bound is closed (a restricted model's optimum is not the problem's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from greenopt.evaluate import evaluate
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import read_assignments
from greenopt.options import PlanOptions
from greenopt.result import Plan, PlanStatus
from greenopt.scenario import Scenario

#: A gap at or below this is closed.
GAP_CLOSED = 1e-6


def better_plan(
    scenario: Scenario,
    options: PlanOptions,
    ix: IndexSets,
    mx: Matrix,
    values: np.ndarray | None,
    start: Plan,
) -> Plan | None:
    """The plan of ``values`` (column values in matrix order) if it is no worse than ``start``;
    ``None`` when there are no values or the plan is worse."""
    if values is None:
        return None
    found = evaluate(
        scenario,
        read_assignments(ix, mx, values),
        objective=options.objective,
        deadlines=options.deadlines,
    )
    return found if found.no_worse_than(start) else None


def finish(
    scenario: Scenario,
    options: PlanOptions,
    found: Plan | None,
    start: Plan,
    status: str,
    bound: float | None,
    *,
    restricted: bool,
    interrupted: bool = False,
    notes: list[str],
    **facts: Any,
) -> Plan:
    """The MILP's :class:`Plan`: ``found`` (or ``start`` when nothing better was found), scored by
    the evaluator, with its bound, gap and status settled (:func:`settle`) and ``notes`` and the
    solver ``facts`` (``build_s``, ``solve_s``, ``solver``, ``solver_version``) attached."""
    plan = found
    if plan is None:
        plan = start
        status = PlanStatus.INTERRUPTED if interrupted else PlanStatus.FALLBACK
        notes.append("nothing better than the start plan was found: the greedy plan is returned")
    result = evaluate(
        scenario,
        plan.assignments,
        method="milp",
        objective=options.objective,
        deadlines=options.deadlines,
        status=status,
        **facts,
    )
    settle(result, bound, restricted=restricted)
    result.notes.extend(notes)
    return result


def settle(result: Plan, bound: float | None, *, restricted: bool) -> None:
    """Set ``result``'s bound, gap and status from ``bound`` (a lower bound of every plan, or
    ``None``) — the one place the MILP does (see the module docstring). ``restricted``: the
    model solved left out sites or moves, so its own optimum is not the problem's."""
    value = result.kpis["objective"]
    if bound is None:
        result.bound = None
        result.gap = None
        if result.status == PlanStatus.OPTIMAL and restricted:
            result.status = PlanStatus.FEASIBLE  # optimal for the restricted model only
        return
    result.bound = min(bound, value)
    result.gap = (value - result.bound) / max(abs(value), 1e-9)
    if result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE):
        result.status = PlanStatus.OPTIMAL if result.gap <= GAP_CLOSED else PlanStatus.FEASIBLE
