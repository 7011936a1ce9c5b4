"""Steps 4–5 of the MILP (MODEL.md in ``greenopt/formulations``, §10): hand the model to the
solver, search, read the plan back, and settle bound, gap and status.

The model comes from steps 1–3 (:mod:`.prepare`), perhaps changed by its caller since
(:mod:`.extension` says what that changes here). The hand-off is
:func:`~greenopt.formulations.pyomo_model.compile_model` when the labelled Pyomo model was built
(exactly that model, with the caller's changes), else the arrays themselves
(:func:`~greenopt.solvers.highs.from_matrix`) — the same standard form when nothing was changed.

* **Search**: up to ``bb_max`` binaries (or without a start plan) HiGHS runs branch-and-bound
  on the whole model; above, fix-and-optimise (:func:`~.search.fix_and_optimise_search`), the
  tighter bound LP beside it when the first relaxation lacked the presence rows. In
  deterministic mode work bounds the search (node limits, a count of neighbourhoods:
  :func:`~.search.bb_nodes`, :func:`~.search.work_budget`) and the bound LP is solved after it
  (:class:`~.relaxation.Deferred`); a plan the time limit (a safety net there) cut says so.
* **Bound**: the best true lower bound — the relaxation's, HiGHS's over a model with every
  reachable site and move, the relaxation's beside the search.
* **Polish and read back**: an LP with the binaries fixed, then run shares read back, tidied
  (:mod:`.tidy`: slivers of work under 5 minutes fixed within 0.01 % of the objective; on a
  model its caller changed, by re-solving that model), scored by the evaluator, the better of
  that plan and the start plan returned, with bound, gap and status settled in :mod:`.outcome`.

Solvers other than HiGHS get the labelled model through Pyomo (:mod:`.other`). Only the solver's
own exceptions become :class:`~greenopt.errors.SolverError`; a model the solver proves infeasible
raises :class:`~greenopt.errors.InfeasibleError` (hard deadlines: naming the jobs,
:mod:`.diagnose`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from greenopt.errors import InfeasibleError, SolverError
from greenopt.evaluate import evaluate
from greenopt.formulations.pyomo_model import Changes, Compiled, compile_model
from greenopt.formulations.solution import read_assignments
from greenopt.milp.candidates import reachable_columns
from greenopt.milp.clock import MATRIX_S_PER_COL, Clock, budget_note, milp_clock
from greenopt.milp.diagnose import explain_hard
from greenopt.milp.extension import breaks, shifted, start_values
from greenopt.milp.other import run_other
from greenopt.milp.outcome import finish
from greenopt.milp.prepare import BB_MAX_BINARIES, Prepared, prepare, run_options
from greenopt.milp.relaxation import ROOT_MAX_COLS, Background, Beside, Deferred, root_bound
from greenopt.milp.search import (
    Search,
    bound_with_every_move,
    fix_and_optimise_search,
    lns_first_neighbourhoods,
    lns_first_share,
    race_search,
    whole_model_search,
)
from greenopt.milp.tidy import TidyModel, tidy_read_back
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs, solver_faults
from greenopt.solvers.highs import SolveResult
from greenopt.validate import validate

log = logging.getLogger("greenopt")


def plan_soft(scenario: Scenario, options: PlanOptions) -> Plan:
    """Steps 1–5 with the options as given (the diagnosis of hard deadlines plans soft ones)."""
    options = run_options(options)
    clock = milp_clock(options)
    return solve(prepare(scenario, options, clock), options, clock)


def hand_off(prep: Prepared, options: PlanOptions) -> tuple[Compiled, dict[str, float]]:
    """The model in standard form (see the module docstring) and the hand-off's timings."""
    t = time.perf_counter()
    if prep.pyomo is not None:
        compiled = compile_model(prep.pyomo)
    else:
        form = highs.from_matrix(prep.mx)
        compiled = Compiled(form, form.c, form.offset, np.zeros(0, dtype=np.int64), Changes())
    timings = {"compile_s": time.perf_counter() - t}
    if options.params.get("measure_direct"):
        # the benchmark's reference: the same arrays straight into highspy, no Pyomo
        with solver_faults("highs"):
            timings["direct_passmodel_s"] = highs.pass_model_seconds(highs.from_matrix(prep.mx))
            timings["pyomo_passmodel_s"] = highs.pass_model_seconds(compiled.form)
    return compiled, timings


@dataclass
class _Start:
    """The start plan as the changed model sees it: its column values (compiled order;
    ``None``: no MIP start) and whether it may be returned (it obeys the model)."""

    values: np.ndarray | None
    eligible: bool


