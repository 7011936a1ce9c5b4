"""Batch runs on dask.distributed: failures recorded, resume after a kill, rolling day-ahead."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import greenopt
from greenopt import batch as B
from greenopt.scenario import Job


def _runs(out: Path) -> Counter:
    """How many times each task finished successfully, from the audit log."""
    lines = (out / B.RUNS_LOG).read_text().splitlines()
    return Counter(json.loads(x)["task"] for x in lines if json.loads(x)["status"] == "done")


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    """Three valid scenario files (small example, three seeds) and one broken one."""
    root = tmp_path_factory.mktemp("scenarios")
    for seed in (1, 2, 3):
        greenopt.save_scenario(greenopt.examples.load("small", seed=seed), root / f"s{seed}")
    (root / "broken.yaml").write_text(
        "name: broken\nhorizon: {start: '2023-06-21T00:00:00Z', slot_minutes: 60, slots: 24}\n"
        "sites: missing-sites.csv\n"
    )
    return root


def test_four_scenarios_two_processes_one_fails_then_resume(scenario_dir, tmp_path):
    out = tmp_path / "out"
    tasks = B.make_tasks(B.expand_sources([str(scenario_dir)]), methods=["greedy"])
    assert sorted(t.id for t in tasks) == [
        "broken--greedy--carbon",
        "s1--greedy--carbon",
        "s2--greedy--carbon",
        "s3--greedy--carbon",
    ]
    summary = B.run_batch(tasks, out, workers=2, processes=True)
    status = dict(zip(summary["task"], summary["status"], strict=True))
    assert status.pop("broken--greedy--carbon") == "failed"
    assert set(status.values()) == {"done"}
    err = json.loads((out / "broken--greedy--carbon" / B.ERROR).read_text())
    assert err["type"] == "ScenarioError" and "missing-sites.csv" in err["message"]
    assert not (out / "broken--greedy--carbon" / B.DONE).exists()
    # each completed folder holds the plan of its scenario, identical to the Python API's
    for seed in (1, 2, 3):
        folder = out / f"s{seed}--greedy--carbon"
        assert (folder / B.DONE).is_file()
        want = greenopt.plan(
            greenopt.load_scenario(scenario_dir / f"s{seed}" / "scenario.yaml"), "greedy"
        )
        got = json.loads((folder / "kpis.json").read_text())["kpis"]["carbon_kg"]
        assert got == pytest.approx(want.kpis["carbon_kg"], rel=1e-12)
    on_disk = pd.read_csv(out / B.SUMMARY)
    assert on_disk["status"].value_counts().to_dict() == {"done": 3, "failed": 1}
    assert not list((out / B.PARTIAL).iterdir())  # nothing half-written left behind

    # re-run: completed tasks are skipped without touching their files, the failure is retried
    marks = {f: (out / f / B.DONE).stat().st_mtime_ns for f in status}
    summary = B.run_batch(tasks, out, workers=2, processes=False)
    assert dict(zip(summary["task"], summary["status"], strict=True)) == {
        "broken--greedy--carbon": "failed",
        **{t: "skipped" for t in status},
    }
    assert {f: (out / f / B.DONE).stat().st_mtime_ns for f in status} == marks
    assert _runs(out) == Counter(dict.fromkeys(status, 1))


def test_kill_midway_then_rerun_completes_each_task_exactly_once(tmp_path):
    """Kill the batch (and its workers) after the first task completes; the re-run finishes the
    rest, redoing none of the completed ones and losing none."""
    src = tmp_path / "src"
    for seed in range(10):
        greenopt.save_scenario(greenopt.examples.load("small", seed=seed), src / f"day{seed}")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "greenopt.cli",
        "batch",
        str(src),
        "-m",
        "greedy",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )
    try:
        deadline = time.monotonic() + 90
        while not list(out.glob(f"*/{B.DONE}")):
            assert proc.poll() is None, "batch ended before any task completed"
            assert time.monotonic() < deadline, "no task completed in 90 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch, its cluster and workers: our session
        proc.wait()
    done_before = {p.parent.name: p.read_text() for p in out.glob(f"*/{B.DONE}")}
    assert 1 <= len(done_before) < 10, "the kill must land midway"
    mtimes = {t: (out / t / B.DONE).stat().st_mtime_ns for t in done_before}

    # re-run the same batch (here in-process on two worker threads, to keep the test short)
    tasks = B.make_tasks(B.expand_sources([str(src)]), methods=["greedy"])
    summary = B.run_batch(tasks, out, workers=2, processes=False)
    ids = {f"day{s}--greedy--carbon" for s in range(10)}
    assert set(summary["task"]) == ids
    assert set(summary.loc[summary["status"] == "skipped", "task"]) == set(done_before)
    assert set(summary.loc[summary["status"] == "done", "task"]) == ids - set(done_before)
    for t in ids:  # none lost: every task complete with its outputs
        for name in (B.DONE, "kpis.json", "assignments.csv", "energy.csv", "task.json"):
            assert (out / t / name).stat().st_size > 0, (t, name)
    for t, text in done_before.items():  # not redone: the very same DONE marker
        assert (out / t / B.DONE).read_text() == text
        assert (out / t / B.DONE).stat().st_mtime_ns == mtimes[t]
    runs = _runs(out)
    assert all(runs[t] == 1 for t in ids - set(done_before))
    assert all(runs[t] <= 1 for t in done_before)  # 0 only if killed between rename and log
    assert not list((out / B.PARTIAL).iterdir())


def _three_days_with_a_late_job():
    sc = B.tile_days(greenopt.examples.load("small"), 3)
    start = sc.horizon.start
    late = Job(
        name="late-train",
        kind="training",
        origin="madrid",
        release=start + pd.Timedelta(hours=20),
        deadline=start + pd.Timedelta(hours=40),
        work_h=12,
        gpus=4,
        power_kw=2.8,
        state_gb=50,
    )
    return sc.with_jobs([*sc.jobs, late])


def test_rolling_day_ahead_carries_unfinished_work(tmp_path):
    sc = _three_days_with_a_late_job()
    path = greenopt.save_scenario(sc, tmp_path / "src")
    days = B.day_range("2023-06-21", "2023-06-23")
    tasks = B.make_tasks([str(path)], methods=["greedy"], days=days, rolling=True)
    assert [t.prev for t in tasks] == [None, tasks[0].id, tasks[1].id]
    out = tmp_path / "out"
    summary = B.run_batch(tasks, out, workers=2, processes=False)
    assert summary["status"].tolist() == ["done"] * 3
    d1, d2, _ = (out / t.id for t in tasks)
    a1 = pd.read_csv(d1 / "assignments.csv")
    ran1 = a1.loc[a1["job"] == "late-train", "share"].sum()  # hourly slots: share = hours
    assert 0 < ran1 <= 4  # released at 20:00: at most 4 h on day 1
    carry = json.loads((d1 / B.CARRY).read_text())
    (moved,) = carry["carried"]
    assert moved["name"] == "late-train"
    assert moved["work_h"] == pytest.approx(12 - ran1)
    assert moved["release"].startswith("2023-06-22T00:00:00")
    assert moved["origin"] == a1.loc[a1["job"] == "late-train", "site"].iloc[-1]
    a2 = pd.read_csv(d2 / "assignments.csv")
    ran2 = a2.loc[a2["job"] == "late-train", "share"].sum()
    assert ran1 + ran2 == pytest.approx(12)  # all its work done by the deadline, once
    jobs2 = pd.read_csv(d2 / "jobs.csv")
    assert set(jobs2["job"]) == {"late-train"} | {
        f"{j.name}@d1" for j in greenopt.examples.load("small").jobs
    }
    assert json.loads((d2 / B.CARRY).read_text())["carried"] == []
    assert summary["carried"].tolist() == [1, 0, 0]


def test_day_scenario_caps_work_to_the_day_and_misses_are_reported():
    sc = _three_days_with_a_late_job()
    day, remaining, aside = B.day_scenario(sc, "2023-06-21")
    assert day.horizon.slots == 24 and len(day.jobs) == 21 and aside == []
    late = day.job("late-train")
    assert late.work_h == 4 and remaining["late-train"] == 12  # capped to 20:00–24:00
    assert day.sites[0].carbon.tolist() == sc.sites[0].carbon[:24].tolist()
    # a plan that leaves late-train untouched: all 12 h carried; a job due today is missed
    rows = []
    p = greenopt.evaluate(day, rows)
    carry = B.carry_over(day, p, remaining, aside)
    carried = {c["name"]: c["work_h"] for c in carry["carried"]}
    assert carried == {"late-train": 12}
    assert {m["job"] for m in carry["missed"]} == {j.name for j in day.jobs} - {"late-train"}
    with pytest.raises(greenopt.ScenarioError, match="not a whole day"):
        B.day_scenario(sc, "2023-06-25")


def test_sweep_ids_and_option_layers(tmp_path):
    path = greenopt.save_scenario(greenopt.examples.load("small"), tmp_path / "a")
    text = path.read_text() + "plan: {method: greedy, mip_gap: 0.2, params: {threshold: 300}}\n"
    path.write_text(text)
    tasks = B.make_tasks(
        [str(path), "example:small"],
        objectives=["carbon", "grid"],
        params={"seed": [1, 2], "threshold": [100]},
        options={"mip_gap": 0.05},
    )
    assert len(tasks) == 2 * 2 * 2 and len({t.id for t in tasks}) == 8
    from_file = [t for t in tasks if t.source == str(path)]
    assert {t.method for t in from_file} == {"greedy"}  # the file's method
    assert {t.options["mip_gap"] for t in tasks} == {0.05}  # flags beat the file
    assert {t.options["seed"] for t in tasks} == {1, 2}  # swept plan keyword
    assert {t.options["params"]["threshold"] for t in tasks} == {100}  # sweep beats the file
    assert {t.method for t in tasks if t.source == "example:small"} == {"milp"}  # default
    assert "a--greedy--grid--seed=2--threshold=100" in {t.id for t in tasks}
    with pytest.raises(greenopt.ScenarioError, match="unknown plan option"):
        path.write_text(text.replace("mip_gap", "mip_gapp"))
        B.make_tasks([str(path)])
