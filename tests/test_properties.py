"""Property-based tests (hypothesis) on random small scenarios.

Each example is a tiny instance (2–4 sites, 3–10 jobs, 4–12 slots; for the MILP at most 150
job-site-slots, as its root node grows fast with size) drawn as the parameters and seed of
:func:`~greenopt.examples.synthetic.synthetic_scenario` — tight or loose capacity,
non-migratable and non-preemptible jobs, residency, grid limits, little or much renewable
supply, transit nodes, 30-minute to 6-hour slots, the dwell rule at α 0.1, 0.03, 0.5 or off —
plus hand-made variations on top: negative
prices in some site-slots, a scarce WAN share, a zero-GPU site, a job too big for its origin
(it must move), a job pinned to its origin's region; and an objective. The properties, each on
200 examples (``EXAMPLES``):

* every method's plan passes :func:`greenopt.validate` (the dwell rule of MODEL.md §5 included);
* the MILP objective is never worse than greedy's beyond the MIP gap, and the bound it reports
  never exceeds its objective;
* reordering the jobs, the sites or the WAN links (and writing a link ``b–a`` for ``a–b``)
  leaves every method's plan unchanged: the same rows, KPIs, objective, status and bound;
* the same input twice gives the same plan, row for row.

One drawn scenario serves all properties of a method (plan, validate, plan again, plan the
reordered copy), in two tests — MILP, and the six heuristics and baselines — that pytest -n 2
runs side by side. Examples are derandomized (the same ones every run: CI time is stable and a
failure reproduces). The MILP runs with a deterministic node limit and no time limit (which
would make plans depend on the machine's speed), on one HiGHS thread.
``GREENOPT_PROPERTY_EXAMPLES`` overrides the number of examples (e.g. more for a soak run).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import greenopt
import greenopt.dwell
from greenopt import Plan, Scenario, ScenarioError
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.heuristics.greedy import GreedySettings

METHODS = tuple(greenopt.METHODS)
HEURISTICS = tuple(m for m in METHODS if m != "milp")
MIP_GAP = 0.01
#: HiGHS options for the property runs: a node limit is deterministic, unlike a time limit.
#: One HiGHS thread: pytest -n 2 already keeps both cores busy (the default threads are
#: checked for repeatability in test_milp_with_default_threads_is_repeatable).
MILP_KW: dict[str, Any] = {
    "mip_gap": MIP_GAP,
    "threads": 1,
    "highs_options": {"mip_max_nodes": 200},
}
EXAMPLES = int(os.environ.get("GREENOPT_PROPERTY_EXAMPLES", "200"))
#: Job-site-slots (sites × jobs × slots) per drawn scenario: the MILP's root node grows fast
#: with it, the heuristics take the whole 4 × 10 × 12 range.
SIZE_BUDGET = 4 * 10 * 12
MILP_SIZE = 150

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the strategy --------------------------------------------------------------------------------
def _rebuild(sc: Scenario, **changes: Any) -> Scenario:
    """An equal (or changed) scenario built from scratch, sharing no cached state."""
    data: dict[str, Any] = {
        "name": sc.name,
        "horizon": sc.horizon.model_dump(),
        "sites": [s.model_dump() for s in sc.sites],
        "jobs": [j.model_dump() for j in sc.jobs],
        "wan": [{"a": a, "b": b, **d} for a, b, d in sc.wan.edges(data=True)],
        "wan_share": sc.wan_share,
        "net_kwh_per_gb": sc.net_kwh_per_gb,
        "migration_alpha": sc.migration_alpha,
    }
    data.update(changes)
    return Scenario(**data)


@st.composite
def scenarios(draw: st.DrawFn, size: int = SIZE_BUDGET) -> Scenario:
    """A tiny valid scenario: synthetic_scenario's knobs, then hand-made variations; at most
    ``size`` job-site-slots (sites × jobs × slots), at least 3 jobs."""
    n_sites = draw(st.integers(2, 4), label="sites")
    n_slots = draw(st.integers(4, 12), label="slots")
    # a budget of job-site-slots keeps the MILP fast; the corners remain (10 jobs on 2 sites,
    # 12 slots with 4 sites)
    most_jobs = max(3, min(10, size // (n_sites * n_slots)))
    n_jobs = draw(st.integers(3, most_jobs), label="jobs")
    sc = synthetic_scenario(
        jobs=n_jobs,
        sites=n_sites,
        slots=n_slots,
        seed=draw(st.integers(0, 2**20), label="seed"),
        slot_minutes=draw(st.sampled_from([None, 30, 60, 120]), label="slot_minutes"),
        headroom=draw(st.sampled_from([0.6, 1.0, 1.5, 3.0]), label="headroom"),
        non_preemptible=draw(st.sampled_from([None, 0.0, 0.5, 1.0]), label="non_preemptible"),
        non_migratable=draw(st.sampled_from([None, 0.0, 0.5, 1.0]), label="non_migratable"),
        residency=draw(st.sampled_from([0.0, 0.3, 1.0]), label="residency"),
        grid_limit=draw(st.booleans(), label="grid_limit"),
        renewable_scale=draw(st.sampled_from([0.0, 0.3, 1.0, 3.0]), label="renewable_scale"),
        transit=draw(st.integers(0, 2), label="transit"),
    )
    sites = [s.model_dump() for s in sc.sites]
    jobs = [j.model_dump() for j in sc.jobs]
    T = n_slots
    if draw(st.booleans(), label="negative_prices"):
        # real markets with surplus: some site-slots pay for grid energy (MODEL.md §2, §7)
        cells = draw(st.sets(st.tuples(st.integers(0, n_sites - 1), st.integers(0, T - 1))))
        for i, t in cells:
            sites[i]["price"][t] = -abs(sites[i]["price"][t]) - 0.05
    if draw(st.booleans(), label="pin_to_region"):
        # a job restricted to its origin's region only
        k = draw(st.integers(0, n_jobs - 1))
        origin = next(s for s in sites if s["name"] == jobs[k]["origin"])
        jobs[k]["allowed_regions"] = [origin["region"]]
    gpus_at = {s["name"]: s["gpus"] for s in sites}
    biggest = max(gpus_at.values())
    movable = [
        k
        for k, j in enumerate(jobs)
        if j["allowed_regions"] is None and gpus_at[j["origin"]] < biggest
    ]
    if movable and draw(st.booleans(), label="must_move"):
        # a job needing more GPUs than its origin has: it must move before it can run
        k = draw(st.sampled_from(movable))
        jobs[k]["gpus"] = draw(st.integers(gpus_at[jobs[k]["origin"]] + 1, biggest))
        jobs[k]["migratable"] = draw(st.booleans())
    if draw(st.booleans(), label="zero_gpu_site"):
        # a site where no job starts gets no GPUs (kept only if every job can still run)
        used = {j["origin"] for j in jobs}
        empty = [s for s in sites if s["name"] not in used]
        if empty:
            empty[0]["gpus"] = 0
    wan_share = draw(st.sampled_from([1.0, 1.0, 0.3, 0.02]), label="wan_share")
    # the dwell rule (MODEL.md §5): the paper's α, a stricter and a looser one, or off
    alpha = draw(st.sampled_from([0.1, 0.1, 0.03, 0.5, None]), label="migration_alpha")
    try:
        return _rebuild(sc, sites=sites, jobs=jobs, wan_share=wan_share, migration_alpha=alpha)
    except ScenarioError:
        reject()  # a variation left a job no site to run at: rare, drawn again


def _permuted(draw: st.DrawFn, sc: Scenario) -> Scenario:
    """``sc`` with its jobs, sites and WAN links reordered and some links written backwards."""
    jobs = draw(st.permutations(sc.jobs), label="job order")
    sites = draw(st.permutations(sc.sites), label="site order")
    edges = draw(st.permutations(list(sc.wan.edges(data=True))), label="link order")
    flips = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)), label="flip")
    wan = [
        {"a": b, "b": a, **d} if flip else {"a": a, "b": b, **d}
        for (a, b, d), flip in zip(edges, flips, strict=True)
    ]
    return Scenario(
        name=sc.name,
        horizon=sc.horizon,
        sites=list(sites),
        jobs=list(jobs),
        wan=wan,
        wan_share=sc.wan_share,
        net_kwh_per_gb=sc.net_kwh_per_gb,
        migration_alpha=sc.migration_alpha,
    )


OBJECTIVES = st.sampled_from(["carbon", "cost", "grid", "weighted"])


#: The greedy with its re-placement passes and LP re-timing asked for by name (the knobs were
#: opt-in when the property test first checked them). On every drawn day (at most 10 jobs, far
#: below QUALITY_JOBS) they are also the greedy's default effort, so the default plan *is* this
#: variant's: the test checks that the settings resolve alike and that the default's re-timing
#: did not fail (asked for by name, a failure would raise), instead of planning it three more
#: times per example (200 examples: the same plans, rows, notes, to the row, 2026-12-07).
RETIME_PARAMS: dict[str, Any] = {"passes": 2, "retime": True}


def _plan(sc: Scenario, method: str, objective: str) -> Plan:
    return greenopt.plan(sc, method, objective=objective, **(MILP_KW if method == "milp" else {}))


# -- comparing plans -----------------------------------------------------------------------------
def _same_number(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is y
    return x == y or (math.isnan(x) and math.isnan(y))


def _cell(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x  # NaN != NaN; None == None


def _rows(df: pd.DataFrame, key: list[str] | None = None) -> list[tuple]:
    """The table's rows as tuples (NaN as None), sorted by ``key`` (unique) when given."""
    columns = [*(key or []), *(c for c in df.columns if c not in (key or []))]
    rows = list(zip(*([_cell(x) for x in df[c].tolist()] for c in columns), strict=True))
    return sorted(rows, key=lambda r: r[: len(key)]) if key else rows


