"""PeakRss: the peak memory of the block it wraps (training), not of the whole process."""

from __future__ import annotations

import resource
import time

import numpy as np

from scones.model.peak_memory import PeakRss

MIB = 1024 * 1024


def _touched(mib: int) -> np.ndarray:
    return np.ones(mib * MIB // 8)  # written, so every page is resident


def test_a_peak_before_the_block_is_not_counted_and_one_inside_it_is() -> None:
    earlier = _touched(300)
    del earlier  # an mmap'd block: freeing it gives the pages back
    with PeakRss() as idle:
        pass
    with PeakRss() as holding:
        held = _touched(100)
    del held
    process_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    assert holding.mb < process_peak_mb - 100  # ru_maxrss would have reported the 300 MiB
    assert 80 < holding.mb - idle.mb < 130


def test_a_peak_freed_before_the_block_ends_is_sampled() -> None:
    with PeakRss() as idle:
        pass
    with PeakRss() as peak:
        spike = _touched(100)
        time.sleep(1.0)  # the sampler reads every 20 ms
        del spike
    assert 80 < peak.mb - idle.mb < 130
