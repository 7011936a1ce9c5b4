"""The online planner's promise: a fall-back schedule reserved for every job it owes one.

The online planner (:mod:`greenopt.heuristics.online`) moves and defers work to cleaner sites and
slots, but it never lets a job it has *guaranteed* lose the chance to finish at home. This module
is the ledger of those chances: per job, a **reservation** ``F_j`` — rows ``(slot, share)`` at the
job's *home* ``h_j``, the site its state is at (its origin until it first runs elsewhere), from
the current slot on:

* a **guaranteed** job: ``Σ_t F_j[t] · Δh`` = its remaining work, every slot inside its window;
* a job owing a **dwell** (MODEL.md §5: after a move it works ``transfer_h/α`` hours at the
  destination unless it finishes there): ``Σ_t F_j[t] · Δh = min(remaining, dwell owed)``;
* a started **pause-free** job: its remaining rows exactly (a block: MODEL.md §5 rule 4).

Per site ``s`` and slot ``t`` the reservations fit the site by themselves::

    Σ_j gpus_j · F_j[t] ≤ gpus_s                                                    (rule 2)
    pue_s·idle_kw_s·Δh + Σ_j pue_s·P_j·Δh·F_j[t] ≤ (renewable_kw_s[t] + grid_kw_max_s)·Δh  (rule 5)

Running every reservation as booked is therefore a valid continuation of whatever has been
committed (no moves: no route, disruption, link or dwell condition; a stay continued until the
job is done meets any dwell; a block keeps a pause-free job pause-free), and it finishes every
guaranteed job by its deadline. The planner keeps this invariant slot by slot:

* **admission** — a job is guaranteed on arrival when its run-now shape (earliest slots first at
  its origin, or a pause-free block there) fits in what the reservations leave
  (:meth:`Fallback.room`);
* **as late as possible** — reservations sit in the latest slots that hold them, so the planner
  is free to run earlier or elsewhere; a reservation reaching the current slot is **due**: the
  job runs that share at home now unless it can be reserved again later (:meth:`Fallback.defer`)
  or at the site it moves to;
* **committing** slot ``k`` — work done at home beyond the due share trims the reservation
  (:meth:`Fallback.consume`); a move re-reserves the rest at the destination first, and is not
  made when that does not fit.

When one job's reservation does not fit, :meth:`Fallback.repack` re-lays every flexible
reservation of the site at once (a backward, least-laxity list schedule), which often makes room.

Shares are in slot-shares (``share · Δh`` hours); a reservation never exceeds a job's GPU share
of 1 per slot.
"""

from __future__ import annotations

import numpy as np

from greenopt.heuristics.state import EPS, MIN_SHARE, CapacityState, non_preemptible_shares

_NONE = np.iinfo(np.int64).max  # "no reservation" in ``first``


