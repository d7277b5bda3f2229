"""VMC messages: exact bytes, the Unity conversion, and bone layouts checked against kinematics."""

from __future__ import annotations

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.vmc import (
    HUMAN_BODY_BONES,
    VMC_PORT,
    BoneLayout,
    encode_bone_pos,
    encode_ok,
    encode_root_pos,
    encode_time,
    frame_messages,
    guess_humanoid_map,
    to_unity_position,
    to_unity_rotation,
)

MIRROR = np.diag([-1.0, 1.0, 1.0])


def humanoid_skeleton() -> Skeleton:
    """Hips -> spine_twist (no Unity name) -> Spine -> Chest -> Neck -> Head, Chest -> LeftUpperArm
    -> LeftLowerArm, and a tail (no Unity name) under Hips."""
    names = ("Hips", "spine_twist", "Spine", "Chest", "Neck", "Head", "LeftUpperArm", "LeftLowerArm", "tail")
    parents = np.array([-1, 0, 1, 2, 3, 4, 3, 6, 0])
    rng = np.random.default_rng(0)
    trans = rng.normal(scale=0.1, size=(9, 3)) + [0, 0.15, 0]
    trans[0] = [0.0, 0.95, 0.0]
    rest = rot.quat_normalize(rng.normal(size=(9, 4)))  # non-identity rest rotations, as in glTF rigs
    return Skeleton(names, parents, trans, rest)


def random_result(sk: Skeleton, rng: np.random.Generator, index: int = 0) -> PoseResult:
    rots = rot.quat_normalize(rng.normal(size=(sk.num_joints, 4)))
    root = sk.rest_translations[0] + rng.normal(scale=0.2, size=3)
    trans = np.array(sk.rest_translations)
    trans[0] = root
    _, pos = forward_kinematics(sk.parents, rot.quat_to_matrix(rots), trans)
    return PoseResult(rots, root, pos, t_capture_ns=10**9 + index * 33_333_333, index=index)


def test_port_and_bone_names() -> None:
    assert VMC_PORT == 39539
    assert len(HUMAN_BODY_BONES) == 55 and HUMAN_BODY_BONES[0] == "Hips" and HUMAN_BODY_BONES[-1] == "UpperChest"


def test_unity_conversion_is_the_x_mirror() -> None:
    np.testing.assert_array_equal(to_unity_position([1.0, 2.0, 3.0]), [-1.0, 2.0, 3.0])
    np.testing.assert_array_equal(to_unity_rotation([0.1, 0.2, 0.3, 0.9]), [0.1, -0.2, -0.3, 0.9])
    rng = np.random.default_rng(1)
    q = rot.quat_normalize(rng.normal(size=(100, 4)))
    v = rng.normal(size=(100, 3))
    # The converted rotation is M R M, and it maps mirrored vectors to mirrored rotated vectors.
    np.testing.assert_allclose(rot.quat_to_matrix(to_unity_rotation(q)), MIRROR @ rot.quat_to_matrix(q) @ MIRROR, atol=1e-12)
    np.testing.assert_allclose(rot.quat_apply(to_unity_rotation(q), to_unity_position(v)), to_unity_position(rot.quat_apply(q, v)), atol=1e-12)
    np.testing.assert_array_equal(to_unity_rotation(to_unity_rotation(q)), q)  # its own inverse
    # A positive turn about +Y (right-handed: +Z towards +X) is a negative turn about +Y in Unity.
    turn = rot.axis_angle_to_quat(np.array([0.0, 0.5, 0.0]))
    np.testing.assert_allclose(rot.quat_to_axis_angle(to_unity_rotation(turn)), [0.0, -0.5, 0.0], atol=1e-12)
    assert str(to_unity_position([0.0, 0.0, 0.0])[0]) == "0.0"  # no -0.0 on the wire


