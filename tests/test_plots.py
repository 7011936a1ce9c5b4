"""Plots and reports: the ``greenopt.plot`` functions draw into the Axes they are given and
return it; the Gantt chart aggregates above its job threshold; the WAN map stands on real
coordinates with one arrow per (src, dst) pair; every figure of the realistic example is at
most 2,000 px tall; the report compares with run-now, lists sites and migrations, names the
currency, shows no float noise and is written with ordinary file modes."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.patches import FancyArrowPatch
from PIL import Image

import greenopt
from greenopt.examples import realistic
from greenopt.examples.synthetic import synthetic_scenario
from greenopt.report import draw, plots
from greenopt.report.report import (
    flow_table,
    markdown,
    number,
    run_now,
    site_table,
    write_outputs,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The tallest image the report may hold (issue 16, acceptance 4).
MAX_PX = 2000


@pytest.fixture(scope="module")
def small():
    sc = greenopt.examples.load("small")
    return sc, greenopt.plan(sc, "greedy")


@pytest.fixture(scope="module")
def real():
    return greenopt.examples.load("realistic")


@pytest.fixture(scope="module")
def real_plans(real):
    # the greedy and a plan that moves a lot (the MILP's 60 s is measured outside the tests)
    return {m: greenopt.plan(real, m) for m in ("greedy", "follow-renewables")}


def _labels(ax: Axes) -> set[str]:
    return {t.get_text() for t in ax.texts}


# -- the Axes API --------------------------------------------------------------------------------
def test_every_plot_draws_into_the_axes_it_is_given_and_returns_it(small):
    sc, p = small
    fig = draw.new_figure((10, 16))
    axes = fig.subplots(6, 1)
    assert greenopt.plot.gantt(p, sc, ax=axes[0]) is axes[0]
    assert greenopt.plot.gantt(p, sc, ax=axes[1], aggregate=True) is axes[1]
    assert greenopt.plot.energy(p, sc, ax=axes[2]) is axes[2]
    assert greenopt.plot.energy(p, sc, site="madrid", ax=axes[3]) is axes[3]
    assert greenopt.plot.wan(p, sc, ax=axes[4]) is axes[4]
    assert greenopt.plot.domain(ax=axes[5]) is axes[5]
    # nothing else was made: the six panels and the two energy panels' carbon overlays
    assert len(fig.axes) == 8
    assert [ax.get_label() for ax in fig.axes].count(draw.OVERLAY_LABEL) == 2
    assert all(ax.has_data() for ax in axes)
    fig.savefig(Path(os.devnull), format="png")  # the composed figure renders


def test_without_an_axes_each_plot_makes_a_figure_sized_for_the_plan(small, real, real_plans):
    import matplotlib.pyplot as plt

    sc, p = small
    try:
        for fn in (greenopt.plot.gantt, greenopt.plot.energy, greenopt.plot.wan):
            ax = fn(p, sc)
            assert isinstance(ax, Axes) and ax.figure is not None
            assert ax.figure.get_figheight() <= draw.MAX_HEIGHT_IN
        ax = greenopt.plot.gantt(real_plans["greedy"], real)
        assert ax.figure.get_figheight() <= draw.MAX_HEIGHT_IN
    finally:
        plt.close("all")


def test_names_drawn_by_the_axes_api_stay_literal_after_the_call(small):
    sc, _p = small
    kind = "$\\undefinedmacro$"
    jobs = [j.model_copy(update={"kind": kind}) if i % 2 else j for i, j in enumerate(sc.jobs)]
    odd = sc.with_jobs(jobs)
    plan = greenopt.plan(odd, "greedy")
    fig = draw.new_figure((10, 8))
    ax = greenopt.plot.gantt(plan, odd, ax=fig.add_subplot())
    # saved later, outside the plot function, with math parsing on: still drawn as written
    with matplotlib.rc_context({"text.parse_math": True}):
        fig.savefig(Path(os.devnull), format="png")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert kind in legend


def test_the_report_draws_without_pyplot():
    code = (
        "import sys, tempfile, greenopt\n"
        "from greenopt.report.report import write_outputs\n"
        "sc = greenopt.examples.load('small')\n"
        "write_outputs(sc, greenopt.plan(sc, 'greedy'), tempfile.mkdtemp())\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "False"


def test_reports_drawn_in_threads_match_one_drawn_alone(small, tmp_path):
    sc, p = small
    alone = plots.plot_all(sc, p, tmp_path / "alone")
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda k: plots.plot_all(sc, p, tmp_path / f"t{k}"), range(3)))
    for run in runs:
        assert {k: v.read_bytes() for k, v in run.items()} == {
            k: v.read_bytes() for k, v in alone.items()
        }


# -- Gantt -------------------------------------------------------------------------------------
def test_detailed_gantt_draws_a_bar_per_run_slot_under_each_site(small):
    sc, p = small
    fig = draw.new_figure((10, 8))
    ax = greenopt.plot.gantt(p, sc, ax=fig.add_subplot())
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert sum(len(c.get_paths()) for c in bars) == len(p.assignments)
    # each bar is as wide as its share of the slot, starting at the slot
    widths = sorted(float(np.ptp(path.vertices[:, 0])) for c in bars for path in c.get_paths())
    np.testing.assert_allclose(widths, sorted(p.assignments["share"] * sc.horizon.dt_h))
    labels = _labels(ax)
    for site in sc.sites:
        assert any(t.startswith(f"{site.name} — {site.gpus} GPUs") for t in labels)
    assert {j for j in p.assignments["job"]} <= labels  # one row label per job that runs


def test_gantt_aggregates_above_the_job_threshold():
    at = synthetic_scenario(jobs=draw.GANTT_MAX_JOBS, sites=3, slots=24, seed=1)
    above = synthetic_scenario(jobs=draw.GANTT_MAX_JOBS + 1, sites=3, slots=24, seed=1)
    p_at, p_above = greenopt.plan(at, "greedy"), greenopt.plan(above, "greedy")
    detail = draw.gantt_layout(p_at, at)
    tracks = draw.gantt_layout(p_above, above)
    if detail.rows <= draw.GANTT_MAX_ROWS:  # few enough rows: one per job
        assert not detail.aggregate
    assert tracks.aggregate and tracks.rows == len(above.sites) + 1
    fig = draw.new_figure(tracks.size)
    ax = greenopt.plot.gantt(p_above, above, ax=fig.add_subplot())
    labels = _labels(ax)
    assert not {j.name for j in above.jobs} & labels  # no job rows
    assert sum(t.startswith(f"{s.name}\n") for s in above.sites for t in labels) == 3
    # the realistic example: 240 jobs, drawn as tracks from any plan
    notes: list[str] = []
    sc = greenopt.examples.load("realistic")
    fig = plots.gantt(sc, greenopt.plan(sc, "greedy"), notes=notes)
    assert fig is not None and any("utilisation tracks" in n for n in notes)
    assert fig.get_figheight() * plots.DPI <= MAX_PX


def test_utilisation_tracks_are_gpu_time_used_over_capacity(real, real_plans):
    p = real_plans["greedy"]
    idx = real.index
    kinds, use = draw.utilisation(p, real)
    assert kinds == sorted({j.kind for j in real.jobs})
    a = p.assignments
    gpus = a["job"].map({j.name: j.gpus for j in real.jobs})
    used = (a["share"] * gpus).groupby([a["site"], a["slot"]]).sum()
    expected = np.zeros((len(idx.site_names), idx.T))
    for (site, slot), v in used.items():
        expected[idx.site_pos[site], slot] = v / idx.site_gpus[idx.site_pos[site]]
    np.testing.assert_allclose(use.sum(axis=1), expected, atol=1e-12)
    assert use.sum(axis=1).max() <= 1 + 1e-9  # never above capacity
    # binned: each bin the mean of its slots
    _, per3 = draw.utilisation(p, real, per=3)
    binned = expected.reshape(len(idx.site_names), -1, 3).mean(axis=2)
    np.testing.assert_allclose(per3.sum(axis=1), binned)


# -- energy --------------------------------------------------------------------------------------
def _bar_tops(ax: Axes, slots: int) -> np.ndarray:
    """The top of each slot's stacked bar (hourly slots: a bar is centred in its slot)."""
    tops = np.zeros(slots)
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bars) == 3  # renewable used, grid, curtailed
    for c in bars:
        for path in c.get_paths():
            slot = int(path.vertices[:, 0].mean())
            tops[slot] = max(tops[slot], path.vertices[:, 1].max())
    return tops


