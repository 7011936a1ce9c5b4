"""Real GPU job traces (Microsoft Philly, Alibaba OpenB) → greenopt jobs with derived deadlines.

The traces give a job's size (GPUs), its duration and when it was submitted; they give no
deadline, checkpoint size or power. Two steps:

1. ``read_philly`` / ``read_alibaba`` read a trace into one table with the columns
   ``name, kind, gpus, gpu_frac, work_h, submit_tod_h`` (``submit_tod_h``: the hour of day of the
   submission on the trace's own clock; ``gpu_frac``: the share of each GPU the job uses).
2. ``jobs_from_table`` turns such a table into :class:`~greenopt.scenario.Job` objects for a
   horizon and a list of sites, by the documented rules below (:class:`JobRules`).

Rules (all parameters of :class:`JobRules`):

- **release**: the submission's hour of day, squeezed into the first ``release_span`` of the
  horizon — ``release_h = floor_slot(submit_tod_h / 24 · release_span · H)`` — so the trace's
  diurnal arrival pattern is kept and late arrivals still have room. Releases are snapped down to
  a slot start because planning is per slot.
- **deadline** = ``release + ceil_slot(max(k_kind · work_h, Δh))`` with the slack factor
  ``k_kind`` by kind (training 2, evaluation 2, nearline 3, latency_critical 1: run at once), and
  at most the horizon end.
- **work**: the trace duration (Philly ``runtime`` in minutes / 60; Alibaba
  ``(deletion − scheduled) / 3600``), at least ``min_work_h``. A job whose ``k · work`` does not
  fit before the horizon end is *clipped* (``clip_work=True``: ``work_h = room / k``, keeping its
  slack ratio) or dropped (``clip_work=False``).
- **power_kw** = ``gpus · gpu_frac · kw_per_gpu`` with ``kw_per_gpu = 0.5`` kW by default: a
  DGX-1-class server draws ≈ 3.5 kW for 8 V100/P100 GPUs (≈ 0.44 kW per GPU including its share of
  CPUs, memory and fans), rounded up for networking and storage.
- **state_gb** = ``gpus · gb_per_gpu[kind]``: a data-parallel training checkpoint holds the model
  and optimiser state of every GPU's shard (≈ 10 GB per GPU by default); short jobs move only
  weights and inputs (2 GB per GPU for evaluation and nearline jobs, 1 GB for latency-critical).
- **restore_h** by kind (default: training 0.05 h, others 0.01 h).
- **origin**: ``sites[crc32(name) mod S]`` — deterministic and independent of sampling.
- **preemptible**: all kinds but ``latency_critical``; all jobs are migratable.
- **sampling**: ``n`` jobs drawn without replacement with ``numpy.random.default_rng(seed)``
  from the usable rows (after filtering by ``max_gpus`` and, without clipping, by fit), then kept
  in trace order.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from greenopt.errors import ScenarioError, shown
from greenopt.scenario import Horizon, Job

TABLE_COLUMNS = ["name", "kind", "gpus", "gpu_frac", "work_h", "submit_tod_h"]

#: Alibaba quality-of-service class → job kind
ALIBABA_KINDS = {
    "LS": "latency_critical",  # latency-sensitive
    "BE": "nearline",  # best-effort
    "Burstable": "evaluation",
    "Guaranteed": "evaluation",
}


@dataclass(frozen=True)
class JobRules:
    """How trace rows become jobs (see the module docstring for the rules)."""

    slack: dict[str, float] = field(
        default_factory=lambda: {
            "training": 2.0,
            "evaluation": 2.0,
            "nearline": 3.0,
            "latency_critical": 1.0,
        }
    )
    default_slack: float = 2.0
    kw_per_gpu: float = 0.5
    gb_per_gpu: dict[str, float] = field(
        default_factory=lambda: {
            "training": 10.0,
            "evaluation": 2.0,
            "nearline": 2.0,
            "latency_critical": 1.0,
        }
    )
    default_gb_per_gpu: float = 2.0
    restore_h: dict[str, float] = field(default_factory=lambda: {"training": 0.05})
    default_restore_h: float = 0.01
    release_span: float = 0.75
    min_work_h: float = 1.0 / 60.0
    clip_work: bool = True

    def k(self, kind: str) -> float:
        return float(self.slack.get(kind, self.default_slack))


# -- reading traces ----------------------------------------------------------------------------
def _file(path: str | os.PathLike[str], what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"{what}: file {str(p)!r} does not exist", str(p))
    return p


def read_philly(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Philly ``jobs.json`` (list of ``{id, num_gpus, runtime [min], submitted_time, ...}``).

    Every Philly job is taken as ``training`` (the trace is of DNN training jobs); ``work_h =
    runtime / 60``; ``submit_tod_h`` is the hour of day of ``submitted_time`` (trace clock).
    """
    p = _file(path, "Philly trace")
    what = f"Philly trace {p.name!r}"
    try:
        raw = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{what}: not valid JSON ({shown(exc, 120)[1:-1]})", str(p)) from None
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{what}: expected a non-empty JSON list of jobs", str(p))
    df = pd.DataFrame(raw)
    missing = [c for c in ("id", "num_gpus", "runtime", "submitted_time") if c not in df.columns]
    if missing:
        raise ScenarioError(f"{what}: jobs lack field(s) {missing}", missing[0])
    try:
        submitted = pd.to_datetime(df["submitted_time"], format="mixed")
    except (ValueError, TypeError) as exc:
        raise ScenarioError(
            f"{what}: bad 'submitted_time' ({shown(exc, 80)[1:-1]})", "submitted_time"
        ) from None
    tod = submitted.dt.hour + submitted.dt.minute / 60 + submitted.dt.second / 3600
    out = pd.DataFrame(
        {
            "name": "philly-" + df["id"].astype(str).str.replace("application_", "", regex=False),
            "kind": "training",
            "gpus": pd.to_numeric(df["num_gpus"], errors="coerce"),
            "gpu_frac": 1.0,
            "work_h": pd.to_numeric(df["runtime"], errors="coerce") / 60.0,
            "submit_tod_h": tod,
        }
    )
    return _checked(out, what)


