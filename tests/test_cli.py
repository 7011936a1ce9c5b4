"""The command line, on the small example: every command, outputs equal to the Python API."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import greenopt
from greenopt.cli import app
from greenopt.result import TABLES

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    """The small example written as scenario files."""
    folder = tmp_path_factory.mktemp("small")
    greenopt.save_scenario(greenopt.examples.load("small"), folder)
    return folder


def test_help_lists_every_command():
    r = _run("--help")
    assert r.exit_code == 0
    for cmd in ("plan", "batch", "doctor", "feasibility", "example"):
        assert cmd in r.output


def test_plan_example_writes_every_output_matching_python_plan(tmp_path):
    out = tmp_path / "out"
    r = _run("plan", "--example", "small", "--method", "greedy", "--out", out, "--parquet")
    assert r.exit_code == 0, r.output
    assert "heuristic" in r.output and "validation: OK" in r.output
    expected = greenopt.plan(greenopt.examples.load("small"), "greedy")
    for name in TABLES:
        want = getattr(expected, name).reset_index(drop=True)
        # the slot-start column is written as ISO timestamps with their offset
        got = pd.read_csv(out / f"{name}.csv", parse_dates=["time"] if "time" in want else None)
        assert list(got.columns) == list(want.columns), name
        pd.testing.assert_frame_equal(
            got, want, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-12, obj=name
        )
        pq = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(pq, want, check_dtype=False, obj=f"{name}.parquet")
    facts = json.loads((out / "kpis.json").read_text())
    assert facts["method"] == "greedy" and facts["objective_name"] == "carbon"
    for key, value in expected.kpis.items():
        assert facts["kpis"][key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    for name in ("scorecard.csv", "gantt.png", "energy.png", "wan.png", "report.html"):
        assert (out / name).stat().st_size > 0, name


def test_file_options_are_overridden_by_flags(small_dir, tmp_path):
    """defaults < the scenario file's plan: section < flags."""
    doc = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    doc["plan"] = {"method": "greedy", "objective": "grid", "deadlines": "soft"}
    path = small_dir / "with_options.yaml"
    path.write_text(yaml.safe_dump(doc))
    out1, out2 = tmp_path / "a", tmp_path / "b"
    r = _run("plan", path, "--out", out1, "--no-plots", "--no-report")
    assert r.exit_code == 0, r.output
    facts = json.loads((out1 / "kpis.json").read_text())
    assert (facts["method"], facts["objective_name"]) == ("greedy", "grid")
    assert not (out1 / "gantt.png").exists() and not (out1 / "report.html").exists()
    r = _run("plan", path, "--out", out2, "--objective", "cost", "--no-plots", "--no-report")
    assert r.exit_code == 0, r.output
    facts = json.loads((out2 / "kpis.json").read_text())
    assert (facts["method"], facts["objective_name"]) == ("greedy", "cost")


def test_plan_markdown_report(small_dir, tmp_path):
    r = _run(
        "plan",
        small_dir / "scenario.yaml",
        "-m",
        "greedy",
        "--out",
        tmp_path,
        "--report-format",
        "md",
    )
    assert r.exit_code == 0, r.output
    md = (tmp_path / "report.md").read_text()
    assert "(gantt.png)" in md and "(energy.png)" in md and "(wan.png)" in md


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["plan", "no/such/file.yaml"], "does not exist"),
        (["feasibility", "--gbps", "1,x"], "--gbps must be numbers"),
        (["batch", "no/such/dir"], "is not a file, folder or glob"),
    ],
)
def test_input_errors_are_one_red_line_exit_3(args, needle, tmp_path):
    r = runner.invoke(app, [*args, "--out", str(tmp_path)] if args[0] != "feasibility" else args)
    assert r.exit_code == 3, r.output
    assert needle in r.output
    assert "Traceback" not in r.output
    assert r.stderr.strip().count("\n") == 0  # one line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["plan", "--example", "small", "-m", "nope"], "'nope' is not one of"),
        (["plan"], "give a SCENARIO file or --example"),
        (["plan", "--example", "small", "-o", "joy"], "'joy' is not one of"),
        (["plan", "--example", "huge"], "example 'huge' is unknown"),
        (["plan", "--example", "small", "--deadlines", "firm"], "'firm' is not one of"),
        (["plan", "--example", "small", "--report-format", "pdf"], "'pdf' is not one of"),
        (["batch", "--example", "small", "-m", "magic"], "'magic' is not one of"),
        (["batch", "--example", "small", "-o", "joy"], "'joy' is not one of"),
        (["plan", "--example", "small", "-p", "pases=3"], "did you mean 'passes'"),
        (["plan", "--example", "small", "--migration-alpha", "2"], "--migration-alpha must be"),
        (["plan", "--example", "small", "--migration-alpha", "ten"], "--migration-alpha must be"),
        (["plan", "--example", "small", "--migration-alpha", "0"], "--migration-alpha must be"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(args, needle, tmp_path, monkeypatch):
    import greenopt.batch as B

    def never(*a, **k):
        raise AssertionError("a scenario was loaded before the usage error")

    monkeypatch.setattr(B, "load_source", never)
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert needle in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("flag", "alpha"), [("0.05", 0.05), ("none", None), ("None", None)])
def test_migration_alpha_flag_overrides_the_scenarios_rule(small_dir, tmp_path, flag, alpha):
    """--migration-alpha replaces the file's α (MODEL.md §5 dwell rule); none turns it off: the
    plan is the Python plan of the scenario with that α, and the report says which rule held."""
    out = tmp_path / "out"
    path = small_dir / "scenario.yaml"
    r = _run("plan", path, "-m", "greedy", "--migration-alpha", flag, "--out", out, "--no-plots")
    assert r.exit_code == 0, r.output
    sc = greenopt.load_scenario(path)
    assert sc.migration_alpha == 0.1  # the file's, which the flag overrides
    want = greenopt.plan(sc.with_jobs(list(sc.jobs), migration_alpha=alpha), "greedy")
    got = pd.read_csv(out / "assignments.csv")
    assert len(got) == len(want.assignments)
    assert got["share"].to_numpy() == pytest.approx(want.assignments["share"].to_numpy())
    report = (out / "report.html").read_text()
    assert ("dwell rule" in report) and (("off" if alpha is None else "α = 0.05") in report)


