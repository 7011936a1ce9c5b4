"""Ruin and recreate: a local search over groups of related jobs, for the greedy's final plan.

The re-placement passes move one job at a time and the ejection moves one job with the jobs in
its way (:mod:`greenopt.heuristics.ejection`); both stop at plans where no single job, and no
job with its blockers, can move alone. Ruin and recreate (Schrimpf et al., 2000) takes out a
*group* of jobs that compete for the same capacity and places them again, one at a time, in a
changed order:

1. **ruin** — a seed job ``j`` drawn at random, and ``k − 1`` of the jobs that run on one of its
   allowed sites inside its window, drawn with weight = the number of such (site, slot) cells
   they occupy (the jobs it competes with most); ``k`` uniform in ``[K_MIN, K_MAX]``;
2. **recreate** — the group placed again by the greedy's per-job placement
   (:func:`~greenopt.heuristics.greedy.place_job`), each seeing everything placed so far, in
   one of three orders (drawn): urgency, random, largest GPU-hours first;
3. **accept** only when the objective falls: the sum of the new placements' marginal costs
   (:meth:`CapacityState.cost`, each in the state it was committed into) against the same sum
   for the old ones — the exact change of the objective whatever the order (as
   :func:`~greenopt.heuristics.greedy.repair_short` does); otherwise the old placements are
   restored. The objective never rises, and every placement is one the state checked rules for.

:func:`state_of_plan` loads a finished plan — the LP re-timed one
(:mod:`greenopt.heuristics.retime`) — into a state, so the search starts from the objective the
plan has, not from the greedy's state before re-timing (whose moves the re-timing can undo).

The random draws come from a generator seeded with a constant and the work is a count of
placements (``budget``), not time: the same input gives the same plan.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from greenopt.heuristics.ejection import Occupancy, regroup
from greenopt.heuristics.state import CapacityState, Placement, placement
from greenopt.objectives import Objective
from greenopt.scenario import Scenario

#: Smallest and largest group a ruin takes out (seed job included). Measured on 100×5×24
#: (seeds 0–2): groups of 12–20 jobs were almost never recreated better than they were.
K_MIN, K_MAX = 2, 8
#: The generator's seed: any constant (the search is deterministic for a given one).
SEED = 0


def ruin_and_recreate(
    st: CapacityState,
    order: np.ndarray,
    place: Callable[[CapacityState, int], Placement | None],
    budget: int,
    seed: int = SEED,
) -> tuple[int, int]:
    """Ruin-and-recreate moves (module docstring) until ``budget`` placements are spent.

    ``place(st, j)``: the per-job placement at the true objective; ``order``: the urgency order.
    Returns (moves kept, placements spent).
    """
    if budget <= 0 or st.J < 2:
        return 0, 0
    rng = np.random.default_rng(seed)
    idx = st.idx
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    size = idx.gpus * idx.work_h
    occ = Occupancy(st)
    kept = spent = 0
    while spent < budget:
        j = int(rng.integers(st.J))
        group = [j, *_rivals(st, occ, j, int(rng.integers(K_MIN, K_MAX + 1)) - 1, rng)]
        how = int(rng.integers(3))
        if how == 0:
            group.sort(key=lambda q: rank[q])
        elif how == 1:
            rng.shuffle(group)
        else:
            group.sort(key=lambda q: (-size[q], rank[q]))
        kept += regroup(st, occ, group, lambda _, q: place(st, q))
        spent += len(group)
    return kept, spent


def _rivals(
    st: CapacityState, occ: Occupancy, j: int, n: int, rng: np.random.Generator
) -> list[int]:
    """Up to ``n`` jobs running on job ``j``'s allowed sites inside its window, drawn without
    replacement with weight = the (site, slot) cells of that region they occupy."""
    if n <= 0:
        return []
    idx = st.idx
    count: dict[int, int] = {}
    for s in idx.allowed[j].nonzero()[0].tolist():
        for t in range(int(idx.first_slot[j]), int(idx.end_slot[j])):
            for q in occ.cells.get((s, t), ()):
                if q != j:
                    count[q] = count.get(q, 0) + 1
    jobs = sorted(count)  # sets iterate in no fixed order: sort before drawing
    if len(jobs) <= n:
        return jobs
    w = np.array([count[q] for q in jobs], dtype=float)
    pick = rng.choice(len(jobs), size=n, replace=False, p=w / w.sum())
    return [jobs[i] for i in sorted(pick.tolist())]


def state_of_plan(
    scenario: Scenario, objective: Objective | str, assignments: pd.DataFrame
) -> CapacityState:
    """A :class:`CapacityState` holding a valid plan's ``assignments``: each job's rows, in slot
    order, committed as one placement (its moves follow from them as in the evaluator). Its
    :meth:`~CapacityState.value` is the plan's objective, so a search from it starts where the
    plan is — after the LP re-timing, not before."""
    st = CapacityState(scenario, objective)
    if len(assignments) == 0:
        return st
    idx = scenario.index
    a = assignments.sort_values(["job", "slot"], kind="stable")
    jobs = a["job"].map(idx.job_pos).to_numpy()
    sites = a["site"].map(idx.site_pos).to_numpy()
    slots = a["slot"].to_numpy().astype(np.int64)
    shares = a["share"].to_numpy(dtype=float)
    cut = np.flatnonzero(np.diff(jobs)) + 1
    for rows in np.split(np.arange(len(a)), cut):
        p = placement(int(jobs[rows[0]]), slots[rows], sites[rows], shares[rows])
        st.commit(p, check=False)  # a validated plan: its rules hold (tests check it here)
    return st


__all__ = ["K_MAX", "K_MIN", "ruin_and_recreate", "state_of_plan"]
