"""``plan()``: the one entry point, dispatching on ``method``.

Every method is a function ``(scenario, options) -> Plan`` registered in :data:`METHODS` by its
module path (imported on first use, so that a heuristic user never imports Pyomo).

Every method plans the scenario's *canonical form* (:func:`canonical_scenario`: sites and jobs
sorted by name, the WAN rebuilt with its nodes and links in sorted order), so the order in which
a scenario lists its sites, jobs or WAN links can never change a plan; the plan's tables are then
presented in the caller's order (:func:`present_in_order_of`).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from greenopt.errors import GreenoptError, ScenarioError, SolverError
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

    **Order does not matter.** The method plans :func:`canonical_scenario` of ``scenario``:
    sites sorted by name, jobs sorted by name, the WAN with its nodes and links in sorted order.
    Two scenarios that differ only in the order of their sites, jobs or WAN links (or in the
    direction a link is written, ``a–b`` or ``b–a``) therefore get the same plan: the same
    ``(job, slot, site, share)`` rows, migrations, energy, KPIs, objective and status. The tables
    are presented in the order of the scenario passed in — ``assignments`` and ``migrations`` by
    job (in ``scenario.jobs`` order) then slot, ``energy`` by site (in ``scenario.sites`` order)
    then slot, ``jobs`` in ``scenario.jobs`` order — i.e. as ``evaluate(scenario, ...)`` would
    present them. Solver facts (status, bound, gap, timings, notes) are kept as the method
    reported them. A scenario already in canonical order is planned as it is, with no copy.

    **Faults.** A solver that fails (an exception from the solver or its Pyomo interface, not
    greenopt's own) raises :class:`~greenopt.errors.SolverError` naming the method and solver,
    with the original exception chained; Ctrl-C during a HiGHS solve returns the best plan so
    far with ``status == "interrupted"``.
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
    canonical = canonical_scenario(scenario)
    planner = getattr(importlib.import_module(module), func)
    try:
        result: Plan = planner(canonical, options)
    except GreenoptError:
        raise
    except Exception as exc:
        if method != "milp":
            raise  # a heuristic's exception is a bug to see as it is, not a solver fault
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise SolverError(f"milp: solver {solver!r} failed ({detail})") from exc
    if canonical is not scenario:
        present_in_order_of(scenario, result)
    result.wall_s = time.perf_counter() - t0
    if deadlines == "hard":
        missed = result.jobs.loc[~result.jobs["done"], "job"].tolist()
        if missed:
            from greenopt.diagnose import infeasible_error, job_reasons

            alone = job_reasons(canonical)
            why = "not done by its deadline in this plan"
            raise infeasible_error(
                {name: alone.get(name, why) for name in missed},
                f"{method}, status {result.status}",
                headline="the plan misses hard deadlines",
            )
    return result


# -- canonical order ------------------------------------------------------------------------------
def canonical_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` with its sites and jobs sorted by name and its WAN in sorted order.

    The WAN is rebuilt with its nodes added in sorted order and its links ``(u, v)``, ``u < v``,
    in sorted order, so node, neighbour and link iteration are all sorted. Returns ``scenario``
    itself when it is already in that order (the common case: no copy, its cached index and
    network are reused); otherwise a copy that shares the (already validated) site and job
    objects and is not validated again.
    """
    sites_sorted = _names_sorted(s.name for s in scenario.sites)
    jobs_sorted = _names_sorted(j.name for j in scenario.jobs)
    if sites_sorted and jobs_sorted and _graph_is_canonical(scenario.wan):
        return scenario
    return Scenario.model_construct(
        name=scenario.name,
        horizon=scenario.horizon,
        sites=sorted(scenario.sites, key=lambda s: s.name),
        jobs=sorted(scenario.jobs, key=lambda j: j.name),
        wan=canonical_graph(scenario.wan),
        wan_share=scenario.wan_share,
        net_kwh_per_gb=scenario.net_kwh_per_gb,
        migration_alpha=scenario.migration_alpha,
    )


def canonical_graph(graph: nx.Graph) -> nx.Graph:
    """A copy of ``graph`` with nodes, then links ``(min, max)``, added in sorted order."""
    g = nx.Graph()
    g.graph.update(graph.graph)
    for node in sorted(graph.nodes):
        g.add_node(node, **graph.nodes[node])
    edges = sorted((min(a, b), max(a, b), d) for a, b, d in graph.edges(data=True))
    for a, b, d in edges:
        g.add_edge(a, b, **dict(sorted(d.items())))
    return g


def _names_sorted(names: Any) -> bool:
    prev: str | None = None
    for name in names:
        if prev is not None and not prev < name:
            return False
        prev = name
    return True


def _graph_is_canonical(graph: nx.Graph) -> bool:
    if not _names_sorted(graph.nodes):
        return False
    return all(_names_sorted(nbrs) for nbrs in graph.adj.values())


def present_in_order_of(scenario: Scenario, result: Plan) -> Plan:
    """Reorder ``result``'s tables (planned on the canonical form) into ``scenario``'s order.

    Only row order changes: ``assignments``/``migrations`` by job in ``scenario.jobs`` order,
    then slot; ``energy`` by site in ``scenario.sites`` order, then slot; ``jobs`` in
    ``scenario.jobs`` order. KPIs, objective and solver facts are untouched. In place; returns
    ``result``.
    """
    job_pos = {j.name: k for k, j in enumerate(scenario.jobs)}
    site_pos = {s.name: k for k, s in enumerate(scenario.sites)}
    result.assignments = _stable_by(result.assignments, "job", job_pos)
    result.migrations = _stable_by(result.migrations, "job", job_pos)
    result.jobs = _stable_by(result.jobs, "job", job_pos)
    result.energy = _stable_by(result.energy, "site", site_pos)
    return result


def _stable_by(df: pd.DataFrame, column: str, pos: dict[str, int]) -> pd.DataFrame:
    """``df`` stably sorted by the position of its ``column`` values in ``pos``.

    The canonical tables are already sorted by slot within each job or site, so a stable sort on
    the position alone gives "by position, then slot".
    """
    if len(df) < 2:
        return df
    keys = np.fromiter((pos[v] for v in df[column]), dtype=np.int64, count=len(df))
    order = np.argsort(keys, kind="stable")
    return df.take(order).reset_index(drop=True)
