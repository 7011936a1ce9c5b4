"""Issue 16's command-line items: choices and defaults in --help, exit codes by kind, --quiet and
--json, warnings through the 'greenopt' logger, names printed literally, tables in 80 columns,
live branch-and-bound progress from HiGHS's callbacks. Through the real CLI (CliRunner, and a
subprocess where the terminal width matters) and the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import greenopt
from greenopt.cli import app
from greenopt.cli.common import EXIT_CODES

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _cli(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("greenopt")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "greenopt.cli"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


# -- --help: closed choices and visible defaults -------------------------------------------------
def test_help_shows_every_default_and_the_choices():
    r = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "250"})
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    # the six defaults rich markup used to swallow, and the MILP's time limit
    for default in ("(milp)", "(carbon)", "(soft)", "(0.01)", "(0)", "(highs)", "(120)"):
        assert f"default: {default}" in text, default
    assert "milp|greedy|online|run-now|threshold|greenest-region|follow-renewables" in text
    assert "soft|hard" in text and "html|md" in text
    r = runner.invoke(app, ["batch", "--help"], env={"COLUMNS": "250"})
    assert "process|thread" in " ".join(r.output.split())


# -- exit codes ------------------------------------------------------------------------------------
def _infeasible(folder: Path) -> Path:
    """Two jobs that each need every GPU of their site in the same single hour."""
    sc = greenopt.examples.load("small")
    site = sc.sites[0]
    start = pd.Timestamp(sc.horizon.start)
    jobs = [
        greenopt.Job(
            name=f"rush{k}",
            origin=site.name,
            release=start,
            deadline=start + pd.Timedelta(minutes=sc.horizon.slot_minutes),
            work_h=sc.horizon.slot_minutes / 60,
            gpus=site.gpus,
            power_kw=1,
            allowed_regions=[site.region],
            migratable=False,
        )
        for k in range(2)
    ]
    return greenopt.save_scenario(sc.with_jobs(jobs), folder)


def test_each_kind_of_failure_has_its_own_exit_code(tmp_path):
    assert set(EXIT_CODES) == {0, 1, 2, 3, 4, 5, 6, 130}
    cases = {
        2: ["plan", "--example", "small", "-m", "nope"],
        3: ["plan", str(tmp_path / "missing.yaml")],
        4: ["plan", str(_infeasible(tmp_path / "inf")), "-m", "greedy", "--deadlines", "hard"],
        5: ["plan", "--example", "small", "--solver", "no_such_solver"],
        6: ["batch", "--example", "small", "-m", "greedy", "--scheduler", "garbage"],
    }
    for code, args in cases.items():
        r = runner.invoke(app, [*args, "--out", str(tmp_path / f"out{code}")])
        assert r.exit_code == code, (code, r.output)
        assert "Traceback" not in r.output


# -- --quiet, --json, warnings -------------------------------------------------------------------
def _with_a_warning(folder: Path) -> Path:
    """The small example with a site whose renewables never exceed its idle load (no_surplus)."""
    sc = greenopt.examples.load("small")
    first = sc.sites[0].model_copy(update={"renewable_kw": np.zeros(sc.horizon.slots)})
    return greenopt.save_scenario(sc.with_jobs(sc.jobs, sites=[first, *sc.sites[1:]]), folder)


def test_json_is_one_document_on_stdout_and_warnings_reach_stderr(tmp_path):
    path = _with_a_warning(tmp_path / "sc")
    r = _cli("plan", str(path), "-m", "greedy", "--out", "o", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # nothing else on stdout
    assert doc["status"] == "heuristic" and doc["method"] == "greedy"
    assert set(doc["kpis"]) >= {"carbon_kg", "grid_kwh"} and doc["violations"] == []
    assert "kpis.json" in doc["files"] and doc["out"] == "o"
    assert any("no_surplus" in w for w in doc["warnings"])
    assert "warning:" in r.stderr and "no_surplus" in r.stderr


def test_quiet_prints_nothing_but_errors(tmp_path):
    r = _cli("plan", "--example", "small", "-m", "greedy", "--out", "o", "-q", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)
    r = _cli("plan", "--example", "small", "-m", "greedy", "--out", "o", "-q", cwd=tmp_path)
    assert r.returncode == 3 and r.stdout == "" and "earlier plan" in r.stderr
    r = _cli("plan", "--example", "small", "--out", "o", "--json", cwd=tmp_path)
    assert r.returncode == 3 and json.loads(r.stdout)["exit_code"] == 3


def test_json_batch_summary(tmp_path):
    r = _cli("batch", "--example", "small", "-m", "greedy", "--out", "b", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["counts"] == {"done": 1}
    assert doc["tasks"][0]["task"] == "small--greedy--carbon"


def test_the_library_logs_to_the_greenopt_logger(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="greenopt"):
        greenopt.plan(greenopt.examples.load("small"), "milp", time_limit=20)
    assert any(r.name.startswith("greenopt") for r in caplog.records)


# -- names printed literally; 80 columns -----------------------------------------------------------
def test_a_failing_job_named_like_markup_is_printed_literally_in_the_batch(tmp_path):
    sc = greenopt.examples.load("small")
    ok = greenopt.save_scenario(sc, tmp_path / "src" / "fine")
    bad = greenopt.save_scenario(sc, tmp_path / "src" / "broken")
    doc = yaml.safe_load(bad.read_text())
    doc["jobs"] = [
        {
            "name": "[/x]",
            "origin": "[bold]nowhere[/]",
            "release": "2023-06-21T00:00:00Z",
            "deadline": "2023-06-21T05:00:00Z",
            "work_h": 1,
            "gpus": 1,
            "power_kw": 1,
        }
    ]
    bad.write_text(yaml.safe_dump(doc))
    r = _cli("batch", str(tmp_path / "src"), "-m", "greedy", "--out", "b", cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)  # a task failed; the batch went on
    assert "MarkupError" not in r.stderr and "Traceback" not in r.stderr
    assert "[/x]" in r.stderr and "[bold]nowhere[/]" in r.stderr
    assert ok.exists() and (tmp_path / "b" / "fine--greedy--carbon" / "DONE").is_file()


def test_the_batch_summary_fits_80_columns(tmp_path):
    # the layout is the point, not the plans: two quick methods, the longer name making the
    # longer ids to wrap (the greedy took ~2.6 s a realistic task, 4 of its 16 tasks)
    r = _cli(
        "batch", "--example", "small", "--example", "realistic", "-m", "follow-renewables",
        "-m", "run-now",
        "-o", "carbon", "-o", "weighted", "--param", "seed=11,12", "--out", "b", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert "…" not in r.stdout  # nothing cut: long ids wrap
    # the task column, its wrapped pieces joined: every id is there in full
    ids: list[str] = []
    for line in lines:
        cells = [c.strip() for c in line.split("│")]
        if len(cells) < 7:
            continue
        if cells[1]:  # a status: a new row
            ids.append(cells[0])
        elif ids:
            ids[-1] += cells[0]
    summary = pd.read_csv(tmp_path / "b" / "summary.csv")
    assert sorted(ids) == sorted(summary["task"]), ids


def test_plan_output_fits_80_columns_and_names_print_literally(tmp_path):
    sc = greenopt.examples.load("small")
    greenopt.save_scenario(sc.with_jobs(sc.jobs, name="Q3 plan [/draft] [red]x[/red]"), tmp_path)
    r = _cli("plan", "scenario.yaml", "-m", "greedy", "--out", "o", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Q3 plan [/draft] [red]x[/red]" in " ".join(r.stdout.split())
    assert max(len(line) for line in r.stdout.splitlines()) <= 80


# -- live branch-and-bound progress ----------------------------------------------------------------
def test_branch_and_bound_reports_progress_from_highs_callbacks():
    sc = greenopt.examples.load("small")
    calls: list[tuple[float, float, float | None]] = []
    p = greenopt.plan(sc, "milp", time_limit=30, progress=lambda *a: calls.append(a))
    assert any(n.startswith("branch-and-bound") for n in p.notes), p.notes
    assert calls, "no progress during branch-and-bound"
    # the tidy step after the search may give up to TIDY_TOLERANCE of the objective for fewer
    # fragments: the plan returned may be that much above the last incumbent reported
    from greenopt.milp.tidy import TIDY_TOLERANCE

    slack = TIDY_TOLERANCE * abs(p.objective) + 1e-6
    assert all(s >= 0 and objective >= p.objective - slack for s, objective, _ in calls)
    bounds = [b for _, _, b in calls if b is not None]
    assert bounds and max(bounds) <= calls[-1][1] + 1e-6


def test_a_failing_progress_callback_never_stops_the_solver():
    def broken(*args):
        raise RuntimeError("a display bug")

    sc = greenopt.examples.load("small")
    p = greenopt.plan(sc, "milp", time_limit=30, progress=broken)
    assert greenopt.validate(sc, p) == [] and p.status in ("optimal", "feasible")


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_output_modes_do_not_change_the_plan(tmp_path, flag):
    a = runner.invoke(
        app, ["plan", "--example", "small", "-m", "greedy", "--out", str(tmp_path / "a")]
    )
    b = runner.invoke(
        app, ["plan", "--example", "small", "-m", "greedy", "--out", str(tmp_path / "b"), flag]
    )
    assert a.exit_code == b.exit_code == 0
    for name in ("assignments.csv", "jobs.csv", "energy.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
