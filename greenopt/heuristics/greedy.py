"""The feasibility-aware greedy day-ahead heuristic.

Jobs are taken in order of urgency — least slack first, ``slack = window_h − work_h`` — and each
is placed on the (site, slots) that add the least objective (the shared
:class:`~greenopt.objectives.Objective`, priced by :meth:`CapacityState.cost`) given the
renewable energy, GPU-time and link capacity still left.

For one job ``j`` with ``n = remaining work / Δh`` slot-shares to place:

* **candidate rows** — each a choice of site per slot of the window: the single-site rows (one
  per allowed site ``b``, moving there once in the first run slot if ``b`` is not the origin) and,
  for a migratable preemptible job, the *split* rows (origin before ``t_m``, site ``b`` from
  ``t_m``) for each start ``t_m`` of a renewable window at ``b`` inside the job's window;
* **fill** (vectorised over rows × slots) — each slot offers a renewable piece (share up to
  ``ren_left⁺ / (pue·P·Δh)``, priced by lateness only) and a grid piece (priced
  ``grid_coef·pue·P·Δh`` more); pieces are taken cheapest first until ``n`` is reached (for
  non-negative grid coefficients this is the exact single-row optimum of the piecewise-linear
  convex slot costs);
* **refine** (the best few rows) — the share in the slot a job arrives in is capped at
  ``1 − disruption_h/Δh``, slots whose route has no link room cannot be arrival slots, and the row
  is refilled until stable; a stay shorter than its **dwell** (MODEL.md §5: ``transfer_h/α``
  hours of work at the destination before the next move, unless the job finishes there) is
  given back to the site the job came from and the row refilled; a move must lie in the seed
  paper's **feasibility domain**
  (``disruption_h ≤ α·W`` for the destination's renewable window ``W`` and renewable kWh gained >
  the move's kWh). A move outside the domain is taken only to *rescue* work that could not be
  done otherwise (``rescue=True``). The exact cost decides among refined rows.

Non-preemptible jobs run one pause-free block (first share ≤ the arrival cap, then full slots,
then the remainder) at one site; all starts at all sites are priced at once with cumulative sums.

Jobs that cannot be fitted are reported misses (their work left undone); every plan is valid.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from greenopt.evaluate import evaluate
from greenopt.heuristics.ejection import ejection_moves
from greenopt.heuristics.retime import RETIME_AUTO_COLUMNS, RETIME_MAX_COLUMNS, retime
from greenopt.heuristics.state import (
    EPS,
    MIN_SHARE,
    CapacityState,
    Placement,
    all_of,
    any_of,
    placement,
)
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Scenario

#: The feasibility domain's α when the scenario has none (its dwell rule off): the seed paper's.
DOMAIN_ALPHA = 0.1
#: Placements the ejection moves may spend by default: this many less the number of jobs, so a
#: small day gets swaps and the 2000-job day none (its construction alone takes the time budget).
EJECT_WORK = 1000
#: Days of up to this many jobs get the quality effort by default (re-placement passes with the
#: route row, LP re-timing; see GreedySettings); larger ones the one-pass greedy, whose time is
#: the budget there (≤ 0.5 s on 2000 jobs × 20 sites × 96 slots).
QUALITY_JOBS = 1000
#: Re-placement passes of the quality effort: on the benchmark days a third pass changed the
#: objective by less than 0.3 % (bench_greedy_gap.py).
QUALITY_PASSES = 2


@dataclass(frozen=True)
class GreedySettings:
    """Knobs of the per-job placement (``options.params`` of ``plan(method="greedy")``).

    ``alpha``: disruption budget of the feasibility domain (MODEL §9) — ``None`` (the default):
    the scenario's ``migration_alpha``, the same α of the seed paper that sets the dwell rule
    (MODEL.md §5), or :data:`DOMAIN_ALPHA` when the scenario turns that rule off; ``domain``:
    keep moves inside it — ``None``, the default: with the one-pass greedy only (days of more
    than :data:`QUALITY_JOBS` jobs). It guards a single pass against moves that look good to the
    job placed first and crowd out the jobs after it (without it the one pass was 0.2–5 % worse
    on the synthetic days); the re-placement passes revisit every move, and there the filter
    only costs (2–7 % of objective on the real-trace days; the dwell rule already makes every
    move pay for its transfer); ``rescue``: with ``domain``, allow a move outside it when it
    does work that otherwise stays undone;
    ``split``: try origin→destination splits; ``top_k``: rows refined exactly per job;
    ``split_sites``: destinations tried for splits (those with most renewable left);
    ``shortlist``: when set, only the origin and this many sites with the cheapest full-share
    slots in the window are priced (the online planner's speed knob); ``passes``: rounds of
    re-placement after the first pass (:func:`improve`), each costing about one first pass;
    ``retime``: re-optimise the slot shares of the final plan by an LP with its locations and
    moves fixed (:mod:`greenopt.heuristics.retime`, HiGHS; skipped when its model is large);
    ``route``: also try, for a migratable preemptible job, the cheapest multi-site route
    (:func:`_route_row`, a shortest path over sites × slots; +50 % time per pass at
    2000 × 20 × 96); ``eject``: placements spent on ejection moves after the passes
    (:mod:`greenopt.heuristics.ejection` — the swap a single-job move cannot make: a job onto
    a contested clean grid, the jobs it displaces elsewhere); ``None``, the default:
    ``max(0, EJECT_WORK − jobs)``.

    ``domain``, ``passes``, ``route`` and ``retime`` default to ``None``: the **effort for the
    day's size** (:meth:`resolved`) — up to :data:`QUALITY_JOBS` jobs, :data:`QUALITY_PASSES`
    passes with the route row and the LP re-timing, no domain (a 500-job day in about a second);
    above, the one-pass greedy alone, domain on (≤ 0.5 s on 2000 jobs × 20 sites × 96 slots).
    """

    alpha: float | None = None
    domain: bool | None = None
    rescue: bool = True
    split: bool = True
    top_k: int = 3
    split_sites: int = 4
    shortlist: int | None = None
    passes: int | None = None
    retime: bool | None = None
    route: bool | None = None
    eject: int | None = None

    @classmethod
    def from_params(cls, params: dict) -> GreedySettings:
        known = {k: params[k] for k in cls.__dataclass_fields__ if k in params}
        return cls(**known)

    def for_scenario(self, scenario: Scenario) -> GreedySettings:
        """These settings with ``alpha`` and ``domain`` resolved for ``scenario`` (see the class
        docstring)."""
        if self.alpha is not None and self.domain is not None:
            return self
        alpha, domain = self.alpha, self.domain
        if alpha is None:
            given = scenario.migration_alpha
            alpha = DOMAIN_ALPHA if given is None else float(given)
        if domain is None:
            domain = len(scenario.index.job_names) > QUALITY_JOBS
        return replace(self, alpha=alpha, domain=domain)

    def resolved(self, scenario: Scenario) -> GreedySettings:
        """:meth:`for_scenario`, and the effort knobs left at ``None`` set for the day's size."""
        cfg = self.for_scenario(scenario)
        if cfg.passes is not None and cfg.route is not None and cfg.retime is not None:
            return cfg
        quality = len(scenario.index.job_names) <= QUALITY_JOBS
        return replace(
            cfg,
            passes=(QUALITY_PASSES if quality else 0) if cfg.passes is None else cfg.passes,
            route=quality if cfg.route is None else cfg.route,
            retime=quality if cfg.retime is None else cfg.retime,
        )


# --------------------------------------------------------------------------------------------
# per-job placement (shared with the online planner)
# --------------------------------------------------------------------------------------------
def place_job(
    st: CapacityState, j: int, t_from: int = 0, settings: GreedySettings | None = None
) -> Placement | None:
    """The cheapest feasible placement of job ``j``'s remaining work from slot ``t_from`` on.

    ``None`` when nothing can be placed. The placement continues from the job's state in ``st``.
    """
    cfg = (settings or GreedySettings()).for_scenario(st.scenario)
    idx = st.idx
    f = max(int(idx.first_slot[j]), int(t_from), int(st.last_slot[j]) + 1)
    e = int(idx.end_slot[j])
    need = st.remaining_h(j) / st.dt
    if need <= MIN_SHARE or e <= f:
        return None
    o = int(st.last_site[j])
    cand = (idx.allowed[j] & st.can_move(j, o) & st.site_mask[j]).nonzero()[0]
    if cfg.shortlist is not None and cand.size > cfg.shortlist + 1:
        cand = _shortlist(st, j, o, cand, f, e, need, cfg.shortlist).nonzero()[0]
    if idx.preemptible[j]:
        return _place_preemptible(st, j, f, e, need, o, cand, cfg)
    if st.last_slot[j] >= 0:  # a started pause-free job can only continue where it is
        return None
    return _place_block(st, j, f, e, o, cand, cfg)


def _shortlist(
    st: CapacityState, j: int, o: int, cand: np.ndarray, f: int, e: int, need: float, k: int
) -> np.ndarray:
    """(S,) mask: the origin and the ``k`` sites whose ``ceil(need)`` cheapest slots cost least."""
    slots = np.arange(f, e)
    cost = _slot_cost(st, j, cand[:, None], slots, 1.0, 0.0)
    cost = np.where(st.max_share(j, cand[:, None], slots[None, :]) >= 1.0 - EPS, cost, np.inf)
    n = min(max(1, int(np.ceil(need - 1e-9))), e - f)
    best = np.partition(cost, n - 1, axis=1)[:, :n].sum(axis=1)
    keep = cand[np.argsort(best, kind="stable")[:k]]
    mask = np.zeros(st.S, dtype=bool)
    mask[keep] = True
    mask[o] = bool(st.idx.allowed[j, o])
    return mask


def _fill(
    st: CapacityState,
    j: int,
    sites: np.ndarray,
    slots: np.ndarray,
    need: float,
    cap: np.ndarray | None = None,
    cells: np.ndarray | None = None,
) -> tuple[_Filled, np.ndarray, np.ndarray]:
    """Cheapest-pieces fill of ``need`` slot-shares on rows of per-slot sites.

    ``sites`` (R, W) site per row and slot, ``slots`` (W,); ``cells`` (optional) their flat
    positions ``sites·T + slots`` in the (S, T) tables. Returns the shares (per row on demand:
    ``shares[r]`` is row ``r``'s (W,) shares), the work placed per row (slot-shares) and the
    approximate cost per row (lateness + grid, no moves); ``shares.pieces(r)``: row ``r``'s
    :func:`_row_pieces`, for the refinement's refills.
    """
    R, W = sites.shape
    if cells is None:
        cells = sites * st.T + slots[None, :]
    if cap is None:
        cap = st.max_share_at(j, sites, cells)
    fe = st.full_kwh[j]  # (S,) kWh at share 1
    E = fe.take(sites)  # (R, W)
    hpos = np.maximum(st.ren_left.ravel().take(cells), 0.0)
    if all_of(fe > 0):
        ratio = hpos / E
        ren_sh = np.minimum(cap, ratio)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = hpos / np.where(E > 0, E, 1.0)
            ren_sh = np.where(E > 0, np.minimum(cap, ratio), cap)
            ratio = np.where(E > 0, ratio, np.inf)  # min(cap, inf) = cap: the same shares
    lat = st.late_coef[j] * st.late_w[j][slots]  # (W,)
    C = np.empty((R, 2 * W))  # the renewable pieces, then the grid pieces
    Q = np.empty((R, 2 * W))
    c_ren, c_grid = C[:, :W], C[:, W:]
    if any_of(st.gpu_price):
        np.add(lat, st.idx.gpus[j] * st.gpu_price.ravel().take(cells), out=c_ren)
    else:
        c_ren[:] = lat
    # renewable fills first
    np.maximum(st.coef.ravel().take(cells) * E + c_ren, c_ren, out=c_grid)
    Q[:, :W] = ren_sh
    np.subtract(cap, ren_sh, out=Q[:, W:])
    order = C.argsort(axis=1, kind="stable")
    flat = order + (2 * W) * np.arange(R)[:, None]  # row r's sorted pieces in the flat (R, 2W)
    Qs = Q.ravel().take(flat)
    Cs = C.ravel().take(flat)
    # (np.add.accumulate is cumsum without its wrapper; np.putmask a boolean setitem, ~2x
    # cheaper on these (R, 2W) arrays)
    before = np.add.accumulate(Qs, axis=1) - Qs
    take = np.minimum(np.maximum(need - before, 0.0), Qs)  # np.clip, without its overhead
    np.putmask(take, take < MIN_SHARE, 0.0)
    filled = np.add.reduce(take, axis=1)
    approx = np.add.reduce(take * Cs, axis=1)
    return _Filled(order, take, W, ratio), filled, approx


class _Filled:
    """The pieces a fill took, per row in cost order; a row's shares per slot on demand (only
    the few rows refined need them)."""

    def __init__(self, order: np.ndarray, take: np.ndarray, W: int, ratio: np.ndarray) -> None:
        self.order, self.take, self.W, self.ratio = order, take, W, ratio

    def __getitem__(self, r: int) -> np.ndarray:
        sh = np.empty(2 * self.W)
        sh[self.order[r]] = self.take[r]
        return sh[: self.W] + sh[self.W :]

    def pieces(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``r``'s :func:`_row_pieces` (the same values: the same costs, sorted stably)."""
        return self.ratio[r], self.order[r]


def _row_pieces(
    st: CapacityState, j: int, sites: np.ndarray, slots: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`_fill_row` needs of one row besides its caps, which the refinement's refills
    of a row change alone: the renewable share ``max(ren_left, 0) / kWh at share 1`` per slot
    (``inf`` where the job draws no power) and the stable cost order of its 2W pieces."""
    W = slots.shape[0]
    fe = st.full_kwh[j]
    E = fe[sites]
    hpos = np.maximum(st.ren_left[sites, slots], 0.0)
    if all_of(fe > 0):
        ratio = hpos / E
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(E > 0, hpos / np.where(E > 0, E, 1.0), np.inf)
    C = np.empty(2 * W)
    c_ren = C[:W]
    c_ren[:] = st.late_coef[j] * st.late_w[j][slots]
    if any_of(st.gpu_price):
        c_ren += st.idx.gpus[j] * st.gpu_price[sites, slots]
    np.maximum(st.coef[sites, slots] * E + c_ren, c_ren, out=C[W:])
    return ratio, C.argsort(kind="stable")


def _fill_row(need: float, cap: np.ndarray, pieces: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`_fill` of one row (the refinement's refill), in 1-D: its shares per slot, given
    its :func:`_row_pieces`."""
    ratio, order = pieces
    W = ratio.shape[0]
    ren_sh = np.minimum(cap, ratio)
    Q = np.concatenate((ren_sh, cap - ren_sh))
    Qs = Q[order]
    take = np.minimum(np.maximum(need - (np.add.accumulate(Qs) - Qs), 0.0), Qs)
    np.putmask(take, take < MIN_SHARE, 0.0)
    sh = np.empty(2 * W)
    sh[order] = take
    return sh[:W] + sh[W:]


def _refine_row(
    st: CapacityState,
    j: int,
    o: int,
    row_sites: np.ndarray,
    slots: np.ndarray,
    need: float,
    shares: np.ndarray,
    cfg: GreedySettings,
    cap: np.ndarray | None = None,
    pieces: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Placement | None, bool]:
    """Make one filled row feasible for its moves; returns (placement, inside the domain).

    A row gives a site per slot. The job's state moves whenever it runs at a site other than
    where it last ran (or ``o``, before its first run): that arrival slot needs link room on the
    route and grid room for the move's kWh, and its share is capped at ``1 − disruption_h/Δh``.
    An arrival slot that does not qualify is capped (or closed, so that the arrival moves to the
    next slot the job runs at that site) and the row is refilled, until every arrival qualifies.
    ``pieces``: the row's :func:`_row_pieces`, when known.
    """
    if cap is None:
        cap = st.max_share(j, row_sites, slots)
    for _ in range(20):
        run = (shares > MIN_SHARE).nonzero()[0]
        if run.size == 0:
            return None, True
        at = row_sites[run]
        prev = np.empty_like(at)
        prev[0] = o
        prev[1:] = at[:-1]
        fix = None
        arrivals = (prev != at).nonzero()[0].tolist()
        for r in arrivals:
            c, a, b = int(run[r]), int(prev[r]), int(at[r])
            lim = min(float(cap[c]), _arrival_limit(st, j, a, b, int(slots[c])))
            if lim <= MIN_SHARE or not st.link_room(j, a, b, int(slots[c])):
                fix = (c, 0.0)
            elif shares[c] > lim + EPS:
                fix = (c, lim)
            if fix is not None:
                break
        if fix is None:
            short = _short_stay(st, j, run, prev, at, shares, arrivals)
            if short is None:
                break
            # the stay is shorter than its dwell (MODEL §5): stay where the job was instead
            r, end = short
            a = int(prev[r])
            if not (st.idx.allowed[j, a] and st.site_mask[j, a]):
                return None, True
            row_sites = row_sites.copy()
            # every column from the previous run slot to the next stay: the refill cannot put
            # the job back at the destination in between
            lo = int(run[r - 1]) + 1 if r > 0 else 0
            row_sites[lo : (int(run[end]) if end < run.size else len(row_sites))] = a
            cap = st.max_share(j, row_sites, slots)
            pieces = None  # other sites: other pieces
        else:
            cap = cap.copy()
            cap[fix[0]] = fix[1]
        if pieces is None:
            pieces = _row_pieces(st, j, row_sites, slots)
        shares = _fill_row(need, cap, pieces)
    else:
        return None, True
    # `run` and `at`: the rows of the shares the loop ended on
    sh = np.minimum(shares[run], cap[run])
    if all_of(sh > MIN_SHARE):  # placement() would keep every row (of arrays this call owns)
        p = Placement(j, slots[run], at, np.minimum(sh, 1.0))
    else:
        p = placement(j, slots[run], at, sh)
    if len(p) == 0 or not st.dwell_closed(p):
        return None, True
    if not cfg.domain:
        return p, True
    return p, _in_domain(st, p, cfg.alpha)


def _short_stay(
    st: CapacityState,
    j: int,
    run: np.ndarray,
    prev: np.ndarray,
    at: np.ndarray,
    shares: np.ndarray,
    arrivals: list[int],
) -> tuple[int, int] | None:
    """The first stay of a filled row shorter than its dwell, as (arrival, next arrival) indices
    into ``run`` (``len(run)`` for the last stay); ``None`` when every stay lasts its dwell or
    is the last and the row does all the work left."""
    if not arrivals:
        return None
    hours = shares[run] * st.dt
    ends = [*arrivals[1:], len(run)]
    for r, end in zip(arrivals, ends, strict=True):
        worked = float(np.add.reduce(hours[r:end]))
        if worked < float(st.dwell_need[j, int(prev[r]), int(at[r])]) - EPS:
            if end == len(run) and st.finishes(j, float(np.add.reduce(hours))):
                return None
            return r, end
    return None


def _arrival_limit(st: CapacityState, j: int, a: int, b: int, t: int) -> float:
    """Largest share of job ``j`` in slot ``t`` it arrives in at ``b`` from ``a``: the move's
    disruption, and the grid room left at ``b`` once the move's kWh are in."""
    m = min(1.0, st.arrival_cap(j, a, b))
    e_full = float(st.full_kwh[j, b])
    ren = float(st.ren_left[b, t])
    # st.grid_room(b, t) in plain floats (numpy on scalars costs more than the arithmetic)
    room = max(ren, 0.0) + (float(st.grid_cap[b]) - max(0.0, -ren)) - float(st.mig_kwh[j])
    if e_full > 0:
        return min(m, room / e_full)
    return m if room >= 0 else 0.0


def _in_domain(st: CapacityState, p: Placement, alpha: float) -> bool:
    """Every move of ``p`` lies in the seed paper's feasibility domain (MODEL §9)."""
    arrive, prev = st._moves(p)
    if not any_of(arrive):
        return True
    e, ren = st.energy_rows(p)
    arr = arrive.nonzero()[0].tolist()
    for r, end in zip(arr, [*arr[1:], len(p)], strict=True):
        a, b = int(prev[r]), int(p.sites[r])
        # the stay at b: from the arrival until the job leaves b (its next arrival elsewhere)
        t = p.slots[r:end]
        # objective saved: the stay's energy on a's grid, less what b's grid supplies of it
        gain = float(np.dot(st.coef[a][t], e[r:end]) - np.dot(st.coef[b][t], e[r:end] - ren[r:end]))
        if not st.domain_allows(p.job, a, b, int(p.slots[r]), gain, alpha):
            return False
    return True


def _place_preemptible(
    st: CapacityState,
    j: int,
    f: int,
    e: int,
    need: float,
    o: int,
    cand: np.ndarray,
    cfg: GreedySettings,
) -> Placement | None:
    if cand.size == 0:
        return None
    slots = np.arange(f, e)
    W = e - f
    rows = [cand[:, None].repeat(W, axis=1)]
    if cfg.split and st.idx.migratable[j] and W > 1 and cand.size > 1:
        rows.append(_split_rows(st, j, o, cand, f, e, cfg.split_sites))
        if cfg.route:
            rows.append(_route_row(st, j, o, cand, slots, need))
    sites = np.concatenate(rows, axis=0) if len(rows) > 1 else rows[0]
    cells = sites * st.T + slots[None, :]  # flat positions in the (S, T) tables
    caps = st.max_share_at(j, sites, cells)
    shares, filled, approx = _fill(st, j, sites, slots, need, caps, cells)
    # rank by approximate objective: −U per slot-share placed dominates; each site change of
    # the row is at least one migration penalty (its energy is left out: renewable may pay it)
    score = approx - st.unmet * st.dt * filled
    changes = (sites[:, 0] != o) + np.add.reduce(sites[:, 1:] != sites[:, :-1], axis=1)
    score = score + changes * st.objective.migration_penalty
    order = score.argsort(kind="stable")
    best: tuple[float, Placement] | None = None
    rescue: tuple[float, Placement] | None = None
    refined = 0
    complete = False  # the best placement found does all the work left
    for r in order.tolist():
        if filled[r] <= MIN_SHARE or refined >= (cfg.top_k if complete else 4 * cfg.top_k + 8):
            break
        # the fill's score is a lower bound of the exact cost (caps and move energy only add
        # to it when grid coefficients are >= 0): stop once it cannot beat the best found
        if best is not None and score[r] >= best[0] - 1e-12:
            break
        refined += 1
        p, ok = _refine_row(
            st, j, o, sites[r], slots, need, shares[r], cfg, caps[r], shares.pieces(r)
        )
        if p is None:
            continue
        c = st.cost(p)
        if ok:
            if best is None or c < best[0] - 1e-12:
                best = (c, p)
                complete = np.add.reduce(p.shares) >= need - 1e-6
        elif cfg.rescue and (rescue is None or c < rescue[0] - 1e-12):
            rescue = (c, p)
    if rescue is not None:
        done_best = best[1].shares.sum() if best is not None else 0.0
        if rescue[1].shares.sum() > done_best + 1e-6:
            return rescue[1]
    return best[1] if best is not None else None


def _route_row(
    st: CapacityState, j: int, o: int, cand: np.ndarray, slots: np.ndarray, need: float
) -> np.ndarray:
    """A row that follows the cheapest site slot by slot, moves priced (shortest path).

    The split rows only ever leave the origin for one site; a job whose cheap slots are spread
    over several sites (a clean grid in the morning, a renewable site at noon) needs a route
    ``a → b → c``. Each (site, slot) is worth ``min(0, c[s, t] − λ)`` — its full-share cost
    (:func:`_slot_cost`) against ``λ``, the ``⌈need⌉``-th cheapest slot's best cost, so only
    slots the job would run in count — and a move ``a → b`` in slot ``t`` costs the migration
    penalty, its kWh priced at ``b``'s grid, the share it loses to disruption (at ``λ``) and,
    for the dwell, the same again when the stay it starts is short (a hysteresis). Viterbi over
    the window's slots (S × S per slot) gives the cheapest such row; the fill and the refinement
    then treat it like any other row (arrival caps, link room, dwell, domain).
    """
    S, W = st.S, slots.shape[0]
    c = np.full((S, W), np.inf)
    cap = st.max_share(j, cand[:, None], slots[None, :])
    c[cand] = np.where(cap >= 1.0 - EPS, _slot_cost(st, j, cand[:, None], slots, 1.0, 0.0), np.inf)
    best = c.min(axis=0)
    n = min(max(1, int(np.ceil(need - 1e-9))), W)
    lam = float(np.partition(best, n - 1)[n - 1])
    if not np.isfinite(lam):
        finite = best[np.isfinite(best)]
        if finite.size == 0:
            return np.zeros((0, W), dtype=np.int64)
        lam = float(finite.max())
    value = np.minimum(0.0, c - lam - 1e-12)
    value[~np.isfinite(value)] = 0.0
    # a move a → b: feasible only on a route that carries the state within the slot
    ok = st.route_ok & (st.net.disruption_h[j] < st.dt * (1 - MIN_SHARE))
    ok &= st.route_gb >= st.idx.state_gb[j] - EPS
    move = np.where(ok, 0.0, np.inf)
    np.fill_diagonal(move, 0.0)
    lost = st.net.disruption_h[j] / st.dt * max(abs(lam), 0.0)
    fixed = st.objective.migration_penalty + 2.0 * lost
    np.fill_diagonal(fixed := np.broadcast_to(fixed, (S, S)).copy(), 0.0)
    move = move + fixed
    allowed = np.zeros(S, dtype=bool)
    allowed[cand] = True
    move[:, ~allowed] = np.inf
    mig = st.mig_kwh[j] * st.coef[:, slots]  # (S, W) kWh of an arrival at b, priced there
    dist = np.where(np.arange(S) == o, 0.0, np.inf)
    back = np.zeros((W, S), dtype=np.int64)
    for k in range(W):
        tot = dist[:, None] + move + np.where(np.arange(S)[:, None] == np.arange(S), 0.0, mig[:, k])
        back[k] = np.argmin(tot, axis=0)
        dist = tot[back[k], np.arange(S)] + value[:, k]
    row = np.empty(W, dtype=np.int64)
    s = int(np.argmin(dist))
    for k in range(W - 1, -1, -1):
        row[k] = s
        s = int(back[k, s])
    if np.all(row == row[0]):  # a single-site row is there already
        return np.zeros((0, W), dtype=np.int64)
    return row[None, :]


def _split_rows(
    st: CapacityState, j: int, o: int, cand: np.ndarray, f: int, e: int, k: int
) -> np.ndarray:
    """Rows that follow renewable windows: for each window ``[t1, t2]`` of the ``k`` sites with
    most renewable left in the job's window, 'origin before ``t1``, ``b`` from ``t1``' and
    'origin, ``b`` during the window, origin after' (a detour). Detours via the cleanest grid
    as home were tried too: no better plans, 15 % slower on 2000 jobs."""
    W = e - f
    dest = cand[cand != o]
    if dest.size == 0 or dest.size == cand.size:  # no destination, or the origin not allowed
        return np.zeros((0, W), dtype=np.int64)
    ren = st.ren_left.take(dest, axis=0)[:, f:e]  # rows, then the window: ~2x cheaper
    if dest.size > k:  # the destinations with most renewable left in the window
        keep = (-np.add.reduce(np.maximum(ren, 0), axis=1)).argsort(kind="stable")[:k]
        dest, ren = dest[keep], ren[keep]
    # each row padded with 'off' at both ends: 'on' changes at a window's first slot t1 and just
    # after its last t2, so row-major the changes alternate t1, t2 + 1 (fewer, larger ops than
    # masking starts and ends separately)
    on = np.zeros((dest.size, W + 2), dtype=np.int8)
    on[:, 1:-1] = ren > EPS
    di, edge = (on[:, 1:] != on[:, :-1]).nonzero()
    if di.size == 0:
        return np.zeros((0, W), dtype=np.int64)
    t1, t2 = edge[0::2, None], edge[1::2, None] - 1
    b = dest[di[0::2]][:, None]
    cols = np.arange(W)[None, :]
    s_ok, d_ok = t1[:, 0] > 0, t2[:, 0] < W - 1
    split = np.where(cols < t1[s_ok], o, b[s_ok])  # a start at f is the single-site row
    inside = (cols >= t1[d_ok]) & (cols <= t2[d_ok])
    detour = np.where(inside, b[d_ok], o)  # one ending at e − 1 is a split row
    return np.concatenate([split, detour], axis=0).astype(np.int64, copy=False)


def _place_block(
    st: CapacityState, j: int, f: int, e: int, o: int, cand: np.ndarray, cfg: GreedySettings
) -> Placement | None:
    """A pause-free block at one site: price every (site, start, shape) at once, take the cheapest.

    Two shapes per site: the first slot as full as the arrival allows, full slots, the remainder
    last; or the fractional part first (a slot with room for only part of the job), then full
    slots.
    """
    if cand.size == 0:
        return None
    need = st.remaining_h(j) / st.dt
    m = np.where(cand == o, 1.0, 1.0 - st.net.disruption_h[j, o][cand] / st.dt)
    # shape A: first share s0 (≤ the arrival cap), full slots, remainder
    s0 = np.minimum(np.minimum(1.0, m), need)
    rest = need - s0
    full = np.floor(rest + 1e-9)
    left = rest - full
    rem = np.where(left > MIN_SHARE, left, 0.0)
    length = (1 + full + (rem > 0)).astype(np.int64)
    # shape B: the fractional part first, then full slots (its scalar tests first: most jobs
    # have none, and these arrays are a few sites long, where numpy's per-call cost dominates)
    whole = float(np.floor(need + 1e-9))
    frac = need - whole
    if frac > MIN_SHARE and need > 1.0:
        b_ok = frac <= m + EPS
        nb = int(np.count_nonzero(b_ok))
        if nb:
            cand = np.concatenate([cand, cand[b_ok]])
            s0 = np.concatenate([s0, np.full(nb, frac)])
            rem = np.concatenate([rem, np.zeros(nb)])
            length = np.concatenate([length, np.full(nb, int(1 + whole), dtype=np.int64)])
    usable = (s0 > MIN_SHARE) & (length <= e - f)
    # every usable (site, shape) at once, by run length (then as listed): row i starts at any of
    # its n_i = W − L_i + 1 slots; scores row-major, inf where a start does not fit
    use = usable.nonzero()[0]
    if use.size == 0:
        return None
    use = use[length[use].argsort(kind="stable")]
    sites, L = cand[use], length[use]
    first = s0[use][:, None]
    last = np.where(rem[use] > 0, rem[use], 1.0)[:, None]
    W = e - f
    nmax = W - int(np.minimum.reduce(L)) + 1
    # per site over the window, shared by every run length (slices of the state, not gathers):
    # the caps, and the pieces of the exact slot cost (_slot_cost)
    cap_all = st.window_max_share(j, f, e)  # (S, W)
    ren = np.maximum(st.ren_left[:, f:e], 0.0)
    coef = st.coef[:, f:e]
    # the price of a share-1 slot: lateness, and the GPU price when one is set (the greedy's
    # own runs have none: then one (W,) row instead of an (S, W) table and its gathers)
    lat = st.late_coef[j] * st.late_w[j, f:e]
    gpu_price = st.gpu_price[:, f:e]
    priced = any_of(gpu_price)
    price = lat[None, :] + st.idx.gpus[j] * gpu_price if priced else lat[None, :]
    fe = st.full_kwh[j][sites][:, None]  # (C, 1) kWh at share 1
    at = np.arange(nmax)[None, :]  # start offsets
    ok = (cap_all.take(sites, axis=0)[:, :nmax] >= first - EPS) & (at < (W - L + 1)[:, None])
    moving = sites != o
    mig = np.where(moving, st.mig_kwh[j], 0.0)[:, None]
    # the first slot, at share `first` with the arrival's kWh
    grid = np.maximum(0.0, fe * first + mig - ren.take(sites, axis=0)[:, :nmax])
    price0 = price.take(sites, axis=0)[:, :nmax] if priced else price[:, :nmax]
    total = coef.take(sites, axis=0)[:, :nmax] * grid + price0 * first
    # a (row, start) cell's slot at offset k of the window is cell sites·W + k of a flat table:
    # one np.take instead of 2-D fancy indexing per table
    row0 = (sites * W)[:, None]
    end = at + L[:, None] - 1  # offset of a run's last slot
    three = (L >= 3)[:, None]
    every_three = all_of(three)  # then the masks below are plain (the same values, fewer ops)
    if every_three or any_of(three):  # inner slots at full share: cumulative sums over the window
        zero = np.zeros((st.S, 1))
        bad_all = np.concatenate([zero, cap_all < 1.0 - EPS], axis=1).cumsum(axis=1)
        cost1 = coef * np.maximum(0.0, st.full_kwh[j][:, None] + 0.0 - ren) + price
        csum_all = np.add.accumulate(np.concatenate([zero, cost1], axis=1), axis=1)
        rowc = (sites * (W + 1))[:, None]
        lo = rowc + (at + 1)
        hi = rowc + np.minimum(end, W)
        bad, csum = bad_all.ravel(), csum_all.ravel()
        if every_three:
            ok &= bad.take(hi) - bad.take(lo) == 0
            total += csum.take(hi) - csum.take(lo)
        else:
            ok &= ~three | (bad.take(hi) - bad.take(lo) == 0)
            total += np.where(three, csum.take(hi) - csum.take(lo), 0.0)
    two = (L >= 2)[:, None]
    if every_three or any_of(two):  # the last slot, at share `last`
        endc = np.minimum(end, W - 1)
        li = row0 + endc
        fits = cap_all.ravel().take(li) >= last - EPS
        grid = np.maximum(0.0, fe * last + 0.0 - ren.ravel().take(li))
        price_last = price.ravel().take(li) if priced else lat.take(endc)
        end_cost = coef.ravel().take(li) * grid + price_last * last
        if every_three:  # L >= 3 implies L >= 2
            ok &= fits
            total += end_cost
        else:
            ok &= ~two | fits
            total += np.where(two, end_cost, 0.0)
    total += np.where(moving, st.objective.migration_penalty, 0.0)[:, None]
    allv = np.where(ok, total, np.inf).ravel()
    if cfg.domain and any_of(moving):  # moves outside the domain go after the rest
        disr = st.net.disruption_h[j, o]

        def outside_at(k: int) -> bool:
            b = int(sites[k // nmax])
            if b == o:
                return False
            return float(disr[b]) > cfg.alpha * st.window_hours(b, f + k % nmax, source=o) + EPS

        def outside_all() -> np.ndarray:
            wh = st.window_table(o)[sites, f : f + nmax]
            return moving[:, None] & (disr[sites][:, None] > cfg.alpha * wh + EPS)

        cells = _outside_last(allv, 8 * cfg.top_k + 8, outside_at, outside_all)
    else:
        cells = _smallest(allv, 8 * cfg.top_k + 8)
    fallback: Placement | None = None
    for k in cells:
        if not np.isfinite(allv[k]):
            break
        outside = allv[k] >= 1e29  # sorted last: no block inside the domain is left
        if outside and (not cfg.rescue or fallback is not None):
            break
        g = k // nmax
        b, t0, Lg = int(sites[g]), f + k % nmax, int(L[g])
        if b != o and not st.link_room(j, o, b, t0):
            continue
        pat = np.ones(Lg)
        pat[0] = first[g, 0]
        if Lg >= 2:
            pat[-1] = last[g, 0]
        # every share is in (MIN_SHARE, 1]: what placement() builds, without its filtering
        p = Placement(j, np.arange(t0, t0 + Lg), np.full(Lg, b), pat)
        if st.check(p) is not None:
            continue
        if outside:
            return p  # the cheapest feasible rescue
        if b == o or not cfg.domain or _in_domain(st, p, cfg.alpha):
            return p
        if cfg.rescue and fallback is None:
            fallback = p
    return fallback


def _outside_last(
    v: np.ndarray,
    k: int,
    outside_at: Callable[[int], bool],
    outside_all: Callable[[], np.ndarray],
) -> Iterator[int]:
    """:func:`_smallest` of ``v + 1e30·outside`` (the cells outside the domain sorted after the
    rest), where ``outside_all()`` is the (R, N) mask of such cells and ``outside_at(i)`` tells
    it for the flat index ``i`` alone.

    The block loop mostly takes the first cell and stops. When ``v``'s smallest finite cell is
    inside the domain it is that first cell (every cell outside sorts after it), found by one
    window lookup instead of the whole window table (~15 µs a block job); the table is only
    built if the loop asks for a second cell."""
    first = int(v.argmin())
    fast = bool(v[first] < np.inf) and not outside_at(first)
    if fast:
        yield first
    ranked = _smallest(np.where(outside_all().ravel(), v + 1e30, v), k)
    if fast:
        next(ranked)  # `first` again
    yield from ranked


def _smallest(v: np.ndarray, k: int) -> Iterator[int]:
    """The first ``k`` indices of ``v.argsort(kind="stable")``, without sorting all of ``v``.

    The first is ``v.argmin()`` (the minimum's first occurrence, as the stable sort has it):
    the block loop mostly takes it and stops, so the others are only found when asked. For
    them every index whose value is at most the k-th smallest (ties included, in index order)
    is sorted stably: the same first ``k`` as the full sort, at a fraction of its cost on the
    thousands of (site, start) cells of a block job."""
    if k <= 0 or v.size == 0:
        return
    first = int(v.argmin())
    if v[first] == v[first]:  # not NaN (argmin finds NaN first, the sort puts it last)
        yield first
        skip = 1
    else:
        skip = 0
    if v.size <= k:
        rest = v.argsort(kind="stable")
    else:
        kth = np.partition(v, k - 1)[k - 1]
        near = (v <= kth).nonzero()[0]
        rest = near[v[near].argsort(kind="stable")][:k]
    yield from rest[skip:].tolist()


def _slot_cost(st: CapacityState, j: int, sites, slots, share, extra_kwh) -> np.ndarray:
    """Exact objective of running job j at ``share`` in each (site, slot), plus arriving kWh."""
    tt = np.asarray(slots)[None, :]
    e = st.full_kwh[j][sites] * share + extra_kwh
    grid = np.maximum(0.0, e - np.maximum(st.ren_left[sites, tt], 0.0))
    price = st.late_coef[j] * st.late_w[j][tt] + st.idx.gpus[j] * st.gpu_price[sites, tt]
    return st.coef[sites, tt] * grid + price * share


# --------------------------------------------------------------------------------------------
# the day-ahead greedy
# --------------------------------------------------------------------------------------------
def urgency_order(scenario: Scenario) -> np.ndarray:
    """Jobs by least slack (window hours − work hours), then deadline, then larger, then name."""
    idx = scenario.index
    slack = (idx.end_slot - idx.first_slot) * idx.dt_h - idx.work_h
    size = idx.gpus * idx.work_h
    return np.lexsort((np.arange(len(slack)), -size, idx.end_slot, np.round(slack, 9)))


def _first_pass(
    scenario: Scenario, objective, cfg: GreedySettings, order: np.ndarray
) -> CapacityState:
    st = CapacityState(scenario, objective)
    for j in order.tolist():
        p = place_job(st, j, 0, cfg)
        if p is not None:
            st.commit(p, check=False)
    return st


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (on again after, if it was on).

    The greedy allocates many small containers (placements, their memos) and frees them by
    reference count; the collector's passes over them — a full one every few runs, scanning
    every live object of the process — cost ~5 % of a 2000-job greedy and find nothing."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def greedy_state(
    scenario: Scenario,
    objective: Objective | str = "carbon",
    settings: GreedySettings | None = None,
    deadline: float | None = None,
) -> CapacityState:
    """Run the greedy and return the :class:`CapacityState` holding its placements.

    ``deadline`` (a ``time.perf_counter()`` value) stops the re-placement passes and the repair
    of short jobs (and skips the ejection moves) when reached; the first pass always completes
    (it is the plan)."""
    with gc_paused():
        return _greedy_state(scenario, objective, settings, deadline)


def _greedy_state(
    scenario: Scenario,
    objective: Objective | str,
    settings: GreedySettings | None,
    deadline: float | None,
) -> CapacityState:
    cfg = (settings or GreedySettings()).resolved(scenario)
    order = urgency_order(scenario)
    st = _first_pass(scenario, objective, cfg, order)
    # Short jobs are repaired first, so every later step starts from the first pass's own plan
    # and keeps only what lowers the objective: the default can never end worse than
    # ``passes=0, eject=0`` (repairing only at the end could: a move that paid before repair
    # can take the room a repair would have used — seed 250 of the greedy tests, 4062 → 8702).
    repair_short(st, order, cfg, deadline=deadline)
    changed = improve(st, order, cfg, cfg.passes, deadline)
    budget = max(0, EJECT_WORK - st.J) if cfg.eject is None else cfg.eject
    if budget > 0 and (deadline is None or time.perf_counter() < deadline):
        changed += ejection_moves(st, order, lambda s, j: place_job(s, j, 0, cfg), budget)[0]
    if changed:  # the moves may have left room for a job still short
        repair_short(st, order, cfg, deadline=deadline)
    return st


def improve(
    st: CapacityState,
    order: np.ndarray,
    settings: GreedySettings,
    passes: int,
    deadline: float | None = None,
) -> int:
    """Re-placement local search; returns how many jobs it moved.

    The first pass places each job seeing only the jobs placed before it. Each later pass takes
    every job out in turn (:meth:`CapacityState.release`) and places it again seeing all the
    others — which GPU-time, renewable energy and links they now take — keeping the new
    placement only when it lowers the objective (exactly: the state prices both placements
    against the same load). Passes alternate reverse and forward urgency order and stop early
    when one changes nothing, or at ``deadline`` (a ``time.perf_counter()`` value).
    """
    moved = 0
    for k in range(passes):
        changed = 0
        for j in (order[::-1] if k % 2 == 0 else order).tolist():
            if deadline is not None and time.perf_counter() > deadline:
                return moved + changed
            old = st.release(j)
            before = sum(st.cost(q) for q in old) if len(old) == 1 else 0.0
            p = place_job(st, j, 0, settings) if len(old) <= 1 else None
            if p is not None and st.cost(p) < before - 1e-9 * max(1.0, abs(before)):
                st.commit(p, check=False)
                changed += 1
            else:
                for q in old:
                    st.commit(q, check=False)
        moved += changed
        if changed == 0:
            break
    return moved


def repair_short(
    st: CapacityState,
    order: np.ndarray,
    settings: GreedySettings,
    blockers: int = 16,
    deadline: float | None = None,
) -> int:
    """Make room for jobs left short of their work; returns how many were helped.

    A job the passes could not fit is blocked by others using its sites during its window. Up to
    ``blockers`` of them (those with the most GPU-time there, weighted by their own slack, so
    the ones that can go elsewhere) are taken out with it; the short job is placed first, then
    the others again in urgency order. The change is kept only when the objective falls — the
    sum of each placement's marginal cost against the state it was priced in, which is the
    exact change of the objective whatever the order. Stops at ``deadline`` (a
    ``time.perf_counter()`` value), keeping the repairs made.
    """
    idx = st.idx
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    slack = (idx.end_slot - idx.first_slot) * idx.dt_h - idx.work_h
    helped = 0
    rows = None  # every committed row's (job, site, slot): which jobs to look at per short job
    for j in order.tolist():
        if st.remaining_h(j) <= 1e-9 or (st.last_slot[j] >= 0 and not idx.preemptible[j]):
            continue
        if deadline is not None and time.perf_counter() > deadline:
            break
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        sites = idx.allowed[j] & st.can_move(j, int(idx.origin[j]))
        if rows is None:
            rows = _committed_rows(st)
        near = sites[rows[1]] & (rows[2] >= f) & (rows[2] < e)
        weight = np.zeros(st.J)
        for k in np.unique(rows[0][near]).tolist():
            for p in st.placements(k):
                hit = sites[p.sites] & (p.slots >= f) & (p.slots < e)
                if k != j and hit.any():
                    weight[k] += float(idx.gpus[k] * p.shares[hit].sum()) * (1.0 + slack[k])
        chosen = np.argsort(-weight, kind="stable")[:blockers]
        chosen = chosen[weight[chosen] > 0]
        if chosen.size == 0:
            continue
        group = [j, *sorted(chosen.tolist(), key=lambda k: rank[k])]
        old = {k: st.release(k) for k in group}
        before = 0.0
        for k in group:  # the old placements, priced back in: the objective as it was
            for q in old[k]:
                before += st.cost(q)
                st.commit(q, check=False)
        for k in group:
            st.release(k)
        after, new = 0.0, {}
        for k in group:
            p = place_job(st, k, 0, settings)
            if p is not None:
                after += st.cost(p)
                st.commit(p, check=False)
            new[k] = p
        if after < before - 1e-9 * max(1.0, abs(before)):
            helped += 1
            rows = None
            continue
        for k in group:
            st.release(k)
        for k in group:
            for q in old[k]:
                st.commit(q, check=False)
    return helped


def _committed_rows(st: CapacityState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(job, site, slot) of every committed row."""
    booked = [p for k in range(st.J) for p in st.placements(k)]
    if not booked:
        return (np.zeros(0, np.int64),) * 3
    job = np.repeat(np.array([p.job for p in booked], dtype=np.int64), [len(p) for p in booked])
    return job, np.concatenate([p.sites for p in booked]), np.concatenate([p.slots for p in booked])


def greedy_assignments(
    scenario: Scenario,
    objective: Objective | str = "carbon",
    settings: GreedySettings | None = None,
    **params,
) -> pd.DataFrame:
    """The greedy plan as a ``job, slot, site, share`` table (the MILP's warm start)."""
    cfg = settings or GreedySettings.from_params(params)
    # the collector still paused while the state is dropped: its containers go by reference
    # count, and the pass the collector owes after the greedy has none of them to scan
    with gc_paused():
        return greedy_state(scenario, objective, cfg).assignments()


def plan_greedy(scenario: Scenario, options) -> Plan:
    """``plan(method="greedy")``: the feasibility-aware greedy, evaluated like every method."""
    given = GreedySettings.from_params(dict(options.params))
    cfg = given.resolved(scenario)
    t0 = time.perf_counter()
    return finish_greedy(
        scenario, greedy_assignments(scenario, options.objective, cfg), options, given, cfg, t0
    )


def finish_greedy(
    scenario: Scenario,
    assignments: pd.DataFrame,
    options,
    given: GreedySettings,
    cfg: GreedySettings,
    t0: float,
) -> Plan:
    """A greedy state's ``assignments`` evaluated as ``plan(method="greedy")`` returns them, LP
    re-timed when ``cfg.retime`` says so and it pays (the plain greedy's and the LP-guided
    runs' plans alike); ``given``: the settings as the caller gave them (``None`` = by size),
    ``t0``: when planning started (the plan's ``solve_s``)."""

    def scored(a: pd.DataFrame) -> Plan:
        return evaluate(
            scenario,
            a,
            method="greedy",
            objective=options.objective,
            deadlines=options.deadlines,
            status="heuristic",
            solve_s=time.perf_counter() - t0,
        )

    plan = scored(assignments)
    if not cfg.retime:
        return plan
    try:
        b = retime(
            scenario,
            plan.assignments,
            options.objective,
            options.deadlines,
            options,
            time_limit=options.time_limit,
            # by default only a model that re-times in about a second (≤ 200k columns)
            max_columns=RETIME_AUTO_COLUMNS if given.retime is None else RETIME_MAX_COLUMNS,
        )
    except Exception as exc:  # the default re-timing never costs the plan
        if given.retime is not None:
            raise  # asked for by name: its failure is the caller's to see
        plan.notes.append(f"LP re-timing failed ({type(exc).__name__}: {exc}); greedy plan kept")
        return plan
    if b is None:
        plan.notes.append("LP re-timing skipped (model too large, or the LP not solved)")
        return plan
    retimed = scored(b)
    if not retimed.no_worse_than(plan):
        plan.notes.append("LP re-timing gave no better plan; the greedy's is kept")
        return plan
    retimed.notes.append(f"LP re-timing: objective {plan.objective:.6g} → {retimed.objective:.6g}")
    return retimed
