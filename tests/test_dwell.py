"""The dwell rule (MODEL.md §5 "Dwell", validity rule 8) and the plausibility KPIs (§8).

Hand instance ``detour`` (hourly slots, pue 1, no idle load, no renewables):

    a: origin, 300 g/kWh;   b: 1000 | 0 | 2000 g/kWh in slots 0 | 1 | 2;   WAN a–b 1 Gbit/s
    job J: window [0, 3), work 2 h, 1 GPU, 1 kW, state 45 GB → transfer 45·8/(1·3600) = 0.1 h,
           so its dwell at b is 0.1 / α = 1 h (α = 0.1); a move leaves share ≤ 0.9 in its slot.

Without the rule the cheapest plan runs a 1.0 in slot 0, b 0.9 in slot 1 (carbon 0) and back at
a 0.1 in slot 2: 0.3 + 0 + (0.1 + 0.225 kWh of migration)·0.3 = 0.3975 kg — a stay of 0.9 h at
b, short of its 1 h dwell. With the rule the stay must last 1 h or finish the job: b 0.9 in slot
1 and b 0.1 in slot 2 (done at b): 0.3 + 0 + 0.1·2 = 0.5 kg, against 0.6 kg for never moving.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import MILP_KW, MILP_SIZE, scenarios

import greenopt
from greenopt import Scenario, ScenarioError
from greenopt.dwell import dwell_need_h, stays
from greenopt.evaluate import normalise_assignments
from greenopt.heuristics.state import CapacityState, placement
from greenopt.io.files import load_scenario, save_scenario
from greenopt.scenario.canonical import canonical_scenario

START = pd.Timestamp("2024-01-01T00:00:00Z")
HEURISTICS = [m for m in greenopt.METHODS if m != "milp"]


def _site(name: str, carbon, gpus: int = 4, **kw) -> dict:
    return {
        "name": name,
        "gpus": gpus,
        "renewable_kw": [0.0] * len(carbon),
        "carbon": list(carbon),
        **kw,
    }


def _job(name: str = "J", work_h: float = 2.0, deadline_h: int = 3, **kw) -> dict:
    return {
        "name": name,
        "origin": "a",
        "release": START,
        "deadline": START + pd.Timedelta(hours=deadline_h),
        "work_h": work_h,
        "gpus": 1,
        "power_kw": 1.0,
        "state_gb": 45.0,
        **kw,
    }


def detour(alpha: float | None = 0.1, jobs=None, sites=None, slots: int = 3, **kw) -> Scenario:
    return Scenario(
        name="detour",
        horizon={"start": START, "slot_minutes": 60, "slots": slots},
        sites=sites or [_site("a", [300, 300, 300]), _site("b", [1000, 0, 2000])],
        jobs=jobs if jobs is not None else [_job()],
        wan=[{"a": "a", "b": "b", "gbps": 1.0, "latency_ms": 1.0}],
        migration_alpha=alpha,
        **kw,
    )


SHORT_STAY = [("J", 0, "a", 1.0), ("J", 1, "b", 0.9), ("J", 2, "a", 0.1)]
FINISH_AT_B = [("J", 0, "a", 1.0), ("J", 1, "b", 0.9), ("J", 2, "b", 0.1)]


def _check(sc: Scenario, rows):
    return greenopt.validate(sc, greenopt.evaluate(sc, rows))


def _no_short_stay(sc: Scenario, plan) -> None:
    s = stays(sc, normalise_assignments(sc, plan.assignments))
    assert not s["short"].any(), s[s["short"]]


# -- the scenario field ----------------------------------------------------------------------------
def test_alpha_defaults_to_the_papers_value_and_is_validated():
    assert detour().migration_alpha == 0.1
    assert Scenario(**{**_data(), "migration_alpha": None}).migration_alpha is None
    for bad, why in [(0, "greater than 0"), (1.5, "less than or equal to 1"), (True, "boolean")]:
        with pytest.raises(ScenarioError, match="migration_alpha") as err:
            Scenario(**{**_data(), "migration_alpha": bad})
        assert why in str(err.value)
    with pytest.raises(ScenarioError, match="migration_alpha"):
        Scenario(**{**_data(), "migration_alpha": "ten percent"})


def _data() -> dict:
    sc = detour()
    return {
        "name": sc.name,
        "horizon": sc.horizon,
        "sites": sc.sites,
        "jobs": sc.jobs,
        "wan": sc.wan,
    }


@pytest.mark.parametrize("alpha", [0.25, None])
def test_alpha_survives_files_copies_and_canonical_order(tmp_path, alpha):
    sc = detour(alpha)
    back = load_scenario(save_scenario(sc, tmp_path / "s"))
    assert back.migration_alpha == alpha and back == sc
    assert sc.with_jobs(list(sc.jobs)).migration_alpha == alpha
    shuffled = Scenario(**{**_data(), "sites": sc.sites[::-1], "migration_alpha": alpha})
    assert canonical_scenario(shuffled).migration_alpha == alpha
    assert sc != detour(0.5)  # equality sees α


def test_a_file_without_alpha_gets_the_default_and_null_turns_it_off(tmp_path):
    path = save_scenario(detour(), tmp_path / "s")
    text = path.read_text()
    assert "migration_alpha: 0.1" in text
    path.write_text(text.replace("migration_alpha: 0.1\n", ""))
    assert load_scenario(path).migration_alpha == 0.1
    path.write_text(text.replace("migration_alpha: 0.1", "migration_alpha: null"))
    assert load_scenario(path).migration_alpha is None


# -- the rule's measure ----------------------------------------------------------------------------
def test_need_is_bottleneck_transfer_over_alpha_without_restore():
    sites = [_site("a", [300] * 3), _site("b", [300] * 3)]
    sc = Scenario(
        name="route",
        horizon={"start": START, "slot_minutes": 60, "slots": 3},
        sites=sites,
        jobs=[_job(restore_h=0.5)],
        # a–x fat, x–b thin: the route's bottleneck is 0.5 Gbit/s
        wan=[{"a": "a", "b": "x", "gbps": 100.0}, {"a": "x", "b": "b", "gbps": 0.5}],
        migration_alpha=0.2,
    )
    need = dwell_need_h(sc)
    transfer = 45 * 8 / (0.5 * 3600)  # 0.2 h; restore_h (0.5 h) is not part of it
    assert need[0, 0, 1] == pytest.approx(transfer / 0.2)
    assert need[0, 0, 0] == 0.0
    off = sc.with_jobs(list(sc.jobs), migration_alpha=None)
    assert np.all(dwell_need_h(off) == 0.0)


# -- the validator ---------------------------------------------------------------------------------
def test_too_short_a_stay_is_a_violation_naming_job_sites_slot_hours():
    (v,) = _check(detour(), SHORT_STAY)
    assert (v.rule, v.job, v.site, v.slot) == ("dwell", "J", "b", 1)
    assert (v.amount, v.limit) == (pytest.approx(0.9), pytest.approx(1.0))
    assert "'a'→'b'" in v.message and "moves on after slot 1" in v.message
    assert "0.9 h" in v.message and "1 h" in v.message


def test_a_stay_that_finishes_the_job_is_allowed_even_when_short():
    # work 1.5 h: a 0.6 then b 0.9 — done at b after 0.9 h < 1 h
    sc = detour(jobs=[_job(work_h=1.5)])
    assert _check(sc, [("J", 0, "a", 0.6), ("J", 1, "b", 0.9)]) == []
    assert _check(detour(), FINISH_AT_B) == []


def test_rule_off_allows_the_short_stay():
    assert _check(detour(None), SHORT_STAY) == []


def test_a_long_enough_stay_is_allowed_and_the_arrival_slot_counts():
    # dwell 1 h exactly: 0.9 in the arrival slot + 0.1 the next, then back to a (done there)
    rows = [("J", 0, "b", 0.9), ("J", 1, "b", 0.1), ("J", 2, "a", 0.9)]
    assert _check(detour(jobs=[_job(work_h=1.9)]), rows) == []
    short = [("J", 0, "b", 0.9), ("J", 1, "b", 0.05), ("J", 2, "a", 0.9)]
    (v,) = _check(detour(jobs=[_job(work_h=1.85)]), short)
    assert (v.rule, v.slot, v.amount) == ("dwell", 0, pytest.approx(0.95))


def test_an_unfinished_last_stay_still_needs_its_dwell():
    (v,) = _check(detour(), [("J", 0, "a", 0.5), ("J", 1, "b", 0.5)])
    assert (v.rule, v.site, v.slot, v.amount) == ("dwell", "b", 1, pytest.approx(0.5))
    assert "stops there unfinished" in v.message


def test_a_job_that_is_not_migratable_is_covered():
    sc = detour(jobs=[_job(migratable=False)])
    (v,) = _check(sc, [("J", 1, "b", 0.5)])  # its one move a→b, then 0.5 h, unfinished
    assert (v.rule, v.job) == ("dwell", "J")
    assert _check(sc, [("J", 1, "b", 0.9), ("J", 2, "b", 1.0)]) == []  # 1.9 h at b


def test_every_stay_is_checked_the_return_to_the_origin_too():
    # a→b: 1.0 h at b (its dwell); b→a in slot 2: 0.9 h at a, and the job (2.9 h) is not done
    sc = detour(jobs=[_job(work_h=2.9)])
    rows = [("J", 0, "b", 0.9), ("J", 1, "b", 0.1), ("J", 2, "a", 0.9)]
    (v,) = _check(sc, rows)
    assert (v.rule, v.site, v.slot) == ("dwell", "a", 2)


# -- plausibility KPIs -------------------------------------------------------------------------
def test_short_runs_and_migrations_per_job_hand_computed():
    jobs = [_job(), _job("K", work_h=1.0, state_gb=0.0)]
    sc = detour(jobs=jobs)
    rows = [
        ("J", 0, "a", 0.05),  # 3 minutes, not J's last: short
        ("J", 1, "b", 0.9),  # a→b
        ("J", 2, "b", 1.0 / 12),  # exactly 5 minutes, and J's last: not short
        ("K", 0, "b", 0.04),  # 2.4 minutes, a→b, not K's last: short
        ("K", 1, "b", 0.9),
        ("K", 2, "a", 0.06),  # b→a; K's last run: not short
    ]
    p = greenopt.evaluate(sc, rows)
    assert p.kpis["short_runs"] == 2
    assert p.kpis["migrations"] == 3
    assert p.kpis["migrations_per_job"] == pytest.approx(1.5)
    card = p.scorecard.set_index("kind")
    assert card.loc["all", "short_runs"] == 2
    assert card.loc["all", "migrations_per_job"] == pytest.approx(1.5)
    empty = greenopt.evaluate(detour(jobs=[]), [])
    assert (empty.kpis["short_runs"], empty.kpis["migrations_per_job"]) == (0, 0.0)


def test_report_shows_the_plausibility_kpis_and_the_rule():
    from greenopt.report.report import fact_rows, kpi_rows

    sc = detour()
    p = greenopt.evaluate(sc, FINISH_AT_B)
    kpis = {k: v for k, v, _ in kpi_rows(p)}
    assert kpis["short_runs"] == "0" and "migrations_per_job" in kpis
    facts = dict(fact_rows(sc, p))
    assert facts["dwell rule"].startswith("α = 0.1")
    assert dict(fact_rows(detour(None), p))["dwell rule"] == "off"


# -- the MILP ----------------------------------------------------------------------------------
def _milp(sc: Scenario, **kw):
    return greenopt.plan(sc, "milp", mip_gap=1e-6, time_limit=30, **kw)


def _rows(plan) -> list[tuple]:
    a = plan.assignments
    return [(r.job, int(r.slot), r.site, float(r.share)) for r in a.itertuples()]


def test_milp_without_the_rule_takes_the_short_detour():
    p = _milp(detour(None))
    assert _rows(p) == [(j, t, s, pytest.approx(x, abs=1e-5)) for j, t, s, x in SHORT_STAY]
    assert p.kpis["carbon_kg"] == pytest.approx(0.3975, abs=1e-5)
    # the same plan breaks the rule once it is on
    assert [v.rule for v in greenopt.validate(detour(), p)] == ["dwell"]


def test_milp_with_the_rule_stays_its_dwell():
    sc = detour()
    p = _milp(sc)
    assert greenopt.validate(sc, p) == []
    assert _rows(p) == [(j, t, s, pytest.approx(x, abs=1e-5)) for j, t, s, x in FINISH_AT_B]
    assert p.kpis["carbon_kg"] == pytest.approx(0.5, abs=1e-5)
    assert p.status in ("optimal", "feasible")  # HiGHS's tolerance noise may cost a 1e-6 h miss


def test_milp_under_hard_deadlines_obeys_the_rule_too():
    sc = detour()
    p = _milp(sc, deadlines="hard")
    assert greenopt.validate(sc, p) == []
    assert p.kpis["carbon_kg"] == pytest.approx(0.5, abs=1e-5)


def _blocked(alpha: float | None) -> Scenario:
    """J (2.5 h) cannot finish: a lets it run half of each slot (grid limit 0.5 kW), b is taken
    in slots 0–1 by a job that may only run there. The least unmet work moves J to b in slot 2
    for 0.9 h (unmet 0.6 h) — a last stay short of its 1 h dwell; with the rule J stays at a
    (unmet 1.0 h)."""
    sites = [
        _site("a", [300, 300, 300], gpus=1, grid_kw_max=0.5),
        _site("b", [300, 300, 300], gpus=1),
    ]
    pinned = {**_job("P", work_h=2.0, deadline_h=2, state_gb=0.0), "origin": "b"}
    pinned["allowed_regions"] = ["b"]
    return detour(alpha, jobs=[_job(work_h=2.5), pinned], sites=sites)


def test_milp_does_not_end_unfinished_on_a_short_stay():
    off = _milp(_blocked(None))
    assert off.kpis["unmet_work_h"] == pytest.approx(0.6, abs=1e-5)  # a 0.5 + 0.5, b 0.9
    assert [v.rule for v in greenopt.validate(_blocked(0.1), off)] == ["dwell"]
    sc = _blocked(0.1)
    on = _milp(sc)
    assert greenopt.validate(sc, on) == []
    assert on.kpis["unmet_work_h"] == pytest.approx(1.0, abs=1e-5)  # stays at a: 3 × 0.5 h
    assert on.kpis["migrations"] == 0


def test_milp_model_has_the_dwell_family_only_where_it_can_bind():
    from greenopt.formulations.build import build_matrix
    from greenopt.objectives import Objective

    _, mx = build_matrix(detour(), Objective())
    assert {"rho", "fin"} <= set(mx.cols) and "dwell_owed" in mx.rows
    assert "dwell_departure" in mx.rows and "dwell_end" in mx.rows
    _, hard = build_matrix(detour(), Objective(), deadlines="hard")
    assert "fin" not in hard.cols and "dwell_end" not in hard.rows
    _, off = build_matrix(detour(None), Objective())
    assert "rho" not in off.cols
    _, stateless = build_matrix(detour(jobs=[_job(state_gb=0.0)]), Objective())
    assert "rho" not in stateless.cols


# -- the heuristics and baselines ------------------------------------------------------------------
def test_capacity_state_check_refuses_a_short_stay():
    sc = detour()
    st = CapacityState(sc)
    short = placement(0, [0, 1, 2], [0, 1, 0], [1.0, 0.9, 0.1])
    assert st.check(short) == "dwell"
    assert st.check(placement(0, [0, 1], [0, 1], [0.5, 0.5])) == "dwell"  # open, unfinished
    assert st.check(placement(0, [0, 1, 2], [0, 1, 1], [1.0, 0.9, 0.1])) is None  # done at b
    off = CapacityState(detour(None))
    assert off.check(short) is None


@pytest.mark.parametrize("method", HEURISTICS)
@pytest.mark.parametrize("case", ["detour", "blocked"])
def test_every_heuristic_obeys_the_rule_on_the_hand_instances(method, case):
    sc = detour() if case == "detour" else _blocked(0.1)
    p = greenopt.plan(sc, method)
    assert greenopt.validate(sc, p) == [], method
    _no_short_stay(sc, p)


def test_follow_renewables_moves_only_for_its_dwell():
    # b has renewable surplus in slot 1 only: the energy-only rule wants one slot there
    sites = [
        {**_site("a", [300, 300, 300]), "renewable_kw": [0.0, 0.0, 5.0]},
        {**_site("b", [300, 300, 300]), "renewable_kw": [0.0, 5.0, 0.0]},
    ]
    off = detour(None, sites=sites)
    p_off = greenopt.plan(off, "follow-renewables")
    assert p_off.kpis["migrations"] == 2  # to b for slot 1, back to a (its surplus) for slot 2
    sc = detour(sites=sites)
    p = greenopt.plan(sc, "follow-renewables")
    assert greenopt.validate(sc, p) == []
    # the move to b now books b until the dwell (1 h) is worked: slots 1 and 2
    assert list(p.assignments["site"]) == ["a", "b", "b"]
    assert p.assignments["share"].tolist() == pytest.approx([1.0, 0.9, 0.1])


def test_greenest_region_skips_a_start_the_rule_forbids():
    # b is the greenest site at J's release but taken by P (earlier deadline) in slots 1–2:
    # J would work 0.11 + 1 h there (400 GB: transfer 0.89 h, dwell 8.9 h) and not finish
    sites = [_site("a", [150] * 4, gpus=1), _site("b", [10] * 4, gpus=1)]
    blocker = {**_job("P", work_h=2.0, deadline_h=3, state_gb=0.0), "origin": "b"}
    blocker.update(release=START + pd.Timedelta(hours=1), migratable=False)
    jobs = [_job(work_h=2.0, deadline_h=4, state_gb=400.0), blocker]

    def plan(alpha):
        sc = Scenario(
            name="greenest",
            horizon={"start": START, "slot_minutes": 60, "slots": 4},
            sites=sites,
            jobs=jobs,
            wan=[{"a": "a", "b": "b", "gbps": 1.0}],
            migration_alpha=alpha,
        )
        p = greenopt.plan(sc, "greenest-region")
        assert greenopt.validate(sc, p) == []
        return set(p.assignments.loc[p.assignments["job"] == "J", "site"])

    assert plan(None) == {"b"}  # without the rule it starts at b, and misses its deadline
    assert plan(0.1) == {"a"}


# -- the tidy step -----------------------------------------------------------------------------
def test_tidy_raises_an_arrival_sliver_when_the_work_has_nowhere_else_to_go():
    from greenopt.milp.tidy import tidy

    # b clean and a dirty all day: the job belongs at b; a plan that arrives with 3.6 s
    sites = [_site("a", [300, 300, 300]), _site("b", [0, 0, 0])]
    sc = detour(sites=sites)
    sliver = [("J", 0, "b", 0.001), ("J", 1, "b", 1.0), ("J", 2, "b", 0.999)]
    before = greenopt.evaluate(sc, sliver)
    assert before.kpis["short_runs"] == 1
    r = tidy(sc, sliver, "carbon", "soft")
    after = greenopt.evaluate(sc, r.assignments)
    assert greenopt.validate(sc, after) == []
    assert after.kpis["short_runs"] == 0
    assert after.kpis["objective"] <= before.kpis["objective"] * (1 + 1e-4) + 1e-9
    assert r.changed and r.fragments_after < r.fragments_before


# -- property: every method obeys the rule on random instances ------------------------------------
# (the test is below, with the relaxation's check: one drawn scenario serves both)
DWELL_EXAMPLES = int(os.environ.get("GREENOPT_DWELL_EXAMPLES", "60"))


def test_tidy_fills_an_idle_sliver_and_drops_a_short_run():
    from greenopt.milp.tidy import count_fragments, tidy

    sc = detour(
        sites=[_site("a", [300] * 4), _site("b", [300] * 4)],
        jobs=[_job(work_h=3.0, deadline_h=4, state_gb=0.0)],
        slots=4,
    )
    # idles 1.8 minutes in slot 1 between full slots, and runs 3 minutes in slot 2
    rows = [("J", 0, "a", 1.0), ("J", 1, "a", 0.97), ("J", 2, "a", 0.05), ("J", 3, "a", 0.98)]
    before = greenopt.evaluate(sc, rows)
    assert before.kpis["short_runs"] == 1 and count_fragments(sc, before) == 2
    r = tidy(sc, rows, "carbon", "soft")
    after = greenopt.evaluate(sc, r.assignments)
    assert greenopt.validate(sc, after) == []
    assert count_fragments(sc, after) == 0 and r.fragments_after == 0
    # the same carbon (one grid price all day), the work earlier: a lower objective
    assert after.kpis["carbon_kg"] == pytest.approx(before.kpis["carbon_kg"])
    assert after.objective <= before.objective


def test_milp_tidy_step_keeps_the_plan_valid_and_within_its_tolerance():
    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.milp.tidy import count_fragments, tidy

    sc = synthetic_scenario(30, 4, 24, seed=2)
    # deterministic: the raw and the tidied run search alike (a clock-based search could differ);
    # branch-and-bound alone (lns_first=0): its plan has fragments enough (10), in a third of
    # the time fix-and-optimise first takes
    kw = {
        "mip_gap": 0.01,
        "threads": 1,
        "highs_options": {"mip_max_nodes": 200},
        "deterministic": True,
        "lns_first": 0,
    }
    raw = greenopt.plan(sc, "milp", tidy=False, **kw)
    r = tidy(sc, raw.assignments, "carbon", "soft")
    tidied = greenopt.evaluate(sc, r.assignments)
    assert greenopt.validate(sc, tidied) == []
    assert tidied.objective <= raw.objective + 1e-4 * abs(raw.objective) + 1e-9
    assert count_fragments(sc, tidied) <= count_fragments(sc, raw)
    assert tidied.kpis["unmet_work_h"] <= raw.kpis["unmet_work_h"] + 1e-7
    # and in the pipeline: the same plan with the step on is valid, with its notes
    on = greenopt.plan(sc, "milp", **kw)
    assert greenopt.validate(sc, on) == []
    assert on.kpis["short_runs"] <= raw.kpis["short_runs"]


# -- the labelled model ------------------------------------------------------------------------
def test_the_labelled_model_names_the_dwell_family_by_job_site_and_slot():
    """build_model shows the family of MODEL.md here §5a over names, its math as the doc."""
    model = greenopt.build_model(detour())
    m = model.pyomo
    families = model.families()
    assert families["dwell_owed"] == families["dwell_departure"] == ("job", "site", "slot")
    assert families["dwell_end"] == ("job", "site")
    assert families["done_if_fin"] == ("job",)
    assert m.fin.doc.startswith("fin[job]: ")
    # ρ exists from the first slot a binding move can arrive, at both sites (J may return to a)
    assert set(m.rho) == {(j, s, t) for j in ("J",) for s in ("a", "b") for t in range(3)}
    assert set(m.dwell_owed) == set(m.rho) and set(m.fin) == {"J"}
    assert m.dwell_owed.doc.startswith("dwell_owed[job, site, slot]: ρ[j,b,t] − ρ[j,b,t−1]")
    assert "(§5a)" in m.dwell_end.doc and m.rho.doc.startswith("rho[job, site, slot]: ")
    # the row reads over named variables: ρ, the move into b, the work at b
    row = str(m.dwell_owed["J", "b", 1].body)
    assert "rho[J,b,1]" in row and "mv[J,a,b,1]" in row and "x[J,b,1]" in row
    # under hard deadlines every job finishes: no end rows, no fin
    hard = greenopt.build_model(detour(), deadlines="hard")
    assert hard.pyomo.component("fin") is None
    assert "dwell_end" not in hard.families() and "dwell_owed" in hard.families()
    # the rule off: no family at all
    off = greenopt.build_model(detour(None))
    assert off.pyomo.component("rho") is None and "dwell_owed" not in off.families()


def test_the_per_job_variant_keys_its_rows_by_job_and_slot():
    from greenopt.formulations.build import build_matrix
    from greenopt.formulations.dwell import add_dwell
    from greenopt.formulations.matrix import Matrix
    from greenopt.formulations.pyomo_model import to_pyomo
    from greenopt.objectives import Objective

    ix, mx = build_matrix(detour(None), Objective())  # the model without the family ...
    ix.scenario = detour()  # ... and the family added per job, as bench_dwell_forms does
    before = set(mx.rows)
    dw = add_dwell(mx, ix, per_job=True)
    assert dw is not None and isinstance(mx, Matrix)
    assert mx.cols["rho"].key_names == ("job", "slot")
    assert mx.rows["dwell_departure"].key_names == ("job", "slot")
    assert mx.rows["dwell_end"].key_names == ("job",)
    m = to_pyomo(ix, mx)
    assert set(m.rho) == {("J", t) for t in range(3)}
    assert {"dwell_owed", "dwell_departure", "dwell_end", "done_if_fin"} == set(mx.rows) - before


# -- options: the MILP's tidy step, the greedy's α ------------------------------------------------
def test_tidy_is_a_milp_parameter_only():
    from greenopt.errors import OptionsError

    p = greenopt.plan(detour(), "milp", tidy=False, mip_gap=1e-6, time_limit=30)
    assert greenopt.validate(detour(), p) == []
    with pytest.raises(OptionsError, match="tidy"):
        greenopt.plan(detour(), "greedy", tidy=False)
    with pytest.raises(OptionsError, match="tidy"):
        greenopt.plan(detour(), "milp", tidy="no")


def test_the_greedys_domain_alpha_is_the_scenarios_unless_set():
    """MODEL.md §9's α and the dwell rule's are the seed paper's one α: the greedy's feasibility
    domain takes the scenario's migration_alpha unless its own ``alpha`` is given, and the
    paper's 0.1 when the scenario turns the rule off."""
    from greenopt.heuristics.greedy import DOMAIN_ALPHA, GreedySettings

    assert GreedySettings().alpha is None and DOMAIN_ALPHA == 0.1
    assert GreedySettings().for_scenario(detour(0.03)).alpha == 0.03
    assert GreedySettings().for_scenario(detour(None)).alpha == DOMAIN_ALPHA
    assert GreedySettings(alpha=0.5).for_scenario(detour(0.03)).alpha == 0.5
    assert GreedySettings.from_params({"alpha": None}).for_scenario(detour(0.2)).alpha == 0.2


