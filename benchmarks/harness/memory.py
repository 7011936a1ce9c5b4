"""Peak memory of a block of code: resident set size sampled by a background thread (psutil).

The sample covers this process *and its children*, so a MILP solver that runs as a separate
program (CBC, GLPK through Pyomo's shell interface) is counted too. Sampling every
``interval_s`` can miss a spike shorter than that; the peak is at least the RSS at entry and
exit, which are always sampled.
"""

from __future__ import annotations

import threading
from types import TracebackType

from greenopt.optional import require

psutil = require("psutil", "the benchmark harness (peak memory)", extra="bench")


def rss_bytes(process: psutil.Process) -> int:
    """Resident memory of ``process`` plus that of its live descendants."""
    total = 0
    try:
        total += process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return total


class PeakMemory:
    """``with PeakMemory() as mem: ...`` then ``mem.peak_mb`` (MiB) and ``mem.start_mb``."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._peak = 0
        self._start = 0
        #: samples taken so far (lets a caller wait until the sampler has seen a moment)
        self.samples = 0

    def _sample(self) -> None:
        self._peak = max(self._peak, rss_bytes(self._process))
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self._start = rss_bytes(self._process)
        self._peak = self._start
        self._thread = threading.Thread(target=self._loop, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    @property
    def peak_mb(self) -> float:
        return self._peak / 2**20

    @property
    def start_mb(self) -> float:
        return self._start / 2**20
