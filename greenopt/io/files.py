"""Scenario files (INTERFACE.md): a YAML file with CSV tables and a GraphML or inline WAN.

```yaml
name: example
horizon: {start: "2023-06-01T00:00:00Z", slot_minutes: 60, slots: 24}
wan_share: 1.0
net_kwh_per_gb: 0.005
migration_alpha: 0.1      # the dwell rule of MODEL.md §5; null turns it off
sites: sites.csv          # or a list of mappings
timeseries: timeseries.csv  # time, site, renewable_kw, carbon[, price]
wan: wan.graphml          # or a list of {a, b, gbps, latency_ms}
jobs: jobs.csv            # or a list of mappings; allowed_regions separated by "|"
```

Relative paths resolve against the YAML file's folder. Series at another resolution are
resampled by the time-weighted mean; a series that does not cover the horizon is an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import yaml

from greenopt.errors import ScenarioError
from greenopt.io.resample import resample_to_horizon
from greenopt.scenario import Horizon, Job, Scenario, Site

# ``plan`` holds planning options (method, objective, ...) read by the command line, not here.
TOP_KEYS = {
    "name",
    "horizon",
    "wan_share",
    "net_kwh_per_gb",
    "migration_alpha",
    "sites",
    "timeseries",
    "wan",
    "jobs",
    "plan",
}
SITE_COLUMNS = ["name", "region", "gpus", "pue", "idle_kw", "grid_kw_max", "latitude", "longitude"]
SERIES_COLUMNS = ["renewable_kw", "carbon", "price"]
JOB_COLUMNS = list(Job.model_fields)
_REQUIRED_JOB = [n for n, f in Job.model_fields.items() if f.is_required()]
_REQUIRED_SITE = ["name", "gpus"]


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario YAML file (and the CSV/GraphML files it names)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file {str(path)!r} does not exist", str(path))
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML ({exc})", str(path)) from None
    if doc is None:
        raise ScenarioError(f"{path.name}: the file is empty", str(path))
    if not isinstance(doc, dict):
        raise ScenarioError(
            f"{path.name}: must be a mapping of keys, got {type(doc).__name__}", str(path)
        )
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise ScenarioError(
            f"{path.name}: unknown key(s) {unknown}; allowed: {sorted(TOP_KEYS)}", unknown[0]
        )
    for key in ("horizon", "sites"):
        if key not in doc:
            raise ScenarioError(f"{path.name}: key {key!r} is missing", key)
    base = path.parent
    horizon = Horizon(**_mapping(doc["horizon"], "horizon"))
    site_rows = _records(doc["sites"], base, "sites", SITE_COLUMNS, _REQUIRED_SITE)
    series = _site_series(doc.get("timeseries"), base, horizon, [r.get("name") for r in site_rows])
    sites = []
    for row in site_rows:
        row = {k: v for k, v in row.items() if not _is_missing(v)}
        name = row.get("name")
        row = {**series.get(name, {}), **row}
        sites.append(Site(**row))
    jobs_raw = doc.get("jobs", [])
    jobs = [_job(r) for r in _records(jobs_raw, base, "jobs", JOB_COLUMNS, _REQUIRED_JOB)]
    wan = _wan(doc.get("wan"), base)
    extra = {
        k: doc[k] for k in ("name", "wan_share", "net_kwh_per_gb", "migration_alpha") if k in doc
    }
    return Scenario(horizon=horizon, sites=sites, jobs=jobs, wan=wan, **extra)


def save_scenario(scenario: Scenario, folder: str | os.PathLike[str]) -> Path:
    """Write ``scenario.yaml`` with ``sites.csv``, ``timeseries.csv``, ``jobs.csv`` and
    ``wan.graphml`` into ``folder``; return the YAML path. ``load_scenario`` gives it back equal.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sites = pd.DataFrame(
        [{c: getattr(s, c) for c in SITE_COLUMNS} for s in scenario.sites], columns=SITE_COLUMNS
    )
    sites.to_csv(folder / "sites.csv", index=False)
    times = [t.isoformat() for t in scenario.horizon.slot_starts.tz_convert("UTC")]
    ts = pd.concat(
        [
            pd.DataFrame(
                {
                    "time": times,
                    "site": s.name,
                    "renewable_kw": s.renewable_kw,
                    "carbon": s.carbon,
                    "price": s.price,
                }
            )
            for s in scenario.sites
        ]
    )
    ts.to_csv(folder / "timeseries.csv", index=False)
    jobs = pd.DataFrame([_job_row(j) for j in scenario.jobs], columns=JOB_COLUMNS)
    jobs.to_csv(folder / "jobs.csv", index=False)
    nx.write_graphml(scenario.wan, folder / "wan.graphml")
    doc = {
        "name": scenario.name,
        "horizon": {
            "start": pd.Timestamp(scenario.horizon.start).isoformat(),
            "slot_minutes": scenario.horizon.slot_minutes,
            "slots": scenario.horizon.slots,
        },
        "wan_share": scenario.wan_share,
        "net_kwh_per_gb": scenario.net_kwh_per_gb,
        "migration_alpha": scenario.migration_alpha,
        "sites": "sites.csv",
        "timeseries": "timeseries.csv",
        "wan": "wan.graphml",
        "jobs": "jobs.csv",
    }
    out = folder / "scenario.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


