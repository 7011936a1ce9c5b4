"""Plans ↔ column values of the MILP (MODEL.md here, §10).

:func:`start_vector` writes a plan (any method's assignments) as a value for every column — the
MIP start HiGHS needs, complete or HiGHS finds it infeasible; :func:`read_assignments` reads run
shares back from a solution, cleaned so that solver tolerances cannot break validity;
:func:`column_jobs` says which job owns each column (fix-and-optimise frees jobs by it);
:func:`sites_used` the sites a plan runs each job at (candidate sites of a model).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from greenopt.evaluate import SHARE_EPS, derive_migrations, energy_table
from greenopt.formulations.dwell import dwell_start
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import SINGLE, IndexSets


def sites_used(scenario: Any, assignments: pd.DataFrame) -> list[set[int]]:
    """Per job, the sites the assignments run it at."""
    idx = scenario.index
    used: list[set[int]] = [set() for _ in idx.job_names]
    a = assignments
    for j, s in zip(a["job"].map(idx.job_pos), a["site"].map(idx.site_pos), strict=True):
        used[int(j)].add(int(s))
    return used


def column_jobs(ix: IndexSets, mx: Matrix) -> np.ndarray:
    """(n_cols,) the job each column belongs to; −1 for site-slot columns (grid draw, switches)."""
    owner = np.full(mx.n_cols, -1, dtype=np.int64)
    keys = {
        "x": ix.xj,
        "unmet": np.arange(ix.J),
        "loc": ix.lj,
        "mv": ix.mj,
        "z": ix.zj,
        "r": ix.rj,
        "st": ix.rj,
    }
    for name, jobs in keys.items():
        block = mx.cols.get(name)
        if block is not None and block.n:
            owner[block.cols(np.arange(block.n))] = jobs
    for name in ("rho", "fin"):  # the dwell family, keyed by job (and site, slot)
        block = mx.cols.get(name)
        if block is not None and block.n:
            owner[block.cols(np.arange(block.n))] = block.keys[:, block.key_names.index("job")]
    return owner


def start_vector(ix: IndexSets, mx: Matrix, assignments: pd.DataFrame) -> np.ndarray | None:
    """Every column's value for the plan ``assignments``; ``None`` if the plan is outside the
    model (a run or move the index sets do not have)."""
    sc = ix.scenario
    idx = sc.index
    S, T = ix.S, ix.T
    v = np.zeros(mx.n_cols)
    a = assignments
    if len(a):
        j = a["job"].map(idx.job_pos).to_numpy()
        s = a["site"].map(idx.site_pos).to_numpy()
        t = a["slot"].to_numpy().astype(np.int64)
        pos = ix.x_pos[j, s, t]
        if np.any(pos < 0):
            return None
        x = mx.cols["x"]
        v[x.cols(pos)] = np.minimum(a["share"].to_numpy(), ix.x_ub[j])
    migs = derive_migrations(sc, a)
    state = np.repeat(idx.origin[:, None], T, axis=1)
    if len(migs):
        mj = migs["job"].map(idx.job_pos).to_numpy()
        ma = migs["src"].map(idx.site_pos).to_numpy()
        mb = migs["dst"].map(idx.site_pos).to_numpy()
        mt = migs["slot"].to_numpy().astype(np.int64)
        key = ((ix.mj * S + ix.ma) * S + ix.mb) * T + ix.mt
        order = np.argsort(key)
        want = ((mj * S + ma) * S + mb) * T + mt
        k = np.searchsorted(key[order], want)
        k = np.minimum(k, len(key) - 1) if len(key) else k
        if not len(key) or np.any(key[order][k] != want):
            return None
        v[mx.cols["mv"].cols(order[k])] = 1.0
        for jj, bb, tt in sorted(
            zip(mj.tolist(), mb.tolist(), mt.tolist(), strict=True), key=lambda r: r[2]
        ):
            state[jj, tt:] = bb
    loc = mx.cols["loc"]
    v[loc.cols(np.arange(loc.n))] = (state[ix.lj, ix.lt] == ix.ls).astype(float)
    if "unmet" in mx.cols:
        done = np.zeros(ix.J)
        if len(a):
            np.add.at(done, a["job"].map(idx.job_pos).to_numpy(), a["share"].to_numpy() * ix.dt)
        v[mx.cols["unmet"].cols(np.arange(ix.J))] = np.maximum(0.0, idx.work_h - done)
    z = mx.cols["z"]
    if z.n:
        at_origin = np.zeros(ix.J, dtype=bool)
        if len(a):
            jo = a["job"].map(idx.job_pos).to_numpy()
            so = a["site"].map(idx.site_pos).to_numpy()
            at_origin[jo[so == idx.origin[jo]]] = True
        v[z.cols(np.arange(z.n))] = at_origin[ix.zj].astype(float)
    if "r" in mx.cols and len(a):
        first = a.groupby("job")["slot"].min()
        last = a.groupby("job")["slot"].max()
        jr = np.array([idx.job_names[k] for k in ix.rj], dtype=object)
        f = pd.Series(jr).map(first).to_numpy(dtype=float)
        e = pd.Series(jr).map(last).to_numpy(dtype=float)
        inside = (ix.rt >= f) & (ix.rt <= e)
        v[mx.cols["r"].cols(np.arange(len(ix.rj)))] = inside.astype(float)
        v[mx.cols["st"].cols(np.arange(len(ix.rj)))] = (ix.rt == f).astype(float)
    dwell_start(ix, mx, a, migs, v)
    en = energy_table(sc, a, migs)
    grid = en["grid_kwh"].to_numpy().reshape(S, T)
    excess = (en["facility_kwh"].to_numpy() - idx.renewable_kw.ravel() * ix.dt).reshape(S, T)
    g = mx.cols["grid"]
    v[g.cols(np.arange(g.n))] = grid[g.keys[:, 0], g.keys[:, 1]]
    if "y" in mx.cols:
        y = mx.cols["y"]
        v[y.cols(np.arange(y.n))] = (excess[y.keys[:, 0], y.keys[:, 1]] > 0).astype(float)
    return v


# -- read back ------------------------------------------------------------------------------------
def read_assignments(ix: IndexSets, mx: Matrix, values: np.ndarray) -> pd.DataFrame:
    """Run shares from a solution, cleaned so solver tolerances cannot break validity.

    Binaries are rounded; a share is kept only where the rounded state is; shares are clipped to
    their caps (``x_ub``, ``1 − disruption``), then scaled down where GPU capacity or a job's work
    is exceeded by noise. Shares below the evaluator's noise level are dropped.
    """
    idx = ix.scenario.index
    xb = mx.cols["x"]
    x = np.clip(values[xb.cols(np.arange(xb.n))], 0.0, ix.x_ub[ix.xj])
    mv = np.round(values[mx.cols["mv"].cols(np.arange(len(ix.mj)))])
    loc = np.round(values[mx.cols["loc"].cols(np.arange(len(ix.lj)))])
    xl = ix.l_pos[ix.xj, ix.xs, ix.xt]
    has = xl >= 0
    x[has] *= loc[xl[has]]
    z = mx.cols["z"]
    if z.n:
        zval = np.zeros(ix.J)
        zval[ix.zj] = np.round(values[z.cols(np.arange(z.n))])
        single_origin = (ix.job_class[ix.xj] == SINGLE) & (ix.xs == idx.origin[ix.xj])
        x[single_origin] *= zval[ix.xj[single_origin]]
    if len(ix.mj):
        cap = np.ones(xb.n)
        pos = ix.x_pos[ix.mj, ix.mb, ix.mt]
        np.subtract.at(cap, pos, ix.md * mv)
        x = np.minimum(x, np.maximum(cap, 0.0))
    # capacity noise
    st = ix.xs * ix.T + ix.xt
    used = np.bincount(st, weights=idx.gpus[ix.xj] * x, minlength=ix.S * ix.T)
    capa = np.repeat(idx.site_gpus.astype(float), ix.T)
    scale = np.where(used > capa, capa / np.maximum(used, 1e-300), 1.0)
    x = x * scale[st]
    # work noise
    done = np.bincount(ix.xj, weights=x * ix.dt, minlength=ix.J)
    over = np.where(done > idx.work_h, idx.work_h / np.maximum(done, 1e-300), 1.0)
    x = x * over[ix.xj]
    keep = x > SHARE_EPS
    names_j = np.array(idx.job_names, dtype=object)
    names_s = np.array(idx.site_names, dtype=object)
    return pd.DataFrame(
        {
            "job": names_j[ix.xj[keep]],
            "slot": ix.xt[keep],
            "site": names_s[ix.xs[keep]],
            "share": x[keep],
        }
    )
