"""Segment orientation frames from landmarks: rest is identity, turns are recovered, confidence drops when undefined."""

import numpy as np
import pytest

from engine import rotations as rot
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.performer import performer_index, performer_rest_positions
from engine.performer.segments import SEGMENTS, SegmentTracker, face_rotation, segment_frames
from engine.performer.segments import _FACE_MARKS, _FACE_MODEL


def _yaw(deg: float) -> np.ndarray:
    return rot.axis_angle_to_matrix(np.array([0.0, np.radians(deg), 0.0]))


def test_rest_landmarks_give_identity_turns_everywhere_but_the_bent_upper_arms():
    pose = SegmentTracker().from_points(landmarks_from_performer(performer_rest_positions()))
    for s, name in enumerate(SEGMENTS):
        if name.endswith("upper_arm"):
            continue  # straight elbows: the bend normal is undefined (and its confidence low)
        assert rot.geodesic_angle(pose.turns["t_pose"][s], np.eye(3)) < 1e-6, name
    assert pose.confidence[SEGMENTS.index("left_upper_arm")] < 0.1
    assert pose.confidence[SEGMENTS.index("head")] == pytest.approx(1.0)


def test_a_whole_body_turn_turns_every_segment_by_the_same_rotation():
    R = _yaw(35.0) @ rot.axis_angle_to_matrix(np.array([0.2, 0.0, 0.1]))
    points = landmarks_from_performer(performer_rest_positions()) @ R.T
    pose = SegmentTracker().from_points(points)
    for s, name in enumerate(SEGMENTS):
        if not name.endswith("upper_arm"):
            assert np.degrees(rot.geodesic_angle(pose.turns["t_pose"][s], R)) < 1e-4, name


def test_head_turn_reaches_only_the_head_segment():
    pos = performer_rest_positions()
    head, nose = performer_index("head"), performer_index("head_end")
    pos[nose] = pos[head] + _yaw(50.0) @ (pos[nose] - pos[head])
    pose = SegmentTracker(coupling=None).from_points(landmarks_from_performer(pos))  # as seen, no decoupling
    turn = pose.turn("head")
    axis_angle = rot.matrix_to_axis_angle(turn)
    assert np.degrees(np.linalg.norm(axis_angle)) == pytest.approx(50.0, abs=0.5)
    assert abs(axis_angle[1]) / np.linalg.norm(axis_angle) > 0.99  # about the vertical
    assert rot.geodesic_angle(pose.turn("chest"), np.eye(3)) < 1e-6


def test_face_rotation_recovers_a_turn_from_2d_points():
    R = _yaw(-40.0) @ rot.axis_angle_to_matrix(np.array([np.radians(15.0), 0.0, np.radians(-10.0)]))
    projected = _FACE_MODEL @ R.T
    image = np.full((33, 3), 0.5)
    image[list(_FACE_MARKS), 0] = 0.5 + projected[:, 0] * 2.0
    image[list(_FACE_MARKS), 1] = 0.5 - projected[:, 1] * 2.0 * 640 / 480
    assert np.degrees(rot.geodesic_angle(face_rotation(image, (640, 480)), R)) < 1e-6


def test_frames_are_rotations():
    rng = np.random.default_rng(0)
    frames, conf = segment_frames(rng.normal(size=(33, 3)))
    assert frames.shape == (len(SEGMENTS), 3, 3) and conf.shape == (len(SEGMENTS),)
    assert np.allclose(frames @ np.swapaxes(frames, -1, -2), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(frames), 1.0)


def test_a_one_frame_trunk_flip_is_turned_at_most_the_speed_limit_and_a_pause_starts_afresh():
    """MediaPipe's one-frame side-view swaps: the chest (and pelvis, head) turn at most 600 deg/s
    toward the new reading; after a gap of more than 0.25 s the reading is taken as it is."""
    rest = landmarks_from_performer(performer_rest_positions())
    turned = rest @ _yaw(80.0).T  # the whole body seen 80 deg turned
    tracker = SegmentTracker()
    tracker.from_points(rest, t_s=0.0)
    pose = tracker.from_points(turned, t_s=1 / 30)
    chest = np.degrees(rot.geodesic_angle(pose.turn("chest"), np.eye(3)))
    assert chest == pytest.approx(20.0, abs=0.5)  # 600 deg/s for 1/30 s
    assert np.degrees(rot.geodesic_angle(pose.turn("left_lower_leg"), _yaw(80.0))) < 1e-4  # limbs are not limited
    later = tracker.from_points(turned, t_s=1 / 30 + 1.0)
    assert np.degrees(rot.geodesic_angle(later.turn("chest"), _yaw(80.0))) < 1e-4


