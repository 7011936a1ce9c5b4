"""Step 1 of the MILP: the start plan — the MIP start, the fallback, and the schedules that seed
the schedule relaxation (a module of its own so that :mod:`.prepare` and :mod:`.schedules` both
use it without importing each other).

The greedy's re-placement passes stop after :data:`~greenopt.milp.clock.START_SHARE` of the
whole call's time limit (its first pass always completes), never in deterministic mode; its
ejection moves are off (``eject=0``): with them the start changed fix-and-optimise's course,
and what they add to the MILP's search is left to a measurement.
"""

from __future__ import annotations

import time

from greenopt.evaluate import evaluate
from greenopt.heuristics.greedy import GreedySettings, greedy_state
from greenopt.milp.clock import START_SHARE, Clock
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: Re-placement passes of the greedy plan that starts the MILP (each about one greedy's time).
START_PASSES = 2
#: The start's greedy: its passes, no ejection moves, and the placement it has always had (moves
#: inside the feasibility domain, no route row) — the greedy's own defaults changed for quality
#: (issue 15); what they would change in the MILP's search is left to a measurement.
START_SETTINGS = GreedySettings(passes=START_PASSES, eject=0, domain=True, route=False)


def start_plan(scenario: Scenario, options: PlanOptions, clock: Clock | None = None) -> Plan:
    """The MIP start and fallback: the greedy plan with :data:`START_PASSES` re-placement passes
    — cut short after :data:`~greenopt.milp.clock.START_SHARE` of ``clock``'s time limit (its
    first pass always completes), never in deterministic mode."""
    t0 = time.perf_counter()
    deadline = None if clock is None else clock.deadline(START_SHARE)
    state = greedy_state(scenario, options.objective, START_SETTINGS, deadline)
    return evaluate(
        scenario,
        state.assignments(),
        method="greedy",
        objective=options.objective,
        deadlines=options.deadlines,
        status="heuristic",
        solve_s=time.perf_counter() - t0,
    )
