"""The MILP's ``start`` parameter: a plan to start from (greenopt/milp/start.py).

* a valid plan given as the start is carried whole (its rows kept exactly, before any pass) and
  the MILP's plan is never worse than it;
* rows that break a rule here are dropped and their jobs placed by the greedy: whatever rows are
  given, the start plan is valid (hypothesis, random scenarios and random rows);
* a start naming an unknown job or site, a slot outside the horizon, or of the wrong type is an
  ``OptionsError`` naming ``start``; a scenario file or the command line cannot give one;
* ``operate(method="milp")`` starts each decision's MILP from the rest of the previous
  decision's plan (not with ``warm_start=False``);
* the LP-guided start: the better of the greedy's plan and the greedy steered by the
  relaxation's optimum, inside the model (its sites kept), off with ``guided_start=False``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenopt
from greenopt import OptionsError
from greenopt.heuristics.greedy import GreedySettings
from greenopt.milp.clock import milp_clock
from greenopt.milp.prepare import prepare
from greenopt.milp.start import carried_state, start_plan, start_rows
from greenopt.operate import simulate
from greenopt.options import PlanOptions, check_file_section
from tests.test_properties import MILP_KW, scenarios

ROWS = ["job", "slot", "site", "share"]


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows[ROWS].copy()
    out["slot"] = out["slot"].astype(np.int64)
    return out.sort_values(["job", "slot"]).reset_index(drop=True)


def test_a_valid_plan_is_carried_whole_and_the_milp_is_no_worse_than_it():
    sc = greenopt.examples.load("small")
    given_plan = greenopt.plan(sc, "greedy", passes=0, eject=0)  # a valid, improvable plan
    rows = start_rows(sc, given_plan)
    st_, kept, dropped = carried_state(sc, "carbon", rows, GreedySettings(passes=0))
    assert (kept, dropped) == (rows["job"].nunique(), 0)
    pd.testing.assert_frame_equal(_sorted(st_.assignments()), _sorted(rows), check_dtype=False)
    start = start_plan(sc, PlanOptions(params={"start": given_plan}))
    assert start.no_worse_than(given_plan)
    assert any("carried" in n for n in start.notes)
    milp = greenopt.plan(sc, "milp", start=given_plan, **MILP_KW)
    assert greenopt.validate(sc, milp) == []
    assert milp.no_worse_than(given_plan)


def test_rows_that_break_a_rule_are_dropped_and_their_job_placed_again():
    sc = greenopt.examples.load("small")
    good = greenopt.plan(sc, "greedy").assignments[ROWS]
    victim = str(good["job"].iloc[0])
    # the victim's rows doubled in share beyond its work: an overrun, so they cannot be carried
    bad = good.copy()
    first = bad.index[bad["job"] == victim][0]
    bad = pd.concat([bad, bad.loc[[first]].assign(slot=sc.horizon.slots - 1)], ignore_index=True)
    rows = start_rows(sc, bad)
    st_, _, dropped = carried_state(sc, "carbon", rows, GreedySettings(passes=0))
    assert dropped >= 1
    plan = greenopt.evaluate(sc, st_.assignments())
    assert greenopt.validate(sc, plan) == []
    assert plan.jobs.set_index("job").loc[victim, "unmet_h"] == pytest.approx(0.0, abs=1e-6)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_whatever_rows_are_given_the_start_plan_is_valid(data):
    sc = data.draw(scenarios(), label="scenario")
    idx = sc.index
    n = data.draw(st.integers(0, 3 * len(idx.job_names)), label="rows")
    pick = st.tuples(
        st.sampled_from(idx.job_names),
        st.integers(0, idx.T - 1),
        st.sampled_from(idx.site_names),
        st.floats(0.05, 1.0),
    )
    rows = pd.DataFrame(data.draw(st.lists(pick, min_size=n, max_size=n)), columns=ROWS)
    if data.draw(st.booleans(), label="add the greedy's own plan"):
        own = greenopt.plan(sc, "greedy").assignments[ROWS]
        rows = pd.concat([own, rows], ignore_index=True)
    start = start_plan(sc, PlanOptions(params={"start": rows}))
    assert greenopt.validate(sc, start) == []
    greedy_only = start_plan(sc, PlanOptions())
    assert start.no_worse_than(greedy_only)  # the better of the carried and the greedy's


@pytest.mark.parametrize(
    "start, message",
    [
        (pd.DataFrame({"job": ["nobody"], "slot": [0], "site": ["x"], "share": [1.0]}), "unknown"),
        ("plan.csv", "must be a greenopt Plan or a job, slot, site, share table"),
        (pd.DataFrame({"job": [], "slot": []}), "lacks column"),
    ],
)
def test_a_bad_start_is_an_options_error_naming_it(start, message):
    sc = greenopt.examples.load("small")
    with pytest.raises(OptionsError, match=message) as err:
        greenopt.plan(sc, "milp", start=start, **MILP_KW)
    assert err.value.culprit == "start"


def test_a_start_slot_outside_the_horizon_is_named():
    sc = greenopt.examples.load("small")
    name, site = sc.index.job_names[0], sc.index.site_names[0]
    rows = pd.DataFrame({"job": [name], "slot": [sc.horizon.slots], "site": [site], "share": [1]})
    with pytest.raises(OptionsError, match=f"job '{name}': slot {sc.horizon.slots} is not a slot"):
        greenopt.plan(sc, "milp", start=rows, **MILP_KW)


def test_a_start_is_for_python_callers_only():
    with pytest.raises(OptionsError, match="start"):
        check_file_section({"params": {"start": "plan.csv"}}, "day.yaml")
    spec = greenopt.options.METHOD_PARAMS["milp"]["start"]
    with pytest.raises(OptionsError, match="command line"):
        spec.parse("plan.csv")


def test_operate_starts_each_milp_decision_from_the_rest_of_the_last_plan(monkeypatch):
    sc = greenopt.examples.load("small")
    calls: list[dict] = []
    real = simulate.plan_scenario

    def spy(residual, method, **kw):
        p = real(residual, method, **kw)
        calls.append({"residual": residual, "start": kw.get("start"), "plan": p})
        return p

    monkeypatch.setattr(simulate, "plan_scenario", spy)
    op = greenopt.operate(sc, "milp", **MILP_KW)
    assert greenopt.validate(sc, op.plan) == []
    assert calls[0]["start"] is None  # nothing to carry at the first decision
    carried = [c for c in calls[1:] if c["start"] is not None]
    assert carried, "no decision was started from the previous one's plan"
    # each start is the previous plan's rows from the decision on, as the residual's slots
    for before, now in itertools.pairwise(calls):
        if now["start"] is None:
            continue  # the decision before was idle: nothing to carry
        res = now["residual"]
        prev = before["plan"].assignments[ROWS].copy()
        prev["slot"] += res.horizon.slots - before["residual"].horizon.slots  # now's slots
        first = dict(zip(res.index.job_names, res.index.first_slot, strict=True))
        prev = prev[prev["job"].isin(first)]
        prev = prev[prev["slot"] >= prev["job"].map(first)]
        pd.testing.assert_frame_equal(_sorted(now["start"]), _sorted(prev), check_dtype=False)
    calls.clear()
    greenopt.operate(sc, "milp", warm_start=False, **MILP_KW)
    assert all(c["start"] is None for c in calls)


def _contested():
    # one clean site with room for one job: the greedy's start gives it to the job placed first
    # (the low-power one) and no single-job move undoes that; the relaxation's capacity dual
    # prices the clean GPUs above what that job saves there (tests/test_guided.py's instance)
    from heuristics_helpers import flat, job, two_sites

    return two_sites(
        flat(10.0, 3),
        flat(500.0, 3),
        gpus=(4, 8),
        jobs=[
            job("first", release=0, deadline=3, work=3.0, gpus=4, power_kw=0.5),
            job("second", release=0, deadline=3, work=3.0, gpus=4, power_kw=5.0),
        ],
    )


def _prepared(sc, **params):
    options = PlanOptions(threads=1, params=params)
    return prepare(sc, options, milp_clock(options)), start_plan(sc, options)


def test_the_guided_start_is_the_better_plan_and_inside_the_model():
    sc = _contested()
    prep, plain = _prepared(sc, guided_start=True)
    assert greenopt.validate(sc, prep.start) == []
    assert prep.start.objective < 0.2 * plain.objective  # 0.90 against 7.52
    rows = prep.start.assignments
    assert set(rows.loc[rows["job"] == "second", "site"]) == {"a"}
    assert prep.v0 is not None  # the model holds the guided plan: it is the MIP start
    assert any("start plan: LP-guided greedy" in n for n in prep.notes)
    milp = greenopt.plan(sc, "milp", guided_start=True, **MILP_KW)
    assert greenopt.validate(sc, milp) == [] and milp.no_worse_than(prep.start)
    # by default a day this small keeps the greedy's start (branch-and-bound solves it whole)
    default, _ = _prepared(sc)
    pd.testing.assert_frame_equal(default.start.assignments, plain.assignments)


def test_guided_start_false_keeps_the_greedys_start():
    sc = _contested()
    prep, plain = _prepared(sc, guided_start=False)
    pd.testing.assert_frame_equal(prep.start.assignments, plain.assignments)
    assert not any("LP-guided" in n for n in prep.notes)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_start_is_never_worse_than_the_greedys_and_always_valid(data):
    sc = data.draw(scenarios(size=240), label="scenario")
    prep, plain = _prepared(sc, guided_start=True)
    assert greenopt.validate(sc, prep.start) == []
    assert prep.start.no_worse_than(plain)


def test_a_huge_model_gets_its_guided_start_from_a_first_restricted_master(monkeypatch):
    """Above HUGE_COLS the relaxation runs beside the search; a first restricted master (one
    round of column generation) is solved before it, for the guided start, and the column
    generation beside the search goes on from its columns."""
    from greenopt.milp import prepare as prepare_module
    from greenopt.milp import relaxation

    monkeypatch.setattr(prepare_module, "HUGE_COLS", 0)  # this day is "huge"
    monkeypatch.setattr(relaxation, "COLGEN_MIN_COLS", 0)  # its LP by column generation
    sc = _contested()
    prep, plain = _prepared(sc, guided_start=True)
    assert any("first restricted master" in n for n in prep.notes), prep.notes
    assert prep.step.beside_now and prep.step.guide_paid
    assert prep.step.relax.columns is not None  # where the bound beside the search goes on
    assert greenopt.validate(sc, prep.start) == []
    assert prep.start.objective < 0.2 * plain.objective  # the capacity dual's swap, as above
    assert prep.v0 is not None
    milp = greenopt.plan(sc, "milp", guided_start=True, **MILP_KW)
    assert greenopt.validate(sc, milp) == [] and milp.no_worse_than(prep.start)
    # the schedule relaxation priced at the first master's duals before the search: its
    # Lagrangian schedules widen the guidance, and its bound is not priced again beside
    assert any("Lagrangian schedules widen the guidance" in n for n in prep.notes), prep.notes
    priced = prep.step.relax.priced
    assert priced is not None and prep.step.relax.bound >= priced
    said = [n for n in milp.notes if "priced at the first restricted master's duals" in n]
    assert said and "(before the search)" in said[0], milp.notes
    assert milp.bound is not None and milp.bound >= priced - 1e-9
    # above the greedy's 1,000 jobs the start still gets one guided run, polished by passes
    from greenopt.heuristics.guided import GUIDE_MAX_JOBS
    from greenopt.milp.start import GUIDED_SETTINGS, START_PASSES, start_variants

    assert len(start_variants(GUIDE_MAX_JOBS + 1)) == 1
    assert GUIDED_SETTINGS.passes == START_PASSES
    # guided_start=False: no master before the search
    prep_off, _ = _prepared(sc, guided_start=False)
    assert not any("first restricted master" in n for n in prep_off.notes)
    monkeypatch.undo()
    exact = greenopt.plan(sc, "milp", **MILP_KW)  # not huge any more: solved whole
    assert exact.status == "optimal"
    assert milp.bound is not None and milp.bound <= exact.objective + 1e-6


def test_a_huge_days_search_draws_neighbourhoods_from_its_lagrangian_view(monkeypatch):
    """Above HUGE_COLS the first master's pricing pass (its Lagrangian view) reaches
    fix-and-optimise, which then draws ``lagrangian`` neighbourhoods from it; the plans are
    valid, never worse than the start, and (deterministic mode) the same run after run."""
    import greenopt.solvers.lns as lns
    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.milp import prepare as prepare_module
    from greenopt.milp import relaxation
    from greenopt.milp import search as search_module

    monkeypatch.setattr(prepare_module, "HUGE_COLS", 0)  # this day is "huge"
    monkeypatch.setattr(relaxation, "COLGEN_MIN_COLS", 0)
    views, drawn = [], []
    real_for, real_draw = search_module.neighbourhoods_for, lns.Neighbourhoods.lagrangian

    def spy_for(ix, mx=None, at=None, lagrange=None):
        views.append(lagrange)
        return real_for(ix, mx, at, lagrange)

    def spy_draw(self, rng, k, T, v):
        free = real_draw(self, rng, k, T, v)
        drawn.append(free)
        return free

    monkeypatch.setattr(search_module, "neighbourhoods_for", spy_for)
    monkeypatch.setattr(lns.Neighbourhoods, "lagrangian", spy_draw)
    sc = synthetic_scenario(24, 3, 16, 0, headroom=0.9)
    kw = {"deterministic": True, "bb_max": 0, "guided_start": True, "lns_neighbourhoods": 8}
    first = greenopt.plan(sc, "milp", **kw)
    assert views and views[-1] is not None and views[-1].schedules
    assert drawn and all(len(free) >= 1 for free in drawn)
    assert greenopt.validate(sc, first) == []
    assert first.no_worse_than(start_plan(sc, PlanOptions.from_call("milp", **kw)))
    again = greenopt.plan(sc, "milp", **kw)
    pd.testing.assert_frame_equal(_sorted(first.assignments), _sorted(again.assignments))
