"""Which MILP solvers can Pyomo reach here, and do they really solve?

For each candidate, :func:`check_solver` asks Pyomo whether the solver is available and, if so,
solves a tiny integer program whose optimum is known:

    max 3x + 2y   s.t.   x + y ≤ 4,   x + 3y ≤ 6,   x ≤ 3,   x, y ∈ ℤ≥0     →   x = 3, y = 1, 11

A solver "works" only if it returns that optimum; "available" alone is not enough (a binary can be
on PATH and still lack a licence).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import time
from dataclasses import asdict, dataclass

from greenopt.solvers import SOLVERS

#: Pyomo solver names tried by ``greenopt doctor``: greenopt's one list (``highs`` is the MILP
#: default).
CANDIDATES: tuple[str, ...] = SOLVERS

#: Python packages whose versions the report lists.
PACKAGES: tuple[str, ...] = ("pyomo", "highspy", "numpy", "pandas", "networkx", "dask")

KNOWN_OPTIMUM = 11.0


@dataclass
class SolverCheck:
    """Outcome for one solver: ``available`` (Pyomo can call it), ``works`` (solved the test)."""

    name: str
    available: bool
    works: bool
    version: str | None
    seconds: float
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _tiny_model():
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name="greenopt-doctor")
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 3))
    m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.c1 = pyo.Constraint(expr=m.x + m.y <= 4)
    m.c2 = pyo.Constraint(expr=m.x + 3 * m.y <= 6)
    m.obj = pyo.Objective(expr=3 * m.x + 2 * m.y, sense=pyo.maximize)
    return m


def check_solver(name: str, time_limit: float = 10.0) -> SolverCheck:
    """Check one Pyomo solver; never raises (failures are reported in ``message``)."""
    import pyomo.environ as pyo

    t0 = time.perf_counter()
    try:
        solver = pyo.SolverFactory(name)
        available = bool(solver.available(exception_flag=False))
    except Exception as exc:  # a plug-in can fail to even construct: that is the finding
        return SolverCheck(name, False, False, None, time.perf_counter() - t0, _short(exc))
    if not available:
        return SolverCheck(name, False, False, None, time.perf_counter() - t0, "not installed")
    version = None
    with contextlib.suppress(Exception):
        v = solver.version()
        version = ".".join(map(str, v)) if isinstance(v, tuple | list) else str(v)
    m = _tiny_model()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = solver.solve(m, tee=False)
        value = float(pyo.value(m.obj))
        # the legacy interface nests the status; pyomo.contrib.solver's results carry it
        holder = getattr(result, "solver", result)
        status = str(getattr(holder, "termination_condition", "unknown"))
    except Exception as exc:
        return SolverCheck(name, True, False, version, time.perf_counter() - t0, _short(exc))
    works = abs(value - KNOWN_OPTIMUM) < 1e-6
    msg = f"solved: objective {value:g} ({status})"
    if not works:
        msg = f"wrong answer: objective {value:g}, expected {KNOWN_OPTIMUM:g} ({status})"
    return SolverCheck(name, True, works, version, time.perf_counter() - t0, msg)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:160]


def check_solvers(names: tuple[str, ...] | list[str] = CANDIDATES) -> list[SolverCheck]:
    """Check every solver in ``names`` (in order)."""
    import logging

    # Pyomo logs a warning per missing executable; the table says it better.
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    return [check_solver(n) for n in names]


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the Python packages greenopt leans on (None when missing)."""
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    return out
