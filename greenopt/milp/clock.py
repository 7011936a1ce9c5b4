"""The MILP's clock: the time limit of the whole call, what each step may take of it, and the
estimates that let a step be skipped or cheapened *before* it overruns.

``time_limit`` bounds the whole ``plan(method="milp")`` call — start plan, relaxation, model,
search, read-back — not only the solver: each step is given a share of what is left, and the
steps that cannot be stopped once started (building the matrix, the labelled Pyomo model when
one is asked for, reading the solution back) are estimated from the model's size first
(:data:`MATRIX_S_PER_COL`, :data:`PYOMO_S_PER_COL`, :data:`FINISH_S_PER_COL`: seconds per
column, measured on a busy 2-core machine — 5,000 jobs × 8 sites × 96 slots, 1.19 M columns:
matrix 6 s, Pyomo and its compilation 150 s, read-back and scoring 2 s); a model that cannot be
built in the time left is not started (the start plan is returned). The reserve kept for the
last steps grows with the model.

**Deterministic mode** (``deterministic=True``): nothing may depend on the clock. The limit is
then only a safety net — ``None`` unless the caller gave one explicitly — the start plan is not
cut short, and no step chooses its path by the time left (:attr:`Clock.deterministic`).
"""

from __future__ import annotations

import math
import time
from typing import Any

from greenopt.limits import take_call_start
from greenopt.options import DEFAULT_MILP_TIME_LIMIT

#: Share of the time limit (at least :data:`RESERVE_MIN_S`) kept back for the final LP polish,
#: reading back and evaluating the plan, so that the whole call ends within the limit.
RESERVE = 0.05
RESERVE_MIN_S = 2.0
#: Share of the limit the start plan's re-placement passes may take (its first pass always
#: completes: without it there is no plan to return).
START_SHARE = 0.2
#: Seconds per column: building the matrix (numpy), the Pyomo model and its compilation, and
#: reading a solution back and scoring it (see the module docstring).
MATRIX_S_PER_COL = 6e-6
PYOMO_S_PER_COL = 1.3e-4
FINISH_S_PER_COL = 4e-6
#: Seconds, at least, kept after the tidy step for scoring the plan and settling its outcome.
FINISH_MIN_S = 0.5


def time_limit_of(options: Any) -> float | None:
    """Seconds the MILP may take: ``time_limit``, else :data:`DEFAULT_MILP_TIME_LIMIT` — or, in
    deterministic mode, only an explicit one; ``math.inf`` is no limit (``None``)."""
    limit = options.time_limit
    if limit is None and not options.deterministic:
        limit = DEFAULT_MILP_TIME_LIMIT
    if limit is None or math.isinf(limit):
        return None
    return float(limit)


class Clock:
    """Seconds left of the time limit (``None``: no limit), from the start of the ``plan()``
    call it serves when it is that call's first (:func:`greenopt.limits.take_call_start`), else
    from when it was made."""

    def __init__(self, limit: float | None, *, deterministic: bool = False) -> None:
        # from the start of the plan() call it serves (its planner's import included)
        started = take_call_start()
        self.t0 = time.perf_counter() if started is None else min(started, time.perf_counter())
        self.limit = limit
        self.deterministic = deterministic
        #: seconds estimated for reading back and scoring, once the model's size is known
        self.finish_s = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def reserve(self) -> float:
        """Seconds kept back for the final steps (see :data:`RESERVE`, :attr:`finish_s`)."""
        if self.limit is None:
            return 0.0
        return max(RESERVE * self.limit, RESERVE_MIN_S, self.finish_s)

    def left(self, reserve: bool = False) -> float | None:
        """Seconds left; with ``reserve``, less what the final steps need."""
        if self.limit is None:
            return None
        keep = self.reserve() if reserve else 0.0
        return max(self.limit - self.elapsed() - keep, 0.05)

    def share(self, fraction: float) -> float | None:
        """``fraction`` of the seconds left (at least half a second); ``None`` without a limit."""
        left = self.left()
        return None if left is None else max(fraction * left, 0.5)

    def deadline(self, fraction: float) -> float | None:
        """The ``time.perf_counter()`` value by which a step given ``fraction`` of the whole
        limit should stop (``None``: no limit, or deterministic mode — work decides there)."""
        if self.limit is None or self.deterministic:
            return None
        return self.t0 + fraction * self.limit

    def fits(self, seconds: float, share: float = 1.0) -> bool:
        """Whether a step estimated at ``seconds`` fits in ``share`` of the time left (after
        the reserve); always in deterministic mode or without a limit."""
        left = self.left(reserve=True)
        return left is None or self.deterministic or seconds <= share * left

    def left_before_finish(self) -> float | None:
        """Seconds left for a step before the last ones (scoring the plan, settling bound and
        status): :meth:`left` less :attr:`finish_s`, at least :data:`FINISH_MIN_S` (the tidy
        step, given all of :meth:`left`, ended 500×10×48's 60 s call at 60.2–61.1 s)."""
        left = self.left()
        return None if left is None else max(left - max(self.finish_s, FINISH_MIN_S), 0.0)

    def expect_columns(self, n_cols: float) -> None:
        """Size the reserve for reading back a model of ``n_cols`` columns."""
        self.finish_s = FINISH_S_PER_COL * float(n_cols)


def milp_clock(options: Any) -> Clock:
    """The clock of a MILP run: :func:`time_limit_of`, deterministic when the options are."""
    return Clock(time_limit_of(options), deterministic=bool(options.deterministic))


def budget_note(options: Any, clock: Clock) -> str:
    """What bounds this run, the first of the plan's notes (and whether it is repeatable)."""
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
