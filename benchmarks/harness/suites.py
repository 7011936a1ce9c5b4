"""Benchmark suites: which instances, which (method, solver) runs, with which defaults.

A suite is a :class:`Suite` in :data:`SUITES`; its builder turns the run options
(:class:`SuiteOptions`) into a :class:`SuitePlan` — the instances (built lazily, one at a time,
so a suite of large scenarios never holds them all) and the runs to make on each.

* ``quick`` — the embedded ``small`` example, a small synthetic instance and, when the real data
  folder is there, a small real-trace day; every method, MILP with HiGHS. Runs in well under two
  minutes and inside the test suite (``tests/test_bench.py``), so the harness never rots.
* ``real`` — real-trace days (:func:`greenopt.io.build_real_scenario`): 6 sites (the six
  Electricity Maps zones), 300 jobs (30 % Philly training jobs, 70 % Alibaba tasks), 24 hourly
  slots, per day and seed; every method, MILP with HiGHS. Skipped (with the reason) when the
  data folder is absent.
* ``scaling`` — synthetic families (:func:`greenopt.examples.synthetic.synthetic_scenario`)
  from 25 jobs × 3 sites × 24 slots to 2,000 × 20 × 96; every method, MILP with HiGHS.
* ``solvers`` — the MILP with every solver Pyomo can reach here (HiGHS, and CBC, GLPK, SCIP,
  Gurobi, CPLEX, Xpress where installed; absent ones are listed in the notes) on the same
  instances: two smaller real days (if the data is there) and a synthetic one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.errors import OptionsError
from greenopt.io.data import data_dir as find_data_dir
from greenopt.scenario import Scenario
from greenopt.solvers import SOLVERS

#: Every planning method, in report order (run-now first: the reference of the carbon cut).
ALL_METHODS: tuple[str, ...] = (
    "run-now",
    "threshold",
    "greenest-region",
    "follow-renewables",
    "online",
    "greedy",
    "milp",
)
#: MILP solvers the ``solvers`` suite tries: greenopt's one list of solver names.
SOLVER_CANDIDATES: tuple[str, ...] = SOLVERS
#: Real-trace days of the ``real`` suite: a summer day inside the Solcast file (measured solar at
#: four sites), and days of winter, spring and autumn (pvlib clear-sky solar).
REAL_DAYS: tuple[str, ...] = ("2022-06-21", "2023-01-15", "2023-04-02", "2023-09-10")
#: ``(jobs, sites, slots)`` of the ``scaling`` suite.
SCALING_SIZES: tuple[tuple[int, int, int], ...] = (
    (25, 3, 24),
    (50, 4, 24),
    (100, 5, 24),
    (250, 8, 48),
    (500, 10, 48),
    (1000, 15, 96),
    (2000, 20, 96),
)


class SuiteSkipped(Exception):
    """The whole suite cannot run here (e.g. it needs the real data folder); ``str`` says why."""


@dataclass(frozen=True)
class Run:
    """One planning run made on every instance: a method, and for the MILP a solver."""

    method: str
    solver: str | None = None

    @property
    def label(self) -> str:
        return f"milp/{self.solver}" if self.solver and self.solver != "highs" else self.method


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: its name (without the seed), family, seed and how to build it."""

    name: str
    family: str  # "example" | "synthetic" | "real"
    seed: int
    build: Callable[[], Scenario] = field(compare=False, repr=False)
    facts: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class SuitePlan:
    """What a suite will do: instances × runs, plus notes (things skipped, and why)."""

    instances: list[Instance]
    runs: list[Run]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SuiteOptions:
    """Run options; ``None`` means the suite's default."""

    data_dir: Path | None = None
    seeds: tuple[int, ...] | None = None
    time_limit: float | None = None
    methods: tuple[str, ...] | None = None
    solvers: tuple[str, ...] | None = None
    days: tuple[str, ...] | None = None
    gbps: float = 10.0
    mip_gap: float = 0.01
    threads: int | None = 1
    objective: str = "carbon"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    time_limit: float  # default MILP time limit (s)
    seeds: tuple[int, ...]
    build: Callable[[SuiteOptions, tuple[int, ...]], SuitePlan]


# -- helpers ---------------------------------------------------------------------------------
def _methods(options: SuiteOptions) -> list[str]:
    from greenopt.plan import METHODS

    chosen = list(options.methods) if options.methods else list(ALL_METHODS)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise OptionsError(f"unknown method(s) {unknown}; choose from {list(METHODS)}", unknown[0])
    return chosen


def _method_runs(options: SuiteOptions) -> list[Run]:
    return [Run(m, "highs" if m == "milp" else None) for m in _methods(options)]