def test_a_strict_scenario_alpha_narrows_the_greedys_domain():
    """J can halve its carbon at b, but its 45 GB take 0.1 h to move: inside the domain for
    α = 0.1 and b's 3 h window (0.1 ≤ 0.3), outside it for α = 0.03 (0.1 > 0.09) — a move the
    greedy then makes only when the caller's own α allows it (rescue off: no exceptions)."""
    sites = [_site("a", [300, 300, 300]), _site("b", [150, 150, 150])]
    for s in sites:
        s["renewable_kw"] = [0.5, 0.5, 0.5]  # a renewable window of 3 h at both sites

    def moved(migration_alpha, **params) -> bool:
        sc = detour(migration_alpha, sites=sites)
        p = greenopt.plan(sc, "greedy", domain=True, rescue=False, **params)
        assert greenopt.validate(sc, p) == []
        return p.kpis["migrations"] > 0

    assert moved(0.1) and moved(None)  # the scenario's α (or the paper's 0.1 with the rule off)
    assert not moved(0.03)
    assert moved(0.03, alpha=0.1)  # the greedy's own α wins


# -- the tidy step on a model its caller changed ---------------------------------------------------
def _budget(n: int):
    def extend(model) -> None:
        import pyomo.environ as pyo

        m = model.pyomo
        m.migration_budget = pyo.Constraint(expr=sum(m.mv.values()) <= n)

    return extend


