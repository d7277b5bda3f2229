"""Tests for engine.formats.vrm and engine.humanoid_bones with small synthetic VRM 0.x and 1.0 files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from engine import rotations as rot
from engine.formats.gltf import read_gltf
from engine.formats.gltf_write import glb_bytes
from engine.humanoid_bones import HUMAN_BODY_BONES, UNITY_FROM_VRM0, UNITY_FROM_VRM1, VRM0_FROM_UNITY, VRM1_FROM_UNITY
from engine.rig import Clip, Rig
from engine.skeleton import Skeleton

NAMES = ("J_Hips", "J_Spine", "J_Head", "J_Nose", "J_L_Arm", "J_L_Hand", "J_L_Thumb1", "J_L_Thumb2", "J_L_Thumb3")
PARENTS = [-1, 0, 1, 2, 1, 4, 5, 6, 7]


def _rig(facing: float) -> Rig:
    """A tiny humanoid facing ``facing * Z``: nose in front, left arm on the character's left."""
    left = facing  # facing +Z the character's left is +X; facing -Z it is -X
    trans = np.array([[0, 1, 0], [0, 0.3, 0], [0, 0.4, 0], [0, 0, 0.1 * facing], [0.2 * left, 0.2, 0], [0.5 * left, 0, 0],
                      [0.03 * left, 0, 0.03 * facing], [0.03 * left, 0, 0], [0.02 * left, 0, 0]])  # fmt: skip
    sk = Skeleton(NAMES, np.array(PARENTS), trans, np.tile([0.0, 0, 0, 1], (9, 1)))
    T = 5
    rots = np.tile([0.0, 0, 0, 1], (T, 9, 1))
    rots[:, 4] = rot.axis_angle_to_quat(np.linspace(0, 1, T)[:, None] * np.array([0, 0, 1.0]))
    tr = np.broadcast_to(trans, (T, 9, 3)).copy()
    tr[:, 0, 2] += np.linspace(0, 1, T) * facing  # walks forward
    return Rig("avatar", sk, [Clip("walk", 30.0, rots, tr)])


def _with_extensions(glb: bytes, extensions: dict) -> bytes:
    """Rewrite a GLB's JSON chunk with ``extensions`` added at the top level."""
    (json_len,) = struct.unpack_from("<I", glb, 12)
    doc = json.loads(glb[20 : 20 + json_len])
    doc["extensions"] = extensions
    doc["extensionsUsed"] = sorted(extensions)
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    rest = glb[20 + json_len :]
    body = struct.pack("<II", len(js), 0x4E4F534A) + js + rest
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def test_unity_bone_table():
    assert len(HUMAN_BODY_BONES) == 55 and len(set(HUMAN_BODY_BONES)) == 55
    assert HUMAN_BODY_BONES[0] == "Hips" and HUMAN_BODY_BONES[24] == "LeftThumbProximal" and HUMAN_BODY_BONES[-1] == "UpperChest"
    assert VRM0_FROM_UNITY["LeftUpperArm"] == "leftUpperArm" == VRM1_FROM_UNITY["LeftUpperArm"]
    # VRM 1.0 renamed the thumb segments; VRM 0.x and VMC keep Unity's.
    assert VRM0_FROM_UNITY["LeftThumbProximal"] == "leftThumbProximal"
    assert VRM1_FROM_UNITY["LeftThumbProximal"] == "leftThumbMetacarpal"
    assert VRM1_FROM_UNITY["RightThumbIntermediate"] == "rightThumbProximal"
    assert VRM1_FROM_UNITY["RightThumbDistal"] == "rightThumbDistal"
    assert "leftThumbIntermediate" not in UNITY_FROM_VRM1 and "leftThumbMetacarpal" not in UNITY_FROM_VRM0
    assert all(UNITY_FROM_VRM1[v] == u for u, v in VRM1_FROM_UNITY.items())


def test_vrm0_humanoid_map_and_turn_to_face_plus_z():
    rig = _rig(facing=-1.0)
    bones = [{"bone": "hips", "node": 0}, {"bone": "spine", "node": 1}, {"bone": "head", "node": 2},
             {"bone": "leftUpperArm", "node": 4}, {"bone": "leftHand", "node": 5},
             {"bone": "leftThumbProximal", "node": 6}, {"bone": "leftThumbIntermediate", "node": 7},
             {"bone": "leftThumbDistal", "node": 8}, {"bone": "tail", "node": 3}, {"bone": "jaw", "node": 99}]  # fmt: skip
    data = _with_extensions(glb_bytes(rig), {"VRM": {"specVersion": "0.0", "humanoid": {"humanBones": bones}}})
    vrm = read_gltf("avatar.vrm", data=data)
    assert vrm.source.format == "vrm"
    assert vrm.humanoid == {
        "Hips": "J_Hips", "Spine": "J_Spine", "Head": "J_Head", "LeftUpperArm": "J_L_Arm", "LeftHand": "J_L_Hand",
        "LeftThumbProximal": "J_L_Thumb1", "LeftThumbIntermediate": "J_L_Thumb2", "LeftThumbDistal": "J_L_Thumb3",
    }  # fmt: skip
    notes = " | ".join(vrm.source.notes)
    assert "unknown humanoid bone 'tail'" in notes and "'jaw' points at node 99" in notes
    assert "turned 180 degrees about Y" in notes
    # Now it faces +Z: nose in front of the head, the left arm on +X, walking towards +Z.
    pos = vrm.skeleton.rest_positions()
    assert pos[3, 2] > pos[2, 2] and pos[5, 0] > 0.5
    turn = np.diag([-1.0, 1.0, -1.0])
    np.testing.assert_allclose(pos, rig.skeleton.rest_positions() @ turn, atol=1e-6)
    np.testing.assert_allclose(vrm.clips[0].positions(vrm.skeleton), rig.clips[0].positions(rig.skeleton) @ turn, atol=1e-6)
    assert vrm.clips[0].positions(vrm.skeleton)[-1, 0, 2] > 0.9