def test_the_hand_landmarkers_palm_turns_the_forearm_and_hand_and_is_bridged_when_lost():
    """A palm read 40 deg pronated about the forearm (pose knuckles unchanged): the left forearm and
    hand segments twist 40 deg; once the palm is gone, the twist stays and fades (1 s)."""
    from engine.perception.landmarks import Landmark as L

    points = landmarks_from_performer(performer_rest_positions())
    fore = points[L.LEFT_WRIST] - points[L.LEFT_ELBOW]
    fore /= np.linalg.norm(fore)
    along = 0.5 * (points[L.LEFT_INDEX] + points[L.LEFT_PINKY]) - points[L.LEFT_WRIST]
    across = points[L.LEFT_INDEX] - points[L.LEFT_PINKY]
    R = rot.axis_angle_to_matrix(fore * np.radians(40.0))
    palm = np.stack([along / np.linalg.norm(along), R @ across / np.linalg.norm(across)])
    tracker = SegmentTracker()
    seen = tracker.from_points(points, t_s=0.0, palms={"left": palm})

    def twist_deg(turn):
        _, tw = rot.swing_twist(rot.matrix_to_quat(turn), fore)
        return float(np.degrees(2 * np.arctan2(np.dot(tw[:3], fore), tw[3])))

    assert twist_deg(seen.turn("left_lower_arm")) == pytest.approx(40.0, abs=0.5)
    assert twist_deg(seen.turn("left_hand")) == pytest.approx(40.0, abs=0.5)
    assert rot.geodesic_angle(seen.turn("right_lower_arm"), np.eye(3)) < 1e-6
    held = tracker.from_points(points, t_s=0.04)  # the palm not read on this frame
    assert twist_deg(held.turn("left_lower_arm")) == pytest.approx(40.0 * np.exp(-0.04), abs=0.5)
    # Only the palm drives the forearm and hand: full confidence while seen, fading with the
    # bridge, none without a palm (the right side never had one).
    lower, hand = SEGMENTS.index("left_lower_arm"), SEGMENTS.index("left_hand")
    assert seen.confidence[lower] == pytest.approx(1.0) and seen.confidence[hand] == pytest.approx(1.0)
    assert held.confidence[lower] == pytest.approx(np.exp(-0.04), abs=1e-6)
    assert seen.confidence[SEGMENTS.index("right_lower_arm")] == 0.0 and seen.confidence[SEGMENTS.index("right_hand")] == 0.0
    later = tracker.from_points(points, t_s=3.0)
    assert abs(twist_deg(later.turn("left_lower_arm"))) < 3.0


def test_an_upper_arms_roll_turns_at_most_450_deg_s_and_its_bone_is_not_held_back():
    """A nearly straight elbow's bend normal can swing 20-30 deg in a frame: the upper arm's roll
    about its bone follows at most 15 deg per 30 fps frame, while the bone's direction is not limited."""
    from engine.perception.landmarks import Landmark as L

    rest = landmarks_from_performer(performer_rest_positions())
    shoulder = rest[L.LEFT_SHOULDER]
    bone = rest[L.LEFT_ELBOW] - shoulder
    bone /= np.linalg.norm(bone)

    def bent(roll_deg: float, swing_deg: float = 0.0) -> np.ndarray:
        """The left elbow bent 40 deg, its bend plane rolled about the upper arm, the arm swung up."""
        p = rest.copy()
        elbow = p[L.LEFT_ELBOW]
        lower = [L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_THUMB]
        p[lower] = elbow + (p[lower] - elbow) @ rot.axis_angle_to_matrix(np.array([0.0, 0.0, 1.0]) * np.radians(40.0)).T
        arm = [L.LEFT_ELBOW, *lower]
        p[arm] = shoulder + (p[arm] - shoulder) @ rot.axis_angle_to_matrix(bone * np.radians(roll_deg)).T
        p[arm] = shoulder + (p[arm] - shoulder) @ rot.axis_angle_to_matrix(np.array([0.0, 0.0, 1.0]) * np.radians(swing_deg)).T
        return p

    def roll_between(a, b):
        return float(np.degrees(rot.geodesic_angle(a.frames[SEGMENTS.index("left_upper_arm")], b.frames[SEGMENTS.index("left_upper_arm")])))

    tracker = SegmentTracker()
    first = tracker.from_points(bent(0.0), t_s=0.0)
    second = tracker.from_points(bent(60.0), t_s=1 / 30)
    assert roll_between(first, second) == pytest.approx(15.0, abs=0.5)
    slow = tracker.from_points(bent(60.0), t_s=2 / 30)  # the next frame goes on toward the reading
    assert roll_between(second, slow) == pytest.approx(15.0, abs=0.5)
    # The bone itself swings freely: 50 deg in one frame, its direction is the reading's.
    p = bent(60.0, swing_deg=50.0)
    swung = tracker.from_points(p, t_s=3 / 30)
    reading = (p[L.LEFT_ELBOW] - p[L.LEFT_SHOULDER]) / np.linalg.norm(p[L.LEFT_ELBOW] - p[L.LEFT_SHOULDER])
    along = swung.frames[SEGMENTS.index("left_upper_arm")][:, 0]
    assert np.degrees(np.arccos(np.clip(along @ reading, -1.0, 1.0))) < 1e-6
