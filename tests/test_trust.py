"""Attacks on what greenopt reads and writes (issue 11), one section per promise.

Each test plays an attacker or an unlucky user: a scenario file that points outside its folder,
a file that is not the table it claims to be, names built to be interpreted (spreadsheet
formulas, matplotlib mathtext, HTML, Markdown, rich markup), a scenario without jobs, a plan made
off the main thread, a scenario far too large for the machine. Where the command line is
involved the real ``greenopt`` runs in a subprocess, and the test checks that no file outside
its output folder changed and that no secret appears in anything it printed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import greenopt
from greenopt import ScenarioError
from greenopt.errors import SizeError
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.io import spreadsheet
from greenopt.report.report import write_outputs

REPO = Path(__file__).resolve().parents[1]
#: What an attacker would like to see printed: it must never appear in any message.
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
SECRET_FILE = f"AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY={SECRET}\n"
#: The names of the issue, and friends: each is a plain name to greenopt.
NASTY = [
    "Q3 plan [/draft]",
    "[/x]",
    "$\\undefinedmacro$",
    '=HYPERLINK("http://x","y")',
    "+1",
    "-x",
    "@SUM(1)",
    "'=a",
    "'plain quote",
    "\tTAB",
    "\rCR",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "_under_",
]


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real ``greenopt`` command in a subprocess (this checkout's package)."""
    script = Path(sys.executable).with_name("greenopt")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "greenopt.cli"]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


