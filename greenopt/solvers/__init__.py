"""Solver adapters over a model in standard form, knowing nothing of scenarios or plans.

* :mod:`~greenopt.solvers.highs` — HiGHS through highspy (the MILP's default solver);
* :mod:`~greenopt.solvers.pyomo_any` — any Pyomo MILP solver by name;
* :mod:`~greenopt.solvers.lns` — fix-and-optimise (improves an incumbent a few jobs at a time);
* :mod:`~greenopt.solvers.colgen` — column generation for large LPs, a valid bound each round;
* :mod:`~greenopt.milp.schedules` — the schedule relaxation (Dantzig–Wolfe over each job's
  schedules, priced by :mod:`~greenopt.solvers.pricing`): a bound and plans from its columns;
* :mod:`~greenopt.solvers.doctor` — which solvers really work here (``greenopt doctor``).

Here: :data:`SOLVERS`, the one list of solver names greenopt knows (``doctor`` checks it, the
benchmarks' ``solvers`` suite tries it, :func:`~greenopt.solvers.pyomo_any.available_solvers`
filters it, and a scenario file may choose among it), and :func:`solver_faults`, which the MILP
wraps around every solver call so that a solver's own exception becomes a
:class:`~greenopt.errors.SolverError` while greenopt's own bugs surface as themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from greenopt.errors import GreenoptError, SolverError

#: Pyomo MILP solver names greenopt knows (``highs`` is greenopt's own highspy path, the default;
#: ``scip_direct`` is SCIP through pyscipopt).
SOLVERS: tuple[str, ...] = (
    "highs",
    "appsi_highs",
    "cbc",
    "glpk",
    "scip",
    "scip_direct",
    "gurobi",
    "gurobi_direct",
    "cplex",
    "cplex_direct",
    "xpress",
    "xpress_direct",
    "mosek",
)


@contextmanager
def solver_faults(solver: str, method: str = "milp") -> Iterator[None]:
    """Inside the block, an exception raised by the solver (or its Pyomo interface) becomes a
    :class:`SolverError` naming ``method`` and ``solver``, with the original chained; greenopt's
    own errors and ``KeyboardInterrupt`` pass unchanged."""
    try:
        yield
    except GreenoptError:
        raise
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise SolverError(f"{method}: solver {solver!r} failed ({detail})") from exc
