"""LP re-timing of a heuristic plan: its locations and moves kept, its slot shares re-optimised.

The greedy places one job at a time, so a job placed early keeps slots that a later job needed
more, and renewable supply is curtailed beside grid-powered work. Given the plan's discrete
decisions — where each job is in each slot, which moves happen (the MILP's binaries ``y``, ``z``,
``u`` of :mod:`greenopt.formulations`) — what is left is a linear programme over the shares
``x[j, s, t]``, grid import and curtailment:

.. math::

    \\min_{x,\\,g} \\; c^\\top (x, g) \\quad \\text{s.t.} \\quad A (x, g, \\bar b) \\le r,
    \\qquad b = \\bar b \\ \\text{(the plan's binaries)},

the same rows as the MILP (work, capacity, links, energy balance, and the dwell rule of
MODEL.md §5: with the moves fixed, its rows keep every stay at its dwell — re-timing never
shrinks one below it). The plan itself is one of its solutions, so the LP optimum is never
worse; it moves work between a job's slots (and
between its sites in slots where it is at both around a move) onto renewable supply that was
curtailed. Solved by HiGHS; on 30 jobs × 4 sites × 24 slots it takes ~0.04 s and brought the
greedy from 11.6 % to 2.3 % above the MILP's optimum (``benchmarks/bench_heuristics.py``).
"""

from __future__ import annotations

import pandas as pd

from greenopt.formulations.build import build_matrix
from greenopt.formulations.solution import read_assignments, sites_used, start_vector
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.scenario import Scenario
from greenopt.solvers import highs

#: The LP is built only up to this many columns (beyond, re-timing is skipped: it would cost
#: more than the greedy itself). The plain greedy's plan of 2000 × 20 × 96 (``retime=True``):
#: 257,964 columns, 1.5 s, 1531.9 → 1413.1.
RETIME_MAX_COLUMNS = 400_000
#: The greedy's default re-timing (``retime`` left at ``None``; days of up to
#: :data:`~greenopt.heuristics.greedy.QUALITY_JOBS` jobs) stays below this many columns. Measured
#: on the plain greedy's plans (one thread): 500 × 10 × 48 40,558 columns, 0.2 s,
#: 274.2 → 266.3; 1000 × 15 × 96 168,284 columns, 0.9 s, 1035.5 → 944.2 — and the LP-guided
#: plan there 857.3 → 828.7 in 0.8 s, a day the default skipped at the old 60,000.
RETIME_AUTO_COLUMNS = 200_000
#: Columns of the model per share column ``x`` of the plan's sites and windows, at least, on the
#: benchmark days (4.6–6.3: locations, moves, unmet work, grid draw): a model estimated above
#: the limit is skipped before it is built (building the 2000-job model alone takes ~1 s).
COLUMNS_PER_SHARE = 4.5


def retime(
    scenario: Scenario,
    assignments: pd.DataFrame,
    objective: str | Objective,
    deadlines: str,
    options: PlanOptions,
    time_limit: float | None = None,
    max_columns: int = RETIME_MAX_COLUMNS,
) -> pd.DataFrame | None:
    """The plan's assignments with the LP-optimal shares for its discrete decisions.

    ``None`` when the LP is not solved: the model is larger than ``max_columns``, the plan uses
    a run or move the MILP's index sets leave out, the model has no binaries to fix, or HiGHS
    stops without an optimum. The caller
    keeps the better of the two plans (by unmet work, then objective) after evaluating both.
    """
    obj = Objective.of(objective)
    used = sites_used(scenario, assignments)
    idx = scenario.index
    window = idx.end_slot - idx.first_slot
    shares = sum(len(u) * int(w) for u, w in zip(used, window, strict=True))
    if COLUMNS_PER_SHARE * shares > max_columns:
        return None
    ix, mx = build_matrix(scenario, obj, deadlines, keep=used)
    if mx.n_cols > max_columns:
        return None
    v0 = start_vector(ix, mx, assignments)
    if v0 is None:
        return None
    form = highs.from_matrix(mx)
    better = highs.polish(form, v0, options, time_limit)
    if better is None:
        return None
    return read_assignments(ix, mx, form.to_matrix_order(better, mx.n_cols))