MILP_TIDY_KW = {"mip_gap": 0.01, "threads": 1, "time_limit": 60}


def test_tidy_re_solves_the_callers_model_and_keeps_its_constraints():
    """With ``extend`` the tidy step re-solves the caller's compiled model (its rows kept), so
    the fragments go and the caller's migration budget still holds; measured on the small
    example, whose MILP plan leaves arrival slivers of 3.6 s."""
    from greenopt.examples import load

    sc = load("small")
    raw = greenopt.plan(sc, "milp", tidy=False, extend=_budget(3), **MILP_TIDY_KW)
    on = greenopt.plan(sc, "milp", extend=_budget(3), **MILP_TIDY_KW)
    assert raw.kpis["short_runs"] > 0
    assert on.kpis["short_runs"] < raw.kpis["short_runs"]
    assert any(n.startswith("tidy: fragments") for n in on.notes)
    assert on.kpis["migrations"] <= 3 and greenopt.validate(sc, on) == []
    assert on.objective <= raw.objective + 1e-4 * abs(raw.objective) + 1e-9
    # solver_objective is the model's value of the plan returned (the tidy LP's)
    assert on.solver_objective == pytest.approx(on.kpis["objective"], rel=1e-6)


def test_tidy_cannot_remove_a_sliver_the_callers_model_demands():
    """A caller's row that pins a 3.6 s run: tidying without the caller's model would drop it
    (the plan would then break the row and be thrown away); tidying the caller's model keeps
    it, and the rest is still tidied. With a changed objective, the tolerance and the plan's
    solver_objective are the model's own."""
    import pyomo.environ as pyo

    from greenopt.examples import load
    from greenopt.milp.tidy import tidy

    sc = load("small")
    raw = greenopt.plan(sc, "milp", tidy=False, **MILP_TIDY_KW)
    a = raw.assignments
    short = a[(a["share"] * sc.horizon.dt_h < 5 / 60) & (a["share"] > 0)]
    job, site, slot, share = short.iloc[0][["job", "site", "slot", "share"]]
    key = (job, site, int(slot))

    def pin(model) -> None:
        m = model.pyomo
        m.pinned = pyo.Constraint(expr=m.x[key] == float(share))
        m.objective.expr = m.objective.expr + 0.5 * sum(m.mv.values())

    # the step on greenopt's own LP would move or drop the pinned sliver
    alone = tidy(sc, raw.assignments, "carbon", "soft")
    got = alone.assignments.set_index(["job", "site", "slot"])["share"]
    assert got.get(key, 0.0) != pytest.approx(float(share), abs=1e-7)

    on = greenopt.plan(sc, "milp", extend=pin, **MILP_TIDY_KW)
    kept = on.assignments.set_index(["job", "site", "slot"])["share"]
    assert kept[key] == pytest.approx(float(share), abs=1e-7)
    assert greenopt.validate(sc, on) == [] and on.status in ("optimal", "feasible")
    assert on.kpis["short_runs"] >= 1
    assert on.solver_objective == pytest.approx(
        on.kpis["objective"] + 0.5 * on.kpis["migrations"], abs=1e-3
    )


