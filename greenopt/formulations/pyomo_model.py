"""The MILP's matrix as a Pyomo model, so that any Pyomo MILP solver can take it.

:func:`to_pyomo` makes a ``ConcreteModel`` with one indexed ``Var`` per variable family (indexed
by the tuples of :mod:`.sets`) and one indexed ``Constraint`` per row family of the
:class:`~.matrix.Matrix` that :func:`~.build.build_matrix` computed. Kept apart from the matrix
builder so that only the MILP imports Pyomo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from greenopt.formulations.matrix import Matrix


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
