"""Fleet-scale search (issue #15, acceptance 1–3): objective, reported bound, gap and seconds of
``plan(method="milp")`` on the synthetic families and the real-trace days.

Run ``python benchmarks/bench_search.py [--instances 100x5x24,500x10x48,2000x20x96,real]
[--label main] [--workers N | --scheduler ADDRESS] [--threads 2] [--out FILE]`` from the tree
to measure (``PYTHONPATH`` picks it — the script does not add its own tree to the path: run
it once with the main checkout's and once with a branch's, one after the other, for a
before/after table in one sitting). Each row is printed as
a JSON line and appended to ``--out`` (default ``benchmarks/results/search.jsonl``, git-ignored).

Instances and limits (the issue's): ``100x5x24`` 60 s, ``500x10x48`` 60 s, ``2000x20x96``
300 s (synthetic, seed 0, as ``bench_milp``), and ``real``: the four days of the ``real`` suite
(6 sites × 300 jobs, seed 0, 10 Gbit/s links), 60 s each. Objective ``carbon``, soft deadlines,
``mip_gap`` 1 % (2 % at 2000 jobs). ``--workers``/``--scheduler``: fix-and-optimise's
sub-MILPs on a Dask cluster (branch only). ``--trace``: the plan's improvement history (seconds,
objective), to read off when a gap was first reached.

Timings are noisy on a shared machine: say the load (``uptime``) with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SYNTHETIC = {"100x5x24": (60.0, 0.01), "500x10x48": (60.0, 0.01), "2000x20x96": (300.0, 0.02)}
REAL_DAYS = ("2022-06-21", "2023-01-15", "2023-04-02", "2023-09-10")


def instances(names: list[str]):
    """``(name, scenario builder, time limit, gap)`` for each name."""
    for name in names:
        if name == "real":
            from greenopt.io import build_real_scenario
            from greenopt.io.data import data_dir

            data = data_dir(None)
            if data is None:
                print("real: skipped (no data folder)", file=sys.stderr)
                continue
            for day in REAL_DAYS:
                yield (
                    f"real-{day}",
                    lambda d=day, data=data: build_real_scenario(
                        data, d, n_sites=6, n_jobs=300, seed=0, gbps=10.0
                    ),
                    60.0,
                    0.01,
                )
        else:
            from greenopt.examples.synthetic import synthetic_scenario

            j, s, t = (int(v) for v in name.split("x"))
            limit, gap = SYNTHETIC.get(name, (60.0, 0.01))
            yield name, lambda j=j, s=s, t=t: synthetic_scenario(j, s, t, 0), limit, gap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default="100x5x24,500x10x48,2000x20x96,real")
    ap.add_argument("--label", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=None, help="override every limit")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "search.jsonl"))
    args = ap.parse_args()

    import greenopt

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    extra = {}
    if args.workers:
        extra["workers"] = args.workers
    if args.scheduler:
        extra["scheduler"] = args.scheduler
    for name, build, limit, gap in instances(args.instances.split(",")):
        sc = build()
        sc.index, sc.network  # noqa: B018 — scenario preprocessing is not the MILP's
        limit = args.time_limit or limit
        load = os.getloadavg()[0]
        t = time.perf_counter()
        p = greenopt.plan(
            sc,
            method="milp",
            objective="carbon",
            time_limit=limit,
            mip_gap=gap,
            threads=args.threads,
            **extra,
        )
        wall = time.perf_counter() - t
        row = {
            "label": args.label,
            "instance": name,
            "time_limit": limit,
            "objective": p.kpis["objective"],
            "bound": p.bound,
            "gap": p.gap,
            "status": str(p.status),
            "wall_s": round(wall, 1),
            "load_before": round(load, 1),
            "load_after": round(os.getloadavg()[0], 1),
            "valid": not greenopt.validate(sc, p),
            "notes": p.notes,
            **extra,
        }
        if args.trace:
            row["history"] = [(round(a, 2), b) for a, b in p.history]
        print(json.dumps(row, default=str), flush=True)
        with out.open("a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")


if __name__ == "__main__":
    main()
