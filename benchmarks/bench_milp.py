"""MILP benchmark: build, hand-off, solve, gap and bound per instance family (issue #3).

For each instance it measures, in the same run:

* ``matrix_s``   — index sets + every constraint family as numpy arrays;
* ``direct_s``   — that matrix passed straight to highspy (``passModel`` + MIP start);
* ``pyomo_s``    — the Pyomo model built from the same arrays;
* ``compile_s``  — Pyomo's standard-form compiler + ``passModel`` (the hand-off);
* end to end ``greenopt.plan(method="milp")``: wall, build (incl. hand-off), solve, status,
  objective, bound, gap, and the greedy plan's objective for comparison.

Run: ``python benchmarks/bench_milp.py [--quick] [--only NAME]``; writes
``benchmarks/results/milp.json`` and ``milp.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import greenopt
from greenopt.formulations.build import build_matrix, to_pyomo
from greenopt.heuristics.synthetic import synthetic_scenario
from greenopt.objectives import Objective
from greenopt.plan import PlanOptions
from greenopt.solve import (
    _auto_candidates,
    _sites_used,
    pyomo_to_highs_arrays,
    run_highs,
    start_plan,
    start_vector,
)

FAMILIES = [
    # name, jobs, sites, slots, time limit (s), target gap, target seconds
    ("100x5x24", 100, 5, 24, 60, 0.01, 60),
    ("500x10x48", 500, 10, 48, 60, 0.01, 60),
    ("2000x20x96", 2000, 20, 96, 300, 0.02, 300),
]
OUT = Path(__file__).parent / "results"


def measure(name: str, sc, time_limit: float, target_gap: float, target_s: float) -> dict:
    obj = Objective("carbon")
    opts = PlanOptions(objective=obj, time_limit=time_limit, mip_gap=target_gap, threads=2)
    row: dict = {
        "instance": name,
        "jobs": len(sc.jobs),
        "sites": len(sc.sites),
        "slots": sc.horizon.slots,
    }
    sc.index, sc.network  # noqa: B018 — scenario preprocessing is not the MILP's
    t = time.perf_counter()
    greedy = start_plan(sc, opts)
    row["greedy_s"] = time.perf_counter() - t
    row["greedy_objective"] = greedy.kpis["objective"]
    t = time.perf_counter()
    k = _auto_candidates(sc, obj, "soft")
    ix, mx = build_matrix(sc, obj, "soft", k, extra=_sites_used(sc, greedy))
    row["matrix_s"] = time.perf_counter() - t
    row.update(
        cols=mx.n_cols,
        rows=mx.n_rows,
        integers=mx.n_integer,
        candidates=k,
        nnz=int(mx.row_arrays()[0].nnz),
    )
    start = start_vector(ix, mx, greedy.assignments)
    # direct: numpy → highspy (a 0.01 s run: we time only the hand-off)
    cost, lb, ub, integer = mx.col_arrays()
    A, rlb, rub = mx.row_arrays()
    quick = replace(opts, time_limit=0.01)
    res = run_highs(cost, mx.offset, A, lb, ub, integer, rlb, rub, start, quick, 0.01)
    row["direct_handoff_s"] = res.handoff_s
    row["direct_build_s"] = row["matrix_s"] + res.handoff_s
    # Pyomo: model from the same arrays, standard-form compile, hand-off
    t = time.perf_counter()
    model = to_pyomo(mx, name)
    row["pyomo_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    c, off, A2, lb2, ub2, int2, rlb2, rub2, cols = pyomo_to_highs_arrays(model)
    row["pyomo_compile_s"] = time.perf_counter() - t
    res = run_highs(
        c,
        off,
        A2,
        lb2,
        ub2,
        int2,
        rlb2,
        rub2,
        start[cols] if start is not None else None,
        quick,
        0.01,
    )
    row["pyomo_handoff_s"] = row["pyomo_compile_s"] + res.handoff_s
    row["pyomo_over_direct"] = (row["matrix_s"] + row["pyomo_build_s"] + row["pyomo_handoff_s"]) / (
        row["direct_build_s"]
    )
    del model
    # end to end
    p = greenopt.plan(
        sc, method="milp", objective=obj, time_limit=time_limit, mip_gap=target_gap, threads=2
    )
    row.update(
        status=p.status,
        objective=p.kpis["objective"],
        bound=p.bound,
        gap=p.gap,
        build_s=p.build_s,
        solve_s=p.solve_s,
        wall_s=p.wall_s,
        start_accepted=getattr(p, "start_accepted", None),
        notes=p.notes,
        valid=not greenopt.validate(sc, p),
        deadline_misses=p.kpis["deadline_misses"],
        migrations=p.kpis["migrations"],
    )
    row["build_over_solve"] = p.build_s / max(p.solve_s, 1e-9)
    row["met_gap"] = p.gap is not None and p.gap <= target_gap
    row["met_time"] = p.wall_s <= target_s
    row["met_build_ratio"] = row["build_over_solve"] <= 0.5
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smallest family + realistic only")
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    fams = FAMILIES[:1] if args.quick else FAMILIES
    for name, J, S, T, tl, gap, target in fams:
        if args.only and args.only != name:
            continue
        sc = synthetic_scenario(jobs=J, sites=S, slots=T, seed=0)
        rows.append(measure(name, sc, tl, gap, target))
        print(json.dumps(rows[-1], default=str), flush=True)
    if not args.only or args.only == "realistic":
        try:
            sc = greenopt.examples.load("realistic")
            rows.append(measure("realistic", sc, 120, 0.01, 120))
            print(json.dumps(rows[-1], default=str), flush=True)
        except Exception as exc:  # the example may not exist yet
            print(f"realistic skipped: {exc}")
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
        "rows": rows,
    }
    (OUT / "milp.json").write_text(json.dumps(meta, indent=2, default=str))
    cols = [
        "instance",
        "cols",
        "rows",
        "integers",
        "candidates",
        "matrix_s",
        "direct_handoff_s",
        "pyomo_build_s",
        "pyomo_handoff_s",
        "pyomo_over_direct",
        "build_s",
        "solve_s",
        "wall_s",
        "status",
        "objective",
        "bound",
        "gap",
        "greedy_objective",
        "build_over_solve",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append(f"{v:.4g}" if isinstance(v, float | np.floating) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    (OUT / "milp.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
