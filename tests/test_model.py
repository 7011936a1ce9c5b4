"""The labelled MILP model (``greenopt.build_model``): read like MODEL.md, written to an LP file,
extended with plain Pyomo, solved through the pipeline of ``plan(method="milp")``."""

from __future__ import annotations

import io

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

import greenopt
from greenopt.errors import InfeasibleError, OptionsError, PlanError, SolverError
from greenopt.examples import load
from greenopt.scenario import Job, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")

#: A job the greedy start plan and the optimum both run at a site that is not its origin.
JOB, SITE = "j04-train", "oslo"
#: Fewer migrations than the start plan (4) or the optimum (6) of the small example make.
BUDGET = 3


def site(name: str, carbon, gpus: int = 8) -> Site:
    T = len(carbon)
    return Site(
        name=name,
        region=name,
        gpus=gpus,
        pue=1.0,
        idle_kw=0.0,
        renewable_kw=np.zeros(T),
        carbon=np.asarray(carbon, float),
    )


def job(name: str, origin: str, work_h: float, release: int = 0, deadline: int = 1) -> Job:
    return Job(
        name=name,
        origin=origin,
        release=START + pd.Timedelta(hours=release),
        deadline=START + pd.Timedelta(hours=deadline),
        work_h=work_h,
        gpus=1,
        power_kw=1.0,
    )


def scenario(sites, jobs, wan=None, name="t") -> Scenario:
    return Scenario(
        name=name,
        horizon={"start": START, "slot_minutes": 60, "slots": len(sites[0].carbon)},
        sites=sites,
        jobs=jobs,
        wan=wan or [],
    )


def never_at(m: pyo.ConcreteModel, job_name: str, site_name: str) -> None:
    """The caller's constraint "job ... never runs at site ..."."""
    m.never_at = pyo.Constraint(
        expr=sum(m.x[j, s, t] for j, s, t in m.x if j == job_name and s == site_name) == 0
    )


def migration_budget(m: pyo.ConcreteModel, budget: int) -> None:
    m.migration_budget = pyo.Constraint(expr=sum(m.mv.values()) <= budget)


def both(model) -> None:
    never_at(model.pyomo, JOB, SITE)
    migration_budget(model.pyomo, BUDGET)


@pytest.fixture(scope="module")
def small() -> Scenario:
    return load("small")


@pytest.fixture(scope="module")
def unchanged(small):
    return greenopt.plan(small, method="milp", mip_gap=1e-6, time_limit=60)


# -- what the model is -----------------------------------------------------------------------------
def test_the_model_is_indexed_by_names_with_one_component_per_family(small):
    model = greenopt.build_model(small)
    m = model.pyomo
    assert list(m.jobs) == [j.name for j in sorted(small.jobs, key=lambda j: j.name)]
    assert set(m.sites) == {s.name for s in small.sites}
    assert list(m.slots) == list(range(small.horizon.slots))
    assert all("~" in link for link in m.links)
    assert (JOB, SITE, 5) in m.x and m.x.index_set().dimen == 3
    assert all(isinstance(j, str) and isinstance(s, str) for j, s, _ in m.x)
    assert {len(k) for k in m.mv} == {4}
    assert set(m.unmet) == set(m.jobs)
    assert set(m.work) == set(m.jobs)
    assert all(s in m.sites and t in m.slots for s, t in m.capacity)
    assert all(link in m.links and t in m.slots for link, t in m.link_capacity)
    assert set(m.flow) == set(m.loc)
    # each family's math is its doc, with its keys
    assert m.capacity.doc.startswith("capacity[site, slot]: Σ_j gpus[j]·x[j,s,t] ≤ gpus[s]")
    assert m.work.doc.startswith("work[job]: ")
    assert m.x.doc.startswith("x[job, site, slot]: ")
    assert model.families()["at_state"] == ("job", "site", "slot")


def test_pprint_reads_like_model_md(small):
    model = greenopt.build_model(small)
    out = io.StringIO()
    model.pprint(out)
    text = out.getvalue()
    for head in (
        "work[job]",
        "capacity[site, slot]",
        "flow[job, site, slot]",
        "x[job, site, slot]",
    ):
        assert head in text
    assert f"x[{JOB},{SITE},5]" in text  # rows are written over named variables
    assert "x[(" not in text and "capacity[17]" not in text
    # the summary lists the families in MODEL.md's order
    summary = repr(model)
    assert summary.index("work[job]") < summary.index("capacity[") < summary.index("flow[")


