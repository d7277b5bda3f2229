"""Jaw, eye and finger joints found on the bundled rigs, and the offsets moving them the right way."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.face_hands.fingers import FingerPose
from engine.face_hands.rig_targets import face_hand_offsets, find_face_hand_targets, offset_rotations
from engine.kinematics import forward_kinematics
from engine.rigs.bundled import build_rig


def world(rig, rotations):
    sk = rig.skeleton
    return forward_kinematics(sk.parents, rot.quat_to_matrix(rotations), sk.rest_translations)


@pytest.mark.parametrize("name, jaw", [("dragon", "Jaw"), ("quadruped", "Jaw"), ("bird", "LowerBeak")])
def test_the_jaw_opens_downward(name: str, jaw: str) -> None:
    rig = build_rig(name).rig
    targets = find_face_hand_targets(rig)
    assert targets.jaw is not None and rig.skeleton.names[targets.jaw.joint] == jaw
    ref = rig.reference_rotations()
    opened = offset_rotations(ref, face_hand_offsets(targets, jaw=0.4))
    r0, _ = world(rig, ref)
    r1, _ = world(rig, opened)
    j = targets.jaw.joint
    forward = r1[j] @ r0[j].T @ np.array([0.0, 0.0, 1.0])  # the jaw's forward direction after opening
    assert forward[1] == pytest.approx(-np.sin(0.4), abs=1e-6)
    changed = np.flatnonzero(np.any(np.abs(opened - ref) > 1e-12, axis=1))
    assert changed.tolist() == [j]


def test_humanoid_fingers_curl_toward_the_palm() -> None:
    rig = build_rig("humanoid").rig
    targets = find_face_hand_targets(rig)
    assert targets.jaw is None and len(targets.curl) == 30 and len(targets.spread) == 10
    ref = rig.reference_rotations()
    fist = FingerPose(np.full((5, 3), 1.2), np.zeros(5), 0.0)
    curled = offset_rotations(ref, face_hand_offsets(targets, hands={"left": fist, "right": fist}))
    _, p0 = world(rig, ref)
    _, p1 = world(rig, curled)
    names = rig.skeleton.names
    for side in ("Left", "Right"):
        hand = names.index(f"{side}Hand")
        for finger in ("Index", "Middle", "Ring", "Little"):
            tip = names.index(f"{side}{finger}Distal")
            # curled fingertips come back toward the wrist
            assert np.linalg.norm(p1[tip] - p1[hand]) < 0.75 * np.linalg.norm(p0[tip] - p0[hand])
    # the two hands mirror each other (x flips)
    l, r = names.index("LeftIndexDistal"), names.index("RightIndexDistal")
    lh, rh = names.index("LeftHand"), names.index("RightHand")
    np.testing.assert_allclose(p1[l] - p1[lh], (p1[r] - p1[rh]) * [-1, 1, 1], atol=1e-6)


def test_zero_offsets_leave_the_pose_alone() -> None:
    rig = build_rig("humanoid").rig
    targets = find_face_hand_targets(rig)
    ref = rig.reference_rotations()
    rest = FingerPose(np.zeros((5, 3)), np.zeros(5), 0.0)
    np.testing.assert_array_equal(offset_rotations(ref, face_hand_offsets(targets, hands={"left": rest})), ref)


def test_a_rig_without_face_or_hand_joints_has_no_targets() -> None:
    targets = find_face_hand_targets(build_rig("spider").rig)
    assert targets.jaw is None and not targets.eyes and not targets.has_fingers


def test_eye_joints_turn_with_the_gaze() -> None:
    """A rig with eye joints under the head: yaw turns the eyes toward the rig's left (+X), pitch up."""
    from engine.rig import Rig
    from engine.skeleton import Skeleton

    names = ("Hips", "Head", "LeftEye", "RightEye")
    skeleton = Skeleton(names, np.array([-1, 0, 1, 1]), np.array([[0, 1, 0], [0, 0.6, 0], [0.03, 0.08, 0.08], [-0.03, 0.08, 0.08]], float),
                        np.tile([0.0, 0.0, 0.0, 1.0], (4, 1)))
    rig = Rig(name="eyes", skeleton=skeleton)
    targets = find_face_hand_targets(rig)
    assert set(targets.eyes) == {"left", "right"}
    ref = rig.reference_rotations()
    turned = offset_rotations(ref, face_hand_offsets(targets, gaze={"left": (0.3, 0.0), "right": (0.0, 0.2)}))
    forward = np.array([0.0, 0.0, 1.0])
    left_look = rot.quat_apply(turned[2], forward)
    right_look = rot.quat_apply(turned[3], forward)
    assert left_look[0] == pytest.approx(np.sin(0.3)) and left_look[1] == pytest.approx(0.0, abs=1e-9)
    assert right_look[1] == pytest.approx(np.sin(0.2)) and right_look[0] == pytest.approx(0.0, abs=1e-9)


