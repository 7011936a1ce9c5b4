"""The online planner: slot by slot, jobs seen as they arrive, and a promise kept.

**The promise.** A job is *admissible on arrival* when, at the start of the slot it arrives in,
running it alone at its origin from then on — earliest slots first (a pause-free job: one block
of the run-now shape, MODEL.md §10) — finishes it by its deadline in the GPU-time (and, under a
``grid_kw_max``, the grid energy) that the planner's commitments leave: the slots already
committed are in the past, and every job guaranteed before it holds a fall-back reservation
(:mod:`greenopt.heuristics.fallback`). Every admissible job is **guaranteed**: the online plan
finishes it by its deadline, whatever arrives later. (A job that is not admissible is still
planned, best effort, and is guaranteed as soon as its remaining work fits at its site.) Every
stay lasts its dwell (MODEL.md §5 rule 8) or finishes the job.

**Model-predictive control.** The planner keeps a *tentative* plan of all queued work (a
:class:`CapacityState` holding the committed rows and, from the current slot on, a placement per
queued job by the greedy's per-job placement, :func:`greenopt.heuristics.greedy.place_job`).
Each slot ``k`` (:meth:`OnlinePlanner.commit_slot`):

1. *due reservations* — a guaranteed job whose reservation has reached ``k`` and cannot be moved
   later runs its due share at home in ``k`` (rows in the way are taken out of the tentative plan);
2. *re-plan* — when anything changed since the last re-plan (arrivals, forced rows, new
   signals), every queued job that can still change is placed again from ``k``, most urgent first
   (least slack: window hours left − work hours left);
3. *resolve* — a move in ``k`` is made only when the job's obligation fits at the destination
   from ``k + 1`` (all its remaining work if it is guaranteed, the dwell it will owe otherwise);
   a pause-free job starts only when its whole run fits there. Otherwise the job stays where it
   is (placed again at home only);
4. *commit* — the rows of slot ``k`` are final; reservations are trimmed by the work done.

Only slot ``k`` is ever committed; later slots stay tentative and are planned again. Decisions of
slots ``< k`` depend only on jobs submitted and signals known before ``k`` (non-anticipation).

Every committed row comes from a placement that obeys MODEL.md §5 given the rows before it, so the
committed plan is valid; the fall-back reservations keep every guaranteed job finishable.

**Two settings.** ``plan(method="online")`` (:func:`simulate_online`) reveals each job at its
release and uses the scenario's signals; the slot-by-slot simulator drives the same object with
:meth:`OnlinePlanner.submit`, :meth:`OnlinePlanner.update_signals` and
:meth:`OnlinePlanner.commit_slot` (see docs/online.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError
from greenopt.evaluate import evaluate
from greenopt.heuristics.fallback import Fallback
from greenopt.heuristics.greedy import GreedySettings, place_job
from greenopt.heuristics.state import EPS, MIN_SHARE, CapacityState, Placement, placement
from greenopt.objectives import Objective
from greenopt.result import Plan
from greenopt.scenario import Job, Scenario

#: how the queued work is planned again each slot (:meth:`OnlinePlanner._replan`)
REPLAN_MODES = ("improve", "rebuild")
#: the per-arrival placement: few candidates and no feasibility-domain test, so one decision
#: stays under a millisecond; the slot's re-plan places the job again with
#: :data:`REPLAN_SETTINGS` (domain on) before anything of it is final
ONLINE_SETTINGS = GreedySettings(split=False, top_k=1, shortlist=2, domain=False)
#: the per-slot re-plan's placement
REPLAN_SETTINGS = GreedySettings(split=False, top_k=2, shortlist=4, domain=True)


@dataclass(frozen=True)
class Decision:
    """What :meth:`OnlinePlanner.submit` decided for a job.

    ``guaranteed``: the job is admissible on arrival (its deadline is promised). ``slots``,
    ``sites``, ``shares``: its tentative plan at submission (``site``: where it starts; ``None``:
    nothing could be placed). ``latency_s`` / ``cpu_s``: wall and CPU time of the decision.
    """

    job: str
    site: str | None
    slots: tuple[int, ...]
    sites: tuple[str, ...]
    shares: tuple[float, ...]
    latency_s: float
    guaranteed: bool = False
    cpu_s: float = 0.0

    @property
    def placed(self) -> bool:
        return bool(self.slots)


@dataclass(frozen=True)
class SlotReport:
    """What :meth:`OnlinePlanner.commit_slot` did in one slot (also in ``planner.slot_reports``).

    ``replanned``: jobs placed again; ``forced``: guaranteed jobs run at home because their
    reservation was due; ``cancelled``: moves or starts not made because the job's obligation did
    not fit where it would go; ``queued``: jobs submitted and not finished at the slot's start.
    """

    slot: int
    wall_s: float
    cpu_s: float
    queued: int
    replanned: int
    forced: int
    cancelled: int
    rows: int


class OnlinePlanner:
    """Online decisions with guarantees and re-planning on a scenario (MODEL.md §5, §11).

    ``scenario`` gives the sites, WAN, jobs (revealed only by :meth:`submit`) and the initial
    signals (forecasts in operation, updated by :meth:`update_signals`). ``settings``: the
    per-arrival placement; ``replan_settings``: the per-slot re-plan's.
    ``mode``: how queued work is planned again each slot, ``"improve"`` (a job's new placement
    replaces its tentative one only when it costs less) or ``"rebuild"`` (all placed again,
    most urgent first). ``readmit``: a job not
    guaranteed on arrival becomes guaranteed as soon as its remaining work fits at its site.
    ``promise=False`` turns the guarantees off (no reservations; for measuring what they cost).
    """

    def __init__(
        self,
        scenario: Scenario,
        objective: Objective | str = "carbon",
        settings: GreedySettings | None = None,
        *,
        replan_settings: GreedySettings | None = None,
        mode: str = "improve",
        readmit: bool = True,
        promise: bool = True,
        patience: float = 0.05,
        stability: float = 1.0,
    ) -> None:
        if mode not in REPLAN_MODES:
            raise ScenarioError(
                f"mode must be one of {', '.join(REPLAN_MODES)}, got {mode!r}", "mode"
            )
        self.mode = mode
        self.promise = promise
        self.scenario = scenario
        self.state = CapacityState(scenario, objective)
        self.fallback = Fallback(self.state)
        # renewable kWh per (site, slot) before any booking: update_signals keeps the bookings
        self._ren_base = self.state.ren_left.copy()
        self.settings = settings or ONLINE_SETTINGS
        self.replan_settings = replan_settings or REPLAN_SETTINGS
        self.readmit = readmit
        st, idx = self.state, self.state.idx
        self.idx = idx
        self.now = 0
        J = st.J
        self.decisions: dict[str, Decision] = {}
        self.slot_reports: list[SlotReport] = []
        self.active = np.zeros(J, dtype=bool)  # submitted, neither done nor past its window
        self.guaranteed = np.zeros(J, dtype=bool)  # its deadline is promised (now)
        self.admissible = np.zeros(J, dtype=bool)  # admissible on arrival (the promise's test)
        self.promised = np.zeros(J, dtype=bool)  # guaranteed by the end of its arrival slot
        self.pinned = np.zeros(J, dtype=bool)  # a started pause-free job: it runs its rows
        self.loc = np.array(idx.origin, dtype=np.int64)  # where its state is (committed)
        self.done_h = np.zeros(J)  # committed work
        self.owed_h = np.zeros(J)  # dwell owed at ``loc`` (committed)
        self._c_slots: list[list[int]] = [[] for _ in range(J)]
        self._c_sites: list[list[int]] = [[] for _ in range(J)]
        self._c_shares: list[list[float]] = [[] for _ in range(J)]
        self._dirty = True
        self._obliged: set[int] = set()  # jobs whose obligation was re-reserved this slot
        self._pending: list[int] = []  # arrivals not admissible: try a repack of their origin
        #: (slot, job, rule) of due rows that could not be run — a broken promise; stays empty
        self.broken: list[tuple[int, str, str]] = []
        # The planner's own pricing (plans are scored by the objective as given):
        # * patience — an hour of waiting must save this share of a typical grid kWh's
        #   objective: future capacity is worth keeping for jobs not yet seen, so work runs
        #   early unless later is clearly cleaner;
        # * stability — a migration must save this many hours of the job's own grid energy
        #   at the mean objective coefficient: the re-plan does not chase small gains from
        #   site to site.
        # Both, and the price of unmet work, depend only on jobs submitted so far.
        for key, value in (("patience", patience), ("stability", stability)):
            if not np.isfinite(value) or value < 0:
                raise ScenarioError(f"{key} must be a number >= 0, got {value!r}", key)
        self.objective = st.objective
        scale = float(np.mean(np.abs(st.coef))) if st.coef.size else 0.0
        kw = idx.power_kw * idx.pue[idx.origin]  # (J,) facility kW at full speed
        st.late_coef = st.late_coef + patience * scale * kw * idx.work_h
        self._move_price = self.objective.migration_penalty + stability * scale * kw  # (J,)
        self._pricing: dict[int, Objective] = {}
        st.unmet = 0.0
        costliest = int(np.argmax(np.abs(st.coef))) if st.coef.size else 0
        self._dearest = divmod(costliest, max(st.T, 1))  # (site, slot) of the largest |coef|

    # -- public API --------------------------------------------------------------------------
    def submit(self, job: Job | str) -> Decision:
        """Reveal ``job`` (a job of the scenario, by object or name) at the current slot.

        Admission: the job is guaranteed when it is admissible on arrival (module docstring); it
        then holds a fall-back reservation at its origin. Then its tentative placement from the
        current slot on. Call before :meth:`commit_slot` of the slot it arrives in.
        """
        name = job.name if isinstance(job, Job) else str(job)
        idx, st, fb = self.idx, self.state, self.fallback
        if name not in idx.job_pos:
            raise ScenarioError(f"job {name!r} is not in scenario {self.scenario.name!r}", name)
        if name in self.decisions:
            raise ScenarioError(f"job {name!r} was already submitted", name)
        w0, c0 = time.perf_counter(), time.thread_time()
        j = idx.job_pos[name]
        k = self.now
        p: Placement | None = None
        self._price_unmet(j)
        if k < st.T and int(idx.end_slot[j]) > max(k, int(idx.first_slot[j])):
            self.active[j] = True
            o = int(idx.origin[j])
            if idx.allowed[j, o] and self.promise:
                need = float(idx.work_h[j]) / st.dt
                block = not bool(idx.preemptible[j])
                ok = fb.reserve(j, o, k, need, block)
                self.guaranteed[j] = self.admissible[j] = self.promised[j] = ok
                if not ok:  # commit_slot lays the origin's reservations again (off this path)
                    self._pending.append(j)
            p = self._place(j, k, self.settings)
            if p is not None:
                st.commit(p, check=False)
            self._dirty = True
        d = self._decision(name, p, w0, c0, bool(self.guaranteed[j]))
        self.decisions[name] = d
        return d

    def commit_slot(self) -> pd.DataFrame:
        """Decide the current slot for good and move to the next; returns its rows.

        Steps (module docstring): due reservations, re-plan, resolve moves and starts, commit.
        The table has columns ``job, slot, site, share``.
        """
        k = self.now
        st, idx = self.state, self.idx
        if k >= st.T:
            raise ScenarioError(f"the horizon has ended (slot {k} of {st.T})", "slot")
        w0, c0 = time.perf_counter(), time.thread_time()
        queued = int(self.active.sum())
        self._admit_pending(k)
        due = self._due(k)
        replanned = forced = 0
        if due or self._dirty:
            replanned, forced = self._replan(k, due)
        self._dirty = False
        cancelled = self._resolve(k, due)
        rows = self._commit(k)
        self.now = k + 1
        if self.readmit and self.promise:
            self._readmit(k + 1)
        report = SlotReport(
            k,
            time.perf_counter() - w0,
            time.thread_time() - c0,
            queued,
            replanned,
            forced,
            cancelled,
            len(rows),
        )
        self.slot_reports.append(report)
        names = np.array(idx.site_names, dtype=object)
        jobs = np.array(idx.job_names, dtype=object)
        r = np.array(rows, dtype=float).reshape(-1, 3)
        return pd.DataFrame(
            {
                "job": jobs[r[:, 0].astype(np.int64)],
                "slot": np.full(len(r), k, dtype=np.int64),
                "site": names[r[:, 1].astype(np.int64)],
                "share": r[:, 2],
            }
        )

    def advance(self, slot: int) -> None:
        """Commit every slot before ``slot`` (``commit_slot`` until ``now == slot``)."""
        if not 0 <= slot <= self.state.T:
            raise ScenarioError(f"slot {slot} is outside the horizon [0, {self.state.T}]", "slot")
        if slot < self.now:
            raise ScenarioError(f"cannot go back in time: slot {slot} < now {self.now}", "slot")
        while self.now < slot:
            self.commit_slot()

    def update_signals(
        self,
        renewable_kw: np.ndarray | None = None,
        carbon: np.ndarray | None = None,
        price: np.ndarray | None = None,
    ) -> None:
        """New (forecast) signals, ``(sites, slots)`` arrays over the whole horizon in the
        scenario's site order; only slots from the current one on are used (the past is
        committed). The next :meth:`commit_slot` re-plans all queued work against them.

        Under a ``grid_kw_max``, reservations were sized on the renewable power believed then:
        a forecast that falls may leave a site's reservations above its new energy room; the
        promise holds for the signals the planner is given.
        """
        st, k = self.state, self.now
        shape = (st.S, st.T)
        given = {"renewable_kw": renewable_kw, "carbon": carbon, "price": price}
        arrays = {}
        for key, value in given.items():
            if value is None:
                continue
            a = np.asarray(value, dtype=float)
            if a.shape != shape:
                raise ScenarioError(f"{key} must have shape {shape}, got {a.shape}", key)
            if not np.all(np.isfinite(a)):
                raise ScenarioError(f"{key} has a value that is not finite", key)
            arrays[key] = a
        idx = self.idx
        if "renewable_kw" in arrays:
            if np.any(arrays["renewable_kw"] < 0):
                raise ScenarioError("renewable_kw must be >= 0", "renewable_kw")
            base = (
                arrays["renewable_kw"] - (idx.pue * idx.idle_kw)[:, None] - idx.reserved_kw
            ) * st.dt
            booked = self._ren_base[:, k:] - st.ren_left[:, k:]
            st.ren_left[:, k:] = base[:, k:] - booked
            self._ren_base[:, k:] = base[:, k:]
            room = self.fallback.kwh_room.copy()
            self.fallback.set_renewable(arrays["renewable_kw"])
            self.fallback.kwh_room[:, :k] = room[:, :k]
        if "carbon" in arrays or "price" in arrays:
            if "carbon" in arrays and np.any(arrays["carbon"] < 0):
                raise ScenarioError("carbon must be >= 0", "carbon")
            # the objective's own coefficient rule, on the new series
            series = SimpleNamespace(
                index=SimpleNamespace(
                    carbon=arrays.get("carbon", idx.carbon), price=arrays.get("price", idx.price)
                )
            )
            coef = self.objective.grid_coef(series)  # type: ignore[arg-type]
            st.coef[:, k:] = coef[:, k:]
        self._dirty = True

    def assignments(self) -> pd.DataFrame:
        """The committed rows (slots before ``now``) as a ``job, slot, site, share`` table."""
        idx = self.idx
        jobs, slots, sites, shares = [], [], [], []
        for j in range(self.state.J):
            n = len(self._c_slots[j])
            if n:
                jobs += [idx.job_names[j]] * n
                slots += self._c_slots[j]
                sites += [idx.site_names[s] for s in self._c_sites[j]]
                shares += self._c_shares[j]
        return pd.DataFrame(
            {
                "job": pd.Series(jobs, dtype=object),
                "slot": np.array(slots, dtype=np.int64),
                "site": pd.Series(sites, dtype=object),
                "share": np.array(shares, dtype=float),
            }
        )

    def tentative(self) -> pd.DataFrame:
        """The tentative plan of queued work: rows in slots ``>= now`` (not committed)."""
        st, idx = self.state, self.idx
        parts = []
        for j in np.flatnonzero(self.active).tolist():
            for p in st.placements(j):
                keep = p.slots >= self.now
                if keep.any():
                    parts.append((j, p.slots[keep], p.sites[keep], p.shares[keep]))
        return _table(idx, parts)

    def reservations(self) -> pd.DataFrame:
        """The fall-back reservations: ``job, slot, site, share`` rows from ``now`` on."""
        fb = self.fallback
        parts = [
            (j, fb.slots[j], np.full(len(fb.slots[j]), fb.site[j]), fb.shares[j])
            for j in fb.holders().tolist()
        ]
        return _table(self.idx, parts)

    def plan(self, method: str = "online", deadlines: str = "soft") -> Plan:
        """The committed slots as an evaluated :class:`Plan` (on the scenario's signals)."""
        return evaluate(
            self.scenario,
            self.assignments(),
            method=method,
            objective=self.objective,
            deadlines=deadlines,
            status="heuristic",
        )

    # -- the slot's steps --------------------------------------------------------------------
    def _admit_pending(self, k: int) -> None:
        """Arrivals of this slot that were not admissible: the flexible reservations at their
        origin laid again (:meth:`Fallback.repack`) may leave room; then they are guaranteed
        too, before anything of the slot is committed."""
        fb, idx = self.fallback, self.idx
        for j in self._pending:
            if not self.active[j] or self.guaranteed[j]:
                continue
            o = int(idx.origin[j])
            need = float(idx.work_h[j]) / self.state.dt
            if idx.preemptible[j]:
                ok = fb.repack(o, k, {j: (need, k)})
            else:
                ok = fb.repack(o, k, block=(j, need))
            self.guaranteed[j] = self.promised[j] = ok
        self._pending.clear()

    def _due(self, k: int) -> dict[int, Placement]:
        """Guaranteed work due in slot ``k`` that cannot be reserved later: per job, the rows
        that keep its promise if nothing better is found — its due share at home, or a
        pause-free job's whole reserved run (which then starts)."""
        fb = self.fallback
        due: dict[int, Placement] = {}
        for j in fb.due(k).tolist():
            if self.pinned[j] or fb.defer(j, k):
                continue
            h = int(fb.site[j])
            if fb.block[j]:
                due[j] = placement(j, fb.slots[j], h, fb.shares[j])
            else:
                x = min(fb.at(j, k), (float(self.idx.work_h[j]) - self.done_h[j]) / self.state.dt)
                due[j] = placement(j, [k], h, [x])
        return due

    def _replan(self, k: int, due: dict[int, Placement]) -> tuple[int, int]:
        """Plan the queued work again from ``k``; returns (jobs placed again, due rows forced).

        1. The due rows are booked (the reservations fit the sites, so they do once the
           tentative rows in their way are taken out; those jobs are placed again in step 3).
        2. Each due job, most urgent first, is placed freely from ``k`` and keeps that
           placement when it keeps the promise — its due share or more at home in ``k``, a move
           in ``k`` whose obligation fits at the destination, or a pause-free start whose run
           fits there — otherwise its due rows stay and the rest of its work is placed from
           ``k + 1``.
        3. The jobs taken out, most urgent first (least slack).
        4. When anything changed since the last slot: ``improve`` — every other queued job, least
           urgent first, is placed again seeing all the others and keeps the new placement only
           when it costs less (both priced in the same state, so each change lowers the
           objective); ``rebuild`` — all of them are placed again, most urgent first.
        """
        st, idx = self.state, self.idx
        jobs = np.flatnonzero(self.active & ~self.pinned)
        if not jobs.size:
            return 0, 0
        left = np.maximum(idx.work_h[jobs] - self.done_h[jobs], 0.0)
        first = np.maximum(idx.first_slot[jobs], k)
        slack = (idx.end_slot[jobs] - first) * st.dt - left
        size = idx.gpus[jobs] * left
        order = jobs[np.lexsort((jobs, -size, idx.end_slot[jobs], np.round(slack, 9)))]
        for j in due:
            self._reset(j)
        again: set[int] = set()  # jobs whose tentative rows were taken out
        if self.mode == "rebuild" and self._dirty:
            again = set(jobs.tolist()) - set(due)
        elif due:
            cells = {
                (int(s), int(t))
                for p in due.values()
                for s, t in zip(p.sites, p.slots, strict=True)
            }
            links: set[int] = set()  # links a due return move uses in k
            for j, p in due.items():
                if int(p.sites[0]) != self.loc[j]:
                    links.update(st.route_links[int(self.loc[j])][int(p.sites[0])].tolist())
            for j in jobs.tolist():
                if j in due:
                    continue
                if any(
                    (int(s), int(t)) in cells
                    for p in st.placements(j)
                    for s, t in zip(p.sites, p.slots, strict=True)
                    if t >= k
                ):
                    again.add(j)
                elif links:
                    row = self._tent_row(j, k)
                    if row is not None and row[0] != self.loc[j]:
                        route = st.route_links[int(self.loc[j])][row[0]].tolist()
                        if links.intersection(route):
                            again.add(j)
        for j in again:
            self._reset(j)
        for p in due.values():
            st.commit(p, check=False)
        forced = 0
        for j in [j for j in order.tolist() if j in due]:
            self._reset(j)
            p = self._place(j, k, self.replan_settings)
            if p is not None and self._keeps_promise(j, k, p, due[j]):
                st.commit(p, check=False)
                continue
            forced += 1
            # the reservations fit the sites, so the due rows fit the tentative plan now; a
            # dwell this single row leaves open is paid by the rest of the reservation
            if st.check(due[j]) not in (None, "dwell"):  # never expected: a safety net
                due[j] = self._shrink(due[j])
                why = st.check(due[j])
                if why not in (None, "dwell"):
                    self.broken.append((k, self.idx.job_names[j], why))
                    continue
            st.commit(due[j], check=False)
            if self.fallback.block[j]:
                self.pinned[j] = True
                continue
            q = self._place(j, k + 1, self.replan_settings)
            if q is not None:
                st.commit(q, check=False)
        for j in [j for j in order.tolist() if j in again]:
            p = self._place(j, k, self.replan_settings)
            if p is not None:
                st.commit(p, check=False)
        placed = len(due) + len(again)
        if self.mode == "improve" and self._dirty:
            for j in order[::-1].tolist():
                if j in due or j in again:
                    continue
                placed += 1
                old = self._future(j, k)
                self._reset(j)
                p = self._place(j, k, self.replan_settings)
                if p is not None and len(old):
                    before = st.cost(old)  # priced for j by _place
                    if not st.cost(p) < before - 1e-9 * max(1.0, abs(before)):
                        p = old
                elif p is None:
                    p = old
                if len(p):
                    st.commit(p, check=False)
        return placed, forced

    def _keeps_promise(self, j: int, k: int, p: Placement, due: Placement) -> bool:
        """Does placement ``p`` of due job ``j`` keep its promise in slot ``k``? A move or a
        pause-free start in ``k`` has its obligation re-reserved where it goes (booked)."""
        if len(p) == 0 or int(p.slots[0]) != k:
            return False
        d, x = int(p.sites[0]), float(p.shares[0])
        starts = not self.idx.preemptible[j] and not self._c_slots[j]
        if d == int(due.sites[0]) and not starts:
            return x >= float(due.shares[0]) - EPS
        return self._oblige(j, k, (d, x), starts, p)

    def _resolve(self, k: int, forced: dict[int, Placement]) -> int:
        """Make a move (or a pause-free start) in slot ``k`` only when the job's obligation fits
        where it goes; otherwise place the job again at home only. Returns the cancellations."""
        st, idx = self.state, self.idx
        cancelled = 0
        for j in np.flatnonzero(self.active & ~self.pinned).tolist():
            if j in forced:
                continue
            row = self._tent_row(j, k)
            if row is None:
                continue
            starts = not idx.preemptible[j] and not self._c_slots[j]
            if row[0] == self.loc[j] and not starts:
                continue
            if self._oblige(j, k, row, starts):
                continue
            cancelled += 1
            self._reset(j)
            h = int(self.loc[j])
            mask = st.site_mask[j].copy()
            st.site_mask[j] = False
            st.site_mask[j, h] = True
            try:
                # a pause-free job does not start in k; a preemptible one may run at home in k
                p = self._place(j, k + 1 if starts else k, self.replan_settings)
            finally:
                st.site_mask[j] = mask
            if p is not None:
                st.commit(p, check=False)
        return cancelled

    def _oblige(
        self, j: int, k: int, row: tuple[int, float], starts: bool, p: Placement | None = None
    ) -> bool:
        """Re-reserve job ``j``'s obligation for a move to ``row``'s site (or a pause-free start
        there) in slot ``k``; False, the reservation unchanged, when it does not fit. ``p``: the
        job's placement when it is not in the tentative plan."""
        st, fb, idx = self.state, self.fallback, self.idx
        d, x = row
        if not self.promise:  # no obligations: a start only pins the run
            self.pinned[j] = self.pinned[j] or starts
            return True
        saved = fb.release(j)
        if starts:  # the whole run from k + 1 must fit at d
            parts = [p] if p is not None else st.placements(j)
            sl = np.concatenate([q.slots for q in parts])
            sh = np.concatenate([q.shares for q in parts])
            keep = sl > k
            sl, sh = sl[keep], sh[keep]
            e = int(idx.end_slot[j])
            room = fb.room(j, d, k + 1, e)
            if np.all(room[sl - k - 1] >= sh - EPS):
                fb.book(j, d, sl, sh, True)
                self.pinned[j] = True
                self.guaranteed[j] = True
                self._obliged.add(j)
                return True
            fb.restore(j, saved)
            return False
        rem = (float(idx.work_h[j]) - self.done_h[j]) / st.dt - x
        owed = max(0.0, self._dwell_h(j, int(self.loc[j]), d) - x * st.dt)
        if self.guaranteed[j]:
            if self._reserve_rest(j, d, k + 1, rem, owed):
                self._obliged.add(j)
                return True
        else:  # only the dwell it will owe at d
            need = min(rem, owed / st.dt)
            if need <= MIN_SHARE or fb.reserve(j, d, k + 1, need):
                self._obliged.add(j)
                return True
        fb.restore(j, saved)
        return False

    def _reserve_rest(
        self, j: int, at: int, t: int, need: float, owed_h: float, repack: bool = True
    ) -> bool:
        """Reserve guaranteed job ``j``'s remaining ``need`` slot-shares from slot ``t`` when
        its state is at ``at``: a return ticket to its origin (when it owes no dwell at
        ``at`` and can move back), else at ``at`` (``repack``: laying the site's reservations
        again if need be); ``j`` holds no reservation."""
        fb, idx = self.fallback, self.idx
        if need <= MIN_SHARE:
            return True
        o = int(idx.origin[j])
        if (
            at != o
            and owed_h <= EPS
            and idx.allowed[j, o]
            and fb.can_return(j, at, o) > 0
            and fb.reserve_return(j, o, at, t, need)
        ):
            return True
        if not idx.allowed[j, at]:
            return False
        if fb.reserve(j, at, t, need):
            return True
        return repack and fb.repack(at, t, {j: (need, t)})

    def _commit(self, k: int) -> list[tuple[int, int, float]]:
        """The tentative rows of slot ``k`` become final; reservations and job states follow."""
        st, fb, idx = self.state, self.fallback, self.idx
        rows: list[tuple[int, int, float]] = []
        away: list[int] = []  # guaranteed jobs away from home with a return ticket
        for j in np.flatnonzero(self.active).tolist():
            row = self._tent_row(j, k)
            h = int(self.loc[j])
            s, x = row if row is not None else (h, 0.0)
            if j not in self._obliged and fb.site[j] >= 0:
                if fb.site[j] == s:  # at its reserved site (home, or back home by its ticket)
                    fb.consume(j, k, x)
                elif fb.back_from[j] >= 0 and x > 0:
                    away.append(j)
            if row is not None:
                self._c_slots[j].append(k)
                self._c_sites[j].append(s)
                self._c_shares[j].append(x)
                self.done_h[j] += x * st.dt
                rows.append((j, s, x))
                if s != h:
                    self.owed_h[j] = max(0.0, self._dwell_h(j, h, s) - x * st.dt)
                else:
                    self.owed_h[j] = max(0.0, self.owed_h[j] - x * st.dt)
                self.loc[j] = s
            left = (float(idx.work_h[j]) - self.done_h[j]) / st.dt
            if left <= MIN_SHARE or k + 1 >= int(idx.end_slot[j]):
                self.active[j] = False
                self.pinned[j] = False
                fb.release(j)
                if left > MIN_SHARE:  # a miss: nothing of it stays in the tentative plan
                    self._reset(j)
        self._obliged.clear()
        for j in away:  # work done away shrinks the ticket (the old one stays if it must)
            if self.active[j]:
                saved = fb.release(j)
                left = (float(idx.work_h[j]) - self.done_h[j]) / st.dt
                if not fb.reserve_return(j, saved[0], saved[4], k + 1, left):
                    fb.restore(j, saved)
        return rows

    def _readmit(self, t: int) -> None:
        """From slot ``t``: guarantee jobs whose remaining work now fits (at their site, or back
        at their origin), and turn a guaranteed job's reservation away from its origin into a
        return ticket once it owes no dwell there (freeing the site it is at)."""
        fb, idx, st = self.fallback, self.idx, self.state
        for j in np.flatnonzero(self.active & ~self.pinned).tolist():
            h, o = int(self.loc[j]), int(idx.origin[j])
            need = (float(idx.work_h[j]) - self.done_h[j]) / st.dt
            if self.guaranteed[j]:
                movable = fb.can_return(j, h, o) > 0 and idx.allowed[j, o]
                if h != o and fb.site[j] == h and self.owed_h[j] <= EPS and movable:
                    saved = fb.release(j)
                    if not fb.reserve_return(j, o, h, t, need):
                        fb.restore(j, saved)
                continue
            block = not bool(idx.preemptible[j])
            saved = fb.release(j)  # a dwell it owes is part of its remaining work
            if block:
                ok = bool(idx.allowed[j, h]) and fb.reserve(j, h, t, need, True)
            else:
                ok = self._reserve_rest(j, h, t, need, float(self.owed_h[j]), repack=False)
            if ok:
                self.guaranteed[j] = True
            else:
                fb.restore(j, saved)

    # -- helpers -----------------------------------------------------------------------------
    def _place(self, j: int, t_from: int, settings: GreedySettings) -> Placement | None:
        """The greedy's placement of job ``j`` from ``t_from``, priced the planner's way."""
        st = self.state
        obj = self._pricing.get(j)
        if obj is None:
            obj = self._pricing[j] = replace(
                self.objective, migration_penalty=float(self._move_price[j])
            )
        st.objective = obj
        return place_job(st, j, t_from, settings)

    def _price_unmet(self, j: int) -> None:
        """The tentative plan's price of an unmet hour: the objective's rule over the jobs
        submitted so far, the largest of each job's (so no decision depends on a job not yet
        seen). The signals enter through their costliest cell only."""
        idx = self.idx
        s, t = self._dearest
        seen = SimpleNamespace(
            index=SimpleNamespace(
                job_names=[idx.job_names[j]],
                power_kw=idx.power_kw[[j]],
                priority=idx.priority[[j]],
                pue=idx.pue,
                carbon=idx.carbon[s : s + 1, t : t + 1],
                price=idx.price[s : s + 1, t : t + 1],
                T=idx.T,
                dt_h=idx.dt_h,
            )
        )
        u = self.objective.unmet_penalty(seen)  # type: ignore[arg-type]
        self.state.unmet = max(self.state.unmet, u)

    def _prefix(self, j: int) -> Placement:
        return placement(j, self._c_slots[j], self._c_sites[j], self._c_shares[j])

    def _reset(self, j: int) -> None:
        """Job ``j``'s tentative rows out of the tentative plan; its committed rows stay."""
        st = self.state
        st.release(j)
        if self._c_slots[j]:
            st.commit(self._prefix(j), check=False)

    def _future(self, j: int, k: int) -> Placement:
        """Job ``j``'s tentative rows from slot ``k`` on, as one placement."""
        parts = self.state.placements(j)
        if not parts:
            return placement(j, [], [], [])
        sl = np.concatenate([p.slots for p in parts])
        keep = sl >= k
        return Placement(
            j,
            sl[keep],
            np.concatenate([p.sites for p in parts])[keep],
            np.concatenate([p.shares for p in parts])[keep],
        )

    def _tent_row(self, j: int, k: int) -> tuple[int, float] | None:
        for p in self.state.placements(j):
            i = int(np.searchsorted(p.slots, k))
            if i < len(p) and p.slots[i] == k:
                return int(p.sites[i]), float(p.shares[i])
        return None

    def _dwell_h(self, j: int, a: int, b: int) -> float:
        """Hours job ``j`` must work at ``b`` after moving there from ``a`` (MODEL §5 rule 8)."""
        return 0.0 if a == b else float(self.state.dwell_need[j, a, b])

    def _shrink(self, p: Placement) -> Placement:
        """``p`` cut to the room the tentative plan has (a safety net: never expected)."""
        st = self.state
        cap = np.array(
            [
                float(st.max_share(p.job, int(s), int(t)))
                for s, t in zip(p.sites, p.slots, strict=True)
            ]
        )
        return placement(p.job, p.slots, p.sites, np.minimum(p.shares, cap))

    def _decision(
        self, name: str, p: Placement | None, w0: float, c0: float, guaranteed: bool
    ) -> Decision:
        """The decision on ``name``; its latency counts everything up to here."""
        if p is None or len(p) == 0:
            site, slots, sites, shares = None, (), (), ()
        else:
            names = self.idx.site_names
            site_ids = p.sites.tolist()
            site = names[site_ids[0]]
            slots = tuple(p.slots.tolist())
            sites = tuple(names[s] for s in site_ids)
            shares = tuple(p.shares.tolist())
        wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
        return Decision(name, site, slots, sites, shares, wall, guaranteed, cpu)


def _table(idx, parts) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(
            {
                "job": pd.Series([], dtype=object),
                "slot": np.zeros(0, np.int64),
                "site": pd.Series([], dtype=object),
                "share": np.zeros(0),
            }
        )
    jobs = np.array(idx.job_names, dtype=object)
    sites = np.array(idx.site_names, dtype=object)
    return pd.DataFrame(
        {
            "job": np.concatenate([np.full(len(p[1]), jobs[p[0]], dtype=object) for p in parts]),
            "slot": np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts]),
            "site": np.concatenate([sites[np.asarray(p[2], dtype=np.int64)] for p in parts]),
            "share": np.concatenate([np.asarray(p[3], dtype=float) for p in parts]),
        }
    ).sort_values(["job", "slot"], kind="stable", ignore_index=True)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1e3 if values else 0.0