def test_the_labelled_model_is_exactly_the_matrix(small):
    from greenopt.formulations.build import build_matrix
    from greenopt.formulations.pyomo_model import compile_model, to_pyomo
    from greenopt.objectives import Objective
    from greenopt.solvers.highs import compile_pyomo, from_matrix

    ix, mx = build_matrix(small, Objective("carbon"))
    m = to_pyomo(ix, mx)
    direct = from_matrix(mx)
    # Pyomo's own compiler, reading every row as the model shows it, gives the same matrix
    pyomo = compile_pyomo(m)
    order = np.argsort(pyomo.col_index)
    assert np.array_equal(pyomo.col_index[order], np.arange(mx.n_cols))
    np.testing.assert_allclose(pyomo.c[order], direct.c)
    np.testing.assert_allclose(pyomo.col_lb[order], direct.col_lb)
    np.testing.assert_allclose(pyomo.col_ub[order], direct.col_ub)
    np.testing.assert_array_equal(pyomo.integer[order], direct.integer)
    a = pyomo.A[:, order].toarray()
    b = direct.A.toarray()
    assert sorted(map(tuple, np.c_[a, pyomo.row_lb, pyomo.row_ub].round(12))) == sorted(
        map(tuple, np.c_[b, direct.row_lb, direct.row_ub].round(12))
    )
    # and the hand-off of an unchanged model is the arrays themselves
    compiled = compile_model(m)
    assert not compiled.changes.any
    for name in ("c", "col_lb", "col_ub", "integer", "row_lb", "row_ub", "col_index"):
        assert np.array_equal(getattr(compiled.form, name), getattr(direct, name)), name
    assert (compiled.form.A != direct.A).nnz == 0


# -- acceptance 2: extended, solved, obeyed --------------------------------------------------------
def test_added_constraints_are_obeyed_by_a_valid_plan(small, unchanged):
    model = greenopt.build_model(small, mip_gap=1e-6, time_limit=60)
    start = model.start
    # the start plan breaks both: it is neither MIP start nor fallback
    assert (start.assignments.query("job == @JOB")["site"] == SITE).any()
    assert start.kpis["migrations"] > BUDGET
    both(model)
    p = model.solve()
    assert greenopt.validate(small, p) == []
    assert not (p.assignments.query("job == @JOB")["site"] == SITE).any()
    assert len(p.migrations) <= BUDGET and p.kpis["migrations"] <= BUDGET
    assert p.kpis["objective"] >= unchanged.kpis["objective"] - 1e-6
    assert p.bound is None or p.bound <= p.kpis["objective"] + 1e-9
    assert any("breaks the model's changes" in n for n in p.notes)


def test_the_extend_hook_of_plan_gives_the_plan_of_the_model(small):
    model = greenopt.build_model(small, mip_gap=1e-6, time_limit=60)
    both(model)
    by_model = model.solve()
    by_plan = greenopt.plan(small, method="milp", mip_gap=1e-6, time_limit=60, extend=both)
    pd.testing.assert_frame_equal(by_model.assignments, by_plan.assignments)
    assert by_model.kpis == by_plan.kpis
    assert by_model.status == by_plan.status


def test_fix_and_optimise_keeps_the_callers_constraints_and_variables(small):
    def budget_with_overrun(model) -> None:
        # the start plan obeys this, its overrun chosen by a small MILP: fix-and-optimise runs
        m = model.pyomo
        m.overrun = pyo.Var(bounds=(0, None))  # a variable of the caller's: owned by no job
        m.budget = pyo.Constraint(expr=sum(m.mv.values()) <= BUDGET + m.overrun)
        m.objective.expr = m.objective.expr + 100 * m.overrun

    p = greenopt.plan(small, method="milp", time_limit=30, bb_max=0, extend=budget_with_overrun)
    assert any("fix-and-optimise" in n for n in p.notes)
    assert greenopt.validate(small, p) == []
    overrun = max(0, p.kpis["migrations"] - BUDGET)
    assert p.solver_objective == pytest.approx(p.kpis["objective"] + 100 * overrun, abs=1e-4)


def test_a_fixed_variable_is_obeyed(small):
    model = greenopt.build_model(small, mip_gap=1e-6, time_limit=60)
    m = model.pyomo
    for j, s, t in m.x:
        if j == JOB and s == SITE:
            m.x[j, s, t].fix(0)
    p = model.solve()
    assert greenopt.validate(small, p) == []
    assert not (p.assignments.query("job == @JOB")["site"] == SITE).any()


