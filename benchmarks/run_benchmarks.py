"""Run the benchmark suites of issue #5 and regenerate docs/benchmarks.md (one command).

    python benchmarks/run_benchmarks.py                       # real, solvers, scaling + docs
    python benchmarks/run_benchmarks.py --suite real --seed 0 # one suite, one seed
    python benchmarks/run_benchmarks.py --docs-only           # redo the doc from saved results

Each suite writes into ``--out/<suite>/`` (default ``benchmarks/results/``, git-ignored): the tidy
table ``bench.csv``/``bench.parquet``, ``report.md``, ``plots/`` and the HiGHS ``logs/``. Then
the generated blocks of ``docs/benchmarks.md`` and its images are rewritten from those folders.
The library does the work (:mod:`benchmarks.harness`); this script only parses arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import run_suite  # noqa: E402
from benchmarks.harness.docs import write_docs  # noqa: E402

DOC_SUITES = ("real", "solvers", "scaling")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--suite", action="append", choices=["quick", *DOC_SUITES], default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--data-dir", "--data", type=Path, default=None)
    ap.add_argument("--seed", type=int, action="append", default=None)
    ap.add_argument("--time-limit", type=float, default=None, help="MILP s (default per suite)")
    ap.add_argument("--method", action="append", default=None)
    ap.add_argument("--solver", action="append", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--docs-only", action="store_true", help="only regenerate the doc")
    args = ap.parse_args(argv)

    failed = 0
    if not args.docs_only:
        for name in args.suite or DOC_SUITES:
            t0 = time.perf_counter()

            def progress(done: int, total: int, text: str, name: str = name) -> None:
                print(f"[{name} {done + 1}/{total}] {text}", flush=True)

            result = run_suite(
                name,
                out=args.out / name,
                data_dir=args.data_dir,
                methods=args.method,
                solvers=args.solver,
                seeds=args.seed,
                time_limit=args.time_limit,
                threads=args.threads,
                progress=progress,
            )
            if result.skipped:
                print(f"{name}: skipped: {result.skipped}")
                continue
            bad = result.invalid_lines()
            failed += len(bad)
            for line in bad:
                print(f"INVALID {line}")
            print(
                f"{name}: {len(result.table)} plans in {time.perf_counter() - t0:.0f} s, "
                f"{len(bad)} invalid -> {result.files['report']}",
                flush=True,
            )
    if not args.no_docs:
        print(f"wrote {write_docs(args.out, args.doc, DOC_SUITES)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
