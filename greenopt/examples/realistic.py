"""The realistic example: one June day across eight datacenters on five continents.

Everything is generated here, with no network access (the default day's PV and wind profiles
ship with the package, see :mod:`greenopt.examples.profiles`):

* **Sites** (:data:`SITES`): Oslo, Madrid, Frankfurt, West Texas, Silicon Valley, São Paulo, Mumbai
  and Sydney, with coordinates, residency region, H100-class GPU capacity, PUE and idle power.
* **Renewable supply**: on-site / contracted PV plants modelled with pvlib
  (:func:`~greenopt.examples.profiles.solar_kw`), and a West-Texas wind contract from the GE
  2.5-120 power curve in windpowerlib's bundled turbine library, driven by a synthetic nocturnal
  low-level-jet wind profile (:func:`~greenopt.examples.profiles.wind_kw`). Solar windows fall at
  different UTC hours (Sydney ≈ 22–06, Mumbai ≈ 01–13, Europe ≈ 04–19, São Paulo ≈ 10–21,
  California ≈ 13–03 UTC), so follow-the-sun migration can pay; Oslo (hydro grid) and São Paulo
  (hydro grid, 1 Gbit/s access link) are places where it cannot.
* **Grid carbon and price**: diurnal shapes (evening peak, solar dip) scaled so that their mean
  over the horizon equals a published regional level — see the citations in :data:`SITES`.
* **Jobs**: ``jobs`` (default 240) of the four kinds with GPU counts, power, checkpoint sizes,
  deadlines and data-residency rules drawn from the distributions in :func:`_draw_jobs`.
* **WAN**: the sites plus seven transit points (IXPs and cable landings) joined by 1–100 Gbit/s
  links whose one-way latency follows the great-circle distance; every node carries its
  ``latitude``/``longitude`` (for maps).

Feasibility is constructive: every job is placed on its origin's GPUs in a *witness* schedule
(latency-critical first, then evaluation, nearline, training) and its deadline is never earlier
than the witness completion, so a valid plan meeting every deadline without any migration exists.
:func:`build_with_witness` returns it alongside the scenario.

Units: kW, kWh, GB, Gbit/s, hours, gCO2eq/kWh; prices are **US dollars per kWh** of grid energy
(wholesale day-ahead levels; converted at the 2023 average rates noted next to each figure), so the
scenario's ``currency`` is ``"USD"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError
from greenopt.examples.profiles import solar_kw, wind_kw
from greenopt.scenario import Job, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")

#: Per-GPU IT power while a job runs, kW, by kind. An H100 SXM5 GPU draws up to 700 W (NVIDIA
#: H100 Tensor Core GPU datasheet, 2023: "Max thermal design power up to 700 W"); training keeps
#: it near TDP, evaluation/nearline batch work a little lower, latency-critical inference at
#: partial load lower still.
GPU_KW = {"training": 0.70, "evaluation": 0.60, "nearline": 0.55, "latency_critical": 0.45}
#: Host share per GPU drawn whatever runs (CPUs, NICs, fans, idle GPUs at ~70 W): a DGX H100
#: idles around 1.2 kW for 8 GPUs.
IDLE_KW_PER_GPU = 0.15
#: Bytes per parameter in a full training checkpoint: fp32 master weights + Adam moments (12 B) +
#: bf16 weights (2 B); cf. ZeRO (Rajbhandari et al., SC'20): 16 B/param of model states in
#: mixed-precision Adam, of which the fp16 gradients (2 B) are not checkpointed.
CHECKPOINT_BYTES_PER_PARAM = 14

EUR_USD = 1.081  # ECB euro reference rate, 2023 average


@dataclass(frozen=True)
class SiteSpec:
    """One site of the realistic example and the published figures its profiles follow.

    ``carbon_mean`` (gCO2eq/kWh, lifecycle) and ``price_mean`` ($/kWh) are the horizon means.
    The diurnal shape is ``1 + evening · cos(2π (h_local − peak_hour) / 24) − dip · u(t)`` with
    ``u`` the site's clear-sky PV shape (0..1), normalised to mean 1 over the horizon.
    """

    name: str
    region: str
    continent: str
    latitude: float
    longitude: float
    elevation_m: float
    gpus: int
    pue: float
    solar_kw: float  # AC capacity of the PV plant (0: none)
    clearness: float  # June clear-sky index for the PV model (clouds, monsoon)
    wind_kw: float  # contracted wind capacity (0: none)
    carbon_mean: float
    carbon_evening: float
    carbon_peak_hour: float
    carbon_dip: float
    price_mean: float
    price_evening: float
    price_peak_hour: float
    price_dip: float


# Carbon levels: Electricity Maps 2023 yearly means, lifecycle (LCA) basis, from the hourly data
# portal exports (zones NO, ES, DE, ERCOT, US-CAL-CISO, BR); India and Australia, where no such
# export is at hand, use Ember's yearly country figures (lifecycle) as published by Our World in
# Data, "Carbon intensity of electricity generation" (2024 values). Diurnal dips follow the June
# 2023 hour-of-day profiles of the same Electricity Maps zones (noon/mean ≈ 0.67 DE, 0.73 ES,
# 0.71 CAISO, 0.89 ERCOT; Norway *rises* ≈ 20 % at midday with imports; Brazil is flat ± 10 %).
#
# Price levels (wholesale day-ahead, 2023 averages):
#   NO1 Oslo  ≈ 76 øre/kWh (Europower's 2023 price-area overview) / 10.56 NOK per USD
#   ES        87.1 €/MWh (Red Eléctrica, "Markets 2023": OMIE day-ahead average)
#   DE        95.18 €/MWh (Bundesnetzagentur SMARD, "Der Strommarkt im Jahr 2023")
#   ERCOT     $55.90/MWh (North Hub day-ahead settlement average, 2023; A. Goel, "Navigating the
#             Waves: A Recap of ERCOT's 2023 Journey", from ERCOT settlement data)
#   CAISO     ≈ 6.5 ¢/kWh, trough 10:00–12:00 below 4 ¢, peak 20:00 above 13 ¢ (Thunder Said
#             Energy, "California electricity prices by hour", CAISO nodal LMPs, Aug 2023)
#   BR        R$ 69.04/MWh, the regulatory floor of the PLD where it sat through 2023 (CCEE)
#             / 4.99 BRL per USD
#   IN        ₹5.53/kWh (IEX day-ahead market, 2023 calendar-year weighted MCP) / 82.6 INR per USD
#   AU (NSW)  A$137/MWh (AEMO Quarterly Energy Dynamics Q2 2023, NSW) × 0.665 USD per AUD
#
# PUE spans hyperscale Nordic sites (≈ 1.1) to older sites in hot, humid climates (≈ 1.5); the
# Uptime Institute Global Data Center Survey 2023 reports an industry average of 1.58.
SITES: tuple[SiteSpec, ...] = (
    # name, region, continent, lat, lon, elevation m | GPUs, PUE, PV kW, clearness, wind kW
    # | carbon mean, evening, peak h, dip | price mean, evening, peak h, dip
    SiteSpec("oslo", "NO", "Europe", 59.91, 10.75, 20,
             128, 1.10, 40.0, 0.55, 0.0,
             34.0, 0.0, 0.0, -0.20, 0.76 / 10.56, 0.06, 18.0, 0.0),
    SiteSpec("madrid", "ES", "Europe", 40.42, -3.70, 650,
             192, 1.25, 260.0, 0.85, 0.0,
             160.0, 0.05, 21.0, 0.45, 87.1 / 1000 * EUR_USD, 0.25, 21.0, 0.45),
    SiteSpec("frankfurt", "DE", "Europe", 50.11, 8.68, 110,
             256, 1.20, 160.0, 0.60, 0.0,
             395.0, 0.05, 20.0, 0.55, 95.18 / 1000 * EUR_USD, 0.25, 20.0, 0.40),
    SiteSpec("texas", "US-TX", "North America", 32.47, -100.41, 650,
             192, 1.30, 0.0, 0.80, 260.0,
             380.0, 0.06, 20.0, 0.15, 55.90 / 1000, 0.35, 18.0, 0.20),
    SiteSpec("california", "US-CA", "North America", 37.35, -121.95, 20,
             256, 1.20, 380.0, 0.85, 0.0,
             261.0, 0.05, 20.0, 0.55, 0.065, 0.45, 20.0, 0.60),
    SiteSpec("sao-paulo", "BR", "South America", -23.55, -46.63, 760,
             96, 1.40, 70.0, 0.65, 0.0,
             83.0, 0.10, 4.0, 0.0, 69.04 / 1000 / 4.99, 0.0, 19.0, 0.0),
    SiteSpec("mumbai", "IN", "Asia", 19.08, 72.88, 10,
             128, 1.50, 140.0, 0.45, 0.0,
             708.0, 0.04, 21.0, 0.08, 5.53 / 82.6, 0.30, 21.0, 0.30),
    SiteSpec("sydney", "AU", "Oceania", -33.87, 151.21, 40,
             96, 1.30, 120.0, 0.70, 0.0,
             552.0, 0.05, 19.0, 0.20, 137.0 / 1000 * 0.665, 0.35, 19.0, 0.30),
)  # fmt: skip

#: Data-residency groups: a restricted job may run only inside its origin's group.
RESIDENCY = {
    "NO": ("NO", "ES", "DE"),  # EU/EEA (GDPR)
    "ES": ("NO", "ES", "DE"),
    "DE": ("NO", "ES", "DE"),
    "US-TX": ("US-TX", "US-CA"),
    "US-CA": ("US-TX", "US-CA"),
    "BR": ("BR",),  # LGPD
    "IN": ("IN",),  # DPDP Act localisation
    "AU": ("AU",),
}

#: Transit nodes (IXPs, cable landing points): name → (latitude, longitude).
TRANSIT = {
    "amsterdam": (52.37, 4.90),
    "marseille": (43.30, 5.37),
    "ashburn": (39.04, -77.49),
    "dallas": (32.78, -96.80),
    "los-angeles": (34.05, -118.24),
    "fortaleza": (-3.72, -38.54),
    "singapore": (1.35, 103.82),
}

#: WAN links (a, b, Gbit/s). Site access links are 1–40 Gbit/s, backbones up to 100 Gbit/s; the
#: long-haul links follow real cable systems (MAREA Bilbao–Virginia, EllaLink Fortaleza–Sines,
#: AAE-1/SEA-ME-WE Marseille–Mumbai, Southern Cross Sydney–Los Angeles, Indigo Singapore–Sydney).
LINKS: tuple[tuple[str, str, float], ...] = (
    ("oslo", "amsterdam", 10.0),
    ("frankfurt", "amsterdam", 100.0),
    ("frankfurt", "marseille", 100.0),
    ("madrid", "marseille", 40.0),
    ("amsterdam", "ashburn", 100.0),
    ("madrid", "ashburn", 40.0),
    ("ashburn", "dallas", 100.0),
    ("dallas", "texas", 10.0),
    ("dallas", "los-angeles", 100.0),
    ("los-angeles", "california", 100.0),
    ("ashburn", "fortaleza", 40.0),
    ("madrid", "fortaleza", 10.0),
    ("fortaleza", "sao-paulo", 1.0),
    ("marseille", "mumbai", 40.0),
    ("mumbai", "singapore", 40.0),
    ("singapore", "sydney", 10.0),
    ("sydney", "los-angeles", 10.0),
)

#: Share of each kind in the job mix (GPU-hours are dominated by the few training jobs, as in
#: production GPU clusters).
KIND_MIX = {"training": 0.20, "nearline": 0.35, "evaluation": 0.25, "latency_critical": 0.20}

_EARTH_KM = 6371.0
_FIBRE_KM_PER_MS = 200.0  # light in glass ≈ 2/3 c
_ROUTE_STRETCH = 1.5  # cable paths are longer than the great circle


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance: ``2R · asin(√(sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2)))``."""
    p1, l1, p2, l2 = map(math.radians, (*a, *b))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(h))


