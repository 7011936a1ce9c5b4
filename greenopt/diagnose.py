"""Why hard deadlines cannot be met: the jobs at fault and a reason for each.

``precheck_hard`` finds jobs infeasible on their own (no allowed site, window shorter than the
work, a non-preemptible job longer than its window). ``explain_hard`` solves the soft-deadline
model (every plan is feasible there; each unmet hour costs far more than any saving) and names
the jobs whose work is left undone: those are the jobs capacity, bandwidth or other jobs keep
from finishing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from greenopt.errors import InfeasibleError
from greenopt.scenario import Scenario


def job_reasons(scenario: Scenario) -> dict[str, str]:
    """Jobs that cannot be done whatever the other jobs do, with the reason."""
    idx = scenario.index
    out: dict[str, str] = {}
    for j, name in enumerate(idx.job_names):
        window_h = (idx.end_slot[j] - idx.first_slot[j]) * idx.dt_h
        if not idx.allowed[j].any():
            out[name] = "residency: no allowed site has enough GPUs"
        elif window_h + 1e-9 < idx.work_h[j]:
            out[name] = f"window: {window_h:g} h of slots for {idx.work_h[j]:g} h of work"
    return out


def _raise(jobs: dict[str, str], what: str) -> InfeasibleError:
    listed = "; ".join(f"{k!r} ({v})" for k, v in list(jobs.items())[:10])
    more = " ..." if len(jobs) > 10 else ""
    return InfeasibleError(
        f"hard deadlines cannot be met ({what}): {len(jobs)} job(s): {listed}{more}", jobs
    )


def precheck_hard(scenario: Scenario) -> None:
    jobs = job_reasons(scenario)
    if jobs:
        raise _raise(jobs, "found before solving")


def explain_hard(scenario: Scenario, options: Any) -> InfeasibleError:
    """The InfeasibleError for a hard-deadline model the solver found infeasible."""
    from greenopt.solve import plan_milp

    soft = plan_milp(scenario, replace(options, deadlines="soft"))
    unmet = soft.jobs.set_index("job")["unmet_h"]
    late = unmet[unmet > 1e-6]
    jobs = {
        str(name): f"capacity: {h:.4g} h of work cannot be placed in its window"
        for name, h in late.items()
    }
    if not jobs:
        jobs = {"?": "the solver found the hard model infeasible but the soft one meets all"}
    return _raise(jobs, f"{int(np.sum(unmet > 1e-6))} job(s) short")