def test_vrm1_humanoid_map_keeps_facing():
    rig = _rig(facing=1.0)
    bones = {"hips": {"node": 0}, "head": {"node": 2}, "leftHand": {"node": 5},
             "leftThumbMetacarpal": {"node": 6}, "leftThumbProximal": {"node": 7}, "leftThumbDistal": {"node": 8}}  # fmt: skip
    data = _with_extensions(glb_bytes(rig), {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": bones}}})
    vrm = read_gltf("avatar.glb", data=data)
    assert vrm.source.format == "vrm"
    assert vrm.humanoid == {
        "Hips": "J_Hips", "Head": "J_Head", "LeftHand": "J_L_Hand",
        "LeftThumbProximal": "J_L_Thumb1", "LeftThumbIntermediate": "J_L_Thumb2", "LeftThumbDistal": "J_L_Thumb3",
    }  # fmt: skip
    assert not any("turned" in n for n in vrm.source.notes)
    np.testing.assert_allclose(vrm.skeleton.rest_positions(), rig.skeleton.rest_positions(), atol=1e-6)


@pytest.mark.parametrize("ext", [{"VRM": {"humanoid": {"humanBones": "nope"}}}, {"VRMC_vrm": {"humanoid": []}}, {"VRMC_vrm": {}}])
def test_malformed_humanoid_section_loads_without_map(ext):
    vrm = read_gltf("a.vrm", data=_with_extensions(glb_bytes(_rig(1.0)), ext))
    assert vrm.humanoid == {} and any("no humanoid map" in n for n in vrm.source.notes)


def test_plain_glb_has_no_humanoid_map():
    rig = read_gltf("a.glb", data=glb_bytes(_rig(1.0)))
    assert rig.humanoid == {} and rig.source.format == "glb"


@pytest.mark.parametrize("version", [0, 1])
def test_vrm_expressions_bind_presets_to_the_meshs_morph_targets(version: int, tmp_path) -> None:
    """VRM 0 blendShapeGroups (weights 0-100) and VRM 1 expression presets (0-1, by node) read as
    VRM 0 preset -> (target, weight); the face then drives targets whose names match nothing."""
    import dataclasses

    from engine.face_hands.expressions import vrm0_expressions
    from engine.face_hands.morph_targets import morph_target_weights
    from engine.perception.face_landmarker import BLENDSHAPE_NAMES
    from engine.rigs.bundled import build_rig

    base = build_rig("humanoid").rig
    V = len(base.mesh.positions)
    names = ("MouthWide", "LidsDownLeft", "LidsDownRight", "Smirk")
    mesh = dataclasses.replace(base.mesh, morph_names=names, morph_deltas=np.zeros((4, V, 3), np.float32))
    glb = glb_bytes(dataclasses.replace(base, mesh=mesh, clips=[]))
    (json_len,) = struct.unpack_from("<I", glb, 12)
    doc = json.loads(glb[20:20 + json_len])
    mesh_node = next(i for i, n in enumerate(doc["nodes"]) if "mesh" in n)
    if version == 0:
        groups = [{"name": "A", "presetName": "a", "binds": [{"mesh": 0, "index": 0, "weight": 100}]},
                  {"name": "Blink", "presetName": "blink", "binds": [{"mesh": 0, "index": 1, "weight": 100}, {"mesh": 0, "index": 2, "weight": 50}]},
                  {"name": "Neutral", "presetName": "neutral", "binds": [{"mesh": 0, "index": 3, "weight": 100}]},
                  {"name": "Bad", "presetName": "joy", "binds": [{"mesh": 7, "index": 0, "weight": 100}]}]
        ext = {"VRM": {"specVersion": "0.0", "humanoid": {"humanBones": []}, "blendShapeMaster": {"blendShapeGroups": groups}}}
    else:
        preset = {"aa": {"morphTargetBinds": [{"node": mesh_node, "index": 0, "weight": 1.0}]},
                  "blink": {"morphTargetBinds": [{"node": mesh_node, "index": 1, "weight": 1.0}, {"node": mesh_node, "index": 2, "weight": 0.5}]},
                  "neutral": {"morphTargetBinds": [{"node": mesh_node, "index": 3, "weight": 1.0}]},
                  "happy": {"morphTargetBinds": [{"node": 999, "index": 0, "weight": 1.0}]}}
        ext = {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": {}}, "expressions": {"preset": preset}}}
    rig = read_gltf("avatar.vrm", data=_with_extensions(glb, ext))
    assert rig.mesh.morph_names == names
    assert rig.mesh.expressions == {"A": (("MouthWide", 1.0),), "Blink": (("LidsDownLeft", 1.0), ("LidsDownRight", 0.5))}
    face = np.zeros((2, len(BLENDSHAPE_NAMES)))
    face[1, BLENDSHAPE_NAMES.index("jawOpen")] = 0.5
    face[1, [BLENDSHAPE_NAMES.index("eyeBlinkLeft"), BLENDSHAPE_NAMES.index("eyeBlinkRight")]] = [0.9, 0.6]
    w = morph_target_weights(face, rig.mesh.morph_names, rig.mesh.expressions)
    assert np.all(w[0] == 0.0)
    np.testing.assert_allclose(w[1], [vrm0_expressions(face[1])["A"], 0.6, 0.3, 0.0])  # Blink = the lesser blink
