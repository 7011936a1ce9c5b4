"""Scale of input (issue #7): a 10,000-job scenario loads and validates in ≤ 10 s.

Run ``python benchmarks/bench_scale.py [--jobs 10000] [--sites 8] [--slots 96]``.

It writes a synthetic scenario as scenario files (``scenario.yaml`` with ``sites.csv``,
``timeseries.csv``, ``jobs.csv`` and ``wan.graphml``) into a temporary folder, then loads them in
a fresh Python process — so the figures are the loader's own, not the generator's — and prints,
for each step, the seconds it took and the process's peak resident memory (RSS) after it:

* ``load``: ``greenopt.load_scenario`` — YAML and CSV parsing, resampling, every model and
  cross-object check of MODEL.md §1–4 (the scenario is valid once this returns);
* ``index + network``: the per-slot arrays and the WAN routes every planner uses;
* ``check_scenario``: the warnings of :func:`greenopt.check_scenario`.

``--profile`` prints the top of a cProfile of the load instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_S = 10.0


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    import resource

    import psutil

    current = psutil.Process().memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return current, peak


def write_files(folder: Path, jobs: int, sites: int, slots: int, seed: int) -> Path:
    from greenopt import save_scenario
    from greenopt.examples.synthetic import synthetic_scenario

    sc = synthetic_scenario(jobs=jobs, sites=sites, slots=slots, seed=seed, residency=0.2)
    return save_scenario(sc, folder)


def _line(step: str, seconds: float | None) -> None:
    took = "" if seconds is None else f"{seconds:6.2f} s"
    current, peak = _rss_mb()
    print(f"  {step:<44s}{took:>9s}   RSS {current:7.1f} MB, peak {peak:7.1f} MB")


def measure(path: Path) -> None:
    """Load, index and check ``path`` in this process; print one line per step."""
    import tracemalloc

    import greenopt

    _line("after imports", None)
    t0 = time.perf_counter()
    sc = greenopt.load_scenario(path)
    load_s = time.perf_counter() - t0
    _line(f"load ({len(sc.jobs)} jobs, {len(sc.sites)} sites, {sc.horizon.slots} slots)", load_s)
    t1 = time.perf_counter()
    _ = sc.index, sc.network
    index_s = time.perf_counter() - t1
    _line("index + network", index_s)
    t2 = time.perf_counter()
    issues = greenopt.check_scenario(sc)
    check_s = time.perf_counter() - t2
    _line(f"check_scenario ({len(issues)} warnings)", check_s)
    total = load_s + index_s + check_s
    verdict = "OK" if total <= TARGET_S else "TOO SLOW"
    print(f"  total {total:.2f} s (target ≤ {TARGET_S:g} s): {verdict}")
    # Python-level allocations of one more load (tracemalloc slows it, so it is not timed)
    del sc
    tracemalloc.start()
    sc = greenopt.load_scenario(path)
    _ = sc.index, sc.network
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  tracemalloc: the loaded scenario holds {held / 2**20:.1f} MB; "
        f"peak {peak / 2**20:.1f} MB while loading"
    )


def profile(path: Path) -> None:
    import cProfile
    import pstats

    import greenopt

    with tempfile.NamedTemporaryFile(suffix=".prof") as out:
        cProfile.runctx(
            "greenopt.load_scenario(path)", {"greenopt": greenopt}, {"path": path}, out.name
        )
        pstats.Stats(out.name).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=8)
    ap.add_argument("--slots", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", action="store_true", help="cProfile the load instead")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.measure is not None:
        (profile if args.profile else measure)(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="greenopt-scale-") as tmp:
        t0 = time.perf_counter()
        path = write_files(Path(tmp), args.jobs, args.sites, args.slots, args.seed)
        size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
        print(
            f"wrote {args.jobs} jobs × {args.sites} sites × {args.slots} slots as scenario files "
            f"({size:.1f} MB) in {time.perf_counter() - t0:.1f} s; loading in a fresh process:"
        )
        child = [sys.executable, __file__, "--measure", str(path)]
        if args.profile:
            child.append("--profile")
        subprocess.run(child, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})


if __name__ == "__main__":
    main()
