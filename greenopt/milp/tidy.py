"""Tidy a plan's fragments after the solve: no slivers of work an operator would question.

An LP optimum sits at a vertex, and the MILP's plans show it: a job moves in slot ``t`` and runs
there for 3.6 s (the least arrival share) so that its next slot runs at full speed; a job runs
0.06 of a slot between two full ones at the same site; a job idles two minutes of a slot
between full ones. MODEL.md §8 counts the first kind as ``short_runs`` (run rows under 5
minutes that are not the job's last). :func:`tidy` removes fragments where the same work fits
elsewhere in the plan at (almost) no cost:

* **arrival sliver** — a migration ``(j, t, a, b)`` whose slot runs under 5 minutes, followed by
  more work at ``b``: the move is made in the next run slot at ``b`` instead (where the transfer
  then takes its part of that slot); where that move does not exist, the sliver is raised to
  5 minutes;
* **short run** — any other run row under 5 minutes that is not the job's last: it is dropped
  (its work goes to the job's other slots where its state is);
* **idle sliver** — an inner run slot (neither the job's first nor last) whose share is within
  5 minutes of its cap (1, less an arriving transfer): it is filled to the cap.

Each proposal is a change of the MILP's binaries (the move's slot) or of a share's bounds; the
shares are then re-optimised by the LP with the binaries fixed (the MILP of
``greenopt.formulations`` over the plan's sites, so every rule of MODEL.md — capacity, links,
grid limits, contiguity, the dwell rule — still holds). A set of proposals is kept when that LP
is feasible and the plan's objective stays within :data:`TIDY_TOLERANCE` (relative) of the
untidied plan's; sets that fail are split in halves and retried, a few rounds, since a new LP
vertex may leave new fragments; an arrival sliver whose move cannot go one slot later is raised
to 5 minutes instead. Each kept set must leave fewer fragments and no more unmet work. The
result is evaluated and validated once; when anything fails, the plan comes back unchanged. So
the tidy step never costs more than its tolerance and never returns an invalid plan.

In the MILP's read-back (:func:`tidy_read_back`, called by :mod:`greenopt.milp.solve` for
HiGHS and for every other solver) the tolerance is ``min(TIDY_TOLERANCE, mip_gap/100)`` — 0.01 %
at the default 1 % gap, nothing a solve to 1e-6 would notice — the step gets what the time limit
leaves (the read-back's reserve), and the tidy plan never falls behind the start plan the MILP's
answer is compared with. ``plan(..., tidy=False)`` turns the step off.

**A model its caller changed** (``plan(extend=fn)``, ``build_model().solve()``): the LP above,
rebuilt from greenopt's own arrays, would know nothing of the caller's constraints, variables or
objective terms, and could return a plan that breaks them. So the step then re-solves the
*caller's* model instead — the compiled standard form the search solved
(:class:`TidyModel`: its family columns first, then the caller's), with every integer column
fixed at the solution's value, the caller's own continuous variables free and their rows kept.
The tolerance is measured on that model's objective (the caller's terms included), and the
tidy plan is kept only if it also passes the read-back's own check of the caller's changes
(:func:`greenopt.milp.extension.breaks`, handed in as :attr:`TidyModel.breaks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import SolverError
from greenopt.evaluate import (
    SHARE_EPS,
    SHORT_RUN_H,
    derive_migrations,
    evaluate,
    normalise_assignments,
    positions,
    short_run_rows,
)
from greenopt.formulations.build import build_matrix
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets
from greenopt.formulations.solution import read_assignments, sites_used, start_vector
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs
from greenopt.validate import validate

#: The tidy plan's objective may exceed the untidied plan's by at most this fraction of it.
TIDY_TOLERANCE = 1e-4
#: Rounds of proposals (each LP optimum may leave fragments of its own).
TIDY_ROUNDS = 3
#: The tidy step is skipped above this many model columns (it would cost more than it saves).
TIDY_MAX_COLUMNS = 400_000
#: Seconds the MILP's read-back gives the tidy step when the plan has no time limit.
TIDY_MAX_SECONDS = 20.0


@dataclass
class Proposal:
    """One fragment's fix: binaries to set and share bounds to impose (model column → value)."""

    kind: str  # "arrival" (move one slot later) | "raise" (to 5 min) | "short" | "idle"
    job: str
    slot: int
    fix: dict[int, float] = field(default_factory=dict)  # integer columns → 0/1
    lower: dict[int, float] = field(default_factory=dict)  # x columns → lower bound
    upper: dict[int, float] = field(default_factory=dict)  # x columns → upper bound
    #: tried when this one fails alone (an arrival sliver raised to 5 minutes instead of moved)
    instead: Proposal | None = None


