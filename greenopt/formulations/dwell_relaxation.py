"""The dwell rule in the relaxation (MODEL.md here, §11a; the rule itself: §5a, MODEL.md §5).

The relaxation (:mod:`.relaxation`) has no per-pair moves, only arrivals ``arr[j,b,t]`` into
``b ≠ o_j`` from any source, so the MILP's dwell family (:mod:`.dwell`) is restated over them,
with the least need of a move into ``b`` from any site the job's state can be at,

    Dmin[j,b] = min_{a ∈ C_j ∪ {o_j}, a ≠ b} transfer_h[j,a,b] / α        (hours),

and, for a migratable job, where its state is: ``loc[j,s,t] ∈ [0,1]`` over ``s ∈ C_j ∪ {o_j}``
(the MILP's ``loc``, with the moves aggregated into arrivals). Only pairs ``(j, b)`` with
``Dmin[j,b] > δ_j·Δh`` get rows (below, the arrival slot's least share already pays the need,
as in §5a); a job with none is untouched, and so is every job when ``migration_alpha`` is None.

Where the state is (migratable jobs with a binding pair):

    Σ_s loc[j,s,t] = 1                                                    (one place)
    loc[j,b,t] ≤ loc[j,b,t−1] + arr[j,b,t],   b ≠ o_j,  loc[j,b,first_j−1] = 0   (arrive)
    x[j,s,t] + d_j,s·arr[j,s,t] ≤ loc[j,s,t]                              (run there)

The owed dwell at ``b`` after slot ``t``, in units of ``Dmin[j,b]``, ``ρ[j,b,t] ∈ [0,1]``:

    ρ[j,b,t] ≥ ρ[j,b,t−1] + arr[j,b,t] − (Δh/Dmin[j,b])·x[j,b,t],   ρ[j,b,first_j−1] = 0   (owed)
    ρ[j,b,t−1] + arr[j,b,t] ≤ loc[j,b,t]            (stay: migratable jobs, t > first_j)
    ρ[j,b,end_j−1] ≤ fin[j],   unmet[j]/work_h[j] + fin[j] ≤ 1,  fin ∈ [0,1]   (end: soft)

and, for migratable jobs, the slots a stay lasts at least: ``k[j,b]``, the fewest slots that can
pay ``Dmin[j,b]`` — the arrival slot at most ``min(x_ub_j, 1 − d_j,b)·Δh`` hours, each later one
``x_ub_j·Δh`` (:func:`least_stay_slots`) —

    loc[j,b,τ] ≥ Σ_{τ−k[j,b] < u ≤ τ} arr[j,b,u]  =  cum[j,b,τ] − cum[j,b,τ−k[j,b]]     (window)

(``cum`` the arrivals so far: the presence rows' when the relaxation has them, else its own).
``Dmin`` is taken less the validator's tolerance (``TOL_H``, ``REL`` of :mod:`greenopt.dwell`),
so that a stay the validator accepts is one these rows accept.

**A relaxation of the MILP with the rule.** Take any valid plan (MODEL.md §5, rule 8 included)
and its point of the relaxation (``arr`` its migrations into ``b``, :mod:`.relaxation`). Set
``loc[j,s,t] = 1`` where its state is during ``t`` (after a move in ``t``), ``fin[j] = 1`` when
it is done, and ``ρ`` the least value the owed rows allow: ``ρ[t] = max(0, ρ[t−1] + arr[t] −
Δh·x[j,b,t]/Dmin)``. Then

* one place, arrive, run there: the state is at one site; it is at ``b ≠ o_j`` only if it was
  there or arrived in ``t``; the job runs at ``s`` only where its state is, less the disruption
  of an arrival (``d_j,s`` is the least over the sources, as in the relaxation);
* ``ρ ≤ 1`` and it is 0 outside the stays at ``b``: it is 0 before the first arrival; a stay that
  is followed by a departure worked at least ``D[j,a,b] ≥ Dmin[j,b]`` hours at ``b`` (rule 8), so
  ``ρ``, which rose by 1 at the arrival from 0, is back at 0 by the slot before the departure
  and stays there until the next arrival (by induction over the stays, ``ρ`` is 0 at every
  arrival, so it never exceeds 1);
* stay: if ``ρ[j,b,t−1] > 0``, the job owes dwell at ``b`` after ``t−1`` — its state is at ``b``
  and it does not leave in ``t`` (the departure slot is where the stay's work stops counting,
  and rule 8 wants it paid before) — so ``loc[j,b,t] = 1`` and ``arr[j,b,t] = 0`` (no move into
  the site it is at): ``ρ + arr ≤ 1 = loc``. If ``ρ[j,b,t−1] = 0``, the row is ``arr ≤ loc``,
  which holds for an arrival. Jobs that are not migratable make one move and never leave: no
  ``loc``, no stay rows;
* end: a stay may end its window owing dwell only if the job is done (rule 8), then
  ``fin = 1`` and ``unmet = 0``; otherwise ``ρ[end−1] = 0 ≤ fin``;
* window: after an arrival at ``b`` in ``u`` the state is at ``b`` in slots ``u … u+k−1`` — a
  stay followed by a departure worked ``Dmin`` there, which takes at least ``k`` slots, and one
  that is not keeps the state at ``b`` to the end (once the job is done nothing moves). So in any
  ``k`` consecutive slots ending at ``τ`` there is at most one arrival at ``b``, and with one the
  state is at ``b`` in ``τ``: the sum is 0 or 1, and ``loc[j,b,τ] = 1`` when it is 1.

Every valid plan so maps to a feasible point with the same objective (``loc``, ``ρ`` and
``fin`` cost nothing), so the relaxation's optimum with these rows is still at most every valid
plan's objective — it only sees more of the rule: a job that arrives at ``b`` cannot leave it
(nor work elsewhere, through ``Σ_s loc = 1``) before it has paid ``Dmin`` there, in proportion
to the arrival, and a job that never pays must be done. Returns to the origin are left out (no
arrival column there: ``loc[j,o_j,·]`` may rise freely), which only loosens it. In the root-cut
bound (:func:`greenopt.milp.relaxation.root_bound`) ``fin`` is binary, as in every plan.
"""

