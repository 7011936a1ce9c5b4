"""Benchmarks: solvers, heuristics and baselines compared on real traces and scaling families.

``run_suite(name, out=...)`` (also ``greenopt bench --suite NAME`` and
``python benchmarks/run_benchmarks.py``) plans every instance of a suite with every method,
validates every plan, and writes a tidy results table (CSV, Parquet), a Markdown report and
plots. Modules, one concern each:

* :mod:`~greenopt.bench.suites` — the suites (``quick``, ``real``, ``scaling``, ``solvers``);
* :mod:`~greenopt.bench.runner` — one run: plan, validate, KPIs, timing, peak memory;
* :mod:`~greenopt.bench.memory` — peak resident memory of a run (psutil sampler);
* :mod:`~greenopt.bench.highs_log` — HiGHS's branch-and-bound log → gap against time;
* :mod:`~greenopt.bench.plots`, :mod:`~greenopt.bench.report` — plots and Markdown;
* :mod:`~greenopt.bench.harness` — :func:`run_suite` and the output folder;
* :mod:`~greenopt.bench.docs` — regenerates ``docs/benchmarks.md`` from suite results.
"""

from __future__ import annotations

from greenopt.bench.harness import SuiteResult, run_suite
from greenopt.bench.highs_log import parse_highs_log, time_to_gap
from greenopt.bench.runner import COLUMNS
from greenopt.bench.suites import ALL_METHODS, SUITES, SuiteSkipped

__all__ = [
    "ALL_METHODS",
    "COLUMNS",
    "SUITES",
    "SuiteResult",
    "SuiteSkipped",
    "parse_highs_log",
    "run_suite",
    "time_to_gap",
]
