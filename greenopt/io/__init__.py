"""Scenario files and real-format loaders."""

from greenopt.io.carbon_sources import (
    carbon_from_carbon_aware_sdk,
    carbon_from_electricitymaps,
    carbon_from_entsoe,
    carbon_from_watttime,
)
from greenopt.io.files import load_scenario, save_scenario
from greenopt.io.formats import (
    read_electricitymaps,
    read_entsoe_ci,
    read_pvwatts,
    read_solcast,
    read_watttime,
)
from greenopt.io.real import build_real_scenario
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
    "read_philly",
    "read_pvwatts",
    "read_solcast",
    "read_topology_zoo",
    "read_watttime",
    "resample_to_horizon",
    "save_scenario",
]
