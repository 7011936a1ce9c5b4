"""Benchmark of the greedy, the online planner and the baselines (issue #4).

Run ``python benchmarks/bench_heuristics.py [--quick]``. Prints four tables and writes
``benchmarks/results/bench_heuristics_*.csv`` (git-ignored):

1. greedy speed on 2000 jobs × 20 sites × 96 slots (target ≤ 1 s);
2. online decision latency with 50 sites × 288 slots (target p99 ≤ 1 ms);
3. greedy objective against the MILP's on a set of small instances (target within 5 %);
4. on the realistic example: carbon, grid kWh, deadline misses and migrations of every method.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenopt
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.greedy import greedy_assignments
from greenopt.heuristics.online import simulate_online

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("greedy", "online", "run-now", "threshold", "greenest-region", "follow-renewables")


def bench_greedy_speed(repeats: int) -> pd.DataFrame:
    sc = synthetic_scenario(2000, 20, 96, seed=1)
    _ = sc.network, sc.index  # routes and arrays are built once per scenario, not per plan
    rows = []
    for r in range(repeats):
        t0 = time.perf_counter()
        a = greedy_assignments(sc, "carbon")
        t_greedy = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = greenopt.evaluate(sc, a, method="greedy")
        t_eval = time.perf_counter() - t0
        rows.append(
            {
                "run": r,
                "jobs": 2000,
                "sites": 20,
                "slots": 96,
                "greedy_s": t_greedy,
                "evaluate_s": t_eval,
                "misses": plan.kpis["deadline_misses"],
                "valid": not greenopt.validate(sc, plan) if r == 0 else None,
            }
        )
    return pd.DataFrame(rows)


def bench_online_latency(jobs: int, runs: int = 5) -> pd.DataFrame:
    """One row per run: an arrival's decision latency, wall and CPU (thread) time.

    The spread over runs shows the machine's noise: wall time includes waiting for a core.
    ``benchmarks/bench_online.py`` has the per-slot re-plan and the plan quality.
    """
    sc = synthetic_scenario(jobs, 50, 288, seed=3)
    _ = sc.network, sc.index
    rows = []
    for r in range(runs):
        plan = simulate_online(sc)
        note = next(n for n in plan.notes if "p99" in n)
        wall = dict(re.findall(r"(p50|p99|max)=([0-9.]+) ms", note.split("(cpu")[0]))
        cpu = dict(re.findall(r"(p50|p99)=([0-9.]+) ms", note.split("(cpu")[1]))
        rows.append(
            {
                "run": r,
                "jobs": jobs,
                "sites": 50,
                "slots": 288,
                "p50_ms": float(wall["p50"]),
                "p99_ms": float(wall["p99"]),
                "max_ms": float(wall["max"]),
                "cpu_p50_ms": float(cpu["p50"]),
                "cpu_p99_ms": float(cpu["p99"]),
                "misses": plan.kpis["deadline_misses"],
                "valid": not greenopt.validate(sc, plan) if r == 0 else None,
            }
        )
    return pd.DataFrame(rows)


def milp_set(quick: bool) -> list[tuple[str, greenopt.Scenario]]:
    out = [("small", greenopt.examples.load("small"))]
    seeds = range(2) if quick else range(5)
    for s in seeds:
        out.append((f"synthetic-30j-4s-24t-{s}", synthetic_scenario(30, 4, 24, seed=s)))
    if not quick:  # the smallest MILP benchmark family (benchmarks/bench_milp.py)
        out.append(("100x5x24", synthetic_scenario(100, 5, 24, seed=0)))
    return out


def bench_vs_milp(quick: bool, time_limit: float) -> pd.DataFrame:
    rows = []
    for name, sc in milp_set(quick):
        g = greenopt.plan(sc, method="greedy")
        g2 = greenopt.plan(sc, method="greedy", passes=2)
        g3 = greenopt.plan(sc, method="greedy", passes=2, retime=True)
        try:
            m = greenopt.plan(sc, method="milp", time_limit=time_limit, mip_gap=1e-4)
        except greenopt.GreenoptError as exc:  # report, don't crash
            rows.append(
                {"instance": name, "greedy": g.objective, "milp": np.nan, "note": repr(exc)}
            )
            continue

        def over(p: greenopt.Plan, best: float = m.objective) -> float:
            return 100 * (p.objective - best) / max(abs(best), 1e-9)

        rows.append(
            {
                "instance": name,
                "greedy": g.objective,
                "greedy_2_passes": g2.objective,
                "greedy_2_passes_retime": g3.objective,
                "milp": m.objective,
                "milp_status": m.status,
                "milp_gap": m.gap,
                "greedy_over_milp_pct": over(g),
                "greedy2_over_milp_pct": over(g2),
                "greedy2_retime_over_milp_pct": over(g3),
                "greedy_s": g.wall_s,
                "greedy2_s": g2.wall_s,
                "greedy2_retime_s": g3.wall_s,
                "milp_s": m.wall_s,
            }
        )
    return pd.DataFrame(rows)


def bench_realistic(with_milp: bool, time_limit: float) -> pd.DataFrame:
    try:
        sc = greenopt.examples.load("realistic")
    except Exception as exc:
        print(f"realistic example unavailable: {exc!r}")
        return pd.DataFrame()
    rows = []
    methods = (*METHODS, "milp") if with_milp else METHODS
    for method in methods:
        kw = {"time_limit": time_limit} if method == "milp" else {}
        p = greenopt.plan(sc, method=method, **kw)
        rows.append(
            {
                "method": method,
                "carbon_kg": p.kpis["carbon_kg"],
                "grid_kwh": p.kpis["grid_kwh"],
                "renewable_share": p.kpis["renewable_share"],
                "deadline_misses": p.kpis["deadline_misses"],
                "migrations": p.kpis["migrations"],
                "mean_delay_h": p.kpis["mean_delay_h"],
                "objective": p.objective,
                "wall_s": p.wall_s,
                "valid": not greenopt.validate(sc, p),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and instances")
    ap.add_argument("--milp-time-limit", type=float, default=60.0)
    ap.add_argument("--no-milp", action="store_true")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)

    speed = bench_greedy_speed(2 if args.quick else 5)
    speed.to_csv(RESULTS / "bench_heuristics_greedy_speed.csv", index=False)
    print("\n== greedy, 2000 jobs × 20 sites × 96 slots (target ≤ 1 s) ==")
    print(speed.to_string(index=False))
    print(
        f"median greedy {speed['greedy_s'].median():.3f} s, evaluate "
        f"{speed['evaluate_s'].median():.3f} s"
    )

    online = bench_online_latency(300 if args.quick else 1000, 2 if args.quick else 5)
    online.to_csv(RESULTS / "bench_heuristics_online_latency.csv", index=False)
    print("\n== online decisions, 50 sites × 288 slots (target p99 ≤ 1 ms) ==")
    print(online.to_string(index=False))
    for col in ("p99_ms", "cpu_p99_ms"):
        v = online[col]
        print(f"{col}: min {v.min():.3f} median {v.median():.3f} max {v.max():.3f} ms")

    if not args.no_milp:
        gap = bench_vs_milp(args.quick, args.milp_time_limit)
        gap.to_csv(RESULTS / "bench_heuristics_vs_milp.csv", index=False)
        print("\n== greedy vs MILP objective (target within 5 %) ==")
        print(gap.to_string(index=False))
        for col, label in (
            ("greedy_over_milp_pct", "greedy"),
            ("greedy2_over_milp_pct", "greedy, 2 passes"),
            ("greedy2_retime_over_milp_pct", "greedy, 2 passes + LP re-timing"),
        ):
            if col in gap:
                v = gap[col].astype(float)
                print(f"{label}: mean {v.mean():.1f} %, max {v.max():.1f} % above the MILP")

    real = bench_realistic(not args.no_milp, args.milp_time_limit)
    if len(real):
        real.to_csv(RESULTS / "bench_heuristics_realistic.csv", index=False)
        print("\n== realistic example: every method side by side ==")
        print(real.to_string(index=False))
    print(f"\nCSV files in {RESULTS}")


if __name__ == "__main__":
    main()
