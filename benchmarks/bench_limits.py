"""Limits hold (issue 11): an oversize scenario fails in seconds, a year of slots plots in bounded
time.

Run ``python benchmarks/bench_limits.py [--jobs 87600] [--slots 8760] [--sites 6]``.

1. **Oversize scenario.** Writes a scenario of ``--jobs`` jobs × ``--slots`` hourly slots as
   scenario files (a jobs table, a per-site time series), then runs the real ``greenopt plan``
   on it in a fresh process and prints the seconds until it exits, its exit code, its peak
   memory and the error line (which must name the sizes). Before the memory estimate of
   :mod:`greenopt.limits`, 87,600 × 8,760 passed 8 GB in 25 s with no message.
2. **Plots of a year.** Plans 2,000 jobs over 8,760 hourly slots with the greedy heuristic and
   times :func:`greenopt.report.plots.plot_all` (drawn aggregated, with notes), against the same
   plot in detail for a tenth of the horizon (the detailed energy plot grows with slots).

Timings are wall-clock on whatever else the machine runs: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_oversize(folder: Path, jobs: int, slots: int, sites: int) -> Path:
    """Scenario files for ``jobs`` one-hour jobs over ``slots`` hourly slots (written straight
    with pandas: building the Scenario itself is what greenopt must refuse)."""
    start = pd.Timestamp("2024-01-01T00:00:00Z")
    names = [f"site{i}" for i in range(sites)]
    pd.DataFrame({"name": names, "gpus": 64}).to_csv(folder / "sites.csv", index=False)
    times = pd.date_range(start, periods=slots, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame(
        {
            "time": np.tile(times, sites),
            "site": np.repeat(names, slots),
            "renewable_kw": 10.0,
            "carbon": 300.0,
        }
    ).to_csv(folder / "timeseries.csv", index=False)
    rel = np.arange(jobs) % (slots - 1)
    release = (start + pd.to_timedelta(rel, unit="h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    deadline = (start + pd.to_timedelta(slots, unit="h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame(
        {
            "name": [f"job{k}" for k in range(jobs)],
            "origin": [names[k % sites] for k in range(jobs)],
            "release": release,
            "deadline": deadline,
            "work_h": 1.0,
            "gpus": 1,
            "power_kw": 0.5,
        }
    ).to_csv(folder / "jobs.csv", index=False)
    wan = "\n".join(f"  - {{a: {a}, b: {b}, gbps: 10}}" for a, b in itertools.pairwise(names))
    yaml = (
        f"name: oversize\nhorizon: {{start: '{start.isoformat()}', slot_minutes: 60, "
        f"slots: {slots}}}\nsites: sites.csv\ntimeseries: timeseries.csv\njobs: jobs.csv\n"
        + (f"wan:\n{wan}\n" if sites > 1 else "")
    )
    (folder / "scenario.yaml").write_text(yaml)
    return folder / "scenario.yaml"


def oversize(jobs: int, slots: int, sites: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_oversize(folder, jobs, slots, sites)
        cli = Path(sys.executable).with_name("greenopt")
        cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "greenopt.cli"]
        t0 = time.perf_counter()
        r = subprocess.run(
            [*cmd, "plan", str(path), "--out", str(folder / "out")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        took = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"oversize {jobs:,} jobs x {slots:,} slots x {sites} sites: greenopt plan exited")
        print(f"  after {took:.1f} s with code {r.returncode}, peak memory {peak:.0f} MB")
        print(f"  {r.stderr.strip()[:600]}")


def year_plots() -> None:
    import greenopt
    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.report import plots

    for slots in (876, 8760):
        sc = synthetic_scenario(jobs=2000, sites=4, slots=slots, slot_minutes=60, seed=0)
        plan = greenopt.plan(sc, "greedy")
        with tempfile.TemporaryDirectory() as tmp:
            notes: list[str] = []
            t0 = time.perf_counter()
            drawn = plots.plot_all(sc, plan, tmp, notes=notes)
            took = time.perf_counter() - t0
        print(f"plots of 2,000 jobs x {slots:,} hourly slots: {took:.1f} s, drew {sorted(drawn)}")
        for n in notes:
            print(f"  note: {n}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=87_600)
    ap.add_argument("--slots", type=int, default=8_760)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    oversize(args.jobs, args.slots, args.sites)
    if not args.no_plots:
        year_plots()


if __name__ == "__main__":
    main()
