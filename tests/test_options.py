"""Planning options: one schema for Python, scenario files and the command line (greenopt.options);
what a scenario file may not set; the typed result (PlanStatus, SolverInfo); explicit dispatch;
which exceptions become SolverError."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import greenopt
from greenopt import OptionsError, PlanStatus, ScenarioError, SolverError, SolverInfo
from greenopt import batch as B
from greenopt.cli import app
from greenopt.options import (
    COMMON,
    HIGHS_FILE_OPTIONS,
    METHOD_PARAMS,
    METHODS,
    PlanOptions,
    check_file_section,
    defaults,
    layered,
    parse_text,
)
from greenopt.plan import planner

runner = CliRunner()


@pytest.fixture(scope="module")
def sc():
    return greenopt.examples.load("small")


# -- Python ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "culprit", "words"),
    [
        ({"time_limit": "10"}, "time_limit", "must be a number, got '10'"),
        ({"mip_gap": "1%"}, "mip_gap", "must be a number"),
        ({"threads": "two"}, "threads", "whole number"),
        ({"threads": 1.5}, "threads", "whole number"),
        ({"seed": True}, "seed", "whole number"),
        ({"warm_start": "yes"}, "warm_start", "true or false"),
        ({"mip_gap": math.nan}, "mip_gap", "finite"),
        ({"time_limit": 0}, "time_limit", "> 0"),
        ({"seed": -1}, "seed", ">= 0"),
        ({"deadlines": "firm"}, "deadlines", "deadlines 'firm' is unknown"),
        ({"objective": "green"}, "objective", "objective 'green' is unknown"),
        ({"passes": "3"}, "passes", "whole number"),
        ({"passes": -1}, "passes", ">= 0"),
        ({"retime": 1}, "retime", "true or false"),
        ({"alpha": 2.0}, "alpha", "in [0, 1]"),
        ({"highs_options": ["presolve"]}, "highs_options", "mapping"),
    ],
)
def test_python_values_are_strict_and_named(sc, kwargs, culprit, words):
    with pytest.raises(OptionsError) as info:
        greenopt.plan(sc, "greedy", **kwargs)
    assert info.value.culprit == culprit
    assert words in str(info.value)
    assert isinstance(info.value, ScenarioError)  # the scenario's errors include its options


def test_unknown_names_get_a_suggestion(sc):
    with pytest.raises(OptionsError, match=r"'pases'.*did you mean 'passes'") as info:
        greenopt.plan(sc, "greedy", pases=3)
    assert info.value.culprit == "pases"
    with pytest.raises(OptionsError, match=r"did you mean 'time_limit'"):
        greenopt.plan(sc, "run-now", time_limt=3)
    with pytest.raises(OptionsError, match=r"unknown option 'colour'") as info:
        greenopt.plan(sc, "run-now", colour="green")
    assert "did you mean" not in str(info.value)


def test_a_parameter_of_another_method_is_refused(sc):
    with pytest.raises(OptionsError) as info:
        greenopt.plan(sc, "greedy", threshold=250)
    msg = str(info.value)
    assert "greedy" in msg and "threshold" in msg and "greenest-region" in msg
    with pytest.raises(OptionsError, match="takes no parameter 'passes'"):
        greenopt.plan(sc, "run-now", passes=1)
    with pytest.raises(OptionsError, match="takes no parameter 'bb_max'"):
        greenopt.plan(sc, "online", bb_max=10)


def test_numbers_of_any_numeric_type_are_fine(sc):
    import numpy as np

    p = greenopt.plan(sc, "threshold", threshold=np.float64(300), max_delay_h=2, seed=np.int64(1))
    assert greenopt.validate(sc, p) == []
    p = greenopt.plan(sc, "greedy", passes=np.int32(1), alpha=1, retime=np.bool_(False))
    assert greenopt.validate(sc, p) == []


def test_every_method_and_every_parameter_has_a_spec():
    assert set(METHOD_PARAMS) == set(METHODS) == set(greenopt.METHODS)
    for method in METHODS:
        assert callable(planner(method))
        for name, option in METHOD_PARAMS[method].items():
            assert option.name == name and option.help
    assert {f.name for f in dataclasses.fields(PlanOptions)} == {*COMMON, "params"}


def test_plan_options_has_the_only_defaults():
    d = PlanOptions()
    assert (d.method, d.objective.name, d.deadlines, d.solver) == (
        "milp",
        "carbon",
        "soft",
        "highs",
    )
    assert (d.time_limit, d.mip_gap, d.threads, d.seed) == (None, 0.01, None, 0)
    assert defaults()["objective"] == "carbon" and defaults()["params"] == {}
    # PlanOptions built directly is checked as strictly as plan()'s keywords
    with pytest.raises(OptionsError, match="passes"):
        PlanOptions(params={"passes": 2})  # a greedy parameter, but the method is milp
    assert PlanOptions(method="greedy", params={"passes": 2}).params == {"passes": 2}
    with pytest.raises(OptionsError, match="mip_gap"):
        dataclasses.replace(d, mip_gap=1.5)


# -- scenario files -------------------------------------------------------------------------------
CALLER_ONLY = ["log_file", "verbose"]


@pytest.mark.parametrize("name", CALLER_ONLY)
def test_a_file_cannot_set_caller_only_options(name):
    value = "/tmp/x.log" if name == "log_file" else True
    with pytest.raises(OptionsError, match="cannot come from a scenario file") as info:
        check_file_section({name: value}, "s.yaml")
    assert info.value.culprit == name and "s.yaml" in str(info.value)


@pytest.mark.parametrize(
    "params",
    [
        {"highs_options": {"write_solution_to_file": True, "solution_file": "/tmp/pwn"}},
        {"highs_options": {"presolve": "off"}},  # harmless, but the whole dict passes through
        {"progress": "print"},
        *({name: "/tmp/pwn"} for name in sorted(HIGHS_FILE_OPTIONS)),
    ],
)
def test_a_file_cannot_name_files_or_pass_solver_options(params):
    with pytest.raises(OptionsError, match="cannot come from a scenario file") as info:
        check_file_section({"method": "milp", "params": params}, "s.yaml")
    (name,) = params
    assert info.value.culprit == name
    assert "never decides what greenopt writes, reads or runs" in str(info.value)


@pytest.mark.parametrize("name", ["solution_file", "write_model_file"])
def test_a_file_cannot_set_highs_file_options_at_the_top_level_either(name):
    with pytest.raises(OptionsError, match=f"'{name}' cannot come from a scenario file"):
        check_file_section({name: "/tmp/pwn"}, "s.yaml")


def test_a_file_may_choose_only_a_known_solver():
    assert check_file_section({"solver": "cbc"}, "s.yaml") == {"solver": "cbc"}
    with pytest.raises(OptionsError, match="'gams' cannot be chosen by a scenario file"):
        check_file_section({"solver": "gams"}, "s.yaml")


@pytest.mark.parametrize(
    ("section", "culprit", "words"),
    [
        ({"time_limit": "10"}, "time_limit", "must be a number"),
        ({"mip_gap": "1%"}, "mip_gap", "must be a number"),
        ({"threads": "two"}, "threads", "whole number"),
        ({"mip_gapp": 0.1}, "mip_gapp", "did you mean 'mip_gap'"),
        ({"params": {"pases": 3}}, "pases", "did you mean 'passes'"),
        ({"params": {"passes": "3"}}, "passes", "whole number"),
        ({"params": [1, 2]}, "params", "must be a mapping"),
    ],
)
def test_file_values_are_strict_and_named(section, culprit, words):
    with pytest.raises(OptionsError) as info:
        check_file_section(section, "s.yaml")
    assert info.value.culprit == culprit and words in str(info.value)


def test_layering_defaults_file_caller():
    file = check_file_section(
        {"method": "greedy", "mip_gap": 0.2, "seed": 3, "params": {"passes": 1}}, "s.yaml"
    )
    out = layered(file, {"mip_gap": 0.05, "time_limit": None, "params": {"retime": True}})
    assert out["method"] == "greedy" and out["seed"] == 3  # the file's
    assert out["mip_gap"] == 0.05  # the caller wins; None means "not given"
    assert out["params"] == {"passes": 1, "retime": True}
    assert out["deadlines"] == "soft"  # the default


def _scenario_file(tmp_path: Path, plan_section: dict) -> Path:
    path = greenopt.save_scenario(greenopt.examples.load("small"), tmp_path / "sc")
    doc = yaml.safe_load(path.read_text())
    doc["plan"] = plan_section
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_shared_scenario_file_cannot_overwrite_a_users_file(tmp_path):
    """The attack of issue 11: a YAML's highs_options writing HiGHS's solution over a file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = _scenario_file(
        tmp_path,
        {
            "method": "milp",
            "params": {
                "highs_options": {"write_solution_to_file": True, "solution_file": str(victim)}
            },
        },
    )
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan", str(path), "--out", str(out), "--time-limit", "5"])
    assert r.exit_code == 2 and "highs_options" in r.output and "Traceback" not in r.output
    with pytest.raises(OptionsError, match="highs_options"):
        B.make_tasks([str(path)])
    for log in ({"log_file": str(victim)}, {"params": {"solution_file": str(victim)}}):
        path = _scenario_file(tmp_path, log)
        r = runner.invoke(app, ["plan", str(path), "-m", "greedy", "--out", str(out)])
        assert r.exit_code == 2 and "cannot come from a scenario file" in r.output
    assert victim.read_text() == "precious\n" and not out.exists()


