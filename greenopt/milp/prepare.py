"""Steps 1–3 of the MILP (MODEL.md in ``greenopt/formulations``, §10): the start plan, the
relaxation (bound and candidate sites) and the model over those candidates — everything
:func:`greenopt.build_model` hands its caller before the model is solved.

The model is the matrix of :func:`~greenopt.formulations.build.build_matrix`, and, when it is
asked for (a caller who extends it, ``greenopt.build_model``, a solver other than HiGHS, or
``handoff="pyomo"``), its labelled Pyomo model
(:func:`~greenopt.formulations.pyomo_model.to_pyomo`).
Without it the same arrays go to HiGHS straight away: the labelled model compiles to exactly
those arrays when nobody changed it (tested), so building it only to compile it back would be
time taken from the search.

**Deterministic mode** (``deterministic=True``, HiGHS only): one solver thread unless
``threads`` says otherwise (:func:`run_options`), the start plan's passes not cut by the clock,
and the relaxation that would race the search in a second thread solved after it instead
(:class:`~greenopt.milp.relaxation.Deferred`) — the schedule relaxation for a count of rounds
(:data:`DET_SCHEDULE_ROUNDS`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from greenopt.errors import OptionsError, SolverError
from greenopt.formulations.build import build_matrix
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.pyomo_model import to_pyomo
from greenopt.formulations.relaxation import first_master_seconds
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import sites_used, start_vector
from greenopt.heuristics.guided import with_schedules
from greenopt.milp.candidates import (
    auto_candidates,
    best_by_score,
    binaries_estimate,
    candidate_pairs,
    lp_sites,
    reachable_columns,
)
from greenopt.milp.clock import Clock
from greenopt.milp.relaxation import (
    HUGE_COLS,
    PRESENCE_MAX_COLS,
    Background,
    Beside,
    Deferred,
    Relaxation,
    bound_with_dwell,
    solve_relaxation,
)
from greenopt.milp.schedules import (
    priced_bound,
    priced_schedules,
    priced_seconds,
    schedule_bound,
)
from greenopt.milp.search import check_cluster
from greenopt.milp.start import (
    guided_start,
    guided_start_cost,
    start_plan,
    wants_guided_start,
)
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs
from greenopt.solvers.pyomo_any import available_solvers

#: Branch-and-bound on the whole model up to this many binaries; fix-and-optimise above.
BB_MAX_BINARIES = 8_000
#: The ``candidates`` parameter's default: best-scoring sites per job on huge models.
TOP_SITES = 2
#: Beside fix-and-optimise, the bound comes from the schedule relaxation
#: (:func:`greenopt.milp.schedules.schedule_bound`: a true bound after every round, at least the
#: compact LP's given as its floor) up to this many reachable run-share columns; above (a pricing
#: round takes a minute at 2000 jobs × 20 sites × 96 slots) from the compact LP with presence rows.
SCHEDULES_MAX_COLS = 250_000
#: Above it, beside the search, the schedule relaxation is priced once at the duals of the
#: first restricted master's bound, and again at those of the column generation's at its end
#: (:func:`~greenopt.milp.schedules.priced_bound`: at least the bound whose duals it prices at),
#: each when its estimated time (:func:`~greenopt.milp.schedules.priced_seconds`) is at most this
#: share of the time left beside. A large share: a pass is worth more than the column
#: generation's rounds it displaces (1000 × 15 × 96 at 30 s on one thread: the pass at the first
#: master's duals, 4.6 s, 650.9 → 718.2, gap 23.5 → 15.6 %; at a quarter it did not fit).
PRICED_MAX_SHARE = 0.5
#: The column generation beside the search stops this many times the pass's estimated time
#: before the search's limit, so that the pass at its duals ends before the search does (it
#: is cancelled then). At 1× the estimate, 2000 × 20 × 96's pass (est. 17.7 s, 15–17 s
#: measured) lost that race in one of two 300 s runs (bound 1092.2 instead of 1105.0): the
#: search ends a polish (~4–5 s there) before its limit, and the pass shares two cores with it.
LATE_PASS_MARGIN = 1.5
#: Huge models (above :data:`~.relaxation.HUGE_COLS` reachable columns): one restricted master
#: of the relaxation before the search, for the LP-guided start, when its estimated time
#: (:func:`~greenopt.formulations.relaxation.first_master_seconds`) plus the guided greedy's
#: fits in :data:`HUGE_GUIDE_SHARE` of the time left. Measured (2 cores, load ~1.7): 1000×15×96,
#: 13.7 s, its optimum 750.0 against the LP's 734.4; the guided greedy from it 857.3 against the
#: plain 1035.5.
#: A large share: at this size the guided start is worth more than the search's time (1000×15×96
#: at 30 s on one thread: fix-and-optimise from the greedy's 1068.2 ended at ~960–972; the
#: guided start alone is 889.1, and the MILP from it ended at 852.6).
HUGE_GUIDE_SHARE = 0.8
#: Deterministic mode: rounds of the schedule relaxation after the search (a work budget in
#: place of the seconds it gets beside the search; each round is a master LP and a pricing
#: pass, both the same on every machine).
DET_SCHEDULE_ROUNDS = 30


@dataclass
class RelaxationStep:
    """Step 2's answer: the relaxation solved before the search (no bound when it is to run
    beside it instead), the sites the model keeps per job, and how to start the relaxation
    beside the search (``launch(presence_rows, clock)``; in deterministic mode it is deferred
    until after the search)."""

    relax: Relaxation
    keep: list[set[int]]  # per job, the sites the model keeps besides its origin
    presence: bool  # whether the bound LP already has the presence rows
    launch: Callable[[bool, Clock], Beside]
    beside_now: bool = False  # huge model: the relaxation runs beside the search from its start
    #: huge model: the restricted master for the guided start was solved, its greedy's time
    #: included in the check that it fits (the guided start does not check again)
    guide_paid: bool = False
    beside: Beside | None = None  # the relaxation already running beside (plan() only)


@dataclass
class Prepared:
    """The MILP after steps 1–3, ready to be searched (:func:`greenopt.milp.solve.solve`)."""

    scenario: Scenario
    options: PlanOptions  # the options it was built with
    start: Plan  # the greedy start plan: MIP start and fallback
    ix: IndexSets
    mx: Matrix
    whole: bool  # every reachable site kept (a bound of the model bounds the problem)
    v0: np.ndarray | None  # the start plan's column values (matrix order); None: outside it
    step: RelaxationStep | None  # HiGHS: the relaxation; other solvers: None
    relax: Relaxation | None = None  # other solvers on cut candidates: the bound's relaxation
    pyomo: Any = None  # the labelled Pyomo model, when it was built
    build_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def relaxation(self) -> Relaxation | None:
        """The relaxation solved before the search (``None``: none was)."""
        return self.step.relax if self.step is not None else self.relax


def check_solver(options: PlanOptions) -> None:
    """Raise :class:`~greenopt.errors.SolverError` when ``options.solver`` cannot be called,
    :class:`~greenopt.errors.OptionsError` when deterministic mode is asked of a solver it
    cannot bound by work, and a :class:`~greenopt.errors.ClusterError` naming a ``scheduler``
    address where no Dask scheduler answers (:func:`~greenopt.milp.search.check_cluster`) —
    before anything is planned."""
    if options.deterministic and options.solver != "highs":
        raise OptionsError(
            f"deterministic mode bounds HiGHS by work (node limits, a count of neighbourhoods); "
            f"solver {options.solver!r} gets no such budget here: use solver='highs', or plan "
            "without deterministic=True",
            "deterministic",
        )
    if options.solver != "highs" and options.solver not in available_solvers():
        raise SolverError(
            f"solver {options.solver!r} is not available; "
            f"available: {', '.join(available_solvers())}"
        )
    check_cluster(options)


def run_options(options: PlanOptions) -> PlanOptions:
    """The options a MILP run solves with: in deterministic mode one solver thread unless
    ``threads`` says otherwise (HiGHS's default is the machine's core count; one thread is the
    same everywhere)."""
    if options.deterministic and options.threads is None:
        return replace(options, threads=1)
    return options


def wants_pyomo(options: PlanOptions, asked: bool = False) -> bool:
    """Whether steps 1–3 build the labelled Pyomo model: ``asked`` (``build_model``), a caller's
    ``extend``, a solver other than HiGHS, or ``handoff="pyomo"``."""
    params = options.params
    needed = asked or params.get("extend") is not None
    if needed and params.get("handoff") == "direct":
        raise OptionsError(
            "handoff='direct' hands HiGHS the arrays without a Pyomo model, but the model is to "
            "be extended: leave handoff out (or use 'pyomo')",
            "handoff",
        )
    return needed or options.solver != "highs" or params.get("handoff") == "pyomo"


def prepare(
    scenario: Scenario,
    options: PlanOptions,
    clock: Clock,
    *,
    pyomo: bool = False,
    launch_now: bool = True,
    start: Plan | None = None,
) -> Prepared:
    """Steps 1–3; ``pyomo``: build the labelled Pyomo model whatever :func:`wants_pyomo` says.
    ``launch_now``: on huge models, start the relaxation beside the model's build already (a
    model built for later, by ``build_model``, starts it when it is solved). ``start``: the
    start plan when the caller has made it already (``plan()`` does, to check that the model
    can be built in the time left)."""
    labelled = wants_pyomo(options, pyomo)
    notes: list[str] = []
    if start is None:
        start = start_plan(scenario, options, clock)
    used = sites_used(scenario, start.assignments)
    if options.solver != "highs":
        return _prepare_other(scenario, options, clock, start, used, notes)
    step = relaxation_step(scenario, options, used, clock, notes, start)
    better = guided_start(
        scenario, options, step.relax.guide, start, None if step.guide_paid else clock, notes
    )
    step.relax.guide = None  # (J, S, T) floats, not needed again
    if better is not start:
        # the guided plan is the start: the model keeps its sites too, so that it is inside
        more = sites_used(scenario, better.assignments)
        start, used = better, [a | b for a, b in zip(used, more, strict=True)]
        step.keep = lp_sites(used, step.relax.work)
    if step.beside_now and launch_now:
        step.beside = step.launch(False, clock)
    t_build = time.perf_counter()
    bb_max = int(options.params.get("bb_max", BB_MAX_BINARIES))
    whole = binaries_estimate(scenario) <= bb_max  # small: every reachable site, a true bound
    ix, mx = build_matrix(
        scenario, options.objective, options.deadlines, keep=None if whole else step.keep
    )
    timings = {"matrix_s": time.perf_counter() - t_build}
    model = None
    if labelled:
        t = time.perf_counter()
        model = to_pyomo(ix, mx, scenario.name)
        timings["pyomo_s"] = time.perf_counter() - t
    v0 = start_vector(ix, mx, start.assignments)
    if v0 is None:
        notes.append("warm start: the start plan uses runs or moves outside the model")
    return Prepared(
        scenario=scenario,
        options=options,
        start=start,
        ix=ix,
        mx=mx,
        whole=whole,
        v0=v0,
        step=step,
        pyomo=model,
        build_s=time.perf_counter() - t_build,
        timings=timings,
        notes=notes,
    )


def relaxation_step(
    scenario: Scenario,
    options: PlanOptions,
    used: list[set[int]],
    clock: Clock,
    notes: list[str],
    start: Plan | None = None,
) -> RelaxationStep:
    """Solve the relaxation before the search (its sites become the candidates), or, on huge
    models, take the candidates from scores and the start plan and let the relaxation run
    beside the search. The bound beside fix-and-optimise (``launch(True, clock)``) is the
    schedule relaxation's up to :data:`SCHEDULES_MAX_COLS` reachable columns (from ``start``'s
    schedules, the compact bound as its floor), else the compact LP's with presence rows."""
    obj = options.objective
    n_reach = reachable_columns(scenario)
    top = int(options.params.get("candidates", TOP_SITES))
    pairs = candidate_pairs(scenario, obj, used, top=top)
    huge = n_reach > HUGE_COLS

    def launch(presence_rows: bool, search_clock: Clock) -> Beside:
        """The relaxation solved in a second thread, on one core, until the time is up — in
        deterministic mode after the search, on its thread (:class:`Deferred`; the schedule
        relaxation then by a count of rounds, :data:`DET_SCHEDULE_ROUNDS`)."""

        def work(cancel: highs.Cancel | None) -> Relaxation:
            limit = search_clock.left(reserve=True)
            if presence_rows and not huge and n_reach <= SCHEDULES_MAX_COLS:
                return schedules_beside(
                    scenario, options, start, relax.bound, limit, cancel, relax.duals
                )
            if not (huge and not presence_rows):
                return solve_relaxation(
                    scenario,
                    obj,
                    options.deadlines,
                    replace(options, threads=1),
                    presence_rows,
                    limit,
                    None,
                    cancel,
                )
            # huge: the schedule relaxation priced at the first restricted master's duals, then
            # column generation on from its columns, then priced at its duals — each pass when
            # it fits in PRICED_MAX_SHARE of the time left (in deterministic mode always), its
            # time kept back from the column generation's
            pass_s = priced_seconds(scenario)

            def fits(left: float | None) -> bool:
                return options.deterministic or left is None or pass_s <= PRICED_MAX_SHARE * left

            early, said = relax.priced, ""
            if early is not None:
                said = f"; at the first restricted master's duals {early:.6g} (before the search)"
            elif relax.duals is not None and fits(limit):
                early, said = priced_pass(scenario, options, relax.duals, cancel)
                said = f"; at the first restricted master's duals {said}" if said else ""
                limit = search_clock.left(reserve=True)
            last = fits(limit)
            if last and limit is not None and not options.deterministic:
                # the pass must end before the search does (it is cancelled then), and the
                # search ends before its limit by its last polish: a margin on the estimate
                limit = max(limit - LATE_PASS_MARGIN * pass_s, 1.0)
            res = solve_relaxation(
                scenario,
                obj,
                options.deadlines,
                replace(options, threads=1),
                False,
                limit,
                pairs,
                cancel,
                initial=relax.columns,  # on from the first restricted master, if there was one
            )
            late = None
            if last and res.duals is not None:
                late, more = priced_pass(scenario, options, res.duals, cancel)
                said += f"; at its duals {more}" if more else ""
            bounds = [b for b in (res.bound, early, late) if b is not None]
            if said:
                said = "; the schedule relaxation priced" + said.replace("; at", " at", 1)
            return replace(res, bound=max(bounds) if bounds else None, status=res.status + said)

        return Deferred(work) if options.deterministic else Background(work)

    if huge:
        # too large to solve before the MILP: candidates from the start plan and the sites'
        # scores, and the bound by column generation beside the search, on its own core
        keep = [set(np.flatnonzero(row).tolist()) for row in pairs]
        relax = Relaxation(None, None, 0.0, "solved beside the search", False)
        first = None
        if start is not None and wants_guided_start(scenario, options):
            first = first_master(scenario, options, pairs, start, clock, notes)
        relax = first or relax
        # presence=True: no second bound LP beside fix-and-optimise
        return RelaxationStep(
            relax, keep, True, launch, beside_now=True, guide_paid=first is not None
        )
    presence = bool(options.params.get("presence", n_reach <= PRESENCE_MAX_COLS))
    relax = solve_relaxation(
        scenario, obj, options.deadlines, options, presence, clock.share(0.3), pairs, guide=True
    )
    notes.append(
        f"relaxation LP ({'with' if presence else 'without'} presence rows): "
        f"{relax.status}, bound {relax.bound}, {relax.seconds:.2f} s"
    )
    return RelaxationStep(relax, lp_sites(used, relax.work), presence, launch)


