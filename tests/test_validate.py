"""The validator catches each rule of MODEL.md §5 and accepts a valid plan.

Scenario ``rules`` — 4 hourly slots (Δh = 1 h), pue 1, no idle load, no renewables:

    a: EU, 6 GPUs      b: EU, 2 GPUs      c: US, 8 GPUs      d: CA, 8 GPUs, grid_kw_max 3
    WAN: a–b 10 Gbit/s, c–d 10 Gbit/s (no route between {a, b} and {c, d})
    link capacity per slot: 10 · 1 · 1 · 3600 / 8 = 4500 GB

Jobs (window [0, 4) unless said; 1 GPU, 1 kW, work 1 h, state 0, origin a unless said):

    flex     work 2 h                late     release 1 h (window [1, 4))
    us_only  origin c, allowed_regions [US]
    big      4 GPUs                  heavy    state 1800 GB: 1800·8/(10·3600) = 0.4 h → share ≤ 0.6
    ckpt1/2  state 3000 GB: 0.667 h → share ≤ 1/3; together 6000 GB > 4500 GB on a–b
    pinned   not migratable          steady   not preemptible, work 3 h, restore 0.25 h
    hungry   origin c, 5 kW
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import greenopt
from greenopt import PlanError, Scenario

START = pd.Timestamp("2024-01-01T00:00:00Z")


def _site(name: str, region: str, gpus: int, **kw) -> dict:
    return {
        "name": name,
        "region": region,
        "gpus": gpus,
        "renewable_kw": [0, 0, 0, 0],
        "carbon": [100, 100, 100, 100],
        **kw,
    }


def _job(name: str, origin: str = "a", release_h: float = 0, **kw) -> dict:
    base = {
        "name": name,
        "origin": origin,
        "release": START + pd.Timedelta(hours=release_h),
        "deadline": START + pd.Timedelta(hours=4),
        "work_h": 1.0,
        "gpus": 1,
        "power_kw": 1.0,
    }
    return {**base, **kw}


def rules_scenario(**changes) -> Scenario:
    data = {
        "name": "rules",
        "horizon": {"start": START, "slot_minutes": 60, "slots": 4},
        "sites": [
            _site("a", "EU", 6),
            _site("b", "EU", 2),
            _site("c", "US", 8),
            _site("d", "CA", 8, grid_kw_max=3.0),
        ],
        "wan": [
            {"a": "a", "b": "b", "gbps": 10, "latency_ms": 1},
            {"a": "c", "b": "d", "gbps": 10, "latency_ms": 1},
        ],
        "jobs": [
            _job("flex", work_h=2.0),
            _job("late", release_h=1),
            _job("us_only", origin="c", allowed_regions=["US"]),
            _job("big", gpus=4),
            _job("heavy", state_gb=1800),
            _job("ckpt1", state_gb=3000),
            _job("ckpt2", state_gb=3000),
            _job("pinned", migratable=False),
            _job("steady", preemptible=False, work_h=3.0, restore_h=0.25),
            _job("hungry", origin="c", power_kw=5.0),
        ],
        **changes,
    }
    return Scenario(**data)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return rules_scenario()


# Every job done, every rule obeyed (hand-checked):
#  a: slot 0 flex 1 + heavy .5 + ckpt1 .5 + steady .5 = 2.5 GPU; slot 1 flex+late+steady = 3;
#     slot 2 big 4 + steady 1 = 5; slot 3 ckpt2 1 + steady .5 + hungry? no (hungry at c) = 1.5
#  heavy a→b in slot 1 (0.4 h) at share 0.5 ≤ 0.6; ckpt1 a→b in slot 2 (0.667 h) at 0.3 ≤ 1/3;
#  link a–b: 1800 GB in slot 1, 3000 GB in slot 2, both ≤ 4500.
#  pinned runs only at b: its state moves once, in its first run slot (allowed).
#  steady runs 0..3 contiguously, inner slots share 1, total 0.5 + 1 + 1 + 0.5 = 3 h.
VALID = [
    ("flex", 0, "a", 1.0),
    ("flex", 1, "a", 1.0),
    ("late", 1, "a", 1.0),
    ("us_only", 0, "c", 1.0),
    ("big", 2, "a", 1.0),
    ("heavy", 0, "a", 0.5),
    ("heavy", 1, "b", 0.5),
    ("ckpt1", 0, "a", 0.5),
    ("ckpt1", 2, "b", 0.3),
    ("ckpt1", 3, "b", 0.2),
    ("ckpt2", 3, "a", 1.0),
    ("pinned", 2, "b", 0.5),
    ("pinned", 3, "b", 0.5),
    ("steady", 0, "a", 0.5),
    ("steady", 1, "a", 1.0),
    ("steady", 2, "a", 1.0),
    ("steady", 3, "a", 0.5),
    ("hungry", 0, "c", 1.0),
]


def _check(sc: Scenario, rows, deadlines: str = "soft"):
    return greenopt.validate(sc, greenopt.evaluate(sc, rows, deadlines=deadlines))


def test_valid_plan_under_hard_deadlines(sc):
    plan = greenopt.evaluate(sc, VALID, deadlines="hard")
    assert plan.kpis["jobs_done"] == 10
    assert plan.kpis["migrations"] == 3  # heavy, ckpt1, pinned (all a→b)
    assert greenopt.validate(sc, plan) == []


def test_non_preemptible_inner_slot_may_lose_the_arrival_disruption(sc):
    # steady a@0 1, moves to b in slot 1 (restore 0.25 h, no state) and runs 0.75 there: allowed
    rows = [("steady", 0, "a", 1.0), ("steady", 1, "b", 0.75), ("steady", 2, "b", 1.0)]
    rows.append(("steady", 3, "b", 0.25))
    plan = greenopt.evaluate(sc, rows)
    assert plan.jobs.set_index("job").loc["steady", "done"]
    assert greenopt.validate(sc, plan) == []
    # without the arrival, 0.75 in an inner slot is a pause
    still = [("steady", 0, "a", 1.0), ("steady", 1, "a", 0.75), ("steady", 2, "a", 1.0)]
    (v,) = _check(sc, still)
    assert (v.rule, v.slot, v.limit) == ("non_preemptible", 1, pytest.approx(1.0))


# 7 GPUs at site a (6) in slot 0
CAPACITY_ROWS = [("big", 0, "a", 1.0), ("flex", 0, "a", 1.0), ("heavy", 0, "a", 1.0)]
CAPACITY_ROWS.append(("steady", 0, "a", 1.0))

# (name, rows, rule, job, site, slot)
BREAKERS = [
    ("one_site", [("flex", 0, "a", 0.5), ("flex", 0, "b", 0.5)], "one_site", "flex", None, 0),
    ("share", [("flex", 0, "a", 1.5)], "share", "flex", "a", 0),
    ("window", [("late", 0, "a", 1.0)], "window", "late", "a", 0),
    ("residency", [("us_only", 1, "d", 1.0)], "residency", "us_only", "d", 1),
    ("site_gpus", [("big", 0, "b", 0.5)], "site_gpus", "big", "b", 0),
    (
        "capacity",
        CAPACITY_ROWS,
        "capacity",
        None,
        "a",
        0,
    ),
    ("route", [("flex", 2, "c", 1.0)], "route", "flex", "c", 2),
    (
        "migratable",
        [("pinned", 0, "a", 0.5), ("pinned", 1, "b", 0.5)],
        "migratable",
        "pinned",
        None,
        None,
    ),
    ("disruption", [("heavy", 0, "b", 1.0)], "disruption", "heavy", "b", 0),
    (
        "link_capacity",
        # both finish at b (their dwell, 6.67 h, is longer than their work)
        [
            *[("ckpt1", 1, "b", 0.3), ("ckpt1", 2, "b", 0.7)],
            *[("ckpt2", 1, "b", 0.3), ("ckpt2", 2, "b", 0.7)],
        ],
        "link_capacity",
        None,
        None,
        1,
    ),
    (
        "pause",
        [("steady", 0, "a", 1.0), ("steady", 2, "a", 1.0)],
        "non_preemptible",
        "steady",
        None,
        0,
    ),
    (
        "partial_inner",
        [("steady", 0, "a", 1.0), ("steady", 1, "a", 0.5), ("steady", 2, "a", 1.0)],
        "non_preemptible",
        "steady",
        "a",
        1,
    ),
    ("grid_max", [("hungry", 0, "d", 1.0)], "grid_max", None, "d", 0),
    ("overrun", [("late", 1, "a", 1.0), ("late", 2, "a", 0.5)], "overrun", "late", None, None),
]


@pytest.mark.parametrize(
    ("rows", "rule", "job", "site", "slot"),
    [b[1:] for b in BREAKERS],
    ids=[b[0] for b in BREAKERS],
)
def test_each_rule_is_caught(sc, rows, rule, job, site, slot):
    violations = _check(sc, rows)
    assert {v.rule for v in violations} == {rule}, violations
    v = violations[0]
    assert (v.job, v.site, v.slot) == (job, site, slot)
    assert v.message and str(v).startswith(f"[{rule}]")


def test_capacity_amount_and_limit(sc):
    rows = [("big", 0, "a", 1.0), ("flex", 0, "a", 1.0), ("heavy", 0, "a", 1.0)]
    rows.append(("steady", 0, "a", 1.0))
    (v,) = _check(sc, rows)
    assert (v.amount, v.limit) == (pytest.approx(7.0), pytest.approx(6.0))


def test_disruption_limit_is_one_minus_disruption(sc):
    (v,) = _check(sc, [("heavy", 0, "b", 1.0)])
    assert v.limit == pytest.approx(0.6)  # 1 − 0.4 h / 1 h
    assert _check(sc, [("heavy", 0, "b", 0.6), ("heavy", 1, "b", 0.4)]) == []


def test_link_capacity_amount_and_wan_share():
    sc = rules_scenario()
    finish = [("ckpt1", 2, "b", 0.7), ("ckpt2", 2, "b", 0.7)]  # done at b: no dwell owed
    (v,) = _check(sc, [("ckpt1", 1, "b", 0.3), ("ckpt2", 1, "b", 0.3), *finish])
    assert (v.amount, v.limit) == (pytest.approx(6000.0), pytest.approx(4500.0))
    assert "a–b" in v.message
    # one job alone fits, but not once only half of the link may carry migrations (2250 GB)
    assert _check(sc, [("ckpt1", 1, "b", 0.3), finish[0]]) == []
    half = rules_scenario(wan_share=0.5)
    (v,) = _check(half, [("ckpt1", 1, "b", 0.3), finish[0]])
    assert v.rule == "link_capacity" and v.limit == pytest.approx(2250.0)


def test_grid_max_amount(sc):
    (v,) = _check(sc, [("hungry", 0, "d", 1.0)])
    assert (v.amount, v.limit) == (pytest.approx(5.0), pytest.approx(3.0))
    assert _check(sc, [("hungry", 0, "d", 0.6)]) == []  # 3 kWh: exactly at the limit


def test_non_migratable_job_may_start_away_from_origin(sc):
    assert _check(sc, [("pinned", 1, "b", 1.0)]) == []


def test_deadline_only_under_hard_deadlines(sc):
    rows = [r for r in VALID if r[0] != "flex"] + [("flex", 0, "a", 1.0)]
    assert _check(sc, rows, "soft") == []
    violations = _check(sc, rows, "hard")
    assert [(v.rule, v.job) for v in violations] == [("deadline", "flex")]
    assert violations[0].amount == pytest.approx(1.0)  # 1 h of work left
    # validate() may also be asked for hard deadlines on a soft plan
    soft = greenopt.evaluate(sc, rows)
    assert [(v.rule, v.job) for v in greenopt.validate(sc, soft, deadlines="hard")] == [
        ("deadline", "flex")
    ]


def test_tampered_energy_is_reported(sc):
    plan = greenopt.evaluate(sc, VALID)
    plan.energy.loc[(plan.energy["site"] == "c") & (plan.energy["slot"] == 0), "grid_kwh"] = 0.0
    (v,) = greenopt.validate(sc, plan)
    assert v.rule == "reported" and (v.site, v.slot) == ("c", 0)
    assert "grid_kwh" in v.message


def test_tampered_kpis_are_reported(sc):
    plan = greenopt.evaluate(sc, VALID)
    plan.kpis["carbon_kg"] *= 0.5
    del plan.kpis["migrated_gb"]
    msgs = [v.message for v in greenopt.validate(sc, plan)]
    assert {v.rule for v in greenopt.validate(sc, plan)} == {"reported"}
    assert any("carbon_kg" in m for m in msgs) and any("migrated_gb" in m for m in msgs)


def test_tampered_migrations_are_reported(sc):
    plan = greenopt.evaluate(sc, VALID)
    plan.migrations = plan.migrations.iloc[1:]
    (v,) = greenopt.validate(sc, plan)
    assert v.rule == "reported" and "migrations" in v.message


def test_negative_share_in_a_tampered_table_is_a_share_violation(sc):
    plan = greenopt.evaluate(sc, VALID)
    plan.assignments = pd.concat(
        [
            plan.assignments,
            pd.DataFrame([("late", 3, "a", -0.5)], columns=["job", "slot", "site", "share"]),
        ]
    )
    rules = {(v.rule, v.job) for v in greenopt.validate(sc, plan)}
    assert ("share", "late") in rules


def test_unknown_job_in_a_tampered_table_is_a_plan_error(sc):
    plan = greenopt.evaluate(sc, VALID)
    plan.assignments.loc[0, "job"] = "ghost"
    with pytest.raises(PlanError, match="ghost"):
        greenopt.validate(sc, plan)


def test_unknown_deadlines_mode_is_a_plan_error(sc):
    with pytest.raises(PlanError, match="firm"):
        greenopt.validate(sc, greenopt.evaluate(sc, VALID), deadlines="firm")


def test_small_example_run_now_plan_is_valid():
    sc = greenopt.examples.load("small")
    rows = []
    # every job at its origin from its first window slot, at full share until its work is done
    idx = sc.index
    for k, job in enumerate(sc.jobs):
        left = job.work_h
        t = int(idx.first_slot[k])
        while left > 1e-9:
            share = min(1.0, left / idx.dt_h)
            rows.append((job.name, t, job.origin, share))
            left -= share * idx.dt_h
            t += 1
    plan = greenopt.evaluate(sc, rows)
    rules = {v.rule for v in greenopt.validate(sc, plan)}
    assert rules <= {"capacity"}  # run-now ignores capacity; nothing else may break
    assert plan.kpis["migrations"] == 0


# -- differential check: the validator against an independent, naive re-derivation ------------
def _naive_violations(sc: Scenario, rows) -> set[tuple]:
    """(rule, job, site, slot) of every broken rule, derived from scratch, one loop per rule.

    Covers every rule but non_preemptible, deadline and reported (checked above by hand); the
    dwell rule (MODEL.md §5, rule 8) stay by stay, with Δh = 1 h.
    """
    out: set[tuple] = set()
    idx, net, tol = sc.index, sc.network, 1e-6
    for j, t, s, sh in rows:
        job, site, k = sc.job(j), sc.site(s), idx.job_pos[j]
        if sh > 1 + tol:
            out.add(("share", j, s, t))
        if not idx.first_slot[k] <= t < idx.end_slot[k]:
            out.add(("window", j, s, t))
        if job.allowed_regions and site.region not in job.allowed_regions:
            out.add(("residency", j, s, t))
        if site.gpus < job.gpus:
            out.add(("site_gpus", j, s, t))
    for site in sc.sites:
        for t in range(idx.T):
            used = sum(sc.job(j).gpus * sh for j, tt, s, sh in rows if s == site.name and tt == t)
            if used > site.gpus + tol + tol * site.gpus:
                out.add(("capacity", None, site.name, t))
            # pue 1, no idle load, no renewables: grid = job energy + arriving migrations
            grid = sum(
                sc.job(j).power_kw * sh for j, tt, s, sh in rows if (s, tt) == (site.name, t)
            )
            out.add(("_grid", site.name, t, grid))
    link_gb: dict[tuple, float] = {}
    grid_extra: dict[tuple, float] = {}
    for name in idx.job_names:
        job = sc.job(name)
        runs = sorted((t, s, sh) for j, t, s, sh in rows if j == name)
        if len({s for _, s, _ in runs}) > 1 and not job.migratable:
            out.add(("migratable", name, None, None))
        if sum(sh for *_, sh in runs) > job.work_h + tol + tol * job.work_h:
            out.add(("overrun", name, None, None))
        here = job.origin
        for i, (t, s, sh) in enumerate(runs):
            path = net.route(here, s) if s != here else None
            if path is not None and sc.migration_alpha is not None:
                # dwell: Δh = 1, so the stay's hours are its shares, up to the next site change
                stay = list(itertools.takewhile(lambda r, s=s: r[1] == s, runs[i:]))
                worked = sum(r[2] for r in stay)
                done = sum(r[2] for r in runs[: i + len(stay)]) >= job.work_h - tol
                gbps = min(sc.wan.edges[u, v]["gbps"] for u, v in itertools.pairwise(path))
                need = job.state_gb * 8 / (gbps * 3600) / sc.migration_alpha
                if worked < need - tol - tol * need and not done:
                    out.add(("dwell", name, s, t))
            if s != here:
                grid_extra[(s, t)] = grid_extra.get((s, t), 0.0) + job.state_gb * 0.005
                path = net.route(here, s)
                if path is None:
                    out.add(("route", name, s, t))
                else:
                    edges = list(itertools.pairwise(path))
                    gbps = min(sc.wan.edges[u, v]["gbps"] for u, v in edges)
                    limit = 1 - (job.state_gb * 8 / (gbps * 3600) + job.restore_h)
                    if sh > limit + tol + tol * abs(limit):
                        out.add(("disruption", name, s, t))
                    for u, v in edges:
                        key = (min(u, v), max(u, v), t)
                        link_gb[key] = link_gb.get(key, 0.0) + job.state_gb
            here = s
    for (_, _, t), gb in link_gb.items():
        if gb > 4500 * sc.wan_share * (1 + tol) + tol:
            out.add(("link_capacity", None, None, t))
    for key in [k for k in out if k[0] == "_grid"]:
        out.discard(key)
        _, s, t, grid = key
        cap = sc.site(s).grid_kw_max
        if cap is not None and grid + grid_extra.get((s, t), 0.0) > cap + tol + tol * cap:
            out.add(("grid_max", None, s, t))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_validator_agrees_with_a_naive_rederivation(sc, seed):
    rng = np.random.default_rng(seed)
    jobs = [n for n in sc.index.job_names if n != "steady"]  # non_preemptible: checked by hand
    sites = list(sc.index.site_names)
    shares = [0.2, 0.3, 0.5, 0.6, 1.0, 1.2]
    compared = 0
    for _ in range(25):
        cells = {
            (jobs[rng.integers(len(jobs))], int(rng.integers(4)))
            for _ in range(rng.integers(1, 10))
        }  # one row per (job, slot): duplicates are the one_site rule, checked by hand
        rows = [
            (j, t, sites[rng.integers(len(sites))], float(rng.choice(shares))) for j, t in cells
        ]
        got = {(v.rule, v.job, v.site, v.slot) for v in _check(sc, rows)}
        assert got == _naive_violations(sc, rows), rows
        compared += bool(got)
    assert compared > 5  # the random plans do break rules


@pytest.mark.parametrize(
    "objective",
    [
        greenopt.Objective("weighted", w_carbon=2.0, w_cost=0.5, w_urgency=0.2),
        greenopt.Objective("carbon", migration_penalty=0.5, delay_penalty=0.01),
    ],
    ids=["weighted", "penalties"],
)
def test_plan_scored_with_custom_weights_is_not_misreported(sc, objective):
    plan = greenopt.evaluate(sc, VALID, objective=objective)
    assert plan.objective_spec == objective
    assert greenopt.validate(sc, plan) == []
    plan.kpis["objective"] += 1.0
    assert [v.rule for v in greenopt.validate(sc, plan)] == ["reported"]


def test_greedy_plan_with_custom_weights_validates():
    sc = greenopt.examples.load("small")
    obj = greenopt.Objective("weighted", w_cost=1.0, w_urgency=0.5)
    plan = greenopt.plan(sc, method="greedy", objective=obj)
    assert greenopt.validate(sc, plan) == []