def test_energy_stack_panels_twins_and_heights(small, tmp_path):
    sc, p = small
    fig = plots.energy_stack(sc, p, tmp_path / "e.png")
    panels = plots.site_panels(fig)
    assert len(panels) == len(sc.sites)
    assert len(fig.axes) == 2 * len(sc.sites)  # each site panel has its carbon overlay
    # the stacked bars of the first site reach renewable + grid + curtailed of every slot
    tops = _bar_tops(panels[0], sc.horizon.slots)
    e = p.energy[p.energy["site"] == sc.sites[0].name].sort_values("slot")
    expected = (e["renewable_kwh"] + e["grid_kwh"] + e["curtailed_kwh"]).to_numpy()
    np.testing.assert_allclose(tops, expected, rtol=1e-9, atol=1e-9)
    assert panels[0].get_ylim()[1] > expected.max()  # the tallest bar is not cut
    twin = next(ax for ax in fig.axes if ax.get_label() == plots.OVERLAY_LABEL)
    np.testing.assert_allclose(twin.lines[0].get_ydata(), sc.sites[0].carbon)
    assert (tmp_path / "e.png").stat().st_size > 5000


def test_energy_of_all_sites_sums_them_and_overlays_the_grid_carbon_drawn(small):
    sc, p = small
    fig = draw.new_figure((10, 4))
    ax = greenopt.plot.energy(p, sc, ax=fig.add_subplot())
    by_slot = p.energy.groupby("slot")[["renewable_kwh", "grid_kwh", "curtailed_kwh"]].sum()
    np.testing.assert_allclose(_bar_tops(ax, len(by_slot)), by_slot.sum(axis=1))
    twin = next(a for a in fig.axes if a.get_label() == plots.OVERLAY_LABEL)
    g = p.energy.groupby("slot")[["carbon_kg", "grid_kwh"]].sum()
    ok = g["grid_kwh"] > 1e-9
    np.testing.assert_allclose(
        twin.lines[0].get_ydata()[ok.to_numpy()], (1000 * g["carbon_kg"] / g["grid_kwh"])[ok]
    )
    with pytest.raises(greenopt.ScenarioError, match="nowhere"):
        greenopt.plot.energy(p, sc, site="nowhere", ax=fig.add_subplot())


