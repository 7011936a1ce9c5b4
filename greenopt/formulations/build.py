"""Assemble the MILP: index sets → columns → constraint families, as numpy arrays.

``build_matrix`` computes every column and row (one call per constraint family, each documented
with its math). It does not import Pyomo: the greedy's LP re-timing builds the same matrix and
hands it to HiGHS directly. :mod:`.pyomo_model` turns the matrix into a Pyomo model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from greenopt.formulations.capacity import add_capacity
from greenopt.formulations.contiguity import add_contiguity
from greenopt.formulations.cuts import add_cuts
from greenopt.formulations.dwell import add_dwell
from greenopt.formulations.energy import add_energy
from greenopt.formulations.links import add_links
from greenopt.formulations.location import add_location
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.objective import move_cost, unmet_cost, x_cost
from greenopt.formulations.sets import IndexSets, SiteChoice, build_sets
from greenopt.formulations.work import add_work
from greenopt.objectives import Objective


def build_matrix(
    scenario: Any,
    objective: Objective,
    deadlines: str = "soft",
    sets: IndexSets | None = None,
    *,
    keep: list[set[int]] | None = None,
    choose: SiteChoice | None = None,
    absorbed_moves: bool = True,
) -> tuple[IndexSets, Matrix]:
    """Index sets (given, or derived by :func:`~.sets.build_sets` with ``keep``, ``choose`` and
    ``absorbed_moves``) and the full matrix of the MILP (see MODEL.md here)."""
    ix = (
        sets
        if sets is not None
        else build_sets(
            scenario,
            objective,
            deadlines,
            keep=keep,
            choose=choose,
            absorbed_moves=absorbed_moves,
        )
    )
    idx = scenario.index
    mx = Matrix()
    mx.add_cols(
        "x",
        {"job": ix.xj, "site": ix.xs, "slot": ix.xt},
        0.0,
        ix.x_ub[ix.xj],
        cost=x_cost(ix),
        doc="share of slot t that job j runs at site s",
    )
    if deadlines == "soft":
        mx.add_cols(
            "unmet",
            {"job": np.arange(ix.J)},
            0.0,
            idx.work_h,
            cost=unmet_cost(ix),
            doc="hours of job j's work left undone",
        )
    mx.add_cols(
        "loc",
        {"job": ix.lj, "site": ix.ls, "slot": ix.lt},
        0.0,
        1.0,
        doc="1 when job j's state is at site s during slot t",
    )
    mx.add_cols(
        "mv",
        {"job": ix.mj, "src": ix.ma, "dst": ix.mb, "slot": ix.mt},
        0.0,
        1.0,
        integer=True,
        cost=move_cost(ix),
        doc="1 when job j's state moves a → b in slot t",
    )
    mx.add_cols(
        "z", {"job": ix.zj}, 0.0, 1.0, integer=True, doc="1 when single-site job j runs at origin"
    )
    if len(ix.rj):
        rk = {"job": ix.rj, "slot": ix.rt}
        mx.add_cols("r", rk, 0.0, 1.0, integer=True, doc="1 in the run block of job j")
        mx.add_cols("st", rk, 0.0, 1.0, doc="start of job j's run block")
    add_energy(mx, ix)  # adds grid (and y) columns before any row is written
    add_work(mx, ix)
    add_capacity(mx, ix)
    add_location(mx, ix)
    add_cuts(mx, ix)
    add_contiguity(mx, ix)
    add_links(mx, ix)
    add_dwell(mx, ix)
    return ix, mx