def _start(prep: Prepared, compiled: Compiled, options: PlanOptions, clock: Clock) -> _Start:
    if not compiled.changes.any:
        v0 = None if prep.v0 is None else compiled.form.from_matrix_order(prep.v0)
        return _Start(v0, True)
    v0 = start_values(compiled, prep.v0, options, clock.share(0.1))
    return _Start(v0, v0 is not None)


def solve(prep: Prepared, options: PlanOptions, clock: Clock) -> Plan:
    """Steps 4–5 on the prepared (perhaps changed) model, with ``options`` (its objective and
    deadlines are the model's); ``clock`` bounds the whole call (:mod:`.clock`)."""
    options = run_options(options)
    notes = [budget_note(options, clock), *prep.notes]
    clock.expect_columns(prep.mx.n_cols)  # the reserve for reading back a model this size
    compiled, hand_timings = hand_off(prep, options)
    changes = compiled.changes
    if changes.any:
        notes.append("the model was changed: " + "; ".join(changes.notes))
    timings = {**prep.timings, **hand_timings}
    build_s = prep.build_s + hand_timings["compile_s"]
    start = _start(prep, compiled, options, clock)
    if changes.any and not start.eligible:
        notes.append(
            "the start plan breaks the model's changes: it is neither MIP start nor fallback"
        )
    if options.solver != "highs":
        res, values, bound = run_other(prep, options, compiled, start.values, clock)
        if res.status == "infeasible":
            return _infeasible(prep, options, compiled, res)
        status, interrupted, solver = res.status, res.interrupted, res.solver
        return _read_back(
            prep,
            options,
            compiled,
            notes,
            start,
            timings,
            values,
            status,
            bound,
            interrupted,
            res.solve_s,
            solver,
            res.version,
            build_s=build_s,
            clock=clock,
        )
    shift = compiled.least_objective_shift() if changes.objective_changed else 0.0
    search, beside = _search(prep, options, compiled, start.values, clock, notes, shift)
    if search.infeasible is not None:
        if beside is not None:
            beside.result(wait=False)
        return _infeasible(prep, options, compiled, search.infeasible)
    if options.deterministic and search.ran_out:
        notes.append(
            "the time limit stopped the search before its work budget: this plan depends on "
            "the clock and is not repeatable (raise time_limit, or lower the work budget)"
        )
    bound = _bound(prep, search, beside, notes, shift, clock.left(reserve=True))
    racing = beside is not None and beside.racing
    values = _polish(compiled, search, options, not racing, clock, notes)
    plan = _read_back(
        prep,
        options,
        compiled,
        notes,
        start,
        timings,
        values,
        search.status,
        bound,
        search.interrupted,
        search.solve_s,
        "highs",
        highs.highs_version(),
        build_s=build_s,
        clock=clock,
    )
    plan.start_accepted = search.start_accepted
    plan.history = list(search.history)
    return plan


