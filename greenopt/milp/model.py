"""The MILP of a scenario as a labelled Pyomo model: read it, write it, extend it, solve it.

:func:`build_model` runs the MILP's steps 1–3 (:mod:`.prepare`: the greedy start plan, the
relaxation that picks each job's candidate sites on large models, the model over them) and
returns a :class:`MilpModel`; :meth:`MilpModel.solve` runs steps 4–5 (:mod:`.solve`) on it —
the pipeline of ``plan(method="milp")``, which reaches the same object through its ``extend``
hook. Whatever the caller adds to ``model.pyomo`` first is part of the model solved::

    import pyomo.environ as pyo

    model = greenopt.build_model(scenario, objective="carbon")
    m = model.pyomo
    # a job pinned away from a site, a migration budget, a power cap
    m.not_in_madrid = pyo.Constraint(expr=sum(m.x[j, s, t] for j, s, t in m.x if
                                              j == "train-1" and s == "madrid") == 0)
    m.migration_budget = pyo.Constraint(expr=sum(m.mv.values()) <= 3)
    plan = model.solve(time_limit=60)

What a change means for the start plan, the bound, the gap and the status is
:mod:`.extension`'s docstring.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

import pyomo.environ as pyo

from greenopt.errors import OptionsError
from greenopt.formulations.pyomo_model import Compiled, write_lp
from greenopt.milp.clock import milp_clock
from greenopt.milp.diagnose import precheck_hard, raise_if_missed
from greenopt.milp.prepare import Prepared, check_solver, prepare, run_options
from greenopt.milp.solve import hand_off, solve
from greenopt.options import COMMON, PlanOptions
from greenopt.result import Plan
from greenopt.scenario import Scenario
from greenopt.scenario.canonical import canonical_scenario, present_in_order_of

#: Options that shape the model: given to :func:`build_model`, not to :meth:`MilpModel.solve`.
BUILD_OPTIONS = ("method", "objective", "deadlines", "candidates", "presence", "handoff", "extend")


def build_model(scenario: Scenario, options: PlanOptions) -> MilpModel:
    """The MILP of ``scenario`` (planned in its canonical form, as ``plan()`` does) after steps
    1–3, with its labelled Pyomo model; ``options.time_limit`` bounds the relaxation's share of
    the build as it would in ``plan()`` (and is the solve's default)."""
    if "extend" in options.params:
        raise OptionsError(
            "build_model() returns the model to extend: add to model.pyomo instead of passing "
            "extend",
            "extend",
        )
    check_solver(options)
    options = run_options(options)
    canonical = canonical_scenario(scenario)
    if options.deadlines == "hard":
        precheck_hard(canonical)
    clock = milp_clock(options)
    prep = prepare(canonical, options, clock, pyomo=True, launch_now=False)
    return MilpModel(scenario, prep, build_s=clock.elapsed())


class MilpModel:
    """The MILP of a scenario as a labelled Pyomo model (:attr:`pyomo`), ready to be solved.

    :attr:`pyomo` is a ``ConcreteModel`` with the sets ``jobs``, ``sites``, ``slots`` and
    ``links``, one variable per family indexed by names (``x[job, site, slot]``,
    ``mv[job, src, dst, slot]``, ``unmet[job]``, ``grid[site, slot]``, ...), one constraint per
    family indexed by its keys (``work[job]``, ``capacity[site, slot]``,
    ``flow[job, site, slot]``, ...) with its math in ``doc``, the objective's terms ``cost`` and
    the ``objective`` (:mod:`greenopt.formulations.pyomo_model`). Print it with :meth:`pprint`
    (or ``print(model)`` for the summary), write it with :meth:`write`, add to it with plain
    Pyomo, and :meth:`solve` it.
    """

    def __init__(self, scenario: Scenario, prepared: Prepared, build_s: float | None = None):
        self.scenario = scenario
        self._prep = prepared
        self.build_s = prepared.build_s if build_s is None else build_s

    # -- what it is ----------------------------------------------------------------------------
    @property
    def pyomo(self) -> pyo.ConcreteModel:
        """The labelled Pyomo model (add constraints, variables, objective terms to it)."""
        return self._prep.pyomo

    @property
    def start(self) -> Plan:
        """The start plan (the greedy's): the MIP start, and the fallback while it obeys the
        model."""
        return self._prep.start

    @property
    def options(self) -> PlanOptions:
        """The options the model was built with (the defaults of :meth:`solve`)."""
        return self._prep.options

    def families(self) -> dict[str, tuple[str, ...]]:
        """Each constraint family's name and the names of its keys, in MODEL.md's order."""
        return {name: comp.key_names for name, comp in self._ordered_families()}

    def standard_form(self) -> Compiled:
        """The model as it would be handed to HiGHS now (with every change made to it)."""
        return hand_off(self._prep, self.options)[0]

    # -- show ----------------------------------------------------------------------------------
    def describe(self) -> str:
        """The model at a glance: its sets, variable and constraint families (with their keys,
        sizes and math) and what the caller added."""
        prep, m = self._prep, self.pyomo
        opts = prep.options
        mx = prep.mx
        lines = [
            f"MILP of {prep.scenario.name!r}: minimise {opts.objective.name} "
            f"({opts.deadlines} deadlines); {mx.n_cols} variables ({mx.n_integer} binary), "
            f"{mx.n_rows} rows",
            "  sets: " + ", ".join(f"{s} ({len(m.component(s))})" for s in _SETS),
            "  variables:",
        ]
        g = m._greenopt
        for name, var in g.variables.items():
            if not len(var):
                continue
            lines.append(
                f"    {_head(name, mx.cols[name].key_names):<32}{len(var):>8}  {mx.cols[name].doc}"
            )
        lines.append(
            "  objective: " + " + ".join(f"cost[{t}]" for t in m.cost_terms) + " + constant"
        )
        for term, text in g.terms.items():
            lines.append(f"    cost[{term}] = {text}")
        lines.append("  constraints:")
        for name, comp in self._ordered_families():
            lines.append(f"    {_head(name, comp.key_names):<32}{len(comp):>8}  {comp.block.doc}")
        added = self._added()
        if added:
            lines.append("  added to the model: " + ", ".join(added))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.describe()

    def pprint(self, ostream: IO[str] | None = None) -> None:
        """Pyomo's ``pprint`` of every component, in MODEL.md's order: the sets, the variables,
        the objective, the constraint families, then what the caller added."""
        out = ostream if ostream is not None else sys.stdout
        m = self.pyomo
        out.write(self.describe() + "\n\n")
        shown: list[Any] = [m.component(s) for s in _SETS]
        shown += list(m._greenopt.variables.values())
        shown += [m.cost, m.objective]
        shown += [comp for _, comp in self._ordered_families()]
        for comp in shown:
            if comp is not None:
                comp.pprint(ostream=out)
        for name in self._added():
            out.write("\n")
            m.component(name).pprint(ostream=out)

    def write(self, path: str | Path) -> Path:
        """Write the model (with every change made to it) as an LP file whose names read like
        the model: ``capacity(oslo_3)``, ``x(train_1_oslo_3)``, ... (characters an LP file
        cannot hold become ``_``; names that would then clash get a suffix)."""
        path = Path(path)
        write_lp(self.pyomo, str(path))
        return path

    # -- solve ---------------------------------------------------------------------------------
    def solve(self, **options: Any) -> Plan:
        """Solve the model as it is now (steps 4–5 of ``plan(method="milp")``) and return the
        :class:`Plan`, scored by the evaluator, in the order of the scenario it was built from.

        ``options``: ``solver``, ``time_limit``, ``mip_gap``, ``threads``, ``seed``,
        ``warm_start``, ``log_file``, ``verbose`` and the MILP's search parameters (``bb_max``,
        ``lns_size``, ``highs_options``, ...); by default those the model was built with. The
        options that shape the model (:data:`BUILD_OPTIONS`) belong to ``build_model``.
        ``plan.objective`` is MODEL.md's objective; ``plan.solver_objective`` the model's (they
        differ when terms were added); see :mod:`greenopt.milp.extension` for bound and gap.
        """
        opts = self._solve_options(options)
        check_solver(opts)
        t0 = time.perf_counter()
        clock = milp_clock(opts)
        result = solve(self._prep, opts, clock)
        canonical = self._prep.scenario
        if canonical is not self.scenario:
            present_in_order_of(self.scenario, result)
        result.wall_s = time.perf_counter() - t0
        if opts.deadlines == "hard":
            raise_if_missed(canonical, result, "milp")
        return result

    def _solve_options(self, options: dict[str, Any]) -> PlanOptions:
        for name in options:
            if name in BUILD_OPTIONS:
                raise OptionsError(
                    f"option {name!r} shapes the model: give it to build_model(), not solve()",
                    name,
                )
        base = self.options
        common = {f.name: getattr(base, f.name) for f in fields(base)}
        del common["method"], common["params"]
        params = dict(base.params)
        for name, value in options.items():
            if name in COMMON:
                common[name] = value
            else:
                params[name] = value
        return PlanOptions.from_call("milp", **common, **params)

    # -- helpers ---------------------------------------------------------------------------------
    def _ordered_families(self) -> list[tuple[str, Any]]:
        families = self.pyomo._greenopt.families
        return sorted(families.items(), key=lambda item: _section(item[1].block.doc))

    def _added(self) -> list[str]:
        """Names of the top-level components the caller added to the model."""
        m = self.pyomo
        ours = set(_SETS) | {"index_sets", "cost_terms", "cost", "objective"}
        ours |= set(m._greenopt.variables) | set(m._greenopt.families)
        return [
            c.local_name
            for c in m.component_objects(descend_into=False)
            if c.local_name not in ours
        ]


_SETS = ("jobs", "sites", "slots", "links")


def _head(name: str, keys: tuple[str, ...]) -> str:
    return f"{name}[{', '.join(keys)}]"


def _section(doc: str) -> tuple[float, ...]:
    """MODEL.md's section a family's math cites (``(§7a)`` → (7, 1)), to list them in order."""
    found = re.search(r"§(\d+)([a-z]?)", doc)
    if found is None:
        return (float("inf"),)
    return (float(found.group(1)), float(ord(found.group(2)) - 96 if found.group(2) else 0))
