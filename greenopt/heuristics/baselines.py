"""The baselines of MODEL.md §10, each ``(scenario, options) -> Plan`` on the shared state.

* ``run-now`` — every job at its origin from its release, earliest slots first, earliest deadline
  first when capacity is short; no migration (carbon-agnostic).
* ``threshold`` (green-ai-infra) — at the origin, run in a slot when intensity ≤ ``threshold``
  (250 g/kWh) or the renewable surplus left covers the job; otherwise wait, but never beyond
  ``max_delay_h`` (4 h) after release nor so late that the deadline is lost.
* ``greenest-region`` (HarchOS) — start at the allowed site with the lowest current intensity if
  it is ≤ ``threshold`` (200 g/kWh), else wait for the first slot where some site is (never so
  late that the deadline is lost, and never beyond ``max_delay_h`` when given); never migrate
  after the start (the state moves once, in the first run slot, as MODEL.md §5 says). A start
  away from the origin whose stay would be shorter than its dwell (MODEL.md §5: the job cannot
  finish there, nor work ``transfer_h/α`` there) is skipped: the next greenest site is tried.
* ``follow-renewables`` (the seed paper's energy-only strategy) — every slot, each migratable job
  moves to the site with the most renewable surplus left, blind to transfer time and deadlines;
  physics still applies: a move whose transfer does not fit its slot or finds no link room is not
  made. Jobs run as soon as released, at full speed. The dwell rule (MODEL.md §5) applies too: a
  move books the job at its destination, at full speed, until it has worked ``transfer_h/α``
  there (or is done); a move whose dwell cannot be worked (window, capacity) is not made.

Jobs are taken earliest deadline first (release order for ``follow-renewables``, which is blind
to deadlines). Every placement passes :meth:`CapacityState.check` (the dwell rule included), so
every plan is valid; a move the rule forbids is skipped; work that cannot be placed is a reported
deadline miss. ``run-now`` and ``threshold`` never move, so the rule never stops them.
"""

from __future__ import annotations

import math

import numpy as np

from greenopt.errors import ScenarioError
from greenopt.evaluate import evaluate
from greenopt.heuristics.state import (
    EPS,
    MIN_SHARE,
    CapacityState,
    Placement,
    non_preemptible_shares,
    placement,
)
from greenopt.result import Plan
from greenopt.scenario import Scenario


def _param(options, name: str, default: float | None) -> float | None:
    value = dict(options.params).get(name, default)
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"parameter {name!r} must be a number, got {value!r}", name) from None
    if not math.isfinite(value) or value < 0:
        raise ScenarioError(f"parameter {name!r} must be >= 0, got {value!r}", name)
    return value


def edf_order(scenario: Scenario) -> np.ndarray:
    """Earliest deadline first, then earliest release, then scenario order."""
    idx = scenario.index
    return np.lexsort((np.arange(len(idx.job_names)), idx.release_h, idx.deadline_h))


def _finish(scenario: Scenario, st: CapacityState, options, method: str, **notes) -> Plan:
    plan = evaluate(
        scenario,
        st.assignments(),
        method=method,
        objective=options.objective,
        deadlines=options.deadlines,
        status="heuristic",
    )
    plan.notes.extend(f"{k}={v}" for k, v in notes.items())
    return plan


def earliest_fill(
    st: CapacityState, j: int, site: int, t0: int, start_cap: float = 1.0
) -> Placement:
    """Job ``j``'s remaining work at ``site`` in the earliest slots from ``t0`` (preemptible).

    The share of slot ``t0`` is capped at ``start_cap`` (the arrival cap of a move).
    """
    e = int(st.idx.end_slot[j])
    slots = np.arange(t0, e)
    cap = st.max_share(j, site, slots).copy()
    if cap.size:
        cap[0] = min(cap[0], start_cap)
    need = st.remaining_h(j) / st.dt
    before = np.cumsum(cap) - cap
    shares = np.clip(need - before, 0.0, cap)
    return placement(j, slots, site, shares)


def block_at(st: CapacityState, j: int, site: int, t0: int, first_cap: float = 1.0):
    """A pause-free run of job ``j`` at ``site`` from slot ``t0``; None when it does not fit."""
    pat = non_preemptible_shares(st.remaining_h(j), st.dt, first_cap)
    if len(pat) == 0 or t0 + len(pat) > int(st.idx.end_slot[j]):
        return None
    slots = np.arange(t0, t0 + len(pat))
    if np.any(st.max_share(j, site, slots) < pat - EPS):
        return None
    return placement(j, slots, site, pat)