ENCODED = [
    (encode_ok(), b"/VMC/Ext/OK\x00,i\x00\x00\x00\x00\x00\x01"),
    (encode_ok(1, 3, 0), b"/VMC/Ext/OK\x00,iii\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00"),
    (
        encode_ok(1, 3, 0, 1),
        b"/VMC/Ext/OK\x00,iiii\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x01",
    ),
    (encode_time(2.0), b"/VMC/Ext/T\x00\x00,f\x00\x00\x40\x00\x00\x00"),
    (
        encode_root_pos((0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)),
        b"/VMC/Ext/Root/Pos\x00\x00\x00,sfffffff\x00\x00\x00root\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x3f\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x3f\x80\x00\x00",
    ),
    (
        encode_bone_pos("Hips", (-0.5, 1.0, 2.0), (0.0, 0.0, 0.0, 1.0)),
        b"/VMC/Ext/Bone/Pos\x00\x00\x00,sfffffff\x00\x00\x00Hips\x00\x00\x00\x00"
        b"\xbf\x00\x00\x00\x3f\x80\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x3f\x80\x00\x00",
    ),
]


@pytest.mark.parametrize("encoded, expected", ENCODED)
def test_encoders_match_byte_literals(encoded: bytes, expected: bytes) -> None:
    assert encoded == expected


def test_humanoid_layout_composes_unmapped_joints_and_matches_kinematics() -> None:
    sk = humanoid_skeleton()
    layout = BoneLayout.humanoid(sk, normalized=False)
    assert layout.names == ("Hips", "Spine", "Chest", "Neck", "Head", "LeftUpperArm", "LeftLowerArm")
    assert layout.convention == "raw"
    rng = np.random.default_rng(2)
    for k in range(5):
        r = random_result(sk, rng, k)
        trans = np.array(sk.rest_translations)
        trans[0] = r.root_translation
        W, P = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), trans)
        pos, quats, root = layout.local_transforms(r)
        np.testing.assert_allclose(root, r.root_translation - sk.rest_translations[0], atol=1e-12)
        # Spine carries spine_twist's rotation; the arm's Unity parent (no Shoulder, no UpperChest) is Chest.
        anchors = {"Hips": None, "Spine": 0, "Chest": 2, "Neck": 3, "Head": 4, "LeftUpperArm": 3, "LeftLowerArm": 6}
        for b, name in enumerate(layout.names):
            j = sk.index(name)
            a = anchors[name]
            if a is None:  # the root bone: world rotation, rest offset (its motion goes to Root/Pos)
                want_r, want_p = W[j], P[j] - root
            else:
                want_r, want_p = W[a].T @ W[j], W[a].T @ (P[j] - P[a])
            np.testing.assert_allclose(rot.quat_to_matrix(quats[b]), want_r, atol=1e-9)
            np.testing.assert_allclose(pos[b], want_p, atol=1e-9)


def test_generic_layout_sends_every_joint_under_its_own_name() -> None:
    sk = humanoid_skeleton()
    layout = BoneLayout.generic(sk)
    assert layout.names == tuple("anyrig:" + n for n in sk.names)  # "Hips", "Chest"... collide with Unity's names
    assert BoneLayout.generic(sk, prefix="").names == sk.names
    r = random_result(sk, np.random.default_rng(3))
    pos, quats, root = layout.local_transforms(r)
    np.testing.assert_array_equal(quats, r.rotations)
    np.testing.assert_array_equal(pos, sk.rest_translations)
    names_only = BoneLayout.generic(list(sk.names))
    pos, quats, root = names_only.local_transforms(r)
    np.testing.assert_array_equal(pos, 0.0)
    np.testing.assert_array_equal(root, r.root_translation)


