"""Infeasibility diagnosis: one crafted instance per reason hard deadlines cannot be met.

Every instance is valid (the scenario checks pass) and feasible under soft deadlines; under hard
deadlines the MILP raises :class:`~greenopt.InfeasibleError` whose ``jobs`` maps each job that
cannot be met to a reason starting with its word (``capacity``, ``window``, ``residency``,
``bandwidth``, ``grid``), and whose message names the job and the reason.

Hourly slots, 1 GPU-hour per job unless said otherwise; moving S GB over B Gbit/s takes
8·S/(3600·B) h, and a link carries B·3600/8 GB per slot.
"""

from __future__ import annotations

import pandas as pd
import pytest

import greenopt
from greenopt import InfeasibleError, Scenario
from greenopt.milp.diagnose import REASONS, job_reasons

START = pd.Timestamp("2024-01-01T00:00:00Z")


def _site(name: str, gpus: int, region: str | None = None, **kw) -> dict:
    return {
        "name": name,
        "region": region or name,
        "gpus": gpus,
        "renewable_kw": [0, 0],
        "carbon": [100, 100],
        **kw,
    }


def _job(name: str, origin: str = "a", work: float = 1.0, end: int = 1, **kw) -> dict:
    return {
        "name": name,
        "origin": origin,
        "release": START,
        "deadline": START + pd.Timedelta(hours=end),
        "work_h": work,
        "gpus": kw.pop("gpus", 1),
        "power_kw": kw.pop("power_kw", 1.0),
        **kw,
    }


def _scenario(sites: list[dict], jobs: list[dict], wan: list[dict] | None = None) -> Scenario:
    return Scenario(
        horizon={"start": START, "slot_minutes": 60, "slots": 2},
        sites=sites,
        jobs=jobs,
        wan=wan or [],
    )


def _link(gbps: float) -> list[dict]:
    return [{"a": "a", "b": "b", "gbps": gbps}]


def _diagnose(sc: Scenario) -> InfeasibleError:
    soft = greenopt.plan(sc, "milp", time_limit=20)  # soft deadlines: a plan, with misses
    assert greenopt.validate(sc, soft) == []
    assert soft.kpis["deadline_misses"] >= 1
    with pytest.raises(InfeasibleError) as info:
        greenopt.plan(sc, "milp", deadlines="hard", time_limit=20)
    return info.value


def _only(err: InfeasibleError, reason: str, candidates: set[str]) -> str:
    assert len(err.jobs) == 1, err.jobs
    ((name, why),) = err.jobs.items()
    assert name in candidates, err.jobs
    assert why.split(":")[0] == reason, why
    assert repr(name) in str(err) and why in str(err)
    return why


def test_capacity():
    # one GPU at a, two jobs that each need it for the only slot of their windows
    sc = _scenario([_site("a", 1)], [_job("p"), _job("q")])
    why = _only(_diagnose(sc), "capacity", {"p", "q"})
    assert "'a'" in why and "taken" in why


def test_window():
    # 'big' needs 4 GPUs, its origin a has 1: it must move to b (fast link), and the 0.5 h
    # restore of the move does not fit in its 2 h window for 2 h of work
    sc = _scenario(
        [_site("a", 1), _site("b", 8)],
        [_job("big", gpus=4, work=2.0, end=2, restore_h=0.5, state_gb=1.0)],
        _link(100),
    )
    assert job_reasons(sc)["big"].startswith("window:")  # found before any solve
    why = _only(_diagnose(sc), "window", {"big"})
    assert "0.5 h" in why and "origin 'a'" in why


def test_bandwidth_of_one_move():
    # 'big' must move off a (1 GPU) to b; its 2000 GB take 4.4 h over 1 Gbit/s (and exceed the
    # link's 450 GB per slot): it can never arrive, though 1.5 h of work fit its 2 h window
    sc = _scenario(
        [_site("a", 1), _site("b", 8)],
        [_job("big", gpus=4, work=1.5, end=2, state_gb=2000.0)],
        _link(1),
    )
    why = _only(_diagnose(sc), "bandwidth", {"big"})
    assert "2000 GB" in why and "'b'" in why


def test_bandwidth_of_a_shared_link():
    # a has no GPUs, so both jobs must move to b in slot 0; each moves 3000 GB and the link
    # carries 10·3600/8 = 4500 GB per slot: only one gets across in time
    sc = _scenario(
        [_site("a", 0), _site("b", 8)],
        [_job("m1", work=0.1, state_gb=3000.0), _job("m2", work=0.1, state_gb=3000.0)],
        _link(10),
    )
    assert job_reasons(sc) == {}  # each alone is fine: it is the shared link
    why = _only(_diagnose(sc), "bandwidth", {"m1", "m2"})
    assert "3000 GB" in why


def test_residency():
    # two EU-only jobs, one GPU in the EU (a); the US site b has room but is not allowed
    sc = _scenario(
        [_site("a", 1, "EU"), _site("b", 4, "US")],
        [_job("p", allowed_regions=["EU"]), _job("q", allowed_regions=["EU"])],
        _link(100),
    )
    why = _only(_diagnose(sc), "residency", {"p", "q"})
    assert "['EU']" in why


def test_grid_limit():
    # a 3 kW job on a site that may draw 1 kW from the grid and has no renewables
    sc = _scenario([_site("a", 4, grid_kw_max=1.0)], [_job("hot", power_kw=3.0)])
    why = _only(_diagnose(sc), "grid", {"hot"})
    assert "grid_kw_max" in why


def test_jobs_infeasible_alone_are_reported_before_solving():
    # the capacity pair and the window job together: 'big' is found without a solve (and the
    # error says so); the pair's conflict would need the soft-model solves
    sc = _scenario(
        [_site("a", 1), _site("b", 8)],
        [
            _job("p", origin="b", gpus=8),
            _job("q", origin="b", gpus=8),
            _job("big", gpus=4, work=2.0, end=2, restore_h=0.5, state_gb=1.0),
        ],
        _link(100),
    )
    with pytest.raises(InfeasibleError) as info:
        greenopt.plan(sc, "milp", deadlines="hard", time_limit=20)
    assert info.value.jobs == {"big": job_reasons(sc)["big"]}
    assert "found before solving" in str(info.value)


def test_every_reason_is_listed():
    assert set(REASONS) == {"capacity", "window", "residency", "bandwidth", "grid"}


def test_a_heuristic_that_misses_a_hard_deadline_names_the_jobs():
    # greedy under hard deadlines: the jobs its plan misses, with the reason when one is known
    sc = _scenario(
        [_site("a", 1), _site("b", 8)],
        [_job("big", gpus=4, work=1.5, end=2, state_gb=2000.0)],
        _link(1),
    )
    with pytest.raises(InfeasibleError) as info:
        greenopt.plan(sc, "greedy", deadlines="hard")
    assert info.value.jobs["big"].startswith("bandwidth:")
    assert "'big'" in str(info.value) and "greedy" in str(info.value)