def _real_data(options: SuiteOptions) -> Path | None:
    return find_data_dir(options.data_dir)


def _no_data_reason(options: SuiteOptions) -> str:
    from greenopt.io.data import ENV_VAR

    where = repr(str(options.data_dir)) if options.data_dir else f"${ENV_VAR} or ../shared/data"
    return f"real-data folder not found ({where}); pass --data-dir or set {ENV_VAR}"


def real_instance(
    data: Path, day: str, seed: int, n_sites: int, n_jobs: int, gbps: float
) -> Instance:
    """A real-trace day (:func:`greenopt.io.build_real_scenario`) as a benchmark instance."""
    from greenopt.io import build_real_scenario

    def build() -> Scenario:
        return build_real_scenario(data, day, n_sites=n_sites, n_jobs=n_jobs, seed=seed, gbps=gbps)

    name = f"real-{day}-{n_sites}s-{n_jobs}j"
    facts = {"day": day, "gbps": gbps}
    return Instance(name, "real", seed, build, facts)


def synthetic_instance(jobs: int, sites: int, slots: int, seed: int) -> Instance:
    """A :func:`~greenopt.examples.synthetic.synthetic_scenario` as a benchmark instance."""
    from greenopt.examples.synthetic import synthetic_scenario

    def build() -> Scenario:
        return synthetic_scenario(jobs, sites, slots, seed)

    return Instance(f"syn-{jobs}x{sites}x{slots}", "synthetic", seed, build)


def example_instance(name: str) -> Instance:
    from greenopt import examples

    return Instance(name, "example", 0, lambda: examples.load(name))


# -- the suites ------------------------------------------------------------------------------
def build_quick(options: SuiteOptions, seeds: tuple[int, ...]) -> SuitePlan:
    instances = [example_instance("small")]
    instances += [synthetic_instance(30, 4, 24, s) for s in seeds]
    notes = []
    data = _real_data(options)
    if data is not None:
        instances += [real_instance(data, "2023-06-21", s, 4, 40, options.gbps) for s in seeds]
    else:
        notes.append(f"real-trace instance skipped: {_no_data_reason(options)}")
    return SuitePlan(instances, _method_runs(options), notes)


def build_real(options: SuiteOptions, seeds: tuple[int, ...]) -> SuitePlan:
    data = _real_data(options)
    if data is None:
        raise SuiteSkipped(_no_data_reason(options))
    days = options.days or REAL_DAYS
    instances = [real_instance(data, d, s, 6, 300, options.gbps) for d in days for s in seeds]
    return SuitePlan(instances, _method_runs(options))


def build_scaling(options: SuiteOptions, seeds: tuple[int, ...]) -> SuitePlan:
    instances = [synthetic_instance(j, s, t, seed) for j, s, t in SCALING_SIZES for seed in seeds]
    return SuitePlan(instances, _method_runs(options))


def build_solvers(options: SuiteOptions, seeds: tuple[int, ...]) -> SuitePlan:
    from greenopt.solvers.pyomo_any import available_solvers

    notes: list[str] = []
    here = set(available_solvers())
    wanted: Sequence[str] = options.solvers or SOLVER_CANDIDATES
    solvers = [s for s in wanted if s in here]
    for s in wanted:
        if s not in here:
            notes.append(f"solver {s}: not available to Pyomo here, skipped")
    if options.methods and "milp" not in options.methods:
        raise OptionsError("the solvers suite runs only the MILP; drop --method", "methods")
    instances: list[Instance] = []
    data = _real_data(options)
    if data is not None:
        for s in seeds:
            instances.append(real_instance(data, "2023-01-15", s, 4, 60, options.gbps))
            instances.append(real_instance(data, "2023-06-21", s, 6, 100, options.gbps))
    else:
        notes.append(f"real-trace instances skipped: {_no_data_reason(options)}")
    instances += [synthetic_instance(60, 4, 24, s) for s in seeds]
    return SuitePlan(instances, [Run("milp", s) for s in solvers], notes)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("quick", "small example + small synthetic/real instances", 10.0, (0,), build_quick),
        Suite("real", "real-trace days, 6 sites x 300 jobs", 60.0, (0, 1), build_real),
        Suite("scaling", "synthetic families 25x3x24 .. 2000x20x96", 30.0, (0,), build_scaling),
        Suite("solvers", "the MILP with every solver Pyomo reaches", 60.0, (0,), build_solvers),
    )
}


def suite(name: str) -> Suite:
    if name not in SUITES:
        raise OptionsError(f"suite {name!r} is unknown; choose one of {list(SUITES)}", name)
    return SUITES[name]
