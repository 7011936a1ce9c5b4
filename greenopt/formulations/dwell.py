"""The dwell rule (MODEL.md §5 "Dwell", validity rule 8; MODEL.md here, §5a).

After a move ``(j, a, b, t)`` the job works at ``b`` at least ``D[j,a,b] = transfer_h[j,a,b]/α``
hours before it moves again, unless it is done by the end of that stay. The rule couples a move
with the work after it; it is written with the dwell still owed at ``b``, in units of the largest
dwell a job can owe there, ``Dmax[j,b] = max_a D[j,a,b]`` over the moves into ``b`` that bind:

    ρ[j,b,t] ≥ ρ[j,b,t−1] + Σ_a (D[j,a,b]/Dmax[j,b])·mv[j,a,b,t] − (Δh/Dmax[j,b])·x[j,b,t]
    0 ≤ ρ[j,b,t] ≤ 1,                                  ρ[j,b,t0−1] = 0     (owed)

    ρ[j,b,t−1] + Σ_c mv[j,b,c,t] ≤ loc[j,b,t−1]                          (departure)

    ρ[j,b,end_j−1] ≤ fin[j],    unmet[j]/work_h[j] + fin[j] ≤ 1            (end, soft deadlines)

``ρ`` only has lower bounds from the owed rows, so its least value is exactly the dwell still
owed, ``max(0, owed before + D·arrival − Δh·work)``: it rises by ``D`` when the job arrives and
falls with every hour worked at ``b`` (the arrival slot included). A move away from ``b`` in
``t`` (the departure row) needs nothing owed at the end of ``t−1``; writing ``loc[j,b,t−1]``
rather than 1 on its right is valid (the state is at ``b`` when it leaves ``b``, and nothing is
owed where it is not) and tighter in the LP. At the end of the window a stay may still owe its
dwell only if the job is done: ``fin[j]`` is binary, 1 only with no unmet work. Under hard
deadlines every job is done, so the end rows (and ``fin``) are left out, and so are jobs that
never leave the site they arrive at (not migratable).

Only what can bind is indexed: moves whose ``D`` the arrival slot's own least share already covers
(``D ≤ δ_j·Δh``: no state, or the rule off) add nothing, so a job with no other move has no rows;
``ρ[j,b,·]`` starts at the first slot a binding move can arrive at ``b``; departure rows exist
only in slots with a move out of ``b``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.dwell import dwell_need_h
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import MOBILE, IndexSets


@dataclass
class DwellIndex:
    """The ``ρ`` columns of the dwell family: one run of slots ``[t0, end_j)`` per pair (j, b)."""

    pj: np.ndarray  # (P,) job of each pair
    pb: np.ndarray  # (P,) site of each pair
    t0: np.ndarray  # (P,) first slot of its ρ
    dmax: np.ndarray  # (P,) Dmax[j, b], hours
    offset: np.ndarray  # (P,) position of ρ[j, b, t0] among the ρ columns
    pair_of: np.ndarray  # (J, S) pair index, −1 where none
    rj: np.ndarray  # (R,) job of each ρ column
    rb: np.ndarray  # (R,) site
    rt: np.ndarray  # (R,) slot
    rp: np.ndarray  # (R,) pair
    bind: np.ndarray  # (M,) the move binds (adds to ρ)
    need: np.ndarray  # (M,) D of each move, hours
    fin_jobs: np.ndarray  # jobs with a ``fin`` binary (soft deadlines)

    def col(self, j: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
        """ρ column positions of (j, b, t), −1 where there is none."""
        p = self.pair_of[j, b]
        ok = p >= 0
        pos = np.full(len(p), -1, dtype=np.int64)
        pp = p[ok]
        tt = t[ok]
        inside = tt >= self.t0[pp]
        pos[np.flatnonzero(ok)[inside]] = self.offset[pp[inside]] + tt[inside] - self.t0[pp[inside]]
        return pos


def dwell_index(ix: IndexSets, per_job: bool = False) -> DwellIndex | None:
    """The pairs and slots the dwell family needs; ``None`` when no move binds.

    ``per_job``: one ``ρ[j,t]`` per job instead of one per job and destination (its pairs are
    ``(j, −1)``; every site's work and every move of the job count): what the job still owes
    wherever it is.
    """
    sc = ix.scenario
    idx = sc.index
    if sc.migration_alpha is None or len(ix.mj) == 0:
        return None
    need = dwell_need_h(sc)[ix.mj, ix.ma, ix.mb]
    bind = np.isfinite(need) & (need > ix.delta[ix.mj] * ix.dt + 1e-9)
    if ix.deadlines == "hard":
        # every job is done, so only a departure can break the rule: single-site jobs never
        # leave, and a site no move leaves from needs nothing
        leaves = np.zeros((ix.J, ix.S), dtype=bool)
        leaves[ix.mj, ix.ma] = True
        bind &= (ix.job_class[ix.mj] == MOBILE) & leaves[ix.mj, ix.mb]
    if not bind.any():
        return None
    key = ix.mj[bind] * ix.S + (0 if per_job else ix.mb[bind])
    pairs, inv = np.unique(key, return_inverse=True)
    pj, pb = pairs // ix.S, (np.full(len(pairs), -1) if per_job else pairs % ix.S)
    t0 = np.full(len(pairs), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(t0, inv, ix.mt[bind])
    dmax = np.zeros(len(pairs))
    np.maximum.at(dmax, inv, need[bind])
    length = idx.end_slot[pj] - t0
    offset = np.r_[0, np.cumsum(length)[:-1]].astype(np.int64)
    rp = np.repeat(np.arange(len(pairs)), length)
    rt = np.arange(int(length.sum())) - offset[rp] + t0[rp]
    pair_of = np.full((ix.J, ix.S), -1, dtype=np.int64)
    if per_job:
        pair_of[pj] = np.arange(len(pairs))[:, None]
    else:
        pair_of[pj, pb] = np.arange(len(pairs))
    fin_jobs = np.unique(pj) if ix.deadlines == "soft" else np.zeros(0, dtype=np.int64)
    return DwellIndex(
        pj=pj,
        pb=pb,
        t0=t0,
        dmax=dmax,
        offset=offset,
        pair_of=pair_of,
        rj=pj[rp],
        rb=pb[rp],
        rt=rt,
        rp=rp,
        bind=bind,
        need=np.where(bind, need, 0.0),
        fin_jobs=fin_jobs,
    )


def add_dwell(
    mx: Matrix,
    ix: IndexSets,
    departure: str = "loc",
    end: str = "binary",
    per_job: bool = False,
) -> DwellIndex | None:
    """Add the ``rho`` and ``fin`` columns and the owed/departure/end rows (see the docstring).

    The alternatives measured against them (MODEL.md here, §5a), kept for that measurement:
    ``departure="one"`` writes 1 instead of ``loc[j,b,t−1]`` on the departure row's right;
    ``end="projection"`` writes ``ρ[j,b,end−1] + unmet[j]/work_h[j] ≤ 1`` instead of the
    binary (the same LP bound, but not exact: a stay may then end short with work undone);
    ``per_job=True`` keeps one ``ρ[j,t]`` per job (smaller, much looser).
    """
    dw = dwell_index(ix, per_job)
    if dw is None:
        return None
    if per_job:
        departure = "one"  # ρ[j,t] is not tied to one site's state
    if end == "projection":
        dw.fin_jobs = np.zeros(0, dtype=np.int64)
    idx = ix.scenario.index
    x, mv = mx.cols["x"], mx.cols["mv"]
    R = len(dw.rj)
    # keys: ρ[job, site, slot] (per job: ρ[job, slot]); the owed rows share them
    rho_keys = (
        {"job": dw.rj, "slot": dw.rt} if per_job else {"job": dw.rj, "site": dw.rb, "slot": dw.rt}
    )
    rho = mx.add_cols(
        "rho",
        rho_keys,
        0.0,
        1.0,
        doc=(
            "dwell job j still owes after slot t wherever it is, as a fraction of Dmax[j]"
            if per_job
            else "dwell job j still owes at site b after slot t, as a fraction of Dmax[j,b] = "
            "max_a D[j,a,b], D = transfer_h/α"
        ),
    )
    ri = np.arange(R)
    scale = dw.dmax[dw.rp]

    # -- owed ---------------------------------------------------------------------------------
    has_prev = dw.rt > dw.t0[dw.rp]
    hp = np.flatnonzero(has_prev)
    x_row = dw.col(ix.xj, ix.xs, ix.xt)  # the work that pays each ρ slot
    xk = np.flatnonzero(x_row >= 0)
    x_row = x_row[xk]
    mb = np.flatnonzero(dw.bind)
    m_row = dw.col(ix.mj[mb], ix.mb[mb], ix.mt[mb])
    mx.add_rows(
        "dwell_owed",
        rho_keys,
        np.concatenate([ri, hp, x_row, m_row]),
        np.concatenate([rho.cols(ri), rho.cols(hp - 1), x.cols(xk), mv.cols(mb)]),
        np.concatenate(
            [
                np.ones(R),
                -np.ones(len(hp)),
                ix.dt / scale[x_row],
                -dw.need[mb] / dw.dmax[dw.rp[m_row]],
            ]
        ),
        0.0,
        np.inf,
        doc="ρ[j,b,t] − ρ[j,b,t−1] − Σ_a (D[j,a,b]/Dmax[j,b])·mv[j,a,b,t] "
        "+ (Δh/Dmax[j,b])·x[j,b,t] ≥ 0,  ρ[j,b,t0−1] = 0   (§5a)",
    )

    # -- departure ------------------------------------------------------------------------------
    mobile = ix.job_class[ix.mj] == MOBILE
    out = np.flatnonzero(mobile)
    before = dw.col(ix.mj[out], ix.ma[out], ix.mt[out] - 1)
    out, before = out[before >= 0], before[before >= 0]
    if len(out):
        rows, row_of = np.unique(before, return_inverse=True)
        n = len(rows)
        # one row per ρ[j,b,t−1] a move out of b in t follows: keyed by that ρ's (j, b, t−1)
        dep_keys = (
            {"job": dw.rj[rows], "slot": dw.rt[rows]}
            if per_job
            else {"job": dw.rj[rows], "site": dw.rb[rows], "slot": dw.rt[rows]}
        )
        if departure == "loc":
            loc = mx.cols["loc"]
            lpos = ix.l_pos[dw.rj[rows], dw.rb[rows], dw.rt[rows]]
            mx.add_rows(
                "dwell_departure",
                dep_keys,
                np.concatenate([np.arange(n), row_of, np.arange(n)]),
                np.concatenate([rho.cols(rows), mv.cols(out), loc.cols(lpos)]),
                np.concatenate([np.ones(n), np.ones(len(out)), -np.ones(n)]),
                -np.inf,
                0.0,
                doc="ρ[j,b,t−1] + Σ_c mv[j,b,c,t] − loc[j,b,t−1] ≤ 0, keyed by (j, b, t−1)   (§5a)",
            )
        else:
            mx.add_rows(
                "dwell_departure",
                dep_keys,
                np.concatenate([np.arange(n), row_of]),
                np.concatenate([rho.cols(rows), mv.cols(out)]),
                np.ones(n + len(out)),
                -np.inf,
                1.0,
                doc="ρ[j,b,t−1] + Σ_c mv[j,b,c,t] ≤ 1, keyed by (j, b, t−1)   (§5a)",
            )

    # -- end of the window (soft deadlines): owed only by a job that is done -------------------
    # the end rows: one per pair (job, site) — per job: one per job
    pair_keys = {"job": dw.pj} if per_job else {"job": dw.pj, "site": dw.pb}
    if end == "projection" and ix.deadlines == "soft":
        P = len(dw.pj)
        last = dw.offset + (idx.end_slot[dw.pj] - dw.t0) - 1
        unmet = mx.cols["unmet"]
        mx.add_rows(
            "dwell_end",
            pair_keys,
            np.concatenate([np.arange(P), np.arange(P)]),
            np.concatenate([rho.cols(last), unmet.cols(dw.pj)]),
            np.concatenate([np.ones(P), 1.0 / idx.work_h[dw.pj]]),
            -np.inf,
            1.0,
            doc="ρ[j,b,end_j−1] + unmet[j]/work_h[j] ≤ 1   (§5a)",
        )
    if len(dw.fin_jobs):
        F = len(dw.fin_jobs)
        fin = mx.add_cols(
            "fin",
            {"job": dw.fin_jobs},
            0.0,
            1.0,
            integer=True,
            doc="1 only when job j is done (its last stay may then end short of its dwell)",
        )
        fin_of = np.full(ix.J, -1, dtype=np.int64)
        fin_of[dw.fin_jobs] = np.arange(F)
        last = dw.offset + (idx.end_slot[dw.pj] - dw.t0) - 1
        P = len(dw.pj)
        mx.add_rows(
            "dwell_end",
            pair_keys,
            np.concatenate([np.arange(P), np.arange(P)]),
            np.concatenate([rho.cols(last), fin.cols(fin_of[dw.pj])]),
            np.concatenate([np.ones(P), -np.ones(P)]),
            -np.inf,
            0.0,
            doc="ρ[j,b,end_j−1] ≤ fin[j]   (§5a)",
        )
        unmet = mx.cols["unmet"]
        mx.add_rows(
            "done_if_fin",
            {"job": dw.fin_jobs},
            np.concatenate([np.arange(F), np.arange(F)]),
            np.concatenate([unmet.cols(dw.fin_jobs), fin.cols(np.arange(F))]),
            np.concatenate([1.0 / idx.work_h[dw.fin_jobs], np.ones(F)]),
            -np.inf,
            1.0,
            doc="unmet[j]/work_h[j] + fin[j] ≤ 1   (§5a)",
        )
    return dw


def dwell_start(
    ix: IndexSets, mx: Matrix, assignments: pd.DataFrame, migrations: pd.DataFrame, v: np.ndarray
) -> None:
    """Write ``ρ`` and ``fin`` of the plan ``assignments`` into the start vector ``v``.

    ``ρ`` is the least value the owed rows allow along the plan (the dwell still owed after each
    slot); ``fin`` is 1 for the jobs the plan completes.
    """
    if "rho" not in mx.cols:
        return
    sc = ix.scenario
    idx = sc.index
    dw = dwell_index(ix, per_job="site" not in mx.cols["rho"].key_names)
    if dw is None:  # pragma: no cover - the columns exist only when the index does
        return
    R = len(dw.rj)
    gain = np.zeros(R)  # hours of D arriving per ρ slot
    work = np.zeros(R)  # hours worked at b per ρ slot
    if len(assignments):
        j = assignments["job"].map(idx.job_pos).to_numpy()
        s = assignments["site"].map(idx.site_pos).to_numpy()
        t = assignments["slot"].to_numpy().astype(np.int64)
        pos = dw.col(j, s, t)
        ok = pos >= 0
        np.add.at(work, pos[ok], assignments["share"].to_numpy()[ok] * ix.dt)
    if len(migrations):
        need = dwell_need_h(sc)
        mj = migrations["job"].map(idx.job_pos).to_numpy()
        ma = migrations["src"].map(idx.site_pos).to_numpy()
        mb = migrations["dst"].map(idx.site_pos).to_numpy()
        mt = migrations["slot"].to_numpy().astype(np.int64)
        d = need[mj, ma, mb]
        pos = dw.col(mj, mb, mt)
        ok = (pos >= 0) & (d > ix.delta[mj] * ix.dt + 1e-9)
        np.add.at(gain, pos[ok], d[ok])
    # owed[k] = max(0, owed[k−1] + gain[k] − work[k]) per pair, i.e. (Lindley) the running sum
    # less its running minimum (taken with 0, the value before the pair's first slot)
    run = pd.Series(gain - work).groupby(dw.rp).cumsum()
    low = np.minimum(run.groupby(dw.rp).cummin().to_numpy(), 0.0)
    owed = np.maximum(run.to_numpy() - low, 0.0)
    v[mx.cols["rho"].cols(np.arange(R))] = np.minimum(owed / dw.dmax[dw.rp], 1.0)
    if "fin" in mx.cols:
        done = np.zeros(ix.J)
        if len(assignments):
            np.add.at(done, j, assignments["share"].to_numpy() * ix.dt)
        work_h = idx.work_h[dw.fin_jobs]
        fin = done[dw.fin_jobs] >= work_h - 1e-7 * np.maximum(1.0, work_h)
        v[mx.cols["fin"].cols(np.arange(len(dw.fin_jobs)))] = fin.astype(float)
