"""Valid inequalities that tighten the MILP's LP relaxation (MODEL.md here, §7a).

Every plan satisfies them, so they cut off only fractional points — the ones where a job sits at
a site "a little", paying a fraction of the move that would take it there.

Arrival cover: a job that does any work at ``b ≠ origin`` arrives at ``b`` at least once, and
does at most ``n_j = min(work_h_j/Δh, |W_j|)`` slot-shares there in all:

    Σ_t x[j,b,t] ≤ n_j · Σ_{a,t} mv[j,a,b,t]

The location rows alone only give ``Σ_t x[j,b,t] ≤ |W_j| · Σ mv`` (a fractional state can stay at
``b`` for the whole window); on the 100×5×24 family this family raises the LP bound by ~0.4 %.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def add_cuts(mx: Matrix, ix: IndexSets) -> None:
    idx = ix.scenario.index
    if len(ix.mj) == 0:
        return
    x, mv = mx.cols["x"], mx.cols["mv"]
    away = np.flatnonzero(ix.xs != idx.origin[ix.xj])
    key_x = ix.xj[away] * ix.S + ix.xs[away]
    key_m = ix.mj * ix.S + ix.mb
    keys = np.unique(key_m)  # (job, site) pairs the job can arrive at
    rx = np.searchsorted(keys, key_x)
    hit = (rx < len(keys)) & (keys[np.minimum(rx, len(keys) - 1)] == key_x)
    need = np.minimum(idx.work_h / ix.dt, (idx.end_slot - idx.first_slot).astype(float))
    mx.add_rows(
        "arrival_cover",
        {"job": keys // ix.S, "site": keys % ix.S},
        np.concatenate([rx[hit], np.searchsorted(keys, key_m)]),
        np.concatenate([x.cols(away[hit]), mv.cols(np.arange(mv.n))]),
        np.concatenate([np.ones(int(hit.sum())), -need[ix.mj]]),
        -np.inf,
        0.0,
        doc="Σ_t x[j,b,t] ≤ n_j·Σ_{a,t} mv[j,a,b,t],  n_j = min(work_h_j/Δh, |W_j|)   (§7a)",
    )
