"""The head from the face landmarker, bridged by the body's face fit while the face is lost."""

import numpy as np
import pytest

from engine import rotations as rot
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.performer import performer_rest_positions
from engine.performer.face_head import FaceHeadBridge
from engine.performer.segments import SegmentTracker


def _yaw(deg: float) -> np.ndarray:
    return rot.axis_angle_to_matrix(np.array([0.0, np.radians(deg), 0.0]))


def _deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(rot.geodesic_angle(a, b)))


def test_the_face_wins_when_seen_and_the_fit_is_used_with_no_face_ever():
    bridge = FaceHeadBridge()
    assert _deg(bridge.update(_yaw(10.0), None, 0.0), _yaw(10.0)) < 1e-9
    assert _deg(bridge.update(_yaw(10.0), _yaw(30.0), 0.1), _yaw(30.0)) < 1e-9


def test_a_lost_face_keeps_the_offset_then_fades_to_the_fit():
    bridge = FaceHeadBridge(fade_s=1.0)
    bridge.update(_yaw(30.0), _yaw(45.0), 0.0)  # the face reads 15 deg more than the fit
    # Lost right after: the fit goes on turning, the offset still added (continuous, no drop).
    assert _deg(bridge.update(_yaw(34.0), None, 1e-6), _yaw(49.0)) < 1e-3
    # One time constant later, e^-1 of the offset is left.
    assert _deg(bridge.update(_yaw(34.0), None, 1.0), _yaw(34.0 + 15.0 * np.exp(-1.0))) < 1e-3
    # Long lost: the fit alone.
    assert _deg(bridge.update(_yaw(34.0), None, 20.0), _yaw(34.0)) < 1e-9
    bridge.update(_yaw(30.0), _yaw(45.0), 21.0)
    bridge.reset()
    assert _deg(bridge.update(_yaw(34.0), None, 21.1), _yaw(34.0)) < 1e-9


def test_fade_must_be_positive():
    with pytest.raises(ValueError, match="fade_s"):
        FaceHeadBridge(fade_s=0.0)


def test_the_tracker_turns_the_head_segment_by_the_face_rotation():
    """The face landmarker's rotation (canonical face -> camera = internal axes) is the head's turn
    from rest, whatever the body's landmarks say; a face rotation of identity is the rest head."""
    points = landmarks_from_performer(performer_rest_positions())
    face = rot.matrix_to_quat(_yaw(40.0) @ rot.axis_angle_to_matrix(np.array([np.radians(10.0), 0.0, 0.0])))
    tracker = SegmentTracker(coupling=None)  # the segments as seen (tests/engine/performer/test_trunk_coupling.py)
    pose = tracker.from_points(points, face_head=face, t_s=0.0)
    assert _deg(pose.turn("head"), rot.quat_to_matrix(face)) < 1e-6
    assert pose.confidence[2] == pytest.approx(1.0)
    assert _deg(pose.turn("chest"), np.eye(3)) < 1e-6  # only the head
    rest = tracker.from_points(points, face_head=np.array([0.0, 0.0, 0.0, 1.0]), t_s=0.1)
    assert _deg(rest.turn("head"), np.eye(3)) < 1e-6
    # The face lost: the bridge carries the last offset (here: identity face vs. identity fit).
    lost = tracker.from_points(points, t_s=0.2)
    assert _deg(lost.turn("head"), np.eye(3)) < 1e-6
