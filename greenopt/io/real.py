"""A scenario for one real day, built from the public traces in ``../shared/data``.

:func:`build_real_scenario` combines, for the horizon starting at ``day`` 00:00 UTC:

- **sites**: one per Electricity Maps zone of :data:`ZONES` (São Paulo BR, Madrid ES, Oslo NO,
  Los Angeles US-CAL-CISO, Frankfurt DE, Dallas ERCOT); ``region`` is the zone id.
- **carbon**: the zone's Electricity Maps hourly *direct* intensity (gCO2/kWh) for the horizon
  (2022 and 2023 are available; a horizon outside them is an error naming the zone).
- **renewable_kw**: on-site solar of AC capacity ``solar_kw_per_gpu · gpus``. ``solar="auto"``
  (default) uses Solcast's measured normalised PV output of the zone's proxy city (São Paulo,
  Stockholm for Oslo, San Francisco for Los Angeles, Berlin for Frankfurt) when the horizon lies
  in the Solcast file (2022-06-08 → 2022-07-06), and otherwise — and always for Madrid and Dallas,
  which Solcast lacks — pvlib's clear-sky model at the site's coordinates scaled by a 0.75
  clearness index (:func:`greenopt.examples.profiles.solar_kw`). ``solar="pvlib"`` uses pvlib
  everywhere (one consistent, cloud-free-ish source), ``solar="solcast"`` requires Solcast for
  every site that has a proxy city.
- **WAN**: a full mesh between the sites; ``latency_ms`` is half the measured round-trip time
  between the sites' Google Cloud regions (``gcp-latency/raw_gcp_latency.csv``, mean of both
  directions; zones are matched to regions with ``gcp_dc_zonecode_mapper.json``, and Norway,
  which has no GCP region, uses europe-north1 in Finland); ``gbps`` is a parameter (the traces
  give no bandwidth). Routes follow least latency (MODEL.md §3), so a detour through a third
  site is taken where it is faster.
- **jobs**: ``round(philly_share · n_jobs)`` training jobs sampled from Microsoft Philly (multi-
  GPU, up to ``max_gpus``) and the rest from Alibaba OpenB (short 1–8 GPU tasks), turned into
  jobs by :class:`greenopt.io.traces.JobRules` (deadline = release + k × work, k by kind).
- **capacity**: each site gets ``gpus = max(max job GPUs, ceil8(Σ gpus·work_h / (S·H·util)))``
  with target utilisation ``util`` (default 0.5), so the day is busy but feasible.
  ``pue`` per site from :data:`ZONES` (cool climates lower); ``idle_kw = 0.05 kW`` per GPU.
  There is no price data in the folder: ``price`` is 0.

Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError
from greenopt.io.data import require_data_dir
from greenopt.io.formats import read_electricitymaps, read_solcast
from greenopt.io.traces import JobRules, gpu_hours, jobs_from_table, read_alibaba, read_philly
from greenopt.scenario import Horizon, Scenario, Site
from greenopt.scenario.resample import resample_to_horizon


@dataclass(frozen=True)
class Zone:
    """A site of the real scenario: where it is and which data describe it."""

    site: str
    zone: str  # Electricity Maps zone id (file prefix) and residency region
    latitude: float
    longitude: float
    gcp_zone: str | None  # the zone code of gcp_dc_zonecode_mapper.json, None if no GCP region
    gcp_region: str  # used when gcp_zone is None (or absent from the mapper)
    pue: float
    solcast_city: str | None


ZONES: tuple[Zone, ...] = (
    Zone("sao-paulo", "BR", -23.55, -46.63, "BR-CS", "southamerica-east1", 1.35, "São Paulo"),
    Zone("madrid", "ES", 40.42, -3.70, "ES", "europe-southwest1", 1.25, None),
    Zone("oslo", "NO", 59.91, 10.75, None, "europe-north1", 1.10, "Stockholm"),
    Zone(
        "los-angeles",
        "US-CAL-CISO",
        34.05,
        -118.24,
        "US-CAL-CISO",
        "us-west2",
        1.25,
        "San Francisco",
    ),
    Zone("frankfurt", "DE", 50.11, 8.68, "DE", "europe-west3", 1.20, "Berlin"),
    Zone("dallas", "ERCOT", 32.78, -96.80, "US-TEX-ERCO", "us-south1", 1.30, None),
)
IDLE_KW_PER_GPU = 0.05
SOLCAST_GLOBAL = "solar/solcast-2022/solcast2022_global_actual.csv"


@lru_cache(maxsize=32)
def _carbon_file(path: str) -> pd.Series:
    return read_electricitymaps(path, "direct")


@lru_cache(maxsize=16)
def _solcast(path: str, city: str) -> pd.Series:
    return read_solcast(path, city)


@lru_cache(maxsize=4)
def _philly(path: str) -> pd.DataFrame:
    return read_philly(path)


@lru_cache(maxsize=4)
def _alibaba(path: str) -> pd.DataFrame:
    return read_alibaba(path)


@lru_cache(maxsize=4)
def _gcp_rtt(path: str) -> dict[tuple[str, str], float]:
    from greenopt.io.formats import _need, _read_csv

    what = f"GCP latency file {Path(path).name!r}"
    df = _read_csv(path, what)
    _need(df, ["sending_region", "receiving_region", "milliseconds"], what, path)
    rtt: dict[tuple[str, str], list[float]] = {}
    for a, b, ms in df[["sending_region", "receiving_region", "milliseconds"]].itertuples(
        index=False
    ):
        rtt.setdefault(tuple(sorted((str(a), str(b)))), []).append(float(ms))
    return {k: float(np.mean(v)) for k, v in rtt.items()}


def zone_carbon(data: Path, zone: str, horizon: Horizon) -> np.ndarray:
    """Electricity Maps direct intensity of ``zone`` over ``horizon`` (files of every year it
    touches are joined)."""
    start = pd.Timestamp(horizon.start).tz_convert("UTC")
    end = pd.Timestamp(horizon.end).tz_convert("UTC")
    parts = []
    for year in range(start.year, end.year + 1):
        f = data / "carbon" / "electricitymaps" / f"{zone}_{year}_hourly.csv"
        if f.is_file():
            parts.append(_carbon_file(str(f)))
    what = f"Electricity Maps carbon of zone {zone!r}"
    if not parts:
        raise ScenarioError(
            f"{what}: no file for {start.year}"
            + (f"–{end.year}" if end.year != start.year else "")
            + f" in {data / 'carbon' / 'electricitymaps'}",
            zone,
        )
    series = pd.concat(parts).sort_index()
    series = series[~series.index.duplicated()]
    return resample_to_horizon(series, horizon, what)


def _solcast_covers(data: Path, horizon: Horizon) -> bool:
    f = data / SOLCAST_GLOBAL
    if not f.is_file():
        return False
    s = _solcast(str(f), "Berlin")
    return bool(
        s.index[0] <= pd.Timestamp(horizon.start)
        and s.index[-1] + pd.Timedelta(minutes=5) >= pd.Timestamp(horizon.end)
    )


def site_solar(
    data: Path, zone: Zone, horizon: Horizon, capacity_kw: float, solar: str
) -> tuple[np.ndarray, str]:
    """Solar power (kW) per slot of a site and the source used (``"solcast"``/``"pvlib"``)."""
    use_solcast = zone.solcast_city is not None and (
        solar == "solcast" or (solar == "auto" and _solcast_covers(data, horizon))
    )
    if use_solcast:
        s = _solcast(str(data / SOLCAST_GLOBAL), zone.solcast_city)
        what = f"Solcast solar of {zone.site!r} ({zone.solcast_city})"
        return resample_to_horizon(s, horizon, what) * capacity_kw, "solcast"
    from greenopt.examples.profiles import solar_kw

    return solar_kw(zone.latitude, zone.longitude, horizon.slot_starts, capacity_kw), "pvlib"


def gcp_wan(data: Path, zones: list[Zone], gbps: float) -> nx.Graph:
    """Full mesh between the zones' sites; latency = half the measured GCP round-trip time."""
    path = data / "wan" / "gcp-latency" / "raw_gcp_latency.csv"
    if not path.is_file():
        raise ScenarioError(f"GCP latency file {str(path)!r} does not exist", str(path))
    rtt = _gcp_rtt(str(path))
    mapper = path.parent / "gcp_dc_zonecode_mapper.json"
    by_zone: dict[str, str] = {}
    if mapper.is_file():
        for region, code in sorted(json.loads(mapper.read_text()).items()):
            by_zone.setdefault(str(code), str(region))  # first region (by name) of each zone
    region = {z.site: by_zone.get(z.gcp_zone or "", z.gcp_region) for z in zones}
    g = nx.Graph()
    for i, a in enumerate(zones):
        for b in zones[i + 1 :]:
            key = tuple(sorted((region[a.site], region[b.site])))
            if key not in rtt:
                raise ScenarioError(
                    f"GCP latency file has no measurement between {key[0]} and {key[1]} "
                    f"(sites {a.site!r}, {b.site!r})",
                    a.site,
                )
            g.add_edge(a.site, b.site, gbps=float(gbps), latency_ms=rtt[key] / 2.0)
    return g


