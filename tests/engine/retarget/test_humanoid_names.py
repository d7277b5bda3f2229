"""Humanoid bone mapping by name on every human skeleton in the shared data and the bundled humanoid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.retarget.humanoid_names import MAIN_BONES, find_humanoid_bones, split_side
from engine.skeleton import Skeleton

def _human_files() -> list[str]:
    """Every BVH/GLB file the shared manifest lists as human (empty when the data is absent)."""
    import csv

    from tests.conftest import shared_dir

    manifest = shared_dir() / "data" / "manifest.csv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("category") == "human" and r["file"].endswith(".bvh")]
    return sorted(r["file"] for r in rows)


HUMAN_FILES = _human_files() or ["animated_drawings/cmu1/jumping_jacks.bvh"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mixamorig:LeftForeArm", ("Left", "forearm")),
        ("upperarm_r", ("Right", "upperarm")),
        ("lShldr", ("Left", "shldr")),
        ("DEF-upper_arm.L.001", ("Left", "upperarm")),
        ("CC_Base_R_Calf", ("Right", "calf")),
        ("J_Bip_L_UpperArm", ("Left", "upperarm")),
        ("leftUpperArm", ("Left", "upperarm")),
        ("LHipJoint", ("Left", "hipjoint")),
        ("UpperArmL", ("Left", "upperarm")),
        ("LowerBack", (None, "lowerback")),
        ("spine_01", (None, "spine01")),
    ],
)
def test_split_side(name: str, expected: tuple) -> None:
    assert split_side(name) == expected


@pytest.mark.parametrize("rel", sorted(HUMAN_FILES))
def test_every_shared_human_skeleton_maps_fully(shared_data: Path, rel: str) -> None:
    from engine.formats.rigio import load_rig

    path = shared_data / rel
    if not path.is_file():
        pytest.skip(f"{rel} absent")
    rig = load_rig(path)
    match = find_humanoid_bones(rig.skeleton)
    assert match.missing == [] and match.coverage == 1.0, (rel, match.bones)
    assert match.issues == [], (rel, match.issues)
    sk = rig.skeleton
    pos = rig.clips[0].positions(sk)[::10] if rig.clips else sk.rest_positions()[None]  # (T, J, 3)
    p = {role: pos[:, sk.index(name)] for role, name in match.bones.items()}
    # Same-side limbs are closer to each other than to the other side's (left is left) in most frames.
    d = lambda a, b: np.linalg.norm(p[a] - p[b], axis=-1)  # noqa: E731
    assert np.mean(d("LeftUpperLeg", "LeftUpperArm") < d("LeftUpperLeg", "RightUpperArm")) > 0.5
    assert np.mean(d("RightUpperLeg", "RightUpperArm") < d("RightUpperLeg", "LeftUpperArm")) > 0.5


def test_glb_humanoids(shared_data: Path) -> None:
    """RobotExpressive's feet hang off the root (IK rig): a humanoid, the IK feet noted, fingers found beside the palm."""
    from engine.formats.rigio import load_rig

    path = shared_data / "misc_gltf/RobotExpressive.glb"
    if not path.is_file():
        pytest.skip("RobotExpressive absent")
    match = find_humanoid_bones(load_rig(path).skeleton)
    assert match.coverage == 1.0 and match.bones["LeftUpperArm"] == "UpperArmL" and match.bones["Hips"] == "Body"
    assert match.is_humanoid and any("LeftFoot" in n and "IK control" in n for n in match.notes)
    assert match.bones["LeftIndexProximal"] == "IndexL" and match.bones["RightThumbIntermediate"] == "Thumb2R"


