"""A seeded forecast-error model calibrated on real forecast files (docs/forecasts.md).

The ``error-model`` forecaster perturbs the actuals with an error whose size grows with lead
time ``h`` (target slot start − issue time) as fitted on the WattTime/SGIP MOER and Solcast PV
forecast archives:

    σ(h) = σ∞ − (σ∞ − σ0) · exp(−(h / τ)^β)

``σ(h)`` is the forecast's RMS error over the RMS of the actuals (nRMSE) at the archives' 5-minute
resolution; ``σ∞`` is what a day-ahead forecast cannot beat — the day-before persistence error of
the same actuals — so leads beyond the archives' (at most 3 h) rise smoothly towards it and stay
there. Two error forms, chosen by what the archives show:

- ``relative`` (solar): ``forecast = actual · F``, ``F`` lognormal with mean 1 and standard
  deviation σ(h). Night stays exactly 0 (forecasters know the sun sets) and nothing goes negative.
- ``level`` (carbon, price): ``forecast = actual + σ(h) · L · z``, ``L`` the RMS of the actuals
  known at issue time over the trailing ``level_window_h`` (MOER errors do not shrink when the
  intensity is low: they are largest there, when the marginal plant switches). Clipped at 0 for
  carbon; price may go negative.

The standard-normal ``z`` is autocorrelated along target time (correlation length
``corr_target_h``) and across issues for the same target (``corr_issue_h``), as in the archives, so
successive issues revise a forecast rather than redraw it. It is drawn on a 5-minute sub-grid (the
calibration resolution) and averaged over each slot, so an hourly slot gets the smaller error an
hourly mean has. Each (signal, site) has its own random stream keyed by ``seed`` and the site's
name: same seed, same forecasts, whatever the order of the sites.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from greenopt.errors import ForecastError
from greenopt.forecasts.data import SIGNALS, Forecasts
from greenopt.forecasts.forecasters import history_for, issue_slots_of, issue_times_of
from greenopt.scenario import Scenario

FORMS = ("relative", "level")


@dataclass(frozen=True)
class ErrorProfile:
    """How wrong a forecast of one signal is, by lead time (see the module docstring)."""

    form: str  # "relative" or "level"
    sigma0: float  # nRMSE at lead 0
    sigma_inf: float  # nRMSE a day or more ahead (day-before persistence error)
    tau_h: float  # lead (hours) of the growth from sigma0 towards sigma_inf
    beta: float  # shape of that growth (1: exponential; < 1: fast first, then slow)
    corr_target_h: float  # correlation length of the error along target time, hours
    corr_issue_h: float  # correlation length of one target's error across issue times, hours
    nonnegative: bool = True  # clip forecasts at 0
    level_window_h: float = 24.0  # "level" form: the trailing window of the level L
    source: str = ""  # what it was fitted on

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ForecastError(f"error form must be one of {FORMS}, got {self.form!r}", "form")
        for name in ("sigma0", "sigma_inf"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ForecastError(f"{name} must be finite and >= 0", name)
        for name in ("tau_h", "beta", "corr_target_h", "corr_issue_h", "level_window_h"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ForecastError(f"{name} must be finite and > 0", name)

    def sigma(self, lead_h: np.ndarray | float) -> np.ndarray:
        """σ(h): the forecast's nRMSE at lead ``lead_h`` hours (≥ 0)."""
        h = np.maximum(np.asarray(lead_h, dtype=float), 0.0)
        return self.sigma_inf - (self.sigma_inf - self.sigma0) * np.exp(
            -((h / self.tau_h) ** self.beta)
        )


# Fitted by greenopt.forecasts.calibration.fit_profile on the files in ../shared/data (see
# docs/forecasts.md for the data, the method and the table of empirical vs model error by lead;
# tests/test_error_model.py refits them and checks these numbers).
CARBON = ErrorProfile(
    form="level",
    sigma0=0.0719,
    sigma_inf=0.3137,
    tau_h=1.359,
    beta=0.42,
    corr_target_h=1.019,
    corr_issue_h=4.991,
    source="SGIP/WattTime MOER PG&E and SCE (Jul-Aug 2021); WattTime CAISO North (Jun-Jul 2023)",
)
SOLAR = ErrorProfile(
    form="relative",
    sigma0=0.1355,
    sigma_inf=0.4229,
    tau_h=5.754,
    beta=0.78,
    corr_target_h=0.745,
    corr_issue_h=2.209,
    source="Solcast PV, 10 world cities (Jun-Jul 2022) and 10 German cities (Jul-Aug 2022)",
)
#: No price forecasts in the data: price errors are assumed to behave like carbon's (both are
#: grid-market signals); prices may be negative, so no clipping.
PRICE = ErrorProfile(
    **{
        **CARBON.__dict__,
        "nonnegative": False,
        "source": "uncalibrated: no price forecasts in the data; the carbon fit is assumed",
    }
)


