"""Where the real public data lives (``../shared/data`` beside a checkout, or ``GREENOPT_DATA``).

The data is never shipped with the package: benchmarks and realistic tests read it from a folder
given explicitly, else from the environment variable ``GREENOPT_DATA``, else from
``../shared/data`` relative to the repository root (or to the current directory). A fresh
checkout has none of these, so callers must cope with ``None`` (tests skip with a reason).
"""

from __future__ import annotations

import os
from pathlib import Path

from greenopt.errors import ScenarioError

ENV_VAR = "GREENOPT_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def _candidates(path: str | os.PathLike[str] | None) -> list[Path]:
    if path is not None:
        return [Path(path)]
    env = os.environ.get(ENV_VAR)
    if env:
        return [Path(env)]
    return [_REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]


def data_dir(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The real-data folder, or ``None`` when it is absent.

    Order: the explicit ``path``; else ``$GREENOPT_DATA``; else ``<repo>/../shared/data``, then
    ``<cwd>/../shared/data``. An explicit path or environment variable that names no folder gives
    ``None`` (it is not silently replaced by the default location).
    """
    for cand in _candidates(path):
        if cand.is_dir():
            return cand.resolve()
    return None


def require_data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Like :func:`data_dir`, but raise :class:`ScenarioError` saying where it looked."""
    found = data_dir(path)
    if found is None:
        looked = ", ".join(repr(str(c)) for c in _candidates(path))
        raise ScenarioError(
            f"real-data folder not found (looked at {looked}); pass its location explicitly "
            f"(e.g. --data ../shared/data) or set {ENV_VAR}",
            "data_dir",
        )
    return found
