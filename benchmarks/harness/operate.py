"""The ``operate`` suite: operation under uncertainty on the real-trace days (issue 13).

Each instance is a real-trace day (:func:`greenopt.io.build_real_scenario`: 6 sites, 300 jobs,
24 hourly slots) with what an operator would have had (:func:`greenopt.io.real_forecasts`: the
day before as history, the real Solcast forecasts of its Solcast sites). On each, the runs
(:func:`operate_runs`):

* ``run-now`` — :func:`greenopt.plan` ``run-now``: the reference of every carbon cut;
* ``foresight milp`` — :func:`greenopt.plan` ``milp`` on the actuals with every job known: the
  perfect-foresight plan every regret is measured against;
* ``day-ahead milp`` — one MILP plan at slot 0 on the forecasts, every job known (day-ahead
  jobs), executed on the actuals (:func:`greenopt.operate` with ``arrivals="known"`` and one
  decision), scored and validated;
* ``rolling milp``, ``rolling greedy``, ``online`` — :func:`greenopt.operate` with that method,
  a decision every slot, online arrivals (the MILP with ``decision_limit`` seconds a decision);
* the baselines operated the same way (``threshold``, ``greenest-region``,
  ``follow-renewables``, and ``run-now (operated)``).

Operated runs use ``forecasts`` (``persistence`` by default: issue 13's acceptance 2). Every plan
is validated. Per run: the KPIs, the carbon cut vs run-now, the share of the foresight MILP's
cut it reaches, its regret against the foresight MILP (and against its own method's foresight
plan), deadline misses (and those where run-now had none), migrations, and decision time (each
decision's wall time: ``decisions.csv`` holds every one; the headline pools them per run for
p50/p99). Outputs (``out``): ``bench.csv``, ``decisions.csv``, ``report.md``, ``meta.json``.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness.report import fmt_num, fmt_pct, md_table
from benchmarks.harness.runner import COLUMNS, KPI_COLUMNS, instance_facts
from benchmarks.harness.suites import REAL_DAYS, Instance, SuiteSkipped, real_instance
from greenopt.io.spreadsheet import write_csv
from greenopt.result import _atomic, _jsonable

#: Columns of the operate suite's table beyond the harness's :data:`COLUMNS`.
OPERATE_COLUMNS = [
    "forecast",
    "arrivals",
    "replan_every",
    "decision_limit",
    "decisions",
    "decision_p50_s",
    "decision_p99_s",
    "decision_max_s",
    "fallbacks",
    "delay_cost",
    "cut_share_of_foresight",
    "regret_vs_foresight_milp",
    "regret_own",
    "misses_where_run_now_none",
]
TABLE_COLUMNS = [*COLUMNS, *OPERATE_COLUMNS]
DECISION_COLUMNS = ["instance", "seed", "label", "slot", "wall_s", "plan_s", "status"]


@dataclass(frozen=True)
class OperateRun:
    """One run on every instance: ``plan`` (``greenopt.plan`` on the actuals, every job known)
    or ``operate`` (``greenopt.operate``; ``replan_every=None``: one decision at slot 0)."""

    label: str
    method: str
    kind: str = "operate"
    arrivals: str = "online"
    replan_every: int | None = 1
    rolling_limit: bool = False  # the MILP gets decision_limit s per decision (else foresight's)


def operate_runs(methods: Sequence[str] | None = None) -> list[OperateRun]:
    """The suite's runs, in report order (``methods`` keeps those labels only; the references
    ``run-now`` and ``foresight milp`` always run)."""
    runs = [
        OperateRun("run-now", "run-now", kind="plan"),
        OperateRun("foresight milp", "milp", kind="plan"),
        OperateRun("day-ahead milp", "milp", arrivals="known", replan_every=None),
        OperateRun("rolling milp", "milp", rolling_limit=True),
        OperateRun("rolling greedy", "greedy"),
        OperateRun("online", "online"),
        OperateRun("threshold", "threshold"),
        OperateRun("greenest-region", "greenest-region"),
        OperateRun("follow-renewables", "follow-renewables"),
        OperateRun("run-now (operated)", "run-now"),
    ]
    if methods:
        keep = set(methods) | {"run-now", "foresight milp"}
        unknown = set(methods) - {r.label for r in runs}
        if unknown:
            raise ValueError(f"unknown run(s) {sorted(unknown)}; runs: {[r.label for r in runs]}")
        runs = [r for r in runs if r.label in keep]
    return runs


def _instances(data: Path, days: Sequence[str], seeds: Sequence[int], gbps: float):
    return [real_instance(data, d, s, 6, 300, gbps) for d in days for s in seeds]


def run_one_operate(
    inst: Instance,
    sc: Any,
    run: OperateRun,
    *,
    forecast: str,
    foresight_limit: float,
    decision_limit: float,
    threads: int | None,
    mip_gap: float,
    objective: str,
) -> tuple[dict[str, Any], pd.DataFrame | None, Any]:
    """One run: ``(row, decisions or None, plan or None)``; a run that raises is a row too."""
    import greenopt

    row = instance_facts("operate", inst, sc)
    row.update(method=run.method, label=run.label, solver="highs" if run.method == "milp" else None)
    kw: dict[str, Any] = {"objective": objective, "seed": inst.seed}
    limit = decision_limit if run.rolling_limit else foresight_limit
    if run.method == "milp":
        kw.update(time_limit=limit, threads=threads, mip_gap=mip_gap)
        row.update(time_limit=limit, mip_gap=mip_gap)
    t0 = time.perf_counter()
    decisions = None
    try:
        if run.kind == "plan":
            p = greenopt.plan(sc, run.method, **kw)
        else:
            every = run.replan_every or sc.horizon.slots
            op = greenopt.operate(
                sc, run.method, forecast=forecast, arrivals=run.arrivals, replan_every=every, **kw
            )
            p = op.plan
            decisions = op.decisions
            wall = decisions["wall_s"].to_numpy(dtype=float)
            row.update(
                forecast=forecast,
                arrivals=run.arrivals,
                replan_every=every,
                decision_limit=limit if run.method == "milp" else None,
                decisions=len(decisions),
                decision_p50_s=float(np.percentile(wall, 50)),
                decision_p99_s=float(np.percentile(wall, 99)),
                decision_max_s=float(wall.max()),
                fallbacks=int(decisions["status"].isin(["fallback", "no-plan"]).sum()),
                delay_cost=float(decisions["delay_cost"].mean()),
            )
        violations = greenopt.validate(sc, p)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a broken run is a finding, not the end of the suite
        last = traceback.extract_tb(exc.__traceback__)[-1]
        row.update(
            status="error",
            valid=False,
            error=f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})",
            wall_s=time.perf_counter() - t0,
        )
        return row, None, None
    row.update(
        status=str(p.status),
        valid=not violations,
        violations=len(violations),
        error="; ".join(str(v) for v in violations[:5]) if violations else None,
        objective=float(p.objective),
        bound=p.bound,
        gap=p.gap,
        wall_s=time.perf_counter() - t0,
        solve_s=p.solve_s,
        notes=" | ".join(p.notes) if p.notes else None,
    )
    for k in KPI_COLUMNS:
        row[k] = float(p.kpis[k])
    return row, decisions, p


def run_operate(
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    days: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    methods: Sequence[str] | None = None,
    forecast: str = "persistence",
    foresight_limit: float = 60.0,
    decision_limit: float = 10.0,
    threads: int | None = 1,
    mip_gap: float = 0.01,
    gbps: float = 10.0,
    objective: str = "carbon",
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Run the suite; return ``(table, decisions, meta)`` and, with ``out``, write its files.

    Raises :class:`~benchmarks.harness.suites.SuiteSkipped` without the real data folder.
    """
    import greenopt
    from greenopt.io import real_forecasts
    from greenopt.io.data import data_dir as find_data_dir

    data = find_data_dir(Path(data_dir) if data_dir is not None else None)
    if data is None:
        raise SuiteSkipped("real-data folder not found; pass --data-dir or set GREENOPT_DATA")
    days = tuple(days or REAL_DAYS)
    seeds = tuple(seeds or (0, 1))
    runs = operate_runs(methods)
    instances = _instances(data, days, seeds, gbps)
    meta: dict[str, Any] = {
        "suite": "operate",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "options": {
            "days": list(days),
            "seeds": list(seeds),
            "forecast": forecast,
            "foresight_limit": foresight_limit,
            "decision_limit": decision_limit,
            "threads": threads,
            "mip_gap": mip_gap,
            "gbps": gbps,
            "objective": objective,
            "runs": [r.label for r in runs],
        },
    }
    rows: list[dict[str, Any]] = []
    decision_parts: list[pd.DataFrame] = []
    total, done = len(instances) * len(runs), 0
    t_start = time.perf_counter()
    for inst in instances:
        t0 = time.perf_counter()
        sc = inst.build()
        sc = sc.with_jobs(sc.jobs, forecasts=real_forecasts(sc, data))
        build_s = time.perf_counter() - t0
        own: dict[str, float] = {}  # each method's own foresight objective
        for run in runs:
            if progress is not None:
                progress(done, total, f"{inst.name} seed {inst.seed} / {run.label}")
            row, decisions, p = run_one_operate(
                inst,
                sc,
                run,
                forecast=forecast,
                foresight_limit=foresight_limit,
                decision_limit=decision_limit,
                threads=threads,
                mip_gap=mip_gap,
                objective=objective,
            )
            row["scenario_build_s"] = build_s
            if p is not None and run.kind == "plan":
                own[run.method] = float(p.objective)
            if p is not None and run.kind == "operate":
                if run.method not in own:  # its method's foresight plan (the MILP's is above)
                    own[run.method] = float(
                        greenopt.plan(sc, run.method, objective=objective).objective
                    )
                row["regret_own"] = float(p.objective) - own[run.method]
            if decisions is not None:
                d = decisions[["slot", "wall_s", "plan_s", "status"]].copy()
                d.insert(0, "label", run.label)
                d.insert(0, "seed", inst.seed)
                d.insert(0, "instance", inst.name)
                decision_parts.append(d)
            rows.append(row)
            done += 1
    table = add_operate_columns(pd.DataFrame(rows, columns=TABLE_COLUMNS))
    decisions = (
        pd.concat(decision_parts, ignore_index=True)
        if decision_parts
        else pd.DataFrame(columns=DECISION_COLUMNS)
    )
    meta["elapsed_s"] = time.perf_counter() - t_start
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if out is not None:
        write_operate_outputs(Path(out), table, decisions, meta)
    return table, decisions, meta