def build_real_scenario(
    data_dir: str | os.PathLike[str] | None,
    day: str,
    n_sites: int = 6,
    n_jobs: int = 300,
    seed: int = 0,
    gbps: float = 10.0,
    slots: int = 24,
    slot_minutes: int = 60,
    philly_share: float = 0.3,
    max_gpus: int = 32,
    util: float = 0.5,
    solar: str = "auto",
    solar_kw_per_gpu: float = 0.5,
    site_gpus: int | None = None,
    rules: JobRules | None = None,
    wan_share: float = 1.0,
) -> Scenario:
    """A scenario for ``day`` (``"YYYY-MM-DD"``, horizon from 00:00 UTC) from real traces.

    See the module docstring for the sources and rules. ``n_sites`` takes the first sites of
    :data:`ZONES` (at most 6); ``data_dir=None`` looks for the data as
    :func:`greenopt.io.data.data_dir` does. Raises :class:`ScenarioError` when the data folder, a
    file or the day's data are missing.
    """
    data = require_data_dir(data_dir)
    if not 1 <= n_sites <= len(ZONES):
        raise ScenarioError(f"n_sites must be 1..{len(ZONES)}, got {n_sites}", "n_sites")
    if solar not in ("auto", "pvlib", "solcast"):
        raise ScenarioError(f"solar must be 'auto', 'pvlib' or 'solcast', got {solar!r}", "solar")
    if not 0 <= philly_share <= 1 or not 0 < util <= 1:
        raise ScenarioError("philly_share must be in [0, 1] and util in (0, 1]", "philly_share")
    try:
        start = pd.Timestamp(day, tz="UTC")
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"day {day!r} is not a date like '2023-06-21' ({exc})", "day") from None
    if start != start.normalize():
        raise ScenarioError(f"day {day!r} must be a date (the horizon starts at 00:00 UTC)", "day")
    horizon = Horizon(start=start, slot_minutes=slot_minutes, slots=slots)
    zones = list(ZONES[:n_sites])
    names = [z.site for z in zones]
    rules = rules or JobRules()

    # jobs first: their GPU-hours size the sites
    jobs_dir = data / "jobs"
    n_philly = round(philly_share * n_jobs)
    jobs = []
    if n_philly:
        jobs += jobs_from_table(
            _philly(str(jobs_dir / "philly_jobs.json")),
            horizon, names, n=n_philly, seed=seed, max_gpus=max_gpus, rules=rules,
        )  # fmt: skip
    if n_jobs - n_philly:
        jobs += jobs_from_table(
            _alibaba(str(jobs_dir / "openb_pod_list_default.csv")),
            horizon, names, n=n_jobs - n_philly, seed=seed, max_gpus=max_gpus, rules=rules,
        )  # fmt: skip
    if site_gpus is None:
        need = gpu_hours(jobs) / (n_sites * horizon.slots * horizon.dt_h * util)
        site_gpus = max(max((j.gpus for j in jobs), default=8), 8 * math.ceil(need / 8))

    sites = []
    for z in zones:
        renewable, _ = site_solar(data, z, horizon, solar_kw_per_gpu * site_gpus, solar)
        sites.append(
            Site(
                name=z.site,
                region=z.zone,
                gpus=site_gpus,
                pue=z.pue,
                idle_kw=IDLE_KW_PER_GPU * site_gpus,
                renewable_kw=np.round(np.clip(renewable, 0.0, None), 4),
                carbon=np.round(zone_carbon(data, z.zone, horizon), 3),
                latitude=z.latitude,
                longitude=z.longitude,
            )
        )
    wan = gcp_wan(data, zones, gbps) if n_sites > 1 else nx.Graph()
    return Scenario(
        name=f"real-{day}", horizon=horizon, sites=sites, jobs=jobs, wan=wan, wan_share=wan_share
    )


def gcp_zone_regions(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The file's GCP region → Electricity Maps zone mapping (for users choosing other sites)."""
    data = require_data_dir(data_dir)
    path = data / "wan" / "gcp-latency" / "gcp_dc_zonecode_mapper.json"
    return dict(json.loads(path.read_text()))
