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
from dataclasses import dataclass
from typing import Any

import numpy as np

from greenopt.solvers.highs import Cancel, StandardForm, _run_interruptible, new_highs


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
) -> ColumnGenerationResult:
    """Solve the LP ``form`` from the columns ``initial`` (bool mask) by column generation.

    ``kept_rows``: equality rows with non-negative coefficients, each column in at most one
    (here: each job's work row) — kept out of the Lagrangian, so the bound prices each job's
    columns as the job would use them (:func:`lagrangian_bound`), which is far tighter than
    ``z_R + Σ min(0, d·u)``.
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
    z = None
    values = None
    y = None
    rounds = 0
    converged = False
    AT = A.T.tocsr()
    while True:
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if (left is not None and left <= 0.05) or (cancel is not None and cancel.cancelled):
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
        if kept_rows is not None:
            lower = lagrangian_bound(form, y, kept_rows, AT)
        elif np.any(np.isinf(worst)):
            lower = -math.inf
        else:
            lower = z + float(worst.sum())
        if math.isfinite(lower):
            best = lower if best is None else max(best, lower)
        values = np.zeros(n)
        values[np.asarray(order)] = np.asarray(sol.col_value)
        price = np.where(outside, d, 0.0)
        negative = np.flatnonzero(price < -1e-9)
        if negative.size == 0 or (best is not None and z - best <= tol * max(1.0, abs(z))):
            converged = True
            best = z if negative.size == 0 else best
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
    )


def lagrangian_bound(
    form: StandardForm, y: np.ndarray, kept_rows: np.ndarray, AT: Any | None = None
) -> float:
    """A lower bound of the LP ``form`` from any row duals ``y``: every row but ``kept_rows``
    is priced by ``y``; the rest is solved exactly.

        L(y) = Σ_r y_r·b_r + Σ_{kept rows i} min{ d·x : a_i·x = b_i, 0 ≤ x ≤ u }
                          + Σ_{other columns} min(d_k·l_k, d_k·u_k),        d = c − A_Dᵀ y

    with ``b_r`` the row bound ``y_r`` refers to (the lower one when ``y_r > 0``, the upper one
    when ``y_r < 0``; a dual of the wrong sign is taken as 0). Each kept row is a continuous
    knapsack filled exactly: columns by increasing ``d_k / a_ik`` until ``b_i`` is reached.
    """
    A = form.A
    AT = A.T.tocsr() if AT is None else AT
    y = np.asarray(y, dtype=float).copy()
    kept = np.zeros(len(y), dtype=bool)
    kept[kept_rows] = True
    lo_ok = np.isfinite(form.row_lb)
    hi_ok = np.isfinite(form.row_ub)
    y[(y > 0) & ~lo_ok] = 0.0
    y[(y < 0) & ~hi_ok] = 0.0
    y[kept] = 0.0
    b = np.where(y > 0, np.where(lo_ok, form.row_lb, 0.0), np.where(hi_ok, form.row_ub, 0.0))
    value = float(form.offset) + float(y @ b)
    d = form.c - AT @ y
    # which kept row (if any) each column is in, and its coefficient there
    sub = A[kept_rows, :].tocsc()
    in_row = np.diff(sub.indptr) > 0
    cols = np.flatnonzero(in_row)
    row_of = sub.indices[sub.indptr[cols]]
    coef = sub.data[sub.indptr[cols]]
    free = ~in_row
    lb, ub = form.col_lb, form.col_ub
    with np.errstate(invalid="ignore"):
        alone = np.where(d[free] >= 0, d[free] * lb[free], d[free] * ub[free])
    alone = np.where(np.isnan(alone), 0.0, alone)
    if np.any(np.isinf(alone)):
        return -math.inf
    value += float(alone.sum())
    # continuous knapsacks, all rows at once: sort by (row, price per unit of the row)
    need = form.row_lb[kept_rows]
    ratio = d[cols] / coef
    order = np.lexsort((ratio, row_of))
    r, q, c_unit = row_of[order], ub[cols[order]] * coef[order], ratio[order]
    first = np.r_[True, r[1:] != r[:-1]]
    start = np.flatnonzero(first)
    filled = np.cumsum(q) - np.repeat(np.cumsum(q)[start] - q[start], np.diff(np.r_[start, len(q)]))
    before = filled - q
    take = np.clip(need[r] - before, 0.0, q)
    value += float(np.sum(take * c_unit))
    short = need - np.bincount(r, weights=take, minlength=len(kept_rows))
    if np.any(short > 1e-9):
        return -math.inf  # a kept row that cannot be met: no finite bound from this y
    return value
