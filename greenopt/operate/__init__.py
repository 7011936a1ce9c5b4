"""Operation under uncertainty (MODEL.md §11; docs/operate.md): decide slot by slot on what is
known then, commit for good, score on the actuals.

- :func:`operate` → :class:`Operation` (``.plan``, ``.decisions``, ``.committed``, ``.regret``);
- :mod:`.residual`: the residual problem at a decision slot, as a plain scenario;
- :mod:`.commit`: what a decision commits (its slots, a started pause-free block, a dwell stay);
- :mod:`.ledger`: the committed rows and the capacity they take from a slot on.
"""

from greenopt.operate.ledger import Ledger
from greenopt.operate.residual import Residual, residual_problem
from greenopt.operate.simulate import ARRIVALS, DECISION_COLUMNS, Operation, operate

__all__ = [
    "ARRIVALS",
    "DECISION_COLUMNS",
    "Ledger",
    "Operation",
    "Residual",
    "operate",
    "residual_problem",
]
