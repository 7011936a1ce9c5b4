"""``operate()``: decide slot by slot, knowing only what is known then (MODEL.md §11).

At each decision slot ``k`` (every ``replan_every`` slots from 0):

1. **what is known** — the actuals of slots ``< k`` and the latest forecasts issued at or before
   ``k`` (:func:`greenopt.forecasts.known_signals`), the jobs released at or before the start of
   slot ``k`` (``arrivals="online"``) or every job (``"known"``), and every row committed so far;
2. **the residual problem** — a plain scenario of slots ``k..T-1`` (:mod:`.residual`), planned by
   ``method`` through :func:`greenopt.plan` (soft deadlines: an operator cannot refuse to act, a
   miss is reported) — the MILP starting from the rest of the previous decision's plan
   (its ``start`` parameter, :mod:`greenopt.milp.start`; not with ``warm_start=False``), so each
   decision's search goes on from where the last one stopped; the plan is checked with
   :func:`greenopt.validate` against the residual problem, and an invalid one is replaced by the
   rest of the previous decision's plan (still valid: nothing it relied on has changed but the
   forecasts) or, failing that, by no new work;
3. **commit** — the rows of slots ``k`` up to the next decision, with the rows their obligations
   carry (:mod:`.commit`: a pause-free block whole, a stay until its dwell is paid), for good.

The operated plan is the committed rows, scored on the actuals by :func:`greenopt.evaluate` and
valid under MODEL.md §5 (every committed row was part of a valid plan of a residual problem that
reserved what earlier decisions committed). Its ``status`` is ``"operated"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import OptionsError, ScenarioError
from greenopt.evaluate import evaluate
from greenopt.forecasts import Forecasts, known_signals, make_forecasts
from greenopt.objectives import Objective
from greenopt.operate.commit import dwell_need_h, rows_to_commit
from greenopt.operate.ledger import Ledger
from greenopt.operate.online import drive_online
from greenopt.operate.residual import Residual, residual_problem
from greenopt.options import PlanOptions
from greenopt.plan import plan as plan_scenario
from greenopt.result import Plan, PlanStatus
from greenopt.scenario import Scenario
from greenopt.validate import validate

#: How jobs become known (MODEL.md §11).
ARRIVALS: tuple[str, ...] = ("online", "known")

#: Columns of :attr:`Operation.decisions`, one row per decision point.
DECISION_COLUMNS = [
    "slot",  # the decision slot k
    "time",  # its start
    "until",  # the next decision's slot: rows of slots k..until-1 are committed
    "wall_s",  # the whole decision: what is known, residual problem, plan, check, commit
    "plan_s",  # of which the method's plan() call
    "method",
    "status",  # the residual plan's status; "idle" (nothing to plan), "fallback", "no-plan"
    "jobs_known",  # jobs released so far (all, with arrivals="known")
    "jobs_open",  # jobs in the residual problem (known, not finished, still able to run)
    "jobs_committed",  # jobs with rows committed by this decision
    "rows_committed",
    "committed_work_h",  # work in the rows committed by this decision
    "ahead_work_h",  # of which in slots from `until` on (a pause-free block, a dwell stay)
    "replanned_work_h",  # the work the method was asked to plan (the residual jobs' work)
    "objective",  # the residual plan's objective, on the signals known at k
    "delay_cost",  # the price of deferring work it was planned with (planning_objective)
    "violations",  # rules the method's residual plan broke (0 unless it fell back)
    "note",
]


@dataclass
class Operation:
    """The result of :func:`operate`.

    ``plan``: the committed plan, scored on the actuals (``status == "operated"``);
    ``decisions``: one row per decision point (:data:`DECISION_COLUMNS`); ``committed``: every
    committed row with the decision slot that committed it (``job, slot, site, share,
    decided``); ``regret``: ``plan.objective − foresight.objective``, where ``foresight`` is the
    plan of the same method and options with every actual and job known (planned on first use
    and kept; assign ``op.foresight = other_plan`` to measure against another).
    """

    scenario: Scenario
    plan: Plan
    decisions: pd.DataFrame
    committed: pd.DataFrame
    method: str
    forecast: str
    arrivals: str
    replan_every: int
    options: dict[str, Any] = field(default_factory=dict)
    _foresight: Plan | None = field(default=None, repr=False)

    @property
    def foresight(self) -> Plan:
        """The perfect-foresight plan (same method and options, actuals, every job known)."""
        if self._foresight is None:
            self._foresight = plan_scenario(self.scenario, self.method, **self.options)
        return self._foresight

    @foresight.setter
    def foresight(self, value: Plan) -> None:
        self._foresight = value

    @property
    def regret(self) -> float:
        """Objective of the operated plan minus the perfect-foresight plan's (MODEL.md §11)."""
        return float(self.plan.objective) - float(self.foresight.objective)

    def __repr__(self) -> str:
        return (
            f"Operation({self.method}, forecast={self.forecast}, arrivals={self.arrivals}, "
            f"{len(self.decisions)} decisions: {self.plan.summary()})"
        )


