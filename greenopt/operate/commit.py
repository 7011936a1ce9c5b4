"""What a decision commits: the rows of its slots, and the rows its obligations carry with them.

A decision at slot ``k`` that holds until the next decision at ``k'`` (``k' = k + replan_every``,
at most ``T``) commits its plan's rows in slots ``k..k'-1``. Two rules of MODEL.md §5 bind a job
beyond the slot it runs in; rather than teach every method to carry such an obligation into the
next residual problem, the decision that creates one commits the rows that settle it, at once:

* **a pause-free job starts** (its first run slot is in ``k..k'-1``): its whole block is committed
  (rule 4: it runs without pause, so there is nothing left to decide about it once it starts — a
  later residual could only stop it, or break the rule by pausing it);
* **a job migrates** (a run in ``k..k'-1`` at another site than its last one): if the dwell rule
  is on and the stay that begins there has not yet lasted its dwell (``transfer_h / α`` hours of
  work) by ``k'-1``, nor finished the job, the stay's next rows in the plan are committed until
  it has (rule 8). The plan is valid, so its stay does last its dwell or finish the job.

Both are still non-anticipative: they are decided at ``k``, from what is known at ``k``. The rows
committed ahead reserve their capacity in later residual problems, and the job re-enters them
only after its last committed row.
"""

from __future__ import annotations

import numpy as np

from greenopt.operate.ledger import Ledger
from greenopt.scenario import Scenario

#: The dwell rule's tolerance on hours (MODEL.md §5: 1e-6 absolute, 1e-6 relative).
TOL_H = 1e-6


def dwell_need_h(scenario: Scenario) -> np.ndarray | None:
    """``(J, S, S)`` hours job ``j`` must work at ``b`` after moving there from ``a``
    (MODEL.md §5 rule 8: ``transfer_h / α``), or ``None`` when the rule is off."""
    alpha = getattr(scenario, "migration_alpha", None)
    if alpha is None:
        return None
    net = scenario.network
    transfer = net.disruption_h - scenario.index.restore_h[:, None, None]
    return transfer / float(alpha)


def rows_to_commit(
    ledger: Ledger,
    j: int,
    slots: np.ndarray,
    sites: np.ndarray,
    shares: np.ndarray,
    until: int,
    need_h: np.ndarray | None,
) -> int:
    """How many of job ``j``'s planned rows (increasing ``slots``, all after its committed rows)
    the decision commits, given that it holds for slots ``< until`` (see the module docstring)."""
    n = int(np.searchsorted(slots, until, side="left"))
    if n == 0:
        return 0
    idx = ledger.idx
    if not idx.preemptible[j] and not ledger.ran(j):
        return len(slots)  # a pause-free job starts: its whole block
    if need_h is None:
        return n
    prev = np.r_[ledger.last_site[j], sites[:-1]]
    arrive = np.flatnonzero(sites[:n] != prev[:n])
    if arrive.size == 0:
        return n  # no stay begins now (one that began earlier was settled when it began)
    m = int(arrive[-1])
    b = int(sites[m])
    need = float(need_h[j, int(prev[m]), b])
    dt = idx.dt_h
    work = float(idx.work_h[j])
    worked = float(shares[m:n].sum()) * dt
    done = float(ledger.done_h[j]) + float(shares[:n].sum()) * dt
    while (
        n < len(slots)
        and int(sites[n]) == b
        and worked < need - TOL_H - TOL_H * need
        and done < work - TOL_H * max(1.0, work)
    ):
        worked += float(shares[n]) * dt
        done += float(shares[n]) * dt
        n += 1
    return n
