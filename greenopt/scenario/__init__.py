"""The planning problem: the scenario models, their checks, and the views planners read.

* :mod:`~greenopt.scenario.models` — the pydantic models (:class:`Horizon`, :class:`Site`,
  :class:`Job`, :class:`Scenario`) and field rules (MODEL.md §1–4);
* :mod:`~greenopt.scenario.consistency` — the rules that tie them together, checked on build;
* :mod:`~greenopt.scenario.index` — :class:`ScenarioIndex`, the arrays planners read;
* :mod:`~greenopt.scenario.check` — warnings about a valid scenario (:func:`check_scenario`);
* :mod:`~greenopt.scenario.canonical` — the canonical order every method plans in;
* :mod:`~greenopt.scenario.rolling` — day slices and the carry rule of rolling day-ahead runs.
"""

from greenopt.scenario.check import Issue, check_scenario
from greenopt.scenario.consistency import check_consistency
from greenopt.scenario.index import ScenarioIndex, job_window
from greenopt.scenario.models import (
    JOB_KINDS,
    Horizon,
    Job,
    Scenario,
    Site,
    SlotSeries,
    StrictModel,
    WanGraph,
)

__all__ = [
    "JOB_KINDS",
    "Horizon",
    "Issue",
    "Job",
    "Scenario",
    "ScenarioIndex",
    "Site",
    "SlotSeries",
    "StrictModel",
    "WanGraph",
    "check_consistency",
    "check_scenario",
    "job_window",
]
