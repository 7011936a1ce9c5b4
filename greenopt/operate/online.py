"""``operate(method="online")``: the online planner driven through its own slot-by-slot API.

Every other method is asked, at each decision, to plan a residual problem from scratch
(:mod:`.residual`). The online planner (:mod:`greenopt.heuristics.online`, docs/online.md) is
itself a slot-by-slot decision maker with state that a fresh residual problem cannot carry: the
promise made to each job on arrival and the fall-back reservation that keeps it, which job is
guaranteed, a started pause-free run. Re-planning a residual scenario each slot would forget all
of that (every queued job would be "submitted" again at each decision and judged admissible
against a different past), so the promise would not be kept across slots. Here one
:class:`~greenopt.heuristics.online.OnlinePlanner` lives for the whole operation:

* it is built on the scenario **as believed at slot 0** — each site's signals replaced by what is
  known at slot 0 (:func:`greenopt.forecasts.known_signals`: the forecasts issued by then) — so
  nothing it derives at construction (its patience and stability prices, the grid energy its
  reservations may use) reads an actual it could not know;
* at each decision slot ``k`` it is told the signals known at ``k``
  (:meth:`~greenopt.heuristics.online.OnlinePlanner.update_signals`, only when they differ from
  what it was told for slots ``≥ k``, so an unchanged forecast does not force a re-plan), then
  each job that became known (``arrivals="online"``: released by the start of ``k``; ``"known"``:
  every job at slot 0) is submitted in release order;
* then :meth:`~greenopt.heuristics.online.OnlinePlanner.commit_slot` commits slots
  ``k..until−1`` one by one (``until``: the next decision) with nothing new told in between, so
  every row is decided by decision ``k`` on what was known at ``k``.

With ``forecast="oracle"`` (or any forecast equal to the actuals), online arrivals and a decision
every slot this is exactly ``plan(scenario, "online")`` (tested). ``delay_cost`` does not apply:
the planner prices waiting with its own ``patience``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenopt.forecasts import SIGNALS, Forecasts, KnownSignals, known_signals
from greenopt.heuristics.online import OnlinePlanner, planner_arguments
from greenopt.options import PlanOptions
from greenopt.scenario import Scenario

#: ``status`` of a decision row made by the online planner
STATUS = "online"


@dataclass
class OnlineRun:
    """What driving the planner produced: ``committed`` (``job, slot, site, share, decided``,
    like :meth:`.ledger.Ledger.assignments`), one decision row per decision slot, notes, and the
    planner itself (its ``promised``, ``guaranteed``, ``broken``, ``slot_reports``)."""

    committed: pd.DataFrame
    rows: list[dict[str, Any]]
    notes: list[str]
    planner: OnlinePlanner


def believed(scenario: Scenario, known: KnownSignals) -> Scenario:
    """``scenario`` with every site's signals replaced by ``known``'s (same sites, same jobs)."""
    sites = [
        site.model_copy(update={s: np.array(known[s][i], dtype=float, copy=True) for s in SIGNALS})
        for i, site in enumerate(scenario.sites)
    ]
    return scenario.with_jobs(scenario.jobs, sites=sites)


def drive_online(
    scenario: Scenario,
    forecasts: Forecasts,
    decision_slots: list[int],
    arrivals: str,
    opts: PlanOptions,
) -> OnlineRun:
    """Operate ``scenario`` with one online planner (module docstring)."""
    idx = scenario.index
    T, dt = idx.T, idx.dt_h
    known = known_signals(scenario, forecasts, 0)
    settings, kwargs = planner_arguments(opts)
    planner = OnlinePlanner(believed(scenario, known), opts.objective, settings, **kwargs)
    told = {s: np.array(known[s], dtype=float) for s in SIGNALS}
    # release order, then scenario order: the order plan(method="online") submits in
    order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h)).tolist()
    submitted = np.zeros(len(idx.job_names), dtype=bool)
    work_h = np.asarray(idx.work_h, dtype=float)
    recs: list[tuple[int, int, int, float, int]] = []  # job, slot, site, share, decided
    rows: list[dict[str, Any]] = []
    for n, k in enumerate(decision_slots):
        until = decision_slots[n + 1] if n + 1 < len(decision_slots) else T
        t0 = time.perf_counter()
        if n:
            known = known_signals(scenario, forecasts, k)
            new = {
                s: np.asarray(known[s], dtype=float)
                for s in SIGNALS
                if not np.array_equal(known[s][:, k:], told[s][:, k:])
            }
            if new:
                planner.update_signals(**new)
                told.update({s: a.copy() for s, a in new.items()})
        planning = 0.0
        t1 = time.perf_counter()
        for j in order:
            if submitted[j]:
                continue
            if arrivals == "online" and idx.release_h[j] > k * dt + 1e-9:
                continue
            planner.submit(idx.job_names[j])
            submitted[j] = True
        open_ = planner.active.copy()
        left_h = float(np.maximum(work_h - planner.done_h, 0.0)[open_].sum())
        broken_before = len(planner.broken)
        committed: list[pd.DataFrame] = []
        for _ in range(k, until):
            committed.append(planner.commit_slot())
        planning += time.perf_counter() - t1
        part = pd.concat(committed, ignore_index=True) if committed else None
        jobs_committed = n_rows = 0
        work = 0.0
        if part is not None and len(part):
            jp = part["job"].map(idx.job_pos).to_numpy(dtype=np.int64)
            sp = part["site"].map(idx.site_pos).to_numpy(dtype=np.int64)
            sh = part["share"].to_numpy(dtype=float)
            sl = part["slot"].to_numpy(dtype=np.int64)
            recs.extend(
                zip(jp.tolist(), sl.tolist(), sp.tolist(), sh.tolist(), [k] * len(jp), strict=True)
            )
            jobs_committed, n_rows, work = len(set(jp.tolist())), len(jp), float(sh.sum()) * dt
        broken = planner.broken[broken_before:]
        rows.append(
            {
                "slot": k,
                "time": scenario.horizon.slot_starts[k],
                "until": until,
                "method": opts.method,
                "status": STATUS if open_.any() or n_rows else "idle",
                "jobs_known": int(submitted.sum()),
                "jobs_open": int(open_.sum()),
                "jobs_committed": jobs_committed,
                "rows_committed": n_rows,
                "committed_work_h": work,
                "ahead_work_h": 0.0,  # the planner commits one slot at a time
                "replanned_work_h": left_h,
                "objective": None,
                "delay_cost": None,
                "violations": len(broken),
                "note": f"promise broken: {broken[0]}" if broken else None,
                "plan_s": planning,
                "wall_s": time.perf_counter() - t0,
            }
        )
    committed_df = _committed(scenario, recs)
    notes = [
        f"online planner driven slot by slot: guaranteed on arrival "
        f"{int(planner.promised.sum())} of {len(planner.decisions)} submitted jobs"
    ]
    latency = [d.cpu_s for d in planner.decisions.values()]
    if latency:
        notes.append(
            f"arrival decision CPU p50 {np.percentile(latency, 50) * 1e3:.3f} ms, "
            f"p99 {np.percentile(latency, 99) * 1e3:.3f} ms"
        )
    if planner.broken:
        notes.append(f"promises broken (due rows that did not fit): {planner.broken}")
    return OnlineRun(committed_df, rows, notes, planner)


def _committed(scenario: Scenario, recs: list[tuple[int, int, int, float, int]]) -> pd.DataFrame:
    """The rows in the ledger's form: by job (scenario order) then slot."""
    idx = scenario.index
    recs = sorted(recs, key=lambda r: (r[0], r[1]))
    df = pd.DataFrame(
        [(idx.job_names[j], t, idx.site_names[s], sh, d) for j, t, s, sh, d in recs],
        columns=["job", "slot", "site", "share", "decided"],
    )
    return df.astype({"slot": np.int64, "share": float, "decided": np.int64})
