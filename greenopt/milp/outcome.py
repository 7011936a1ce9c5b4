"""The MILP's last step, for every solver: read the solution back, keep the better of it and the
start plan, score it with the shared evaluator, and settle bound, gap and status — in one place.

* **The plan** (:func:`finish`): the plan read back (:mod:`greenopt.milp.solve`: run shares
  cleaned so that solver tolerances cannot break validity, kept only if no worse than the start
  plan), or the start plan (``fallback``, or ``interrupted`` after Ctrl-C), scored by the
  evaluator like every other method's plan.
* **Bound, gap, status** (:func:`settle`): the bound never exceeds the plan's objective (rounding
  the incumbent's shares can only cost 1e-9s); ``gap = (objective − bound) / |objective|``, or
  ``None`` without a bound; a solver's ``optimal``/``feasible`` becomes ``optimal`` only once the
  gap to the true bound is closed (a restricted model's optimum is not the problem's). The
  objective is MODEL.md's, or the model's own when its caller changed the objective
  (``gap_basis``; see :mod:`greenopt.milp.extension`).
"""

from __future__ import annotations

from typing import Any

from greenopt.evaluate import evaluate
from greenopt.options import PlanOptions
from greenopt.result import Plan, PlanStatus
from greenopt.scenario import Scenario

#: A gap at or below this is closed.
GAP_CLOSED = 1e-6


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
    gap_basis: float | None = None,
    **facts: Any,
) -> Plan:
    """The MILP's :class:`Plan`: ``found`` (or ``start`` when nothing better was found), scored by
    the evaluator, with its bound, gap and status settled (:func:`settle`; against
    ``gap_basis`` when given) and ``notes`` and the solver ``facts`` (``build_s``, ``solve_s``,
    ``solver``, ``solver_version``) attached."""
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
    settle(result, bound, restricted=restricted, value=gap_basis)
    result.notes.extend(notes)
    return result


def settle(
    result: Plan, bound: float | None, *, restricted: bool, value: float | None = None
) -> None:
    """Set ``result``'s bound, gap and status from ``bound`` (a lower bound of every plan, or
    ``None``) — the one place the MILP does (see the module docstring). ``restricted``: the
    model solved left out sites or moves, so its own optimum is not the problem's. ``value``:
    the objective the bound bounds, when not the plan's (MODEL.md's)."""
    value = result.kpis["objective"] if value is None else value
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
