"""Undoing MediaPipe's trunk coupling: a seen leak is removed, a whole-body turn is untouched, the hips follow."""

import numpy as np
import pytest

from engine import rotations as rot
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.perception.landmarks import Landmark as L
from engine.perception.landmarks import LandmarkFrame, internal_to_world, world_to_internal
from engine.performer import performer_index, performer_rest_positions
from engine.performer.segments import SegmentTracker
from engine.performer.trunk_coupling import TrunkCoupling, decouple_trunk, turn_hips

UP = np.array([0.0, 1.0, 0.0])


def _yaw(deg: float) -> np.ndarray:
    return rot.axis_angle_to_matrix(UP * np.radians(deg))


def _yaw_deg(M: np.ndarray) -> float:
    return float(np.degrees(rot.matrix_to_axis_angle(M)[1]))


def test_a_seen_share_of_the_upper_segments_twist_is_taken_out_of_the_lower_one():
    coupling = TrunkCoupling(head_into_chest=0.2, chest_into_pelvis=0.4)
    # A 50 deg head turn the chest was seen to follow by 0.2 of it; a 30 deg chest twist the pelvis followed by 0.4.
    # lower_seen = lower + share * (upper_seen - lower), with lower = 0: the chest seen at 10 deg.
    head_only = decouple_trunk({"pelvis": np.eye(3), "chest": _yaw(10.0), "head": _yaw(50.0)}, {"pelvis": UP, "chest": UP},
                               TrunkCoupling(head_into_chest=0.2))
    assert _yaw_deg(head_only["chest"]) == pytest.approx(0.0, abs=1e-6)
    assert _yaw_deg(head_only["pelvis"]) == pytest.approx(0.0, abs=1e-6)  # no share given: left as seen
    chest = 30.0
    seen_pelvis = 0.4 * chest
    out = decouple_trunk({"pelvis": _yaw(seen_pelvis), "chest": _yaw(chest), "head": _yaw(chest)}, {"pelvis": UP, "chest": UP}, coupling)
    assert _yaw_deg(out["pelvis"]) == pytest.approx(0.0, abs=1e-6)
    assert _yaw_deg(out["chest"]) == pytest.approx(chest, abs=1e-6)  # the head turned with the chest: nothing to undo


def test_a_whole_body_turn_and_a_lean_are_left_as_seen():
    lean = rot.axis_angle_to_matrix(np.array([0.3, 0.0, 0.0]))
    turns = {name: _yaw(70.0) @ lean for name in ("pelvis", "chest", "head")}
    out = decouple_trunk(turns, {name: turns[name][:, 1] for name in ("pelvis", "chest")}, TrunkCoupling(0.3, 0.5))
    for name, turn in out.items():
        assert np.degrees(rot.geodesic_angle(turn, turns[name])) < 1e-6, name


def test_shares_outside_the_range_are_refused():
    with pytest.raises(ValueError, match="chest_into_pelvis"):
        TrunkCoupling(chest_into_pelvis=0.95)
    with pytest.raises(ValueError, match="head_into_chest"):
        TrunkCoupling(head_into_chest=-0.1)


def test_tracker_undoes_the_chest_following_a_head_turn_and_reports_the_pelvis_fix():
    pos = performer_rest_positions()
    head, nose = performer_index("head"), performer_index("head_end")
    pos[nose] = pos[head] + _yaw(50.0) @ (pos[nose] - pos[head])
    points = landmarks_from_performer(pos)
    # The chest seen turned 10 deg with the head (shoulders turned about their middle), the pelvis not.
    shoulders = [int(L.LEFT_SHOULDER), int(L.RIGHT_SHOULDER)]
    middle = points[shoulders].mean(axis=0)
    points[shoulders] = (points[shoulders] - middle) @ _yaw(10.0).T + middle
    seen = SegmentTracker(coupling=None).from_points(points)
    fixed = SegmentTracker(TrunkCoupling(head_into_chest=0.2, chest_into_pelvis=0.4)).from_points(points)
    assert _yaw_deg(seen.turn("chest")) == pytest.approx(10.0, abs=0.5)
    assert abs(_yaw_deg(fixed.turn("chest"))) < 0.5
    assert _yaw_deg(fixed.turn("head")) == pytest.approx(_yaw_deg(seen.turn("head")), abs=1e-6)
    # The pelvis is pulled against the (seen) chest's twist, and pelvis_fix is that correction.
    assert _yaw_deg(fixed.turn("pelvis")) == pytest.approx(-0.4 / 0.6 * 10.0, abs=0.5)
    assert np.degrees(rot.geodesic_angle(fixed.pelvis_fix @ seen.turn("pelvis"), fixed.turn("pelvis"))) < 1e-6
    assert seen.pelvis_fix is None


def test_turn_hips_turns_the_two_hip_landmarks_about_their_middle_only():
    points = landmarks_from_performer(performer_rest_positions())
    frame = LandmarkFrame(internal_to_world(points), np.full((33, 3), 0.5), np.ones(33), np.ones(33), True, 40)
    out = world_to_internal(turn_hips(frame, _yaw(30.0)).world)
    hips = [int(L.LEFT_HIP), int(L.RIGHT_HIP)]
    assert np.allclose(out[hips].mean(axis=0), points[hips].mean(axis=0))
    span, seen = out[hips[0]] - out[hips[1]], points[hips[0]] - points[hips[1]]
    assert np.degrees(np.arctan2(np.cross(seen, span)[1], seen @ span)) == pytest.approx(30.0, abs=1e-6)
    others = [i for i in range(33) if i not in hips]
    assert np.allclose(out[others], points[others])
