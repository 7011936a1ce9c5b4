"""Scale of input: a 10,000-job scenario loads from scenario files and validates.

The timing and memory figures are measured by ``benchmarks/bench_scale.py`` (a script, so the
test suite never depends on the machine's speed); this test shows the path works at that size.
"""

from __future__ import annotations

import numpy as np

import greenopt
from greenopt.examples.synthetic import synthetic_scenario


def test_ten_thousand_jobs_load_from_files_and_validate(tmp_path):
    original = synthetic_scenario(jobs=10_000, sites=8, slots=96, seed=0, residency=0.2)
    path = greenopt.save_scenario(original, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"scenario.yaml", "jobs.csv", "sites.csv"}

    loaded = greenopt.load_scenario(path)  # every rule of MODEL.md §1–4 is checked here

    assert len(loaded.jobs) == 10_000
    assert loaded == original
    idx = loaded.index
    assert idx.allowed.shape == (10_000, 8)
    assert np.all(idx.end_slot > idx.first_slot)
    assert loaded.network.disruption_h.shape == (10_000, 8, 8)
    issues = greenopt.check_scenario(loaded)
    assert all(i.level == "warning" and i.culprit for i in issues)
