"""Step 1 of the MILP: the start plan — the MIP start, the fallback, and the schedules that seed
the schedule relaxation (a module of its own so that :mod:`.prepare` and :mod:`.schedules` both
use it without importing each other)."""

from __future__ import annotations

from dataclasses import replace

from greenopt.heuristics.greedy import plan_greedy
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: Re-placement passes of the greedy plan that starts the MILP (each about one greedy's time).
START_PASSES = 2


def start_plan(scenario: Scenario, options: PlanOptions) -> Plan:
    """The MIP start and fallback: the greedy plan with :data:`START_PASSES` re-placement passes."""
    return plan_greedy(scenario, replace(options, method="greedy", params={"passes": START_PASSES}))