def test_humanoid_map_guess_and_errors() -> None:
    assert guess_humanoid_map(["mixamorig:Hips", "mixamorig:Spine", "hips", "tail"]) == {"mixamorig:Hips": "Hips", "mixamorig:Spine": "Spine"}
    sk = humanoid_skeleton()
    layout = BoneLayout.humanoid(sk, {"Hips": "Hips", "tail": "Jaw"})
    assert layout.names == ("Hips", "Jaw")
    with pytest.raises(ValueError, match="not Unity HumanBodyBones names: \\['Tail'\\]"):
        BoneLayout.humanoid(sk, {"tail": "Tail"})
    with pytest.raises(ValueError, match="does not have: \\['wing'\\]"):
        BoneLayout.humanoid(sk, {"wing": "LeftHand"})
    with pytest.raises(ValueError, match="same Unity bone"):
        BoneLayout.humanoid(sk, {"Hips": "Hips", "tail": "Hips"})
    with pytest.raises(ValueError, match="no joint"):
        BoneLayout.humanoid(["a", "b"])


def test_frame_messages_order_and_values() -> None:
    sk = humanoid_skeleton()
    layout = BoneLayout.humanoid(sk)
    r = random_result(sk, np.random.default_rng(4))
    msgs = [OscMessage(m) for m in frame_messages(layout, r, time_s=1.5)]
    assert [m.address for m in msgs[:3]] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos"]
    assert msgs[0].params == [1] and msgs[1].params == [1.5]
    bones = msgs[3:]
    assert [m.params[0] for m in bones] == list(layout.names)
    pos, quats, root = layout.local_transforms(r)
    np.testing.assert_allclose(msgs[2].params[1:4], to_unity_position(root), atol=1e-6)
    for m, p, q in zip(bones, pos, quats):
        assert m.address == "/VMC/Ext/Bone/Pos" and len(m.params) == 8
        np.testing.assert_allclose(m.params[1:4], to_unity_position(p), atol=1e-6)
        np.testing.assert_allclose(m.params[4:], to_unity_rotation(q), atol=1e-6)
    raw = frame_messages(layout, r, time_s=1.5)[3:]  # the packed path equals the one-bone encoder
    assert raw == [encode_bone_pos(n, to_unity_position(p), to_unity_rotation(q)) for n, p, q in zip(layout.names, pos, quats)]
    small = PoseResult(np.tile([0, 0, 0, 1.0], (2, 1)), np.zeros(3), np.zeros((2, 3)), 0, 0)
    with pytest.raises(ValueError, match="pose has 2 joints"):
        frame_messages(layout, small, 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_random_trees_with_random_mapped_subsets_match_kinematics(seed: int) -> None:
    """Any tree, any subset of joints sent (raw): every sent bone is its transform relative to its
    Unity parent, whether or not that is its ancestor in the rig (world for none, with joint 0's
    displacement taken out)."""
    rng = np.random.default_rng(100 + seed)
    J = 30
    parents = np.array([-1] + [int(rng.integers(0, j)) for j in range(1, J)])
    names = tuple(f"j{j}" for j in range(J))
    sk = Skeleton(names, parents, rng.normal(size=(J, 3)), rot.quat_normalize(rng.normal(size=(J, 4))))
    sent = sorted(rng.choice(J, size=12, replace=False).tolist())
    layout = BoneLayout.humanoid(sk, {names[j]: HUMAN_BODY_BONES[i] for i, j in enumerate(sent)}, normalized=False)
    r = random_result(sk, rng)
    trans = np.array(sk.rest_translations)
    trans[0] = r.root_translation
    W, P = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), trans)
    pos, quats, root = layout.local_transforms(r)
    for b, j in enumerate(sent):
        up = int(layout.unity_parents[b])  # the Unity parent when mapped, else the nearest sent ancestor
        a = sent[up] if up >= 0 else -1
        if a < 0:
            want_r, want_p = W[j], P[j] - root
        else:
            want_r, want_p = W[a].T @ W[j], W[a].T @ (P[j] - P[a])
        np.testing.assert_allclose(rot.quat_to_matrix(quats[b]), want_r, atol=1e-9)
        np.testing.assert_allclose(pos[b], want_p, atol=1e-9)