def _commit_if_ok(st: CapacityState, p: Placement | None) -> bool:
    if p is None or len(p) == 0 or st.check(p) is not None:
        return False
    st.commit(p, check=False)
    return True


# --------------------------------------------------------------------------------------------
def run_now_state(scenario: Scenario, objective="carbon") -> CapacityState:
    st = CapacityState(scenario, objective)
    idx = st.idx
    for j in edf_order(scenario).tolist():
        o = int(idx.origin[j])
        if not idx.allowed[j, o]:
            continue
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        if idx.preemptible[j]:
            _commit_if_ok(st, earliest_fill(st, j, o, f))
            continue
        for t0 in range(f, e):
            if _commit_if_ok(st, block_at(st, j, o, t0)):
                break
    return st


def plan_run_now(scenario: Scenario, options) -> Plan:
    """``run-now``: at the origin from release, earliest slots, earliest deadline first."""
    return _finish(scenario, run_now_state(scenario, options.objective), options, "run-now")


# --------------------------------------------------------------------------------------------
def threshold_state(
    scenario: Scenario, objective="carbon", threshold: float = 250.0, max_delay_h: float = 4.0
) -> CapacityState:
    st = CapacityState(scenario, objective)
    idx, dt = st.idx, st.dt
    for j in edf_order(scenario).tolist():
        o = int(idx.origin[j])
        if not idx.allowed[j, o]:
            continue
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        forced_from = f + math.ceil(max_delay_h / dt - 1e-9)
        green = (idx.carbon[o, f:e] <= threshold + 1e-9) | (
            st.ren_left[o, f:e] >= st.full_kwh[j, o] - EPS
        )
        if idx.preemptible[j]:
            cap = st.max_share(j, o, np.arange(f, e))
            need = st.remaining_h(j) / dt
            shares = np.zeros(e - f)
            for k in range(e - f):
                if need <= MIN_SHARE:
                    break
                t = f + k
                # wait unless green, waited max_delay_h, or the deadline needs this slot
                if green[k] or t >= forced_from or need > (e - t - 1) + 1e-9:
                    shares[k] = min(1.0, need, cap[k])
                    need -= shares[k]
            _commit_if_ok(st, placement(j, np.arange(f, e), o, shares))
            continue
        n_slots = len(non_preemptible_shares(st.remaining_h(j), dt, 1.0))
        for k in range(e - f):
            t = f + k
            latest = t >= e - n_slots  # starting later would lose the deadline
            if (green[k] or t >= forced_from or latest) and _commit_if_ok(
                st, block_at(st, j, o, t)
            ):
                break
    return st


def plan_threshold(scenario: Scenario, options) -> Plan:
    """``threshold``: wait at the origin for intensity ≤ 250 g/kWh (or renewable), ≤ 4 h."""
    thr = _param(options, "threshold", 250.0)
    delay = _param(options, "max_delay_h", 4.0)
    st = threshold_state(scenario, options.objective, thr, delay)
    return _finish(scenario, st, options, "threshold", threshold=thr, max_delay_h=delay)


# --------------------------------------------------------------------------------------------
def greenest_region_state(
    scenario: Scenario,
    objective="carbon",
    threshold: float = 200.0,
    max_delay_h: float | None = None,
) -> CapacityState:
    st = CapacityState(scenario, objective)
    idx, dt = st.idx, st.dt
    for j in edf_order(scenario).tolist():
        o = int(idx.origin[j])
        f, e = int(idx.first_slot[j]), int(idx.end_slot[j])
        forced_from = e if max_delay_h is None else f + math.ceil(max_delay_h / dt - 1e-9)
        sites = np.flatnonzero(idx.allowed[j] & st.can_move(j, o))
        if sites.size == 0:
            continue
        n_slots = len(non_preemptible_shares(st.remaining_h(j), dt, 1.0))
        for t in range(f, e):
            need = st.remaining_h(j) / dt
            forced = t >= forced_from or t >= e - max(n_slots, math.ceil(need - 1e-9))
            order = sites[np.argsort(idx.carbon[sites, t], kind="stable")]
            if not forced and idx.carbon[order[0], t] > threshold + 1e-9:
                continue  # no site green enough yet: wait
            done = False
            for b in order.tolist():  # the greenest site that can take the job now
                if not forced and idx.carbon[b, t] > threshold + 1e-9:
                    break
                lim = min(1.0, st.arrival_cap(j, o, b))
                if b != o and not st.link_room(j, o, b, t):
                    continue
                if idx.preemptible[j]:
                    p = earliest_fill(st, j, b, t, lim)
                    if len(p) == 0 or p.slots[0] != t:
                        continue
                else:
                    p = block_at(st, j, b, t, lim)
                if _commit_if_ok(st, p):
                    done = True
                    break
            if done:
                break
    return st


