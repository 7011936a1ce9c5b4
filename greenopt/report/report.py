"""A plan's report, as Markdown or self-contained HTML: the run's facts, a comparison with
``run-now`` on the same scenario (carbon, grid energy, cost, deadline misses, migrations), the
KPIs with their units (the scenario's currency for costs), a table per site and one of the
migrations per (src, dst) pair, the scorecard, notes and the plots.

The HTML report embeds every PNG as a base64 data URI, so the one file can be mailed or archived;
it runs no script and its Content-Security-Policy loads nothing from anywhere else. The Markdown
report links the PNGs by their file names (they sit next to it in the output folder).

Numbers are shown without float noise (:func:`number`): a sum that should be 0 and is
``1.8e-14`` reads ``0``, and none is written in exponent notation.

Names (scenario, sites, jobs, kinds) are user strings, shown and never interpreted: HTML-escaped
in the HTML report, and in the Markdown report HTML-escaped with Markdown's own punctuation
backslash-escaped (:func:`md_text`), so a name cannot add a tag, a link or a table column.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.errors import GreenoptError
from greenopt.report.draw import flows
from greenopt.result import Plan, _atomic
from greenopt.scenario import Scenario

FORMATS = ("html", "md")

_KPI_UNITS = {
    "grid_kwh": "kWh",
    "renewable_kwh": "kWh",
    "facility_kwh": "kWh",
    "curtailed_kwh": "kWh",
    "carbon_kg": "kg CO2",
    "migrated_gb": "GB",
    "mean_delay_h": "h",
    "p95_delay_h": "h",
    "unmet_work_h": "h",
    "migrations_per_job": "per job",
    "short_runs": "run rows < 5 min, not a job's last",
}

_HEADINGS = {"gantt": "Gantt chart", "energy": "Energy", "wan": "WAN map"}

_CAPTIONS = {
    "gantt": "The plan by site over time: one row per job (bar width = share of the slot; "
    "▶ = migration arriving), or for many jobs each site's GPU utilisation (GPU-time used / "
    "available, stacked by job kind; dashed = all GPUs busy) and migrations per slot",
    "energy": "Energy by site: renewable used, grid, curtailed; carbon intensity (right axis)",
    "wan": "WAN links and the plan's migrations, one arrow per (src, dst) pair, width ∝ GB",
}

#: Below this magnitude a float is shown as 0: the residue of sums that cancel (1.8e-14 h of
#: unmet work), far below any quantity a plan reports.
NOISE = 5e-10
#: Most (src, dst) pairs listed in the migration table; the rest are summed in one row.
MAX_FLOW_ROWS = 25

#: What the run-now comparison shows: (KPI, label). KPIs a plan lacks are left out.
COMPARED = (
    ("carbon_kg", "carbon"),
    ("grid_kwh", "grid energy"),
    ("renewable_share", "renewable share"),
    ("cost", "cost"),
    ("deadline_misses", "deadline misses"),
    ("unmet_work_h", "unmet work"),
    ("migrations", "migrations"),
    ("migrated_gb", "data moved"),
    ("mean_delay_h", "mean delay"),
    ("migrations_per_job", "migrations per job"),
    ("short_runs", "short runs"),
)


def number(value: Any) -> str:
    """A value for a table: integers with thousands separators; floats without float noise
    (``|x| <`` :data:`NOISE` → ``0``), never in exponent notation — 1,000 and above to the
    unit (``13,187``), below to 4 significant digits (``943.7``, ``0.3935``, ``0.00001234``);
    ``None``/NaN as ``–``; booleans as yes/no; anything else as its text."""
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if abs(v) < NOISE:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        text = np.format_float_positional(v, precision=4, unique=False, fractional=False)
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


_fmt = number


def _unit(plan: Plan, key: str) -> str:
    """A KPI's unit: the report's short form, else the plan's (the currency for costs)."""
    if key == "renewable_share":
        return "%"
    if key == "objective":  # a mix of units (MODEL.md §7)
        return f"{plan.objective_name} objective"
    return _KPI_UNITS.get(key) or plan.unit(key) or ""


def _kpi_value(key: str, value: Any) -> str:
    if key == "renewable_share" and value is not None:
        return f"{100 * float(value):.1f}"
    return number(value)


