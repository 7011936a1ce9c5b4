"""Greedy against the MILP per instance, side by side (issue 15, acceptance 2).

Run ``python benchmarks/bench_greedy_gap.py [--milp-time-limit 60] [--days 2022-06-21 ...]``.
For each instance (100×5×24, 500×10×48, 2000×20×96 and the real-trace days when the data folder
is there) it prints the objective (carbon, soft deadlines) of:

* ``before`` — the one-pass greedy as it was before issue 15: domain on, no passes, no ejection
  moves, no route row, no re-timing;
* ``plain``  — the greedy's own effort by the day's size, without the LP guidance
  (``guide=False``): up to 1000 jobs two re-placement passes with the route row, ejection moves
  within ``1000 − jobs`` placements and LP re-timing, no feasibility domain; above, the one-pass
  greedy;
* ``guided`` — ``plan(method="greedy")`` as it is by default: up to 1000 jobs the best of the
  plain plan and the LP-guided runs (:mod:`greenopt.heuristics.guided`); above, the plain one;
* ``best``   — the quality settings without guidance: 4 re-placement passes, moves outside the
  feasibility domain allowed, the multi-site route row, the default ejection budget and
  re-timing;
* ``milp``   — the MILP (HiGHS, ``--milp-time-limit``), with its gap;

each as % above the MILP, and the greedy wall time (median of 5) at 2000×20×96. The machine's
load average is printed with the numbers: timings on a shared machine are noisy.
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
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.greedy import GreedySettings, greedy_assignments

RESULTS = Path(__file__).resolve().parent / "results"
BEFORE = {"eject": 0, "domain": True, "passes": 0, "route": False, "retime": False}
VARIANTS = {
    "before": {**BEFORE, "guide": False},
    "plain": {"guide": False},
    "guided": {},
    "best": {"passes": 4, "domain": False, "route": True, "guide": False},
}


def instances(days: list[str]) -> list[tuple[str, callable]]:
    out = [
        (f"{j}x{s}x{t}", lambda j=j, s=s, t=t: synthetic_scenario(j, s, t, 0))
        for j, s, t in ((100, 5, 24), (500, 10, 48), (2000, 20, 96))
    ]
    from greenopt.io.data import data_dir

    data = data_dir(None)
    if data is not None:
        from greenopt.io import build_real_scenario

        for d in days:
            out.append((f"real-{d}-s0", lambda d=d: build_real_scenario(data, d, 6, 300, seed=0)))
    return out


def wall_2000(repeats: int = 5) -> pd.DataFrame:
    sc = synthetic_scenario(2000, 20, 96, seed=1)
    _ = sc.network, sc.index
    rows = []
    for name, kw in (("before", BEFORE), ("plain", {})):
        cfg = GreedySettings(**kw)
        for r in range(repeats):
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            greedy_assignments(sc, "carbon", cfg)
            rows.append(
                {"variant": name, "run": r, "wall_s": time.perf_counter() - t0, "load1": load}
            )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--milp-time-limit", type=float, default=60.0)
    ap.add_argument(
        "--days", nargs="*", default=["2022-06-21", "2023-01-15", "2023-04-02", "2023-09-10"]
    )
    ap.add_argument("--skip", nargs="*", default=[], help="instance names to leave out")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 200)
    wall = wall_2000()
    wall.to_csv(RESULTS / "bench_greedy_wall.csv", index=False)
    print("== greedy wall at 2000 x 20 x 96 (seed 1), 5 runs each ==")
    print(wall.groupby("variant")[["wall_s", "load1"]].agg(["median", "min", "max"]).round(3))
    rows = []
    for name, build in instances(args.days):
        if name in args.skip:
            continue
        sc = build()
        _ = sc.network, sc.index
        row: dict = {"instance": name}
        for v, kw in VARIANTS.items():
            t0 = time.perf_counter()
            p = greenopt.plan(sc, method="greedy", objective="carbon", **kw)
            row[v] = p.objective
            row[f"{v}_s"] = time.perf_counter() - t0
            row[f"{v}_valid"] = not greenopt.validate(sc, p)
        m = greenopt.plan(sc, method="milp", objective="carbon", time_limit=args.milp_time_limit)
        row.update(milp=m.objective, milp_gap=m.gap, milp_status=m.status, milp_s=m.wall_s)
        for v in VARIANTS:
            row[f"{v}_pct"] = 100 * (row[v] - m.objective) / max(abs(m.objective), 1e-9)
        row["load1"] = os.getloadavg()[0]
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(RESULTS / "bench_greedy_gap.csv", index=False)
    cols = ["instance", "milp", "milp_gap", *VARIANTS, *[f"{v}_pct" for v in VARIANTS]]
    cols += [f"{v}_s" for v in VARIANTS] + ["load1"]
    print("\n== greedy vs MILP, % above the MILP (target <= 5 %) ==")
    print(table[cols].round(3).to_string(index=False))
    print("valid:", bool(np.all(table[[f"{v}_valid" for v in VARIANTS]].to_numpy())))


if __name__ == "__main__":
    main()
