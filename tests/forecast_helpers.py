"""Small scenarios with chosen signals, for the forecast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenopt.scenario import Horizon, Scenario, Site

START = pd.Timestamp("2023-06-21T00:00:00Z")


def scenario(
    renewable: np.ndarray,
    carbon: np.ndarray,
    price: np.ndarray | None = None,
    *,
    slot_minutes: int = 60,
    names: list[str] | None = None,
    forecasts=None,
    start: pd.Timestamp = START,
) -> Scenario:
    """A job-free scenario whose S sites carry the given (S, T) signals, in a WAN ring."""
    renewable = np.atleast_2d(np.asarray(renewable, dtype=float))
    carbon = np.atleast_2d(np.asarray(carbon, dtype=float))
    S, T = carbon.shape
    price = np.zeros((S, T)) if price is None else np.atleast_2d(np.asarray(price, dtype=float))
    names = names or [f"site{s}" for s in range(S)]
    sites = [
        Site(name=n, gpus=8, renewable_kw=renewable[s], carbon=carbon[s], price=price[s])
        for s, n in enumerate(names)
    ]
    wan = [{"a": names[s], "b": names[(s + 1) % S], "gbps": 10} for s in range(S)] if S > 1 else []
    if S == 2:
        wan = wan[:1]
    return Scenario(
        name="forecast-test",
        horizon=Horizon(start=start, slot_minutes=slot_minutes, slots=T),
        sites=sites,
        wan=wan,
        forecasts=forecasts,
    )


def random_scenario(rng: np.random.Generator, S: int, T: int, slot_minutes: int = 60) -> Scenario:
    return scenario(
        rng.uniform(0, 50, (S, T)),
        rng.uniform(20, 600, (S, T)),
        rng.uniform(-20, 80, (S, T)),
        slot_minutes=slot_minutes,
    )
