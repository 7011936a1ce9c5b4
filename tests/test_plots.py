"""Plots and reports: files exist, are PNGs, and have one panel per site."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

import greenopt
from greenopt.report import plots
from greenopt.report.report import markdown, write_outputs, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small():
    sc = greenopt.examples.load("small")
    return sc, greenopt.plan(sc, "greedy")


def test_gantt_has_one_panel_per_site(small, tmp_path):
    sc, p = small
    fig = plots.gantt(sc, p, tmp_path / "g.png")
    assert len(fig.axes) == len(sc.sites)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert [t.split(" ")[0] for t in titles] == [s.name for s in sc.sites]
    # every run slot is drawn: one bar per assignment row, in its site's panel
    bars = sum(len(c.get_paths()) for ax in fig.axes for c in ax.collections)
    assert bars == len(p.assignments)
    data = (tmp_path / "g.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000


def test_energy_stack_panels_twins_and_heights(small, tmp_path):
    sc, p = small
    fig = plots.energy_stack(sc, p, tmp_path / "e.png")
    panels = plots.site_panels(fig)
    assert len(panels) == len(sc.sites)
    assert len(fig.axes) == 2 * len(sc.sites)  # each site panel has its carbon overlay
    # the stacked bars of the first site reach renewable + grid + curtailed of every slot
    T = sc.horizon.slots
    tops = np.zeros(T)
    for patch in panels[0].patches:
        slot = int(patch.get_x() + patch.get_width() / 2)
        tops[slot] = max(tops[slot], patch.get_y() + patch.get_height())
    e = p.energy[p.energy["site"] == sc.sites[0].name].sort_values("slot")
    expected = (e["renewable_kwh"] + e["grid_kwh"] + e["curtailed_kwh"]).to_numpy()
    np.testing.assert_allclose(tops, expected, rtol=1e-9, atol=1e-9)
    # the overlay is the site's carbon intensity
    twin = next(ax for ax in fig.axes if ax.get_label() == plots.OVERLAY_LABEL)
    np.testing.assert_allclose(twin.lines[0].get_ydata(), sc.sites[0].carbon)
    assert (tmp_path / "e.png").stat().st_size > 5000


def test_wan_map_geographic_and_migration_arrows(small, tmp_path):
    sc, p = small
    pos, geographic = plots.site_positions(sc)
    assert geographic
    assert pos["oslo"] == (10.75, 59.91)
    fig = plots.wan_map(sc, p, tmp_path / "w.png")
    assert len(fig.axes) == 1
    pairs = p.migrations[["src", "dst"]].drop_duplicates()
    arrows = [c for c in fig.axes[0].texts if getattr(c, "arrow_patch", None) is not None]
    assert len(arrows) == len(pairs)
    assert (tmp_path / "w.png").stat().st_size > 5000


def test_positions_without_coordinates_use_a_layout_and_place_transit_nodes():
    sc = greenopt.examples.load("small")
    stripped = sc.with_jobs(
        sc.jobs,
        sites=[s.model_copy(update={"latitude": None, "longitude": None}) for s in sc.sites],
    )
    pos, geographic = plots.site_positions(stripped)
    assert not geographic and set(pos) == {s.name for s in sc.sites}
    assert plots.site_positions(stripped)[0] == pos  # deterministic
    # a transit node between two sites sits at the mean of its neighbours
    wan = [
        {"a": "oslo", "b": "hub", "gbps": 10.0},
        {"a": "hub", "b": "madrid", "gbps": 10.0},
        {"a": "hub", "b": "frankfurt", "gbps": 10.0},
    ]
    transit = sc.with_jobs(sc.jobs, wan=wan)
    pos, geographic = plots.site_positions(transit)
    assert geographic
    lon = np.mean([s.longitude for s in sc.sites])
    lat = np.mean([s.latitude for s in sc.sites])
    assert pos["hub"] == pytest.approx((lon, lat))


def test_write_outputs_and_reports(small, tmp_path):
    sc, p = small
    files = write_outputs(sc, p, tmp_path, plots=True, report="html")
    names = {f.name for f in files}
    assert {"gantt.png", "energy.png", "wan.png", "report.html", "kpis.json"} <= names
    for f in files:
        assert f.stat().st_size > 0
    html = (tmp_path / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 3 and all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    assert f"{p.kpis['carbon_kg']:.4g}" in html and "sla_attainment" in html
    md_path = write_report(sc, p, tmp_path, "md", {"gantt": tmp_path / "gantt.png"})
    md = md_path.read_text()
    assert "![" in md and "(gantt.png)" in md and "| carbon_kg |" in md
    assert markdown(sc, p).count("![") == 0