def test_broken_scenario_file_names_the_culprit(small_dir, tmp_path):
    bad = tmp_path / "bad.yaml"
    doc = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    doc["wan_shar"] = 0.5
    doc["jobs"] = str(small_dir / "jobs.csv")
    bad.write_text(yaml.safe_dump(doc))
    r = runner.invoke(app, ["plan", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 3 and "wan_shar" in r.output and "Traceback" not in r.output


def test_plan_milp_with_solver_log(tmp_path):
    pytest.importorskip("greenopt.milp.pipeline")
    log = tmp_path / "solver.log"
    r = _run(
        "plan",
        "--example",
        "small",
        "-m",
        "milp",
        "--time-limit",
        "20",
        "--out",
        tmp_path / "o",
        "--no-plots",
        "--no-report",
        "--solver-log",
        log,
    )
    assert r.exit_code == 0, r.output
    facts = json.loads((tmp_path / "o" / "kpis.json").read_text())
    assert facts["method"] == "milp" and facts["status"] in ("optimal", "feasible", "time_limit")
    assert log.is_file() and log.stat().st_size > 0


def test_doctor_finds_highs():
    r = _run("doctor")
    assert r.exit_code == 0, r.output
    assert "highs" in r.output and "working:" in r.output
    assert "pyomo" in r.output


def test_feasibility_table_and_plot(tmp_path):
    r = _run(
        "feasibility",
        "--sizes",
        "10,100,1000",
        "--gbps",
        "1,10",
        "--windows",
        "1,4",
        "--out",
        tmp_path,
    )
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "feasibility.csv")
    assert len(df) == 3 * 2 * 2
    # S_max = α W η B 3600 / 8 = 0.1 · 1 · 1 · 3600 / 8 = 45 GB at 1 Gbit/s into a 1 h window
    row = df[(df["gbps"] == 1) & (df["window_h"] == 1) & (df["state_gb"] == 10)].iloc[0]
    assert row["s_max_gb"] == pytest.approx(45.0) and bool(row["time_feasible"])
    big = df[(df["gbps"] == 1) & (df["window_h"] == 1) & (df["state_gb"] == 100)].iloc[0]
    assert not bool(big["time_feasible"])
    assert (tmp_path / "feasibility.png").stat().st_size > 0
    assert "feasible" in r.output


def test_example_writes_loadable_scenario_files(tmp_path):
    r = _run("example", "small", tmp_path / "ex")
    assert r.exit_code == 0, r.output
    sc = greenopt.load_scenario(tmp_path / "ex" / "scenario.yaml")
    ref = greenopt.examples.load("small")
    assert [j.name for j in sc.jobs] == [j.name for j in ref.jobs]
    assert sc.sites == ref.sites


def test_batch_command_runs_examples_on_threads(tmp_path):
    out = tmp_path / "b"
    args = [
        "batch",
        "--example",
        "small",
        "-m",
        "greedy",
        "-o",
        "carbon",
        "-o",
        "grid",
        "--worker-kind",
        "thread",
        "--workers",
        "2",
        "--out",
        out,
    ]
    r = _run(*args)
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "summary.csv")
    assert summary["status"].tolist() == ["done", "done"]
    assert (out / "small--greedy--grid" / "DONE").is_file()
    r = _run(*args)  # resume: nothing to redo
    assert r.exit_code == 0 and "resuming: 2 task(s) already complete" in r.output
    assert pd.read_csv(out / "summary.csv")["status"].tolist() == ["skipped", "skipped"]


def test_batch_rolling_days_from_the_command_line(tmp_path):
    from greenopt.batch import tile_days

    src = greenopt.save_scenario(tile_days(greenopt.examples.load("small"), 2), tmp_path / "two")
    out = tmp_path / "r"
    r = _run(
        "batch",
        src,
        "-m",
        "run-now",
        "--days",
        "2023-06-21:2023-06-22",
        "--rolling",
        "--worker-kind",
        "thread",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "summary.csv")
    assert summary["day"].tolist() == ["2023-06-21", "2023-06-22"]
    assert summary["status"].tolist() == ["done", "done"]
    day2 = pd.read_csv(out / "two--run-now--carbon--2023-06-22" / "jobs.csv")
    assert len(day2) == 20 and day2["job"].str.endswith("@d1").all()
    r = _run("batch", src, "--days", "2023-06-23", "--worker-kind", "thread", "--out", out)
    assert r.exit_code == 1 and "failed" in r.output
    err = json.loads((out / "two--milp--carbon--2023-06-23" / "error.json").read_text())
    assert "not a whole day" in err["message"]