def first_master(
    scenario: Scenario,
    options: PlanOptions,
    pairs: np.ndarray,
    start: Plan,
    clock: Clock,
    notes: list[str],
) -> Relaxation | None:
    """On a huge model, the relaxation's first restricted master (one round of column generation
    over ``pairs``' columns) for the guided start, when its estimated time and the guided
    greedy's fit in :data:`HUGE_GUIDE_SHARE` of the time left: its optimum steers the greedy,
    its Lagrangian bound is a first bound, and the column generation beside the search goes on
    from its columns (:attr:`Relaxation.columns`). Then, time allowing, the schedule relaxation
    priced once at its duals: each job's Lagrangian schedule widens the guidance
    (:func:`~greenopt.heuristics.guided.with_schedules`; 1000×15×96's guided start 889.1 →
    843.0) and the pass's bound (:attr:`Relaxation.priced`) is known before the search.
    ``None`` when skipped or not solved."""
    need = first_master_seconds(scenario, pairs) + guided_start_cost(scenario, start)
    if not clock.fits(need, HUGE_GUIDE_SHARE):
        notes.append(
            f"LP-guided start skipped: its first master LP and greedy, about {need:.1f} s, "
            f"more than {HUGE_GUIDE_SHARE:.0%} of the time left"
        )
        return None
    # a time limit only as a safety net (the estimate fitted; in deterministic mode the clock
    # must not decide)
    limit = None if options.deterministic else clock.share(HUGE_GUIDE_SHARE)
    relax = solve_relaxation(
        scenario,
        options.objective,
        options.deadlines,
        options,
        False,
        limit,
        pairs,
        guide=True,
        max_rounds=1,
    )
    notes.append(
        f"relaxation LP, first restricted master for the guided start: {relax.status}, bound "
        f"{relax.bound}, {relax.seconds:.2f} s; the rest beside the search"
    )
    if relax.guide is None:
        return None
    # each job's Lagrangian schedule at the master's prices: a second, wider support for the
    # guided start (the master's columns cover the sites they started from; the pass sees all),
    # when the pass and the second support's greedy runs fit; its bound is the search's first
    need = priced_seconds(scenario) + guided_start_cost(scenario, start)
    if relax.duals is not None and (options.deterministic or clock.fits(need, HUGE_GUIDE_SHARE)):
        t0 = time.perf_counter()
        got = priced_schedules(scenario, options.objective, options.deadlines, relax.duals)
        if got is not None:
            relax.lagrange = got
            relax.guide = with_schedules(relax.guide, got.schedules, got.bound)
            if got.bound is not None:
                relax.bound = max(got.bound, relax.bound or -math.inf)
            notes.append(
                f"the schedule relaxation priced at its duals: {len(got.schedules)} jobs' "
                f"Lagrangian schedules widen the guidance, bound {got.bound} "
                f"({time.perf_counter() - t0:.1f} s)"
            )
    return relax


