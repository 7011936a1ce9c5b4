"""Summaries of a results table and the suite's Markdown report.

* :func:`method_summary` — the headline: per method, carbon and grid kWh (mean) and their cut
  against ``run-now`` on the same instance (mean, min, max), deadline misses, migrations,
  migrations per job and short runs (MODEL.md §8 plausibility), runtime, peak memory and, for
  the MILP, the gap;
* :func:`solver_summary` / :func:`solver_detail` — the MILP per solver: how often and how fast it
  proved the target gap, the gap where it stopped, its objective against the best found;
* :func:`markdown_report` — all of that, the validity check, the notes and the plots.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness.suites import ALL_METHODS


# -- formatting ------------------------------------------------------------------------------
def fmt_num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    return f"{float(x):,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * float(x):.{digits}f} %"


def fmt_s(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    return f"{x:.3f}" if x < 0.1 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def md_table(df: pd.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None) -> str:
    """A Markdown table of ``df`` (columns in order), each cell through ``formats[column]``."""
    formats = formats or {}
    header = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for rec in df.itertuples(index=False):
        cells = [formats.get(c, str)(v) for c, v in zip(df.columns, rec, strict=True)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


# -- summaries -------------------------------------------------------------------------------
def _label_order(labels: Sequence[str]) -> list[str]:
    known = [m for m in ALL_METHODS if m in labels]
    return known + sorted(set(labels) - set(known))


def _key(table: pd.DataFrame) -> pd.Series:
    return table["instance"].astype(str) + "#" + table["seed"].astype(str)


def add_cuts(table: pd.DataFrame) -> pd.DataFrame:
    """Fill ``carbon_cut_vs_run_now`` and ``grid_cut_vs_run_now``: ``1 − x / x_run-now`` on the
    same instance and seed (NaN where the suite has no valid run-now plan of it)."""
    table = table.copy()
    key = _key(table)
    ref = table[(table["method"] == "run-now") & (table["status"] != "error")]
    pairs = (("carbon_kg", "carbon_cut_vs_run_now"), ("grid_kwh", "grid_cut_vs_run_now"))
    for column, cut in pairs:
        base = pd.Series(ref[column].astype(float).to_numpy(), index=_key(ref).to_numpy())
        base = base[~base.index.duplicated()]
        b = key.map(base).astype(float)
        value = table[column].astype(float)
        table[cut] = np.where(b > 0, 1.0 - value / b, np.nan)
    return table


def _mean(rows: pd.DataFrame, column: str) -> float:
    """The mean of ``column`` over ``rows``; NaN when the table has no such column."""
    if column not in rows:
        return math.nan
    return float(rows[column].astype(float).mean())


def method_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run label (method, or ``milp/<solver>``), over every instance and seed."""
    rows = []
    for label in _label_order(table["label"].dropna().unique().tolist()):
        r = table[table["label"] == label]
        ok = r[r["status"] != "error"]
        gap = ok["gap"].astype(float)
        rows.append(
            {
                "method": label,
                "plans": len(r),
                "valid": int(r["valid"].fillna(False).astype(bool).sum()),
                "carbon kg": ok["carbon_kg"].astype(float).mean(),
                "carbon cut vs run-now": ok["carbon_cut_vs_run_now"].astype(float).mean(),
                "cut min": ok["carbon_cut_vs_run_now"].astype(float).min(),
                "cut max": ok["carbon_cut_vs_run_now"].astype(float).max(),
                "grid kWh": ok["grid_kwh"].astype(float).mean(),
                "grid cut vs run-now": ok["grid_cut_vs_run_now"].astype(float).mean(),
                "deadline misses": int(ok["deadline_misses"].fillna(0).sum()),
                "misses max": int(ok["deadline_misses"].fillna(0).max()) if len(ok) else 0,
                "migrations": ok["migrations"].astype(float).mean(),
                # MODEL.md §8 plausibility (absent from results written before the dwell rule)
                "migrations per job": _mean(ok, "migrations_per_job"),
                "short runs": _mean(ok, "short_runs"),
                "wall s": ok["wall_s"].astype(float).mean(),
                "wall s max": ok["wall_s"].astype(float).max(),
                "peak MB": ok["peak_rss_mb"].astype(float).max(),
                "gap mean": gap.mean() if gap.notna().any() else math.nan,
                "gap max": gap.max() if gap.notna().any() else math.nan,
                "status": ", ".join(f"{k} {v}" for k, v in r["status"].value_counts().items()),
            }
        )
    return pd.DataFrame(rows)


