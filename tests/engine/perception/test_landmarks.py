"""LandmarkFrame validation, the MediaPipe -> internal frame flip, and LandmarkHold."""

from __future__ import annotations

import numpy as np
import pytest

from engine.perception.hold import LandmarkHold
from engine.perception.landmarks import LANDMARK_NAMES, Landmark, LandmarkFrame, internal_to_world, world_to_internal


def _frame(t_ms: int, found: bool = True, value: float = 0.1) -> LandmarkFrame:
    if not found:
        return LandmarkFrame.empty(t_ms)
    w = np.full((33, 3), value)
    return LandmarkFrame(w, w, np.ones(33), np.ones(33), True, t_ms)


def test_names_follow_blazepose_order() -> None:
    assert len(LANDMARK_NAMES) == 33
    assert LANDMARK_NAMES[0] == "nose" and LANDMARK_NAMES[11] == "left_shoulder" and LANDMARK_NAMES[32] == "right_foot_index"
    assert Landmark.LEFT_HEEL == 29


def test_frame_validates_shapes_and_values_and_is_read_only() -> None:
    with pytest.raises(ValueError, match="world must be"):
        LandmarkFrame(np.zeros((32, 3)), np.zeros((33, 3)), np.zeros(33), np.zeros(33), True, 0)
    bad = np.zeros((33, 3))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        LandmarkFrame(bad, np.zeros((33, 3)), np.zeros(33), np.zeros(33), True, 0)
    f = _frame(5)
    with pytest.raises(ValueError):
        f.world[0, 0] = 1.0
    assert LandmarkFrame.empty(7).person_found is False


def test_world_flip_keeps_handedness_and_puts_y_up() -> None:
    mp = np.array([[1.0, -2.0, 3.0]])  # x right, y up (negative = up in MediaPipe), z away
    internal = world_to_internal(mp)
    np.testing.assert_allclose(internal, [[1.0, 2.0, -3.0]])
    np.testing.assert_allclose(internal_to_world(internal), mp)
    assert np.linalg.det(np.diag([1.0, -1.0, -1.0])) == pytest.approx(1.0)


def test_hold_keeps_last_pose_then_recovers() -> None:
    hold = LandmarkHold(max_hold_ms=100)
    assert hold.update(_frame(0, found=False)).holding is False  # nothing to hold yet
    live = hold.update(_frame(10, value=0.2))
    assert not live.holding and live.frame.person_found
    held = hold.update(_frame(40, found=False))
    assert held.holding and held.held_ms == 30
    assert held.frame.person_found and held.frame.t_ms == 40
    np.testing.assert_allclose(held.frame.world, 0.2)
    back = hold.update(_frame(60, value=0.3))
    assert not back.holding
    np.testing.assert_allclose(back.frame.world, 0.3)
    hold.update(_frame(70, found=False))
    expired = hold.update(_frame(200, found=False))
    assert not expired.holding and not expired.frame.person_found  # held past max_hold_ms: give up
