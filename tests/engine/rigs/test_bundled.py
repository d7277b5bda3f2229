"""Tests for engine.rigs.bundled: the authored rigs in memory, and the shipped files in resources/rigs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import rotations as rot
from engine.rigs.bundled import (
    CONVENTIONS,
    RIGS_DIR,
    build_rig,
    bundled_bvh_paths,
    bundled_rig_names,
    bundled_rig_path,
    load_bundled_rig,
)
from engine.formats.gltf_write import glb_bytes
from engine.formats.rigio import load_rig

NAMES = ["humanoid", "quadruped", "dragon", "bird", "snake", "spider"]
# rig -> (joint count range, rest extent range in metres)
EXPECTED = {
    "humanoid": ((50, 70), (1.6, 1.9)),
    "quadruped": ((25, 40), (0.8, 2.0)),
    "dragon": ((50, 80), (4.0, 12.0)),
    "bird": ((30, 60), (0.2, 1.0)),
    "snake": ((23, 33), (1.0, 3.0)),
    "spider": ((45, 65), (0.1, 0.8)),
}


@pytest.fixture(scope="module")
def authored():
    return {name: build_rig(name) for name in bundled_rig_names()}


@pytest.fixture(scope="module")
def loaded_glb():
    return {name: load_rig(bundled_rig_path(name)) for name in bundled_rig_names()}


def test_names_and_paths():
    assert bundled_rig_names() == NAMES
    assert bundled_rig_path("dragon") == RIGS_DIR / "dragon.glb"
    assert RIGS_DIR.parts[-2:] == ("resources", "rigs")
    assert bundled_bvh_paths("snake") == {"reference": RIGS_DIR / "snake" / "reference.bvh", "idle": RIGS_DIR / "snake" / "idle.bvh"}
    with pytest.raises(KeyError, match="bundled rigs"):
        bundled_rig_path("unicorn")
    with pytest.raises(KeyError, match="unicorn"):
        build_rig("unicorn")


# %% in memory
@pytest.mark.parametrize("name", NAMES)
def test_in_memory_skeleton_is_valid(authored, name):
    a = authored[name]
    sk = a.rig.skeleton
    (jmin, jmax), (hmin, hmax) = EXPECTED[name]
    assert jmin <= sk.num_joints <= jmax
    assert hmin <= sk.height <= hmax
    assert len(set(sk.names)) == sk.num_joints and all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in sk.names)
    assert all(p < j for j, p in enumerate(sk.parents)) and sk.roots == [0]
    assert (sk.bone_lengths()[1:] > 1e-3).all()
    mats, pos = sk.rest_world()
    assert np.isfinite(mats).all() and np.isfinite(pos).all()
    np.testing.assert_allclose(pos, a.design.rest_positions(), atol=1e-9 * sk.height)
    assert a.convention is CONVENTIONS[name]
    # Feet on the ground: the lowest joint or end site is within 5 cm of y = 0 and not below -1 cm.
    lowest = min(pos[:, 1].min(), sk.end_site_positions(mats, pos)[:, 1].min())
    assert -0.01 <= lowest <= 0.05


def test_at_least_five_rigs_have_non_identity_rest_rotations(authored):
    non_identity = [n for n, a in authored.items() if rot.quat_geodesic_angle(a.rig.skeleton.rest_rotations, rot.quat_identity((1,))).max() > 0.1]
    assert len(non_identity) >= 5, non_identity
    assert len({a.convention.name for a in authored.values()}) == 6  # six different conventions


@pytest.mark.parametrize("name", NAMES)
def test_mesh_is_skinned_to_valid_joints(authored, name):
    rig = authored[name].rig
    mesh = rig.mesh
    assert 300 <= len(mesh.indices) <= 6000
    np.testing.assert_allclose(mesh.weights.sum(axis=1), 1.0, atol=1e-6)
    assert (mesh.weights >= 0).all() and mesh.joints.max() < rig.skeleton.num_joints
    assert mesh.indices.max() < len(mesh.positions)
    used = np.unique(mesh.joints[mesh.weights > 0])
    assert len(used) >= 0.8 * rig.skeleton.num_joints  # most joints move some of the body


@pytest.mark.parametrize("name", NAMES)
def test_clips_and_reference_pose(authored, name):
    a = authored[name]
    sk = a.rig.skeleton
    clips = {c.name: c for c in a.rig.clips}
    assert "idle" in clips and "reference" not in clips
    if name == "humanoid":
        assert {"walk", "wave"} <= set(clips)
    for clip in clips.values():
        assert clip.fps == 30.0 and 2.0 <= clip.num_frames / clip.fps <= 4.0
        pos = clip.positions(sk)
        assert np.isfinite(pos).all()
        assert np.abs(pos - pos[:1]).max() > 0.02 * sk.height  # it moves
        np.testing.assert_allclose(np.linalg.norm(clip.rotations, axis=-1), 1.0, atol=1e-9)
    ref = a.reference_clip()
    assert ref.name == "reference" and ref.num_frames == 1
    angles = rot.quat_geodesic_angle(a.rig.reference_pose, sk.rest_rotations)
    assert (angles > np.deg2rad(10)).sum() >= 3  # distinct from rest
    assert np.abs(ref.positions(sk)[0] - sk.rest_positions()).max() > 0.05 * sk.height


def test_humanoid_conventions(authored):
    a = authored["humanoid"]
    sk = a.rig.skeleton
    pos = sk.rest_positions()
    for bone in ("Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftUpperArm", "RightLowerArm", "LeftHand",
                 "RightThumbDistal", "LeftLittleProximal", "LeftUpperLeg", "RightFoot", "LeftToes"):
        assert bone in sk.names
    assert a.rig.humanoid["LeftUpperArm"] == "LeftUpperArm"
    at = {n: pos[sk.index(n)] for n in ("LeftHand", "RightHand", "LeftUpperArm", "LeftFoot", "LeftToes", "Head")}
    assert at["LeftHand"][0] > 0.5 and at["RightHand"][0] < -0.5  # left at +X, T-pose
    assert abs(at["LeftHand"][1] - at["LeftUpperArm"][1]) < 0.02  # arms horizontal
    assert at["LeftToes"][2] > at["LeftFoot"][2] + 0.05  # faces +Z
    assert 1.5 < at["Head"][1] < 1.7
    # The A-pose reference lowers the hands by ~40 degrees of arm.
    ref_pos = a.reference_clip().positions(sk)[0]
    assert ref_pos[sk.index("LeftHand"), 1] < at["LeftHand"][1] - 0.25
    # Walk moves forward along +Z at about 1.3 m/s.
    walk = a.rig.clip("walk").positions(sk)
    speed = (walk[-1, 0, 2] - walk[0, 0, 2]) / a.rig.clip("walk").duration
    assert 1.1 < speed < 1.5


def test_generator_is_deterministic(authored):
    again = build_rig("dragon")
    first = authored["dragon"]
    np.testing.assert_array_equal(again.rig.skeleton.rest_rotations, first.rig.skeleton.rest_rotations)
    np.testing.assert_array_equal(again.rig.clip("idle").rotations, first.rig.clip("idle").rotations)
    np.testing.assert_array_equal(again.rig.mesh.positions, first.rig.mesh.positions)
    rig_a = build_rig("bird").rig
    rig_b = build_rig("bird").rig
    rig_a.clips, rig_b.clips = build_rig("bird").file_clips(), build_rig("bird").file_clips()
    assert glb_bytes(rig_a) == glb_bytes(rig_b)


# %% files
def test_files_exist_and_are_small():
    files = [bundled_rig_path(n) for n in NAMES] + [p for n in NAMES for p in bundled_bvh_paths(n).values()]
    for path in files:
        assert path.is_file(), f"{path} missing: run python -m engine.rigs.bundled resources/rigs"
    total = sum(p.stat().st_size for p in RIGS_DIR.rglob("*") if p.is_file())
    assert total < 3_000_000


def test_readme_lists_every_rig_with_its_joint_count(authored):
    text = (RIGS_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC0" in text
    for name, a in authored.items():
        row = re.search(rf"^\| {name} \| (\d+) \|[^|]*\| ([\w-]+) \|", text, re.MULTILINE)
        assert row, f"README has no table row for {name}"
        assert int(row.group(1)) == a.rig.skeleton.num_joints
        assert row.group(2) == a.convention.name


@pytest.mark.parametrize("name", NAMES)
def test_glb_matches_the_in_memory_build(authored, loaded_glb, name):
    a = authored[name]
    sk, rig = a.rig.skeleton, loaded_glb[name]
    h = sk.height
    assert rig.skeleton.names == sk.names
    np.testing.assert_array_equal(rig.skeleton.parents, sk.parents)
    np.testing.assert_allclose(rig.skeleton.rest_positions(), a.design.rest_positions(), atol=1e-5 * h)
    assert rot.quat_geodesic_angle(rig.skeleton.rest_rotations, sk.rest_rotations).max() < 1e-5
    assert rig.reference_pose is not None
    assert rot.quat_geodesic_angle(rig.reference_pose, a.rig.reference_pose).max() < 1e-5
    assert [c.name for c in rig.clips] == [c.name for c in a.file_clips()]
    for clip in a.file_clips():
        np.testing.assert_allclose(rig.clip(clip.name).positions(rig.skeleton), clip.positions(sk), atol=1e-5 * h)
    assert rig.mesh is not None and len(rig.mesh.indices) == len(a.rig.mesh.indices)
    np.testing.assert_allclose(rig.mesh.weights.sum(axis=1), 1.0, atol=1e-5)
    assert rig.mesh.joints.max() < sk.num_joints


@pytest.mark.parametrize("name", NAMES)
def test_bvh_and_glb_give_the_same_world_positions(loaded_glb, name):
    glb = loaded_glb[name]
    h = glb.skeleton.height
    for clip_name, path in bundled_bvh_paths(name).items():
        bvh = load_rig(path)
        assert bvh.skeleton.names == glb.skeleton.names
        assert [c.name for c in bvh.clips] == [clip_name]
        np.testing.assert_allclose(bvh.skeleton.rest_positions(), glb.skeleton.rest_positions(), atol=1e-4 * h)
        got = bvh.clips[0].positions(bvh.skeleton)
        want = glb.clip(clip_name).positions(glb.skeleton)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4 * h, err_msg=f"{name}/{clip_name}")
        if clip_name == "reference":
            assert bvh.reference_pose is not None


def test_load_bundled_rig_reads_the_glb():
    rig = load_bundled_rig("dragon")
    assert rig.skeleton.num_joints == 62 and rig.mesh is not None and rig.reference_pose is not None