KEYS = {
    "assignments": ["job", "slot"],
    "migrations": ["job", "slot"],
    "energy": ["site", "slot"],
    "jobs": ["job"],
    "scorecard": ["kind"],
}


def assert_same_plan(p: Plan, q: Plan, what: str, rows_in_order: bool = False) -> None:
    """The same rows in every table (whatever their order), KPIs, objective, status, bound;
    with ``rows_in_order``, the same tables row for row (and the same columns and dtypes)."""
    for table, key in KEYS.items():
        a, b = getattr(p, table), getattr(q, table)
        assert list(a.columns) == list(b.columns), (what, table)
        if rows_in_order:
            assert a.dtypes.tolist() == b.dtypes.tolist(), (what, table)
            assert _rows(a) == _rows(b), (what, table)
        else:
            assert _rows(a, key) == _rows(b, key), (what, table)
    assert p.kpis.keys() == q.kpis.keys(), what
    assert all(_same_number(p.kpis[k], q.kpis[k]) for k in p.kpis), (what, p.kpis, q.kpis)
    assert (p.status, p.objective) == (q.status, q.objective), what
    assert _same_number(p.bound, q.bound), (what, p.bound, q.bound)
    assert _same_number(p.gap, q.gap), (what, p.gap, q.gap)


# -- the properties ------------------------------------------------------------------------------
# One drawn scenario serves every property of a method: its plan is validated, planned again
# (the same input twice) and planned from a reordered copy. MILP and heuristics are two tests that
# pytest -n 2 runs side by side: xdist hands each worker two consecutive tests first, so they are
# the file's first and fourth, with the quick census tests between them.


