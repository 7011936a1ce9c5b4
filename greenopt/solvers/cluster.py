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

**A cluster that is not there fails fast** (here for fix-and-optimise and for
:mod:`greenopt.batch`): an address is first asked, with time limits, what it is
(:func:`probe`) — ``garbage``, ``http://…``, a port where another service listens or nothing
answers fails within :data:`CONNECT_TIMEOUT_S` seconds per step with a
:class:`~greenopt.errors.ClusterError` naming the address (Dask's own client would wait on such
a port for ever) — and a round whose cluster is left without any worker for
:data:`WORKER_WAIT_S` seconds ends with a ClusterError too (Dask would wait for one for ever).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from greenopt.errors import ClusterError
from greenopt.optional import require
from greenopt.solvers import highs
from greenopt.solvers.highs import StandardForm

#: Seconds to reach a scheduler, and again for it to answer as one.
CONNECT_TIMEOUT_S = 10.0
#: Seconds a round of sub-MILPs waits for a worker when the cluster has none.
WORKER_WAIT_S = 60.0
#: How often a round looks at the cluster while it waits for its answers.
POLL_S = 1.0


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
    r = highs.solve(
        form,
        start,
        options,
        limit,
        log=False,
        mip_gap=settings.mip_gap,
        node_limit=settings.node_limit,
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
        require(  # the clear error before anything starts
            "distributed",
            "fix-and-optimise on a Dask cluster",
            extra="batch",
            package="dask[distributed]",
        )
        self._local = ExitStack()
        if scheduler in (None, "local"):
            n = int(workers or os.cpu_count() or 1)
            self.client = self._local.enter_context(local_cluster(n, processes=True))
            self.where = f"a local Dask cluster of {n} worker process(es)"
        else:
            self.client = connect(scheduler)
            self.where = f"the Dask scheduler at {scheduler}"
        self.worker_wait = WORKER_WAIT_S

    @property
    def workers(self) -> int:
        """Workers the scheduler has now (at least 1)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def solve_many(
        self, jobs: list[tuple[StandardForm, np.ndarray, float | None]], settings: SubSettings
    ) -> list[tuple[np.ndarray | None, str, bool]]:
        """Solve each ``(form, start, limit)`` on a worker; the answers in the same order
        (whichever finishes first: the merge's order is the order drawn). A
        :class:`~greenopt.errors.ClusterError` when the cluster has had no worker for
        :attr:`worker_wait` seconds."""
        futures = [
            self.client.submit(_solve_on_worker, form, start, limit, settings, pure=False)
            for form, start, limit in jobs
        ]
        distributed = require(
            "distributed", "a Dask cluster", extra="batch", package="dask[distributed]"
        )
        idle_since: float | None = None
        while True:
            try:
                distributed.wait(futures, timeout=POLL_S)
                break
            except TimeoutError:
                pass
            if has_workers(self.client):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= self.worker_wait:
                self.client.cancel(futures)
                raise ClusterError(
                    f"every Dask worker of {self.where} was lost: none for "
                    f"{self.worker_wait:g} s while fix-and-optimise waited for its sub-MILPs",
                    self.where,
                )
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        self._local.close()  # a local cluster: closed here

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- a cluster of our own --------------------------------------------------------------------------
#: The level below which Dask's own loggers stay quiet while a cluster greenopt starts runs, in
#: this process and in its workers. greenopt reports a lost worker or scheduler itself (a
#: ClusterError, a failed task's row), so Dask's ERROR records only repeat it — or, when the
#: cluster closes while a worker's heartbeat is in flight, print the traceback of a closed
#: stream on the user's terminal (seen in a batch's stderr). Dask's ``silence_logs`` is not
#: enough: it quiets the log handlers only until each worker starts closing.
DASK_LOG_LEVEL = logging.CRITICAL


def _quiet_dask_logs() -> None:
    logging.getLogger("distributed").setLevel(DASK_LOG_LEVEL)


def _quiet_plugin() -> Any:
    """A worker plugin that quiets Dask's logs on every worker, including one started later to
    replace a lost one (defined here so that Dask stays optional; cloudpickle ships it)."""
    plugin = require(
        "distributed.diagnostics.plugin",
        "a Dask cluster",
        extra="batch",
        package="dask[distributed]",
    )

    class QuietDaskLogs(plugin.WorkerPlugin):
        def setup(self, worker: Any) -> None:
            _quiet_dask_logs()

    return QuietDaskLogs()


@contextmanager
def local_cluster(workers: int, processes: bool = True) -> Iterator[Any]:
    """A client of a :class:`distributed.LocalCluster` of ``workers`` single-threaded workers
    (processes, or threads with ``processes=False``) with no dashboard and Dask's logs at
    :data:`DASK_LOG_LEVEL`; the cluster is closed, and this process's Dask log level restored,
    on leaving the block."""
    distributed = require(
        "distributed", "a Dask cluster", extra="batch", package="dask[distributed]"
    )
    here = logging.getLogger("distributed")
    level = here.level
    _quiet_dask_logs()  # the scheduler and the nannies live in this process
    try:
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
                # its HTTP server (metrics) starts anyway: on a free port of this machine
                # only, not on 8787, which another cluster (or a second call) may hold
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=DASK_LOG_LEVEL,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            client.register_plugin(_quiet_plugin(), name="greenopt-quiet-dask-logs")
            yield client
    finally:
        here.setLevel(level)


# -- reaching a cluster ---------------------------------------------------------------------------
def connect(address: str, timeout: float | None = None) -> Any:
    """A :class:`distributed.Client` of the scheduler at ``address`` (after :func:`probe`), or
    a :class:`~greenopt.errors.ClusterError` naming the address within about ``2 × timeout``
    seconds (default :data:`CONNECT_TIMEOUT_S`)."""
    distributed = require(
        "distributed", "a Dask cluster", extra="batch", package="dask[distributed]"
    )
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    probe(address, timeout)
    try:
        return distributed.Client(address, timeout=timeout)
    except Exception as exc:
        raise ClusterError(
            f"cannot connect to the Dask scheduler at {address!r}: {type(exc).__name__}", address
        ) from None


def probe(address: str, timeout: float | None = None) -> None:
    """Raise a :class:`~greenopt.errors.ClusterError` naming ``address`` unless a Dask
    scheduler answers there: it is asked what it is (Dask's ``identity``), in a thread of its
    own with time limits on connecting, writing and reading."""
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    what = _identity(address, timeout)
    if what != "Scheduler":
        raise ClusterError(
            f"{address!r} answers as a Dask {what}, not a scheduler: give the scheduler's "
            "address (e.g. tcp://10.0.0.5:8786)",
            address,
        )


def has_workers(client: Any) -> bool:
    """Whether the client's cluster has a worker now (``False`` when the scheduler is gone)."""
    try:
        return bool(client.nthreads())
    except Exception:  # the scheduler itself is gone or busy: no worker to be had
        return False


def _identity(address: str, timeout: float) -> str:
    """What answers at ``address`` (Dask's ``identity`` reply type)."""
    comm_module = require(
        "distributed.comm", "a Dask cluster", extra="batch", package="dask[distributed]"
    )
    dask_connect = comm_module.connect

    async def ask() -> Any:
        comm = await asyncio.wait_for(dask_connect(address, timeout=timeout), timeout)
        try:
            await asyncio.wait_for(comm.write({"op": "identity"}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    answer: list[Any] = []

    def run() -> None:
        try:
            answer.append(asyncio.run(ask()))
        except BaseException as exc:
            answer.append(exc)

    thread = threading.Thread(target=run, name="greenopt-dask-probe", daemon=True)
    thread.start()
    thread.join(3 * timeout + 5)
    if not answer:
        raise ClusterError(f"no Dask scheduler answers at {address!r} (no reply)", address)
    reply = answer[0]
    if isinstance(reply, BaseException):
        raise ClusterError(
            f"no Dask scheduler answers at {address!r}: {_why(reply, timeout)}", address
        )
    if not isinstance(reply, dict) or "type" not in reply:
        raise ClusterError(
            f"no Dask scheduler answers at {address!r}: something else listens there", address
        )
    return str(reply["type"])


def _why(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, ValueError):
        return str(exc).split("\n")[0][:200]  # Dask's own words: missing port, unknown scheme
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"nothing answered within {timeout:g} s (is it a Dask scheduler's port?)"
    if isinstance(exc, OSError):
        return f"cannot connect ({str(exc).split(chr(10))[0][:160]})"
    # a reply Dask cannot read: another protocol (HTTP, SSH, ...) listens there
    return "something else listens there (its reply is not Dask's protocol)"
