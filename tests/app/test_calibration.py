"""Guided calibration without Qt: countdown prompt, still-window average, refusals, saved per rig."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.calibration import POSE_PROMPT, CalibrationCapture, CalibrationConfig, CalibrationFiles, CalibrationPhase
from app.live_session import LiveSession
from engine.perception.landmarks import NUM_LANDMARKS, LandmarkFrame
from engine.performer import performer_arms_down_positions, performer_index
from streaming.settings import SessionSettings

CONFIG = CalibrationConfig(countdown_s=3.0, still_s=1.0)


def _landmarks(visibility: float = 1.0, *, hidden: tuple[int, ...] = ()) -> LandmarkFrame:
    vis = np.full(NUM_LANDMARKS, visibility)
    vis[list(hidden)] = 0.0
    return LandmarkFrame(np.zeros((NUM_LANDMARKS, 3)), np.zeros((NUM_LANDMARKS, 3)), vis, vis, True, 0)


def _run(capture: CalibrationCapture, poses, landmarks=None, fps: float = 30.0) -> CalibrationPhase:
    """Feed one new pose per frame from t=0 until it finishes; returns the final phase."""
    t, k = 0.0, 0
    while not capture.finished and t < 10:
        pose = poses(t) if callable(poses) else poses
        capture.update(t, None if pose is None else np.array(pose), landmarks if landmarks is not None else _landmarks())
        t, k = t + 1.0 / fps, k + 1
    return capture.phase


def test_countdown_prompt_counts_down_then_asks_to_hold_still() -> None:
    capture = CalibrationCapture(CONFIG, t0=100.0)
    assert capture.prompt == f"{POSE_PROMPT}\n3"
    capture.update(101.2, None, _landmarks())
    assert capture.prompt.endswith("\n2") and capture.phase is CalibrationPhase.COUNTDOWN
    capture.update(102.5, None, _landmarks())
    assert capture.prompt.endswith("\n1")
    capture.update(103.1, None, _landmarks())
    assert capture.phase is CalibrationPhase.HOLD_STILL and capture.prompt == "Hold still…"


def test_a_still_pose_is_averaged_over_the_window_only() -> None:
    rng = np.random.default_rng(0)
    still = performer_arms_down_positions()
    arms_up = still.copy()
    arms_up[performer_index("left_hand")] += [0.0, 1.2, 0.0]  # what the user did while reaching for the mouse

    def poses(t: float) -> np.ndarray:
        return (arms_up if t < 2.0 else still) + rng.normal(0, 0.005, still.shape)

    capture = CalibrationCapture(CONFIG, t0=0.0)
    assert _run(capture, poses) is CalibrationPhase.DONE
    np.testing.assert_allclose(capture.result, still, atol=0.005)  # the countdown's arms-up frames are not in it


def test_moving_performer_is_refused_with_the_joint_named() -> None:
    still = performer_arms_down_positions()

    def poses(t: float) -> np.ndarray:
        p = still.copy()
        p[performer_index("right_hand")] += [0.3 * np.sin(6 * t), 0.0, 0.0]
        return p

    capture = CalibrationCapture(CONFIG, t0=0.0)
    assert _run(capture, poses) is CalibrationPhase.REFUSED
    assert "moved" in capture.refusal and "right hand" in capture.refusal and capture.result is None


def test_partly_visible_body_is_refused_and_seated_mode_needs_no_legs() -> None:
    still = performer_arms_down_positions()
    no_legs = _landmarks(hidden=(25, 26, 27, 28))
    capture = CalibrationCapture(CONFIG, t0=0.0)
    assert _run(capture, still, no_legs) is CalibrationPhase.REFUSED
    assert "part of you" in capture.refusal and "ankle" in capture.refusal
    seated = CalibrationCapture(CONFIG, t0=0.0, upper_body=True)
    assert _run(seated, still, no_legs) is CalibrationPhase.DONE


def test_nobody_in_view_or_no_new_frames_is_refused() -> None:
    nobody = CalibrationCapture(CONFIG, t0=0.0)
    assert _run(nobody, performer_arms_down_positions(), LandmarkFrame.empty(0)) is CalibrationPhase.REFUSED
    assert "whole body" in nobody.refusal
    frozen = CalibrationCapture(CONFIG, t0=0.0)
    same = performer_arms_down_positions()
    t = 0.0
    while not frozen.finished:
        frozen.update(t, same, _landmarks())  # tracking stopped: the same array again and again
        t += 0.033
    assert frozen.phase is CalibrationPhase.REFUSED and "frames" in frozen.refusal


def test_calibration_files_round_trip_per_rig(tmp_path: Path) -> None:
    files = CalibrationFiles(tmp_path)
    pose = performer_arms_down_positions()
    assert files.load("dragon") is None
    files.save("dragon", pose)
    np.testing.assert_allclose(files.load("dragon"), pose, atol=1e-6)
    assert files.load("snake") is None
    files.path_for("snake").write_text("{not json")
    assert files.load("snake") is None  # unreadable: ignored with a warning
    with pytest.raises(ValueError, match="28, 3"):
        files.save("bird", np.zeros((3, 3)))
    files.delete("dragon")
    assert files.load("dragon") is None


def test_session_saves_the_calibration_and_the_next_session_loads_it(tmp_path: Path) -> None:
    pose = performer_arms_down_positions()
    pose[performer_index("left_lower_arm")] += [0.05, 0.0, 0.05]
    first = LiveSession(SessionSettings(tracking=False, rig="snake"), takes_dir=tmp_path / "takes", config_dir=tmp_path / "cfg")
    first.open()
    try:
        saved = first.calibrate(pose)
        assert saved.is_file() and type(first.pipeline.processor.retarget).__name__ == "CalibratedRetarget"
        first.set_rig("dragon")  # another rig: its own (absent) calibration
        assert first.neutral is None and type(first.pipeline.processor.retarget).__name__ != "CalibratedRetarget"
    finally:
        first.close()
    second = LiveSession(SessionSettings(tracking=False, rig="snake"), takes_dir=tmp_path / "takes", config_dir=tmp_path / "cfg")
    second.open()
    try:
        np.testing.assert_allclose(second.neutral, pose, atol=1e-6)
        assert type(second.pipeline.processor.retarget).__name__ == "CalibratedRetarget"
        second.clear_calibration()
        assert not saved.exists()
    finally:
        second.close()