def link_latency_ms(a: tuple[float, float], b: tuple[float, float]) -> float:
    """One-way latency: ``stretch · distance / (200 km/ms)`` plus 0.5 ms of switching."""
    return round(_ROUTE_STRETCH * great_circle_km(a, b) / _FIBRE_KM_PER_MS + 0.5, 1)


def wan_edges() -> list[dict[str, Any]]:
    """The WAN as a list of edges ``{a, b, gbps, latency_ms}``."""
    where = {s.name: (s.latitude, s.longitude) for s in SITES} | TRANSIT
    return [
        {"a": a, "b": b, "gbps": gbps, "latency_ms": link_latency_ms(where[a], where[b])}
        for a, b, gbps in LINKS
    ]


def wan_graph() -> nx.Graph:
    """The WAN as a graph: :func:`wan_edges` on nodes that carry their ``latitude`` and
    ``longitude`` (sites and transit points, as the Topology Zoo reader gives them), so a map
    of the WAN can draw every node where it is."""
    g = nx.Graph()
    for node, (lat, lon) in ({s.name: (s.latitude, s.longitude) for s in SITES} | TRANSIT).items():
        g.add_node(node, latitude=lat, longitude=lon)
    for edge in wan_edges():
        g.add_edge(edge["a"], edge["b"], gbps=edge["gbps"], latency_ms=edge["latency_ms"])
    return g