def run_operate_suite(
    out: str | Path | None = None,
    *,
    foresight_limit: float | None = None,
    **kwargs: Any,
):
    """:func:`run_operate` as ``run_suite("operate")`` returns it: a
    :class:`~benchmarks.harness.harness.SuiteResult` (``skipped`` without the data folder)."""
    from benchmarks.harness.harness import SuiteResult

    limit = 60.0 if foresight_limit is None else foresight_limit
    try:
        table, _, meta = run_operate(out, foresight_limit=limit, **kwargs)
    except SuiteSkipped as exc:
        empty = pd.DataFrame(columns=TABLE_COLUMNS)
        return SuiteResult("operate", empty, pd.DataFrame(), skipped=str(exc))
    result = SuiteResult("operate", table, pd.DataFrame(), meta=meta)
    if out is not None:
        result.files = {"csv": Path(out) / "bench.csv", "report": Path(out) / "report.md"}
    return result


def add_operate_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Cuts vs run-now, the share of the foresight MILP's cut, the regret against it, and the
    misses where run-now had none — each against the same instance and seed."""
    table = table.copy()
    key = table["instance"].astype(str) + "#" + table["seed"].astype(str)

    def ref(label: str, column: str) -> pd.Series:
        r = table[(table["label"] == label) & (table["status"] != "error")]
        s = pd.Series(r[column].astype(float).to_numpy(), index=(key[r.index]).to_numpy())
        return key.map(s[~s.index.duplicated()]).astype(float)

    for column, cut in (
        ("carbon_kg", "carbon_cut_vs_run_now"),
        ("grid_kwh", "grid_cut_vs_run_now"),
    ):
        base = ref("run-now", column)
        table[cut] = np.where(base > 0, 1.0 - table[column].astype(float) / base, np.nan)
    fs_cut = 1.0 - ref("foresight milp", "carbon_kg") / ref("run-now", "carbon_kg")
    table["cut_share_of_foresight"] = table["carbon_cut_vs_run_now"] / fs_cut
    table["regret_vs_foresight_milp"] = table["objective"].astype(float) - ref(
        "foresight milp", "objective"
    )
    rn_misses = ref("run-now", "deadline_misses")
    table["misses_where_run_now_none"] = np.where(
        rn_misses == 0, table["deadline_misses"].astype(float), np.nan
    )
    return table


def headline(table: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per run: means over the instances; decision time pooled over every decision."""
    rows = []
    for label in dict.fromkeys(table["label"]):
        r = table[table["label"] == label]
        ok = r[r["status"] != "error"]
        d = decisions[decisions["label"] == label]["wall_s"].to_numpy(dtype=float)
        rows.append(
            {
                "run": label,
                "plans": len(r),
                "valid": int(r["valid"].fillna(False).astype(bool).sum()),
                "carbon kg": ok["carbon_kg"].mean(),
                "cut vs run-now": ok["carbon_cut_vs_run_now"].mean(),
                "share of foresight cut": ok["cut_share_of_foresight"].mean(),
                "share min": ok["cut_share_of_foresight"].min(),
                "regret vs foresight": ok["regret_vs_foresight_milp"].mean(),
                "regret own": ok["regret_own"].mean(),
                "misses": int(ok["deadline_misses"].fillna(0).sum()),
                "misses where run-now 0": int(ok["misses_where_run_now_none"].fillna(0).sum()),
                "migrations": ok["migrations"].mean(),
                "decision p50 s": float(np.percentile(d, 50)) if d.size else math.nan,
                "decision p99 s": float(np.percentile(d, 99)) if d.size else math.nan,
                "decision max s": float(d.max()) if d.size else math.nan,
                "wall s": ok["wall_s"].mean(),
                "fallbacks": int(ok["fallbacks"].fillna(0).sum()),
            }
        )
    return pd.DataFrame(rows)


