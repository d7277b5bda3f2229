"""Pose modes on positions and on segment turns: the mirror of the segments is the segments of the mirror."""

import numpy as np

from engine import rotations as rot
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.performer import performer_index, performer_rest_positions
from engine.performer.pose_modes import leg_segments_at_rest, legs_at_rest, mirror_performer, mirror_segments
from engine.performer.segments import SEGMENTS, SegmentTracker


def _turn_about(pos: np.ndarray, pivot: str, parts: list[str], axis_angle: np.ndarray) -> np.ndarray:
    R = rot.axis_angle_to_matrix(axis_angle)
    out = pos.copy()
    c = pos[performer_index(pivot)]
    for part in parts:
        j = performer_index(part)
        out[j] = c + R @ (pos[j] - c)
    return out


def _asymmetric_pose() -> np.ndarray:
    pos = performer_rest_positions()
    pos = _turn_about(pos, "head", ["head_end"], np.radians([10.0, 40.0, 0.0]))  # head turned to one side, nodding
    pos = _turn_about(pos, "left_lower_arm", ["left_hand", "left_hand_end", "left_thumb"], np.radians([0.0, 50.0, 20.0]))
    return pos


def test_mirror_performer_twice_is_the_identity_and_swaps_sides():
    pos = _asymmetric_pose()
    np.testing.assert_allclose(mirror_performer(mirror_performer(pos)), pos, atol=1e-12)
    m = mirror_performer(pos)
    np.testing.assert_allclose(m[performer_index("right_hand")] * [-1, 1, 1], pos[performer_index("left_hand")], atol=1e-12)


def test_mirrored_segment_turns_are_the_turns_of_the_mirrored_performer():
    pos = _asymmetric_pose()
    direct = SegmentTracker().from_points(landmarks_from_performer(mirror_performer(pos)))
    mirrored = mirror_segments(SegmentTracker().from_points(landmarks_from_performer(pos)))
    for s, name in enumerate(SEGMENTS):
        if name.endswith("upper_arm"):
            continue  # straight elbows at rest: an undefined bend normal
        for key in direct.turns:
            angle = np.degrees(rot.geodesic_angle(mirrored.turns[key][s], direct.turns[key][s]))
            assert angle < 1e-3, (name, key, angle)
    np.testing.assert_allclose(mirrored.confidence, direct.confidence, atol=1e-9)
    # The head turned one way turns the other way in the mirror.
    yaw = rot.matrix_to_axis_angle(mirrored.turn("head"))[1]
    assert np.degrees(yaw) < -30.0


def test_leg_segments_at_rest_follow_the_pelvis():
    pos = performer_rest_positions()
    pos = _turn_about(pos, "left_upper_leg", ["left_lower_leg", "left_foot", "left_toe", "left_heel"], np.radians([60.0, 0.0, 0.0]))
    pose = SegmentTracker().from_points(landmarks_from_performer(pos))
    assert np.degrees(rot.geodesic_angle(pose.turn("left_upper_leg"), np.eye(3))) > 50.0
    rested = leg_segments_at_rest(pose)
    for name in ("left_upper_leg", "left_lower_leg", "left_foot", "right_foot"):
        assert np.degrees(rot.geodesic_angle(rested.turn(name), rested.turn("pelvis"))) < 1e-9
    assert np.allclose(rested.turn("head"), pose.turn("head"))
    np.testing.assert_allclose(legs_at_rest(pos)[performer_index("left_foot")], performer_rest_positions()[performer_index("left_foot")], atol=1e-9)