def test_tidy_runs_after_another_solver_too():
    """The read-back is shared: a plan from a Pyomo solver other than HiGHS goes through the
    tidy step as well. On the small example appsi_highs's plan (another vertex than HiGHS's
    own) has 4 fragments none of which can go within 0.01 % (measured: 17 LPs), so the step
    says so and the plan is the untidied one; tidy=False skips the step."""
    from greenopt.examples import load

    sc = load("small")
    kw = {"solver": "appsi_highs", "mip_gap": 0.01, "time_limit": 60}
    raw = greenopt.plan(sc, "milp", tidy=False, **kw)
    on = greenopt.plan(sc, "milp", **kw)
    assert on.solver == "appsi_highs" and greenopt.validate(sc, on) == []
    assert not any(n.startswith("tidy") for n in raw.notes)
    assert any(n.startswith("tidy: ") for n in on.notes), on.notes
    assert on.kpis["short_runs"] <= raw.kpis["short_runs"]
    assert on.objective <= raw.objective + 1e-4 * abs(raw.objective) + 1e-9


# -- the bound sees the rule (the relaxation's §11a) -----------------------------------------------
def _relaxation_lp(sc: Scenario, deadlines: str = "soft", **kw) -> float:
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.objectives import Objective
    from greenopt.options import PlanOptions
    from greenopt.solvers import highs

    _, mx = build_relaxation(sc, Objective.of("carbon"), deadlines, **kw)
    form = highs.from_matrix(mx)
    res = highs.solve(form, None, PlanOptions(threads=1), None, relax=True, log=False)
    assert res.status == "optimal"
    return float(res.objective)