def test_a_family_left_out_is_noted_and_the_plan_still_valid(small, unchanged):
    model = greenopt.build_model(small, mip_gap=1e-6, time_limit=60)
    model.pyomo.arrival_cover.deactivate()  # a cut: valid for every plan, so nothing changes
    compiled = model.standard_form()
    assert compiled.changes.loosened and compiled.changes.dropped_rows == len(
        model.pyomo.arrival_cover
    )
    p = model.solve()
    assert greenopt.validate(small, p) == []
    assert p.kpis["objective"] == pytest.approx(unchanged.kpis["objective"], rel=1e-4)


def test_another_pyomo_solver_gets_the_callers_constraints(small):
    model = greenopt.build_model(small, solver="appsi_highs", mip_gap=1e-6, time_limit=60)
    both(model)
    p = model.solve()
    assert p.solver == "appsi_highs"
    assert greenopt.validate(small, p) == []
    assert not (p.assignments.query("job == @JOB")["site"] == SITE).any()
    assert p.kpis["migrations"] <= BUDGET


# -- objective terms -------------------------------------------------------------------------------
def _one_job() -> Scenario:
    # one hour of work at its origin, in slot 0 (100 g/kWh) or slot 1 (500 g/kWh)
    return scenario([site("a", [100.0, 500.0])], [job("j", "a", 1.0, 0, 2)])


def test_an_objective_term_moves_the_job_and_is_reported_apart():
    sc = _one_job()
    plain = greenopt.plan(sc, method="milp", mip_gap=1e-9)
    assert plain.assignments["slot"].tolist() == [0]
    model = greenopt.build_model(sc, mip_gap=1e-9)
    m = model.pyomo
    # a reward of 1 (objective units) for running in slot 1 outweighs its 0.4 kg of carbon
    m.objective.expr = m.objective.expr - 1.0 * m.x["j", "a", 1]
    p = model.solve()
    assert p.assignments["slot"].tolist() == [1]
    assert greenopt.validate(sc, p) == []
    # plan.objective is MODEL.md's; the model's own is 1 less; gap and bound are on its basis
    assert p.kpis["objective"] == pytest.approx(plain.kpis["objective"] + 0.4, abs=1e-3)
    assert p.solver_objective == pytest.approx(p.kpis["objective"] - 1.0, abs=1e-6)
    assert p.bound is not None and p.bound <= p.solver_objective + 1e-9
    assert p.status == "optimal" and p.gap == pytest.approx(0.0, abs=1e-6)


def test_the_bound_shift_of_added_terms():
    model = greenopt.build_model(_one_job())
    m = model.pyomo
    assert model.standard_form().least_objective_shift() == 0.0
    m.objective.expr = m.objective.expr - 2.0 * m.x["j", "a", 1] + 3.0 * m.x["j", "a", 0]
    assert model.standard_form().least_objective_shift() == pytest.approx(-2.0)
    m.free = pyo.Var()  # unbounded: a term in it can be anything
    m.objective.expr = m.objective.expr - m.free
    assert model.standard_form().least_objective_shift() == -np.inf


# -- errors ----------------------------------------------------------------------------------------
def test_a_constraint_that_cannot_hold_is_greenopts_infeasible_error(small):
    model = greenopt.build_model(small, time_limit=60)
    m = model.pyomo
    work_h = next(j.work_h for j in small.jobs if j.name == JOB)
    dt = small.horizon.slot_minutes / 60
    m.too_much = pyo.Constraint(
        expr=sum(dt * m.x[j, s, t] for j, s, t in m.x if j == JOB) >= work_h + 1
    )
    with pytest.raises(InfeasibleError, match="infeasible"):
        model.solve()
    # and one Pyomo can already tell
    del m.too_much
    m.impossible = pyo.Constraint(expr=sum(0 * v for v in m.unmet.values()) >= 1)
    with pytest.raises(InfeasibleError, match="impossible"):
        model.solve()


def test_when_nothing_obeying_the_changes_is_found_it_says_so(small, monkeypatch):
    import greenopt.milp.search as search
    from greenopt.solvers.highs import SolveResult

    monkeypatch.setattr(
        search,
        "branch_and_bound",
        lambda *a, **k: SolveResult("no_solution", None, None, None, "highs", "x", 0.1),
    )
    # the start plan breaks the constraint: no plan may be returned
    with pytest.raises(SolverError, match="no plan that obeys the model's changes"):
        greenopt.plan(small, method="milp", time_limit=10, extend=both)
    # the start plan obeys it: it is the fallback (branch-and-bound alone, lns_first=0: the
    # search that finds nothing here is branch-and-bound's)
    p = greenopt.plan(
        small,
        method="milp",
        time_limit=10,
        lns_first=0,
        extend=lambda mo: migration_budget(mo.pyomo, 10),
    )
    assert p.status == "fallback" and greenopt.validate(small, p) == []


