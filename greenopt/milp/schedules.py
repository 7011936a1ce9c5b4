"""The schedule relaxation: a lower bound from each job's whole schedules, and plans from them.

**Why.** The compact relaxation (:mod:`greenopt.formulations.relaxation`) sees a job's work as
shares per site and slot, tied together by per-job rows (one site per slot, arrival cover,
presence). It pays a migration only in proportion to the work done after it, lets a
non-preemptible job run in any slots, and never sees link capacity. Here a job's decision is
its whole **schedule** ``p ∈ P_j`` (MODEL.md §5: sites, shares, the migrations they imply,
the block of a non-preemptible job; :mod:`greenopt.solvers.pricing`), and only what couples
jobs stays in rows — a Dantzig–Wolfe reformulation. With ``λ_{j,p} ≥ 0`` the weight of
schedule ``p`` of job ``j``, ``x^p``, ``arr^p``, ``mv^p`` its shares, arrivals and moves:

    min  Σ_{j,p} c_p·λ_{j,p} + Σ_{s,t} coef[s,t]·grid[s,t]
    s.t. Σ_p λ_{j,p} = 1                                                   (σ_j, every job)
         Σ_{j,p} gpus_j·x^p[s,t]·λ_{j,p} ≤ gpus_s                           (GPU-time, §4)
         grid[s,t] − Σ_{j,p} (kWh of x^p and arr^p at s,t)·λ_{j,p} ≥ fac0 − renewable   (§8)
         (negative-price site-slots: the exact max(0, ·) rows of §8, switch relaxed)
         Σ_{j,p} Σ_{moves of p over link e in t} gb_j·λ_{j,p} ≤ capacity_e          (links, §7)

``c_p`` = lateness + migration penalties + ``U``·unmet of the schedule: exactly
:mod:`greenopt.objectives`. Every plan is one schedule per job (``λ`` 0/1) with the same
objective, so the LP optimum is a lower bound of every plan, at least the compact LP's when
solved (each schedule satisfies every per-job row of the compact LP; the coupling rows are the
same, plus links).

**The bound at every round.** The master LP over the schedules generated so far gives duals
``y`` of the coupling rows; for *any* ``y`` of the right signs, Lagrangian duality gives

    L(y) = offset + Σ_r y_r·b_r + Σ_{site columns k} min(d_k·lb_k, d_k·ub_k)
           + Σ_j min_{p ∈ P_j} (c_p − yᵀA_p)

(``b_r`` the row's bound on the side ``y_r`` pushes, ``d = c − Aᵀy``). Pricing
(:func:`~greenopt.solvers.pricing.price`) returns a lower bound of each job's minimum, so
``L(y)`` is a true lower bound of every plan at every round — converged or not — and the best
one over the rounds is reported. Columns are the pricing's shortest paths with their shares
chosen exactly; they enter the master when their reduced cost is negative.

**Plans (price-and-branch).** The master with ``λ`` binary over every generated schedule (and
the negative-price switches binary) is a MILP whose solutions are plans: one schedule per job,
capacity, energy and links respected. HiGHS solves it from the start plan's schedules; the
result is read back as assignments and scored by :func:`greenopt.evaluate.evaluate`.

The dwell rule (MODEL.md §5, rule 8) is not priced: the bound holds with it on or off (weaker
with it on; its floor, the compact relaxation's bound, has the rule's rows of §11a of the
formulations' MODEL.md on models of up to 40,000 reachable columns); when the scenario carries
``migration_alpha``, schedules that break it are kept out of the plan MILP.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from greenopt.formulations.capacity import add_capacity
from greenopt.formulations.energy import add_energy
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.objective import unmet_cost, x_cost
from greenopt.formulations.sets import IndexSets, build_sets
from greenopt.objectives import Objective
from greenopt.solvers.pricing import JobSpace, Prices, Schedule, fill_path, price

#: Cost per hour of a job's artificial "not planned" column under hard deadlines (keeps the
#: master feasible before enough schedules exist; never part of a plan).
_ARTIFICIAL = 1e7
#: The master of the column-generation rounds is re-solved by the simplex method from the last
#: basis until one re-solve takes more than this many simplex iterations, then by the interior
#: point method (with crossover: a basis for the dive) for the rest of the rounds. A round adds
#: up to one schedule per job, and on large days the warm start pays that in iterations: at
#: 1000 jobs × 15 sites × 96 slots re-solves took 10–77 thousand iterations (1.5–37 s) where
#: the IPM took 0.5–4 s, the same 12 rounds' master 190.6 s → 23.7 s; at 500 × 10 × 48 they peak
#: below 10,000 (≤ 1.3 s) and the simplex stays (its 80 rounds 14.9 s; the IPM's 70 took 79 s).
#: A count of iterations, not seconds, so that a deterministic run switches at the same round.
IPM_AFTER_ITERATIONS = 15_000


class ScheduleBound(NamedTuple):
    """What :func:`schedule_bound` returns (a tuple: ``bound, columns, plan, stats = ...``)."""

    bound: float | None  # a lower bound of every valid plan's objective (None: none found)
    columns: list[Schedule]  # every schedule generated (the start plan's first)
    plan: Any  # the price-and-branch plan (greenopt.Plan), or None
    stats: dict[str, Any]


@dataclass
class _Problem:
    """The coupling rows (compact relaxation's energy and capacity rows, and link rows) and the
    pieces of a schedule as columns of them."""

    scenario: Any
    objective: Objective
    deadlines: str
    ix: IndexSets
    mx: Matrix
    space: JobSpace
    A: sp.csc_array  # coupling rows × matrix columns
    row_lb: np.ndarray
    row_ub: np.ndarray
    site_cols: np.ndarray  # matrix columns that are not a job's (grid, negative-price switch)
    x_col: np.ndarray  # (J, S, T) matrix column of x[j,s,t], −1 where none
    arr_col: np.ndarray  # (J, S, T) matrix column of arr[j,b,t], −1 where none
    unmet_col: np.ndarray  # (J,) −1 under hard deadlines
    link_rows: list[tuple[int, int]] = field(default_factory=list)  # (link id, slot)
    link_cap: np.ndarray = field(default_factory=lambda: np.zeros(0))
    link_of_pair: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    link_row_of: dict[tuple[int, int], int] = field(default_factory=dict)
    dist: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (J, S, S) disruption/Δh
    alpha: float | None = None
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # objective per matrix column
    n_links: int = 0

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0]) + len(self.link_rows)


def _build(scenario: Any, objective: Objective, deadlines: str) -> _Problem:
    ix = build_sets(scenario, objective, deadlines, relax=True)
    idx = scenario.index
    net = scenario.network
    J, S, T, dt = ix.J, ix.S, ix.T, ix.dt
    mx = Matrix()
    x = mx.add_cols(
        "x", {"job": ix.xj, "site": ix.xs, "slot": ix.xt}, 0.0, ix.x_ub[ix.xj], cost=x_cost(ix)
    )
    unmet_col = np.full(J, -1, dtype=np.int64)
    if deadlines == "soft":
        u = mx.add_cols("unmet", {"job": np.arange(J)}, 0.0, idx.work_h, cost=unmet_cost(ix))
        unmet_col = u.cols(np.arange(J))
    # arrivals at every site a job can be at (its origin too, when it can come back)
    keys = []
    for j in range(J):
        nodes = set(ix.cand[j].tolist())
        if idx.migratable[j]:
            nodes.add(int(idx.origin[j]))
        else:
            nodes.discard(int(idx.origin[j]))
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        for b in sorted(nodes):
            for t in range(f, e):
                keys.append((j, b, t))
    arr_keys = np.array(keys, dtype=np.int64).reshape(-1, 3)
    arr = mx.add_cols(
        "arr",
        {"job": arr_keys[:, 0], "site": arr_keys[:, 1], "slot": arr_keys[:, 2]},
        0.0,
        1.0,
        cost=objective.migration_penalty,
    )
    add_energy(mx, ix, arrivals="arr")
    add_capacity(mx, ix)
    A, rlb, rub = mx.row_arrays()
    x_col = np.full((J, S, T), -1, dtype=np.int64)
    x_col[ix.xj, ix.xs, ix.xt] = x.cols(np.arange(x.n))
    arr_col = np.full((J, S, T), -1, dtype=np.int64)
    if arr.n:
        arr_col[arr_keys[:, 0], arr_keys[:, 1], arr_keys[:, 2]] = arr.cols(np.arange(arr.n))
    site_cols = np.concatenate(
        [mx.cols[n].cols(np.arange(mx.cols[n].n)) for n in ("grid", "y") if n in mx.cols]
        or [np.zeros(0, dtype=np.int64)]
    )

    # moves a job may make (MODEL.md here §1, as the MILP's sets)
    dist = net.disruption_h / dt  # (J, S, S)
    link_min = np.full((S, S), np.inf)
    for (a, b), links in net.links.items():
        if links:
            link_min[idx.site_pos[a], idx.site_pos[b]] = min(
                net.link_capacity_gb[lk] for lk in links
            )
    move_ok = np.zeros((J, S, S), dtype=bool)
    hi_arr = np.zeros((J, S, S))
    for j in range(J):
        c = ix.cand[j]
        if not len(c):
            continue
        nodes = np.union1d(c, [idx.origin[j]])
        ok = (1.0 - dist[j] >= ix.delta[j] - 1e-12) & (idx.state_gb[j] <= link_min + 1e-9)
        m = np.zeros((S, S), dtype=bool)
        m[np.ix_(nodes, c)] = True
        m &= ok
        np.fill_diagonal(m, False)
        if not idx.migratable[j]:
            keep = np.zeros((S, S), dtype=bool)
            keep[idx.origin[j], :] = True
            m &= keep
        move_ok[j] = m
        hi_arr[j] = np.clip(np.minimum(ix.x_ub[j], 1.0 - dist[j]), 0.0, None)
    space = JobSpace(
        S=S,
        T=T,
        dt=dt,
        first=np.asarray(idx.first_slot, dtype=np.int64),
        end=np.asarray(idx.end_slot, dtype=np.int64),
        origin=np.asarray(idx.origin, dtype=np.int64),
        work=np.asarray(idx.work_h, dtype=float),
        x_ub=ix.x_ub,
        delta=ix.delta,
        preemptible=np.asarray(idx.preemptible, dtype=bool),
        migratable=np.asarray(idx.migratable, dtype=bool),
        gb=np.asarray(idx.state_gb, dtype=float),
        move_ok=move_ok,
        hi_arr=hi_arr,
        soft=deadlines == "soft",
        unmet_cost=float(unmet_cost(ix)),
    )
    prob = _Problem(
        scenario=scenario,
        objective=objective,
        deadlines=deadlines,
        ix=ix,
        mx=mx,
        space=space,
        A=sp.csc_array(A),
        row_lb=rlb,
        row_ub=rub,
        site_cols=site_cols,
        x_col=x_col,
        arr_col=arr_col,
        unmet_col=unmet_col,
        dist=dist,
        alpha=getattr(scenario, "migration_alpha", None),
        cost=mx.col_arrays()[0],
    )
    _add_link_rows(prob)
    return prob


def _add_link_rows(prob: _Problem) -> None:
    """Link rows (MODEL.md here §7) where the moves that could use a link in a slot exceed it."""
    sc = prob.scenario
    net = sc.network
    idx = sc.index
    S, T = prob.space.S, prob.space.T
    names = idx.site_names
    ids = {lk: i for i, lk in enumerate(sorted(net.link_capacity_gb))}
    cap = np.array([net.link_capacity_gb[lk] for lk in sorted(net.link_capacity_gb)])
    prob.n_links = len(cap)
    for a in range(S):
        for b in range(S):
            if a != b and (names[a], names[b]) in net.links:
                prob.link_of_pair[(a, b)] = [ids[lk] for lk in net.links[(names[a], names[b])]]
    if not prob.link_of_pair:
        return
    load = np.zeros((len(cap), T))
    uses = np.zeros((prob.space.J, len(cap)), dtype=bool)
    for (a, b), lks in prob.link_of_pair.items():
        jobs = np.flatnonzero(prob.space.move_ok[:, a, b])
        for lk in lks:
            uses[jobs, lk] = True
    for j in range(prob.space.J):
        lks = np.flatnonzero(uses[j])
        if len(lks):
            f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
            load[lks, f:e] += idx.state_gb[j]
    cap_t = np.repeat(cap[:, None], T, axis=1)  # less what is reserved (Scenario.reserved_link_gb)
    for lk, gb in idx.reserved_link_gb.items():
        cap_t[ids[lk]] -= gb
    rows = np.argwhere(load > cap_t * (1 + 1e-9) + 1e-9)
    prob.link_rows = [(int(e), int(t)) for e, t in rows]
    prob.link_cap = cap_t[rows[:, 0], rows[:, 1]] if len(rows) else np.zeros(0)
    prob.link_row_of = {r: i for i, r in enumerate(prob.link_rows)}


# -- schedules as master columns -----------------------------------------------------------
def _column(prob: _Problem, sch: Schedule) -> tuple[float, np.ndarray, np.ndarray]:
    """``(cost, coupling rows, values)`` of a schedule: rows index the coupling rows and then
    the link rows (offset by the coupling row count)."""
    j = sch.job
    cols = [prob.x_col[j, sch.sites, sch.slots]]
    vals = [sch.shares]
    if sch.moves:
        mv = np.array(sch.moves, dtype=np.int64)
        cols.append(prob.arr_col[j, mv[:, 1], mv[:, 2]])
        vals.append(np.ones(len(mv)))
    if sch.unmet > 0 and prob.unmet_col[j] >= 0:
        cols.append(np.array([prob.unmet_col[j]]))
        vals.append(np.array([sch.unmet]))
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    if np.any(c < 0):
        raise ValueError(f"schedule of job {j} uses a run or arrival outside the relaxation: {sch}")
    cost = float(prob.cost[c] @ v)
    sub = prob.A[:, c] @ v
    nz = np.flatnonzero(sub)
    rows, data = [nz], [sub[nz]]
    if prob.link_rows and sch.moves:
        gb = float(prob.space.gb[j])
        n0 = int(prob.A.shape[0])
        acc: dict[int, float] = {}
        for a, b, t in sch.moves:
            for lk in prob.link_of_pair.get((a, b), []):
                r = prob.link_row_of.get((lk, t))
                if r is not None:
                    acc[n0 + r] = acc.get(n0 + r, 0.0) + gb
        if acc:
            rows.append(np.array(list(acc), dtype=np.int64))
            data.append(np.array(list(acc.values())))
    return cost, np.concatenate(rows), np.concatenate(data)


def schedules_of_plan(prob: _Problem, assignments: pd.DataFrame) -> list[Schedule]:
    """Each job's schedule in a plan (its assignments), migrations derived as MODEL.md §5."""
    idx = prob.scenario.index
    out: list[Schedule] = []
    a = assignments
    by_job: dict[int, list[tuple[int, int, float]]] = {j: [] for j in range(prob.space.J)}
    if len(a):
        for job, t, site, share in zip(
            a["job"].tolist(),
            a["slot"].tolist(),
            a["site"].tolist(),
            a["share"].tolist(),
            strict=True,
        ):
            by_job[idx.job_pos[job]].append((int(t), idx.site_pos[site], float(share)))
    for j, rows in by_job.items():
        rows.sort()
        slots = np.array([r[0] for r in rows], dtype=np.int64)
        sites = np.array([r[1] for r in rows], dtype=np.int64)
        shares = np.array([r[2] for r in rows])
        moves = []
        prev = int(idx.origin[j])
        for t, s in zip(slots.tolist(), sites.tolist(), strict=True):
            if s != prev:
                moves.append((prev, s, t))
            prev = s
        done = float(shares.sum() * prob.space.dt)
        unmet = max(0.0, float(idx.work_h[j]) - done)
        out.append(Schedule(j, slots, sites, shares, moves, unmet))
    return out


def _idle(prob: _Problem, j: int) -> Schedule:
    e = np.zeros(0, dtype=np.int64)
    return Schedule(j, e, e.copy(), np.zeros(0), [], float(prob.space.work[j]))


def _dwell_ok(prob: _Problem, sch: Schedule) -> bool:
    """MODEL.md §5, rule 8: after a migration a → b the job works ≥ transfer_h/α hours at b
    before it moves again, unless it finishes its work there."""
    if prob.alpha is None or not sch.moves:
        return True
    net = prob.scenario.network
    j = sch.job
    dt = prob.space.dt
    gbps = net.bottleneck_gbps
    done_total = float(sch.shares.sum() * dt)
    finished = done_total >= float(prob.space.work[j]) - 1e-6
    move_at = {t: (a, b) for a, b, t in sch.moves}
    starts = [i for i, t in enumerate(sch.slots.tolist()) if t in move_at]
    for k, i0 in enumerate(starts):
        i1 = starts[k + 1] if k + 1 < len(starts) else len(sch.slots)
        a, b = move_at[int(sch.slots[i0])]
        transfer = float(prob.space.gb[j]) * 8.0 / (gbps[a, b] * 3600.0)
        worked = float(sch.shares[i0:i1].sum() * dt)
        last = k + 1 == len(starts)
        if worked < transfer / float(prob.alpha) - 1e-6 and not (last and finished):
            return False
    return True


# -- the master ---------------------------------------------------------------------------------
class _Master:
    """The restricted master LP in one ``highspy.Highs`` (columns added, simplex warm starts)."""

    def __init__(self, prob: _Problem, threads: int | None) -> None:
        import highspy

        from greenopt.solvers.highs import new_highs

        self.prob = prob
        c_all, lb_all, ub_all, integer = prob.mx.col_arrays()
        n_c = int(prob.A.shape[0])
        self.n_c = n_c
        self.n_l = len(prob.link_rows)
        J = prob.space.J
        self.J = J
        self.row_lb = np.concatenate([prob.row_lb, np.full(self.n_l, -np.inf), np.ones(J)])
        self.row_ub = np.concatenate([prob.row_ub, prob.link_cap, np.ones(J)])
        sc = prob.site_cols
        self.site_c = c_all[sc]
        self.site_lb = lb_all[sc]
        self.site_ub = ub_all[sc]
        self.site_int = integer[sc]
        self.offset = float(prob.mx.offset)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        # no "threads" option: the simplex runs on one thread anyway, and HiGHS refuses to run
        # (kError) a Highs asking for fewer threads than its process-wide scheduler has
        del threads
        lp = highspy.HighsLp()
        sub = sp.csc_array(prob.A[:, sc])
        n_rows = n_c + self.n_l + J
        sub = sp.csc_array((sub.data, sub.indices, sub.indptr), shape=(n_rows, len(sc)))
        lp.num_col_ = len(sc)
        lp.num_row_ = n_rows
        lp.col_cost_ = self.site_c
        lp.col_lower_ = self.site_lb
        lp.col_upper_ = self.site_ub
        lp.row_lower_ = self.row_lb
        lp.row_upper_ = self.row_ub
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data.astype(float)
        h.passModel(lp)
        self.h = h
        self.site_A = sub
        self.columns: list[Schedule] = []
        self.col_cost: list[float] = []
        self.col_rows: list[np.ndarray] = []
        self.col_vals: list[np.ndarray] = []
        self.artificial: list[bool] = []
        self.seen: set[tuple] = set()
        self.outside = 0
        self.last_status = ""
        self.iterations = 0  # simplex iterations of the last solve

    def add(self, schedules: list[Schedule], artificial: bool = False) -> int:
        """Add the schedules not already in the master; returns how many were added."""
        costs, starts, index, value = [], [0], [], []
        added = 0
        for sch in schedules:
            key = sch.key()
            if key in self.seen:
                continue
            self.seen.add(key)
            if artificial:
                cost = _ARTIFICIAL * float(self.prob.space.work[sch.job])
                rows, vals = np.zeros(0, dtype=np.int64), np.zeros(0)
            else:
                try:
                    cost, rows, vals = _column(self.prob, sch)
                except ValueError:
                    self.outside += 1  # e.g. a start plan that breaks a rule: not a schedule
                    continue
            rows = np.concatenate([rows, [self.n_c + self.n_l + sch.job]])
            vals = np.concatenate([vals, [1.0]])
            self.columns.append(sch)
            self.col_cost.append(cost)
            self.col_rows.append(rows)
            self.col_vals.append(vals)
            self.artificial.append(artificial)
            costs.append(cost)
            index.append(rows)
            value.append(vals)
            starts.append(starts[-1] + len(rows))
            added += 1
        if added:
            self.h.addCols(
                added,
                np.array(costs),
                np.zeros(added),
                np.full(added, np.inf),
                int(starts[-1]),
                np.array(starts[:-1], dtype=np.int32),
                np.concatenate(index).astype(np.int32),
                np.concatenate(value).astype(float),
            )
        return added

    def fix(self, cols: list[int], on: bool = True) -> None:
        """Force the schedules ``cols`` (positions in ``columns``) to weight 1 (``on``) or
        release them."""
        n_site = len(self.site_c)
        for c in cols:
            self.h.changeColBounds(n_site + int(c), 1.0 if on else 0.0, np.inf)

    def weights(self, values: np.ndarray) -> np.ndarray:
        """The schedules' weights ``λ`` in a solution's column values."""
        return values[len(self.site_c) :]

    def solve(
        self, time_limit: float | None, ipm: bool = False
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """``(objective, row duals, column values)``, or None if the LP did not solve;
        ``ipm``: by the interior point method and crossover instead of the simplex method from
        the last basis (:data:`IPM_AFTER_ITERATIONS`)."""
        import highspy

        # HiGHS compares time_limit with the run time summed over every run() of this object
        # (measured: a limit below that sum stops the next solve at once), and the option stays
        # until set again
        limit = math.inf
        if time_limit is not None:
            limit = self.h.getRunTime() + max(float(time_limit), 0.01)
        self.h.setOptionValue("time_limit", limit)
        self.h.setOptionValue("solver", "ipm" if ipm else "simplex")
        self.h.run()
        self.iterations = int(self.h.getInfo().simplex_iteration_count)
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            self.last_status = self.h.modelStatusToString(status)
            return None
        sol = self.h.getSolution()
        z = float(self.h.getInfo().objective_function_value)
        return z, np.asarray(sol.row_dual), np.asarray(sol.col_value)


def _clean_duals(y: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Duals of the sign a minimisation allows (a row with no bound on one side gets no dual
    pushing that side): any such ``y`` gives a valid Lagrangian bound."""
    y = y.copy()
    y[(y > 0) & ~np.isfinite(lb)] = 0.0
    y[(y < 0) & ~np.isfinite(ub)] = 0.0
    return y


def _prices(prob: _Problem, y_c: np.ndarray, y_l: np.ndarray) -> Prices:
    """Reduced costs of runs, arrivals and routes under coupling duals ``y_c`` and link duals
    ``y_l`` (dense, ``inf`` where the piece does not exist)."""
    J, S, T = prob.space.J, prob.space.S, prob.space.T
    d = prob.cost - prob.A.T @ y_c
    run = np.full((J, S, T), np.inf)
    has = prob.x_col >= 0
    run[has] = d[prob.x_col[has]]
    arrive = np.full((J, S, T), np.inf)
    has = prob.arr_col >= 0
    arrive[has] = d[prob.arr_col[has]]
    route = np.zeros((S, S, T))
    if len(prob.link_rows):
        per_link = np.zeros((prob.n_links, T))
        rows = np.array(prob.link_rows, dtype=np.int64)
        per_link[rows[:, 0], rows[:, 1]] = y_l
        for (a, b), lks in prob.link_of_pair.items():
            route[a, b] = per_link[lks].sum(axis=0)
    return Prices(run=run, arrive=arrive, route=route)


def _lagrangian(master: _Master, y: np.ndarray, job_lower: np.ndarray) -> float:
    """``L(y)`` (module docstring) from cleaned duals ``y`` of the coupling and link rows and a
    lower bound per job of its least reduced cost."""
    n = master.n_c + master.n_l
    lb, ub = master.row_lb[:n], master.row_ub[:n]
    b = np.where(y > 0, np.where(np.isfinite(lb), lb, 0.0), np.where(np.isfinite(ub), ub, 0.0))
    value = master.offset + float(y @ b)
    d = master.site_c - master.site_A[:n, :].T @ y
    with np.errstate(invalid="ignore"):
        lo = np.where(d >= 0, d * master.site_lb, d * master.site_ub)
    lo = np.where(np.isnan(lo), 0.0, lo)
    if np.any(np.isinf(lo)) or np.any(~np.isfinite(job_lower)):
        return -math.inf
    return value + float(lo.sum()) + float(job_lower.sum())


# -- one pass at given duals -----------------------------------------------------------------------
#: Seconds per reachable run-share column of :func:`priced_bound` (its build and one pricing
#: pass), with a margin: measured on one core, 1000 × 15 × 96 (308,146 columns) 3.6 s,
#: 2000 × 20 × 96 (884,726) 14.7 s.
PRICED_S_PER_COL = 2e-5


def priced_seconds(scenario: Any) -> float:
    """Estimated seconds of :func:`priced_bound` on ``scenario``."""
    return PRICED_S_PER_COL * scenario.index.run_columns


def priced_bound(
    scenario: Any,
    objective: Objective,
    deadlines: str,
    duals: dict[str, tuple[np.ndarray, np.ndarray]],
    stop: Any = None,
) -> float | None:
    """The schedule relaxation's Lagrangian bound ``L(y)`` (module docstring) at the compact
    relaxation's row duals ``y`` — ``duals[block] = (keys, y)`` for its row blocks; the
    energy and capacity blocks are this relaxation's coupling rows, the link rows get 0 — from
    one pricing pass, with no master LP. ``None`` if ``stop()`` said so first.

    Why it pays: at duals ``y*`` that are optimal for the compact LP, relaxing only the
    coupling rows gives the compact LP's value (LP duality), and each job's schedules are a
    subset of its compact per-job polytope, so ``L(y*)`` is at least the compact LP's bound —
    more wherever the compact LP mixes what no schedule does (a non-preemptible block at two
    times, a migration paid in proportion). More generally, at the duals of any Lagrangian
    bound of the compact LP (the column generation's, which relaxes the per-job rows too) it is
    at least that bound, for the same reason. Measured at 1000 × 15 × 96: the compact LP's
    optimum 734.41 → 746.67 (the schedule relaxation converged: 754.6); the first restricted
    master's best duals (bound 651.2) → 718.3; 2000 × 20 × 96, the restricted master's duals
    after 120 s (bound 832.0) → 1,099.7, above the compact LP's optimum (≈ 1,090). Any ``y``
    of the right signs gives a true bound."""
    got = _priced(scenario, objective, deadlines, duals, stop, want_paths=False)
    return None if got is None else got[0]


class LagrangianView(NamedTuple):
    """One pricing pass's view of the day at duals ``y`` (:func:`priced_schedules`)."""

    bound: float | None  # L(y)
    schedules: list[Schedule]  # each job's schedule of least reduced cost found
    run_price: np.ndarray  # (J, S, T) reduced cost of one slot-share of a run (inf: none)
    lower: np.ndarray  # (J,) lower bound of each job's least reduced cost


def priced_schedules(
    scenario: Any,
    objective: Objective,
    deadlines: str,
    duals: dict[str, tuple[np.ndarray, np.ndarray]],
    stop: Any = None,
) -> LagrangianView | None:
    """:func:`priced_bound` and, from the same pass, each job's schedule of least reduced cost
    found (a job whose paths hold no schedule is left out): where each job would run if the
    coupling rows cost exactly ``y`` — a Lagrangian solution, guidance for the greedy
    (:func:`greenopt.heuristics.guided.with_schedules`). ``None`` if ``stop()`` said so."""
    got = _priced(scenario, objective, deadlines, duals, stop, want_paths=True)
    if got is None:
        return None
    bound, prob, prices, pr = got
    chosen: dict[int, tuple[float, Schedule]] = {}
    for path in pr.paths:
        j = path.job
        g = float(pr.by_class[j, min(path.klass, pr.by_class.shape[1] - 1)])
        if j in chosen and chosen[j][0] <= g:
            continue
        sch = fill_path(prob.space, path, prices.run[j], prob.dist[j])
        if sch is not None:
            chosen[j] = (g, sch)
    return LagrangianView(bound, [chosen[j][1] for j in sorted(chosen)], prices.run, pr.lower)


def _priced(
    scenario: Any,
    objective: Objective,
    deadlines: str,
    duals: dict[str, tuple[np.ndarray, np.ndarray]],
    stop: Any,
    want_paths: bool,
) -> tuple[float | None, _Problem, Prices, Any] | None:
    """One pricing pass at ``duals``: its bound (``None`` when not finite), the problem, the
    prices and the pricing's result; ``None`` if ``stop()`` said so."""
    prob = _build(scenario, objective, deadlines)
    master = _Master(prob, 1)
    n = master.n_c + master.n_l
    y = np.zeros(n)
    off = 0
    for name, block in prob.mx.rows.items():
        got = duals.get(name)
        if got is not None and np.array_equal(got[0], block.keys):
            y[off : off + block.n] = got[1]
        off += block.n
    y = _clean_duals(y, master.row_lb[:n], master.row_ub[:n])
    prices = _prices(prob, y[: master.n_c], y[master.n_c :])
    pr = price(prob.space, prices, want_paths=want_paths, stop=stop)
    if stop is not None and stop():
        return None
    bound = _lagrangian(master, y, pr.lower)
    return (bound if math.isfinite(bound) else None), prob, prices, pr


# -- the entry point ----------------------------------------------------------------------------
def schedule_bound(
    scenario: Any,
    objective: str | Objective = "carbon",
    deadlines: str = "soft",
    time_limit: float | None = 60.0,
    *,
    start: Any = None,
    classes: int = 3,
    integer: bool = True,
    mip_share: float = 0.4,
    mip_gap: float = 1e-4,
    threads: int | None = 1,
    seed: int = 0,
    max_rounds: int = 200,
    smoothing: float = 0.5,
    floor: float | None = None,
    progress: Any = None,
    cancel: Any = None,
) -> ScheduleBound:
    """A lower bound of every plan from the schedule relaxation, and a plan from its columns.

    ``start``: a plan (``greenopt.Plan`` or an assignments table) whose schedules seed the
    master and the plan MILP (default: the MILP's start, the greedy with re-placement passes).
    ``classes``: move classes of pricing (3: no move and one move, priced exactly for
    preemptible jobs, and two or more). ``integer``:
    solve the price-and-branch MILP in the last ``mip_share`` of the time (``plan`` is
    ``None`` otherwise). ``smoothing``: weight of the best duals so far in the point priced
    (Wentges; 0: the master's duals). ``floor``: a bound known from elsewhere (e.g. the compact
    relaxation's); the bound returned is the larger (``stats["lagrangian"]``: this one's own).
    ``progress(seconds, bound, master objective)`` after every round. ``cancel``: a
    :class:`~greenopt.solvers.highs.Cancel` that stops the rounds (and the master LP under way);
    the bound so far stays valid.

    Returns ``ScheduleBound(bound, columns, plan, stats)``; ``stats`` has the rounds, the bound
    and master objective per round (``trace``), columns, pricing and master seconds.
    """
    from greenopt.evaluate import evaluate
    from greenopt.validate import validate

    t0 = time.perf_counter()
    obj = Objective.of(objective)
    if deadlines not in ("soft", "hard"):
        from greenopt.errors import ScenarioError

        raise ScenarioError(f"deadlines must be 'soft' or 'hard', got {deadlines!r}", "deadlines")
    prob = _build(scenario, obj, deadlines)
    master = _Master(prob, threads)
    if cancel is not None:
        cancel.register(master.h)
    J = prob.space.J
    stats: dict[str, Any] = {
        "build_s": time.perf_counter() - t0,
        "rounds": 0,
        "trace": [],
        "pricing_s": 0.0,
        "master_s": 0.0,
        "shortest_paths": 0,
    }
    if start is None:
        start = _start_plan(scenario, obj, deadlines, threads, seed)
    assignments = getattr(start, "assignments", start)
    start_cols = schedules_of_plan(prob, assignments) if assignments is not None else []
    master.add(start_cols)
    if deadlines == "soft":
        master.add([_idle(prob, j) for j in range(J)])
    else:
        master.add([_idle(prob, j) for j in range(J)], artificial=True)

    lp_limit = None if time_limit is None else time_limit * (1.0 - mip_share if integer else 1.0)
    best: float | None = None
    lam = None
    n_c, n_l = master.n_c, master.n_l
    y_best: np.ndarray | None = None
    alpha = smoothing
    ipm = False  # the master by the simplex method until a re-solve is long
    while stats["rounds"] < max_rounds:
        left = None if lp_limit is None else lp_limit - (time.perf_counter() - t0)
        if (left is not None and left <= 0.05) or (cancel is not None and cancel.cancelled):
            break
        tm = time.perf_counter()
        res = master.solve(left, ipm=ipm)
        stats["master_s"] += time.perf_counter() - tm
        if not ipm and master.iterations > IPM_AFTER_ITERATIONS:
            ipm = True
            stats["ipm_from_round"] = stats["rounds"] + 1
        if res is None:
            stats["stopped"] = f"master LP: {master.last_status}"
            break
        z, row_dual, _ = res
        n = n_c + n_l
        y = _clean_duals(row_dual[:n], master.row_lb[:n], master.row_ub[:n])
        sigma = row_dual[n:]
        # Wentges smoothing: price at a point between the best duals so far and the master's
        # (any point between two sign-valid dual vectors is sign-valid: L stays a bound)
        y_at = y if y_best is None or alpha <= 0 else alpha * y_best + (1 - alpha) * y
        prices = _prices(prob, y_at[:n_c], y_at[n_c:])
        tp = time.perf_counter()
        pr = price(prob.space, prices, classes=classes, lam0=lam)
        stats["pricing_s"] += time.perf_counter() - tp
        stats["shortest_paths"] += pr.dps
        lam = pr.lam
        stats["last_pricing"] = {"by_class": pr.by_class, "sigma": sigma.copy()}
        bound = _lagrangian(master, y_at, pr.lower)
        if math.isfinite(bound) and (best is None or bound > best):
            best, y_best = bound, y_at
        stats["rounds"] += 1
        stats["trace"].append((time.perf_counter() - t0, best, z))
        if progress is not None:
            progress(time.perf_counter() - t0, best, z)
        new = []
        for path in pr.paths:
            sch = fill_path(prob.space, path, prices.run[path.job], prob.dist[path.job])
            if sch is None:
                continue
            try:
                cost, rows, vals = _column(prob, sch)
            except ValueError:
                continue
            rc = cost - float(y[rows] @ vals) - float(sigma[sch.job])  # at the master's duals
            if rc < -1e-9 * max(1.0, abs(z)):
                new.append(sch)
        added = master.add(new)
        if best is not None and z - best <= 1e-7 * max(1.0, abs(z)):
            stats["converged"] = True
            break
        if added == 0:
            if y_at is not y:
                alpha = 0.0  # mispricing: the next round prices at the master's duals
                continue
            stats["converged"] = False  # pricing found nothing new: its relaxation gap remains
            break
        alpha = smoothing
    stats["lp_s"] = time.perf_counter() - t0
    stats["columns"] = len(master.columns)
    stats["outside"] = master.outside
    stats["master_objective"] = stats["trace"][-1][2] if stats["trace"] else None

    plan = None
    if integer and master.columns:
        tm = time.perf_counter()
        dive_end = None
        if time_limit is not None:
            dive_end = t0 + time_limit * (1.0 - 0.5 * mip_share)
        fixed, sure = _dive(master, prob, classes, lam, dive_end, stats)
        stats["dive_s"] = time.perf_counter() - tm
        tm = time.perf_counter()

        def left() -> float | None:
            return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1.0)

        chosen = None
        if len(fixed) == J:  # a whole plan: the MILP over every column starts from it
            start_set = [master.columns[c] for c in fixed.values()]
            chosen = _price_and_branch(master, start_set, left(), mip_gap, threads, seed)
        else:
            # the dive's fixings kept, then only its integral ones, then none (time allowing,
            # 40 % of what is left each): the best of their plans
            tries = [list(fixed.values()), [fixed[j] for j in sorted(sure)], []]
            found: list[tuple[float, float, list[Schedule]]] = []
            for k, keep in enumerate(tries):
                if k and keep == tries[k - 1]:
                    continue
                if k and time_limit is not None and left() <= 1.0:
                    break
                share = left()
                if share is not None and k < len(tries) - 1:
                    share *= 0.4
                got = _price_and_branch(
                    master, start_cols, share, mip_gap, threads, seed, fixed=keep
                )
                if got is not None:
                    unmet = sum(c.unmet for c in got)
                    found.append((unmet, _cost_of(master, got), got))
            chosen = min(found, key=lambda f: (f[0] > 1e-9, f[1]))[2] if found else None
        stats["mip_s"] = time.perf_counter() - tm
        if chosen is not None:
            plan = evaluate(
                scenario,
                _assignments(scenario, chosen),
                method="schedules",
                objective=obj,
                deadlines=deadlines,
                status="feasible",
            )
        rounded = stats.pop("dive_heaviest", None)
        if rounded is not None and len({c.job for c in rounded}) == J:
            # the dive's schedules, each job at its heaviest: their locations and moves kept,
            # the shares re-optimised together by an LP (capacity and work rows met again)
            tr = time.perf_counter()
            retimed = _retime(scenario, _assignments(scenario, rounded), obj, deadlines, threads)
            stats["retime_s"] = time.perf_counter() - tr
            if retimed is not None:
                cand = evaluate(
                    scenario,
                    retimed,
                    method="schedules",
                    objective=obj,
                    deadlines=deadlines,
                    status="feasible",
                )
                stats["dive_retimed_objective"] = cand.kpis["objective"]
                ok = prob.alpha is None or all(
                    _dwell_ok(prob, c) for c in schedules_of_plan(prob, retimed)
                )
                if (
                    ok
                    and not validate(scenario, cand)
                    and (plan is None or cand.no_worse_than(plan))
                ):
                    plan = cand
        if assignments is not None:
            fallback = evaluate(
                scenario,
                assignments,
                method="schedules",
                objective=obj,
                deadlines=deadlines,
                status="fallback",
            )
            stats["start_objective"] = fallback.kpis["objective"]
            if plan is None or not plan.no_worse_than(fallback):
                plan = fallback  # nothing better than the start plan: it is returned
        if plan is not None and best is not None:
            value = plan.kpis["objective"]
            plan.bound = min(best, value)
            plan.gap = (value - plan.bound) / max(abs(value), 1e-9)
    stats["seconds"] = time.perf_counter() - t0
    stats["lagrangian"] = best
    if floor is not None and math.isfinite(floor):
        best = floor if best is None else max(best, floor)
        if plan is not None:
            plan.bound = min(best, plan.kpis["objective"])
            plan.gap = (plan.kpis["objective"] - plan.bound) / max(
                abs(plan.kpis["objective"]), 1e-9
            )
    return ScheduleBound(best, list(master.columns), plan, stats)


def _dive(
    master: _Master,
    prob: _Problem,
    classes: int,
    lam: np.ndarray | None,
    end: float | None,
    stats: dict[str, Any],
) -> tuple[dict[int, int], set[int]]:
    """Price-and-dive: fix the jobs whose master weight is (nearly) integral and a fifth of the
    others at their heaviest schedule, price columns for the rest, and again, until every job is
    fixed or the time is up. Returns ``{job: column}`` of the fixings (released in the master)
    and the jobs fixed at a weight of 0.99 or more.

    The master is restricted by the fixings: no bound is taken from these rounds.
    """
    J = master.J
    fixed: dict[int, int] = {}
    sure: set[int] = set()
    skipped: set[int] = set()
    n = master.n_c + master.n_l
    while len(fixed) + len(skipped) < J:
        if end is not None and time.perf_counter() >= end:
            break
        res = master.solve(None if end is None else max(end - time.perf_counter(), 0.01))
        if res is None:
            break
        z, row_dual, values = res
        stats.setdefault("dive_trace", []).append((len(fixed), z))
        # one pricing round for the jobs still free
        y = _clean_duals(row_dual[:n], master.row_lb[:n], master.row_ub[:n])
        sigma = row_dual[n:]
        prices = _prices(prob, y[: master.n_c], y[master.n_c :])
        pr = price(prob.space, prices, classes=classes, lam0=lam)
        lam = pr.lam
        new = []
        for path in pr.paths:
            if path.job in fixed:
                continue
            sch = fill_path(prob.space, path, prices.run[path.job], prob.dist[path.job])
            if sch is None:
                continue
            try:
                cost, rows, vals = _column(prob, sch)
            except ValueError:
                continue
            if cost - float(y[rows] @ vals) - float(sigma[sch.job]) < -1e-9 * max(1, abs(z)):
                new.append(sch)
        if master.add(new):
            res = master.solve(None)
            if res is None:
                break
            values = res[2]
        w = master.weights(values)
        best_col = np.full(J, -1)
        best_w = np.full(J, -1.0)
        for c, (sch, wc) in enumerate(zip(master.columns, w, strict=True)):
            j = sch.job
            usable = j not in fixed and not master.artificial[c] and wc > best_w[j]
            if usable and _dwell_ok(prob, sch):
                best_w[j], best_col[j] = wc, c
        free = sorted(
            (j for j in range(J) if j not in fixed and j not in skipped and best_col[j] >= 0),
            key=lambda j: -best_w[j],
        )
        if not free:
            break
        take = [j for j in free if best_w[j] >= 0.99]
        more = [j for j in free if best_w[j] < 0.99][: max(1, (len(free) + 4) // 5)]
        batch = take + more
        while batch:
            master.fix([int(best_col[j]) for j in batch])
            if master.solve(None) is not None:
                break
            # too many at once (weights of 0.99 rounded up overfill a tight row): half as many
            master.fix([int(best_col[j]) for j in batch], on=False)
            if len(batch) == 1:
                # its heaviest schedule no longer fits beside the fixed ones: the MILP places it
                skipped.add(batch[0])
                batch = []
            batch = batch[: len(batch) // 2]
        for j in batch:
            fixed[j] = int(best_col[j])
            if best_w[j] >= 0.99:
                sure.add(j)
    # every job still free at its heaviest schedule in the master with the fixings
    heaviest = dict(fixed)
    res = master.solve(None if end is None else max(end - time.perf_counter(), 1.0))
    if res is not None:
        w = master.weights(res[2])
        for c, (sch, wc) in enumerate(zip(master.columns, w, strict=True)):
            j = sch.job
            heavier = j not in heaviest or wc > w[heaviest[j]]
            if j not in fixed and not master.artificial[c] and wc > 1e-9 and heavier:
                heaviest[j] = c
    stats["dive_heaviest"] = [master.columns[c] for c in heaviest.values()]
    master.fix(list(fixed.values()), on=False)
    stats["dive_fixed"] = len(fixed)
    return fixed, sure


def _start_plan(scenario: Any, obj: Objective, deadlines: str, threads: int | None, seed: int):
    """The MILP's start plan (the greedy with re-placement passes); ``threads`` unused: the
    greedy runs no HiGHS, and HiGHS's process-wide thread count is left alone."""
    from greenopt.milp.start import start_plan
    from greenopt.options import PlanOptions

    del threads

    return start_plan(scenario, PlanOptions(objective=obj, deadlines=deadlines, seed=seed))


def _price_and_branch(
    master: _Master,
    start_cols: list[Schedule],
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    seed: int,
    fixed: list[int] | None = None,
) -> list[Schedule] | None:
    """The master with ``λ`` (and the negative-price switches) binary: one schedule per job;
    the columns ``fixed`` at 1."""
    import highspy

    from greenopt.solvers.highs import new_highs

    prob = master.prob
    n = len(master.columns)
    n_site = len(master.site_c)
    n_rows = master.n_c + master.n_l + master.J
    starts = np.zeros(n + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(r) for r in master.col_rows])
    lam_A = sp.csc_array(
        (np.concatenate(master.col_vals), np.concatenate(master.col_rows), starts),
        shape=(n_rows, n),
    )
    A = sp.hstack([master.site_A, lam_A], format="csc")
    usable = np.array(
        [
            not art and _dwell_ok(prob, c)
            for art, c in zip(master.artificial, master.columns, strict=True)
        ]
    )
    h = new_highs()
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    lp = highspy.HighsLp()
    lp.num_col_ = n_site + n
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([master.site_c, master.col_cost])
    lam_lb = np.zeros(n)
    if fixed:
        lam_lb[fixed] = 1.0
    lp.col_lower_ = np.concatenate([master.site_lb, lam_lb])
    lp.col_upper_ = np.concatenate([master.site_ub, usable.astype(float)])
    lp.row_lower_ = master.row_lb
    lp.row_upper_ = master.row_ub
    lp.offset_ = master.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    kinds = np.concatenate([master.site_int, np.ones(n, dtype=bool)])
    lp.integrality_ = np.where(
        kinds, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    ).tolist()
    h.passModel(lp)
    # MIP start: the start plan's schedules (HiGHS completes the continuous part)
    if start_cols:
        keys = {c.key() for c in start_cols}
        fixed_jobs = {master.columns[c].job for c in fixed or []}
        v = np.zeros(n_site + n)
        v[n_site:] = [
            1.0 if c.key() in keys and u and c.job not in fixed_jobs else 0.0
            for c, u in zip(master.columns, usable, strict=True)
        ]
        if fixed:
            v[n_site + np.asarray(fixed)] = 1.0
        if np.all(
            np.bincount(
                [c.job for c, on in zip(master.columns, v[n_site:], strict=True) if on],
                minlength=master.J,
            )
            == 1
        ):
            sol = highspy.HighsSolution()
            sol.col_value = v.tolist()
            sol.value_valid = True
            h.setSolution(sol)
    if h.run() == highspy.HighsStatus.kError and threads:
        # the process-wide scheduler was started with more threads: run with its own
        h.setOptionValue("threads", 0)
        h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None
    val = np.asarray(h.getSolution().col_value)[n_site:]
    chosen = [c for c, x in zip(master.columns, val, strict=True) if x > 0.5]
    if len(chosen) != master.J:
        return None
    return chosen


def _retime(
    scenario: Any, assignments: pd.DataFrame, obj: Objective, deadlines: str, threads: int | None
) -> pd.DataFrame | None:
    """Shares re-optimised with the locations and moves of ``assignments`` fixed
    (:func:`greenopt.heuristics.retime.retime`); the assignments may overfill capacity."""
    from greenopt.heuristics.retime import retime
    from greenopt.options import PlanOptions

    try:
        # no thread count: a Highs asking for fewer threads than the process has fails
        del threads
        return retime(scenario, assignments, obj, deadlines, PlanOptions())
    except Exception:  # a plan the MILP's index sets cannot hold: no re-timed candidate
        return None


def _cost_of(master: _Master, chosen: list[Schedule]) -> float:
    """Objective of one schedule per job: their costs plus the least grid cost they leave
    (the master LP with those schedules fixed)."""
    pos = {c.key(): i for i, c in enumerate(master.columns)}
    cols = [pos[c.key()] for c in chosen if c.key() in pos]
    master.fix(cols)
    res = master.solve(None)
    master.fix(cols, on=False)
    return math.inf if res is None else res[0]


def _assignments(scenario: Any, chosen: list[Schedule]) -> pd.DataFrame:
    idx = scenario.index
    jobs, slots, sites, shares = [], [], [], []
    for c in chosen:
        jobs.extend([idx.job_names[c.job]] * len(c.slots))
        slots.extend(c.slots.tolist())
        sites.extend(idx.site_names[s] for s in c.sites.tolist())
        shares.extend(c.shares.tolist())
    return pd.DataFrame({"job": jobs, "slot": slots, "site": sites, "share": shares})
