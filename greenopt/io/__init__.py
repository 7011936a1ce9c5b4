"""Scenario files and real-format loaders."""

from greenopt.io.files import load_scenario, save_scenario
from greenopt.io.forecast_archives import (
    calibration_archives,
    read_sgip_moer,
    read_solcast_archive,
    read_watttime_archive,
)
from greenopt.io.forecasts import read_forecasts_csv, read_history_csv, write_forecasts
from greenopt.io.formats import (
    read_electricitymaps,
    read_entsoe_ci,
    read_pvwatts,
    read_solcast,
    read_watttime,
)
from greenopt.io.real import build_real_scenario
from greenopt.io.real_forecasts import real_forecasts
from greenopt.io.resample import resample_to_horizon
from greenopt.io.topology import pick_sites, read_topology_zoo
from greenopt.io.traces import (
    JobRules,
    jobs_from_alibaba,
    jobs_from_philly,
    jobs_from_table,
    read_alibaba,
    read_philly,
)

__all__ = [
    "JobRules",
    "build_real_scenario",
    "calibration_archives",
    "jobs_from_alibaba",
    "jobs_from_philly",
    "jobs_from_table",
    "load_scenario",
    "pick_sites",
    "read_alibaba",
    "read_electricitymaps",
    "read_entsoe_ci",
    "read_forecasts_csv",
    "read_history_csv",
    "read_philly",
    "read_pvwatts",
    "read_sgip_moer",
    "read_solcast",
    "read_solcast_archive",
    "read_topology_zoo",
    "read_watttime",
    "read_watttime_archive",
    "real_forecasts",
    "resample_to_horizon",
    "save_scenario",
    "write_forecasts",
]