def headline_markdown(table: pd.DataFrame) -> str:
    """The headline table (per method) as Markdown."""
    s = method_summary(table)
    if s.empty:
        return "_no runs_"
    out = pd.DataFrame(
        {
            "method": s["method"],
            "carbon kg (mean)": s["carbon kg"].map(fmt_num),
            "carbon cut vs run-now: mean [min, max]": [
                f"{fmt_pct(a)} [{fmt_pct(b)}, {fmt_pct(c)}]" if not math.isnan(a) else "–"
                for a, b, c in zip(
                    s["carbon cut vs run-now"], s["cut min"], s["cut max"], strict=True
                )
            ],
            "grid kWh (mean)": s["grid kWh"].map(fmt_num),
            "grid cut vs run-now": s["grid cut vs run-now"].map(fmt_pct),
            "deadline misses: total (max per instance)": [
                f"{t} ({m})" for t, m in zip(s["deadline misses"], s["misses max"], strict=True)
            ],
            "migrations (mean)": s["migrations"].map(fmt_num),
            "migrations per job (mean)": s["migrations per job"].map(lambda x: fmt_num(x, 3)),
            "short runs (mean)": s["short runs"].map(fmt_num),
            "wall s: mean (max)": [
                f"{fmt_s(a)} ({fmt_s(b)})"
                for a, b in zip(s["wall s"], s["wall s max"], strict=True)
            ],
            "MILP gap: mean (max)": [
                f"{fmt_pct(a, 2)} ({fmt_pct(b, 2)})" if not math.isnan(a) else "–"
                for a, b in zip(s["gap mean"], s["gap max"], strict=True)
            ],
            "peak MB": s["peak MB"].map(lambda x: fmt_num(x, 0)),
            "valid": [f"{v}/{n}" for v, n in zip(s["valid"], s["plans"], strict=True)],
        }
    )
    return md_table(out)


def instance_pivot(table: pd.DataFrame) -> pd.DataFrame:
    """Instance × method: carbon cut vs run-now and deadline misses (``"31.2 % · 0"``), plus
    the MILP's status and gap."""
    rows = []
    t = table.assign(key=_key(table))
    labels = _label_order(t["label"].dropna().unique().tolist())
    for _, r in t.groupby("key", sort=False):
        first = r.iloc[0]
        row: dict[str, Any] = {
            "instance": first["instance"],
            "seed": first["seed"],
            "jobs × sites": f"{fmt_num(first['jobs'])} × {fmt_num(first['sites'])}",
        }
        for label in labels:
            x = r[r["label"] == label]
            if x.empty:
                row[label] = "–"
            elif x.iloc[0]["status"] == "error":
                row[label] = "error"
            else:
                row[label] = (
                    f"{fmt_pct(x.iloc[0]['carbon_cut_vs_run_now'])} · "
                    f"{fmt_num(x.iloc[0]['deadline_misses'], 0)}"
                )
        milp = r[r["method"] == "milp"]
        if len(milp):
            m = milp.iloc[0]
            row["MILP status, gap"] = f"{m['status']}, {fmt_pct(m['gap'], 2)}"
        rows.append(row)
    return pd.DataFrame(rows)