# The human rigs of ../shared/data the issue named as missed (issue 15): Rokoko, LAFAN1, iClone CC,
# RobotExpressive, a Quaternius biped; with how many finger bones each must get.
_RECOGNISED = [
    ("animated_drawings/rokoko/jesse_dance.bvh", 30),
    ("pan_retargeting/lafan1/Lafan1_example.bvh", 0),
    ("iclone_cmu/002_01.bvh", 30),
    ("iclone_cmu/005_01.bvh", 30),
    ("misc_gltf/RobotExpressive.glb", 16),
    ("quaternius_monsters/Bunny.glb", 22),
    ("ganimator/mixamo_joe/Baseball-Milling-Idle.bvh", 30),
    ("ganimator/mixamo_malcolm/Gangnam-Style.bvh", 30),
]


@pytest.mark.parametrize(("rel", "fingers"), _RECOGNISED)
def test_named_human_rigs_are_humanoids_with_fingers(shared_data: Path, rel: str, fingers: int) -> None:
    """Recognised by names and hierarchy whatever the rest pose; finger bones of every naming family."""
    from engine.formats.rigio import load_rig

    path = shared_data / rel
    if not path.is_file():
        pytest.skip(f"{rel} absent")
    rig = load_rig(path)
    match = find_humanoid_bones(rig.skeleton)
    assert match.is_humanoid, (match.missing, match.issues)
    found = [b for b in match.bones if any(f in b for f in ("Thumb", "Index", "Middle", "Ring", "Little"))]
    assert len(found) == fingers, found
    # Pose independence: the same skeleton with its rest pose lying along +X maps the same way.
    sk = rig.skeleton
    turned = Skeleton(sk.names, sk.parents, sk.rest_translations[:, [1, 0, 2]] * [1, -1, 1], sk.rest_rotations,
                      sk.end_site_joints, sk.end_site_offsets)
    assert find_humanoid_bones(turned).bones == match.bones


def test_cmu31_spine_respects_unity_parents(shared_data: Path) -> None:
    """The shoulders hang off Chest2, so Chest2 is UpperChest (Unity parents the shoulders there), not lowerneck."""
    from engine.formats.rigio import load_rig

    path = shared_data / "animated_drawings/cmu1/jumping_jacks.bvh"
    if not path.is_file():
        pytest.skip("CMU-31 absent")
    bones = find_humanoid_bones(load_rig(path).skeleton).bones
    assert (bones["Spine"], bones["Chest"], bones["UpperChest"], bones["Neck"]) == ("lowerback", "Chest", "Chest2", "Neck")
    brain = shared_data / "misc_gltf/BrainStem.glb"
    if brain.is_file():  # joints are called node_N: nothing to go by
        assert find_humanoid_bones(load_rig(brain).skeleton).coverage == 0.0


def test_bundled_humanoid_maps_to_its_own_names() -> None:
    from engine.rigs.bundled import load_bundled_rig

    rig = load_bundled_rig("humanoid")
    match = find_humanoid_bones(rig.skeleton)
    assert match.is_humanoid
    for role in MAIN_BONES:
        assert match.bones[role] == role


def _skeleton(names: list[str], parents: list[int], offsets: list[tuple[float, float, float]]) -> Skeleton:
    return Skeleton(tuple(names), np.array(parents), np.array(offsets, dtype=float), np.tile([0, 0, 0, 1.0], (len(names), 1)))


