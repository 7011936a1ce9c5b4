"""The relaxation LP: a lower bound of every plan, and the sites it runs each job at.

The LP of :mod:`greenopt.formulations.relaxation` (MODEL.md there, §11) over every site a job's
state can reach is solved by HiGHS — by column generation (:mod:`greenopt.solvers.colgen`) above
:data:`COLGEN_MIN_COLS` columns, a valid bound after every round — either before the search or,
on large models, beside it in a second thread (:class:`Background`) — or, in deterministic mode,
after it on the same thread (:class:`Deferred`: two threads racing would make what each gets of
the clock and the cores decide the result).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from greenopt.formulations.dwell_relaxation import DWELL_ROWS
from greenopt.formulations.matrix import Matrix, row_positions
from greenopt.formulations.relaxation import build_relaxation
from greenopt.heuristics.guided import LpGuide, lp_guide
from greenopt.milp.candidates import reachable_columns
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.scenario import Scenario
from greenopt.solvers import highs, solver_faults
from greenopt.solvers.colgen import solve_by_columns

#: The relaxation gets the presence rows (a tighter bound, a larger LP) up to this many columns
#: when it must be solved before the MILP; above, they are solved beside fix-and-optimise.
PRESENCE_MAX_COLS = 40_000
#: The relaxation (without presence rows) is solved by column generation above this many
#: columns: 2.3 s instead of 6 s on 500×10×48.
COLGEN_MIN_COLS = 20_000
#: Above this many run-share columns the relaxation is solved beside the search, not before.
HUGE_COLS = 250_000
#: The relaxation LP with the dwell rows (MODEL.md in ``greenopt/formulations``, §11a) is
#: solved up to this many reachable run-share columns. Above, column generation does not converge
#: with them
#: (measured, 2 cores, loaded: 500×10×48, 131,000 columns: 238.36 in 4.5 s without, 187.98
#: after 30 s with — every ``loc`` column enters its first round), and the rule leaves the LP
#: bound there almost unchanged (100×5×24: 64.630 → 64.654).
DWELL_MAX_COLS = 40_000
#: The root-cut bound keeps the dwell rows only when they raise the relaxation LP's bound by
#: more than this share (:func:`binding_dwell_jobs`). Measured on 100×5×24 (2 cores, loaded,
#: ~28 s beside fix-and-optimise): the LP rises 64.630 → 64.654 (0.04 %) with them, and the root
#: bound fell from 65.04 to 64.95 with the binding jobs' rows (65.03 with every job's: its root
#: did not finish in 40 s), against 65.05 in 15 s without.
ROOT_DWELL_GAIN = 1e-3
#: The root-cut bound (:func:`root_bound`) runs beside the search up to this many reachable
#: run-share columns (measured, 2 cores, loaded: 100×5×24, 8,000 columns: 64.63 → 65.04 in
#: 19 s; 500×10×48, 131,000: its root LP alone did not end in 60 s).
ROOT_MAX_COLS = 40_000


@dataclass
class Relaxation:
    """The relaxation's answer: its lower bound and each job's LP work per site."""

    bound: float | None
    work: np.ndarray | None  # (J, S) slot-shares of LP work, None when it did not solve
    seconds: float
    status: str
    presence: bool
    #: its optimum as guidance for the greedy (run shares, capacity duals as prices): the
    #: LP-guided start (:func:`greenopt.milp.start.guided_start`); only when solved before the
    #: search, to optimality or (``max_rounds``) as far as its restricted master
    guide: LpGuide | None = None
    #: column generation's columns at its end (a mask over the relaxation's columns without
    #: presence and dwell rows): a later run continues from them (``initial=``)
    columns: np.ndarray | None = None
    #: row duals per row block of the relaxation: the LP optimum's, or column generation's of
    #: its best bound (else of its last restricted master) — where the schedule relaxation is
    #: priced once (:func:`~greenopt.milp.schedules.priced_bound`)
    duals: dict[str, tuple[np.ndarray, np.ndarray]] | None = None  # name: (keys, duals)
    #: the schedule relaxation priced at ``duals`` before the search, when that pass was made
    #: (:class:`~greenopt.milp.schedules.LagrangianView`, the first master's guidance):
    #: fix-and-optimise draws neighbourhoods from it
    #: (:meth:`~greenopt.solvers.lns.Neighbourhoods.lagrangian`)
    lagrange: Any = None

    @property
    def priced(self) -> float | None:
        """The bound of the pass made before the search (``None``: no such pass)."""
        return None if self.lagrange is None else self.lagrange.bound


def solve_relaxation(
    scenario: Scenario,
    objective: Objective,
    deadlines: str,
    options: PlanOptions,
    presence: bool,
    time_limit: float | None,
    pairs: np.ndarray | None = None,
    cancel: highs.Cancel | None = None,
    guide: bool = False,
    max_rounds: int | None = None,
    initial: np.ndarray | None = None,
) -> Relaxation:
    """Solve the LP of :mod:`greenopt.formulations.relaxation` (its optimum bounds every plan),
    without its dwell rows: its work per site picks the MILP's candidate sites, and it runs
    before the search. The LP with them is solved beside the search, for the bound
    (:func:`bound_with_dwell`, in :func:`root_bound` and the schedule bound's floor).

    Above :data:`COLGEN_MIN_COLS` columns (and without the presence rows) it is solved by column
    generation (:mod:`greenopt.solvers.colgen`) from the job-site ``pairs`` ((J, S) bool: e.g. each
    job's origin and the sites of a start plan): a valid bound after every round, the LP
    optimum once converged. ``guide``: keep the optimum as guidance for the greedy
    (:attr:`Relaxation.guide`). ``max_rounds``: at most that many rounds of column generation —
    its last restricted optimum is then the guidance, converged or not (a point of the LP
    close to its optimum: 1000×15×96's first round is 2.4 % above it). ``initial``: the column
    mask to start from instead of ``pairs``' (:attr:`Relaxation.columns` of an earlier run).
    """
    t0 = time.perf_counter()
    want, guide = guide, None
    ix, mx = build_relaxation(scenario, objective, deadlines, presence=presence, dwell=False)
    form = highs.from_matrix(mx)
    xb = mx.cols["x"]
    given = initial is not None and len(initial) == mx.n_cols
    if (pairs is not None or given) and not presence and mx.n_cols > COLGEN_MIN_COLS:
        if not given:
            initial = np.ones(mx.n_cols, dtype=bool)
            for name in ("x", "arr"):
                block = mx.cols[name]
                if block.n:
                    cols = block.cols(np.arange(block.n))
                    initial[cols] = pairs[block.keys[:, 0], block.keys[:, 1]]
        work_rows = row_positions(mx, "work")
        with solver_faults("highs"):
            cg = solve_by_columns(
                form,
                initial,
                time_limit=time_limit,
                threads=options.threads,
                kept_rows=work_rows,
                cancel=cancel,
                max_rounds=max_rounds,
                by_work=options.deterministic,
            )
        work = guide = None
        if cg.values is not None:
            work = np.zeros((ix.J, ix.S))
            np.add.at(work, (ix.xj, ix.xs), cg.values[xb.cols(np.arange(xb.n))])
        if cg.converged:
            status = "optimal"
        elif max_rounds is not None and cg.rounds >= max_rounds:
            status = "restricted master"  # stopped by its rounds, as asked
        else:
            status = "time_limit" if cg.bound is not None else "none"
        status = f"{status} (column generation: {cg.rounds} rounds, {cg.columns} columns)"
        if want and cg.values is not None and (cg.converged or max_rounds is not None):
            guide = lp_guide(
                ix, mx, cg.values, cg.row_duals, cg.bound, time.perf_counter() - t0, status
            )
        y = cg.bound_duals if cg.bound_duals is not None else cg.row_duals
        duals = None if y is None else _by_block(mx, y)
        return Relaxation(
            bound=cg.bound,
            work=work,
            seconds=time.perf_counter() - t0,
            status=status,
            presence=presence,
            guide=guide,
            columns=cg.inside,
            duals=duals,
        )
    # interior point beats simplex by ~3× on these degenerate transport-like LPs once large
    lp_options = {"solver": "ipm"} if mx.n_cols > 20_000 else {}
    quiet = replace(options, verbose=False, log_file=None)
    with solver_faults("highs"):
        res = highs.solve(
            form,
            None,
            quiet,
            time_limit,
            relax=True,
            log=False,
            highs_options=lp_options,
            cancel=cancel,
            duals=want,
        )
    work = guide = duals = None
    bound, status = None, res.status
    if res.values is not None and res.status == "optimal":
        work = np.zeros((ix.J, ix.S))
        np.add.at(work, (ix.xj, ix.xs), res.values[xb.cols(np.arange(xb.n))])
        bound = res.bound
        if want:
            seconds = time.perf_counter() - t0
            guide = lp_guide(ix, mx, res.values, res.row_duals, bound, seconds, status)
        if res.row_duals is not None and len(res.row_duals):
            duals = _by_block(mx, res.row_duals)
    return Relaxation(
        bound=bound,
        work=work,
        seconds=time.perf_counter() - t0,
        status=status,
        presence=presence,
        guide=guide,
        duals=duals,
    )


def _by_block(mx: Matrix, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Row duals ``y`` per row block of ``mx``: ``{name: (keys, duals)}``."""
    return {name: (block.keys, y[row_positions(mx, name)]) for name, block in mx.rows.items()}


def bound_with_dwell(
    scenario: Scenario,
    objective: Objective,
    deadlines: str,
    presence: bool,
    time_limit: float | None,
    cancel: highs.Cancel | None = None,
) -> float | None:
    """The relaxation LP's bound with its dwell rows (MODEL.md in ``greenopt/formulations``,
    §11a), on models of up to :data:`DWELL_MAX_COLS` reachable run-share columns; ``None``
    when the rule is off, binds no job, the model is larger or the LP does not solve in
    ``time_limit``. Solved beside the search, not before it: on 100×5×24 the rows raise the
    bound by 0.04 % (the root-cut bound is higher) and the LP with them takes 1.1 s more than
    without (loaded), seconds the search needs — HiGHS's sub-MIP heuristic finds its last plan
    about 2 s before the time limit there — and its sites differ (2,325 move binaries instead
    of 2,411), so the candidate sites stay those of the LP without them."""
    if scenario.migration_alpha is None or reachable_columns(scenario) > DWELL_MAX_COLS:
        return None
    if time_limit is not None and time_limit <= 0.1:
        return None
    _, mx = build_relaxation(scenario, objective, deadlines, presence=presence)
    if "rho" not in mx.cols:
        return None
    with solver_faults("highs"):
        res = highs.solve(
            highs.from_matrix(mx),
            None,
            PlanOptions(threads=1),
            time_limit,
            relax=True,
            log=False,
            cancel=cancel,
        )
    return res.bound if res.status == "optimal" else None


def root_bound(
    scenario: Scenario,
    objective: Objective,
    deadlines: str,
    time_limit: float | None,
    cancel: highs.Cancel | None = None,
) -> Relaxation:
    """A bound that sees across jobs: the relaxation with presence rows (and the dwell rows of
    its §11a where they raise its LP bound: :func:`binding_dwell_jobs`), its arrivals ``arr``,
    ``stay`` and ``fin`` integral (as they are in every plan, so it is still a relaxation),
    solved by HiGHS at its root node only — the LP bound lifted by HiGHS's cuts (flow covers,
    MIR, ...) on the energy and capacity rows with those binaries. HiGHS's dual bound is valid
    whenever it stops (time limit, ``cancel``); one thread."""
    t0 = time.perf_counter()
    _, mx = build_relaxation(scenario, objective, deadlines, presence=True)
    lp_bound = None  # the LP with every job's dwell rows: the bound when the root's is lower
    if "rho" in mx.cols:
        _, blind = build_relaxation(scenario, objective, deadlines, presence=True, dwell=False)
        jobs, lp_bound = binding_dwell_jobs(mx, blind, time_limit, cancel)
        if len(jobs):
            _, mx = build_relaxation(scenario, objective, deadlines, presence=True, dwell=jobs)
        else:
            mx = blind
    if time_limit is not None:
        time_limit = max(time_limit - (time.perf_counter() - t0), 1.0)
    for name in ("arr", "stay", "fin"):
        if name in mx.cols:
            mx.cols[name].integer = True
    form = highs.from_matrix(mx)
    options = PlanOptions(threads=1, mip_gap=0.0)
    with solver_faults("highs"):
        res = highs.solve(
            form,
            None,
            options,
            time_limit,
            log=False,
            highs_options={"mip_max_nodes": 1},
            cancel=cancel,
        )
    bounds = [b for b in (res.bound, lp_bound) if b is not None]
    status = f"root node with integral arrivals: {res.status}"
    if lp_bound is not None:
        status += f"; the LP with the dwell rows {lp_bound:.6g}"
    return Relaxation(
        bound=max(bounds) if bounds else None,
        work=None,
        seconds=time.perf_counter() - t0,
        status=status,
        presence=True,
    )


def binding_dwell_jobs(
    mx: Matrix, blind: Matrix, time_limit: float | None, cancel: highs.Cancel | None = None
) -> tuple[np.ndarray, float | None]:
    """The jobs whose dwell rows (MODEL.md in ``greenopt/formulations``, §11a) the root-cut
    bound keeps: those whose rows carry a dual at the optimum of the relaxation LP ``mx`` — and
    none when the rows raise that LP's bound over ``blind`` (the same LP without them) by less
    than :data:`ROOT_DWELL_GAIN` (or either LP did not solve). Any subset keeps it a
    relaxation; the rows cost the root node time that its cuts would use. Also the LP bound of
    ``mx`` (``None`` when it did not solve), a bound in its own right."""
    t0 = time.perf_counter()
    res = []
    for m, duals in ((mx, True), (blind, False)):
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.1)
        with solver_faults("highs"):
            res.append(
                highs.solve(
                    highs.from_matrix(m),
                    None,
                    PlanOptions(threads=1),
                    left,
                    relax=True,
                    log=False,
                    duals=duals,
                    cancel=cancel,
                )
            )
    lp, lp_blind = res
    none = np.zeros(0, dtype=np.int64)
    if lp.status != "optimal" or lp_blind.status != "optimal" or lp.row_duals is None:
        return none, None
    if lp.objective - lp_blind.objective <= ROOT_DWELL_GAIN * max(1.0, abs(lp_blind.objective)):
        return none, lp.bound
    jobs = [none]
    for name in DWELL_ROWS:
        block = mx.rows.get(name)
        if block is None:
            continue
        hit = np.abs(lp.row_duals[row_positions(mx, name)]) > 1e-9
        jobs.append(block.keys[hit, block.key_names.index("job")])
    return np.unique(np.concatenate(jobs)), lp.bound


class Background:
    """Run ``work(cancel)`` in a thread (HiGHS releases the GIL while it solves)."""

    #: it runs while the search does (the search's polish is skipped: time is up by then)
    racing = True

    def __init__(self, work: Callable[[highs.Cancel], Any]) -> None:
        self._out: list[Any] = []
        self._cancel = highs.Cancel()
        self._thread = threading.Thread(
            target=lambda: self._out.append(work(self._cancel)), daemon=True
        )
        self._thread.start()

    def result(self, wait: bool, timeout: float | None = None) -> Any:
        """The result, waiting for it when ``wait`` (at most ``timeout`` seconds: the work's own
        time limit is checked by HiGHS only between iterations — 2000×20×96's bound LP ended
        4.5–5 s after the search and the 30 s call at 31.5 s); otherwise, or after the
        timeout, HiGHS is stopped first (a solve left running would outlive the plan, and abort
        the process at exit). ``None`` if the work did not finish."""
        if wait and timeout is not None:
            self._thread.join(max(timeout, 0.0))
        if (not wait or timeout is not None) and self._thread.is_alive():
            self._cancel.cancel()
        self._thread.join()
        return self._out[0] if self._out else None


class Deferred:
    """The same ``work(cancel)`` as :class:`Background`, run on the calling thread when its
    result is asked for, after the search (deterministic mode)."""

    racing = False

    def __init__(self, work: Callable[[highs.Cancel | None], Any]) -> None:
        self._work = work

    def result(self, wait: bool, timeout: float | None = None) -> Any:
        """The result, computed now; ``None`` when ``wait`` is false (the search ran out of time
        or was interrupted: nothing more is started). ``timeout`` is not used: in
        deterministic mode work, not the clock, decides (the work's own limit is its safety
        net)."""
        del timeout
        return self._work(None) if wait else None


#: A relaxation beside the search: racing it in a thread, or deferred until after it.
Beside = Background | Deferred
