"""MILP benchmark (issue #3): build, hand-off, solve, gap and bound per instance family.

For each instance, in one run, ``greenopt.plan(method="milp")`` end to end, with the time split
the plan records (``plan.timings``):

* ``matrix_s``  — index sets and every constraint family as numpy arrays;
* ``pyomo_s``   — the labelled Pyomo model built from those arrays (``greenopt.build_model``'s);
* ``compile_s`` — its hand-off to highspy in standard form (``compile_model``: what nobody
  changed from the arrays, anything else through Pyomo's standard-form compiler);
* ``direct_passmodel_s`` / ``pyomo_passmodel_s`` — highspy's ``passModel`` of the arrays straight
  from numpy and of the compiled model (measured on the same model, in the same run);
* ``direct_s = matrix_s + direct_passmodel_s`` — a direct highspy build of the same matrix;
  ``pyomo_over_direct`` — (matrix + Pyomo + compile + passModel) / direct;
* ``build_s`` (everything before the search) over ``solve_s`` — target ≤ 0.5;

and the plan's status, objective, bound, gap, wall seconds, the greedy start's objective.
Targets (2 cores): 500×10×48 within 1 % in ≤ 60 s; 2000×20×96 within 2 % in ≤ 300 s.

The plan is made with ``handoff="pyomo"`` (``--handoff``), so that it goes through the labelled
Pyomo model as a caller who extends it would; ``plan()``'s default (``auto``) hands the arrays
over directly when nobody extends the model (then ``pyomo_s`` is absent and ``compile_s`` is the
arrays' assembly).

Run ``python benchmarks/bench_milp.py [--quick] [--only NAME] [--threads 2] [--handoff pyomo]
[--migration-alpha none]``;
writes
``benchmarks/results/milp.json`` and ``milp.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import greenopt
from greenopt.examples.synthetic import synthetic_scenario

FAMILIES = [
    # name, jobs, sites, slots, time limit (s), target gap
    ("100x5x24", 100, 5, 24, 60, 0.01),
    ("500x10x48", 500, 10, 48, 60, 0.01),
    ("2000x20x96", 2000, 20, 96, 300, 0.02),
]
OUT = Path(__file__).parent / "results"


def measure(
    name: str, sc: greenopt.Scenario, limit: float, gap: float, threads: int, handoff: str
) -> dict:
    sc.index, sc.network  # noqa: B018 — scenario preprocessing is not the MILP's
    t = time.perf_counter()
    greedy = greenopt.plan(sc, method="greedy", passes=2)
    greedy_s = time.perf_counter() - t
    p = greenopt.plan(
        sc,
        method="milp",
        objective="carbon",
        time_limit=limit,
        mip_gap=gap,
        threads=threads,
        measure_direct=True,
        handoff=handoff,
    )
    tm = p.timings
    direct = tm["matrix_s"] + tm["direct_passmodel_s"]
    pyomo = tm["matrix_s"] + tm.get("pyomo_s", 0) + tm.get("compile_s", 0)
    pyomo += tm["pyomo_passmodel_s"]
    return {
        "instance": name,
        "handoff": handoff,
        "migration_alpha": sc.migration_alpha,
        "jobs": len(sc.jobs),
        "sites": len(sc.sites),
        "slots": sc.horizon.slots,
        "binaries": int(tm["binaries"]),
        "columns": int(tm["columns"]),
        **{k: tm[k] for k in ("matrix_s", "pyomo_s", "compile_s") if k in tm},
        "direct_s": direct,
        "pyomo_over_direct": pyomo / max(direct, 1e-9),
        "build_s": p.build_s,
        "solve_s": p.solve_s,
        "build_over_solve": p.build_s / max(p.solve_s, 1e-9),
        "wall_s": p.wall_s,
        "status": p.status,
        "objective": p.kpis["objective"],
        "bound": p.bound,
        "gap": p.gap,
        "target_gap": gap,
        "time_limit": limit,
        "met_gap": p.gap is not None and p.gap <= gap,
        "met_time": p.wall_s <= limit * 1.02,
        "greedy_objective": greedy.kpis["objective"],
        "greedy_s": greedy_s,
        "deadline_misses": p.kpis["deadline_misses"],
        "migrations": p.kpis["migrations"],
        "valid": not greenopt.validate(sc, p),
        "notes": p.notes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smallest family + realistic only")
    ap.add_argument("--only", default=None, help="one family name, or 'realistic'")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--handoff", default="pyomo", choices=("pyomo", "auto", "direct"))
    ap.add_argument(
        "--migration-alpha",
        default=None,
        help="override the scenarios' dwell-rule alpha ('none': the rule off), for a "
        "before/after-the-rule table",
    )
    args = ap.parse_args()

    def dwell(sc: greenopt.Scenario) -> greenopt.Scenario:
        if args.migration_alpha is None:
            return sc
        text = args.migration_alpha.lower()
        alpha = None if text in ("none", "null", "off") else float(text)
        return sc.with_jobs(list(sc.jobs), migration_alpha=alpha)

    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    families = FAMILIES[:1] if args.quick else FAMILIES
    for name, J, S, T, limit, gap in families:
        if args.only and args.only != name:
            continue
        sc = dwell(synthetic_scenario(jobs=J, sites=S, slots=T, seed=0))
        rows.append(measure(name, sc, limit, gap, args.threads, args.handoff))
        print(json.dumps(rows[-1], default=str), flush=True)
    if not args.only or args.only == "realistic":
        sc = dwell(greenopt.examples.load("realistic"))
        rows.append(measure("realistic", sc, 120, 0.01, args.threads, args.handoff))
        print(json.dumps(rows[-1], default=str), flush=True)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    (OUT / "milp.json").write_text(json.dumps(meta, indent=2, default=str))
    cols = [
        "instance",
        "binaries",
        "matrix_s",
        "pyomo_s",
        "compile_s",
        "direct_s",
        "pyomo_over_direct",
        "build_s",
        "solve_s",
        "build_over_solve",
        "wall_s",
        "status",
        "objective",
        "bound",
        "gap",
        "greedy_objective",
        "valid",
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
