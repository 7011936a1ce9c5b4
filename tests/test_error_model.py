"""The seeded forecast-error model: its statistics, and its calibration on the real files.

Unit tests check that the model produces the error it claims (σ(h) by lead, the correlations,
the averaging over a slot) on synthetic actuals. The real-data tests are issue #13's acceptance
item: refitting on the files in ../shared/data gives the stored profiles, and the model's error by
lead time matches the real forecast files' within the documented tolerance (docs/forecasts.md).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from greenopt.errors import ForecastError
from greenopt.forecasts import CARBON, SOLAR, ErrorModel, ErrorProfile, make_forecasts
from greenopt.forecasts.calibration import (
    TOLERANCE,
    fit_profile,
    lead_errors,
    pooled,
    simulated_lead_errors,
)
from tests.forecast_helpers import random_scenario, scenario

N = 4000  # independent sites: sample standard deviations within ~2 %
FLAT = ErrorProfile(
    form="level", sigma0=0.2, sigma_inf=0.2, tau_h=1.0, beta=1.0,
    corr_target_h=0.5, corr_issue_h=3.0,
)  # fmt: skip
KEYS = [f"s{i}" for i in range(N)]


def simulate(model, signal, actual, slot_minutes, issue_slots, history=None, seed=0):
    return model.simulate(
        signal, actual, slot_minutes=slot_minutes, issue_slots=np.asarray(issue_slots),
        seed=seed, site_keys=KEYS[: actual.shape[0]], history=history,
    )  # fmt: skip


@pytest.mark.parametrize(("signal", "profile"), [("renewable_kw", SOLAR), ("carbon", CARBON)])
def test_error_by_lead_is_sigma_of_the_lead(signal, profile):
    """5-minute slots, the model's resolution: the error at lead h has std σ(h)·level."""
    T = 37
    actual = np.full((N, T), 300.0)
    fc = simulate(ErrorModel(), signal, actual, 5, [0], history=np.full((N, 12), 300.0))[0]
    rel_err = fc / 300.0 - 1.0
    leads_h = np.arange(T) * 5 / 60
    got = rel_err.std(axis=0)
    np.testing.assert_allclose(got, profile.sigma(leads_h), rtol=0.06)
    assert abs(rel_err.mean()) < 0.01  # unbiased


def test_sigma_grows_with_lead_towards_the_day_ahead_error():
    for p in (CARBON, SOLAR):
        s = p.sigma(np.array([0.0, 0.5, 1, 3, 6, 12, 24, 48]))
        assert s[0] == pytest.approx(p.sigma0)
        assert np.all(np.diff(s) > 0)
        assert s[-1] == pytest.approx(p.sigma_inf, rel=0.03)
        assert p.sigma(-1.0) == pytest.approx(p.sigma0)


def test_correlations_along_target_time_and_across_issues():
    model = ErrorModel(carbon=FLAT)
    hist = np.full((N, 24), 100.0)
    fc = simulate(model, "carbon", np.full((N, 24), 100.0), 5, [0, 12], history=hist)
    e0, e12 = fc[0] / 100 - 1, fc[1] / 100 - 1
    along = np.corrcoef(e0[:, 15], e0[:, 16])[0, 1]
    assert along == pytest.approx(np.exp(-(5 / 60) / FLAT.corr_target_h), abs=0.03)
    across = np.corrcoef(e0[:, 20], e12[:, 20])[0, 1]  # same target, issues an hour apart
    assert across == pytest.approx(np.exp(-1.0 / FLAT.corr_issue_h), abs=0.03)


def test_a_slot_gets_the_error_of_its_mean():
    """Hourly slots average twelve 5-minute errors (AR(1) along target time)."""
    model = ErrorModel(carbon=FLAT)
    fc = simulate(model, "carbon", np.full((N, 3), 100.0), 60, [0], history=np.full((N, 3), 100.0))
    phi = np.exp(-(5 / 60) / FLAT.corr_target_h)
    lag = np.abs(np.subtract.outer(np.arange(12), np.arange(12)))
    expected = FLAT.sigma0 * np.sqrt((phi**lag).mean())
    np.testing.assert_allclose((fc[0] / 100 - 1).std(axis=0), expected, rtol=0.06)


