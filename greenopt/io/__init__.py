"""Scenario files and real-format loaders."""

from greenopt.io.carbon_sources import (
    carbon_from_carbon_aware_sdk,
    carbon_from_electricitymaps,
    carbon_from_entsoe,
    carbon_from_watttime,
)
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
from greenopt.io.topology import pick_sites, read_topology_zoo
from greenopt.io.traces import (
    JobRules,
    jobs_from_alibaba,
    jobs_from_philly,
    jobs_from_table,
    read_alibaba,
    read_philly,
)
from greenopt.scenario.resample import resample_to_horizon

__all__ = [
    "JobRules",
    "build_real_scenario",
    "calibration_archives",
    "carbon_from_carbon_aware_sdk",
    "carbon_from_electricitymaps",
    "carbon_from_entsoe",
    "carbon_from_watttime",
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