def _snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` (except under ``skip``): its bytes and modification time."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and (skip is None or skip not in p.parents):
            out[str(p.relative_to(root))] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def _scenario_with_names() -> greenopt.Scenario:
    """The small example with every NASTY name used as a job name, a kind, a site and a region
    (and a negative price, which must stay a number)."""
    sc = greenopt.examples.load("small")
    site_names = {s.name: f"{NASTY[i]}" for i, s in enumerate(sc.sites)}
    sites = [
        s.model_copy(
            update={
                "name": site_names[s.name],
                "region": NASTY[-1 - i],
                "price": np.where(np.arange(len(s.carbon)) % 5 == 0, -0.1, 0.2),
            }
        )
        for i, s in enumerate(sc.sites)
    ]
    jobs = [
        j.model_copy(
            update={
                "name": f"{NASTY[k % len(NASTY)]}#{k}",
                "kind": NASTY[(k + 3) % len(NASTY)],
                "origin": site_names[j.origin],
                "allowed_regions": None,
            }
        )
        for k, j in enumerate(sc.jobs)
    ]
    wan = [{"a": site_names[a], "b": site_names[b], **d} for a, b, d in sc.wan.edges(data=True)]
    return greenopt.Scenario(name="names", horizon=sc.horizon, sites=sites, jobs=jobs, wan=wan)


# -- 1. a scenario file is data: its references stay in its folder --------------------------------
@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path]:
    """A user's home with a secret, and a shared scenario folder inside it."""
    home = tmp_path / "home"
    home.mkdir()
    secret = home / "secret.env"
    secret.write_text(SECRET_FILE)
    (home / ".bashrc").write_text("export PATH=/usr/bin\n")
    path = greenopt.save_scenario(greenopt.examples.load("small"), home / "shared" / "scenario")
    return home, path


def _point(path: Path, field: str, ref: str) -> None:
    doc = yaml.safe_load(path.read_text())
    doc[field] = ref
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


REFS = {
    "dotdot": "../../secret.env",
    "absolute": "{home}/secret.env",
    "tilde": "~/secret.env",
    "symlink": "link.csv",
    "symlinked_folder": "data/secret.env",
}


@pytest.mark.parametrize("field", ["sites", "timeseries", "jobs", "wan", "forecasts"])
@pytest.mark.parametrize("kind", list(REFS))
def test_a_reference_outside_the_folder_is_refused_naming_field_and_path(
    shared, field, kind, monkeypatch
):
    home, path = shared
    monkeypatch.setenv("HOME", str(home))
    (path.parent / "link.csv").symlink_to(home / "secret.env")
    (path.parent / "data").symlink_to(home, target_is_directory=True)
    ref = REFS[kind].format(home=home)
    _point(path, field, ref)
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path)
    msg = str(info.value)
    assert field in msg and ref in msg and "outside" in msg, msg
    assert info.value.culprit == field
    assert SECRET not in msg and "AKIA" not in msg


@pytest.mark.parametrize("key", ["issued", "history"])
def test_a_forecast_file_outside_the_folder_is_refused(shared, key):
    _, path = shared
    _point(path, "forecasts", {key: "../../secret.env"})
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path)
    msg = str(info.value)
    assert f"forecasts.{key}" in msg and "outside" in msg and SECRET not in msg, msg
    assert info.value.culprit == f"forecasts.{key}"
    with pytest.raises(ScenarioError) as info:  # trusted: read, but never quoted
        greenopt.load_scenario(path, allow_outside=True)
    assert SECRET not in str(info.value) and "AKIA" not in str(info.value)


def test_references_inside_the_folder_and_trusted_ones_still_load(shared):
    home, path = shared
    original = greenopt.load_scenario(path)
    _point(path, "jobs", "sub/../jobs.csv")  # ".." that stays inside
    (path.parent / "sub").mkdir()
    assert greenopt.load_scenario(path) == original
    # a trusted file elsewhere, when the caller opts in
    (home / "jobs.csv").write_bytes((path.parent / "jobs.csv").read_bytes())
    _point(path, "jobs", "../../jobs.csv")
    with pytest.raises(ScenarioError, match="outside"):
        greenopt.load_scenario(path)
    assert greenopt.load_scenario(path, allow_outside=True) == original


@pytest.mark.parametrize("field", ["sites", "timeseries", "jobs", "wan", "forecasts"])
def test_an_allowed_reference_to_a_secret_never_echoes_it(shared, field):
    # even when the caller allows files outside, an error about the file is not its content
    _, path = shared
    _point(path, field, "../../secret.env")
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path, allow_outside=True)
    msg = str(info.value)
    assert SECRET not in msg and "AWS_SECRET" not in msg and "AKIA" not in msg, msg
    assert "secret.env" in msg


def test_cli_plan_refuses_a_scenario_pointing_outside_and_changes_nothing(shared):
    home, path = shared
    _point(path, "jobs", "../../secret.env")
    before = _snapshot(home)
    out = home / "out"
    r = _cli("plan", str(path), "-m", "greedy", "--out", str(out), cwd=home)
    assert r.returncode == 3, (r.stdout, r.stderr)  # bad input
    printed = r.stdout + r.stderr
    assert "outside" in printed and "jobs" in printed and "Traceback" not in printed
    assert SECRET not in printed and "AKIA" not in printed
    assert _snapshot(home) == before  # not a byte changed, nothing added
    assert not out.exists()


# -- 2. an error about one file never echoes another's content ------------------------------------
def _loaders(tmp: Path):
    from greenopt.io import formats, topology, traces

    return {
        "electricitymaps": lambda f: formats.read_electricitymaps(f),
        "entsoe": lambda f: formats.read_entsoe_ci(f),
        "watttime": lambda f: formats.read_watttime(f),
        "solcast": lambda f: formats.read_solcast(f, "Berlin"),
        "pvwatts": lambda f: formats.read_pvwatts(f, 2023, -7),
        "philly": lambda f: traces.read_philly(f),
        "alibaba": lambda f: traces.read_alibaba(f),
        "topology": lambda f: topology.read_topology_zoo(f),
    }


SECRET_SHAPES = {
    "env": SECRET_FILE,
    "csv": f"user,token\nroot,{SECRET}\n",
    "one_column": f"{SECRET}\n{SECRET}\n",
    "json": json.dumps({"token": SECRET}),
    "xml": f"<graphml><secret>{SECRET}</secret>",
    "binary": b"\x00\xff" + SECRET.encode() + b"\xfe",
}


@pytest.mark.parametrize("shape", list(SECRET_SHAPES))
def test_every_loader_describes_a_wrong_file_without_quoting_it(tmp_path, shape):
    f = tmp_path / "wrong.csv"
    content = SECRET_SHAPES[shape]
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    for name, load in _loaders(tmp_path).items():
        with pytest.raises(ScenarioError) as info:
            load(f)
        assert SECRET not in str(info.value), (name, str(info.value))
        assert SECRET not in str(info.value.culprit), name


def test_a_file_that_is_not_a_jobs_table_is_described_not_dumped(tmp_path):
    sc = greenopt.examples.load("small")
    path = greenopt.save_scenario(sc, tmp_path)
    (tmp_path / "jobs.csv").write_text(SECRET_FILE)
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path)
    msg = str(info.value)
    assert "does not look like a jobs table" in msg and SECRET not in msg
    # a real jobs table with one odd column: that column is named, short and inert
    (tmp_path / "jobs.csv").write_text("name,origin," + "x" * 500 + "\n")
    with pytest.raises(ScenarioError) as info:
        greenopt.load_scenario(path)
    assert "unknown column" in str(info.value) and "x" * 100 not in str(info.value)


# -- 3. CSV files a spreadsheet opens safely, read back exactly -----------------------------------
def _unsafe_cells(path: Path) -> list[str]:
    """Cells of a CSV file a spreadsheet would evaluate: text starting with = + - @ tab CR
    (a number such as -0.1 is fine)."""
    bad = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            for cell in row:
                if cell and cell[0] in spreadsheet.TRIGGERS:
                    try:
                        float(cell)
                    except ValueError:
                        bad.append(cell)
    return bad


@given(st.text(max_size=12))
def test_escaping_round_trips_every_string(text):
    escaped = spreadsheet.escape_text(text)
    assert spreadsheet.unescape_text(escaped) == text
    assert not escaped or escaped[0] not in spreadsheet.TRIGGERS


def test_save_and_load_round_trip_every_name_and_write_only_safe_cells(tmp_path):
    sc = _scenario_with_names()
    path = greenopt.save_scenario(sc, tmp_path)
    for name in ("sites.csv", "timeseries.csv", "jobs.csv"):
        assert _unsafe_cells(tmp_path / name) == [], name
    loaded = greenopt.load_scenario(path)
    assert loaded == sc
    assert [j.name for j in loaded.jobs] == [j.name for j in sc.jobs]
    assert [j.kind for j in loaded.jobs] == [j.kind for j in sc.jobs]
    # numbers stay numbers: a negative price is written bare and read back as a number
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert ts["price"].dtype == float and (ts["price"] < 0).any()
    assert ",-0.1" in (tmp_path / "timeseries.csv").read_text()


def test_plan_tables_are_safe_and_read_back_exactly(tmp_path):
    sc = _scenario_with_names()
    plan = greenopt.plan(sc, "greedy")
    plan.to_dir(tmp_path, parquet=True)
    for name in ("assignments", "migrations", "energy", "jobs", "scorecard"):
        assert _unsafe_cells(tmp_path / f"{name}.csv") == [], name
        back = spreadsheet.read_csv(tmp_path / f"{name}.csv")
        ours = getattr(plan, name)
        for col in ours.columns:
            if ours[col].dtype == object:
                assert (
                    back[col].fillna("").astype(str).tolist()
                    == ours[col].fillna("").astype(str).tolist()
                ), (name, col)
        # Parquet keeps the values as they are (no spreadsheet quoting there)
        assert pd.read_parquet(tmp_path / f"{name}.parquet").equals(ours.reset_index(drop=True))
    replayed = greenopt.evaluate(sc, spreadsheet.read_csv(tmp_path / "assignments.csv"))
    assert replayed.kpis == pytest.approx(plan.kpis)


def test_cli_example_then_plan_writes_only_inside_its_folders(tmp_path):
    before = _snapshot(tmp_path)
    assert before == {}
    r = _cli("example", "small", "ex", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sc_names = _scenario_with_names()
    greenopt.save_scenario(sc_names, tmp_path / "names")
    r = _cli(
        "plan", "names/scenario.yaml", "-m", "greedy", "--out", "out", "--report-format", "md",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    top = {p.name for p in tmp_path.iterdir()}
    assert top == {"ex", "names", "out"}, top  # no debris beside the folders asked for
    for f in (tmp_path / "out").glob("*.csv"):
        assert _unsafe_cells(f) == [], f.name
    for f in (tmp_path / "ex").glob("*.csv"):
        assert _unsafe_cells(f) == [], f.name
    assert greenopt.load_scenario(tmp_path / "ex" / "scenario.yaml") == greenopt.examples.load(
        "small"
    )
    assert {"gantt.png", "energy.png", "wan.png", "report.md"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }
    md = (tmp_path / "out" / "report.md").read_text()
    assert "<script>" not in md and "](javascript:" not in md


# -- 4. names are shown, never interpreted --------------------------------------------------------
@pytest.fixture(scope="module")
def named_plan():
    sc = _scenario_with_names()
    sc = sc.with_jobs(sc.jobs, name="Q3 plan [/draft] $\\undefinedmacro$ <b>x</b>")
    return sc, greenopt.plan(sc, "greedy")


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_plots_and_reports_draw_every_name_literally(named_plan, tmp_path, fmt):
    sc, plan = named_plan
    files = {f.name for f in write_outputs(sc, plan, tmp_path, report=fmt)}
    assert {"gantt.png", "energy.png", "wan.png", f"report.{fmt}"} <= files
    assert not [n for n in plan.notes if "not drawn" in n]
    text = (tmp_path / f"report.{fmt}").read_text()
    assert "<script>" not in text and "<b>x</b>" not in text
    assert "&lt;script&gt;" in text
    if fmt == "md":
        assert "](javascript:" not in text and "\\[/draft\\]" in text


def test_a_plot_that_fails_never_loses_the_plan(named_plan, tmp_path, monkeypatch):
    from greenopt.report import plots

    def broken(*args, **kwargs):
        raise ValueError("a plotting bug")

    monkeypatch.setattr(plots, "energy_stack", broken)
    sc, plan = named_plan
    plan = greenopt.plan(sc, "greedy")  # a fresh plan: its notes are written into
    files = {f.name for f in write_outputs(sc, plan, tmp_path, report="html")}
    assert {"assignments.csv", "jobs.csv", "kpis.json", "gantt.png", "wan.png"} <= files
    assert "energy.png" not in files and not (tmp_path / "energy.png").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
    facts = json.loads((tmp_path / "kpis.json").read_text())
    assert any("energy.png not drawn" in n and "a plotting bug" in n for n in facts["notes"])
    assert "energy.png not drawn" in (tmp_path / "report.html").read_text()


def test_cli_prints_a_scenario_named_like_rich_markup(tmp_path):
    sc = greenopt.examples.load("small")
    greenopt.save_scenario(sc.with_jobs(sc.jobs, name="Q3 plan [/draft]"), tmp_path / "sc")
    r = _cli("plan", "sc/scenario.yaml", "-m", "greedy", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0 and "Q3 plan [/draft]" in r.stdout, r.stderr[-500:]


# -- 5. a scenario without jobs is an idle day -------------------------------------------------
def test_every_method_plans_an_idle_day_from_a_header_only_jobs_file(tmp_path):
    sc = greenopt.examples.load("small")
    path = greenopt.save_scenario(sc.with_jobs([]), tmp_path / "sc")
    assert (tmp_path / "sc" / "jobs.csv").read_text().count("\n") == 1  # a header, no rows
    idle = greenopt.load_scenario(path)
    assert idle.jobs == [] and idle == sc.with_jobs([])
    idle_kwh = sum(s.pue * s.idle_kw for s in sc.sites) * sc.horizon.slots * sc.horizon.dt_h
    for method in greenopt.METHODS:
        plan = greenopt.plan(idle, method)
        assert greenopt.validate(idle, plan) == [], method
        assert len(plan.assignments) == 0 and len(plan.migrations) == 0
        assert plan.kpis["facility_kwh"] == pytest.approx(idle_kwh), method
        out = tmp_path / method
        names = {f.name for f in write_outputs(idle, plan, out, report="md")}
        assert {"gantt.png", "energy.png", "report.md"} <= names, method
    milp = greenopt.plan(idle, "milp", deadlines="hard")
    assert milp.status == "optimal" and milp.gap == 0.0
    assert greenopt.evaluate(idle, []).kpis["facility_kwh"] == pytest.approx(idle_kwh)
    r = _cli("plan", str(path), "-m", "milp", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert json.loads((tmp_path / "out" / "kpis.json").read_text())["status"] == "optimal"


# -- 6. off the main thread the MILP plans as well as on it -------------------------------------
def _lns_plan(sc: greenopt.Scenario, seen: list, **kwargs) -> greenopt.Plan:
    """The MILP forced onto fix-and-optimise (bb_max below its binaries), bounded by a count
    of neighbourhoods (no clock), recording each sub-MILP status."""
    import greenopt.milp.search as search

    real = search.fix_and_optimise

    def spy(*args, **kw):
        res = real(*args, **kw)
        seen.append(dict(res.sub_status))
        return res

    search.fix_and_optimise = spy
    try:
        return greenopt.plan(sc, "milp", bb_max=10, lns_neighbourhoods=6, lns_size=5, **kwargs)
    finally:
        search.fix_and_optimise = real


@pytest.fixture(scope="module")
def lns_scenario() -> greenopt.Scenario:
    return synthetic_scenario(jobs=24, sites=3, slots=24, seed=1)


def test_fix_and_optimise_in_a_worker_thread_matches_the_main_thread(lns_scenario):
    main_seen: list = []
    on_main = _lns_plan(lns_scenario, main_seen)
    assert threading.current_thread() is threading.main_thread()
    # a reused worker thread that has already planned with another thread count (a Dask
    # worker does exactly this): HiGHS's per-thread scheduler must not leak into this plan
    worker_seen: list = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_lns_plan, lns_scenario, [], threads=2).result()
        off_main = pool.submit(_lns_plan, lns_scenario, worker_seen).result()
    assert main_seen and worker_seen
    for seen in (main_seen[0], worker_seen[0]):
        assert sum(seen.values()) == 6, seen  # every neighbourhood was solved...
        assert set(seen) <= {"optimal", "feasible"}, seen  # ...never 'no_solution'
    assert worker_seen == main_seen
    assert off_main.kpis["objective"] == on_main.kpis["objective"]
    assert off_main.assignments.equals(on_main.assignments)
    assert greenopt.validate(lns_scenario, off_main) == []


def test_a_plain_thread_plans_like_the_main_thread(lns_scenario):
    on_main = greenopt.plan(lns_scenario, "milp", bb_max=10, lns_neighbourhoods=4, lns_size=5)
    out: list = []
    t = threading.Thread(
        target=lambda: out.append(
            greenopt.plan(lns_scenario, "milp", bb_max=10, lns_neighbourhoods=4, lns_size=5)
        )
    )
    t.start()
    t.join()
    assert out and out[0].kpis["objective"] == on_main.kpis["objective"]
    assert out[0].assignments.equals(on_main.assignments)


def _size_this_threads_highs_scheduler(threads: int) -> None:
    """What a direct ``Highs.run()`` on this thread does (a column-generation LP, say): the
    thread's HiGHS scheduler is sized for ``threads`` from then on."""
    import highspy

    from greenopt.solvers import highs

    h = highs.new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 0
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(1), np.zeros(1), np.ones(1)
    h.passModel(lp)
    assert h.run() == highspy.HighsStatus.kOk


def test_the_read_back_tidy_step_does_not_depend_on_the_thread_it_runs_on():
    # a thread whose scheduler another solve sized first (the main thread after a column-
    # generation relaxation, a reused Dask worker) plans like a fresh one: the tidy step's
    # one-thread LPs used to fail there with kError and leave every fragment as it was.
    # A day whose fix-and-optimise plan leaves fragments the tidy step can fix (on
    # lns_scenario's, since fix-and-optimise starts from the LP re-timed start, none is left)
    sc = synthetic_scenario(jobs=24, sites=3, slots=24, seed=2)

    def plan_after(threads: int | None) -> greenopt.Plan:
        if threads is not None:
            _size_this_threads_highs_scheduler(threads)
        return greenopt.plan(sc, "milp", bb_max=10, lns_neighbourhoods=4, lns_size=5)

    with ThreadPoolExecutor(max_workers=1) as pool:
        fresh = pool.submit(plan_after, None).result()
    with ThreadPoolExecutor(max_workers=1) as pool:
        sized = pool.submit(plan_after, 2).result()
    assert any(n.startswith("tidy: fragments") for n in fresh.notes), fresh.notes
    tidy = [n for n in sized.notes if n.startswith("tidy")]
    assert [re.sub(r"[\d.]+ s\b", "", n) for n in tidy] == [
        re.sub(r"[\d.]+ s\b", "", n) for n in fresh.notes if n.startswith("tidy")
    ]
    assert sized.assignments.equals(fresh.assignments)


# -- 7. limits: a size estimate before large allocations -----------------------------------------
def test_an_oversize_scenario_fails_before_any_large_allocation():
    T, J = 8_760, 87_600
    sites = [
        {"name": f"s{i}", "gpus": 8, "renewable_kw": np.zeros(T), "carbon": np.full(T, 100.0)}
        for i in range(6)
    ]
    job = {
        "origin": "s0",
        "release": "2024-01-01T00:00:00Z",
        "deadline": "2024-01-02T00:00:00Z",
        "work_h": 1,
        "gpus": 1,
        "power_kw": 1,
    }
    jobs = [{"name": f"j{k}", **job} for k in range(J)]
    with pytest.raises(SizeError) as info:
        greenopt.Scenario(
            horizon={"start": "2024-01-01T00:00:00Z", "slot_minutes": 60, "slots": T},
            sites=sites,
            jobs=jobs,
            wan=[{"a": f"s{i}", "b": f"s{i + 1}", "gbps": 1} for i in range(5)],
        )
    msg = str(info.value)
    assert "87,600 jobs" in msg and "8,760 slots" in msg and "GiB" in msg
    assert "GREENOPT_MEMORY_BUDGET" in msg
    assert info.value.needed > info.value.budget
    assert info.value.sizes == {"jobs": J, "sites": 6, "slots": T}
    assert isinstance(info.value, greenopt.GreenoptError)


def test_the_milp_size_is_checked_before_the_start_plan(monkeypatch):
    import greenopt.milp.pipeline as pipeline
    from greenopt import limits

    sc = synthetic_scenario(jobs=200, sites=4, slots=48, seed=0)

    def no_start(*args, **kwargs):
        raise AssertionError("the start plan was built before the size check")

    monkeypatch.setattr(pipeline, "start_plan", no_start)
    limits.set_memory_budget("20MiB")
    try:
        with pytest.raises(SizeError) as info:
            greenopt.plan(sc, "milp")
    finally:
        limits.set_memory_budget(None)
    msg = str(info.value)
    assert "MILP" in msg and "200 jobs" in msg and "model columns" in msg
    assert "greedy" in msg  # what to change


def test_the_budget_comes_from_the_environment_and_is_checked(monkeypatch):
    from greenopt import limits

    monkeypatch.setenv(limits.ENV_VAR, "1MiB")
    assert limits.memory_budget() == 2**20
    with pytest.raises(SizeError):
        synthetic_scenario(jobs=2000, sites=4, slots=96, seed=0).index  # noqa: B018
    monkeypatch.setenv(limits.ENV_VAR, "lots")
    with pytest.raises(ScenarioError) as info:
        limits.memory_budget()
    assert info.value.culprit == limits.ENV_VAR
    monkeypatch.delenv(limits.ENV_VAR)
    assert limits.memory_budget() == limits.DEFAULT_BUDGET == 16 * 2**30
    assert limits.memory_budget("24GiB") == 24 * 2**30


def test_cli_plan_of_an_oversize_scenario_fails_naming_the_sizes(tmp_path):
    sc = synthetic_scenario(jobs=300, sites=4, slots=96, seed=0)
    greenopt.save_scenario(sc, tmp_path / "sc")
    before = _snapshot(tmp_path)
    r = _cli(
        "plan", "sc/scenario.yaml", "--out", "out", cwd=tmp_path,
        env={"GREENOPT_MEMORY_BUDGET": "64KiB"},
    )  # fmt: skip
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "too large" in r.stderr and "300 jobs" in r.stderr and "96 slots" in r.stderr
    assert "Traceback" not in r.stderr
    assert _snapshot(tmp_path) == before and not (tmp_path / "out").exists()


def test_plots_of_large_plans_are_aggregated_or_skipped_with_a_note(tmp_path):
    from greenopt.report import plots

    long = synthetic_scenario(jobs=30, sites=3, slots=2_000, slot_minutes=60, seed=0)
    plan = greenopt.plan(long, "greedy")
    notes: list[str] = []
    drawn = plots.plot_all(long, plan, tmp_path / "long", notes=notes)
    assert set(drawn) == {"gantt", "energy", "wan"}
    assert any(n.startswith("energy.png drawn aggregated") for n in notes), notes
    fig = plots.energy_stack(long, plan)
    assert len(plots.site_panels(fig)) == 3
    assert not plots.site_panels(fig)[0].patches  # areas, not 2,000 × 3 bars
    many = synthetic_scenario(jobs=10, sites=plots.limits.MAX_PANELS + 1, slots=4, seed=0)
    notes = []
    drawn = plots.plot_all(many, greenopt.plan(many, "greedy"), tmp_path / "many", notes=notes)
    assert "gantt" not in drawn and "energy" not in drawn
    assert any("gantt.png not drawn" in n and "site panels" in n for n in notes), notes
