"""Smoke runs of ``bench live`` and ``bench soak`` (tiny sizes; the real runs are commands)."""

from __future__ import annotations

import json

import main


def test_bench_live_smoke(tmp_path, capsys) -> None:
    out = tmp_path / "live.json"
    assert main.main(["bench", "live", "--rig", "snake", "--frames", "30", "--no-face", "--no-hands", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    stages = report["stages"]["latency_ms"]
    for stage in ("perception", "v2p", "retarget", "p2r", "filter", "total"):
        assert stages[stage]["count"] > 0 and stages[stage]["p50_ms"] >= 0, stage
    assert report["stages"]["model"]["solver"] == "analytic_ik"
    assert report["pipeline"]["frames"]["processed"] > 0
    # With a video and the pose model the threaded part runs the camera path too (MediaPipe on JPEG frames).
    if report["stages"]["input"] != "synthetic":
        assert "JPEG frames" in report["pipeline"]["input"] and report["pipeline"]["model"]["perception"] == "mediapipe"
    else:
        assert report["pipeline"]["input"] == "synthetic"
    assert "capture->send" in capsys.readouterr().out


def test_bench_soak_smoke(tmp_path) -> None:
    out = tmp_path / "soak.json"
    assert main.main(["bench", "soak", "--rig", "snake", "--minutes", "0.03", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["frames"]["processed"] > 10
    assert "rss_mb" in report["drift"]
