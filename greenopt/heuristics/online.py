"""The online planner: decide each job as it arrives, knowing only the past and the series.

``OnlinePlanner(scenario)`` keeps a :class:`CapacityState` (GPU-time, renewable and link capacity
left after the decisions made so far). ``submit(job)`` places the job's work from the current
slot on with the greedy's per-job placement (:func:`greenopt.heuristics.greedy.place_job`): the
cheapest (site, slots) under the shared objective, moves only inside the seed paper's
feasibility domain, each stay lasting its dwell (MODEL.md §5) or finishing the job. The planner
sees the scenario's per-slot series (renewable, carbon, price — forecasts in practice) but
nothing about jobs not yet submitted. ``advance(slot)`` moves the clock: later decisions use
slots from ``slot`` on. Decisions are final (no re-planning).

``simulate_online(scenario)`` replays the scenario's jobs in release order and returns a
:class:`Plan` scored by the shared evaluator, comparable with the offline methods; the
decision latencies are in ``plan.notes``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from greenopt.errors import ScenarioError
from greenopt.evaluate import evaluate
from greenopt.heuristics.greedy import GreedySettings, place_job
from greenopt.heuristics.state import CapacityState
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Job, Scenario


@dataclass(frozen=True)
class Decision:
    """Where and when a submitted job runs. ``site`` is where it starts (None: not placed)."""

    job: str
    site: str | None
    slots: tuple[int, ...]
    sites: tuple[str, ...]
    shares: tuple[float, ...]
    latency_s: float

    @property
    def placed(self) -> bool:
        return bool(self.slots)


class OnlinePlanner:
    """Online decisions on a scenario's sites, WAN and series (MODEL.md semantics)."""

    def __init__(
        self,
        scenario: Scenario,
        objective: Objective | str = "carbon",
        settings: GreedySettings | None = None,
    ) -> None:
        self.scenario = scenario
        self.state = CapacityState(scenario, objective)
        self.settings = settings or GreedySettings(split=False, top_k=2, shortlist=4)
        self.now = 0
        self.decisions: dict[str, Decision] = {}

    def advance(self, slot: int) -> None:
        """Move the clock to ``slot``; decisions from now on use slots ``>= slot``."""
        if not 0 <= slot <= self.state.T:
            raise ScenarioError(f"slot {slot} is outside the horizon [0, {self.state.T}]", "slot")
        if slot < self.now:
            raise ScenarioError(f"cannot go back in time: slot {slot} < now {self.now}", "slot")
        self.now = int(slot)

    def submit(self, job: Job | str) -> Decision:
        """Place ``job`` (a job of the scenario, by object or name) from the current slot on."""
        name = job.name if isinstance(job, Job) else str(job)
        idx = self.state.idx
        if name not in idx.job_pos:
            raise ScenarioError(f"job {name!r} is not in scenario {self.scenario.name!r}", name)
        if name in self.decisions:
            raise ScenarioError(f"job {name!r} was already submitted", name)
        t0 = time.perf_counter()
        j = idx.job_pos[name]
        p = place_job(self.state, j, self.now, self.settings)
        if p is not None:
            self.state.commit(p, check=False)
        latency = time.perf_counter() - t0
        if p is None:
            d = Decision(name, None, (), (), (), latency)
        else:
            names = idx.site_names
            d = Decision(
                name,
                names[int(p.sites[0])],
                tuple(int(t) for t in p.slots),
                tuple(names[int(s)] for s in p.sites),
                tuple(float(x) for x in p.shares),
                latency,
            )
        self.decisions[name] = d
        return d

    def plan(self, method: str = "online", deadlines: str = "soft") -> Plan:
        """The decisions so far as an evaluated :class:`Plan`."""
        return evaluate(
            self.scenario,
            self.state.assignments(),
            method=method,
            objective=self.state.objective,
            deadlines=deadlines,
            status="heuristic",
        )


def simulate_online(
    scenario: Scenario,
    objective: Objective | str = "carbon",
    settings: GreedySettings | None = None,
    deadlines: str = "soft",
) -> Plan:
    """Replay the jobs in release order (ties: scenario order) through an :class:`OnlinePlanner`."""
    planner = OnlinePlanner(scenario, objective, settings)
    idx = scenario.index
    order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h))
    for j in order.tolist():
        planner.advance(max(planner.now, int(idx.first_slot[j])))
        planner.submit(idx.job_names[j])
    plan = planner.plan(deadlines=deadlines)
    lat = np.array([d.latency_s for d in planner.decisions.values()])
    if lat.size:
        plan.notes.append(
            f"decision latency p50={np.percentile(lat, 50) * 1e3:.3f} ms "
            f"p99={np.percentile(lat, 99) * 1e3:.3f} ms max={lat.max() * 1e3:.3f} ms"
        )
    plan.solve_s = float(lat.sum())
    return plan


def plan_online(scenario: Scenario, options) -> Plan:
    """``plan(method="online")``: :func:`simulate_online` with the options' objective."""
    params = dict(options.params)
    params.setdefault("split", False)
    params.setdefault("top_k", 2)
    params.setdefault("shortlist", 4)
    return simulate_online(
        scenario, options.objective, GreedySettings.from_params(params), options.deadlines
    )
