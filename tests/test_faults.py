"""Solver faults: no incumbent at the time limit, a missing solver, a solver that fails, Ctrl-C.

* a time limit with no incumbent → the greedy plan, status ``fallback``;
* a missing solver → :class:`~greenopt.SolverError` listing the available ones;
* a solver that fails (HiGHS raising, an unusable solver executable) → a ``SolverError`` naming
  it, and with ``greenopt plan --out DIR`` nothing (half-)written in ``DIR``;
* Ctrl-C during a solve → the process ends promptly with the best plan so far, valid and marked
  ``interrupted``; ``greenopt plan`` writes it and exits with code 130 (docs/cli.md).

The Ctrl-C tests start the planner in a child process (``subprocess.Popen``) with SIGINT at its
default, wait until HiGHS writes that it is solving, then ``send_signal(SIGINT)``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import highspy
import pandas as pd
import pytest
from typer.testing import CliRunner

import greenopt
from greenopt import SolverError
from greenopt.cli import app
from greenopt.examples import load
from greenopt.milp.start import START_SETTINGS
from greenopt.result import TABLES

runner = CliRunner()


def _no_mip_start(monkeypatch) -> None:
    """HiGHS gets no MIP start (so it has no incumbent unless it finds one itself)."""
    monkeypatch.setattr(highspy.Highs, "setSolution", lambda self, *a, **k: None)


def _crash(monkeypatch, message: str = "simulated HiGHS crash") -> None:
    def boom(self, *args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr(highspy.Highs, "passModel", boom)


# -- time limit with no incumbent -----------------------------------------------------------------
def test_time_limit_without_incumbent_returns_the_greedy_plan_as_fallback(monkeypatch):
    _no_mip_start(monkeypatch)
    sc = load("small")
    # HiGHS's own time limit far below what finding any plan takes
    p = greenopt.plan(sc, "milp", time_limit=5, highs_options={"time_limit": 1e-6})
    assert p.status == "fallback"
    assert greenopt.validate(sc, p) == []
    # the fallback is the MILP's start: the greedy plan with the start's own settings
    s = START_SETTINGS
    knobs = {"passes": s.passes, "eject": s.eject, "domain": s.domain, "route": s.route}
    greedy = greenopt.plan(sc, "greedy", retime=False, **knobs)
    pd.testing.assert_frame_equal(p.assignments, greedy.assignments)
    assert p.kpis == greedy.kpis
    assert p.method == "milp" and p.solver == "highs"


# -- missing solver -------------------------------------------------------------------------------
def test_missing_solver_lists_the_available_ones():
    with pytest.raises(SolverError) as info:
        greenopt.plan(load("small"), "milp", solver="no_such_solver")
    msg = str(info.value)
    assert "'no_such_solver'" in msg and "not available" in msg
    available = msg.split("available:")[-1]
    assert "highs" in available


def test_missing_solver_on_the_command_line(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", "--example", "small", "--solver", "nope", "--out", str(out)])
    assert r.exit_code == 5  # solver failure
    assert "'nope'" in r.output and "highs" in r.output
    assert not out.exists()


# -- a solver that fails --------------------------------------------------------------------------
def test_a_crashing_solver_is_a_solver_error_naming_it(monkeypatch):
    _crash(monkeypatch)
    with pytest.raises(SolverError) as info:
        greenopt.plan(load("small"), "milp", time_limit=10)
    msg = str(info.value)
    assert "'highs'" in msg and "RuntimeError" in msg and "simulated HiGHS crash" in msg
    assert isinstance(info.value.__cause__, RuntimeError)  # the original, for a traceback


def test_a_heuristic_does_not_touch_the_solver(monkeypatch):
    _crash(monkeypatch)
    sc = load("small")
    assert greenopt.validate(sc, greenopt.plan(sc, "greedy", retime=False)) == []
    # the greedy's default LP re-timing (small days) uses HiGHS: when it fails, the plan stays
    p = greenopt.plan(sc, "greedy")
    assert greenopt.validate(sc, p) == []
    assert any("LP re-timing failed" in n and "simulated HiGHS crash" in n for n in p.notes)
    with pytest.raises(RuntimeError, match="simulated HiGHS crash"):  # asked for by name
        greenopt.plan(sc, "greedy", retime=True)


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def test_cli_with_a_crashing_solver_writes_nothing(monkeypatch, tmp_path):
    _crash(monkeypatch)
    fresh = tmp_path / "fresh"
    r = runner.invoke(app, ["plan", "--example", "small", "--out", str(fresh)])
    assert r.exit_code == 5, r.output  # solver failure
    assert "error" in r.output and "highs" in r.output and "Traceback" not in r.output
    assert not fresh.exists()
    # an output folder from an earlier run is left exactly as it was
    old = tmp_path / "old"
    old.mkdir()
    (old / "kpis.json").write_text('{"earlier": true}\n')
    before = _listing(old)
    r = runner.invoke(app, ["plan", "--example", "small", "--out", str(old), "--overwrite"])
    assert r.exit_code == 5
    assert _listing(old) == before
    assert [p.name for p in tmp_path.iterdir()] == ["old"]  # no hidden leftovers either


def test_cli_failure_while_writing_leaves_nothing_half_written(monkeypatch, tmp_path):
    import greenopt.report.plots as plots

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "plot_all", full_disk)
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", "--example", "small", "-m", "greedy", "--out", str(out)])
    assert r.exit_code == 3, r.output  # an output that cannot be written
    assert "No space left" in r.output
    assert not out.exists()  # the tables were written, but only in the hidden folder
    assert list(tmp_path.iterdir()) == []


def _greenopt_cli() -> list[str]:
    script = Path(sys.executable).with_name("greenopt")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from greenopt.cli import app; app()"]


def test_cli_with_an_unusable_solver_executable_writes_nothing(tmp_path):
    # a 'cbc' on the PATH that crashes whatever it is asked
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "cbc"
    fake.write_text('#!/bin/sh\necho "Segmentation fault" >&2\nexit 139\n')
    fake.chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run(
        [*_greenopt_cli(), "plan", "--example", "small", "--solver", "cbc", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 5, (r.stdout, r.stderr)  # solver failure
    assert "cbc" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


# -- Ctrl-C ---------------------------------------------------------------------------------------
#: 80 jobs × 5 sites × 48 slots, gap 1e-9: HiGHS's branch-and-bound runs for minutes (from the
#: start: lns_first=0, no fix-and-optimise first, whose sub-MILPs write no log to wait for).
_LONG = "synthetic_scenario(jobs=80, sites=5, slots=48, seed=3)"
_CHILD = f"""
import json, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import greenopt
from greenopt.examples.synthetic import synthetic_scenario
sc = {_LONG}
p = greenopt.plan(sc, "milp", time_limit=300, mip_gap=1e-9, lns_first=0, log_file=sys.argv[1])
print(json.dumps({{"status": p.status, "violations": len(greenopt.validate(sc, p)),
                  "rows": len(p.assignments), "wall_s": p.wall_s}}))
