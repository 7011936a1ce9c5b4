"""Non-preemptible jobs run without pause (MODEL.md here, §6; MODEL.md §5.4).

Binary ``r[j,t]`` = 1 in the slots of the job's one run block, ``st[j,t] ∈ [0,1]`` marks its start:

    Σ_s x[j,s,t] ≤ r[j,t]
    st[j,t] ≥ r[j,t] − r[j,t−1]        (r[j,first−1] = 0)
    Σ_t st[j,t] ≤ 1                    (one block)
    Σ_s x[j,s,t] + Σ_{a,b} (d[j,a,b]/Δh)·mv[j,a,b,t] ≥ r[j,t−1] + r[j,t+1] − 1

The last row makes every slot inside the block full, less the disruption of a migration arriving
in it. A slot inside the block therefore has a positive share (every allowed move leaves at
least δ_j), so the slots the evaluator sees as run slots are the block, perhaps without its
first or last slot: consecutive, with full inner slots.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def add_contiguity(mx: Matrix, ix: IndexSets) -> None:
    if "r" not in mx.cols:
        return
    idx = ix.scenario.index
    x, r, st = mx.cols["x"], mx.cols["r"], mx.cols["st"]
    nR = r.n
    r_pos = np.full((ix.J, ix.T), -1, dtype=np.int64)
    r_pos[ix.rj, ix.rt] = np.arange(nR)
    xr = r_pos[ix.xj, ix.xt]
    xk = np.flatnonzero(xr >= 0)
    ri = np.arange(nR)
    mx.add_rows(
        "run_block",
        {"job": ix.rj, "slot": ix.rt},
        np.concatenate([xr[xk], ri]),
        np.concatenate([x.cols(xk), r.cols(ri)]),
        np.concatenate([np.ones(len(xk)), -np.ones(nR)]),
        -np.inf,
        0.0,
        doc="Σ_s x[j,s,t] ≤ r[j,t]   (§6)",
    )
    has_prev = ix.rt > idx.first_slot[ix.rj]
    prev = np.where(has_prev, r_pos[ix.rj, np.maximum(ix.rt - 1, 0)], -1)
    hp = np.flatnonzero(has_prev)
    mx.add_rows(
        "block_start",
        {"job": ix.rj, "slot": ix.rt},
        np.concatenate([ri, ri, hp]),
        np.concatenate([st.cols(ri), r.cols(ri), r.cols(prev[hp])]),
        np.concatenate([np.ones(nR), -np.ones(nR), np.ones(len(hp))]),
        0.0,
        np.inf,
        doc="st[j,t] ≥ r[j,t] − r[j,t−1]   (§6)",
    )
    jobs, row_of = np.unique(ix.rj, return_inverse=True)
    mx.add_rows(
        "one_block",
        {"job": jobs},
        row_of,
        st.cols(ri),
        np.ones(nR),
        -np.inf,
        1.0,
        doc="Σ_t st[j,t] ≤ 1   (§6)",
    )
    inner = np.flatnonzero(has_prev & (ix.rt < idx.end_slot[ix.rj] - 1))
    row_of_r = np.full(nR, -1, dtype=np.int64)
    row_of_r[inner] = np.arange(len(inner))
    xi = xk[row_of_r[xr[xk]] >= 0]
    mr = r_pos[ix.mj, ix.mt] if len(ix.mj) else np.zeros(0, dtype=np.int64)
    mi = np.flatnonzero((mr >= 0) & (row_of_r[np.maximum(mr, 0)] >= 0))
    mv = mx.cols["mv"]
    mx.add_rows(
        "full_inside",
        {"job": ix.rj[inner], "slot": ix.rt[inner]},
        np.concatenate([row_of_r[xr[xi]], row_of_r[mr[mi]], row_of_r[inner], row_of_r[inner]]),
        np.concatenate(
            [
                x.cols(xi),
                mv.cols(mi),
                r.cols(r_pos[ix.rj[inner], ix.rt[inner] - 1]),
                r.cols(r_pos[ix.rj[inner], ix.rt[inner] + 1]),
            ]
        ),
        np.concatenate([np.ones(len(xi)), ix.md[mi], -np.ones(len(inner)), -np.ones(len(inner))]),
        -1.0,
        np.inf,
        doc="Σ_s x[j,s,t] + Σ_{a,b} (d[j,a,b]/Δh)·mv[j,a,b,t] ≥ r[j,t−1] + r[j,t+1] − 1   (§6)",
    )
