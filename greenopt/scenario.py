"""The domain model: horizon, sites, jobs and the scenario that ties them to a WAN.

Strict pydantic v2 models (unknown fields rejected, NaN/inf rejected). Every rule of MODEL.md §1–4
is checked when a scenario is built; a violation raises :class:`~greenopt.errors.ScenarioError`
whose message names the field and the site or job at fault. Per-slot series are numpy arrays
aligned to the horizon's slots; the WAN is an undirected NetworkX graph.

Derived, read-only arrays for the planners (windows, allowed sites, per-slot series stacked per
site) live in :attr:`Scenario.index`, built once on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from greenopt.errors import ScenarioError

JOB_KINDS = ("latency_critical", "nearline", "training", "evaluation")

# Grid intensities are gCO2/kWh; real grids range ~10–1000. A series whose largest value is below
# this was almost surely given in kg/kWh (e.g. WattTime MOER, 0.2–0.9) and is refused.
_KG_SUSPECT_MAX = 1.5


def _to_float_array(value: Any) -> np.ndarray:
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a sequence of numbers ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"has {bad.size} NaN or infinite value(s), first at slot {int(bad[0])}")
    arr.setflags(write=False)
    return arr


SlotSeries = Annotated[
    np.ndarray,
    BeforeValidator(_to_float_array),
    PlainSerializer(lambda a: [float(x) for x in a], return_type=list),
]


def _to_regions(value: Any) -> Any:
    """``"NO|DE"`` (as in CSV files) or a list; empty or missing means unrestricted."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("|")]
        parts = [p for p in parts if p]
        return tuple(parts) if parts else None
    return value


def _to_graph(value: Any) -> Any:
    """Accept a NetworkX graph or a list of edges ``{a, b, gbps, latency_ms}``."""
    if value is None:
        return nx.Graph()
    if isinstance(value, nx.Graph):
        if value.is_directed() or value.is_multigraph():
            raise ValueError("the WAN must be an undirected simple nx.Graph")
        return nx.relabel_nodes(value, {n: str(n) for n in value.nodes}, copy=True)
    if isinstance(value, list | tuple):
        g = nx.Graph()
        for i, edge in enumerate(value):
            if not isinstance(edge, dict):
                raise ValueError(f"edge {i} must be a mapping with a, b, gbps[, latency_ms]")
            unknown = set(edge) - {"a", "b", "gbps", "latency_ms"}
            if unknown or "a" not in edge or "b" not in edge:
                raise ValueError(
                    f"edge {i} must have keys a, b, gbps[, latency_ms]; got {sorted(edge)}"
                )
            attrs = {k: edge[k] for k in ("gbps", "latency_ms") if k in edge}
            a, b = str(edge["a"]), str(edge["b"])
            if g.has_edge(a, b):
                raise ValueError(f"edge {i} ({a}–{b}) is given twice")
            g.add_edge(a, b, **attrs)
        return g
    raise ValueError(f"must be a NetworkX graph or a list of edges, got {type(value).__name__}")


WanGraph = Annotated[nx.Graph, BeforeValidator(_to_graph)]


class StrictModel(BaseModel):
    """Unknown fields are rejected; NaN and infinities are rejected; errors are ScenarioErrors."""

    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False, frozen=False
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _scenario_error(exc, type(self).__name__, data) from None


def _scenario_error(exc: ValidationError, model: str, data: dict[str, Any]) -> ScenarioError:
    """Turn pydantic's errors into one ScenarioError naming the site/job and field.

    The message says where (``site 'oslo' field 'gpus'``); ``culprit`` is the site or job name
    when there is one, else the field's dotted path (``horizon.start``, ``wan_share``).
    """
    lines: list[str] = []
    culprit: str | None = None
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ScenarioError) and len(exc.errors()) == 1:
            return inner
        where, who = _describe_loc(err["loc"], model, data)
        msg = str(inner) if isinstance(inner, Exception) else err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        shown = err.get("input")
        got = "" if err["type"] in ("missing",) or isinstance(shown, dict) else f" (got {shown!r})"
        if len(got) > 80:
            got = got[:77] + "...)"
        lines.append(f"{where}: {msg}{got}")
        culprit = culprit or who
    return ScenarioError("; ".join(lines), culprit=culprit)


