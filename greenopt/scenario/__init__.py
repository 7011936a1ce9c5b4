"""The planning problem: the scenario models, their checks and the arrays planners read.

:mod:`~greenopt.scenario.models` holds the pydantic models (:class:`Horizon`, :class:`Site`,
:class:`Job`, :class:`Scenario`) and the rules of MODEL.md §1–4 checked when one is built;
:mod:`~greenopt.scenario.check` the warnings about a valid scenario (:func:`check_scenario`).
"""

from greenopt.scenario.check import Issue, check_scenario
from greenopt.scenario.models import (
    JOB_KINDS,
    Horizon,
    Job,
    Scenario,
    ScenarioIndex,
    Site,
    SlotSeries,
    StrictModel,
    WanGraph,
    check_consistency,
    job_window,
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
