"""Non-anticipation of greenopt.operate (issue 13, acceptance 1; MODEL.md §11).

Changing the actuals of slots ``≥ k``, or adding a job released at slot ``k`` (online arrivals),
leaves every row committed by a decision before ``k`` unchanged — for every method and every
forecaster. Random small scenarios (the strategy of tests/test_properties.py), a random ``k``
and a random perturbation of every signal from ``k`` on.

Forecasters: ``persistence`` (made inside ``operate`` from the scenario at hand) and forecasts
the scenario carries (``"scenario"``, completed by persistence) must pass as they are.
``oracle`` and ``error-model`` are built *from* the actuals they forecast — an oracle forecast
of slot ``k`` made at slot 0 *is* slot ``k``'s actual — so for them the property is about the
planner given its forecasts: they are made once from the unperturbed scenario and handed to both
runs as the same :class:`~greenopt.forecasts.Forecasts`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenopt
from greenopt import Job, Scenario
from greenopt.forecasts import make_forecasts
from greenopt.operate import operate
from tests.test_properties import MILP_KW, MILP_SIZE, SIZE_BUDGET, scenarios

FORECASTS = ("persistence", "scenario", "oracle", "error-model")
#: examples per method: each runs two operations of one decision per slot
EXAMPLES = {"milp": 12}
DEFAULT_EXAMPLES = 25

SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _kw(method: str) -> dict[str, Any]:
    return dict(MILP_KW) if method == "milp" else {}


def _forecast_for(sc: Scenario, name: str, seed: int) -> tuple[Scenario, Any]:
    """(scenario to operate, ``forecast`` argument) for forecaster ``name``."""
    if name == "persistence":
        return sc, "persistence"
    if name == "scenario":  # a day-ahead forecast the scenario carries, made from the actuals
        carried = make_forecasts(sc, "error-model", seed=seed, issue_slots=[0])
        return sc.with_jobs(sc.jobs, forecasts=carried), "scenario"
    return sc, make_forecasts(sc, name, seed=seed)  # held fixed across the two runs


def _perturbed(sc: Scenario, k: int, rng: np.random.Generator) -> Scenario:
    """``sc`` with every signal of slots ``≥ k`` changed (signals stay physical)."""
    T = sc.horizon.slots
    sites = []
    for site in sc.sites:
        ren = np.array(site.renewable_kw)
        car = np.array(site.carbon)
        pri = np.array(site.price)
        ren[k:] = ren[k:] * rng.uniform(0, 3, T - k) + rng.uniform(0, 20, T - k)
        car[k:] = car[k:] * rng.uniform(0.2, 3, T - k) + rng.uniform(0, 50, T - k)
        pri[k:] = pri[k:] + rng.normal(0, 0.1, T - k)
        sites.append(site.model_copy(update={"renewable_kw": ren, "carbon": car, "price": pri}))
    return sc.with_jobs(sc.jobs, sites=sites)


def _with_new_job(sc: Scenario, k: int, rng: np.random.Generator) -> Scenario:
    """``sc`` and one more job, released at the start of slot ``k``."""
    h = sc.horizon
    template = sc.jobs[int(rng.integers(len(sc.jobs)))]
    release = pd.Timestamp(h.slot_starts[k]).to_pydatetime()
    slots = int(rng.integers(1, h.slots - k + 1))
    data = template.model_dump()
    data.update(
        name="newcomer",
        release=release,
        deadline=release + timedelta(minutes=h.slot_minutes * slots),
        work_h=float(rng.uniform(0.1, 1.0)) * slots * h.dt_h,
    )
    return sc.with_jobs([*sc.jobs, Job(**data)])


def _decided_before(op, k: int) -> pd.DataFrame:
    rows = op.committed[op.committed["decided"] < k]
    return rows.sort_values(["job", "slot"]).reset_index(drop=True)


def _check(method: str, data: st.DataObject) -> None:
    size = MILP_SIZE if method == "milp" else SIZE_BUDGET
    sc = data.draw(scenarios(size=size), label="scenario")
    T = sc.horizon.slots
    k = data.draw(st.integers(1, T - 1), label="k")
    name = data.draw(st.sampled_from(FORECASTS), label="forecast")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    replan = data.draw(st.sampled_from([1, 1, 2, 3]), label="replan_every")
    rng = np.random.default_rng(seed)
    base, forecast = _forecast_for(sc, name, seed)
    common = dict(forecast=forecast, replan_every=replan, seed=seed, **_kw(method))
    first = operate(base, method, **common)
    if not any(site.grid_kw_max is not None for site in sc.sites) or name == "oracle":
        assert greenopt.validate(base, first.plan) == []  # (grid limits: docs/operate.md)

    later = _perturbed(base, k, rng)
    assert later.forecasts == base.forecasts  # carried forecasts are the issued ones, unchanged
    again = operate(later, method, **common)
    pd.testing.assert_frame_equal(_decided_before(first, k), _decided_before(again, k))

    joined = _with_new_job(base, k, rng)
    more = operate(joined, method, **common)
    pd.testing.assert_frame_equal(_decided_before(first, k), _decided_before(more, k))
    assert "newcomer" not in set(_decided_before(more, k)["job"])


@pytest.mark.parametrize("method", greenopt.METHODS)
def test_no_decision_before_k_depends_on_what_happens_from_k_on(method):
    @settings(max_examples=EXAMPLES.get(method, DEFAULT_EXAMPLES), **SETTINGS)
    @given(data=st.data())
    def prop(data):
        _check(method, data)

    prop()


def test_the_check_sees_a_planner_that_peeks():
    """The property can fail: a planner handed the actuals of the future (a forecast that is not
    held fixed: ``oracle`` made inside each run) changes decisions before ``k``."""
    from tests.test_operate import job, two_sites

    # one flexible hour of work; the grid is dirtier from slot 2 on — unless it is not
    sc = two_sites(jobs=[job("flex", work=1.0, allowed_regions="dirty")])
    carbon = np.array([300.0, 300.0, 500.0, 500.0, 500.0, 500.0])
    sites = [s.model_copy(update={"carbon": carbon}) for s in sc.sites]
    sc = sc.with_jobs(sc.jobs, sites=sites)
    k = 2
    later = sc.with_jobs(
        sc.jobs,
        sites=[s.model_copy(update={"carbon": np.r_[300.0, 300.0, [10.0] * 4]}) for s in sc.sites],
    )
    peek = {"forecast": "oracle", "delay_cost": None}
    assert not _decided_before(operate(sc, **peek), k).equals(
        _decided_before(operate(later, **peek), k)
    )
    fair = {"forecast": "persistence", "delay_cost": None}
    assert _decided_before(operate(sc, **fair), k).equals(
        _decided_before(operate(later, **fair), k)
    )