def headline_markdown(table: pd.DataFrame, decisions: pd.DataFrame) -> str:
    h = headline(table, decisions)
    shown = pd.DataFrame(
        {
            "run": h["run"],
            "valid": [f"{v}/{n}" for v, n in zip(h["valid"], h["plans"], strict=True)],
            "carbon cut vs run-now": h["cut vs run-now"].map(fmt_pct),
            "of foresight MILP's cut (min)": [
                f"{fmt_pct(a, 0)} ({fmt_pct(b, 0)})"
                for a, b in zip(h["share of foresight cut"], h["share min"], strict=True)
            ],
            "regret vs foresight (kg)": h["regret vs foresight"].map(lambda x: fmt_num(x, 1)),
            "misses (where run-now 0)": [
                f"{a} ({b})" for a, b in zip(h["misses"], h["misses where run-now 0"], strict=True)
            ],
            "migrations": h["migrations"].map(lambda x: fmt_num(x, 0)),
            "decision p50 / p99 s": [
                "–" if math.isnan(a) else f"{a:.2g} / {b:.2g}"
                for a, b in zip(h["decision p50 s"], h["decision p99 s"], strict=True)
            ],
        }
    )
    return md_table(shown)


def write_operate_outputs(
    out: Path, table: pd.DataFrame, decisions: pd.DataFrame, meta: dict[str, Any]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _atomic(out / "bench.csv", lambda p: write_csv(table, p))
    _atomic(out / "decisions.csv", lambda p: write_csv(decisions, p))
    o = meta["options"]
    lines = [
        "# Operate suite: operation under uncertainty on the real-trace days",
        "",
        f"Days {', '.join(o['days'])}; seeds {o['seeds']}; 6 sites × 300 jobs × 24 hourly slots; "
        f"operated runs: `{o['forecast']}` forecasts, online arrivals, a decision every slot "
        f"(day-ahead: one at slot 0, every job known); MILP {o['foresight_limit']:g} s "
        f"(foresight, day-ahead), {o['decision_limit']:g} s per decision (rolling), "
        f"{o['threads']} thread(s). Started {meta['started']}, {meta['elapsed_s'] / 60:.0f} min.",
        "",
        headline_markdown(table, decisions),
        "",
        "Regret: objective (kg CO2 + tie-breaks + unmet-work penalty) minus the foresight "
        "MILP's on the same instance. Decision time: every decision of every instance pooled.",
        "",
        "## Every run",
        "",
        md_table(
            table[
                [
                    "instance",
                    "seed",
                    "label",
                    "status",
                    "valid",
                    "carbon_kg",
                    "carbon_cut_vs_run_now",
                    "cut_share_of_foresight",
                    "deadline_misses",
                    "migrations",
                    "decision_p99_s",
                    "wall_s",
                ]
            ],
            {
                "carbon_kg": lambda x: fmt_num(x, 1),
                "carbon_cut_vs_run_now": fmt_pct,
                "cut_share_of_foresight": lambda x: fmt_pct(x, 0),
                "migrations": lambda x: fmt_num(x, 0),
                "decision_p99_s": lambda x: fmt_num(x, 2),
                "wall_s": lambda x: fmt_num(x, 1),
            },
        ),
    ]
    bad = table[~table["valid"].fillna(False).astype(bool)]
    if len(bad):
        lines += ["", "## Invalid or failed", ""]
        lines += [f"- {r.instance} seed {r.seed} {r.label}: {r.error}" for r in bad.itertuples()]
    _atomic(out / "report.md", lambda p: Path(p).write_text("\n".join(lines) + "\n"))
    _atomic(
        out / "meta.json",
        lambda p: Path(p).write_text(json.dumps(_jsonable(meta), indent=2) + "\n"),
    )