@PROPERTY
@given(data=st.data(), objective=OBJECTIVES)
def test_milp_plan_valid_within_gap_of_greedy_bounded_repeatable_and_order_free(data, objective):
    """The MILP plan: valid; no worse than greedy's beyond the MIP gap; its bound is at most its
    objective; the same when planned again, and when the jobs, sites or links are reordered."""
    sc = data.draw(scenarios(size=MILP_SIZE), label="scenario")
    milp = _plan(sc, "milp", objective)
    violations = greenopt.validate(sc, milp)
    assert violations == [], [str(v) for v in violations[:3]]
    # the read-back itself was valid (the guard that returns the start plan instead is a last
    # resort, not the way the MILP's plans become valid)
    assert not any("breaks MODEL.md" in n for n in milp.notes), milp.notes
    greedy = _plan(sc, "greedy", objective)
    value, reference = milp.kpis["objective"], greedy.kpis["objective"]
    slack = MIP_GAP * max(abs(value), abs(reference)) + 1e-6
    assert value <= reference + slack, (value, reference, milp.status, milp.notes)
    if milp.bound is not None:
        assert milp.bound <= value + 1e-6 + 1e-6 * abs(value), (milp.bound, value, milp.notes)
        # a bound of MODEL.md's model, not only of the plans the MILP's formulation can write:
        # the greedy's valid plan (its route rows included) never beats it
        tol = 1e-6 + 1e-6 * abs(reference)
        assert milp.bound <= reference + tol, (milp.bound, reference, milp.notes)
    assert_same_plan(milp, _plan(sc, "milp", objective), "milp twice", rows_in_order=True)
    shuffled = _permuted(data.draw, sc)
    assert_same_plan(milp, _plan(shuffled, "milp", objective), "milp reordered")


