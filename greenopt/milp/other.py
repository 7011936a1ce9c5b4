"""The MILP with a Pyomo solver other than HiGHS (``solver="cbc"``, ``"glpk"``,
``"appsi_highs"``, ...): the same model, with each job's best few sites, solved once.

Solvers other than HiGHS get no fix-and-optimise, so the model is kept within
:data:`~greenopt.milp.candidates.AUTO_MOVE_BUDGET` move binaries by cutting each job's sites to
the best-scoring few plus the start plan's. A cut model's optimum bounds nothing: the bound is then
the relaxation LP's over every reachable site, solved by HiGHS (always installed).
"""

from __future__ import annotations

import time

from greenopt.formulations.build import build_matrix
from greenopt.formulations.pyomo_model import to_pyomo
from greenopt.formulations.solution import start_vector
from greenopt.milp.candidates import auto_candidates, best_by_score, reachable_columns
from greenopt.milp.clock import Clock
from greenopt.milp.outcome import better_plan, finish
from greenopt.milp.relaxation import PRESENCE_MAX_COLS, solve_relaxation
from greenopt.options import PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.solvers import solver_faults
from greenopt.solvers.highs import SolveResult
from greenopt.solvers.pyomo_any import solve_other


def plan_other(
    scenario: Scenario,
    options: PlanOptions,
    start: Plan,
    used: list[set[int]],
    clock: Clock,
    notes: list[str],
) -> Plan | SolveResult:
    """Plan with ``options.solver``; returns the solver's answer instead of a plan when it found
    the model infeasible (the pipeline explains that)."""
    obj = options.objective
    candidates = auto_candidates(scenario)
    choose = None if candidates is None else best_by_score(scenario, obj, candidates, used)
    ix, mx = build_matrix(scenario, obj, options.deadlines, choose=choose)
    t0 = time.perf_counter()
    model = to_pyomo(mx, scenario.name)
    build_s = time.perf_counter() - t0
    v0 = start_vector(ix, mx, start.assignments)
    relax = None
    if ix.restricted:
        # the restricted model's optimum bounds nothing: the relaxation LP over every
        # reachable site does (HiGHS, always installed), as on the HiGHS path
        presence = reachable_columns(scenario) <= PRESENCE_MAX_COLS
        relax = solve_relaxation(
            scenario, obj, options.deadlines, options, presence, clock.share(0.2)
        )
        notes.append(f"relaxation LP (HiGHS): {relax.status}, bound {relax.bound}")
    with solver_faults(options.solver):
        res = solve_other(model, v0, options, clock.left(reserve=True))
    if res.status == "infeasible":
        return res
    found = better_plan(scenario, options, ix, mx, res.values, start)
    if ix.restricted:
        notes.append(f"candidate sites cut to origin + {candidates}: bound from the relaxation")
    return finish(
        scenario,
        options,
        found,
        start,
        res.status,
        relax.bound if relax is not None else res.bound,
        restricted=ix.restricted,
        notes=notes,
        build_s=build_s,
        solve_s=res.solve_s,
        solver=res.solver,
        solver_version=res.version,
    )