def _exact(sc: Scenario, deadlines: str = "soft") -> float:
    """HiGHS to optimality on the whole MILP (every site and move) with the scenario's rule."""
    from greenopt.formulations.build import build_matrix
    from greenopt.objectives import Objective
    from greenopt.options import PlanOptions
    from greenopt.solvers import highs

    _, mx = build_matrix(sc, Objective.of("carbon"), deadlines, absorbed_moves=False)
    form = highs.from_matrix(mx)
    res = highs.solve(form, None, PlanOptions(threads=1, mip_gap=0.0), None, log=False)
    assert res.status == "optimal"
    return float(res.objective)


@pytest.mark.parametrize("deadlines", ["soft", "hard"])
def test_the_bound_sees_the_rule_on_the_detour(deadlines):
    """Without the dwell rows the relaxation's best is the short detour (0.9 h at b, back to a);
    with them a stay at b owes its hour, so both bounds rise — strictly — and stay below the
    exact optimum with the rule (0.5 kg: finish at b)."""
    from greenopt.milp.relaxation import root_bound
    from greenopt.objectives import Objective

    sc = detour()
    exact = _exact(sc, deadlines)
    tol = 1e-6 * max(1.0, abs(exact))
    blind = _relaxation_lp(sc, deadlines, dwell=False)
    assert blind == pytest.approx(_relaxation_lp(detour(None), deadlines), abs=1e-9)
    seeing = _relaxation_lp(sc, deadlines)
    assert seeing > blind + 1e-3, (blind, seeing)
    assert seeing <= exact + tol
    obj = Objective.of("carbon")
    root_blind = root_bound(detour(None), obj, deadlines, 30).bound
    root = root_bound(sc, obj, deadlines, 30).bound
    assert root_blind is not None and root is not None
    assert root > root_blind + 1e-3 and root > seeing - tol
    assert root <= exact + tol
    assert _exact(detour(None), deadlines) < exact - 0.05  # the rule binds here
    # what the MILP runs beside its search: the LP with the rows, the rule off: nothing
    from greenopt.milp.relaxation import bound_with_dwell

    assert bound_with_dwell(sc, obj, deadlines, True, 30) == pytest.approx(seeing, abs=1e-7)
    assert bound_with_dwell(detour(None), obj, deadlines, True, 30) is None