def operate(
    scenario: Scenario,
    method: str = "greedy",
    forecast: str | Forecasts = "persistence",
    arrivals: str = "online",
    replan_every: int = 1,
    time_limit: float | None = None,
    seed: int = 0,
    delay_cost: float | str | None = "auto",
    **options: Any,
) -> Operation:
    """Operate ``scenario`` slot by slot under uncertainty (MODEL.md §11; docs/operate.md).

    ``method``: any of :data:`greenopt.METHODS`, asked at each decision to plan the rest of the
    horizon; ``forecast``: a forecaster's name (``"persistence"``, ``"oracle"``,
    ``"error-model"``, ``"scenario"``: :data:`greenopt.forecasts.FORECASTERS`) or a
    :class:`~greenopt.forecasts.Forecasts` (completed by persistence where it says nothing);
    ``arrivals``: ``"online"`` (a job is known from its release) or ``"known"`` (every job from
    the start); ``replan_every``: slots between decisions (``T`` or more: one day-ahead plan at
    slot 0, executed on the actuals); ``time_limit``: seconds per decision (the MILP's budget);
    ``seed``: of the method and of the ``error-model`` forecaster; ``delay_cost``: the price of
    deferring known work while residual problems are planned (:func:`planning_objective`:
    ``"auto"``, a number in objective units per hour of a job's lateness, or ``None`` for the
    objective's own tie-break); ``options``: those of :func:`greenopt.plan` (``objective``,
    ``deadlines``, ``mip_gap``, method parameters, ...). With ``method="milp"`` each decision's
    MILP starts from the rest of the previous decision's plan (``warm_start=False``: from the
    greedy's plan alone, as ``plan()`` does).

    Residual problems are planned with soft deadlines; the operated plan is scored with
    ``deadlines`` (default soft). Raises :class:`~greenopt.errors.OptionsError` for a bad
    option, :class:`~greenopt.errors.ForecastError` when forecasts leave a slot unknown.
    """
    t_start = time.perf_counter()
    if not isinstance(scenario, Scenario):
        raise ScenarioError(
            f"operate() needs a greenopt.Scenario, got {type(scenario).__name__}", "scenario"
        )
    if arrivals not in ARRIVALS:
        raise OptionsError(
            f"arrivals must be one of {list(ARRIVALS)}, got {arrivals!r}", "arrivals"
        )
    if isinstance(replan_every, bool) or not isinstance(replan_every, int | np.integer):
        raise OptionsError(
            f"replan_every must be a whole number of slots >= 1, got {replan_every!r}",
            "replan_every",
        )
    if replan_every < 1:
        raise OptionsError(f"replan_every must be >= 1, got {replan_every}", "replan_every")
    plan_options = {"time_limit": time_limit, "seed": seed, **options}
    opts = PlanOptions.from_call(method, **plan_options)  # every option checked before anything
    plan_options["deadlines"] = "soft"  # the residual problems (see the docstring)
    _check_delay_cost(delay_cost)
    if delay_cost == "auto" and arrivals == "known":
        delay_cost = None  # every job is known: deferring is no longer blind to their needs
    T = scenario.horizon.slots
    decision_slots = list(range(0, T, int(replan_every)))
    forecasts = make_forecasts(scenario, forecast, seed=seed, issue_slots=decision_slots)
    notes: list[str] = []
    if opts.method == "online":  # its own slot-by-slot API keeps its promises (.online)
        run = drive_online(scenario, forecasts, decision_slots, arrivals, opts)
        committed, rows, notes = run.committed, run.rows, run.notes
    else:
        committed, rows = _operate_residual(
            scenario, forecasts, decision_slots, arrivals, opts, plan_options, delay_cost
        )
    decisions = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    result = evaluate(
        scenario,
        committed[["job", "slot", "site", "share"]],
        method=opts.method,
        objective=opts.objective,
        deadlines=opts.deadlines,
        status=PlanStatus.OPERATED,
        solve_s=float(decisions["plan_s"].sum()),
    )
    result.wall_s = time.perf_counter() - t_start
    wall = decisions["wall_s"].to_numpy(dtype=float)
    name = forecast if isinstance(forecast, str) else "carried"
    result.notes.append(
        f"operated by {opts.method}: forecast {name}, arrivals {arrivals}, "
        f"{len(decision_slots)} decision(s) every {replan_every} slot(s); decision time "
        f"p50 {np.percentile(wall, 50):.3g} s, p99 {np.percentile(wall, 99):.3g} s"
    )
    result.notes.extend(notes)
    fell = int(decisions["status"].isin(["fallback", "no-plan"]).sum())
    if fell:
        result.notes.append(f"{fell} decision(s) fell back: the method's plan broke a rule")
    foresight_options = {**plan_options, "deadlines": opts.deadlines}
    return Operation(
        scenario=scenario,
        plan=result,
        decisions=decisions,
        committed=committed,
        method=opts.method,
        forecast=name,
        arrivals=arrivals,
        replan_every=int(replan_every),
        options=foresight_options,
    )