def _describe_loc(loc: tuple[Any, ...], model: str, data: dict[str, Any]) -> tuple[str, str]:
    """``(where, culprit)`` for a pydantic error location, e.g.
    ``("site 'oslo' field 'gpus'", "oslo")`` or ``("horizon field 'start'", "horizon.start")``.
    """
    parts: list[str] = []
    node: Any = data
    i = 0
    owner = model.lower()
    owner_name: str | None = None  # the site/job name, when the error is inside one
    prefix: list[str] = [] if model == "Scenario" else [model.lower()]
    if model in ("Site", "Job") and isinstance(data, dict) and data.get("name"):
        owner = f"{model.lower()} {data['name']!r}"
        owner_name = str(data["name"])
    while i < len(loc):
        key = loc[i]
        if key in ("sites", "jobs") and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            name = None
            items = node.get(key) if isinstance(node, dict) else None
            if isinstance(items, list | tuple) and idx < len(items):
                item = items[idx]
                name = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            if name:
                owner, owner_name = f"{key[:-1]} {name!r}", str(name)
            else:
                owner, owner_name = f"{key[:-1]} #{idx}", f"{key}[{idx}]"
            node = items[idx] if isinstance(items, list | tuple) and idx < len(items) else None
            i += 2
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    field = ".".join(parts)
    where = f"{owner} field '{field}'" if field else owner
    culprit = owner_name or ".".join([*prefix, *parts]) or model.lower()
    return where, culprit


class Horizon(StrictModel):
    """``slots`` slots of ``slot_minutes`` from a timezone-aware ``start`` (MODEL.md §1)."""

    start: datetime
    slot_minutes: int = Field(gt=0)
    slots: int = Field(gt=0)

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, v: Any) -> Any:
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
        return v

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("timestamp must be timezone-aware (e.g. '2023-06-01T00:00:00Z')")
        return v

    @field_validator("slot_minutes", "slots", mode="before")
    @classmethod
    def _not_boolean(cls, v: Any) -> Any:
        # pydantic's lax int takes True as 1: a boolean here is a mistake, not a count
        if isinstance(v, bool):
            raise ValueError("must be a whole number, not a boolean")
        return v

    @property
    def dt_h(self) -> float:
        """Slot length in hours (Δh)."""
        return self.slot_minutes / 60.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.slot_minutes * self.slots)

    @property
    def slot_starts(self) -> pd.DatetimeIndex:
        return pd.date_range(
            pd.Timestamp(self.start),
            periods=self.slots,
            freq=pd.Timedelta(minutes=self.slot_minutes),
        )

    def hours_since_start(self, when: datetime) -> float:
        return (when - self.start).total_seconds() / 3600.0


class Site(StrictModel):
    """A (micro-)datacenter (MODEL.md §2). ``latitude``/``longitude`` are an extension."""

    name: str = Field(min_length=1)
    region: str = Field(default="", description="residency region; defaults to the site name")
    gpus: int = Field(ge=0)
    pue: float = Field(default=1.0, ge=1.0)
    idle_kw: float = Field(default=0.0, ge=0.0)
    grid_kw_max: float | None = Field(default=None, ge=0.0)
    renewable_kw: SlotSeries
    carbon: SlotSeries
    price: SlotSeries | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("gpus", mode="before")
    @classmethod
    def _integer_gpus(cls, v: Any) -> Any:
        # pydantic's lax int takes True as 1; a boolean capacity is a mistake, not a count
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("GPU capacity must be a whole number")
        return v

    @model_validator(mode="after")
    def _fill(self) -> Site:
        if not self.region:
            self.region = self.name
        if np.any(self.renewable_kw < 0):
            t = int(np.flatnonzero(self.renewable_kw < 0)[0])
            raise ScenarioError(
                f"site {self.name!r} field 'renewable_kw' is negative at slot {t}", self.name
            )
        if np.any(self.carbon < 0):
            t = int(np.flatnonzero(self.carbon < 0)[0])
            raise ScenarioError(
                f"site {self.name!r} field 'carbon' is negative at slot {t}", self.name
            )
        if self.price is None:
            self.price = _to_float_array(np.zeros_like(self.carbon))
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Site):
            return NotImplemented
        return _fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]


