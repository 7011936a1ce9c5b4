"""The committed plan of an operation: rows decided for good, and what they leave for later.

A :class:`Ledger` holds every ``(job, slot, site, share)`` row committed so far, with the decision
slot that committed it. Rows are committed in slot order per job (a decision commits rows after
every row already committed for that job), so a job's committed rows are always the first rows
of its final run, and everything derived from them is final:

* its **state** — work done, the site of its last committed run (where its checkpoint is; its
  origin before it ran), the slot of that run;
* its **migrations** (MODEL.md §5: a run at another site than the previous one moves the state);
* the **capacity it takes** in slots from ``k`` on — GPU-time, facility power (PUE and the energy
  of arriving migrations included) and WAN link GB — which a residual problem starting at ``k``
  must leave to it (:meth:`Ledger.reserved_from`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenopt.scenario import Scenario

#: Hours of work below which a job counts as finished (as the rolling carry rule).
LEFT_TOL_H = 1e-6


@dataclass(frozen=True)
class Reserved:
    """Capacity committed rows take in slots ``k..T-1`` of the full horizon.

    ``gpus`` and ``kw`` are ``(S, T − k)``; ``link_gb`` maps a WAN link (ends sorted) to its
    ``(T − k,)`` GB of committed migrations (links without any are left out).
    """

    gpus: np.ndarray
    kw: np.ndarray
    link_gb: dict[tuple[str, str], np.ndarray]


class Ledger:
    """Rows committed for good during an operation of ``scenario`` (full horizon, its order)."""

    def __init__(self, scenario: Scenario) -> None:
        idx = scenario.index
        self.scenario = scenario
        self.idx = idx
        J = len(idx.job_names)
        self.rows: list[list[tuple[int, int, float, int]]] = [[] for _ in range(J)]
        self.done_h = np.zeros(J)
        self.last_site = np.array(idx.origin, dtype=np.int64)
        self.last_slot = np.full(J, -1, dtype=np.int64)

    # -- state ---------------------------------------------------------------------------------
    def ran(self, j: int) -> bool:
        return self.last_slot[j] >= 0

    def remaining_h(self, j: int) -> float:
        return max(0.0, float(self.idx.work_h[j]) - float(self.done_h[j]))

    def finished(self, j: int) -> bool:
        return self.remaining_h(j) <= LEFT_TOL_H * max(1.0, float(self.idx.work_h[j]))

    def closed(self, j: int) -> bool:
        """Job ``j`` can run no more: done, or a pause-free job whose one block is committed."""
        return self.finished(j) or (not bool(self.idx.preemptible[j]) and self.ran(j))

    # -- committing ----------------------------------------------------------------------------
    def commit(self, j: int, slots, sites, shares, decided: int) -> None:
        """Append rows of job ``j`` (increasing slots, all after its committed rows)."""
        dt = self.idx.dt_h
        for t, s, sh in zip(slots, sites, shares, strict=True):
            t, s, sh = int(t), int(s), float(sh)
            if t <= self.last_slot[j]:
                raise AssertionError(  # a bug of the simulator, never of the input
                    f"internal: job {self.idx.job_names[j]!r} slot {t} committed out of order"
                )
            self.rows[j].append((t, s, sh, int(decided)))
            self.done_h[j] += sh * dt
            self.last_site[j] = s
            self.last_slot[j] = t

    # -- tables ----------------------------------------------------------------------------------
    def assignments(self) -> pd.DataFrame:
        """Every committed row: ``job, slot, site, share, decided`` (``decided``: the decision
        slot that committed it), by job (scenario order) then slot."""
        idx = self.idx
        recs = [
            (idx.job_names[j], t, idx.site_names[s], sh, d)
            for j, rows in enumerate(self.rows)
            for t, s, sh, d in rows
        ]
        df = pd.DataFrame(recs, columns=["job", "slot", "site", "share", "decided"])
        return df.astype({"slot": np.int64, "share": float, "decided": np.int64})

    # -- capacity taken from slot k on --------------------------------------------------------
    def reserved_from(self, k: int) -> Reserved:
        """What committed rows in slots ``≥ k`` take: GPU-time, facility kW, link GB."""
        sc, idx = self.scenario, self.idx
        S, T, dt = len(idx.site_names), idx.T, idx.dt_h
        gpus = np.zeros((S, T - k))
        kw = np.zeros((S, T - k))
        links: dict[tuple[str, str], np.ndarray] = {}
        net = sc.network if any(r and r[-1][0] >= k for r in self.rows) else None
        for j, rows in enumerate(self.rows):
            if not rows or rows[-1][0] < k:
                continue
            prev = int(idx.origin[j])
            for t, s, sh, _ in rows:
                if t >= k:
                    gpus[s, t - k] += float(idx.gpus[j]) * sh
                    kw[s, t - k] += float(idx.pue[s] * idx.power_kw[j]) * sh
                    if s != prev:  # a migration arriving in t: its energy and its GB
                        gb = float(idx.state_gb[j])
                        kw[s, t - k] += gb * sc.net_kwh_per_gb / dt
                        for link in net.links[(idx.site_names[prev], idx.site_names[s])]:
                            links.setdefault(link, np.zeros(T - k))[t - k] += gb
                prev = s
        return Reserved(gpus, kw, {lk: gb for lk, gb in links.items() if gb.any()})
