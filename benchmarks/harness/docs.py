"""Regenerate the numbers of ``docs/benchmarks.md`` from suite results folders.

The document is hand-written prose with generated blocks between markers::

    <!-- bench:real-headline -->
    ... replaced on every run ...
    <!-- /bench:real-headline -->

:func:`write_docs` reads each suite's output folder (``bench.parquet``, ``gap_progress.csv``,
``meta.json`` as written by :func:`benchmarks.harness.run_suite`), renders every block of
:data:`BLOCKS` and redraws the plots as small PNGs into the images folder. A block whose suite
has no results keeps what the document already holds there (so ``--suite scaling`` refreshes
the scaling blocks and leaves the real and solver tables of an earlier run alone); an empty one
says how to produce them. Unknown or unbalanced markers are an error, so the
prose and the generator cannot drift apart silently.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.harness import plots as bench_plots
from benchmarks.harness.harness import progress_table
from benchmarks.harness.report import (
    fmt_num,
    fmt_pct,
    fmt_s,
    headline_markdown,
    instance_pivot,
    invalid_lines,
    machine_markdown,
    md_table,
    solver_detail,
    solver_markdown,
)
from greenopt.errors import ScenarioError

_MARKER = re.compile(r"<!-- (/?)bench:([a-z0-9-]+) -->")


@dataclass
class SuiteData:
    """A suite's results as read back from its output folder."""

    suite: str
    folder: Path
    table: pd.DataFrame
    progress: pd.DataFrame
    meta: dict[str, Any]


def read_results(folder: str | os.PathLike[str], suite: str) -> SuiteData | None:
    """The results in ``folder`` (``None`` when it holds no table or the suite was skipped)."""
    folder = Path(folder)
    meta_file, table_file = folder / "meta.json", folder / "bench.parquet"
    if not (meta_file.is_file() and table_file.is_file()):
        return None
    meta = json.loads(meta_file.read_text())
    if meta.get("skipped"):
        return None
    table = pd.read_parquet(table_file)
    # re-read the HiGHS logs (not gap_progress.csv), so parser fixes reach old results too
    progress = progress_table(table.to_dict("records"), base=folder)
    return SuiteData(suite, folder, table, progress, meta)


def _missing(suite: str) -> str:
    command = f"python benchmarks/run_benchmarks.py --suite {suite}"
    return f"_No `{suite}` results yet: run `{command}`._"


def _run_facts(d: SuiteData) -> str:
    opts = d.meta.get("options", {})
    n = d.table["instance"].astype(str).str.cat(d.table["seed"].astype(str), "#").nunique()
    bad = invalid_lines(d.table)
    validity = (
        f"all {len(d.table)} plans pass `greenopt.validate`"
        if not bad
        else f"**{len(bad)} of {len(d.table)} plans fail `greenopt.validate` or raised**"
    )
    return (
        f"Suite `{d.suite}`, run {d.meta.get('finished', '?')} ({fmt_s(d.meta.get('elapsed_s'))}"
        f" s): {n} instance(s), MILP time limit {opts.get('time_limit')} s, target gap "
        f"{fmt_pct(opts.get('mip_gap', 0.01), 0)}, {opts.get('threads')} thread(s); {validity}."
    )


def _headline(d: SuiteData) -> str:
    return _run_facts(d) + "\n\n" + headline_markdown(d.table)


def _pivot(d: SuiteData) -> str:
    return md_table(instance_pivot(d.table), {"seed": fmt_num})


def _milp_gap(d: SuiteData) -> str:
    milp = d.table[d.table["method"] == "milp"]
    if milp.empty:
        return "_no MILP runs_"
    gaps = milp["gap"].astype(float)
    statuses = ", ".join(f"{k} {v}" for k, v in milp["status"].value_counts().items())
    return (
        f"MILP gap over {len(milp)} plans: median {fmt_pct(gaps.median(), 2)}, max "
        f"{fmt_pct(gaps.max(), 2)} ({statuses}); wall time median "
        f"{fmt_s(milp['wall_s'].astype(float).median())} s."
    )


def _solvers(d: SuiteData) -> str:
    opts = d.meta.get("options", {})
    notes = [n for n in d.meta.get("notes", []) if n.startswith("solver ")]
    text = _run_facts(d) + "\n\n" + solver_markdown(d.table, float(opts.get("mip_gap", 0.01)))
    text += "\n\n" + md_table(solver_detail(d.table))
    if notes:
        text += "\n\n" + "\n".join(f"- {n}" for n in notes)
    return text


