"""The :class:`Plan` result type shared by every planning method."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from greenopt.errors import PlanError

if TYPE_CHECKING:
    import xarray

    from greenopt.objectives import Objective

#: Plan statuses. ``optimal``/``feasible``: a solver's answer (feasible = stopped at the gap);
#: ``time_limit``: best plan found when time ran out; ``fallback``: the solver found nothing and
#: the greedy plan was returned instead; ``heuristic``: produced by a heuristic or baseline.
STATUSES = ("optimal", "feasible", "time_limit", "fallback", "heuristic", "interrupted")

TABLES = ("assignments", "migrations", "energy", "jobs")

#: Stands for the scenario's currency in :data:`UNITS` (see :meth:`Plan.unit`).
CURRENCY = "{currency}"

#: The unit of every quantity a plan reports — table columns, KPIs and scorecard columns — in
#: MODEL.md's fixed units. ``{currency}`` is the scenario's ``currency`` (:meth:`Plan.unit`).
UNITS: dict[str, str] = {
    # keys and times
    "job": "name",
    "site": "name",
    "src": "site name",
    "dst": "site name",
    "kind": "label",
    "slot": "slot index",
    "time": "slot start (timezone-aware timestamp)",
    "start_slot": "slot index (-1: never ran)",
    "end_slot": "slot index (-1: never ran)",
    # assignments and migrations
    "share": "fraction of the slot",
    "gb": "GB",
    "disruption_h": "h",
    # energy (per site and slot) and the matching totals
    "facility_kwh": "kWh",
    "renewable_kwh": "kWh",
    "grid_kwh": "kWh",
    "curtailed_kwh": "kWh",
    "carbon_kg": "kg CO2",
    "cost": CURRENCY,
    # jobs
    "done": "true/false",
    "deferred": "true/false",
    "delay_h": "h",
    "migrations": "count",
    "work_done_h": "h",
    "unmet_h": "h",
    "completion_h": "h from the horizon start",
    # KPIs
    "renewable_share": "fraction of facility energy",
    "jobs": "count",
    "jobs_done": "count",
    "deadline_misses": "count",
    "unmet_work_h": "h",
    "migrated_gb": "GB",
    "mean_delay_h": "h",
    "p95_delay_h": "h",
    "objective": "objective units (MODEL.md §7: the objective's own mix of kg CO2, cost, kWh)",
    # scorecard
    "carbon_kg_per_1000_jobs": "kg CO2 per 1,000 jobs",
    "cost_per_1000_jobs": CURRENCY + " per 1,000 jobs",
    "sla_attainment": "fraction of jobs",
    "deferred_jobs": "count",
    "deferred_on_time": "fraction of deferred jobs",
}

#: Units of quantities not listed in :data:`UNITS`, by the naming convention of their name
#: (the first suffix that matches).
_SUFFIX_UNITS = (
    ("_per_kwh", "per kWh"),
    ("_kwh", "kWh"),
    ("_kw", "kW"),
    ("_kg", "kg CO2"),
    ("_gb", "GB"),
    ("_h", "h"),
    ("_s", "s"),
    ("_share", "fraction"),
)


@dataclass
class Plan:
    """A plan and everything derived from it (MODEL.md §5, §6, §8).

    Tables (pandas DataFrames, one row per fact):

    * ``assignments``: ``job, slot, site, share, time``
    * ``migrations``: ``job, slot, src, dst, gb, disruption_h, time``
    * ``energy``: ``site, slot, facility_kwh, renewable_kwh, grid_kwh, curtailed_kwh, carbon_kg,
      cost, time``

    ``time`` is the slot's start, timezone-aware (in the horizon's time zone). Every quantity's
    unit is in :data:`UNITS` (:meth:`unit`, :attr:`units`; ``cost`` is in ``currency``);
    :meth:`to_xarray` gives the energy table on ``site × time``.
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
    #: the scenario's currency (the unit of ``cost``), None when it gives none
    currency: str | None = None

    UNITS: ClassVar[dict[str, str]] = UNITS

    def unit(self, name: str) -> str | None:
        """The unit of the quantity ``name`` (a column or KPI), with the currency filled in
        (``"currency (unspecified)"`` when the scenario gives none); None if unknown."""
        unit = UNITS.get(name)
        if unit is None:
            if name.startswith("cost"):
                unit = CURRENCY
            else:
                unit = next((u for sfx, u in _SUFFIX_UNITS if name.endswith(sfx)), None)
        if unit is None:
            return None
        return unit.replace(CURRENCY, self.currency or "currency (unspecified)")

    @property
    def units(self) -> dict[str, str | None]:
        """The unit of every column of the plan's tables and of every KPI."""
        names: dict[str, None] = {}
        for table in (*TABLES, "scorecard"):
            names.update(dict.fromkeys(str(c) for c in getattr(self, table).columns))
        names.update(dict.fromkeys(self.kpis))
        return {n: self.unit(n) for n in names}

    def to_xarray(self) -> xarray.Dataset:
        """The energy table as an xarray Dataset on ``site × time`` (needs xarray).

        One variable per energy column (``facility_kwh``, ..., ``cost``) with its ``units``
        attribute; coordinates ``site`` (in the table's order), ``time`` (slot starts, tz-aware)
        and ``slot`` along ``time``; the plan's method, status, objective and currency as
        attributes. Install xarray with ``pip install 'greenopt[xarray]'``.
        """
        from greenopt.optional import require

        xr = require("xarray", "Plan.to_xarray()", extra="xarray")
        e = self.energy
        if "time" not in e.columns:
            raise PlanError(
                "Plan.to_xarray(): the energy table has no 'time' column (a plan made by "
                "greenopt.plan or greenopt.evaluate has one)"
            )
        sites = list(dict.fromkeys(e["site"]))
        slots = e[["time", "slot"]].drop_duplicates().sort_values("slot")
        values = [
            str(c)
            for c in e.columns
            if c not in ("site", "slot", "time") and pd.api.types.is_numeric_dtype(e[c])
        ]
        ds = xr.Dataset.from_dataframe(e.set_index(["site", "time"])[values])
        ds = ds.reindex(site=sites, time=pd.DatetimeIndex(slots["time"]))
        ds = ds.assign_coords(slot=("time", slots["slot"].to_numpy()))
        for name in values:
            ds[name].attrs["units"] = self.unit(name)
        ds["time"].attrs["description"] = "slot start"
        ds.attrs.update(
            {
                "method": self.method,
                "status": self.status,
                "objective_name": self.objective_name,
                "currency": self.currency or "unspecified",
            }
        )
        return ds

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

        Each file is written to a temporary name and renamed, so a reader never sees half a file.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name in (*TABLES, "scorecard"):
            df: pd.DataFrame = getattr(self, name)
            written.append(_atomic(out / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False)))
            if parquet:
                written.append(
                    _atomic(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False))
                )
        payload = {"kpis": self.kpis, **self.solver_facts}
        written.append(
            _atomic(
                out / "kpis.json",
                lambda p: Path(p).write_text(json.dumps(_jsonable(payload), indent=2) + "\n"),
            )
        )
        return written


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