def kpi_rows(plan: Plan) -> list[tuple[str, str, str]]:
    """``(kpi, value, unit)`` rows; ``renewable_share`` shown as a percentage, ``cost`` in the
    scenario's currency."""
    return [(key, _kpi_value(key, value), _unit(plan, key)) for key, value in plan.kpis.items()]


def run_now(scenario: Scenario, plan: Plan) -> Plan:
    """The ``run-now`` plan of the same scenario (each job at its origin from its release,
    MODEL.md §10) under the plan's objective and deadline rule: the yardstick of the report.
    A heuristic of one pass over the jobs, cheap beside any planning method."""
    from greenopt.plan import plan as make_plan

    return make_plan(scenario, "run-now", objective=plan.objective_name, deadlines=plan.deadlines)


def comparison_rows(plan: Plan, baseline: Plan) -> list[list[str]]:
    """``[what, unit, this plan, run-now, difference, change]`` for each KPI of
    :data:`COMPARED` both plans have; the change is relative to run-now (``–`` when run-now's
    value is 0)."""
    rows = []
    for key, label in COMPARED:
        if key not in plan.kpis or key not in baseline.kpis:
            continue
        a, b = plan.kpis[key], baseline.kpis[key]
        if a is None or b is None:
            continue
        a, b = float(a), float(b)
        if key == "renewable_share":  # in percentage points
            a, b = 100 * a, 100 * b
        diff = a - b
        if abs(diff) < NOISE:
            diff = 0.0
        if key == "renewable_share" or abs(b) < NOISE:
            change = "–"
        else:
            change = f"{100 * diff / abs(b):+.1f} %"
        if key in ("deadline_misses", "migrations", "short_runs"):
            show = lambda x: number(round(x))  # noqa: E731
        elif key == "renewable_share":
            show = lambda x: f"{x:.1f}".replace("-0.0", "0.0")  # noqa: E731
        else:
            show = number
        sign = "+" if diff > 0 and show(diff) != "0" else ""
        rows.append(
            [label, "% points" if key == "renewable_share" else _unit(plan, key),
             show(a), show(b), sign + show(diff), change]
        )  # fmt: skip
    return rows


SITE_COLUMNS = [
    "site", "GPUs", "utilisation %", "jobs run", "facility kWh", "renewable kWh", "grid kWh",
    "curtailed kWh", "carbon kg CO2", "cost", "moves in", "moves out",
]  # fmt: skip


def site_table(scenario: Scenario, plan: Plan) -> pd.DataFrame:
    """One row per site (the scenario's order) and a total: GPUs, utilisation (GPU-time used /
    available over the horizon), jobs that run there, energy, carbon, cost (its column named
    with the currency), migrations in and out."""
    idx = scenario.index
    e = plan.energy.groupby("site", sort=False)[
        ["facility_kwh", "renewable_kwh", "grid_kwh", "curtailed_kwh", "carbon_kg", "cost"]
    ].sum()
    e = e.reindex(list(idx.site_names), fill_value=0.0)
    a = plan.assignments
    gpu_h = np.zeros(len(idx.site_names))
    jobs_at = pd.Series(0, index=list(idx.site_names))
    if len(a):
        j = np.fromiter((idx.job_pos[v] for v in a["job"]), dtype=np.int64, count=len(a))
        s = np.fromiter((idx.site_pos[v] for v in a["site"]), dtype=np.int64, count=len(a))
        np.add.at(gpu_h, s, a["share"].to_numpy(dtype=float) * idx.gpus[j] * idx.dt_h)
        jobs_at = a.groupby("site")["job"].nunique().reindex(list(idx.site_names), fill_value=0)
    available = idx.site_gpus.astype(float) * idx.T * idx.dt_h
    m = plan.migrations
    moves_in = m.groupby("dst").size().reindex(list(idx.site_names), fill_value=0)
    moves_out = m.groupby("src").size().reindex(list(idx.site_names), fill_value=0)
    cost = f"cost {plan.currency}" if plan.currency else "cost"
    df = pd.DataFrame(
        {
            "site": list(idx.site_names),
            "GPUs": idx.site_gpus.astype(int),
            "utilisation %": np.divide(
                100 * gpu_h, available, out=np.zeros_like(gpu_h), where=available > 0
            ),
            "jobs run": jobs_at.to_numpy(dtype=int),
            "facility kWh": e["facility_kwh"].to_numpy(),
            "renewable kWh": e["renewable_kwh"].to_numpy(),
            "grid kWh": e["grid_kwh"].to_numpy(),
            "curtailed kWh": e["curtailed_kwh"].to_numpy(),
            "carbon kg CO2": e["carbon_kg"].to_numpy(),
            cost: e["cost"].to_numpy(),
            "moves in": moves_in.to_numpy(dtype=int),
            "moves out": moves_out.to_numpy(dtype=int),
        }
    )
    total_available = float(available.sum())
    total = {
        "site": "total",
        "GPUs": int(idx.site_gpus.sum()),
        "utilisation %": 100 * float(gpu_h.sum()) / total_available if total_available else 0.0,
        "jobs run": len(set(a["job"])) if len(a) else 0,
        **{c: float(df[c].sum()) for c in df.columns[4:10]},
        "moves in": len(m),
        "moves out": len(m),
    }
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def flow_table(plan: Plan, limit: int = MAX_FLOW_ROWS) -> pd.DataFrame:
    """The migrations per (src, dst) pair, the most GB first (:func:`~greenopt.report.draw.flows`):
    ``from, to, moves, GB, disruption h``; beyond ``limit`` pairs the rest are summed in one row
    (``migrations.csv`` has every move)."""
    f = flows(plan).rename(
        columns={"src": "from", "dst": "to", "gb": "GB", "disruption_h": "disruption h"}
    )
    if len(f) > limit:
        rest = f.iloc[limit:]
        more = {
            "from": f"… {len(rest)} more pairs",
            "to": "",
            "moves": int(rest["moves"].sum()),
            "GB": float(rest["GB"].sum()),
            "disruption h": float(rest["disruption h"].sum()),
        }
        f = pd.concat([f.iloc[:limit], pd.DataFrame([more])], ignore_index=True)
    return f


