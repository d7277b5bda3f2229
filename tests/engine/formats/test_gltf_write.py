"""Tests for engine.formats.gltf_write: Khronos validator on written files, and write -> read round trips."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine import rotations as rot
from engine.formats.gltf import read_gltf
from engine.formats.gltf_write import glb_bytes, write_glb
from engine.rig import Clip, Mesh, Rig
from engine.skeleton import Skeleton

from tests.conftest import REPO_ROOT as REPO
RUNNER = REPO / ".ci" / "validate-gltf.mjs"
VALIDATOR = REPO / ".cache" / "npm" / "node_modules" / "gltf-validator" / "package.json"


@pytest.fixture(scope="module")
def validate():
    """``validate(path) -> report dict`` with the Khronos glTF validator (skips when absent)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the Khronos glTF validator needs it")
    if not VALIDATOR.is_file():
        pytest.skip(f"gltf-validator is not installed under {VALIDATOR.parents[2]}; run .ci/install-gltf-validator")

    def run(path: Path) -> dict:
        out = subprocess.run([node, str(RUNNER), str(path)], capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout)

    return run


def _errors(report: dict) -> list[str]:
    return [f"{m['code']} at {m.get('pointer')}: {m['message']}" for m in report["issues"]["messages"] if m["severity"] == 0]


def _hand_rig() -> Rig:
    """A 4-joint arm with a skinned box mesh and a 10-frame wave."""
    names = ("root", "shoulder", "elbow", "wrist")
    parents = np.array([-1, 0, 1, 2])
    trans = np.array([[0.1, 1.0, -0.2], [0.2, 0.3, 0.0], [0.3, 0.0, 0.0], [0.25, 0.0, 0.0]])
    rest_r = rot.axis_angle_to_quat(np.array([[0, 0.3, 0], [0, 0, 0.2], [0, 0, 0], [0.1, 0, 0]]))
    sk = Skeleton(names, parents, trans, rest_r)
    T = 10
    angles = np.zeros((T, 4, 3))
    angles[:, 1, 2] = np.linspace(0, 1.2, T)
    angles[:, 2, 1] = np.sin(np.linspace(0, 3, T))
    rots = rot.quat_multiply(np.broadcast_to(rest_r, (T, 4, 4)), rot.axis_angle_to_quat(angles))
    tr = np.broadcast_to(trans, (T, 4, 3)).copy()
    tr[:, 0] += np.linspace(0, 0.5, T)[:, None] * np.array([1.0, 0.0, 0.0])
    clip = Clip("wave", 30.0, rots, tr)
    # A box along the arm, each corner weighted to the two nearest joints (one duplicate pair).
    _, pos = sk.rest_world()
    corners = np.array([[x, y, z] for x in (0, 1) for y in (-0.05, 0.05) for z in (-0.05, 0.05)])
    verts = pos[1] + corners * np.array([pos[3][0] - pos[1][0], 1, 1])
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    joints = np.array([[1, 2, 2, 0]] * 4 + [[2, 3, 0, 0]] * 4)
    weights = np.array([[0.7, 0.2, 0.1, 0.0]] * 4 + [[0.5, 0.5, 0.0, 0.0]] * 4)
    normals = verts - verts.mean(axis=0)
    mesh = Mesh(verts.astype(np.float32), faces.astype(np.uint32), joints, weights.astype(np.float32), normals.astype(np.float32))
    return Rig("arm", sk, [clip], mesh)


def _assert_round_trip(rig: Rig, back: Rig) -> None:
    h = rig.skeleton.height
    assert back.skeleton.names == rig.skeleton.names
    np.testing.assert_array_equal(back.skeleton.parents, rig.skeleton.parents)
    np.testing.assert_allclose(back.skeleton.rest_translations, rig.skeleton.rest_translations, atol=1e-6 * h)
    assert np.all(rot.quat_geodesic_angle(back.skeleton.rest_rotations, rig.skeleton.rest_rotations) < 1e-5)
    np.testing.assert_array_equal(back.skeleton.end_site_joints, rig.skeleton.end_site_joints)
    np.testing.assert_allclose(back.skeleton.end_site_offsets, rig.skeleton.end_site_offsets, atol=1e-6 * h)
    assert [c.name for c in back.clips] == [c.name for c in rig.clips]
    for a, b in zip(rig.clips, back.clips):
        assert b.num_frames == a.num_frames and b.fps == pytest.approx(a.fps)
        np.testing.assert_allclose(b.positions(back.skeleton), a.positions(rig.skeleton), atol=1e-5 * h, err_msg=a.name)


