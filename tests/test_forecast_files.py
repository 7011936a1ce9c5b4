"""Forecasts in scenario files: forecasts.csv / history.csv, round trip and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import greenopt
from greenopt.errors import ForecastError, ScenarioError
from greenopt.forecasts import Forecasts, make_forecasts
from greenopt.io import load_scenario, save_scenario
from greenopt.io.forecasts import read_forecasts_csv, read_history_csv
from tests.forecast_helpers import random_scenario

HEADER = "issue_time,time,site,signal,value\n"


def saved(tmp_path, forecasts_text=None, history_text=None, entry=None):
    """The small example saved to ``tmp_path`` with these forecast files; the YAML path."""
    path = save_scenario(greenopt.examples.load("small"), tmp_path)
    doc = yaml.safe_load(path.read_text())
    if forecasts_text is not None:
        (tmp_path / "fc.csv").write_text(forecasts_text)
    if history_text is not None:
        (tmp_path / "hist.csv").write_text(history_text)
    if entry is None:
        entry = {}
        if forecasts_text is not None:
            entry["issued"] = "fc.csv"
        if history_text is not None:
            entry["history"] = "hist.csv"
    doc["forecasts"] = entry
    path.write_text(yaml.safe_dump(doc))
    return path


def test_round_trip_of_forecasts_and_history(tmp_path):
    rng = np.random.default_rng(0)
    sc = greenopt.examples.load("small")
    S = len(sc.sites)
    hist = {
        "carbon": rng.uniform(50, 300, (S, 30)),
        "renewable_kw": rng.uniform(0, 30, (S, 30)),
        "price": rng.uniform(-10, 30, (S, 30)),
    }
    hist["carbon"][1, 3] = np.nan  # unknown
    fc = make_forecasts(sc, "error-model", seed=3, history=hist, issue_slots=[0, 5, 11])
    gappy = {s: a.copy() for s, a in fc.values.items()}
    gappy["carbon"][1, 0, 14:17] = np.nan  # a gap inside an issue
    gappy["price"][2, 1, :] = np.nan  # a site the last issue says nothing about
    fc = Forecasts(fc.horizon, fc.sites, fc.issue_times, gappy, fc.history)
    with_fc = sc.with_jobs(sc.jobs, forecasts=fc)
    back = load_scenario(save_scenario(with_fc, tmp_path))
    assert back.forecasts == fc
    assert back == with_fc
    doc = yaml.safe_load((tmp_path / "scenario.yaml").read_text())
    assert doc["forecasts"] == {"issued": "forecasts.csv", "history": "history.csv"}


def test_round_trip_without_forecasts_and_with_only_a_history(tmp_path):
    sc = greenopt.examples.load("small")
    assert load_scenario(save_scenario(sc, tmp_path / "a")).forecasts is None
    only = Forecasts.empty(sc.horizon, sc.index.site_names, history={"carbon": np.ones((3, 24))})
    back = load_scenario(save_scenario(sc.with_jobs(sc.jobs, forecasts=only), tmp_path / "b"))
    assert back.forecasts == only
    empty = Forecasts.empty(sc.horizon, sc.index.site_names)
    back = load_scenario(save_scenario(sc.with_jobs(sc.jobs, forecasts=empty), tmp_path / "c"))
    assert back.forecasts == empty


def test_samples_at_another_resolution_are_resampled_like_actuals(tmp_path):
    # 15-minute samples of one hourly-slot day, issued at 01:00 for 01:00-03:30
    rows = [
        f"2023-06-21T01:00:00Z,{pd.Timestamp('2023-06-21T01:00Z') + pd.Timedelta(minutes=15 * i)}"
        f",oslo,carbon,{100 + i}"
        for i in range(10)
    ]
    sc = load_scenario(saved(tmp_path, HEADER + "\n".join(rows) + "\n"))
    c = sc.forecasts.values["carbon"][0, sc.index.site_pos["oslo"]]
    assert c[1] == pytest.approx(101.5) and c[2] == pytest.approx(105.5)
    assert np.isnan(c[0]) and np.isnan(c[3])  # before the issue; 03:00-04:00 half covered
    assert np.isnan(sc.forecasts.values["carbon"][0, sc.index.site_pos["madrid"]]).all()
    assert sc.forecasts.issue_slots.tolist() == [1]


def test_short_entry_and_history_only(tmp_path):
    text = HEADER + "2023-06-21T00:00:00Z,2023-06-21T05:00:00Z,oslo,renewable_kw,3.5\n"
    path = saved(tmp_path, text, entry="fc.csv")
    sc = load_scenario(path)
    assert sc.forecasts.values["renewable_kw"][0, sc.index.site_pos["oslo"], 5] == 3.5
    hist = "time,site,carbon\n2023-06-20T22:00:00Z,oslo,120\n2023-06-20T23:00:00Z,oslo,130\n"
    sc = load_scenario(saved(tmp_path, history_text=hist))
    h = sc.forecasts.history["carbon"]
    assert h.shape == (3, 2)
    assert h[sc.index.site_pos["oslo"]].tolist() == [120.0, 130.0]
    assert np.isnan(h[sc.index.site_pos["madrid"]]).all()
    assert len(sc.forecasts.issue_times) == 0


ISSUE = "2023-06-21T02:00:00Z"


@pytest.mark.parametrize(
    ("text", "match", "culprit"),
    [
        ("issue_time,time,site,value\n", r"lacks column\(s\) \['signal'\]", "signal"),
        (HEADER.strip() + ",extra\n", r"unknown column\(s\) \['extra'\]", "extra"),
        (HEADER, "header but no rows", None),
        ("", "is empty", None),
        (HEADER + f"{ISSUE},{ISSUE},lima,carbon,1\n", r"unknown site\(s\) \['lima'\]", "lima"),
        (HEADER + f"{ISSUE},{ISSUE},oslo,wind,1\n", "signal 'wind'", "wind"),
        (
            HEADER + f"2023-06-21T02:00:00,{ISSUE},oslo,carbon,1\n",
            "'issue_time'.*timezone",
            None,
        ),
        (HEADER + f"{ISSUE},yesterday,oslo,carbon,1\n", "column 'time'.*could not be parsed", None),
        (
            HEADER + f"{ISSUE},2023-06-21T01:00:00Z,oslo,carbon,1\n",
            r"'carbon' at site 'oslo' for 2023-06-21T01:00:00\+00:00 issued at "
            r"2023-06-21T02:00:00\+00:00 is for a time before it was issued",
            "oslo",
        ),
        (
            HEADER + f"{ISSUE},{ISSUE},oslo,carbon,-3\n",
            r"'carbon' at site 'oslo' for 2023-06-21T02:00:00\+00:00 .* is -3.0: it must be >= 0",
            "oslo",
        ),
        (
            HEADER + f"{ISSUE},{ISSUE},oslo,renewable_kw,lots\n",
            r"'renewable_kw' at site 'oslo'.* is 'lots', not a finite number",
            "oslo",
        ),
        (HEADER + f"{ISSUE},{ISSUE},oslo,price,inf\n", "not a finite number", "oslo"),
        (
            HEADER + f"{ISSUE},{ISSUE},oslo,carbon,1\n{ISSUE},{ISSUE},oslo,carbon,2\n",
            "is given twice",
            "oslo",
        ),
        (
            HEADER + "2023-06-22T02:00:00Z,2023-06-22T03:00:00Z,oslo,carbon,1\n",
            "at or after the horizon's end",
            None,
        ),
    ],
)
def test_bad_forecast_files_name_the_culprit(tmp_path, text, match, culprit):
    with pytest.raises(ForecastError, match=match) as err:
        load_scenario(saved(tmp_path, text))
    assert isinstance(err.value, ScenarioError)  # caught wherever scenario errors are
    if culprit:
        assert err.value.culprit == culprit


@pytest.mark.parametrize(
    ("text", "match", "culprit"),
    [
        ("time,site\n2023-06-20T23:00:00Z,oslo\n", "none of the signal columns", None),
        ("time,site,wind\n2023-06-20T23:00:00Z,oslo,1\n", r"unknown column\(s\) \['wind'\]", None),
        (
            "time,site,carbon\n2023-06-21T00:00:00Z,oslo,1\n",
            r"site 'oslo' has a row at 2023-06-21T00:00:00\+00:00, not before",
            "oslo",
        ),
        (
            "time,site,carbon\n2023-06-20T23:00:00Z,oslo,-1\n",
            r"history of 'carbon' at site 'oslo' for 2023-06-20T23:00:00\+00:00 is -1.0",
            "oslo",
        ),
        ("time,site,carbon\n2023-06-20T23:00:00,oslo,1\n", "timezone", None),
        (
            "time,site,carbon\n2023-06-20T23:00:00Z,oslo,1\n2023-06-20T23:00:00Z,oslo,2\n",
            "is given twice",
            "oslo",
        ),
        ("time,site,carbon\n2023-06-20T23:00:00Z,lima,1\n", "unknown site", "lima"),
    ],
)
def test_bad_history_files_name_the_culprit(tmp_path, text, match, culprit):
    with pytest.raises(ForecastError, match=match) as err:
        load_scenario(saved(tmp_path, history_text=text))
    if culprit:
        assert err.value.culprit == culprit


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"issued": "fc.csv", "extra": "x.csv"}, r"unknown key\(s\) \['extra'\]"),
        (["fc.csv"], "must name a CSV file or be a mapping"),
        ({"issued": 3}, "'issued' must name a CSV file"),
        ({"issued": "missing.csv"}, "does not exist"),
    ],
)
def test_bad_forecasts_entries(tmp_path, entry, match):
    with pytest.raises(ForecastError, match=match):
        load_scenario(saved(tmp_path, HEADER + f"{ISSUE},{ISSUE},oslo,carbon,1\n", entry=entry))


def test_readers_take_their_own_sites_and_horizon(tmp_path):
    sc = random_scenario(np.random.default_rng(0), 2, 4)
    (tmp_path / "f.csv").write_text(
        HEADER + "2023-06-21T00:00:00+02:00,2023-06-21T00:00:00+00:00,site1,carbon,7\n"
    )
    fc = read_forecasts_csv(tmp_path / "f.csv", sc.horizon, sc.index.site_names)
    assert fc.issue_times[0] == pd.Timestamp("2023-06-20T22:00Z")  # offsets converted to UTC
    assert fc.values["carbon"][0, 1, 0] == 7.0
    (tmp_path / "h.csv").write_text(
        "time,site,price\n2023-06-20T22:30:00Z,site0,-4\n2023-06-20T23:00:00Z,site0,-2\n"
        "2023-06-20T23:30:00Z,site0,-1\n"
    )
    h = read_history_csv(tmp_path / "h.csv", sc.horizon, sc.index.site_names)
    assert h["price"].shape == (2, 2)  # reaches 1.5 h back: two hourly slots, the first partial
    assert np.isnan(h["price"][0, 0]) and h["price"][0, 1] == -1.5
    assert np.isnan(h["price"][1]).all()
