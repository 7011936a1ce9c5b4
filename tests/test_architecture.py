"""The architecture as docs/architecture.md draws it: imports run one way, without cycles, and a
heuristic user never loads Pyomo.

Imports are read from the source with ``ast`` — those inside functions count too; only imports
under ``if TYPE_CHECKING:`` are exempt (type checkers read them, Python never runs them).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import greenopt

PACKAGE = Path(greenopt.__file__).resolve().parent
ROOT = PACKAGE.parent

#: The layers, lowest first: a module may import its own layer and those below, never above.
#: Each entry is a module or package name (a package covers its submodules).
LAYERS: tuple[tuple[str, ...], ...] = (
    # error types; optional-dependency imports; memory estimates (numbers in, SizeError out)
    ("greenopt.errors", "greenopt.optional", "greenopt.limits"),
    ("greenopt.solvers",),  # solver adapters over standard-form arrays: no scenario, no plan
    ("greenopt.objectives", "greenopt.options"),
    ("greenopt.network",),
    ("greenopt.scenario",),
    ("greenopt.forecasts",),  # forecasts of a scenario's signals and the forecasters
    ("greenopt.io", "greenopt.examples"),
    # the plan and its rules; the dwell rule's measure (MODEL.md §5) beside the validator
    ("greenopt.result", "greenopt.evaluate", "greenopt.dwell", "greenopt.validate"),
    ("greenopt.formulations",),
    ("greenopt.heuristics",),
    ("greenopt.milp",),
    ("greenopt.plan",),
    ("greenopt", "greenopt.report"),  # the package's front door re-exports the layers below
    ("greenopt.batch", "greenopt.cli"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> set[str]:
    """The greenopt modules ``module`` imports at run time (any depth, TYPE_CHECKING exempt)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        # the longest prefix of ``name`` that is a greenopt module
        parts = name.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in MODULES:
                return candidate
            parts.pop()
        return None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "greenopt":
                    found.add(resolve(alias.name) or alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if base_name.split(".")[0] == "greenopt":
                for alias in node.names:
                    target = resolve(f"{base_name}.{alias.name}") or resolve(base_name)
                    if target is not None:
                        found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(module)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def _layer(module: str) -> int:
    best, depth = None, -1
    for k, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > depth:
                best, depth = k, len(name)
    assert best is not None, f"{module} is in no layer of LAYERS: add it"
    return best


def test_the_graph_sees_the_imports_it_should():
    # a guard against a parser that finds nothing: known edges, one of each kind
    assert "greenopt.scenario.models" in GRAPH["greenopt.scenario"]  # from X import (package)
    assert "greenopt.solvers.highs" in GRAPH["greenopt.milp.search"]  # from pkg import module
    assert "greenopt.milp.pipeline" in GRAPH["greenopt.plan"]  # inside a function
    assert "greenopt.scenario" not in GRAPH["greenopt.network.wan"]  # TYPE_CHECKING only


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_every_module_has_a_layer_and_imports_only_downwards():
    upward = [
        f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
        for a, targets in sorted(GRAPH.items())
        for b in sorted(targets)
        if _layer(b) > _layer(a)
    ]
    assert not upward, "imports against the flow:\n" + "\n".join(upward)


def test_the_benchmark_harness_is_not_shipped():
    assert not (PACKAGE / "bench").exists()
    assert not any(m.startswith("benchmarks") for m in MODULES)
    for module, targets in GRAPH.items():
        assert not any(t.startswith("benchmarks") for t in targets), module


HEURISTIC_USER = """
import sys
import greenopt

s = greenopt.examples.load("small")
for method in ("greedy", "online", "run-now", "threshold", "greenest-region", "follow-renewables"):
    p = greenopt.plan(s, method=method)
    assert greenopt.validate(s, p) == [], method
# the greedy with its LP re-timing builds the MILP's matrix and hands it to HiGHS, not Pyomo
greenopt.plan(s, method="greedy", passes=1, retime=True)
greenopt.check_scenario(s)
loaded = sorted(m for m in sys.modules if m == "pyomo" or m.startswith("pyomo."))
print("PYOMO:", len(loaded), loaded[:5])
"""


def test_a_heuristic_user_never_imports_pyomo():
    r = subprocess.run(
        [sys.executable, "-c", HEURISTIC_USER],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "PYOMO: 0 []" in r.stdout, r.stdout


@pytest.mark.parametrize("module", ["greenopt.milp.pipeline", "greenopt.formulations.pyomo_model"])
def test_pyomo_is_where_the_milp_is(module):
    # the other side of the test above: these do load Pyomo (so that test can fail)
    code = f"import sys, {module}; print('pyomo' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