# -- WAN map -------------------------------------------------------------------------------------
def _arrows(ax: Axes) -> list[FancyArrowPatch]:
    return [a for a in ax.patches if isinstance(a, FancyArrowPatch) and a.get_gid() == "migration"]


def test_wan_map_of_the_small_example_is_geographic_with_one_arrow_per_pair(small, tmp_path):
    sc, p = small
    pos, geographic = plots.site_positions(sc)
    assert geographic and pos["oslo"] == (10.75, 59.91)
    fig = plots.wan_map(sc, p, tmp_path / "w.png")
    ax = fig.axes[0]
    pairs = p.migrations[["src", "dst"]].drop_duplicates()
    assert len(_arrows(ax)) == len(pairs)
    assert (tmp_path / "w.png").stat().st_size > 5000


def test_wan_map_of_the_realistic_example_stands_on_real_coordinates(real, real_plans):
    pos, geographic = plots.site_positions(real)
    assert geographic
    for node, (lat, lon) in realistic.TRANSIT.items():  # transit nodes where they are
        assert pos[node] == (lon, lat)
    # the widest empty band of meridians is the Pacific: the map is cut at the antimeridian
    assert draw.cut_meridian([x for x, _ in pos.values()]) == -180.0
    p = real_plans["follow-renewables"]
    fig = plots.wan_map(real, p)
    ax = fig.axes[0]
    lats = [s.latitude for s in real.sites]
    y0, y1 = ax.get_ylim()
    assert min(lats) - 15 <= y0 < min(lats) and max(lats) < y1 <= max(lats) + 15
    x0, x1 = ax.get_xlim()
    assert -145 < x0 < -121.95 and 151.21 < x1 < 175  # California to Sydney, not the globe
    f = draw.flows(p)
    assert len(_arrows(ax)) == len(f)  # one arrow per (src, dst) pair, however many moves
    assert f["moves"].sum() == len(p.migrations)
    assert f["gb"].sum() == pytest.approx(p.migrations["gb"].sum())
    widths = {a.get_linewidth() for a in _arrows(ax)}
    assert max(widths) == pytest.approx(6.0) and min(widths) < 3.0  # width ∝ GB
    # the largest flow is labelled "moves× · GB"
    big = f.iloc[0]
    label = f"{int(big['moves'])}× · "
    assert any(t.startswith(label) for t in _labels(ax))
    # a pair whose short way crosses the cut leaves the map and comes back at the other edge
    wrapped = [a for a in ax.patches if a.get_gid() == "migration-wrapped"]
    crossing = [
        r for r in f.itertuples()
        if abs(pos[r.src][0] - pos[r.dst][0]) > 180
    ]  # fmt: skip
    assert len(wrapped) == len(crossing)