def read_alibaba(path: str | os.PathLike[str], keep_censored: bool = False) -> pd.DataFrame:
    """Alibaba OpenB ``openb_pod_list_*.csv`` → GPU tasks.

    Columns used: ``name, num_gpu, gpu_milli, qos, pod_phase, creation_time, scheduled_time,
    deletion_time`` (seconds from the trace start). Kept: tasks with ``num_gpu ≥ 1`` that ran
    (``pod_phase`` not ``Pending``); dropped unless ``keep_censored``: tasks still running at the
    trace end (``deletion_time`` equal to the file's largest), whose duration is unknown.
    ``work_h = (deletion − scheduled) / 3600`` (``creation`` where ``scheduled`` is empty);
    ``gpu_frac = gpu_milli / 1000`` for single-GPU tasks that share a GPU, else 1; kind from
    ``qos`` via :data:`ALIBABA_KINDS` (``nearline`` when absent or unknown).
    Files without the time columns (e.g. ``openb_pod_list_multigpu50.csv``) carry no durations
    and are refused with an error naming the missing columns.
    """
    p = _file(path, "Alibaba trace")
    what = f"Alibaba trace {p.name!r}"
    try:
        df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise ScenarioError(f"{what}: file is empty", str(p)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = shown(str(exc).splitlines()[-1] if str(exc) else type(exc).__name__, 120)
        raise ScenarioError(f"{what}: not valid CSV ({reason[1:-1]})", str(p)) from None
    need = ["name", "num_gpu", "creation_time", "deletion_time"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        from greenopt.io.formats import header_hint

        # a file with none of them may be any file at all: its header is not quoted
        hint = "" if len(missing) == len(need) else f"; {header_hint(df.columns)}"
        raise ScenarioError(
            f"{what}: lacks column(s) {missing} (a task's duration needs creation/deletion "
            f"times){hint}",
            missing[0],
        )
    if df.empty:
        raise ScenarioError(f"{what}: has a header but no rows", str(p))
    df = df[pd.to_numeric(df["num_gpu"], errors="coerce") >= 1]
    if "pod_phase" in df.columns:
        df = df[df["pod_phase"].astype(str) != "Pending"]
    end = pd.to_numeric(df["deletion_time"], errors="coerce")
    if not keep_censored and len(df):
        df = df[end < end.max()]
        end = end[df.index]
    start = pd.to_numeric(df["creation_time"], errors="coerce")
    if "scheduled_time" in df.columns:
        start = pd.to_numeric(df["scheduled_time"], errors="coerce").fillna(start)
    gpus = pd.to_numeric(df["num_gpu"], errors="coerce")
    milli = (
        pd.to_numeric(df["gpu_milli"], errors="coerce").fillna(1000.0)
        if "gpu_milli" in df.columns
        else pd.Series(1000.0, index=df.index)
    )
    qos = df["qos"].astype(str) if "qos" in df.columns else pd.Series("", index=df.index)
    out = pd.DataFrame(
        {
            "name": df["name"].astype(str),
            "kind": qos.map(ALIBABA_KINDS).fillna("nearline"),
            "gpus": gpus,
            "gpu_frac": np.where(gpus == 1, np.clip(milli / 1000.0, 0.0, 1.0), 1.0),
            "work_h": (end - start) / 3600.0,
            "submit_tod_h": (start % 86400) / 3600.0,
        }
    )
    return _checked(out.reset_index(drop=True), what)


def _checked(df: pd.DataFrame, what: str) -> pd.DataFrame:
    bad = df[["gpus", "work_h", "submit_tod_h"]].isna().any(axis=1) | (df["work_h"] < 0)
    if bad.any():
        row = df.loc[bad].iloc[0]
        raise ScenarioError(
            f"{what}: {int(bad.sum())} job(s) with a missing or invalid GPU count, duration or "
            f"time, first {shown(row['name'])}",
            str(row["name"]),
        )
    if df["name"].duplicated().any():
        dup = df.loc[df["name"].duplicated(), "name"].iloc[0]
        raise ScenarioError(f"{what}: job name {shown(dup)} appears twice", str(dup))
    df = df.copy()
    df["gpus"] = df["gpus"].astype(int)
    return df


# -- turning a table into jobs -----------------------------------------------------------------
def jobs_from_table(
    table: pd.DataFrame,
    horizon: Horizon,
    sites: Sequence[str],
    n: int | None = None,
    seed: int = 0,
    max_gpus: int | None = None,
    rules: JobRules | None = None,
) -> list[Job]:
    """Jobs for ``horizon`` from a trace table (columns :data:`TABLE_COLUMNS`), by ``rules``.

    ``n`` samples that many jobs (seeded); ``None`` takes all usable rows. Raises
    :class:`ScenarioError` when fewer than ``n`` rows are usable.
    """
    rules = rules or JobRules()
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(f"job table lacks column(s) {missing}", missing[0])
    if not sites:
        raise ScenarioError("jobs need at least one site to originate from", "sites")
    if not 0 < rules.release_span <= 1:
        raise ScenarioError(f"release_span must be in (0, 1], got {rules.release_span}", "rules")
    dt = horizon.dt_h
    H = horizon.slots * dt
    df = table.reset_index(drop=True)
    if max_gpus is not None:
        df = df[df["gpus"] <= max_gpus]
    # release: hour of day squeezed into the first release_span of the horizon, snapped to a slot
    rel_slot = np.floor(df["submit_tod_h"].to_numpy() % 24.0 / 24.0 * rules.release_span * H / dt)
    rel_slot = np.minimum(rel_slot, horizon.slots - 1)
    release_h = rel_slot * dt
    k = df["kind"].map(rules.k).to_numpy(dtype=float)
    work = np.maximum(df["work_h"].to_numpy(dtype=float), rules.min_work_h)
    room = H - release_h
    fits = k * work <= room + 1e-9
    if rules.clip_work:
        work = np.where(fits, work, room / k)
    else:
        keep = fits
        df, release_h, k, work = df[keep], release_h[keep], k[keep], work[keep]
    if n is not None:
        if n > len(df):
            raise ScenarioError(
                f"asked for {n} jobs but the trace has only {len(df)} usable ones", "n"
            )
        pick = np.sort(np.random.default_rng(seed).choice(len(df), size=n, replace=False))
        df, release_h, k, work = df.iloc[pick], release_h[pick], k[pick], work[pick]
    # deadline: release + k·work rounded up to whole slots (at least one), at most the horizon end
    span = np.maximum(np.ceil(k * work / dt - 1e-9), 1.0) * dt
    deadline_h = np.minimum(release_h + span, H)
    work = np.minimum(work, deadline_h - release_h)

    start = horizon.start
    jobs: list[Job] = []
    for i, row in enumerate(df.itertuples(index=False)):
        kind = str(row.kind)
        gpus = int(row.gpus)
        name = str(row.name)
        jobs.append(
            Job(
                name=name,
                kind=kind,
                origin=sites[zlib.crc32(name.encode()) % len(sites)],
                release=start + timedelta(hours=float(release_h[i])),
                deadline=start + timedelta(hours=float(deadline_h[i])),
                work_h=math.floor(float(work[i]) * 1e6) / 1e6,  # never past the window
                gpus=gpus,
                power_kw=round(gpus * float(row.gpu_frac) * rules.kw_per_gpu, 6),
                state_gb=gpus * float(rules.gb_per_gpu.get(kind, rules.default_gb_per_gpu)),
                restore_h=float(rules.restore_h.get(kind, rules.default_restore_h)),
                migratable=True,
                preemptible=kind != "latency_critical",
            )
        )
    return jobs


def jobs_from_philly(
    path: str | os.PathLike[str],
    horizon: Horizon,
    sites: Sequence[str],
    n: int | None = None,
    seed: int = 0,
    max_gpus: int | None = None,
    rules: JobRules | None = None,
) -> list[Job]:
    """Training jobs from a Philly ``jobs.json`` (see :func:`read_philly`, :class:`JobRules`)."""
    return jobs_from_table(read_philly(path), horizon, sites, n, seed, max_gpus, rules)


def jobs_from_alibaba(
    path: str | os.PathLike[str],
    horizon: Horizon,
    sites: Sequence[str],
    n: int | None = None,
    seed: int = 0,
    max_gpus: int | None = None,
    rules: JobRules | None = None,
) -> list[Job]:
    """Short GPU tasks from an Alibaba ``openb_pod_list_*.csv`` (see :func:`read_alibaba`)."""
    return jobs_from_table(read_alibaba(path), horizon, sites, n, seed, max_gpus, rules)


def gpu_hours(jobs: Sequence[Job]) -> float:
    """Total GPU-hours of work, ``Σ gpus · work_h`` (for sizing site capacity)."""
    return float(math.fsum(j.gpus * j.work_h for j in jobs))