def fact_rows(scenario: Scenario, plan: Plan) -> list[tuple[str, str]]:
    """Scenario size and solver facts (method, status, objective, bound, gap, times)."""
    idx = scenario.index
    gap = plan.gap
    return [
        ("scenario", scenario.name),
        (
            "size",
            f"{len(idx.site_names)} sites, {len(idx.job_names)} jobs, {idx.T} slots of "
            f"{scenario.horizon.slot_minutes} min from {scenario.horizon.start.isoformat()}",
        ),
        ("method", plan.method),
        ("objective", f"{plan.objective_name} = {_fmt(plan.objective)}"),
        ("deadlines", plan.deadlines),
        (
            "dwell rule",
            "off"
            if scenario.migration_alpha is None
            else f"α = {scenario.migration_alpha:g} (stay ≥ transfer / α after a migration)",
        ),
        ("status", plan.status),
        ("bound", _fmt(plan.bound)),
        ("gap", "–" if gap is None or math.isnan(gap) else f"{gap:.2%}"),
        ("solver", f"{plan.solver or '–'} {plan.solver_version or ''}".strip()),
        (
            "time",
            f"build {plan.build_s:.2f} s, solve {plan.solve_s:.2f} s, wall {plan.wall_s:.2f} s",
        ),
        ("currency", scenario.currency or "unspecified (costs in the scenario's price unit)"),
    ]


_MD_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+!|~$])")


def md_text(text: Any) -> str:
    """``text`` for Markdown, shown as it is: one line, ``<``/``>``/``&`` as HTML entities,
    Markdown punctuation (``* _ [ ] ( ) # | ` ~ ! + $``, backslash) backslash-escaped (``$``:
    renderers with math would typeset it)."""
    one_line = " ".join(str(text).splitlines())
    return _MD_PUNCTUATION.sub(r"\\\1", html.escape(one_line, quote=False))


def _md_table(header: list[str], rows: list[list[str]], escape: bool = True) -> str:
    """A Markdown table; ``escape=False`` only for greenopt's own words (KPI names, units)."""
    cell = md_text if escape else str
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _frame_rows(df: pd.DataFrame) -> list[list[str]]:
    return [[_fmt(v.item() if hasattr(v, "item") else v) for v in row] for row in df.to_numpy()]


