"""Objectives of MODEL.md §7, defined once and shared by the evaluator, the MILP and the greedy.

Every objective is

    primary + ε_m · migrations + ε_d · Σ_j L_j + U · Σ_j unmet_j          (soft deadlines)

where the primary term is

* ``grid``:     Σ grid_kwh
* ``carbon``:   Σ carbon_kg
* ``cost``:     Σ grid_kwh · price
* ``weighted``: w_carbon · Σ carbon_kg + w_cost · Σ cost + w_urgency · Σ_j priority_j · L_j

``L_j`` is the job's *work-weighted lateness*, the linear measure of delay every planner can
optimise exactly:

    L_j = Σ_t (share_{j,t} · Δh / work_h_j) · (end_h(t) − release_h_j)

i.e. the mean, over the job's hours of work, of how long after release each hour finished. It is
minimal when the job runs from its release at full speed, and grows by one for every hour its work
is pushed later. ``unmet_j = max(0, work_h_j − Σ_t share_{j,t}·Δh)`` is the work left undone;
``U`` exceeds any saving an hour of work could bring, so a plan meets a deadline whenever it can.
Under hard deadlines ``unmet_j`` must be 0 and the term vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from greenopt.scenario import Scenario

ObjectiveName = Literal["grid", "carbon", "cost", "weighted"]
OBJECTIVES: tuple[str, ...] = ("grid", "carbon", "cost", "weighted")


@dataclass(frozen=True)
class Objective:
    """Objective name and weights. ``migration_penalty`` and ``delay_penalty`` break ties."""

    name: str = "carbon"
    w_carbon: float = 1.0  # per kg CO2
    w_cost: float = 0.0  # per currency unit
    w_urgency: float = 0.01  # per priority-hour of lateness
    migration_penalty: float = 1e-3
    delay_penalty: float = 1e-4

    def __post_init__(self) -> None:
        from greenopt.errors import ScenarioError

        if self.name not in OBJECTIVES:
            raise ScenarioError(
                f"objective {self.name!r} is unknown; choose one of {', '.join(OBJECTIVES)}",
                "objective",
            )
        for field in ("w_carbon", "w_cost", "w_urgency", "migration_penalty", "delay_penalty"):
            v = getattr(self, field)
            if not np.isfinite(v) or v < 0:
                raise ScenarioError(f"objective field {field!r} must be >= 0, got {v!r}", field)

    @classmethod
    def of(cls, objective: str | Objective) -> Objective:
        return objective if isinstance(objective, Objective) else cls(name=objective)

    # -- coefficients ---------------------------------------------------------------------
    def grid_coef(self, scenario: Scenario) -> np.ndarray:
        """(S, T) objective per grid kWh at each site and slot."""
        idx = scenario.index
        shape = idx.carbon.shape
        if self.name == "grid":
            return np.ones(shape)
        if self.name == "carbon":
            return idx.carbon / 1000.0
        if self.name == "cost":
            return np.array(idx.price, dtype=float)
        return self.w_carbon * idx.carbon / 1000.0 + self.w_cost * idx.price

    def lateness_coef(self, scenario: Scenario) -> np.ndarray:
        """(J,) objective per hour of work-weighted lateness ``L_j``."""
        idx = scenario.index
        w = np.full(len(idx.job_names), self.delay_penalty)
        if self.name == "weighted":
            w = w + self.w_urgency * idx.priority
        return w

    def unmet_penalty(self, scenario: Scenario) -> float:
        """``U`` per hour of unmet work: far above what any hour of work could save."""
        idx = scenario.index
        if len(idx.job_names) == 0:
            return 1.0
        per_hour_energy = float(np.max(idx.power_kw)) * float(np.max(idx.pue, initial=1.0))
        coef = np.abs(self.grid_coef(scenario))
        max_coef = float(np.max(coef, initial=0.0)) + 1.0
        lateness = float(np.max(self.lateness_coef(scenario))) * idx.T * idx.dt_h
        migr = self.migration_penalty * idx.T
        return 100.0 * (per_hour_energy * max_coef + lateness + migr + 1.0)


def lateness_weights(scenario: Scenario) -> np.ndarray:
    """(J, T) ``∂L_j/∂share_{j,t} = Δh·(end_h(t) − release_h_j)/work_h_j``."""
    idx = scenario.index
    end_h = (np.arange(idx.T) + 1) * idx.dt_h
    return idx.dt_h * (end_h[None, :] - idx.release_h[:, None]) / idx.work_h[:, None]
