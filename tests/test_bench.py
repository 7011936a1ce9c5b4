"""The benchmark harness: the quick suite (every plan must pass validate) and its pieces."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import greenopt
from benchmarks.harness import COLUMNS, SUITES, parse_highs_log, run_suite, time_to_gap
from benchmarks.harness import plots as bench_plots
from benchmarks.harness.cli import app
from benchmarks.harness.memory import PeakMemory
from benchmarks.harness.report import (
    add_cuts,
    headline_markdown,
    instance_markdown,
    method_summary,
    solver_detail,
)
from benchmarks.harness.suites import ALL_METHODS, REAL_DAYS, SuiteOptions

# a HiGHS log with two runs (LP-guided phase, then the full model), sources, inf and Large
LOG = """\
Running HiGHS 1.16.0 (git hash: f3f113d): Copyright (c) 2026 under MIT licence terms
MIP  x has 10 rows; 20 cols; 40 nonzeros; 20 integer variables (20 binary)

        Nodes      |    B&B Tree     |            Objective Bounds              |  Dynamic Constraints |       Work
Src  Proc. InQueue |  Leaves   Expl. | BestBound       BestSol              Gap |   Cuts   InLp Confl. | LpIters     Time

 J       0       0         0   0.00%   -inf            271.1324801        Large        0      0      0         0     0.0s
         0       0         0   0.00%   134.8811732     inf                  inf        0      0      1     10856     2.3s
 C       0       0         0   0.00%   134.9343293     188.3407169       28.36%     4336    252      1     12697     5.3s

Solving report
  Status            Time limit reached
  Primal bound      188.340716900
  Dual bound        134.934329300
  Gap               28.36% (tolerance: 1%)
  Timing            6.00
Running HiGHS 1.16.0 (git hash: f3f113d): Copyright (c) 2026 under MIT licence terms

        Nodes      |    B&B Tree     |            Objective Bounds              |  Dynamic Constraints |       Work
Src  Proc. InQueue |  Leaves   Expl. | BestBound       BestSol              Gap |   Cuts   InLp Confl. | LpIters     Time

         0       0         0   0.00%   150.0           188.3407169       20.36%        0      0      0         0     1.0s
 T      12       3         5  40.00%   186.5           188.0             0.80%       10     10      2       999     4.5s

Solving report
  Status            Optimal
  Primal bound      188.000000000
  Dual bound        186.500000000
  Gap               0.8% (tolerance: 1%)
  Timing            4.60