# -- 4. search ------------------------------------------------------------------------------------
def _search(
    prep: Prepared,
    options: PlanOptions,
    compiled: Compiled,
    v0: np.ndarray | None,
    clock: Clock,
    notes: list[str],
    shift: float,
) -> tuple[Search, Beside | None]:
    """Branch-and-bound up to ``bb_max`` binaries (or without a start plan), else
    fix-and-optimise with the tighter bound LP beside it when the first one lacked its rows.
    Also returns the relaxation running beside the search (or deferred until after it), if
    one is."""
    ix, mx, form, step = prep.ix, prep.mx, compiled.form, prep.step
    beside = None
    if step is not None:
        beside, step.beside = step.beside, None  # consumed by this solve
        if beside is None and step.beside_now:
            beside = step.launch(False, clock)
    bb_max = int(options.params.get("bb_max", BB_MAX_BINARIES))
    n_integer = int(np.sum(form.integer))
    relax_bound = None if prep.relaxation is None else prep.relaxation.bound
    target = shifted(relax_bound, shift)
    if target is not None:
        target += options.mip_gap * abs(target)
    report = options.params.get("progress")

    def improving(objective: float) -> None:
        if report is not None:
            report(clock.elapsed(), objective, relax_bound)

    if n_integer <= bb_max or v0 is None:
        first = None
        share = lns_first_share(options, clock, v0, ix.J)
        count = lns_first_neighbourhoods(options, v0, ix.J)
        if share and race_first(options):
            # fix-and-optimise and branch-and-bound at once, one core each, trading plans
            limit = clock.left(reserve=True)
            if prep.whole and ix.restricted and limit is not None:
                limit *= 0.7  # the rest for the bound with every move (below)
            search = race_search(
                ix,
                mx,
                form,
                v0,
                options,
                clock,
                limit,
                target,
                notes,
                improving,
                live=_live(report, clock),
            )
            return _every_move(prep, options, form, search, clock, notes, shift), beside
        if share or count:
            # fix-and-optimise first (its plans come faster than branch-and-bound's), then
            # branch-and-bound from its plan; beside it, on the other core, the root-cut bound
            # (the restricted model's own bound bounds nothing). Its budget: a share of the
            # seconds left, or in deterministic mode a count of neighbourhoods (work)
            seconds = share * (clock.left(reserve=True) or 0.0) if share else None
            if beside is None and ix.restricted and prep.step is not None:
                beside = root_beside(prep, options, seconds, clock)
            first = fix_and_optimise_search(
                ix,
                mx,
                form,
                v0,
                options,
                clock,
                target,
                notes,
                improving,
                budget=seconds,
                neighbourhoods=count or None,
            )
            if first.interrupted:
                return first, beside
            if first.values is not None and _better(form, first.values, v0):
                v0 = first.values
            else:
                first = None  # nothing better than the start plan: branch-and-bound alone
        limit = clock.left(reserve=True)
        if prep.whole and ix.restricted and limit is not None:
            limit *= 0.7  # the rest for the bound with every move (below)
        live = None
        if report is not None:

            def live(primal: float | None, dual: float | None) -> None:
                if primal is not None:
                    report(clock.elapsed(), primal, dual)

        search = whole_model_search(form, v0, options, limit, notes, n_integer, progress=live)
        if search.infeasible is not None:
            return search, beside
        if first is not None:
            search.history = list(first.history)
            search.solve_s += first.solve_s
            if search.values is None or _better(form, v0, search.values):
                # HiGHS kept no better plan than fix-and-optimise's: its plan, and its status
                # when HiGHS had none ('no_solution' is no plan's status)
                if search.values is None and not search.ran_out:
                    search.status = first.status
                search.values = v0
        return _every_move(prep, options, form, search, clock, notes, shift), beside
    if step is not None and not step.presence and beside is None:
        # the tighter bound LP runs beside fix-and-optimise, each on one core (after it, in
        # deterministic mode: two threads racing would make the plan depend on timing)
        beside = step.launch(True, clock)
    return (
        fix_and_optimise_search(
            ix,
            mx,
            form,
            v0,
            options,
            clock,
            target,
            notes,
            progress=None
            if report is None
            else lambda objective: report(clock.elapsed(), objective, relax_bound),
            lagrange=None if step is None else step.relax.lagrange,
        ),
        beside,
    )


def race_first(options: PlanOptions) -> bool:
    """Whether fix-and-optimise and branch-and-bound run at once (``race``, default on) rather
    than one after the other: on the clock only (two threads racing make the plan depend on
    timing) and with two threads or more (one each)."""
    threads = options.threads
    return (
        bool(options.params.get("race", True))
        and not options.deterministic
        and (threads is None or threads >= 2)
    )


def _live(report: Any, clock: Clock) -> highs.Progress | None:
    if report is None:
        return None

    def live(primal: float | None, dual: float | None) -> None:
        if primal is not None:
            report(clock.elapsed(), primal, dual)

    return live


def _every_move(
    prep: Prepared,
    options: PlanOptions,
    form: highs.StandardForm,
    search: Search,
    clock: Clock,
    notes: list[str],
    shift: float,
) -> Search:
    """The search's bound as a bound of every plan: HiGHS's over a model that left moves out
    bounds nothing; the model with every move is solved for one (when it fits the time)."""
    ix, mx = prep.ix, prep.mx
    if ix.restricted:
        search.bound = None  # the restricted model's bound bounds nothing
        # the model with every move is built before its solve can be stopped: only if
        # that build fits in half the time left
        room = clock.fits(MATRIX_S_PER_COL * 1.5 * mx.n_cols, 0.5)
        if prep.whole and search.values is not None and not search.interrupted and room:
            # only moves a job's slack cannot absorb were left out: the model with them
            # too gives a bound that holds for every plan
            search.bound = shifted(
                bound_with_every_move(
                    prep.scenario,
                    options.objective,
                    options,
                    ix,
                    mx,
                    form,
                    search.values,
                    clock.left(reserve=True),
                    notes,
                ),
                shift,
            )
    return search


