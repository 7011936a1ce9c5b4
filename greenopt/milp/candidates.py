"""Which sites the MILP lets each job use: the candidate strategy (MODEL.md in
``greenopt/formulations``, §10 step 2).

The index sets (:mod:`greenopt.formulations.sets`) hold every site a job's state can reach; a
model that large is too large to search on big instances. The MILP therefore keeps, per job,

* its origin and the sites of the start plan (so the start plan is a point of the model);
* the sites the relaxation LP runs it at (:func:`lp_sites`, at least :data:`LP_SITE_SHARE` of
  its LP work) — or, on models too large to solve the relaxation first, the ``top`` allowed sites
  with the best :func:`site_scores` over its window (:func:`candidate_pairs`);
* for solvers other than HiGHS, at most a few sites per job, so that their move binaries stay
  within :data:`AUTO_MOVE_BUDGET` (:func:`auto_candidates`, :func:`best_by_score`).

A model cut this way is *restricted*: its optimum bounds nothing, so the reported bound is the
relaxation's over every reachable site.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.sets import SiteChoice, pairs_by_score
from greenopt.objectives import Objective
from greenopt.scenario import Scenario

#: A job's LP sites: those carrying at least this share of its LP work.
LP_SITE_SHARE = 0.05
#: Above this many move binaries, a solver other than HiGHS sees fewer candidate sites.
AUTO_MOVE_BUDGET = 60_000


def site_scores(scenario: Scenario, objective: Objective) -> np.ndarray:
    """(S, T) objective per hour of a full GPU at site s in slot t, renewable first.

    A rough measure of how attractive a site-slot is, used only to rank candidate sites: grid
    coefficient × PUE × the part of a fully loaded site's power the renewable supply leaves.
    """
    idx = scenario.index
    kw_per_gpu = float(np.mean(idx.power_kw / idx.gpus)) if len(idx.gpus) else 0.7
    load = idx.pue * (idx.idle_kw + idx.site_gpus * kw_per_gpu)
    grid_frac = np.clip(1.0 - idx.renewable_kw / np.maximum(load, 1e-9)[:, None], 0.0, 1.0)
    return objective.grid_coef(scenario) * idx.pue[:, None] * grid_frac


def best_by_score(
    scenario: Scenario, objective: Objective, k: int, extra: list[set[int]] | None = None
) -> SiteChoice:
    """The strategy "the ``k`` reachable sites with the lowest mean :func:`site_scores` over the
    job's window, plus ``extra[j]``" (e.g. the start plan's sites), for
    :func:`~greenopt.formulations.sets.build_sets`; a job with at most ``k`` others keeps all."""
    scores = site_scores(scenario, objective)

    def choose(j: int, others: list[int], first: int, end: int) -> list[int] | None:
        if len(others) <= k:
            return None
        mean_score = scores[others][:, first:end].mean(axis=1)
        best = np.argsort(mean_score, kind="stable")[:k]
        must = extra[j] if extra is not None else set()
        return sorted({others[b] for b in best} | (set(others) & must))

    return choose


def candidate_pairs(
    scenario: Scenario, obj: Objective, used: list[set[int]], top: int
) -> np.ndarray:
    """(J, S) bool: each job's origin, the sites the start plan uses and its ``top`` allowed
    sites with the lowest mean :func:`site_scores` over its window."""
    idx = scenario.index
    pairs = pairs_by_score(scenario, site_scores(scenario, obj), used, top)
    S = len(idx.site_names)
    return pairs & (idx.allowed | (np.arange(S)[None, :] == idx.origin[:, None]))


def lp_sites(used: list[set[int]], work: np.ndarray | None) -> list[set[int]]:
    """Per job, the sites of ``used`` (the start plan's) and those carrying at least
    :data:`LP_SITE_SHARE` of its LP ``work`` ((J, S) slot-shares; ``None``: none)."""
    keep = [set(s) for s in used]
    if work is not None:
        share = work / np.maximum(work.sum(axis=1, keepdims=True), 1e-12)
        for j, row in enumerate(share):
            keep[j] |= set(np.flatnonzero(row >= LP_SITE_SHARE).tolist())
    return keep


def reachable_columns(scenario: Scenario) -> int:
    """Run-share columns of the relaxation (:attr:`ScenarioIndex.run_columns`)."""
    return scenario.index.run_columns


def binaries_estimate(scenario: Scenario) -> int:
    """Move binaries of the model over every allowed site (an upper bound of the true count)."""
    idx = scenario.index
    win = (idx.end_slot - idx.first_slot).astype(float)
    c = idx.allowed.sum(axis=1).astype(float)
    mobile = idx.migratable.astype(float)
    return int(np.sum(win * (mobile * c * (c - 1) + (1 - mobile) * (c - 1))))


def auto_candidates(scenario: Scenario) -> int | None:
    """All sites while the move binaries stay within :data:`AUTO_MOVE_BUDGET`, else fewer."""
    idx = scenario.index
    win = (idx.end_slot - idx.first_slot).astype(float)
    mig = idx.migratable.astype(float)
    n_allowed = idx.allowed.sum(axis=1).astype(float)
    for k in (None, 4, 3, 2, 1):
        c = n_allowed if k is None else np.minimum(n_allowed, k + 1)
        moves = float(np.sum(mig * win * c * (c - 1) + (1 - mig) * win * (c - 1)))
        if moves <= AUTO_MOVE_BUDGET:
            return k
    return 1