def test_the_realistic_examples_coordinates_survive_its_scenario_files(real, tmp_path):
    back = greenopt.load_scenario(greenopt.save_scenario(real, tmp_path / "sc"))
    assert back == real and back.currency == "USD"
    assert plots.site_positions(back) == plots.site_positions(real)
    assert back.wan.nodes["singapore"] == {"latitude": 1.35, "longitude": 103.82}


def test_wan_nodes_take_the_coordinates_of_their_graph_nodes(small):
    sc, _ = small
    g = nx.Graph()
    where = {"oslo": (59.91, 10.75), "madrid": (40.42, -3.70), "frankfurt": (50.11, 8.68),
             "hub": (48.86, 2.35)}  # fmt: skip
    for n, (lat, lon) in where.items():
        g.add_node(n, latitude=lat, longitude=lon)
    g.add_edge("oslo", "hub", gbps=10.0)
    g.add_edge("hub", "madrid", gbps=10.0)
    g.add_edge("hub", "frankfurt", gbps=10.0)
    bare = [s.model_copy(update={"latitude": None, "longitude": None}) for s in sc.sites]
    moved = sc.with_jobs(sc.jobs, sites=bare, wan=g)
    pos, geographic = plots.site_positions(moved)
    assert geographic
    assert pos == {n: (lon, lat) for n, (lat, lon) in where.items()}


def test_wan_map_of_a_topology_zoo_network(data_file):
    from greenopt.io import pick_sites, read_topology_zoo

    g = read_topology_zoo(data_file("wan/topology-zoo/Geant2012.graphml"), scale=10.0)
    names = pick_sites(g, 4)
    base = greenopt.examples.load("small")
    sites = [
        base.sites[0].model_copy(update={"name": n, "latitude": None, "longitude": None})
        for n in names
    ]
    sc = base.with_jobs([], sites=sites, wan=g)
    pos, geographic = plots.site_positions(sc)
    placed = {n: (d["longitude"], d["latitude"]) for n, d in g.nodes(data=True) if "latitude" in d}
    assert geographic and {n: pos[n] for n in placed} == placed
    fig = plots.wan_map(sc, greenopt.plan(sc, "greedy"))
    y0, y1 = fig.axes[0].get_ylim()
    assert y0 >= -90 and y1 <= 90 and y1 - y0 < 90  # Europe, not the globe


def test_positions_without_coordinates_use_a_layout_and_place_transit_nodes(small):
    sc, _ = small
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
    fig = plots.wan_map(stripped, greenopt.plan(stripped, "greedy"))
    assert fig is not None and not fig.axes[0].get_xticks().size


def test_cut_meridian():
    assert draw.cut_meridian([0.0]) == -180.0
    assert draw.cut_meridian([-10.0, 0.0, 30.0]) == -180.0  # Europe: the antimeridian
    assert draw.cut_meridian([-122.0, -46.0, 10.0, 72.0, 151.0]) == -180.0  # the Pacific
    # Japan to Hawaii across the antimeridian: cut in the middle of the empty band between
    # −150° and 140°, so the map runs from 140°E to 150°W (drawn as 140…210)
    assert draw.cut_meridian([140.0, 150.0, 170.0, -170.0, -150.0]) == pytest.approx(-5.0)


# -- image sizes ---------------------------------------------------------------------------------
def test_every_plot_of_the_realistic_example_is_at_most_2000_px_tall(real, real_plans, tmp_path):
    for method, p in real_plans.items():
        notes: list[str] = []
        written = plots.plot_all(real, p, tmp_path / method, notes=notes)
        assert set(written) == {"gantt", "energy", "wan"}, notes
        for name, path in written.items():
            w, h = Image.open(path).size
            assert h <= MAX_PX and w <= MAX_PX, (method, name, w, h)