def priced_pass(
    scenario: Scenario,
    options: PlanOptions,
    duals: dict[str, tuple[np.ndarray, np.ndarray]],
    cancel: highs.Cancel | None,
) -> tuple[float | None, str]:
    """The schedule relaxation's bound priced once at the relaxation's ``duals``
    (:func:`~.schedules.priced_bound`) and what to say of it; ``(None, "")`` when cancelled."""
    if cancel is not None and cancel.cancelled:
        return None, ""
    t0 = time.perf_counter()
    stop = None if cancel is None else (lambda: cancel.cancelled)
    priced = priced_bound(scenario, options.objective, options.deadlines, duals, stop)
    if priced is None:
        return None, ""
    return priced, f"{priced:.6g} ({time.perf_counter() - t0:.1f} s)"


def schedules_beside(
    scenario: Scenario,
    options: PlanOptions,
    start: Plan | None,
    floor: float | None,
    time_limit: float | None,
    cancel: Any,
    duals: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Relaxation:
    """The schedule relaxation's bound (no plan: ``integer=False``) as a :class:`Relaxation`:
    the best Lagrangian bound of its rounds, at least ``floor``, the compact LP's with its
    dwell rows (:func:`~.relaxation.bound_with_dwell`: the pricing does not see the rule) and
    its own priced at the compact LP's ``duals`` (:func:`~.schedules.priced_bound`: at least
    the compact bound, at once); stopped by ``cancel`` — in deterministic mode after
    :data:`DET_SCHEDULE_ROUNDS` rounds (``time_limit`` is then only the clock's safety net)."""
    t0 = time.perf_counter()
    said = ""
    if duals is not None:
        priced, said = priced_pass(scenario, options, duals, cancel)
        if priced is not None:
            floor = priced if floor is None else max(floor, priced)
            said = f", priced at the compact LP's duals {said}"
    # the compact LP with the dwell rows (a bound the pricing, blind to the rule, may not reach)
    seeing = bound_with_dwell(
        scenario, options.objective, options.deadlines, True, time_limit, cancel
    )
    if seeing is not None:
        floor = seeing if floor is None else max(floor, seeing)
    if time_limit is not None:
        time_limit = max(time_limit - (time.perf_counter() - t0), 1.0)
    rounds = {"max_rounds": DET_SCHEDULE_ROUNDS} if options.deterministic else {}
    res = schedule_bound(
        scenario,
        options.objective,
        options.deadlines,
        time_limit,
        start=start,
        integer=False,
        threads=None,
        seed=int(options.seed),
        floor=floor,
        cancel=cancel,
        **rounds,
    )
    st = res.stats
    own = st.get("lagrangian")
    return Relaxation(
        bound=res.bound,
        work=None,
        seconds=time.perf_counter() - t0,
        status=(
            f"schedule relaxation: {st['rounds']} rounds, {st.get('columns', 0)} schedules, "
            f"its own bound {own}, converged {st.get('converged', False)}"
            + (
                f", master by the IPM from round {st['ipm_from_round']}"
                if "ipm_from_round" in st
                else ""
            )
            + said
        ),
        presence=True,
    )


def _prepare_other(
    scenario: Scenario,
    options: PlanOptions,
    clock: Clock,
    start: Plan,
    used: list[set[int]],
    notes: list[str],
) -> Prepared:
    """Steps 1–3 for a solver other than HiGHS (no fix-and-optimise there): each job's best
    few sites, so that the model's move binaries stay within
    :data:`~greenopt.milp.candidates.AUTO_MOVE_BUDGET`; a cut model's optimum bounds nothing, so
    the relaxation over every reachable site is solved (by HiGHS, always installed) for the
    bound."""
    obj = options.objective
    candidates = auto_candidates(scenario)
    choose = None if candidates is None else best_by_score(scenario, obj, candidates, used)
    t0 = time.perf_counter()
    ix, mx = build_matrix(scenario, obj, options.deadlines, choose=choose)
    timings = {"matrix_s": time.perf_counter() - t0}
    t = time.perf_counter()
    model = to_pyomo(ix, mx, scenario.name)
    timings["pyomo_s"] = time.perf_counter() - t
    build_s = time.perf_counter() - t0
    relax = None
    if ix.restricted:
        presence = reachable_columns(scenario) <= PRESENCE_MAX_COLS
        relax = solve_relaxation(
            scenario, obj, options.deadlines, options, presence, clock.share(0.2)
        )
        notes.append(f"relaxation LP (HiGHS): {relax.status}, bound {relax.bound}")
        notes.append(f"candidate sites cut to origin + {candidates}: bound from the relaxation")
    return Prepared(
        scenario=scenario,
        options=options,
        start=start,
        ix=ix,
        mx=mx,
        whole=not ix.restricted,
        v0=start_vector(ix, mx, start.assignments),
        step=None,
        relax=relax,
        pyomo=model,
        build_s=build_s,
        timings=timings,
        notes=notes,
    )