def test_the_relaxations_dwell_rows_are_absent_without_the_rule_or_state():
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.objectives import Objective

    _, mx = build_relaxation(detour(), Objective())
    assert {"rho", "loc", "fin"} <= set(mx.cols)
    assert {"dwell_owed", "dwell_stay", "dwell_window", "dwell_end", "loc_one"} <= set(mx.rows)
    for sc in (detour(None), detour(jobs=[_job(state_gb=0.0)])):
        _, plain = build_relaxation(sc, Objective())
        assert not {"rho", "loc", "fin"} & set(plain.cols)
        _, blind = build_relaxation(detour(), Objective(), dwell=False)
        assert set(blind.cols) == set(plain.cols) and blind.n_rows == plain.n_rows


def _relaxation_point(sc: Scenario, ix, mx, plan) -> tuple[np.ndarray, np.ndarray]:
    """The relaxation's columns for a valid plan, as §11a maps it (x, unmet, arr, cum, stay,
    loc, ρ, fin), and which columns that sets (not the grid's)."""
    from greenopt.formulations.dwell_relaxation import relaxed_dwell_need

    idx = sc.index
    v = np.zeros(mx.n_cols)
    known = np.zeros(mx.n_cols, dtype=bool)
    pos = {name: {tuple(k): i for i, k in enumerate(b.keys)} for name, b in mx.cols.items()}

    def put(name: str, key: tuple, value: float) -> None:
        v[mx.cols[name].cols([pos[name][key]])] = value

    for name in ("x", "unmet", "arr", "cum", "stay", "loc", "rho", "fin"):
        if name in mx.cols:
            known[mx.cols[name].cols(np.arange(mx.cols[name].n))] = True
    a = normalise_assignments(sc, plan.assignments)
    done = np.zeros(ix.J)
    for r in a.itertuples():
        j, s, t = idx.job_pos[r.job], idx.site_pos[r.site], int(r.slot)
        put("x", (j, s, t), r.share)
        done[j] += r.share * ix.dt
    if "unmet" in mx.cols:
        for j in range(ix.J):
            put("unmet", (j,), max(0.0, idx.work_h[j] - done[j]))
    arrive = np.zeros((ix.J, ix.S, ix.T))
    for m in plan.migrations.itertuples():
        arrive[idx.job_pos[m.job], idx.site_pos[m.dst], int(m.slot)] = 1.0
    for name in ("arr", "cum"):
        if name in mx.cols:
            for i, (j, b, t) in enumerate(mx.cols[name].keys):
                f = idx.first_slot[j]
                value = arrive[j, b, t] if name == "arr" else arrive[j, b, f : t + 1].sum()
                v[mx.cols[name].cols([i])] = value
    if "stay" in mx.cols:
        for i, (j,) in enumerate(mx.cols["stay"].keys):
            v[mx.cols["stay"].cols([i])] = float(not arrive[j].any())
    where = np.full((ix.J, ix.T), -1)  # the state's site during each slot of the window
    for j in range(ix.J):
        s = idx.origin[j]
        for t in range(idx.first_slot[j], idx.end_slot[j]):
            moved = np.flatnonzero(arrive[j, :, t])
            s = moved[0] if len(moved) else s
            where[j, t] = s
    if "loc" in mx.cols:
        for i, (j, s, t) in enumerate(mx.cols["loc"].keys):
            v[mx.cols["loc"].cols([i])] = float(where[j, t] == s)
    if "rho" in mx.cols:
        dmin = relaxed_dwell_need(ix)
        owed: dict[tuple[int, int], float] = {}
        rho = mx.cols["rho"]
        for i in np.lexsort((rho.keys[:, 2], rho.keys[:, 1], rho.keys[:, 0])):
            j, b, t = rho.keys[i]
            worked = v[mx.cols["x"].cols([pos["x"][(j, b, t)]])][0] * ix.dt
            last = owed.get((j, b), 0.0) + arrive[j, b, t] - worked / dmin[j, b]
            owed[(j, b)] = max(0.0, last)
            v[rho.cols([i])] = owed[(j, b)]
    if "fin" in mx.cols:
        for i, (j,) in enumerate(mx.cols["fin"].keys):
            done_j = done[j] >= idx.work_h[j] - 1e-6 * max(1.0, idx.work_h[j])
            v[mx.cols["fin"].cols([i])] = float(done_j)
    return v, known