def _dwell_binds(sc: Scenario) -> bool:
    """Some move needs more than a slot of work after it: the dwell rule can bind."""
    need = greenopt.dwell.dwell_need_h(sc)
    return bool((need[np.isfinite(need)] > sc.horizon.dt_h).any())


@pytest.mark.parametrize("size", [SIZE_BUDGET, MILP_SIZE])
def test_the_strategy_draws_every_variation(size: int):
    """The strategy really produces the cases the properties are meant to cover."""
    seen: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(sc=scenarios(size=size))
    def census(sc: Scenario) -> None:
        idx = sc.index
        facts = {
            "non_preemptible": not idx.preemptible.all(),
            "non_migratable": not idx.migratable.all(),
            "residency": any(j.allowed_regions is not None for j in sc.jobs),
            "grid_limit": any(s.grid_kw_max is not None for s in sc.sites),
            "negative_price": bool((idx.price < 0).any()),
            "must_move": bool((~idx.allowed[np.arange(len(sc.jobs)), idx.origin]).any()),
            "zero_gpu_site": bool((idx.site_gpus == 0).any()),
            "wan_share<1": sc.wan_share < 1,
            "dwell_off": sc.migration_alpha is None,
            # some move needs more than a slot of work after it: the rule can bind
            "dwell_binds": _dwell_binds(sc),
        }
        for k, v in facts.items():
            seen[k] = seen.get(k, 0) + int(v)

    census()
    assert all(n >= 5 for n in seen.values()), seen


@PROPERTY
@given(data=st.data(), objective=OBJECTIVES)
def test_heuristic_plans_valid_repeatable_and_order_free(data, objective):
    """Every heuristic's and baseline's plan: valid; the same when planned again, and when the
    jobs, sites or links are reordered (a copy built anew: no cached index or network shared)."""
    sc = data.draw(scenarios(), label="scenario")
    shuffled = _permuted(data.draw, sc)
    # the greedy's default effort is the re-timed variant's (RETIME_PARAMS): its checks cover both
    default, asked = GreedySettings(), GreedySettings.from_params(RETIME_PARAMS)
    assert default.resolved(sc) == asked.resolved(sc)
    for method in HEURISTICS:
        p = _plan(sc, method, objective)
        violations = greenopt.validate(sc, p)
        assert violations == [], (method, [str(v) for v in violations[:3]])
        assert p.method == method
        assert not any(n.startswith("LP re-timing failed") for n in p.notes), (method, p.notes)
        assert_same_plan(p, _plan(sc, method, objective), f"{method} twice", rows_in_order=True)
        assert_same_plan(p, _plan(shuffled, method, objective), f"{method} reordered")


def test_property_helpers_see_a_difference():
    """assert_same_plan is not vacuous: two different plans of one scenario are told apart."""
    sc = synthetic_scenario(jobs=6, sites=3, slots=6, seed=1)
    run_now, greedy = _plan(sc, "run-now", "carbon"), _plan(sc, "greedy", "carbon")
    try:
        assert_same_plan(run_now, greedy, "different methods")
    except AssertionError:
        return
    raise AssertionError("run-now and greedy plans compared equal")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_milp_with_default_threads_is_repeatable(seed):
    """The property runs use one HiGHS thread; with the default threads the MILP is as
    repeatable (HiGHS's parallel branch-and-bound is deterministic)."""
    sc = synthetic_scenario(jobs=10, sites=3, slots=8, seed=seed, non_preemptible=0.5)
    kw = {"mip_gap": MIP_GAP, "highs_options": {"mip_max_nodes": 200}}
    first = greenopt.plan(sc, "milp", **kw)
    assert_same_plan(first, greenopt.plan(sc, "milp", **kw), "default threads", rows_in_order=True)
