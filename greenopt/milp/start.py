"""Step 1 of the MILP: the start plan — the MIP start, the fallback, and the schedules that seed
the schedule relaxation (a module of its own so that :mod:`.prepare` and :mod:`.schedules` both
use it without importing each other).

The greedy's re-placement passes stop after :data:`~greenopt.milp.clock.START_SHARE` of the
whole call's time limit (its first pass always completes), never in deterministic mode; its
ejection moves are off (``eject=0``): with them the start changed fix-and-optimise's course,
and what they add to the MILP's search is left to a measurement.

**A plan to start from** (the ``start`` parameter: a :class:`~greenopt.result.Plan` or a ``job,
slot, site, share`` table, e.g. the rest of an earlier plan of a changed problem): its rows are
*carried* into the greedy's capacity state job by job in urgency order — a job's rows whole when
they still obey every rule of MODEL.md §5 given the rows carried before them, else dropped —
the jobs left (not in it, dropped, or short of their work) are placed by the greedy, and the
re-placement passes run over the lot (:func:`carried_state`). The better of that plan and the
greedy's own is the start. ``operate()`` gives each decision's MILP the rest of the previous
decision's plan this way (docs/operate.md), so the search of one decision goes on from where the
last one stopped instead of from a fresh greedy plan.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import OptionsError, PlanError
from greenopt.evaluate import evaluate, normalise_assignments
from greenopt.heuristics.greedy import (
    GreedySettings,
    greedy_state,
    improve,
    place_job,
    repair_short,
    urgency_order,
)
from greenopt.heuristics.guided import GuideVariant, LpGuide, best_guided, variants_for
from greenopt.heuristics.state import CapacityState, placement
from greenopt.milp.clock import START_SHARE, Clock
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: Re-placement passes of the greedy plan that starts the MILP (each about one greedy's time).
START_PASSES = 2
#: The start's greedy: its passes, no ejection moves, and the placement it has always had (moves
#: inside the feasibility domain, no route row) — the greedy's own defaults changed for quality
#: (issue 15); what they would change in the MILP's search is left to a measurement.
START_SETTINGS = GreedySettings(passes=START_PASSES, eject=0, domain=True, route=False)
#: The LP-guided start (:func:`guided_start`) is estimated at this many start plans' time per
#: guided run, and runs only when that fits in :data:`GUIDED_START_SHARE` of the time left.
GUIDED_START_COST = 3.0
#: By default (``guided_start`` not given) days of at most this many jobs keep the greedy's
#: start: branch-and-bound solves their whole model from it in well under a second, and the
#: guided runs would double a tiny day's plan time (10 jobs: 0.11 → 0.30 s).
GUIDED_START_MIN_JOBS = 24
#: The guided runs' greedy: the greedy's defaults, without the LP re-timing, with the start's
#: re-placement passes on every day (the greedy's defaults drop them above 1,000 jobs; guided
#: and unpolished, 2000×20×96 ended at 1690.2 against the plain one-pass 1531.9, polished at
#: 1283.4 against the start's 1414.9).
GUIDED_SETTINGS = GreedySettings(passes=START_PASSES, retime=False)
GUIDED_START_SHARE = 0.25


def start_plan(scenario: Scenario, options: PlanOptions, clock: Clock | None = None) -> Plan:
    """The MIP start and fallback: the greedy plan with :data:`START_PASSES` re-placement passes
    — cut short after :data:`~greenopt.milp.clock.START_SHARE` of ``clock``'s time limit (its
    first pass always completes), never in deterministic mode. With a ``start`` parameter, the
    better of that and the plan carried from it (:func:`carried_state`; the module docstring)."""
    t0 = time.perf_counter()
    deadline = None if clock is None else clock.deadline(START_SHARE)
    settings = START_SETTINGS
    given = options.params.get("start")
    notes: list[str] = []
    plan = None
    if given is not None:
        # carried first: it is the better start as a rule, so it gets the passes' time
        rows = start_rows(scenario, given)
        state, kept, dropped = carried_state(scenario, options.objective, rows, settings, deadline)
        plan = _scored(scenario, options, state, t0)
        notes.append(
            f"start plan carried from the one given: {kept} job(s) kept, {dropped} dropped "
            "(they broke a rule here), the rest placed by the greedy"
        )
    greedy = _scored(
        scenario, options, greedy_state(scenario, options.objective, settings, deadline), t0
    )
    if plan is None:
        return greedy
    if not plan.no_worse_than(greedy):
        notes.append(
            f"the greedy's own plan ({greedy.objective:.6g}) beat the carried one "
            f"({plan.objective:.6g}): it is the start"
        )
        plan = greedy
    plan.solve_s = time.perf_counter() - t0
    plan.notes.extend(notes)
    return plan


def guided_start(
    scenario: Scenario,
    options: PlanOptions,
    guide: LpGuide | None,
    start: Plan,
    clock: Clock | None = None,
    notes: list[str] | None = None,
) -> Plan:
    """The better of ``start`` and the greedy steered by the relaxation's optimum ``guide`` (the
    LP-guided greedy's variants, :mod:`greenopt.heuristics.guided`, :func:`start_variants` of
    them): the relaxation is solved before the search anyway (on huge models, its first
    restricted master: :func:`greenopt.milp.prepare.first_master`), so its guidance costs only
    the greedy runs. ``guided_start=False`` (or no ``guide``: the relaxation did not solve, or
    its master did not fit in the time) keeps ``start``; left
    out, so do days of at most :data:`GUIDED_START_MIN_JOBS` jobs (``True``: every day). Cut
    out, not short, by the clock: skipped when :data:`GUIDED_START_COST` start plans' time does
    not fit in :data:`GUIDED_START_SHARE` of the time left (its runs are bounded by placements,
    never by seconds, so a plan it returns does not depend on the machine's load). What it did
    is appended to ``notes``."""
    notes = [] if notes is None else notes
    if guide is None or not wants_guided_start(scenario, options):
        return start
    variants = start_variants(len(scenario.jobs))
    need = guided_start_cost(scenario, start)
    if clock is not None and not clock.fits(need, GUIDED_START_SHARE):
        notes.append(
            f"LP-guided start skipped: about {need:.1f} s, more than "
            f"{GUIDED_START_SHARE:.0%} of the time left"
        )
        return start
    t0 = time.perf_counter()
    # not LP re-timed: the search re-times every plan, and the start it is compared with is not
    best, name = best_guided(scenario, options, guide, variants, GUIDED_SETTINGS, start, t0)
    spent = time.perf_counter() - t0
    if name is None:
        notes.append(f"LP-guided start found no better plan ({spent:.2f} s)")
        return start
    best.solve_s = start.solve_s + spent
    notes.append(
        f"start plan: LP-guided greedy ({name}) from the relaxation's optimum, objective "
        f"{start.objective:.6g} → {best.objective:.6g} ({spent:.2f} s)"
    )
    return best


def wants_guided_start(scenario: Scenario, options: PlanOptions) -> bool:
    """Whether :func:`guided_start` runs, given a guide: ``guided_start`` not ``False``, a day
    the LP-guided greedy takes (:func:`start_variants`) and, unless
    ``guided_start=True``, more than :data:`GUIDED_START_MIN_JOBS` jobs."""
    asked = options.params.get("guided_start")
    jobs = len(scenario.jobs)
    if asked is False or not start_variants(jobs):
        return False
    return asked is True or jobs > GUIDED_START_MIN_JOBS


def guided_start_cost(scenario: Scenario, start: Plan) -> float:
    """Seconds the guided start's greedy runs are estimated at: :data:`GUIDED_START_COST` start
    plans' time per variant."""
    return GUIDED_START_COST * len(start_variants(len(scenario.jobs))) * max(start.solve_s, 0.01)


def start_variants(jobs: int) -> tuple[GuideVariant, ...]:
    """The guided runs of the start: as many as ``plan(method="greedy")`` makes on a day of
    ``jobs`` jobs, and one above its :data:`~greenopt.heuristics.guided.GUIDE_MAX_JOBS` (the
    MILP has the time the greedy has not: 2000×20×96's start 1414.9 → 1283.4)."""
    return variants_for(jobs, force=True)


def _scored(scenario: Scenario, options: PlanOptions, state: CapacityState, t0: float) -> Plan:
    return evaluate(
        scenario,
        state.assignments(),
        method="greedy",
        objective=options.objective,
        deadlines=options.deadlines,
        status="heuristic",
        solve_s=time.perf_counter() - t0,
    )


def start_rows(scenario: Scenario, given: Any) -> pd.DataFrame:
    """The ``start`` parameter as a clean ``job, slot, site, share`` table of ``scenario``
    (a :class:`Plan`'s assignments, or any table :func:`greenopt.evaluate` reads); an
    :class:`~greenopt.errors.OptionsError` naming ``start`` when it names a job, site or slot
    the scenario does not have, or a share that is not a number. (Rows that break a rule of
    MODEL.md §5 are not errors: :func:`carried_state` drops them.)"""
    table = given.assignments if isinstance(given, Plan) else given
    try:
        return normalise_assignments(scenario, table)
    except PlanError as exc:
        raise OptionsError(f"start: {exc}", "start") from None


def carried_state(
    scenario: Scenario,
    objective: Objective | str,
    rows: pd.DataFrame,
    settings: GreedySettings,
    deadline: float | None = None,
) -> tuple[CapacityState, int, int]:
    """The greedy's capacity state holding ``rows`` (a clean table, :func:`start_rows`) where
    they still obey the rules, completed by the greedy: ``(state, jobs kept, jobs dropped)``.

    Jobs are carried in urgency order (:func:`~greenopt.heuristics.greedy.urgency_order`), each
    job's rows as one placement, kept when :meth:`CapacityState.check` finds no rule broken given
    what was carried before it (capacity, grid limit, links, window, dwell, pause-free runs, ...:
    MODEL.md §5) — so the state is valid whatever the rows were. Then every job with work left is
    placed by the greedy after its carried rows (a pause-free job that started cannot be), the
    re-placement passes of ``settings`` run until ``deadline`` (they keep a new placement only
    when it lowers the objective), and jobs left short get the greedy's repair.
    """
    cfg = settings.for_scenario(scenario)
    st = CapacityState(scenario, objective)
    idx = scenario.index
    order = urgency_order(scenario)
    by_job: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if len(rows):
        j = np.fromiter((idx.job_pos[n] for n in rows["job"]), np.int64, len(rows))
        s = np.fromiter((idx.site_pos[n] for n in rows["site"]), np.int64, len(rows))
        t = rows["slot"].to_numpy(dtype=np.int64)
        sh = rows["share"].to_numpy(dtype=float)
        for job in np.unique(j):
            mine = np.flatnonzero(j == job)
            mine = mine[np.argsort(t[mine], kind="stable")]
            by_job[int(job)] = (t[mine], s[mine], sh[mine])
    kept = dropped = 0
    for job in order.tolist():
        if job not in by_job:
            continue
        p = placement(job, *by_job[job])
        if len(p) and st.check(p) is None:
            st.commit(p, check=False)
            kept += 1
        else:
            dropped += 1
    for job in order.tolist():
        p = place_job(st, int(job), 0, cfg)
        if p is not None:
            st.commit(p, check=False)
    improve(st, order, cfg, cfg.passes, deadline)
    repair_short(st, order, cfg, deadline=deadline)
    return st, kept, dropped
