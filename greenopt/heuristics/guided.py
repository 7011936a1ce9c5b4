"""The LP-guided greedy: the greedy steered by the MILP's relaxation LP (issue 15).

The greedy places one job at a time, cheapest first for the job at hand, so the jobs placed first
take the contested capacity — the clean grid of a low-carbon site, say — whether or not they gain
most from it. The relaxation LP (:mod:`greenopt.formulations.relaxation`, without its presence
and dwell rows: the same LP the MILP solves first) shares that capacity out over *all* jobs at
once. Its optimum tells the greedy two things:

* **prices** — the dual of each site-slot's GPU capacity row is what one more GPU there would save
  the whole day; charged as :attr:`CapacityState.gpu_price` (per GPU-share), a job only takes a
  contested GPU-slot when it gains more there than the day loses;
* **where and when each job runs** — its fractional run shares ``x[j, s, t]``; a placement off
  them pays a penalty per share (a *support* penalty over site-slots, or a *slot* penalty over
  slots the LP leaves the job idle in at every site).

Each :data:`VARIANTS` entry runs the usual greedy with such guidance (:class:`GuidedState`
prices every placement in its own job's view) — the first pass in urgency order, re-placement
passes and, if the variant says so, ejection moves — then takes the guidance away and
*polishes* the plan at the true objective: re-placement passes (and ejection moves), short-job
repair, and the LP re-timing (:mod:`greenopt.heuristics.retime`). :func:`plan_guided` returns the
best of the plain greedy's plan and the guided ones (fewest unmet hours, then objective; ties to
the plain plan), so it is never worse than the plain greedy, and every plan it returns is one
the greedy's state built (valid by construction, the dwell rule included). Last, the best plan,
re-timed, is loaded into a state and searched by *ruin and recreate*
(:mod:`greenopt.heuristics.ruin`: groups of competing jobs taken out and placed again, kept when
the exact objective falls) in :data:`RUIN_ROUNDS` rounds of :func:`ruin_budget` ``/ rounds``
placements, each re-timed and kept only when better (100×5×24: 71.28 → 70.32).

**Cost.** One LP and ``GUIDE_WORK // jobs`` guided greedy runs (at least one, at most
``len(VARIANTS)``; each about one plain greedy with its passes): 3 up to 200 jobs, 2 at 300 (the
real-trace days), 1 from 301 to 1000; above :data:`GUIDE_MAX_JOBS` jobs the plain greedy alone. The
LP is solved by the simplex method up to :data:`COLGEN_MIN_COLS` columns, above by column
generation from each job's origin, the plain plan's sites and its two cleanest sites (measured on
the loaded 2-core machine at load ~5: 100×5×24 0.2 s, the real-trace days 0.3–0.5 s, 500×10×48 ~5 s
— 20–24 s at load ~10); above :data:`GUIDE_MAX_COLS` columns one round of it only (1000×15×96:
~11 s, the whole call ~14 s against 1.2 s for the plain greedy). Whole ``plan(method="greedy")``
calls, ``guide=False`` → default (medians of 3, interleaved, load ~7.7): 100×5×24 0.58 → 2.47 s,
real day 2022-06-21 1.11 → 3.11 s, 500×10×48 1.97 → 10.6 s. The ruin-and-recreate rounds add
(medians of 3, interleaved, load ~4): 100×5×24 1.0–1.2 → 2.0–2.2 s, the real days 1.4–1.6 →
1.9–2.3 s, 500×10×48 5.2 → 5.4 s.
Everything is deterministic: HiGHS on one thread, placements counted, not timed (only the LP's
time limit, :data:`GUIDE_LP_SECONDS`, or ``time_limit`` when smaller, none with
``deterministic=True``, could cut it short — then the plain plan is returned; the guided runs
and the search are bounded by their placements, not the clock).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from greenopt.formulations.matrix import Matrix, row_positions
from greenopt.formulations.relaxation import build_relaxation, first_master_seconds
from greenopt.formulations.sets import IndexSets, pairs_by_score
from greenopt.heuristics.ejection import ejection_moves
from greenopt.heuristics.greedy import (
    EJECT_WORK,
    QUALITY_JOBS,
    QUALITY_PASSES,
    GreedySettings,
    finish_greedy,
    improve,
    place_job,
    plan_greedy,
    repair_short,
    urgency_order,
)
from greenopt.heuristics.ruin import ruin_and_recreate, state_of_plan
from greenopt.heuristics.state import CapacityState, Placement
from greenopt.limits import GUIDE_ADVICE, human, memory_budget, relaxation_estimate
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import highs
from greenopt.solvers.pricing import Schedule

#: Days of up to this many jobs get the guided runs by default (``guide`` left at ``None``).
GUIDE_MAX_JOBS = 1000
#: Above this many run-share columns in the guide LP (the MILP's own limit for solving the
#: relaxation before its search) the guide is the LP's *first restricted master* — one round of
#: column generation over each job's origin, the plain plan's sites and its cleanest ones —
#: not the LP's optimum: on 1000 × 15 × 96 (308,146 columns) the LP did not converge in
#: :data:`GUIDE_LP_SECONDS` (62 s, then the plain plan kept), while the first master takes
#: ~11 s and steers the greedy from 1035.5 to 857.3 (the MILP's 60 s plan: 846).
GUIDE_MAX_COLS = 250_000
#: ... by default only when that master's estimated time
#: (:func:`~greenopt.formulations.relaxation.first_master_seconds`, a count of its columns) is at
#: most this many seconds (and within ``time_limit``): 1000×15×96's is 15 s, 1000 jobs × 50 sites
#: × 288 five-minute slots' 44 s (there the plain plan, at once, ~2.5 s).
GUIDE_MASTER_SECONDS = 20.0
#: A day of ``jobs`` jobs gets ``GUIDE_WORK // jobs`` guided runs (at least 1): the work of the
#: guided runs grows with the day like one greedy's of ~GUIDE_WORK jobs. (1000 gave 500×10×48
#: a second run, 251.84 → 250.95 for ~4 s more at load ~10, and the real-trace days a third,
#: ``slots``, the most expensive, which won on none of them.)
GUIDE_WORK = 600
#: Placements the ruin-and-recreate search (:mod:`greenopt.heuristics.ruin`) spends on the
#: best plan: ``RUIN_WORK // jobs`` (2400 at 100 jobs, ~1 s at load ~4; 800 on the 300-job
#: real days, 480 at 500 jobs, ~0.3–0.9 s), in :data:`RUIN_ROUNDS` rounds, each from the best
#: plan so far after its LP re-timing (a search from the re-timed plan found more than one from
#: the greedy's state on 8 of the 9 benchmark days).
RUIN_WORK = 240_000
#: ... and at most this many placements per job: ``RUIN_WORK // jobs`` alone grows as a day
#: shrinks (24,000 placements, seconds, for a 10-job day the search has long exhausted); the
#: cap binds below 100 jobs only, so the measured days keep their budget.
RUIN_PER_JOB = 24
#: Days of fewer jobs skip the search: the guided runs leave little to find there, and the
#: MILP solves such days whole in about a second (the property tests' tiny days took 70 s more
#: with it).
RUIN_MIN_JOBS = 25
#: Rounds of the search (each re-timed, the next from the best plan so far).
RUIN_ROUNDS = 2
#: Above this many columns the guide LP is solved by column generation (simplex below).
COLGEN_MIN_COLS = 20_000
#: The guide LP's time limit (seconds); when it is not solved in time the plain plan is kept.
#: Generous: on the 2-core machine at load ~10 (niced) 500×10×48's LP took 20–24 s (~5 s at
#: load ~5), and a limit that is hit makes the plan depend on the machine's load.
GUIDE_LP_SECONDS = 60.0
#: Sites per job besides its origin and the plain plan's that column generation starts from.
SEED_SITES = 2
#: LP run share below which a job counts as not running at a site-slot.
SUPPORT_EPS = 1e-6


@dataclass(frozen=True)
class GuideVariant:
    """One way of steering the greedy by the LP.

    ``duals``: the capacity rows' duals × this as the GPU-slot price; ``support``: penalty per
    share at a site-slot where the LP does not run the job; ``slots``: penalty per share in a
    slot where the LP runs the job at no site (objective units, e.g. kg CO2 per slot-share);
    ``eject``: ejection moves while guided and again in the polish.
    """

    name: str
    duals: float = 1.0
    support: float = 0.0
    slots: float = 0.0
    eject: bool = False


#: The variants, in the order they are run (a day gets the first ``GUIDE_WORK // jobs``).
#: Measured on the loaded 2-core machine (objective, % against the plain greedy's):
#: ``support`` is the best on every real-trace day (2022-06-21 152.92 → 146.84, 2023-01-15
#: 104.03 → 97.60, 2023-04-02 96.09 → 94.82, 2023-09-10 154.38 → 147.97) and close on
#: 500×10×48 (266.13 → 251.84); ``support+slots`` the best there (250.95); ``slots`` with its
#: ejection moves on 100×5×24 (79.23 → 71.28; 74.32 and 75.06 for the other two).
#: Ordering the jobs by their work rows' duals, a penalty proportional to the LP share, the
#: relaxation with its presence rows, and a second guided round were tried and did not help.
VARIANTS: tuple[GuideVariant, ...] = (
    GuideVariant("support", support=2.0),
    GuideVariant("support+slots", support=0.5, slots=1.0),
    GuideVariant("slots", slots=2.0, eject=True),
)


@dataclass
class LpGuide:
    """The guide LP's optimum: run shares, GPU-slot prices and the LP bound."""

    x: np.ndarray  # (J, S, T) run shares
    gpu_price: np.ndarray  # (S, T) capacity duals, ≥ 0, per GPU-share
    bound: float | None
    seconds: float
    status: str
    #: ``x`` with each job's Lagrangian schedule added (:func:`with_schedules`): the greedy is
    #: steered by both supports in turn and the better plan kept
    widened: np.ndarray | None = None


