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
* ``random``: a uniform sample (diversification);
* ``lagrangian`` (huge days, with the first master's pricing pass): a job far from its best
  response at the relaxation's duals, with the jobs holding where that response would run.

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
    #: where the incumbent runs and draws from the grid, for ``hot`` (columns of the form being
    #: searched): each run-share column's job, site, slot; each grid column's site and slot
    run: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # col, j, s, t
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # col, s, t
    #: the Lagrangian view of a pricing pass at the relaxation's duals, for ``lagrangian``:
    #: each ``run`` column's reduced cost per share, each job's least reduced cost, and the
    #: site-slots (``s·T + t``) of each job's schedule of least reduced cost
    lagrange: tuple[np.ndarray, np.ndarray, list[np.ndarray]] | None = None

    def lagrangian(self, rng: np.random.Generator, k: int, T: int, v: np.ndarray) -> np.ndarray:
        """A job far from its best response at the duals — drawn ∝ its *reduced-cost gap*,
        the incumbent's run shares priced at the duals less its least reduced cost — freed with
        the jobs holding the site-slots its Lagrangian schedule would use, then its related
        jobs: an ejection chain towards where the dual prices say it belongs. The plan's
        objective less the Lagrangian bound is the sum of these gaps (with the coupling rows'
        slack): on 1000×15×96's 60 s plan 10 jobs held a third of it, 50 over two thirds."""
        if self.lagrange is None or self.run is None:
            return self.related(rng, k)
        price_col, lower, wants = self.lagrange
        r_col, r_j, r_s, r_t = self.run
        J = len(self.first)
        share = v[r_col]
        cost = np.bincount(r_j, weights=price_col * share, minlength=J)
        gap = np.maximum(cost - lower, 0.0)
        total = gap.sum()
        if total <= 0:
            return self.related(rng, k)
        j = int(rng.choice(J, p=gap / total))
        want = wants[j]
        held = (share > 1e-7) & (r_j != j) & np.isin(r_s * T + r_t, want)
        holders = self._sample(rng, np.unique(r_j[held]), max(0, k // 2))
        chosen = np.union1d([j], holders)
        if len(chosen) < k:
            more = self.related(rng, k, around=j)
            more = more[~np.isin(more, chosen)][: k - len(chosen)]
            chosen = np.union1d(chosen, more)
        return chosen.astype(np.int64)

    def hot(
        self, rng: np.random.Generator, k: int, T: int, v: np.ndarray, c: np.ndarray
    ) -> np.ndarray:
        """Where the incumbent is worst: a site-window drawn by its emissions (``c·v`` of its
        grid columns), half the jobs running there and half the jobs running, in the same
        window, at the other sites those jobs could use — weighted towards the sites that emit
        least — so that the sub-MILP can swap dirty work with clean (an ejection chain that a
        site-window of one site or the greedy cannot find)."""
        if self.run is None or self.grid is None:
            return self.site_window(rng, k, T)
        g_col, g_s, g_t = self.grid
        S = self.cand.shape[1]
        emit = np.zeros((S, T))
        np.add.at(emit, (g_s, g_t), np.maximum(c[g_col] * v[g_col], 0.0))
        total = emit.sum()
        if total <= 0:
            return self.site_window(rng, k, T)
        at = int(rng.choice(S * T, p=emit.ravel() / total))
        s, t = divmod(at, T)
        width = max(2, int(rng.integers(max(2, T // 12), max(3, T // 4) + 1)))
        t0 = max(0, min(t - width // 2, T - width))
        r_col, r_j, r_s, r_t = self.run
        on = (v[r_col] > 1e-7) & (r_t >= t0) & (r_t < t0 + width)
        here = np.unique(r_j[on & (r_s == s)])
        dirty = self._sample(rng, here, max(1, k // 2))
        if len(dirty) == 0:
            return self.site_window(rng, k, T)
        sites = self.cand[dirty].any(axis=0)
        sites[s] = False
        cool = 1.0 / (1.0 + emit[:, t0 : t0 + width].sum(axis=1) / (total / S))
        there = on & sites[r_s] & ~np.isin(r_j, dirty)
        jobs, first = np.unique(r_j[there], return_index=True)
        if len(jobs) and k > len(dirty):
            w = self.weight[jobs] * cool[r_s[there][first]]
            take = min(k - len(dirty), len(jobs))
            swap = rng.choice(jobs, size=take, replace=False, p=w / w.sum())
            return np.sort(np.concatenate([dirty, swap]))
        return np.sort(dirty)

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
#: ``solve_many([(form, start, time_limit or None), ...])``: the same for several sub-MILPs at
#: once (e.g. on a Dask cluster, :mod:`greenopt.solvers.cluster`), answers in the same order
ManySolver = Callable[
    [list[tuple[StandardForm, np.ndarray, float | None]]],
    list[tuple[np.ndarray | None, str, bool]],
]
#: The neighbourhood kinds, in turn (``hot`` twice: it is where the incumbent is worst).
KINDS = ("hot", "related", "site-window", "hot", "random")
#: ... with a Lagrangian view (huge days' first pass at the relaxation's duals)
LAGRANGE_KINDS = ("hot", "lagrangian", "site-window", "lagrangian", "random")


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
    solve_many: ManySolver | None = None,
    batch: int = 1,
    external: Callable[[], tuple[np.ndarray, float] | None] | None = None,
    stop: Callable[[], bool] | None = None,
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
    ``polish(v)``: a better ``v`` for the same binaries (an LP over every continuous column: the
    LP re-timing of the start plan), called before the first neighbourhood, every
    ``polish_every`` seconds of search and at the end.

    **Several at once.** With ``solve_many`` and ``batch`` > 1, each round draws ``batch``
    neighbourhoods from the same incumbent and solves them together (:func:`_merge` keeps the
    incumbent consistent: an improving answer is applied only if it changes no column and no row
    that an answer applied before it in this round changed — then the sum of the changes obeys
    every row and improves by the sum of the gains — and a conflicting one is drawn again, first,
    in the next round). With ``batch`` = 1 every step is the sequential one: the same plan
    whoever solves the sub-MILP.

    **Beside another search.** ``external()``: a plan found elsewhere (column values, its
    objective), or ``None`` — checked before each round, and taken as the incumbent when it is
    better; ``stop()``: true when the search should end now (the other one has finished).
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    J = len(hoods.first)
    v = _clean(cm, start)
    best = cm.objective(v)
    res = LnsResult(values=v, objective=best, history=[(0.0, best)])
    if J == 0:
        return res
    batch = max(1, int(batch))
    k = max(2, min(size, J))
    stall = stall if stall is not None else max(20, 2 * math.ceil(J / k))
    quiet = 0
    has_unmet = unmet_col is not None and bool(np.any(unmet_col >= 0))
    by_work = max_neighbourhoods is not None
    if by_work:
        polish_every = math.inf  # a polish on a timer would make the result depend on the clock
    polish_s = 0.0  # what the last polish took: the final one must fit in the budget too
    if polish is not None:
        # the start plan's LP re-timing: its locations and moves, the best shares for them
        t_p = time.perf_counter()
        v, best = _polished(cm, polish, v, best, res, t0)
        polish_s = time.perf_counter() - t_p
    last_polish = time.perf_counter()
    retry: list[np.ndarray] = []  # conflicting neighbourhoods of the last round, drawn again
    while True:
        elapsed = time.perf_counter() - t0
        # the final polish's time is kept back (2000×20×96: 3.3 s, after the budget, before)
        left = budget_s - elapsed - (0.0 if by_work else polish_s)
        if left <= 0.05 or quiet >= stall or (target is not None and best <= target):
            break
        if by_work and res.iterations >= max_neighbourhoods:
            break
        if stop is not None and stop():
            break
        if external is not None:
            v, best = _adopt(cm, external(), v, best, res, t0)
        if polish is not None and time.perf_counter() - last_polish >= polish_every:
            t_p = time.perf_counter()
            v, best = _polished(cm, polish, v, best, res, t0)
            last_polish = time.perf_counter()
            polish_s = last_polish - t_p
        n = batch if not by_work else min(batch, max_neighbourhoods - res.iterations)
        chosen: list[np.ndarray] = []
        while len(chosen) < n:
            if retry:
                chosen.append(retry.pop(0))
                res.iterations += 1
                continue
            short_of = unmet_col if has_unmet else None
            free = _draw(hoods, rng, k, T, v, cm.c, res.iterations, short_of)
            res.iterations += 1
            if len(free) == 0:
                quiet += 1
                if len(chosen) == 0 and quiet >= stall:
                    break
                continue
            chosen.append(free)
        if not chosen:
            continue
        limit = min(math.inf if sub_time is None else sub_time, left)
        limit_or_none = limit if math.isfinite(limit) else None
        Av = cm.A @ v
        subs = [_subproblem(cm, col_job, v, Av, free) for free in chosen]
        t1 = time.perf_counter()
        if solve_many is None:
            answers = [solve_sub(form, v[fi], limit_or_none) for form, fi in subs]
        else:
            answers = solve_many([(form, v[fi], limit_or_none) for form, fi in subs])
        took = time.perf_counter() - t1
        interrupted = any(a[2] for a in answers)
        if interrupted:
            res.interrupted = True
            break
        full = []
        for (_, fi), (values, status, _) in zip(subs, answers, strict=True):
            res.sub_status[status] += 1
            out = None
            if values is not None:
                out = v.copy()
                out[fi] = values
            full.append((out, status))
        v_new, gains, conflicts = _merge(cm, v, best, full)
        for i in conflicts:
            retry.append(chosen[i])
        improved = gains > 0
        if improved:
            v, best = v_new, cm.objective(v_new)
            res.improvements += int(improved)
            res.history.append((time.perf_counter() - t0, best))
        quiet = 0 if improved else quiet + len(chosen)
        # adapt the neighbourhood size to what the solver closes quickly ("feasible": closed
        # to the sub-MILP's gap; anything else: stopped by the time limit)
        solved = all(status in ("optimal", "feasible") for _, status in full)
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


def _draw(
    hoods: Neighbourhoods,
    rng: np.random.Generator,
    k: int,
    T: int,
    v: np.ndarray,
    c: np.ndarray,
    iteration: int,
    unmet_col: np.ndarray | None,
) -> np.ndarray:
    """The jobs of the next neighbourhood: a job left short first (with its related jobs), else
    the next kind of :data:`KINDS`."""
    short = _short_jobs(v, unmet_col) if unmet_col is not None else np.zeros(0, dtype=np.int64)
    if len(short):
        # rotate through the jobs left short: each gets its related jobs freed with it
        return hoods.related(rng, k, around=int(short[iteration % len(short)]))
    kinds = KINDS if hoods.lagrange is None else LAGRANGE_KINDS
    kind = kinds[iteration % len(kinds)]
    if kind == "lagrangian":
        return hoods.lagrangian(rng, k, T, v)
    if kind == "hot":
        return hoods.hot(rng, k, T, v, c)
    if kind == "site-window":
        return hoods.site_window(rng, k, T)
    if kind == "related":
        return hoods.related(rng, k)
    return hoods.random(rng, k)


def _merge(
    cm: StandardForm,
    v: np.ndarray,
    best: float,
    answers: list[tuple[np.ndarray | None, str]],
) -> tuple[np.ndarray, float, list[int]]:
    """Apply the improving ``answers`` (full column vectors, each solved from ``v``) that do not
    conflict, in order: returns the new incumbent, the total gain and the positions of the
    improving answers left out because they touch a column or row an applied one changed.

    Each answer differs from ``v`` only in its free columns and obeys every row on its own. Two
    whose changed columns are disjoint and whose changes touch disjoint rows can be added up:
    every row then sees at most one change, so it holds, and the objective (linear) gains the sum.
    """
    out = v.copy()
    gain = 0.0
    used_cols = np.zeros(cm.n_cols, dtype=bool)
    used_rows = np.zeros(cm.A.shape[0], dtype=bool)
    conflicts: list[int] = []
    tol = 1e-9 * max(1.0, abs(best))
    for i, (values, _status) in enumerate(answers):
        if values is None:
            continue
        cand = _clean(cm, values)
        delta = cand - v
        step = float(cm.c @ delta)
        if step >= -tol:
            continue
        cols = np.flatnonzero(np.abs(delta) > 0)
        sub = cm.A[:, cols]
        rows = np.unique(sub.indices[np.abs(sub.data) > 0])
        if used_cols[cols].any() or used_rows[rows].any():
            conflicts.append(i)
            continue
        out[cols] = cand[cols]
        used_cols[cols] = True
        used_rows[rows] = True
        gain -= step
    return out, gain, conflicts


def _adopt(
    cm: StandardForm,
    got: tuple[np.ndarray, float] | None,
    v: np.ndarray,
    best: float,
    res: LnsResult,
    t0: float,
) -> tuple[np.ndarray, float]:
    """The incumbent after a plan from elsewhere (``None``: none; the polish's, or the other
    search's): that plan, cleaned and re-priced here, when it is better."""
    if got is None or len(got[0]) != cm.n_cols:
        return v, best
    cand = _clean(cm, got[0])
    value = cm.objective(cand)
    if value < best - 1e-9 * max(1.0, abs(best)):
        res.improvements += 1
        res.history.append((time.perf_counter() - t0, value))
        return cand, value
    return v, best


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
    return _adopt(cm, None if better is None else (better, math.nan), v, best, res, t0)


def _subproblem(
    cm: StandardForm, col_job: np.ndarray, v: np.ndarray, Av: np.ndarray, free_jobs: np.ndarray
) -> tuple[StandardForm, np.ndarray]:
    """The sub-MILP of ``free_jobs`` (every other job fixed at ``v``; ``Av = cm.A @ v``) and the
    positions of its columns in ``cm``. Only the free columns are sliced (the fixed part of each
    row is ``Av`` less the free part): cheap on a model of a million columns."""
    free = np.isin(col_job, free_jobs) | (col_job < 0)
    fi = np.flatnonzero(free)
    sub = cm.A[:, fi]
    shift = Av - sub @ v[fi]
    rows = np.unique(sub.indices)
    sub = sp.csc_array(sp.csr_array(sub)[rows, :])
    lo = cm.row_lb[rows] - shift[rows]
    hi = cm.row_ub[rows] - shift[rows]
    # exact zeros stay exact (a fixed part that cancels must not leave 1e-12 residues)
    lo[np.abs(lo) < 1e-9] = 0.0
    hi[np.abs(hi) < 1e-9] = 0.0
    fixed = cm.offset + float(cm.c @ v) - float(cm.c[fi] @ v[fi])
    form = StandardForm(
        c=cm.c[fi],
        offset=fixed,
        A=sub,
        col_lb=cm.col_lb[fi],
        col_ub=cm.col_ub[fi],
        integer=cm.integer[fi],
        row_lb=lo,
        row_ub=hi,
        col_index=cm.col_index[fi],
    )
    return form, fi


def _solve_neighbourhood(
    cm: StandardForm,
    col_job: np.ndarray,
    v: np.ndarray,
    free_jobs: np.ndarray,
    solve_sub: SubSolver,
    limit: float | None,
) -> tuple[np.ndarray | None, str, bool]:
    """Solve the sub-MILP of ``free_jobs`` (every other job fixed at ``v``); full-length values."""
    form, fi = _subproblem(cm, col_job, v, cm.A @ v, free_jobs)
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


def neighbourhoods_for(
    ix: Any, mx: Any = None, at: np.ndarray | None = None, lagrange: Any = None
) -> Neighbourhoods:
    """Neighbourhood data from the MILP's index sets (``formulations.sets.IndexSets``); a job is
    drawn with weight ∝ its energy (work × power). With the matrix ``mx`` and ``at`` (each
    matrix column's position in the form searched, −1: none), also where jobs run and draw from
    the grid, for the ``hot`` neighbourhood, and with a ``lagrange`` view
    (:class:`~greenopt.milp.schedules.LagrangianView`) the ``lagrangian`` one."""
    idx = ix.scenario.index
    cand = np.zeros((ix.J, ix.S), dtype=bool)
    for j, c in enumerate(ix.cand):
        cand[j, c] = True
    weight = np.maximum(idx.work_h * np.maximum(idx.power_kw, 1e-3), 1e-6)
    hoods = Neighbourhoods(
        first=np.asarray(idx.first_slot), end=np.asarray(idx.end_slot), cand=cand, weight=weight
    )
    if mx is not None and at is not None and "grid" in mx.cols:
        xb, gb = mx.cols["x"], mx.cols["grid"]
        r_col = at[xb.cols(np.arange(xb.n))]
        ok = r_col >= 0
        hoods.run = (r_col[ok], ix.xj[ok], ix.xs[ok], ix.xt[ok])
        g_col = at[gb.cols(np.arange(gb.n))]
        gk = gb.keys
        ok = g_col >= 0
        hoods.grid = (g_col[ok], gk[ok, 0].astype(np.int64), gk[ok, 1].astype(np.int64))
        if lagrange is not None:
            _, r_j, r_s, r_t = hoods.run
            price = lagrange.run_price[r_j, r_s, r_t]
            wants = [np.zeros(0, dtype=np.int64)] * ix.J
            for sch in lagrange.schedules:
                wants[sch.job] = np.asarray(sch.sites, dtype=np.int64) * ix.T + sch.slots
            lower = np.where(np.isfinite(lagrange.lower), lagrange.lower, 0.0)
            hoods.lagrange = (np.where(np.isfinite(price), price, 0.0), lower, wants)
    return hoods
