"""Ejection moves for the greedy: a job takes contested capacity, the jobs it displaces move.

The re-placement passes (:func:`greenopt.heuristics.greedy.improve`) move one job at a time, so
they never find the assignment swap a contested resource needs: job ``j`` would save much on a
clean grid (or a renewable window) that jobs saving less already fill, and moving any one of them
out first makes the objective worse. An ejection move does both at once:

1. release ``j`` and place it as if the GPU-time of every site were free (its *wish*,
   :func:`wish`) — the rest of the state (renewable energy left, links, its own rules) as is;
2. the cells ``(s, t)`` of the wish where GPU-time is short name the *blockers*: the jobs
   running there, fewest GPU-shares first, until the shortfall is covered (at most
   ``blockers`` jobs);
3. release the blockers, commit the wish (when it now fits, :meth:`CapacityState.check`; else
   ``j``'s best placement in the freed state) and place the blockers again, in urgency order,
   each seeing everything placed so far;
4. keep the result only when the objective falls: the sum of the marginal costs of the new
   placements, each priced in the state it was committed into, against the same sum for the
   old ones — the exact change of the objective, whatever the order.

Jobs are tried in decreasing *regret* (their cost now less their wish's cost), the ones that
lose most to contention first. The work is bounded by a count of placements (not wall-clock),
so the same input gives the same plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from greenopt.heuristics.state import EPS, CapacityState, Placement

#: a move must lower the objective by more than this (relative), so moves never cycle
REL_GAIN = 1e-9


class Occupancy:
    """Which jobs run in each ``(site, slot)`` cell, kept in step with commits and releases."""

    def __init__(self, st: CapacityState) -> None:
        self.st = st
        self.cells: dict[tuple[int, int], set[int]] = defaultdict(set)
        for j in range(st.J):
            for p in st.placements(j):
                self._add(p)

    def _add(self, p: Placement) -> None:
        for s, t in zip(p.sites.tolist(), p.slots.tolist(), strict=True):
            self.cells[(s, t)].add(p.job)

    def commit(self, p: Placement) -> None:
        self.st.commit(p, check=False)
        self._add(p)

    def release(self, j: int) -> list[Placement]:
        old = self.st.release(j)
        for p in old:
            for s, t in zip(p.sites.tolist(), p.slots.tolist(), strict=True):
                self.cells[(s, t)].discard(j)
        return old


def wish(st: CapacityState, j: int, place) -> Placement | None:
    """Job ``j``'s best placement were the GPU-time of every site free (``j`` released)."""
    saved = st.gpu_left
    st.gpu_left = np.repeat(st.idx.site_gpus.astype(float)[:, None], st.T, axis=1)
    try:
        return place(st, j)
    finally:
        st.gpu_left = saved


def blockers_of(st: CapacityState, occ: Occupancy, p: Placement, limit: int) -> list[int]:
    """Jobs to move out so that ``p`` fits: per short cell, the occupants with the fewest
    GPU-shares there first (cheapest to re-place), until the cell's shortfall is covered."""
    g = float(st.idx.gpus[p.job])
    chosen: list[int] = []
    for s, t, sh in zip(p.sites.tolist(), p.slots.tolist(), p.shares.tolist(), strict=True):
        short = g * sh - float(st.gpu_left[s, t])
        if short <= EPS:
            continue
        load = []
        for k in occ.cells.get((s, t), ()):
            if k == p.job or k in chosen:
                continue
            here = [q.shares[(q.sites == s) & (q.slots == t)].sum() for q in st.placements(k)]
            use = float(sum(here))
            load.append((float(st.idx.gpus[k]) * use, k))
        for use, k in sorted(load):
            if short <= EPS:
                break
            if len(chosen) >= limit:
                return chosen
            chosen.append(k)
            short -= use
    return chosen


def ejection_moves(
    st: CapacityState,
    order: np.ndarray,
    place,
    budget: int,
    blockers: int = 6,
) -> tuple[int, int]:
    """Try ejection moves (module docstring) until ``budget`` placements are spent.

    ``place(st, j)`` is the per-job placement (the greedy's :func:`place_job` with its
    settings); ``order`` the urgency order (blockers are placed again in it). Returns (moves
    kept, placements spent).
    """
    if budget <= 0 or st.J == 0:
        return 0, 0
    idx = st.idx
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    occ = Occupancy(st)
    spent = 0
    # regret of each job: its cost now less its wish's (one placement per job)
    regret = np.zeros(st.J)
    for j in order.tolist():
        if spent >= budget:
            break
        if st.last_slot[j] < 0 and st.remaining_h(j) <= 1e-9:
            continue
        old = occ.release(j)
        before = sum(st.cost(q) for q in old)
        w = wish(st, j, place)
        spent += 1
        for q in old:
            occ.commit(q)
        if w is not None:
            regret[j] = before - st.cost(w)
    kept = 0
    for j in np.argsort(-regret, kind="stable").tolist():
        if spent >= budget or regret[j] <= 1e-9:
            break
        if not idx.preemptible[j] and len(st.placements(j)) > 1:
            continue
        old_j = occ.release(j)
        w = wish(st, j, place)  # the state moved on since the regret was measured
        spent += 1
        if w is None:
            for q in old_j:
                occ.commit(q)
            continue
        for q in old_j:
            occ.commit(q)
        # with no blockers this is the passes' single-job move (kept only when it pays too)
        group = [j, *sorted(blockers_of(st, occ, w, blockers), key=lambda k: rank[k])]
        placed = [0]

        def place_one(
            i: int, k: int, w: Placement = w, placed: list[int] = placed
        ) -> Placement | None:
            if i == 0 and st.check(w) is None:
                return w  # the wish fits now: no placement spent
            placed[0] += 1
            return place(st, k)

        kept += regroup(st, occ, group, place_one)
        spent += placed[0]
    return kept, spent


def regroup(
    st: CapacityState,
    occ: Occupancy,
    group: list[int],
    place_one: Callable[[int, int], Placement | None],
) -> bool:
    """Take ``group``'s jobs out and place them again in its order (``place_one(i, job)``, each
    seeing everything placed before it); keep the change when the objective falls — the sum of
    the new placements' marginal costs, each priced in the state it was committed into, against
    the same sum for the old ones: the exact change whatever the order — else restore the old
    placements. Returns whether the change was kept. (The ejection moves' and the
    ruin-and-recreate search's one accept-or-restore step.)"""
    old = {k: occ.release(k) for k in group}
    before = 0.0
    for k in group:  # the old placements priced back in: the objective as it was
        for q in old[k]:
            before += st.cost(q)
            occ.commit(q)
    for k in group:
        occ.release(k)
    after = 0.0
    for i, k in enumerate(group):
        p = place_one(i, k)
        if p is not None:
            after += st.cost(p)
            occ.commit(p)
    if after < before - REL_GAIN * max(1.0, abs(before)):
        return True
    for k in group:
        occ.release(k)
    for k in group:
        for q in old[k]:
            occ.commit(q)
    return False
