"""What VMC receivers rebuild from AnyRig's stream: a normalised VRM avatar, a VRM 0.x rig, CMU-31, generic rigs.

A *normalised receiver* (VSeeFace, Warudo, VNyan, UniVRM's normalised bones) owns an avatar standing
in the T-pose with identity rest rotations, bone offsets of its own, and sets each bone's local
rotation to what arrives; only the Hips take the position. The tests rebuild that avatar's world pose
from the decoded messages (python-osc's decoder, Unity's frame) with its own Unity parent chain and
compare it with the rig's forward kinematics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.rig import Rig
from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.vmc import BoneLayout, frame_messages, to_unity_position, tpose_alignment

# Unity's humanoid parents for the bones these rigs send (receiver side, written out independently).
_TRUNK = ("UpperChest", "Chest", "Spine", "Hips")


def _unity_parent(bone: str, present: set[str]) -> str | None:
    side = "Left" if bone.startswith("Left") else "Right" if bone.startswith("Right") else ""
    part = bone[len(side):]
    table = {
        "Spine": ("Hips",), "Chest": ("Spine", "Hips"), "UpperChest": ("Chest", "Spine", "Hips"), "Neck": _TRUNK,
        "Head": ("Neck",) + _TRUNK, "Shoulder": _TRUNK, "UpperArm": (side + "Shoulder",) + _TRUNK,
        "LowerArm": (side + "UpperArm",), "Hand": (side + "LowerArm",), "UpperLeg": ("Hips",),
        "LowerLeg": (side + "UpperLeg",), "Foot": (side + "LowerLeg",), "Toes": (side + "Foot",), "Eye": ("Head",), "Jaw": ("Head",),
    }  # fmt: skip
    for finger in ("Thumb", "Index", "Middle", "Ring", "Little"):
        for seg, up in (("Proximal", side + "Hand"), ("Intermediate", f"{side}{finger}Proximal"), ("Distal", f"{side}{finger}Intermediate")):
            table[finger + seg] = (up,)
    return next((p for p in table.get(part if side else bone, ()) if p in present), None)


def rebuild_normalised(messages: list[bytes], tpose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """World positions (Unity frame) of a normalised receiver's bones after applying one frame.

    ``tpose``: the receiver avatar's T-pose world positions (Unity frame) per bone name.
    """
    decoded = [OscMessage(m) for m in messages]
    root = next(m for m in decoded if m.address == "/VMC/Ext/Root/Pos").params
    bones = {m.params[0]: m.params[1:] for m in decoded if m.address == "/VMC/Ext/Bone/Pos"}
    present = set(bones)
    world_r: dict[str, np.ndarray] = {}
    world_p: dict[str, np.ndarray] = {}

    def solve(name: str) -> None:
        if name in world_r:
            return
        q = np.array(bones[name][3:7], dtype=np.float64)
        parent = _unity_parent(name, present)
        if parent is None:  # the Hips: root position plus the bone's local position
            world_r[name] = rot.quat_to_matrix(q)
            world_p[name] = np.array(root[1:4]) + np.array(bones[name][0:3])
            return
        solve(parent)
        world_r[name] = world_r[parent] @ rot.quat_to_matrix(q)
        world_p[name] = world_p[parent] + world_r[parent] @ (tpose[name] - tpose[parent])  # its own offsets

    for name in bones:
        solve(name)
    return world_p


def _tpose_unity(rig: Rig, layout: BoneLayout) -> dict[str, np.ndarray]:
    G = tpose_alignment(rig.skeleton, {u: rig.skeleton.index(j) for u, j in rig.humanoid.items()})
    rest = rig.skeleton.rest_positions() @ G.T
    return {name: to_unity_position(rest[j]) for name, j in zip(layout.names, layout.joints)}


def _pose(rig: Rig, frame: int) -> PoseResult:
    clip = rig.clips[0]
    rots = clip.rotations[frame]
    pos = clip.positions(rig.skeleton)[frame]
    return PoseResult(rots, clip.translations[frame, 0], pos, t_capture_ns=frame, index=frame)


def _layout(rig: Rig, **kw) -> BoneLayout:
    return BoneLayout.humanoid(rig.skeleton, {j: u for u, j in rig.humanoid.items()}, **kw)


def test_normalised_stream_rebuilds_the_bundled_humanoid_on_a_t_pose_avatar() -> None:
    """Every frame of every clip: the receiver's bones land on the rig's joints (Unity frame)."""
    from engine.rigs.bundled import build_rig

    rig = build_rig("humanoid").rig
    layout = _layout(rig)
    tpose = _tpose_unity(rig, layout)
    rest = PoseResult(rig.skeleton.rest_rotations, rig.skeleton.rest_translations[0], rig.skeleton.rest_positions(), 0, 0)
    _, quats, _ = layout.local_transforms(rest)
    np.testing.assert_allclose(np.abs(quats[:, 3]), 1.0, atol=1e-9)  # T-pose: identity for all 52 bones
    worst = 0.0
    for clip in rig.clips:
        rig_c = Rig(rig.name, rig.skeleton, [clip], humanoid=rig.humanoid)
        for frame in range(0, clip.num_frames, 7):
            result = _pose(rig_c, frame)
            got = rebuild_normalised(frame_messages(layout, result, 0.0), tpose)
            for name, j in zip(layout.names, layout.joints):
                worst = max(worst, float(np.linalg.norm(got[name] - to_unity_position(result.positions[j]))))
    assert worst < 1e-5 * rig.skeleton.height, worst


def test_raw_stream_on_a_t_pose_avatar_puts_the_feet_in_the_air() -> None:
    """The raw convention (the rig's rest rotations included) is not for normalised receivers."""
    from engine.rigs.bundled import build_rig

    rig = build_rig("humanoid").rig
    layout = _layout(rig, normalized=False)
    result = _pose(rig, 0)
    got = rebuild_normalised(frame_messages(layout, result, 0.0), _tpose_unity(rig, layout))
    foot = layout.names.index("LeftFoot")
    assert np.linalg.norm(got["LeftFoot"] - to_unity_position(result.positions[layout.joints[foot]])) > 0.3 * rig.skeleton.height


def _vrm_twins() -> tuple[Rig, Rig]:
    """The same avatar loaded from a VRM 0.x file (faces -Z, turned at load) and from a VRM 1.0 file."""
    from engine.formats.gltf import read_gltf
    from engine.formats.gltf_write import glb_bytes
    from tests.engine.formats.test_vrm import _rig, _with_extensions

    def load(facing: float, ext: dict) -> Rig:
        rig = _rig(facing)
        clip = rig.clips[0]  # the arm swings about the file's Z: the turned twin swings about -Z
        clip.rotations[:, 4] = rot.axis_angle_to_quat(np.linspace(0, 1, clip.num_frames)[:, None] * np.array([0, 0, facing]))
        return read_gltf("avatar.vrm", data=_with_extensions(glb_bytes(rig), ext))

    bones0 = [{"bone": "hips", "node": 0}, {"bone": "spine", "node": 1}, {"bone": "head", "node": 2},
              {"bone": "leftUpperArm", "node": 4}, {"bone": "leftHand", "node": 5}]  # fmt: skip
    bones1 = {"hips": {"node": 0}, "spine": {"node": 1}, "head": {"node": 2}, "leftUpperArm": {"node": 4}, "leftHand": {"node": 5}}
    vrm0 = load(-1.0, {"VRM": {"specVersion": "0.0", "humanoid": {"humanBones": bones0}}})
    vrm1 = load(1.0, {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": bones1}}})
    return vrm0, vrm1


@pytest.mark.parametrize("normalized", [True, False])
def test_vrm0_streams_facing_forward_like_its_vrm1_twin(normalized: bool) -> None:
    """Item 1 of issue 15: a VRM 0.x rig's Hips are not sent turned 180 degrees."""
    vrm0, vrm1 = _vrm_twins()
    assert vrm0.source.turned_y_deg == 180.0 and vrm1.source.turned_y_deg == 0.0
    for frame in range(vrm0.clips[0].num_frames):
        sent = []
        for rig in (vrm0, vrm1):
            turn = rot.axis_angle_to_quat(np.array([0.0, np.radians(rig.source.turned_y_deg), 0.0]))
            layout = _layout(rig, normalized=normalized, facing_turn=turn)
            pos, quats, root = layout.local_transforms(_pose(rig, frame))
            sent.append((pos, rot.quat_to_matrix(quats), root))
            if frame == 0:
                np.testing.assert_allclose(rot.quat_to_matrix(quats[0]), np.eye(3), atol=1e-6)  # Hips: identity at rest
        for a, b in zip(*sent):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_cmu31_shoulders_are_sent_relative_to_upper_chest(shared_data: Path) -> None:
    """Item 4: the CMU-31 map keeps Unity's parent chain: a normalised receiver's arms and legs land
    exactly on the rig's; only Neck and Head move, by the unsent ``lowerneck``'s rotation (CMU has two
    neck joints, Unity one): at most 3.5% of height on this clip."""
    from engine.formats.rigio import load_rig
    from engine.retarget.humanoid_names import find_humanoid_bones

    path = shared_data / "animated_drawings/cmu1/jumping_jacks.bvh"
    if not path.is_file():
        pytest.skip("CMU-31 absent")
    rig = load_rig(path)
    rig.humanoid = find_humanoid_bones(rig.skeleton).bones
    layout = _layout(rig)
    up = {layout.names[b]: layout.names[p] for b, p in enumerate(layout.unity_parents) if p >= 0}
    assert up["LeftShoulder"] == "UpperChest" and up["Neck"] == "UpperChest" and rig.humanoid["UpperChest"] == "Chest2"
    tpose = _tpose_unity(rig, layout)
    worst = {"neck": 0.0, "rest": 0.0}
    for frame in range(0, rig.clips[0].num_frames, 10):
        result = _pose(rig, frame)
        got = rebuild_normalised(frame_messages(layout, result, 0.0), tpose)
        for name, j in zip(layout.names, layout.joints):
            key = "neck" if name in ("Neck", "Head") else "rest"
            worst[key] = max(worst[key], float(np.linalg.norm(got[name] - to_unity_position(result.positions[j]))) / rig.skeleton.height)
    assert worst["rest"] < 1e-6 and worst["neck"] < 0.035, worst


def test_normalised_stream_of_a_rig_lying_along_x() -> None:
    """A rest pose that is not upright (BVH offsets along +X) is turned into the T-pose frame first."""
    names = ("Hips", "Spine", "Head", "LeftUpperLeg", "LeftLowerLeg", "RightUpperLeg", "RightLowerLeg")
    parents = np.array([-1, 0, 1, 0, 3, 0, 5])
    upright = np.array([[0, 1, 0], [0, 0.3, 0], [0, 0.3, 0], [0.1, 0, 0], [0, -0.5, 0], [-0.1, 0, 0], [0, -0.5, 0]], dtype=float)
    lying = upright[:, [1, 0, 2]] * [1.0, -1.0, 1.0]  # up -> +X
    sk = Skeleton(names, parents, lying, np.tile([0.0, 0, 0, 1], (7, 1)))
    G = tpose_alignment(sk, {n: i for i, n in enumerate(names)})
    np.testing.assert_allclose(sk.rest_positions() @ G.T, Skeleton(names, parents, upright, sk.rest_rotations).rest_positions(), atol=1e-12)
    rig = Rig("lying", sk, [], humanoid={n: n for n in names})
    layout = _layout(rig)
    rng = np.random.default_rng(0)
    rots = rot.quat_normalize(rng.normal(size=(7, 4)))
    _, pos = forward_kinematics(parents, rot.quat_to_matrix(rots), lying)
    result = PoseResult(rots, lying[0], pos, 0, 0)
    got = rebuild_normalised(frame_messages(layout, result, 0.0), _tpose_unity(rig, layout))
    for name, j in zip(layout.names, layout.joints):
        np.testing.assert_allclose(got[name], to_unity_position(pos[j]), atol=1e-9)


def test_generic_stream_carries_v21_root_scale_and_prefixed_names() -> None:
    from engine.rigs.bundled import build_rig

    dragon = build_rig("dragon").rig
    layout = BoneLayout.generic(dragon.skeleton)
    clip = dragon.clips[0]
    result = PoseResult(clip.rotations[0], clip.translations[0, 0], clip.positions(dragon.skeleton)[0], 0, 0)
    msgs = [OscMessage(m) for m in frame_messages(layout, result, 0.0)]
    root = next(m for m in msgs if m.address == "/VMC/Ext/Root/Pos")
    assert len(root.params) == 14 and root.params[8:] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    names = [m.params[0] for m in msgs if m.address == "/VMC/Ext/Bone/Pos"]
    assert len(names) == dragon.skeleton.num_joints and all(n.startswith("anyrig:") for n in names)
    assert {"Chest", "Head", "Jaw"} & set(dragon.skeleton.names)  # why the prefix is on by default
    custom = BoneLayout.generic(dragon.skeleton, prefix="dragon:")
    assert custom.names[0] == "dragon:" + dragon.skeleton.names[0]
