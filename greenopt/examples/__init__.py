"""Embedded example scenarios, built by the package itself (no network).

``load("small")``: 3 sites, 20 jobs, 24 hourly slots — for tests and docs.
``load("realistic")``: a realistic day across continents (see :mod:`greenopt.examples.realistic`).

Their PV and wind profiles were computed with pvlib and windpowerlib and ship with the package
(:mod:`greenopt.examples.profiles`), so the examples load on a base install; changing a setting
that changes a profile (another horizon, ``weather_seed``) needs ``pip install
'greenopt[examples]'``.
"""

from __future__ import annotations

import importlib

from greenopt.errors import ScenarioError
from greenopt.scenario import Scenario

#: name → "module:function" building the scenario
EXAMPLES: dict[str, str] = {
    "small": "greenopt.examples.small:build",
    "realistic": "greenopt.examples.realistic:build",
}


def names() -> list[str]:
    return list(EXAMPLES)


def load(name: str = "small", **kwargs) -> Scenario:
    """Build the embedded example ``name`` (deterministic; keyword arguments tune it)."""
    if name not in EXAMPLES:
        raise ScenarioError(f"example {name!r} is unknown; choose one of {names()}", name)
    module, func = EXAMPLES[name].split(":")
    return getattr(importlib.import_module(module), func)(**kwargs)
