"""Where is the gap: the bound's or the plans'? (issue #15, the diagnosis behind the schedule bound)

Run ``python benchmarks/diagnose_gap.py 30x4x24 [--highs 600]`` (synthetic instance, seed 0).

Prints, for one instance, every lower bound we can compute side by side with the best plan
HiGHS finds on the whole MILP (every site, every move) in ``--highs`` seconds:

* the compact relaxation LP, without and with the presence rows;
* the LP relaxation of the whole MILP;
* the compact relaxation with integral arrivals, at HiGHS's root node (its cuts included);
* the schedule relaxation (Dantzig–Wolfe over each job's schedules): its Lagrangian bound and
  the master's value (an upper bound of that relaxation's optimum);
* HiGHS on the whole MILP: its root bound after cuts (from its log), its final bound and plan.

Heavy: one instance at a time, alone on the machine.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("instance", help="JxSxT, e.g. 30x4x24")
    ap.add_argument("--highs", type=float, default=600.0, help="seconds for the whole MILP")
    args = ap.parse_args()

    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.formulations.build import build_matrix
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.formulations.solution import start_vector
    from greenopt.milp.pipeline import start_plan
    from greenopt.milp.relaxation import solve_relaxation
    from greenopt.milp.schedules import schedule_bound
    from greenopt.objectives import Objective
    from greenopt.options import PlanOptions
    from greenopt.solvers import highs

    j, s, t = (int(v) for v in args.instance.split("x"))
    sc = synthetic_scenario(j, s, t, 0)
    obj = Objective()
    opt = PlanOptions(threads=1)

    def line(what: str, value, seconds: float) -> None:
        print(f"  {what:<44s} {value!s:>22}  {seconds:7.1f} s", flush=True)

    for presence in (False, True):
        t0 = time.perf_counter()
        r = solve_relaxation(sc, obj, "soft", opt, presence, None)
        line(f"compact LP{' + presence' if presence else ''}", r.bound, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ix, mx = build_matrix(sc, obj, "soft", absorbed_moves=False)
    form = highs.from_matrix(mx)
    res = highs.solve(form, None, opt, None, relax=True, log=False)
    line("whole MILP, LP relaxation", res.bound, time.perf_counter() - t0)
    t0 = time.perf_counter()
    _, cmx = build_relaxation(sc, obj, "soft", presence=True)
    for name in ("arr", "stay"):
        if name in cmx.cols:
            cmx.cols[name].integer = True
    root = highs.solve(
        highs.from_matrix(cmx),
        None,
        PlanOptions(threads=1, mip_gap=0.0),
        args.highs,
        highs_options={"mip_max_nodes": 1},
    )
    line("compact, arrivals integral, root node", root.bound, time.perf_counter() - t0)
    t0 = time.perf_counter()
    sb = schedule_bound(sc, obj, "soft", None, integer=False, max_rounds=300)
    line("schedules: Lagrangian bound", sb.bound, time.perf_counter() - t0)
    line("schedules: DW master (≥ its optimum)", sb.stats["master_objective"], 0.0)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        log = str(Path(tmp) / "highs.log")
        start = start_plan(sc, opt)
        v0 = start_vector(ix, mx, start.assignments)
        full = highs.solve(form, v0, PlanOptions(threads=1, mip_gap=0.0, log_file=log), args.highs)
        text = Path(log).read_text()
    rows = re.findall(r"^\s*\S?\s+0\s+0\s+0\s+0\.00%\s+(\S+)\s+(\S+)", text, flags=re.M)
    root_bound = rows[-1][0] if rows else None
    line("whole MILP: root bound after cuts", root_bound, 0.0)
    line(f"whole MILP: bound after {args.highs:g} s", full.bound, time.perf_counter() - t0)
    line(f"whole MILP: best plan ({full.status})", full.objective, 0.0)


if __name__ == "__main__":
    main()
