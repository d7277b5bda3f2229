"""Orientation links: suggested per rig, applied through the reference pair, saved in schema 2 maps."""

import json

import numpy as np
import pytest

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.performer import performer_index, performer_rest_positions
from engine.performer.segments import SegmentTracker
from engine.retarget.mapping import RetargetMap, RetargetMapError, load_map, save_map, suggest_map
from engine.retarget.orientation import OrientationRetarget, facing_turn
from engine.rigs.bundled import load_bundled_rig


def _turn(axis, deg):
    return rot.axis_angle_to_matrix(np.asarray(axis, float) * np.radians(deg))


def _pose(head_yaw=0.0, head_roll=0.0, chest_twist=0.0):
    """Segment turns of rest landmarks with the head and the shoulders turned."""
    pos = performer_rest_positions()
    points = landmarks_from_performer(pos)
    head = pos[performer_index("head")]
    R = _turn([0, 1, 0], head_yaw) @ _turn([0, 0, 1], head_roll)
    face = list(range(11))
    points[face] = head + (points[face] - head) @ R.T
    C = _turn([0, 1, 0], chest_twist)
    upper = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]
    neck = 0.5 * (points[11] + points[12])
    points[upper] = neck + (points[upper] - neck) @ C.T
    return SegmentTracker(coupling=None).from_points(points)  # the turns as given: no trunk decoupling


def _world(rig, local):
    W, _ = forward_kinematics(rig.skeleton.parents, rot.quat_to_matrix(local), rig.skeleton.rest_translations)
    return W


def _drive(name, pose):
    rig = load_bundled_rig(name)
    m = suggest_map(rig.skeleton, rig.name)
    ref = np.array(rig.skeleton.rest_rotations)  # the solver's output for the performer at rest
    out = OrientationRetarget(rig.skeleton, m)(ref, pose)
    return rig, m, _world(rig, ref), _world(rig, out)


def _twist_deg(D, axis):
    _, tw = rot.swing_twist(rot.matrix_to_quat(D), axis)
    return np.degrees(2 * np.arctan2(np.dot(tw[:3], axis), tw[3]))


def test_humanoid_links_cover_head_spine_arms_and_legs():
    rig = load_bundled_rig("humanoid")
    links = {(l.joint, l.mode) for l in suggest_map(rig.skeleton, rig.name).orientations}
    for need in [("Head", "orient"), ("Chest", "turn"), ("LeftLowerArm", "twist"), ("LeftUpperArm", "twist"),
                 ("LeftHand", "orient"), ("RightFoot", "orient"), ("RightLowerLeg", "twist")]:
        assert need in links


@pytest.mark.parametrize("name", ["humanoid", "dragon", "quadruped", "bird", "snake"])
def test_head_yaw_reaches_every_head_about_the_vertical_without_roll(name):
    rig, m, ref_w, out_w = _drive(name, _pose(head_yaw=40.0))
    head = next(l.joint for l in m.orientations if l.segment == "head" and l.mode == "orient")
    D = out_w[rig.skeleton.index(head)] @ ref_w[rig.skeleton.index(head)].T
    assert _twist_deg(D, np.array([0.0, 1.0, 0.0])) == pytest.approx(40.0, abs=0.5)
    fwd = facing_turn(m.forward)[:, 2]
    assert abs(_twist_deg(D, fwd)) < 1.0  # no roll


def test_head_roll_is_a_roll_about_the_rig_facing():
    rig, m, ref_w, out_w = _drive("dragon", _pose(head_roll=20.0))
    j = rig.skeleton.index("Head")
    D = out_w[j] @ ref_w[j].T
    assert _twist_deg(D, facing_turn(m.forward)[:, 2]) == pytest.approx(20.0, abs=0.5)


@pytest.mark.parametrize("name", ["humanoid", "dragon", "bird"])
def test_chest_twist_is_spread_along_the_spine_and_the_neck_keeps_it(name):
    rig, m, ref_w, out_w = _drive(name, _pose(chest_twist=30.0))
    spine = next(c for c in m.chains if c.source == "spine").target
    angles = [_twist_deg(out_w[rig.skeleton.index(n)] @ ref_w[rig.skeleton.index(n)].T, np.array([0.0, 1.0, 0.0])) for n in spine]
    assert angles[0] == pytest.approx(0.0, abs=1e-6)
    assert angles[-1] == pytest.approx(30.0, abs=0.5)
    assert np.all(np.diff(angles) > 0)


def test_forearm_twist_keeps_the_bone_direction():
    """A palm read 60 deg pronated (the hand landmarker's, segments.py) twists the rig's forearm 60 deg
    about its bone; the pose's own knuckles turned the same way twist nothing (they do not follow a
    pronation on real renders, and their twist made the rotations worse)."""
    pos = performer_rest_positions()
    points = landmarks_from_performer(pos)
    wrist = points[15]
    R = _turn([1, 0, 0], 60.0)  # pronation of the left forearm, held out along +X
    along = 0.5 * (points[19] + points[17]) - wrist
    palm = np.stack([along / np.linalg.norm(along), R @ (points[19] - points[17]) / np.linalg.norm(points[19] - points[17])])
    knuckles_only = points.copy()
    for k in (17, 19, 21):
        knuckles_only[k] = wrist + R @ (points[k] - wrist)
    rig = load_bundled_rig("humanoid")
    m = suggest_map(rig.skeleton, rig.name)
    ref = np.array(rig.skeleton.rest_rotations)  # the solver's output for the performer at rest
    j, c = rig.skeleton.index("LeftLowerArm"), rig.skeleton.index("LeftHand")
    bone = rig.skeleton.rest_translations[c]
    W0 = _world(rig, ref)
    axis = W0[j] @ bone / np.linalg.norm(bone)
    for pose, expected in ((SegmentTracker().from_points(points, palms={"left": palm}), 60.0),
                           (SegmentTracker().from_points(knuckles_only), 0.0)):
        W1 = _world(rig, OrientationRetarget(rig.skeleton, m)(ref, pose))
        assert np.allclose(W0[j] @ bone, W1[j] @ bone, atol=1e-9)
        assert _twist_deg(W1[j] @ W0[j].T, axis) == pytest.approx(expected, abs=1.0)


