"""The dwell rule of MODEL.md §5 (validity rule 8), measured on a plan's run slots.

After a migration ``(job, t, a, b)`` the job works at ``b`` at least

    need_h = transfer_h(a, b) / α,      transfer_h = state_gb · 8 / (bottleneck(a, b) · 3600)

hours — ``Σ share · Δh`` over its run slots at ``b`` from ``t`` (inclusive) up to its next
migration (exclusive) — unless its work is done by the end of that stay. ``α`` is the scenario's
``migration_alpha``; ``None`` turns the rule off (every need is 0). ``transfer_h`` is the state's
transfer over the route's bottleneck alone: ``restore_h`` does not count (it buys no time at
``b``). A stay that ends unfinished with no later migration (a deadline miss under soft
deadlines) still needs its dwell, and a job that is not migratable (one move origin → b) is
covered like any other.

:func:`dwell_need_h` gives the need per job and site pair; :func:`stays` measures every stay of
a plan; the validator, the MILP's read-back tidy step and the tests use it, the planners enforce
the same rule in their own terms (``greenopt.formulations.dwell``,
:meth:`greenopt.heuristics.state.CapacityState.check`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenopt.scenario import Scenario

#: absolute tolerance on hours (MODEL.md §5: 1e-6 absolute, 1e-6 relative on sums)
TOL_H = 1e-6
REL = 1e-6


def dwell_need_h(scenario: Scenario) -> np.ndarray:
    """(J, S, S) hours job ``j`` must work at ``b`` after moving there from ``a``.

    ``transfer_h / α``; 0 on the diagonal, for jobs without state and when the rule is off;
    ``inf`` where no route exists (no such move can happen).
    """
    transfer = scenario.network.transfer_time_h
    alpha = scenario.migration_alpha
    if alpha is None:
        return np.zeros_like(transfer)
    return transfer / float(alpha)


def short_of(worked_h: np.ndarray | float, need_h: np.ndarray | float) -> np.ndarray:
    """True where ``worked_h`` falls short of ``need_h`` beyond the tolerance of MODEL.md §5."""
    worked = np.asarray(worked_h, dtype=float)
    need = np.asarray(need_h, dtype=float)
    return worked < need - TOL_H - REL * np.abs(need)


def stays(scenario: Scenario, assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per migration of the plan, with the stay that follows it.

    ``assignments`` is a normalised table (``greenopt.evaluate.normalise_assignments``: by job,
    then slot). Columns: ``job, slot, src, dst`` (the migration), ``end_slot`` (the stay's last
    run slot), ``worked_h`` (``Σ share·Δh`` of the stay), ``need_h``, ``done`` (the job's work
    is done by the end of the stay) and ``short`` (the stay breaks the rule: worked < need and
    not done).
    """
    idx = scenario.index
    columns = ["job", "slot", "src", "dst", "end_slot", "worked_h", "need_h", "done", "short"]
    if assignments.empty:
        return pd.DataFrame({c: [] for c in columns})
    j = np.fromiter((idx.job_pos[n] for n in assignments["job"]), np.int64, len(assignments))
    s = np.fromiter((idx.site_pos[n] for n in assignments["site"]), np.int64, len(assignments))
    t = assignments["slot"].to_numpy(dtype=np.int64)
    h = assignments["share"].to_numpy(dtype=float) * idx.dt_h
    first = np.r_[True, j[1:] != j[:-1]]
    prev = np.where(first, idx.origin[j], np.r_[-1, s[:-1]])
    moved = prev != s
    if not moved.any():
        return pd.DataFrame({c: [] for c in columns})
    # the stay a row belongs to: the last migration at or before it, within the same job
    job_start = np.maximum.accumulate(np.where(first, np.arange(len(j)), 0))
    last_move = np.maximum.accumulate(np.where(moved, np.arange(len(j)), -1))
    in_stay = last_move >= job_start
    move_rows = np.flatnonzero(moved)
    stay_of = np.searchsorted(move_rows, last_move[in_stay])
    worked = np.bincount(stay_of, weights=h[in_stay], minlength=len(move_rows))
    end_row = np.zeros(len(move_rows), dtype=np.int64)
    np.maximum.at(end_row, stay_of, np.flatnonzero(in_stay))
    # work done by the end of each stay: the job's running total at the stay's last row
    cum = np.cumsum(h)
    before_job = (cum - h)[job_start]
    done_by = cum[end_row] - before_job[end_row]
    jm = j[move_rows]
    done = done_by >= idx.work_h[jm] - 1e-6 * np.maximum(1.0, idx.work_h[jm])
    need = dwell_need_h(scenario)[jm, prev[move_rows], s[move_rows]]
    # a move with no route is the validator's ``route`` violation, not a dwell to measure
    short = np.isfinite(need) & short_of(worked, np.where(np.isfinite(need), need, 0.0)) & ~done
    names = np.array(idx.site_names, dtype=object)
    return pd.DataFrame(
        {
            "job": assignments["job"].to_numpy()[move_rows],
            "slot": t[move_rows],
            "src": names[prev[move_rows]],
            "dst": names[s[move_rows]],
            "end_slot": t[end_row],
            "worked_h": worked,
            "need_h": need,
            "done": done,
            "short": short,
        }
    )
