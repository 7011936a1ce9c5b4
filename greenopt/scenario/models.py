"""The domain model: horizon, sites, jobs and the scenario that ties them to a WAN.

Strict pydantic v2 models (unknown fields rejected, NaN/inf rejected). Every rule of MODEL.md §1–4
is checked when a scenario is built; a violation raises :class:`~greenopt.errors.ScenarioError`
whose message names the field and the site or job at fault. Per-slot series are numpy arrays
aligned to the horizon's slots — given per slot, or by time and resampled to the slots when the
scenario is built (:mod:`greenopt.scenario.timeseries`); the WAN is an undirected NetworkX graph.

Derived, read-only arrays for the planners (windows, allowed sites, per-slot series stacked per
site) live in :attr:`Scenario.index` (:mod:`.index`), built once on first use; the rules that
tie sites, jobs and the WAN together are checked by :mod:`.consistency`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, Protocol, runtime_checkable

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from greenopt.errors import ScenarioError
from greenopt.network.wan import Network
from greenopt.scenario.consistency import check_consistency
from greenopt.scenario.index import ScenarioIndex, build_index
from greenopt.scenario.timeseries import (
    as_time_series,
    is_time_indexed,
    site_aligned,
    split_signals,
)

JOB_KINDS = ("latency_critical", "nearline", "training", "evaluation")


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


def _to_slot_series(value: Any, info: ValidationInfo) -> np.ndarray | pd.Series:
    """One value per slot (a float array), or a time series kept until the scenario aligns it."""
    if is_time_indexed(value):
        site = str((info.data or {}).get("name", "?"))
        return as_time_series(value, f"site {site!r} field {info.field_name!r}", culprit=site)
    return _to_float_array(value)


#: A site signal: a read-only float array with one value per slot — or, on a Site validated on its
#: own, a time-indexed pandas Series (UTC) until its Scenario resamples it
#: (greenopt.scenario.timeseries).
SlotSeries = Annotated[
    np.ndarray | pd.Series,
    PlainValidator(_to_slot_series),
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


@runtime_checkable
class CarriedForecasts(Protocol):
    """What a scenario needs of the forecasts it carries (:class:`greenopt.forecasts.Forecasts`
    implements it; the scenario layer names the interface so that it never imports the layer
    that builds on it)."""

    horizon: Any
    sites: tuple[str, ...]

    def aligned_to(self, horizon: Any, sites: Any) -> CarriedForecasts: ...


def _to_forecasts(value: Any) -> Any:
    """``None`` or forecasts (a :class:`greenopt.forecasts.Forecasts`)."""
    if value is not None and not isinstance(value, CarriedForecasts):
        raise ValueError(f"must be a greenopt.forecasts.Forecasts, got {type(value).__name__}")
    return value


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
    """A (micro-)datacenter (MODEL.md §2). ``latitude``/``longitude`` are an extension.

    ``renewable_kw``, ``carbon`` and ``price`` are one value per slot, or time series at any
    resolution (a tz-aware pandas Series or xarray DataArray; or all at once as
    ``signals=<DataFrame with those columns>``) that the Scenario resamples to its horizon
    (:mod:`greenopt.scenario.timeseries`).
    """

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

    @model_validator(mode="before")
    @classmethod
    def _signals_frame(cls, data: Any) -> Any:
        """``signals=<DataFrame>``: its columns become the site's signals."""
        if not isinstance(data, dict) or "signals" not in data:
            return data
        data = dict(data)
        name = str(data.get("name", "?"))
        for field, series in split_signals(data.pop("signals"), name).items():
            if data.get(field) is not None:
                raise ScenarioError(
                    f"site {name!r} field {field!r} is given twice: in 'signals' and on its own",
                    name,
                )
            data[field] = series
        return data

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
        for field in ("renewable_kw", "carbon"):
            values = getattr(self, field)
            negative = np.asarray(values) < 0
            if negative.any():
                k = int(np.flatnonzero(negative)[0])
                at = values.index[k].isoformat() if isinstance(values, pd.Series) else f"slot {k}"
                raise ScenarioError(
                    f"site {self.name!r} field {field!r} is negative at {at}", self.name
                )
        # a time-indexed carbon series has no slots yet: the Scenario fills the price then
        if self.price is None and not isinstance(self.carbon, pd.Series):
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
    #: the unit of ``price`` and of every cost (e.g. "EUR"); None when unspecified
    currency: str | None = Field(default=None, min_length=1)
    #: forecasts issued for this horizon and the actuals known before it (MODEL.md §11), if any
    forecasts: Annotated[Any, BeforeValidator(_to_forecasts)] = None

    @field_validator("migration_alpha", mode="before")
    @classmethod
    def _alpha_not_boolean(cls, v: Any) -> Any:
        # pydantic's lax float takes True as 1.0: a boolean here is a mistake (null turns it off)
        if isinstance(v, bool):
            raise ValueError("must be a number in (0, 1] or null (rule off), not a boolean")
        return v

    @model_validator(mode="before")
    @classmethod
    def _not_too_large(cls, data: Any) -> Any:
        """The memory limit (:mod:`greenopt.limits`), before any job or site is validated."""
        if isinstance(data, dict):
            horizon = data.get("horizon")
            slots = (
                horizon.get("slots")
                if isinstance(horizon, dict)
                else getattr(horizon, "slots", None)
            )
            jobs, sites = data.get("jobs") or [], data.get("sites") or []
            if (
                isinstance(slots, int)
                and isinstance(jobs, list | tuple)
                and isinstance(sites, list | tuple)
            ):
                from greenopt.limits import check_scenario_size

                check_scenario_size(len(jobs), len(sites), slots)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        # sites given by time are resampled to the horizon (copies: a Site may serve many)
        self.sites = [site_aligned(s, self.horizon) for s in self.sites]
        check_consistency(self)
        if self.forecasts is not None:  # same horizon; reordered (padded) to the sites' order
            self.forecasts = self.forecasts.aligned_to(self.horizon, [s.name for s in self.sites])
        return self

    # -- lookups ---------------------------------------------------------------------------
    def site(self, name: str) -> Site:
        return self.sites[self.index.site_pos[name]]

    def job(self, name: str) -> Job:
        return self.jobs[self.index.job_pos[name]]

    @cached_property
    def index(self) -> ScenarioIndex:
        """Read-only arrays for the planners and the evaluator (built once)."""
        return build_index(self)

    @cached_property
    def network(self) -> Network:
        """Routes, bottlenecks and link capacities between the sites (built once)."""
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
            "currency": self.currency,
            "forecasts": self.forecasts,
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
            and self.currency == other.currency
            and self.forecasts == other.forecasts
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
