"""Statistics of a live run: frame counters, rates and latency percentiles, thread-safe.

Every latency comes from the stamps a :class:`~streaming.frames.PoseResult` carries (STYLE rule 9):
per stage (``perception``, ``v2p``, ``retarget``, ``p2r``, ``filter``...), capture -> result, and
capture -> each output (e.g. ``vmc``: right after the network send returned). Samples are kept in
fixed-size ring buffers, so a run of any length uses bounded memory; percentiles cover the most
recent :data:`WINDOW` samples of each series.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from streaming.frames import PoseResult

__all__ = ["LatencySeries", "RunStats", "WINDOW"]

WINDOW = 36_000  # samples per series: 20 minutes at 30 fps


class LatencySeries:
    """A ring buffer of latencies in milliseconds with percentile summaries (not thread-safe)."""

    def __init__(self, window: int = WINDOW) -> None:
        self._values = np.zeros(window, dtype=np.float64)
        self._count = 0

    def add(self, ms: float) -> None:
        self._values[self._count % len(self._values)] = ms
        self._count += 1

    @property
    def count(self) -> int:
        return self._count

    def values(self) -> np.ndarray:
        """The kept samples (oldest first once the buffer has wrapped), ms."""
        n = len(self._values)
        if self._count <= n:
            return self._values[: self._count].copy()
        start = self._count % n
        return np.concatenate([self._values[start:], self._values[:start]])

    def summary(self) -> dict[str, float | int]:
        """``{"count", "mean", "p50", "p95", "p99", "max"}`` in ms (zeros when empty)."""
        v = self.values()
        if not len(v):
            return {"count": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        p50, p95, p99 = np.percentile(v, [50, 95, 99])
        return {"count": self._count, "mean": float(v.mean()), "p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(v.max())}


class RunStats:
    """Counters and latencies of one pipeline run; every method is safe from any thread."""

    def __init__(self, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._series: dict[str, LatencySeries] = {}
        self._counts: dict[str, int] = {}
        self._t_start = time.monotonic_ns()
        self._t_stop: int | None = None

    # -- recording ---------------------------------------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name`` (e.g. ``"frames_captured"``)."""
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    def set_count(self, name: str, value: int) -> None:
        with self._lock:
            self._counts[name] = int(value)

    def add_latency(self, name: str, ms: float) -> None:
        with self._lock:
            self._add(name, ms)

    def _add(self, name: str, ms: float) -> None:
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = LatencySeries(self._window)
        series.add(ms)

    def record_result(self, result: PoseResult) -> None:
        """Per-stage latencies of a result and capture -> result (``"capture_to_result"``)."""
        lat = result.latencies_ms()
        with self._lock:
            self._counts["frames_processed"] = self._counts.get("frames_processed", 0) + 1
            for stage, ms in lat.items():
                self._add("capture_to_result" if stage == "total" else f"stage.{stage}", ms)

    def record_output(self, output: str, result: PoseResult, t_out_ns: int) -> None:
        """Capture -> ``output`` latency of a result that just reached the output."""
        with self._lock:
            self._counts[f"sent.{output}"] = self._counts.get(f"sent.{output}", 0) + 1
            self._add(f"capture_to_{output}", (t_out_ns - result.t_capture_ns) / 1e6)

    def start(self) -> None:
        """Mark the start of the run (rates are measured from here)."""
        with self._lock:
            self._t_start = time.monotonic_ns()
            self._t_stop = None

    def stop(self) -> None:
        with self._lock:
            self._t_stop = time.monotonic_ns()

    # -- reading -----------------------------------------------------------------------------
    def counter(self, name: str) -> int:
        with self._lock:
            return self._counts.get(name, 0)

    def latency_values(self, name: str) -> np.ndarray:
        """The kept samples of series ``name``, ms, oldest first (empty when none)."""
        with self._lock:
            series = self._series.get(name)
            return series.values() if series else np.zeros(0)

    def latency(self, name: str) -> dict[str, float | int]:
        with self._lock:
            series = self._series.get(name)
            return series.summary() if series else LatencySeries(1).summary()

    @property
    def elapsed_s(self) -> float:
        with self._lock:
            end = self._t_stop if self._t_stop is not None else time.monotonic_ns()
            return (end - self._t_start) / 1e9

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """A JSON-ready report: counters, rates (fps), latency summaries and ``extra`` facts.

        Keys: ``duration_s``, ``frames`` (``captured``, ``processed``, ``dropped``, ``sent``...),
        ``fps`` (``capture``, ``processed``), ``latency_ms`` (``{series: {p50, p95, p99, ...}}``,
        with ``stage.<name>``, ``capture_to_result`` and ``capture_to_<output>``), plus ``extra``.
        """
        elapsed = max(self.elapsed_s, 1e-9)
        with self._lock:
            counts = dict(self._counts)
            latency = {name: s.summary() for name, s in sorted(self._series.items())}
        frames = {
            "captured": counts.pop("frames_captured", 0),
            "processed": counts.pop("frames_processed", 0),
            "dropped": counts.pop("frames_dropped", 0),
        }
        frames.update(sorted(counts.items()))
        report: dict[str, Any] = {
            "duration_s": round(elapsed, 3),
            "frames": frames,
            "fps": {"capture": frames["captured"] / elapsed, "processed": frames["processed"] / elapsed},
            "latency_ms": latency,
        }
        report.update(extra)
        return report

    def write_json(self, path: str | Path, **extra: Any) -> dict[str, Any]:
        """Write :meth:`to_dict` to ``path`` (pretty-printed) and return it."""
        report = self.to_dict(**extra)
        Path(path).write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
        return report
