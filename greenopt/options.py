"""Planning options: the one :class:`PlanOptions`, its schema, and where each option may come from.

Options reach ``plan()`` from three places, checked by one schema (:data:`COMMON` for the options
every method takes, :data:`METHOD_PARAMS` for each method's own parameters):

* **Python** — keywords of :func:`greenopt.plan`: strict (``time_limit="10"`` is an error, not a
  number);
* **a scenario file** — its ``plan:`` section (:func:`file_options`): strict, and restricted to
  the options marked safe for data (:attr:`Option.from_file`): a shared scenario file is data,
  and must never make greenopt write, read or run something its user did not ask for. Anything
  that names a file or passes options through to a solver (``log_file``, ``highs_options`` —
  HiGHS's ``solution_file``, ``write_model_file``, ...) comes only from the caller's own Python
  arguments or command line, and a solver chosen by a file must be one of :data:`SOLVERS`;
* **the command line** — flags (typed by typer) and ``--param KEY=VALUE`` strings, parsed to the
  option's type (:func:`parse_text`).

Layering: the defaults of :class:`PlanOptions` < the scenario file's ``plan:`` section < the
caller (:func:`layered`). A method parameter from a file (or a batch sweep) applies to the
methods that take it (a file may say ``threshold: 250`` and still be planned with ``--method
milp``); one given to ``plan()`` or with ``--param`` must belong to the method planned. An
unknown name is an :class:`~greenopt.errors.OptionsError` naming it, with the closest known name.

The defaults of the method parameters live with each method (e.g.
``greenopt.heuristics.greedy.GreedySettings``, ``greenopt.milp.pipeline.BB_MAX_BINARIES``); the
schema says what each one is and which values it takes.

**Time and repeatability.** ``time_limit`` bounds the whole ``plan()`` call of the MILP (start
plan, model, search, read-back); left unset it is :data:`DEFAULT_MILP_TIME_LIMIT` seconds, and
``math.inf`` (``--time-limit inf``) means none. A plan cut by the clock depends on the machine
and its load. ``deterministic=True`` replaces every wall-clock budget by a work budget (a count
of fix-and-optimise neighbourhoods, HiGHS node limits, the bound LP solved after the search
instead of racing it, one solver thread unless ``threads`` says otherwise): the same input and
options give the same plan on any machine, thread or load. There the default time limit does
not apply; an explicit one stays a safety net, and a plan it cuts says so in its notes.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from greenopt.errors import OptionsError, ScenarioError
from greenopt.limits import parse_bytes
from greenopt.objectives import OBJECTIVES, Objective
from greenopt.solvers import SOLVERS

#: Every planning method, in the order ``plan()``'s documentation lists them.
METHODS: tuple[str, ...] = (
    "milp",
    "greedy",
    "online",
    "run-now",
    "threshold",
    "greenest-region",
    "follow-renewables",
)
DEADLINES: tuple[str, ...] = ("soft", "hard")
#: Seconds the MILP may take when ``time_limit`` is not given (not in deterministic mode).
DEFAULT_MILP_TIME_LIMIT = 120.0

# why an option cannot come from a scenario file
_NAMES_A_FILE = "it names a file greenopt would write"
_SOLVER_PASS_THROUGH = (
    "it is passed to HiGHS unchecked, and HiGHS options can name files it reads or writes "
    "(solution_file, write_model_file, log_file, ...)"
)
_CALLER_CHOICE = "it is the caller's choice of what the terminal shows"
_PYTHON_ONLY = "it is a Python function"
_PYTHON_ONLY_TABLE = "it is a table of rows, given from Python"
_RUNS_WORKERS = "it starts worker processes or connects to a network address"
_CALLERS_MACHINE = "it guards the caller's machine, which a scenario file knows nothing about"

#: HiGHS options that read or write files: named in the error when a file tries to set one.
HIGHS_FILE_OPTIONS = frozenset(
    {
        "log_file",
        "solution_file",
        "write_solution_to_file",
        "write_solution_style",
        "write_model_file",
        "write_model_to_file",
        "write_presolved_model_file",
        "write_presolved_model_to_file",
        "write_basis_file",
        "read_basis_file",
        "read_solution_file",
        "write_iis_model_file",
        "mip_improving_solution_file",
        "mip_improving_solution_save",
    }
)


@dataclass(frozen=True)
class Option:
    """One option: its type (``kind``), allowed values, and whether a scenario file may set it.

    ``kind``: ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``), ``objective`` (a
    name of :data:`~greenopt.objectives.OBJECTIVES`, or an ``Objective`` from Python), ``solver``
    (a Pyomo solver name; from a file, one of :data:`SOLVERS`), ``mapping``, ``callable``,
    ``path``, ``address`` (``"local"`` or a Dask scheduler's address), ``plan`` (a ``Plan`` or a
    ``job, slot, site, share`` table, from Python only). ``low``/``high`` bound
    numbers (``*_open``: the bound itself is excluded);
    ``nullable``: ``None`` is allowed. ``caller_only`` says why a scenario file may not set it
    (``None``: it may).
    """

    name: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    nullable: bool = False
    caller_only: str | None = None
    #: ``math.inf`` is allowed (``time_limit``: no limit)
    allow_inf: bool = False

    @property
    def from_file(self) -> bool:
        return self.caller_only is None

    def check(self, value: Any, where: str = "python") -> Any:
        """``value`` if it is valid for this option (strict types), else an OptionsError.

        ``where``: ``python``, ``file`` (a scenario file's ``plan:`` section) or ``command line``.
        """
        if value is None:
            if self.nullable:
                return None
            raise self._error(f"must not be empty (got {value!r})")
        kind = self.kind
        if kind in ("float", "int"):
            integral = isinstance(value, numbers.Integral)
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise self._error(f"must be {self._a_number()}, got {value!r}")
            if kind == "int" and not integral:
                raise self._error(f"must be a whole number, got {value!r}")
            if math.isinf(float(value)) and self.allow_inf and float(value) > 0:
                return float(value)
            if not math.isfinite(float(value)):
                raise self._error(f"must be a finite number, got {value!r}")
            self._check_range(float(value), value)
            return value
        if kind == "bool":
            if not isinstance(value, bool | np.bool_):
                raise self._error(f"must be true or false, got {value!r}")
            return bool(value)
        if kind == "choice":
            if value not in self.choices:
                # the option's name, then the value: "method 'magic' is unknown; ..."
                raise OptionsError(
                    f"{self.name} {value!r} is unknown; choose one of {', '.join(self.choices)}",
                    self.name,
                )
            return value
        if kind == "objective":
            if isinstance(value, Objective) and where == "python":
                return value
            if value not in OBJECTIVES:
                # the wording Objective itself uses, with the option named as the culprit
                raise OptionsError(
                    f"objective {value!r} is unknown; choose one of {', '.join(OBJECTIVES)}",
                    self.name,
                )
            return value
        if kind == "solver":
            if not isinstance(value, str) or not value:
                raise self._error(f"must be a solver name, got {value!r}")
            if where == "file" and value not in SOLVERS:
                raise OptionsError(
                    f"solver {value!r} cannot be chosen by a scenario file: a file may choose "
                    f"one of {', '.join(SOLVERS)}; pass any other Pyomo solver from Python or "
                    "the command line",
                    self.name,
                )
            return value
        if kind == "mapping":
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise self._error(f"must be a mapping of names to values, got {value!r}")
            return dict(value)
        if kind == "callable":
            if not callable(value):
                raise self._error(f"must be a function, got {value!r}")
            return value
        if kind == "plan":
            # a Plan (its assignments) or a job, slot, site, share table; its rows are read
            # against the scenario where it is used (greenopt.milp.start.start_rows)
            table = getattr(value, "assignments", value)
            if not isinstance(table, pd.DataFrame):
                raise self._error(
                    f"must be a greenopt Plan or a job, slot, site, share table, got "
                    f"{type(value).__name__}"
                )
            return value
        if kind == "bytes":
            try:
                return parse_bytes(value, self.name)
            except ScenarioError:
                raise self._error(
                    f"must be a size like '16GiB', '800MB' or a number of bytes, got {value!r}"
                ) from None
        if kind == "path":
            if not isinstance(value, str | os.PathLike) or not str(value):
                raise self._error(f"must be a file path, got {value!r}")
            return str(value)
        if kind == "address":
            if not isinstance(value, str) or not value.strip():
                raise self._error(f"must be 'local' or a scheduler address, got {value!r}")
            return value.strip()
        raise AssertionError(f"option {self.name!r} has an unknown kind {kind!r}")

    def parse(self, text: str) -> Any:
        """The value a command-line string stands for (then checked like any other)."""
        raw = text.strip()
        if self.nullable and raw.lower() in ("", "none", "null"):
            return None
        kind = self.kind
        if kind == "bytes":
            return self.check(raw, "command line")
        if kind in ("float", "int"):
            for convert in (int, float):
                try:
                    return self.check(convert(raw), "command line")
                except ValueError:
                    continue
            raise self._error(f"must be {self._a_number()}, got {text!r}")
        if kind == "bool":
            words = {"true": True, "yes": True, "on": True, "1": True}
            words |= {"false": False, "no": False, "off": False, "0": False}
            if raw.lower() not in words:
                raise self._error(f"must be true or false, got {text!r}")
            return words[raw.lower()]
        if kind == "mapping":
            # JSON, not YAML: YAML 1.1 reads HiGHS's "off" as false
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                example = '{"presolve": "off"}'
                raise self._error(f"must be a JSON object like {example}, got {text!r}") from None
            return self.check(value, "command line")
        if kind in ("callable", "plan"):
            raise self._error("cannot be given on the command line")
        return self.check(raw, "command line")

    # -- helpers -----------------------------------------------------------------------------
    def _a_number(self) -> str:
        return "a whole number" if self.kind == "int" else "a number"

    def _check_range(self, x: float, shown: Any) -> None:
        low_ok = self.low is None or (x > self.low if self.low_open else x >= self.low)
        high_ok = self.high is None or (x < self.high if self.high_open else x <= self.high)
        if low_ok and high_ok:
            return
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            want = f"in {left}{self.low:g}, {self.high:g}{right}"
        elif self.low is not None:
            want = f"{'>' if self.low_open else '>='} {self.low:g}"
        else:
            want = f"{'<' if self.high_open else '<='} {self.high:g}"
        raise self._error(f"must be {want}, got {shown!r}")

    def _error(self, what: str) -> OptionsError:
        return OptionsError(f"option {self.name!r} {what}", self.name)


def _options(*specs: Option) -> dict[str, Option]:
    return {o.name: o for o in specs}


#: The options every method takes (the fields of :class:`PlanOptions` but ``params``).
COMMON: dict[str, Option] = _options(
    Option("method", "choice", "the planning method", choices=METHODS),
    Option("objective", "objective", "what the plan minimises (MODEL.md §7)"),
    Option(
        "deadlines",
        "choice",
        "soft: a missed deadline costs a penalty; hard: it is an error",
        choices=DEADLINES,
    ),
    Option("solver", "solver", "the Pyomo MILP solver (milp; HiGHS by default)"),
    Option(
        "time_limit",
        "float",
        "seconds the whole MILP call may take (default: DEFAULT_MILP_TIME_LIMIT; inf: none)",
        low=0,
        low_open=True,
        nullable=True,
        allow_inf=True,
    ),
    Option(
        "mip_gap", "float", "relative gap at which the MILP stops", low=0, high=1, high_open=True
    ),
    Option(
        "threads",
        "int",
        "solver threads of the search (0 or none: the solver's choice); on the clock, the MILP's "
        "bound LP beside the search takes one core more",
        low=0,
        nullable=True,
    ),
    Option("seed", "int", "random seed of the solver and of fix-and-optimise", low=0),
    Option("warm_start", "bool", "start branch-and-bound from the greedy plan"),
    Option(
        "deterministic",
        "bool",
        "work-based budgets instead of wall-clock ones: the same input gives the same plan",
    ),
    Option(
        "memory_budget",
        "bytes",
        "bytes the scenario's arrays, the MILP and the plots may take ('16GiB'; default: "
        "GREENOPT_MEMORY_BUDGET or 16 GiB)",
        nullable=True,
        caller_only=_CALLERS_MACHINE,
    ),
    Option(
        "log_file",
        "path",
        "write the solver's log to this file",
        nullable=True,
        caller_only=_NAMES_A_FILE,
    ),
    Option("verbose", "bool", "show the solver's output", caller_only=_CALLER_CHOICE),
)

_HIGHS_OPTIONS = Option(
    "highs_options",
    "mapping",
    "HiGHS options set before every solve (names as in HiGHS's documentation)",
    caller_only=_SOLVER_PASS_THROUGH,
)
_PLACEMENT = _options(
    Option(
        "alpha",
        "float",
        "disruption budget α of the feasibility domain (none: the scenario's migration_alpha, "
        "or 0.1 when its dwell rule is off)",
        low=0,
        high=1,
        nullable=True,
    ),
    Option("domain", "bool", "keep moves inside the feasibility domain (MODEL.md §9)"),
    Option("rescue", "bool", "allow a move outside it when it does work otherwise left undone"),
    Option("split", "bool", "try origin → destination splits"),
    Option("top_k", "int", "placements refined exactly per job", low=1),
    Option("split_sites", "int", "destinations tried for splits", low=0),
    Option(
        "shortlist",
        "int",
        "price only the origin and this many cheapest sites (none: every site)",
        low=1,
        nullable=True,
    ),
)
_THRESHOLD = Option("threshold", "float", "grid carbon intensity (g/kWh) counted as green", low=0)
_MAX_DELAY = Option(
    "max_delay_h",
    "float",
    "hours a job may wait for green power (none: until its deadline)",
    low=0,
    nullable=True,
)

#: Each method's own parameters.
METHOD_PARAMS: dict[str, dict[str, Option]] = {
    "milp": _options(
        Option(
            "bb_max",
            "int",
            "branch-and-bound up to this many binaries, else fix-and-optimise",
            low=0,
        ),
        Option("bb_after", "float", "seconds of branch-and-bound after fix-and-optimise", low=0),
        Option(
            "candidates",
            "int",
            "best-scoring sites per job kept beside its origin and start sites on huge models",
            low=0,
        ),
        Option(
            "handoff",
            "choice",
            "auto: the labelled Pyomo model only when it is needed (extend, a solver other than "
            "HiGHS); pyomo: always, handed to HiGHS from it; direct: the arrays, never Pyomo",
            choices=("auto", "pyomo", "direct"),
        ),
        Option(
            "extend",
            "callable",
            "called as extend(model) with the labelled model (greenopt.build_model's) before it "
            "is solved: add constraints, variables or objective terms to model.pyomo",
            caller_only=_PYTHON_ONLY,
        ),
        Option("lns_size", "int", "jobs per fix-and-optimise neighbourhood", low=1),
        Option(
            "lns_sub_time", "float", "seconds per fix-and-optimise sub-MILP", low=0, low_open=True
        ),
        Option(
            "race",
            "bool",
            "on models of at most bb_max binaries: fix-and-optimise and branch-and-bound at "
            "once, one thread each, trading plans (off: one after the other, lns_first)",
        ),
        Option(
            "guided_start",
            "bool",
            "start from the better of the greedy's plan and the greedy steered by the relaxation "
            "LP's optimum (days of up to 1000 jobs whose relaxation is solved before the search; "
            "default: on above 24 jobs; true: on every such day)",
        ),
        Option(
            "lns_sub_gap",
            "float",
            "relative gap at which a fix-and-optimise sub-MILP stops (default 1e-4)",
            low=0,
        ),
        Option(
            "lns_neighbourhoods",
            "int",
            "a work-based budget: stop fix-and-optimise after this many neighbourhoods, "
            "sub-MILPs without a time limit (the same plan on any thread or machine)",
            low=1,
            nullable=True,
        ),
        Option(
            "lns_first",
            "float",
            "on models of at most bb_max binaries: the share of the time fix-and-optimise gets "
            "before branch-and-bound (0: branch-and-bound alone; in deterministic mode, "
            "lns_first_neighbourhoods instead)",
            low=0,
            high=1,
        ),
        Option(
            "lns_sub_nodes",
            "int",
            "branch-and-bound nodes per fix-and-optimise sub-MILP (a work limit)",
            low=1,
            nullable=True,
        ),
        Option(
            "bb_nodes",
            "int",
            "branch-and-bound nodes of a solve of the whole model (a work limit)",
            low=1,
            nullable=True,
        ),
        Option("presence", "bool", "the relaxation's presence rows on or off"),
        Option(
            "scheduler",
            "address",
            "fix-and-optimise's sub-MILPs on a Dask cluster: 'local' (a local cluster of "
            "`workers` processes) or a running scheduler's address, e.g. tcp://10.0.0.5:8786",
            caller_only=_RUNS_WORKERS,
        ),
        Option(
            "workers",
            "int",
            "fix-and-optimise's sub-MILPs on a local Dask cluster of this many worker processes",
            low=1,
            caller_only=_RUNS_WORKERS,
        ),
        Option("measure_direct", "bool", "also time a direct highspy hand-off (benchmarks)"),
        Option(
            "tidy",
            "bool",
            "after the read-back, fix runs, arrival slivers and idle gaps under 5 minutes by an "
            "LP with the binaries fixed, within 0.01 % of the objective (greenopt.milp.tidy)",
        ),
        _HIGHS_OPTIONS,
        Option(
            "start",
            "plan",
            "a plan to start from (a Plan or a job, slot, site, share table, e.g. an earlier "
            "plan of a changed problem): its jobs' rows that still obey the rules are kept, the "
            "rest placed by the greedy; the better of that and the greedy's plan is the MIP start",
            caller_only=_PYTHON_ONLY_TABLE,
        ),
        Option(
            "progress",
            "callable",
            "called as progress(seconds, best objective, bound or None) while the plan improves",
            caller_only=_PYTHON_ONLY,
        ),
    ),
    "greedy": {
        **_PLACEMENT,
        **_options(
            Option(
                "passes",
                "int",
                "re-placement passes after the first; none: 2 up to 1000 jobs, else 0",
                low=0,
                nullable=True,
            ),
            Option(
                "retime",
                "bool",
                "re-optimise the slot shares by an LP (HiGHS); none: up to 1000 jobs, when small",
                nullable=True,
            ),
            Option(
                "route",
                "bool",
                "try a multi-site route per job (shortest path, moves priced); none: up to 1000 "
                "jobs",
                nullable=True,
            ),
            Option(
                "eject",
                "int",
                "placements spent on ejection moves (swaps); none: 1000 less the jobs",
                low=0,
                nullable=True,
            ),
            Option(
                "guide",
                "bool",
                "also run the greedy steered by the relaxation LP (its duals and run shares) "
                "and keep the best plan; none: up to 1000 jobs (above 250,000 LP columns, when "
                "its first restricted master is estimated at <= 20 s); false: the plain greedy "
                "alone",
                nullable=True,
            ),
            _HIGHS_OPTIONS,
        ),
    },
    "online": {
        **_PLACEMENT,
        **_options(
            Option(
                "patience",
                "float",
                "share of a typical grid kWh's objective an hour of waiting must save",
                low=0,
            ),
            Option(
                "stability",
                "float",
                "hours of a typical job's grid energy a migration must save",
                low=0,
            ),
            Option(
                "mode",
                "choice",
                "each slot, queued jobs are placed again and keep the cheaper plan (improve) "
                "or are all placed again, most urgent first (rebuild)",
                choices=("improve", "rebuild"),
            ),
        ),
    },
    "run-now": {},
    "threshold": _options(_THRESHOLD, _MAX_DELAY),
    "greenest-region": _options(_THRESHOLD, _MAX_DELAY),
    "follow-renewables": {},
}


def _all_param_names() -> dict[str, list[str]]:
    """Parameter name → the methods that take it."""
    out: dict[str, list[str]] = {}
    for method, params in METHOD_PARAMS.items():
        for name in params:
            out.setdefault(name, []).append(method)
    return out


_PARAM_METHODS = _all_param_names()


def spec(name: str) -> Option | None:
    """The option or parameter called ``name`` (a parameter's first spec), or ``None``."""
    if name in COMMON:
        return COMMON[name]
    for method in _PARAM_METHODS.get(name, []):
        return METHOD_PARAMS[method][name]
    return None


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_option(name: str, method: str | None = None) -> OptionsError:
    """The error for ``name``: unknown everywhere, or a parameter of other methods only."""
    if method is not None and name in _PARAM_METHODS:
        takes = ", ".join(sorted(METHOD_PARAMS[method])) or "no parameters"
        return OptionsError(
            f"method {method!r} takes no parameter {name!r} (it belongs to "
            f"{', '.join(_PARAM_METHODS[name])}); {method} takes: {takes}",
            name,
        )
    known = [*COMMON, *(METHOD_PARAMS[method] if method else _PARAM_METHODS)]
    where = f" of method {method!r}" if method else ""
    return OptionsError(f"unknown option {name!r}{where}{_suggest(name, known)}", name)


# -- the options of one plan ---------------------------------------------------------------------
@dataclass(frozen=True)
class PlanOptions:
    """The options of one ``plan()`` call; ``params`` holds the method's own parameters.

    The defaults here are the only ones: :func:`greenopt.plan`, the command line and ``batch``
    all start from them. Building a ``PlanOptions`` checks every field against :data:`COMMON`
    and ``params`` against the method's :data:`METHOD_PARAMS` (strictly, as for Python callers).
    """

    method: str = "milp"
    objective: Objective = field(default_factory=Objective)
    deadlines: str = "soft"
    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float = 0.01
    threads: int | None = None
    seed: int = 0
    warm_start: bool = True
    deterministic: bool = False
    memory_budget: int | None = None
    log_file: str | None = None
    verbose: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "params":
                continue
            value = COMMON[f.name].check(getattr(self, f.name), "python")
            if f.name == "objective":
                value = Objective.of(value)
            object.__setattr__(self, f.name, value)
        own = METHOD_PARAMS[self.method]
        if not isinstance(self.params, Mapping):
            raise OptionsError(
                f"method parameters must be a mapping, got {self.params!r}", "params"
            )
        params = {}
        for name, value in self.params.items():
            if name not in own:
                raise unknown_option(name, self.method)
            params[name] = own[name].check(value, "python")
        object.__setattr__(self, "params", params)

    @classmethod
    def from_call(cls, method: str | None = None, **kwargs: Any) -> PlanOptions:
        """The options of ``plan(scenario, method, **kwargs)``: each keyword is an option of
        :data:`COMMON` or a parameter of ``method``; anything else is an OptionsError."""
        chosen = COMMON["method"].check(cls.method if method is None else method, "python")
        common: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for name, value in kwargs.items():
            if name in COMMON and name != "method":
                common[name] = value
            elif name in METHOD_PARAMS[chosen]:
                params[name] = value
            else:
                raise unknown_option(name, chosen)
        return cls(method=chosen, params=params, **common)


def defaults() -> dict[str, Any]:
    """The default options as plain values (``objective`` by name, ``params`` empty)."""
    d = PlanOptions()
    out = {f.name: getattr(d, f.name) for f in fields(d)}
    out["objective"] = d.objective.name
    out["params"] = {}
    return out


# -- layering: defaults < scenario file < caller ---------------------------------------------------
def check_file_section(section: Any, where: str) -> dict[str, Any]:
    """A scenario file's ``plan:`` section, checked: only options a file may set, strict types.

    ``where`` names the file in messages. Parameters are checked against every method that takes
    them (which method plans is known only once the caller's options are layered on top).
    """
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise OptionsError(f"{where}: 'plan' must be a mapping of options", "plan")
    out: dict[str, Any] = {}
    for name, value in section.items():
        name = str(name)
        if name == "params":
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise OptionsError(f"{where}: plan 'params' must be a mapping", "params")
            out["params"] = {str(k): _check_file_param(str(k), v, where) for k, v in value.items()}
            continue
        option = COMMON.get(name)
        if option is None:
            _refuse_from_file(name, where)
            allowed = [n for n, o in COMMON.items() if o.from_file]
            raise OptionsError(
                f"{where}: unknown plan option {name!r}{_suggest(name, allowed)}; a scenario "
                f"file's plan: section may set {', '.join(allowed)} and params",
                name,
            )
        if not option.from_file:
            _refuse_from_file(name, where)
        out[name] = _in_file(option, value, where)
    return out


def _check_file_param(name: str, value: Any, where: str) -> Any:
    methods = _PARAM_METHODS.get(name)
    if not methods:
        _refuse_from_file(name, where)
        raise OptionsError(
            f"{where}: unknown plan parameter {name!r}{_suggest(name, _PARAM_METHODS)}", name
        )
    option = METHOD_PARAMS[methods[0]][name]
    if not option.from_file:
        _refuse_from_file(name, where)
    return _in_file(option, value, where)


def _in_file(option: Option, value: Any, where: str) -> Any:
    try:
        return option.check(value, "file")
    except OptionsError as exc:
        raise OptionsError(f"{where}: {exc}", option.name) from None


def _refuse_from_file(name: str, where: str) -> None:
    """Raise if ``name`` is something a scenario file may never set (saying why)."""
    option = spec(name)
    why = option.caller_only if option is not None else None
    if why is None and name in HIGHS_FILE_OPTIONS:
        why = "it is a HiGHS option that reads or writes a file"
    if why is not None:
        raise OptionsError(
            f"{where}: option {name!r} cannot come from a scenario file ({why}); a file is data "
            "and never decides what greenopt writes, reads or runs — pass it from Python or on "
            "the command line",
            name,
        )


def file_options(source: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked ``plan:`` section of a scenario YAML (``{}`` for ``example:NAME`` sources, a
    file without the section, or a file that does not parse — its loader reports that one)."""
    if str(source).startswith("example:"):
        return {}
    path = Path(source)
    try:
        doc = yaml.safe_load(path.read_text()) if path.is_file() else None
    except yaml.YAMLError:
        return {}
    section = doc.get("plan") if isinstance(doc, dict) else None
    return check_file_section(section, path.name)


def check_caller(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options a caller layers on top (Python values; ``None``: not given), checked strictly.

    ``params`` may name parameters of any method (see the module docstring).
    """
    out: dict[str, Any] = {}
    for name, value in options.items():
        if name == "params":
            params = {}
            for k, v in (value or {}).items():
                option = spec(k) if k in _PARAM_METHODS else None
                if option is None:
                    raise unknown_option(k)
                params[k] = option.check(v, "python")
            out["params"] = params
            continue
        option = COMMON.get(name)
        if option is None:
            raise unknown_option(name)
        out[name] = value if value is None else option.check(value, "python")
    return out


def layered(
    file: Mapping[str, Any] | None, caller: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, overridden by the file's ``plan:`` section, overridden by the caller's options
    that are not ``None``; ``params`` are merged key by key in the same order. Both layers must
    already be checked (:func:`check_file_section`, :func:`check_caller`)."""
    out = defaults()
    for layer in (file or {}, caller or {}):
        for key, value in layer.items():
            if value is None:
                continue
            if key == "params":
                out["params"].update(value)
            else:
                out[key] = value
    return out


def plan_kwargs(options: Mapping[str, Any], method: str) -> dict[str, Any]:
    """Keywords of ``plan(scenario, method, **kwargs)`` for layered ``options``: every common
    option and those of ``options["params"]`` that ``method`` takes."""
    own = METHOD_PARAMS[method]
    out = {k: v for k, v in options.items() if k not in ("method", "params")}
    out.update({k: v for k, v in (options.get("params") or {}).items() if k in own})
    return out


def parse_text(name: str, text: str) -> Any:
    """A ``--param NAME=TEXT`` value parsed to the type of the option or parameter ``name``."""
    option = spec(name)
    if option is None:
        raise unknown_option(name)
    return option.parse(text)


def parse_assignments(items: Iterable[str] | None, sweep: bool = False) -> dict[str, Any]:
    """``KEY=VALUE`` strings (``KEY=V1,V2,...`` with ``sweep``) parsed by the schema; ``-`` in
    a key reads as ``_``."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OptionsError(f"--param {item!r} must look like KEY=VALUE", "param")
        key = key.strip().replace("-", "_")
        out[key] = (
            [parse_text(key, v) for v in value.split(",")] if sweep else parse_text(key, value)
        )
    return out


def split_common(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` split into common options and method parameters."""
    common = {k: v for k, v in values.items() if k in COMMON}
    params = {k: v for k, v in values.items() if k not in COMMON}
    return common, params
