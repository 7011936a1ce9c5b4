"""Benchmarks: solvers, heuristics and baselines compared on real traces and scaling families.

``run_suite(name, out=...)`` (also ``python -m benchmarks --suite NAME`` and
``python benchmarks/run_benchmarks.py``) plans every instance of a suite with every method,
validates every plan, and writes a tidy results table (CSV, Parquet), a Markdown report and
plots. Modules, one concern each:

* :mod:`~benchmarks.harness.suites` — the suites (``quick``, ``real``, ``scaling``, ``solvers``);
* :mod:`~benchmarks.harness.runner` — one run: plan, validate, KPIs, timing, peak memory;
* :mod:`~benchmarks.harness.memory` — peak resident memory of a run (psutil sampler);
* :mod:`~benchmarks.harness.highs_log` — HiGHS's branch-and-bound log → gap against time;
* :mod:`~benchmarks.harness.plots`, :mod:`~benchmarks.harness.report` — plots and Markdown;
* :mod:`~benchmarks.harness.harness` — :func:`run_suite` and the output folder;
* :mod:`~benchmarks.harness.docs` — regenerates ``docs/benchmarks.md`` from suite results;
* :mod:`~benchmarks.harness.cli` — the command line, ``python -m benchmarks``.
"""

from __future__ import annotations

from benchmarks.harness.harness import SuiteResult, run_suite
from benchmarks.harness.highs_log import parse_highs_log, time_to_gap
from benchmarks.harness.runner import COLUMNS
from benchmarks.harness.suites import ALL_METHODS, SUITES, SuiteSkipped

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
