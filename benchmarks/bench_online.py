"""Benchmark of the online planner (issue #13: the planner that keeps its promise; #15: latency).

Run ``python benchmarks/bench_online.py [--part latency|replan|quality|ablation ...]
[--runs 5] [--time-limit 60] [--no-milp] [--data-dir ../shared/data]``. Writes
``benchmarks/results/bench_online_*.csv`` (git-ignored) and prints the tables:

* ``latency`` — one arrival's decision (``OnlinePlanner.submit``: admission and tentative plan)
  on the 50-site benchmark (1,000 jobs × 50 sites × 288 five-minute slots, the instance of
  ``bench_heuristics.py``), ``--runs`` times: p50/p99/max wall and CPU (thread) time per run and
  their spread. Wall time on a shared machine includes waiting for a core; CPU time does not.
* ``replan`` — the per-slot work (``commit_slot``: re-plan of queued work, resolution, commit) on
  each 300-job real-trace day (6 sites × 24 hourly slots, ``greenopt.io.build_real_scenario``).
* ``quality`` — the real-trace suite (days × seeds of ``benchmarks/harness/suites.py``'s ``real``),
  the realistic example and the 50-site instance: online vs run-now vs greedy vs the MILP with
  foresight (``--time-limit`` s): carbon cut vs run-now, the online cut as a share of the MILP's,
  deadline misses and those run-now meets, migrations. Every plan validated.
* ``ablation`` — the real-trace suite with the planner's parts off: no promise, no patience, no
  stability, ``mode="rebuild"``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenopt
from benchmarks.harness.suites import REAL_DAYS
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.online import OnlinePlanner, simulate_online

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = (0, 1)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1e3


def bench50() -> greenopt.Scenario:
    sc = synthetic_scenario(1000, 50, 288, seed=3)
    _ = sc.network, sc.index  # routes and arrays once per scenario, not per decision
    return sc


def real_days(data_dir: str | None) -> list[tuple[str, greenopt.Scenario]]:
    from greenopt.io import build_real_scenario
    from greenopt.io.data import require_data_dir

    folder = require_data_dir(data_dir)
    out = []
    for day in REAL_DAYS:
        for seed in SEEDS:
            sc = build_real_scenario(folder, day, n_sites=6, n_jobs=300, seed=seed)
            out.append((f"real-{day}-s{seed}", sc))
    return out


def _missed(plan: greenopt.Plan) -> set[str]:
    return set(plan.jobs.loc[~plan.jobs["done"], "job"])


def part_latency(runs: int) -> pd.DataFrame:
    sc = bench50()
    run_now = _missed(greenopt.plan(sc, method="run-now"))
    rows = []
    for r in range(runs):
        load = _load()
        t0 = time.perf_counter()
        planner = OnlinePlanner(sc)
        idx = sc.index
        order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h))
        arrive = np.minimum(idx.first_slot[order], idx.T)
        for k in range(idx.T + 1):
            for j in order[arrive == k].tolist():
                planner.submit(idx.job_names[j])
            if k < idx.T:
                planner.commit_slot()
        total = time.perf_counter() - t0
        plan = planner.plan()
        wall = [d.latency_s for d in planner.decisions.values()]
        cpu = [d.cpu_s for d in planner.decisions.values()]
        slot = [s.wall_s for s in planner.slot_reports]
        missed = _missed(plan)
        rows.append(
            {
                "run": r,
                "load_before": load,
                "p50_ms": _pct(wall, 50),
                "p99_ms": _pct(wall, 99),
                "max_ms": max(wall) * 1e3,
                "cpu_p50_ms": _pct(cpu, 50),
                "cpu_p99_ms": _pct(cpu, 99),
                "cpu_max_ms": max(cpu) * 1e3,
                "slot_p50_ms": _pct(slot, 50),
                "slot_max_ms": max(slot) * 1e3,
                "total_s": total,
                "misses": len(missed),
                "run_now_misses": len(run_now),
                "misses_run_now_meets": len(missed - run_now),
                "guaranteed_on_arrival": int(planner.admissible.sum()),
                "valid": not greenopt.validate(sc, plan),
            }
        )
        print(
            f"run {r}: p99 {rows[-1]['p99_ms']:.3f} ms, cpu p99 {rows[-1]['cpu_p99_ms']:.3f} ms "
            f"(load {load})",
            flush=True,
        )
    return pd.DataFrame(rows)


def part_replan(data_dir: str | None) -> pd.DataFrame:
    rows = []
    for name, sc in real_days(data_dir):
        if not name.endswith("s0"):
            continue
        idx = sc.index
        planner = OnlinePlanner(sc)
        order = np.lexsort((np.arange(len(idx.job_names)), idx.release_h))
        arrive = np.minimum(idx.first_slot[order], idx.T)
        for k in range(idx.T):
            for j in order[arrive == k].tolist():
                planner.submit(idx.job_names[j])
            planner.commit_slot()
        rep = planner.slot_reports
        wall = [s.wall_s for s in rep]
        cpu = [s.cpu_s for s in rep]
        rows.append(
            {
                "instance": name,
                "load": _load(),
                "slots": len(rep),
                "queued_max": max(s.queued for s in rep),
                "replanned_mean": float(np.mean([s.replanned for s in rep])),
                "slot_p50_ms": _pct(wall, 50),
                "slot_p99_ms": _pct(wall, 99),
                "slot_max_ms": max(wall) * 1e3,
                "cpu_p50_ms": _pct(cpu, 50),
                "cpu_max_ms": max(cpu) * 1e3,
                "forced": sum(s.forced for s in rep),
                "cancelled": sum(s.cancelled for s in rep),
            }
        )
    return pd.DataFrame(rows)


def _quality_rows(name: str, sc, time_limit: float | None, variants: dict) -> list[dict]:
    base = greenopt.plan(sc, method="run-now")
    plans = {"run-now": base, "greedy": greenopt.plan(sc, method="greedy")}
    for label, kw in variants.items():
        t0 = time.perf_counter()
        plans[label] = simulate_online(sc, **kw)
        plans[label].notes.append(f"wall {time.perf_counter() - t0:.2f} s")
    if time_limit is not None:
        plans["milp"] = greenopt.plan(
            sc, method="milp", time_limit=time_limit, mip_gap=0.01, threads=1
        )
    rn_carbon = base.kpis["carbon_kg"]
    rn_missed = _missed(base)
    milp_cut = 1 - plans["milp"].kpis["carbon_kg"] / rn_carbon if "milp" in plans else float("nan")
    rows = []
    for method, p in plans.items():
        cut = 1 - p.kpis["carbon_kg"] / rn_carbon
        rows.append(
            {
                "instance": name,
                "method": method,
                "carbon_kg": p.kpis["carbon_kg"],
                "cut_vs_run_now_pct": 100 * cut,
                "share_of_milp_cut_pct": 100 * cut / milp_cut if milp_cut > 0 else float("nan"),
                "misses": p.kpis["deadline_misses"],
                "misses_run_now_meets": len(_missed(p) - rn_missed),
                "migrations": p.kpis["migrations"],
                "milp_gap": p.gap if method == "milp" else None,
                "wall_s": p.wall_s,
                "valid": not greenopt.validate(sc, p),
            }
        )
    return rows


def part_quality(data_dir: str | None, time_limit: float | None) -> pd.DataFrame:
    rows = []
    variants = {"online": {}}
    for name, sc in real_days(data_dir):
        rows += _quality_rows(name, sc, time_limit, variants)
        print(pd.DataFrame(rows[-4:]).to_string(index=False), flush=True)
    rows += _quality_rows("realistic", greenopt.examples.load("realistic"), time_limit, variants)
    rows += _quality_rows("50-site", bench50(), None, variants)
    return pd.DataFrame(rows)


def part_ablation(data_dir: str | None) -> pd.DataFrame:
    variants = {
        "online": {},
        "no promise": {"promise": False},
        "no patience": {"patience": 0.0},
        "no stability": {"stability": 0.0},
        "rebuild": {"mode": "rebuild"},
    }
    rows = []
    for name, sc in real_days(data_dir):
        rows += _quality_rows(name, sc, None, variants)
    return pd.DataFrame(rows)


def summary(q: pd.DataFrame) -> pd.DataFrame:
    real = q[q["instance"].str.startswith("real-")]
    return real.groupby("method", sort=False).agg(
        cut_mean=("cut_vs_run_now_pct", "mean"),
        cut_min=("cut_vs_run_now_pct", "min"),
        cut_max=("cut_vs_run_now_pct", "max"),
        share_of_milp_mean=("share_of_milp_cut_pct", "mean"),
        share_of_milp_min=("share_of_milp_cut_pct", "min"),
        misses=("misses", "sum"),
        misses_run_now_meets=("misses_run_now_meets", "sum"),
        migrations_mean=("migrations", "mean"),
        wall_s_mean=("wall_s", "mean"),
        valid=("valid", "all"),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--part",
        action="append",
        choices=("latency", "replan", "quality", "ablation"),
        help="parts to run (repeat; default: all)",
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--no-milp", action="store_true")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    parts = args.part or ["latency", "replan", "quality", "ablation"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    print(f"load average at start: {_load()} (2 cores)")
    if "latency" in parts:
        print(
            "\n== one arrival's decision, 1,000 jobs × 50 sites × 288 slots (target p99 ≤ 1 ms) =="
        )
        lat = part_latency(args.runs)
        lat.to_csv(RESULTS / "bench_online_latency.csv", index=False)
        print(lat.to_string(index=False))
        for col in ("p99_ms", "cpu_p99_ms"):
            v = lat[col]
            print(
                f"{col} over {len(v)} runs: min {v.min():.3f} median {v.median():.3f} "
                f"max {v.max():.3f}"
            )
    if "replan" in parts:
        print("\n== per-slot re-plan of queued work, 300-job real-trace days ==")
        rep = part_replan(args.data_dir)
        rep.to_csv(RESULTS / "bench_online_replan.csv", index=False)
        print(rep.to_string(index=False))
    if "quality" in parts:
        print("\n== online vs run-now vs greedy vs MILP (foresight) ==")
        q = part_quality(args.data_dir, None if args.no_milp else args.time_limit)
        q.to_csv(RESULTS / "bench_online_quality.csv", index=False)
        print(q.to_string(index=False))
        print("\nreal-trace suite:")
        print(summary(q).to_string())
    if "ablation" in parts:
        print("\n== the planner's parts, real-trace suite ==")
        a = part_ablation(args.data_dir)
        a.to_csv(RESULTS / "bench_online_ablation.csv", index=False)
        print(summary(a).to_string())
    print(f"\nload average at end: {_load()}; CSV files in {RESULTS}")


if __name__ == "__main__":
    main()