@pytest.mark.parametrize("sites", [12, 40])
def test_plots_of_many_sites_stay_within_2000_px(tmp_path, sites):
    sc = synthetic_scenario(jobs=80, sites=sites, slots=48, seed=3)
    written = plots.plot_all(sc, greenopt.plan(sc, "greedy"), tmp_path)
    assert set(written) == {"gantt", "energy", "wan"}
    for path in written.values():
        assert max(Image.open(path).size) <= MAX_PX


# -- the report ----------------------------------------------------------------------------------
def test_number_shows_no_float_noise():
    assert number(1.787e-14) == "0" and number(-6.0e-14) == "0"
    assert number(13186.958) == "13,187"
    assert number(943.6769) == "943.7"
    assert number(0.3935358) == "0.3935"
    assert number(1.234e-5) == "0.00001234"
    assert number(2.5) == "2.5" and number(3.0) == "3"
    assert number(float("nan")) == "–" and number(None) == "–"
    assert number(np.int64(12345)) == "12,345" and number(np.float64(0.1)) == "0.1"
    assert number(True) == "yes"


def test_report_compares_with_run_now_and_lists_sites_and_migrations(real, real_plans, tmp_path):
    p = real_plans["greedy"]
    base = run_now(real, p)
    assert base.method == "run-now"
    write_outputs(real, p, tmp_path, report="md", plots=False)
    md = (tmp_path / "report.md").read_text()
    comparison = md.split("## Compared with run-now")[1].split("## KPIs")[0]
    row = next(r for r in comparison.splitlines() if r.startswith("| carbon |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "kg CO2"
    assert cells[2] == number(p.kpis["carbon_kg"]) and cells[3] == number(base.kpis["carbon_kg"])
    change = 100 * (p.kpis["carbon_kg"] - base.kpis["carbon_kg"]) / base.kpis["carbon_kg"]
    assert cells[5] == f"{change:+.1f} %".replace("+", "\\+")
    for label in ("grid energy", "cost", "deadline misses", "migrations"):
        assert f"| {label} |" in comparison
    assert "| cost | USD |" in comparison  # the realistic example's currency
    # the per-site table adds up to the plan's KPIs
    sites = site_table(real, p)
    total = sites.iloc[-1]
    assert list(sites["site"]) == [s.name for s in real.sites] + ["total"]
    assert total["grid kWh"] == pytest.approx(p.kpis["grid_kwh"])
    assert total["carbon kg CO2"] == pytest.approx(p.kpis["carbon_kg"])
    assert total["cost USD"] == pytest.approx(p.kpis["cost"])
    assert sites["moves in"].iloc[:-1].sum() == len(p.migrations)
    assert "## By site" in md and "| sao-paulo |" in md
    # the migration table: pairs, the most GB first, the rest summed
    f = flow_table(p)
    assert f["moves"].sum() == len(p.migrations)
    assert f["GB"].sum() == pytest.approx(p.migrations["gb"].sum())
    assert "## Migrations by site pair" in md
    assert f"| {f.iloc[0]['from']} | {f.iloc[0]['to']} | {int(f.iloc[0]['moves'])} |" in md


def test_report_shows_currency_plausibility_kpis_and_no_float_noise(small, tmp_path):
    sc, p = small
    noisy = greenopt.evaluate(sc, p.assignments, method="greedy")
    noisy.kpis = {**noisy.kpis, "unmet_work_h": 1.787e-14, "migrations_per_job": 0.2,
                  "short_runs": 3}  # fmt: skip
    baseline = run_now(sc, p)
    baseline.kpis = {**baseline.kpis, "migrations_per_job": 0.0, "short_runs": 0}
    for fmt in ("md", "html"):
        path = write_report(sc, noisy, tmp_path, fmt, baseline=baseline)
        text = path.read_text()
        assert "e-14" not in text and "1.787" not in text
        assert not re.search(r"\d\.\d+e[-+]\d", text)  # no exponent notation anywhere
        # the small example names no currency (Markdown escapes the parentheses)
        assert "currency (unspecified)" in text.replace("\\(", "(").replace("\\)", ")")
        assert "migrations per job" in text and "short runs" in text
        plain = text.replace("\\_", "_")  # Markdown escapes the underscores
        assert "migrations_per_job" in plain and "short_runs" in plain  # the KPI table
    md = (tmp_path / "report.md").read_text()
    assert "| unmet\\_work\\_h | 0 | h |" in md
    assert "| short runs | run rows &lt; 5 min, not a job's last | 3 | 0 | \\+3 | – |" in md
    priced = sc.with_jobs(sc.jobs, currency="EUR")
    text = write_report(priced, greenopt.plan(priced, "greedy"), tmp_path / "eur", "md").read_text()
    assert "| cost | " in text and "| EUR |" in text and "cost EUR" in text


def test_report_of_run_now_itself_compares_with_itself(small, tmp_path):
    sc, _ = small
    p = greenopt.plan(sc, "run-now")
    write_outputs(sc, p, tmp_path, report="md", plots=False)
    md = (tmp_path / "report.md").read_text()
    assert "This plan is run-now's own." in md
    comparison = md.split("## KPIs")[0]
    assert "| carbon | kg CO2 | " in comparison and "| 0 | – |" in comparison


def test_report_without_run_now_when_it_cannot_be_made(small, tmp_path, monkeypatch):
    from greenopt.report import report as report_module

    def refuse(scenario, plan):
        raise greenopt.InfeasibleError("run-now misses 3 hard deadlines", {"j01": "too late"})

    monkeypatch.setattr(report_module, "run_now", refuse)
    sc, _ = small
    p = greenopt.plan(sc, "greedy")
    write_outputs(sc, p, tmp_path, report="html", plots=False)
    html = (tmp_path / "report.html").read_text()
    assert "id='comparison'" not in html and "id='kpis'" in html
    assert "no comparison with run-now: InfeasibleError" in html
    assert any("no comparison with run-now" in n for n in p.notes)


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
    for ident in ("run", "comparison", "kpis", "sites", "migrations", "scorecard"):
        assert f"<table id='{ident}'>" in html
    assert number(p.kpis["carbon_kg"]) in html and "sla_attainment" in html
    assert "Content-Security-Policy" in html and "<script" not in html
    md_path = write_report(sc, p, tmp_path, "md", {"gantt": tmp_path / "gantt.png"})
    md = md_path.read_text()
    assert "![" in md and "(gantt.png)" in md and "| carbon\\_kg |" in md
    assert markdown(sc, p).count("![") == 0


# -- file modes ----------------------------------------------------------------------------------
@pytest.fixture
def umask():
    def set_to(mask: int) -> None:
        os.umask(mask)

    before = os.umask(0o022)
    yield set_to
    os.umask(before)


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}


def test_outputs_are_written_with_the_usual_file_modes(small, tmp_path, umask):
    sc, p = small
    write_outputs(sc, p, tmp_path / "out", report="html", parquet=False)
    modes = _modes(tmp_path / "out")
    assert len(modes) >= 10 and set(modes.values()) == {0o644}, modes
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    umask(0o077)  # a stricter umask is honoured, not widened
    write_outputs(sc, p, tmp_path / "private", report="md")
    assert set(_modes(tmp_path / "private").values()) == {0o600}


def test_cli_plan_folder_and_files_have_the_usual_modes(tmp_path, umask):
    from typer.testing import CliRunner

    from greenopt.cli import app

    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["plan", "--example", "small", "-m", "greedy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_mode & 0o777 == 0o755
    modes = _modes(out)
    assert "report.html" in modes and set(modes.values()) == {0o644}, modes
    assert [q.name for q in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_plan_tables_are_written_0644_and_leave_no_temporary(small, tmp_path, umask):
    _sc, p = small
    for f in p.to_dir(tmp_path / "tables"):
        assert f.stat().st_mode & 0o777 == 0o644, f
    assert not [q for q in (tmp_path / "tables").iterdir() if q.name.startswith(".")]


def test_units_of_the_site_table_follow_the_currency(small):
    sc, p = small
    assert "cost" in site_table(sc, p).columns  # no currency: plain "cost"
    priced = sc.with_jobs(sc.jobs, currency="NOK")
    table = site_table(priced, greenopt.plan(priced, "greedy"))
    assert "cost NOK" in table.columns
    assert isinstance(table, pd.DataFrame) and len(table) == len(sc.sites) + 1
