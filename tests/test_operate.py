"""greenopt.operate (MODEL.md §11): slot-by-slot operation under uncertainty.

* every method's operated plan passes ``validate`` (with the dwell rule), is scored on the
  actuals and has status ``"operated"``;
* the residual problem: committed capacity reserved, a job's state where it last ran, pause-free
  blocks committed whole, non-migratable jobs pinned, windows and work as left;
* a single decision at slot 0 with every actual and job known *is* the method's own plan (regret
  0), and a day-ahead decision on forecasts is that plan executed on the actuals;
* the decisions table, the fall-back, the options' errors;
* non-anticipation (acceptance 1) is in tests/test_operate_anticipation.py.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import OptionsError, ScenarioError
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.forecasts import known_signals, make_forecasts
from greenopt.operate import DECISION_COLUMNS, Ledger, operate, residual_problem
from greenopt.operate.simulate import AUTO_DELAY_SCALE, planning_objective
from greenopt.scenario import Horizon, Job, Scenario, Site

METHODS = tuple(greenopt.METHODS)
MILP_KW = {"mip_gap": 0.01, "threads": 1, "highs_options": {"mip_max_nodes": 200}}
START = pd.Timestamp("2023-06-21T00:00:00Z")


def kw(method: str) -> dict:
    return dict(MILP_KW) if method == "milp" else {}


def two_sites(T: int = 6, gpus: int = 4, jobs: list[Job] | None = None, **changes) -> Scenario:
    """Site ``dirty`` (500 g/kWh) and ``clean`` (50 g/kWh), linked at 10 Gbit/s, hourly slots."""
    sites = [
        Site(name="dirty", gpus=gpus, renewable_kw=np.zeros(T), carbon=np.full(T, 500.0)),
        Site(name="clean", gpus=gpus, renewable_kw=np.zeros(T), carbon=np.full(T, 50.0)),
    ]
    return Scenario(
        name="two",
        horizon=Horizon(start=START, slot_minutes=60, slots=T),
        sites=sites,
        jobs=jobs or [],
        wan=[{"a": "dirty", "b": "clean", "gbps": 10}],
        **changes,
    )


def job(name: str, release: int = 0, deadline: int = 6, work: float = 2.0, **kw) -> Job:
    data = dict(
        name=name,
        origin="dirty",
        release=START + timedelta(hours=release),
        deadline=START + timedelta(hours=deadline),
        work_h=work,
        gpus=1,
        power_kw=1.0,
        state_gb=1.0,
    )
    data.update(kw)
    return Job(**data)


# -- every method, valid and scored on the actuals -------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_every_method_operates_a_valid_plan_scored_on_the_actuals(method):
    sc = greenopt.examples.load("small")
    op = operate(sc, method, **kw(method))
    assert op.plan.status == "operated"
    assert op.plan.method == method
    assert greenopt.validate(sc, op.plan) == []
    # scored on the actuals: the shared evaluator of the scenario itself
    again = greenopt.evaluate(sc, op.committed[["job", "slot", "site", "share"]])
    assert op.plan.kpis["carbon_kg"] == pytest.approx(again.kpis["carbon_kg"])
    # a committed row is never decided after its slot
    assert (op.committed["decided"] <= op.committed["slot"]).all()
    assert list(op.decisions.columns) == DECISION_COLUMNS
    assert op.decisions["slot"].tolist() == list(range(sc.horizon.slots))


@pytest.mark.parametrize("method", ["greedy", "milp", "run-now", "follow-renewables", "online"])
@pytest.mark.parametrize("seed", [1, 2])
def test_hard_instances_stay_valid(method, seed):
    """Tight capacity, pause-free and non-migratable jobs, residency, slow links."""
    sc = synthetic_scenario(
        8, 3, 10, seed, headroom=0.8, non_preemptible=0.5, non_migratable=0.3, residency=0.3
    )
    sc = sc.with_jobs(sc.jobs, wan_share=0.05)
    for forecast in ("persistence", "error-model"):
        op = operate(sc, method, forecast=forecast, seed=seed, **kw(method))
        assert greenopt.validate(sc, op.plan) == [], (method, forecast)


def test_grid_limits_hold_when_the_forecasts_are_right():
    """A grid limit depends on renewable output: kept on the signals known at commit time, it
    holds on the actuals when those are what was known (docs/operate.md, Limits)."""
    sc = synthetic_scenario(8, 3, 10, 4, grid_limit=True, renewable_scale=1.0)
    for method in ("greedy", "run-now"):
        op = operate(sc, method, forecast="oracle")
        assert greenopt.validate(sc, op.plan) == []


def test_an_idle_day_commits_nothing():
    sc = two_sites()
    op = operate(sc)
    assert op.plan.assignments.empty
    assert set(op.decisions["status"]) == {"idle"}
    assert op.plan.kpis["jobs"] == 0
    assert greenopt.validate(sc, op.plan) == []


# -- one decision with everything known is the method's own plan --------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_one_decision_with_perfect_information_is_the_methods_plan(method):
    sc = greenopt.examples.load("small")
    op = operate(
        sc,
        method,
        forecast="oracle",
        arrivals="known",
        replan_every=sc.horizon.slots,
        **kw(method),
    )
    own = greenopt.plan(sc, method, **kw(method))
    cols = ["job", "slot", "site", "share"]
    a = op.plan.assignments[cols].sort_values(["job", "slot"]).reset_index(drop=True)
    b = own.assignments[cols].sort_values(["job", "slot"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)
    assert op.regret == pytest.approx(0.0, abs=1e-9)
    assert len(op.decisions) == 1


def test_day_ahead_on_forecasts_is_that_plan_executed_on_the_actuals():
    sc = greenopt.examples.load("small")
    op = operate(sc, forecast="persistence", arrivals="known", replan_every=sc.horizon.slots)
    fc = make_forecasts(sc, "persistence", issue_slots=[0])
    seen = greenopt.forecasts.scenario_with_signals(sc, known_signals(sc, fc, 0))
    day_ahead = greenopt.plan(seen, "greedy")
    cols = ["job", "slot", "site", "share"]
    pd.testing.assert_frame_equal(
        op.plan.assignments[cols].reset_index(drop=True),
        day_ahead.assignments[cols].reset_index(drop=True),
    )
    # the same rows, scored on the actuals instead of the forecasts
    executed = greenopt.evaluate(sc, day_ahead.assignments[cols])
    assert op.plan.kpis["carbon_kg"] == pytest.approx(executed.kpis["carbon_kg"])
    assert greenopt.validate(sc, op.plan) == []


def test_regret_is_against_the_foresight_plan_and_kept():
    sc = greenopt.examples.load("small")
    op = operate(sc, "greedy")
    foresight = greenopt.plan(sc, "greedy")
    assert op.regret == pytest.approx(op.plan.objective - foresight.objective)
    assert op.foresight is op.foresight  # planned once
    other = greenopt.plan(sc, "run-now")
    op.foresight = other
    assert op.regret == pytest.approx(op.plan.objective - other.objective)


# -- the residual problem ------------------------------------------------------------------------
def test_a_pause_free_block_is_committed_whole_when_it_starts():
    # a 3-hour pause-free job: planned at slot 0 (moving to the clean site, so its first slot
    # loses the transfer), its block starts there and is committed whole at once
    sc = two_sites(jobs=[job("block", work=3.0, preemptible=False)])
    op = operate(sc, forecast="oracle")
    rows = op.committed
    assert rows["slot"].tolist() == list(range(len(rows)))
    assert len(rows) >= 3 and set(rows["decided"]) == {0}
    assert rows["share"].sum() == pytest.approx(3.0)
    first = op.decisions.iloc[0]
    assert first["ahead_work_h"] == pytest.approx(3.0 - rows["share"].iloc[0])
    # later decisions see nothing left to plan
    assert op.decisions["jobs_open"].iloc[1:].eq(0).all()
    assert greenopt.validate(sc, op.plan) == []


def test_committed_rows_reserve_their_capacity_in_later_residual_problems():
    # two GPUs at the clean site; a 2-GPU pause-free block takes them for 3 slots from slot 0
    block = job("block", work=3.0, preemptible=False, gpus=2)
    sc = two_sites(gpus=2, jobs=[block])
    ledger = Ledger(sc)
    clean = sc.index.site_pos["clean"]
    ledger.commit(0, [0, 1, 2], [clean] * 3, [1.0, 1.0, 1.0], decided=0)
    fc = make_forecasts(sc, "oracle")
    res = residual_problem(sc, ledger, known_signals(sc, fc, 1), 1, np.ones(1, dtype=bool))
    site = res.scenario.site("clean")
    assert site.reserved_gpus.tolist() == [2.0, 2.0, 0.0, 0.0, 0.0]
    assert site.reserved_kw.tolist() == pytest.approx([1.0, 1.0, 0, 0, 0])  # pue 1 × 1 kW
    assert res.scenario.site("dirty").reserved_gpus is None
    assert res.scenario.horizon.slots == 5
    assert len(res.jobs) == 0  # the started block has nothing left to decide


def test_a_residual_job_starts_where_its_state_is_with_the_work_left():
    sc = two_sites(T=6, jobs=[job("j", work=4.0, deadline=5, allowed_regions="dirty|clean")])
    ledger = Ledger(sc)
    clean = sc.index.site_pos["clean"]
    ledger.commit(0, [0, 1], [clean, clean], [0.5, 1.0], decided=0)
    fc = make_forecasts(sc, "persistence")
    res = residual_problem(sc, ledger, known_signals(sc, fc, 2), 2, np.ones(1, dtype=bool))
    (j,) = res.scenario.jobs
    assert j.origin == "clean"
    assert j.work_h == pytest.approx(2.5)
    assert j.release == (START + timedelta(hours=2)).to_pydatetime()
    assert j.deadline == (START + timedelta(hours=5)).to_pydatetime()
    # residency by site: every site has a region of its own, the job allows both
    assert [s.region for s in res.scenario.sites] == ["dirty", "clean"]
    assert set(j.allowed_regions) == {"dirty", "clean"}
    # its signals are what is known at slot 2 (persistence: the last actual, slot 1)
    assert res.scenario.site("clean").carbon.tolist() == [50.0] * 4


def test_work_beyond_the_window_left_is_capped_and_the_rest_is_a_miss():
    sc = two_sites(T=6, jobs=[job("j", work=4.0, deadline=5)])
    ledger = Ledger(sc)  # nothing ran: 4 h of work, 2 slots left at k = 3
    fc = make_forecasts(sc, "oracle")
    res = residual_problem(sc, ledger, known_signals(sc, fc, 3), 3, np.ones(1, dtype=bool))
    assert res.scenario.jobs[0].work_h == pytest.approx(2.0)
    assert res.capped.tolist() == [True]


def test_a_non_migratable_job_that_ran_is_pinned_to_its_site():
    sc = two_sites(jobs=[job("pinned", work=3.0, migratable=False)])
    ledger = Ledger(sc)
    ledger.commit(0, [0], [sc.index.site_pos["clean"]], [1.0], decided=0)
    fc = make_forecasts(sc, "oracle")
    res = residual_problem(sc, ledger, known_signals(sc, fc, 1), 1, np.ones(1, dtype=bool))
    (j,) = res.scenario.jobs
    assert j.origin == "clean" and j.allowed_regions == ("clean",)
    assert res.scenario.index.allowed[0].tolist() == [False, True]


def test_jobs_are_known_from_their_release_with_online_arrivals():
    jobs = [job("a", release=0), job("b", release=2), job("c", release=4)]
    sc = two_sites(jobs=jobs)
    online = operate(sc, forecast="oracle")
    assert online.decisions["jobs_known"].tolist() == [1, 1, 2, 2, 3, 3]
    known = operate(sc, forecast="oracle", arrivals="known")
    assert known.decisions["jobs_known"].tolist() == [3] * 6
    for op in (online, known):
        assert greenopt.validate(sc, op.plan) == []


def test_replanning_every_few_slots_commits_until_the_next_decision():
    sc = greenopt.examples.load("small")
    op = operate(sc, replan_every=5)
    d = op.decisions
    assert d["slot"].tolist() == [0, 5, 10, 15, 20]
    assert d["until"].tolist() == [5, 10, 15, 20, 24]
    # every row is decided at the last decision at or before its slot, or earlier (ahead)
    last = (op.committed["slot"] // 5) * 5
    assert (op.committed["decided"] <= last).all()
    assert greenopt.validate(sc, op.plan) == []


def test_a_method_that_breaks_a_rule_falls_back_to_its_previous_plan(monkeypatch):
    """A residual plan that breaks a rule is never committed: the rest of the previous plan is
    (valid: nothing it relied on changed but the forecasts), or nothing."""
    from greenopt.operate import simulate as sim

    real = sim.plan_scenario
    calls = {"n": 0}

    def sometimes_broken(scenario, method, **options):
        p = real(scenario, method, **options)
        calls["n"] += 1
        if calls["n"] == 3 and len(p.assignments):  # the third decision overruns a job
            a = p.assignments.copy()
            a["share"] = 1.0
            a = pd.concat([a, a.assign(slot=a["slot"] + 1)]).drop_duplicates(["job", "slot"])
            a = a[a["slot"] < scenario.horizon.slots]
            p = greenopt.evaluate(scenario, a[["job", "slot", "site", "share"]])
        return p

    monkeypatch.setattr(sim, "plan_scenario", sometimes_broken)
    sc = greenopt.examples.load("small")
    op = operate(sc)
    broken = op.decisions[op.decisions["violations"] > 0]
    assert len(broken) == 1
    assert broken["status"].iloc[0] in ("fallback", "no-plan")
    assert "broke a rule" in broken["note"].iloc[0]
    assert greenopt.validate(sc, op.plan) == []
    assert any("fell back" in n for n in op.plan.notes)


# -- the planning objective ----------------------------------------------------------------------
def test_the_delay_cost_prices_a_known_jobs_hour_across_the_sites_spread():
    sc = two_sites(jobs=[job("a", power_kw=2.0), job("b", power_kw=4.0)])
    obj = greenopt.Objective("carbon")
    auto = planning_objective(sc, obj, "auto")
    # mean facility power 3 kW × spread (500 − 50) g/kWh = 1.35 kg per hour of lateness
    assert auto.delay_penalty == pytest.approx(3.0 * 0.45)
    assert planning_objective(sc, obj, "auto", "greedy").delay_penalty == auto.delay_penalty
    # the MILP's auto price is scaled down (AUTO_DELAY_SCALE: measured on real-trace days)
    milp = planning_objective(sc, obj, "auto", "milp")
    assert milp.delay_penalty == pytest.approx(3.0 * 0.45 * AUTO_DELAY_SCALE["milp"])
    assert milp.delay_penalty < auto.delay_penalty
    assert planning_objective(sc, obj, 0.5, "milp").delay_penalty == 0.5  # a number: as given
    assert planning_objective(sc, obj, None) is obj
    assert planning_objective(sc, obj, 0.5).delay_penalty == 0.5
    assert planning_objective(sc, obj, 0.0).delay_penalty == obj.delay_penalty  # never lower
    # the operated plan is scored with the caller's objective, unchanged
    op = operate(sc)
    assert op.plan.objective_spec == obj
    assert op.decisions["delay_cost"].dropna().gt(1.0).all()
    assert operate(sc, arrivals="known").decisions["delay_cost"].dropna().eq(1e-4).all()


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"arrivals": "later"}, "arrivals"),
        ({"replan_every": 0}, "replan_every"),
        ({"replan_every": True}, "replan_every"),
        ({"replan_every": 1.5}, "replan_every"),
        ({"delay_cost": -1.0}, "delay_cost"),
        ({"delay_cost": "much"}, "delay_cost"),
        ({"method": "magic"}, "method"),
        ({"time_limit": -3}, "time_limit"),
        ({"pases": 2}, "pases"),
    ],
)
def test_bad_options_are_options_errors_naming_them(kwargs, culprit):
    sc = greenopt.examples.load("small")
    with pytest.raises(OptionsError) as err:
        operate(sc, **kwargs)
    assert err.value.culprit == culprit


def test_an_unknown_forecaster_and_a_non_scenario_are_refused():
    sc = greenopt.examples.load("small")
    with pytest.raises(greenopt.errors.ForecastError, match="unknown forecaster"):
        operate(sc, forecast="crystal-ball")
    with pytest.raises(ScenarioError, match=r"needs a greenopt\.Scenario"):
        operate("small.yaml")


# -- what a decision commits ---------------------------------------------------------------------
def _commit_case(**job_fields):
    sc = two_sites(jobs=[job("j", work=3.0, **job_fields)])
    return Ledger(sc), sc.index.site_pos["clean"], sc.index.site_pos["dirty"]


def test_a_stay_after_a_migration_is_committed_until_its_dwell_is_paid():
    from greenopt.operate.commit import rows_to_commit

    ledger, clean, dirty = _commit_case()
    need = np.zeros((1, 2, 2))
    need[0, dirty, clean] = 1.2  # hours of work owed at clean after moving there
    slots = np.array([0, 1, 2, 4])
    sites = np.array([clean, clean, clean, dirty])
    shares = np.array([0.5, 0.4, 1.0, 1.0])
    # the decision holds for slot 0 only: 0.5 h there, 0.4 h more in slot 1, 1.0 in slot 2
    assert rows_to_commit(ledger, 0, slots, sites, shares, 1, need) == 3
    # a decision holding until slot 3 has paid it already: nothing beyond its slots
    assert rows_to_commit(ledger, 0, slots, sites, shares, 3, need) == 3
    # the rule off: just the decision's slots
    assert rows_to_commit(ledger, 0, slots, sites, shares, 1, None) == 1
    # no move in the decision's slots: nothing owed now
    stay = np.array([dirty, dirty, clean, clean])
    assert rows_to_commit(ledger, 0, slots, stay, shares, 1, need) == 1


def test_a_stay_that_finishes_the_job_is_committed_until_it_does():
    from greenopt.operate.commit import rows_to_commit

    ledger, clean, dirty = _commit_case()
    ledger.commit(0, [0], [dirty], [1.0], decided=0)  # 1 h done at the origin: 2 h left
    need = np.zeros((1, 2, 2))
    need[0, dirty, clean] = 5.0  # more than the job has left: the stay ends it instead
    slots, sites, shares = np.array([1, 2, 3]), np.array([clean] * 3), np.array([0.9, 1.0, 0.1])
    assert rows_to_commit(ledger, 0, slots, sites, shares, 2, need) == 3


def test_a_pause_free_block_is_committed_whole_and_only_when_it_starts():
    from greenopt.operate.commit import rows_to_commit

    ledger, _, dirty = _commit_case(preemptible=False)
    slots, sites, shares = np.array([2, 3, 4]), np.array([dirty] * 3), np.ones(3)
    assert rows_to_commit(ledger, 0, slots, sites, shares, 1, None) == 0  # starts later
    assert rows_to_commit(ledger, 0, slots, sites, shares, 3, None) == 3  # starts now: all
