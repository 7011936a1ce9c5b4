"""Shared test fixtures.

``data_dir``: the real public data folder (``$GREENOPT_DATA``, else ``<repo>/../shared/data``);
tests that use it are skipped with a reason when it is absent, as in a user's fresh checkout.

Hypothesis runs the same examples on every run (profile ``repeatable``: derandomised, no example
database), so the suite passes or fails alike wherever it runs and a failure is reproduced by
running it again. ``GREENOPT_HYPOTHESIS=explore pytest -n 2`` draws fresh examples on each run
to look for new failures; a failure found that way becomes an explicit ``@example``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from greenopt.io.data import ENV_VAR
from greenopt.io.data import data_dir as find_data_dir

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile(os.environ.get("GREENOPT_HYPOTHESIS", "repeatable"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data folder; skips the test (with the places looked at) when it is absent."""
    found = find_data_dir()
    if found is None:
        pytest.skip(f"real data folder absent (set {ENV_VAR} or place it at <repo>/../shared/data)")
    return found


@pytest.fixture(scope="session")
def data_file(data_dir: Path):
    """``data_file("carbon/x.csv")``: that file of the data folder, skipping when it is missing."""

    def find(relative: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            pytest.skip(f"real data file {relative} absent from {data_dir}")
        return path

    return find
