"""Scenario files (INTERFACE.md): a YAML file with CSV tables and a GraphML or inline WAN.

```yaml
name: example
horizon: {start: "2023-06-01T00:00:00Z", slot_minutes: 60, slots: 24}
wan_share: 1.0
net_kwh_per_gb: 0.005
migration_alpha: 0.1      # the dwell rule of MODEL.md §5; null turns it off
currency: EUR             # optional: the unit of price and cost
sites: sites.csv          # or a list of mappings
timeseries: timeseries.csv  # time, site, renewable_kw, carbon[, price]
wan: wan.graphml          # or a list of {a, b, gbps, latency_ms}
jobs: jobs.csv            # or a list of mappings; allowed_regions separated by "|"
forecasts: {issued: forecasts.csv, history: history.csv}  # optional (greenopt.io.forecasts)
```

**A scenario file is data.** The files it names resolve inside the YAML file's folder (after
``..`` and symbolic links are resolved); an absolute path, a ``~`` path or one that leads out of
the folder is refused with a :class:`~greenopt.errors.ScenarioError` naming the field and the
path, unless the caller passes ``load_scenario(path, allow_outside=True)`` for a file it trusts.
Otherwise a scenario someone shared could make greenopt read (and quote in an error) any file the
user can read. Errors about a file never quote more than a short, inert snippet of it: a file
that is not the table it is named as is described by what it lacks, not by what it holds.

Text cells of the CSV files are read with the quoting of :mod:`greenopt.io.spreadsheet` undone
(``save_scenario`` writes them spreadsheet-safe), and as text: a site named ``007`` or ``NA``
stays that name. A jobs table with a header and no rows is a scenario with no jobs (MODEL.md §4).
Series at another resolution are resampled by the time-weighted mean; a series that does not
cover the horizon, or has a gap inside it, is an error (MODEL.md §1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import yaml

from greenopt.errors import ScenarioError, shown
from greenopt.io.forecasts import read_forecasts_entry, write_forecasts
from greenopt.io.spreadsheet import unescape_frame, write_csv
from greenopt.limits import check_scenario_size
from greenopt.scenario import Horizon, Job, Scenario, Site
from greenopt.scenario.resample import resample_to_horizon

# ``plan`` holds planning options (method, objective, ...) read by the command line, not here.
TOP_KEYS = {
    "name",
    "horizon",
    "wan_share",
    "net_kwh_per_gb",
    "migration_alpha",
    "currency",
    "sites",
    "timeseries",
    "wan",
    "jobs",
    "forecasts",
    "plan",
}
SITE_COLUMNS = ["name", "region", "gpus", "pue", "idle_kw", "grid_kw_max", "latitude", "longitude"]
SERIES_COLUMNS = ["renewable_kw", "carbon", "price"]
JOB_COLUMNS = list(Job.model_fields)
_REQUIRED_JOB = [n for n, f in Job.model_fields.items() if f.is_required()]
_REQUIRED_SITE = ["name", "gpus"]
_SERIES_ALLOWED = ["time", "site", *SERIES_COLUMNS]
_REQUIRED_SERIES = ["time", "site", "renewable_kw", "carbon"]
#: Columns read as text, exactly as written (no number parsing, no "NA" → missing).
TEXT_COLUMNS = {
    "sites": ["name", "region"],
    "jobs": ["name", "kind", "origin", "release", "deadline", "allowed_regions"],
    "timeseries": ["time", "site"],
}
#: What pandas reads as missing by default (its documented list); text columns: only "".
_NA_TOKENS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip


def load_scenario(path: str | os.PathLike[str], *, allow_outside: bool = False) -> Scenario:
    """Read a scenario YAML file (and the CSV/GraphML files it names).

    The files it names must lie inside the YAML file's folder (see the module docstring);
    ``allow_outside=True`` lifts that for a scenario file you trust.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file {str(path)!r} does not exist", str(path))
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML ({exc})", str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path.name}: not a text file (not UTF-8)", str(path)) from None
    if doc is None:
        raise ScenarioError(f"{path.name}: the file is empty", str(path))
    if not isinstance(doc, dict):
        raise ScenarioError(
            f"{path.name}: must be a mapping of keys, got {type(doc).__name__}", str(path)
        )
    unknown = sorted(map(str, set(doc) - TOP_KEYS))
    if unknown:
        raise ScenarioError(
            f"{path.name}: unknown key(s) {[shown(k)[1:-1] for k in unknown[:5]]}; "
            f"allowed: {sorted(TOP_KEYS)}",
            unknown[0],
        )
    for key in ("horizon", "sites"):
        if key not in doc:
            raise ScenarioError(f"{path.name}: key {key!r} is missing", key)
    files = _Folder(path.parent, allow_outside)
    horizon = Horizon(**_mapping(doc["horizon"], "horizon"))
    site_table = _table(doc["sites"], files, "sites", SITE_COLUMNS, _REQUIRED_SITE)
    job_table = _table(doc.get("jobs", []), files, "jobs", JOB_COLUMNS, _REQUIRED_JOB)
    # before tens of thousands of models are built: a scenario too large fails in seconds
    check_scenario_size(len(job_table), len(site_table), horizon.slots)
    site_rows = _rows(site_table)
    series = _site_series(doc.get("timeseries"), files, horizon, [r.get("name") for r in site_rows])
    sites = []
    for row in site_rows:
        row = {k: v for k, v in row.items() if not _is_missing(v)}
        name = row.get("name")
        row = {**series.get(name, {}), **row}
        sites.append(Site(**row))
    jobs = [_job(r) for r in _rows(job_table)]
    wan = _wan(doc.get("wan"), files)
    keys = ("name", "wan_share", "net_kwh_per_gb", "migration_alpha", "currency")
    extra = {k: doc[k] for k in keys if k in doc}
    names = [s.name for s in sites]
    forecasts = read_forecasts_entry(doc.get("forecasts"), files.resolve, horizon, names)
    return Scenario(horizon=horizon, sites=sites, jobs=jobs, wan=wan, forecasts=forecasts, **extra)


