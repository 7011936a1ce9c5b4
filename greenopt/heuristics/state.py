"""One feasibility engine for the greedy, the online planner and the baselines.

:class:`CapacityState` holds what is left of the sites and the WAN as jobs are placed:

* ``gpu_left[s, t]``  GPU-time left, in GPUs: ``site_gpus − reserved − Σ gpus_j · share_j`` (§5.2)
* ``ren_left[s, t]``  renewable kWh not yet used: ``renewable_kw·Δh − facility_kwh``; it starts at
  ``(renewable_kw − pue·idle_kw − reserved_kw)·Δh`` and is negative where the site already draws
  grid power (its grid draw is ``max(0, −ren_left)``)                                    (§6)
* ``link_left[l, t]`` GB of migrations link ``l`` can still carry in slot ``t`` (less what is
  reserved)                                                                              (§5.3)

A *placement* of job ``j`` is a run of ``(slot, site, share)`` rows in increasing slot order. It
continues from the job's last committed run (or its origin), so migrations follow the rule of
MODEL.md §5: a run at ``b`` after a run (or the origin) at ``a ≠ b`` moves ``state_gb`` along
``route(a, b)`` in that slot. :meth:`CapacityState.check` tests a placement against every rule of
§5 (window, residency, capacity, grid limit, migratable, arrival share ``≤ 1 − disruption/Δh``,
link room, non-preemptible contiguity, no overrun); :meth:`CapacityState.cost` prices it with the
shared :class:`~greenopt.objectives.Objective`; :meth:`CapacityState.commit` books it.

Marginal objective of adding ``e`` kWh at ``(s, t)`` (renewable first, §6):

    Δgrid = max(0, e − max(ren_left, 0))      Δobjective = grid_coef[s, t] · Δgrid

The dwell rule (MODEL.md §5, validity rule 8) is part of :meth:`CapacityState.check`: after a
move ``a → b`` the job works ``transfer_h/α`` hours at ``b`` (:func:`greenopt.dwell.dwell_need_h`)
before it moves again. A placement must *close* its stays: each of its stays, its last one
included, lasts its dwell, or the placement finishes the job's work — so a committed plan never
owes a dwell that a later commit would have to pay (``dwell_owed`` stays 0 unless a caller commits
unchecked placements that leave one open, and then the next placement must pay it first).

The seed paper's feasibility domain (MODEL.md §9) is :meth:`CapacityState.domain_allows`: a move
into site ``b`` arriving in slot ``t`` is time-feasible when ``disruption_h ≤ α · W`` with ``W``
the hours of ``b``'s current renewable window around ``t`` (slots where renewable power still
exceeds the committed load), and energy-justified when the renewable kWh the job will use at ``b``
exceed the kWh the move costs (``state_gb · net_kwh_per_gb``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.dwell import dwell_need_h
from greenopt.errors import PlanError
from greenopt.objectives import Objective, lateness_weights
from greenopt.scenario import Scenario

#: shares and energies are compared with this slack (the validator allows 1e-6)
EPS = 1e-9
#: shares below this are not worth a row
MIN_SHARE = 2e-7  # above the evaluator's SHARE_EPS, so no row it keeps is dropped


@dataclass(frozen=True)
class Placement:
    """A run of job ``job``: parallel arrays ``slots`` (increasing), ``sites``, ``shares``."""

    job: int
    slots: np.ndarray
    sites: np.ndarray
    shares: np.ndarray

    @property
    def work_h(self) -> float:
        return float(np.add.reduce(self.shares))  # times Δh, by the caller

    def __len__(self) -> int:
        return len(self.slots)


class CapacityState:
    """Capacity, renewable and link state left after the placements committed so far."""

    def __init__(self, scenario: Scenario, objective: Objective | str = "carbon") -> None:
        self.scenario = scenario
        self.objective = Objective.of(objective)
        idx = scenario.index
        net = scenario.network
        self.idx = idx
        self.net = net
        self.dt = idx.dt_h
        S, T, J = len(idx.site_names), idx.T, len(idx.job_names)
        self.S, self.T, self.J = S, T, J
        # capacity reserved by work outside the scenario's jobs is taken from the start
        self.gpu_left = np.array(idx.gpu_cap, dtype=float)
        self.ren_left = (
            idx.renewable_kw - (idx.pue * idx.idle_kw)[:, None] - idx.reserved_kw
        ) * self.dt
        self.grid_cap = idx.grid_kw_max * self.dt  # (S,) kWh per slot, inf when unlimited
        self.grid_limited = bool(np.isfinite(self.grid_cap).any())
        # links: index, capacity per slot, and each route's link indices
        self.link_names: list[tuple[str, str]] = sorted(net.link_capacity_gb)
        link_pos = {lk: i for i, lk in enumerate(self.link_names)}
        cap = np.array([net.link_capacity_gb[lk] for lk in self.link_names], dtype=float)
        self.link_left = np.repeat(cap[:, None], T, axis=1) if len(cap) else np.zeros((0, T))
        for link, gb in idx.reserved_link_gb.items():
            self.link_left[link_pos[link]] -= gb
        self.route_ok = np.eye(S, dtype=bool)
        self.route_links: list[list[np.ndarray]] = [
            [np.zeros(0, dtype=np.int64) for _ in range(S)] for _ in range(S)
        ]
        for (a, b), links in net.links.items():
            ia, ib = idx.site_pos[a], idx.site_pos[b]
            self.route_ok[ia, ib] = True
            self.route_links[ia][ib] = np.array([link_pos[lk] for lk in links], dtype=np.int64)
        # largest GB a route can carry in one slot (its narrowest link, nothing booked)
        self.route_gb = np.full((S, S), np.inf)
        for ia in range(S):
            for ib in range(S):
                links = self.route_links[ia][ib]
                if ia != ib:
                    self.route_gb[ia, ib] = cap[links].min() if len(links) else 0.0
        # objective coefficients (MODEL §7, greenopt.objectives)
        self.coef = self.objective.grid_coef(scenario)  # (S, T) per grid kWh
        self.late_coef = self.objective.lateness_coef(scenario)  # (J,)
        self.late_w = lateness_weights(scenario) if J else np.zeros((0, T))  # (J, T)
        self.unmet = self.objective.unmet_penalty(scenario)
        # opportunity cost of a GPU-slot (e.g. an LP's capacity duals); 0: plain marginal cost
        self.gpu_price = np.zeros((S, T))
        # sites a placement may use per job (e.g. those an LP relaxation uses); all by default
        self.site_mask = np.ones((J, S), dtype=bool)
        self.full_kwh = idx.pue[None, :] * idx.power_kw[:, None] * self.dt  # (J, S) at share 1
        self.mig_kwh = idx.state_gb * scenario.net_kwh_per_gb  # (J,) at the destination
        self.dwell_need = dwell_need_h(scenario)  # (J, S, S) hours of work after a move a → b
        # per-job progress
        self.done_h = np.zeros(J)
        self.last_site = np.array(idx.origin, dtype=np.int64)
        self.last_slot = np.full(J, -1, dtype=np.int64)
        self.last_share = np.zeros(J)
        self.last_arrival_disruption = np.zeros(J)  # h lost in last_slot to an arriving move
        self.dwell_owed = np.zeros(J)  # h of dwell still owed at last_site (MODEL §5)
        self.sites_used: list[set[int]] = [set() for _ in range(J)]
        self._windows: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # see window_table
        self._token = object()  # this state, in what placements remember of it (dwell_owed_after)
        # per job, its committed placements with the kWh and link GB they booked (to release)
        self._booked: list[list[tuple[Placement, np.ndarray, list[tuple[np.ndarray, int]]]]] = [
            [] for _ in range(J)
        ]

    # -- derived quantities ------------------------------------------------------------------
    def remaining_h(self, j: int) -> float:
        """Hours of work job ``j`` still has to do."""
        return max(0.0, float(self.idx.work_h[j]) - float(self.done_h[j]))

    def grid_room(self, s, t) -> np.ndarray:
        """Extra grid kWh allowed at ``(s, t)``: ``grid_kw_max·Δh − max(0, −ren_left)``."""
        return self.grid_cap[s] - np.maximum(0.0, -self.ren_left[s, t])

    def max_share(self, j: int, s, t) -> np.ndarray:
        """Largest share job ``j`` could add at ``(s, t)`` (GPU-time and grid limit), ≤ 1.

        ``s`` and ``t`` broadcast like numpy indices.
        """
        g = float(self.idx.gpus[j])
        share = np.minimum(1.0, self.gpu_left[s, t] / g)
        if self.grid_limited:
            e = self.full_kwh[j][s]
            room = np.maximum(self.ren_left[s, t], 0.0) + self.grid_room(s, t)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.minimum(share, np.where(e > 0, room / np.where(e > 0, e, 1), np.inf))
        return np.maximum(share, 0.0)

    def max_share_at(self, j: int, sites: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """:meth:`max_share` at ``(sites, slots)`` given as ``cells = sites·T + slots``, flat
        positions in the (S, T) tables: the same values, with one ``take`` per table instead of a
        2-D fancy index (~4x cheaper on the rows × slots of a job's candidate rows)."""
        g = float(self.idx.gpus[j])
        share = np.minimum(1.0, self.gpu_left.ravel().take(cells) / g)
        if self.grid_limited:
            e = self.full_kwh[j].take(sites)
            ren = self.ren_left.ravel().take(cells)
            room = np.maximum(ren, 0.0) + (self.grid_cap.take(sites) - np.maximum(0.0, -ren))
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.minimum(share, np.where(e > 0, room / np.where(e > 0, e, 1), np.inf))
        return np.maximum(share, 0.0)

    def window_max_share(self, j: int, f: int, e: int) -> np.ndarray:
        """(S, e − f): :meth:`max_share` of every site over slots ``[f, e)``, the same values
        computed on slices of the state (no fancy-index gathers)."""
        g = float(self.idx.gpus[j])
        share = np.minimum(1.0, self.gpu_left[:, f:e] / g)
        if self.grid_limited:
            ren = self.ren_left[:, f:e]
            kwh = self.full_kwh[j][:, None]
            room = np.maximum(ren, 0.0) + (self.grid_cap[:, None] - np.maximum(0.0, -ren))
            with np.errstate(divide="ignore", invalid="ignore"):
                cap = np.where(kwh > 0, room / np.where(kwh > 0, kwh, 1), np.inf)
                share = np.minimum(share, cap)
        return np.maximum(share, 0.0)

    def arrival_cap(self, j: int, a: int, b: int) -> float:
        """Largest share in a slot job ``j`` arrives in at ``b`` from ``a``: ``1 − disruption/Δh``.

        1 when ``a == b``; ≤ 0 when the move cannot happen (no route, too slow, not migratable).
        """
        if a == b:
            return 1.0
        if not self.route_ok[a, b]:
            return 0.0
        return 1.0 - float(self.net.disruption_h[j, a, b]) / self.dt

    def can_move(self, j: int, a: int) -> np.ndarray:
        """(S,) bool: sites job ``j`` could move to from ``a`` in one slot, links empty.

        ``a`` itself is always True. A move needs a route, ``disruption_h < Δh`` and a route
        whose narrowest link carries ``state_gb`` in one slot.
        """
        ok = self.route_ok[a] & (self.net.disruption_h[j, a] < self.dt * (1 - MIN_SHARE))
        ok &= self.route_gb[a] >= self.idx.state_gb[j] - EPS
        if not self.idx.migratable[j] and self.last_slot[j] >= 0:
            ok = np.zeros_like(ok)
        ok[a] = True
        return ok

    def link_room(self, j: int, a: int, b: int, t: int) -> bool:
        """True when every link of ``route(a, b)`` can still carry job ``j``'s state in slot t."""
        if a == b:
            return True
        links = self.route_links[a][b]
        gb = float(self.idx.state_gb[j])
        # slot t's column, then its links: ~5x cheaper than link_left[links, t], the same values
        return all_of(self.link_left[:, t][links] >= gb - EPS)

    def link_room_slots(self, j: int, a: int, b: int, t0: int, t1: int) -> np.ndarray:
        """(t1 − t0,) bool: slots where ``route(a, b)`` has room for job ``j``'s state."""
        if a == b:
            return np.ones(t1 - t0, dtype=bool)
        links = self.route_links[a][b]
        if len(links) == 0:
            return np.zeros(t1 - t0, dtype=bool)
        gb = float(self.idx.state_gb[j])
        return np.all(self.link_left[links, t0:t1] >= gb - EPS, axis=0)

    def window_hours(self, s: int, t: int, source: int | None = None) -> float:
        """Hours of site ``s``'s green window around slot ``t`` (0 outside one), MODEL §9.

        See :meth:`window_hours_rows` (the same hours, for one slot without the whole table).
        """
        in_t = self.ren_left[s, t] > EPS  # slot t first: outside a window is the common answer
        if source is not None:
            in_t = in_t or self.coef[s, t] < self.coef[source, t] - EPS
        if not in_t:
            return 0.0
        on = self.ren_left[s] > EPS
        if source is not None:
            on |= self.coef[s] < self.coef[source] - EPS
        off = (~on).nonzero()[0]
        i = int(off.searchsorted(t))
        lo = int(off[i - 1]) if i > 0 else -1
        hi = int(off[i]) if i < len(off) else self.T
        return float((hi - lo - 1) * self.dt)

    def window_hours_rows(self, sites: np.ndarray, source: int | None = None) -> np.ndarray:
        """(len(sites), T) hours of each site's current green window around each slot.

        The seed paper's window (MODEL.md §9) is a maximal run of slots where renewable power
        exceeds the committed load (``ren_left > 0``). greenopt extends it for objectives that
        price grid energy differently by site: with a ``source`` site, a slot whose grid is
        cheaper in the objective than the source's (a cleaner grid under ``carbon``) is in the
        window too. Under ``grid`` every grid costs the same, so this is the paper's window.
        """
        on = self.ren_left[sites] > EPS
        if source is not None:
            on |= self.coef[sites] < self.coef[source][None, :] - EPS
        return self._run_hours(on)

    def window_table(self, source: int) -> np.ndarray:
        """:meth:`window_hours_rows` of every site from ``source`` (read-only), remembered while
        which slots are in a window stays the same (most commits change none)."""
        on = self.ren_left > EPS
        on |= self.coef < self.coef[source][None, :] - EPS
        seen = self._windows.get(source)
        if seen is not None and not any_of(seen[0] != on):  # np.array_equal, less overhead
            return seen[1]
        table = self._run_hours(on)
        table.flags.writeable = False
        self._windows[source] = (on, table)
        return table

    def _run_hours(self, on: np.ndarray) -> np.ndarray:
        """Hours of the run of True cells around each cell of ``on`` (rows × T), 0 where False."""
        # the rows laid end to end, each closed by an off cell (and one before them all): runs
        # start and end alternately where the flat sequence changes, and each True cell gets
        # its run's length, in order (~2.5x cheaper than two accumulates along the rows)
        rows, T = on.shape
        flat = np.zeros(rows * (T + 1) + 1, dtype=np.int8)
        flat[1:].reshape(rows, T + 1)[:, :T] = on
        edge = (flat[1:] != flat[:-1]).nonzero()[0]
        n = edge[1::2] - edge[0::2]
        hours = np.zeros(on.shape)
        hours[on] = np.repeat(n * self.dt, n)
        return hours

    def domain_allows(self, j: int, a: int, b: int, t: int, gain: float, alpha: float) -> bool:
        """Seed-paper feasibility domain (MODEL §9) for moving job ``j`` a→b arriving in ``t``.

        Time-feasible: ``disruption_h ≤ α · W`` with ``W`` the green window at ``b`` around
        ``t`` (:meth:`window_hours_rows`). Justified: ``gain``, the objective the job saves by
        running its stay at ``b`` rather than on ``a``'s grid, exceeds the move's energy priced
        at ``b`` — under ``grid``, renewable kWh used at ``b`` > the move's kWh, as in the paper.
        """
        if a == b:
            return True
        if not gain > float(self.mig_kwh[j]) * float(self.coef[b, t]) + EPS:
            return False
        disruption = float(self.net.disruption_h[j, a, b])
        if disruption <= EPS:  # within any window (the window's hours are >= 0)
            return True
        return disruption <= alpha * self.window_hours(b, t, source=a) + EPS

    def dwell_owed_after(self, p: Placement) -> float | None:
        """Hours of dwell job ``p.job`` still owes at ``p``'s last site once ``p`` is committed;
        ``None`` when ``p`` moves on from a stay short of its dwell (MODEL §5, rule 8).

        A stay is counted from its arrival row up to (excluding) the next arrival; the first rows
        of ``p``, before its first arrival, continue the committed stay and pay what it owes.
        """
        # kept on the placement for this state, the site the job is at and the dwell it owes:
        # the greedy asks it when refining a row and again when committing it (nothing between)
        key = (self._token, int(self.last_site[p.job]), float(self.dwell_owed[p.job]))
        memo = p.__dict__.get("_dwell")
        if memo is not None and memo[0] == key:
            return memo[1]
        owed_after = self._dwell_owed_after(p)
        object.__setattr__(p, "_dwell", (key, owed_after))
        return owed_after

    def _dwell_owed_after(self, p: Placement) -> float | None:
        j = p.job
        arrive, prev = self._moves(p)
        owed = float(self.dwell_owed[j])
        if owed <= 0.0 and not any_of(arrive):
            return 0.0
        hours = p.shares * self.dt
        arr = arrive.nonzero()[0]
        if arr.size == 0:
            return max(0.0, owed - float(np.add.reduce(hours)))
        if owed > EPS and float(np.add.reduce(hours[: arr[0]])) < owed - EPS:
            return None
        cs = np.add.accumulate(hours)  # cumsum, without its wrapper
        if arr.size == 1:  # one move (the common case): its stay runs to the end of p
            a0 = int(arr[0])
            stay = float(cs[-1] - (cs[a0 - 1] if a0 > 0 else 0.0))
            return max(0.0, float(self.dwell_need[j, prev[a0], p.sites[a0]]) - stay)
        csum = np.concatenate(([0.0], cs))
        worked = csum[np.concatenate((arr[1:], [len(p)]))] - csum[arr]
        need = self.dwell_need[j][prev[arr], p.sites[arr]]
        if any_of(worked[:-1] < need[:-1] - EPS):
            return None
        return max(0.0, float(need[-1] - worked[-1]))

    def finishes(self, j: int, hours: float) -> bool:
        """``hours`` more of work complete job ``j`` (within the evaluator's tolerance)."""
        work = float(self.idx.work_h[j])
        return float(self.done_h[j]) + hours >= work - 1e-7 * max(1.0, work)

    def dwell_closed(self, p: Placement) -> bool:
        """Every stay of ``p`` lasts its dwell, its last one too, or ``p`` finishes the job."""
        owed = self.dwell_owed_after(p)
        if owed is None:
            return False
        return owed <= EPS or self.finishes(p.job, float(np.add.reduce(p.shares)) * self.dt)

    # -- pricing -----------------------------------------------------------------------------
    def _moves(self, p: Placement) -> tuple[np.ndarray, np.ndarray]:
        """(arrive mask over the placement's rows, previous site per row).

        Kept on the placement for the site the job's state is at (pricing, checking and booking
        one placement each ask for it)."""
        o = int(self.last_site[p.job])
        memo = p.__dict__.get("_moves")
        if memo is not None and memo[0] == o:
            return memo[1], memo[2]
        prev = np.empty(len(p), dtype=np.int64)
        if len(p):
            prev[0] = o
            prev[1:] = p.sites[:-1]
        arrive = prev != p.sites
        arrive.flags.writeable = prev.flags.writeable = False  # shared by every caller
        object.__setattr__(p, "_moves", (o, arrive, prev))
        return arrive, prev

    def energy_rows(
        self, p: Placement, cells: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Facility kWh each row adds (job power and arriving migration) and its renewable part.

        ``cells``: the rows' flat positions ``sites·T + slots``, when the caller has them."""
        e = self._energy(p)
        ren_left = self.ren_left[p.sites, p.slots] if cells is None else self.ren_left.take(cells)
        return e, np.minimum(e, np.maximum(ren_left, 0.0))

    def _energy(self, p: Placement) -> np.ndarray:
        """Facility kWh each row adds: they follow from the moves, so they are kept beside them."""
        arrive, _ = self._moves(p)
        memo = p.__dict__["_moves"]
        if len(memo) == 4:
            return memo[3]
        e = self.full_kwh[p.job][p.sites] * p.shares + arrive * self.mig_kwh[p.job]
        e.flags.writeable = False
        object.__setattr__(p, "_moves", (*memo, e))
        return e

    def cost(self, p: Placement) -> float:
        """Objective change if ``p`` were committed (MODEL §7), incl. −U per hour of work done.

        Σ grid_coef·Δgrid + late_coef·Σ late_w·share + ε_m·moves − U·Σ share·Δh. Rows must be at
        distinct (site, slot) pairs (one site per job and slot guarantees it).
        """
        if len(p) == 0:
            return 0.0
        j = p.job
        # three tables read at the rows' cells: one flat index, then a take each (~4x cheaper
        # than a[sites, slots])
        cells = p.sites * self.T + p.slots
        e, ren = self.energy_rows(p, cells)
        grid = e - ren
        arrive, _ = self._moves(p)
        value = float(np.dot(self.coef.take(cells), grid))
        value += float(self.late_coef[j]) * float(np.dot(self.late_w[j][p.slots], p.shares))
        value += self.objective.migration_penalty * int(np.count_nonzero(arrive))
        value += float(self.idx.gpus[j]) * float(np.dot(self.gpu_price.take(cells), p.shares))
        value -= self.unmet * float(np.add.reduce(p.shares)) * self.dt
        return value

    def value(self) -> float:
        """The objective of the committed placements as :meth:`cost` prices them, plus the
        constant of the empty state (its idle grid energy): the sum of every commit's marginal
        cost, whatever the order, so two states of one scenario compare by it."""
        v = float(np.sum(self.coef * np.maximum(0.0, -self.ren_left)))
        late = 0.0
        moves = 0
        gpu = 0.0
        priced = bool(np.any(self.gpu_price))
        for j, booked in enumerate(self._booked):
            for p, _, links_used in booked:
                late += float(self.late_coef[j]) * float(np.dot(self.late_w[j][p.slots], p.shares))
                moves += len(links_used)  # one entry per arrival
                if priced:
                    g = float(self.idx.gpus[j])
                    gpu += g * float(np.dot(self.gpu_price[p.sites, p.slots], p.shares))
        v += late + gpu + self.objective.migration_penalty * moves
        return v - self.unmet * float(self.done_h.sum())

    # -- feasibility ---------------------------------------------------------------------------
    def check(self, p: Placement) -> str | None:
        """Why ``p`` cannot be committed now (a rule of MODEL §5), or ``None`` when it can."""
        if len(p) == 0:
            return None
        idx, j = self.idx, p.job
        slots, sites, shares = p.slots, p.sites, p.shares
        if any_of(slots[1:] <= slots[:-1]) or slots[0] <= self.last_slot[j]:
            return "slots must increase and follow the job's committed run"
        if slots[0] < idx.first_slot[j] or slots[-1] >= idx.end_slot[j]:
            return "window"
        if any_of(shares <= 0) or any_of(shares > 1 + EPS):
            return "share"
        if not all_of(idx.allowed[j][sites]):
            return "residency or site GPUs"
        if any_of(shares > self.gpu_left[sites, slots] / idx.gpus[j] + EPS):
            return "capacity"
        if self.grid_limited:  # (without a grid limit the room is infinite)
            e = self._energy(p)
            over = e - np.maximum(self.ren_left[sites, slots], 0.0) - self.grid_room(sites, slots)
            if any_of(over > EPS):
                return "grid_max"
        if self.done_h[j] + np.add.reduce(shares) * self.dt > idx.work_h[j] + 1e-7:
            return "overrun"
        arrive, prev = self._moves(p)
        if any_of(arrive):
            used = self.sites_used[j] | set(sites.tolist())
            if not idx.migratable[j] and len(used) > 1:
                return "migratable"
            for r in arrive.nonzero()[0]:
                a, b, t = int(prev[r]), int(sites[r]), int(slots[r])
                if not self.route_ok[a, b]:
                    return "route"
                if shares[r] > self.arrival_cap(j, a, b) + EPS:
                    return "disruption"
                if not self.link_room(j, a, b, t):
                    return "link_capacity"
            # several moves of one placement over the same link in one slot cannot happen
            # (one row per slot), so link room per row is exact.
        if (any_of(arrive) or self.dwell_owed[j] > EPS) and not self.dwell_closed(p):
            return "dwell"
        if not idx.preemptible[j]:
            return self._check_contiguous(p, arrive, prev)
        return None

    def _check_contiguous(self, p: Placement, arrive: np.ndarray, prev: np.ndarray) -> str | None:
        j = p.job
        slots, shares = p.slots, p.shares
        started = self.last_slot[j] >= 0
        if started and slots[0] != self.last_slot[j] + 1:
            return "non_preemptible"
        # check() found the slots strictly increasing: they are consecutive iff they span len(p)
        if int(slots[-1]) - int(slots[0]) != len(slots) - 1:
            return "non_preemptible"
        # rows that are inner slots of the whole run: all but the last row, and the first only
        # when the job already ran; each at share 1 less the disruption of a move arriving in it
        lo, hi = (0 if started else 1), len(p) - 1
        if hi > lo:
            inner = shares[lo:hi]
            moved = arrive[lo:hi]
            if any_of(moved):
                disr = self.net.disruption_h[j][prev[lo:hi], p.sites[lo:hi]] / self.dt
                full = 1.0 - np.where(moved, disr, 0.0)
            else:
                full = 1.0
            if any_of(inner < full - EPS):
                return "non_preemptible"
        if started:  # the previous last slot becomes inner
            want = 1.0 - self.last_arrival_disruption[j] / self.dt
            if self.last_share[j] < want - EPS:
                return "non_preemptible"
        return None

    # -- booking -----------------------------------------------------------------------------
    def commit(self, p: Placement, check: bool = True) -> None:
        """Book ``p``: take its GPU-time, renewable energy and link capacity."""
        if len(p) == 0:
            return
        if check:
            why = self.check(p)
            if why is not None:
                raise PlanError(
                    f"internal: placement of job {self.idx.job_names[p.job]!r} breaks rule {why}"
                )
        j = p.job
        slots, sites, shares = p.slots, p.sites, p.shares
        e = self._energy(p)
        arrive, prev = self._moves(p)
        owed = self.dwell_owed_after(p)  # before the job's state moves on
        if _distinct(slots):  # one row per slot (every planner's case): each cell once
            # ``a[sites, slots] -= x`` as a flat take and put: the same values, ~2.5x cheaper
            cells = sites * self.T + slots
            g = float(self.idx.gpus[j])  # the int GPUs as the float numpy would convert them to
            self.gpu_left.put(cells, self.gpu_left.take(cells) - g * shares)
            self.ren_left.put(cells, self.ren_left.take(cells) - e)
        else:
            np.subtract.at(self.gpu_left, (sites, slots), self.idx.gpus[j] * shares)
            np.subtract.at(self.ren_left, (sites, slots), e)
        gb = float(self.idx.state_gb[j])
        links_used: list[tuple[np.ndarray, int]] = []
        for r in arrive.nonzero()[0]:
            links, t = self.route_links[int(prev[r])][int(sites[r])], int(slots[r])
            column = self.link_left[:, t]  # a view: link_left[links, t] -= gb, ~2x cheaper
            column[links] -= gb
            links_used.append((links, t))
        self.done_h[j] += float(np.add.reduce(shares)) * self.dt
        self.last_site[j] = int(sites[-1])
        self.last_slot[j] = int(slots[-1])
        self.last_share[j] = float(shares[-1])
        self.last_arrival_disruption[j] = (
            float(self.net.disruption_h[j, prev[-1], sites[-1]]) if arrive[-1] else 0.0
        )
        self.sites_used[j].update(sites.tolist())
        done = self.remaining_h(j) <= 1e-7 * max(1.0, float(self.idx.work_h[j]))
        self.dwell_owed[j] = 0.0 if done or owed is None else owed
        self._booked[j].append((p, e, links_used))

    def placements(self, j: int) -> list[Placement]:
        """Job ``j``'s committed placements, in commit order."""
        return [b[0] for b in self._booked[j]]

    def release(self, j: int) -> list[Placement]:
        """Undo every commit of job ``j`` (its GPU-time, kWh and link GB are freed); returns them.

        Exact, because booking only subtracts: releasing adds the same amounts back.
        """
        booked = self._booked[j]
        g = float(self.idx.gpus[j])
        gb = float(self.idx.state_gb[j])
        for p, e, links_used in booked:
            if _distinct(p.slots):
                self.gpu_left[p.sites, p.slots] += g * p.shares
                self.ren_left[p.sites, p.slots] += e
            else:
                np.add.at(self.gpu_left, (p.sites, p.slots), g * p.shares)
                np.add.at(self.ren_left, (p.sites, p.slots), e)
            for links, t in links_used:
                self.link_left[links, t] += gb
        self._booked[j] = []
        self.done_h[j] = 0.0
        self.last_site[j] = int(self.idx.origin[j])
        self.last_slot[j] = -1
        self.last_share[j] = 0.0
        self.last_arrival_disruption[j] = 0.0
        self.dwell_owed[j] = 0.0
        self.sites_used[j] = set()
        return [b[0] for b in booked]

    def assignments(self) -> pd.DataFrame:
        """The committed rows as a ``job, slot, site, share`` table (by job, then commit)."""
        booked = [b[0] for per_job in self._booked for b in per_job]
        if not booked:
            return pd.DataFrame({"job": [], "slot": np.zeros(0, np.int64), "site": [], "share": []})
        # each placement's job once per row: one repeat, not a np.full per placement
        j = np.repeat(np.array([p.job for p in booked], dtype=np.int64), [len(p) for p in booked])
        t = np.concatenate([p.slots for p in booked])
        s = np.concatenate([p.sites for p in booked])
        sh = np.concatenate([p.shares for p in booked])
        jobs = np.array(self.idx.job_names, dtype=object)
        sites = np.array(self.idx.site_names, dtype=object)
        return pd.DataFrame({"job": jobs[j], "slot": t, "site": sites[s], "share": sh})


def any_of(mask: np.ndarray) -> bool:
    """``mask.any()``, ~5x cheaper on the small arrays of the per-job loop (``ndarray.any``
    pays a reduction's set-up, ~1.7 µs, for a handful of elements). The greedy asks it ~20k
    times on a 2000-job day. (Likewise ``np.add.reduce(x)`` stands for ``x.sum()`` in the loop:
    the same pairwise sum without two Python-level wrappers; and ``a[j][idx]`` for
    ``a[j, idx]``: a row view, then a 1-D gather — ~7x cheaper than numpy's mixed
    scalar-and-array indexing, the same values.)"""
    return np.count_nonzero(mask) > 0


def all_of(mask: np.ndarray) -> bool:
    """``mask.all()``, cheaper on small arrays (see :func:`any_of`)."""
    return np.count_nonzero(mask) == mask.size


def _distinct(slots: np.ndarray) -> bool:
    """The slots increase strictly, so the rows' (site, slot) cells are distinct and a fancy-index
    update books each once (``np.add.at`` is only needed for repeated cells, and is slower)."""
    return len(slots) < 2 or all_of(slots[1:] > slots[:-1])


def placement(j: int, slots, sites, shares) -> Placement:
    """Build a :class:`Placement`, dropping rows with a negligible share."""
    slots = np.asarray(slots, dtype=np.int64)
    sites = np.asarray(sites, dtype=np.int64)
    if sites.ndim == 0:  # one site for every row
        sites = np.full(slots.shape, sites, dtype=np.int64)
    elif sites.shape != slots.shape:
        sites = np.broadcast_to(sites, slots.shape)
    shares = np.asarray(shares, dtype=float)
    keep = shares > MIN_SHARE
    # boolean indexing copies: the placement owns its arrays
    return Placement(j, slots[keep], sites[keep], np.minimum(shares[keep], 1.0))


def non_preemptible_shares(work_h: float, dt: float, first_cap: float) -> np.ndarray:
    """Shares of a pause-free run: ``first`` (≤ ``first_cap``), then 1s, then the remainder.

    ``first = min(1, first_cap, work/Δh)``; the run is as short as that allows.
    """
    need = work_h / dt
    first = min(1.0, first_cap, need)
    if first <= MIN_SHARE:
        return np.zeros(0)
    rest = need - first
    full = int(np.floor(rest + 1e-9))
    rem = rest - full
    out = [first] + [1.0] * full
    if rem > MIN_SHARE:
        out.append(rem)
    return np.array(out, dtype=float)
