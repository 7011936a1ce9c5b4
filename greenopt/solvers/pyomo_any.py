"""Any Pyomo MILP solver by name: availability, options (time limit, gap, MIP start), status.

:func:`solve_other` solves a Pyomo model (its MILP's columns listed in ``model._columns``, see
:func:`greenopt.formulations.pyomo_model.to_pyomo`; it may have more variables, whose values the
solver leaves in them) with ``pyomo.environ.SolverFactory(name)``
and maps the answer to a :class:`~greenopt.solvers.highs.SolveResult`; ``appsi_highs`` also
receives the MIP start. :func:`available_solvers` lists the names of :data:`SOLVERS` Pyomo can
call here.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from greenopt.errors import SolverError
from greenopt.solvers import SOLVERS
from greenopt.solvers.highs import SolveResult

if TYPE_CHECKING:
    from greenopt.options import PlanOptions  # a layer above: for type checkers only

#: Time-limit option names of common Pyomo solvers.
_TIME_OPTION = {
    "cbc": "seconds",
    "glpk": "tmlim",
    "gurobi": "TimeLimit",
    "cplex": "timelimit",
    "scip": "limits/time",
    "xpress": "maxtime",
}


def solve_other(
    model: Any, start: np.ndarray | None, options: PlanOptions, time_limit: float | None
) -> SolveResult:
    """Solve ``model`` with the Pyomo solver ``options.solver`` (``appsi_highs`` takes the warm
    start ``start``, in ``model._columns`` order) within ``time_limit`` seconds and
    ``options.mip_gap``."""
    import pyomo.environ as pyo
    from pyomo.opt import TerminationCondition as TC

    name = options.solver
    try:
        opt = pyo.SolverFactory(name)
        ok = opt is not None and opt.available(exception_flag=False)
    except Exception:
        ok = False
    if not ok:
        raise SolverError(
            f"solver {name!r} is not available; available: {', '.join(available_solvers())}"
        )
    kwargs: dict[str, Any] = {"load_solutions": False}
    if start is not None and name.startswith("appsi"):
        for v, val in zip(model._columns, start.tolist(), strict=True):
            v.set_value(val, skip_validation=True)
        kwargs["warmstart"] = True
    if name.startswith("appsi"):
        opt.config.time_limit = time_limit
        opt.config.mip_gap = options.mip_gap
        opt.config.load_solution = False
        kwargs = {"warmstart": kwargs.get("warmstart", False)} if "warmstart" in kwargs else {}
    elif "rel_gap" in getattr(opt, "config", {}):  # pyomo.contrib.solver, e.g. scip_direct
        opt.config.time_limit = time_limit
        opt.config.rel_gap = options.mip_gap
    else:
        if time_limit is not None and name in _TIME_OPTION:
            # glpsol refuses a fractional --tmlim
            limit = math.ceil(time_limit) if name == "glpk" else time_limit
            opt.options[_TIME_OPTION[name]] = limit
        gap_option = {"cbc": "ratioGap", "glpk": "mipgap", "scip": "limits/gap"}.get(name)
        if gap_option is not None:
            opt.options[gap_option] = options.mip_gap
    t0 = time.perf_counter()
    results = opt.solve(model, **kwargs)
    solve_s = time.perf_counter() - t0
    tc = results.solver.termination_condition
    values = None
    try:
        model.solutions.load_from(results)
        values = np.array([v.value if v.value is not None else 0.0 for v in model._columns])
    except Exception:
        try:
            opt.load_vars()
            values = np.array([v.value if v.value is not None else 0.0 for v in model._columns])
        except Exception:
            values = None
    if values is not None and all(v.value is None for v in model._columns):
        values = None  # nothing loaded: e.g. glpsol stopped at its time limit with no solution
    if tc == TC.optimal:
        status = "optimal"
    elif tc in (TC.infeasible, TC.infeasibleOrUnbounded):
        status = "infeasible"
    elif values is not None:
        status = "time_limit" if tc in (TC.maxTimeLimit,) else "feasible"
    else:
        status = "no_solution"
    bound = None
    try:
        lb = results.problem[0].lower_bound
        bound = float(lb) if lb is not None and math.isfinite(float(lb)) else None
    except Exception:
        pass
    obj = None
    if values is not None:
        active = list(model.component_data_objects(pyo.Objective, active=True))
        obj = float(pyo.value(active[0])) if len(active) == 1 else None
    version = opt.version()
    version = ".".join(map(str, version)) if isinstance(version, tuple | list) else str(version)
    return SolveResult(status, values, obj, bound, name, version, solve_s)


def available_solvers() -> list[str]:
    """The names of :data:`SOLVERS` Pyomo says it can call here (not checked by a solve: see
    :mod:`greenopt.solvers.doctor`)."""
    import pyomo.environ as pyo

    out = []
    for n in SOLVERS:
        try:
            if pyo.SolverFactory(n).available(exception_flag=False):
                out.append(n)
        except Exception:
            continue
    return out