@dataclass
class TidyResult:
    """The tidy plan's assignments and what happened."""

    assignments: pd.DataFrame
    changed: bool
    objective_before: float
    objective_after: float
    fragments_before: int
    fragments_after: int
    lps: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    #: the tidy LP's own objective of the plan returned (``None`` when unchanged)
    solver_objective: float | None = None
    #: the tidy LP's column values of the plan returned, in its form's order (``None`` when
    #: unchanged); for a :class:`TidyModel`, the order of its ``form``
    values: np.ndarray | None = None


@dataclass
class TidyModel:
    """The LP to tidy on, when not the one :func:`tidy` builds: a model its caller changed.

    ``form`` is its standard form with the matrix ``mx``'s columns first, in order (as
    :func:`greenopt.formulations.pyomo_model.compile_model` lays them out), then the caller's;
    ``values`` the solution in that order (integer columns are fixed at them). ``own_objective``:
    ``form``'s objective is not MODEL.md's, so the tolerance and ``ceiling`` are measured on it.
    ``ceiling``: the objective the tidy plan must stay at or under (the start plan's), if any.
    ``breaks(plan, values)`` lists how a plan breaks the caller's changes (empty: it obeys).
    """

    ix: IndexSets
    mx: Matrix
    form: highs.StandardForm
    values: np.ndarray
    own_objective: bool = False
    ceiling: float | None = None
    breaks: Callable[[Plan, np.ndarray], list[str]] | None = None


