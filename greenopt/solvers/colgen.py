"""A large LP solved by column generation, with a valid lower bound at every round.

The relaxation of :mod:`greenopt.formulations.relaxation` has a column per job, reachable site
and slot — 1.5 million on 2000 jobs × 20 sites × 96 slots, more than an LP solver handles in a
day-ahead time budget. Almost all of them are zero at the optimum: a job runs at a few sites.
So the LP is solved over a subset ``R`` of its columns (every column that is not per job-site,
and the job-site pairs a start plan or a score suggests), and columns are added while any has a
negative reduced cost.

For ``min c·x`` s.t. ``row_lb ≤ A x ≤ row_ub``, ``0 ≤ x ≤ u`` (``0`` inside every bound), the
restricted optimum ``z_R`` with row duals ``y`` gives, for the *whole* LP (Lagrangian duality,
the usual column-generation bound):

    z ≥ z_R + Σ_{k ∉ R} min(0, d_k·u_k),        d = c − Aᵀy  (the reduced costs)

so every round yields a true lower bound, and the LP optimum once no reduced cost is negative.
The restricted LP is kept in one ``highspy.Highs`` object: added columns are re-solved from the
last basis by the simplex method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenopt.solvers.highs import Cancel, StandardForm, _run_interruptible, new_highs

#: Subgradient steps after each round may take up to this share of the round's solve time, and
#: at most :data:`ASCENT_STEPS` steps (measured: ...).
ASCENT_SHARE = 0.3
ASCENT_STEPS = 300
#: A subgradient step that leaves the region where the Lagrangian is finite is cut by 4 up to
#: this many times.
BACKTRACKS = 8


@dataclass
class ColumnGenerationResult:
    bound: float | None  # the best lower bound of the whole LP found
    objective: float | None  # the last restricted optimum (the LP optimum when converged)
    values: np.ndarray | None  # column values of the last restricted optimum (zeros outside R)
    converged: bool
    rounds: int
    columns: int  # columns in R at the end
    seconds: float
    row_duals: np.ndarray | None = None  # row duals of the last restricted optimum
    #: the duals of ``bound`` (Lagrangian ascent's or a master's; None without ``kept_rows``)
    bound_duals: np.ndarray | None = None
    #: per round: (seconds since the start, restricted optimum, the round's lower bound)
    history: list[tuple[float, float, float]] = field(default_factory=list)
    #: the columns in ``R`` at the end (bool mask): where a later run can continue from
    inside: np.ndarray | None = None


def solve_by_columns(
    form: StandardForm,
    initial: np.ndarray,
    *,
    time_limit: float | None,
    threads: int | None = None,
    batch: int | None = None,
    tol: float = 1e-6,
    kept_rows: np.ndarray | None = None,
    cancel: Cancel | None = None,
    ascent: float = ASCENT_SHARE,
    max_rounds: int | None = None,
    by_work: bool = False,
) -> ColumnGenerationResult:
    """Solve the LP ``form`` from the columns ``initial`` (bool mask) by column generation.

    ``kept_rows``: equality rows with non-negative coefficients, each column in at most one
    (here: each job's work row) — kept out of the Lagrangian, so the bound prices each job's
    columns as the job would use them (:func:`lagrangian_bound`), which is far tighter than
    ``z_R + Σ min(0, d·u)``. Each round's bound is then raised by subgradient steps from the
    master's duals (:meth:`Lagrangian.ascend`, at most ``ascent`` × the round's solve time):
    far from convergence the master's duals give a weak bound (measured: 1000×15×96, ...).
    ``max_rounds``: stop after that many restricted solves (the last one's optimum is then a
    feasible point of the LP, not its optimum: guidance for the greedy, a bound as above).
    ``by_work``: the subgradient steps are :data:`ASCENT_STEPS` whatever they take (the same
    bound on every machine: deterministic mode), not a share of the round's time.
    """
    import highspy

    t0 = time.perf_counter()
    A = form.A
    n = form.n_cols
    lb, ub = form.col_lb, form.col_ub
    if np.any(lb > 0) or np.any(ub < 0):
        raise ValueError("column generation needs 0 inside every column's bounds")
    inside = np.asarray(initial, dtype=bool).copy()
    batch = batch or max(2000, int(0.04 * n))
    h = new_highs()
    if cancel is not None:
        cancel.register(h)
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    first = np.flatnonzero(inside)
    order = list(first)  # position in the Highs model → column of ``form``
    sub = A[:, first]
    lp = highspy.HighsLp()
    lp.num_col_ = len(first)
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = form.c[first]
    lp.col_lower_ = lb[first]
    lp.col_upper_ = ub[first]
    lp.row_lower_ = form.row_lb
    lp.row_upper_ = form.row_ub
    lp.offset_ = float(form.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
    lp.a_matrix_.index_ = sub.indices.astype(np.int32)
    lp.a_matrix_.value_ = sub.data.astype(float)
    h.passModel(lp)
    # the first, largest solve by interior point (~3× simplex here)
    h.setOptionValue("solver", "ipm" if len(first) > 20_000 else "simplex")
    best: float | None = None
    best_y: np.ndarray | None = None
    z = None
    values = None
    y = None
    rounds = 0
    converged = False
    AT = A.T.tocsr()
    dual_fn = Lagrangian(form, kept_rows, AT) if kept_rows is not None else None
    history: list[tuple[float, float, float]] = []
    while True:
        t_round = time.perf_counter()
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if (left is not None and left <= 0.05) or (cancel is not None and cancel.cancelled):
            break
        if max_rounds is not None and rounds >= max_rounds:
            break
        # HiGHS compares ``time_limit`` with the run time summed over every run() of this one
        # object (a limit of ``left`` alone stopped the third round at once on 2000×20×96)
        h.setOptionValue("time_limit", math.inf if left is None else h.getRunTime() + left)
        # in a short-lived thread of its own: a scheduler sized for this solve (see highs.py)
        _run_interruptible(h)
        rounds += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        sol = h.getSolution()
        z = float(h.getInfo().objective_function_value)
        y = np.asarray(sol.row_dual)
        d = form.c - AT @ y
        outside = ~inside
        with np.errstate(invalid="ignore"):
            worst = np.where(outside & (d < 0), d * ub, 0.0)
        y_low = None  # the duals of this round's lower bound
        if dual_fn is not None:
            y_low = dual_fn._clean(y)
            lower = dual_fn.value(y)
            budget: float | None = ascent * (time.perf_counter() - t_round)
            if by_work:
                budget = None if ascent > 0 else 0.0
            elif time_limit is not None:
                budget = min(budget, time_limit - (time.perf_counter() - t0))
            open_gap = best is None or z - max(best, lower) > tol * max(1.0, abs(z))
            if (budget is None or budget > 0) and open_gap:
                lifted, y_lifted = dual_fn.ascend(
                    y, z, iterations=ASCENT_STEPS, seconds=budget, cancel=cancel
                )
                if lifted > lower:
                    lower, y_low = lifted, y_lifted
        elif np.any(np.isinf(worst)):
            lower = -math.inf
        else:
            lower = z + float(worst.sum())
        if math.isfinite(lower) and (best is None or lower > best):
            best, best_y = lower, y_low
        history.append((time.perf_counter() - t0, z, lower))
        values = np.zeros(n)
        values[np.asarray(order)] = np.asarray(sol.col_value)
        price = np.where(outside, d, 0.0)
        negative = np.flatnonzero(price < -1e-9)
        if negative.size == 0 or (best is not None and z - best <= tol * max(1.0, abs(z))):
            converged = True
            if negative.size == 0:  # the LP optimum: its duals are the best
                best, best_y = z, (y if dual_fn is None else dual_fn._clean(y))
            break
        add = negative[np.argsort(worst[negative], kind="stable")[:batch]]
        cols = A[:, add].tocsc()
        h.addCols(
            len(add),
            form.c[add],
            lb[add],
            ub[add],
            int(cols.nnz),
            cols.indptr[:-1].astype(np.int32),
            cols.indices.astype(np.int32),
            cols.data.astype(float),
        )
        inside[add] = True
        order.extend(add.tolist())
        # a warm simplex re-solve wins on small models; on large ones it stalls on degeneracy
        # (measured: 125 s for +30k columns on 2000×20×96, where interior point takes ~60 s)
        h.setOptionValue("solver", "simplex" if len(order) < 100_000 else "ipm")
    return ColumnGenerationResult(
        bound=best,
        objective=z,
        values=values,
        converged=converged,
        rounds=rounds,
        columns=int(inside.sum()),
        seconds=time.perf_counter() - t0,
        row_duals=y,
        bound_duals=best_y,
        history=history,
        inside=inside,
    )


def lagrangian_bound(
    form: StandardForm, y: np.ndarray, kept_rows: np.ndarray, AT: Any | None = None
) -> float:
    """A lower bound of the LP ``form`` from any row duals ``y`` (:class:`Lagrangian`)."""
    return Lagrangian(form, kept_rows, AT).value(y)


class Lagrangian:
    """The Lagrangian dual function of the LP ``form`` with ``kept_rows`` kept: a lower bound
    of the LP from any row duals ``y``; every row but ``kept_rows`` is priced by ``y``, the
    rest is solved exactly.

        L(y) = Σ_r y_r·b_r + Σ_{kept rows i} min{ d·x : a_i·x = b_i, 0 ≤ x ≤ u }
                          + Σ_{other columns} min(d_k·l_k, d_k·u_k),        d = c − A_Dᵀ y

    with ``b_r`` the row bound ``y_r`` refers to (the lower one when ``y_r > 0``, the upper one
    when ``y_r < 0``; a dual of the wrong sign is taken as 0). Each kept row is a continuous
    knapsack filled exactly: columns by increasing ``d_k / a_ik`` until ``b_i`` is reached.

    :meth:`ascend` raises ``L`` from a start ``y`` by projected subgradient steps (Polyak's
    step towards a target above the maximum, e.g. a restricted master's optimum): every ``y``
    it visits gives a true bound, so the best one seen is kept. Column generation calls it
    after each round, where the restricted master's duals give a weak ``L`` until it is
    nearly converged. The structure (which column is in which kept row, the columns without
    an upper bound) is read once.
    """

    def __init__(self, form: StandardForm, kept_rows: np.ndarray, AT: Any | None = None):
        A = form.A
        self.form = form
        self.A = A.tocsr()
        self.AT = A.T.tocsr() if AT is None else AT
        n_rows = A.shape[0]
        self.kept_rows = np.asarray(kept_rows)
        self.kept = np.zeros(n_rows, dtype=bool)
        self.kept[self.kept_rows] = True
        self.lo_ok = np.isfinite(form.row_lb)
        self.hi_ok = np.isfinite(form.row_ub)
        # which kept row (if any) each column is in, and its coefficient there
        sub = A[self.kept_rows, :].tocsc()
        in_row = np.diff(sub.indptr) > 0
        self.cols = np.flatnonzero(in_row)
        self.row_of = sub.indices[sub.indptr[self.cols]]
        self.coef = sub.data[sub.indptr[self.cols]]
        self.free = ~in_row
        self.need = form.row_lb[self.kept_rows]
        # the knapsacks' fixed structure, read once (a step re-sorts only by price): the kept
        # columns grouped by row, each group's start and length, each column's room
        # (upper bound × row coefficient); rows as 16-bit keys when they fit, which numpy's
        # stable sort orders by radix, in linear time
        self.q_all = form.col_ub[self.cols] * self.coef
        self.row_key = self.row_of.astype(np.uint16) if len(self.kept_rows) < 2**16 else self.row_of
        self.r_sorted = np.sort(self.row_of, kind="stable")
        first = np.r_[True, self.r_sorted[1:] != self.r_sorted[:-1]]
        self.group_start = np.flatnonzero(first)
        self.group_len = np.diff(np.r_[self.group_start, len(self.r_sorted)])
        self.need_sorted = self.need[self.r_sorted]
        # priced columns without an upper bound: L is finite only while their reduced cost
        # is >= 0. One in a single priced row puts a box on that row's dual (the grid column
        # of an energy row here), which :meth:`ascend` projects onto; for one in several rows
        # (the dwell relaxation's ``cum``) a step that leaves the region is shortened instead.
        ub = form.col_ub
        unbounded = self.free & ~np.isfinite(ub)
        csc = A.tocsc()
        single = unbounded & (np.diff(csc.indptr) == 1)
        k = np.flatnonzero(single)
        rows = csc.indices[csc.indptr[k]]
        a = csc.data[csc.indptr[k]]
        hi = np.full(n_rows, np.inf)
        lo = np.full(n_rows, -np.inf)
        # c_k − a·y_r ≥ 0:  y_r ≤ c_k/a (a > 0),  y_r ≥ c_k/a (a < 0)
        np.minimum.at(hi, rows[a > 0], form.c[k][a > 0] / a[a > 0])
        np.maximum.at(lo, rows[a < 0], form.c[k][a < 0] / a[a < 0])
        self.box = (lo, hi)

    def _clean(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float).copy()
        y[(y > 0) & ~self.lo_ok] = 0.0
        y[(y < 0) & ~self.hi_ok] = 0.0
        y[self.kept] = 0.0
        return y

    def value(self, y: np.ndarray) -> float:
        """``L(y)`` (``-inf`` where it is unbounded)."""
        return self._solve(self._clean(y), False)[0]

    def _solve(self, y: np.ndarray, want_x: bool) -> tuple[float, np.ndarray | None]:
        form = self.form
        b = np.where(
            y > 0, np.where(self.lo_ok, form.row_lb, 0.0), np.where(self.hi_ok, form.row_ub, 0.0)
        )
        value = float(form.offset) + float(y @ b)
        d = form.c - self.AT @ y
        free, lb, ub = self.free, form.col_lb, form.col_ub
        with np.errstate(invalid="ignore"):
            at = np.where(d[free] >= 0, lb[free], ub[free])
            alone = d[free] * at
        alone = np.where(np.isnan(alone), 0.0, alone)
        if np.any(np.isinf(alone)):
            return -math.inf, None
        value += float(alone.sum())
        # continuous knapsacks, all rows at once: sort by (row, price per unit of the row) —
        # by price, then stably by row (a third of lexsort's time on 1000×15×96)
        cols = self.cols
        ratio = d[cols] / self.coef
        by_price = np.argsort(ratio)
        order = by_price[np.argsort(self.row_key[by_price], kind="stable")]
        r, q, c_unit = self.r_sorted, self.q_all[order], ratio[order]
        start = self.group_start
        filled = np.cumsum(q)
        before = filled - q - np.repeat(filled[start] - q[start], self.group_len)
        take = np.clip(self.need_sorted - before, 0.0, q)
        value += float(np.sum(take * c_unit))
        short = self.need - np.bincount(r, weights=take, minlength=len(self.kept_rows))
        if np.any(short > 1e-9):
            return -math.inf, None  # a kept row that cannot be met: no finite bound from this y
        if not want_x:
            return value, None
        x = np.zeros(form.n_cols)
        x[free] = np.where(np.isfinite(at), at, 0.0)
        x[cols[order]] = take / self.coef[order]
        return value, x

    def ascend(
        self,
        y: np.ndarray,
        target: float,
        *,
        iterations: int = 50,
        seconds: float | None = None,
        cancel: Cancel | None = None,
    ) -> tuple[float, np.ndarray]:
        """The best ``(L(y'), y')`` over projected subgradient steps from ``y`` (at most
        ``iterations`` steps and ``seconds``). ``target``: a value at least the maximum of
        ``L`` (an upper bound of the LP, e.g. a restricted master's optimum) for Polyak's step
        ``θ·(target − L)/‖g‖²``; θ halves after 5 steps without a new best."""
        form = self.form
        lo, hi = self.box
        t0 = time.perf_counter()

        def project(v: np.ndarray) -> np.ndarray:
            v = np.clip(self._clean(v), lo, hi)
            return self._clean(v)

        y = project(y)
        value, x = self._solve(y, True)
        best, best_y = value, y
        theta, stale = 1.0, 0
        for _ in range(iterations):
            if x is None or not math.isfinite(value) or target <= best:
                break
            if seconds is not None and time.perf_counter() - t0 >= seconds:
                break
            if cancel is not None and cancel.cancelled:
                break
            ax = self.A @ x
            # a supergradient of L at y: the row's bound minus its activity, on the side the
            # dual's sign refers to (at 0: the violated side, else 0)
            lo_gap = np.where(self.lo_ok, form.row_lb - ax, -np.inf)
            hi_gap = np.where(self.hi_ok, form.row_ub - ax, np.inf)
            g = np.where(y > 0, lo_gap, np.where(y < 0, hi_gap, 0.0))
            at0 = y == 0
            g[at0] = np.where(
                lo_gap[at0] > 0, lo_gap[at0], np.where(hi_gap[at0] < 0, hi_gap[at0], 0.0)
            )
            g[self.kept] = 0.0
            g = np.where(np.isfinite(g), g, 0.0)
            norm = float(g @ g)
            if norm <= 1e-18:
                break
            step = theta * (target - value) / norm
            for _ in range(BACKTRACKS):
                trial = project(y + step * g)
                got, x_trial = self._solve(trial, True)
                if math.isfinite(got):
                    break
                step /= 4  # out of the region where L is finite: a shorter step
            if not math.isfinite(got):
                break
            y, value, x = trial, got, x_trial
            if value > best:
                best, best_y, stale = value, y, 0
            else:
                stale += 1
                if stale >= 5:
                    theta, stale = theta / 2, 0
        return best, best_y
