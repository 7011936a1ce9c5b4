"""The evaluator against a scenario small enough to compute by hand (MODEL.md §5, §6, §8).

Scenario ``hand`` — 4 hourly slots (Δh = 1), net_kwh_per_gb = 0.01, one WAN link a–b (10 Gbit/s):

    site a: region EU, 4 GPUs, pue 1.5, idle 2 kW, renewable [10, 0, 2, 0] kW,
            carbon [100, 200, 300, 400] g/kWh, price [0.1, 0.2, -0.05, 0.3]
    site b: region US, 8 GPUs, pue 1.0, idle 1 kW, renewable 0, carbon 50, price 1

    j1 training  origin a, window [0, 4 h), work 1.5 h, 2 GPUs, 4 kW, state 90 GB, restore 0.08 h
    j2 nearline  origin b, window [1 h, 4 h), work 1 h, 1 GPU, 2 kW, state 0
    j3 training  origin a, window [0, 2 h), work 1 h, 1 GPU, 1 kW, state 0

Plan: j1 runs a@0 share 1 then b@1 share 0.5 (migration a→b in slot 1); j2 runs b@3 share 1;
j3 runs a@0 share 0.5 only (a deadline miss).

Migration: transfer = 90·8/(10·3600) = 0.02 h; disruption = 0.02 + 0.08 = 0.1 h.

Energy, facility = pue·(idle·Δh + Σ power·share·Δh) + Σ state_gb·net_kwh_per_gb:
    a@0: 1.5·(2 + 4·1 + 1·0.5) = 9.75; renewable min(9.75, 10) = 9.75, grid 0, curtailed 0.25
    a@1: 1.5·2 = 3; renewable 0, grid 3, carbon 3·200/1000 = 0.6, cost 3·0.2 = 0.6
    a@2: 3; renewable 2, grid 1, carbon 0.3, cost 1·(−0.05) = −0.05
    a@3: 3; grid 3, carbon 1.2, cost 0.9
    b@0: 1; grid 1, carbon 0.05, cost 1
    b@1: 1·(1 + 4·0.5) + 90·0.01 = 3.9; grid 3.9, carbon 0.195, cost 3.9
    b@2: 1; grid 1, carbon 0.05, cost 1
    b@3: 1·(1 + 2·1) = 3; grid 3, carbon 0.15, cost 3
Totals: facility 27.65, renewable 11.75, grid 15.9, curtailed 0.25, carbon 2.545, cost 10.35,
renewable_share 11.75/27.65.

Jobs: j1 completion = 1 + 0.5·1 = 1.5 h, delay = 1.5 − (0 + 1.5) = 0; j2 completion 3 + 1 = 4,
delay 4 − (1 + 1) = 2 and deferred (first run slot 3 > window start 1); j3 not done, 0.5 h unmet.
mean delay (done jobs) = 1, p95 = percentile([0, 2], 95) = 1.9.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import PlanError, Scenario

START = "2024-01-01T00:00:00Z"


def at(hours: float) -> pd.Timestamp:
    return pd.Timestamp(START) + pd.Timedelta(hours=hours)


def hand_scenario() -> Scenario:
    return Scenario(
        name="hand",
        horizon={"start": START, "slot_minutes": 60, "slots": 4},
        net_kwh_per_gb=0.01,
        sites=[
            {
                "name": "a",
                "region": "EU",
                "gpus": 4,
                "pue": 1.5,
                "idle_kw": 2.0,
                "renewable_kw": [10, 0, 2, 0],
                "carbon": [100, 200, 300, 400],
                "price": [0.1, 0.2, -0.05, 0.3],
            },
            {
                "name": "b",
                "region": "US",
                "gpus": 8,
                "pue": 1.0,
                "idle_kw": 1.0,
                "renewable_kw": [0, 0, 0, 0],
                "carbon": [50, 50, 50, 50],
                "price": [1, 1, 1, 1],
            },
        ],
        wan=[{"a": "a", "b": "b", "gbps": 10, "latency_ms": 5}],
        jobs=[
            {
                "name": "j1",
                "kind": "training",
                "origin": "a",
                "release": at(0),
                "deadline": at(4),
                "work_h": 1.5,
                "gpus": 2,
                "power_kw": 4,
                "state_gb": 90,
                "restore_h": 0.08,
            },
            {
                "name": "j2",
                "kind": "nearline",
                "origin": "b",
                "release": at(1),
                "deadline": at(4),
                "work_h": 1,
                "gpus": 1,
                "power_kw": 2,
            },
            {
                "name": "j3",
                "kind": "training",
                "origin": "a",
                "release": at(0),
                "deadline": at(2),
                "work_h": 1,
                "gpus": 1,
                "power_kw": 1,
            },
        ],
    )


ROWS = [("j2", 3, "b", 1.0), ("j1", 1, "b", 0.5), ("j3", 0, "a", 0.5), ("j1", 0, "a", 1.0)]


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return hand_scenario()


@pytest.fixture(scope="module")
def plan(sc: Scenario) -> greenopt.Plan:
    return greenopt.evaluate(sc, ROWS, method="hand", objective="carbon")


def test_assignments_are_sorted_by_job_then_slot(plan):
    cols = ["job", "slot", "site", "share"]
    got = list(plan.assignments[cols].itertuples(index=False, name=None))
    assert got == [
        ("j1", 0, "a", 1.0),
        ("j1", 1, "b", 0.5),
        ("j2", 3, "b", 1.0),
        ("j3", 0, "a", 0.5),
    ]


def test_migration_and_disruption(plan):
    m = plan.migrations
    assert len(m) == 1
    row = m.iloc[0]
    assert (row["job"], int(row["slot"]), row["src"], row["dst"]) == ("j1", 1, "a", "b")
    assert row["gb"] == pytest.approx(90.0)
    # 90 GB · 8 / (10 Gbit/s · 3600) = 0.02 h, plus 0.08 h restore
    assert row["disruption_h"] == pytest.approx(0.1, abs=1e-12)


EXPECTED_ENERGY = {
    # (site, slot): facility, renewable, grid, curtailed, carbon_kg, cost
    ("a", 0): (9.75, 9.75, 0.0, 0.25, 0.0, 0.0),
    ("a", 1): (3.0, 0.0, 3.0, 0.0, 0.6, 0.6),
    ("a", 2): (3.0, 2.0, 1.0, 0.0, 0.3, -0.05),
    ("a", 3): (3.0, 0.0, 3.0, 0.0, 1.2, 0.9),
    ("b", 0): (1.0, 0.0, 1.0, 0.0, 0.05, 1.0),
    ("b", 1): (3.9, 0.0, 3.9, 0.0, 0.195, 3.9),
    ("b", 2): (1.0, 0.0, 1.0, 0.0, 0.05, 1.0),
    ("b", 3): (3.0, 0.0, 3.0, 0.0, 0.15, 3.0),
}


def test_energy_per_site_and_slot(plan):
    e = plan.energy.set_index(["site", "slot"])
    assert len(e) == 8
    cols = ["facility_kwh", "renewable_kwh", "grid_kwh", "curtailed_kwh", "carbon_kg", "cost"]
    for key, want in EXPECTED_ENERGY.items():
        got = tuple(float(e.loc[key, c]) for c in cols)
        assert got == pytest.approx(want, abs=1e-12), key


def test_kpi_totals(plan):
    k = plan.kpis
    assert k["facility_kwh"] == pytest.approx(27.65, abs=1e-12)
    assert k["renewable_kwh"] == pytest.approx(11.75, abs=1e-12)
    assert k["grid_kwh"] == pytest.approx(15.9, abs=1e-12)
    assert k["curtailed_kwh"] == pytest.approx(0.25, abs=1e-12)
    assert k["carbon_kg"] == pytest.approx(2.545, abs=1e-12)
    assert k["cost"] == pytest.approx(10.35, abs=1e-12)
    assert k["renewable_share"] == pytest.approx(11.75 / 27.65, abs=1e-12)
    assert (k["jobs"], k["jobs_done"], k["deadline_misses"]) == (3, 2, 1)
    assert k["unmet_work_h"] == pytest.approx(0.5)
    assert (k["migrations"], k["migrated_gb"]) == (1, 90.0)
    assert k["mean_delay_h"] == pytest.approx(1.0)
    assert k["p95_delay_h"] == pytest.approx(1.9)


def test_job_table(plan):
    j = plan.jobs.set_index("job")
    assert list(j["done"]) == [True, True, False]
    assert list(j["start_slot"]) == [0, 3, 0]
    assert list(j["end_slot"]) == [1, 3, 0]
    assert list(j["migrations"]) == [1, 0, 0]
    assert j.loc["j1", "completion_h"] == pytest.approx(1.5)
    assert j.loc["j1", "delay_h"] == pytest.approx(0.0)
    assert j.loc["j2", "completion_h"] == pytest.approx(4.0)
    assert j.loc["j2", "delay_h"] == pytest.approx(2.0)
    assert math.isnan(j.loc["j3", "delay_h"])  # not done: no delay, it is a miss
    assert j.loc["j3", "unmet_h"] == pytest.approx(0.5)
    assert list(j["deferred"]) == [False, True, False]


def test_scorecard(plan):
    """Carbon/cost are attributed by each job's share of the facility energy of its site-slot.

    j1 at b@1: 2 kWh + 0.9 kWh migration at 0.195/3.9 = 0.05 kg/kWh → 0.145 kg, cost 2.9;
    j1 at a@0 and j3 at a@0 are renewable (0 kg). j2 at b@3: 2 kWh · 0.05 = 0.1 kg, cost 2.
    """
    s = plan.scorecard.set_index("kind")
    assert s.loc["training", "carbon_kg_per_1000_jobs"] == pytest.approx(1000 * 0.145 / 2)
    assert s.loc["training", "cost_per_1000_jobs"] == pytest.approx(1000 * 2.9 / 2)
    assert s.loc["nearline", "carbon_kg_per_1000_jobs"] == pytest.approx(100.0)
    assert s.loc["nearline", "cost_per_1000_jobs"] == pytest.approx(2000.0)
    assert s.loc["all", "carbon_kg_per_1000_jobs"] == pytest.approx(1000 * 2.545 / 3)
    assert s.loc["all", "cost_per_1000_jobs"] == pytest.approx(1000 * 10.35 / 3)
    assert s.loc["training", "sla_attainment"] == pytest.approx(0.5)
    assert s.loc["nearline", "sla_attainment"] == pytest.approx(1.0)
    assert s.loc["all", "sla_attainment"] == pytest.approx(2 / 3)
    # only j2 did not start at release; it is done by its deadline
    assert s.loc["all", "deferred_jobs"] == 1
    assert s.loc["all", "deferred_on_time"] == pytest.approx(1.0)
    assert math.isnan(s.loc["training", "deferred_on_time"])


def test_objective_carbon(plan):
    """carbon 2.545 + ε_d·ΣL + ε_m·1 + U·0.5 (objectives.py).

    L_j1 = (1/1.5)·1 + (0.5/1.5)·2 = 4/3, L_j2 = 1·(4 − 1) = 3, L_j3 = 0.5·1 = 0.5;
    U = 100·(max power 4 · max pue 1.5 · (0.4 + 1) + 1e-4·4 + 1e-3·4 + 1) = 940.44.
    """
    lateness = 4 / 3 + 3 + 0.5
    want = 2.545 + 1e-4 * lateness + 1e-3 + 940.44 * 0.5
    assert plan.kpis["objective"] == pytest.approx(want, rel=1e-12)
    assert plan.objective == plan.kpis["objective"]
    hard = greenopt.evaluate(hand_scenario(), ROWS, deadlines="hard")
    assert hard.objective == pytest.approx(2.545 + 1e-4 * lateness + 1e-3, rel=1e-12)


def test_hand_plan_is_valid_under_soft_deadlines(sc, plan):
    assert greenopt.validate(sc, plan) == []
    rules = {v.rule for v in greenopt.validate(sc, plan, deadlines="hard")}
    assert rules == {"deadline"}


def test_empty_plan_is_idle_load_only(sc):
    p = greenopt.evaluate(sc, [])
    # a: 1.5·2 = 3 kWh per slot, renewable [3, 0, 2, 0]; b: 1 kWh per slot, all grid
    assert p.kpis["facility_kwh"] == pytest.approx(4 * 3 + 4 * 1)
    assert p.kpis["renewable_kwh"] == pytest.approx(5.0)
    assert p.kpis["grid_kwh"] == pytest.approx(11.0)
    assert p.kpis["migrations"] == 0 and p.kpis["jobs_done"] == 0
    assert p.migrations["gb"].dtype == float
    assert list(p.jobs["deferred"]) == [True, True, True]


def test_solver_noise_is_dropped_and_order_is_irrelevant(sc, plan):
    noisy = [*reversed(ROWS), ("j2", 0, "a", 1e-9), ("j3", 1, "b", -1e-9)]
    p = greenopt.evaluate(sc, pd.DataFrame(noisy, columns=["job", "slot", "site", "share"]))
    pd.testing.assert_frame_equal(p.assignments, plan.assignments)
    assert p.kpis == plan.kpis


def test_negative_share_is_refused(sc):
    with pytest.raises(PlanError, match="j1"):
        greenopt.evaluate(sc, [("j1", 0, "a", -0.5)])


def test_unknown_deadlines_mode_is_refused(sc):
    with pytest.raises(PlanError, match="firm"):
        greenopt.evaluate(sc, ROWS, deadlines="firm")


def test_migration_back_to_origin_counts_twice(sc):
    """a → b in slot 1, b → a in slot 2: two migrations of 90 GB, each 0.9 kWh at arrival."""
    p = greenopt.evaluate(sc, [("j1", 0, "a", 0.5), ("j1", 1, "b", 0.5), ("j1", 2, "a", 0.5)])
    m = p.migrations
    assert list(zip(m["slot"], m["src"], m["dst"], strict=True)) == [(1, "a", "b"), (2, "b", "a")]
    e = p.energy.set_index(["site", "slot"])["facility_kwh"]
    # a@2: 1.5·(2 + 4·0.5) + 0.9 = 6.9
    assert e[("a", 2)] == pytest.approx(6.9)
    assert p.kpis["migrated_gb"] == pytest.approx(180.0)
    assert np.all(p.jobs["migrations"].to_numpy() == [2, 0, 0])