def _local_hours(times: pd.DatetimeIndex, longitude: float) -> np.ndarray:
    """Mean solar time at the middle of each slot: UTC hour + longitude / 15."""
    step_h = (times[1] - times[0]) / pd.Timedelta(hours=1) if len(times) > 1 else 1.0
    utc = (times.hour + times.minute / 60.0).to_numpy(dtype=float) + step_h / 2
    return (utc + longitude / 15.0) % 24.0


def diurnal(
    mean: float,
    local_h: np.ndarray,
    solar_shape: np.ndarray,
    evening: float,
    peak: float,
    dip: float,
) -> np.ndarray:
    """``mean · f / mean(f)`` with ``f = 1 + evening · cos(2π(h − peak)/24) − dip · u``.

    ``f`` is floored at 0.1 so that a deep solar dip leaves a positive value.
    """
    f = 1.0 + evening * np.cos(2 * np.pi * (local_h - peak) / 24.0) - dip * solar_shape
    f = np.maximum(f, 0.1)
    return mean * f / f.mean()


def _site(spec: SiteSpec, times: pd.DatetimeIndex, weather_seed: int) -> Site:
    unit_pv = solar_kw(spec.latitude, spec.longitude, times, 1.0, clearness=spec.clearness)
    shape = unit_pv / max(float(unit_pv.max()), 1e-9)
    renewable = spec.solar_kw * unit_pv
    if spec.wind_kw > 0:
        renewable = renewable + wind_kw(
            spec.longitude,
            times,
            spec.wind_kw,
            turbine_type="GE120/2500",  # GE 2.5-120, common on the Texas plains
            hub_height_m=110.0,
            elevation_m=spec.elevation_m,
            temperature_c=30.0,  # June night/day mean at hub height, West Texas
            mean_ms=7.0,
            amplitude_ms=2.5,
            peak_local_hour=2.0,
            seed=weather_seed,
        )
    local_h = _local_hours(times, spec.longitude)
    carbon = diurnal(
        spec.carbon_mean,
        local_h,
        shape,
        spec.carbon_evening,
        spec.carbon_peak_hour,
        spec.carbon_dip,
    )
    price = diurnal(
        spec.price_mean, local_h, shape, spec.price_evening, spec.price_peak_hour, spec.price_dip
    )
    return Site(
        name=spec.name,
        region=spec.region,
        gpus=spec.gpus,
        pue=spec.pue,
        idle_kw=round(IDLE_KW_PER_GPU * spec.gpus, 2),
        renewable_kw=np.round(renewable, 3),
        carbon=np.round(carbon, 2),
        price=np.round(price, 5),
        latitude=spec.latitude,
        longitude=spec.longitude,
    )


