"""The :class:`Plan` result type shared by every planning method."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from greenopt.io.spreadsheet import write_csv

if TYPE_CHECKING:
    from greenopt.objectives import Objective

#: Plan statuses. ``optimal``/``feasible``: a solver's answer (feasible = stopped at the gap);
#: ``time_limit``: best plan found when time ran out; ``fallback``: the solver found nothing and
#: the greedy plan was returned instead; ``heuristic``: produced by a heuristic or baseline.
STATUSES = ("optimal", "feasible", "time_limit", "fallback", "heuristic", "interrupted")

TABLES = ("assignments", "migrations", "energy", "jobs")


@dataclass
class Plan:
    """A plan and everything derived from it (MODEL.md §5, §6, §8).

    Tables (pandas DataFrames, one row per fact):

    * ``assignments``: ``job, slot, site, share``
    * ``migrations``: ``job, slot, src, dst, gb, disruption_h``
    * ``energy``: ``site, slot, facility_kwh, renewable_kwh, grid_kwh, curtailed_kwh, carbon_kg,
      cost``
    * ``jobs``: ``job, kind, done, start_slot, end_slot, delay_h, migrations`` (+ ``work_done_h``,
      ``unmet_h``, ``completion_h``, ``deferred``)
    * ``scorecard``: per job kind and overall (MODEL.md §8)

    ``kpis`` holds the totals of MODEL.md §8. Solver facts: ``status``, ``objective`` (the
    objective recomputed from this plan, MODEL.md §7), ``bound``, ``gap``, ``build_s``,
    ``solve_s``, ``solver``, ``solver_version``.
    """

    assignments: pd.DataFrame
    migrations: pd.DataFrame
    energy: pd.DataFrame
    jobs: pd.DataFrame
    kpis: dict[str, float]
    scorecard: pd.DataFrame
    method: str = "custom"
    status: str = "heuristic"
    objective_name: str = "carbon"
    deadlines: str = "soft"
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    wall_s: float = 0.0
    solver: str | None = None
    solver_version: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the full objective (name, weights, penalties) ``objective`` was computed with, so that
    #: validate() recomputes it the same way; ``objective_name`` alone loses the weights
    objective_spec: Objective | None = None
    #: MILP only: the model's own objective value of the plan it solved (equals ``objective``
    #: up to solver tolerances), whether HiGHS accepted the MIP start, and the incumbent's
    #: objective over time ``[(seconds, objective), ...]`` of an improvement search
    solver_objective: float | None = None
    start_accepted: bool | None = None
    history: list[tuple[float, float]] = field(default_factory=list)
    #: MILP only: seconds of each build step (``matrix_s``, ``pyomo_s``, ``compile_s``) and the
    #: model's size (``binaries``, ``columns``)
    timings: dict[str, float] = field(default_factory=dict)

    def no_worse_than(self, other: Plan) -> bool:
        """At least as good as ``other``: first by unmet work (under hard deadlines the objective
        carries no penalty for it), then by objective."""
        short, was = self.kpis["unmet_work_h"], other.kpis["unmet_work_h"]
        if abs(short - was) > 1e-6:
            return short < was
        return self.kpis["objective"] <= other.kpis["objective"] + 1e-9

    @property
    def solver_facts(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "objective_name": self.objective_name,
            "deadlines": self.deadlines,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "build_s": self.build_s,
            "solve_s": self.solve_s,
            "wall_s": self.wall_s,
            "solver": self.solver,
            "solver_version": self.solver_version,
            "solver_objective": self.solver_objective,
            "start_accepted": self.start_accepted,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        k = self.kpis
        gap = "" if self.gap is None or math.isnan(self.gap) else f", gap {self.gap:.2%}"
        return (
            f"{self.method} [{self.status}{gap}]: carbon {k['carbon_kg']:.1f} kg, "
            f"grid {k['grid_kwh']:.1f} kWh ({k['renewable_share']:.0%} renewable), "
            f"{int(k['jobs_done'])} done, {int(k['deadline_misses'])} missed, "
            f"{int(k['migrations'])} migrations"
        )

    def __repr__(self) -> str:
        return f"Plan({self.summary()})"

    def to_dir(self, out: str | os.PathLike[str], parquet: bool = False) -> list[Path]:
        """Write the four tables (CSV, and Parquet if asked) and ``kpis.json`` into ``out``.

        CSV text cells that a spreadsheet would take for a formula are quoted
        (:mod:`greenopt.io.spreadsheet`); Parquet keeps every value exactly.

        Each file is written to a temporary name and renamed, so a reader never sees half a file.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name in (*TABLES, "scorecard"):
            df: pd.DataFrame = getattr(self, name)
            # text cells spreadsheet-safe (a job named "=HYPERLINK(...)" stays text)
            written.append(_atomic(out / f"{name}.csv", lambda p, df=df: write_csv(df, p)))
            if parquet:
                written.append(
                    _atomic(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False))
                )
        written.append(self.write_facts(out))
        return written

    def write_facts(self, out: str | os.PathLike[str]) -> Path:
        """Write ``kpis.json`` (KPIs and solver facts, notes included) into ``out``."""
        payload = {"kpis": self.kpis, **self.solver_facts}
        return _atomic(
            Path(out) / "kpis.json",
            lambda p: Path(p).write_text(json.dumps(_jsonable(payload), indent=2) + "\n"),
        )


def _atomic(target: Path, write) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item"):
        return _jsonable(x.item())
    return x
