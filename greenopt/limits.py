"""Memory limits: an estimate *before* every large allocation, and a clear error instead of a
machine that swaps for minutes and then dies.

Four places allocate memory that grows with the size of a scenario:

* **the scenario's arrays** (:func:`check_scenario_size`, when :attr:`Scenario.index` is built —
  before any planner runs): the index itself (J×S, S×T), the network's per-job move times
  (J×S×S) and the dense per-job, per-slot weights the greedy start, the heuristics and the
  MILP's objective build (J×T floats, with the temporaries that compute them);
* **the MILP** (:func:`check_milp`, at the start of ``plan(method="milp")``, before the start
  plan): its columns and rows from the index-set sizes — run shares over every site each job
  may reach (the relaxation always has them all), moves, locations — the dense (J, S, T)
  position lookups of the index sets, Pyomo's objects for the restricted model, and the
  schedule relaxation's prices and shortest paths beside the search (J×S×T);
* **the greedy's guide LP** (:func:`relaxation_estimate`, in ``plan(method="greedy")`` before
  the LP is built): the relaxation over every reachable site and its position lookups — over
  the budget the default guide is skipped with a note, ``guide=True`` raises;
* **plots** (:func:`plot_budget`): artists and pixels; a plot too large to draw in bounded
  time is drawn aggregated (per-site totals per slot, slots binned) or skipped with a note.

Each estimate is compared with the **memory budget**: the ``budget=`` keyword of the check
functions, else the plan's option (``plan(..., memory_budget="32GiB")``, ``--memory-budget``,
applied by :func:`budget_of_call`), else :func:`set_memory_budget`, else the environment variable
``GREENOPT_MEMORY_BUDGET`` (``"12GiB"``, ``"800MB"``, bytes), else
:data:`DEFAULT_BUDGET` — 16 GiB, sized for a 24 GiB machine (two thirds of it: the rest is the
operating system's, Python's and the solver's own working memory). Over budget raises
:class:`~greenopt.errors.SizeError` naming the sizes, the estimate, the budget and what to
change. The estimates are deliberately simple (bytes per array element, measured bytes per
Pyomo object): they aim at the right order of magnitude, not at the last megabyte.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenopt.errors import ScenarioError, SizeError

GiB = 1024**3
MiB = 1024**2
#: Default budget: two thirds of a 24 GiB machine.
DEFAULT_BUDGET = 16 * GiB
ENV_VAR = "GREENOPT_MEMORY_BUDGET"

#: Bytes per element of a dense float64 / int64 array.
_F8 = 8
#: Dense (J, T) float arrays alive at once while the per-job, per-slot weights are built
#: (the result and the temporaries of ``Δh·(end − release)/work``; measured: greedy on
#: 20,000 jobs × 2,000 slots peaked 1.1 GiB over its start, 4 arrays are 1.2 GiB).
_JT_ARRAYS = 4
#: Bytes per column of the relaxation LP (its arrays, the sparse matrix and HiGHS's copy).
_RELAX_COL_BYTES = 160
#: Bytes per job × site × slot of the schedule relaxation's pricing pass, before or beside the
#: search (its own index sets, run and arrival prices, the pricing's shortest paths): one pass of
#: :func:`~greenopt.milp.schedules.priced_bound` peaked 172 MB on 1000×15×96 and 497 MB on
#: 2000×20×96 (tracemalloc), ~130 bytes per cell.
_SCHEDULE_CELL_BYTES = 140.0
#: Bytes per column of the MILP, with its share of rows: Pyomo's variable and constraint
#: objects dominate (measured on 1,000×6×200 and 2,000×6×500: 4.0–4.6 KB per column, peak).
_MODEL_COL_BYTES = 4096
#: Candidate sites per job of a restricted model (origin, the relaxation's sites, the start
#: plan's): measured 2–3 on synthetic instances of 6–8 sites.
_RESTRICTED_SITES = 2.5

_override: int | None = None
#: The budget of the current ``plan(memory_budget=...)`` call (a context, so that two plans in
#: two threads each keep their own).
_call_budget: ContextVar[int | None] = ContextVar("greenopt_memory_budget", default=None)
#: ``16GiB`` (binary), ``16GB`` / ``16G`` (decimal), ``800M``, ``1.5e9``, ``4096B``
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:([kKmMgGtT])(i?)[bB]?|[bB])?\s*")


# -- the budget ----------------------------------------------------------------------------------
def parse_bytes(value: Any, what: str = "memory_budget") -> int:
    """``16 * GiB``, ``"16GiB"`` (binary), ``"16 GB"`` / ``"16G"`` (decimal), ``"800M"``,
    ``"1.5e9"`` → bytes (> 0)."""
    if isinstance(value, bool):
        raise ScenarioError(f"{what} must be a size like '16GiB' or bytes, got {value!r}", what)
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return int(value)
    if isinstance(value, str):
        m = _SIZE.fullmatch(value)
        if m:
            power = "kmgt".index(m[2].lower()) + 1 if m[2] else 0
            size = float(m[1]) * (1024 if m[3] else 1000) ** power
            if 0 < size < math.inf:
                return int(size)
    raise ScenarioError(
        f"{what} must be a size like '16GiB', '800MB' or a number of bytes, got {value!r}", what
    )


def set_memory_budget(value: Any | None) -> None:
    """Set the process-wide budget (``None``: back to ``GREENOPT_MEMORY_BUDGET`` or default)."""
    global _override
    _override = None if value is None else parse_bytes(value)


@contextmanager
def budget_of_call(value: Any | None) -> Iterator[None]:
    """Within the ``with`` block (in this thread or task), the budget is ``value`` (``None``:
    unchanged) — how ``plan(memory_budget=...)`` and ``--memory-budget`` apply it."""
    if value is None:
        yield
        return
    token = _call_budget.set(parse_bytes(value))
    try:
        yield
    finally:
        _call_budget.reset(token)


#: When the current ``plan()`` call began (``time.perf_counter()``; ``None`` outside one):
#: a time limit bounds the whole call, imports of its planner included
_call_started: ContextVar[float | None] = ContextVar("greenopt_call_started", default=None)


@contextmanager
def timed_call(started: float) -> Iterator[None]:
    """Within the ``with`` block (in this thread or task), clocks count from ``started``
    (:func:`take_call_start`) — ``plan()`` sets it first thing, so that the time its method's
    first import takes (Pyomo: ~0.9 s) is inside its time limit."""
    token = _call_started.set(started)
    try:
        yield
    finally:
        _call_started.reset(token)


def take_call_start() -> float | None:
    """When the current ``plan()`` call began (:func:`timed_call`; ``None`` outside one, or
    once taken): the first clock of the call counts from it, later ones (a hard-deadline
    diagnosis's own soft plan) from when they are made, as before."""
    started = _call_started.get()
    if started is not None:
        _call_started.set(None)
    return started


def memory_budget(value: Any | None = None) -> int:
    """The budget in bytes: ``value`` if given, else the current call's
    (:func:`budget_of_call`: ``plan(memory_budget=...)``, ``--memory-budget``), else
    :func:`set_memory_budget`'s, else the environment variable :data:`ENV_VAR`, else
    :data:`DEFAULT_BUDGET`."""
    if value is not None:
        return parse_bytes(value)
    if _call_budget.get() is not None:
        return _call_budget.get()
    if _override is not None:
        return _override
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_bytes(env, ENV_VAR)
    return DEFAULT_BUDGET


def human(n: float) -> str:
    """Bytes for a message: ``"18.4 GiB"``, ``"512 MiB"``."""
    for unit, size in (("TiB", 1024**4), ("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


@dataclass
class Estimate:
    """Bytes some step would allocate, by part, and the counts they come from."""

    what: str
    sizes: dict[str, int]
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return int(sum(self.parts.values()))

    def check(self, budget: Any | None = None, advice: str = "") -> None:
        """Raise :class:`SizeError` when over the budget (see the module docstring)."""
        limit = memory_budget(budget)
        if self.bytes <= limit:
            return
        sizes = ", ".join(f"{v:,} {k}" for k, v in self.sizes.items())
        top = sorted(self.parts.items(), key=lambda kv: -kv[1])[:3]
        parts = "; ".join(f"{name} {human(b)}" for name, b in top)
        raise SizeError(
            f"{self.what} is too large for the memory budget: {sizes} would need about "
            f"{human(self.bytes)} ({parts}), over the budget of {human(limit)}. {advice} "
            f"If the machine has the memory, raise the budget: plan(..., "
            f"memory_budget='32GiB'), --memory-budget 32GiB on the command line, or the "
            f"environment variable {ENV_VAR}=32GiB.",
            self.bytes,
            limit,
            self.sizes,
        )


# -- the scenario's arrays ----------------------------------------------------------------------
def scenario_estimate(J: int, S: int, T: int) -> Estimate:
    """Bytes of the arrays every planner derives from a scenario of J jobs, S sites, T slots."""
    return Estimate(
        "the scenario",
        {"jobs": J, "sites": S, "slots": T},
        {
            "per-job per-slot weights (J×T)": float(_JT_ARRAYS * _F8) * J * T,
            "index (J×S, S×T)": float(J) * S * 2 + 6.0 * _F8 * S * T + 24.0 * _F8 * J,
            "move times (J×S×S)": 2.0 * _F8 * J * S * S,
        },
    )


_SCENARIO_ADVICE = (
    "Plan fewer jobs or a shorter horizon at a time (e.g. day by day with `greenopt batch "
    "--days`), or use longer slots."
)


def check_scenario_size(J: int, S: int, T: int, budget: Any | None = None) -> None:
    """Raise :class:`SizeError` before a scenario's arrays are built if they would not fit."""
    scenario_estimate(J, S, T).check(budget, _SCENARIO_ADVICE)


# -- the MILP ------------------------------------------------------------------------------------
def milp_estimate(scenario: Any, bb_max: int | None = None) -> Estimate:
    """Bytes of the MILP of ``scenario`` (its relaxation over every reachable site and the
    model itself), from the index-set sizes, before anything is built.

    ``bb_max``: binaries up to which the model keeps every allowed site (the MILP's own
    threshold); above it, a restricted model of about :data:`_RESTRICTED_SITES` sites per job.
    """
    J, S, T, W, A = _reach(scenario)
    mobile = np.asarray(scenario.index.migratable, dtype=float)

    def moves(c: np.ndarray) -> float:
        return float(np.sum(W * (mobile * c * (c - 1) + (1 - mobile) * (c - 1))))

    relax_cols = 3.0 * float(np.sum(A * W))  # shares, arrivals, presence over every site
    whole = bb_max is None or moves(A) <= bb_max
    c = A if whole else np.minimum(A, _RESTRICTED_SITES)
    cols = 2 * float(np.sum(c * W)) + moves(c) + 2.0 * S * T  # shares, locations, moves, grid
    return Estimate(
        "the MILP",
        {
            "jobs": J,
            "sites": S,
            "slots": T,
            "relaxation columns": int(relax_cols),
            "model columns": int(cols),
        },
        {
            # the relaxation's index sets and the model's can be alive at once
            "position lookups (J×S×T)": 2 * 2.0 * _F8 * J * S * T,
            "relaxation LP": relax_cols * _RELAX_COL_BYTES,
            "model (Pyomo and HiGHS)": cols * _MODEL_COL_BYTES,
            "per-job per-slot weights (J×T)": float(_JT_ARRAYS * _F8) * J * T,
            "schedule relaxation's pricing pass (J×S×T)": _SCHEDULE_CELL_BYTES * J * S * T,
            # its Lagrangian view kept through the search: one price per run (float64)
            "Lagrangian view for the search (J×S×T)": float(_F8) * J * S * T,
        },
    )


def _reach(scenario: Any) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """``J, S, T``, each job's window length ``W`` and number of sites it may run at ``A``."""
    idx = scenario.index
    J, S, T = len(idx.job_names), len(idx.site_names), idx.T
    W = (idx.end_slot - idx.first_slot).astype(float)
    allowed = np.asarray(idx.allowed, dtype=bool).copy()
    if J:
        allowed[np.arange(J), idx.origin] = True
    return J, S, T, W, allowed.sum(axis=1).astype(float)


def relaxation_estimate(scenario: Any) -> Estimate:
    """Bytes of the relaxation LP over every reachable site — the greedy's guide LP
    (:mod:`greenopt.heuristics.guided`) — and its index sets, before they are built."""
    J, S, T, W, A = _reach(scenario)
    relax_cols = 3.0 * float(np.sum(A * W))  # shares, arrivals, presence over every site
    return Estimate(
        "the greedy's guide LP",
        {"jobs": J, "sites": S, "slots": T, "relaxation columns": int(relax_cols)},
        {
            "position lookups (J×S×T)": 2.0 * _F8 * J * S * T,
            "relaxation LP": relax_cols * _RELAX_COL_BYTES,
        },
    )


GUIDE_ADVICE = "Plan it with guide=False (the plain greedy), or plan fewer jobs at a time."

_MILP_ADVICE = (
    "Plan it with the greedy heuristic (method='greedy'), or plan fewer jobs, fewer sites per "
    "job (allowed_regions) or a shorter horizon at a time."
)


def check_milp(scenario: Any, bb_max: int | None = None, budget: Any | None = None) -> None:
    """Raise :class:`SizeError` before the MILP is built if it would not fit."""
    milp_estimate(scenario, bb_max).check(budget, _MILP_ADVICE)


# -- plots ---------------------------------------------------------------------------------------
#: Most bars or markers a plot draws one by one; above, it is drawn aggregated.
MAX_ARTISTS = 20_000
#: Most job rows a Gantt chart lists; above, it shows GPUs in use per site instead.
MAX_GANTT_ROWS = 150
#: Most points per drawn series; above, slots are binned.
MAX_POINTS = 600
#: Most site panels in one figure; above, the per-site plots are skipped with a note.
MAX_PANELS = 40
#: Most WAN nodes plus links drawn; above, the WAN map is skipped with a note.
MAX_WAN_ELEMENTS = 5_000


@dataclass
class PlotPlan:
    """How a plot is drawn: ``mode`` is ``"detail"``, ``"aggregate"`` or ``"skip"``; ``bin``
    slots per drawn point; ``note`` says why when not in detail."""

    mode: str
    bin: int = 1
    note: str = ""


def plot_budget(
    kind: str,
    *,
    sites: int,
    slots: int,
    artists: int = 0,
    rows: int = 0,
    pixels: float = 0.0,
    budget: Any | None = None,
) -> PlotPlan:
    """How to draw plot ``kind`` (``gantt``, ``energy``, ``wan``) of the given size in bounded
    time and memory (see the module docstring)."""
    if kind == "wan":
        if artists > MAX_WAN_ELEMENTS:
            return PlotPlan(
                "skip",
                note=f"wan.png not drawn: {artists:,} nodes and links "
                f"(at most {MAX_WAN_ELEMENTS:,} are drawn)",
            )
        return PlotPlan("detail")
    if sites > MAX_PANELS:
        return PlotPlan(
            "skip",
            note=f"{kind}.png not drawn: {sites:,} site panels (at most {MAX_PANELS}); "
            "see energy.csv and assignments.csv",
        )
    binned = max(1, math.ceil(slots / MAX_POINTS))
    # RGBA canvas plus the PNG encoder's copy, and about 2 KB per artist
    need = 8.0 * pixels + 2048.0 * min(artists, MAX_ARTISTS)
    if need > memory_budget(budget):
        return PlotPlan("skip", note=f"{kind}.png not drawn: it would need {human(need)} of memory")
    if artists > MAX_ARTISTS or rows > MAX_GANTT_ROWS or binned > 1:
        why = []
        if artists > MAX_ARTISTS:
            why.append(f"{artists:,} bars")
        if rows > MAX_GANTT_ROWS:
            why.append(f"{rows:,} job rows")
        if binned > 1:
            why.append(f"{slots:,} slots, {binned} per point")
        return PlotPlan("aggregate", binned, f"{kind}.png drawn aggregated ({', '.join(why)})")
    return PlotPlan("detail")