def seed_pairs(scenario: Scenario, objective: Objective, used: list[set[int]]) -> np.ndarray:
    """(J, S) bool: each job's origin, the sites ``used`` (the plain plan's) and its
    :data:`SEED_SITES` allowed sites of least mean ``grid_coef · pue`` over its window — the
    columns column generation starts from."""
    score = objective.grid_coef(scenario) * scenario.index.pue[:, None]  # (S, T)
    return pairs_by_score(scenario, score, used, SEED_SITES)


def solve_guide(
    scenario: Scenario,
    objective: Objective | str,
    deadlines: str,
    pairs: np.ndarray | None = None,
    time_limit: float | None = GUIDE_LP_SECONDS,
    max_rounds: int | None = None,
) -> LpGuide | None:
    """The relaxation LP (no presence, no dwell rows) solved by HiGHS on one thread; ``None``
    when it is not solved to optimality within ``time_limit``. ``max_rounds``: by column
    generation, at most that many rounds, and the last restricted master's optimum guides
    whether it converged or not (a point of the LP near its optimum, at fleet size: 1000×15×96's
    first master is 2.4 % above the LP's optimum and guides the greedy to 857.3, the converged LP
    to 848.9)."""
    from greenopt.solvers.colgen import solve_by_columns

    t0 = time.perf_counter()
    obj = Objective.of(objective)
    ix, mx = build_relaxation(scenario, obj, deadlines, presence=False, dwell=False)
    form = highs.from_matrix(mx)
    if pairs is not None and mx.n_cols > COLGEN_MIN_COLS:
        initial = np.ones(mx.n_cols, dtype=bool)
        for name in ("x", "arr"):
            block = mx.cols.get(name)
            if block is not None and block.n:
                initial[block.cols(np.arange(block.n))] = pairs[block.keys[:, 0], block.keys[:, 1]]
        cg = solve_by_columns(
            form,
            initial,
            time_limit=time_limit,
            threads=1,
            kept_rows=row_positions(mx, "work"),
            ascent=0.0,  # its optimum guides; a bound before it is not needed here
            max_rounds=max_rounds,
        )
        if cg.values is None or not (cg.converged or max_rounds is not None):
            return None
        values, duals, bound = cg.values, cg.row_duals, cg.bound
        status = f"optimal (column generation: {cg.rounds} rounds, {cg.columns} columns)"
    else:
        res = highs.solve(
            form, None, PlanOptions(threads=1), time_limit, relax=True, log=False, duals=True
        )
        if res.values is None or res.status != "optimal":
            return None
        values, duals, bound, status = res.values, res.row_duals, res.bound, res.status
    return lp_guide(ix, mx, values, duals, bound, time.perf_counter() - t0, status)


