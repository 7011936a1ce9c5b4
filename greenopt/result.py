"""The :class:`Plan` result type shared by every planning method, its :class:`PlanStatus` and
the :class:`SolverInfo` a method reports beside the plan's tables."""

from __future__ import annotations

import json
import math
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

import pandas as pd

from greenopt.errors import PlanError
from greenopt.io.spreadsheet import write_csv

if TYPE_CHECKING:
    import xarray

    from greenopt.objectives import Objective


class PlanStatus(StrEnum):
    """How a plan came about. A ``str``, so ``plan.status == "optimal"`` holds and it is written
    as its value to JSON, CSV and the terminal."""

    #: the solver closed the gap to a true lower bound of every plan
    OPTIMAL = "optimal"
    #: the solver stopped within ``mip_gap``, or fix-and-optimise found no further improvement
    FEASIBLE = "feasible"
    #: the best plan found when the time limit ran out
    TIME_LIMIT = "time_limit"
    #: the solver found nothing better than its start plan (the greedy's), which is returned
    FALLBACK = "fallback"
    #: produced by a heuristic or a baseline
    HEURISTIC = "heuristic"
    #: Ctrl-C during the solve: the best plan found so far
    INTERRUPTED = "interrupted"


#: Plan statuses, as strings (see :class:`PlanStatus`).
STATUSES = tuple(s.value for s in PlanStatus)

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
    # MODEL.md §8 plausibility (KPIs and scorecard)
    "short_runs": "count (run rows under 5 min, not a job's last)",
    "migrations_per_job": "migrations per job",
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
class SolverInfo:
    """What a method (and its solver) reported about a plan, apart from the plan's tables.

    ``bound``: a lower bound of every plan's objective (``None``: none known); ``gap``:
    ``(objective − bound) / |objective|`` (``None`` exactly when there is no bound — never NaN);
    ``build_s``/``solve_s``/``wall_s``: seconds building the model, solving, and of the whole
    ``plan()`` call; ``solver``/``solver_version``; MILP only: ``solver_objective`` (the model's
    own value of the plan it solved), ``start_accepted`` (did HiGHS take the MIP start),
    ``history`` (the incumbent's objective over time ``[(seconds, objective), ...]``) and
    ``timings`` (seconds of each build step, the model's size); ``notes`` in plain words.
    """

    status: PlanStatus = PlanStatus.HEURISTIC
    bound: float | None = None
    gap: float | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    wall_s: float = 0.0
    solver: str | None = None
    solver_version: str | None = None
    solver_objective: float | None = None
    start_accepted: bool | None = None
    history: list[tuple[float, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "status":
            value = PlanStatus(value)
        elif name == "gap" and value is not None and math.isnan(value):
            value = None  # one representation of "no gap"
        object.__setattr__(self, name, value)


_INFO_FIELDS = frozenset(f.name for f in fields(SolverInfo))
T = TypeVar("T")


class _Fact(Generic[T]):
    """A :class:`Plan` attribute kept in its :class:`SolverInfo` (``plan.bound`` is
    ``plan.info.bound``), so the names INTERFACE.md gives keep working."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, plan: None, owner: type | None = None) -> _Fact[T]: ...
    @overload
    def __get__(self, plan: Plan, owner: type | None = None) -> T: ...
    def __get__(self, plan: Plan | None, owner: type | None = None) -> T | _Fact[T]:
        return self if plan is None else getattr(plan.info, self.name)

    def __set__(self, plan: Plan, value: T) -> None:
        setattr(plan.info, self.name, value)


@dataclass(init=False)
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

    ``kpis`` holds the totals of MODEL.md §8; ``objective`` is the objective recomputed from this
    plan (MODEL.md §7) and ``objective_spec`` the full objective (name, weights, penalties) it was
    computed with, so that validate() recomputes it the same way. ``info`` holds the solver facts
    (:class:`SolverInfo`); each is also an attribute of the plan: ``status``, ``bound``, ``gap``,
    ``build_s``, ``solve_s``, ``wall_s``, ``solver``, ``solver_version``, ``solver_objective``,
    ``start_accepted``, ``history``, ``timings``, ``notes``. ``Plan(..., status=..., bound=...)``
    fills ``info`` from such keywords.
    """

    assignments: pd.DataFrame
    migrations: pd.DataFrame
    energy: pd.DataFrame
    jobs: pd.DataFrame
    kpis: dict[str, float]
    scorecard: pd.DataFrame
    method: str = "custom"
    objective_name: str = "carbon"
    deadlines: str = "soft"
    objective: float | None = None
    objective_spec: Objective | None = None
    info: SolverInfo = field(default_factory=SolverInfo)
    #: the scenario's currency (the unit of ``cost``), None when it gives none
    currency: str | None = None

    status = _Fact[PlanStatus]()
    bound = _Fact[float | None]()
    gap = _Fact[float | None]()
    build_s = _Fact[float]()
    solve_s = _Fact[float]()
    wall_s = _Fact[float]()
    solver = _Fact[str | None]()
    solver_version = _Fact[str | None]()
    solver_objective = _Fact[float | None]()
    start_accepted = _Fact[bool | None]()
    history = _Fact[list[tuple[float, float]]]()
    timings = _Fact[dict[str, float]]()
    notes = _Fact[list[str]]()

    def __init__(
        self,
        assignments: pd.DataFrame,
        migrations: pd.DataFrame,
        energy: pd.DataFrame,
        jobs: pd.DataFrame,
        kpis: dict[str, float],
        scorecard: pd.DataFrame,
        method: str = "custom",
        objective_name: str = "carbon",
        deadlines: str = "soft",
        objective: float | None = None,
        objective_spec: Objective | None = None,
        info: SolverInfo | None = None,
        currency: str | None = None,
        **facts: Any,
    ) -> None:
        unknown = sorted(set(facts) - _INFO_FIELDS)
        if unknown:
            raise TypeError(f"Plan() got unexpected keyword argument(s) {unknown}")
        self.assignments = assignments
        self.migrations = migrations
        self.energy = energy
        self.jobs = jobs
        self.kpis = kpis
        self.scorecard = scorecard
        self.method = method
        self.objective_name = objective_name
        self.deadlines = deadlines
        self.objective = objective
        self.objective_spec = objective_spec
        self.currency = currency
        # a copy, so that dataclasses.replace(plan) gives a plan with facts of its own
        self.info = replace(info) if info is not None else SolverInfo(**facts)

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

        CSV text cells that a spreadsheet would take for a formula are quoted
        (:mod:`greenopt.io.spreadsheet`); Parquet keeps every value exactly.

        Each file is written to a temporary name and renamed, so a reader never sees half a file.
        Parquet needs pyarrow (``pip install 'greenopt[parquet]'``), checked before anything is
        written.
        """
        if parquet:
            from greenopt.optional import require

            require("pyarrow", "Parquet output", extra="parquet")
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
    """Write ``target`` through ``write(temporary path)`` and a rename, so a reader never sees
    half a file. The temporary file is created like any other (mode 0666 less the umask, so
    0644 under the usual 022) — not by ``tempfile.mkstemp``, whose 0600 the rename would keep."""
    tmp = _fresh_file(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _fresh_file(target: Path) -> str:
    """Create an empty hidden file next to ``target`` with the process's default mode."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return str(tmp)
    raise FileExistsError(f"no free temporary name next to {str(target)!r}")


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
