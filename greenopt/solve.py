"""Solve the MILP of :mod:`greenopt.formulations` and turn the answer into a :class:`Plan`.

``plan_milp(scenario, options)`` builds the model, hands it to the solver with the time limit,
gap, threads and seed asked for, starts it from the greedy plan, maps the solver's status, reads
the run shares back (rounding noise cleaned so it cannot break validity) and evaluates them with
the shared evaluator, so the MILP's KPIs are computed like every other method's.

Hand-off paths (``options.params["handoff"]``):

* ``"pyomo"`` (default for HiGHS): Pyomo model → ``LinearStandardFormCompiler`` → highspy
  (``passModel`` + ``setSolution``); measured ~7× faster than the appsi persistent interface;
* ``"direct"``: the same numpy matrix straight into highspy (no Pyomo; used by the benchmark to
  measure Pyomo's overhead);
* any other ``solver`` name goes through ``pyomo.environ.SolverFactory`` (``appsi_highs``
  receives the warm start).

Statuses: ``optimal`` (gap closed), ``feasible`` (stopped at ``mip_gap``), ``time_limit`` (best
plan found when time ran out), ``fallback`` (no incumbent: the greedy plan is returned).
When HiGHS reports infeasible it is asked again with presolve off before it is believed.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import SolverError
from greenopt.evaluate import SHARE_EPS, derive_migrations, energy_table, evaluate
from greenopt.formulations.build import build_matrix, to_pyomo
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import SINGLE, IndexSets
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: Solvers tried when listing what is available.
KNOWN_SOLVERS = ("highs", "appsi_highs", "cbc", "glpk", "scip", "gurobi", "cplex", "xpress")
#: Time-limit option names of common Pyomo solvers.
_TIME_OPTION = {
    "cbc": "seconds",
    "glpk": "tmlim",
    "gurobi": "TimeLimit",
    "cplex": "timelimit",
    "scip": "limits/time",
    "xpress": "maxtime",
}
#: Above this many move binaries, candidate sites are cut to the origin plus the best few.
AUTO_MOVE_BUDGET = 60_000


@dataclass
class SolveResult:
    """What a solver left: status, column values (in matrix order), objective and bound."""

    status: str  # optimal | feasible | time_limit | infeasible | no_solution
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    solver: str
    version: str
    solve_s: float
    handoff_s: float = 0.0
    start_accepted: bool | None = None
    log: str = ""
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False


# -- start / fallback plan ----------------------------------------------------------------------
def start_plan(scenario: Scenario, options: Any) -> Plan:
    """The greedy plan when the greedy heuristic is available, else a run-at-origin plan."""
    try:
        greedy = importlib.import_module("greenopt.heuristics.greedy")
        return greedy.plan_greedy(scenario, options)
    except (ImportError, AttributeError):
        return origin_plan(scenario, options)


def origin_plan(scenario: Scenario, options: Any) -> Plan:
    """Every job at its origin from release, earliest deadline first, capacity respected.

    A non-preemptible job takes the earliest block of consecutive slots with room for it
    (full inner slots), or does not run. Never migrates, so it is always valid.
    """
    idx = scenario.index
    dt = idx.dt_h
    free = idx.site_gpus[:, None].astype(float) * np.ones((1, idx.T))
    rows: list[tuple[str, int, str, float]] = []
    for j in np.lexsort((np.arange(len(idx.job_names)), idx.deadline_h)):
        o = int(idx.origin[j])
        if not idx.allowed[j, o]:
            continue
        f, e, g = int(idx.first_slot[j]), int(idx.end_slot[j]), float(idx.gpus[j])
        left = float(idx.work_h[j])
        if idx.preemptible[j]:
            for t in range(f, e):
                share = min(1.0, left / dt, free[o, t] / g)
                if share > 1e-6:
                    rows.append((idx.job_names[j], t, idx.site_names[o], share))
                    free[o, t] -= share * g
                    left -= share * dt
                if left <= 1e-9:
                    break
            continue
        n = math.ceil(left / dt - 1e-9)
        shares = [1.0] * (n - 1) + [left / dt - (n - 1)]
        for t0 in range(f, e - n + 1):
            if all(free[o, t0 + k] >= s * g - 1e-9 for k, s in enumerate(shares)):
                for k, s in enumerate(shares):
                    rows.append((idx.job_names[j], t0 + k, idx.site_names[o], s))
                    free[o, t0 + k] -= s * g
                break
    return evaluate(
        scenario,
        pd.DataFrame(rows, columns=["job", "slot", "site", "share"]),
        method="origin",
        objective=options.objective,
        deadlines="soft",
    )


def start_vector(ix: IndexSets, mx: Matrix, assignments: pd.DataFrame) -> np.ndarray | None:
    """Every column's value for the plan ``assignments``; ``None`` if the plan is outside the
    model (a run or move the index sets do not have)."""
    sc = ix.scenario
    idx = sc.index
    S, T = ix.S, ix.T
    v = np.zeros(mx.n_cols)
    a = assignments
    if len(a):
        j = a["job"].map(idx.job_pos).to_numpy()
        s = a["site"].map(idx.site_pos).to_numpy()
        t = a["slot"].to_numpy().astype(np.int64)
        pos = ix.x_pos[j, s, t]
        if np.any(pos < 0):
            return None
        x = mx.cols["x"]
        v[x.cols(pos)] = np.minimum(a["share"].to_numpy(), ix.x_ub[j])
    migs = derive_migrations(sc, a)
    state = np.repeat(idx.origin[:, None], T, axis=1)
    if len(migs):
        mj = migs["job"].map(idx.job_pos).to_numpy()
        ma = migs["src"].map(idx.site_pos).to_numpy()
        mb = migs["dst"].map(idx.site_pos).to_numpy()
        mt = migs["slot"].to_numpy().astype(np.int64)
        key = ((ix.mj * S + ix.ma) * S + ix.mb) * T + ix.mt
        order = np.argsort(key)
        want = ((mj * S + ma) * S + mb) * T + mt
        k = np.searchsorted(key[order], want)
        k = np.minimum(k, len(key) - 1) if len(key) else k
        if not len(key) or np.any(key[order][k] != want):
            return None
        v[mx.cols["mv"].cols(order[k])] = 1.0
        for jj, bb, tt in sorted(
            zip(mj.tolist(), mb.tolist(), mt.tolist(), strict=True), key=lambda r: r[2]
        ):
            state[jj, tt:] = bb
    loc = mx.cols["loc"]
    v[loc.cols(np.arange(loc.n))] = (state[ix.lj, ix.lt] == ix.ls).astype(float)
    if "unmet" in mx.cols:
        done = np.zeros(ix.J)
        if len(a):
            np.add.at(done, a["job"].map(idx.job_pos).to_numpy(), a["share"].to_numpy() * ix.dt)
        v[mx.cols["unmet"].cols(np.arange(ix.J))] = np.maximum(0.0, idx.work_h - done)
    z = mx.cols["z"]
    if z.n:
        at_origin = np.zeros(ix.J, dtype=bool)
        if len(a):
            jo = a["job"].map(idx.job_pos).to_numpy()
            so = a["site"].map(idx.site_pos).to_numpy()
            at_origin[jo[so == idx.origin[jo]]] = True
        v[z.cols(np.arange(z.n))] = at_origin[ix.zj].astype(float)
    if "r" in mx.cols and len(a):
        first = a.groupby("job")["slot"].min()
        last = a.groupby("job")["slot"].max()
        jr = np.array([idx.job_names[k] for k in ix.rj], dtype=object)
        f = pd.Series(jr).map(first).to_numpy(dtype=float)
        e = pd.Series(jr).map(last).to_numpy(dtype=float)
        inside = (ix.rt >= f) & (ix.rt <= e)
        v[mx.cols["r"].cols(np.arange(len(ix.rj)))] = inside.astype(float)
        v[mx.cols["st"].cols(np.arange(len(ix.rj)))] = (ix.rt == f).astype(float)
    en = energy_table(sc, a, migs)
    grid = en["grid_kwh"].to_numpy().reshape(S, T)
    excess = (en["facility_kwh"].to_numpy() - idx.renewable_kw.ravel() * ix.dt).reshape(S, T)
    g = mx.cols["grid"]
    v[g.cols(np.arange(g.n))] = grid[g.keys[:, 0], g.keys[:, 1]]
    if "y" in mx.cols:
        y = mx.cols["y"]
        v[y.cols(np.arange(y.n))] = (excess[y.keys[:, 0], y.keys[:, 1]] > 0).astype(float)
    return v


# -- read back ------------------------------------------------------------------------------------
def read_assignments(ix: IndexSets, mx: Matrix, values: np.ndarray) -> pd.DataFrame:
    """Run shares from a solution, cleaned so solver tolerances cannot break validity.

    Binaries are rounded; a share is kept only where the rounded state is; shares are clipped to
    their caps (``x_ub``, ``1 − disruption``), then scaled down where GPU capacity or a job's work
    is exceeded by noise. Shares below the evaluator's noise level are dropped.
    """
    idx = ix.scenario.index
    xb = mx.cols["x"]
    x = np.clip(values[xb.cols(np.arange(xb.n))], 0.0, ix.x_ub[ix.xj])
    mv = np.round(values[mx.cols["mv"].cols(np.arange(len(ix.mj)))])
    loc = np.round(values[mx.cols["loc"].cols(np.arange(len(ix.lj)))])
    xl = ix.l_pos[ix.xj, ix.xs, ix.xt]
    has = xl >= 0
    x[has] *= loc[xl[has]]
    z = mx.cols["z"]
    if z.n:
        zval = np.zeros(ix.J)
        zval[ix.zj] = np.round(values[z.cols(np.arange(z.n))])
        single_origin = (ix.job_class[ix.xj] == SINGLE) & (ix.xs == idx.origin[ix.xj])
        x[single_origin] *= zval[ix.xj[single_origin]]
    if len(ix.mj):
        cap = np.ones(xb.n)
        pos = ix.x_pos[ix.mj, ix.mb, ix.mt]
        np.subtract.at(cap, pos, ix.md * mv)
        x = np.minimum(x, np.maximum(cap, 0.0))
    # capacity noise
    st = ix.xs * ix.T + ix.xt
    used = np.bincount(st, weights=idx.gpus[ix.xj] * x, minlength=ix.S * ix.T)
    capa = np.repeat(idx.site_gpus.astype(float), ix.T)
    scale = np.where(used > capa, capa / np.maximum(used, 1e-300), 1.0)
    x = x * scale[st]
    # work noise
    done = np.bincount(ix.xj, weights=x * ix.dt, minlength=ix.J)
    over = np.where(done > idx.work_h, idx.work_h / np.maximum(done, 1e-300), 1.0)
    x = x * over[ix.xj]
    keep = x > SHARE_EPS
    names_j = np.array(idx.job_names, dtype=object)
    names_s = np.array(idx.site_names, dtype=object)
    return pd.DataFrame(
        {
            "job": names_j[ix.xj[keep]],
            "slot": ix.xt[keep],
            "site": names_s[ix.xs[keep]],
            "share": x[keep],
        }
    )


# -- HiGHS ----------------------------------------------------------------------------------------
def _highs_version() -> str:
    import highspy

    h = highspy.Highs()
    return h.version() if hasattr(h, "version") else getattr(highspy, "__version__", "?")


def run_highs(
    cost: np.ndarray,
    offset: float,
    A: Any,
    col_lb: np.ndarray,
    col_ub: np.ndarray,
    integer: np.ndarray,
    row_lb: np.ndarray,
    row_ub: np.ndarray,
    start: np.ndarray | None,
    options: Any,
    time_limit: float | None,
    presolve: bool = True,
) -> SolveResult:
    """Pass a matrix (CSC or CSR, any scipy sparse) to highspy and solve it."""
    import highspy
    import scipy.sparse as sp

    t0 = time.perf_counter()
    A = sp.csc_array(A)
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    fd, log_path = tempfile.mkstemp(prefix="greenopt-highs-", suffix=".log")
    os.close(fd)
    h.setOptionValue("log_file", options.log_file or log_path)
    # the log is always written (to read whether the MIP start was accepted)
    h.setOptionValue("log_to_console", bool(options.verbose))
    h.setOptionValue("output_flag", True)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if not presolve:
        h.setOptionValue("presolve", "off")
    for key, value in (getattr(options, "params", {}) or {}).get("highs_options", {}).items():
        h.setOptionValue(key, value)
    lp = highspy.HighsLp()
    lp.num_col_ = int(A.shape[1])
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(col_lb, dtype=float)
    lp.col_upper_ = np.asarray(col_ub, dtype=float)
    lp.row_lower_ = np.asarray(row_lb, dtype=float)
    lp.row_upper_ = np.asarray(row_ub, dtype=float)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if np.any(integer):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in integer.tolist()
        ]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    handoff = time.perf_counter() - t0
    t1 = time.perf_counter()
    interrupted = _run_interruptible(h)
    solve_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2
    MS = highspy.HighsModelStatus
    if interrupted:
        status = "interrupted" if has_sol else "no_solution"
    elif ms == MS.kOptimal:
        status = "optimal" if info.mip_gap <= 1e-9 or not np.any(integer) else "feasible"
    elif ms in (MS.kInfeasible,):
        status = "infeasible"
    elif has_sol:
        status = (
            "time_limit"
            if ms in (MS.kTimeLimit, MS.kInterrupt, MS.kIterationLimit, MS.kSolutionLimit)
            else "feasible"
        )
    else:
        status = "no_solution"
    values = np.array(h.getSolution().col_value) if has_sol else None
    h.setOptionValue("log_file", "")  # close the log
    log = ""
    path = options.log_file or log_path
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            log = fh.read()
    finally:
        if not options.log_file:
            os.unlink(log_path)
    accepted = None
    if start is not None:
        accepted = _start_accepted(log)
    bound = float(info.mip_dual_bound) if np.any(integer) else float(info.objective_function_value)
    return SolveResult(
        status=status,
        values=values,
        objective=float(info.objective_function_value) if has_sol else None,
        bound=bound if math.isfinite(bound) else None,
        solver="highs",
        version=_highs_version(),
        solve_s=solve_s,
        handoff_s=handoff,
        start_accepted=accepted,
        log=log,
        interrupted=interrupted,
    )


def _run_interruptible(h: Any) -> bool:
    """Run HiGHS; Ctrl-C (in the main thread) cancels the solve instead of killing it.

    HiGHS then stops at its next callback check and keeps its incumbent, so the caller can still
    return the best plan found (status ``interrupted``). Returns whether the run was interrupted.
    Off the main thread (batch workers) no SIGINT can arrive: HiGHS runs directly, since
    highspy's solver-thread locks are shared by every ``Highs`` instance of the process.
    """
    if threading.current_thread() is not threading.main_thread():
        h.run()
        return False
    h.HandleUserInterrupt = True
    h.startSolve()
    interrupted = False
    while True:
        try:
            while not h.wait(0.1)[0]:
                pass
            return interrupted
        except KeyboardInterrupt:
            # a second Ctrl-C while HiGHS winds down is absorbed: it is already stopping
            interrupted = True
            h.cancelSolve()


def _start_accepted(log: str) -> bool:
    """Whether HiGHS found the MIP start feasible: its own message, or (when presolve is cut
    short) its assessment table of the start showing no infeasibility."""
    if "MIP start solution is feasible" in log:
        return True
    i = log.find("Assessing feasibility of MIP")
    if i < 0:
        return False
    counts = re.findall(r"(?:Col|Integer|Row)\s+infeasibilities\s+(\d+)", log[i : i + 2000])
    return len(counts) == 3 and all(c == "0" for c in counts)


def solve_direct(mx: Matrix, start: np.ndarray | None, options: Any, time_limit) -> SolveResult:
    """The numpy matrix straight into highspy (no Pyomo)."""
    cost, lb, ub, integer = mx.col_arrays()
    A, rlb, rub = mx.row_arrays()
    return run_highs(cost, mx.offset, A, lb, ub, integer, rlb, rub, start, options, time_limit)


def pyomo_to_highs_arrays(model: Any) -> tuple[Any, ...]:
    """Compile a Pyomo model with the standard-form compiler: ``(c, offset, A, col_lb, col_ub,
    integer, row_lb, row_ub, col_index)``; ``col_index`` maps compiled columns to
    ``model._columns``.
    """
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    cols = info.columns
    pos = {id(v): i for i, v in enumerate(model._columns)}
    col_index = np.fromiter((pos[id(v)] for v in cols), dtype=np.int64, count=len(cols))
    lb = np.array([-np.inf if v.lb is None else v.lb for v in cols], dtype=float)
    ub = np.array([np.inf if v.ub is None else v.ub for v in cols], dtype=float)
    integer = np.fromiter((v.is_integer() for v in cols), dtype=bool, count=len(cols))
    rhs = np.asarray(info.rhs, dtype=float)
    kind = np.fromiter((r.bound_type for r in info.rows), dtype=np.int64, count=len(info.rows))
    row_lb = np.where(kind <= 0, rhs, -np.inf)
    row_ub = np.where(kind >= 0, rhs, np.inf)
    c = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(len(cols))
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return c, offset, info.A, lb, ub, integer, row_lb, row_ub, col_index


def solve_pyomo_highs(
    model: Any, mx: Matrix, start: np.ndarray | None, options: Any, time_limit
) -> SolveResult:
    """Pyomo model → standard form → highspy; values mapped back to matrix column order."""
    t0 = time.perf_counter()
    c, offset, A, lb, ub, integer, rlb, rub, col_index = pyomo_to_highs_arrays(model)
    compile_s = time.perf_counter() - t0
    sub_start = start[col_index] if start is not None else None
    if time_limit is not None:
        time_limit = time_limit - compile_s
    res = run_highs(c, offset, A, lb, ub, integer, rlb, rub, sub_start, options, time_limit)
    res.handoff_s += compile_s
    if res.values is not None:
        full = np.zeros(mx.n_cols)
        full[col_index] = res.values
        res.values = full
    return res


def solve_other(
    model: Any, mx: Matrix, start: np.ndarray | None, options: Any, time_limit
) -> SolveResult:
    """Any Pyomo MILP solver by name (``appsi_highs`` takes the warm start)."""
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
    obj = float(pyo.value(model.obj)) if values is not None else None
    version = opt.version()
    version = ".".join(map(str, version)) if isinstance(version, tuple | list) else str(version)
    return SolveResult(status, values, obj, bound, name, version, solve_s)


def available_solvers() -> list[str]:
    import pyomo.environ as pyo

    out = []
    # scip_direct: SCIP through pyscipopt (pyomo.contrib.solver), when no scip executable
    for n in (*KNOWN_SOLVERS, "scip_direct"):
        try:
            if pyo.SolverFactory(n).available(exception_flag=False):
                out.append(n)
        except Exception:
            continue
    return out


# -- honest bound when candidate sites were cut --------------------------------------------------
def relaxation(
    scenario: Scenario, objective: Objective, deadlines: str, options: Any, top: int = 2
) -> tuple[float, list[set[int]]]:
    """The transport relaxation: every allowed site, no location, migration or contiguity rows.

    Returns its LP bound — a lower bound of the *full* problem (the omitted rows only enlarge the
    feasible set; migration energy and penalties only add cost when every grid coefficient is
    ≥ 0) — and, per job, the ``top`` sites other than the origin that carry ≥ 5 % of its LP work
    (the sites a restricted model keeps in the LP-guided first phase).
    """
    from dataclasses import replace

    from greenopt.formulations.sets import build_sets

    ix = build_sets(scenario, objective, deadlines, relax=True)
    _, mx = build_matrix(scenario, objective, deadlines, sets=ix)
    cost, lb, ub, integer = mx.col_arrays()
    A, rlb, rub = mx.row_arrays()
    opts = replace(options, mip_gap=0.0, verbose=False, log_file=None)
    res = run_highs(cost, mx.offset, A, lb, ub, np.zeros_like(integer), rlb, rub, None, opts, None)
    bound = res.bound if res.bound is not None else -math.inf
    keep: list[set[int]] = [set() for _ in range(ix.J)]
    if res.values is not None:
        x = res.values[mx.cols["x"].cols(np.arange(len(ix.xj)))]
        work = np.zeros((ix.J, ix.S))
        np.add.at(work, (ix.xj, ix.xs), x * ix.dt)
        origin = scenario.index.origin
        work[np.arange(ix.J), origin] = 0.0
        need = 0.05 * scenario.index.work_h[:, None]
        for j in range(ix.J):
            order = np.argsort(-work[j], kind="stable")[:top]
            keep[j] = {int(s) for s in order if work[j, s] >= need[j, 0]}
    return bound, keep


def relaxation_bound(scenario: Scenario, objective: Objective, deadlines: str, options) -> float:
    """The LP bound of :func:`relaxation`."""
    return relaxation(scenario, objective, deadlines, options)[0]


# -- the method ----------------------------------------------------------------------------------
def _solve_matrix(
    mx: Matrix,
    start: np.ndarray | None,
    options: Any,
    time_limit: float | None,
    handoff: str,
    name: str,
    notes: list[str],
) -> tuple[SolveResult, float]:
    """Build the Pyomo model (unless ``handoff="direct"``) and solve; ``(result, build_s)``."""
    t0 = time.perf_counter()
    model = None
    if handoff != "direct" or options.solver != "highs":
        model = to_pyomo(mx, name)
    build_s = time.perf_counter() - t0
    if time_limit is not None:
        time_limit = max(time_limit - build_s, 1.0)
    if options.solver != "highs":
        return solve_other(model, mx, start, options, time_limit), build_s
    res = (
        solve_direct(mx, start, options, time_limit)
        if model is None
        else solve_pyomo_highs(model, mx, start, options, time_limit)
    )
    if res.status == "infeasible":
        # HiGHS 1.15 presolve has declared feasible models of this kind infeasible
        notes.append("HiGHS said infeasible; re-solved with presolve off")
        if model is not None:
            c, off, A, lb, ub, integer, rlb, rub, col_index = pyomo_to_highs_arrays(model)
        else:
            c, lb, ub, integer = mx.col_arrays()
            A, rlb, rub = mx.row_arrays()
            off, col_index = mx.offset, np.arange(mx.n_cols)
        sub_start = start[col_index] if start is not None else None
        res2 = run_highs(
            c, off, A, lb, ub, integer, rlb, rub, sub_start, options, time_limit, presolve=False
        )
        if res2.values is not None:
            full = np.zeros(mx.n_cols)
            full[col_index] = res2.values
            res2.values = full
        res2.solve_s += res.solve_s
        res2.handoff_s += res.handoff_s
        res = res2
    return res, build_s


#: Models with more binaries than this get the LP-guided first phase.
LP_GUIDED_MIN_BINARIES = 3000


def plan_milp(scenario: Scenario, options: Any) -> Plan:
    """The MILP planner (``plan(scenario, method="milp", ...)``).

    Large models are solved in two phases (``params["lp_guided"]``, default on above
    :data:`LP_GUIDED_MIN_BINARIES` binaries): the transport relaxation LP picks, per job, the
    sites it would use; a restricted MILP over origin + those sites gets ``phase1`` (default
    40 %) of the time and its plan (if better than greedy) warm-starts the full model, which
    alone provides the reported bound.
    """
    obj = Objective.of(options.objective)
    params = dict(options.params)
    handoff = params.get("handoff", "pyomo")
    t_start = time.perf_counter()
    solver = options.solver
    if solver != "highs" and solver not in available_solvers():
        # fail early and clearly on a missing solver
        raise SolverError(
            f"solver {solver!r} is not available; available: {', '.join(available_solvers())}"
        )
    if options.deadlines == "hard":
        from greenopt.diagnose import precheck_hard

        precheck_hard(scenario)
    candidates = params.get("candidates", "auto")
    if candidates == "auto":
        candidates = _auto_candidates(scenario, obj, options.deadlines)
    fallback = start_plan(scenario, options)
    used = _sites_used(scenario, fallback)
    ix, mx = build_matrix(scenario, obj, options.deadlines, candidates, extra=used)
    notes: list[str] = []
    best = fallback
    build_s = time.perf_counter() - t_start
    phase1_s = 0.0
    guided = params.get("lp_guided", "auto")
    if guided == "auto":
        guided = solver == "highs" and mx.n_integer > LP_GUIDED_MIN_BINARIES
    relax_bound = None
    if guided:
        t1 = time.perf_counter()
        relax_bound, keep = relaxation(scenario, obj, options.deadlines, options)
        # keep the start plan's sites too, so that it stays a feasible start
        for j, sites in enumerate(used):
            keep[j] |= sites
        ix1, mx1 = build_matrix(scenario, obj, options.deadlines, candidates, keep=keep)
        start1 = start_vector(ix1, mx1, fallback.assignments) if options.warm_start else None
        limit1 = None
        if options.time_limit is not None:
            limit1 = params.get("phase1", 0.4) * (options.time_limit - (t1 - t_start))
        res1, b1 = _solve_matrix(mx1, start1, options, limit1, handoff, scenario.name, [])
        build_s += b1 + res1.handoff_s
        if res1.values is not None:
            p1 = evaluate(
                scenario,
                read_assignments(ix1, mx1, res1.values),
                objective=obj,
                deadlines=options.deadlines,
            )
            if p1.kpis["objective"] < best.kpis["objective"]:
                best = p1
            notes.append(
                f"LP-guided phase 1: {mx1.n_integer} binaries, {res1.status}, objective "
                f"{p1.kpis['objective']:.6g} (greedy {fallback.kpis['objective']:.6g})"
            )
        phase1_s = time.perf_counter() - t1 - b1 - res1.handoff_s
        if res1.interrupted:  # Ctrl-C: no second phase, return the best plan so far
            plan = evaluate(
                scenario,
                best.assignments,
                method="milp",
                objective=obj,
                deadlines=options.deadlines,
                status="interrupted",
                bound=relax_bound if all_grid_coefs_nonneg(scenario, obj) else None,
                build_s=build_s,
                solve_s=phase1_s,
                solver=res1.solver,
                solver_version=res1.version,
            )
            plan.notes.extend([*notes, "interrupted (Ctrl-C) in the LP-guided first phase"])
            return plan
    start = None
    if options.warm_start:
        start = start_vector(ix, mx, best.assignments)
        if start is None:
            notes.append("warm start: the start plan uses runs or moves outside the model")
    remaining = None
    if options.time_limit is not None:
        remaining = max(options.time_limit - (time.perf_counter() - t_start), 1.0)
    res, b2 = _solve_matrix(mx, start, options, remaining, handoff, scenario.name, notes)
    build_s += b2
    if res.start_accepted is not None:
        notes.append(f"MIP start {'accepted' if res.start_accepted else 'rejected'} by HiGHS")
    if res.status == "infeasible":
        if options.deadlines == "hard":
            from greenopt.diagnose import explain_hard

            raise explain_hard(scenario, options)
        raise SolverError(f"{res.solver} reports the soft-deadline model infeasible")
    bound = res.bound
    if ix.restricted or bound is None:
        # the restricted model's bound is not the problem's; HiGHS may also stop before it has
        # one: the transport relaxation's LP bound is always valid (non-negative grid coefs)
        if ix.restricted:
            notes.append(
                f"candidate sites cut to origin + {candidates}; bound is the full problem's LP "
                f"relaxation (restricted MIP bound {bound})"
            )
            bound = None
        if all_grid_coefs_nonneg(scenario, obj):
            if relax_bound is None:
                relax_bound = relaxation_bound(scenario, obj, options.deadlines, options)
            bound = relax_bound if bound is None else max(bound, relax_bound)
    facts = {
        "bound": bound,
        "build_s": build_s + res.handoff_s,
        "solve_s": res.solve_s + phase1_s,
        "solver": res.solver,
        "solver_version": res.version,
    }
    if res.values is None:
        status = "fallback" if best is fallback else "time_limit"
        if res.interrupted:
            status = "interrupted"
        plan = evaluate(
            scenario,
            best.assignments,
            method="milp",
            objective=obj,
            deadlines=options.deadlines,
            status=status,
            gap=None,
            **facts,
        )
        plan.notes.extend([*notes, f"{res.solver} found no plan ({res.status})"])
        if status == "fallback":
            plan.notes.append("greedy plan returned")
        return plan
    assignments = read_assignments(ix, mx, res.values)
    plan = evaluate(
        scenario,
        assignments,
        method="milp",
        objective=obj,
        deadlines=options.deadlines,
        status=res.status,
        **facts,
    )
    value = plan.kpis["objective"]
    if bound is not None and bound > value:  # the incumbent's rounding can only cost 1e-9s
        bound = value
        plan.bound = bound
    plan.gap = (value - bound) / max(abs(value), 1e-9) if bound is not None else float("nan")
    plan.solver_objective = res.objective  # type: ignore[attr-defined]
    plan.start_accepted = res.start_accepted  # type: ignore[attr-defined]
    plan.handoff_s = res.handoff_s  # type: ignore[attr-defined]
    plan.notes.extend([*notes, f"solver objective {res.objective}"])
    return plan


def _sites_used(scenario: Scenario, plan: Plan) -> list[set[int]]:
    """Per job, the sites a plan runs it at."""
    idx = scenario.index
    used: list[set[int]] = [set() for _ in idx.job_names]
    a = plan.assignments
    for j, s in zip(a["job"].map(idx.job_pos), a["site"].map(idx.site_pos), strict=True):
        used[int(j)].add(int(s))
    return used


def all_grid_coefs_nonneg(scenario: Scenario, obj: Objective) -> bool:
    return bool(np.all(obj.grid_coef(scenario) >= 0))


def _auto_candidates(scenario: Scenario, obj: Objective, deadlines: str) -> int | None:
    """All sites while the move binaries stay within :data:`AUTO_MOVE_BUDGET`, else fewer."""
    idx = scenario.index
    win = (idx.end_slot - idx.first_slot).astype(float)
    mig = idx.migratable.astype(float)
    n_allowed = idx.allowed.sum(axis=1).astype(float)
    for k in (None, 4, 3, 2, 1):
        c = n_allowed if k is None else np.minimum(n_allowed, k + 1)
        moves = float(np.sum(mig * win * c * (c - 1) + (1 - mig) * win * (c - 1)))
        if moves <= AUTO_MOVE_BUDGET:
            return k
    return 1
