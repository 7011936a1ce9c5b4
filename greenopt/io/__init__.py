"""Scenario files and real-format loaders."""

from greenopt.io.files import load_scenario, save_scenario
from greenopt.io.resample import resample_to_horizon

__all__ = ["load_scenario", "resample_to_horizon", "save_scenario"]