def test_models_greenopt_cannot_solve_are_named(small):
    model = greenopt.build_model(small)
    m = model.pyomo
    m.objective.sense = pyo.maximize
    with pytest.raises(PlanError, match="maximised"):
        model.solve()
    m.objective.sense = pyo.minimize
    m.second = pyo.Objective(expr=sum(m.unmet.values()))
    with pytest.raises(PlanError, match="exactly one active objective"):
        model.solve()
    del m.second
    m.square = pyo.Constraint(expr=m.unmet[JOB] * m.unmet[JOB] <= 1)
    with pytest.raises(PlanError, match="nonlinear"):
        model.solve()


def test_options_that_shape_the_model_belong_to_build_model(small):
    model = greenopt.build_model(small)
    with pytest.raises(OptionsError, match="shapes the model"):
        model.solve(objective="cost")
    with pytest.raises(OptionsError, match="extend"):
        greenopt.build_model(small, extend=both)
    with pytest.raises(OptionsError, match="extend"):
        greenopt.plan(small, method="greedy", extend=both)
    with pytest.raises(OptionsError, match="handoff"):
        greenopt.plan(small, method="milp", handoff="direct", extend=both)


def test_a_scenario_file_cannot_set_extend():
    from greenopt.options import check_file_section

    with pytest.raises(OptionsError, match="cannot come from a scenario file"):
        check_file_section({"params": {"extend": "print"}}, "s.yaml")


# -- LP files --------------------------------------------------------------------------------------
def test_the_lp_file_reads_like_the_model(small, tmp_path):
    model = greenopt.build_model(small)
    both(model)
    path = model.write(tmp_path / "model.lp")
    text = path.read_text()
    for name in ("work(", "capacity(", "flow(", "at_state(", "never_at", "migration_budget"):
        assert name in text
    assert "j04_train" in text and "x(j04_train_oslo_5)" in text
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    form = model.standard_form().form
    assert h.getNumRow() == form.A.shape[0]


def test_odd_names_still_give_a_valid_lp_file(tmp_path):
    names = ["site a", "site_a", "b [x],'q'"]
    carbon = ([100, 500, 100], [300] * 3, [50, 50, 500])
    sites = [site(n, c) for n, c in zip(names, carbon, strict=True)]
    jobs = [job("job 1", names[0], 2, 0, 3), job("job[1]", names[1], 1, 0, 3)]
    jobs.append(job("job_1", names[2], 2, 0, 3))
    wan = [
        {"a": names[0], "b": names[1], "gbps": 10, "latency_ms": 5},
        {"a": names[1], "b": names[2], "gbps": 10, "latency_ms": 5},
    ]
    sc = scenario(sites, jobs, wan, name="odd names")
    model = greenopt.build_model(sc, mip_gap=1e-9)
    path = model.write(tmp_path / "odd.lp")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    form = model.standard_form().form
    assert (h.getNumRow(), h.getNumCol()) == form.A.shape
    h.run()
    p = model.solve()
    # the file is the model: HiGHS solves it to the model's optimum
    assert h.getInfo().objective_function_value == pytest.approx(p.solver_objective, abs=1e-6)


def test_the_formulation_page_extend_example_runs_and_is_obeyed():
    import re
    from pathlib import Path

    page = Path(greenopt.__file__).parent / "formulations" / "MODEL.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
    example = next(b for b in blocks if "model.solve" in b)
    namespace: dict = {}
    exec(compile(example, str(page), "exec"), namespace)
    plan, scenario = namespace["plan"], namespace["scenario"]
    assert greenopt.validate(scenario, plan) == []
    assert plan.kpis["migrations"] <= 3
    assert not (plan.assignments.query("job == 'j04-train'")["site"] == "oslo").any()
    kw = {j.name: j.power_kw for j in scenario.jobs}
    a = plan.assignments[plan.assignments["site"] == "frankfurt"]
    drawn = (a["share"] * a["job"].map(kw)).groupby(a["slot"]).sum()
    assert (drawn <= 20 + 1e-6).all()
    assert plan.solver_objective == pytest.approx(
        plan.kpis["objective"] + 0.5 * plan.kpis["migrations"], abs=1e-3
    )
