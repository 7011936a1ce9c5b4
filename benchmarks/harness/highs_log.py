"""Read HiGHS's MIP log: the branch-and-bound progress table and the closing report.

``greenopt.plan(..., method="milp", log_file=PATH)`` makes HiGHS write its log to ``PATH``. Every
HiGHS run *appends* to that file, so one plan can leave several runs in it: the MILP planner's
LP-guided first phase (a restricted model) and then the full model. Each run's progress table
looks like::

    Src  Proc. InQueue |  Leaves   Expl. | BestBound       BestSol              Gap |  ...   Time
             0       0         0   0.00%   34.52477031     271.1324801       87.27% ...   0.4s
     C       0       0         0   0.00%   134.9343293     188.3407169       28.36% ...   5.3s

(``...``: the columns ``Cuts InLp Confl. | LpIters``.)

``BestSol`` and ``Gap`` read ``inf`` before the first incumbent (and ``Gap`` reads ``Large``
when the bound's sign differs); both become NaN here. Times are seconds since that run started.
:func:`parse_highs_log` returns one row per table line, with ``run`` (0, 1, ...) and
``elapsed_s``: the time shifted by the reported ``Timing`` of the earlier runs, so the runs of
one plan line up on a single clock (model building between runs is not in the log and is left
out).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

LOG_COLUMNS = [
    "run",
    "source",
    "nodes",
    "best_bound",
    "best_sol",
    "gap",
    "time_s",
    "elapsed_s",
]

_RUN_BOUNDARY = re.compile(r"^(?:Running HiGHS (\S+)|MIP\b.*\bhas \d+ rows)", re.MULTILINE)
_TABLE_HEADER = re.compile(r"^\s*Src\s+Proc\.\s+InQueue")
_REPORT_VALUE = re.compile(r"^\s{2}(Status|Primal bound|Dual bound|Gap|Timing)\s{2,}(.+?)\s*$")


@dataclass(frozen=True)
class RunSummary:
    """The closing report of one HiGHS run (``None`` where it has no value)."""

    run: int
    version: str | None
    status: str | None
    primal_bound: float | None
    dual_bound: float | None
    gap: float | None  # a fraction (0.0123 for "1.23%")
    timing_s: float | None


def _number(token: str) -> float:
    """A log number; ``inf``, ``-inf``, ``Large`` and anything unreadable become NaN."""
    token = token.rstrip("%s")
    try:
        value = float(token)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _split_runs(text: str) -> list[tuple[str | None, str]]:
    """``[(version, text of that run), ...]``.

    A run starts at the HiGHS banner or at the ``MIP ... has N rows`` line that opens every
    solve — the banner is printed once per process only, so later solves start with the latter —
    but only once the run before it has reached its ``Solving report`` (the banner and the first
    model line belong to one run). A log without either is one run.
    """
    runs: list[tuple[str | None, str]] = []
    version: str | None = None  # the latest banner's
    start = 0
    for m in _RUN_BOUNDARY.finditer(text):
        if "Solving report" in text[start : m.start()]:
            runs.append((version, text[start : m.start()]))
            start = m.start()
        if m.group(1):
            version = m.group(1)
    runs.append((version, text[start:]))
    return [(v, t) for v, t in runs if t.strip()] or [(None, text)]


def _table_rows(run_text: str) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    in_table = False
    for line in run_text.splitlines():
        if _TABLE_HEADER.match(line):
            in_table = True
            continue
        if line.startswith("Solving report"):
            in_table = False
        tokens = line.split()
        if not in_table or len(tokens) not in (12, 13) or not tokens[-1].endswith("s"):
            continue
        source = tokens[0] if len(tokens) == 13 else ""
        t = tokens[1:] if source else tokens
        try:
            nodes = int(t[0])
        except ValueError:
            continue
        gap = _number(t[6])
        rows.append(
            {
                "source": source,
                "nodes": nodes,
                "best_bound": _number(t[4]),
                "best_sol": _number(t[5]),
                "gap": gap / 100.0 if not math.isnan(gap) else math.nan,
                "time_s": _number(t[11]),
            }
        )
    return rows


def _summary(run: int, version: str | None, run_text: str) -> RunSummary:
    values: dict[str, str] = {}
    i = run_text.find("Solving report")
    if i >= 0:
        for line in run_text[i:].splitlines()[1:]:
            m = _REPORT_VALUE.match(line)
            if m and m.group(1) not in values:
                values[m.group(1)] = m.group(2)

    def num(key: str, scale: float = 1.0) -> float | None:
        if key not in values:
            return None
        v = _number(values[key].split()[0])
        return None if math.isnan(v) else v * scale

    return RunSummary(
        run=run,
        version=version,
        status=values.get("Status"),
        primal_bound=num("Primal bound"),
        dual_bound=num("Dual bound"),
        gap=num("Gap", 0.01),
        timing_s=num("Timing"),
    )


def read_log_text(source: str | os.PathLike[str]) -> str:
    """The text of a log file (empty when it does not exist)."""
    path = Path(source)
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def parse_highs_log(text: str) -> tuple[pd.DataFrame, list[RunSummary]]:
    """The B&B progress rows (columns :data:`LOG_COLUMNS`) and each run's closing report."""
    rows: list[dict[str, float | str]] = []
    summaries: list[RunSummary] = []
    offset = 0.0
    for run, (version, run_text) in enumerate(_split_runs(text)):
        table = _table_rows(run_text)
        summary = _summary(run, version, run_text)
        for r in table:
            r["run"] = run
            r["elapsed_s"] = offset + float(r["time_s"])
        rows.extend(table)
        summaries.append(summary)
        last = table[-1]["time_s"] if table else 0.0
        offset += summary.timing_s if summary.timing_s is not None else float(last)
    return pd.DataFrame(rows, columns=LOG_COLUMNS), summaries


def time_to_gap(progress: pd.DataFrame, target: float, run: int | None = None) -> float | None:
    """The first ``elapsed_s`` at which the gap is at most ``target`` (in run ``run``, default
    the last run of the log, the one whose bound is the full model's); ``None`` if never."""
    if progress.empty:
        return None
    run = int(progress["run"].max()) if run is None else run
    rows = progress[(progress["run"] == run) & (progress["gap"] <= target + 1e-12)]
    return float(rows["elapsed_s"].iloc[0]) if len(rows) else None