from __future__ import annotations

import numpy as np

from greenopt.dwell import REL, TOL_H, dwell_need_h
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets

#: The row blocks this module adds (their duals say which jobs the rule binds in the LP).
DWELL_ROWS = (
    "dwell_owed",
    "loc_one",
    "loc_arrive",
    "loc_run",
    "dwell_stay",
    "dwell_window",
    "arrivals_so_far",
    "dwell_end",
    "done_if_fin",
)


def relaxed_dwell_need(ix: IndexSets, jobs: np.ndarray | None = None) -> np.ndarray:
    """(J, S) ``Dmin[j,b]`` in hours where the pair binds, 0 elsewhere (and everywhere when the
    rule is off); ``jobs``: only these jobs' pairs (any subset keeps the relaxation one)."""
    sc = ix.scenario
    idx = sc.index
    out = np.zeros((ix.J, ix.S))
    if sc.migration_alpha is None:
        return out
    # a stay short of its need by the validator's tolerance is valid: the rows ask for less
    need = dwell_need_h(sc) * (1.0 - REL) - TOL_H - 1e-9  # (J, S, S), inf where no route
    for j in range(ix.J):
        c = ix.cand[j]
        o = int(idx.origin[j])
        targets = c[c != o]
        if not len(targets):
            continue
        if idx.migratable[j]:
            sources = np.union1d(c, [o])
        elif ix.deadlines == "soft":
            sources = np.array([o])  # one move, from the origin
        else:
            continue  # never leaves and is done: the rule cannot bind
        d = need[j][np.ix_(sources, targets)].copy()
        d[sources[:, None] == targets[None, :]] = np.inf  # no move from a site to itself
        least = d.min(axis=0)
        bind = np.isfinite(least) & (least > ix.delta[j] * ix.dt + 1e-9)
        out[j, targets[bind]] = least[bind]
    if jobs is not None:
        keep = np.zeros(ix.J, dtype=bool)
        keep[np.asarray(jobs, dtype=np.int64)] = True
        out[~keep] = 0.0
    return out