def test_the_callers_own_highs_options_still_work(sc, tmp_path):
    log = tmp_path / "highs.log"
    p = greenopt.plan(sc, "milp", time_limit=20, highs_options={"presolve": "on"}, log_file=log)
    assert greenopt.validate(sc, p) == [] and log.stat().st_size > 0


def test_a_files_parameters_apply_to_the_methods_that_take_them(tmp_path):
    path = _scenario_file(tmp_path, {"method": "threshold", "params": {"threshold": 300}})
    out = tmp_path / "o"
    r = runner.invoke(
        app, ["plan", str(path), "-m", "greedy", "--out", str(out), "--no-plots", "--no-report"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads((out / "kpis.json").read_text())["method"] == "greedy"


# -- the command line -----------------------------------------------------------------------------
def test_param_strings_are_parsed_to_the_options_type():
    assert parse_text("passes", "3") == 3
    assert parse_text("threshold", "250") == 250 and parse_text("threshold", "2.5e2") == 250.0
    assert parse_text("retime", "true") is True and parse_text("retime", "off") is False
    assert parse_text("shortlist", "none") is None
    assert parse_text("highs_options", '{"presolve": "off"}') == {"presolve": "off"}
    with pytest.raises(OptionsError, match="JSON object"):
        parse_text("highs_options", "{presolve: off}")
    with pytest.raises(OptionsError, match="whole number"):
        parse_text("passes", "three")
    with pytest.raises(OptionsError, match="did you mean 'passes'"):
        parse_text("pases", "3")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-m", "greedy", "-p", "pases=3"], "did you mean 'passes'"),
        (["-m", "greedy", "-p", "passes=x"], "option 'passes' must be a whole number"),
        (["-m", "greedy", "-p", "threshold=3"], "takes no parameter 'threshold'"),
        (["-m", "greedy", "-p", "passes"], "must look like KEY=VALUE"),
    ],
)
def test_cli_params_are_checked(args, needle, tmp_path):
    r = runner.invoke(app, ["plan", "--example", "small", *args, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output


def test_cli_params_reach_the_method(tmp_path):
    out = tmp_path / "o"
    r = runner.invoke(
        app,
        [
            *("plan", "--example", "small", "-m", "greedy", "-p", "passes=2"),
            *("-p", "time_limit=30", "--out", str(out), "--no-plots", "--no-report"),
        ],
    )
    assert r.exit_code == 0, r.output
    expected = greenopt.plan(greenopt.examples.load("small"), "greedy", passes=2)
    facts = json.loads((out / "kpis.json").read_text())
    assert facts["objective"] == pytest.approx(expected.objective, rel=1e-12)


def test_cli_typed_flags_refuse_bad_values(tmp_path):
    for flag, value in (("--threads", "two"), ("--mip-gap", "1%"), ("--time-limit", "ten")):
        r = runner.invoke(app, ["plan", "--example", "small", flag, value, "--out", str(tmp_path)])
        assert r.exit_code == 2 and "Invalid value" in r.output, (flag, r.output)


def test_batch_threads_are_solver_threads_and_workers_have_a_kind(tmp_path):
    out = tmp_path / "b"
    args = ["batch", "--example", "small", "-m", "greedy", "--threads", "1"]
    r = runner.invoke(app, [*args, "--worker-kind", "thread", "--workers", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    task = json.loads((out / "small--greedy--carbon" / "task.json").read_text())
    assert task["options"]["threads"] == 1
    r = runner.invoke(app, [*args, "--worker-kind", "fibre", "--out", str(out)])
    assert r.exit_code == 2 and "--worker-kind" in r.output and "'thread'" in r.output


def test_batch_sweeps_are_checked_and_apply_to_their_methods():
    with pytest.raises(OptionsError, match="did you mean 'passes'"):
        B.make_tasks(["example:small"], params={"pases": [1, 2]})
    with pytest.raises(OptionsError, match="passes"):
        B.make_tasks(["example:small"], params={"passes": ["1"]})
    with pytest.raises(OptionsError, match="--method"):
        B.make_tasks(["example:small"], params={"method": ["greedy"]})
    with pytest.raises(OptionsError, match="method 'magic' is unknown"):
        B.make_tasks(["example:small"], methods=["magic"])
    tasks = B.make_tasks(
        ["example:small"], methods=["greedy", "threshold"], params={"threshold": [300]}
    )
    kwargs = {t.method: t.plan_kwargs() for t in tasks}
    assert kwargs["threshold"]["threshold"] == 300 and "threshold" not in kwargs["greedy"]


# -- the typed result ------------------------------------------------------------------------------
def test_status_is_a_str_enum(sc, tmp_path):
    p = greenopt.plan(sc, "greedy")
    assert p.status is PlanStatus.HEURISTIC and p.status == "heuristic"
    assert f"{p.status}" == "heuristic" and json.dumps(p.status) == '"heuristic"'
    p.status = "optimal"
    assert p.status is PlanStatus.OPTIMAL
    with pytest.raises(ValueError):
        p.status = "great"
    assert tuple(PlanStatus) == greenopt.result.STATUSES
    p.to_dir(tmp_path)
    assert json.loads((tmp_path / "kpis.json").read_text())["status"] == "optimal"


def test_solver_facts_live_apart_from_the_tables(sc):
    p = greenopt.plan(sc, "milp", time_limit=20)
    assert isinstance(p.info, SolverInfo)
    assert (
        (p.bound, p.gap, p.solver)
        == (p.info.bound, p.info.gap, p.info.solver)
        == (
            p.info.bound,
            p.info.gap,
            "highs",
        )
    )
    p.bound = 1.0
    assert p.info.bound == 1.0
    q = dataclasses.replace(p)  # a copy has facts of its own
    q.notes = ["other"]
    q.gap = 0.5
    assert p.gap != 0.5 and p.notes != ["other"]
    with pytest.raises(TypeError, match="bogus"):
        greenopt.Plan(p.assignments, p.migrations, p.energy, p.jobs, p.kpis, p.scorecard, bogus=1)


def test_no_gap_is_none_never_nan(sc):
    for method in ("greedy", "run-now"):
        assert greenopt.plan(sc, method).gap is None
    info = SolverInfo(gap=math.nan)
    assert info.gap is None
    info.gap = float("nan")
    assert info.gap is None


def test_bound_gap_and_status_are_settled_in_one_place(sc):
    from greenopt.milp.outcome import settle

    def plan(status: str) -> greenopt.Plan:
        p = greenopt.plan(sc, "run-now")
        p.status = status
        return p

    value = plan("feasible").kpis["objective"]
    p = plan("optimal")
    settle(p, None, restricted=True)  # the optimum of a restricted model, no bound
    assert (p.bound, p.gap, p.status) == (None, None, PlanStatus.FEASIBLE)
    p = plan("optimal")
    settle(p, None, restricted=False)
    assert (p.gap, p.status) == (None, PlanStatus.OPTIMAL)
    p = plan("feasible")
    settle(p, value * 2, restricted=True)  # a bound above the plan is clipped to it
    assert (p.bound, p.gap, p.status) == (value, 0.0, PlanStatus.OPTIMAL)
    p = plan("optimal")
    settle(p, 0.9 * value, restricted=False)
    assert p.gap == pytest.approx(0.1) and p.status == PlanStatus.FEASIBLE
    p = plan("time_limit")
    settle(p, value, restricted=False)
    assert p.gap == 0.0 and p.status == PlanStatus.TIME_LIMIT  # only optimal/feasible change


# -- which exceptions become SolverError -----------------------------------------------------------
def test_a_bug_of_greenopt_inside_the_milp_is_not_a_solver_error(sc, monkeypatch):
    import greenopt.milp.prepare as prepare

    def bug(*args, **kwargs):
        raise ZeroDivisionError("greenopt's own bug")

    monkeypatch.setattr(prepare, "start_vector", bug)
    with pytest.raises(ZeroDivisionError, match="own bug"):
        greenopt.plan(sc, "milp", time_limit=10)


def test_a_solver_exception_is_a_solver_error(sc, monkeypatch):
    import greenopt.solvers.highs as highs

    def crash(*args, **kwargs):
        raise RuntimeError("HiGHS fell over")

    monkeypatch.setattr(highs, "solve", crash)
    with pytest.raises(SolverError, match=r"milp: solver 'highs' failed \(RuntimeError: HiGHS"):
        greenopt.plan(sc, "milp", time_limit=10)