def _machine(results: Mapping[str, SuiteData]) -> str | None:
    for d in results.values():
        return machine_markdown(d.meta)
    return None


#: a block's renderer: ``(results by suite, images folder, images path from the doc)`` → its
#: text, or ``None`` when its suite has no results (the document's text is then kept)
Renderer = Callable[[Mapping[str, SuiteData], Path, str], "str | None"]


def _image(name: str) -> Renderer:
    """A block showing plot ``name`` (``suite-plot``) redrawn into the images folder."""
    suite, plot = name.split("-", 1)

    def block(results: Mapping[str, SuiteData], images: Path, rel: str) -> str:
        d = results.get(suite)
        if d is None:
            return None
        path = images / f"bench-{suite}-{plot}.png"
        if plot == "carbon":
            bench_plots.carbon_grid(d.table, path, dpi=70)
        elif plot == "runtime":
            bench_plots.runtime_vs_size(d.table, path, dpi=70)
        else:
            bench_plots.gap_vs_time(d.progress, path, dpi=70)
        return f"![{suite} {plot}]({rel}/{path.name})"

    return block


def _suite_block(suite: str, render: Callable[[SuiteData], str]) -> Renderer:
    def block(results: Mapping[str, SuiteData], images: Path, rel: str) -> str | None:
        d = results.get(suite)
        return render(d) if d is not None else None

    return block


#: block name → its renderer
BLOCKS: dict[str, Renderer] = {
    "machine": lambda results, images, rel: _machine(results),
    "real-headline": _suite_block("real", _headline),
    "real-instances": _suite_block("real", _pivot),
    "real-milp-gap": _suite_block("real", _milp_gap),
    "solvers-table": _suite_block("solvers", _solvers),
    "scaling-headline": _suite_block("scaling", _headline),
    "real-carbon": _image("real-carbon"),
    "real-gap": _image("real-gap"),
    "scaling-runtime": _image("scaling-runtime"),
    "scaling-gap": _image("scaling-gap"),
    "solvers-gap": _image("solvers-gap"),
}


def render(
    template: str, results: Mapping[str, SuiteData], images: Path, rel: str = "images"
) -> str:
    """``template`` with every ``bench:`` block replaced (see the module docstring): a block
    whose suite has no results keeps its text, or says how to produce it when it has none."""
    out: list[str] = []
    pos = 0
    open_name: str | None = None
    for m in _MARKER.finditer(template):
        closing, name = m.group(1) == "/", m.group(2)
        if name not in BLOCKS:
            raise ScenarioError(f"docs: unknown block marker bench:{name}", name)
        if not closing:
            if open_name is not None:
                raise ScenarioError(f"docs: block bench:{open_name} is not closed", open_name)
            out.append(template[pos : m.end()])
            open_name = name
        else:
            if open_name != name:
                raise ScenarioError(f"docs: closing bench:{name} without its opening", name)
            text = BLOCKS[name](results, images, rel)
            if text is None:  # no results for its suite: keep the document's
                kept = template[pos : m.start()].strip()
                text = kept or (_missing(name.split("-")[0]) if name != "machine" else "_none_")
            out.append("\n" + text.strip() + "\n")
            out.append(m.group(0))
            open_name = None
        pos = m.end()
    if open_name is not None:
        raise ScenarioError(f"docs: block bench:{open_name} is not closed", open_name)
    out.append(template[pos:])
    return "".join(out)


def write_docs(
    results_root: str | os.PathLike[str],
    doc: str | os.PathLike[str],
    suites: tuple[str, ...] = ("real", "solvers", "scaling"),
) -> Path:
    """Regenerate ``doc`` from ``results_root/<suite>/`` folders; images go to ``images/``
    beside the doc. Returns the doc's path."""
    doc = Path(doc)
    images = doc.parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    found = {s: read_results(Path(results_root) / s, s) for s in suites}
    results = {s: d for s, d in found.items() if d is not None}
    text = render(doc.read_text(encoding="utf-8"), results, images, rel="images")
    tmp = doc.with_name(f".{doc.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, doc)
    return doc
