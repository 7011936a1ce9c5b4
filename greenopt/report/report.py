"""A plan's report: solver facts, KPIs, scorecard and the plots, as Markdown or self-contained HTML.

The HTML report embeds every PNG as a base64 data URI, so the one file can be mailed or archived;
the Markdown report links the PNGs by their file names (they sit next to it in the output folder).

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

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
}

_CAPTIONS = {
    "gantt": "Jobs by site (bar width = share of the slot; ▶ = migration arriving)",
    "energy": "Energy by site: renewable used, grid, curtailed; carbon intensity (right axis)",
    "wan": "WAN links and the plan's migrations",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.4g}"
    return str(value)


def kpi_rows(plan: Plan) -> list[tuple[str, str, str]]:
    """``(kpi, value, unit)`` rows; ``renewable_share`` shown as a percentage."""
    rows = []
    for key, value in plan.kpis.items():
        if key == "renewable_share":
            rows.append((key, f"{100 * float(value):.1f}", "%"))
        else:
            rows.append((key, _fmt(value), _KPI_UNITS.get(key, "")))
    return rows


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
        ("status", plan.status),
        ("bound", _fmt(plan.bound)),
        ("gap", "–" if gap is None or math.isnan(gap) else f"{gap:.2%}"),
        ("solver", f"{plan.solver or '–'} {plan.solver_version or ''}".strip()),
        (
            "time",
            f"build {plan.build_s:.2f} s, solve {plan.solve_s:.2f} s, wall {plan.wall_s:.2f} s",
        ),
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


def markdown(
    scenario: Scenario, plan: Plan, plots: Mapping[str, str | os.PathLike[str]] | None = None
) -> str:
    """The report as Markdown; plots are linked by file name (relative to the report)."""
    parts = [
        f"# greenopt plan — {md_text(scenario.name)}",
        "",
        md_text(plan.summary()),
        "",
        "## Run",
    ]
    parts.append(_md_table(["", ""], [[k, v] for k, v in fact_rows(scenario, plan)]))
    parts += [
        "",
        "## KPIs",
        _md_table(["kpi", "value", "unit"], [list(r) for r in kpi_rows(plan)], escape=False),
    ]
    sc = plan.scorecard
    parts += ["", "## Scorecard", _md_table(list(sc.columns), _frame_rows(sc))]
    if plan.notes:
        parts += ["", "## Notes", *[f"- {md_text(n)}" for n in plan.notes]]
    for name, path in (plots or {}).items():
        parts += [
            "",
            f"## {name.capitalize()}",
            f"![{_CAPTIONS.get(name, name)}]({Path(path).name})",
        ]
    return "\n".join(parts) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(
    scenario: Scenario, plan: Plan, plots: Mapping[str, str | os.PathLike[str]] | None = None
) -> str:
    """The report as one self-contained HTML page (PNGs embedded as data URIs)."""
    esc = html.escape
    sections = [
        f"<h1>greenopt plan — {esc(scenario.name)}</h1>",
        f"<p class='summary'>{esc(plan.summary())}</p>",
        "<h2>Run</h2>",
        _html_table(["", ""], [[k, v] for k, v in fact_rows(scenario, plan)]),
        "<h2>KPIs</h2>",
        _html_table(["kpi", "value", "unit"], [list(r) for r in kpi_rows(plan)]),
        "<h2>Scorecard</h2>",
        _html_table(list(plan.scorecard.columns), _frame_rows(plan.scorecard)),
    ]
    if plan.notes:
        sections.append("<h2>Notes</h2><ul>")
        sections += [f"<li>{esc(n)}</li>" for n in plan.notes]
        sections.append("</ul>")
    for name, path in (plots or {}).items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        caption = esc(_CAPTIONS.get(name, name))
        sections.append(
            f"<h2>{esc(name.capitalize())}</h2><figure><img alt='{caption}' "
            f"src='data:image/png;base64,{data}'><figcaption>{caption}</figcaption></figure>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "img{max-width:100%}figcaption{color:#666;font-size:0.9em}.summary{font-weight:bold}"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>greenopt — {esc(scenario.name)}</title><style>{style}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def write_report(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    fmt: str = "html",
    plots: Mapping[str, str | os.PathLike[str]] | None = None,
) -> Path:
    """Write ``report.html`` (self-contained) or ``report.md`` into ``out``; return its path."""
    if fmt not in FORMATS:
        from greenopt.errors import ScenarioError

        raise ScenarioError(f"report format {fmt!r} is unknown; choose one of {FORMATS}", "report")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = html_report(scenario, plan, plots) if fmt == "html" else markdown(scenario, plan, plots)
    return _atomic(out / f"report.{fmt}", lambda p: Path(p).write_text(text, encoding="utf-8"))


def write_outputs(
    scenario: Scenario,
    plan: Plan,
    out: str | os.PathLike[str],
    *,
    parquet: bool = False,
    plots: bool = True,
    report: str | None = "html",
    deadline: float | None = None,
) -> list[Path]:
    """Everything ``greenopt plan`` writes: the plan tables and ``kpis.json``
    (:meth:`Plan.to_dir`), the plots (``gantt.png``, ``energy.png``, ``wan.png``) and the
    report (``report.html`` or ``report.md``; ``report=None`` for none). Returns the files.

    The tables are written first and a plot never fails the call: one too large is drawn
    aggregated or skipped, one that fails to draw is skipped, each with a line in the plan's
    notes (``kpis.json`` and the report). Only a failure to write (``OSError``) is raised.
    ``deadline`` (a ``time.perf_counter()`` value): plots not started by then are skipped.
    """
    # the plan first: whatever happens to a plot or the report, the tables are written
    written = plan.to_dir(out, parquet=parquet)
    pngs: dict[str, Path] = {}
    if plots:
        from greenopt.report.plots import plot_all

        notes: list[str] = []
        pngs = plot_all(scenario, plan, out, notes=notes, deadline=deadline)
        written += list(pngs.values())
        if notes:  # a plot drawn aggregated or skipped: said in kpis.json and the report
            plan.notes.extend(notes)
            plan.write_facts(out)
    if report:
        written.append(write_report(scenario, plan, out, report, pngs))
    return written