def _better(form: highs.StandardForm, v: np.ndarray, than: np.ndarray) -> bool:
    """Whether column values ``v`` are strictly better than ``than`` (beyond solver noise)."""
    a, b = form.objective(v), form.objective(than)
    return a < b - 1e-9 * max(1.0, abs(b))


def root_beside(
    prep: Prepared, options: PlanOptions, seconds: float | None, clock: Clock
) -> Beside | None:
    """:func:`~.relaxation.root_bound` in a second thread for ``seconds``, on models of at most
    :data:`~.relaxation.ROOT_MAX_COLS` reachable run-share columns (else ``None``); in
    deterministic mode after the search, on its thread (:class:`~.relaxation.Deferred`: HiGHS's
    root node is a work limit, its time limit only the clock's safety net)."""
    if reachable_columns(prep.scenario) > ROOT_MAX_COLS:
        return None
    sc, obj, deadlines = prep.scenario, options.objective, options.deadlines
    if options.deterministic:
        return Deferred(
            lambda cancel: root_bound(sc, obj, deadlines, clock.left(reserve=True), cancel)
        )
    return Background(lambda cancel: root_bound(sc, obj, deadlines, seconds, cancel))


def _bound(
    prep: Prepared,
    search: Search,
    beside: Beside | None,
    notes: list[str],
    shift: float,
    wait_s: float | None = None,
) -> float | None:
    """The best true lower bound: the relaxation's, the search's over a model with every
    reachable site and move, and the relaxation's beside the search (stopped now if the time
    ran out or Ctrl-C came, else waited for, at most ``wait_s`` seconds; in deterministic mode
    solved now, after the search, on this thread). Bounds of MODEL.md's objective are
    ``shift``ed to bound a changed objective (:mod:`.extension`)."""
    relax_bound = None if prep.relaxation is None else prep.relaxation.bound
    bounds = [b for b in (shifted(relax_bound, shift), search.bound) if b is not None]
    if beside is not None:
        where = "beside" if beside.racing else "after"
        late = beside.result(wait=not search.ran_out and not search.interrupted, timeout=wait_s)
        if late is not None and late.bound is not None:
            if shifted(late.bound, shift) is not None:
                bounds.append(shifted(late.bound, shift))
            notes.append(
                f"bound {where} the search ({'with' if late.presence else 'without'} presence "
                f"rows): {late.status}, bound {late.bound:.6g}"
            )
        elif beside.racing or not search.ran_out:
            notes.append(f"the relaxation {where} the search did not finish: no bound")
        else:
            notes.append("the relaxation after the search was not solved (no time left)")
    return max(bounds) if bounds else None


def _polish(
    compiled: Compiled,
    search: Search,
    options: PlanOptions,
    nothing_beside: bool,
    clock: Clock,
    notes: list[str],
) -> np.ndarray | None:
    """After branch-and-bound, an LP with the binaries fixed removes slack a relative gap leaves
    (fix-and-optimise polishes as it goes; with a relaxation beside the search, time is up)."""
    values = search.values
    if values is None or search.interrupted or not nothing_beside or search.fix_and_optimise:
        return values
    form = compiled.form
    left = clock.left()
    with solver_faults("highs"):
        better = highs.polish(form, values, options, None if left is None else 0.5 * left)
    if better is not None and form.objective(better) < form.objective(values) - 1e-9:
        notes.append(
            f"LP polish with the binaries fixed: {form.objective(values):.6g} → "
            f"{form.objective(better):.6g}"
        )
        values = better
    return values


# -- 5. read back ---------------------------------------------------------------------------------
def _valid_or_none(scenario: Scenario, found: Plan, notes: list[str]) -> Plan | None:
    """``found`` if it passes :func:`~greenopt.validate.validate`, else ``None`` with a note and a
    warning: the start plan is returned instead. A read-back that breaks MODEL.md is a bug (a
    share under the solver's tolerance read as a pause, say), but the caller gets a valid plan
    and the note names the rule — it is never silent."""
    violations = validate(scenario, found)
    if not violations:
        return found
    shown = "; ".join(str(v) for v in violations[:2])
    notes.append(f"the plan read back breaks MODEL.md ({shown}); the start plan is returned")
    log.warning("milp: the plan read back breaks MODEL.md (%s); the start plan is returned", shown)
    return None


