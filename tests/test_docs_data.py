"""docs/data.md's snippets run as written (all but the live ones, which need keys)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "data.md"


def snippets() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    return [b for b in blocks if not b.lstrip().startswith("# (live")]


def test_the_page_has_snippets_for_every_source():
    text = "\n".join(snippets())
    for name in (
        "pvlib",
        "p_max_pu",
        "carbon_from_electricitymaps",
        "carbon_from_watttime",
        "carbon_from_carbon_aware_sdk",
        "carbon_from_entsoe",
        "to_xarray",
    ):
        assert name in text, name


def test_snippets_run_in_order(monkeypatch, capsys):
    pytest.importorskip("pvlib")
    pytest.importorskip("xarray")
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        for k, code in enumerate(snippets()):
            exec(compile(code, f"{PAGE.name} snippet {k + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "DE 96 lifecycle" in out and "kg CO2 EUR" in out
    plan, scenario = namespace["plan"], namespace["scenario"]
    assert plan.kpis["jobs_done"] == 1
    assert [s.name for s in scenario.sites] == ["berlin", "madrid"]
