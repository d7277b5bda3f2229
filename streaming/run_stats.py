"""Statistics of one live run: frame counters, frame rates and latency percentiles, thread-safe.

Built from the instruments of :mod:`streaming.stats`. Every latency comes from the stamps a
:class:`~streaming.frames.PoseResult` carries (STYLE rule 9): per stage (``stage.queue``,
``stage.perception``, ``stage.face`` and ``stage.hands`` (with the face and hands stage on), ``stage.v2p``, ``stage.retarget``, ``stage.p2r``, ``stage.filter``), capture ->
result (``capture_to_result``), and capture -> each output right after its send returned
(``capture_to_vmc``, ``capture_to_osc``, ``capture_to_record``). Memory stays bounded whatever
the run length.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from streaming.frames import PoseResult
from streaming.stats import Counters, FpsMeter, LatencyStats

__all__ = ["RunStats"]


class RunStats:
    """Counters, rates and latencies of one pipeline run; every method is safe from any thread.

    Counters with a meaning of their own: ``frames_captured``, ``frames_processed``,
    ``frames_dropped`` (overwritten in the capture mailbox), ``frames_without_pose``,
    ``sent.<output>``, ``dropped.<output>`` (overwritten in the output's mailbox),
    ``failed.<output>`` (the output reported a failed send) and ``errors.<output>`` (it raised).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency: dict[str, LatencyStats] = {}
        self._interval: dict[str, LatencyStats] = {}
        self.counters = Counters()
        self.capture_fps = FpsMeter()
        self.processed_fps = FpsMeter()
        self._t_start = time.monotonic_ns()
        self._t_stop: int | None = None

    # -- recording ---------------------------------------------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name``; ``frames_captured`` also ticks the capture fps meter."""
        self.counters.add(name, n)
        if name == "frames_captured":
            self.capture_fps.tick()

    def add_latency(self, name: str, ms: float) -> None:
        """One sample of the series ``name``, milliseconds."""
        with self._lock:
            series = self._latency.get(name)
            if series is None:
                series = self._latency[name] = LatencyStats()
                self._interval[name] = LatencyStats()
            interval = self._interval[name]
        series.add_ms(ms)
        interval.add_ms(ms)

    def record_result(self, result: PoseResult) -> None:
        """Per-stage latencies of a result and capture -> result."""
        self.counters.add("frames_processed")
        self.processed_fps.tick()
        for stage, ms in result.latencies_ms().items():
            self.add_latency("capture_to_result" if stage == "total" else f"stage.{stage}", ms)

    def record_output(self, output: str, result: PoseResult, t_out_ns: int) -> None:
        """A result reached ``output`` at ``t_out_ns``: counts it and its capture -> output latency."""
        self.counters.add(f"sent.{output}")
        self.add_latency(f"capture_to_{output}", (t_out_ns - result.t_capture_ns) / 1e6)

    def start(self) -> None:
        """Mark the start of the run (average rates are measured from here)."""
        with self._lock:
            self._t_start = time.monotonic_ns()
            self._t_stop = None

    def stop(self) -> None:
        """Mark the end of the run (rates stop counting time)."""
        with self._lock:
            self._t_stop = time.monotonic_ns()

    def resume(self) -> None:
        """Continue after :meth:`stop` (a restart): time counts again from the original start."""
        with self._lock:
            self._t_stop = None

    # -- reading -----------------------------------------------------------------------------
    def counter(self, name: str) -> int:
        return self.counters.get(name)

    def latency(self, name: str) -> dict[str, float | int]:
        """Summary of series ``name``: ``count``, ``mean_ms``, ``max_ms``, ``p50_ms``, ``p95_ms``, ``p99_ms``."""
        with self._lock:
            series = self._latency.get(name)
        return (series or LatencyStats(1)).to_dict()

    def take_interval(self, name: str) -> dict[str, float | int]:
        """Summary of the samples of ``name`` since the previous call (for drift over a long run)."""
        with self._lock:
            interval = self._interval.get(name)
            if interval is not None:
                self._interval[name] = LatencyStats()
        return (interval or LatencyStats(1)).to_dict()

    @property
    def elapsed_s(self) -> float:
        with self._lock:
            end = self._t_stop if self._t_stop is not None else time.monotonic_ns()
            return (end - self._t_start) / 1e9

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """A JSON-ready report plus the ``extra`` facts.

        Keys: ``duration_s``; ``frames`` (``captured``, ``processed``, ``dropped``, then every other
        counter); ``fps`` (``capture`` and ``processed``: averages over the run; ``*_recent``: over
        the last two seconds); ``latency_ms`` (``{series: {count, mean_ms, max_ms, p50_ms, p95_ms,
        p99_ms}}``).
        """
        elapsed = max(self.elapsed_s, 1e-9)
        counts = self.counters.to_dict()
        with self._lock:
            latency = {name: s.to_dict() for name, s in sorted(self._latency.items())}
        frames = {
            "captured": counts.pop("frames_captured", 0),
            "processed": counts.pop("frames_processed", 0),
            "dropped": counts.pop("frames_dropped", 0),
        }
        frames.update(counts)
        report: dict[str, Any] = {
            "duration_s": round(elapsed, 3),
            "frames": frames,
            "fps": {
                "capture": frames["captured"] / elapsed,
                "processed": frames["processed"] / elapsed,
                "capture_recent": self.capture_fps.fps(),
                "processed_recent": self.processed_fps.fps(),
            },
            "latency_ms": latency,
        }
        report.update(extra)
        return report

    def write_json(self, path: str | Path, **extra: Any) -> dict[str, Any]:
        """Write :meth:`to_dict` to ``path`` (indented JSON) and return it."""
        report = self.to_dict(**extra)
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
        return report