@settings(
    max_examples=DWELL_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_method_obeys_the_dwell_rule_and_the_models_rows_cut_off_no_valid_plan(data):
    """Random small instances (tests/test_properties.py's strategy) with the rule on at the
    paper's α or a stricter one; one drawn scenario and one plan per method serve three
    properties (each was its own test, planning the same methods on the same strategy):

    * no method's plan has a stay short of its dwell, and the validator agrees;
    * every heuristic's (valid) plan, written as the MILP's columns, satisfies every row of the
      model with the dwell family (owed, departure, window cut, end): the formulation forbids
      only what MODEL.md forbids;
    * every method's valid plan, written as the relaxation's columns the way §11a maps it,
      satisfies every row of the relaxation that does not involve the grid columns (those are
      the energy rows, unchanged): the bound's dwell rows forbid only what MODEL.md forbids."""
    from greenopt.formulations.build import build_matrix
    from greenopt.formulations.relaxation import build_relaxation
    from greenopt.formulations.solution import start_vector
    from greenopt.objectives import Objective

    sc = data.draw(scenarios(size=MILP_SIZE), label="scenario")
    alpha = data.draw(st.sampled_from([0.1, 0.03]), label="migration_alpha")
    deadlines = data.draw(st.sampled_from(["soft", "hard"]), label="deadlines")
    presence = data.draw(st.booleans(), label="presence")
    sc = canonical_scenario(sc.with_jobs(list(sc.jobs), migration_alpha=alpha))
    # the MILP's model
    mix, mmx = build_matrix(sc, Objective(), deadlines, absorbed_moves=False)
    mA, mlo, mhi = mmx.row_arrays()
    mnames = np.concatenate([[name] * b.n for name, b in mmx.rows.items()])
    # the relaxation
    ix, mx = build_relaxation(sc, Objective(), deadlines, presence=presence)
    A, lo, hi = mx.row_arrays()
    names = np.concatenate([[name] * b.n for name, b in mx.rows.items()])
    for method in greenopt.METHODS:
        p = greenopt.plan(sc, method, deadlines="soft", **(MILP_KW if method == "milp" else {}))
        # the rule
        _no_short_stay(sc, p)
        violations = greenopt.validate(sc, p)
        assert [v for v in violations if v.rule == "dwell"] == [], method
        # the MILP's dwell rows, on every heuristic's plan
        if method in HEURISTICS and not (deadlines == "hard" and p.kpis["deadline_misses"]):
            v = start_vector(mix, mmx, p.assignments)
            # (None: an arrival share below the model's least (1e-3), not representable)
            if v is not None:
                CHECKED[method] = CHECKED.get(method, 0) + 1
                act = mA @ v
                bad = (act < mlo - 1e-6) | (act > mhi + 1e-6)
                assert not bad.any(), (method, sorted(set(mnames[bad])))
        # the relaxation's rows
        if violations:
            # only valid plans must map (a time-limited MILP plan has been seen pausing a
            # non-preemptible job: another property's business, not this relaxation's)
            continue
        if deadlines == "hard" and p.kpis["deadline_misses"]:
            continue  # not a plan under hard deadlines
        v, known = _relaxation_point(sc, ix, mx, p)
        rows = np.flatnonzero(np.asarray(abs(A[:, ~known]).sum(axis=1)).ravel() == 0)
        act = A @ v
        bad = rows[(act[rows] < lo[rows] - 1e-6) | (act[rows] > hi[rows] + 1e-6)]
        RELAX_CHECKED[method] = RELAX_CHECKED.get(method, 0) + 1
        if "rho" in mx.cols:
            RELAX_CHECKED["with rows"] = RELAX_CHECKED.get("with rows", 0) + 1
        assert not len(bad), (method, sorted(set(names[bad])))


CHECKED: dict[str, int] = {}
RELAX_CHECKED: dict[str, int] = {}


def test_the_cut_off_check_saw_plans_of_every_method():
    """The MILP rows' check above is not vacuous: every heuristic's plans were written and
    checked."""
    if not CHECKED:
        test_every_method_obeys_the_dwell_rule_and_the_models_rows_cut_off_no_valid_plan()
    assert all(CHECKED.get(m, 0) >= DWELL_EXAMPLES // 3 for m in HEURISTICS), CHECKED


def test_the_relaxation_check_saw_plans_with_the_dwell_rows():
    """The relaxation's check above is not vacuous: most drawn scenarios had dwell rows to
    check."""
    if not RELAX_CHECKED:
        test_every_method_obeys_the_dwell_rule_and_the_models_rows_cut_off_no_valid_plan()
    assert RELAX_CHECKED.get("with rows", 0) >= DWELL_EXAMPLES // 3, RELAX_CHECKED
