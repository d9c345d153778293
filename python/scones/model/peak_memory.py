"""The peak resident memory of a block of work (training), sampled while it runs."""

from __future__ import annotations

import os
import resource
import sys
import threading
from pathlib import Path
from types import TracebackType

_STATM = Path("/proc/self/statm")  # Linux: sizes in pages; the second field is the resident set
_MIB = 1024 * 1024


def _resident_bytes() -> int | None:
    try:
        return int(_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None


def _process_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux KiB


class PeakRss:
    """`with PeakRss() as peak: ...`, then `peak.mb`: the process's highest resident set size (MiB)
    while the block ran.

    Sampled by a thread (and on entry and exit) rather than read from getrusage, because ru_maxrss
    is the peak of the whole process (RUSAGE_SELF) or of every child ever waited for
    (RUSAGE_CHILDREN: a `make bench` parent also waited for Terraform), so a process that loaded
    something larger first, or trained twice, would report that instead of this training. A
    training step takes tens of milliseconds and repeats the same allocations thousands of times,
    so sampling every 20 ms finds its high-water mark to within the allocator's noise. Without
    /proc (macOS) the process's ru_maxrss is what is left: an upper bound.
    """

    def __init__(self, interval_s: float = 0.02) -> None:
        self._interval_s = interval_s
        self._peak = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample_until_done, name="scones-peak-rss", daemon=True)
        self.mb = 0.0

    def _sample(self) -> None:
        current = _resident_bytes()
        self._peak = max(self._peak, current if current is not None else _process_peak_bytes())

    def _sample_until_done(self) -> None:
        while not self._done.wait(self._interval_s):
            self._sample()

    def __enter__(self) -> PeakRss:
        self._sample()
        self._sampler.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._done.set()
        self._sampler.join()
        self._sample()
        self.mb = self._peak / _MIB
