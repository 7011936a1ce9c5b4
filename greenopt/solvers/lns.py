"""Fix-and-optimise: improve a MILP incumbent by re-solving it a few jobs at a time.

A model of hundreds of jobs is too large for branch-and-bound in the time a day-ahead plan is
given, but jobs interact only through shared site-slots (GPU-time, renewable energy, grid limits)
and links. So the incumbent is improved by *neighbourhoods*: choose a set ``F`` of jobs, fix
every column of every other job at its incumbent value, and solve the remaining MILP exactly:

    min  c_F·x_F + c_G·g          s.t.   A_F x_F + A_G g  ∈  [row_lb − A_X v_X,  row_ub − A_X v_X]

where ``X`` are the fixed jobs' columns with incumbent values ``v_X`` and ``G`` the site-slot
columns (grid draw, negative-price switches), which always stay free. The incumbent restricted to
``F`` is feasible for that sub-MILP and is passed as its MIP start, so every accepted step is an
improvement of a plan that obeys every rule; the result never gets worse than the start.

The sub-MILPs are sliced from the *compiled* Pyomo model (the standard-form arrays handed to
HiGHS), so the model is built and handed off once however many neighbourhoods are solved.

Neighbourhoods (rotated, all seeded so that runs are repeatable):

* ``site-window``: the jobs that could run at one site during a stretch of slots — they compete
  for its GPU-time and renewable energy;
* ``related``: one job and the jobs whose windows and candidate sites overlap it most;
* ``random``: a uniform sample (diversification).

The neighbourhood size adapts: it grows while sub-MILPs are solved to optimality quickly and
shrinks when they hit their time limit.

**Work-based budget.** ``max_neighbourhoods`` bounds the search by a count of neighbourhoods
instead of seconds: then the size stays fixed, the sub-MILPs run without a time limit (unless one
is given) and the plan is polished once at the end, so nothing depends on the clock — the same
input gives the same plan on any machine, thread or load (the basis of a deterministic mode).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from greenopt.solvers.highs import StandardForm


@dataclass
class LnsResult:
    values: np.ndarray  # the best column values found (compiled order)
    objective: float
    iterations: int = 0
    improvements: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    history: list[tuple[float, float]] = field(default_factory=list)  # (seconds, objective)
    #: how many sub-MILPs ended with each status (``optimal``, ``time_limit``, ``no_solution``…)
    sub_status: Counter[str] = field(default_factory=Counter)


@dataclass
class Neighbourhoods:
    """What the neighbourhood generator needs to know of the jobs."""

    first: np.ndarray  # (J,) first slot of each window
    end: np.ndarray  # (J,) end slot (exclusive)
    cand: np.ndarray  # (J, S) bool: sites in the job's candidate set
    weight: np.ndarray  # (J,) how much a job matters (work × power): sampling weight

    def site_window(self, rng: np.random.Generator, k: int, T: int) -> np.ndarray:
        S = self.cand.shape[1]
        s = int(rng.integers(S))
        width = max(2, int(rng.integers(max(2, T // 8), max(3, T // 3) + 1)))
        t0 = int(rng.integers(0, max(1, T - width + 1)))
        pool = np.flatnonzero(self.cand[:, s] & (self.first < t0 + width) & (self.end > t0))
        return self._sample(rng, pool, k)

    def related(self, rng: np.random.Generator, k: int, around: int | None = None) -> np.ndarray:
        J = len(self.first)
        j = int(rng.choice(J, p=self.weight / self.weight.sum())) if around is None else around
        overlap_t = np.minimum(self.end, self.end[j]) - np.maximum(self.first, self.first[j])
        shared = (self.cand & self.cand[j]).sum(axis=1)
        score = np.where((overlap_t > 0) & (shared > 0), overlap_t * shared, 0).astype(float)
        score += rng.random(J) * 0.5  # random tie-break among equally related jobs
        score[j] = np.inf
        return np.sort(np.argsort(-score, kind="stable")[:k])

    def random(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return self._sample(rng, np.arange(len(self.first)), k)

    def _sample(self, rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
        if len(pool) <= k:
            return pool
        w = self.weight[pool]
        return np.sort(rng.choice(pool, size=k, replace=False, p=w / w.sum()))


#: ``solve_sub(form, start, time_limit or None) -> (values or None, status, interrupted)``
SubSolver = Callable[[StandardForm, np.ndarray, float | None], tuple[np.ndarray | None, str, bool]]


def fix_and_optimise(
    cm: StandardForm,
    col_job: np.ndarray,
    start: np.ndarray,
    hoods: Neighbourhoods,
    T: int,
    solve_sub: SubSolver,
    *,
    budget_s: float,
    seed: int = 0,
    size: int = 12,
    sub_time: float | None = 2.0,
    max_neighbourhoods: int | None = None,
    stall: int | None = None,
    target: float | None = None,
    unmet_col: np.ndarray | None = None,
    polish: Callable[[np.ndarray], np.ndarray | None] | None = None,
    polish_every: float = math.inf,
    progress: Callable[[LnsResult], None] | None = None,
) -> LnsResult:
    """Improve ``start`` (column values of ``cm``) until the time budget is spent.

    ``col_job[k]`` is the job owning column ``k`` of ``cm`` (−1: a site-slot column, always free).

    ``solve_sub`` solves one sub-MILP (a :class:`StandardForm` with its MIP start) within
    ``sub_time`` seconds (``None``: no limit but the budget's). ``max_neighbourhoods``: stop after
    that many neighbourhoods, with a fixed size and one polish at the end (the work-based budget
    of the module docstring; ``budget_s`` still applies as a safety net). Stops early
    after ``stall`` neighbourhoods in a row without improvement (default: enough to visit every
    job about twice) or when the objective reaches ``target`` (e.g. within the MIP gap of a
    known bound). ``unmet_col[j]``: the column of job ``j``'s unmet work (−1: none) — a job left
    short is the first to get a neighbourhood, since its penalty outweighs everything else.
    ``polish(v)``: a better ``v`` for the same binaries (an LP over every continuous column),
    called every ``polish_every`` seconds of search and at the end.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    J = len(hoods.first)
    v = _clean(cm, start)
    best = cm.objective(v)
    res = LnsResult(values=v, objective=best, history=[(0.0, best)])
    if J == 0:
        return res
    k = max(2, min(size, J))
    stall = stall if stall is not None else max(20, 2 * math.ceil(J / k))
    quiet = 0
    kinds = ("site-window", "related", "site-window", "random")
    has_unmet = unmet_col is not None and bool(np.any(unmet_col >= 0))
    last_polish = t0
    by_work = max_neighbourhoods is not None
    if by_work:
        polish_every = math.inf  # a polish on a timer would make the result depend on the clock
    while True:
        elapsed = time.perf_counter() - t0
        left = budget_s - elapsed
        if left <= 0.05 or quiet >= stall or (target is not None and best <= target):
            break
        if by_work and res.iterations >= max_neighbourhoods:
            break
        if polish is not None and time.perf_counter() - last_polish >= polish_every:
            v, best = _polished(cm, polish, v, best, res, t0)
            last_polish = time.perf_counter()
        short = _short_jobs(v, unmet_col) if has_unmet else np.zeros(0, dtype=np.int64)
        kind = kinds[res.iterations % len(kinds)]
        if len(short):
            # rotate through the jobs left short: each gets its related jobs freed with it
            free = hoods.related(rng, k, around=int(short[res.iterations % len(short)]))
        elif kind == "site-window":
            free = hoods.site_window(rng, k, T)
        elif kind == "related":
            free = hoods.related(rng, k)
        else:
            free = hoods.random(rng, k)
        res.iterations += 1
        if len(free) == 0:
            quiet += 1
            continue
        limit = min(math.inf if sub_time is None else sub_time, left)
        t1 = time.perf_counter()
        values, status, interrupted = _solve_neighbourhood(
            cm, col_job, v, free, solve_sub, limit if math.isfinite(limit) else None
        )
        took = time.perf_counter() - t1
        res.sub_status[status] += 1
        if interrupted:
            res.interrupted = True
            break
        improved = False
        if values is not None:
            cand = _clean(cm, values)
            value = cm.objective(cand)
            if value < best - 1e-9 * max(1.0, abs(best)):
                v, best, improved = cand, value, True
                res.improvements += 1
                res.history.append((time.perf_counter() - t0, best))
        quiet = 0 if improved else quiet + 1
        # adapt the neighbourhood size to what the solver closes quickly ("feasible": closed
        # to the sub-MILP's gap; anything else: stopped by the time limit)
        solved = status in ("optimal", "feasible")
        if by_work:
            pass  # a size that followed the solver's speed would follow the clock
        elif solved and sub_time is not None and took < 0.25 * sub_time:
            k = min(J, k + max(1, k // 4))
        elif not solved:
            k = max(2, int(k * 0.75))
        if progress is not None:
            res.values, res.objective = v, best
            progress(res)
    if polish is not None and not res.interrupted:
        v, best = _polished(cm, polish, v, best, res, t0)
    res.values, res.objective = v, best
    res.seconds = time.perf_counter() - t0
    return res


def _short_jobs(v: np.ndarray, unmet_col: np.ndarray) -> np.ndarray:
    """Jobs whose unmet-work column is positive in ``v``."""
    has = np.flatnonzero(unmet_col >= 0)
    return has[v[unmet_col[has]] > 1e-7]


def _polished(
    cm: StandardForm,
    polish: Callable[[np.ndarray], np.ndarray | None],
    v: np.ndarray,
    best: float,
    res: LnsResult,
    t0: float,
) -> tuple[np.ndarray, float]:
    better = polish(v)
    if better is not None:
        cand = _clean(cm, better)
        value = cm.objective(cand)
        if value < best - 1e-9 * max(1.0, abs(best)):
            res.improvements += 1
            res.history.append((time.perf_counter() - t0, value))
            return cand, value
    return v, best


def _solve_neighbourhood(
    cm: StandardForm,
    col_job: np.ndarray,
    v: np.ndarray,
    free_jobs: np.ndarray,
    solve_sub: SubSolver,
    limit: float | None,
) -> tuple[np.ndarray | None, str, bool]:
    """Solve the sub-MILP of ``free_jobs`` (every other job fixed at ``v``); full-length values."""
    free = np.isin(col_job, free_jobs) | (col_job < 0)
    fi = np.flatnonzero(free)
    fx = np.flatnonzero(~free)
    shift = cm.A[:, fx] @ v[fx]
    sub = cm.A[:, fi]
    rows = np.flatnonzero(np.diff(sp.csr_array(sub).indptr) > 0)
    sub = sp.csc_array(sub[rows, :])
    lo = cm.row_lb[rows] - shift[rows]
    hi = cm.row_ub[rows] - shift[rows]
    # exact zeros stay exact (a fixed part that cancels must not leave 1e-17 residues)
    lo[np.abs(lo) < 1e-12] = 0.0
    hi[np.abs(hi) < 1e-12] = 0.0
    form = StandardForm(
        c=cm.c[fi],
        offset=cm.offset + float(cm.c[fx] @ v[fx]),
        A=sub,
        col_lb=cm.col_lb[fi],
        col_ub=cm.col_ub[fi],
        integer=cm.integer[fi],
        row_lb=lo,
        row_ub=hi,
        col_index=cm.col_index[fi],
    )
    values, status, interrupted = solve_sub(form, v[fi], limit)
    if values is None:
        return None, status, interrupted
    out = v.copy()
    out[fi] = values
    return out, status, interrupted


def _clean(cm: StandardForm, v: np.ndarray) -> np.ndarray:
    """Integer columns rounded, every column inside its bounds."""
    out = np.clip(np.asarray(v, dtype=float), cm.col_lb, cm.col_ub)
    out[cm.integer] = np.round(out[cm.integer])
    return out


def neighbourhoods_for(ix: Any) -> Neighbourhoods:
    """Neighbourhood data from the MILP's index sets (``formulations.sets.IndexSets``); a job is
    drawn with weight ∝ its energy (work × power)."""
    idx = ix.scenario.index
    cand = np.zeros((ix.J, ix.S), dtype=bool)
    for j, c in enumerate(ix.cand):
        cand[j, c] = True
    weight = np.maximum(idx.work_h * np.maximum(idx.power_kw, 1e-3), 1e-6)
    return Neighbourhoods(
        first=np.asarray(idx.first_slot), end=np.asarray(idx.end_slot), cand=cand, weight=weight
    )