def test_a_fist_folds_the_dragons_wing_fingers_down_and_an_open_hand_leaves_them() -> None:
    """Grips from the retarget map: the left wing's fingers turn by their angle times the left
    hand's closure (a fist: 1), tips downward; the right wing's stay; the map's jaw wins."""
    from engine.face_hands.fingers import FIST_CURL_RAD, REST_FINGER_POSE, hand_closure
    from engine.retarget.face_hand_joints import FaceHandJoints, GripLink
    from engine.retarget.mapping import suggest_map

    rig = build_rig("dragon").rig
    sk = rig.skeleton
    grips = suggest_map(sk, rig.name).face_hands.grips
    targets = find_face_hand_targets(rig, FaceHandJoints(jaw="", grips=grips))
    assert targets.jaw is None  # "" = no jaw, whatever the search would find
    fist = FingerPose(np.full((5, 3), FIST_CURL_RAD), np.zeros(5), 0.0)
    half = FingerPose(np.full((5, 3), 0.5 * FIST_CURL_RAD), np.zeros(5), 0.0)
    assert hand_closure(REST_FINGER_POSE) == 0.0 and hand_closure(fist) == 1.0 and hand_closure(half) == pytest.approx(0.5)
    ref = rig.reference_rotations()
    closed = offset_rotations(ref, face_hand_offsets(targets, hands={"left": fist, "right": REST_FINGER_POSE}))
    r0, p0 = world(rig, ref)
    r1, _ = world(rig, closed)
    changed = {sk.names[j] for j in np.flatnonzero(np.any(np.abs(closed - ref) > 1e-12, axis=1))}
    assert changed == {g.joint for g in grips if g.side == "left"}
    j = sk.index("LeftWingFinger1_1")
    bone = p0[sk.index("LeftWingFinger1_2")] - p0[j]
    after = r1[j] @ r0[j].T @ bone
    angle = np.degrees(np.arccos(np.clip(after @ bone / (bone @ bone), -1.0, 1.0)))
    assert angle == pytest.approx(grips[0].angle_deg, abs=1e-6) and after[1] < bone[1]  # turned by the angle, tip down
    custom = find_face_hand_targets(rig, FaceHandJoints(grips=[GripLink("LeftWingFinger1_1", "left", 20.0)]))
    assert custom.jaw is not None  # None = found automatically
    half_closed = offset_rotations(ref, face_hand_offsets(custom, hands={"left": half}))
    r2, _ = world(rig, half_closed)
    after = r2[j] @ r0[j].T @ bone
    assert np.degrees(np.arccos(np.clip(after @ bone / (bone @ bone), -1.0, 1.0))) == pytest.approx(10.0, abs=1e-6)


def test_offsets_compose_per_joint_in_the_given_order() -> None:
    """The vectorised offsets equal applying them one by one (several on one joint, in order)."""
    from engine.face_hands.rig_targets import JointAxis

    rng = np.random.default_rng(0)
    q = rot.quat_normalize(rng.normal(size=(12, 4)))
    offsets = [(JointAxis(int(j), tuple(a / np.linalg.norm(a))), float(x))
               for j, a, x in zip(rng.integers(0, 12, 30), rng.normal(size=(30, 3)), rng.normal(size=30))]
    offsets.append((offsets[0][0], 0.0))  # a zero angle changes nothing
    expected = np.array(q)
    for target, angle in offsets:
        expected[target.joint] = rot.quat_multiply(expected[target.joint], rot.axis_angle_to_quat(np.asarray(target.axis) * angle))
    np.testing.assert_allclose(offset_rotations(q, offsets), expected, atol=1e-12)
