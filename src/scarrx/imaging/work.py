"""A process-wide bound on heavy image work (issue 7: six uploads at once took 2.8 GB).

Decoding a 50 MP photo holds about 150 MB of pixels, and analysis a few copies of parts
of it; the server wraps every upload, calibration and measurement in `heavy_work()`, so
at most `limit` run at once and the rest wait their turn (or are refused after
`timeout` seconds with an ImagingError the form shows). Threads, not processes: the
server is threaded (waitress), and OpenCV and Pillow release the GIL while they work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ImagingError

DEFAULT_LIMIT = 2  # one per core of the machines scarrx is sized for
BUSY = "the server is busy with other photos: try again in a minute"

_lock = threading.Lock()
_limit = max(1, int(os.environ.get("SCARRX_IMAGING_CONCURRENCY", DEFAULT_LIMIT)))
_slots = threading.BoundedSemaphore(_limit)


def configure_heavy_work(limit: int) -> None:
    """Set how many heavy image jobs may run at once (call at start-up, before work)."""
    global _limit, _slots
    if limit < 1:
        raise ValueError("the imaging concurrency limit must be at least 1")
    with _lock:
        _limit, _slots = limit, threading.BoundedSemaphore(limit)


def heavy_work_limit() -> int:
    return _limit


@contextmanager
def heavy_work(timeout: float | None = 60.0) -> Iterator[None]:
    """Hold one of the process's heavy-work slots for the duration of the block."""
    slots = _slots
    if not slots.acquire(timeout=timeout) if timeout is not None else not slots.acquire():
        raise ImagingError(BUSY)
    try:
        yield
    finally:
        slots.release()
