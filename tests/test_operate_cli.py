"""``greenopt operate`` and operate tasks of ``greenopt batch`` (days × forecasters × methods)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import greenopt
from greenopt import batch as B
from greenopt.batch.run import day_before
from greenopt.cli import app
from greenopt.io.spreadsheet import read_csv
from greenopt.operate import DECISION_COLUMNS
from greenopt.result import TABLES
from greenopt.scenario.rolling import day_scenario, tile_days

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_operate_writes_the_plan_files_decisions_and_facts_like_the_python_api(tmp_path):
    out = tmp_path / "out"
    r = _run(
        "operate", "--example", "small", "--method", "run-now", "--forecast", "oracle",
        "--replan-every", "2", "--out", out, "--no-plots", "--regret",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "operated" in r.output and "validation: OK" in r.output and "regret" in r.output
    op = greenopt.operate(
        greenopt.examples.load("small"), "run-now", forecast="oracle", replan_every=2
    )
    for name in TABLES:
        assert (out / f"{name}.csv").is_file()
    got = pd.read_csv(out / "assignments.csv")
    assert got[["job", "slot", "site"]].values.tolist() == (
        op.plan.assignments[["job", "slot", "site"]].values.tolist()
    )
    decisions = read_csv(out / "decisions.csv")
    assert list(decisions.columns) == DECISION_COLUMNS
    assert decisions["slot"].tolist() == list(range(0, 24, 2))
    facts = json.loads((out / "kpis.json").read_text())
    assert facts["status"] == "operated"
    assert facts["operation"]["forecast"] == "oracle"
    assert facts["operation"]["replan_every"] == 2
    assert facts["operation"]["regret"] == pytest.approx(op.regret)
    assert facts["kpis"]["carbon_kg"] == pytest.approx(op.plan.kpis["carbon_kg"])


def test_operate_takes_a_scenario_file_and_its_plan_options(tmp_path):
    folder = tmp_path / "sc"
    path = greenopt.save_scenario(greenopt.examples.load("small"), folder)
    text = path.read_text() + "plan:\n  method: milp\n  objective: grid\n"
    path.write_text(text)
    out = tmp_path / "out"
    r = _run("operate", path, "--out", out, "--no-plots", "--no-report")
    assert r.exit_code == 0, r.output
    facts = json.loads((out / "kpis.json").read_text())
    # the file's objective is used, its planning method is not (operate's default is greedy)
    assert facts["objective_name"] == "grid"
    assert facts["method"] == "greedy"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arrivals", "later"], "'later' is not one of"),
        (["--replan-every", "0"], "--replan-every"),
        (["--delay-cost", "-2"], "--delay-cost must be auto, none or a number"),
        (["--forecast", "tea-leaves"], "'tea-leaves' is not one of"),
        (["--method", "magic"], "magic"),
    ],
)
def test_bad_operate_flags_are_one_red_line(tmp_path, args, message):
    r = _run("operate", "--example", "small", "--out", tmp_path / "o", *args)
    assert r.exit_code != 0
    assert message in " ".join(r.output.split())
    assert "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_batch_operates_days_by_forecasters_by_methods(tmp_path):
    two = tile_days(greenopt.examples.load("small"), 2)
    path = greenopt.save_scenario(two, tmp_path / "two")
    tasks = B.make_tasks(
        [str(path)],
        methods=["greedy", "run-now"],
        days=["2023-06-21", "2023-06-22"],
        forecasts=["persistence", "oracle"],
    )
    assert len(tasks) == 2 * 2 * 2
    assert all(t.kind == "operate" for t in tasks)
    assert len({t.id for t in tasks}) == len(tasks)
    out = tmp_path / "out"
    summary = B.run_batch(tasks, out, workers=1, processes=False)
    assert set(summary["status"]) == {"done"}, summary["error"].tolist()
    assert set(summary["forecast"]) == {"persistence", "oracle"}
    for t in tasks:
        facts = json.loads((out / t.id / "kpis.json").read_text())
        assert facts["status"] == "operated"
        assert facts["operation"]["forecast"] == t.forecast
        assert (out / t.id / "decisions.csv").is_file()
    # the second day's persistence reads the first day (the source's day before)
    day2, _, _ = day_scenario(two, "2023-06-22")
    hist = day_before(two, day2).history["carbon"]
    assert np.array_equal(hist, two.index.carbon[:, :24])
    # resumable: a re-run skips every task
    again = B.run_batch(tasks, out, workers=1, processes=False)
    assert set(again["status"]) == {"skipped"}


def test_batch_cli_operates_with_forecast_flags(tmp_path):
    out = tmp_path / "out"
    r = _run(
        "batch", "--example", "small", "-m", "run-now", "--forecast", "persistence",
        "--replan-every", "6", "--workers", "1", "--worker-kind", "thread", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    (task,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    facts = json.loads((task / "kpis.json").read_text())
    assert facts["operation"]["replan_every"] == 6
    assert "operate-persistence" in task.name


def test_operate_tasks_are_not_rolling_and_name_their_forecaster():
    with pytest.raises(greenopt.OptionsError, match="not rolling"):
        B.make_tasks(["example:small"], days=["2023-06-21"], rolling=True, forecasts=["oracle"])
    with pytest.raises(greenopt.OptionsError, match="unknown forecaster"):
        B.make_tasks(["example:small"], forecasts=["guess"])


def test_operate_keeps_the_out_folder_rule_of_plan(tmp_path):
    """An earlier run's outputs are replaced only with --overwrite; a foreign file is never
    deleted (greenopt.cli.outdir, the rule ``plan`` follows)."""
    out = tmp_path / "o"
    args = ("operate", "--example", "small", "--out", out, "--no-plots", "--no-report")
    assert _run(*args).exit_code == 0
    assert (out / "decisions.csv").is_file()
    again = _run(*args)
    assert again.exit_code != 0 and "--overwrite" in " ".join(again.output.split())
    assert _run(*args, "--overwrite").exit_code == 0
    (out / "notes.txt").write_text("mine")
    refused = _run(*args, "--overwrite")
    assert refused.exit_code != 0 and (out / "notes.txt").read_text() == "mine"
