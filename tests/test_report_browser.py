"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``, installed by
``.ci/run``) loads the small example's report without a console error, finds the KPI table, the
run-now comparison and the three plots decoded at their PNG sizes, and takes a screenshot of the
whole page (kept in the test's folder; copied to ``$GREENOPT_SCREENSHOTS`` when that is set).

The same check of a page with an error in it — a script that throws, a console error, an image
that does not load, a script the report's Content-Security-Policy refuses — must report each one,
so the test cannot pass by seeing nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

import greenopt
from greenopt.report.report import write_outputs
from tests.browser_helpers import find_chromium, open_page

CHROMIUM = find_chromium()
WHY = "no Chromium on PATH (Debian: apt-get install -y chromium; or set GREENOPT_CHROMIUM)"


@pytest.fixture(autouse=True)
def chromium() -> str:
    """The browser; without one the test skips — or fails where GREENOPT_REQUIRE_CHROMIUM is
    set (``.ci/run`` sets it: CI must run the browser check)."""
    if CHROMIUM is None:
        if os.environ.get("GREENOPT_REQUIRE_CHROMIUM"):
            pytest.fail(f"{WHY}; GREENOPT_REQUIRE_CHROMIUM is set")
        pytest.skip(WHY)
    return CHROMIUM


#: What the page holds once loaded: tables by id with their rows, the images as decoded.
PROBE = """({
  tables: Object.fromEntries(Array.from(document.querySelectorAll('table'),
    t => [t.id, Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent))])),
  images: Array.from(document.images, i => ({id: i.id, complete: i.complete,
    width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
  headings: Array.from(document.querySelectorAll('h2'), h => h.textContent),
  title: document.title,
})"""


def _keep(shot: Path) -> None:
    where = os.environ.get("GREENOPT_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(where) / shot.name)


def test_the_html_report_loads_cleanly_in_headless_chromium(tmp_path, chromium):
    sc = greenopt.examples.load("small")
    plan = greenopt.plan(sc, "greedy")
    out = tmp_path / "out"
    write_outputs(sc, plan, out, report="html")
    page = open_page(chromium, out / "report.html", tmp_path / "profile", probe=PROBE)
    assert page.errors == [], page.errors
    seen = page.value
    assert seen["title"] == "greenopt — small"
    tables = seen["tables"]
    assert {"run", "comparison", "kpis", "sites", "migrations", "scorecard"} <= set(tables)
    kpis = {row[0]: row[1:] for row in tables["kpis"]}
    assert set(plan.kpis) <= set(kpis)
    assert kpis["deadline_misses"] == [str(int(plan.kpis["deadline_misses"])), "count"]
    comparison = {row[0]: row for row in tables["comparison"]}
    assert {"carbon", "grid energy", "cost", "deadline misses", "migrations"} <= set(comparison)
    # the three plots, decoded at the size of their PNG files and shown on the page
    images = {i["id"]: i for i in seen["images"]}
    assert set(images) == {"plot-gantt", "plot-energy", "plot-wan"}
    for name in ("gantt", "energy", "wan"):
        img = images[f"plot-{name}"]
        assert img["complete"] and img["shown"] > 300
        assert (img["width"], img["height"]) == Image.open(out / f"{name}.png").size
    assert seen["headings"][:2] == ["Run", "Compared with run-now"]
    # the screenshot: the whole page, 1280 CSS px wide
    shot = tmp_path / "report-small.png"
    shot.write_bytes(page.screenshot)
    width, height = Image.open(shot).size
    assert width == 1280 and height > 2500
    _keep(shot)


def test_the_browser_check_reports_what_goes_wrong_on_a_page(tmp_path, chromium):
    sc = greenopt.examples.load("small")
    write_outputs(sc, greenopt.plan(sc, "greedy"), tmp_path / "out", report="html")
    good = (tmp_path / "out" / "report.html").read_text()
    broken = good.replace(
        "</body>",
        "<img id='missing' src='data:image/png;base64,AAAA'>"  # not a PNG
        "<script>console.error('from the page')</script></body>",  # refused by the CSP
    )
    (tmp_path / "broken.html").write_text(broken)
    page = open_page(chromium, tmp_path / "broken.html", tmp_path / "p1")
    text = "\n".join(page.errors)
    assert "Content Security Policy" in text  # the inline script was refused, not run
    assert "from the page" not in text
    assert "image did not decode: missing" in text
    # without the CSP, the script runs and its error and exception are caught too
    bare = tmp_path / "bare.html"
    bare.write_text(
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('from the page');"
        "throw new Error('thrown here')</script></body></html>"
    )
    page = open_page(chromium, bare, tmp_path / "p2")
    text = "\n".join(page.errors)
    assert "console.error: from the page" in text and "thrown here" in text
