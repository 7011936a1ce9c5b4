"""The MILP's clock: seconds left of its time limit, with a reserve for the last steps."""

from __future__ import annotations

import time

#: Share of the time limit (at least :data:`RESERVE_MIN_S`) kept back for the final LP polish,
#: reading back and evaluating the plan, so that the whole call ends within the limit.
RESERVE = 0.05
RESERVE_MIN_S = 2.0


class Clock:
    """Seconds left of the time limit (``None``: no limit), from when it was made."""

    def __init__(self, limit: float | None) -> None:
        self.t0 = time.perf_counter()
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self, reserve: bool = False) -> float | None:
        """Seconds left; with ``reserve``, less what the final steps need."""
        if self.limit is None:
            return None
        keep = max(RESERVE * self.limit, RESERVE_MIN_S) if reserve else 0.0
        return max(self.limit - self.elapsed() - keep, 0.05)

    def share(self, fraction: float) -> float | None:
        """``fraction`` of the seconds left (at least half a second); ``None`` without a limit."""
        left = self.left()
        return None if left is None else max(fraction * left, 0.5)
