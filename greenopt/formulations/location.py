"""Where a job's state is, and when it moves (MODEL.md here, §5).

Binary ``mv[j,a,b,t]`` = 1 when job ``j``'s state moves ``a → b`` in slot ``t`` (only for moves
in ``M``: a route exists, the job may move, the disruption fits the slot). ``loc[j,s,t] ∈ [0,1]``
is 1 when the state is at ``s`` during slot ``t`` (after any move in ``t``).

Mobile jobs (migratable), flow of the state, for every (j,s,t) ∈ L:

    loc[j,s,t] = loc[j,s,t−1] + Σ_a mv[j,a,s,t] − Σ_b mv[j,s,b,t],   loc[j,s,first−1] = [s = origin]

so Σ_s loc[j,s,t] = 1 and loc is integral whenever mv is.

Single-site jobs (not migratable): ``z[j]`` = 1 when the job runs at its origin; otherwise its
one move ``origin → b`` happens in its first run slot:

    z[j] + Σ_{b,t} mv[j,origin,b,t] ≤ 1
    loc[j,b,t] = loc[j,b,t−1] + mv[j,origin,b,t]      (b ≠ origin)
    x[j,origin,t] ≤ z[j]

Running only where the state is, less the disruption of an arrival:

    x[j,s,t] + Σ_a (disruption_h[j,a,s]/Δh) · mv[j,a,s,t] ≤ loc[j,s,t]

A move is a migration only if the job runs at the destination in that slot (MODEL.md §5 derives
migrations from run slots), so an arrival forces a share of at least ``δ_j`` (1e-3):

    x[j,b,t] ≥ δ_j · Σ_a mv[j,a,b,t]

With these rows the moves are exactly the migrations the evaluator derives from the run slots:
the state changes site only through ``mv``, each ``mv`` comes with a run at its destination, and
between moves the job runs only where the state is.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import MOBILE, SINGLE, IndexSets


def add_location(mx: Matrix, ix: IndexSets) -> None:
    idx = ix.scenario.index
    x, loc, mv = mx.cols["x"], mx.cols["loc"], mx.cols["mv"]
    nL, nM = loc.n, mv.n
    m_all = np.arange(nM)

    # -- flow of the state ------------------------------------------------------------------
    li = np.arange(nL)
    prev = np.full(nL, -1, dtype=np.int64)
    has_prev = ix.lt > idx.first_slot[ix.lj]
    prev[has_prev] = ix.l_pos[ix.lj[has_prev], ix.ls[has_prev], ix.lt[has_prev] - 1]
    into = ix.l_pos[ix.mj, ix.mb, ix.mt]  # loc row of the destination
    out = ix.l_pos[ix.mj, ix.ma, ix.mt]  # loc row of the source (absent for single jobs)
    has_out = out >= 0
    hp = prev >= 0
    r = np.concatenate([li, li[hp], into, out[has_out]])
    c = np.concatenate([loc.cols(li), loc.cols(prev[hp]), mv.cols(m_all), mv.cols(m_all[has_out])])
    v = np.concatenate([np.ones(nL), -np.ones(hp.sum()), -np.ones(nM), np.ones(has_out.sum())])
    init = (
        (ix.job_class[ix.lj] == MOBILE)
        & (ix.ls == idx.origin[ix.lj])
        & (ix.lt == idx.first_slot[ix.lj])
    ).astype(float)
    mx.add_rows(
        "flow",
        {"job": ix.lj, "site": ix.ls, "slot": ix.lt},
        r,
        c,
        v,
        init,
        init,
        doc=(
            "loc[j,s,t] − loc[j,s,t−1] − Σ_a mv[j,a,s,t] + Σ_b mv[j,s,b,t]"
            " = [t = first_j ∧ s = o_j]   (§5)"
        ),
    )

    # -- run only where the state is, less arrival disruption -------------------------------
    xl = ix.l_pos[ix.xj, ix.xs, ix.xt]
    has = np.flatnonzero(xl >= 0)
    row_of_x = np.full(x.n, -1, dtype=np.int64)
    row_of_x[has] = np.arange(len(has))
    x_into = ix.x_pos[ix.mj, ix.mb, ix.mt]
    mx.add_rows(
        "at_state",
        {"job": ix.xj[has], "site": ix.xs[has], "slot": ix.xt[has]},
        np.concatenate([np.arange(len(has)), np.arange(len(has)), row_of_x[x_into]]),
        np.concatenate([x.cols(has), loc.cols(xl[has]), mv.cols(m_all)]),
        np.concatenate([np.ones(len(has)), -np.ones(len(has)), ix.md]),
        -np.inf,
        0.0,
        doc="x[j,s,t] + Σ_a (d[j,a,s]/Δh)·mv[j,a,s,t] ≤ loc[j,s,t]   (§5)",
    )

    # -- an arrival is a run slot ---------------------------------------------------------------
    if nM:
        uniq, inv = np.unique(x_into, return_inverse=True)
        mx.add_rows(
            "arrival_runs",
            {"job": ix.xj[uniq], "site": ix.xs[uniq], "slot": ix.xt[uniq]},
            np.concatenate([np.arange(len(uniq)), inv]),
            np.concatenate([x.cols(uniq), mv.cols(m_all)]),
            np.concatenate([np.ones(len(uniq)), -ix.delta[ix.mj]]),
            0.0,
            np.inf,
            doc="x[j,b,t] ≥ δ_j·Σ_a mv[j,a,b,t]   (§5)",
        )

    # -- single-site jobs: one site choice --------------------------------------------------
    single = np.flatnonzero(ix.job_class == SINGLE)
    if len(single):
        row_of_job = np.full(ix.J, -1, dtype=np.int64)
        row_of_job[single] = np.arange(len(single))
        z = mx.cols["z"]
        ms = np.flatnonzero(ix.job_class[ix.mj] == SINGLE)
        mx.add_rows(
            "one_site",
            {"job": single},
            np.concatenate([row_of_job[ix.zj], row_of_job[ix.mj[ms]]]),
            np.concatenate([z.cols(np.arange(z.n)), mv.cols(ms)]),
            np.ones(z.n + len(ms)),
            -np.inf,
            1.0,
            doc="z[j] + Σ_{b,t} mv[j,o_j,b,t] ≤ 1   (§5, jobs that are not migratable)",
        )
        # x at the origin only if the origin is chosen
        z_of_job = np.full(ix.J, -1, dtype=np.int64)
        z_of_job[ix.zj] = np.arange(z.n)
        xo = np.flatnonzero((z_of_job[ix.xj] >= 0) & (ix.xs == idx.origin[ix.xj]))
        mx.add_rows(
            "at_origin",
            {"job": ix.xj[xo], "slot": ix.xt[xo]},
            np.concatenate([np.arange(len(xo)), np.arange(len(xo))]),
            np.concatenate([x.cols(xo), z.cols(z_of_job[ix.xj[xo]])]),
            np.concatenate([np.ones(len(xo)), -np.ones(len(xo))]),
            -np.inf,
            0.0,
            doc="x[j,o_j,t] ≤ z[j]   (§5, jobs that are not migratable)",
        )
