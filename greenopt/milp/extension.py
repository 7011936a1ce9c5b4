"""What a caller's changes to the model mean for the MILP's pipeline (MODEL.md in
``greenopt/formulations``, §10).

A model its caller changed — constraints, variables or objective terms added to
``model.pyomo``, family rows deactivated or edited, variables fixed or bounded — is searched like
any other (:func:`greenopt.formulations.pyomo_model.compile_model` hands HiGHS exactly that
model). Four of the pipeline's answers depend on the changes, and each is settled here:

* **The start plan** is the MIP start and the fallback only if it obeys them
  (:func:`start_values`): the bounds and fixings hold at its column values and so do the
  caller's rows, the caller's own variables chosen by a small MILP over them alone. Otherwise the
  search starts from nothing, and if it finds no plan greenopt says so (an error), never
  returning a plan that breaks them.
* **The plan read back** is checked too (:func:`breaks`), on the plan's own column values (as
  the evaluator derives them from its assignments) with the caller's variables as the solver
  left them; where family rows were left out or bounds relaxed, it must also pass
  :func:`greenopt.validate`.
* **The bound.** Every bound of MODEL.md's objective (the relaxation's, the model's with every
  move) is a bound of the changed model's objective only after adding the least the added
  objective terms can contribute over the variables' bounds
  (:meth:`~greenopt.formulations.pyomo_model.Compiled.least_objective_shift`); when that is
  −∞ (a term that can be arbitrarily negative) such bounds are dropped. Added constraints only
  raise the optimum, so they leave every bound valid. HiGHS's own bound on the changed model
  holds as it is.
* **Gap and status** are measured on the model's own objective (``plan.solver_objective``)
  once the objective was changed; on MODEL.md's (``plan.objective``) otherwise.
  ``plan.objective`` is always MODEL.md's, recomputed by the evaluator.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.pyomo_model import Compiled
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import start_vector
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs, solver_faults
from greenopt.solvers.highs import StandardForm
from greenopt.validate import validate

#: Relative tolerance of the caller's rows and bounds (HiGHS's own is 1e-7 absolute; the
#: read-back's cleaning moves shares by less than the evaluator's 1e-7 noise level).
TOL = 1e-6


def shifted(bound: float | None, shift: float) -> float | None:
    """A bound of MODEL.md's objective as a bound of the model's (``None`` if it is none)."""
    if bound is None or not math.isfinite(shift):
        return None
    return bound + shift


def _broken(A: sp.csr_array, lb: np.ndarray, ub: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows of ``lb ≤ A v ≤ ub`` broken beyond :data:`TOL` (relative to the row's size)."""
    act = A @ v
    size = np.maximum.reduce(
        [
            np.ones(len(act)),
            np.abs(np.where(np.isfinite(lb), lb, 0.0)),
            np.abs(np.where(np.isfinite(ub), ub, 0.0)),
            abs(A) @ np.abs(v),
        ]
    )
    return np.flatnonzero((act < lb - TOL * size) | (act > ub + TOL * size))


def _off_bounds(form: StandardForm, v: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Columns among ``cols`` outside their bounds or, if integer, not integral."""
    lo, hi, x = form.col_lb[cols], form.col_ub[cols], v[cols]
    size = np.maximum(1.0, np.abs(x))
    bad = (x < lo - TOL * size) | (x > hi + TOL * size)
    bad |= form.integer[cols] & (np.abs(x - np.round(x)) > TOL)
    return cols[bad]


def start_values(
    compiled: Compiled, v0: np.ndarray | None, options: PlanOptions, time_limit: float | None
) -> np.ndarray | None:
    """The start plan's values of every column of the changed model (``v0``: its family
    columns, matrix order), or ``None`` when it breaks the changes (see the module
    docstring)."""
    if v0 is None:
        return None
    form = compiled.form
    v = form.from_matrix_order(v0)
    ours = np.flatnonzero(form.col_index >= 0)
    if len(_off_bounds(form, v, ours)):
        return None
    own = compiled.user_cols
    rows = compiled.user_rows
    if not len(rows):
        return v if not len(own) else _own_values(form, v, ours, own, rows, options, time_limit)
    A = sp.csr_array(form.A)[rows]
    if not len(own):
        return None if len(_broken(A, form.row_lb[rows], form.row_ub[rows], v)) else v
    return _own_values(form, v, ours, own, rows, options, time_limit)


def _own_values(
    form: StandardForm,
    v: np.ndarray,
    ours: np.ndarray,
    own: np.ndarray,
    rows: np.ndarray,
    options: PlanOptions,
    time_limit: float | None,
) -> np.ndarray | None:
    """Values of the caller's variables that, with the family columns fixed at ``v``, satisfy
    the caller's rows at least cost: a MILP over those variables alone."""
    A = sp.csr_array(form.A)[rows]
    fixed = A[:, ours] @ v[ours]
    mine = sp.csr_array(A[:, own])
    empty = np.diff(mine.indptr) == 0
    lb, ub = form.row_lb[rows] - fixed, form.row_ub[rows] - fixed
    # rows without the caller's variables are already decided by the plan
    if len(
        _broken(A[np.flatnonzero(empty)], form.row_lb[rows][empty], form.row_ub[rows][empty], v)
    ):
        return None
    keep = np.flatnonzero(~empty)
    sub = StandardForm(
        c=form.c[own],
        offset=0.0,
        A=sp.csc_array(mine[keep]),
        col_lb=form.col_lb[own],
        col_ub=form.col_ub[own],
        integer=form.integer[own],
        row_lb=lb[keep],
        row_ub=ub[keep],
        col_index=np.arange(len(own)),
    )
    quiet = replace(options, verbose=False, log_file=None, threads=1)
    with solver_faults("highs"):
        res = highs.solve(sub, None, quiet, time_limit, log=False, mip_gap=1e-6)
    if res.values is None or res.status not in ("optimal", "feasible", "time_limit"):
        return None
    out = v.copy()
    out[own] = res.values
    return out


def breaks(
    scenario: Scenario,
    compiled: Compiled,
    ix: IndexSets,
    mx: Matrix,
    plan: Plan,
    values: np.ndarray,
) -> list[str]:
    """How ``plan`` (read back from the solver's ``values``, compiled order) breaks the changed
    model: the caller's rows and bounds at the plan's own column values, and, when the model was
    loosened, the rules of MODEL.md (:func:`greenopt.validate`). Empty when it obeys them."""
    form = compiled.form
    problems: list[str] = []
    own_v = start_vector(ix, mx, plan.assignments)
    if own_v is None:
        return ["the plan read back uses runs or moves outside the model"]
    v = form.from_matrix_order(own_v)
    own = compiled.user_cols
    v[own] = values[own]
    for k in _off_bounds(form, v, np.flatnonzero(form.col_index >= 0))[:5].tolist():
        problems.append(
            f"column {compiled.column_name(k)} = {v[k]:.6g} outside "
            f"[{form.col_lb[k]:.6g}, {form.col_ub[k]:.6g}]"
        )
    rows = compiled.user_rows
    if len(rows):
        A = sp.csr_array(form.A)[rows]
        for r in _broken(A, form.row_lb[rows], form.row_ub[rows], v)[:5].tolist():
            problems.append(f"row {compiled.user_row_names[r]} broken")
    if compiled.changes.loosened:
        problems.extend(str(x) for x in validate(scenario, plan)[:5])
    return problems
