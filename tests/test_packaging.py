"""Packaging: every import declared, optional packages only through ``require`` (a clear error
naming the extra), the examples without pvlib/windpowerlib, the files the wheel ships, links that
work on a fresh clone. Building and installing the wheel in a fresh venv is ``.ci/run``'s job.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import greenopt
from greenopt.cli import app
from greenopt.examples import profiles
from greenopt.examples.generate import differences, generate

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "greenopt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: import name → distribution name, where they differ
DIST_OF = {"yaml": "pyyaml", "entsoe": "entsoe-py", "distributed": "dask"}

#: optional packages a base install does not have (each behind an extra)
OPTIONAL = ("pvlib", "windpowerlib", "pyarrow", "distributed", "psutil", "xarray", "requests")


def _dist_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower().replace("_", "-")


BASE = {_dist_name(r) for r in PYPROJECT["project"]["dependencies"]}
EXTRAS = {
    extra: {_dist_name(r) for r in reqs}
    for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _third_party(root: Path) -> list[tuple[str, str, str]]:
    """``(top-level module, how, file:line)`` for every import statement and every
    ``require("module", ...)`` under ``root`` (``how`` is "import" or "require"), skipping the
    standard library, greenopt, benchmarks and imports under ``if TYPE_CHECKING``."""
    own = {"greenopt", "benchmarks", "__future__"}
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                skip |= {id(n) for b in node.body for n in ast.walk(b)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            names: list[tuple[str, str]] = []
            if isinstance(node, ast.Import) and id(node) not in skip:
                names = [(a.name, "import") for a in node.names]
            elif isinstance(node, ast.ImportFrom) and id(node) not in skip and node.level == 0:
                names = [(node.module or "", "import")]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "require"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [(str(node.args[0].value), "require")]
            for name, how in names:
                top = name.split(".")[0]
                if top and top not in own and top not in sys.stdlib_module_names:
                    found.append((top, how, where))
    return found


def test_every_third_party_import_is_declared():
    declared = BASE | set().union(*EXTRAS.values())
    missing = [
        f"{where}: {top} ({DIST_OF.get(top, top)})"
        for top, _, where in _third_party(PACKAGE) + _third_party(ROOT / "benchmarks")
        if DIST_OF.get(top, top).lower() not in declared
    ]
    assert not missing, "imports not declared in pyproject.toml:\n" + "\n".join(missing)


def test_the_scan_sees_imports_and_requires():
    # the test above can fail: it sees scipy's top-level import and xarray's require
    found = {(top, how) for top, how, _ in _third_party(PACKAGE)}
    assert ("scipy", "import") in found and ("xarray", "require") in found
    assert ("pvlib", "require") in found and ("distributed", "require") in found


def test_optional_packages_are_imported_only_through_require():
    """An extra's package imported by a plain ``import`` would fail with a bare ImportError;
    through :func:`greenopt.optional.require` it names the extra that brings it."""
    plain = [
        f"{where}: import {top}"
        for top, how, where in _third_party(PACKAGE)
        if how == "import" and DIST_OF.get(top, top).lower() not in BASE
    ]
    assert not plain, "optional packages imported without require():\n" + "\n".join(plain)


def test_every_require_names_an_extra_that_brings_the_package():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require"):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            module = node.args[0].value.split(".")[0]
            extra = kw["extra"].value if "extra" in kw else node.args[2].value
            assert extra in EXTRAS, f"{path.name}:{node.lineno}: no extra {extra!r}"
            dist = DIST_OF.get(module, module)
            assert dist in EXTRAS[extra], f"{path.name}:{node.lineno}: [{extra}] lacks {dist}"


def test_the_base_install_is_lean():
    heavy = {"pvlib", "windpowerlib", "pyarrow", "dask", "psutil", "xarray", "requests"}
    assert not BASE & heavy
    assert {"scipy", "highspy", "pyomo", "matplotlib"} <= BASE  # the MILP and the plots
    assert EXTRAS["test"] >= {"greenopt", "pytest", "hypothesis"}


BLOCKED_RUN = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # "import name" now raises ImportError, as if not installed
import numpy as np
import greenopt
from greenopt.report.report import write_outputs

small = greenopt.examples.load("small")
realistic = greenopt.examples.load("realistic")
np.save(sys.argv[1] + "/small.npy", np.stack([s.renewable_kw for s in small.sites]))
np.save(sys.argv[1] + "/realistic.npy", np.stack([s.renewable_kw for s in realistic.sites]))
plan = greenopt.plan(small, method="greedy")
assert greenopt.validate(small, plan) == []
write_outputs(small, plan, sys.argv[1] + "/out", plots=True, report="html")
blocked = {blocked!r}
print("LOADED", sorted(m for m in blocked if sys.modules.get(m) is not None))
"""