def test_hand_built_rig_passes_validator_and_round_trips(tmp_path, validate):
    rig = _hand_rig()
    path = tmp_path / "arm.glb"
    write_glb(rig, path)
    report = validate(path)
    assert _errors(report) == []
    back = read_gltf(path)
    _assert_round_trip(rig, back)
    assert back.source.notes == []  # bound at rest
    np.testing.assert_allclose(back.mesh.positions, rig.mesh.positions, atol=1e-6)
    np.testing.assert_array_equal(back.mesh.indices, rig.mesh.indices)
    # The duplicate (2, 2) influence was merged into one weight of 0.3.
    assert back.mesh.weights[0].tolist() == pytest.approx([0.7, 0.3, 0.0, 0.0], abs=1e-6)
    assert back.mesh.joints[0, :2].tolist() == [1, 2]


def test_skeleton_only_rig_passes_validator_and_reads_back(tmp_path, validate):
    rig = _hand_rig()
    rig.mesh = None
    path = tmp_path / "bare.glb"
    write_glb(rig, path, clips=[])
    assert _errors(validate(path)) == []
    back = read_gltf(path)
    assert back.clips == [] and back.mesh is None
    np.testing.assert_allclose(back.skeleton.rest_positions(), rig.skeleton.rest_positions(), atol=1e-6)


def test_converted_bvh_passes_validator_and_round_trips(tmp_path, shared_data, validate):
    bvh = pytest.importorskip("engine.formats.bvh")
    rig = bvh.read_bvh(shared_data / "animated_drawings" / "cmu1" / "jumping_jacks.bvh")
    assert len(rig.skeleton.end_site_joints) == 7  # written as marked leaf nodes, read back
    path = tmp_path / "jumping_jacks.glb"
    write_glb(rig, path)
    assert _errors(validate(path)) == []
    _assert_round_trip(rig, read_gltf(path))


def test_shared_glb_read_write_read(tmp_path, shared_data, validate):
    # RobotExpressive: 4 skins, rigid body-part meshes, a 100x-scaled armature, 14 clips.
    rig = read_gltf(shared_data / "misc_gltf" / "RobotExpressive.glb")
    path = tmp_path / "robot.glb"
    write_glb(rig, path)
    assert _errors(validate(path)) == []
    back = read_gltf(path)
    _assert_round_trip(rig, back)
    assert len(back.mesh.positions) == len(rig.mesh.positions)


def test_clip_selection_and_mismatch():
    rig = _hand_rig()
    rig.clips.append(Clip.rest(rig.skeleton, frames=3, name="hold"))
    back = read_gltf("x.glb", data=glb_bytes(rig, clips=["hold"]))
    assert [c.name for c in back.clips] == ["hold"] and back.clips[0].num_frames == 3
    with pytest.raises(KeyError):
        glb_bytes(rig, clips=["missing"])
    bad = Rig("bad", rig.skeleton, [Clip("x", 30.0, np.zeros((2, 3, 4)) + [0, 0, 0, 1], np.zeros((2, 3, 3)))])
    with pytest.raises(ValueError, match="3 joints"):
        glb_bytes(bad)


def test_joint_order_and_humanoid_map_survive(tmp_path):
    # Breadth-first joint order (not depth-first) and a humanoid map written as skin extras.
    names = ("hips", "spine", "leg", "head", "foot")
    sk = Skeleton(names, np.array([-1, 0, 0, 1, 2]), np.array([[0, 1, 0], [0, 0.3, 0], [0.1, -0.1, 0], [0, 0.4, 0], [0, -0.8, 0]]),
                  np.tile([0.0, 0, 0, 1], (5, 1)))  # fmt: skip
    rig = Rig("biped", sk, [Clip.rest(sk, frames=2)], humanoid={"Hips": "hips", "Head": "head", "LeftFoot": "foot"})
    back = read_gltf("b.glb", data=glb_bytes(rig))
    assert back.skeleton.names == names
    assert back.humanoid == rig.humanoid