@dataclass(frozen=True)
class ErrorModel:
    """Forecasts = actuals + calibrated error, per signal; ``None`` forecasts a signal exactly."""

    renewable_kw: ErrorProfile | None = SOLAR
    carbon: ErrorProfile | None = CARBON
    price: ErrorProfile | None = PRICE
    substep_minutes: float = 5.0  # resolution the error is drawn at (the calibration's)

    def profile(self, signal: str) -> ErrorProfile | None:
        if signal not in SIGNALS:
            raise ForecastError(f"unknown signal {signal!r}; signals are {list(SIGNALS)}", signal)
        return getattr(self, signal)

    def forecasts(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        history: Mapping[str, np.ndarray] | None = None,
        issue_slots: Iterable[int] | None = None,
    ) -> Forecasts:
        """Forecasts of ``scenario``'s signals issued at ``issue_slots`` (all slots by default)."""
        horizon = scenario.horizon
        ks = issue_slots_of(horizon, issue_slots)
        hist = history_for(scenario, history)
        names = scenario.index.site_names
        values = {
            s: self.simulate(
                s,
                getattr(scenario.index, s),
                slot_minutes=horizon.slot_minutes,
                issue_slots=ks,
                seed=seed,
                site_keys=names,
                history=hist.get(s),
            )
            for s in SIGNALS
        }
        return Forecasts(horizon, names, issue_times_of(horizon, ks), values, history=hist)

    def simulate(
        self,
        signal: str,
        actual: np.ndarray,
        *,
        slot_minutes: float,
        issue_slots: np.ndarray,
        seed: int,
        site_keys: Iterable[str],
        history: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(K, S, T)`` forecasts of one signal's ``(S, T)`` actuals issued at the starts of the
        slots ``issue_slots``; NaN before each issue. ``history`` ``(S, H)``: the actuals before
        (for the level). Forecast ``[i, s, t]`` depends on ``actual[s, t]``, on actuals before
        slot ``issue_slots[i]`` and on the noise — never on another future actual."""
        actual = np.asarray(actual, dtype=float)
        ks = np.asarray(issue_slots, dtype=np.int64)
        S, T = actual.shape
        ahead = np.arange(T)[None, :] >= ks[:, None]  # (K, T)
        prof = self.profile(signal)
        if prof is None:
            return np.where(ahead[:, None, :], actual[None], np.nan)
        dt_h = slot_minutes / 60.0
        n_sub = max(1, round(slot_minutes / self.substep_minutes))
        z = self._noise(signal, list(site_keys), ks, T * n_sub, dt_h / n_sub, dt_h, seed, prof)
        # lead of each sub-step from each issue, hours: (K, T * n_sub)
        sub_start = np.arange(T * n_sub) * (dt_h / n_sub)
        lead = sub_start[None, :] - ks[:, None] * dt_h
        sigma = prof.sigma(lead)[None]  # (1, K, M)
        if prof.form == "relative":
            s2 = np.log1p(sigma**2)
            factor = np.exp(np.sqrt(s2) * z - s2 / 2)  # lognormal, mean 1, std sigma
            slot_factor = factor.reshape(S, len(ks), T, n_sub).mean(axis=3)
            out = actual[:, None, :] * slot_factor
        else:
            err = (sigma * z).reshape(S, len(ks), T, n_sub).mean(axis=3)
            level = _trailing_rms(actual, history, ks, max(1, round(prof.level_window_h / dt_h)))
            out = actual[:, None, :] + level[:, :, None] * err
        if prof.nonnegative:
            out = np.maximum(out, 0.0)
        out = np.where(ahead[None], out, np.nan)
        return np.moveaxis(out, 0, 1)

    def _noise(
        self,
        signal: str,
        sites: list[str],
        ks: np.ndarray,
        M: int,
        sub_h: float,
        dt_h: float,
        seed: int,
        prof: ErrorProfile,
    ) -> np.ndarray:
        """``(S, K, M)`` standard normals: AR(1) along target sub-steps (correlation
        exp(−δ/corr_target_h) per sub-step δ) and across issues for the same target
        (exp(−Δτ/corr_issue_h) between issues Δτ apart); marginally N(0, 1) everywhere."""
        K = len(ks)
        draws = np.stack(
            [
                np.random.default_rng(
                    [int(seed) & 0xFFFFFFFF, SIGNALS.index(signal), zlib.crc32(s.encode())]
                ).standard_normal((K, M))
                for s in sites
            ]
        )  # (S, K, M)
        phi = np.exp(-sub_h / prof.corr_target_h)
        keep = np.sqrt(1.0 - phi**2)
        w = draws  # AR(1) along targets, in place: w[m] = phi w[m-1] + keep e[m]
        for m in range(1, M):
            w[:, :, m] = phi * w[:, :, m - 1] + keep * w[:, :, m]
        z = w
        gaps_h = np.diff(ks) * dt_h
        for i in range(1, K):  # across issues: one target's error is revised, not redrawn
            rho = np.exp(-gaps_h[i - 1] / prof.corr_issue_h)
            z[:, i] = rho * z[:, i - 1] + np.sqrt(1.0 - rho**2) * z[:, i]
        return z


def _trailing_rms(
    actual: np.ndarray, history: np.ndarray | None, ks: np.ndarray, window: int
) -> np.ndarray:
    """``(S, K)``: RMS of the actuals known at each issue slot over the last ``window`` slots
    (history included, NaN skipped); with nothing known yet, the first slot's actual."""
    S, _ = actual.shape
    hist = np.zeros((S, 0)) if history is None else np.asarray(history, dtype=float)
    H = hist.shape[1]
    known = np.concatenate([hist, actual], axis=1)
    finite = np.isfinite(known)
    sq = np.concatenate([np.zeros((S, 1)), np.cumsum(np.where(finite, known**2, 0.0), axis=1)], 1)
    cnt = np.concatenate([np.zeros((S, 1)), np.cumsum(finite, axis=1)], axis=1)
    hi = H + ks  # columns before slot k
    lo = np.maximum(hi - window, 0)
    n = cnt[:, hi] - cnt[:, lo]
    total = sq[:, hi] - sq[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(total / n)
    return np.where(n > 0, rms, np.abs(actual[:, :1]))
