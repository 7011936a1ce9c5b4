"""The dwell family's formulation choices, measured (greenopt/formulations/MODEL.md §5a).

For each synthetic instance ``JOBSxSITESxSLOTSxSEED`` and each variant, the whole MILP (every
reachable site) is built, its LP relaxation solved (the root bound), then HiGHS's
branch-and-bound run from the greedy plan to a 1 % gap (``GAP``), one thread, ``LIMIT``
seconds. Variants: ``off`` (``migration_alpha=None``) and ``DEPARTURE+END+GROUP`` with
DEPARTURE ``loc`` | ``one``, END ``binary`` | ``projection``, GROUP ``site`` | ``job`` (the
arguments of :func:`greenopt.formulations.dwell.add_dwell`; ``loc+binary+site`` is the model).

    python benchmarks/bench_dwell_forms.py 60 25x3x24x0 50x4x24x1 \\
        --variants off loc+binary+site one+binary+site loc+projection+site one+binary+job
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenopt.formulations.build as build
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.formulations.dwell import add_dwell
from greenopt.formulations.solution import start_vector
from greenopt.heuristics.greedy import greedy_assignments
from greenopt.objectives import Objective
from greenopt.options import PlanOptions
from greenopt.scenario.canonical import canonical_scenario
from greenopt.solvers import highs


def measure(sc, variant: str, limit: float, gap: float) -> dict:
    if variant == "off":
        sc = sc.with_jobs(list(sc.jobs), migration_alpha=None)
        build.add_dwell = add_dwell
    else:
        departure, end, group = variant.split("+")
        build.add_dwell = functools.partial(
            add_dwell, departure=departure, end=end, per_job=group == "job"
        )
    try:
        ix, mx = build.build_matrix(sc, Objective(), "soft")
        form = highs.from_matrix(mx)
        lp = highs.solve(form, None, PlanOptions(threads=1), None, relax=True, log=False)
        v0 = start_vector(ix, mx, greedy_assignments(sc, "carbon"))
        t0 = time.perf_counter()
        res = highs.solve(form, v0, PlanOptions(threads=1, mip_gap=gap), limit, log=False)
        seconds = time.perf_counter() - t0
    finally:
        build.add_dwell = add_dwell
    value = res.objective
    return {
        "variant": variant,
        "columns": mx.n_cols,
        "rows": mx.n_rows,
        "root_lp": lp.objective,
        "status": res.status,
        "objective": value,
        "bound": res.bound,
        "gap": (value - res.bound) / abs(value) if value and res.bound is not None else None,
        "seconds": seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("limit", type=float)
    ap.add_argument("instances", nargs="+")
    ap.add_argument("--gap", type=float, default=0.01)
    ap.add_argument("--variants", nargs="+", default=["off", "loc+binary+site"])
    args = ap.parse_args()
    for spec in args.instances:
        jobs, sites, slots, seed = map(int, spec.split("x"))
        sc = canonical_scenario(synthetic_scenario(jobs, sites, slots, seed))
        for variant in args.variants:
            r = measure(sc, variant, args.limit, args.gap)
            cells = (f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
            print(spec, " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