# -- helpers ---------------------------------------------------------------------------------
def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{what!r} must be a mapping, got {type(value).__name__}", what)
    return value


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and v == "")


def read_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV file, or a clear error naming it (missing, empty, unreadable)."""
    if not path.is_file():
        raise ScenarioError(f"{what}: file {str(path)!r} does not exist", str(path))
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ScenarioError(f"{what}: file {path.name!r} is empty", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{what}: file {path.name!r} is not valid CSV ({exc})", str(path)
        ) from None
    if df.empty:
        raise ScenarioError(f"{what}: file {path.name!r} has a header but no rows", str(path))
    return df


def _records(
    value: Any, base: Path, what: str, columns: list[str], required: list[str]
) -> list[dict[str, Any]]:
    if isinstance(value, str):
        df = read_table(base / value, what)
        unknown = [c for c in df.columns if c not in columns]
        if unknown:
            raise ScenarioError(
                f"{what}: file {value!r} has unknown column(s) {unknown}; allowed: {columns}",
                unknown[0],
            )
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise ScenarioError(f"{what}: file {value!r} lacks column(s) {missing}", missing[0])
        return [
            {k: (None if _is_missing(v) else v) for k, v in rec.items()}
            for rec in df.to_dict("records")
        ]
    if isinstance(value, list):
        for i, rec in enumerate(value):
            if not isinstance(rec, dict):
                raise ScenarioError(f"{what}[{i}] must be a mapping", what)
        return list(value)
    raise ScenarioError(f"{what!r} must be a CSV file name or a list of mappings", what)


def _site_series(
    value: Any, base: Path, horizon: Horizon, names: list[Any]
) -> dict[str, dict[str, np.ndarray]]:
    if value is None:
        return {}
    if not isinstance(value, str):
        raise ScenarioError("'timeseries' must name a CSV file", "timeseries")
    df = read_table(base / value, "timeseries")
    allowed = ["time", "site", *SERIES_COLUMNS]
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        raise ScenarioError(
            f"timeseries: file {value!r} has unknown column(s) {unknown}; allowed: {allowed}",
            unknown[0],
        )
    missing = [c for c in ("time", "site", "renewable_kw", "carbon") if c not in df.columns]
    if missing:
        raise ScenarioError(f"timeseries: file {value!r} lacks column(s) {missing}", missing[0])
    out: dict[str, dict[str, np.ndarray]] = {}
    df["site"] = df["site"].astype(str)
    unknown_sites = sorted(set(df["site"]) - {str(n) for n in names})
    if unknown_sites:
        raise ScenarioError(f"timeseries: unknown site(s) {unknown_sites}", unknown_sites[0])
    for site, g in df.groupby("site", sort=False):
        g = g.set_index("time")
        out[site] = {
            col: resample_to_horizon(g[col], horizon, f"site {site!r} series {col!r}")
            for col in SERIES_COLUMNS
            if col in g.columns
        }
    for n in names:
        if str(n) not in out:
            raise ScenarioError(f"timeseries: no rows for site {n!r}", str(n))
    return out


def _job(rec: dict[str, Any]) -> Job:
    rec = {k: v for k, v in rec.items() if not _is_missing(v)}
    for key in ("migratable", "preemptible"):
        if isinstance(rec.get(key), str):
            low = rec[key].strip().lower()
            if low in ("true", "1", "yes"):
                rec[key] = True
            elif low in ("false", "0", "no"):
                rec[key] = False
    for key in ("name", "origin", "kind"):
        if key in rec and not isinstance(rec[key], str):
            rec[key] = str(rec[key])
    return Job(**rec)


def _job_row(job: Job) -> dict[str, Any]:
    row = job.model_dump()
    row["release"] = job.release.isoformat()
    row["deadline"] = job.deadline.isoformat()
    row["allowed_regions"] = "|".join(job.allowed_regions) if job.allowed_regions else ""
    return row


def _wan(value: Any, base: Path) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, str):
        p = base / value
        if not p.is_file():
            raise ScenarioError(f"wan: file {str(p)!r} does not exist", str(p))
        try:
            g = nx.read_graphml(p)
        except Exception as exc:  # networkx raises several parse error types
            raise ScenarioError(
                f"wan: file {p.name!r} is not valid GraphML ({exc})", str(p)
            ) from None
        return nx.Graph(g)
    raise ScenarioError("'wan' must name a GraphML file or be a list of edges", "wan")
