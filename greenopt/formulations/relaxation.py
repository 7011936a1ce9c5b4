"""The relaxation that bounds the MILP from below (MODEL.md here, §11).

A lower bound must hold for the *whole* problem, also when the MILP itself is solved only over a
few candidate sites per job or by fix-and-optimise. This linear program keeps what makes moves
cost something and drops the per-pair move structure, which is what makes the MILP large:

* run shares ``x[j,s,t]`` over every site the job's state can reach (MODEL.md here §1, without
  the candidate cut), with the work, GPU-capacity and energy rows of §3, §4 and §8;
* arrivals ``arr[j,b,t] ∈ [0, 1]`` for ``b ≠ origin_j`` — a migration *into* ``b`` in slot ``t``
  from any source; each carries its migration energy ``state_gb_j·net_kwh_per_gb`` into
  ``facility[b,t]`` and the migration penalty;
* one site per slot, less an arrival's disruption ``d_j,b = min_a disruption_h[j,a,b]/Δh``
  (the least over the sites it could come from): ``Σ_s x[j,s,t] + Σ_b d_j,b·arr[j,b,t] ≤ 1``;
* arrival cover — a job that works at ``b ≠ origin`` arrives there at least once:

      Σ_t x[j,b,t] ≤ n_j · Σ_t arr[j,b,t],          n_j = min(work_h_j/Δh, |W_j|)

* presence (``presence=True``) — a job runs at ``b`` only after arriving, less the disruption
  of an arrival in that slot:

      cum[j,b,t] = cum[j,b,t−1] + arr[j,b,t],       x[j,b,t] + d_j,b·arr[j,b,t] ≤ cum[j,b,t]

* a job that is not migratable moves at most once and then never runs at its origin:
  ``stay[j] + Σ_{b,t} arr[j,b,t] ≤ 1``, ``x[j,origin,t] ≤ stay[j]``.

Every plan of MODEL.md maps to a feasible point of this LP with the same objective (``arr`` = its
migrations, ``cum`` = arrivals so far, ``stay`` = 1 when it never leaves its origin), so the LP
optimum is a lower bound of every plan's objective, with any sign of the grid coefficients (the
exact negative-price rows of §8 are kept, their binaries relaxed). Contiguity of non-preemptible
jobs and link capacity are left out, which only loosens it: it stays a lower bound of the model
with them. The dwell rule (MODEL.md here §5a) is in it as the rows of
:mod:`.dwell_relaxation` (§11a: where the state is, the dwell owed over arrivals), which every
valid plan satisfies too (proved there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from greenopt.formulations.capacity import add_capacity
from greenopt.formulations.dwell_relaxation import add_relaxed_dwell
from greenopt.formulations.energy import add_energy
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.objective import unmet_cost, x_cost
from greenopt.formulations.sets import IndexSets, build_sets
from greenopt.formulations.work import add_work
from greenopt.objectives import Objective

#: Seconds per initial run-share column of the relaxation's *first restricted master* (one round
#: of column generation over chosen site pairs of each job's window, :func:`first_master_seconds`)
#: — an estimate, so that callers decide by a count, not the clock, whether it fits. Measured
#: (2 cores, load ~1.7): 1000×15×96, 75,963 such columns, 13.7 s with the guided greedy after it.
FIRST_MASTER_S_PER_COL = 2e-4


def first_master_seconds(scenario: Any, pairs: np.ndarray) -> float:
    """The estimated seconds of the first restricted master over ``pairs`` ((J, S) bool: the
    sites each job's columns start from), :data:`FIRST_MASTER_S_PER_COL` per column."""
    idx = scenario.index
    window = idx.end_slot - idx.first_slot
    return FIRST_MASTER_S_PER_COL * float(np.sum(pairs.sum(axis=1) * window))


def build_relaxation(
    scenario: Any,
    objective: Objective,
    deadlines: str = "soft",
    presence: bool = True,
    dwell: bool | np.ndarray = True,
) -> tuple[IndexSets, Matrix]:
    """Index sets (every reachable site, no moves) and the matrix of the relaxation;
    ``dwell``: with the dwell rows of :mod:`.dwell_relaxation` (§11a) when the scenario has the
    rule — for every job, or for the jobs of an index array; ``False``: without them (a looser
    bound, still a bound)."""
    ix = build_sets(scenario, objective, deadlines, relax=True)
    idx = scenario.index
    mx = Matrix()
    x = mx.add_cols(
        "x",
        {"job": ix.xj, "site": ix.xs, "slot": ix.xt},
        0.0,
        ix.x_ub[ix.xj],
        cost=x_cost(ix),
        doc="share of slot t that job j runs at site s",
    )
    if deadlines == "soft":
        mx.add_cols("unmet", {"job": np.arange(ix.J)}, 0.0, idx.work_h, cost=unmet_cost(ix))
    away = np.flatnonzero(ix.xs != idx.origin[ix.xj])
    aj, ab, at = ix.xj[away], ix.xs[away], ix.xt[away]
    arr = mx.add_cols(
        "arr",
        {"job": aj, "site": ab, "slot": at},
        0.0,
        1.0,
        cost=objective.migration_penalty,
        doc="migrations of job j into site b in slot t (any source)",
    )
    cum = None
    if presence:
        cum = mx.add_cols("cum", {"job": aj, "site": ab, "slot": at}, 0.0, np.inf)
    single = np.flatnonzero(
        ~idx.migratable
        & np.array([len(c) > 1 for c in ix.cand], dtype=bool)
        & idx.allowed[np.arange(ix.J), idx.origin]
    )
    stay = mx.add_cols("stay", {"job": single}, 0.0, 1.0) if len(single) else None
    add_energy(mx, ix, arrivals="arr")
    add_work(mx, ix)
    add_capacity(mx, ix)
    n = len(away)
    ar = np.arange(n)

    # one site per slot, less the disruption of an arrival in it
    d_arr = _min_disruption(scenario, ix, aj, ab)
    key_x = ix.xj * ix.T + ix.xt
    key_a = aj * ix.T + at
    _, inv, cnt = np.unique(key_x, return_inverse=True, return_counts=True)
    rows = np.unique(np.concatenate([key_x[cnt[inv] > 1], key_a]))
    if len(rows):
        rx = np.searchsorted(rows, key_x)
        in_x = (rx < len(rows)) & (rows[np.minimum(rx, len(rows) - 1)] == key_x)
        ra = np.searchsorted(rows, key_a)
        mx.add_rows(
            "one_site",
            {"job": rows // ix.T, "slot": rows % ix.T},
            np.concatenate([rx[in_x], ra]),
            np.concatenate([x.cols(np.flatnonzero(in_x)), arr.cols(ar)]),
            np.concatenate([np.ones(int(in_x.sum())), d_arr]),
            -np.inf,
            1.0,
            doc="Σ_s x[j,s,t] + Σ_b d_j,b·arr[j,b,t] ≤ 1",
        )
    if n == 0:
        return ix, mx

    # arrival cover
    need = np.minimum(idx.work_h / ix.dt, (idx.end_slot - idx.first_slot).astype(float))
    kb, kinv = np.unique(aj * ix.S + ab, return_inverse=True)
    mx.add_rows(
        "arrival_cover",
        {"job": kb // ix.S, "site": kb % ix.S},
        np.concatenate([kinv, kinv]),
        np.concatenate([x.cols(away), arr.cols(ar)]),
        np.concatenate([np.ones(n), -need[aj]]),
        -np.inf,
        0.0,
        doc="Σ_t x[j,b,t] − n_j·Σ_t arr[j,b,t] ≤ 0",
    )

    if cum is not None:
        pos = np.full((ix.J, ix.S, ix.T), -1, dtype=np.int64)
        pos[aj, ab, at] = ar
        prev = np.where(at > idx.first_slot[aj], pos[aj, ab, np.maximum(at - 1, 0)], -1)
        hp = np.flatnonzero(prev >= 0)
        mx.add_rows(
            "arrivals_so_far",
            {"job": aj, "site": ab, "slot": at},
            np.concatenate([ar, hp, ar]),
            np.concatenate([cum.cols(ar), cum.cols(prev[hp]), arr.cols(ar)]),
            np.concatenate([np.ones(n), -np.ones(len(hp)), -np.ones(n)]),
            0.0,
            0.0,
            doc="cum[j,b,t] − cum[j,b,t−1] − arr[j,b,t] = 0",
        )
        mx.add_rows(
            "presence",
            {"job": aj, "site": ab, "slot": at},
            np.concatenate([ar, ar, ar]),
            np.concatenate([x.cols(away), arr.cols(ar), cum.cols(ar)]),
            np.concatenate([np.ones(n), d_arr, -np.ones(n)]),
            -np.inf,
            0.0,
            doc="x[j,b,t] + d_j,b·arr[j,b,t] − cum[j,b,t] ≤ 0",
        )

    if stay is not None:
        row_of = np.full(ix.J, -1, dtype=np.int64)
        row_of[single] = np.arange(len(single))
        sel = np.flatnonzero(row_of[aj] >= 0)
        mx.add_rows(
            "one_move",
            {"job": single},
            np.concatenate([np.arange(len(single)), row_of[aj[sel]]]),
            np.concatenate([stay.cols(np.arange(len(single))), arr.cols(sel)]),
            np.ones(len(single) + len(sel)),
            -np.inf,
            1.0,
            doc="stay[j] + Σ_{b,t} arr[j,b,t] ≤ 1 (not migratable)",
        )
        xo = np.flatnonzero((row_of[ix.xj] >= 0) & (ix.xs == idx.origin[ix.xj]))
        k = len(xo)
        mx.add_rows(
            "origin_if_stay",
            {"job": ix.xj[xo], "slot": ix.xt[xo]},
            np.concatenate([np.arange(k), np.arange(k)]),
            np.concatenate([x.cols(xo), stay.cols(row_of[ix.xj[xo]])]),
            np.concatenate([np.ones(k), -np.ones(k)]),
            -np.inf,
            0.0,
            doc="x[j,origin,t] − stay[j] ≤ 0 (not migratable)",
        )
    if isinstance(dwell, np.ndarray):
        add_relaxed_dwell(mx, ix, d_arr, jobs=dwell)
    elif dwell:
        add_relaxed_dwell(mx, ix, d_arr)
    return ix, mx


def _min_disruption(scenario: Any, ix: IndexSets, aj: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Per arrival entry, the least disruption (fraction of a slot) of a move into ``b`` from a
    site the job can be at (its reachable sites and origin)."""
    d = scenario.network.disruption_h / ix.dt  # (J, S, S)
    origin = scenario.index.origin
    least = np.zeros((ix.J, ix.S))
    for j in np.unique(aj).tolist():
        nodes = np.union1d(ix.cand[j], [origin[j]])
        dj = d[j][np.ix_(nodes, np.arange(ix.S))].copy()
        dj[np.arange(len(nodes)), nodes] = np.inf  # no move from a site to itself
        least[j] = dj.min(axis=0)
    out = least[aj, ab]
    return np.where(np.isfinite(out), np.maximum(out, 0.0), 0.0)
