"""Issue 11, part 2: outputs are never stale, batch MILP is as good as plan, every limit holds.

* ``plan --out`` leaves exactly one run's files (an earlier plan replaced only with
  ``--overwrite``, foreign files never deleted, a killed run's debris cleared);
* ``batch`` resumes by a key of each task's content and one batch at a time may use a folder;
* a Dask address that is not a scheduler fails naming it, a cluster that loses every worker
  fails the batch keeping what was done;
* the MILP on fix-and-optimise plans the same in Dask workers as on the main thread;
* deterministic mode gives byte-identical tables; the time limit covers the whole call; the
  memory budget is a plan option.

Speed is never asserted here (benchmarks/bench_limits.py measures it): where a wait matters
the test shortens it (a connect timeout, the worker wait) and checks the outcome.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import greenopt
from greenopt import batch as B
from greenopt.cli import app
from greenopt.errors import ClusterError, GreenoptError, OptionsError, SizeError
from greenopt.examples.synthetic import synthetic_scenario

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
TABLE_FILES = ("assignments", "migrations", "energy", "jobs", "scorecard")


def _dead_pid() -> int:
    """The pid of a process that has ended (for debris left by a 'killed' run)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _tables_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in TABLE_FILES:
        h.update((folder / f"{name}.csv").read_bytes())
    return h.hexdigest()


