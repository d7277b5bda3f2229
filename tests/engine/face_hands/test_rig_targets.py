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
