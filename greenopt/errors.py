"""The package's own exception types.

Every error a user can provoke with bad input or an impossible request is one of these, and its
message names the offending field, job, site or file — never a traceback from deep inside
pydantic, pandas or Pyomo.
"""

from __future__ import annotations


class GreenoptError(Exception):
    """Base class of every error raised by greenopt."""


class ScenarioError(GreenoptError, ValueError):
    """A scenario (or a file it is read from) breaks a rule of MODEL.md §1–4.

    ``culprit`` names the site, job, field or file at fault, when there is one.
    """

    def __init__(self, message: str, culprit: str | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit


class OptionsError(ScenarioError):
    """A planning option (a keyword of ``plan()``, a scenario file's ``plan:`` section, a flag
    or ``--param``) is unknown, of the wrong type, out of range, or not allowed where it was given.

    ``culprit`` is the option's name. A subclass of :class:`ScenarioError`, since the options of a
    scenario file are part of it.
    """


class PlanError(GreenoptError, ValueError):
    """A plan (its assignments table) is malformed: unknown job or site, bad columns."""


class InfeasibleError(GreenoptError):
    """Hard deadlines cannot all be met.

    ``jobs`` maps each job that cannot be met to the reason (capacity, window, residency,
    bandwidth) found while diagnosing.
    """

    def __init__(self, message: str, jobs: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.jobs = dict(jobs or {})


class SolverError(GreenoptError):
    """A solver is missing, or failed in a way that left no plan to return."""


class ForecastError(ScenarioError):
    """Forecasts (or a forecast file) are malformed, or cannot answer what was asked of them.

    ``culprit`` names the site, signal, time or file at fault, when there is one.
    """


class MissingDependencyError(GreenoptError, ImportError):
    """An optional package a feature needs is not installed; the message names the extra that
    brings it (``pip install 'greenopt[EXTRA]'``)."""


class DataSourceError(GreenoptError):
    """A live data source could not be used: its key is not set, or the request failed."""


class ClusterError(GreenoptError):
    """A Dask cluster could not be used: its scheduler cannot be reached at the address given
    (``culprit``), or every worker was lost."""

    def __init__(self, message: str, culprit: str | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit


class SizeError(GreenoptError, MemoryError):
    """A model, index or plot would need more memory than the budget allows
    (:mod:`greenopt.limits`); raised *before* the memory is taken.

    ``needed`` and ``budget`` are bytes; ``sizes`` names the counts the estimate came from.
    """

    def __init__(
        self, message: str, needed: int, budget: int, sizes: dict[str, int] | None = None
    ) -> None:
        super().__init__(message)
        self.needed = int(needed)
        self.budget = int(budget)
        self.sizes = dict(sizes or {})


def shown(value: object, limit: int = 40) -> str:
    """``value`` quoted for an error message: printable characters only (others as ``?``),
    at most ``limit`` of them (then ``…``). Whatever a file holds, a message shows only a
    short, inert snippet of it — never a line of a file someone else's scenario pointed at."""
    text = str(value)
    clean = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    if len(text) > limit:
        clean = clean[:limit] + "…"
    return repr(clean)