class Job(StrictModel):
    """A job to plan (MODEL.md §4)."""

    name: str = Field(min_length=1)
    kind: str = "training"
    origin: str
    release: datetime
    deadline: datetime
    work_h: float = Field(gt=0)
    gpus: int = Field(ge=1)
    power_kw: float = Field(ge=0)
    state_gb: float = Field(default=0.0, ge=0)
    restore_h: float = Field(default=0.0, ge=0)
    migratable: bool = True
    preemptible: bool = True
    allowed_regions: Annotated[tuple[str, ...] | None, BeforeValidator(_to_regions)] = None
    priority: float = Field(default=1.0, gt=0)

    @field_validator("release", "deadline", mode="before")
    @classmethod
    def _parse_time(cls, v: Any) -> Any:
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
        return v

    @field_validator("release", "deadline")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("timestamp must be timezone-aware (e.g. '2023-06-01T00:00:00Z')")
        return v

    @field_validator("gpus", mode="before")
    @classmethod
    def _integer_gpus(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("GPU count must be a whole number")
        return v

    @model_validator(mode="after")
    def _order(self) -> Job:
        if self.deadline <= self.release:
            raise ScenarioError(
                f"job {self.name!r} field 'deadline' ({self.deadline.isoformat()}) is not after "
                f"its release ({self.release.isoformat()})",
                self.name,
            )
        if self.allowed_regions is not None and len(self.allowed_regions) == 0:
            raise ScenarioError(
                f"job {self.name!r} field 'allowed_regions' is empty: no site could run it",
                self.name,
            )
        return self


@dataclass(frozen=True, eq=False)
class ScenarioIndex:
    """Read-only arrays derived from a scenario, shared by every planner and the evaluator.

    Shapes: S sites, J jobs, T slots. Job windows are ``[first_slot, end_slot)``.
    """

    T: int
    dt_h: float
    site_names: tuple[str, ...]
    site_pos: dict[str, int]
    job_names: tuple[str, ...]
    job_pos: dict[str, int]
    site_gpus: np.ndarray  # (S,) int
    pue: np.ndarray  # (S,)
    idle_kw: np.ndarray  # (S,)
    grid_kw_max: np.ndarray  # (S,) inf where unlimited
    renewable_kw: np.ndarray  # (S, T)
    carbon: np.ndarray  # (S, T) g/kWh
    price: np.ndarray  # (S, T)
    first_slot: np.ndarray  # (J,) int
    end_slot: np.ndarray  # (J,) int, exclusive
    work_h: np.ndarray
    gpus: np.ndarray
    power_kw: np.ndarray
    state_gb: np.ndarray
    restore_h: np.ndarray
    migratable: np.ndarray  # bool
    preemptible: np.ndarray  # bool
    priority: np.ndarray
    origin: np.ndarray  # (J,) site position
    release_h: np.ndarray  # hours since horizon start
    deadline_h: np.ndarray
    allowed: np.ndarray  # (J, S) bool: region allowed and enough GPUs

    def in_window(self, j: int, t: int) -> bool:
        return bool(self.first_slot[j] <= t < self.end_slot[j])


class Scenario(StrictModel):
    """A planning problem: horizon, sites with their per-slot series, a WAN, jobs (MODEL.md)."""

    name: str = "scenario"
    horizon: Horizon
    sites: list[Site] = Field(min_length=1)
    jobs: list[Job] = Field(default_factory=list)
    wan: WanGraph = Field(default_factory=nx.Graph)
    wan_share: float = Field(default=1.0, gt=0, le=1)
    net_kwh_per_gb: float = Field(default=0.005, ge=0)
    #: the dwell rule's α (MODEL.md §5): after a migration the job works at the destination at
    #: least ``transfer_h / α`` hours unless it finishes there; ``None`` turns the rule off
    migration_alpha: float | None = Field(default=0.1, gt=0, le=1)

    @field_validator("migration_alpha", mode="before")
    @classmethod
    def _alpha_not_boolean(cls, v: Any) -> Any:
        # pydantic's lax float takes True as 1.0: a boolean here is a mistake (null turns it off)
        if isinstance(v, bool):
            raise ValueError("must be a number in (0, 1] or null (rule off), not a boolean")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        check_consistency(self)
        return self

    # -- lookups ---------------------------------------------------------------------------
    def site(self, name: str) -> Site:
        return self.sites[self.index.site_pos[name]]

    def job(self, name: str) -> Job:
        return self.jobs[self.index.job_pos[name]]

    @cached_property
    def index(self) -> ScenarioIndex:
        return _build_index(self)

    @cached_property
    def network(self):  # -> greenopt.network.Network (imported lazily: network imports us)
        from greenopt.network import Network

        return Network(self)

    def with_jobs(self, jobs: list[Job], **changes: Any) -> Scenario:
        """A copy of this scenario with other jobs (and other top-level fields if given)."""
        data = {
            "name": self.name,
            "horizon": self.horizon,
            "sites": self.sites,
            "jobs": jobs,
            "wan": self.wan,
            "wan_share": self.wan_share,
            "net_kwh_per_gb": self.net_kwh_per_gb,
            "migration_alpha": self.migration_alpha,
        }
        data.update(changes)
        return Scenario(**data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return (
            self.name == other.name
            and self.horizon == other.horizon
            and self.sites == other.sites
            and self.jobs == other.jobs
            and self.wan_share == other.wan_share
            and self.net_kwh_per_gb == other.net_kwh_per_gb
            and self.migration_alpha == other.migration_alpha
            and _graph_key(self.wan) == _graph_key(other.wan)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Scenario(name={self.name!r}, sites={len(self.sites)}, jobs={len(self.jobs)}, "
            f"slots={self.horizon.slots}x{self.horizon.slot_minutes}min, "
            f"wan_links={self.wan.number_of_edges()})"
        )

    __str__ = __repr__


def _fields_equal(a: BaseModel, b: BaseModel) -> bool:
    for field in type(a).model_fields:
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def _graph_key(g: nx.Graph) -> tuple:
    nodes = tuple(sorted(map(str, g.nodes)))
    edges = tuple(
        sorted(
            (min(str(a), str(b)), max(str(a), str(b)), tuple(sorted(d.items())))
            for a, b, d in g.edges(data=True)
        )
    )
    return nodes, edges


def job_window(horizon: Horizon, job: Job) -> tuple[int, int]:
    """Slots ``[first, end)`` that start at/after release and end at/before deadline (§4)."""
    dt = horizon.dt_h
    rel = horizon.hours_since_start(job.release) / dt
    dl = horizon.hours_since_start(job.deadline) / dt
    first = max(0, math.ceil(rel - 1e-9))
    end = min(horizon.slots, math.floor(dl + 1e-9))
    return first, max(first, end)


def check_consistency(sc: Scenario) -> None:
    """Every cross-object rule of MODEL.md §1–4; raises one ScenarioError listing all problems."""
    problems: list[tuple[str, str]] = []  # (culprit, message)
    T = sc.horizon.slots

    names = [s.name for s in sc.sites]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append((dup, f"site name {dup!r} is used more than once"))
    jnames = [j.name for j in sc.jobs]
    seen: set[str] = set()
    for n in jnames:
        if n in seen:
            problems.append((n, f"job name {n!r} is used more than once"))
        seen.add(n)

    for s in sc.sites:
        for field in ("renewable_kw", "carbon", "price"):
            arr = getattr(s, field)
            if len(arr) != T:
                problems.append(
                    (s.name, f"site {s.name!r} field '{field}' has {len(arr)} values for {T} slots")
                )
        if len(s.carbon) and 0 < float(np.max(s.carbon)) <= _KG_SUSPECT_MAX:
            problems.append(
                (
                    s.name,
                    f"site {s.name!r} field 'carbon' peaks at {float(np.max(s.carbon)):.3g}: "
                    "intensities are gCO2/kWh; this looks like kg/kWh (multiply by 1000)",
                )
            )

    problems += _check_wan(sc)

    site_by_name = {s.name: s for s in sc.sites}
    for j in sc.jobs:
        if j.origin not in site_by_name:
            problems.append((j.name, f"job {j.name!r} field 'origin': unknown site {j.origin!r}"))
            continue
        allowed = [
            s for s in sc.sites if j.allowed_regions is None or s.region in j.allowed_regions
        ]
        if not allowed:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'allowed_regions' {list(j.allowed_regions or [])} "
                    "matches no site's region",
                )
            )
            continue
        if max(s.gpus for s in allowed) < j.gpus:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'gpus' ({j.gpus}) exceeds every allowed site's "
                    f"capacity (largest {max(s.gpus for s in allowed)})",
                )
            )
        first, end = job_window(sc.horizon, j)
        window_h = (end - first) * sc.horizon.dt_h
        if end <= first:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} fields 'release'/'deadline': no whole slot of the horizon "
                    f"lies between {j.release.isoformat()} and {j.deadline.isoformat()}",
                )
            )
        elif j.work_h > window_h + 1e-9:
            problems.append(
                (
                    j.name,
                    f"job {j.name!r} field 'work_h' ({j.work_h:g} h) is longer than its window "
                    f"({window_h:g} h of whole slots between release and deadline)",
                )
            )
    # a duplicated site name would otherwise report the same WAN problem once per copy
    problems = list(dict.fromkeys(problems))
    if problems:
        msg = "; ".join(m for _, m in problems)
        if len(problems) > 1:
            msg = f"{len(problems)} problems in scenario {sc.name!r}: {msg}"
        raise ScenarioError(msg, culprit=problems[0][0])


