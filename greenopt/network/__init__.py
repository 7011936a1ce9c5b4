"""WAN routes, transfer times, link capacity and the seed paper's feasibility domain.

The package knows no ``Scenario`` type at run time (it names it for type checkers only): a
:class:`Network` reads what it needs — the scenario's index and WAN graph — from the scenario it
is given, and :attr:`greenopt.scenario.Scenario.network` builds one on first use. So
``greenopt.scenario`` imports this package, never the other way round.
"""

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