def simulate_online(
    scenario: Scenario,
    objective: Objective | str = "carbon",
    settings: GreedySettings | None = None,
    deadlines: str = "soft",
    **planner_options,
) -> Plan:
    """Reveal each job at the start of its first window slot (release order, then scenario
    order), commit slot by slot, and return the committed plan scored by the shared evaluator.

    ``plan.notes`` has the decision latency (wall and CPU, p50/p99/max), the per-slot re-plan
    time and how many jobs were guaranteed on arrival.
    """
    t0 = time.perf_counter()
    planner = OnlinePlanner(scenario, objective, settings, **planner_options)
    idx = scenario.index
    T = idx.T
    order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h))
    arrive = np.minimum(idx.first_slot[order], T)
    for k in range(T + 1):
        for j in order[arrive == k].tolist():
            planner.submit(idx.job_names[j])
        if k < T:
            planner.commit_slot()
    plan = planner.plan(deadlines=deadlines)
    wall = [d.latency_s for d in planner.decisions.values()]
    cpu = [d.cpu_s for d in planner.decisions.values()]
    if wall:
        plan.notes.append(
            f"decision latency p50={_pct(wall, 50):.3f} ms p99={_pct(wall, 99):.3f} ms "
            f"max={max(wall) * 1e3:.3f} ms (cpu p50={_pct(cpu, 50):.3f} ms "
            f"p99={_pct(cpu, 99):.3f} ms)"
        )
    slot_wall = [r.wall_s for r in planner.slot_reports]
    if slot_wall:
        plan.notes.append(
            f"re-plan per slot p50={_pct(slot_wall, 50):.3f} ms p99={_pct(slot_wall, 99):.3f} ms "
            f"max={max(slot_wall) * 1e3:.3f} ms"
        )
    plan.notes.append(
        f"guaranteed on arrival: {int(planner.promised.sum())} of {len(planner.decisions)} jobs "
        f"({int(planner.admissible.sum())} admissible, the rest after laying reservations again)"
    )
    if planner.broken:
        plan.notes.append(f"promises broken (due rows that did not fit): {planner.broken}")
    plan.solve_s = float(sum(wall) + sum(slot_wall))
    plan.wall_s = time.perf_counter() - t0
    return plan


def planner_arguments(options) -> tuple[GreedySettings, dict]:
    """The arrival placement's settings and the other :class:`OnlinePlanner` keywords for a
    checked ``PlanOptions`` (``plan(method="online")`` and ``greenopt.operate`` alike).

    Placement parameters given (``split``, ``top_k``, ``shortlist``, ...) apply to the arrival and
    the re-plan placements alike; ``patience``, ``stability`` and ``mode`` to the planner.
    """
    params = dict(options.params)
    planner = {k: params.pop(k) for k in ("patience", "stability", "mode") if k in params}
    given = GreedySettings.from_params(params)
    changed = {k: getattr(given, k) for k in params if k in GreedySettings.__dataclass_fields__}
    planner["replan_settings"] = replace(REPLAN_SETTINGS, **changed)
    return replace(ONLINE_SETTINGS, **changed), planner


def plan_online(scenario: Scenario, options) -> Plan:
    """``plan(method="online")``: :func:`simulate_online` with the options' objective and
    parameters (:func:`planner_arguments`)."""
    settings, planner = planner_arguments(options)
    return simulate_online(scenario, options.objective, settings, options.deadlines, **planner)
