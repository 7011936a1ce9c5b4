"""GPU capacity in GPU-time (MODEL.md here, §4).

    Σ_{j : (j,s,t) ∈ X} gpus[j] · x[j,s,t] ≤ gpus[s] − reserved_gpus[s,t]   for every s and t

(``reserved_gpus``: GPU-time taken by work outside the plan, 0 unless a site reserves some.)

Rows that cannot bind (``Σ gpus[j]·x_ub[j] ≤ gpus[s]`` over the jobs that could be there) are
left out: they would only slow presolve down.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def add_capacity(mx: Matrix, ix: IndexSets) -> None:
    idx = ix.scenario.index
    x = mx.cols["x"]
    st = ix.xs * ix.T + ix.xt
    demand = np.bincount(st, weights=idx.gpus[ix.xj] * ix.x_ub[ix.xj], minlength=ix.S * ix.T)
    cap = idx.gpu_cap.ravel()  # site-major, like st
    binding = np.flatnonzero(demand > cap + 1e-9)
    row_of = np.full(ix.S * ix.T, -1, dtype=np.int64)
    row_of[binding] = np.arange(len(binding))
    keep = row_of[st] >= 0
    mx.add_rows(
        "capacity",
        {"site": binding // ix.T, "slot": binding % ix.T},
        row_of[st[keep]],
        x.cols(np.flatnonzero(keep)),
        idx.gpus[ix.xj[keep]].astype(float),
        -np.inf,
        cap[binding],
        doc="Σ_j gpus[j]·x[j,s,t] ≤ gpus[s] − reserved_gpus[s,t]   (§4; only where it can bind)",
    )
