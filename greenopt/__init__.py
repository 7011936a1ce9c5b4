"""greenopt — plan AI workloads across WAN-connected datacenters onto renewable, low-carbon power.

>>> import greenopt
>>> scenario = greenopt.examples.load("small")
>>> plan = greenopt.plan(scenario, method="greedy")
>>> greenopt.validate(scenario, plan)
[]
"""

from greenopt import examples
from greenopt.errors import (
    ClusterError,
    DataSourceError,
    GreenoptError,
    InfeasibleError,
    MissingDependencyError,
    OptionsError,
    PlanError,
    ScenarioError,
    SizeError,
    SolverError,
)
from greenopt.evaluate import evaluate
from greenopt.io.files import load_scenario, save_scenario
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.plan import METHODS, build_model, plan
from greenopt.result import Plan, PlanStatus, SolverInfo
from greenopt.scenario import Horizon, Job, Scenario, Site
from greenopt.scenario.check import Issue, check_scenario
from greenopt.validate import Violation, validate

__version__ = "0.1.0"


def __getattr__(name: str):
    """``greenopt.plot`` is imported on first use: matplotlib loads only for those who plot."""
    if name == "plot":
        import importlib

        return importlib.import_module("greenopt.plot")
    raise AttributeError(f"module 'greenopt' has no attribute {name!r}")


__all__ = [
    "METHODS",
    "ClusterError",
    "DataSourceError",
    "GreenoptError",
    "Horizon",
    "InfeasibleError",
    "Issue",
    "Job",
    "MissingDependencyError",
    "Objective",
    "OptionsError",
    "Plan",
    "PlanError",
    "PlanOptions",
    "PlanStatus",
    "Scenario",
    "ScenarioError",
    "Site",
    "SizeError",
    "SolverError",
    "SolverInfo",
    "Violation",
    "build_model",
    "check_scenario",
    "evaluate",
    "examples",
    "load_scenario",
    "plan",
    "save_scenario",
    "validate",
]