def referenced_files(path: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """The files a scenario YAML names, as ``(field, path)`` — what :func:`load_scenario` would
    read besides the YAML itself (``sites``, ``timeseries``, ``jobs``, ``wan``, ``forecasts``),
    resolved by the same rule (inside its folder). A reference that rule refuses, or a YAML that
    does not parse, is left out: loading the scenario reports it. ``greenopt batch`` keys a
    task by these files' bytes, so a changed ``jobs.csv`` re-plans the task."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(doc, dict):
        return []
    files = _Folder(path.parent, allow_outside=False)
    named: list[tuple[str, Any]] = [(k, doc.get(k)) for k in ("sites", "timeseries", "jobs", "wan")]
    fc = doc.get("forecasts")
    if isinstance(fc, dict):
        named += [(f"forecasts.{k}", fc.get(k)) for k in ("issued", "history")]
    else:
        named.append(("forecasts", fc))
    out: list[tuple[str, Path]] = []
    for field, value in named:
        if isinstance(value, str):
            try:
                out.append((field, files.resolve(value, field)))
            except ScenarioError:
                continue
    return out


class _Folder:
    """Where a scenario file's references may point: inside ``base`` unless ``allow_outside``."""

    def __init__(self, base: Path, allow_outside: bool) -> None:
        self.base = base
        self.root = base.resolve()
        self.allow_outside = allow_outside

    def resolve(self, value: str, field: str) -> Path:
        """The file that ``field: value`` names, or a ScenarioError naming both when it is
        absolute, under ``~`` or leads out of the folder (after ``..`` and symbolic links)."""
        if not value.strip():
            raise ScenarioError(f"{field}: the file name is empty", field)
        if self.allow_outside:
            return (self.base / Path(value).expanduser()).resolve()
        outside = value.startswith("~") or Path(value).is_absolute()
        target = (self.base / value).resolve()
        if outside or not target.is_relative_to(self.root):
            raise ScenarioError(
                f"{field}: {shown(value, 200)} points outside the scenario's folder "
                f"{str(self.root)!r}; a scenario file may only name files inside its own folder "
                "(load_scenario(..., allow_outside=True) allows it for a file you trust)",
                field,
            )
        return target


def save_scenario(scenario: Scenario, folder: str | os.PathLike[str]) -> Path:
    """Write ``scenario.yaml`` with ``sites.csv``, ``timeseries.csv``, ``jobs.csv`` and
    ``wan.graphml`` into ``folder``; return the YAML path. ``load_scenario`` gives it back equal
    (text cells are written spreadsheet-safe, :mod:`greenopt.io.spreadsheet`, and read back as
    they were).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sites = pd.DataFrame(
        [{c: getattr(s, c) for c in SITE_COLUMNS} for s in scenario.sites], columns=SITE_COLUMNS
    )
    write_csv(sites, folder / "sites.csv")
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
    write_csv(ts, folder / "timeseries.csv")
    jobs = pd.DataFrame([_job_row(j) for j in scenario.jobs], columns=JOB_COLUMNS)
    write_csv(jobs, folder / "jobs.csv")
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
        **({"currency": scenario.currency} if scenario.currency else {}),
        "sites": "sites.csv",
        "timeseries": "timeseries.csv",
        "wan": "wan.graphml",
        "jobs": "jobs.csv",
    }
    if scenario.forecasts is not None:
        doc["forecasts"] = write_forecasts(scenario.forecasts, folder)
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


def read_table(path: Path, what: str, *, allow_empty: bool = False) -> pd.DataFrame:
    """A CSV file, or a clear error naming it (missing, empty, unreadable). Text columns
    (:data:`TEXT_COLUMNS` of ``what``) are read as text and unquoted (:mod:`~greenopt.io.
    spreadsheet`). A header without rows is an error unless ``allow_empty``."""
    if not path.is_file():
        raise ScenarioError(f"{what}: file {str(path)!r} does not exist", str(path))
    text = TEXT_COLUMNS.get(what, [])
    na = {c: [""] for c in text}
    na.update({c: _NA_TOKENS for c in _ALL_COLUMNS.get(what, []) if c not in text})
    try:
        df = pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False, na_values=na)
    except pd.errors.EmptyDataError:
        raise ScenarioError(f"{what}: file {path.name!r} is empty", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        # the parser's own words name a line and a count, never a cell; capped all the same
        reason = shown(str(exc).splitlines()[-1] if str(exc) else type(exc).__name__, 120)
        raise ScenarioError(
            f"{what}: file {path.name!r} is not valid CSV ({reason[1:-1]})", str(path)
        ) from None
    if df.empty and not allow_empty:
        raise ScenarioError(f"{what}: file {path.name!r} has a header but no rows", str(path))
    return unescape_frame(df)


_ALL_COLUMNS = {"sites": SITE_COLUMNS, "jobs": JOB_COLUMNS, "timeseries": _SERIES_ALLOWED}


def check_header(
    df: pd.DataFrame, what: str, file: str, allowed: list[str], required: list[str]
) -> None:
    """The table's header names the columns a ``what`` table has, or a ScenarioError that says
    what is wrong without quoting what the file holds: a header with none of the required
    columns is "not a ``what`` table" (it may be any file at all); otherwise unknown and
    missing columns are named, each shown short and inert."""
    cols = [str(c) for c in df.columns]
    if not any(c in required for c in cols):
        raise ScenarioError(
            f"{what}: file {shown(file, 120)} does not look like a {what} table: none of the "
            f"required columns {required} is in its first line ({len(cols)} column(s) there)",
            file,
        )
    unknown = [c for c in cols if c not in allowed]
    if unknown:
        names = ", ".join(shown(c) for c in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ScenarioError(
            f"{what}: file {shown(file, 120)} has unknown column(s) {names}{more}; "
            f"allowed: {allowed}",
            unknown[0],
        )
    missing = [c for c in required if c not in cols]
    if missing:
        raise ScenarioError(
            f"{what}: file {shown(file, 120)} lacks column(s) {missing}", missing[0]
        )


def _table(
    value: Any, files: _Folder, what: str, columns: list[str], required: list[str]
) -> pd.DataFrame | list[dict[str, Any]]:
    """The ``what`` table a scenario names (a checked CSV file) or lists inline."""
    if isinstance(value, str):
        # a jobs table with a header and no rows is an idle day (MODEL.md §4)
        df = read_table(files.resolve(value, what), what, allow_empty=what == "jobs")
        check_header(df, what, value, columns, required)
        return df
    if isinstance(value, list):
        for i, rec in enumerate(value):
            if not isinstance(rec, dict):
                raise ScenarioError(f"{what}[{i}] must be a mapping", what)
        return list(value)
    raise ScenarioError(f"{what!r} must be a CSV file name or a list of mappings", what)


def _rows(table: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table's rows as mappings, empty cells as ``None``."""
    if isinstance(table, list):
        return table
    return [
        {k: (None if _is_missing(v) else v) for k, v in rec.items()}
        for rec in table.to_dict("records")
    ]


def _site_series(
    value: Any, files: _Folder, horizon: Horizon, names: list[Any]
) -> dict[str, dict[str, np.ndarray]]:
    if value is None:
        return {}
    if not isinstance(value, str):
        raise ScenarioError("'timeseries' must name a CSV file", "timeseries")
    df = read_table(files.resolve(value, "timeseries"), "timeseries")
    check_header(df, "timeseries", value, _SERIES_ALLOWED, _REQUIRED_SERIES)
    out: dict[str, dict[str, np.ndarray]] = {}
    df["site"] = df["site"].astype(str)
    unknown_sites = sorted(set(df["site"]) - {str(n) for n in names})
    if unknown_sites:
        listed = ", ".join(shown(n) for n in unknown_sites[:5])
        more = f" and {len(unknown_sites) - 5} more" if len(unknown_sites) > 5 else ""
        raise ScenarioError(f"timeseries: unknown site(s) {listed}{more}", unknown_sites[0])
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


def _wan(value: Any, files: _Folder) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, str):
        p = files.resolve(value, "wan")
        if not p.is_file():
            raise ScenarioError(f"wan: file {str(p)!r} does not exist", str(p))
        try:
            g = nx.read_graphml(p)
        except Exception as exc:  # networkx raises several parse error types
            # the XML parser names a line and column; other messages may quote the file: capped
            reason = shown(f"{type(exc).__name__}: {exc}", 120)[1:-1]
            raise ScenarioError(
                f"wan: file {p.name!r} is not valid GraphML ({reason})", str(p)
            ) from None
        return nx.Graph(g)
    raise ScenarioError("'wan' must name a GraphML file or be a list of edges", "wan")
