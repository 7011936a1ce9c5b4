"""``python -m benchmarks``: run a benchmark suite (see :mod:`benchmarks.harness.cli`)."""

from benchmarks.harness.cli import app

app()
