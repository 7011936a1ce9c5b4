"""Energy balance with renewable supply and grid import (MODEL.md here, §8; MODEL.md §6).

For each site ``s`` and slot ``t`` where anything can run or arrive, the facility energy is
linear in the decisions:

    facility[s,t] = pue_s·(idle_kw_s·Δh + Σ_j power_kw_j·Δh·x[j,s,t])
                    + net_kwh_per_gb·Σ gb_j·mv[j,·,s,t] + reserved_kw[s,t]·Δh

and the grid draw (renewable used first) is ``grid = max(0, facility − renewable_kw[s,t]·Δh)``:

    grid[s,t] ≥ facility[s,t] − renewable_kw[s,t]·Δh,   0 ≤ grid[s,t] ≤ grid_kw_max_s·Δh

Where the objective coefficient of grid energy is positive, minimisation makes ``grid`` equal
the max. Where it is negative (negative prices under ``cost``/``weighted``), the max is modelled
exactly with a binary ``y[s,t]`` (1: the facility draws from the grid):

    grid[s,t] ≤ facility[s,t] − renewable_kw[s,t]·Δh + B·(1 − y[s,t]),     grid[s,t] ≤ B·y[s,t]

with ``B`` a bound on ``|facility − renewable|``. Where the coefficient is 0 and there is no
grid limit, no variable is needed. Site-slots where nothing can run or arrive have a constant
grid draw, added to the objective's constant.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def add_energy(mx: Matrix, ix: IndexSets, arrivals: str = "mv") -> None:
    """Grid columns and rows; ``arrivals`` names the column block whose entries carry the
    migration energy: ``mv`` (keyed like ``ix.m*``) or ``arr`` (keyed ``(j, b, t)``, used by
    the relaxation of :mod:`.relaxation`)."""
    sc = ix.scenario
    idx = sc.index
    S, T, dt = ix.S, ix.T, ix.dt
    coef = ix.objective.grid_coef(sc)  # (S, T)
    x, mv = mx.cols["x"], mx.cols[arrivals]
    # fac0 − ren; fac0 includes the power reserved by work outside the plan (Site.reserved_kw)
    base = (idx.pue[:, None] * idx.idle_kw[:, None] + idx.reserved_kw - idx.renewable_kw) * dt
    x_kwh = idx.pue[ix.xs] * idx.power_kw[ix.xj] * dt  # per unit share
    if arrivals == "mv":
        m_j, m_b, m_t = ix.mj, ix.mb, ix.mt
    else:
        m_j, m_b, m_t = mv.keys[:, 0], mv.keys[:, 1], mv.keys[:, 2]
    m_kwh = idx.state_gb[m_j] * sc.net_kwh_per_gb
    x_st = ix.xs * T + ix.xt
    m_st = m_b * T + m_t
    active = np.zeros(S * T, dtype=bool)
    active[x_st] = True
    active[m_st] = True
    limited = np.repeat(np.isfinite(idx.grid_kw_max), T)
    flat_coef = coef.ravel()
    need = active & ((flat_coef != 0) | limited)
    # constant grid draw where nothing can happen
    const = np.maximum(0.0, base.ravel())
    mx.offset += float((flat_coef * const)[~active].sum())
    keys = np.flatnonzero(need)
    g = mx.add_cols(
        "grid",
        {"site": keys // T, "slot": keys % T},
        0.0,
        np.repeat(idx.grid_kw_max * dt, T)[keys],
        cost=flat_coef[keys],
        doc="grid kWh at site s in slot t",
    )
    row_of = np.full(S * T, -1, dtype=np.int64)
    row_of[keys] = np.arange(len(keys))
    xk = np.flatnonzero(row_of[x_st] >= 0)
    mk = np.flatnonzero(row_of[m_st] >= 0)
    n = len(keys)
    fac_r = np.concatenate([row_of[x_st[xk]], row_of[m_st[mk]]])
    fac_c = np.concatenate([x.cols(xk), mv.cols(mk)])
    fac_v = np.concatenate([x_kwh[xk], m_kwh[mk]])
    mx.add_rows(
        "grid_import",
        {"site": keys // T, "slot": keys % T},
        np.concatenate([np.arange(n), fac_r]),
        np.concatenate([g.cols(np.arange(n)), fac_c]),
        np.concatenate([np.ones(n), -fac_v]),
        base.ravel()[keys],
        np.inf,
        doc="grid[s,t] ≥ facility[s,t] − renewable_kw[s,t]·Δh   (§8)",
    )
    neg = np.flatnonzero(flat_coef[keys] < 0)
    if len(neg):
        # B ≥ |facility − renewable| for any plan
        fac_max = np.bincount(x_st, weights=x_kwh * ix.x_ub[ix.xj], minlength=S * T)
        fac_max += np.bincount(m_st, weights=m_kwh, minlength=S * T)
        big = np.maximum(np.abs(base.ravel()), np.abs(base.ravel() + fac_max)) + 1.0
        B = big[keys[neg]]
        y = mx.add_cols(
            "y",
            {"site": keys[neg] // T, "slot": keys[neg] % T},
            0.0,
            1.0,
            integer=True,
            doc="1 when the site draws from the grid in the slot (negative-price slots only)",
        )
        row_neg = np.full(n, -1, dtype=np.int64)
        row_neg[neg] = np.arange(len(neg))
        sel = row_neg[fac_r] >= 0
        k = len(neg)
        mx.add_rows(
            "grid_exact",
            {"site": keys[neg] // T, "slot": keys[neg] % T},
            np.concatenate([np.arange(k), row_neg[fac_r[sel]], np.arange(k)]),
            np.concatenate([g.cols(neg), fac_c[sel], y.cols(np.arange(k))]),
            np.concatenate([np.ones(k), -fac_v[sel], B]),
            -np.inf,
            base.ravel()[keys[neg]] + B,
            doc=(
                "grid[s,t] ≤ facility[s,t] − renewable_kw[s,t]·Δh + B·(1 − y[s,t])"
                "   (§8, negative coefficient)"
            ),
        )
        mx.add_rows(
            "grid_on",
            {"site": keys[neg] // T, "slot": keys[neg] % T},
            np.concatenate([np.arange(k), np.arange(k)]),
            np.concatenate([g.cols(neg), y.cols(np.arange(k))]),
            np.concatenate([np.ones(k), -B]),
            -np.inf,
            0.0,
            doc="grid[s,t] ≤ B·y[s,t]   (§8, negative coefficient)",
        )