def solver_summary(table: pd.DataFrame, mip_gap: float = 0.01) -> pd.DataFrame:
    """Per MILP solver: plans, how many proved the target gap, median time to it, the gap at
    the stop of the others, objective above the best plan found on the same instance."""
    milp = table[table["method"] == "milp"].copy()
    if milp.empty:
        return pd.DataFrame()
    milp["key"] = _key(milp)
    best = milp[milp["status"] != "error"].groupby("key")["objective"].min()
    milp["above_best"] = milp["objective"].astype(float) / milp["key"].map(best) - 1.0
    rows = []
    for solver in list(dict.fromkeys(milp["solver"].astype(str))):
        r = milp[milp["solver"].astype(str) == solver]
        reached = r["time_to_gap_s"].astype(float).notna()
        rest = r[~reached & (r["status"] != "error")]
        rows.append(
            {
                "solver": solver,
                "version": ", ".join(sorted(set(r["solver_version"].dropna().astype(str)))),
                "plans": len(r),
                "reached gap": int(reached.sum()),
                "median time to gap s": r.loc[reached, "time_to_gap_s"].astype(float).median(),
                "max time to gap s": r.loc[reached, "time_to_gap_s"].astype(float).max(),
                "gap at stop (others), mean": rest["gap"].astype(float).mean(),
                "no plan (fallback)": int((r["status"] == "fallback").sum()),
                "errors": int((r["status"] == "error").sum()),
                "objective above best, mean": r["above_best"].astype(float).mean(),
                "wall s mean": r["wall_s"].astype(float).mean(),
                "peak MB": r["peak_rss_mb"].astype(float).max(),
            }
        )
    return pd.DataFrame(rows)


def _solver_cell(r: pd.Series) -> str:
    if r["status"] == "error":
        return "error"
    if r["status"] == "fallback":
        return f"no plan in {fmt_s(r['time_limit'])} s"
    if pd.notna(r["time_to_gap_s"]):
        return f"{fmt_s(r['time_to_gap_s'])} s"
    return f"gap {fmt_pct(r['gap'], 2)} at {fmt_s(r['wall_s'])} s"


def solver_detail(table: pd.DataFrame) -> pd.DataFrame:
    """Instance × solver: seconds to the target gap, or the gap where it stopped."""
    milp = table[table["method"] == "milp"].copy()
    if milp.empty:
        return pd.DataFrame()
    milp["key"] = _key(milp)
    milp["cell"] = milp.apply(_solver_cell, axis=1)
    milp["size"] = milp.apply(
        lambda r: (
            f"{fmt_num(r['jobs'])} jobs × {fmt_num(r['sites'])} sites × {fmt_num(r['slots'])} slots"
        ),
        axis=1,
    )
    wide = milp.pivot_table(index=["key", "size"], columns="solver", values="cell", aggfunc="first")
    order = list(dict.fromkeys(milp["solver"].astype(str)))
    wide = wide[[c for c in order if c in wide.columns]].reset_index()
    return wide.rename(columns={"key": "instance#seed"}).fillna("–")


def solver_markdown(table: pd.DataFrame, mip_gap: float = 0.01) -> str:
    s = solver_summary(table, mip_gap)
    if s.empty:
        return "_no MILP runs_"
    out = pd.DataFrame(
        {
            "solver": s["solver"],
            "version": s["version"],
            f"proved {fmt_pct(mip_gap, 0)} gap": [
                f"{a}/{n}" for a, n in zip(s["reached gap"], s["plans"], strict=True)
            ],
            "time to gap: median (max) s": [
                f"{fmt_s(a)} ({fmt_s(b)})"
                for a, b in zip(s["median time to gap s"], s["max time to gap s"], strict=True)
            ],
            "gap at time limit (mean of the others)": s["gap at stop (others), mean"].map(
                lambda x: fmt_pct(x, 2)
            ),
            "no plan": s["no plan (fallback)"],
            "objective above best (mean)": s["objective above best, mean"].map(
                lambda x: fmt_pct(x, 2)
            ),
            "wall s (mean)": s["wall s mean"].map(fmt_s),
            "peak MB": s["peak MB"].map(lambda x: fmt_num(x, 0)),
        }
    )
    return md_table(out, {"no plan": fmt_num})


