"""Benchmark of the dwell rule (issue 12): what the rule costs the plans, and the MILP.

Every instance is planned twice in the same run — with the dwell rule (the scenario's
``migration_alpha``, 0.1 by default) and without it (``migration_alpha=None``) — by each method
asked for, one process, one HiGHS thread, carbon objective, soft deadlines (the ``real`` and
``scaling`` suites' settings). Every plan is validated against its own scenario, and the plans
made without the rule also against the scenario with it (how many of their stays would break
it). Per plan: carbon, the cut against run-now (same rule), grid kWh, misses, migrations,
migrations per job, short runs (MODEL.md §8) as a share of run rows, objective, gap, wall
seconds; the MILP also without its tidy step (``tidy=False``) where ``--no-tidy`` asks.

    python benchmarks/bench_dwell.py example --time-limit 60 --no-tidy
    python benchmarks/bench_dwell.py real --data-dir ../shared/data --time-limit 60
    python benchmarks/bench_dwell.py scaling --methods milp run-now --time-limit 30

Instances: ``example`` is the embedded realistic example; ``real`` the real-trace days of the
``real`` suite (:func:`greenopt.io.build_real_scenario`, 6 sites × 300 jobs, seeds 0 and 1);
``scaling`` the synthetic families of the ``scaling`` suite (seed 0, or ``--seeds``). Writes
``benchmarks/results/dwell_<suite>.csv`` (git-ignored; ``--tag`` names another) and prints the
summary tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import greenopt
from greenopt.dwell import stays
from greenopt.evaluate import normalise_assignments

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = (
    "run-now",
    "threshold",
    "greenest-region",
    "follow-renewables",
    "online",
    "greedy",
    "milp",
)
REAL_DAYS = ("2022-06-21", "2023-01-15", "2023-04-02", "2023-09-10")
SCALING_SIZES = (
    (25, 3, 24),
    (50, 4, 24),
    (100, 5, 24),
    (250, 8, 48),
    (500, 10, 48),
    (1000, 15, 96),
    (2000, 20, 96),
)


def instances(suite: str, args: argparse.Namespace):
    """``(name, seed, build)`` per instance of the suite."""
    if suite == "example":
        yield "realistic", 0, lambda: greenopt.examples.load("realistic")
    elif suite == "real":
        from greenopt.io import build_real_scenario

        data = Path(args.data_dir)
        for day in args.days or REAL_DAYS:
            for seed in args.seeds:
                yield (
                    f"real-{day}-6s-300j",
                    seed,
                    lambda d=day, s=seed: build_real_scenario(
                        data, d, n_sites=6, n_jobs=300, seed=s, gbps=10.0
                    ),
                )
    elif suite == "scaling":
        from greenopt.examples.synthetic import synthetic_scenario

        for jobs, sites, slots in SCALING_SIZES:
            if args.max_jobs and jobs > args.max_jobs:
                continue
            for seed in args.seeds:
                yield (
                    f"syn-{jobs}x{sites}x{slots}",
                    seed,
                    lambda j=jobs, s=sites, t=slots, k=seed: synthetic_scenario(j, s, t, k),
                )
    else:
        raise SystemExit(f"unknown suite {suite!r}")


def run(sc, method: str, seed: int, args: argparse.Namespace, **params) -> dict:
    kw: dict = {"objective": "carbon", "seed": seed}
    if method == "milp":
        kw.update(time_limit=args.time_limit, mip_gap=0.01, threads=1, **params)
    t0 = time.perf_counter()
    p = greenopt.plan(sc, method, **kw)
    wall = time.perf_counter() - t0
    k = p.kpis
    rows = len(p.assignments)
    return {
        "valid": not greenopt.validate(sc, p),
        "carbon_kg": k["carbon_kg"],
        "grid_kwh": k["grid_kwh"],
        "misses": k["deadline_misses"],
        "unmet_h": k["unmet_work_h"],
        "migrations": k["migrations"],
        "migrations_per_job": k["migrations_per_job"],
        "short_runs": k["short_runs"],
        "run_rows": rows,
        "short_pct": 100.0 * k["short_runs"] / rows if rows else 0.0,
        "objective": p.objective,
        "bound": p.bound,
        "gap": p.gap,
        "status": p.status,
        "wall_s": wall,
        "notes": " | ".join(n for n in p.notes if n.startswith(("tidy", "fix-and", "branch"))),
        "_plan": p,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("suite", choices=("example", "real", "scaling"))
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--days", nargs="*")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--max-jobs", type=int, default=0)
    ap.add_argument("--no-tidy", action="store_true", help="also the MILP without its tidy step")
    ap.add_argument("--tag", default="", help="suffix of the results file")
    args = ap.parse_args()
    if args.suite == "example" or (args.suite == "scaling" and "--seeds" not in sys.argv):
        args.seeds = [0]
    out: list[dict] = []
    for name, seed, build in instances(args.suite, args):
        base = build()
        for alpha in (base.migration_alpha, None):
            sc = (
                base
                if alpha == base.migration_alpha
                else base.with_jobs(list(base.jobs), migration_alpha=alpha)
            )
            variants = [(m, {}) for m in args.methods]
            if args.no_tidy and "milp" in args.methods:
                variants.append(("milp", {"tidy": False}))
            for method, params in variants:
                r = run(sc, method, seed, args, **params)
                p = r.pop("_plan")
                if alpha is None:  # how many stays would break the rule at the default α
                    short = stays(base, normalise_assignments(base, p.assignments))["short"]
                    r["dwell_breaks_at_default"] = int(short.sum())
                label = method + ("/no-tidy" if params.get("tidy") is False else "")
                row = {"instance": name, "seed": seed, "alpha": alpha, "method": label, **r}
                out.append(row)
                print(
                    f"{name} s{seed} α={alpha} {label:18s} valid={r['valid']} "
                    f"carbon={r['carbon_kg']:.2f} misses={r['misses']} migs={r['migrations']} "
                    f"mpj={r['migrations_per_job']:.3f} short={r['short_runs']}/{r['run_rows']} "
                    f"({r['short_pct']:.2f} %) gap={r['gap']} wall={r['wall_s']:.1f}s "
                    f"{r['notes']}",
                    flush=True,
                )
    df = pd.DataFrame(out)
    ref = df[df["method"] == "run-now"].set_index(["instance", "seed", "alpha"])["carbon_kg"]
    if len(ref):
        key = list(zip(df["instance"], df["seed"], df["alpha"], strict=True))
        df["cut_vs_run_now"] = [
            1 - c / ref.get(k, float("nan")) for c, k in zip(df["carbon_kg"], key, strict=True)
        ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"dwell_{args.suite}{args.tag}.csv"
    df.to_csv(path, index=False)
    cols = ["carbon_kg", "migrations_per_job", "short_pct", "wall_s", "valid"]
    if "cut_vs_run_now" in df:
        cols.insert(1, "cut_vs_run_now")
    summary = df.assign(alpha=df["alpha"].astype(object).fillna("off")).groupby(
        ["method", "alpha"]
    )[cols]
    print(summary.mean(numeric_only=False).round(4).to_string())
    milp = df[df["method"].str.startswith("milp")]
    if len(milp):
        print(milp[["instance", "seed", "alpha", "method", "status", "gap", "wall_s"]].to_string())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