def test_examples_plan_and_write_without_any_optional_package(tmp_path):
    code = BLOCKED_RUN.format(blocked=(*OPTIONAL, "dask", "entsoe"))
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "LOADED []" in r.stdout
    assert (tmp_path / "out" / "report.html").is_file() and (
        tmp_path / "out" / "gantt.png"
    ).is_file()
    # the same numbers as here (where pvlib may be installed: the shipped profiles are used)
    here_small = np.stack([s.renewable_kw for s in greenopt.examples.load("small").sites])
    here_real = np.stack([s.renewable_kw for s in greenopt.examples.load("realistic").sites])
    assert np.load(tmp_path / "small.npy").tobytes() == here_small.tobytes()
    assert np.load(tmp_path / "realistic.npy").tobytes() == here_real.tobytes()


def test_shipped_profiles_are_what_pvlib_and_windpowerlib_compute():
    pytest.importorskip("pvlib")
    pytest.importorskip("windpowerlib")
    fresh = generate()
    assert len(fresh) == 12  # 3 small sites, 8 realistic sites, 1 wind contract
    assert differences(fresh, profiles.shipped_profiles()) == [], (
        "regenerate with: python -m greenopt.examples.generate"
    )


def test_differences_sees_a_changed_bit():
    shipped = profiles.shipped_profiles()
    key = next(iter(shipped))
    changed = dict(shipped)
    changed[key] = np.nextafter(shipped[key], np.inf)  # one ulp up everywhere
    assert len(differences(changed, shipped)) == 1


def test_a_profile_that_is_not_shipped_needs_the_examples_extra(monkeypatch):
    import pandas as pd

    times = pd.date_range("2023-06-21", periods=24, freq="h", tz="UTC")
    monkeypatch.setitem(sys.modules, "pvlib", None)
    monkeypatch.setitem(sys.modules, "windpowerlib", None)
    shipped = profiles.solar_kw(59.91, 10.75, times, 15.0)  # the small example's Oslo
    assert shipped.shape == (24,) and shipped.max() > 5
    assert np.array_equal(profiles.solar_kw(59.91, 10.75, times, 15), shipped)  # 15 == 15.0
    with pytest.raises(greenopt.MissingDependencyError, match=r"greenopt\[examples\]") as e:
        profiles.solar_kw(48.0, 2.0, times, 15.0)
    assert "pvlib" in str(e.value)
    with pytest.raises(greenopt.MissingDependencyError, match=r"windpowerlib"):
        greenopt.examples.load("realistic", weather_seed=1)


def test_parquet_without_pyarrow_fails_before_writing(monkeypatch, tmp_path):
    small = greenopt.examples.load("small")
    plan = greenopt.plan(small, method="run-now")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(greenopt.MissingDependencyError, match=r"greenopt\[parquet\]"):
        plan.to_dir(tmp_path / "out", parquet=True)
    assert not (tmp_path / "out").exists()
    # the CLI says so before planning, with the brackets of the extra intact
    r = CliRunner().invoke(
        app, ["plan", "--example", "small", "-m", "greedy", "--parquet", "--out", str(tmp_path)]
    )
    assert r.exit_code == 2
    assert "pip install 'greenopt[parquet]'" in r.output.replace("\n", "")
    assert "planning with" not in r.output


def test_batch_without_dask_names_the_extra(monkeypatch, tmp_path):
    from greenopt import batch

    greenopt.save_scenario(greenopt.examples.load("small"), tmp_path / "s")
    tasks = batch.make_tasks([str(tmp_path / "s" / "scenario.yaml")], methods=["greedy"])
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(greenopt.MissingDependencyError, match=r"greenopt\[batch\]"):
        batch.run_batch(tasks, tmp_path / "out")


def test_version_is_written_once():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "greenopt.__version__"}
    hits = [
        f"{p.relative_to(ROOT)}"
        for p in [*PACKAGE.rglob("*.py"), ROOT / "pyproject.toml"]
        if re.search(r"^\s*(__version__|version)\s*=\s*[\"']\d", p.read_text(), re.M)
    ]
    assert hits == ["greenopt/__init__.py"]
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+|\.dev\d+)?", greenopt.__version__)


def test_the_files_the_wheel_ships_are_there():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for package, patterns in data.items():
        folder = ROOT / package.replace(".", "/")
        for pattern in patterns:
            assert list(folder.glob(pattern)), f"{package}: nothing matches {pattern}"
    assert (PACKAGE / "py.typed").is_file()
    # the package's MODEL.md is the repository's contract, docs/model.md (one text, two places)
    assert (PACKAGE / "MODEL.md").read_text() == (ROOT / "docs" / "model.md").read_text()
    assert (PACKAGE / "formulations" / "MODEL.md").is_file()
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "END OF TERMS AND CONDITIONS" in license_text
    assert PYPROJECT["project"]["license"] == "Apache-2.0"


DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    PACKAGE / "formulations" / "MODEL.md",
]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_work_on_a_fresh_clone(doc):
    text = doc.read_text()
    assert "../shared" not in text, f"{doc.name} points outside the repository"
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:|#", target):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        if not path.exists() or ROOT not in path.parents:
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"