def plan_greenest_region(scenario: Scenario, options) -> Plan:
    """``greenest-region``: start at the cleanest allowed site once it is ≤ 200 g/kWh."""
    thr = _param(options, "threshold", 200.0)
    delay = _param(options, "max_delay_h", None)
    st = greenest_region_state(scenario, options.objective, thr, delay)
    return _finish(scenario, st, options, "greenest-region", threshold=thr, max_delay_h=delay)


# --------------------------------------------------------------------------------------------
def follow_renewables_state(scenario: Scenario, objective="carbon") -> CapacityState:
    st = CapacityState(scenario, objective)
    idx, dt = st.idx, st.dt
    order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h))
    stopped = np.zeros(len(idx.job_names), dtype=bool)  # pause-free jobs that had to stop
    for t in range(st.T):
        active = order[(idx.first_slot[order] <= t) & (idx.end_slot[order] > t)]
        for j in active.tolist():
            need = st.remaining_h(j) / dt
            if need <= MIN_SHARE or stopped[j] or st.last_slot[j] >= t:
                continue  # done, stopped, or still paying the dwell of its last move
            started = st.last_slot[j] >= 0
            if not idx.preemptible[j] and started and st.last_slot[j] != t - 1:
                stopped[j] = True
                continue
            cur = int(st.last_site[j])
            choices = [cur]
            if idx.migratable[j]:
                ok = idx.allowed[j] & st.can_move(j, cur)
                ok[cur] = False
                if ok.any():
                    surplus = np.where(ok, st.ren_left[:, t], -np.inf)
                    b = int(np.argmax(surplus))
                    if surplus[b] > EPS and surplus[b] > st.ren_left[cur, t] + EPS:
                        choices.insert(0, b)  # the site with the most renewable surplus
            placed = False
            for b in choices:
                if not idx.allowed[j, b]:
                    continue
                lim = min(1.0, st.arrival_cap(j, cur, b))
                if b != cur and not st.link_room(j, cur, b, t):
                    continue
                if b != cur:
                    p = _stay(st, j, cur, b, t, lim)
                else:
                    share = min(need, lim, float(st.max_share(j, b, t)))
                    if not idx.preemptible[j] and share < min(need, lim) - EPS:
                        continue  # a pause-free job needs its full share
                    p = placement(j, [t], b, [share])
                if p is not None and _commit_if_ok(st, p):
                    placed = True
                    break
            if not placed and not idx.preemptible[j] and started:
                stopped[j] = True
    return st


def _stay(st: CapacityState, j: int, a: int, b: int, t: int, first_cap: float) -> Placement | None:
    """Job ``j`` moved ``a → b`` in slot ``t``, then run at full speed at ``b`` until it has
    worked its dwell there (MODEL.md §5) or is done; ``None`` when it cannot start at ``t`` or a
    pause-free job would have to pause. The caller's check refuses a stay cut short by the end
    of the window or by capacity."""
    idx, dt = st.idx, st.dt
    owed = float(st.dwell_need[j, a, b])
    left = st.remaining_h(j) / dt
    slots, shares = [], []
    worked = 0.0
    for u in range(t, int(idx.end_slot[j])):
        cap = min(1.0, float(st.max_share(j, b, u)), first_cap if u == t else 1.0)
        share = min(left, cap)
        if share <= MIN_SHARE or (
            not idx.preemptible[j] and share < min(left, first_cap if u == t else 1.0) - EPS
        ):
            if u == t or not idx.preemptible[j]:
                return None
            continue
        slots.append(u)
        shares.append(share)
        left -= share
        worked += share * dt
        if left <= MIN_SHARE or worked >= owed - EPS:
            break
    return placement(j, slots, b, shares)


def plan_follow_renewables(scenario: Scenario, options) -> Plan:
    """``follow-renewables``: every slot, move each job to the most renewable surplus."""
    st = follow_renewables_state(scenario, options.objective)
    return _finish(scenario, st, options, "follow-renewables")