def test_seeded_repeatable_independent_of_site_order_and_physical():
    sc = random_scenario(np.random.default_rng(0), 3, 24)
    a = make_forecasts(sc, "error-model", seed=11)
    assert a == make_forecasts(sc, "error-model", seed=11)
    b = make_forecasts(sc, "error-model", seed=12)
    assert not np.array_equal(a.values["carbon"], b.values["carbon"], equal_nan=True)
    order = [2, 0, 1]
    names = [sc.index.site_names[i] for i in order]
    swapped = scenario(
        sc.index.renewable_kw[order], sc.index.carbon[order], sc.index.price[order], names=names
    )
    c = make_forecasts(swapped, "error-model", seed=11)
    for s in a.values:
        np.testing.assert_array_equal(c.values[s], a.values[s][:, order])
    # night stays dark, intensities stay >= 0, prices may go negative
    night = np.zeros((1, 24))
    night[0, 8:16] = 50.0
    dark = scenario(night, np.full((1, 24), 5.0), np.full((1, 24), 1.0))
    loud = ErrorModel(
        carbon=replace(CARBON, sigma0=3.0, sigma_inf=3.0),
        price=replace(CARBON, sigma0=3.0, sigma_inf=3.0, nonnegative=False),
    )
    f = loud.forecasts(dark, seed=1)
    r = f.values["renewable_kw"]
    assert np.all(r[:, 0, :8][np.isfinite(r[:, 0, :8])] == 0.0)
    assert np.nanmin(f.values["carbon"]) == 0.0 and np.nanmin(f.values["price"]) < 0


def test_a_signal_without_profile_is_forecast_exactly():
    sc = random_scenario(np.random.default_rng(1), 2, 6)
    f = ErrorModel(renewable_kw=None, carbon=None, price=None).forecasts(sc, seed=3)
    assert f == make_forecasts(sc, "oracle")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"form": "additive"}, "error form"),
        ({"sigma0": -0.1}, "sigma0"),
        ({"tau_h": 0.0}, "tau_h"),
        ({"corr_issue_h": np.nan}, "corr_issue_h"),
    ],
)
def test_profile_parameters_are_checked(change, match):
    with pytest.raises(ForecastError, match=match):
        replace(CARBON, **change)


# -- calibration on the real forecast files (issue #13, acceptance item 3) ----------------
@pytest.fixture(scope="module")
def archives(data_dir):
    from greenopt.io.forecast_archives import calibration_archives

    return calibration_archives(data_dir)


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("signal", "form", "stored"), [("carbon", "level", CARBON), ("renewable_kw", "relative", SOLAR)]
)
def test_refitting_on_the_real_files_gives_the_stored_profile(archives, signal, form, stored):
    fitted = fit_profile(archives[signal], form=form).profile
    for name in ("sigma0", "sigma_inf", "tau_h", "beta", "corr_target_h", "corr_issue_h"):
        assert getattr(fitted, name) == pytest.approx(getattr(stored, name), rel=1e-3), name
    assert fitted.form == stored.form


@pytest.mark.realdata
@pytest.mark.parametrize("signal", ["carbon", "renewable_kw"])
def test_error_model_matches_the_real_files_error_by_lead(archives, signal):
    """At every lead in the files (5 min to 3 h for carbon, 0 to 1 h for solar), the error
    model run on the files' own actuals has the pooled nRMSE of the real forecasts, within
    TOLERANCE (docs/forecasts.md)."""
    model = ErrorModel()
    real, synthetic = [], []
    for a in archives[signal]:
        emp = lead_errors(a)["nrmse"]
        real.append(emp)
        synthetic.append(simulated_lead_errors(model, a, seed=7).loc[emp.index])
    real_pooled, model_pooled = pooled(real), pooled(synthetic)
    gap = (model_pooled / real_pooled - 1).abs()
    table = pd.DataFrame({"real": real_pooled, "model": model_pooled, "gap": gap})
    assert gap.max() <= TOLERANCE, table.round(3).to_string()
    assert len(gap) >= 13