def test_ue_mannequin_and_rigify_names() -> None:
    names = ["root", "pelvis", "spine_01", "spine_02", "spine_03", "neck_01", "head",
             "clavicle_l", "upperarm_l", "lowerarm_l", "hand_l", "clavicle_r", "upperarm_r", "lowerarm_r", "hand_r",
             "thigh_l", "calf_l", "foot_l", "ball_l", "thigh_r", "calf_r", "foot_r", "ball_r"]
    parents = [-1, 0, 1, 2, 3, 4, 5, 4, 7, 8, 9, 4, 11, 12, 13, 1, 15, 16, 17, 1, 19, 20, 21]
    offs = [(0, 0, 0), (0, 1, 0), (0, .1, 0), (0, .1, 0), (0, .1, 0), (0, .15, 0), (0, .1, 0),
            (.05, 0, 0), (.1, 0, 0), (.3, 0, 0), (.25, 0, 0), (-.05, 0, 0), (-.1, 0, 0), (-.3, 0, 0), (-.25, 0, 0),
            (.1, 0, 0), (0, -.45, 0), (0, -.45, 0), (0, -.05, .1), (-.1, 0, 0), (0, -.45, 0), (0, -.45, 0), (0, -.05, .1)]
    m = find_humanoid_bones(_skeleton(names, parents, offs))
    assert m.is_humanoid, (m.missing, m.issues)
    assert m.bones["Hips"] == "pelvis" and m.bones["LeftShoulder"] == "clavicle_l" and m.bones["LeftToes"] == "ball_l"
    assert m.bones["Spine"] == "spine_01" and m.bones["UpperChest"] == "spine_03" and m.bones["Neck"] == "neck_01"
    rigify = [n.replace("_l", ".L").replace("_r", ".R") for n in names]
    rigify = ["DEF-" + {"upperarm.L": "upper_arm.L", "upperarm.R": "upper_arm.R", "lowerarm.L": "forearm.L",
                        "lowerarm.R": "forearm.R", "calf.L": "shin.L", "calf.R": "shin.R", "ball.L": "toe.L",
                        "ball.R": "toe.R", "clavicle.L": "shoulder.L", "clavicle.R": "shoulder.R"}.get(n, n) for n in rigify]
    m = find_humanoid_bones(_skeleton(rigify, parents, offs))
    assert m.is_humanoid, (m.missing, m.issues)
    assert m.bones["LeftUpperArm"] == "DEF-upper_arm.L" and m.bones["LeftShoulder"] == "DEF-shoulder.L"


def test_vrm_names() -> None:
    names = ["hips", "spine", "chest", "neck", "head", "leftUpperArm", "leftLowerArm", "leftHand",
             "rightUpperArm", "rightLowerArm", "rightHand", "leftUpperLeg", "leftLowerLeg", "leftFoot",
             "rightUpperLeg", "rightLowerLeg", "rightFoot"]
    parents = [-1, 0, 1, 2, 3, 2, 5, 6, 2, 8, 9, 0, 11, 12, 0, 14, 15]
    offs = [(0, 1, 0), (0, .1, 0), (0, .2, 0), (0, .2, 0), (0, .1, 0), (.2, .15, 0), (.3, 0, 0), (.25, 0, 0),
            (-.2, .15, 0), (-.3, 0, 0), (-.25, 0, 0), (.1, 0, 0), (0, -.45, 0), (0, -.45, 0), (-.1, 0, 0), (0, -.45, 0), (0, -.45, 0)]
    m = find_humanoid_bones(_skeleton(names, parents, offs))
    assert m.is_humanoid and m.bones["Chest"] == "chest" and m.bones["LeftLowerArm"] == "leftLowerArm"


def test_topology_check_catches_a_swapped_hierarchy() -> None:
    names = ["Hips", "Spine", "Head", "LeftHand", "LeftLowerArm", "LeftUpperArm", "RightUpperArm", "RightLowerArm",
             "RightHand", "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "RightUpperLeg", "RightLowerLeg", "RightFoot"]
    parents = [-1, 0, 1, 1, 3, 4, 1, 6, 7, 0, 9, 10, 0, 12, 13]
    offs = [(0, 1, 0), (0, .3, 0), (0, .3, 0), (.2, .2, 0), (.3, 0, 0), (.3, 0, 0), (-.2, .2, 0), (-.3, 0, 0), (-.3, 0, 0),
            (.1, 0, 0), (0, -.45, 0), (0, -.45, 0), (-.1, 0, 0), (0, -.45, 0), (0, -.45, 0)]
    m = find_humanoid_bones(_skeleton(names, parents, offs))
    assert not m.is_humanoid
    assert any("LeftLowerArm" in i for i in m.issues)