def lp_guide(
    ix: IndexSets,
    mx: Matrix,
    values: np.ndarray,
    duals: np.ndarray | None,
    bound: float | None,
    seconds: float,
    status: str,
) -> LpGuide:
    """The guidance in an optimum of the relaxation LP (``values``, ``duals`` in ``mx``'s
    column and row order): the run shares ``x`` and the capacity rows' duals as GPU-slot
    prices. Any form of the relaxation serves (with or without presence rows: the MILP's own
    relaxation, :mod:`greenopt.milp.relaxation`, hands its optimum over this way)."""
    xb = mx.cols["x"]
    x = np.zeros((ix.J, ix.S, ix.T))
    x[ix.xj, ix.xs, ix.xt] = values[xb.cols(np.arange(xb.n))]
    price = np.zeros((ix.S, ix.T))
    if "capacity" in mx.rows and duals is not None:
        block = mx.rows["capacity"]
        y = np.asarray(duals)[row_positions(mx, "capacity")]
        price[block.keys[:, 0], block.keys[:, 1]] = np.maximum(-y, 0.0)  # ≤ rows: y ≤ 0
    return LpGuide(x, price, bound, seconds, status)


def with_schedules(guide: LpGuide, schedules: list[Schedule], bound: float | None) -> LpGuide:
    """``guide`` with a second, wider support (:attr:`LpGuide.widened`): its run shares plus
    each job's Lagrangian schedule — its schedule of least reduced cost at the relaxation's
    duals, from one pricing pass of the schedule relaxation
    (:func:`~greenopt.milp.schedules.priced_schedules`). A huge day's first restricted master
    runs each job only at the sites its columns start from; the pass looks at every site and
    slot at that master's prices. Measured on the MILP's start, one greedy run per support
    penalty (the master's ascent duals): 1000×15×96 875.7–889.1 from the master alone,
    838.0–843.0 with the schedules too; 2000×20×96 1267.4–1276.0 and 1271.0–1292.9 (no gain:
    so both are run and the better kept). On converged LPs (100×5×24, 500×10×48) and on the
    plain greedy's first master (duals without the ascent) it did not help, so they do without.
    ``bound``: the pass's, kept when higher."""
    x = guide.x.copy()
    for sch in schedules:
        x[sch.job, sch.sites, sch.slots] += sch.shares
    best = guide.bound if bound is None else max(bound, guide.bound or -math.inf)
    return replace(guide, bound=best, widened=x)


