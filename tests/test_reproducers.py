"""Regression tests of bugs found while testing issue #7 (hard-deadline sweep).

* the MILP kept the greedy start when it left a job undone under hard deadlines: the plans are
  now compared by unmet work first (``Plan.no_worse_than``);
* the greedy tried pause-free blocks of one shape only (first slot full): it now also tries the
  fractional part first, for a first slot with room for only part of the job.

The instance (found by a hard-deadline sweep over the property-test scenarios, then reduced):
one site ``a`` with 1 GPU, PUE 1, no idle load and ``grid_kw_max`` 2 kW; renewable power 0 kW
in slot 0 and 5 kW in slot 1 (hourly). One non-preemptible job of 1.5 h at 4 kW, window
``[0, 2)``. Its only plan: share 0.5 in slot 0 (2 kWh, all from the grid, at the limit) and
share 1 in slot 1 (4 kWh, all renewable). The soft-deadline MILP finds it.
"""

from __future__ import annotations

import pandas as pd

import greenopt
from greenopt import Scenario

START = pd.Timestamp("2024-01-01T00:00:00Z")


def grid_limited_block() -> Scenario:
    return Scenario(
        horizon={"start": START, "slot_minutes": 60, "slots": 2},
        sites=[
            {
                "name": "a",
                "gpus": 1,
                "grid_kw_max": 2.0,
                "renewable_kw": [0, 5],
                "carbon": [100] * 2,
            }
        ],
        jobs=[
            {
                "name": "j",
                "origin": "a",
                "release": START,
                "deadline": START + pd.Timedelta(hours=2),
                "work_h": 1.5,
                "gpus": 1,
                "power_kw": 4.0,
                "preemptible": False,
            }
        ],
    )


def test_the_instance_is_feasible():
    sc = grid_limited_block()
    soft = greenopt.plan(sc, "milp")
    assert greenopt.validate(sc, soft) == []
    assert soft.kpis["deadline_misses"] == 0
    rows = [(r.slot, round(r.share, 6)) for r in soft.assignments.itertuples()]
    assert rows == [(0, 0.5), (1, 1.0)]


def test_hard_deadline_milp_returns_the_plan_that_meets_every_deadline():
    sc = grid_limited_block()
    hard = greenopt.plan(sc, "milp", deadlines="hard")
    assert hard.kpis["deadline_misses"] == 0
    assert greenopt.validate(sc, hard) == []


def test_greedy_finds_a_block_whose_first_slot_has_room_for_part_of_a_slot():
    sc = grid_limited_block()
    greedy = greenopt.plan(sc, "greedy")
    assert greenopt.validate(sc, greedy) == []
    assert greedy.kpis["deadline_misses"] == 0