def add_relaxed_dwell(
    mx: Matrix, ix: IndexSets, d_arr: np.ndarray, jobs: np.ndarray | None = None
) -> None:
    """Add ``loc``, ``rho``, ``fin`` and the rows of the module docstring to the relaxation
    ``mx`` (with its ``x``, ``arr`` and, under soft deadlines, ``unmet`` columns); ``d_arr`` is
    the least disruption (fraction of a slot) of each ``arr`` entry; ``jobs``: only for these
    jobs (default all). Nothing when no pair binds."""
    dmin = relaxed_dwell_need(ix, jobs)
    if not (dmin > 0).any():
        return
    idx = ix.scenario.index
    x, arr = mx.cols["x"], mx.cols["arr"]
    aj, ab, at = arr.keys[:, 0], arr.keys[:, 1], arr.keys[:, 2]
    J, S, T = ix.J, ix.S, ix.T
    a_pos = np.full((J, S, T), -1, dtype=np.int64)
    a_pos[aj, ab, at] = np.arange(arr.n)

    # -- owed ------------------------------------------------------------------------------
    # ρ over every slot of the window of a binding pair, which is where its arr entries are
    ra = np.flatnonzero(dmin[aj, ab] > 0)  # arr entries of binding pairs = the ρ columns
    R = len(ra)
    rj, rb, rt = aj[ra], ab[ra], at[ra]
    rho = mx.add_cols(
        "rho",
        {"job": rj, "site": rb, "slot": rt},
        0.0,
        1.0,
        doc="dwell job j still owes at b after slot t, as a fraction of Dmin[j,b] (§11a)",
    )
    r_pos = np.full((J, S, T), -1, dtype=np.int64)
    r_pos[rj, rb, rt] = np.arange(R)
    prev = np.where(rt > idx.first_slot[rj], r_pos[rj, rb, np.maximum(rt - 1, 0)], -1)
    hp = np.flatnonzero(prev >= 0)
    ri = np.arange(R)
    xr = ix.x_pos[rj, rb, rt]  # the work at b in t (x exists wherever arr does)
    mx.add_rows(
        "dwell_owed",
        {"job": rj, "site": rb, "slot": rt},
        np.concatenate([ri, hp, ri, ri]),
        np.concatenate([rho.cols(ri), rho.cols(prev[hp]), arr.cols(ra), x.cols(xr)]),
        np.concatenate([np.ones(R), -np.ones(len(hp)), -np.ones(R), ix.dt / dmin[rj, rb]]),
        0.0,
        np.inf,
        doc="ρ[j,b,t] − ρ[j,b,t−1] − arr[j,b,t] + (Δh/Dmin[j,b])·x[j,b,t] ≥ 0   (§11a)",
    )

    # -- where the state is (migratable jobs) ------------------------------------------------
    mobile = np.flatnonzero(idx.migratable & (dmin > 0).any(axis=1))
    if len(mobile):
        lj, ls, lt = [], [], []
        for j in mobile.tolist():
            nodes = np.union1d(ix.cand[j], [idx.origin[j]])
            slots = np.arange(idx.first_slot[j], idx.end_slot[j])
            lj.append(np.full(len(nodes) * len(slots), j))
            ls.append(np.repeat(nodes, len(slots)))
            lt.append(np.tile(slots, len(nodes)))
        lj_, ls_, lt_ = (np.concatenate(a).astype(np.int64) for a in (lj, ls, lt))
        L = len(lj_)
        loc = mx.add_cols(
            "loc",
            {"job": lj_, "site": ls_, "slot": lt_},
            0.0,
            1.0,
            doc="1 when job j's state is at site s during slot t (§11a)",
        )
        l_pos = np.full((J, S, T), -1, dtype=np.int64)
        l_pos[lj_, ls_, lt_] = np.arange(L)
        li = np.arange(L)
        # one place: one row per (job, slot)
        jt, row = np.unique(lj_ * T + lt_, return_inverse=True)
        mx.add_rows(
            "loc_one",
            {"job": jt // T, "slot": jt % T},
            row,
            loc.cols(li),
            np.ones(L),
            1.0,
            1.0,
            doc="Σ_s loc[j,s,t] = 1   (§11a)",
        )
        # arrive: loc[j,b,t] ≤ loc[j,b,t−1] + arr[j,b,t] for b ≠ o_j
        away = np.flatnonzero(ls_ != idx.origin[lj_])
        n = len(away)
        wj, ws, wt = lj_[away], ls_[away], lt_[away]
        lprev = np.where(wt > idx.first_slot[wj], l_pos[wj, ws, np.maximum(wt - 1, 0)], -1)
        hq = np.flatnonzero(lprev >= 0)
        mx.add_rows(
            "loc_arrive",
            {"job": wj, "site": ws, "slot": wt},
            np.concatenate([np.arange(n), hq, np.arange(n)]),
            np.concatenate([loc.cols(away), loc.cols(lprev[hq]), arr.cols(a_pos[wj, ws, wt])]),
            np.concatenate([np.ones(n), -np.ones(len(hq)), -np.ones(n)]),
            -np.inf,
            0.0,
            doc="loc[j,b,t] − loc[j,b,t−1] − arr[j,b,t] ≤ 0,  b ≠ o_j   (§11a)",
        )
        # run there: x[j,s,t] + d_j,s·arr[j,s,t] ≤ loc[j,s,t]
        xk = np.flatnonzero(l_pos[ix.xj, ix.xs, ix.xt] >= 0)
        k = len(xk)
        xa = a_pos[ix.xj[xk], ix.xs[xk], ix.xt[xk]]
        has_a = np.flatnonzero(xa >= 0)
        mx.add_rows(
            "loc_run",
            {"job": ix.xj[xk], "site": ix.xs[xk], "slot": ix.xt[xk]},
            np.concatenate([np.arange(k), has_a, np.arange(k)]),
            np.concatenate(
                [x.cols(xk), arr.cols(xa[has_a]), loc.cols(l_pos[ix.xj[xk], ix.xs[xk], ix.xt[xk]])]
            ),
            np.concatenate([np.ones(k), d_arr[xa[has_a]], -np.ones(k)]),
            -np.inf,
            0.0,
            doc="x[j,s,t] + d_j,s·arr[j,s,t] − loc[j,s,t] ≤ 0   (§11a)",
        )
        # stay: ρ[j,b,t−1] + arr[j,b,t] ≤ loc[j,b,t]  (keyed by the slot t of the arrival/loc)
        sk = hp[idx.migratable[rj[hp]]]
        m = len(sk)
        mi = np.arange(m)
        mx.add_rows(
            "dwell_stay",
            {"job": rj[sk], "site": rb[sk], "slot": rt[sk]},
            np.concatenate([mi, mi, mi]),
            np.concatenate(
                [rho.cols(prev[sk]), arr.cols(ra[sk]), loc.cols(l_pos[rj[sk], rb[sk], rt[sk]])]
            ),
            np.concatenate([np.ones(m), np.ones(m), -np.ones(m)]),
            -np.inf,
            0.0,
            doc="ρ[j,b,t−1] + arr[j,b,t] − loc[j,b,t] ≤ 0   (§11a)",
        )

        _add_window(mx, ix, dmin, d_arr, a_pos, l_pos)

    # -- end of the window (soft deadlines): owed only by a job that is done -----------------
    if "unmet" not in mx.cols:
        return
    last = np.flatnonzero(rt == idx.end_slot[rj] - 1)  # one ρ per binding pair
    fin_jobs = np.unique(rj[last])
    F = len(fin_jobs)
    fin = mx.add_cols(
        "fin",
        {"job": fin_jobs},
        0.0,
        1.0,
        doc="1 only when job j is done (its last stay may then end short of its dwell) (§11a)",
    )
    fin_of = np.full(J, -1, dtype=np.int64)
    fin_of[fin_jobs] = np.arange(F)
    P = len(last)
    mx.add_rows(
        "dwell_end",
        {"job": rj[last], "site": rb[last]},
        np.concatenate([np.arange(P), np.arange(P)]),
        np.concatenate([rho.cols(last), fin.cols(fin_of[rj[last]])]),
        np.concatenate([np.ones(P), -np.ones(P)]),
        -np.inf,
        0.0,
        doc="ρ[j,b,end_j−1] − fin[j] ≤ 0   (§11a)",
    )
    unmet = mx.cols["unmet"]
    mx.add_rows(
        "done_if_fin",
        {"job": fin_jobs},
        np.concatenate([np.arange(F), np.arange(F)]),
        np.concatenate([unmet.cols(fin_jobs), fin.cols(np.arange(F))]),
        np.concatenate([1.0 / idx.work_h[fin_jobs], np.ones(F)]),
        -np.inf,
        1.0,
        doc="unmet[j]/work_h[j] + fin[j] ≤ 1   (§11a)",
    )


def least_stay_slots(ix: IndexSets, dmin: np.ndarray, d_least: np.ndarray) -> np.ndarray:
    """(J, S) ``k[j,b]``: the fewest slots a stay at ``b`` can pay ``Dmin[j,b]`` in — the arrival
    slot gives at most ``min(x_ub_j, 1 − d_j,b)·Δh`` hours, every later slot ``x_ub_j·Δh``; 1
    where ``Dmin`` is 0. ``d_least`` (J, S) is the least disruption of an arrival, in slots."""
    u = ix.x_ub[:, None] * ix.dt
    first = np.clip(np.minimum(ix.x_ub[:, None], 1.0 - d_least), 0.0, None) * ix.dt
    more = np.where(dmin > first, np.ceil((dmin - first) / u - 1e-9), 0.0)
    return 1 + more.astype(np.int64)


def _add_window(
    mx: Matrix,
    ix: IndexSets,
    dmin: np.ndarray,
    d_arr: np.ndarray,
    a_pos: np.ndarray,
    l_pos: np.ndarray,
) -> None:
    """The window rows of migratable jobs (module docstring): ``loc[j,b,τ] ≥ Σ_{τ−k<u≤τ}
    arr[j,b,u]``, the sum written ``cum[j,b,τ] − cum[j,b,τ−k]`` over the arrivals so far — the
    presence rows' ``cum`` when the relaxation has them, else a ``cum`` of these pairs' own."""
    idx = ix.scenario.index
    arr = mx.cols["arr"]
    aj, ab, at = arr.keys[:, 0], arr.keys[:, 1], arr.keys[:, 2]
    d_least = np.ones((ix.J, ix.S))
    d_least[aj, ab] = d_arr
    k = least_stay_slots(ix, dmin, d_least)
    sel = np.flatnonzero(idx.migratable[aj] & (dmin[aj, ab] > 0) & (k[aj, ab] >= 2))
    if not len(sel):
        return
    n = len(sel)
    sj, sb, st = aj[sel], ab[sel], at[sel]
    c_pos = np.full_like(a_pos, -1)  # (J, S, T) cum column (local) of each selected entry
    if "cum" in mx.cols:
        cum = mx.cols["cum"]  # keyed exactly as arr
        c_pos[sj, sb, st] = sel
    else:
        cum = mx.add_cols(
            "cum",
            {"job": sj, "site": sb, "slot": st},
            0.0,
            np.inf,
            doc="arrivals of job j at b up to slot t (§11a)",
        )
        c_pos[sj, sb, st] = np.arange(n)
        prev = np.where(st > idx.first_slot[sj], c_pos[sj, sb, np.maximum(st - 1, 0)], -1)
        hp = np.flatnonzero(prev >= 0)
        mx.add_rows(
            "arrivals_so_far",
            {"job": sj, "site": sb, "slot": st},
            np.concatenate([np.arange(n), hp, np.arange(n)]),
            np.concatenate([cum.cols(np.arange(n)), cum.cols(prev[hp]), arr.cols(sel)]),
            np.concatenate([np.ones(n), -np.ones(len(hp)), -np.ones(n)]),
            0.0,
            0.0,
            doc="cum[j,b,t] − cum[j,b,t−1] − arr[j,b,t] = 0   (§11a)",
        )
    back = st - k[sj, sb]
    far = np.where(back >= idx.first_slot[sj], c_pos[sj, sb, np.maximum(back, 0)], -1)
    hb = np.flatnonzero(far >= 0)
    ni = np.arange(n)
    mx.add_rows(
        "dwell_window",
        {"job": sj, "site": sb, "slot": st},
        np.concatenate([ni, ni, hb]),
        np.concatenate(
            [
                mx.cols["loc"].cols(l_pos[sj, sb, st]),
                cum.cols(c_pos[sj, sb, st]),
                cum.cols(far[hb]),
            ]
        ),
        np.concatenate([np.ones(n), -np.ones(n), np.ones(len(hb))]),
        0.0,
        np.inf,
        doc="loc[j,b,τ] − cum[j,b,τ] + cum[j,b,τ−k[j,b]] ≥ 0   (§11a)",
    )