def fragments(
    scenario: Scenario, assignments: pd.DataFrame, migrations: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Masks over the (normalised) ``assignments`` rows: ``short`` (MODEL.md §8 ``short_runs``),
    ``arrival`` (a migration arrives in the row), ``idle`` (an inner row within 5 minutes of
    its cap: 1, less an arriving transfer)."""
    a = assignments
    dt = scenario.index.dt_h
    short = short_run_rows(a, dt)
    arrive = np.zeros(len(a), dtype=bool)
    cap = np.ones(len(a))
    if len(migrations):
        key = dict(
            zip(
                zip(migrations["job"], migrations["slot"], strict=True),
                migrations["disruption_h"],
                strict=True,
            )
        )
        d = np.array([key.get(k, -1.0) for k in zip(a["job"], a["slot"], strict=True)])
        arrive = d >= 0
        cap = np.where(arrive, 1.0 - np.maximum(d, 0.0) / dt, 1.0)
    job = a["job"].to_numpy()
    first = np.r_[True, job[1:] != job[:-1]] if len(a) else np.zeros(0, dtype=bool)
    last = np.r_[job[1:] != job[:-1], True] if len(a) else np.zeros(0, dtype=bool)
    gap_h = (cap - a["share"].to_numpy(dtype=float)) * dt
    idle = ~first & ~last & (gap_h > 1e-6) & (gap_h < SHORT_RUN_H)
    return {"short": short, "arrival": arrive, "idle": idle}


def tidy(
    scenario: Scenario,
    assignments: pd.DataFrame,
    objective: str | Objective,
    deadlines: str,
    time_limit: float | None = None,
    tolerance: float = TIDY_TOLERANCE,
    keep_ahead_of: Plan | None = None,
    model: TidyModel | None = None,
) -> TidyResult:
    """The plan ``assignments`` with its fragments removed (see the module docstring).

    The tidy plan's objective stays within ``tolerance·max(|objective|, 1)`` of the plan's and
    its unmet work does not grow; when the plan is no worse than ``keep_ahead_of``
    (:meth:`Plan.no_worse_than`), the tidy plan stays so. ``model``: re-solve that model (a
    model its caller changed, :class:`TidyModel`) instead of one built from the plan's sites.
    """
    t0 = time.perf_counter()
    obj = Objective.of(objective)
    plan = evaluate(scenario, assignments, objective=obj, deadlines=deadlines)
    value0 = plan.kpis["objective"]
    n0 = count_fragments(scenario, plan)
    unchanged = TidyResult(plan.assignments, False, value0, value0, n0, n0, 0, 0.0)
    if n0 == 0:
        return unchanged
    if model is None:
        used = sites_used(scenario, plan.assignments)
        ix, mx = build_matrix(scenario, obj, deadlines, None, keep=used)
        if mx.n_cols > TIDY_MAX_COLUMNS:
            unchanged.notes.append(f"tidy skipped: {mx.n_cols} columns")
            return unchanged
        v = start_vector(ix, mx, plan.assignments)
        if v is None:
            unchanged.notes.append("tidy skipped: the plan is outside the model")
            return unchanged
        form = highs.from_matrix(mx)  # column order = the matrix's
    else:
        ix, mx, form, v = model.ix, model.mx, model.form, model.values
        if form.n_cols > TIDY_MAX_COLUMNS:
            unchanged.notes.append(f"tidy skipped: {form.n_cols} columns")
            return unchanged
        if not np.array_equal(form.col_index[: mx.n_cols], np.arange(mx.n_cols)):
            unchanged.notes.append("tidy skipped: the model's columns are not the matrix's")
            return unchanged
    own = model is not None and model.own_objective
    # the objective the tolerance is measured on: MODEL.md's, or the caller's model's own
    base = form.objective(v) if own else value0
    limit = base + tolerance * max(abs(base), 1.0)
    ceiling = None if model is None else model.ceiling
    if (
        ceiling is None
        and not own
        and keep_ahead_of is not None
        and plan.no_worse_than(keep_ahead_of)
        and abs(keep_ahead_of.kpis["unmet_work_h"] - plan.kpis["unmet_work_h"]) <= 1e-6
    ):
        ceiling = keep_ahead_of.kpis["objective"]
    if ceiling is not None and base <= ceiling:
        limit = max(min(limit, ceiling), base)
    lp = _FixedLP(form, v)
    accepted = 0

    def deadline_left() -> float | None:
        if time_limit is None:
            return None
        return time_limit - (time.perf_counter() - t0)

    # the LP's own objective and a count straight from its shares decide each attempt (the
    # evaluator's figures equal them up to solver tolerances: the final plan is evaluated and
    # validated once, and kept only within the limit)
    unmet0 = plan.kpis["unmet_work_h"]
    counter = _Counter(scenario, ix, mx)

    def attempt(props: list[Proposal], fewer_than: int) -> int | str:
        """The LP with ``props`` applied, kept (in ``lp``) when its plan stays within the limit
        and has fewer than ``fewer_than`` fragments (returned); otherwise undone, and why:
        ``"refused"`` (infeasible or too costly) or ``"no_fewer"`` (the LP's new vertex left as
        many)."""
        left = deadline_left()
        if lp.interrupted or (left is not None and left <= 0.05):
            return "refused"
        values = lp.try_bounds(props, left)
        why = "refused"
        if values is not None and form.objective(values) <= limit - 1e-9 * abs(limit):
            n, unmet = counter.count(values)
            if unmet <= unmet0 + 1e-7:
                if n < fewer_than:
                    lp.keep(values)
                    return n
                why = "no_fewer"
        lp.undo()
        return why

    def plan_of(values: np.ndarray) -> pd.DataFrame:
        # the matrix's columns come first (a caller's own variables after them)
        return normalise_assignments(scenario, read_assignments(ix, mx, values[: mx.n_cols]))

    best = plan.assignments
    before = counter.count(v)[0]
    refused: set[tuple[str, str, int]] = set()  # proposals that failed alone: not tried again
    for _ in range(TIDY_ROUNDS):
        if best is not plan.assignments:
            best = plan_of(lp.values)
        props = _proposals(scenario, ix, mx, lp.values, best, derive_migrations(scenario, best))
        props = [p for p in props if (p.kind, p.job, p.slot) not in refused]
        if not props:
            break
        # each kind at once (one LP); a group that fails is halved and its halves tried, so a
        # few proposals with no room for their work cost a few LPs, not one per proposal
        kinds = (("idle",), ("short",), ("arrival", "raise"))
        stack = [[p for p in props if p.kind in k] for k in kinds]
        while stack:
            group = stack.pop()
            if not group:
                continue
            got = attempt(group, before)
            if not isinstance(got, str):
                best, before = None, got
                accepted += len(group)
            elif len(group) > 1:
                half = len(group) // 2
                stack += [group[half:], group[:half]]
            elif got == "refused" and group[0].instead is not None:
                stack.append([group[0].instead])
            elif got == "refused":
                refused.add((group[0].kind, group[0].job, group[0].slot))
        left = deadline_left()
        if lp.interrupted or (left is not None and left <= 0.05):
            break
    unchanged.lps = lp.solves
    unchanged.seconds = time.perf_counter() - t0
    if best is plan.assignments:
        return unchanged
    best_plan = evaluate(scenario, plan_of(lp.values), objective=obj, deadlines=deadlines)
    scored = form.objective(lp.values) if own else best_plan.kpis["objective"]
    if scored > limit or best_plan.kpis["unmet_work_h"] > unmet0 + 1e-7:
        unchanged.notes.append("tidy: the tidy plan scored above the tolerance; the plan is kept")
        return unchanged
    if validate(scenario, best_plan):
        unchanged.notes.append("tidy: the tidy plan did not validate; the plan is kept")
        return unchanged
    problems = [] if model is None or model.breaks is None else model.breaks(best_plan, lp.values)
    if problems:
        unchanged.notes.append(
            "tidy: the tidy plan breaks the model's changes (" + "; ".join(problems[:2]) + "); "
            "the plan is kept"
        )
        return unchanged
    return TidyResult(
        best_plan.assignments,
        True,
        value0,
        best_plan.kpis["objective"],
        n0,
        count_fragments(scenario, best_plan),
        lp.solves,
        time.perf_counter() - t0,
        [f"tidy: {accepted} fragment fixes kept, {lp.solves} LPs"],
        form.objective(lp.values),
        lp.values,
    )


class _FixedLP:
    """The MILP's LP with its binaries fixed, kept in one HiGHS instance: each attempt changes a
    few column bounds and re-solves from the last basis (dual simplex, warm), and is undone when
    it is not kept."""

    def __init__(self, form: highs.StandardForm, values: np.ndarray) -> None:
        self.form = form
        self.lb, self.ub = form.col_lb.copy(), form.col_ub.copy()
        fixed = np.round(values[form.integer])
        self.lb[form.integer] = fixed
        self.ub[form.integer] = fixed
        self.values = values.copy()
        self.solves = 0
        self.interrupted = False  # Ctrl-C stopped an LP: the tidy step stops with what it has
        self._undo: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.h = highs.new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("presolve", "off")  # a warm basis is worth more than presolve
        fixed_form = replace(form, col_lb=self.lb, col_ub=self.ub)
        self.h.passModel(highs._highs_lp(fixed_form, np.zeros(form.n_cols, dtype=bool)))

    def try_bounds(self, props: list[Proposal], time_limit: float | None) -> np.ndarray | None:
        """Apply ``props`` and solve; the column values, or ``None`` (call :meth:`undo`)."""
        lb, ub = self.lb.copy(), self.ub.copy()
        for p in props:
            for k, val in p.fix.items():
                lb[k] = ub[k] = val
            for k, val in p.upper.items():
                ub[k] = min(ub[k], val)
                lb[k] = min(lb[k], ub[k])
            for k, val in p.lower.items():
                lb[k] = max(lb[k], min(val, ub[k]))
        cols = np.flatnonzero((lb != self.lb) | (ub != self.ub))
        self._undo = (cols, self.lb[cols].copy(), self.ub[cols].copy())
        self._set(cols, lb[cols], ub[cols])
        if time_limit is not None:
            self.h.setOptionValue("time_limit", max(float(time_limit), 0.01))
        self.solves += 1
        try:
            # in a thread of its own: on the caller's, a scheduler another solve there sized
            # refuses this one-thread LP (kError), and the tidy step would depend on the thread
            self.interrupted = highs.run(self.h)
        except SolverError:
            return None
        import highspy

        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.array(self.h.getSolution().col_value)
        values[self.form.integer] = self.lb[self.form.integer]
        return values

    def keep(self, values: np.ndarray) -> None:
        """Keep the last :meth:`try_bounds`: its bounds stay, ``values`` is the new plan."""
        self.values = values
        self._undo = None

    def undo(self) -> None:
        """Restore the bounds the last :meth:`try_bounds` changed."""
        if self._undo is not None:
            cols, lb, ub = self._undo
            self._set(cols, lb, ub)
            self._undo = None

    def _set(self, cols: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        self.lb[cols], self.ub[cols] = lb, ub
        if len(cols):
            self.h.changeColsBounds(len(cols), cols.astype(np.int32), lb, ub)


def _proposals(
    scenario: Scenario,
    ix: Any,
    mx: Any,
    values: np.ndarray,
    a: pd.DataFrame,
    migrations: pd.DataFrame,
) -> list[Proposal]:
    """One proposal per fragment of the plan ``a`` (whose column values are ``values``)."""
    idx = scenario.index
    dt = idx.dt_h
    masks = fragments(scenario, a, migrations)
    xb, mvb = mx.cols["x"], mx.cols["mv"]
    r_pos = None
    if "r" in mx.cols:
        r_pos = np.full((ix.J, ix.T), -1, dtype=np.int64)
        r_pos[ix.rj, ix.rt] = np.arange(len(ix.rj))
    mkey = ((ix.mj * ix.S + ix.ma) * ix.S + ix.mb) * ix.T + ix.mt
    morder = np.argsort(mkey)
    msorted = mkey[morder]

    def move_col(j: int, s_a: int, s_b: int, t: int) -> int:
        k = ((j * ix.S + s_a) * ix.S + s_b) * ix.T + t
        i = int(np.searchsorted(msorted, k))
        if i < len(msorted) and msorted[i] == k:
            return int(mvb.cols(morder[i]))
        return -1

    def x_col(j: int, s: int, t: int) -> int:
        p = int(ix.x_pos[j, s, t])
        return int(xb.cols(p)) if p >= 0 else -1

    migs = {(m.job, int(m.slot)): m for m in migrations.itertuples(index=False)}
    jobs = a["job"].to_numpy()
    slots = a["slot"].to_numpy()
    sites = a["site"].to_numpy()
    # what the plan leaves free: GPU-time per site and slot, GB per link and slot (proposals
    # that need more than that are not tried: the LP would mostly find them infeasible)
    jpos = positions(jobs, idx.job_pos)
    spos = positions(sites, idx.site_pos)
    gpu_free = np.repeat(idx.site_gpus.astype(float)[:, None], idx.T, axis=1)
    np.subtract.at(gpu_free, (spos, slots), idx.gpus[jpos] * a["share"].to_numpy(dtype=float))
    net = scenario.network
    link_free = {lk: np.full(idx.T, cap) for lk, cap in net.link_capacity_gb.items()}
    for m in migrations.itertuples(index=False):
        for lk in net.links[(m.src, m.dst)]:
            link_free[lk][int(m.slot)] -= m.gb
    out: list[Proposal] = []
    floor = SHORT_RUN_H / dt + 1e-6
    for i in np.flatnonzero(masks["short"] | masks["idle"]).tolist():
        name, t, site = str(jobs[i]), int(slots[i]), str(sites[i])
        j, s = idx.job_pos[name], idx.site_pos[site]
        xc = x_col(j, s, t)
        if xc < 0:
            continue
        if masks["idle"][i] and not masks["short"][i]:
            cap = 1.0 - (migs[(name, t)].disruption_h / dt if (name, t) in migs else 0.0)
            cap = min(cap, float(ix.x_ub[j]))
            if gpu_free[s, t] >= idx.gpus[j] * (cap - float(a["share"].iat[i])) - 1e-9:
                out.append(Proposal("idle", name, t, lower={xc: cap}))
            continue
        nxt = i + 1 if i + 1 < len(a) and jobs[i + 1] == name else -1
        if (name, t) in migs:
            m = migs[(name, t)]
            src = idx.site_pos[m.src]
            here = move_col(j, src, s, t)
            later = move_col(j, src, s, int(slots[nxt])) if nxt >= 0 and sites[nxt] == site else -1
            if later >= 0:
                t2 = int(slots[nxt])
                room = [link_free[lk][t2] for lk in net.links[(m.src, site)]]
                if min(room, default=np.inf) < m.gb - 1e-9:
                    later = -1  # the route has no room for the move in that slot
            cap = 1.0 - m.disruption_h / dt
            raise_it = None
            if cap >= floor and float(ix.x_ub[j]) >= floor:
                raise_it = Proposal("raise", name, t, lower={xc: floor})
            if here >= 0 and later >= 0:
                p = Proposal("arrival", name, t, fix={here: 0.0, later: 1.0}, upper={xc: 0.0})
                p.instead = raise_it
                _drop_block_slot(p, ix, mx, r_pos, j, t, values)
                out.append(p)
            elif raise_it is not None:
                out.append(raise_it)
            continue
        p = Proposal("short", name, t, upper={xc: 0.0})
        _drop_block_slot(p, ix, mx, r_pos, j, t, values)
        out.append(p)
    order = {"arrival": 0, "raise": 0, "short": 1, "idle": 2}
    return sorted(out, key=lambda p: order[p.kind])  # stable: plan order within a kind


def _drop_block_slot(
    p: Proposal, ix: Any, mx: Any, r_pos: np.ndarray | None, j: int, t: int, values: np.ndarray
) -> None:
    """A pause-free job whose first block slot is emptied: its block starts one slot later."""
    if r_pos is None or r_pos[j, t] < 0:
        return
    rb = mx.cols["r"]
    col = int(rb.cols(r_pos[j, t]))
    before = r_pos[j, t - 1] if t - 1 >= 0 else -1
    if round(values[col]) == 1 and (before < 0 or round(values[int(rb.cols(before))]) == 0):
        p.fix[col] = 0.0


def count_fragments(scenario: Scenario, plan: Plan) -> int:
    """Fragments of an evaluated plan: short runs and idle slivers (:func:`fragments`)."""
    m = fragments(scenario, plan.assignments, plan.migrations)
    return int(m["short"].sum() + (m["idle"] & ~m["short"]).sum())


class _Counter:
    """Fragments and unmet work counted straight from the LP's run shares (no tables)."""

    def __init__(self, scenario: Scenario, ix: Any, mx: Any) -> None:
        idx = scenario.index
        self.ix, self.dt = ix, idx.dt_h
        self.cols = mx.cols["x"].cols(np.arange(len(ix.xj)))
        self.order = np.lexsort((ix.xs, ix.xt, ix.xj))  # by job, slot
        self.j, self.s, self.t = ix.xj[self.order], ix.xs[self.order], ix.xt[self.order]
        self.ub = ix.x_ub[self.j]
        self.origin = idx.origin
        self.work = idx.work_h
        self.disruption = scenario.network.disruption_h

    def count(self, values: np.ndarray) -> tuple[int, float]:
        """``(short runs + idle slivers, unmet hours)`` of the plan the values describe."""
        x = np.clip(values[self.cols][self.order], 0.0, self.ub)
        keep = x > SHARE_EPS
        x, j, s = x[keep], self.j[keep], self.s[keep]
        done = np.bincount(j, weights=x * self.dt, minlength=len(self.work))
        unmet = float(np.maximum(self.work - done, 0.0).sum())
        if not len(x):
            return 0, unmet
        first = np.r_[True, j[1:] != j[:-1]]
        last = np.r_[j[1:] != j[:-1], True]
        prev = np.where(first, self.origin[j], np.r_[-1, s[:-1]])
        cap = 1.0 - np.where(prev != s, self.disruption[j, prev, s], 0.0) / self.dt
        short = (x * self.dt < SHORT_RUN_H - 1e-12) & ~last
        gap_h = (cap - x) * self.dt
        idle = ~first & ~last & (gap_h > 1e-6) & (gap_h < SHORT_RUN_H)
        return int(short.sum() + (idle & ~short).sum()), unmet


def tidy_read_back(
    scenario: Scenario,
    assignments: pd.DataFrame,
    objective: Objective,
    options: Any,
    time_limit: float | None,
    notes: list[str],
    start: Plan | None = None,
    model: TidyModel | None = None,
) -> TidyResult:
    """The MILP read-back's hook: :func:`tidy` within ``time_limit`` seconds (what the plan's time
    limit leaves; :data:`TIDY_MAX_SECONDS` without one, except in deterministic mode, where
    only its rounds bound it), its notes added to ``notes``;
    ``options.params["tidy"] = False`` turns it off (the benchmark's "before").

    The tolerance is :data:`TIDY_TOLERANCE`, and at most a hundredth of the MIP gap asked for
    (a plan solved to a gap of 1e-6 stays within it); the tidy plan never becomes worse than
    ``start`` (the plan the MILP's answer is compared with) when the MILP's plan was not.
    ``model``: the caller's changed model to re-solve (:class:`TidyModel`), when there is one.
    """
    if not options.params.get("tidy", True) or (time_limit is not None and time_limit < 0.5):
        return TidyResult(assignments, False, np.nan, np.nan, 0, 0, 0, 0.0)
    tolerance = min(TIDY_TOLERANCE, 0.01 * float(options.mip_gap))
    budget = TIDY_MAX_SECONDS if time_limit is None else time_limit
    if options.deterministic:
        # bounded by its rounds and proposals (work); a cap in seconds would let the machine's
        # load decide the plan. Only the caller's own time limit (a safety net) still holds
        budget = time_limit
    r = tidy(scenario, assignments, objective, options.deadlines, budget, tolerance, start, model)
    notes.extend(r.notes)
    if r.changed:
        notes.append(
            f"tidy: fragments {r.fragments_before} → {r.fragments_after}, objective "
            f"{r.objective_before:.6g} → {r.objective_after:.6g} ({r.seconds:.2f} s)"
        )
    elif r.lps:
        notes.append(
            f"tidy: none of {r.fragments_before} fragments could go within {tolerance:.2g} of "
            f"the objective ({r.lps} LPs, {r.seconds:.2f} s)"
        )
    return r