def _check_wan(sc: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    g = sc.wan
    with_lat = 0
    for a, b, d in g.edges(data=True):
        link = f"WAN link {a}–{b}"
        unknown = set(d) - {"gbps", "latency_ms"}
        if unknown:
            problems.append((f"{a}–{b}", f"{link} has unknown attribute(s) {sorted(unknown)}"))
        gbps = d.get("gbps")
        if gbps is None:
            problems.append((f"{a}–{b}", f"{link} field 'gbps' is missing"))
        elif not _finite_number(gbps) or float(gbps) <= 0:
            problems.append((f"{a}–{b}", f"{link} field 'gbps' must be > 0, got {gbps!r}"))
        if "latency_ms" in d:
            with_lat += 1
            lat = d["latency_ms"]
            if not _finite_number(lat) or float(lat) < 0:
                problems.append(
                    (f"{a}–{b}", f"{link} field 'latency_ms' must be >= 0, got {lat!r}")
                )
    if 0 < with_lat < g.number_of_edges():
        problems.append(
            (
                "wan",
                f"WAN: 'latency_ms' is given on {with_lat} of {g.number_of_edges()} links; "
                "give it on every link or on none",
            )
        )
    if len(sc.sites) > 1:
        site_names = [s.name for s in sc.sites]
        for s in site_names:
            if s not in g:
                problems.append((s, f"site {s!r} is not a node of the WAN: it cannot be reached"))
        present = [s for s in site_names if s in g]
        for s in present:
            comp = nx.node_connected_component(g, s)
            if not any(o in comp for o in present if o != s):
                problems.append(
                    (s, f"site {s!r} has no WAN route to any other site: it cannot be reached")
                )
    return problems


def _finite_number(x: Any) -> bool:
    try:
        return math.isfinite(float(x)) and not isinstance(x, bool)
    except (TypeError, ValueError):
        return False


def _build_index(sc: Scenario) -> ScenarioIndex:
    S, J, T = len(sc.sites), len(sc.jobs), sc.horizon.slots
    site_pos = {s.name: i for i, s in enumerate(sc.sites)}
    windows = [job_window(sc.horizon, j) for j in sc.jobs]
    regions = [s.region for s in sc.sites]
    site_gpus = np.array([s.gpus for s in sc.sites], dtype=np.int64)
    allowed = np.zeros((J, S), dtype=bool)
    for k, j in enumerate(sc.jobs):
        for i in range(S):
            allowed[k, i] = (
                j.allowed_regions is None or regions[i] in j.allowed_regions
            ) and site_gpus[i] >= j.gpus

    def arr(values: list[Any], dtype: Any = float) -> np.ndarray:
        a = np.array(values, dtype=dtype)
        a.setflags(write=False)
        return a

    def stack(field: str) -> np.ndarray:
        a = np.vstack([getattr(s, field) for s in sc.sites]) if S else np.zeros((0, T))
        a = a.astype(float)
        a.setflags(write=False)
        return a

    allowed.setflags(write=False)
    return ScenarioIndex(
        T=T,
        dt_h=sc.horizon.dt_h,
        site_names=tuple(s.name for s in sc.sites),
        site_pos=site_pos,
        job_names=tuple(j.name for j in sc.jobs),
        job_pos={j.name: k for k, j in enumerate(sc.jobs)},
        site_gpus=site_gpus,
        pue=arr([s.pue for s in sc.sites]),
        idle_kw=arr([s.idle_kw for s in sc.sites]),
        grid_kw_max=arr([np.inf if s.grid_kw_max is None else s.grid_kw_max for s in sc.sites]),
        renewable_kw=stack("renewable_kw"),
        carbon=stack("carbon"),
        price=stack("price"),
        first_slot=arr([w[0] for w in windows], np.int64),
        end_slot=arr([w[1] for w in windows], np.int64),
        work_h=arr([j.work_h for j in sc.jobs]),
        gpus=arr([j.gpus for j in sc.jobs], np.int64),
        power_kw=arr([j.power_kw for j in sc.jobs]),
        state_gb=arr([j.state_gb for j in sc.jobs]),
        restore_h=arr([j.restore_h for j in sc.jobs]),
        migratable=arr([j.migratable for j in sc.jobs], bool),
        preemptible=arr([j.preemptible for j in sc.jobs], bool),
        priority=arr([j.priority for j in sc.jobs]),
        origin=arr([site_pos[j.origin] for j in sc.jobs], np.int64),
        release_h=arr([sc.horizon.hours_since_start(j.release) for j in sc.jobs]),
        deadline_h=arr([sc.horizon.hours_since_start(j.deadline) for j in sc.jobs]),
        allowed=allowed,
    )