class GuidedState(CapacityState):
    """A :class:`CapacityState` whose prices are the guide's: the GPU-slot price ``base`` for
    every job, plus job ``j``'s own ``penalty[j]`` (S, T) per share. :meth:`view` shows job
    ``j``'s prices to the placement (:attr:`gpu_price`, which the greedy's fills read);
    :meth:`cost` prices every placement in its own job's view whatever is shown, so that
    comparisons across jobs (ejection moves, re-placements) stay exact for the guided
    objective. :meth:`unguide` restores the true objective."""

    def guide(self, base: np.ndarray, penalty: np.ndarray | None) -> None:
        self._base, self._penalty = base, penalty
        self._gpus = self.idx.gpus.astype(float)
        self.gpu_price = base

    def unguide(self) -> None:
        self.guide(np.zeros((self.S, self.T)), None)

    def view(self, j: int) -> None:
        if self._penalty is not None:
            self.gpu_price = self._base + self._penalty[j] / self._gpus[j]

    def cost(self, p: Placement) -> float:
        value = super().cost(p)
        if len(p) == 0:
            return value
        shown = self.gpu_price[p.sites, p.slots]
        own = self._base[p.sites, p.slots]
        value += float(self._gpus[p.job]) * float(np.dot(own - shown, p.shares))
        if self._penalty is not None:
            value += float(np.dot(self._penalty[p.job][p.sites, p.slots], p.shares))
        return value


def guided_state(
    scenario: Scenario,
    objective: Objective | str,
    settings: GreedySettings,
    guide: LpGuide,
    variant: GuideVariant,
) -> CapacityState:
    """The greedy's state after a run steered by ``guide`` as ``variant`` says, then polished
    at the true objective (module docstring); its placements obey every rule of MODEL.md §5."""
    cfg = settings.resolved(scenario)
    st = GuidedState(scenario, objective)
    order = urgency_order(scenario)
    budget = max(0, EJECT_WORK - st.J) if cfg.eject is None else cfg.eject
    penalty = None
    if variant.support > 0 or variant.slots > 0:
        off = guide.x <= SUPPORT_EPS  # (J, S, T): where the LP does not run the job
        idle = off.all(axis=1, keepdims=True)  # (J, 1, T): slots it runs the job at no site
        penalty = variant.support * off + variant.slots * np.broadcast_to(idle, off.shape)

    st.guide(variant.duals * guide.gpu_price, penalty)

    def place(s: CapacityState, j: int) -> Placement | None:
        st.view(j)
        return place_job(s, j, 0, cfg)

    for j in order.tolist():  # the first pass, then the passes and ejection moves, guided
        p = place(st, j)
        if p is not None:
            st.commit(p, check=False)
    for k in range(cfg.passes):
        changed = 0
        for j in (order[::-1] if k % 2 == 0 else order).tolist():
            changed += _replace(st, j, place)
        if changed == 0:
            break
    if variant.eject and budget > 0:
        ejection_moves(st, order, place, budget)
    st.unguide()  # the polish, at the true objective
    improve(st, order, cfg, cfg.passes)
    if variant.eject and budget > 0:
        ejection_moves(st, order, lambda s, j: place_job(s, j, 0, cfg), budget)
    repair_short(st, order, cfg)
    return st


