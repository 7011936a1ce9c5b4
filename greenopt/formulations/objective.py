"""Objectives (MODEL.md here, §9; MODEL.md §7; greenopt.objectives).

The MILP minimises exactly the objective the evaluator recomputes:

    Σ_{s,t} grid_coef[s,t]·grid[s,t]                    (grid | carbon | cost | weighted)
  + Σ_j lateness_coef_j · Σ_{s,t} Δh·(end_h(t) − release_h_j)/work_h_j · x[j,s,t]      (L_j)
  + migration_penalty · Σ mv                                          (each move is one migration)
  + U · Σ_j unmet[j]                                                  (soft deadlines only)
  + Σ_{(s,t) where nothing can happen} grid_coef[s,t]·max(0, pue·idle·Δh − renewable·Δh)

``grid_coef`` is 1 (grid), carbon/1000 (carbon, kg), price (cost), or
``w_carbon·carbon/1000 + w_cost·price`` (weighted); ``lateness_coef = delay_penalty`` (plus
``w_urgency·priority`` for weighted). The last (constant) term is added in :mod:`.energy`.
"""

from __future__ import annotations

import numpy as np

from greenopt.formulations.sets import IndexSets, lateness_coefficients


def x_cost(ix: IndexSets) -> np.ndarray:
    """Objective per unit share of each run variable (work-weighted lateness)."""
    return lateness_coefficients(ix)


def move_cost(ix: IndexSets) -> np.ndarray:
    """Objective per move: the migration penalty (its energy is in the grid term)."""
    return np.full(len(ix.mj), ix.objective.migration_penalty)


def unmet_cost(ix: IndexSets) -> float:
    """``U`` per hour of work left undone (soft deadlines)."""
    return ix.objective.unmet_penalty(ix.scenario)
