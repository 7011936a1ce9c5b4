"""The MILP as a labelled Pyomo model (MODEL.md here), and its hand-off to a solver.

:func:`to_pyomo` turns the index sets and the matrix of :mod:`.build` into a ``ConcreteModel``
that reads like MODEL.md:

* sets ``jobs`` and ``sites`` (names), ``slots`` (numbers) and ``links`` (``"a~b"``, the WAN
  links by their sorted endpoints);
* one ``Var`` per variable family, indexed by names: ``x[job, site, slot]``,
  ``mv[job, src, dst, slot]``, ``loc[job, site, slot]``, ``unmet[job]``, ``z[job]``,
  ``r[job, slot]``, ``grid[site, slot]``, ... (each over the set ``index_sets.<name>`` of the
  keys that exist: only what can happen is indexed, MODEL.md §1);
* one ``Constraint`` per constraint family, indexed by the keys its module declares
  (``work[job]``, ``capacity[site, slot]``, ``flow[job, site, slot]``,
  ``at_state[job, site, slot]``, ``link_capacity[link, slot]``, ...), its math in ``doc``;
* ``cost[term]``, the objective's terms of §9 (``grid``, ``lateness``, ``migrations``,
  ``unmet``), and ``objective`` (their sum plus the constant grid draw of idle site-slots).

The rows are built in bulk from the family's arrays: each is a :class:`FamilyRow`, an ordinary
Pyomo constraint whose expression is generated from its row of the matrix whenever it is read
(``pprint``, an LP file, any Pyomo solver interface) rather than stored, so the model builds in
about the time Pyomo needs to make its variables. A row that is edited (``set_value``) becomes
an ordinary stored constraint.

:func:`compile_model` hands the model to HiGHS in standard form: rows nobody touched and the
objective, when unchanged, come straight from the arrays; the bounds, fixings and domains of
every variable are read back from the model; everything else — the user's constraints,
variables and objective terms, edited rows — goes through Pyomo's
``LinearStandardFormCompiler``. So the solver gets exactly the model the user sees, and a model
nobody changed compiles to the very arrays of :func:`greenopt.solvers.highs.from_matrix`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.label import cpxlp_label_from_name
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from greenopt.errors import InfeasibleError, PlanError
from greenopt.formulations.links import link_list
from greenopt.formulations.matrix import DIMENSIONS, ColBlock, Matrix, RowBlock
from greenopt.formulations.sets import IndexSets
from greenopt.solvers.highs import StandardForm

#: The objective's terms (MODEL.md here, §9): variable family → ``cost[term]`` and its math.
#: A family with costs that is not listed here gets a term of its own name.
_COST_OF: dict[str, tuple[str, str]] = {
    "grid": ("grid", "Σ grid_coef[s,t]·grid[s,t]"),
    "x": ("lateness", "Σ lateness_coef_j·Δh·(end_h(t) − release_h_j)/work_h_j·x[j,s,t]"),
    "mv": ("migrations", "migration_penalty·Σ mv[j,a,b,t]"),
    "unmet": ("unmet", "U·Σ unmet[j]"),
}

#: How a key dimension is shown in a component's doc (``capacity[site, slot]: ...``).
_SET_DOC = {
    "jobs": "job names",
    "sites": "site names",
    "slots": "slot numbers (0 = the horizon's first slot)",
    "links": "WAN links 'a~b' (endpoints sorted)",
}


def labels(ix: IndexSets) -> dict[str, list[Any]]:
    """The members of each named set: job and site names, slot numbers, link labels."""
    idx = ix.scenario.index
    return {
        "jobs": [str(n) for n in idx.job_names],
        "sites": [str(n) for n in idx.site_names],
        "slots": list(range(ix.T)),
        "links": [f"{a}~{b}" for a, b in link_list(ix.scenario.network)],
    }


def _named_keys(keys: np.ndarray, key_names: tuple[str, ...], names: dict[str, np.ndarray]) -> list:
    """The (n, k) integer keys as Pyomo indices: scalars for one dimension, else tuples."""
    cols = [names[DIMENSIONS[d]][keys[:, i]].tolist() for i, d in enumerate(key_names)]
    return cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _bound(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


# -- the rows ----------------------------------------------------------------------------------
class FamilyRow(ConstraintData):
    """A row of a constraint family: its expression is generated from the family's matrix row
    when read (``_expr`` holds the row's position in its family), never stored. Editing it
    (``set_value``) turns it into an ordinary :class:`ConstraintData` with the new expression."""

    __slots__ = ()

    def to_bounded_expression(self, evaluate_bounds: bool = False) -> tuple[Any, Any, Any]:
        return self.parent_component().row(self._expr, evaluate_bounds)

    @property
    def expr(self) -> Any:
        lb, body, ub = self.parent_component().row(self._expr, True)
        if lb is not None and lb == ub:
            return body == lb
        if lb is None:
            return body <= ub
        if ub is None:
            return body >= lb
        return pyo.inequality(lb, body, ub)

    def set_value(self, expr: Any) -> None:
        # the pattern of Pyomo's own templated constraints: become the ordinary data class
        self.__class__ = ConstraintData
        try:
            ConstraintData.set_value(self, expr)
        except BaseException:
            self.__class__ = FamilyRow
            raise


class FamilyConstraint(IndexedConstraint):
    """One constraint family of the MILP, indexed by its keys; its rows are :class:`FamilyRow`
    views of the family's block of the matrix (``block``) over the model's ``columns``."""

    def __init__(
        self, index_set: Any, block: RowBlock, columns: list[Any], keys: list, **kwargs: Any
    ) -> None:
        IndexedConstraint.__init__(self, index_set, **kwargs)
        self.block = block
        self.key_names = block.key_names
        self._columns = columns
        self._keys = keys

    def construct(self, data: Any = None) -> None:
        if self._constructed:
            return
        self._constructed = True
        ref = weakref.ref(self)
        new = FamilyRow.__new__
        rows = self._data
        for i, key in enumerate(self._keys):
            d = new(FamilyRow)
            d._component = ref
            d._index = key
            d._active = True
            d._expr = i
            rows[key] = d
        self._keys = None  # the index set holds them from here on

    def row(self, i: int, evaluate_bounds: bool = False) -> tuple[Any, Any, Any]:
        """Row ``i`` as ``(lower, body, upper)`` (``None`` for an infinite bound)."""
        b = self.block
        a, e = b.A.indptr[i], b.A.indptr[i + 1]
        cols = self._columns
        body = LinearExpression(
            [
                MonomialTermExpression((v, cols[k]))
                for v, k in zip(b.A.data[a:e].tolist(), b.A.indices[a:e].tolist(), strict=True)
            ]
        )
        return _bound(b.lb[i]), body, _bound(b.ub[i])


# -- the model ---------------------------------------------------------------------------------
@dataclass
class ModelArrays:
    """What :func:`compile_model` needs of a labelled model: its matrix and which Pyomo
    components show which part of it (kept as ``model._greenopt``)."""

    ix: IndexSets
    mx: Matrix
    columns: list[Any]  # every family column's VarData, in matrix order
    variables: dict[str, Any]  # family name → its Var
    families: dict[str, FamilyConstraint]
    objective: Any
    objective_expr: Any
    cost: dict[str, tuple[Any, Any]]  # term → (its Expression, the expression it was built with)
    terms: dict[str, str]  # term → its math


def _doc(name: str, key_names: tuple[str, ...], text: str) -> str:
    return f"{name}[{', '.join(key_names)}]: {text}"


def to_pyomo(ix: IndexSets, mx: Matrix, name: str = "greenopt") -> pyo.ConcreteModel:
    """The labelled Pyomo model of the matrix ``mx`` over the index sets ``ix`` (see the module
    docstring); ``model._columns`` lists its family variables in matrix column order."""
    m = pyo.ConcreteModel(name=name)
    sets = labels(ix)
    for set_name, members in sets.items():
        m.add_component(set_name, pyo.Set(initialize=members, ordered=True, doc=_SET_DOC[set_name]))
    names = {k: _objects(v) for k, v in sets.items()}
    m.index_sets = pyo.Block(doc="the keys each family exists for (only what can happen, §1)")
    columns: list[Any] = []
    variables: dict[str, Any] = {}
    for b in mx.cols.values():
        variables[b.name] = _add_variables(m, b, _named_keys(b.keys, b.key_names, names))
        columns.extend(variables[b.name].values())
    families: dict[str, FamilyConstraint] = {}
    for b in mx.rows.values():
        keys = _named_keys(b.keys, b.key_names, names)
        index = pyo.Set(
            initialize=keys,
            dimen=len(b.key_names),
            ordered=True,
            doc=f"({', '.join(b.key_names)}) of the rows of {b.name}",
        )
        m.index_sets.add_component(b.name, index)
        comp = FamilyConstraint(index, b, columns, keys, doc=_doc(b.name, b.key_names, b.doc))
        m.add_component(b.name, comp)
        families[b.name] = comp
    # the objective, term by term (§9)
    terms: dict[str, tuple[Any, str]] = {}
    for b in mx.cols.values():
        term, text = _COST_OF.get(b.name, (b.name, f"the costs of {b.name}"))
        if b.name not in _COST_OF and not np.any(b.cost):
            continue
        nz = np.flatnonzero(b.cost)
        data = columns[b.offset : b.offset + b.n]
        terms[term] = (
            LinearExpression(
                [
                    MonomialTermExpression((c, data[k]))
                    for c, k in zip(b.cost[nz].tolist(), nz.tolist(), strict=True)
                ]
            ),
            text,
        )
    m.cost_terms = pyo.Set(initialize=list(terms), ordered=True, doc="the objective's terms")
    m.cost = pyo.Expression(
        m.cost_terms,
        rule=lambda _m, t: terms[t][0],
        doc="the objective's terms (MODEL.md §9) — "
        + "; ".join(f"{t}: {text}" for t, (_, text) in terms.items()),
    )
    m.objective = pyo.Objective(
        expr=sum((m.cost[t] for t in terms), start=0) + mx.offset,
        sense=pyo.minimize,
        doc="Σ_term cost[term] + the constant grid draw of site-slots where nothing can happen "
        "(MODEL.md §9)",
    )
    m._columns = columns
    m._greenopt = ModelArrays(
        ix=ix,
        mx=mx,
        columns=columns,
        variables=variables,
        families=families,
        objective=m.objective,
        objective_expr=m.objective.expr,
        cost={t: (m.cost[t], m.cost[t].expr) for t in terms},
        terms={t: text for t, (_, text) in terms.items()},
    )
    return m


def _add_variables(m: pyo.ConcreteModel, b: ColBlock, keys: list) -> Any:
    index = pyo.Set(
        initialize=keys,
        dimen=len(b.key_names),
        ordered=True,
        doc=f"({', '.join(b.key_names)}) where {b.name} exists",
    )
    m.index_sets.add_component(b.name, index)
    var = pyo.Var(
        index,
        domain=pyo.Binary if b.integer else pyo.Reals,
        dense=True,
        doc=_doc(b.name, b.key_names, b.doc),
    )
    m.add_component(b.name, var)
    default = (0.0, 1.0) if b.integer else (-math.inf, math.inf)
    for v, lo, hi in zip(var.values(), b.lb.tolist(), b.ub.tolist(), strict=True):
        if lo != default[0]:
            v.setlb(_bound(lo))
        if hi != default[1]:
            v.setub(_bound(hi))
    return var


# -- the hand-off ------------------------------------------------------------------------------
@dataclass
class Changes:
    """How a labelled model differs from the matrix it was built from."""

    added_rows: int = 0  # rows compiled from the caller's constraints (and edited family rows)
    added_cols: int = 0  # the caller's own variables
    dropped_rows: int = 0  # family rows deactivated, deleted or edited
    changed_cols: int = 0  # family variables whose bounds, fixing or domain changed
    loosened: bool = False  # a family row dropped, or a bound or integrality relaxed
    objective_changed: bool = False  # the objective is no longer MODEL.md's
    notes: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(
            self.added_rows
            or self.added_cols
            or self.dropped_rows
            or self.changed_cols
            or self.objective_changed
        )


@dataclass
class Compiled:
    """A labelled model in standard form. ``form.col_index[k]`` is the matrix column of column
    ``k``, −1 for a variable of the caller's; ``base_cost``/``base_offset`` are MODEL.md's
    objective (the matrix's) over the same columns; ``user_rows`` the rows compiled by Pyomo."""

    form: StandardForm
    base_cost: np.ndarray
    base_offset: float
    user_rows: np.ndarray
    changes: Changes
    columns: list[Any] = field(default_factory=list)  # the VarData of each column
    user_row_names: list[str] = field(default_factory=list)  # per user row: its constraint

    @property
    def user_cols(self) -> np.ndarray:
        return np.flatnonzero(self.form.col_index < 0)

    def column_name(self, k: int) -> str:
        return str(self.columns[k].name) if k < len(self.columns) else f"column {k}"

    def least_objective_shift(self) -> float:
        """The least the model's objective can exceed MODEL.md's at any point within the
        columns' bounds: ``objective(x) ≥ base(x) + this`` (0 for an unchanged objective;
        ``-inf`` when the added terms are unbounded below). A lower bound of MODEL.md's objective
        plus this is a lower bound of the model's."""
        f = self.form
        delta = f.c - self.base_cost
        up, down = delta > 0, delta < 0
        if np.any(up & ~np.isfinite(f.col_lb)) or np.any(down & ~np.isfinite(f.col_ub)):
            return -math.inf
        least = float(delta[up] @ f.col_lb[up]) + float(delta[down] @ f.col_ub[down])
        return least + f.offset - self.base_offset


def compile_model(m: pyo.ConcreteModel) -> Compiled:
    """The labelled model ``m`` (of :func:`to_pyomo`, perhaps changed since) in standard form,
    as the module docstring describes. Raises :class:`~greenopt.errors.PlanError` when the
    model cannot be solved as a MILP of greenopt's (a family variable removed, not exactly one
    active objective, a maximised objective, a nonlinear or unknown component)."""
    g: ModelArrays = m._greenopt
    mx = g.mx
    ch = Changes()
    for name, var in g.variables.items():
        if m.component(name) is not var:
            raise PlanError(
                f"the model's variable family {name!r} was removed or replaced; its constraint "
                "families still use it — add variables of your own under new names instead"
            )
    cost0, lb0, ub0, int0 = mx.col_arrays()
    lb, ub, integer = _column_state(g, ch)
    ch.changed_cols = int(np.sum((lb != lb0) | (ub != ub0) | (integer != int0)))
    if np.any(lb < lb0) or np.any(ub > ub0) or np.any(int0 & ~integer):
        ch.loosened = True
        ch.notes.append("bounds or integrality of the model's variables were relaxed")
    elif ch.changed_cols:
        ch.notes.append(f"{ch.changed_cols} of the model's variables fixed or bounded further")
    # -- family rows: those nobody touched come from the matrix
    A, row_lb, row_ub = mx.row_arrays()
    keep = np.ones(A.shape[0], dtype=bool)
    edited: list[FamilyConstraint] = []
    start = 0
    for name, block in mx.rows.items():
        comp = g.families[name]
        rows = slice(start, start + block.n)
        start += block.n
        if m.component(name) is not comp or not comp.active:
            keep[rows] = False
            ch.dropped_rows += block.n
            ch.notes.append(f"constraint family {name!r} left out")
            continue
        untouched = np.zeros(block.n, dtype=bool)
        stored = False
        for row in comp.values():
            if row.__class__ is FamilyRow:
                if row._active:
                    untouched[row._expr] = True
            elif row.active:
                stored = True
        keep[rows] = untouched
        left_out = block.n - int(untouched.sum())
        if left_out:
            ch.dropped_rows += left_out
            ch.notes.append(f"{left_out} rows of {name!r} left out or edited")
        if stored:
            edited.append(comp)
    if ch.dropped_rows:
        ch.loosened = True
    # -- the objective and the caller's own components: through Pyomo's compiler
    objective = _the_objective(m)
    ch.objective_changed = not (
        objective is g.objective
        and objective.expr is g.objective_expr
        and all(data.expr is expr for data, expr in g.cost.values())
    )
    families = {id(c) for c in g.families.values()}
    own = [
        c
        for c in m.component_objects(pyo.Constraint, active=True, descend_into=True)
        if id(c) not in families
    ]
    info = None
    if own or edited or ch.objective_changed:
        info = _compile_the_rest(m, g, edited, objective if not ch.objective_changed else None)
    return _assemble(g, ch, info, A, row_lb, row_ub, keep, cost0, lb, ub, integer)


def _the_objective(m: pyo.ConcreteModel) -> Any:
    objectives = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise PlanError(
            f"the model must have exactly one active objective to be solved; it has "
            f"{len(objectives)}: {', '.join(o.name for o in objectives) or 'none'}"
        )
    objective = objectives[0]
    if objective.sense != pyo.minimize:
        raise PlanError(
            f"objective {objective.name!r} is maximised; greenopt's MILP minimises — "
            "minimise its negative instead"
        )
    return objective


def _column_state(g: ModelArrays, ch: Changes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every family column's bounds and integrality as the model has them now (a fixed variable:
    both bounds at its value). Read from the variables' slots in bulk (25× faster than
    ``VarData.bounds`` on 10⁵ variables); a variable whose domain or bounds are not plain numbers
    of the kind :func:`to_pyomo` set is read through Pyomo's own ``bounds``/``is_integer``."""
    lbs, ubs, ints = [], [], []
    for name in g.variables:
        block = g.mx.cols[name]
        data = g.columns[block.offset : block.offset + block.n]
        domain = pyo.Binary if block.integer else pyo.Reals
        dom_lo, dom_hi = (0.0, 1.0) if block.integer else (-math.inf, math.inf)
        lb = ub = None
        try:
            if all(v._domain is domain for v in data):
                lb = np.array([v._lb for v in data], dtype=float)
                ub = np.array([v._ub for v in data], dtype=float)
        except (TypeError, ValueError):  # a bound is an expression (e.g. a mutable Param)
            lb = ub = None
        if lb is not None and ub is not None:
            lb = np.maximum(np.where(np.isnan(lb), -math.inf, lb), dom_lo)
            ub = np.minimum(np.where(np.isnan(ub), math.inf, ub), dom_hi)
            integer = np.full(block.n, block.integer)
        else:
            pairs = [v.bounds for v in data]
            lb = np.array([-math.inf if lo is None else lo for lo, _ in pairs], dtype=float)
            ub = np.array([math.inf if hi is None else hi for _, hi in pairs], dtype=float)
            integer = np.array([v.is_integer() for v in data], dtype=bool)
        fixed = np.flatnonzero([v._fixed for v in data])
        for k in fixed.tolist():
            value = data[k].value
            if value is None:
                raise PlanError(f"variable {data[k].name} is fixed but has no value")
            lb[k] = ub[k] = float(value)
        lbs.append(lb)
        ubs.append(ub)
        ints.append(integer)
    cat = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype)  # noqa: E731
    return cat(lbs, float), cat(ubs, float), cat(ints, bool)