def _operate_residual(
    scenario: Scenario,
    forecasts: Forecasts,
    decision_slots: list[int],
    arrivals: str,
    opts: PlanOptions,
    plan_options: dict[str, Any],
    delay_cost: float | str | None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The decision loop of every method but ``online``: at each decision slot, the residual
    problem planned by ``opts.method``, checked, and its rows up to the next decision committed
    (module docstring). Returns the ledger's rows and the decision rows."""
    T = scenario.horizon.slots
    idx = scenario.index
    dt = idx.dt_h
    ledger = Ledger(scenario)
    need_h = dwell_need_h(scenario)
    rows: list[dict[str, Any]] = []
    previous: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # last plan's rows
    for n, k in enumerate(decision_slots):
        until = decision_slots[n + 1] if n + 1 < len(decision_slots) else T
        t0 = time.perf_counter()
        visible = (
            idx.release_h <= k * dt + 1e-9
            if arrivals == "online"
            else np.ones(len(idx.job_names), dtype=bool)
        )
        known = known_signals(scenario, forecasts, k)
        res = residual_problem(scenario, ledger, known, k, visible)
        row: dict[str, Any] = {
            "slot": k,
            "time": scenario.horizon.slot_starts[k],
            "until": until,
            "method": opts.method,
            "jobs_known": int(visible.sum()),
            "jobs_open": len(res.jobs),
            "replanned_work_h": float(res.work_h.sum()),
            "plan_s": 0.0,
            "violations": 0,
            "note": None,
        }
        planned: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        if len(res.jobs):
            objective = planning_objective(res.scenario, opts.objective, delay_cost, opts.method)
            row["delay_cost"] = objective.delay_penalty
            call = {**plan_options, "objective": objective}
            if opts.method == "milp" and opts.warm_start and previous:
                call["start"] = _carried_rows(res, previous)  # the search goes on from it
            t1 = time.perf_counter()
            p = plan_scenario(res.scenario, opts.method, **call)
            row["plan_s"] = time.perf_counter() - t1
            broken = validate(res.scenario, p)
            row.update(status=str(p.status), objective=float(p.objective))
            if broken:
                row.update(violations=len(broken), note=f"{opts.method} broke a rule: {broken[0]}")
                p = _fallback(res, previous)
                row["status"] = "fallback" if p is not None else "no-plan"
            if p is not None:
                planned = _by_job(scenario, res.to_full(p.assignments))
        else:
            row.update(status="idle", objective=None)
        committed_jobs, n_rows, work, ahead = 0, 0, 0.0, 0.0
        for j, (slots, sites, shares) in planned.items():
            take = rows_to_commit(ledger, j, slots, sites, shares, until, need_h)
            if take == 0:
                continue
            ledger.commit(j, slots[:take], sites[:take], shares[:take], decided=k)
            committed_jobs += 1
            n_rows += take
            work += float(shares[:take].sum()) * dt
            ahead += float(shares[:take][slots[:take] >= until].sum()) * dt
        previous = planned
        row.update(
            jobs_committed=committed_jobs,
            rows_committed=n_rows,
            committed_work_h=work,
            ahead_work_h=ahead,
            wall_s=time.perf_counter() - t0,
        )
        rows.append(row)
    return ledger.assignments(), rows


#: The ``"auto"`` delay cost's scale per method (1 for a method not named). The MILP places the
#: known jobs optimally across sites and slots, so it needs less of a push than the greedy to
#: leave the clean capacity it cannot use now to jobs released later; at the greedy's full price
#: it runs known work at once on dirty grids instead of waiting a slot for clean capacity. Rolling
#: MILP, persistence forecasts (the operate suite's: the day before as history), online arrivals,
#: 5 s per decision, share of the foresight MILP's carbon cut at scale 1 / 0.25 / 0.1, 2022-06-21:
#: 74 / 83 / 78 %, 2023-01-15: 74 / 84 / 79 % (docs/operate.md).
AUTO_DELAY_SCALE: dict[str, float] = {"milp": 0.25}


def planning_objective(
    residual: Scenario,
    objective: Objective,
    delay_cost: float | str | None,
    method: str | None = None,
) -> Objective:
    """The objective a residual problem is planned with: ``objective`` with its
    ``delay_penalty`` raised to ``delay_cost``.

    A residual problem knows only the jobs released so far, so to it every GPU-slot of the
    future looks free, and deferring known work into the greenest future slots costs nothing
    but the objective's tie-break. Jobs not yet released will want those slots too; re-planned
    slot by slot, the deferred work piles up and ends on dirty grids (on the real-trace days,
    rolling greedy with online arrivals cut 25–31 % of run-now's carbon with the tie-break
    alone, 50–57 % with a delay cost in 0.3–1 kg per hour — docs/operate.md). ``delay_cost``
    prices a job's work-weighted lateness ``L_j`` (MODEL.md §7) in objective units per hour:

    * ``"auto"``: one hour of the mean known job's facility power (PUE × power, at its origin)
      on the mean spread of the objective's grid coefficient across sites (per slot, max − min;
      across slots with one site): what a job released later may pay on a dirtier grid if this
      work takes the cleaner capacity it would have used. Computed from the residual problem
      (known jobs, known signals) at each decision, times :data:`AUTO_DELAY_SCALE` of
      ``method`` (the MILP's is lower: it exploits the clean capacity better itself);
    * a number ``≥ 0``: that price; ``None``: the objective's own ``delay_penalty``.

    Never lowers the objective's own ``delay_penalty``. The operated plan is scored with the
    caller's objective, unchanged. :func:`operate` uses ``"auto"`` only with online arrivals:
    with every job known, deferring is no longer blind to their needs, and a delay cost *lost*
    carbon on the same days (41 % cut against 51 % for rolling greedy).
    """
    if delay_cost is None:
        return objective
    if delay_cost == "auto":
        idx = residual.index
        if len(idx.job_names) == 0:
            return objective
        coef = objective.grid_coef(residual)
        spread = coef.max(axis=0) - coef.min(axis=0) if coef.shape[0] > 1 else np.ptp(coef, 1)
        kw = float(np.mean(idx.pue[idx.origin] * idx.power_kw))
        price = kw * float(np.mean(spread)) if spread.size else 0.0
        price *= AUTO_DELAY_SCALE.get(method or "", 1.0)
    else:
        price = float(delay_cost)
    return replace(objective, delay_penalty=max(objective.delay_penalty, price))


def _check_delay_cost(delay_cost: Any) -> None:
    if delay_cost is None or delay_cost == "auto":
        return
    ok = isinstance(delay_cost, int | float) and not isinstance(delay_cost, bool)
    if not ok or not np.isfinite(delay_cost) or delay_cost < 0:
        raise OptionsError(
            f"delay_cost must be 'auto', None or a number >= 0, got {delay_cost!r}", "delay_cost"
        )


def _by_job(
    scenario: Scenario, rows: pd.DataFrame
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Plan rows (full-horizon slots) as ``{job position: (slots, sites, shares)}``, by slot."""
    idx = scenario.index
    if rows.empty:
        return {}
    j = np.fromiter((idx.job_pos[n] for n in rows["job"]), np.int64, len(rows))
    s = np.fromiter((idx.site_pos[n] for n in rows["site"]), np.int64, len(rows))
    t = rows["slot"].to_numpy(dtype=np.int64)
    sh = rows["share"].to_numpy(dtype=float)
    order = np.lexsort((t, j))
    j, s, t, sh = j[order], s[order], t[order], sh[order]
    cuts = np.flatnonzero(np.diff(j)) + 1
    out = {}
    for part in np.split(np.arange(len(j)), cuts):
        out[int(j[part[0]])] = (t[part], s[part], sh[part])
    return out


def _fallback(
    res: Residual, previous: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> Plan | None:
    """The rest of the previous decision's plan, as a plan of this residual problem, when it is
    valid there (its rows from each job's first residual slot on); else ``None``."""
    sc = res.scenario
    p = evaluate(sc, _carried_rows(res, previous), method="fallback", deadlines="soft")
    return p if not validate(sc, p) else None


def _carried_rows(
    res: Residual, previous: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The rest of the previous decision's plan as rows of this residual problem: each residual
    job's rows from its first residual slot on (``job, slot, site, share``, residual slots)."""
    ridx = res.scenario.index
    names = ridx.job_names
    recs = []
    for r, j in enumerate(res.jobs.tolist()):
        if j not in previous:
            continue
        slots, sites, shares = previous[j]
        first = res.k + int(ridx.first_slot[r])
        keep = slots >= first
        for t, s, sh in zip(slots[keep], sites[keep], shares[keep], strict=True):
            recs.append((names[r], int(t) - res.k, ridx.site_names[int(s)], float(sh)))
    return pd.DataFrame(recs, columns=["job", "slot", "site", "share"])
