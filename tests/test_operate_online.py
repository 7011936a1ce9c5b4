"""``operate(method="online")`` drives one online planner slot by slot (greenopt/operate/online.py).

* with the actuals as forecasts, online arrivals and a decision every slot it *is*
  ``plan(scenario, "online")`` (that is how plan() runs the planner);
* on forecasts, the planner's promise holds across slots: every job it promised on arrival is
  done by its deadline in the operated plan, scored on the actuals;
* jobs are submitted when they become known, rows are decided by the decision that delivered
  the information, the decisions table has a row per decision;
* non-anticipation is in tests/test_operate_anticipation.py (every method).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.forecasts import make_forecasts
from greenopt.operate import operate
from greenopt.operate.online import believed, drive_online
from greenopt.options import PlanOptions

COLS = ["job", "slot", "site", "share"]


def hard(seed: int, **kw):
    """Tight capacity, pause-free and non-migratable jobs, residency, staggered releases."""
    return synthetic_scenario(
        12, 3, 12, seed, headroom=0.8, non_preemptible=0.5, non_migratable=0.3, **kw
    )


def rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[COLS].sort_values(["job", "slot"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_the_actuals_it_is_plan_online(seed):
    sc = hard(seed)
    assert len(set(sc.index.first_slot.tolist())) > 1  # jobs arrive during the day
    op = operate(sc, "online", forecast="oracle")
    own = greenopt.plan(sc, "online")
    pd.testing.assert_frame_equal(rows(op.plan.assignments), rows(own.assignments))
    assert op.regret == pytest.approx(0.0, abs=1e-9)
    assert greenopt.validate(sc, op.plan) == []


@pytest.mark.parametrize("forecast", ["persistence", "error-model"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_job_promised_on_arrival_is_done_by_its_deadline(forecast, seed):
    sc = hard(seed)
    decisions = list(range(sc.horizon.slots))
    fc = make_forecasts(sc, forecast, seed=seed, issue_slots=decisions)
    run = drive_online(sc, fc, decisions, "online", PlanOptions.from_call("online"))
    plan = greenopt.evaluate(sc, run.committed[COLS], deadlines="soft")
    assert greenopt.validate(sc, plan) == []
    done = plan.jobs.set_index("job")["done"]
    promised = np.array(sc.index.job_names, dtype=object)[run.planner.promised]
    assert len(promised) > 0
    assert done.loc[list(promised)].all()
    assert run.planner.broken == []


def test_jobs_are_submitted_when_known_and_rows_decided_by_that_decision():
    sc = hard(1)
    op = operate(sc, "online", replan_every=3)
    assert op.decisions["slot"].tolist() == [0, 3, 6, 9]
    first = sc.index.first_slot
    assert op.decisions["jobs_known"].tolist() == [int((first <= k).sum()) for k in (0, 3, 6, 9)]
    c = op.committed
    assert ((c["decided"] <= c["slot"]) & (c["slot"] < c["decided"] + 3)).all()
    assert (c["decided"] % 3 == 0).all()
    assert set(op.decisions["status"]) <= {"online", "idle"}
    per = op.decisions.set_index("slot")["rows_committed"]
    assert per.sum() == len(c)
    known = operate(sc, "online", arrivals="known", replan_every=3)
    assert known.decisions["jobs_known"].tolist() == [len(sc.jobs)] * 4
    assert greenopt.validate(sc, known.plan) == []


def test_the_planner_is_built_on_the_signals_known_at_slot_0():
    sc = hard(0)
    fc = make_forecasts(sc, "persistence", issue_slots=[0])
    from greenopt.forecasts import known_signals

    seen = believed(sc, known_signals(sc, fc, 0))
    assert [s.name for s in seen.sites] == [s.name for s in sc.sites]
    assert [j.name for j in seen.jobs] == [j.name for j in sc.jobs]
    for i, site in enumerate(seen.sites):
        np.testing.assert_array_equal(site.carbon, fc.as_of(0)["carbon"][i])
    assert not all(
        np.array_equal(a.carbon, b.carbon) for a, b in zip(seen.sites, sc.sites, strict=True)
    )