def _sections(
    scenario: Scenario, plan: Plan, baseline: Plan | None
) -> list[tuple[str, str, list[str], list[list[str]], bool, str]]:
    """The report's tables: ``(id, heading, header, rows, escape, note)`` (``escape=False``
    only for tables of greenopt's own words)."""
    out: list[tuple[str, str, list[str], list[list[str]], bool, str]] = [
        ("run", "Run", ["", ""], [[k, str(v)] for k, v in fact_rows(scenario, plan)], True, ""),
    ]
    if baseline is not None:
        same = "This plan is run-now's own. " if plan.method == "run-now" else ""
        out.append((
            "comparison", "Compared with run-now",
            ["", "unit", f"this plan ({plan.method})", "run-now", "difference", "change"],
            comparison_rows(plan, baseline), True,
            f"{same}run-now: every job at its origin from its release, earliest slots first "
            "(no planning); the same scenario, objective and deadline rule.",
        ))  # fmt: skip
    out.append(("kpis", "KPIs", ["kpi", "value", "unit"], [list(r) for r in kpi_rows(plan)],
                True, ""))  # fmt: skip
    sites = site_table(scenario, plan)
    out.append((
        "sites", "By site", list(sites.columns), _frame_rows(sites), True,
        "utilisation: GPU-time used / GPU-time available over the horizon.",
    ))  # fmt: skip
    f = flow_table(plan)
    if len(f):
        out.append((
            "migrations", "Migrations by site pair", list(f.columns), _frame_rows(f), True,
            f"{len(plan.migrations):,} moves in {len(flows(plan)):,} (from, to) pairs, the most "
            "GB first; every move is in migrations.csv.",
        ))  # fmt: skip
    else:
        out.append(("migrations", "Migrations by site pair", [], [], True, "No migrations."))
    sc = plan.scorecard
    out.append(("scorecard", "Scorecard", [str(c) for c in sc.columns], _frame_rows(sc), True,
                ""))  # fmt: skip
    return out


def markdown(
    scenario: Scenario,
    plan: Plan,
    plots: Mapping[str, str | os.PathLike[str]] | None = None,
    baseline: Plan | None = None,
) -> str:
    """The report as Markdown; plots are linked by file name (relative to the report)."""
    parts = [f"# greenopt plan — {md_text(scenario.name)}", "", md_text(plan.summary())]
    for _, heading, header, rows, escape, note in _sections(scenario, plan, baseline):
        parts += ["", f"## {heading}"]
        if note:
            parts += [md_text(note), ""]
        if header:
            parts.append(_md_table(header, rows, escape))
    if plan.notes:
        parts += ["", "## Notes", *[f"- {md_text(n)}" for n in plan.notes]]
    for name, path in (plots or {}).items():
        parts += [
            "",
            f"## {_HEADINGS.get(name, name.capitalize())}",
            f"![{md_text(_CAPTIONS.get(name, name))}]({Path(path).name})",
        ]
    return "\n".join(parts) + "\n"


_NUMERIC = re.compile(r"^[+\-−]?[\d,]*\.?\d+( %)?$|^[–∞]$")


def _cell(value: Any, numbers_right: bool = True) -> str:
    """A table cell: numbers right-aligned (the default), text left-aligned."""
    text = str(value)
    kind = "" if numbers_right and _NUMERIC.match(text) else " class='t'"
    return f"<td{kind}>{html.escape(text)}</td>"


def _html_table(header: list[str], rows: list[list[str]], id: str = "") -> str:
    head = ""
    if any(header):
        # a column's heading aligned as its cells: right over numbers, left over text
        text = [
            any(str(r[k]) and not _NUMERIC.match(str(r[k])) for r in rows if k < len(r))
            for k in range(len(header))
        ]
        head = "<thead><tr>" + "".join(
            ("<th class='t'>" if t else "<th>") + f"{html.escape(h)}</th>"
            for h, t in zip(header, text, strict=True)
        )
        head += "</tr></thead>"
    facts = not any(header)  # a table of facts (name, value) reads as text
    body = "".join("<tr>" + "".join(_cell(c, not facts) for c in r) + "</tr>" for r in rows)
    ident = f" id='{html.escape(id)}'" if id else ""
    return f"<table{ident}>{head}<tbody>{body}</tbody></table>"


#: The HTML report loads nothing: images are data URIs, the style is inline, no script runs.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:0.5em 0;font-size:0.88em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}"
    "th{background:#f5f5f5}.t,td:first-child,th:first-child{text-align:left}"
    "img{max-width:100%;height:auto}figure{margin:0.5em 0 2em}"
    "figcaption{color:#555;font-size:0.9em}.summary{font-weight:bold}"
    ".note{color:#555;font-size:0.9em;margin:0.2em 0}.scroll{overflow-x:auto}"
)


