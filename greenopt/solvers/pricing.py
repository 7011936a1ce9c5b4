"""Pricing of one job's schedules: a shortest path over sites × slots with migrations.

The schedule relaxation (:mod:`greenopt.milp.schedules`) keeps, per job ``j``, the set
``P_j`` of its feasible schedules (MODEL.md §5: run shares in its window at allowed sites, at most
one site per slot, migrations derived from the run slots — the disruption of an arrival taken
out of its share, a job that is not migratable moving at most once, in its first run slot — and
a non-preemptible job's one block with full inner slots). Given prices for every site-slot share
``c[s,t]`` and every move ``m[a,b,t]``, pricing asks for

    v_j = min_{p ∈ P_j}  Σ_t c[s_t, t]·x_t + Σ_moves m[a,b,t] + U·unmet,
          Σ_t Δh·x_t + unmet = work_h,  unmet ≥ 0  (= 0 under hard deadlines).

**The lower bound.** The work row is what stops this from being a shortest path: relaxing it
with a price ``λ`` per hour of work,

    g(λ) = λ·work_h + min_{paths} Σ_t min_{x_t ∈ box_t} (c_t − λΔh)·x_t + Σ m + min(0, U − λ)·work_h

is a shortest path over states (site of the last run, or "not started") × slots, and
``g(λ) ≤ v_j`` for every ``λ`` (weak duality). On its own it spreads a migration's fixed cost
over more work than the job has; so the schedules are split into **classes by their number of
moves** (0, 1, …, ``≥ M``), the counter is part of the state, and each class gets its own ``λ``:

    v_j ≥ min_{k} max_λ g_k(λ),

exact for the number of moves (every schedule of class ``k`` pays ``k`` moves in full) and a
valid lower bound at every ``λ`` evaluated, converged or not. ``g_k`` is concave and piecewise
linear in ``λ``, its supergradient ``work_h − work(λ) − unmet(λ)``; ``λ`` is searched by
bracketing and tangent intersection (a few shortest paths per class).

**Exact where it is cheap.** A preemptible job's schedules without a move, or with one move
``origin → b`` in slot ``t0``, have a fixed location path each, on which the best shares are a
continuous knapsack (the cheapest room first, the work row kept): classes 0 and 1 of those jobs
are priced exactly by enumerating ``(b, t0)`` (:func:`_exact_low`), and only "two moves or more"
(and non-preemptible jobs) by the work price. Measured on ``100×5×24``: the bound where column
generation stalls rose from 64.41 (two classes, all by the work price; below the compact LP's
64.63) to 64.85 with it.

**The box of a slot.** A run at the site of the state: ``x ∈ [0, x_ub]``; an arrival ``a → b``:
``x ∈ [0, min(x_ub, 1 − d_ab/Δh)]`` (a real arrival has a positive share: the closure is a
relaxation). Non-preemptible jobs walk through *not started → in block → ended*: the first and
last slot of the block are free, an inner slot is forced full (``1``, less an arrival's
disruption), so the states are ``B``, ``R[s]`` (in block, at ``s``), ``E[s]`` (ended at ``s``).

**Columns.** The shortest path at a class's best ``λ`` is a location path; its shares are then
chosen exactly (:func:`fill_path`: a continuous knapsack at the true prices, the work row kept),
which is a schedule of ``P_j`` — a column for the master.

Everything is vectorised over the jobs (numpy, one slot at a time).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: Kinds of a slot on a path.
IDLE, FREE, FULL, ARR_FREE, ARR_FULL = 0, 1, 2, 3, 4


@dataclass
class JobSpace:
    """What pricing needs to know of the jobs (all arrays over jobs ``J``, sites ``S``)."""

    S: int
    T: int
    dt: float
    first: np.ndarray  # (J,) first slot of the window
    end: np.ndarray  # (J,) end slot (exclusive)
    origin: np.ndarray  # (J,)
    work: np.ndarray  # (J,) hours
    x_ub: np.ndarray  # (J,) min(1, work/Δh)
    delta: np.ndarray  # (J,) smallest share of an arrival slot in a column
    preemptible: np.ndarray  # (J,) bool
    migratable: np.ndarray  # (J,) bool
    gb: np.ndarray  # (J,) state moved per migration
    move_ok: np.ndarray  # (J, S, S) bool: a → b allowed (a the state's site)
    hi_arr: np.ndarray  # (J, S, S) largest share in a slot the job arrives in from a at b
    soft: bool
    unmet_cost: float  # U per hour of unmet work

    @property
    def J(self) -> int:
        return len(self.first)


@dataclass
class Prices:
    """Reduced costs of the pieces of a schedule (``inf``: the piece does not exist)."""

    run: np.ndarray  # (J, S, T) per unit of share
    arrive: np.ndarray  # (J, S, T) per arrival at b in t (energy of the state, penalty)
    route: np.ndarray  # (S, S, T) per GB moved a → b in t (link duals along the route)


@dataclass
class Path:
    """A location path of one job: per slot of its window, the site and what is done there."""

    job: int
    klass: int
    site: np.ndarray  # (window,) site of the slot's run or state (−1: not started)
    kind: np.ndarray  # (window,) IDLE / FREE / FULL / ARR_FREE / ARR_FULL
    src: np.ndarray  # (window,) source site of an arrival (−1 otherwise)


@dataclass
class Schedule:
    """One job's schedule: its run slots, sites and shares, its moves ``(a, b, t)`` and the
    hours of work it leaves undone."""

    job: int
    slots: np.ndarray
    sites: np.ndarray
    shares: np.ndarray
    moves: list[tuple[int, int, int]]
    unmet: float

    def key(self) -> tuple:
        """Identity of the schedule (shares rounded to 1e-9), to skip duplicate columns."""
        return (
            self.job,
            tuple(self.slots.tolist()),
            tuple(self.sites.tolist()),
            tuple(np.round(self.shares, 9).tolist()),
        )


@dataclass
class PricingResult:
    lower: np.ndarray  # (J,) lower bound of min over P_j of the reduced cost
    by_class: np.ndarray  # (J, K) best g_k found per class
    lam: np.ndarray  # (J, K) the λ that gave it
    paths: list[Path] = field(default_factory=list)
    dps: int = 0  # shortest paths computed (each over all jobs)


def price(
    space: JobSpace,
    prices: Prices,
    *,
    classes: int = 3,
    exact: bool | None = None,
    iterations: int = 10,
    lam0: np.ndarray | None = None,
    want_paths: bool = True,
    stop: Callable[[], bool] | None = None,
) -> PricingResult:
    """Lower bound per job of the least reduced cost of its schedules, and a path per class.

    ``classes``: number of move classes ``K`` (0, 1, …, ``K−2`` moves and ``≥ K−1``).
    ``exact``: preemptible jobs' classes 0 and 1 priced exactly by :func:`_exact_low` (every
    one-move path enumerated, each a continuous knapsack) instead of by the shortest path with
    a work price; default: when that enumeration is small enough. Needs ``K ≥ 3``.
    ``lam0``: (J, K) starting work prices (the last round's: they move little). ``stop``: asked
    before each class's shortest paths; when it says so, the result has no lower bound (every
    job's ``−inf``) and the paths found so far.
    """
    J, K = space.J, max(1, int(classes))
    by_class = np.full((J, K), np.inf)
    lam_best = np.zeros((J, K))
    paths: list[Path] = []
    dps = 0
    if J == 0:
        return PricingResult(np.zeros(0), by_class, lam_best, paths, 0)
    pre = np.flatnonzero(space.preemptible)
    if exact is None:
        exact = _exact_size(space, pre) <= EXACT_MAX_ENTRIES
    exact = bool(exact) and K >= 3
    if exact and len(pre):
        low, low_paths = _exact_low(space, prices, pre)
        by_class[pre, 0], by_class[pre, 1] = low[:, 0], low[:, 1]
        if want_paths:
            paths.extend(low_paths)
    groups = [(pre, 2 if exact else 0), (np.flatnonzero(~space.preemptible), 0)]
    for jobs, k_first in groups:
        if not len(jobs):
            continue
        for k in range(k_first, K):
            if stop is not None and stop():
                return PricingResult(np.full(J, -np.inf), by_class, lam_best, paths, dps)
            dp = _Dp(space, prices, jobs, k, saturate=(k == K - 1))
            start = None if lam0 is None else lam0[jobs, k]
            best_g, best_lam, n = _search(dp, space.work[jobs], start, iterations)
            dps += n
            by_class[jobs, k] = best_g
            lam_best[jobs, k] = best_lam
            if want_paths:
                paths.extend(dp.paths(best_lam))
                dps += 1
    lower = by_class.min(axis=1)
    return PricingResult(lower, by_class, lam_best, paths, dps)


#: Largest enumeration (one-move paths × window slots, summed over jobs) priced exactly.
EXACT_MAX_ENTRIES = 40_000_000


def _exact_size(space: JobSpace, jobs: np.ndarray) -> int:
    L = (space.end[jobs] - space.first[jobs]).astype(np.int64)
    nb = space.move_ok[jobs, space.origin[jobs], :].sum(axis=1)
    return int(np.sum(nb * L * L))


def _knapsack(cost: np.ndarray, cap: np.ndarray, need: float, unmet: float | None) -> np.ndarray:
    """``min Σ cost·x`` s.t. ``Σ x (+ u) = need``, ``0 ≤ x ≤ cap`` over the last axis (a
    continuous knapsack: the cheapest room first). ``unmet``: price of a unit of ``u ≥ 0``
    (soft deadlines); ``None``: no ``u`` (``inf`` where the room is short)."""
    cap = np.where(np.isfinite(cost), cap, 0.0)
    if unmet is not None:
        cap = np.where(cost < unmet, cap, 0.0)
    c = np.where(cap > 0, cost, np.inf)
    order = np.argsort(c, axis=-1, kind="stable")
    cs = np.take_along_axis(c, order, axis=-1)
    qs = np.take_along_axis(cap, order, axis=-1)
    before = np.cumsum(qs, axis=-1) - qs
    take = np.clip(need - before, 0.0, qs)
    value = np.sum(take * np.where(take > 0, cs, 0.0), axis=-1)
    short = np.maximum(need - take.sum(axis=-1), 0.0)
    if unmet is not None:
        return value + unmet * short
    return np.where(short > 1e-9, np.inf, value)


def _exact_low(space: JobSpace, prices: Prices, jobs: np.ndarray) -> tuple[np.ndarray, list[Path]]:
    """Classes 0 and 1 of preemptible jobs, exactly: (n, 2) least reduced costs and paths.

    Class 0 stays at the origin: one knapsack over the window. Class 1 moves once, origin →
    ``b`` in slot ``t0`` (a job that is not migratable runs nowhere before): one knapsack per
    ``(b, t0)`` over the prices of the origin before ``t0``, of ``b`` from ``t0`` on (the
    arrival slot's room ``min(x_ub, 1 − d)``), plus the move's price.
    """
    dt = space.dt
    U = space.unmet_cost * dt if space.soft else None
    out = np.full((len(jobs), 2), np.inf)
    paths: list[Path] = []
    for i, j in enumerate(jobs.tolist()):
        f, e, o = int(space.first[j]), int(space.end[j]), int(space.origin[j])
        L = e - f
        if L <= 0:
            out[i] = [0.0 if U is None else U * space.work[j] / dt, np.inf]
            continue
        need = float(space.work[j]) / dt
        xu = float(space.x_ub[j])
        c_o = prices.run[j, o, f:e]
        v0 = _knapsack(c_o, np.full(L, xu), need, U)
        out[i, 0] = float(v0)
        if want := np.isfinite(v0):
            site = np.full(L, o)
            kind = np.where(np.isfinite(c_o), FREE, IDLE)
            paths.append(Path(j, 0, site, kind, np.full(L, -1)))
        del want
        bs = np.flatnonzero(space.move_ok[j, o, :])
        if not len(bs):
            continue
        c_b = prices.run[j, bs, f:e]  # (nb, L)
        pos = np.arange(L)
        before = pos[None, None, :] < pos[None, :, None]  # (1, t0, i)
        at = pos[None, None, :] == pos[None, :, None]
        if space.migratable[j]:
            c_before = np.broadcast_to(c_o[None, None, :], (len(bs), L, L))
        else:
            c_before = np.full((len(bs), L, L), np.inf)  # moves in its first run slot
        cost = np.where(before, c_before, c_b[:, None, :])
        room = np.where(at, space.hi_arr[j, o, bs][:, None, None], xu)
        room = np.broadcast_to(room, cost.shape)
        mc = prices.arrive[j, bs, f:e] - space.gb[j] * prices.route[o, bs, f:e]  # (nb, L)
        val = _knapsack(cost, room, need, U) + mc
        k = int(np.argmin(val))
        if not np.isfinite(val.flat[k]):
            continue
        out[i, 1] = float(val.flat[k])
        bi, t0 = divmod(k, L)
        b = int(bs[bi])
        site = np.where(pos < t0, o, b)
        kind = np.where(pos < t0, FREE if space.migratable[j] else IDLE, FREE)
        kind[t0] = ARR_FREE
        src = np.full(L, -1)
        src[t0] = o
        paths.append(Path(j, 1, site, kind, src))
    return out, paths


def _search(
    dp: _Dp, work: np.ndarray, lam0: np.ndarray | None, iterations: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """max_λ g(λ) per job, approximately: bracket the maximiser, then tangent intersections.

    Every evaluated ``g(λ)`` is a valid lower bound; the best one is returned with its ``λ``.
    ``g`` is concave and piecewise linear, so the intersection of the tangents at the two ends
    of the bracket lands on a breakpoint after a few steps.
    """
    n = len(work)
    scale = dp.guess()
    lam = lam0.copy() if lam0 is not None else scale.copy()
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    g_lo = np.zeros(n)
    s_lo = np.zeros(n)
    g_hi = np.zeros(n)
    s_hi = np.zeros(n)
    best_g = np.full(n, -np.inf)
    best_lam = lam.copy()
    step = scale.copy()
    done = np.zeros(n, dtype=bool)
    evals = 0
    for _ in range(max(1, iterations)):
        g, sub = dp.evaluate(lam)
        evals += 1
        better = (g > best_g) & ~done
        best_g = np.where(better, g, best_g)
        best_lam = np.where(better, lam, best_lam)
        up = (sub >= 0) & ~done
        down = (sub <= 0) & ~done
        lo, g_lo, s_lo = np.where(up, lam, lo), np.where(up, g, g_lo), np.where(up, sub, s_lo)
        hi, g_hi, s_hi = (
            np.where(down, lam, hi),
            np.where(down, g, g_hi),
            np.where(down, sub, s_hi),
        )
        both = np.isfinite(lo) & np.isfinite(hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            cross = (g_hi - g_lo + s_lo * lo - s_hi * hi) / (s_lo - s_hi)
            top = g_lo + s_lo * (cross - lo)  # the tangents' meeting point: an upper estimate
        tol = 1e-9 * np.maximum(1.0, np.abs(best_g))
        done |= both & ((hi - lo <= 1e-12 * np.maximum(1.0, np.abs(hi))) | (top - best_g <= tol))
        if np.all(done):
            break
        inside = both & np.isfinite(cross) & (cross > lo) & (cross < hi)
        nxt = np.where(inside, cross, 0.5 * (lo + hi))
        nxt = np.where(np.isfinite(lo) & ~np.isfinite(hi), lo + step, nxt)
        nxt = np.where(~np.isfinite(lo) & np.isfinite(hi), hi - step, nxt)
        step = np.where(both, step, step * 4.0)
        lam = np.where(done, lam, nxt)
    return best_g, best_lam, evals


class _Dp:
    """The shortest path of one move class over a group of jobs (all preemptible, or all not).

    Time runs relative to each job's window (step ``r`` is slot ``first_j + r``), so jobs of
    short windows cost few steps. States after a step: ``R[s]`` (the state is at ``s``; for a
    non-preemptible job: inside its block), ``E[s]`` (non-preemptible only: the block has ended
    at ``s``), ``B`` (not started, the state at the origin); each with a move counter
    ``0..k`` (``k`` counts "k or more" when ``saturate``). ``_run`` keeps the value and the
    work of the best path into every state; with ``record`` also how it got there.
    """

    def __init__(self, space: JobSpace, prices: Prices, jobs: np.ndarray, k: int, saturate: bool):
        self.sp = space
        self.jobs = jobs
        self.k = k
        self.saturate = saturate
        self.block = not bool(space.preemptible[jobs[0]])
        n = len(jobs)
        self.n = n
        self.first = space.first[jobs]
        self.L = np.maximum(space.end[jobs] - self.first, 0)
        self.Lmax = int(self.L.max()) if n else 0
        self.origin = space.origin[jobs]
        self.x_ub = space.x_ub[jobs]
        self.full_ok = self.x_ub >= 1.0 - 1e-12  # inner slots of a block are full
        self.work = space.work[jobs]
        self.gb = space.gb[jobs]
        T = space.T
        slot = self.first[:, None] + np.arange(self.Lmax)[None, :]  # (n, Lmax)
        inside = np.arange(self.Lmax)[None, :] < self.L[:, None]
        self.slot = np.where(inside, np.minimum(slot, T - 1), 0)
        self.inside = inside
        jj = jobs[:, None]
        self.run = np.where(
            inside[:, None, :], prices.run[jj, :, self.slot].transpose(0, 2, 1), np.inf
        )  # (n, S, Lmax)
        self.arrive = np.where(
            inside[:, None, :], prices.arrive[jj, :, self.slot].transpose(0, 2, 1), np.inf
        )
        self.route = prices.route if np.any(prices.route) else None
        ok = space.move_ok[jobs]  # (n, S, S)
        self.from_started = ok & space.migratable[jobs][:, None, None]
        self.from_origin = ok[np.arange(n), self.origin, :]  # (n, S)
        self.hi_arr = space.hi_arr[jobs]
        self.hi_origin = self.hi_arr[np.arange(n), self.origin, :]
        self.soft = space.soft
        self.U = space.unmet_cost

    def guess(self) -> np.ndarray:
        """A starting work price: the median finite run price per hour of the job."""
        r = self.run.reshape(self.n, -1)
        fin = np.where(np.isfinite(r), r, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a job that can run nowhere
            med = np.nanmedian(fin, axis=1)
        med = np.where(np.isfinite(med), med, 0.0)
        return np.maximum(med, 1e-6) / self.sp.dt

    # -- one shortest path ------------------------------------------------------------------
    def evaluate(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(g(λ), supergradient)`` per job."""
        val, wk, _ = self._run(lam, record=False)
        g = val + lam * self.work
        unmet = np.zeros(self.n)
        if self.soft:
            g = g + np.minimum(0.0, self.U - lam) * self.work
            unmet = np.where(lam > self.U, self.work, 0.0)
        sub = np.where(np.isfinite(val), self.work - wk - unmet, 0.0)  # empty class: g = +inf
        return g, sub

    def _run(self, lam: np.ndarray, record: bool):
        n, S, K, k = self.n, self.sp.S, self.k + 1, self.k
        dt = self.sp.dt
        ar = np.arange(n)
        o = self.origin
        inf = np.inf
        R = np.full((n, S, K), inf)
        Rw = np.zeros((n, S, K))
        E = np.full((n, S, K), inf) if self.block else None
        Ew = np.zeros((n, S, K)) if self.block else None
        Bv = np.zeros(n)
        # counter after a move from counter kk: kk+1, or kk at the saturating top; −1: dropped
        up = np.array([kk + 1 if kk + 1 < K else (kk if self.saturate else -1) for kk in range(K)])
        src_k = [np.flatnonzero(up == kk) for kk in range(K)]  # counters that move into kk
        from_b = 1 if K > 1 else (0 if self.saturate else -1)  # counter of a first move
        steps = []
        for r in range(self.Lmax):
            act = self.inside[:, r]
            c = self.run[:, :, r] - lam[:, None] * dt  # (n, S)
            runnable = np.isfinite(c)
            cneg = np.where(runnable, np.minimum(c, 0.0), 0.0)
            gain = cneg * self.x_ub[:, None]
            gw = np.where(cneg < 0, self.x_ub[:, None] * dt, 0.0)
            mc = self.arrive[:, :, r][:, None, :]
            if self.route is not None:
                mc = mc - self.gb[:, None, None] * self.route[:, :, self.slot[:, r]].transpose(
                    2, 0, 1
                )
            a_free = mc + cneg[:, None, :] * self.hi_arr  # (n, a, b)
            a_free_w = np.where(cneg[:, None, :] < 0, self.hi_arr * dt, 0.0)
            code = {} if record else None
            if not self.block:
                nR = R + gain[:, :, None]
                nRw = Rw + gw[:, :, None]
                if record:
                    code["R"] = np.full((n, S, K), FREE * 1000 + 0, dtype=np.int32)  # from R[s]
                nE = nEw = None
            else:
                full = np.where(runnable & self.full_ok[:, None], c, inf)
                nR = R + full[:, :, None]
                nRw = Rw + dt
                nE = E.copy()
                nEw = Ew.copy()
                if record:
                    code["R"] = np.full((n, S, K), FULL * 1000 + 0, dtype=np.int32)
                    code["E"] = np.full((n, S, K), IDLE * 1000 + 1, dtype=np.int32)  # from E[s]
                last = R + gain[:, :, None]
                better = last < nE
                nE = np.where(better, last, nE)
                nEw = np.where(better, Rw + gw[:, :, None], nEw)
                if record:
                    code["E"] = np.where(better, FREE * 1000 + 0, code["E"])
            # start at the origin without a move (a free first slot)
            so = Bv + gain[ar, o]
            better = so < nR[ar, o, 0]
            nR[ar, o, 0] = np.where(better, so, nR[ar, o, 0])
            nRw[ar, o, 0] = np.where(better, gw[ar, o], nRw[ar, o, 0])
            if record:
                code["R"][ar, o, 0] = np.where(better, FREE * 1000 + 2, code["R"][ar, o, 0])
            # a first move, from the origin before any run: B → R[b]
            if from_b >= 0:
                fb = np.where(self.from_origin, a_free[ar, o, :], inf) + Bv[:, None]
                fbw = a_free_w[ar, o, :]
                better = fb < nR[:, :, from_b]
                nR[:, :, from_b] = np.where(better, fb, nR[:, :, from_b])
                nRw[:, :, from_b] = np.where(better, fbw, nRw[:, :, from_b])
                if record:
                    code["R"][:, :, from_b] = np.where(
                        better, ARR_FREE * 1000 + 2, code["R"][:, :, from_b]
                    )
            # moves from a started state (in block): R[a] → R[b] (preemptible: free share),
            # R[a] → E[b] (block: a free last slot), R[a] → R[b] (block: inner, full less d)
            kinds = [(ARR_FREE, "R" if not self.block else "E", a_free, a_free_w)]
            if self.block:
                a_full = mc + np.where(runnable, c, 0.0)[:, None, :] * self.hi_arr
                ok = self.full_ok[:, None, None] & runnable[:, None, :]
                a_full = np.where(ok, a_full, inf)
                kinds.append((ARR_FULL, "R", a_full, self.hi_arr * dt))
            for kind, target, price, pw in kinds:
                price = np.where(self.from_started, price, inf)
                for kk in range(K):
                    if not len(src_k[kk]):
                        continue
                    # best source site and source counter for each destination b
                    tot = R[:, :, src_k[kk]][:, :, None, :] + price[:, :, :, None]  # n,a,b,ks
                    flat = tot.transpose(0, 2, 1, 3).reshape(n, S, S * len(src_k[kk]))
                    best = np.argmin(flat, axis=2)  # (n, b): index a·|ks| + ks
                    val = np.take_along_axis(flat, best[:, :, None], 2)[:, :, 0]
                    a_i, ks_i = np.divmod(best, len(src_k[kk]))
                    kk_src = src_k[kk][ks_i]
                    w = (
                        Rw[ar[:, None], a_i, kk_src]
                        + np.take_along_axis(pw, a_i[:, None, :], 1)[:, 0, :]
                    )
                    tv = nR if target == "R" else nE
                    tw = nRw if target == "R" else nEw
                    better = val < tv[:, :, kk]
                    tv[:, :, kk] = np.where(better, val, tv[:, :, kk])
                    tw[:, :, kk] = np.where(better, w, tw[:, :, kk])
                    if record:
                        enc = kind * 1000 + 100 + a_i * 10 + kk_src
                        code[target][:, :, kk] = np.where(better, enc, code[target][:, :, kk])
            keep = ~act
            nR[keep], nRw[keep] = R[keep], Rw[keep]
            if self.block:
                nE[keep], nEw[keep] = E[keep], Ew[keep]
            if record:
                for key in code:
                    code[key][keep] = -1  # nothing happens outside the window
                steps.append(code)
            R, Rw, E, Ew = nR, nRw, nE, nEw
        # the class's states at the end: exactly k moves (or ≥ k when saturating)
        ends = [R[:, :, k]] + ([E[:, :, k]] if self.block else [])
        endw = [Rw[:, :, k]] + ([Ew[:, :, k]] if self.block else [])
        if k == 0:
            ends.append(Bv[:, None])
            endw.append(np.zeros((n, 1)))
        allv = np.concatenate(ends, axis=1)
        allw = np.concatenate(endw, axis=1)
        q = np.argmin(allv, axis=1)
        val = allv[ar, q]
        wk = allw[ar, q]
        return val, wk, (steps, q)

    # -- paths ------------------------------------------------------------------------------
    def paths(self, lam: np.ndarray) -> list[Path]:
        """The shortest path of each job at ``lam`` (jobs whose class is empty: none)."""
        val, _, (steps, q_end) = self._run(lam, record=True)
        S = self.sp.S
        out: list[Path] = []
        for i, j in enumerate(self.jobs.tolist()):
            if not np.isfinite(val[i]):
                continue
            L = int(self.L[i])
            site = np.full(L, -1, dtype=np.int64)
            kind = np.zeros(L, dtype=np.int64)
            srcs = np.full(L, -1, dtype=np.int64)
            q = int(q_end[i])
            if q < S:
                where, s = "R", q
            elif self.block and q < 2 * S:
                where, s = "E", q - S
            else:
                where, s = "B", -1
            kk = self.k
            for r in range(L - 1, -1, -1):
                if where == "B":
                    break  # not started: idle from here back
                enc = int(steps[r][where][i, s, kk])
                kd, rest = divmod(enc, 1000)
                site[r] = s
                kind[r] = kd
                if rest >= 100:  # a move from R[a] at counter ks
                    a, ks = divmod(rest - 100, 10)
                    srcs[r] = a
                    where, s, kk = "R", a, ks
                elif rest == 2:  # from B (a start at the origin, or a first move)
                    if kd in (ARR_FREE, ARR_FULL):
                        srcs[r] = int(self.origin[i])
                    where, s, kk = "B", -1, 0
                elif rest == 1:  # E stays E
                    where = "E"
                else:  # R[s] (stay, inner) or R → E (last free slot)
                    where = "R"
            out.append(Path(j, self.k, site, kind, srcs))
        return out


def fill_path(
    space: JobSpace, path: Path, unit_cost: np.ndarray, dist: np.ndarray
) -> Schedule | None:
    """The best shares on ``path`` with the work row kept: a schedule of ``P_j``.

    ``unit_cost[s, t]``: the job's price per unit share; ``dist[a, b]``: disruption of a move
    (fraction of a slot). The shares start at their lower bounds (an arrival's ``δ``, an inner
    slot's full share) and the cheapest room is filled until the work is done (a continuous
    knapsack). ``None`` when the path holds no schedule: its forced shares exceed the work, or
    (hard deadlines) it has too little room.
    """
    j = path.job
    f = int(space.first[j])
    x_ub = float(space.x_ub[j])
    dt = space.dt
    n = len(path.site)
    lo = np.zeros(n)
    hi = np.zeros(n)
    moves: list[tuple[int, int, int]] = []
    prev_site = int(space.origin[j])
    for i in range(n):
        s = int(path.site[i])
        kd = int(path.kind[i])
        if kd == IDLE or s < 0 or not np.isfinite(unit_cost[s, f + i]):
            continue  # no run (the state may sit where the job cannot run)
        if kd in (ARR_FREE, ARR_FULL):
            a = int(path.src[i]) if path.src[i] >= 0 else prev_site
            cap = min(x_ub, 1.0 - float(dist[a, s]))
            moves.append((a, s, f + i))
            if kd == ARR_FULL:
                lo[i] = hi[i] = cap
            else:
                lo[i] = min(float(space.delta[j]), cap)
                hi[i] = cap
        elif kd == FULL:
            lo[i] = hi[i] = 1.0
        else:
            hi[i] = x_ub
        prev_site = s
    need = float(space.work[j]) / dt
    base = float(lo.sum())
    if base > need + 1e-9:
        return None
    room = hi - lo
    sites = np.maximum(path.site, 0)
    cost = unit_cost[sites, f + np.arange(n)]
    order = np.argsort(np.where(room > 0, cost, np.inf), kind="stable")
    x = lo.copy()
    left = need - base
    for i in order.tolist():
        if left <= 1e-12 or room[i] <= 0:
            break
        take = min(room[i], left)
        x[i] += take
        left -= take
    unmet = max(0.0, left) * dt
    if not space.soft and unmet > 1e-9:
        return None
    # a free slot left at 0 is no run; an arrival keeps its positive share
    run = x > 0
    return Schedule(
        job=j,
        slots=f + np.flatnonzero(run),
        sites=path.site[run].astype(np.int64),
        shares=x[run],
        moves=moves,
        unmet=unmet,
    )
