"""Benchmark suites: every planning method on a set of instances, each plan validated.

:func:`run_suite` is the entry point ``greenopt bench`` calls; suites are registered in
:data:`SUITES` as functions returning ``[(instance name, Scenario), ...]`` (the benchmark harness
adds suites built from real traces here). The first suite, ``quick``, is the embedded ``small``
example: it checks that every available method produces a plan that obeys MODEL.md.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from greenopt.errors import GreenoptError, ScenarioError
from greenopt.scenario import Scenario

Suite = Callable[..., list[tuple[str, Scenario]]]


def _quick(data_dir: Path | None = None) -> list[tuple[str, Scenario]]:
    from greenopt import examples

    return [("small", examples.load("small"))]


#: suite name → builder ``(data_dir) -> [(instance, scenario), ...]``
SUITES: dict[str, Suite] = {"quick": _quick}

COLUMNS = [
    "instance",
    "method",
    "status",
    "valid",
    "violations",
    "objective",
    "carbon_kg",
    "grid_kwh",
    "renewable_share",
    "deadline_misses",
    "migrations",
    "gap",
    "wall_s",
    "error",
]


def available_methods() -> list[str]:
    """Methods of :data:`greenopt.plan.METHODS` whose module is importable here."""
    from greenopt.plan import METHODS

    out = []
    for name, target in METHODS.items():
        module = target.split(":")[0]
        try:
            if importlib.util.find_spec(module) is not None:
                out.append(name)
        except ModuleNotFoundError:
            continue
    return out


def run_suite(
    name: str = "quick",
    out: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    methods: Sequence[str] | None = None,
    objective: str = "carbon",
    time_limit: float = 30.0,
) -> pd.DataFrame:
    """Plan every instance of suite ``name`` with every method (default: all available), validate
    each plan, and return one row per (instance, method); ``valid`` is False when the plan breaks
    a rule or the method failed (``error`` says why). With ``out``, writes ``out/bench.csv``.
    """
    import greenopt

    if name not in SUITES:
        raise ScenarioError(f"suite {name!r} is unknown; choose one of {list(SUITES)}", name)
    instances = SUITES[name](Path(data_dir) if data_dir is not None else None)
    chosen = list(methods) if methods else available_methods()
    from greenopt.plan import METHODS

    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise ScenarioError(f"unknown method(s) {unknown}; choose from {list(METHODS)}", unknown[0])
    rows: list[dict[str, Any]] = []
    for inst, sc in instances:
        for m in chosen:
            kwargs: dict[str, Any] = {"objective": objective}
            if m == "milp":
                kwargs["time_limit"] = time_limit
            t0 = time.perf_counter()
            try:
                p = greenopt.plan(sc, m, **kwargs)
                violations = greenopt.validate(sc, p)
            except (GreenoptError, ImportError) as exc:
                rows.append(
                    {
                        "instance": inst,
                        "method": m,
                        "status": "error",
                        "valid": False,
                        "wall_s": time.perf_counter() - t0,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
                continue
            k = p.kpis
            rows.append(
                {
                    "instance": inst,
                    "method": m,
                    "status": p.status,
                    "valid": not violations,
                    "violations": len(violations),
                    "objective": p.objective,
                    "carbon_kg": k["carbon_kg"],
                    "grid_kwh": k["grid_kwh"],
                    "renewable_share": k["renewable_share"],
                    "deadline_misses": k["deadline_misses"],
                    "migrations": k["migrations"],
                    "gap": p.gap,
                    "wall_s": p.wall_s,
                    "error": str(violations[0]) if violations else None,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "bench.csv", index=False)
    return table