class Fallback:
    """Reservations per job at its home site; per site and slot, what they take."""

    def __init__(self, st: CapacityState) -> None:
        idx = st.idx
        self.st = st
        self.S, self.T, self.J = st.S, st.T, st.J
        self.dt = st.dt
        self.gpus_cap = idx.site_gpus.astype(float)  # (S,)
        self.job_gpus = idx.gpus.astype(float)  # (J,)
        self.full_kwh = st.full_kwh  # (J, S) kWh at share 1
        self.gpu = np.zeros((self.S, self.T))  # GPUs reserved
        self.kwh = np.zeros((self.S, self.T))  # kWh reserved (checked where the grid is capped)
        self.limited = np.isfinite(st.grid_cap)  # (S,)
        self.kwh_room = np.full((self.S, self.T), np.inf)
        self.set_renewable(idx.renewable_kw)
        self.site = np.full(self.J, -1, dtype=np.int64)
        self.slots: list[np.ndarray] = [np.zeros(0, np.int64) for _ in range(self.J)]
        self.shares: list[np.ndarray] = [np.zeros(0) for _ in range(self.J)]
        self.block = np.zeros(self.J, dtype=bool)
        self.first = np.full(self.J, _NONE, dtype=np.int64)  # first reserved slot per job
        # a return ticket: the job is away at ``back_from`` and moves back in its first slot
        self.back_from = np.full(self.J, -1, dtype=np.int64)
        L = len(st.link_names)
        self.link_cap = np.array([st.net.link_capacity_gb[lk] for lk in st.link_names], float)
        self.link = np.zeros((L, self.T))  # GB of return moves reserved per link and slot
        self.state_gb = idx.state_gb.astype(float)
        self.mig_kwh = st.mig_kwh  # (J,) kWh a move brings to its destination (MODEL §6)

    # -- capacity ------------------------------------------------------------------------------
    def set_renewable(self, renewable_kw: np.ndarray) -> None:
        """Energy room per slot of grid-capped sites, from (forecast) renewable power (S, T)."""
        idx = self.st.idx
        room = (renewable_kw - (idx.pue * idx.idle_kw)[:, None]) * self.dt
        room = room + self.st.grid_cap[:, None]
        self.kwh_room = np.where(self.limited[:, None], room, np.inf)

    def room(self, j: int, s: int, t0: int, t1: int) -> np.ndarray:
        """(t1 − t0,) largest share job ``j`` could reserve at site ``s`` per slot, in [0, 1].

        What the other reservations leave (GPU-time, and grid energy where it is capped); the
        caller takes ``j``'s own reservation out first when it has one.
        """
        if t1 <= t0:
            return np.zeros(0)
        r = (self.gpus_cap[s] - self.gpu[s, t0:t1]) / self.job_gpus[j]
        e = float(self.full_kwh[j, s])
        if self.limited[s] and e > 0:
            r = np.minimum(r, (self.kwh_room[s, t0:t1] - self.kwh[s, t0:t1]) / e)
        return np.clip(r, 0.0, 1.0)

    # -- one job's reservation -------------------------------------------------------------------
    def amount(self, j: int) -> float:
        """Slot-shares reserved for job ``j``."""
        return float(self.shares[j].sum())

    def at(self, j: int, t: int) -> float:
        """Job ``j``'s reserved share in slot ``t`` (0 when none)."""
        sl = self.slots[j]
        i = int(np.searchsorted(sl, t))
        return float(self.shares[j][i]) if i < len(sl) and sl[i] == t else 0.0

    def book(
        self,
        j: int,
        s: int,
        slots: np.ndarray,
        shares: np.ndarray,
        block: bool = False,
        back_from: int = -1,
    ) -> None:
        """Reserve rows ``(slots, shares)`` at ``s`` for ``j`` (which must hold none).

        ``back_from``: the job is away at that site and moves back to ``s`` in the first
        reserved slot (a return ticket): its state's GB are reserved on the route's links then.
        """
        keep = shares > 0
        slots = np.asarray(slots, dtype=np.int64)[keep]
        shares = np.asarray(shares, dtype=float)[keep]
        self.site[j] = s
        self.slots[j], self.shares[j] = slots, shares
        self.block[j] = block
        self.first[j] = int(slots[0]) if len(slots) else _NONE
        self.back_from[j] = back_from if len(slots) else -1
        if len(slots):
            self.gpu[s, slots] += self.job_gpus[j] * shares
            self.kwh[s, slots] += self.full_kwh[j, s] * shares
            if self.back_from[j] >= 0:
                self.link[self.st.route_links[back_from][s], slots[0]] += self.state_gb[j]
                self.kwh[s, slots[0]] += self.mig_kwh[j]

    def release(self, j: int) -> tuple[int, np.ndarray, np.ndarray, bool, int]:
        """Take job ``j``'s reservation out; returns it (site, slots, shares, block, back_from)."""
        s, slots, shares = int(self.site[j]), self.slots[j], self.shares[j]
        block, back = bool(self.block[j]), int(self.back_from[j])
        if s >= 0 and len(slots):
            self.gpu[s, slots] -= self.job_gpus[j] * shares
            self.kwh[s, slots] -= self.full_kwh[j, s] * shares
            if back >= 0:
                self.link[self.st.route_links[back][s], slots[0]] -= self.state_gb[j]
                self.kwh[s, slots[0]] -= self.mig_kwh[j]
        self.site[j] = -1
        self.slots[j], self.shares[j] = np.zeros(0, np.int64), np.zeros(0)
        self.block[j] = False
        self.first[j] = _NONE
        self.back_from[j] = -1
        return s, slots, shares, block, back

    def restore(self, j: int, saved: tuple[int, np.ndarray, np.ndarray, bool, int]) -> None:
        """Put back what :meth:`release` returned (after a failed attempt)."""
        self.release(j)
        s, slots, shares, block, back = saved
        if s >= 0:
            self.book(j, s, slots, shares, block, back)

    def reserve(self, j: int, s: int, t0: int, need: float, block: bool = False) -> bool:
        """Reserve ``need`` slot-shares for ``j`` at ``s`` in slots ``[t0, end_j)``, latest first.

        ``block``: a pause-free run of the run-now shape (``non_preemptible_shares``) instead.
        ``j`` must hold no reservation. False (nothing booked) when it does not fit.
        """
        e = int(self.st.idx.end_slot[j])
        t0 = max(int(t0), int(self.st.idx.first_slot[j]))
        if need <= MIN_SHARE:
            self.book(j, s, np.zeros(0, np.int64), np.zeros(0), block)
            return True
        room = self.room(j, s, t0, e)
        rows = latest_block(room, need, self.dt) if block else latest_fill(room, need)
        if rows is None:
            return False
        self.book(j, s, t0 + rows[0], rows[1], block)
        return True

    def can_return(self, j: int, a: int, b: int) -> float:
        """Largest share job ``j`` could run in a slot it moves ``a → b`` in (0: it cannot)."""
        st = self.st
        if a == b:
            return 1.0
        if not st.route_ok[a, b] or not st.idx.migratable[j] or not st.idx.preemptible[j]:
            return 0.0
        if st.route_gb[a, b] < self.state_gb[j] - EPS:
            return 0.0
        cap = 1.0 - float(st.net.disruption_h[j, a, b]) / self.dt
        return cap if cap > MIN_SHARE else 0.0

    def reserve_return(self, j: int, home: int, away: int, t0: int, need: float) -> bool:
        """A return ticket: ``need`` slot-shares of ``j`` at ``home`` from ``t0``, the job moving
        back from ``away`` in the first reserved slot — its share there at most
        ``1 − disruption/Δh``, its state's GB reserved on the route's links in that slot. The
        latest return slot that lets the rest fit after it, the rest latest first. ``j`` must
        hold no reservation and owe no dwell at ``away`` (the caller's rule)."""
        st = self.st
        e = int(st.idx.end_slot[j])
        t0 = max(int(t0), int(st.idx.first_slot[j]))
        cap = self.can_return(j, away, home)
        if need <= MIN_SHARE or cap <= 0 or e <= t0:
            return need <= MIN_SHARE
        room = self.room(j, home, t0, e)
        links = st.route_links[away][home]
        free = self.link_cap[links][:, None] - self.link[links, t0:e]
        link_ok = np.all(free >= self.state_gb[j] - EPS, axis=0)
        first = np.minimum(room, cap)
        e_full = float(self.full_kwh[j, home])
        if self.limited[home]:  # the move's own kWh come first in the return slot
            spare = self.kwh_room[home, t0:e] - self.kwh[home, t0:e] - float(self.mig_kwh[j])
            by_e = spare / e_full if e_full > 0 else np.where(spare >= 0, 1.0, 0.0)
            first = np.minimum(first, np.clip(by_e, 0.0, 1.0))
        after = np.cumsum(room[::-1])[::-1] - room  # room strictly after each slot
        ok = link_ok & (first > MIN_SHARE) & (after + first >= need - 1e-9)
        if not ok.any():
            return False
        r = int(np.flatnonzero(ok)[-1])
        x = min(float(first[r]), max(need - float(after[r]), min(float(first[r]), 1e-3)))
        rest = latest_fill(room[r + 1 :], need - x) if need - x > MIN_SHARE else None
        slots, shares = [np.array([r], np.int64)], [np.array([x])]
        if rest is not None:
            slots.append(r + 1 + rest[0])
            shares.append(rest[1])
        self.book(j, home, t0 + np.concatenate(slots), np.concatenate(shares), False, away)
        return True

    def defer(self, j: int, t: int) -> bool:
        """Move job ``j``'s reservation out of slot ``t`` (later slots only), when it fits.

        Not for a started pause-free job (its rows are its run): the caller skips those.
        """
        saved = self.release(j)
        need = float(saved[2].sum())
        if saved[4] >= 0:
            ok = self.reserve_return(j, saved[0], saved[4], t + 1, need)
        else:
            ok = self.reserve(j, saved[0], t + 1, need, saved[3])
        if ok:
            return True
        self.restore(j, saved)
        return False

    def consume(self, j: int, t: int, worked: float) -> None:
        """Slot ``t`` is committed with ``worked`` slot-shares of ``j`` at its home.

        The due share of ``t`` is taken out; work beyond it trims the earliest reserved rows (a
        block's rows are its run: it works exactly them).
        """
        sl, sh = self.slots[j], self.shares[j]
        if not len(sl):
            return
        s, block = int(self.site[j]), bool(self.block[j])
        # (a return ticket whose slot t was used: the job is home now, the rest stays plain)
        due = float(sh[0]) if sl[0] == t else 0.0
        rest_sl, rest_sh = (sl[1:], sh[1:].copy()) if sl[0] == t else (sl, sh.copy())
        extra = max(0.0, worked - due) if not block else 0.0
        if extra > 0 and len(rest_sh):
            before = np.cumsum(rest_sh) - rest_sh
            rest_sh = rest_sh - np.clip(extra - before, 0.0, rest_sh)
        self.release(j)
        keep = rest_sh > MIN_SHARE
        if keep.any():
            self.book(j, s, rest_sl[keep], rest_sh[keep], block)

    # -- a site at once --------------------------------------------------------------------------
    def repack(
        self,
        s: int,
        t0: int,
        extra: dict[int, tuple[float, int]] | None = None,
        block: tuple[int, float] | None = None,
        tries: int = 8,
    ) -> bool:
        """Re-lay every flexible reservation at site ``s`` from ``t0``, adding ``extra``.

        ``extra``: ``{job: (need, first slot)}`` to reserve at ``s`` too (jobs holding no
        reservation); ``block``: ``(job, need)`` a pause-free job to reserve a run-now-shaped
        block for (its latest ``tries`` feasible starts are tried, latest first). Other blocks stay
        where they are. The flexible ones (return tickets too) are laid by a backward list
        schedule: from the last slot to ``t0``, each slot's room goes to the jobs with least
        laxity first — ``(slots left before and including t) − (work left to place)`` — a job
        taking at most a share of 1, so every job ends as late as it can. True, and the new
        reservations booked, when everything fits; otherwise nothing changes.
        """
        idx = self.st.idx
        extra = extra or {}
        flex = [
            j for j in np.flatnonzero((self.site == s) & ~self.block).tolist() if len(self.slots[j])
        ]
        jobs = flex + [j for j in extra if j not in flex]
        saved = {j: self.release(j) for j in flex}
        # a return ticket is laid like the others with the share its return slot loses added,
        # then its first row is cut to what the move leaves (:meth:`_ticket`)
        back = np.array([saved[j][4] if j in saved else -1 for j in jobs], dtype=np.int64)
        cap = np.array(
            [
                self.can_return(j, int(b), s) if b >= 0 else 1.0
                for j, b in zip(jobs, back, strict=True)
            ]
        )
        need = np.array(
            [float(saved[j][2].sum()) if j in saved else float(extra[j][0]) for j in jobs]
        )
        start = np.array(
            [max(t0, int(idx.first_slot[j]), int(extra[j][1]) if j in extra else t0) for j in jobs],
            dtype=np.int64,
        )
        starts: list[int | None] = [None]
        if block is not None:
            jb, nb = block
            f = max(t0, int(idx.first_slot[jb]))
            room = self.room(jb, s, f, int(idx.end_slot[jb]))
            pat = non_preemptible_shares(nb * self.dt, self.dt, 1.0)
            ok = block_starts(room, pat)
            starts = [f + int(b) for b in np.flatnonzero(ok)[::-1][:tries]]
        for b in starts:
            if block is not None:
                self.book(block[0], s, np.arange(b, b + len(pat)), pat, True)
            rows = self._relay(s, t0, jobs, need + np.where(back >= 0, 1.0 - cap, 0.0), start)
            booked: list[int] = []
            for i, j in enumerate(jobs if rows is not None else []):
                r = sorted(rows[i])
                sl = np.array([t for t, _ in r], dtype=np.int64)
                sh = np.array([x for _, x in r], dtype=float)
                if back[i] >= 0:
                    cut = self._ticket(j, s, int(back[i]), sl, sh, float(need[i]), float(cap[i]))
                    if cut is None:
                        rows = None
                        break
                    sl, sh = cut
                self.book(j, s, sl, sh, False, int(back[i]))
                booked.append(j)
            # the returns' own kWh were not in the schedule: the site must still hold them
            over = self.limited[s] and bool(np.any(self.kwh[s] > self.kwh_room[s] + EPS))
            if rows is not None and not over:
                return True
            for j in booked:
                self.release(j)
            if block is not None:
                self.release(block[0])
        for j in flex:
            self.restore(j, saved[j])
        return False

    def _ticket(
        self, j: int, home: int, away: int, sl: np.ndarray, sh: np.ndarray, need: float, cap: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Rows laid for ``need + 1 − cap`` cut to a return ticket of ``need``: the first row at
        most ``cap`` and kept (it is the return), the surplus taken from the earliest rows; None
        when the route has no link room in the return slot."""
        if not len(sl):
            return None
        sh = sh.copy()
        sh[0] = min(sh[0], cap)
        surplus = float(sh.sum()) - need
        keep_first = min(float(sh[0]), 1e-3)
        take = min(max(surplus, 0.0), float(sh[0]) - keep_first)
        sh[0] -= take
        surplus -= take
        if surplus > 0 and len(sh) > 1:
            rest = sh[1:]
            before = np.cumsum(rest) - rest
            sh[1:] = rest - np.clip(surplus - before, 0.0, rest)
        keep = sh > MIN_SHARE
        keep[0] = True
        sl, sh = sl[keep], sh[keep]
        links = self.st.route_links[away][home]
        if np.any(self.link[links, sl[0]] + self.state_gb[j] > self.link_cap[links] + EPS):
            return None
        return sl, sh

    def _relay(
        self, s: int, t0: int, jobs: list[int], need: np.ndarray, start: np.ndarray
    ) -> list[list[tuple[int, float]]] | None:
        """The backward least-laxity list schedule of :meth:`repack`; None when it fails."""
        if not jobs:
            return []
        idx = self.st.idx
        jobs_a = np.array(jobs, dtype=np.int64)
        end = idx.end_slot[jobs_a]
        g = self.job_gpus[jobs_a]
        e = self.full_kwh[jobs_a, s]
        left = need.copy()
        rows: list[list[tuple[int, float]]] = [[] for _ in jobs]
        for t in range(int(end.max()) - 1, t0 - 1, -1):
            av = np.flatnonzero((end > t) & (start <= t) & (left > MIN_SHARE))
            if not av.size:
                continue
            lax = (t - start[av] + 1) - left[av]
            av = av[np.argsort(lax, kind="stable")]
            want = np.minimum(1.0, left[av])
            free_g = self.gpus_cap[s] - self.gpu[s, t]
            before = np.cumsum(want * g[av]) - want * g[av]
            take = np.clip((free_g - before) / g[av], 0.0, want)
            if self.limited[s]:
                free_e = self.kwh_room[s, t] - self.kwh[s, t]
                de = want * e[av]
                before_e = np.cumsum(de) - de
                ea = e[av]
                with np.errstate(divide="ignore", invalid="ignore"):
                    by_e = np.where(ea > 0, (free_e - before_e) / np.where(ea > 0, ea, 1), 1)
                take = np.minimum(take, np.clip(by_e, 0.0, 1.0))
            for i, x in zip(av.tolist(), take.tolist(), strict=True):
                if x > MIN_SHARE:
                    rows[i].append((t, x))
                    left[i] -= x
        if np.any(left > 1e-9):
            return None
        return rows

    # -- views -----------------------------------------------------------------------------------
    def due(self, t: int) -> np.ndarray:
        """Jobs with a reservation in slot ``t`` (their first reserved slot)."""
        return np.flatnonzero(self.first == t)

    def holders(self) -> np.ndarray:
        """Jobs holding a reservation."""
        return np.flatnonzero(self.site >= 0)


def latest_fill(room: np.ndarray, need: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``need`` slot-shares in ``room`` (per slot), latest slots first; (offsets, shares)."""
    if room.sum() < need - 1e-9:
        return None
    after = np.cumsum(room[::-1])[::-1] - room  # room strictly after each slot
    take = np.clip(need - after, 0.0, room)
    keep = np.flatnonzero(take > 0)
    return keep, take[keep]


def latest_block(room: np.ndarray, need: float, dt: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The latest pause-free run of the run-now shape that fits in ``room``; (offsets, shares).

    The shape is :func:`non_preemptible_shares` (first slot as full as it can be, full slots,
    the remainder last) for ``need`` slot-shares.
    """
    pat = non_preemptible_shares(need * dt, dt, 1.0)
    ok = block_starts(room, pat)
    if not ok.any():
        return None
    b = int(np.flatnonzero(ok)[-1])
    return np.arange(b, b + len(pat)), pat


def block_starts(room: np.ndarray, pat: np.ndarray) -> np.ndarray:
    """(len(room) − len(pat) + 1,) bool: the offsets where ``pat`` fits under ``room``."""
    L, W = len(pat), len(room)
    if L == 0 or W < L:
        return np.zeros(0, dtype=bool)
    windows = np.lib.stride_tricks.sliding_window_view(room, L)  # (n, L), no copy
    return np.all(windows >= pat - EPS, axis=1)