"""


def _interrupt_when_solving(proc: subprocess.Popen, log: Path) -> float:
    """Wait until HiGHS logs its branch-and-bound, send SIGINT; return the time sent."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"ended before solving: {out[-2000:]} {err[-2000:]}")
        if log.exists() and "Solving MIP model" in log.read_text(errors="replace"):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError("HiGHS never started solving")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    return time.monotonic()


def _default_sigint() -> None:
    # a child of a process that ignores SIGINT would ignore it too; a user's shell does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_a_solve_returns_the_best_plan_marked_interrupted(tmp_path):
    log = tmp_path / "highs.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    sent = _interrupt_when_solving(proc, log)
    out, err = proc.communicate(timeout=60)
    ended = time.monotonic() - sent
    assert proc.returncode == 0, err[-3000:]
    assert ended < 30, ended  # promptly: the solve was cancelled, not run to its limit
    facts = json.loads(out.strip().splitlines()[-1])
    assert facts["status"] == "interrupted"
    assert facts["violations"] == 0 and facts["rows"] > 0
    assert "Traceback" not in err


def test_ctrl_c_during_cli_plan_writes_the_interrupted_plan_and_exits_130(tmp_path):
    from greenopt.examples.synthetic import synthetic_scenario

    sc = synthetic_scenario(jobs=80, sites=5, slots=48, seed=3)
    path = greenopt.save_scenario(sc, tmp_path / "scenario")
    out, log = tmp_path / "out", tmp_path / "highs.log"
    args = ["plan", str(path), "-m", "milp", "--time-limit", "300", "--mip-gap", "1e-9"]
    args += ["-p", "lns_first=0"]  # branch-and-bound at once: its log is what we wait for
    args += ["--solver-log", str(log), "--out", str(out), "--no-plots", "--no-report"]
    proc = subprocess.Popen(
        [*_greenopt_cli(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    sent = _interrupt_when_solving(proc, log)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 30
    assert proc.returncode == 130, (stdout[-2000:], stderr[-2000:])
    assert "interrupted" in stderr and "Traceback" not in stderr
    facts = json.loads((out / "kpis.json").read_text())
    assert facts["status"] == "interrupted" and facts["method"] == "milp"
    for name in TABLES:
        assert (out / f"{name}.csv").is_file(), name
    written = pd.read_csv(out / "assignments.csv")
    loaded = greenopt.load_scenario(path)
    replayed = greenopt.evaluate(loaded, written)
    assert greenopt.validate(loaded, replayed) == []
    assert replayed.kpis["objective"] == pytest.approx(facts["objective"], rel=1e-9)


# -- issue 11: faults that must not cost the plan, or must fail at once ----------------------------
def test_highs_reporting_an_error_is_a_solver_error_not_no_solution(monkeypatch):
    # a HiGHS run that returns kError (as every threads=1 sub-MILP once did in a worker thread,
    # its per-thread scheduler sized by an earlier solve) must be loud, never a quiet no_solution
    monkeypatch.setattr(highspy.Highs, "run", lambda self: highspy.HighsStatus.kError)
    with pytest.raises(SolverError) as info:
        greenopt.plan(load("small"), "milp", time_limit=10)
    assert "kError" in str(info.value) and "highs" in str(info.value).lower()


def test_cli_a_plot_that_fails_is_skipped_and_the_plan_is_written(monkeypatch, tmp_path):
    import greenopt.report.plots as plots

    def mathtext(*args, **kwargs):
        raise ValueError(r"Unknown symbol: \undefinedmacro")

    monkeypatch.setattr(plots, "gantt", mathtext)
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", "--example", "small", "-m", "greedy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in TABLES:
        assert (out / f"{name}.csv").is_file(), name
    assert {"energy.png", "wan.png", "report.html"} <= {p.name for p in out.iterdir()}
    assert not (out / "gantt.png").exists()
    notes = json.loads((out / "kpis.json").read_text())["notes"]
    assert any("gantt.png not drawn" in n and "undefinedmacro" in n for n in notes), notes


def test_cli_an_oversize_scenario_fails_at_once_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("GREENOPT_MEMORY_BUDGET", "64KiB")
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", "--example", "realistic", "--out", str(out)])
    assert r.exit_code == 3, r.output  # bad input: too large for the machine
    assert "too large for the memory budget" in r.output and "240 jobs" in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