def _read_back(
    prep: Prepared,
    options: PlanOptions,
    compiled: Compiled,
    notes: list[str],
    start: _Start,
    timings: dict[str, float],
    values: np.ndarray | None,
    status: str,
    bound: float | None,
    interrupted: bool,
    solve_s: float,
    solver: str,
    version: str,
    *,
    build_s: float,
    clock: Clock,
) -> Plan:
    """The plan of ``values`` (compiled order), tidied (:mod:`.tidy`), if it obeys the model and
    is no worse than the start plan, else the start plan (when it may be returned); scored, with
    bound, gap and status settled (:func:`~.outcome.finish`)."""
    scenario, ix, mx, form = prep.scenario, prep.ix, prep.mx, compiled.form
    changes = compiled.changes
    found = None
    tidy_objective = None  # the tidy LP's objective of the plan, when it changed it
    if values is not None:
        assignments = read_assignments(ix, mx, form.to_matrix_order(values, mx.n_cols))
        tidied = tidy_read_back(
            scenario,
            assignments,
            options.objective,
            options,
            clock.left_before_finish(),
            notes,
            prep.start if start.eligible else None,
            _tidy_model(prep, compiled, start, values) if changes.any else None,
        )
        if tidied.changed:
            assignments = tidied.assignments
            if changes.any:  # re-solved on the compiled model: its values are the plan's
                assert tidied.values is not None
                values = tidied.values
            else:
                tidy_objective = tidied.solver_objective
        found = evaluate(
            scenario,
            assignments,
            objective=options.objective,
            deadlines=options.deadlines,
        )
        problems = breaks(scenario, compiled, ix, mx, found, values) if changes.any else []
        if problems:
            notes.append("the plan read back breaks the model: " + "; ".join(problems))
            found = None
        elif not tidied.changed:  # (the tidy step validates the plans it returns)
            found = _valid_or_none(scenario, found, notes)
    if found is not None and start.eligible:
        if changes.objective_changed:
            assert start.values is not None
            worse = form.objective(values) > form.objective(start.values) + 1e-9 * max(
                1.0, abs(form.objective(start.values))
            )
        else:
            worse = not found.no_worse_than(prep.start)
        if worse:
            found = None
    if found is None and not start.eligible:
        why = "the solver was interrupted" if interrupted else "none was found in the time"
        raise SolverError(
            f"milp: no plan that obeys the model's changes ({'; '.join(changes.notes)}) could "
            f"be returned — {why}, and the start plan (the greedy's) breaks them"
        )
    chosen = values if found is not None else start.values
    model_value = None if chosen is None else form.objective(chosen)
    if found is not None and tidy_objective is not None:
        model_value = tidy_objective  # the plan's values are the tidy LP's, not ``values``
    result = finish(
        scenario,
        options,
        found,
        prep.start,
        status,
        bound,
        restricted=ix.restricted,
        interrupted=interrupted,
        notes=notes,
        gap_basis=model_value if changes.objective_changed else None,
        build_s=build_s,
        solve_s=solve_s,
        solver=solver,
        solver_version=version,
    )
    result.solver_objective = model_value
    result.timings = {
        **timings,
        "binaries": float(np.sum(form.integer)),
        "columns": float(form.n_cols),
    }
    return result


def _tidy_model(prep: Prepared, compiled: Compiled, start: _Start, values: np.ndarray) -> TidyModel:
    """The caller's changed model as the tidy step re-solves it (see :mod:`.tidy`): the compiled
    form, the solution's values, the start plan's objective on it as the ceiling when the
    objective was changed (as :func:`_read_back` compares them), and :func:`breaks`."""
    changes = compiled.changes
    form = compiled.form
    ceiling = None
    if changes.objective_changed and start.eligible and start.values is not None:
        ceiling = form.objective(start.values)
    return TidyModel(
        prep.ix,
        prep.mx,
        form,
        values,
        own_objective=changes.objective_changed,
        ceiling=ceiling,
        breaks=lambda plan, v: breaks(prep.scenario, compiled, prep.ix, prep.mx, plan, v),
    )


def _infeasible(prep: Prepared, options: PlanOptions, compiled: Compiled, res: SolveResult) -> Plan:
    changes = compiled.changes
    if changes.any:
        raise InfeasibleError(
            f"the model has no solution with the changes made to it ({'; '.join(changes.notes)}):"
            f" {res.solver} proves it infeasible"
            + (" (re-checked with presolve off)" if res.solver == "highs" else "")
        )
    if options.deadlines == "hard":
        raise explain_hard(prep.scenario, options, plan_soft)
    raise SolverError(f"{res.solver} reports the soft-deadline model infeasible")
