"""Assemble the MILP: index sets → columns → constraint families → Pyomo model.

``build_matrix`` computes every column and row as numpy arrays (one call per constraint family,
each documented with its math); ``to_pyomo`` turns them into a Pyomo ``ConcreteModel`` with one
indexed ``Var`` per variable family (indexed by the tuples of :mod:`.sets`) and one indexed
``Constraint`` per row family, so any Pyomo MILP solver can take it; ``build`` does both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from greenopt.formulations.capacity import add_capacity
from greenopt.formulations.contiguity import add_contiguity
from greenopt.formulations.cuts import add_cuts
from greenopt.formulations.dwell import add_dwell
from greenopt.formulations.energy import add_energy
from greenopt.formulations.links import add_links
from greenopt.formulations.location import add_location
from greenopt.formulations.matrix import Matrix
from greenopt.formulations.objective import move_cost, unmet_cost, x_cost
from greenopt.formulations.sets import IndexSets, build_sets
from greenopt.formulations.work import add_work
from greenopt.objectives import Objective


def build_matrix(
    scenario: Any,
    objective: Objective,
    deadlines: str = "soft",
    candidates: int | None = None,
    sets: IndexSets | None = None,
    keep: list[set[int]] | None = None,
    extra: list[set[int]] | None = None,
    absorbed_moves: bool = True,
) -> tuple[IndexSets, Matrix]:
    """Index sets (given, or derived) and the full matrix of the MILP (see MODEL.md here)."""
    ix = (
        sets
        if sets is not None
        else build_sets(
            scenario,
            objective,
            deadlines,
            candidates,
            keep=keep,
            extra=extra,
            absorbed_moves=absorbed_moves,
        )
    )
    idx = scenario.index
    mx = Matrix()
    mx.add_cols(
        "x",
        np.stack([ix.xj, ix.xs, ix.xt], axis=1),
        0.0,
        ix.x_ub[ix.xj],
        cost=x_cost(ix),
        doc="share of slot t that job j runs at site s",
    )
    if deadlines == "soft":
        mx.add_cols(
            "unmet",
            np.arange(ix.J),
            0.0,
            idx.work_h,
            cost=unmet_cost(ix),
            doc="hours of job j's work left undone",
        )
    mx.add_cols(
        "loc",
        np.stack([ix.lj, ix.ls, ix.lt], axis=1),
        0.0,
        1.0,
        doc="1 when job j's state is at site s during slot t",
    )
    mx.add_cols(
        "mv",
        np.stack([ix.mj, ix.ma, ix.mb, ix.mt], axis=1),
        0.0,
        1.0,
        integer=True,
        cost=move_cost(ix),
        doc="1 when job j's state moves a → b in slot t",
    )
    mx.add_cols("z", ix.zj, 0.0, 1.0, integer=True, doc="1 when single-site job j runs at origin")
    if len(ix.rj):
        rk = np.stack([ix.rj, ix.rt], axis=1)
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


def _bound(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def to_pyomo(mx: Matrix, name: str = "greenopt") -> pyo.ConcreteModel:
    """The matrix as a Pyomo model; ``model._columns`` lists its variables in column order."""
    m = pyo.ConcreteModel(name=name)
    columns: list[Any] = []
    for b in mx.cols.values():
        keys = [tuple(k) for k in b.keys.tolist()] if b.keys.shape[1] > 1 else b.keys[:, 0].tolist()
        comp = pyo.Var(keys, domain=pyo.Binary if b.integer else pyo.Reals, dense=True)
        comp.doc = b.doc
        m.add_component(b.name, comp)
        vals = list(comp.values())
        for v, lo, hi in zip(vals, b.lb.tolist(), b.ub.tolist(), strict=True):
            v.setlb(_bound(lo))
            v.setub(_bound(hi))
        columns.extend(vals)
    for b in mx.rows.values():
        ip = b.A.indptr.tolist()
        ci = b.A.indices.tolist()
        cv = b.A.data.tolist()
        lo_l = b.lb.tolist()
        hi_l = b.ub.tolist()

        def rule(_m: Any, i: int, ip=ip, ci=ci, cv=cv, lo_l=lo_l, hi_l=hi_l) -> Any:
            a, e = ip[i], ip[i + 1]
            if a == e:
                return pyo.Constraint.Skip
            expr = LinearExpression(
                [MonomialTermExpression((cv[k], columns[ci[k]])) for k in range(a, e)]
            )
            lo, hi = lo_l[i], hi_l[i]
            if lo == hi:
                return expr == lo
            return (_bound(lo), expr, _bound(hi))

        comp = pyo.Constraint(range(b.n), rule=rule)
        comp.doc = b.doc
        m.add_component(b.name, comp)
    cost = np.concatenate([b.cost for b in mx.cols.values()])
    nz = np.flatnonzero(cost)
    m.obj = pyo.Objective(
        expr=LinearExpression(
            [MonomialTermExpression((float(cost[k]), columns[k])) for k in nz.tolist()]
        )
        + mx.offset,
        sense=pyo.minimize,
    )
    m._columns = columns
    return m


def build(scenario: Any, options: Any) -> pyo.ConcreteModel:
    """``build(scenario, options) -> pyomo model`` (options: a :class:`greenopt.plan.PlanOptions`).

    ``options.params["candidates"]``: sites per job besides its origin (default: all).
    """
    ix, mx = build_matrix(
        scenario,
        Objective.of(options.objective),
        options.deadlines,
        options.params.get("candidates"),
    )
    m = to_pyomo(mx, scenario.name)
    m._sets = ix
    m._matrix = mx
    return m