"""  # noqa: E501 — HiGHS's own line width


# -- the quick suite, as CI runs it ------------------------------------------------------------
def test_quick_suite_every_plan_is_valid(tmp_path):
    result = run_suite("quick", out=tmp_path)
    bad = result.invalid_lines()
    assert not bad, "plans that fail greenopt.validate (or whose method raised):\n" + "\n".join(bad)
    table = result.table
    assert result.skipped is None and len(table) >= 2 * len(ALL_METHODS)
    assert set(table["method"]) == set(ALL_METHODS)
    assert table["status"].ne("error").all()
    # tidy: one row per instance × method × seed, every column in place, CSV = Parquet
    assert not table.duplicated(["instance", "seed", "method", "solver"]).any()
    assert list(table.columns) == COLUMNS
    csv = pd.read_csv(tmp_path / "bench.csv")
    parquet = pd.read_parquet(tmp_path / "bench.parquet")
    assert list(csv.columns) == COLUMNS and list(parquet.columns) == COLUMNS
    assert len(csv) == len(parquet) == len(table)
    assert np.allclose(parquet["carbon_kg"], table["carbon_kg"])
    # run-now is the reference of the cut; every plan has its metrics and a peak memory
    run_now = table[table["method"] == "run-now"]
    assert np.allclose(run_now["carbon_cut_vs_run_now"], 0.0)
    assert table["carbon_cut_vs_run_now"].notna().all()
    assert (table["peak_rss_mb"] > 0).all() and (table["wall_s"] >= 0).all()
    milp = table[table["method"] == "milp"]
    assert milp["gap"].notna().all() and milp["bound"].notna().all()
    assert milp["log_file"].notna().all()
    assert all((tmp_path / p).is_file() for p in milp["log_file"])
    # the MILP's progress was read from HiGHS's logs; the report and plots exist
    progress = pd.read_csv(tmp_path / "gap_progress.csv")
    assert len(progress) and set(progress["instance"]) == set(milp["instance"])
    report = (tmp_path / "report.md").read_text()
    assert "every plan passes `greenopt.validate`" in report
    assert "carbon cut vs run-now" in report and "MILP by solver" in report
    for name in ("carbon_grid", "runtime", "gap"):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 1000
        assert f"plots/{name}.png" in report


# -- HiGHS log -----------------------------------------------------------------------------------
def test_highs_log_parsing_two_runs():
    progress, runs = parse_highs_log(LOG)
    assert len(runs) == 2 and runs[0].version == "1.16.0"
    assert runs[0].status == "Time limit reached" and runs[1].status == "Optimal"
    assert runs[0].gap == pytest.approx(0.2836) and runs[1].gap == pytest.approx(0.008)
    assert runs[1].dual_bound == pytest.approx(186.5) and runs[0].timing_s == 6.0
    assert progress["run"].tolist() == [0, 0, 0, 1, 1]
    assert progress["source"].tolist() == ["J", "", "C", "", "T"]
    assert math.isnan(progress["best_bound"].iloc[0])  # -inf
    assert math.isnan(progress["gap"].iloc[0]) and math.isnan(progress["gap"].iloc[1])
    assert math.isnan(progress["best_sol"].iloc[1])  # inf before the first incumbent
    assert progress["gap"].iloc[2] == pytest.approx(0.2836)
    # the second run's clock starts where the first run's Timing ended
    assert progress["elapsed_s"].tolist() == pytest.approx([0.0, 2.3, 5.3, 7.0, 10.5])
    assert progress["nodes"].iloc[-1] == 12
    assert time_to_gap(progress, 0.01) == pytest.approx(10.5)
    assert time_to_gap(progress, 0.01, run=0) is None
    assert time_to_gap(progress.iloc[:0], 0.01) is None


def test_highs_log_runs_split_without_a_second_banner():
    # HiGHS prints its banner once per process: later solves start at their "MIP ... has" line
    banner = LOG.splitlines(keepends=True)[0]
    text = LOG.replace(banner, "", 1).replace(banner, "MIP  y has 12 rows; 20 cols\n")
    progress, runs = parse_highs_log(text)
    assert len(runs) == 2 and runs[0].version is None
    assert progress["run"].tolist() == [0, 0, 0, 1, 1]
    assert progress["elapsed_s"].tolist() == pytest.approx([0.0, 2.3, 5.3, 7.0, 10.5])


def test_highs_log_of_a_real_solve(tmp_path):
    log = tmp_path / "highs.log"
    sc = greenopt.examples.load("small")
    p = greenopt.plan(sc, "milp", time_limit=20, log_file=str(log), threads=1)
    progress, runs = parse_highs_log(log.read_text())
    assert len(progress) > 0 and runs[-1].status is not None
    assert progress["elapsed_s"].is_monotonic_increasing
    assert runs[-1].primal_bound == pytest.approx(p.objective, rel=1e-3)


def test_log_without_banner_or_table():
    progress, runs = parse_highs_log("no HiGHS here\n")
    assert progress.empty and len(runs) == 1 and runs[0].status is None


# -- tidy table, summaries -----------------------------------------------------------------------
def _fake_table() -> pd.DataFrame:
    rows = []
    for inst, base in (("a", 100.0), ("b", 50.0)):
        for method, carbon, misses, gap in (
            ("run-now", base, 0, None),
            ("greedy", 0.8 * base, 1, None),
            ("milp", 0.6 * base, 0, 0.02),
        ):
            rows.append(
                {
                    "instance": inst,
                    "seed": 0,
                    "method": method,
                    "solver": "highs" if method == "milp" else None,
                    "label": method,
                    "status": "feasible" if method == "milp" else "heuristic",
                    "valid": True,
                    "carbon_kg": carbon,
                    "grid_kwh": 2 * carbon,
                    "deadline_misses": misses,
                    "migrations": 3,
                    "gap": gap,
                    "wall_s": 1.0 if method == "milp" else 0.01,
                    "size": 1000 if inst == "a" else 4000,
                    "peak_rss_mb": 100.0,
                    "objective": carbon,
                    "time_to_gap_s": None,
                    "time_limit": 60.0,
                    "jobs": 10,
                    "sites": 2,
                    "slots": 24,
                    "solver_version": "1",
                }
            )
    return add_cuts(pd.DataFrame(rows, columns=[*COLUMNS]).assign(**{}))


def test_cuts_and_method_summary():
    table = _fake_table()
    assert table.loc[table["method"] == "greedy", "carbon_cut_vs_run_now"].tolist() == (
        pytest.approx([0.2, 0.2])
    )
    s = method_summary(table).set_index("method")
    assert list(s.index) == ["run-now", "greedy", "milp"]
    assert s.loc["milp", "carbon cut vs run-now"] == pytest.approx(0.4)
    assert s.loc["greedy", "deadline misses"] == 2
    assert s.loc["milp", "gap max"] == pytest.approx(0.02)
    md = headline_markdown(table)
    assert "40.0 % [40.0 %, 40.0 %]" in md and "2 (1)" in md
    detail = solver_detail(table)
    assert list(detail.columns) == ["instance#seed", "size", "highs"]
    assert detail["highs"].str.startswith("gap 2.00 %").all()


def test_method_summary_shows_the_plausibility_kpis():
    """short_runs and migrations_per_job (MODEL.md §8) reach the headline and every-run
    tables; results written before they existed show a dash instead of failing."""
    table = _fake_table()
    table["migrations_per_job"] = np.where(table["method"] == "milp", 0.25, 0.5)
    table["short_runs"] = np.where(table["method"] == "milp", 4, 0)
    s = method_summary(table).set_index("method")
    assert s.loc["milp", "migrations per job"] == pytest.approx(0.25)
    assert s.loc["milp", "short runs"] == pytest.approx(4.0)
    assert s.loc["greedy", "short runs"] == 0.0
    md = headline_markdown(table)
    assert "migrations per job (mean)" in md and "short runs (mean)" in md and "0.250" in md
    assert "short_runs" in instance_markdown(table)
    old = table.drop(columns=["migrations_per_job", "short_runs"])
    assert np.isnan(method_summary(old).set_index("method").loc["milp", "short runs"])
    assert "short_runs" not in instance_markdown(old)


def test_no_run_now_means_no_cut():
    table = _fake_table()
    table = add_cuts(table[table["method"] != "run-now"])
    assert table["carbon_cut_vs_run_now"].isna().all()


# -- plots ----------------------------------------------------------------------------------------
def test_plots_have_their_axes(tmp_path):
    table = _fake_table()
    fig = bench_plots.carbon_grid(table, tmp_path / "cg.png")
    assert len(fig.axes) == 2
    fig = bench_plots.runtime_vs_size(table, tmp_path / "rt.png")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    progress, _ = parse_highs_log(LOG)
    progress["key"] = "a#0"
    fig = bench_plots.gap_vs_time(progress, tmp_path / "gap.png")
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].get_lines()) >= 2  # one line per run of the log (+ the 1 % line)
    fig = bench_plots.gap_vs_time(progress.iloc[:0], tmp_path / "empty.png")
    assert len(fig.axes) == 1
    for name in ("cg", "rt", "gap", "empty"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


# -- suites, skipping, failures --------------------------------------------------------------------
def test_real_suite_skips_without_data(tmp_path):
    result = run_suite("real", out=tmp_path / "out", data_dir=tmp_path / "absent")
    assert result.skipped and "real-data folder not found" in result.skipped
    assert result.table.empty and result.invalid.empty
    assert "**Skipped:**" in (tmp_path / "out" / "report.md").read_text()


def test_quick_and_solvers_suites_note_missing_data(tmp_path):
    opts = SuiteOptions(data_dir=tmp_path / "absent")
    quick = SUITES["quick"].build(opts, (0,))
    assert all(i.family != "real" for i in quick.instances)
    assert any("real-trace instance skipped" in n for n in quick.notes)
    solvers = SUITES["solvers"].build(
        SuiteOptions(data_dir=tmp_path / "absent", solvers=("highs", "no-such-solver")), (0,)
    )
    assert [r.solver for r in solvers.runs] == ["highs"]
    assert any("no-such-solver: not available" in n for n in solvers.notes)
    assert solvers.instances and all(i.family == "synthetic" for i in solvers.instances)


def test_cli_skipped_suite_exits_zero(tmp_path):
    r = CliRunner().invoke(app, ["--suite", "real", "--data-dir", str(tmp_path / "no")])
    assert r.exit_code == 0, r.output
    assert "skipped" in r.output


def test_cli_quick_validates_every_method(tmp_path):
    # python -m benchmarks (was: greenopt bench)
    r = CliRunner().invoke(app, ["--suite", "quick", "-m", "greedy", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "bench.csv")
    assert set(df["method"]) == {"greedy"} and len(df) >= 2  # quick has several instances
    assert bool(df["valid"].all()) and int(df["violations"].sum()) == 0


def test_cli_unknown_suite_is_one_red_line_exit_2(tmp_path):
    r = CliRunner().invoke(app, ["--suite", "nope", "--out", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "suite 'nope' is unknown" in r.output and "Traceback" not in r.output
    assert r.stderr.strip().count("\n") == 0  # one line


def test_a_failing_method_is_a_row_not_a_crash(tmp_path, monkeypatch):
    real_plan = greenopt.plan

    def broken(scenario, method, **kwargs):
        if method == "greedy":
            raise RuntimeError("boom")
        return real_plan(scenario, method, **kwargs)

    monkeypatch.setattr(greenopt, "plan", broken)
    result = run_suite("quick", methods=["run-now", "greedy"], data_dir=tmp_path / "absent")
    greedy = result.table[result.table["method"] == "greedy"]
    assert (greedy["status"] == "error").all() and not greedy["valid"].any()
    assert greedy["error"].str.contains("RuntimeError: boom").all()
    assert any("greedy: error: RuntimeError: boom" in line for line in result.invalid_lines())
    assert result.table.loc[result.table["method"] == "run-now", "valid"].all()


def test_peak_memory_sees_an_allocation():
    with PeakMemory(interval_s=0.01) as mem:
        block = np.ones(80 * 2**20 // 8)  # 80 MiB
        block[::4096] += 1.0
        # held until the sampler has run twice (on a loaded machine its thread may not get a
        # turn while the block is alive; what is tested is that a sample sees it)
        seen, until = mem.samples, time.monotonic() + 30
        while mem.samples < seen + 2 and time.monotonic() < until:
            time.sleep(0.005)
        del block
    assert mem.peak_mb >= mem.start_mb + 60


@pytest.mark.realdata
def test_real_suite_instances(data_dir):
    plan = SUITES["real"].build(SuiteOptions(data_dir=data_dir), (0, 1))
    days = {i.facts["day"] for i in plan.instances}
    assert len(days) >= 3 and days == set(REAL_DAYS)
    assert {r.method for r in plan.runs} == set(ALL_METHODS)
    sc = plan.instances[0].build()
    assert len(sc.sites) >= 6 and len(sc.jobs) >= 300


# -- docs/benchmarks.md generation ---------------------------------------------------------------
def test_docs_blocks_are_regenerated(tmp_path):
    from benchmarks.harness.docs import write_docs
    from greenopt.errors import ScenarioError

    result = run_suite("quick", out=tmp_path / "results" / "real", methods=["run-now", "greedy"])
    assert result.invalid.empty
    doc = tmp_path / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(
        "intro\n<!-- bench:real-headline -->\nstale\n<!-- /bench:real-headline -->\n"
        "<!-- bench:real-carbon --><!-- /bench:real-carbon -->\n"
        "<!-- bench:solvers-table -->\n<!-- /bench:solvers-table -->\nend\n"
    )
    write_docs(tmp_path / "results", doc)
    text = doc.read_text()
    assert "stale" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "| greedy |" in text and "carbon cut vs run-now" in text
    assert "![real carbon](images/bench-real-carbon.png)" in text
    assert (doc.parent / "images" / "bench-real-carbon.png").stat().st_size < 200_000
    assert "No `solvers` results yet" in text
    write_docs(tmp_path / "results", doc)
    assert doc.read_text() == text  # idempotent
    # a suite without results keeps the table an earlier run wrote (a one-suite run
    # refreshes its own blocks only)
    doc.write_text(text.replace("No `solvers` results yet", "earlier solver table"))
    write_docs(tmp_path / "results", doc)
    assert "earlier solver table" in doc.read_text() and "| greedy |" in doc.read_text()
    doc.write_text("<!-- bench:nope --><!-- /bench:nope -->")
    with pytest.raises(ScenarioError, match="unknown block"):
        write_docs(tmp_path / "results", doc)
    doc.write_text("<!-- bench:real-headline -->")
    with pytest.raises(ScenarioError, match="not closed"):
        write_docs(tmp_path / "results", doc)
