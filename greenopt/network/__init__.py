"""WAN routes, transfer times, link capacity and the seed paper's feasibility domain."""

from greenopt.network.feasibility import (
    RenewableWindow,
    energy_justified,
    feasibility_table,
    max_checkpoint_gb,
    migration_time_h,
    renewable_windows,
    time_feasible,
)
from greenopt.network.routes import link_capacity_gb, link_key, shortest_routes, transfer_hours
from greenopt.network.wan import Network

__all__ = [
    "Network",
    "RenewableWindow",
    "energy_justified",
    "feasibility_table",
    "link_capacity_gb",
    "link_key",
    "max_checkpoint_gb",
    "migration_time_h",
    "renewable_windows",
    "shortest_routes",
    "time_feasible",
    "transfer_hours",
]
