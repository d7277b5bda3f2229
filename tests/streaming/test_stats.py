"""Latency percentiles, frame-rate meter and counters: exact on known inputs, bounded, JSON-ready."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from streaming.stats import Counters, FpsMeter, LatencyStats


def test_latency_percentiles_match_numpy_and_the_ring_is_bounded() -> None:
    stats = LatencyStats(capacity=1000)
    assert stats.to_dict() == {"count": 0, "mean_ms": 0.0, "max_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    values = np.arange(1, 101, dtype=float)  # 1..100 ms
    for v in values:
        stats.add_ms(v)
    d = stats.to_dict()
    assert d["count"] == 100 and d["mean_ms"] == pytest.approx(50.5) and d["max_ms"] == 100.0
    assert d["p50_ms"] == pytest.approx(50.5) and d["p95_ms"] == pytest.approx(95.05) and d["p99_ms"] == pytest.approx(99.01)
    stats.add_ns(2_000_000)
    assert stats.count == 101
    # Past capacity only the newest samples count for percentiles; count, mean and max cover all.
    ring = LatencyStats(capacity=10)
    for v in range(1000):
        ring.add_ms(float(v))
    assert ring.percentile(0) == 990.0 and ring.to_dict()["count"] == 1000 and ring.to_dict()["max_ms"] == 999.0
    assert json.loads(json.dumps(stats.to_dict())) == stats.to_dict()
    with pytest.raises(ValueError):
        LatencyStats(capacity=0)


def test_fps_meter_window_and_run_rate() -> None:
    meter = FpsMeter(window_s=1.0)
    assert meter.fps() == 0.0 and meter.mean_fps() == 0.0
    t = 0
    for _ in range(60):  # 2 s at 30 fps ...
        meter.tick(t)
        t += 33_333_333
    for _ in range(20):  # ... then 10 fps
        meter.tick(t)
        t += 100_000_000
    assert meter.count == 80
    assert meter.fps() == pytest.approx(10.0, rel=1e-6)  # the last second only
    assert meter.mean_fps() == pytest.approx(79 / ((60 * 33_333_333 + 19 * 100_000_000) * 1e-9), rel=1e-6)  # first to last tick
    assert len(meter._ticks) <= 11  # bounded by the window
    assert set(meter.to_dict()) == {"count", "fps", "mean_fps"}


def test_counters_are_thread_safe() -> None:
    counters = Counters()

    def bump() -> None:
        for _ in range(10_000):
            counters.add("frames")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    counters.add("drops", 3)
    assert counters.get("frames") == 40_000 and counters.get("missing") == 0
    assert counters.to_dict() == {"drops": 3, "frames": 40_000}
