"""greenopt's benchmarks (not shipped with the package): the suite harness
(:mod:`benchmarks.harness`) and the stand-alone scripts ``bench_*.py``."""
