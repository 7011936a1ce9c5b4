"""Fix-and-optimise's sub-MILPs on a Dask cluster: beyond one machine.

The neighbourhoods of :mod:`greenopt.solvers.lns` are independent sub-MILPs once the incumbent
they are cut from is fixed, so a round of them can be solved at the same time, one per worker,
and merged back into the incumbent by :func:`greenopt.solvers.lns.fix_and_optimise` (only
improving answers that touch no column and no row an answer applied before them changed; the
others are drawn again from the new incumbent). Each sub-MILP is a small
:class:`~greenopt.solvers.highs.StandardForm` (a few thousand columns) shipped to a worker,
solved there by HiGHS on one thread with exactly the settings a local solve uses
(:func:`solve_sub`), and its column values shipped back — so one worker gives the plan the
process gives without Dask.

Where: ``scheduler="local"`` (or a count of ``workers``) starts a
:class:`distributed.LocalCluster` of single-threaded worker *processes* for the call and closes
it after; an address (``"tcp://10.0.0.5:8786"``) connects to a running scheduler, whose
workers must have greenopt (with ``highspy``) installed. Dask comes with the ``batch`` extra.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from greenopt.solvers import highs
from greenopt.solvers.highs import StandardForm


@dataclass(frozen=True)
class SubSettings:
    """What a sub-MILP's solve needs of the plan's options (plain data: it travels to workers)."""

    mip_gap: float = 1e-4
    seed: int = 0
    highs_options: dict[str, Any] = field(default_factory=dict)
    node_limit: int | None = None


def solve_sub(
    form: StandardForm, start: np.ndarray, limit: float | None, settings: SubSettings
) -> tuple[np.ndarray | None, str, bool]:
    """One fix-and-optimise sub-MILP by HiGHS on one thread, from the incumbent ``start``: the
    same call in the planning process and on a worker."""
    options = SimpleNamespace(
        mip_gap=settings.mip_gap,
        threads=1,
        seed=settings.seed,
        verbose=False,
        log_file=None,
        params={"highs_options": dict(settings.highs_options)},
    )
    extra = {} if settings.node_limit is None else {"mip_max_nodes": int(settings.node_limit)}
    r = highs.solve(
        form, start, options, limit, log=False, mip_gap=settings.mip_gap, highs_options=extra
    )
    return r.values, r.status, r.interrupted


def _solve_on_worker(
    form: StandardForm, start: np.ndarray, limit: float | None, settings: SubSettings
) -> tuple[np.ndarray | None, str, bool]:
    return solve_sub(form, start, limit, settings)


class Cluster:
    """A Dask client for the sub-MILPs: a local cluster made here, or a running scheduler's.

    ``scheduler``: ``"local"`` or an address; ``workers``: local workers (default: the cores).
    Use as a context manager: a local cluster is closed on leaving it.
    """

    def __init__(self, scheduler: str | None = "local", workers: int | None = None) -> None:
        from greenopt.optional import require

        distributed = require(
            "distributed",
            "fix-and-optimise on a Dask cluster",
            extra="batch",
            package="dask[distributed]",
        )
        self._cluster = None
        if scheduler in (None, "local"):
            n = int(workers or os.cpu_count() or 1)
            self._cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = distributed.Client(self._cluster)
            self.where = f"a local Dask cluster of {n} worker process(es)"
        else:
            self.client = distributed.Client(scheduler)
            self.where = f"the Dask scheduler at {scheduler}"

    @property
    def workers(self) -> int:
        """Workers the scheduler has now (at least 1)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def solve_many(
        self, jobs: list[tuple[StandardForm, np.ndarray, float | None]], settings: SubSettings
    ) -> list[tuple[np.ndarray | None, str, bool]]:
        """Solve each ``(form, start, limit)`` on a worker; the answers in the same order."""
        futures = [
            self.client.submit(_solve_on_worker, form, start, limit, settings, pure=False)
            for form, start, limit in jobs
        ]
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