def instance_markdown(table: pd.DataFrame) -> str:
    """Every run: instance, seed, method, carbon and its cut, grid, misses, status, gap, wall."""
    cols = {
        "instance": str,
        "seed": fmt_num,
        "label": str,
        "status": str,
        "carbon_kg": fmt_num,
        "carbon_cut_vs_run_now": fmt_pct,
        "grid_kwh": fmt_num,
        "deadline_misses": lambda x: fmt_num(x, 0),
        "migrations": lambda x: fmt_num(x, 0),
        "migrations_per_job": lambda x: fmt_num(x, 3),
        "short_runs": lambda x: fmt_num(x, 0),
        "gap": lambda x: fmt_pct(x, 2),
        "wall_s": fmt_s,
        "valid": fmt_num,
    }
    cols = {k: f for k, f in cols.items() if k in table}  # older results lack the newer KPIs
    df = table[list(cols)].rename(columns={"label": "method"})
    return md_table(df, {("method" if k == "label" else k): v for k, v in cols.items()})


def invalid_lines(table: pd.DataFrame) -> list[str]:
    """One line per plan that failed ``validate`` or whose method raised."""
    bad = table[~table["valid"].fillna(False).astype(bool)]
    return [
        f"{r['instance']} seed {r['seed']} / {r['label']}: {r['status']}: {r['error']}"
        for r in bad.to_dict("records")
    ]


def machine_markdown(meta: dict[str, Any]) -> str:
    m = meta.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items() if v)
    return (
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory_gb', '?')} GB RAM, "
        f"{m.get('os', '?')}, Python {m.get('python', '?')}; {versions}"
    )


def markdown_report(
    suite: str,
    table: pd.DataFrame,
    meta: dict[str, Any],
    notes: Sequence[str],
    plots: dict[str, str],
    skipped: str | None = None,
) -> str:
    """The suite's report (``plots``: name → PNG path relative to the report)."""
    opts = meta.get("options", {})
    lines = [
        f"# Benchmark suite `{suite}`",
        "",
        f"Run {meta.get('finished', '?')} in {fmt_s(meta.get('elapsed_s'))} s on "
        f"{machine_markdown(meta)}.",
        "",
        f"Options: objective `{opts.get('objective')}`, soft deadlines, MILP time limit "
        f"{opts.get('time_limit')} s, target gap {fmt_pct(opts.get('mip_gap', 0.01), 0)}, "
        f"threads {opts.get('threads')}, seeds {opts.get('seeds')}, WAN {opts.get('gbps')} "
        "Gbit/s per link.",
        "",
    ]
    if skipped:
        return "\n".join([*lines, f"**Skipped:** {skipped}", ""])
    bad = invalid_lines(table)
    lines += [
        "## Validity",
        "",
        f"{len(table)} plans; "
        + ("every plan passes `greenopt.validate`." if not bad else f"**{len(bad)} failed:**"),
        *[f"- {b}" for b in bad],
        "",
        "## Per method (mean over instances and seeds)",
        "",
        headline_markdown(table),
        "",
        "## Per instance: carbon cut vs run-now · deadline misses",
        "",
        md_table(instance_pivot(table), {"seed": fmt_num}),
        "",
    ]
    if (table["method"] == "milp").any():
        lines += [
            "## MILP by solver",
            "",
            solver_markdown(table, float(opts.get("mip_gap", 0.01))),
            "",
            md_table(solver_detail(table)),
            "",
        ]
    for name, rel in plots.items():
        lines += [f"![{name}]({rel})", ""]
    lines += ["## Every run", "", instance_markdown(table), ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)
