"""Small, thread-safe measuring instruments: latency percentiles, a frame-rate meter, counters.

Each keeps bounded memory whatever the run length and reports a JSON-ready ``dict``:

- :class:`LatencyStats`: ring buffer of the last ``capacity`` samples (ms) for p50/p95/p99, plus
  count, mean and max over the whole run;
- :class:`FpsMeter`: frames per second over a sliding time window (what a status bar shows) and
  over the whole run;
- :class:`Counters`: named integer counters.

Samples come from the stamps of :class:`~streaming.frames.PoseResult` (STYLE rule 9), e.g.
``latency.add_ms(result.latencies_ms(t_sent_ns)["total"])``.
"""

from __future__ import annotations

import collections
import threading
import time

import numpy as np

__all__ = ["LatencyStats", "FpsMeter", "Counters"]


class LatencyStats:
    """Latency samples in milliseconds; percentiles over the most recent ``capacity`` samples.

    Args:
        capacity: samples kept for percentiles (36,000 = 20 minutes at 30 fps).
    """

    def __init__(self, capacity: int = 36_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._ring = np.zeros(capacity, dtype=np.float64)
        self._count = 0
        self._sum = 0.0
        self._max = -np.inf
        self._lock = threading.Lock()

    def add_ms(self, ms: float) -> None:
        """Add one sample in milliseconds."""
        with self._lock:
            self._ring[self._count % len(self._ring)] = ms
            self._count += 1
            self._sum += ms
            self._max = max(self._max, ms)

    def add_ns(self, ns: int) -> None:
        """Add one sample in nanoseconds (e.g. a difference of ``time.monotonic_ns()`` values)."""
        self.add_ms(ns / 1e6)

    @property
    def count(self) -> int:
        return self._count

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the kept samples, ms; NaN when empty."""
        with self._lock:
            kept = self._ring[: min(self._count, len(self._ring))]
            return float(np.percentile(kept, q)) if len(kept) else float("nan")

    def to_dict(self) -> dict[str, float | int]:
        """``{"count", "mean_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms"}``, zeros when empty."""
        with self._lock:
            n = self._count
            kept = self._ring[: min(n, len(self._ring))].copy()
            total, peak = self._sum, self._max
        if n == 0:
            return {"count": 0, "mean_ms": 0.0, "max_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
        p50, p95, p99 = np.percentile(kept, [50, 95, 99])
        return {"count": n, "mean_ms": total / n, "max_ms": float(peak), "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


class FpsMeter:
    """Counts frames; reports the rate over the last ``window_s`` seconds and over the whole run.

    Args:
        window_s: length of the sliding window, seconds.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self.window_ns = int(window_s * 1e9)
        self._ticks: collections.deque[int] = collections.deque()
        self._count = 0
        self._first: int | None = None
        self._last: int | None = None
        self._lock = threading.Lock()

    def tick(self, t_ns: int | None = None) -> None:
        """Count one frame at ``t_ns`` (``time.monotonic_ns()``; default now)."""
        t = time.monotonic_ns() if t_ns is None else int(t_ns)
        with self._lock:
            self._ticks.append(t)
            self._count += 1
            self._first = t if self._first is None else self._first
            self._last = t
            while self._ticks and self._ticks[0] < t - self.window_ns:  # bounded: one window of ticks
                self._ticks.popleft()

    @property
    def count(self) -> int:
        return self._count

    def fps(self) -> float:
        """Frames per second over the window: ``(n - 1) / (t_last - t_first)``; 0 with < 2 ticks."""
        with self._lock:
            if len(self._ticks) < 2 or self._ticks[-1] == self._ticks[0]:
                return 0.0
            return (len(self._ticks) - 1) / ((self._ticks[-1] - self._ticks[0]) * 1e-9)

    def mean_fps(self) -> float:
        """Frames per second from the first to the last tick of the run; 0 with < 2 ticks."""
        with self._lock:
            if self._count < 2 or self._first is None or self._last is None or self._last == self._first:
                return 0.0
            return (self._count - 1) / ((self._last - self._first) * 1e-9)

    def to_dict(self) -> dict[str, float | int]:
        return {"count": self._count, "fps": self.fps(), "mean_fps": self.mean_fps()}


class Counters:
    """Named integer counters (frames captured, dropped, send failures...)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> int:
        """Add ``n`` to ``name`` and return the new value."""
        with self._lock:
            value = self._counts.get(name, 0) + int(n)
            self._counts[name] = value
            return value

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts.get(name, 0)

    def to_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
