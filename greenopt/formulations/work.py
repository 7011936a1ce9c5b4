"""Work within windows (MODEL.md here, §3).

For every job ``j``, its run shares over its candidate sites and window give its hours of work:

    Σ_{s ∈ C_j, t ∈ W_j} Δh · x[j,s,t] + unmet[j] = work_h[j]        (soft deadlines, unmet ≥ 0)
    Σ_{s ∈ C_j, t ∈ W_j} Δh · x[j,s,t]            = work_h[j]        (hard deadlines)

Windows are enforced by the index set: ``x[j,s,t]`` exists only for ``t ∈ W_j`` and allowed
``s``. ``0 ≤ x ≤ min(1, work_h/Δh)`` (a column bound). Overrun (MODEL.md §5.7) cannot happen.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def add_work(mx: Matrix, ix: IndexSets) -> None:
    idx = ix.scenario.index
    x = mx.cols["x"]
    r = [ix.xj]
    c = [x.cols(np.arange(x.n))]
    v = [np.full(x.n, ix.dt)]
    if "unmet" in mx.cols:
        u = mx.cols["unmet"]
        r.append(np.arange(ix.J))
        c.append(u.cols(np.arange(ix.J)))
        v.append(np.ones(ix.J))
    mx.add_rows(
        "work",
        {"job": np.arange(ix.J)},
        np.concatenate(r),
        np.concatenate(c),
        np.concatenate(v),
        idx.work_h,
        idx.work_h,
        doc="Σ_{s,t} Δh·x[j,s,t] (+ unmet[j] under soft deadlines) = work_h[j]   (§3)",
    )
