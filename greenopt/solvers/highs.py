"""The hand-off to HiGHS: a model in standard form, solved through highspy.

:class:`StandardForm` is a MILP (or LP) as HiGHS takes it —
``min c·x + offset`` s.t. ``row_lb ≤ A x ≤ row_ub``, ``col_lb ≤ x ≤ col_ub``, some columns
integer. It comes straight from the formulation's numpy arrays (:func:`from_matrix`), from the
labelled Pyomo model (:func:`greenopt.formulations.pyomo_model.compile_model`: those arrays for
what nobody changed, Pyomo's ``LinearStandardFormCompiler`` for the rest), or from any Pyomo model
through that compiler alone (:func:`compile_pyomo`: ~7× faster than the appsi persistent
interface; the reference the labelled model's hand-off is tested against).

:func:`solve` passes it to highspy with the time limit, gap, threads and seed asked for, an
optional MIP start, and maps HiGHS's status: ``optimal`` (gap closed), ``feasible`` (stopped at
the gap, or by a work limit — ``node_limit``: branch-and-bound nodes, the budget of
deterministic runs), ``time_limit`` (an incumbent when time ran out), ``interrupted`` (Ctrl-C:
HiGHS was cancelled and kept its incumbent), ``infeasible``, ``no_solution``.

**Live progress.** ``progress(primal, dual)`` is called from HiGHS's own MIP callbacks — each
improving solution (``cbMipImprovingSolution``) and each line of its branch-and-bound log
(``cbMipLogging``, every few seconds) — so a caller sees the incumbent and the bound move
during branch-and-bound, without reading HiGHS's log. Each callback is a call into Python under
the GIL: only these two, which fire a few times a second at most, are subscribed.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass
class StandardForm:
    """``min c·x + offset``, ``row_lb ≤ A x ≤ row_ub``, ``col_lb ≤ x ≤ col_ub``, ``integer``.

    ``col_index[k]`` is the formulation column (:class:`~greenopt.formulations.matrix.Matrix`
    order) of column ``k``, or −1 for a column the formulation does not have (a variable a
    caller added to the model); the standard-form compiler may order or drop columns.
    """

    c: np.ndarray
    offset: float
    A: sp.csc_array
    col_lb: np.ndarray
    col_ub: np.ndarray
    integer: np.ndarray
    row_lb: np.ndarray
    row_ub: np.ndarray
    col_index: np.ndarray

    @property
    def n_cols(self) -> int:
        return len(self.c)

    def objective(self, v: np.ndarray) -> float:
        return float(self.c @ v) + self.offset

    def to_matrix_order(self, values: np.ndarray, n: int) -> np.ndarray:
        """Values in formulation column order (columns the compiler dropped are 0; columns the
        formulation does not have are left out)."""
        full = np.zeros(n)
        ours = self.col_index >= 0
        full[self.col_index[ours]] = values[ours]
        return full

    def from_matrix_order(self, values: np.ndarray) -> np.ndarray:
        """Formulation-order ``values`` in this form's column order (0 for columns the
        formulation does not have)."""
        out = np.zeros(self.n_cols)
        ours = self.col_index >= 0
        out[ours] = values[self.col_index[ours]]
        return out


@dataclass
class SolveResult:
    """What HiGHS left: status, column values (in the form's order), objective and bound."""

    status: str  # optimal | feasible | time_limit | interrupted | infeasible | no_solution
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
    row_duals: np.ndarray | None = None


def from_matrix(mx: Any) -> StandardForm:
    """The formulation's numpy arrays as they are (no Pyomo)."""
    c, lb, ub, integer = mx.col_arrays()
    A, rlb, rub = mx.row_arrays()
    return StandardForm(c, mx.offset, sp.csc_array(A), lb, ub, integer, rlb, rub, np.arange(len(c)))


def compile_pyomo(model: Any) -> StandardForm:
    """Compile a Pyomo model with Pyomo's standard-form compiler (``mixed_form``: ranges kept).

    ``model._columns`` lists the model's variables in formulation order (see
    :func:`greenopt.formulations.pyomo_model.to_pyomo`); any other variable gets column −1.
    """
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    cols = info.columns
    pos = {id(v): i for i, v in enumerate(model._columns)}
    col_index = np.fromiter((pos.get(id(v), -1) for v in cols), dtype=np.int64, count=len(cols))
    lb = np.array([-np.inf if v.lb is None else v.lb for v in cols], dtype=float)
    ub = np.array([np.inf if v.ub is None else v.ub for v in cols], dtype=float)
    integer = np.fromiter((v.is_integer() for v in cols), dtype=bool, count=len(cols))
    rhs = np.asarray(info.rhs, dtype=float)
    kind = np.fromiter((r.bound_type for r in info.rows), dtype=np.int64, count=len(info.rows))
    row_lb = np.where(kind <= 0, rhs, -np.inf)
    row_ub = np.where(kind >= 0, rhs, np.inf)
    c = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(len(cols))
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return StandardForm(c, offset, sp.csc_array(info.A), lb, ub, integer, row_lb, row_ub, col_index)


_BANNER_LOCK = threading.Lock()
_banner_shown = False


class Cancel:
    """A way to stop HiGHS solves running in another thread (``cancel()``); each solve given
    this token registers its ``Highs`` here. A solve left running when the process exits would
    abort it ('terminate called without an active exception')."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._solvers: list[Any] = []
        self.cancelled = False

    def register(self, h: Any) -> None:
        h.HandleUserInterrupt = True
        with self._lock:
            self._solvers.append(h)
            if self.cancelled:
                h.cancelSolve()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            for h in self._solvers:
                h.cancelSolve()


def new_highs() -> Any:
    """A ``highspy.Highs``; the first one of the process is made with stdout muted, since HiGHS
    prints its copyright banner there, before any option can silence it (it would land in the
    middle of the command line's output and of every batch worker's)."""
    global _banner_shown
    import highspy

    if _banner_shown:
        return highspy.Highs()
    with _BANNER_LOCK:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return h


def pass_model_seconds(form: StandardForm) -> float:
    """Seconds highspy takes to receive ``form`` (``passModel``), without solving it."""
    h = new_highs()
    h.setOptionValue("output_flag", False)
    t0 = time.perf_counter()
    h.passModel(_highs_lp(form, form.integer))
    return time.perf_counter() - t0


def _highs_lp(form: StandardForm, integer: np.ndarray) -> Any:
    """``form`` as a ``highspy.HighsLp`` (column-wise matrix), ``integer`` its integrality."""
    import highspy

    A = form.A
    lp = highspy.HighsLp()
    lp.num_col_ = int(A.shape[1])
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = np.asarray(form.c, dtype=float)
    lp.col_lower_ = np.asarray(form.col_lb, dtype=float)
    lp.col_upper_ = np.asarray(form.col_ub, dtype=float)
    lp.row_lower_ = np.asarray(form.row_lb, dtype=float)
    lp.row_upper_ = np.asarray(form.row_ub, dtype=float)
    lp.offset_ = float(form.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if np.any(integer):
        kinds = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
        lp.integrality_ = kinds.tolist()
    return lp


@cache
def highs_version() -> str:
    import highspy

    h = new_highs()
    return h.version() if hasattr(h, "version") else getattr(highspy, "__version__", "?")


def solve(
    form: StandardForm,
    start: np.ndarray | None,
    options: Any,
    time_limit: float | None,
    *,
    presolve: bool = True,
    relax: bool = False,
    log: bool = True,
    duals: bool = False,
    mip_gap: float | None = None,
    highs_options: dict[str, Any] | None = None,
    cancel: Cancel | None = None,
    node_limit: int | None = None,
    progress: Progress | None = None,
    exchange: Exchange | None = None,
) -> SolveResult:
    """Solve ``form`` with HiGHS.

    ``options`` is a :class:`greenopt.plan.PlanOptions` (gap, threads, seed, verbosity, log file,
    ``params["highs_options"]``); ``relax`` drops integrality (an LP); ``log=False`` writes no
    log (then whether a MIP start was accepted is not known); ``duals`` returns row duals;
    ``node_limit`` caps branch-and-bound nodes (a work limit: the same on every machine);
    ``progress(primal, dual)`` reports branch-and-bound as it goes (module docstring);
    ``exchange`` trades plans with a search running beside it (:class:`Exchange`).
    """
    import highspy

    t0 = time.perf_counter()
    integer = np.zeros(form.n_cols, dtype=bool) if relax else form.integer
    h = new_highs()
    if cancel is not None:
        cancel.register(h)
    log_path = None
    log_from = 0  # where this run's lines begin in the caller's log file (HiGHS appends)
    if log:
        fd, log_path = tempfile.mkstemp(prefix="greenopt-highs-", suffix=".log")
        os.close(fd)
        if options.log_file and os.path.exists(options.log_file):
            log_from = os.path.getsize(options.log_file)
        # the log is written even when quiet: it tells whether HiGHS accepted the MIP start
        h.setOptionValue("log_file", options.log_file or log_path)
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", bool(options.verbose))
    else:
        h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap if mip_gap is None else mip_gap))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if node_limit is not None and np.any(integer):
        h.setOptionValue("mip_max_nodes", int(node_limit))
    if not presolve:
        h.setOptionValue("presolve", "off")
    merged = {**(highs_options or {}), **(options.params.get("highs_options", {}) or {})}
    for key, value in merged.items():
        h.setOptionValue(key, value)
    lp = _highs_lp(form, integer)
    h.passModel(lp)
    if start is not None and np.any(integer):
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    if progress is not None and np.any(integer):
        _report_progress(h, progress)
    if exchange is not None and np.any(integer):
        exchange.attach(h)
    handoff = time.perf_counter() - t0
    t1 = time.perf_counter()
    interrupted = _run_interruptible(h)
    solve_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2
    is_mip = bool(np.any(integer))
    MS = highspy.HighsModelStatus
    if ms == MS.kModelEmpty:
        # nothing to decide (e.g. a day without jobs): the optimum is the constant
        return SolveResult(
            status="optimal",
            values=np.zeros(form.n_cols),
            objective=float(form.offset),
            bound=float(form.offset),
            solver="highs",
            version=highs_version(),
            solve_s=time.perf_counter() - t1,
            handoff_s=handoff,
            row_duals=np.zeros(0) if duals else None,
        )
    if interrupted:
        status = "interrupted" if has_sol else "no_solution"
    elif ms == MS.kOptimal:
        status = "optimal" if not is_mip or info.mip_gap <= 1e-9 else "feasible"
    elif ms == MS.kInfeasible:
        status = "infeasible"
    elif has_sol:
        # a work limit (nodes, iterations) is the budget asked for; only the clock is 'time_limit'
        status = "time_limit" if ms in (MS.kTimeLimit, MS.kInterrupt) else "feasible"
    else:
        status = "no_solution"
    solution = h.getSolution()
    values = np.array(solution.col_value) if has_sol else None
    row_duals = np.array(solution.row_dual) if duals and has_sol and not is_mip else None
    text = ""
    if log_path is not None:
        h.setOptionValue("log_file", "")  # closes the log
        path = options.log_file or log_path
        try:
            # this run's lines only: HiGHS appends to the caller's log file, which earlier
            # solves of the same call (or the caller's earlier calls) wrote to — their
            # "accepted" line must not count for this run, nor their text be read again
            with open(path, "rb") as fh:
                fh.seek(log_from)
                text = fh.read().decode("utf-8", errors="replace")
        finally:
            if not options.log_file:
                os.unlink(log_path)
    accepted = _start_accepted(text) if start is not None and log and is_mip else None
    if is_mip:
        bound = float(info.mip_dual_bound)
    else:
        # an LP solved to optimality: its optimum is its bound
        bound = float(info.objective_function_value) if status == "optimal" else -math.inf
    return SolveResult(
        status=status,
        values=values,
        objective=float(info.objective_function_value) if has_sol else None,
        bound=bound if math.isfinite(bound) else None,
        solver="highs",
        version=highs_version(),
        solve_s=solve_s,
        handoff_s=handoff,
        start_accepted=accepted,
        log=text,
        interrupted=interrupted,
        row_duals=row_duals,
    )


#: ``progress(primal, dual)``: the incumbent's objective (``None`` before one) and the bound.
Progress = Callable[[float | None, float | None], None]


class Exchange:
    """Plans traded between a HiGHS branch-and-bound and a search running beside it in another
    thread (fix-and-optimise): ``offer(values, objective)`` hands HiGHS a plan (column values of
    the form it solves), which it takes at its next user-solution callback (after its setup,
    between its root node's cut rounds, before each dive); each plan HiGHS finds is kept for
    the search (``take()``: the best one not yet taken, else ``None``). ``done`` is set when
    HiGHS's solve has ended. Thread-safe; a callback never raises into HiGHS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._to_highs: np.ndarray | None = None
        self._to_highs_objective = math.inf
        self._from_highs: np.ndarray | None = None
        self._from_highs_objective = math.inf
        self.done = threading.Event()

    def offer(self, values: np.ndarray, objective: float) -> None:
        with self._lock:
            if objective < self._to_highs_objective:
                self._to_highs = np.array(values, dtype=float)
                self._to_highs_objective = objective

    def take(self) -> tuple[np.ndarray, float] | None:
        with self._lock:
            if self._from_highs is None:
                return None
            out = (self._from_highs, self._from_highs_objective)
            self._from_highs = None
            return out

    def attach(self, h: Any) -> None:
        def give(event: Any) -> None:
            with contextlib.suppress(Exception):
                with self._lock:
                    values, self._to_highs = self._to_highs, None
                if values is not None:
                    event.data_in.setSolution(values)

        def found(event: Any) -> None:
            with contextlib.suppress(Exception):
                objective = float(event.data_out.objective_function_value)
                values = np.array(event.data_out.mip_solution, dtype=float)
                with self._lock:
                    if objective < self._from_highs_objective:
                        self._from_highs, self._from_highs_objective = values, objective
                    # a plan HiGHS has need not be offered to it again
                    self._to_highs_objective = min(self._to_highs_objective, objective)

        h.cbMipUserSolution.subscribe(give)
        h.cbMipImprovingSolution.subscribe(found)


def _report_progress(h: Any, progress: Progress) -> None:
    """Subscribe ``progress`` to HiGHS's improving-solution and MIP-logging callbacks."""

    def finite(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    def report(primal: float, dual: float) -> None:
        # a display must never stop the solver: an exception would unwind through HiGHS's C++
        with contextlib.suppress(Exception):
            progress(finite(primal), finite(dual))

    def improving(event: Any) -> None:
        report(event.data_out.objective_function_value, event.data_out.mip_dual_bound)

    def logging(event: Any) -> None:
        report(event.data_out.mip_primal_bound, event.data_out.mip_dual_bound)

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipLogging.subscribe(logging)


def run(h: Any) -> bool:
    """Run a ``Highs`` object its caller built and keeps (an LP re-solved with new bounds) the
    way :func:`solve` runs its own: in a short-lived thread, so that the result does not depend
    on which thread asks, nor on what that thread solved before (:func:`_run_interruptible`).
    Returns whether Ctrl-C interrupted it."""
    return _run_interruptible(h)


def _run_interruptible(h: Any) -> bool:
    """Run HiGHS in a thread of its own; Ctrl-C (in the main thread) cancels the solve.

    **Why a thread per solve, on every thread.** HiGHS keeps its task scheduler per *thread*:
    the first solve in a thread sizes it by that solve's ``threads`` option, and a later solve
    in the same thread asking for another count fails at once (``Option 'threads' is set to 1
    but the scheduler has already been initialized to use 2 threads``, status ``kError``, no
    solution). Run straight in a batch worker or a ``threading.Thread``, the relaxation
    (``threads=None``) sized the worker's scheduler, and every fix-and-optimise sub-MILP
    (``threads=1``) then came back without a solution. A short-lived thread per solve gets a
    scheduler sized for that solve alone, shut down when it ends: a solve behaves the same
    whichever thread asks for it (highspy itself does this, with locks shared by every
    ``Highs`` of the process, hence our own thread).

    On the main thread, Ctrl-C cancels the solve instead of killing it: HiGHS stops at its next
    callback check and keeps its incumbent, so the caller can still return the best plan found
    (status ``interrupted``). Returns whether the run was interrupted. Raises
    :class:`~greenopt.errors.SolverError` when HiGHS reports an error instead of a status.
    """
    import highspy

    if threading.current_thread() is threading.main_thread():
        # before the run starts, so that Ctrl-C's cancelSolve() can stop it (elsewhere only a
        # Cancel token turns this on: each check is a call into Python, under the GIL)
        h.HandleUserInterrupt = True
    outcome: list[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(h.run())
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome.append(exc)
        finally:
            highspy.Highs.resetThreadScheduler(False)
            done.set()

    runner = threading.Thread(target=work, name="greenopt-highs", daemon=True)
    runner.start()
    interrupted = False
    # waited on with an Event, not Thread.join: a KeyboardInterrupt inside join(timeout) can
    # mark a running thread as stopped (CPython 3.11, bpo-45274), and the process would then
    # exit under a running HiGHS ('terminate called without an active exception')
    while True:
        try:
            while not done.wait(0.1):
                pass
            break
        except KeyboardInterrupt:
            # a second Ctrl-C while HiGHS winds down is absorbed: it is already stopping
            interrupted = True
            h.cancelSolve()
    runner.join()
    result = outcome[0] if outcome else None
    if isinstance(result, BaseException):
        raise result
    if result == highspy.HighsStatus.kError:
        from greenopt.errors import SolverError

        raise SolverError(f"HiGHS {highs_version()} failed to run (status kError): see its log")
    return interrupted


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


def polish(
    form: StandardForm, values: np.ndarray, options: Any, time_limit: float | None
) -> np.ndarray | None:
    """The best continuous part for the incumbent's binaries: an LP with them fixed.

    A solver stopped at a relative gap may leave slack that is cheap in the objective but not in
    the KPIs — a job short by seconds of work is a deadline miss. Given the binaries, the LP
    optimum removes it (and never costs more: the incumbent is one of its solutions).
    """
    if not np.any(form.integer):
        return None
    fixed = np.round(values[form.integer])
    lb, ub = form.col_lb.copy(), form.col_ub.copy()
    lb[form.integer] = fixed
    ub[form.integer] = fixed
    lp = replace(form, col_lb=lb, col_ub=ub)
    quiet = replace(options, verbose=False, log_file=None)
    res = solve(lp, None, quiet, time_limit, relax=True, log=False)
    if res.status != "optimal" or res.values is None:
        return None
    polished = res.values.copy()
    polished[form.integer] = fixed
    return polished
