"""``plan()``: the one entry point, dispatching on ``method``.

Every method is a function ``(scenario, options) -> Plan`` registered in :data:`METHODS` by its
module path (imported on first use, so that a heuristic user never imports Pyomo).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any

from greenopt.errors import InfeasibleError, ScenarioError
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: method name → "module:function"
METHODS: dict[str, str] = {
    "milp": "greenopt.solve:plan_milp",
    "greedy": "greenopt.heuristics.greedy:plan_greedy",
    "online": "greenopt.heuristics.online:plan_online",
    "run-now": "greenopt.heuristics.baselines:plan_run_now",
    "threshold": "greenopt.heuristics.baselines:plan_threshold",
    "greenest-region": "greenopt.heuristics.baselines:plan_greenest_region",
    "follow-renewables": "greenopt.heuristics.baselines:plan_follow_renewables",
}

DEADLINES = ("soft", "hard")


@dataclass
class PlanOptions:
    """Options common to every method; ``params`` holds method-specific ones.

    Baseline parameters (``params``): ``threshold`` (g/kWh, default 250) and ``max_delay_h``
    (default 4) for ``threshold``; ``threshold`` (default 200) for ``greenest-region``.
    """

    objective: Objective = field(default_factory=Objective)
    deadlines: str = "soft"
    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float = 0.01
    threads: int | None = None
    seed: int = 0
    warm_start: bool = True
    log_file: str | None = None
    verbose: bool = False
    params: dict[str, Any] = field(default_factory=dict)


def plan(
    scenario: Scenario,
    method: str = "milp",
    *,
    solver: str = "highs",
    objective: str | Objective = "carbon",
    deadlines: str = "soft",
    time_limit: float | None = None,
    mip_gap: float = 0.01,
    threads: int | None = None,
    seed: int = 0,
    warm_start: bool = True,
    log_file: str | None = None,
    verbose: bool = False,
    **params: Any,
) -> Plan:
    """Plan ``scenario`` with ``method`` and return the evaluated :class:`Plan`.

    ``method``: ``milp`` (Pyomo + ``solver``), ``greedy``, ``online``, ``run-now``,
    ``threshold``, ``greenest-region``, ``follow-renewables``. ``deadlines="hard"`` raises
    :class:`~greenopt.errors.InfeasibleError` naming the jobs that cannot be met.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError(
            f"plan() needs a greenopt.Scenario, got {type(scenario).__name__}", "scenario"
        )
    if method not in METHODS:
        raise ScenarioError(
            f"method {method!r} is unknown; choose one of {', '.join(METHODS)}", "method"
        )
    if deadlines not in DEADLINES:
        raise ScenarioError(f"deadlines must be 'soft' or 'hard', got {deadlines!r}", "deadlines")
    if time_limit is not None and not time_limit > 0:
        raise ScenarioError(f"time_limit must be > 0 seconds, got {time_limit!r}", "time_limit")
    if not 0 <= mip_gap < 1:
        raise ScenarioError(f"mip_gap must be in [0, 1), got {mip_gap!r}", "mip_gap")
    options = PlanOptions(
        objective=Objective.of(objective),
        deadlines=deadlines,
        solver=solver,
        time_limit=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        seed=seed,
        warm_start=warm_start,
        log_file=log_file,
        verbose=verbose,
        params=params,
    )
    module, func = METHODS[method].split(":")
    t0 = time.perf_counter()
    result: Plan = getattr(importlib.import_module(module), func)(scenario, options)
    result.wall_s = time.perf_counter() - t0
    if deadlines == "hard":
        missed = result.jobs.loc[~result.jobs["done"], "job"].tolist()
        if missed:
            raise InfeasibleError(
                f"{method}: {len(missed)} job(s) cannot meet their deadline: "
                f"{', '.join(map(repr, missed[:10]))}{' ...' if len(missed) > 10 else ''}",
                {j: "not done by its deadline" for j in missed},
            )
    return result