def _compile_the_rest(
    m: pyo.ConcreteModel, g: ModelArrays, edited: list[FamilyConstraint], objective: Any
) -> Any:
    """Pyomo's standard-form compiler over everything but the untouched family rows (and the
    objective, when it is MODEL.md's: ``objective`` is then given, to be left out too)."""
    from pyomo.common.errors import InfeasibleConstraintException, InvalidConstraintError
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    hidden: list[Any] = []
    try:
        for comp in g.families.values():
            if not comp.active or m.component(comp.local_name) is not comp:
                continue
            if comp in edited:
                for row in comp.values():
                    if row.__class__ is FamilyRow and row._active:
                        row.deactivate()
                        hidden.append(row)
            else:
                comp.deactivate()
                hidden.append(comp)
        if objective is not None:
            objective.deactivate()
            hidden.append(objective)
        return LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    except InfeasibleConstraintException as exc:
        raise InfeasibleError(f"the model cannot be met: {exc}") from None
    except (InvalidConstraintError, ValueError) as exc:
        raise PlanError(f"the model cannot be handed to the MILP solver: {exc}") from None
    finally:
        for item in hidden:
            item.activate()


def _assemble(
    g: ModelArrays,
    ch: Changes,
    info: Any,
    A: sp.csr_array,
    row_lb: np.ndarray,
    row_ub: np.ndarray,
    keep: np.ndarray,
    cost0: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    integer: np.ndarray,
) -> Compiled:
    mx = g.mx
    n0 = mx.n_cols
    if not keep.all():
        A, row_lb, row_ub = A[np.flatnonzero(keep)], row_lb[keep], row_ub[keep]
    c, offset = cost0, mx.offset
    if info is None:
        form = StandardForm(
            c, offset, sp.csc_array(A), lb, ub, integer, row_lb, row_ub, np.arange(n0)
        )
        return Compiled(form, cost0, mx.offset, np.zeros(0, dtype=np.int64), ch, g.columns)
    # the compiler's columns: family columns by identity, the rest are the caller's
    pos = {id(v): k for k, v in enumerate(g.columns)}
    cols = info.columns
    where = np.fromiter((pos.get(id(v), -1) for v in cols), dtype=np.int64, count=len(cols))
    own = np.flatnonzero(where < 0)
    where[own] = n0 + np.arange(len(own))
    n = n0 + len(own)
    ch.added_cols = len(own)
    own_vars = [cols[k] for k in own.tolist()]
    own_bounds = [v.bounds for v in own_vars]
    lb = np.concatenate([lb, [-math.inf if lo is None else lo for lo, _ in own_bounds]])
    ub = np.concatenate([ub, [math.inf if hi is None else hi for _, hi in own_bounds]])
    integer = np.concatenate([integer, np.array([v.is_integer() for v in own_vars], bool)])
    # the caller's rows, over the same columns
    Au = sp.csr_array(info.A)
    Au = sp.csr_array((Au.data, where[Au.indices], Au.indptr), shape=(Au.shape[0], n))
    rhs = np.asarray(info.rhs, dtype=float)
    kind = np.fromiter((r.bound_type for r in info.rows), dtype=np.int64, count=len(info.rows))
    ch.added_rows = len(rhs)
    base = sp.csr_array((A.data, A.indices, A.indptr), shape=(A.shape[0], n))
    A = sp.vstack([base, Au], format="csc")
    row_lb = np.concatenate([row_lb, np.where(kind <= 0, rhs, -math.inf)])
    row_ub = np.concatenate([row_ub, np.where(kind >= 0, rhs, math.inf)])
    base_cost = np.concatenate([cost0, np.zeros(len(own))])
    if ch.objective_changed:
        c = np.zeros(n)
        if info.c.shape[0]:
            obj = sp.csr_array(info.c)
            c[where[obj.indices]] = obj.data
        offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
        ch.notes.append("the objective was changed")
    else:
        c = base_cost
    if ch.added_rows or ch.added_cols:
        ch.notes.append(f"{ch.added_rows} constraint rows and {ch.added_cols} variables added")
    col_index = np.concatenate([np.arange(n0), np.full(len(own), -1, dtype=np.int64)])
    form = StandardForm(c, offset, A, lb, ub, integer, row_lb, row_ub, col_index)
    user_rows = np.arange(base.shape[0], A.shape[0])
    names = [str(r.constraint.name) for r in info.rows]
    return Compiled(form, base_cost, mx.offset, user_rows, ch, g.columns + own_vars, names)


# -- LP files ----------------------------------------------------------------------------------
class LPLabeler:
    """Names in an LP file that read like the model (``capacity(oslo_3)``, ``x(job_1_oslo_3)``):
    Pyomo's LP-file labels, made unique where two names differ only in characters an LP file
    cannot hold (spaces, brackets, quotes, ...) and cut to 255 characters."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, obj: Any) -> str:
        label = cpxlp_label_from_name(obj.getname(fully_qualified=True))[:240]
        unique, k = label, 1
        while unique in self._seen:
            k += 1
            unique = f"{label}_{k}"
        self._seen.add(unique)
        return unique


def write_lp(m: pyo.ConcreteModel, path: str) -> None:
    """Write ``m`` as an LP file with :class:`LPLabeler` names."""
    from pyomo.opt import ProblemFormat

    m.write(str(path), format=ProblemFormat.cpxlp, io_options={"labeler": LPLabeler()})
