"""Waiting in tests for something another thread (or Qt's event loop) makes true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0, step: float = 0.005) -> bool:
    """True as soon as ``predicate()`` is, False if it is not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def wait_in_qt(qapp, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """:func:`wait_for` while Qt processes its events (timers, queued signals)."""
    def ready() -> bool:
        qapp.processEvents()
        return bool(condition())

    return wait_for(ready, timeout, step=0.01)
