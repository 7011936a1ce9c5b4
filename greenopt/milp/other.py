"""The MILP with a Pyomo solver other than HiGHS (``solver="cbc"``, ``"glpk"``,
``"appsi_highs"``, ...): the labelled model of step 3 (:mod:`.prepare`: each job's best few
sites), with any changes its caller made, solved once through ``pyomo.environ.SolverFactory``.

Solvers other than HiGHS get no fix-and-optimise, so the model is kept within
:data:`~greenopt.milp.candidates.AUTO_MOVE_BUDGET` move binaries by cutting each job's sites to
the best-scoring few plus the start plan's. A cut model's optimum bounds nothing: the bound is
then the relaxation LP's over every reachable site, solved by HiGHS (always installed).
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.pyomo_model import Compiled
from greenopt.milp.clock import Clock
from greenopt.milp.extension import shifted
from greenopt.milp.prepare import Prepared
from greenopt.options import PlanOptions
from greenopt.solvers import solver_faults
from greenopt.solvers.highs import SolveResult
from greenopt.solvers.pyomo_any import solve_other


def run_other(
    prep: Prepared,
    options: PlanOptions,
    compiled: Compiled,
    start: np.ndarray | None,
    clock: Clock,
) -> tuple[SolveResult, np.ndarray | None, float | None]:
    """Solve the labelled model with ``options.solver`` from ``start`` (the start plan's column
    values in compiled order, ``None``: no warm start). Returns the solver's answer, the
    solution's values in compiled order (the caller's variables as the solver left them) and
    the bound: the solver's on a model over every reachable site, else the relaxation's."""
    model = prep.pyomo
    form = compiled.form
    ours = form.col_index >= 0
    v0 = None if start is None else form.to_matrix_order(start, prep.mx.n_cols)
    with solver_faults(options.solver):
        res = solve_other(model, v0, options, clock.left(reserve=True))
    values = None
    if res.values is not None:
        values = form.from_matrix_order(res.values)
        for k in np.flatnonzero(~ours).tolist():
            value = compiled.columns[k].value
            values[k] = 0.0 if value is None else float(value)
    bound = res.bound
    if prep.ix.restricted:
        # the cut model's optimum bounds nothing; the relaxation over every site does
        relax = prep.relaxation
        shift = compiled.least_objective_shift() if compiled.changes.objective_changed else 0.0
        bound = None if relax is None else shifted(relax.bound, shift)
    return res, values, bound