# -- 1. plan --out: exactly one run's files -------------------------------------------------------
def test_an_earlier_plan_is_replaced_only_with_overwrite_and_wholly(tmp_path):
    out = tmp_path / "out"
    base = ["plan", "--example", "small", "-m", "greedy", "--out", str(out)]
    r = runner.invoke(app, [*base, "--parquet", "--report-format", "md"])
    assert r.exit_code == 0, r.output
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "report.md" in first and "jobs.parquet" in first
    r = runner.invoke(app, [*base, "-o", "grid"])
    assert r.exit_code == 3, r.output
    assert "earlier plan" in r.output and "--overwrite" in r.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # not a byte changed
    r = runner.invoke(app, [*base, "-o", "grid", "--overwrite"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    # exactly this run's files: no Parquet, no report.md of the earlier run beside them
    assert names == {
        *(f"{t}.csv" for t in TABLE_FILES),
        "kpis.json",
        "gantt.png",
        "energy.png",
        "wan.png",
        "report.html",
    }
    assert json.loads((out / "kpis.json").read_text())["objective_name"] == "grid"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no hidden leftovers
    assert out.stat().st_mode & 0o777 != 0o700  # the folder is not a private temporary one


def test_a_folder_with_other_files_is_never_emptied(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "kpis.json").write_text("{}\n")
    for extra in ([], ["--overwrite"]):
        r = runner.invoke(
            app, ["plan", "--example", "small", "-m", "greedy", "--out", str(tmp_path), *extra]
        )
        assert r.exit_code == 3, r.output
        assert "notes.txt" in r.output and "does not write" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.json", "notes.txt"]


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from greenopt.cli.outdir import write_staged

def write(folder):
    (folder / "assignments.csv").write_text("job,slot,site,share\\n")
    print("writing", flush=True)
    time.sleep(60)  # killed here, half-way through the outputs
    return []

write_staged(Path(sys.argv[1]), write)
"""


def test_a_killed_run_leaves_nothing_a_later_run_trips_on(tmp_path):
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait()
    debris = [p.name for p in tmp_path.iterdir()]
    assert len(debris) == 1 and debris[0].startswith(".out.partial-"), debris
    assert not out.exists()
    # older debris of another dead run, an old folder moved aside mid-swap
    (tmp_path / f".out.old-{_dead_pid()}-x1").mkdir()
    r = runner.invoke(app, ["plan", "--example", "small", "-m", "greedy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "kpis.json").is_file()


# -- 2. batch resumes by the content of each task --------------------------------------------------
@pytest.fixture
def two_scenarios(tmp_path):
    paths = []
    for seed in (1, 2):
        sc = greenopt.examples.load("small", seed=seed)
        paths.append(greenopt.save_scenario(sc, tmp_path / "src" / f"s{seed}"))
    return paths


def _run(tasks, out):
    summary = B.run_batch(tasks, out, workers=1, processes=False)
    return dict(zip(summary["task"], summary["status"], strict=True)), summary


def test_a_changed_input_replans_its_task_and_the_old_result_is_not_reported(
    two_scenarios, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    sources = [str(p) for p in two_scenarios]
    make = lambda **kw: B.make_tasks(sources, methods=["greedy"], **kw)  # noqa: E731
    status, _ = _run(make(), out)
    assert set(status.values()) == {"done"}
    assert set(_run(make(), out)[0].values()) == {"skipped"}
    # a file the scenario names changes (jobs.csv), not the YAML itself: s1 is planned again
    jobs = two_scenarios[0].parent / "jobs.csv"
    table = pd.read_csv(jobs)
    table.loc[0, "work_h"] = float(table.loc[0, "work_h"]) + 1
    table.to_csv(jobs, index=False)
    status, summary = _run(make(), out)
    assert status == {"s1--greedy--carbon": "done", "s2--greedy--carbon": "skipped"}
    fresh = greenopt.plan(greenopt.load_scenario(two_scenarios[0]), "greedy")
    got = json.loads((out / "s1--greedy--carbon" / "kpis.json").read_text())
    assert got["kpis"]["carbon_kg"] == pytest.approx(fresh.kpis["carbon_kg"], rel=1e-12)
    row = summary.set_index("task").loc["s1--greedy--carbon"]
    assert row["carbon_kg"] == pytest.approx(fresh.kpis["carbon_kg"], rel=1e-12)
    # an option (--deadlines, --seed) changes: every task is planned again
    assert set(_run(make(options={"deadlines": "soft", "seed": 7}), out)[0].values()) == {"done"}
    assert set(_run(make(options={"deadlines": "soft", "seed": 7}), out)[0].values()) == {"skipped"}
    # another greenopt version: planned again
    monkeypatch.setattr(greenopt, "__version__", "99.0")
    assert set(_run(make(options={"deadlines": "soft", "seed": 7}), out)[0].values()) == {"done"}


def test_a_rolling_chain_replans_the_days_after_a_changed_day(tmp_path):
    sc = B.tile_days(greenopt.examples.load("small"), 2)
    path = greenopt.save_scenario(sc, tmp_path / "src")
    days = B.day_range("2023-06-21", "2023-06-22")
    tasks = B.make_tasks([str(path)], methods=["greedy"], days=days, rolling=True)
    assert tasks[1].prev_key == tasks[0].key
    out = tmp_path / "out"
    assert set(_run(tasks, out)[0].values()) == {"done"}
    swept = B.make_tasks([str(path)], methods=["greedy"], days=days, rolling=True, params={})
    assert [t.key for t in swept] == [t.key for t in tasks]  # the same content, the same keys
    seeded = B.make_tasks(
        [str(path)], methods=["greedy"], days=days, rolling=True, options={"seed": 3}
    )
    assert all(a.key != b.key for a, b in zip(seeded, tasks, strict=True))


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from greenopt.batch.resume import FolderLock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
lock = FolderLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_batch_on_a_folder_in_use_fails_at_once_and_a_killed_one_frees_it(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        (out / B.PARTIAL / "another-batch-task").mkdir(parents=True)  # its work in progress
        r = runner.invoke(app, ["batch", "--example", "small", "-m", "greedy", "--out", str(out)])
        assert r.exit_code == 3, r.output
        assert "in use by another batch" in r.output and f"pid {holder.pid}" in r.output
        assert (out / B.PARTIAL / "another-batch-task").is_dir()  # not deleted under it
        with pytest.raises(GreenoptError, match="in use by another batch"):
            B.run_batch(B.make_tasks(["example:small"], methods=["greedy"]), out)
    finally:
        holder.send_signal(signal.SIGKILL)  # a batch killed outright
        holder.wait()
    r = runner.invoke(app, ["batch", "--example", "small", "-m", "greedy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / B.PARTIAL / "another-batch-task").exists()  # a dead run's leftovers


# -- 3. Dask: an address that is not a scheduler, a cluster without workers ------------------------
class _Silent:
    """A TCP service that accepts connections and never answers (another service's port)."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.reply is not None:
                c.sendall(self.reply)
            self.conns.append(c)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def quick_connect(monkeypatch):
    import greenopt.batch.run as run

    monkeypatch.setattr(run, "CONNECT_TIMEOUT_S", 1.0)


def test_addresses_that_are_not_a_dask_scheduler_fail_naming_them(quick_connect):
    silent, http = _Silent(), _Silent(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 50)
    try:
        cases = {
            "garbage": "missing port",
            "http://example.com:80": "unknown address scheme",
            f"tcp://127.0.0.1:{silent.port}": "nothing answered",
            f"tcp://127.0.0.1:{http.port}": "something else listens",
        }
        for address, why in cases.items():
            with pytest.raises(ClusterError) as info:
                B.connect(address, timeout=1.0)
            assert address in str(info.value) and why in str(info.value), str(info.value)
            assert info.value.culprit == address
    finally:
        silent.close()
        http.close()


def test_cli_batch_with_a_bad_scheduler_exits_6_naming_it(tmp_path, quick_connect):
    silent = _Silent()
    try:
        for address in ("garbage", f"tcp://127.0.0.1:{silent.port}"):
            out = tmp_path / f"o{len(address)}"
            r = runner.invoke(
                app,
                ["batch", "--example", "small", "-m", "greedy", "--scheduler", address,
                 "--out", str(out)],
            )  # fmt: skip
            assert r.exit_code == 6, r.output
            assert address in r.output and "Traceback" not in r.output
    finally:
        silent.close()


def test_losing_every_worker_fails_the_batch_and_keeps_the_results(tmp_path):
    from distributed import LocalCluster

    for seed in range(4):
        greenopt.save_scenario(
            synthetic_scenario(jobs=300, sites=6, slots=96, seed=seed, name=f"s{seed}"),
            tmp_path / "src" / f"s{seed}",
        )
    tasks = B.make_tasks(B.expand_sources([str(tmp_path / "src")]), methods=["greedy"])
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    rows: list[dict] = []

    def on_result(row: dict) -> None:
        rows.append(row)
        if len(rows) == 1:
            cluster.scale(0)  # the last worker goes away after the first result

    out = tmp_path / "out"
    try:
        with pytest.raises(ClusterError) as info:
            B.run_batch(
                tasks, out, scheduler=cluster.scheduler_address, worker_wait=2, on_result=on_result
            )
    finally:
        cluster.close()
    msg = str(info.value)
    assert "every Dask worker" in msg and "kept" in msg
    summary = pd.read_csv(out / B.SUMMARY)  # the results so far, written before the error
    done = summary.loc[summary["status"] == "done", "task"].tolist()
    assert len(done) >= 1 and len(summary) == 4
    assert (summary["status"] == "failed").sum() == 4 - len(done)
    for task in done:
        assert (out / task / B.DONE).is_file()
    # the re-run plans only what is missing (a task a thread worker finished after the worker
    # left the cluster is on disk, complete: it is skipped too)
    summary = B.run_batch(tasks, out, workers=1, processes=False)
    assert set(done) <= set(summary.loc[summary["status"] == "skipped", "task"])
    assert set(summary["status"]) <= {"skipped", "done"}


# -- 4. the MILP on fix-and-optimise: the same in Dask workers as on the main thread ---------------
@pytest.fixture(scope="module")
def lns_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lns")
    sc = synthetic_scenario(jobs=24, sites=3, slots=24, seed=1)
    return greenopt.save_scenario(sc, folder)


#: fix-and-optimise (bb_max below the model's binaries) under a work budget
LNS = {"bb_max": 10, "lns_neighbourhoods": 6, "lns_size": 5}


@pytest.mark.parametrize("processes", [True, False], ids=["process-workers", "thread-workers"])
def test_fix_and_optimise_in_dask_workers_matches_the_main_thread(lns_files, tmp_path, processes):
    sc = greenopt.load_scenario(lns_files)
    main = greenopt.plan(sc, "milp", deterministic=True, **LNS)
    assert any("fix-and-optimise" in n for n in main.notes)
    main.to_dir(tmp_path / "main")
    tasks = B.make_tasks(
        [str(lns_files)],
        methods=["milp"],
        options={"deterministic": True},
        params={k: [v] for k, v in LNS.items()},
    )
    out = tmp_path / "batch"
    summary = B.run_batch(tasks, out, workers=1, processes=processes)
    assert summary["status"].tolist() == ["done"]
    folder = out / tasks[0].id
    assert _tables_digest(folder) == _tables_digest(tmp_path / "main")
    facts = json.loads((folder / "kpis.json").read_text())
    assert facts["objective"] == main.objective
    (note,) = [n for n in facts["notes"] if n.startswith("fix-and-optimise")]
    statuses = eval(note.split("sub-MILPs: ")[1])
    assert sum(statuses.values()) == 6 and set(statuses) <= {"optimal", "feasible"}, note


# -- 5. deterministic mode -------------------------------------------------------------------------
def test_deterministic_realistic_milp_gives_byte_identical_tables(tmp_path):
    """Acceptance 5 with a small work budget (the full run: benchmarks/bench_limits.py)."""
    sc = greenopt.examples.load("realistic")
    budget = {"deterministic": True, "lns_neighbourhoods": 3, "lns_size": 3}
    digests = []
    for k in range(2):
        p = greenopt.plan(sc, "milp", **budget)
        p.to_dir(tmp_path / f"run{k}")
        digests.append(_tables_digest(tmp_path / f"run{k}"))
    in_thread: list = []
    t = threading.Thread(target=lambda: in_thread.append(greenopt.plan(sc, "milp", **budget)))
    t.start()
    t.join()
    in_thread[0].to_dir(tmp_path / "thread")
    digests.append(_tables_digest(tmp_path / "thread"))
    assert len(set(digests)) == 1, digests
    assert greenopt.validate(sc, p) == []
    assert any(n.startswith("deterministic mode") for n in p.notes)
    assert any("relaxation LP" in n for n in p.notes)


def test_deterministic_mode_has_no_default_time_limit_and_says_when_one_cut_it(lns_files):
    sc = greenopt.load_scenario(lns_files)
    p = greenopt.plan(sc, "milp", deterministic=True, **LNS)
    assert "time limit" not in p.notes[0] and "1 solver thread" in p.notes[0]
    cut = greenopt.plan(sc, "milp", deterministic=True, time_limit=0.01, **LNS)
    assert greenopt.validate(sc, cut) == []
    assert cut.status == "time_limit" and any("not repeatable" in n for n in cut.notes)


# -- 6. the time limit bounds the whole call -------------------------------------------------------
def test_the_start_plan_stops_improving_at_its_deadline():
    from greenopt.heuristics.greedy import GreedySettings, greedy_state

    sc = synthetic_scenario(jobs=60, sites=4, slots=24, seed=2)
    # the first pass alone: no re-placement passes, no ejection moves
    one_pass = greedy_state(sc, "carbon", GreedySettings(passes=0, eject=0)).assignments()
    past = greedy_state(sc, "carbon", GreedySettings(passes=2), deadline=0.0).assignments()
    pd.testing.assert_frame_equal(past, one_pass)  # the first pass completes, nothing after


def test_a_model_that_cannot_be_built_in_time_returns_the_start_plan(monkeypatch):
    import greenopt.milp.pipeline as pipeline

    sc = greenopt.examples.load("small")
    monkeypatch.setattr(pipeline, "MATRIX_S_PER_COL", 1.0)  # a model would take hours
    p = greenopt.plan(sc, "milp", time_limit=20)
    assert p.status == "time_limit" and greenopt.validate(sc, p) == []
    assert any("building the model" in n for n in p.notes), p.notes
    from greenopt.milp.start import START_SETTINGS as s

    # the greedy with the start's own settings (not the greedy's defaults: no re-timing, ...)
    knobs = {"passes": s.passes, "eject": s.eject, "domain": s.domain, "route": s.route}
    start = greenopt.plan(sc, "greedy", retime=False, **knobs)
    pd.testing.assert_frame_equal(p.assignments, start.assignments)
    # in deterministic mode nothing is decided by the clock: the model is built
    q = greenopt.plan(sc, "milp", deterministic=True, time_limit=20)
    assert not any("building the model" in n for n in q.notes)


def test_the_pyomo_model_counts_only_when_one_is_asked_for(monkeypatch):
    import greenopt.milp.pipeline as pipeline

    sc = greenopt.examples.load("small")
    monkeypatch.setattr(pipeline, "PYOMO_S_PER_COL", 1.0)  # a Pyomo build would take hours
    # plan() hands HiGHS the arrays (no Pyomo model): the estimate does not stop it
    p = greenopt.plan(sc, "milp", time_limit=30)
    assert not any("building the model" in n for n in p.notes), p.notes
    assert "pyomo_s" not in p.timings
    assert greenopt.validate(sc, p) == [] and p.status in ("optimal", "feasible")
    # the caller's handoff="pyomo" is built only if it fits: here the start plan comes back
    q = greenopt.plan(sc, "milp", time_limit=30, handoff="pyomo")
    assert q.status == "time_limit" and any("building the model" in n for n in q.notes)
    assert greenopt.validate(sc, q) == []
    # a model the caller extends is always built and solved (the start plan would not obey it)
    seen = []
    r = greenopt.plan(sc, "milp", time_limit=30, extend=lambda m: seen.append(m))
    assert len(seen) == 1 and r.status in ("optimal", "feasible")
    assert r.objective == pytest.approx(p.objective, rel=1e-6, abs=1e-6)


def test_the_default_time_limit_is_stated_and_inf_means_none():
    from greenopt.milp.clock import time_limit_of
    from greenopt.options import DEFAULT_MILP_TIME_LIMIT, PlanOptions

    assert time_limit_of(PlanOptions()) == DEFAULT_MILP_TIME_LIMIT
    assert time_limit_of(PlanOptions(time_limit=float("inf"))) is None
    assert time_limit_of(PlanOptions(deterministic=True)) is None
    assert time_limit_of(PlanOptions(deterministic=True, time_limit=9)) == 9
    p = greenopt.plan(greenopt.examples.load("small"), "milp")
    assert p.notes[0].startswith(f"time limit {DEFAULT_MILP_TIME_LIMIT:g} s (the default)")
    r = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "200"})
    assert f"default: ({DEFAULT_MILP_TIME_LIMIT:g})" in r.output


def test_the_milps_clock_counts_from_the_call_its_planners_import_included(monkeypatch):
    """The first plan(method="milp") of a process imports Pyomo (~0.9 s) before the MILP's clock
    was made: a 60 s call ended at 60.8 s. The clock now counts from the call's first line;
    a second clock in the same call (a hard-deadline diagnosis's soft plan) from when it is
    made, as before."""
    import importlib
    import time

    from greenopt.milp.clock import Clock

    plan_module = importlib.import_module("greenopt.plan")  # the module, not the function
    real_planner, real_init = plan_module.planner, Clock.__init__
    events: list[tuple[str, float]] = []

    def slow_import(method):
        events.append(("import", time.perf_counter()))
        time.sleep(0.2)  # as a first import would
        return real_planner(method)

    def made(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        events.append(("clock", self.t0))

    monkeypatch.setattr(plan_module, "planner", slow_import)
    monkeypatch.setattr(Clock, "__init__", made)
    p = greenopt.plan(greenopt.examples.load("small"), "milp", time_limit=30, threads=1)
    (_, imported), (_, first) = events[:2]
    assert events[1][0] == "clock" and first <= imported  # counted from before the import
    assert p.wall_s >= 0.2  # and the call's own time says so
    later = Clock(None)
    assert later.t0 > imported + 0.2  # outside a call (or once taken): from when it is made


def test_the_cli_gives_the_plan_what_loading_and_writing_leave(tmp_path, monkeypatch):
    seen: list = []
    real = greenopt.plan

    def spy(sc, method, **kwargs):
        seen.append(kwargs.get("time_limit"))
        return real(sc, method, **kwargs)

    monkeypatch.setattr(greenopt, "plan", spy)
    r = runner.invoke(
        app, ["plan", "--example", "small", "--time-limit", "30", "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 0, r.output
    assert seen and 1.0 <= seen[0] < 30.0


# -- 7. the memory budget is a plan option ---------------------------------------------------------
def test_the_memory_budget_is_an_option_of_plan_and_the_command_line(tmp_path):
    sc = synthetic_scenario(jobs=200, sites=4, slots=48, seed=0)
    with pytest.raises(SizeError, match="memory_budget='32GiB'"):
        greenopt.plan(sc, "milp", memory_budget="64KiB")
    assert greenopt.plan(sc, "greedy", memory_budget="8GiB").status == "heuristic"
    greenopt.save_scenario(sc, tmp_path / "sc")
    r = runner.invoke(
        app, ["plan", str(tmp_path / "sc" / "scenario.yaml"), "--memory-budget", "64KiB",
              "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert r.exit_code == 3 and "too large" in r.output, r.output
    # a scenario file may not set it: it guards the caller's machine
    doc = yaml.safe_load((tmp_path / "sc" / "scenario.yaml").read_text())
    doc["plan"] = {"memory_budget": "1TiB"}
    (tmp_path / "sc" / "scenario.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(OptionsError, match="cannot come from a scenario file"):
        from greenopt.options import file_options

        file_options(tmp_path / "sc" / "scenario.yaml")
    r = runner.invoke(
        app, ["plan", str(tmp_path / "sc" / "scenario.yaml"), "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 2 and "memory_budget" in r.output, r.output


def test_the_budget_of_one_plan_does_not_leak_into_another_thread():
    from greenopt import limits

    seen: dict[str, int] = {}
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with limits.budget_of_call("1MiB"):
            seen["inside"] = limits.memory_budget()
            inside.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(10)
    seen["other"] = limits.memory_budget()
    release.set()
    t.join()
    assert seen["inside"] == 2**20 and seen["other"] != 2**20
