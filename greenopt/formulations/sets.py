"""Index sets of the MILP: only the combinations that can happen (MODEL.md in this folder, §1).

From the scenario and its network we derive, as flat numpy arrays:

* ``X``   = {(j, s, t) : s ∈ C_j, t ∈ W_j}  run shares, ``C_j`` the job's candidate sites
  (allowed, reachable from its origin by moves that fit a slot, optionally cut further by the
  caller: ``keep`` sites, or a ``choose`` strategy such as the MILP's in
  :mod:`greenopt.milp.candidates`) and ``W_j = [first_slot_j, end_slot_j)``;
* ``M``   = {(j, a, b, t)} moves: a route exists, the job may move, the disruption leaves a share
  of at least ``δ_j`` in the slot and the state fits every link of the route in one slot. A job
  that is not migratable only has moves ``origin → b`` (its one move, in its first run slot);
* ``L``   = {(j, s, t)} state-location variables, for jobs with moves;
* ``Z``   = {j} for single-site jobs that may run at their origin (site choice binary);
* ``R``   = {(j, t)} run binaries for non-preemptible jobs;
* ``G``   = {(s, t)} grid variables where the grid draw depends on decisions.

Jobs fall in three classes: ``fixed`` (only the origin; no location variables at all),
``single`` (not migratable: one site choice, and an arrival slot if not the origin) and
``mobile`` (migratable with at least one move: per-slot location).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from greenopt.objectives import Objective, lateness_weights

if TYPE_CHECKING:
    from greenopt.scenario import Scenario

FIXED, SINGLE, MOBILE = 0, 1, 2
#: Smallest share a job runs in a slot it arrives in: the evaluator only sees a migration in a
#: run slot, so the arrival slot must be one (and stays above the evaluator's 1e-7 noise cut).
ARRIVAL_SHARE = 1e-3

#: ``choose(j, others, first, end)``: the sites (besides the origin) job ``j`` keeps out of the
#: ``others`` its state can reach, given its window ``[first, end)``; ``None`` keeps them all.
#: A list marks the model as restricted (its optimum then bounds nothing).
SiteChoice = Callable[[int, list[int], int, int], list[int] | None]


@dataclass
class IndexSets:
    """The index sets and per-index data of one MILP instance (see module docstring)."""

    scenario: Scenario
    objective: Objective
    deadlines: str
    J: int
    S: int
    T: int
    dt: float
    job_class: np.ndarray  # (J,) FIXED/SINGLE/MOBILE
    cand: list[np.ndarray]  # candidate sites per job
    x_ub: np.ndarray  # (J,) largest share: min(1, work_h / Δh)
    delta: np.ndarray  # (J,) arrival share
    # X
    xj: np.ndarray
    xs: np.ndarray
    xt: np.ndarray
    # M
    mj: np.ndarray
    ma: np.ndarray
    mb: np.ndarray
    mt: np.ndarray
    md: np.ndarray  # disruption as a fraction of the slot, d / Δh
    mgb: np.ndarray
    # L
    lj: np.ndarray
    ls: np.ndarray
    lt: np.ndarray
    # Z, R
    zj: np.ndarray
    rj: np.ndarray
    rt: np.ndarray
    # lookups (-1 where absent)
    x_pos: np.ndarray  # (J, S, T)
    l_pos: np.ndarray  # (J, S, T)
    restricted: bool = False  # candidate sites were cut (the MIP bound is then not global)
    notes: list[str] = field(default_factory=list)

    @property
    def n_binaries_estimate(self) -> int:
        return len(self.mj) + len(self.zj) + len(self.rj)


def build_sets(
    scenario: Scenario,
    objective: Objective,
    deadlines: str = "soft",
    relax: bool = False,
    keep: list[set[int]] | None = None,
    choose: SiteChoice | None = None,
    absorbed_moves: bool = True,
) -> IndexSets:
    """Derive every index set of the MILP from ``scenario`` (and its network).

    ``absorbed_moves``: only moves whose disruption the job's slack absorbs (a move that does not
    fit can only end in a deadline miss, by as little as its seconds); ``False`` keeps them all,
    for a model whose bound holds for every plan of MODEL.md.
    ``relax``: every allowed site, no moves, location or run blocks — the sets of a relaxation
    whose LP bounds the full problem from below. ``keep[j]``: only these sites (besides the
    origin) for job ``j`` — e.g. the sites an LP relaxation uses (a restricted model).
    ``choose``: a candidate strategy (:data:`SiteChoice`) applied after ``keep``.
    """
    idx = scenario.index
    net = scenario.network
    J, S, T, dt = len(idx.job_names), len(idx.site_names), idx.T, idx.dt_h
    x_ub = np.minimum(1.0, idx.work_h / dt)
    delta = np.minimum(ARRIVAL_SHARE, 0.5 * x_ub)
    # state that does not fit a link of the route in one slot cannot move there
    link_min_cap = np.full((S, S), np.inf)
    for (a, b), links in net.links.items():
        if links:
            link_min_cap[idx.site_pos[a], idx.site_pos[b]] = min(
                net.link_capacity_gb[lk] for lk in links
            )

    job_class = np.zeros(J, dtype=np.int64)
    cand: list[np.ndarray] = []
    X: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    Mv: list[tuple[np.ndarray, ...]] = []
    Lc: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    zj: list[int] = []
    R: list[tuple[np.ndarray, np.ndarray]] = []
    restricted = False
    for j in range(J):
        o = int(idx.origin[j])
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        slots = np.arange(f, e)
        # feasible one-slot moves a → b for this job
        share_after = 1.0 - net.disruption_h[j] / dt
        can_move = (share_after >= delta[j] - 1e-12) & (idx.state_gb[j] <= link_min_cap + 1e-9)
        if absorbed_moves and not relax:
            # a move whose disruption exceeds the job's slack can only end in a deadline miss
            # (by as little as the move's seconds, which the per-hour penalty prices cheaply)
            slack_h = (e - f) * dt - idx.work_h[j]
            absorbed = net.disruption_h[j] <= slack_h + 1e-9
            restricted = restricted or bool(np.any(can_move & ~absorbed & idx.allowed[j][None, :]))
            can_move &= absorbed
        np.fill_diagonal(can_move, False)
        allowed = np.flatnonzero(idx.allowed[j])
        if not idx.migratable[j]:
            others = [int(s) for s in allowed if s != o and can_move[o, s]]
        else:
            # sites reachable from the origin through feasible moves (any intermediate site
            # must itself be allowed, since the job runs in every slot it arrives in)
            seen = {o}
            frontier = [o]
            ok = set(int(s) for s in allowed)
            while frontier:
                a = frontier.pop()
                for b in np.flatnonzero(can_move[a]):
                    b = int(b)
                    if b in ok and b not in seen:
                        seen.add(b)
                        frontier.append(b)
            others = sorted(s for s in seen if s != o)
        if relax:
            # only sites the job's state can reach: a valid relaxation, much tighter than all
            c = sorted(([o] if idx.allowed[j, o] else []) + others)
            cand.append(np.array(c, dtype=np.int64))
            for s in c:
                X.append((np.full(len(slots), j), np.full(len(slots), s), slots))
            continue
        if keep is not None:
            kept = [s for s in others if s in keep[j]]
            restricted = restricted or len(kept) < len(others)
            others = kept
        if choose is not None and len(slots):
            chosen = choose(j, others, f, e)
            if chosen is not None:
                others = chosen
                restricted = True
        c = sorted(([o] if idx.allowed[j, o] else []) + others)
        cand.append(np.array(c, dtype=np.int64))
        if not c or not len(slots):
            job_class[j] = FIXED
            continue
        for s in c:
            X.append((np.full(len(slots), j), np.full(len(slots), s), slots))
        if c == [o]:
            job_class[j] = FIXED
        elif not idx.migratable[j]:
            job_class[j] = SINGLE
            if idx.allowed[j, o]:
                zj.append(j)
            for b in others:
                Mv.append(_moves(j, o, b, slots, share_after, idx.state_gb[j]))
                Lc.append((np.full(len(slots), j), np.full(len(slots), b), slots))
        else:
            job_class[j] = MOBILE
            nodes = sorted(set(c) | {o})
            for a in nodes:
                for b in c:
                    if a != b and can_move[a, b]:
                        Mv.append(_moves(j, a, b, slots, share_after, idx.state_gb[j]))
            for s in nodes:
                Lc.append((np.full(len(slots), j), np.full(len(slots), s), slots))
        if not idx.preemptible[j]:
            R.append((np.full(len(slots), j), slots))

    def cat(parts: list[tuple[np.ndarray, ...]], k: int, dtype: Any = np.int64) -> list[np.ndarray]:
        if not parts:
            return [np.zeros(0, dtype=dtype) for _ in range(k)]
        return [np.concatenate([p[i] for p in parts]) for i in range(k)]

    xj, xs, xt = (a.astype(np.int64) for a in cat(X, 3))
    mj, ma, mb, mt, md, mgb = cat(Mv, 6, float)
    lj, ls, lt = (a.astype(np.int64) for a in cat(Lc, 3))
    rj, rt = (a.astype(np.int64) for a in cat(R, 2))
    x_pos = np.full((J, S, T), -1, dtype=np.int64)
    x_pos[xj, xs, xt] = np.arange(len(xj))
    l_pos = np.full((J, S, T), -1, dtype=np.int64)
    l_pos[lj, ls, lt] = np.arange(len(lj))
    return IndexSets(
        scenario=scenario,
        objective=objective,
        deadlines=deadlines,
        J=J,
        S=S,
        T=T,
        dt=dt,
        job_class=job_class,
        cand=cand,
        x_ub=x_ub,
        delta=delta,
        xj=xj,
        xs=xs,
        xt=xt,
        mj=mj.astype(np.int64),
        ma=ma.astype(np.int64),
        mb=mb.astype(np.int64),
        mt=mt.astype(np.int64),
        md=np.asarray(md, dtype=float),
        mgb=np.asarray(mgb, dtype=float),
        lj=lj,
        ls=ls,
        lt=lt,
        zj=np.array(zj, dtype=np.int64),
        rj=rj,
        rt=rt,
        x_pos=x_pos,
        l_pos=l_pos,
        restricted=restricted,
    )


def _moves(
    j: int, a: int, b: int, slots: np.ndarray, share_after: np.ndarray, gb: float
) -> tuple[np.ndarray, ...]:
    n = len(slots)
    return (
        np.full(n, j, dtype=float),
        np.full(n, a, dtype=float),
        np.full(n, b, dtype=float),
        slots.astype(float),
        np.full(n, 1.0 - share_after[a, b]),
        np.full(n, gb),
    )


def lateness_coefficients(ix: IndexSets) -> np.ndarray:
    """Objective per unit of share for each X entry: ``lateness_coef_j · ∂L_j/∂share_{j,t}``."""
    lw = lateness_weights(ix.scenario)
    lc = ix.objective.lateness_coef(ix.scenario)
    return lc[ix.xj] * lw[ix.xj, ix.xt]


def pairs_by_score(
    scenario: Scenario, scores: np.ndarray, used: list[set[int]], top: int
) -> np.ndarray:
    """(J, S) bool: each job's origin, its sites in ``used`` and its ``top`` allowed sites with
    the lowest mean ``scores`` ((S, T), lower is better) over its window — where a restricted
    model (the MILP's candidates) or a column generation (the greedy's guide LP) starts."""
    idx = scenario.index
    J, S = len(idx.job_names), len(idx.site_names)
    pairs = np.zeros((J, S), dtype=bool)
    pairs[np.arange(J), idx.origin] = True
    for j, sites in enumerate(used):
        pairs[j, list(sites)] = True
    csum = np.concatenate([np.zeros((S, 1)), np.cumsum(scores, axis=1)], axis=1)
    width = np.maximum(idx.end_slot - idx.first_slot, 1)
    mean = (csum[:, idx.end_slot] - csum[:, idx.first_slot]) / width  # (S, J)
    mean = np.where(idx.allowed.T, mean, np.inf)
    best = np.argsort(mean, axis=0, kind="stable")[:top].T  # (J, top)
    rows = np.repeat(np.arange(J), best.shape[1])
    ok = np.isfinite(mean[best.ravel(), rows])
    pairs[rows[ok], best.ravel()[ok]] = True
    return pairs
