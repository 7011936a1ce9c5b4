"""What ``greenopt operate`` (and an operate task of ``greenopt batch``) writes for an
:class:`~greenopt.operate.Operation`: the operated plan's files as ``greenopt plan`` writes them
(:func:`~greenopt.report.report.write_outputs`), ``decisions.csv`` (one row per decision point,
spreadsheet-safe like every CSV greenopt writes) and the operation's facts in ``kpis.json``
under ``"operation"``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.io.spreadsheet import write_csv
from greenopt.operate import Operation
from greenopt.report.report import write_outputs
from greenopt.result import _atomic, _jsonable

#: The file of the decisions table.
DECISIONS = "decisions.csv"


def operation_facts(op: Operation, regret: bool = False) -> dict[str, Any]:
    """The operation's settings and decision statistics (and its regret, when asked: that plans
    the perfect-foresight plan, as costly as one ``greenopt plan``)."""
    d = op.decisions
    wall = d["wall_s"].to_numpy(dtype=float)
    facts: dict[str, Any] = {
        "method": op.method,
        "forecast": op.forecast,
        "arrivals": op.arrivals,
        "replan_every": op.replan_every,
        "decisions": len(d),
        "decision_p50_s": float(np.percentile(wall, 50)) if len(wall) else None,
        "decision_p99_s": float(np.percentile(wall, 99)) if len(wall) else None,
        "decision_max_s": float(wall.max()) if len(wall) else None,
        "fallbacks": int(d["status"].isin(["fallback", "no-plan"]).sum()),
        "committed_ahead_h": float(d["ahead_work_h"].sum()),
    }
    if regret:
        facts["foresight_objective"] = float(op.foresight.objective)
        facts["regret"] = op.regret
    return facts


def write_operation(
    op: Operation,
    out: str | os.PathLike[str],
    *,
    parquet: bool = False,
    plots: bool = True,
    report: str | None = "html",
    regret: bool = False,
) -> list[Path]:
    """Write the operated plan's files, ``decisions.csv`` and the operation's facts into
    ``out``; return the files written."""
    out = Path(out)
    written = write_outputs(op.scenario, op.plan, out, parquet=parquet, plots=plots, report=report)
    written.append(_atomic(out / DECISIONS, lambda p: write_csv(op.decisions, p)))
    facts_file = out / "kpis.json"
    facts = json.loads(facts_file.read_text())
    facts["operation"] = operation_facts(op, regret)
    _atomic(facts_file, lambda p: Path(p).write_text(json.dumps(_jsonable(facts), indent=2) + "\n"))
    return written
