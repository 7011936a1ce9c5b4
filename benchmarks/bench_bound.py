"""Lower bounds side by side (issue #15: "a stronger bound"): what each relaxation adds.

Run ``python benchmarks/bench_bound.py [--time-limit 60] [--instances 100x5x24,500x10x48,...]
[--data-dir ../shared/data] [--no-plans]``.

Per instance, one after the other in this one process (the machine is shared: run it alone,
timings are noisy while others work), it prints:

* ``compact``: the compact relaxation LP (:mod:`greenopt.formulations.relaxation`) without the
  presence rows — solved by column generation above 20,000 columns, as ``plan_milp`` does;
* ``compact+presence``: the same LP with the presence rows (up to 250,000 run-share columns);
* ``schedules``: the schedule relaxation's Lagrangian bound (:func:`greenopt.milp.schedules.
  schedule_bound` with ``integer=False``: Dantzig–Wolfe over each job's schedules, a true bound
  at every round) within the time limit, with ``DW master`` — the restricted master's value, an
  upper bound of that relaxation's optimum (what this relaxation could still give);
* ``p&b plan``: ``schedule_bound`` again with its plan (price-and-dive, then the master MILP),
  and ``MILP plan``: the MILP pipeline (``plan(method="milp")``, fix-and-optimise on large
  models), each at the same time limit;
* the gap of the better plan to the compact bounds and to the schedule bound.

HiGHS runs with the process's thread count everywhere (HiGHS refuses, with kError, a solve asking
for fewer threads than its process-wide scheduler was started with).

Instances: synthetic ``JxSxT`` (``greenopt.examples.synthetic.synthetic_scenario``, seed 0,
as the ``scaling`` suite) and ``real`` (a real-trace day of the ``real`` suite, 6 sites × 300
jobs, 2022-06-21, seed 0, when the data folder is there).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT = "100x5x24,500x10x48,2000x20x96,real"


def build(name: str, data_dir: str | None):
    if name == "real":
        from greenopt.io import build_real_scenario
        from greenopt.io.data import data_dir as find

        data = find(Path(data_dir) if data_dir else None)
        if data is None:
            return None
        return build_real_scenario(data, "2022-06-21", n_sites=6, n_jobs=300, seed=0, gbps=10.0)
    from greenopt.examples.synthetic import synthetic_scenario

    j, s, t = (int(v) for v in name.split("x"))
    return synthetic_scenario(j, s, t, 0)


def compact_bound(sc, presence: bool, limit: float) -> tuple[float | None, float]:
    import numpy as np

    from greenopt.milp.candidates import candidate_pairs
    from greenopt.milp.relaxation import solve_relaxation
    from greenopt.objectives import Objective
    from greenopt.options import PlanOptions

    obj = Objective()
    t0 = time.perf_counter()
    pairs = None
    if not presence:
        used = [{int(o)} for o in np.asarray(sc.index.origin)]
        pairs = candidate_pairs(sc, obj, used, top=2)
    r = solve_relaxation(sc, obj, "soft", PlanOptions(), presence, limit, pairs)
    return r.bound, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default=DEFAULT)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-plans", action="store_true", help="bounds only (no MILP pipeline)")
    args = ap.parse_args()

    import greenopt
    from greenopt.milp.schedules import schedule_bound

    rows = []
    for name in args.instances.split(","):
        sc = build(name, args.data_dir)
        if sc is None:
            print(f"{name}: skipped (real-data folder not found)")
            continue
        limit = args.time_limit
        print(
            f"== {name}: {len(sc.jobs)} jobs, {len(sc.sites)} sites, {sc.index.T} slots, "
            f"time limit {limit:g} s",
            flush=True,
        )
        b0, s0 = compact_bound(sc, False, limit)
        print(f"  compact LP              {b0!s:>22}  {s0:7.1f} s", flush=True)
        b1 = None
        if _reachable(sc) <= PRESENCE_MAX:
            b1, s1 = compact_bound(sc, True, limit)
            print(f"  compact+presence LP     {b1!s:>22}  {s1:7.1f} s", flush=True)
        res = schedule_bound(sc, "carbon", "soft", limit, integer=False, threads=None)
        st = res.stats
        print(
            f"  schedules (bound only)  {res.bound!s:>22}  {st['seconds']:7.1f} s  "
            f"DW master {st['master_objective']}  rounds {st['rounds']}  columns "
            f"{st['columns']}  converged {st.get('converged')}",
            flush=True,
        )
        pb = milp = None
        if not args.no_plans:
            t = time.perf_counter()
            withplan = schedule_bound(sc, "carbon", "soft", limit, threads=None)
            pb = withplan.plan.kpis["objective"] if withplan.plan is not None else None
            status = withplan.plan.status if withplan.plan is not None else None
            print(
                f"  price-and-branch plan   {pb!s:>22}  {time.perf_counter() - t:7.1f} s  "
                f"({status}; its bound {withplan.bound})",
                flush=True,
            )
            t = time.perf_counter()
            p = greenopt.plan(sc, "milp", time_limit=limit)
            milp = p.kpis["objective"]
            print(
                f"  MILP pipeline plan      {milp!s:>22}  {time.perf_counter() - t:7.1f} s  "
                f"(its bound {p.bound})",
                flush=True,
            )
        rows.append((name, b0, b1, res.bound, st["master_objective"], st["seconds"], pb, milp))
    print()
    print(
        "| instance | compact | +presence | schedules | (s) | DW master | p&b plan | MILP plan "
        "| gap, compact bounds | gap, schedules |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")

    def f(v):
        return "—" if v is None else f"{v:.2f}"

    def g(best, b):
        return "—" if best is None or b is None else f"{100 * (best - b) / abs(best):.2f} %"

    for name, b0, b1, b2, dw, sec, pb, milp in rows:
        plans = [v for v in (pb, milp) if v is not None]
        best = min(plans) if plans else None
        compact = max((v for v in (b0, b1) if v is not None), default=None)
        print(
            f"| {name} | {f(b0)} | {f(b1)} | {f(b2)} | {sec:.0f} | {f(dw)} | {f(pb)} | {f(milp)} "
            f"| {g(best, compact)} | {g(best, b2)} |"
        )


def _reachable(sc) -> int:
    from greenopt.milp.candidates import reachable_columns

    return reachable_columns(sc)


#: The presence LP is solved only up to this many run-share columns (above, it does not finish).
PRESENCE_MAX = 250_000


if __name__ == "__main__":
    main()