def _replace(st: CapacityState, j: int, place) -> int:
    """One re-placement of job ``j`` (as in :func:`greenopt.heuristics.greedy.improve`): 1 when
    the new placement is cheaper and kept, else 0 (the old one restored)."""
    old = st.release(j)
    before = sum(st.cost(q) for q in old) if len(old) == 1 else 0.0
    p = place(st, j) if len(old) <= 1 else None
    if p is not None and st.cost(p) < before - 1e-9 * max(1.0, abs(before)):
        st.commit(p, check=False)
        return 1
    for q in old:
        st.commit(q, check=False)
    return 0


def guide_columns(scenario: Scenario) -> int:
    """Run-share columns of the guide LP (:attr:`ScenarioIndex.run_columns`)."""
    return scenario.index.run_columns


def variants_for(jobs: int, force: bool = False) -> tuple[GuideVariant, ...]:
    """The variants a day of ``jobs`` jobs gets: ``GUIDE_WORK // jobs`` of them (at least one
    and at most all), none above :data:`GUIDE_MAX_JOBS` jobs unless ``force``."""
    if jobs == 0 or (jobs > GUIDE_MAX_JOBS and not force):
        return ()
    return VARIANTS[: max(1, min(len(VARIANTS), GUIDE_WORK // jobs))]


def plan_guided(scenario: Scenario, options: PlanOptions) -> Plan:
    """``plan(method="greedy")``: the plain greedy's plan and, on days of up to
    :data:`GUIDE_MAX_JOBS` jobs (``guide=None``, the default) or whenever ``guide=True``, the
    LP-guided ones (module docstring; above :data:`GUIDE_MAX_COLS` columns guided by the first
    restricted master) — the best of them. ``guide=False``: the plain greedy alone, exactly
    :func:`~greenopt.heuristics.greedy.plan_greedy`."""
    params = dict(options.params)
    guide_param = params.pop("guide", None)
    plain = plan_greedy(scenario, options)
    if guide_param is False:
        return plain
    J = len(scenario.index.job_names)
    chosen = variants_for(J, force=guide_param is True)
    if not chosen:
        return plain
    t0 = time.perf_counter()
    given = GreedySettings.from_params(params)
    obj = options.objective
    try:
        from greenopt.formulations.solution import sites_used

        pairs = seed_pairs(scenario, Objective.of(obj), sites_used(scenario, plain.assignments))
        limit: float | None = GUIDE_LP_SECONDS
        if options.deterministic:
            limit = None  # work, not the clock, decides (as the MILP's deterministic mode)
        elif options.time_limit is not None and math.isfinite(options.time_limit):
            limit = min(GUIDE_LP_SECONDS, max(options.time_limit - (time.perf_counter() - t0), 0.1))
        # above GUIDE_MAX_COLS its first restricted master: the LP does not converge in a
        # day-ahead budget there (2000×20×96: > 400 s on one thread)
        rounds = 1 if guide_columns(scenario) > GUIDE_MAX_COLS else None
        need = first_master_seconds(scenario, pairs) if rounds is not None else 0.0
        allowed = min(GUIDE_MASTER_SECONDS, limit or math.inf)
        if guide_param is None and need > allowed:
            plain.notes.append(
                f"LP guide skipped: its first restricted master would take about {need:.0f} s "
                f"(more than {allowed:.0f} s); guide=True asks for it"
            )
            return plain
        memory, budget = relaxation_estimate(scenario), memory_budget()
        if guide_param is None and memory.bytes > budget:
            plain.notes.append(
                f"LP guide skipped: it would need about {human(memory.bytes)} of memory, over "
                f"the budget of {human(budget)}"
            )
            return plain
        memory.check(advice=GUIDE_ADVICE)  # guide=True: a SizeError before anything is built
        guide = solve_guide(scenario, obj, options.deadlines, pairs, limit, max_rounds=rounds)
    except Exception as exc:  # guidance never costs the plan
        if guide_param is True:
            raise
        plain.notes.append(f"LP guide failed ({type(exc).__name__}: {exc}); greedy plan kept")
        return plain
    if guide is None:
        plain.notes.append(
            "LP guide not solved (time limit, or no feasible point); the plain greedy plan is kept"
        )
        return plain
    if given.passes is None and J > QUALITY_JOBS:
        # the one-pass greedy of big days, steered by the LP and never polished at the true
        # objective, is worse than the plain one (2000×20×96: 1690.2 against 1531.9); two
        # re-placement passes make it 1283.4
        given = replace(given, passes=QUALITY_PASSES)
    best, best_name = best_guided(scenario, options, guide, chosen, given, plain, t0)
    cfg = given.resolved(scenario)
    order = urgency_order(scenario)
    budget = ruin_budget(J) // RUIN_ROUNDS
    for r in range(RUIN_ROUNDS if budget > 0 else 0):
        # the best plan so far, re-timed, searched further at the true objective (ruin.py):
        # from the re-timed plan, so any move kept lowers the objective the plan has now
        st = state_of_plan(scenario, obj, best.assignments)
        kept, _ = ruin_and_recreate(st, order, lambda s, j: place_job(s, j, 0, cfg), budget, r)
        if kept:
            cand = finish_greedy(scenario, st.assignments(), options, given, cfg, t0)
            if not best.no_worse_than(cand):
                best_name = f"{best_name or 'plain'} + ruin and recreate"
                best = cand
    spent = time.perf_counter() - t0
    if best_name is None:
        plain.notes.append(
            f"LP-guided greedy ({', '.join(v.name for v in chosen)}; LP {guide.seconds:.2f} s, "
            f"{spent:.2f} s in all) found no better plan; the plain greedy's is kept"
        )
        return plain
    best.solve_s = plain.solve_s + spent
    best.notes.append(
        f"LP-guided greedy ({best_name}): objective {plain.objective:.6g} → {best.objective:.6g} "
        f"(LP bound {_num(guide.bound)}, {guide.seconds:.2f} s; {spent:.2f} s in all)"
    )
    return best


def ruin_budget(jobs: int) -> int:
    """Placements the ruin-and-recreate search spends on a day of ``jobs`` jobs (all rounds)."""
    if jobs < RUIN_MIN_JOBS:
        return 0
    return min(RUIN_WORK // jobs, RUIN_PER_JOB * jobs)


def best_guided(
    scenario: Scenario,
    options: PlanOptions,
    guide: LpGuide,
    variants: tuple[GuideVariant, ...],
    given: GreedySettings,
    baseline: Plan,
    t0: float,
) -> tuple[Plan, str | None]:
    """The best of ``baseline`` and the plans of the greedy steered by ``guide`` as each of
    ``variants`` says (each finished as ``plan(method="greedy")`` finishes its plans, LP
    re-timing included), with the winning variant's name (``None``: ``baseline``, which ties
    keep). A guide with a :attr:`~LpGuide.widened` support steers the variants twice, by its
    own support and by the wider one. ``given``: the greedy's settings as the caller gave
    them; ``t0``: when planning started (the plans' ``solve_s``)."""
    cfg = given.resolved(scenario)
    best, best_name = baseline, None
    supports = [(guide, "")]
    if guide.widened is not None:
        supports.append((replace(guide, x=guide.widened, widened=None), ", Lagrangian schedules"))
    for steer, says in supports:
        for variant in variants:
            st = guided_state(scenario, options.objective, cfg, steer, variant)
            cand = finish_greedy(scenario, st.assignments(), options, given, cfg, t0)
            if not best.no_worse_than(cand):  # strictly better: fewer unmet hours or objective
                best, best_name = cand, variant.name + says
    return best, best_name


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:.6g}"


__all__ = [
    "GUIDE_MAX_JOBS",
    "VARIANTS",
    "GuideVariant",
    "LpGuide",
    "best_guided",
    "guided_state",
    "lp_guide",
    "plan_guided",
    "solve_guide",
    "variants_for",
]
