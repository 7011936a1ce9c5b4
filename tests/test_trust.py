"""Attacks on what greenopt reads and writes (issue 11), one section per promise.

Each test plays an attacker or an unlucky user: a scenario file that points outside its folder,
a file that is not the table it claims to be, names built to be interpreted (spreadsheet
formulas, matplotlib mathtext, HTML, rich markup), a plan made off the main thread, a scenario
far too large for the machine. Where the command line is involved the real ``greenopt`` runs in
a subprocess.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import greenopt
from greenopt.heuristics.synthetic import synthetic_scenario


# -- off the main thread the MILP plans as well as on it -------------------------------------------
def _lns_plan(sc: greenopt.Scenario, seen: list, **kwargs) -> greenopt.Plan:
    """The MILP forced onto fix-and-optimise (bb_max below its binaries), bounded by a count
    of neighbourhoods (no clock), recording each sub-MILP status."""
    import greenopt.solve as solve

    real = solve.fix_and_optimise

    def spy(*args, **kw):
        res = real(*args, **kw)
        seen.append(dict(res.sub_status))
        return res

    solve.fix_and_optimise = spy
    try:
        return greenopt.plan(sc, "milp", bb_max=10, lns_neighbourhoods=6, lns_size=5, **kwargs)
    finally:
        solve.fix_and_optimise = real


@pytest.fixture(scope="module")
def lns_scenario() -> greenopt.Scenario:
    return synthetic_scenario(jobs=24, sites=3, slots=24, seed=1)


def test_fix_and_optimise_in_a_worker_thread_matches_the_main_thread(lns_scenario):
    main_seen: list = []
    on_main = _lns_plan(lns_scenario, main_seen)
    assert threading.current_thread() is threading.main_thread()
    # a reused worker thread that has already planned with another thread count (a Dask
    # worker does exactly this): HiGHS's per-thread scheduler must not leak into this plan
    worker_seen: list = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_lns_plan, lns_scenario, [], threads=2).result()
        off_main = pool.submit(_lns_plan, lns_scenario, worker_seen).result()
    assert main_seen and worker_seen
    for seen in (main_seen[0], worker_seen[0]):
        assert sum(seen.values()) == 6, seen  # every neighbourhood was solved...
        assert set(seen) <= {"optimal", "feasible"}, seen  # ...never 'no_solution'
    assert worker_seen == main_seen
    assert off_main.kpis["objective"] == on_main.kpis["objective"]
    assert off_main.assignments.equals(on_main.assignments)
    assert greenopt.validate(lns_scenario, off_main) == []


def test_a_plain_thread_plans_like_the_main_thread(lns_scenario):
    on_main = greenopt.plan(lns_scenario, "milp", bb_max=10, lns_neighbourhoods=4, lns_size=5)
    out: list = []
    t = threading.Thread(
        target=lambda: out.append(
            greenopt.plan(lns_scenario, "milp", bb_max=10, lns_neighbourhoods=4, lns_size=5)
        )
    )
    t.start()
    t.join()
    assert out and out[0].kpis["objective"] == on_main.kpis["objective"]
    assert out[0].assignments.equals(on_main.assignments)
