"""``eval-live --probes``: a tiny smoke run of the whole probe command (render -> MediaPipe -> live path -> scores)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pygfx")
pytest.importorskip("mediapipe")


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_probe_command_writes_a_report_for_every_probe_and_rig(shared_models: Path, tmp_path: Path) -> None:
    import main

    if not (shared_models / "pose_landmarker_full.task").is_file():
        pytest.skip("pose model absent")
    out = tmp_path / "probes.json"
    cache = tmp_path / "cache"
    argv = ["eval-live", "--probes", "--probe-frames", "6", "--probe-names", "head_yaw,arms_relaxed",
            "--probe-rigs", "humanoid,dragon,snake", "--landmark-cache", str(cache), "--json", str(out)]
    assert main.main(argv) == 0
    report = json.loads(out.read_text())
    rows = {r["probe"]: r for r in report["probes"]}
    assert set(rows) == {"head_yaw", "arms_relaxed"}
    yaw = rows["head_yaw"]
    assert yaw["frames"] == 6 and yaw["detection_rate"] >= 0.8
    assert set(yaw["rigs"]) == {"humanoid", "dragon", "snake"}
    hum = yaw["rigs"]["humanoid"]
    assert (hum["joint"], hum["base"]) == ("Head", "UpperChest")
    for key in ("gain", "amplitude_ratio", "leakage", "max_step_deg", "jumps_over_90", "rotation_error_deg", "probe_joint_error_deg"):
        assert key in hum, key
    assert 0.0 <= hum["rotation_error_deg"] < 60.0
    assert np.isfinite(yaw["rigs"]["dragon"]["gain"])
    relaxed = rows["arms_relaxed"]["rigs"]
    assert relaxed["dragon"]["arm_lowest_below_feet_m"] is not None
    assert relaxed["snake"]["arm_lowest_below_feet_m"] is None  # no arm-driven chain
    # The landmarks were cached: a second run reads them back and gives the same numbers.
    assert len(list(cache.glob("probe_v*_head_yaw_6.npz"))) == 1
    assert main.main(argv) == 0
    again = {r["probe"]: r for r in json.loads(out.read_text())["probes"]}
    assert again["head_yaw"]["rigs"]["dragon"]["gain"] == pytest.approx(yaw["rigs"]["dragon"]["gain"])


def test_unknown_probe_or_rig_is_named(caplog) -> None:
    import main

    assert main.main(["eval-live", "--probes", "--probe-names", "head_spin", "--probe-frames", "4"]) == 2
    assert "no probe 'head_spin'" in caplog.text
    assert main.main(["eval-live", "--probes", "--probe-rigs", "unicorn", "--probe-frames", "4"]) == 2
    assert "unicorn" in caplog.text


@pytest.mark.slow
def test_video_mode_reports_jumps_jitter_and_gate(shared_models: Path, shared_video: Path, tmp_path: Path) -> None:
    import main

    video = shared_video / "human_juggle_football_sam2.mp4"
    if not video.is_file() or not (shared_models / "pose_landmarker_full.task").is_file():
        pytest.skip("video or pose model absent")
    out = tmp_path / "video.json"
    assert main.main(["eval-live", "--video", str(video), "--rig", "spider", "--video-frames", "20", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["video"]
    assert row["rig"] == "spider" and row["frames"] == 20 and row["detection_rate"] > 0.9
    assert 0.0 <= row["person_gate_accept_rate"] <= 1.0
    assert row["jumps_over_90"] >= 0 and np.isfinite(row["rotation_jitter_deg_s2"])


def test_missing_video_is_named(caplog, tmp_path: Path) -> None:
    import main

    assert main.main(["eval-live", "--video", str(tmp_path / "nope.mp4"), "--rig", "dragon"]) == 2
    assert "nope.mp4" in caplog.text