def html_report(
    scenario: Scenario,
    plan: Plan,
    plots: Mapping[str, str | os.PathLike[str]] | None = None,
    baseline: Plan | None = None,
) -> str:
    """The report as one self-contained HTML page (PNGs embedded as data URIs)."""
    esc = html.escape
    sections = [
        f"<h1>greenopt plan — {esc(scenario.name)}</h1>",
        f"<p class='summary'>{esc(plan.summary())}</p>",
    ]
    for ident, heading, header, rows, _, note in _sections(scenario, plan, baseline):
        sections.append(f"<h2>{esc(heading)}</h2>")
        if note:
            sections.append(f"<p class='note'>{esc(note)}</p>")
        if header:
            sections.append(f"<div class='scroll'>{_html_table(header, rows, ident)}</div>")
    if plan.notes:
        sections.append("<h2>Notes</h2><ul id='notes'>")
        sections += [f"<li>{esc(n)}</li>" for n in plan.notes]
        sections.append("</ul>")
    for name, path in (plots or {}).items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        caption = esc(_CAPTIONS.get(name, name))
        sections.append(
            f"<h2>{esc(_HEADINGS.get(name, name.capitalize()))}</h2><figure>"
            f"<img id='plot-{esc(name)}' "
            f"alt='{caption}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>greenopt — {esc(scenario.name)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def write_report(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    fmt: str = "html",
    plots: Mapping[str, str | os.PathLike[str]] | None = None,
    baseline: Plan | None = None,
) -> Path:
    """Write ``report.html`` (self-contained) or ``report.md`` into ``out``; return its path.
    ``baseline``: the run-now plan to compare with (:func:`run_now`; ``None``: no comparison).
    """
    if fmt not in FORMATS:
        from greenopt.errors import ScenarioError

        raise ScenarioError(f"report format {fmt!r} is unknown; choose one of {FORMATS}", "report")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        text = html_report(scenario, plan, plots, baseline)
    else:
        text = markdown(scenario, plan, plots, baseline)
    return _atomic(out / f"report.{fmt}", lambda p: Path(p).write_text(text, encoding="utf-8"))


def write_outputs(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    *,
    parquet: bool = False,
    plots: bool = True,
    report: str | None = "html",
    compare: bool = True,
    deadline: float | None = None,
) -> list[Path]:
    """Everything ``greenopt plan`` writes: the plan tables and ``kpis.json``
    (:meth:`Plan.to_dir`), the plots (``gantt.png``, ``energy.png``, ``wan.png``) and the
    report (``report.html`` or ``report.md``; ``report=None`` for none), which compares the plan
    with ``run-now`` on the same scenario unless ``compare=False``. Returns the files.

    The tables are written first and a plot never fails the call: one too large is drawn
    aggregated or skipped, one that fails to draw is skipped, each with a line in the plan's
    notes (``kpis.json`` and the report); a run-now plan that cannot be made leaves the
    comparison out, with a note. Only a failure to write (``OSError``) is raised.
    ``deadline`` (a ``time.perf_counter()`` value, the end of a time limit): plots not started
    by then are skipped, and so is the comparison with run-now, each with a note.
    """
    # the plan first: whatever happens to a plot or the report, the tables are written
    written = plan.to_dir(out, parquet=parquet)
    pngs: dict[str, Path] = {}
    notes: list[str] = []
    if plots:
        from greenopt.report.plots import plot_all

        pngs = plot_all(scenario, plan, out, notes=notes, deadline=deadline)
        written += list(pngs.values())
    baseline = None
    if report and compare and deadline is not None and time.perf_counter() >= deadline:
        notes.append("no comparison with run-now: the time limit was reached")
    elif report and compare:
        try:
            baseline = plan if plan.method == "run-now" else run_now(scenario, plan)
        except GreenoptError as exc:  # e.g. hard deadlines run-now cannot meet
            text = " ".join(str(exc).split())[:200]
            notes.append(f"no comparison with run-now: {type(exc).__name__}: {text}")
    if notes:  # a plot drawn aggregated or skipped: said in kpis.json and the report
        plan.notes.extend(notes)
        plan.write_facts(out)
    if report:
        written.append(write_report(scenario, plan, out, report, pngs, baseline))
    return written