def test_map_round_trip_and_schema_1_still_loads(tmp_path):
    rig = load_bundled_rig("dragon")
    m = suggest_map(rig.skeleton, rig.name)
    path = tmp_path / "dragon.glb.retarget.json"
    save_map(m, path)
    data = json.loads(path.read_text())
    assert data["version"] == 3 and data["orientations"]
    again = load_map(path, rig.skeleton)
    assert [l.to_dict() for l in again.orientations] == [l.to_dict() for l in m.orientations]
    data.pop("orientations")
    data.pop("face_hands")
    data["version"] = 1
    path.write_text(json.dumps(data))
    old = load_map(path, rig.skeleton)
    assert [l.to_dict() for l in old.orientations] == [l.to_dict() for l in m.orientations]  # suggested on load


@pytest.mark.parametrize("link, fault", [
    ({"joint": "Head", "segment": "tail"}, "not a performer segment"),
    ({"joint": "Nope", "segment": "head"}, "does not have"),
    ({"joint": "Head", "segment": "head", "mode": "turn"}, "relative_to"),
    ({"joint": "Head", "segment": "head", "weight": 2}, "weight"),
])
def test_bad_orientation_links_are_named(link, fault):
    rig = load_bundled_rig("dragon")
    data = suggest_map(rig.skeleton, rig.name).to_dict()
    data["orientations"] = [link]
    with pytest.raises(RetargetMapError, match=fault):
        RetargetMap.from_dict(data, path="m.json", skeleton=rig.skeleton)


@pytest.mark.parametrize("name", ["humanoid", "dragon"])
def test_hints_carry_the_links_targets_before_the_solver(name):
    """At rest positions every hinted joint's world rotation is what the links give a rest solver."""
    rig = load_bundled_rig(name)
    m = suggest_map(rig.skeleton, rig.name)
    orientation = OrientationRetarget(rig.skeleton, m)
    _, rest_positions = forward_kinematics(rig.skeleton.parents, rot.quat_to_matrix(rig.skeleton.rest_rotations), rig.skeleton.rest_translations)
    assert (orientation.hints(rest_positions, None)[:, 6] == 0).all()
    pose = _pose(head_yaw=40.0, chest_twist=20.0)
    hints = orientation.hints(rest_positions, pose)
    _, _, _, out_w = _drive(name, pose)
    linked = {rig.skeleton.index(l.joint) for l in m.orientations}
    assert set(np.flatnonzero(hints[:, 6] > 0)) <= linked
    orient = {rig.skeleton.index(l.joint) for l in m.orientations if l.mode == "orient"}
    head = next(rig.skeleton.index(l.joint) for l in m.orientations if l.segment == "head" and l.mode == "orient")
    assert hints[head, 6] == pytest.approx(1.0)
    for j in orient & set(np.flatnonzero(hints[:, 6] > 0)):
        np.testing.assert_allclose(rot.sixd_to_matrix(hints[j, :6]), out_w[j], atol=1e-6)


def test_a_twist_hint_keeps_the_bone_of_the_positions():
    """A lower leg's hint points its bone where the positions put it (the shin swings forward)."""
    rig = load_bundled_rig("humanoid")
    sk = rig.skeleton
    m = suggest_map(sk, rig.name)
    orientation = OrientationRetarget(sk, m)
    _, positions = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
    fore, hand = sk.index("LeftLowerLeg"), sk.index("LeftFoot")
    positions = positions.copy()
    positions[hand] = positions[fore] + _turn([1, 0, 0], -50.0) @ (positions[hand] - positions[fore])
    hints = orientation.hints(positions, _pose())
    assert hints[fore, 6] == pytest.approx(1.0)
    W = rot.sixd_to_matrix(hints[fore, :6])
    bone = positions[hand] - positions[fore]
    child_offset = sk.rest_translations[hand]
    np.testing.assert_allclose(W @ child_offset / np.linalg.norm(child_offset), bone / np.linalg.norm(bone), atol=1e-6)


def test_a_non_finite_segment_turn_hints_nothing():
    """A NaN in the performer's segment turns gives that joint no hint instead of a NaN one."""
    rig = load_bundled_rig("humanoid")
    sk = rig.skeleton
    orientation = OrientationRetarget(sk, suggest_map(sk, rig.name))
    _, positions = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
    pose = _pose(head_yaw=30.0)
    pose.turns = {k: np.full_like(v, np.nan) for k, v in pose.turns.items()}
    hints = orientation.hints(positions, pose)
    assert np.isfinite(hints).all() and (hints[:, 6] == 0).all()