@dataclass
class _JobDraft:
    """A job in slot units while the generator places it."""

    name: str
    kind: str
    origin: int  # site position
    release: int  # slot
    end: int  # exclusive slot: deadline = start + end · Δ
    work_h: float
    gpus: int
    state_gb: float
    restore_h: float
    residency: bool
    priority: float

    @property
    def preemptible(self) -> bool:
        return self.kind not in ("latency_critical", "evaluation")

    @property
    def migratable(self) -> bool:
        return self.kind != "latency_critical"


def _kind_counts(jobs: int) -> dict[str, int]:
    counts = {k: round(share * jobs) for k, share in KIND_MIX.items()}
    counts["nearline"] += jobs - sum(counts.values())
    return counts


def _draw_jobs(rng: np.random.Generator, jobs: int, T: int, dt: float) -> list[_JobDraft]:
    """Draw ``jobs`` jobs (slot-aligned releases and deadlines) from the per-kind distributions.

    ============== ========== ============ ======================= ==============================
    kind           GPUs       work (h)     deadline                state (GB)
    ============== ========== ============ ======================= ==============================
    training       8–64       6–16         release + 1.3–2.2×work  14 B/param, 1–140 B params
    nearline       1–8        1–8          release + 2–4×work      5–100 (data shards)
    evaluation     1–8        0.25–2       release + work + 1–4 h  2 B/param weights, 10–150
    latency_crit.  1–2        0.5–2        release + work          1–20 (weights, KV cache)
    ============== ========== ============ ======================= ==============================

    Training releases fall in the first 40 % of the horizon, nearline in the first 70 %; the
    releases of evaluation and latency-critical jobs follow local business hours (08–22 mean
    solar time) at their origin. Origins are assigned largest job first (by GPU-hours), among
    sites with at least twice the job's GPUs, with weights ``(free share of the site's
    GPU-hours)³`` so that every site gets a similar load. 12 % of jobs carry a data-residency
    rule (:data:`RESIDENCY`). Work is in quarter hours, capped by the window.
    """
    H = T * dt
    gpus_all = np.array([s.gpus for s in SITES], dtype=float)
    lon = np.array([s.longitude for s in SITES])

    def q(hours: float) -> float:  # work in quarter hours, at least one quarter
        return max(0.25, round(hours * 4) / 4)

    def slots_for(hours: float) -> int:
        return math.ceil(hours / dt - 1e-9)

    # 1. sizes, state, and the releases that do not depend on the origin
    drafts: list[_JobDraft] = []
    counts = _kind_counts(jobs)
    for kind in ("training", "nearline", "evaluation", "latency_critical"):
        for _ in range(counts[kind]):
            release = -1  # evaluation / latency-critical: set once the origin is known
            if kind == "training":
                gpus = int(rng.choice([8, 16, 32, 64], p=[0.25, 0.30, 0.25, 0.20]))
                lo, hi = {8: (1, 7), 16: (7, 13), 32: (13, 34), 64: (34, 140)}[gpus]
                params_b = math.exp(rng.uniform(math.log(lo), math.log(hi)))
                state = float(np.clip(CHECKPOINT_BYTES_PER_PARAM * params_b, 50.0, 2000.0))
                work = q(rng.uniform(6.0, 16.0))
                release = int(rng.uniform(0.0, 0.4 * H) // dt)
                span = slots_for(work * rng.uniform(1.3, 2.2))
                restore, prio = float(rng.uniform(0.08, 0.25)), 1.0
            elif kind == "nearline":
                gpus = int(rng.choice([1, 2, 4, 8], p=[0.20, 0.30, 0.30, 0.20]))
                state = float(rng.uniform(5.0, 100.0))
                work = q(rng.uniform(1.0, 8.0))
                release = int(rng.uniform(0.0, 0.7 * H) // dt)
                span = slots_for(work * rng.uniform(2.0, 4.0))
                restore, prio = float(rng.uniform(0.03, 0.08)), 1.0
            elif kind == "evaluation":
                gpus = int(rng.choice([1, 2, 4, 8], p=[0.25, 0.35, 0.25, 0.15]))
                state = float(rng.uniform(10.0, 150.0))
                work = q(rng.uniform(0.25, 2.0))
                span = slots_for(work + rng.uniform(1.0, 4.0))
                restore, prio = 0.05, 1.5
            else:
                gpus = int(rng.choice([1, 2], p=[0.6, 0.4]))
                state = float(rng.uniform(1.0, 20.0))
                work = q(rng.uniform(0.5, 2.0))
                span = slots_for(work)
                restore, prio = 0.0, 3.0
            drafts.append(
                _JobDraft(
                    name=f"{len(drafts):03d}-{kind.replace('_', '-')}",
                    kind=kind,
                    origin=-1,
                    release=release,
                    end=span,  # relative until the release is known
                    work_h=work,
                    gpus=gpus,
                    state_gb=round(state, 1),
                    restore_h=round(restore, 3),
                    residency=bool(rng.random() < 0.12),
                    priority=prio,
                )
            )

    # 2. origins, largest job first, filling sites evenly
    booked = np.zeros(len(SITES))
    for d in sorted(drafts, key=lambda d: (-d.gpus * d.work_h, d.name)):
        big_enough = gpus_all >= 2 * d.gpus
        free_share = np.clip(1.0 - booked / (gpus_all * H), 1e-3, None)
        w = np.where(big_enough, free_share**3, 0.0)
        d.origin = int(rng.choice(len(SITES), p=w / w.sum()))
        booked[d.origin] += d.gpus * d.work_h

    # 3. business-hour releases, windows inside the horizon
    for d in drafts:
        n = slots_for(d.work_h)
        if d.release < 0:
            d.release = int(rng.integers(0, max(1, T - n + 1)))  # fallback
            for _ in range(50):
                local = rng.uniform(8.0, 22.0)
                day = int(rng.integers(0, max(1, math.ceil(H / 24))))
                slot = int(((local - lon[d.origin] / 15.0) % 24.0 + 24.0 * day) // dt)
                if slot + n <= T:
                    d.release = slot
                    break
        d.release = min(d.release, T - 1)
        d.end = min(max(d.release + d.end, d.release + 1), T)
        d.work_h = min(d.work_h, (d.end - d.release) * dt)
    return drafts


def _place(
    draft: _JobDraft, free: np.ndarray, site: int, dt: float, trim: bool = False
) -> list[tuple[int, float]] | None:
    """Slots (and shares) where ``draft`` fits on ``site``'s free GPUs from its release, or None.

    Non-preemptible jobs need ``n = ⌈work/Δ⌉`` consecutive slots; preemptible ones the earliest
    ``n`` slots with room (with ``trim``, as many as there are, at least one). A slot is reserved
    whole (``gpus`` GPUs); the last share is ``(work − (n−1)Δ)/Δ``.
    """
    T = free.shape[1]
    n = math.ceil(draft.work_h / dt - 1e-9)
    room = free[site] >= draft.gpus
    if draft.preemptible:
        slots = np.flatnonzero(room[draft.release :])[:n] + draft.release
        if len(slots) < n and not (trim and len(slots) > 0):
            return None
        if len(slots) < n:  # trimmed: whole slots only
            return [(int(t), 1.0) for t in slots]
    else:
        for t0 in range(draft.release, T - n + 1):
            if room[t0 : t0 + n].all():
                slots = np.arange(t0, t0 + n)
                break
        else:
            return None
    last = draft.work_h / dt - (n - 1)
    return [(int(t), 1.0 if i < n - 1 else float(last)) for i, t in enumerate(slots)]


def _witness(drafts: list[_JobDraft], T: int, dt: float) -> list[tuple[str, int, str, float]]:
    """Place every job on free GPUs and return the ``job, slot, site, share`` rows.

    Order: latency-critical, evaluation (both by release), training (largest first), nearline.
    A job goes to its origin or, failing that, to the allowed site with the most free GPU-slots,
    which becomes its origin; its deadline is stretched to the placement if needed. A preemptible
    job that fits nowhere is trimmed to the whole slots its origin still has (the part of a longer
    run that fits today); a non-preemptible one raises :class:`ScenarioError`.
    """
    free = np.array([[s.gpus] * T for s in SITES], dtype=np.int64)
    rank = {"latency_critical": 0, "evaluation": 1, "training": 2, "nearline": 3}

    def order(d: _JobDraft) -> tuple:
        size = -d.gpus * d.work_h if d.kind == "training" else 0.0
        return (rank[d.kind], size, d.release, d.name)

    rows: list[tuple[str, int, str, float]] = []
    for d in sorted(drafts, key=order):
        region = SITES[d.origin].region
        allowed = RESIDENCY[region] if d.residency else None
        others = [
            int(i)
            for i in np.argsort(-free.sum(axis=1), kind="stable")
            if i != d.origin
            and SITES[i].gpus >= d.gpus
            and (allowed is None or SITES[i].region in allowed)
        ]
        placed, site = None, d.origin
        for site in [d.origin, *others]:
            placed = _place(d, free, site, dt)
            if placed is not None:
                break
        if placed is None:
            site = d.origin
            placed = _place(d, free, site, dt, trim=True)
            if placed is None:
                raise ScenarioError(
                    f"realistic example: job {d.name!r} ({d.gpus} GPUs, {d.work_h:g} h) does "
                    "not fit in the horizon at any site; ask for fewer jobs or more slots",
                    d.name,
                )
            d.work_h = len(placed) * dt
        d.origin = site
        slots = [t for t, _ in placed]
        for t in slots:
            free[d.origin, t] -= d.gpus
        if d.kind == "latency_critical":  # the request arrives when it is served
            d.release = slots[0]
            d.end = slots[-1] + 1
        d.end = max(d.end, slots[-1] + 1)
        rows += [(d.name, t, SITES[d.origin].name, share) for t, share in placed]
    return rows


def build_with_witness(
    seed: int = 7,
    jobs: int = 240,
    slots: int = 24,
    slot_minutes: int = 60,
    start: datetime | str | pd.Timestamp = START,
    weather_seed: int = 2023,
) -> tuple[Scenario, pd.DataFrame]:
    """The realistic scenario and a witness plan (``job, slot, site, share``) that runs every job
    at its origin and meets every deadline, proving the scenario feasible.

    ``seed`` drives the jobs, ``weather_seed`` the wind; both are deterministic.
    """
    if jobs < 0:
        raise ScenarioError(f"realistic example: jobs must be >= 0, got {jobs}", "jobs")
    if slots < 2 or slot_minutes <= 0:
        raise ScenarioError(
            f"realistic example: needs slots >= 2 and slot_minutes > 0 (got {slots}, "
            f"{slot_minutes})",
            "horizon",
        )
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise ScenarioError("realistic example: 'start' must be timezone-aware", "start")
    dt = slot_minutes / 60.0
    times = pd.date_range(start, periods=slots, freq=pd.Timedelta(minutes=slot_minutes))
    sites = [_site(spec, times, weather_seed) for spec in SITES]

    rng = np.random.default_rng(seed)
    drafts = _draw_jobs(rng, jobs, slots, dt)
    rows = _witness(drafts, slots, dt)

    def at(slot: int) -> pd.Timestamp:
        return start + pd.Timedelta(minutes=slot_minutes * slot)

    job_list = [
        Job(
            name=d.name,
            kind=d.kind,
            origin=SITES[d.origin].name,
            release=at(d.release),
            deadline=at(d.end),
            work_h=d.work_h,
            gpus=d.gpus,
            power_kw=round(GPU_KW[d.kind] * d.gpus, 3),
            state_gb=d.state_gb,
            restore_h=d.restore_h,
            migratable=d.migratable,
            preemptible=d.preemptible,
            allowed_regions=RESIDENCY[SITES[d.origin].region] if d.residency else None,
            priority=d.priority,
        )
        for d in drafts
    ]
    scenario = Scenario(
        name="realistic",
        horizon={"start": start, "slot_minutes": slot_minutes, "slots": slots},
        sites=sites,
        jobs=job_list,
        wan=wan_graph(),
        currency="USD",
    )
    witness = pd.DataFrame(rows, columns=["job", "slot", "site", "share"])
    return scenario, witness


def build(
    seed: int = 7,
    jobs: int = 240,
    slots: int = 24,
    slot_minutes: int = 60,
    start: datetime | str | pd.Timestamp = START,
    weather_seed: int = 2023,
) -> Scenario:
    """Build the realistic example (deterministic for given seeds); see the module docstring."""
    return build_with_witness(seed, jobs, slots, slot_minutes, start, weather_seed)[0]
