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
    assert set(yaw["perceived"]) == {"head", "chest", "pelvis"} and rows["arms_relaxed"]["perceived"] is None
    assert report["face_hands"] is True and yaw["face_rate"] >= 0.5  # the face landmarker finds the rendered face (3 of the first 6 frames here)
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
    assert len(list(cache.glob("probe_v*_head_yaw_6_face_hands.npz"))) == 1
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
    assert row["face_rate"] > 0.5  # the face and hands stage ran too (the juggler's face is found)


def test_missing_video_or_rig_is_named(caplog, tmp_path: Path) -> None:
    import main

    assert main.main(["eval-live", "--video", str(tmp_path / "nope.mp4"), "--rig", "dragon"]) == 2
    assert "nope.mp4" in caplog.text
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")  # never opened: the rig is checked first
    assert main.main(["eval-live", "--video", str(video), "--rig", "unicorn"]) == 2
    assert "unicorn" in caplog.text


@pytest.mark.slow
def test_gate_report_rejects_the_horse_and_accepts_the_juggler(shared_models: Path, shared_video: Path, tmp_path: Path) -> None:
    """``eval-live --gate`` on two real clips (45 frames each): MediaPipe fits a person onto the horse, the gate says no."""
    import main

    clips = ["animal_horse_walk_somagraph.mp4", "human_juggle_football_sam2.mp4"]
    if not all((shared_video / c).is_file() for c in clips) or not (shared_models / "pose_landmarker_full.task").is_file():
        pytest.skip("videos or pose model absent")
    folder = tmp_path / "video"
    folder.mkdir()
    for c in clips:
        (folder / c).symlink_to(shared_video / c)
    out = tmp_path / "gate.json"
    assert main.main(["eval-live", "--gate", "--video-dir", str(folder), "--video-frames", "45", "--json", str(out)]) == 0
    rows = {r["video"]: r for r in json.loads(out.read_text())["gate"]}
    horse, juggler = rows[clips[0]], rows[clips[1]]
    assert horse["subject"] == "animal" and horse["detection_rate"] > 0.5  # MediaPipe does see a "person" in the horse
    assert horse["reject_rate"] >= 0.95
    assert juggler["subject"] == "human" and juggler["accept_rate"] >= 0.98


def test_probe_targets_check_the_issue_thresholds() -> None:
    from tools.live_probes import probe_targets

    head = {"gain": 0.8, "probe_joint_error_deg": 9.0, "leakage": {"roll": 0.1}}
    rows = [{"probe": "head_yaw", "rigs": {"humanoid": head, "dragon": {"gain": 0.75, "leakage": {"roll": 0.3}}}},
            {"probe": "torso_twist", "rigs": {"snake": {"joint": None}, "dragon": {"gain": 0.59}}},
            {"probe": "arm_front_raise", "rigs": {"humanoid": {"monotone_fraction": 0.97, "max_step_deg": 25.0}}}]
    got = {(t["rig"], t["target"]): t["met"] for t in probe_targets(rows)}
    assert got == {("humanoid", "head yaw gain >= 0.7"): True, ("humanoid", "head yaw error <= 12 deg"): True,
                   ("dragon", "head yaw gain >= 0.7"): True, ("dragon", "head yaw roll leakage <= 0.2"): False,
                   ("dragon", "torso twist gain >= 0.6"): False,
                   ("humanoid", "front raise monotone (>= 95 % of steps)"): True, ("humanoid", "front raise no step > 20 deg"): False}
