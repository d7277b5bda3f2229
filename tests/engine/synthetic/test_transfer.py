"""Real motions on randomised rigs: bone directions preserved, local rotations changed."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.training.data_licences import FREE_LICENCES, load_split, read_manifest
from engine.kinematics import forward_kinematics
from engine.rig import Clip
from engine.synthetic.motions import evaluate_motion, random_motion_params
from engine.synthetic.skeletons import random_rig
from engine.synthetic.transfer import RealMotionLibrary, transfer_window


def _bone_dirs(parents, positions):
    c = np.flatnonzero(parents >= 0)
    d = positions[..., c, :] - positions[..., parents[c], :]
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def _source_clip(seed: int):
    rng = np.random.default_rng(seed)
    rig = random_rig(rng, plan="quadruped")
    q, root = evaluate_motion(rig, random_motion_params(rig, rng), np.arange(40) / 30.0)
    trans = np.broadcast_to(rig.skeleton.rest_translations, q.shape[:2] + (3,)).copy()
    trans[:, 0] = root
    return rig.skeleton, Clip("src", 30.0, q, trans)


@pytest.mark.parametrize("seed", range(6))
def test_transfer_preserves_world_bone_directions_up_to_one_yaw(seed):
    skeleton, clip = _source_clip(seed)
    frames = np.arange(3, 35, dtype=float)
    w = transfer_window(skeleton, clip, frames, 0.0, np.random.default_rng(seed))
    src = _bone_dirs(skeleton.parents, clip.positions(skeleton)[3:35])
    new = _bone_dirs(w.skeleton.parents, w.positions)
    # One rotation about +Y maps every source bone direction of every frame onto the new one.
    h = np.einsum("na,nb->ab", new.reshape(-1, 3), src.reshape(-1, 3))
    u, _, vt = np.linalg.svd(h)
    yaw = u @ np.diag([1, 1, np.linalg.det(u @ vt)]) @ vt
    np.testing.assert_allclose(np.einsum("ab,...b->...a", yaw, src), new, atol=1e-9)
    np.testing.assert_allclose(yaw @ [0, 1, 0], [0, 1, 0], atol=1e-9)
    # Positions are the forward kinematics of the rotations on the new rig.
    np.testing.assert_allclose(w.translations[:, 1:], np.broadcast_to(w.skeleton.rest_translations[1:], w.translations[:, 1:].shape), atol=1e-12)
    _, pos = forward_kinematics(w.skeleton.parents, rot.quat_to_matrix(w.rotations), w.translations)
    np.testing.assert_allclose(pos, w.positions, atol=1e-9 * w.skeleton.height)
    assert w.ref_rotations.shape == (skeleton.num_joints, 4) and w.ref_positions.shape == (skeleton.num_joints, 3)


def test_transfer_keeps_animated_inner_translations():
    skeleton, clip = _source_clip(2)
    moved = clip.translations.copy()
    moved[:, 1] += np.linspace(0, 0.1, clip.num_frames)[:, None] * skeleton.height  # hips slide under the root
    clip = Clip("src", 30.0, clip.rotations, moved)
    w = transfer_window(skeleton, clip, np.arange(0, 32, dtype=float), 0.0, np.random.default_rng(0))
    src = _bone_dirs(skeleton.parents, clip.positions(skeleton)[:32])
    new = _bone_dirs(w.skeleton.parents, w.positions)
    # Pairwise angles between bone directions are unchanged (one rotation maps all of them).
    np.testing.assert_allclose(np.einsum("tia,tja->tij", new, new), np.einsum("tia,tja->tij", src, src), atol=1e-9)
    _, pos = forward_kinematics(w.skeleton.parents, rot.quat_to_matrix(w.rotations), w.translations)
    np.testing.assert_allclose(pos, w.positions, atol=1e-9 * w.skeleton.height)


def test_transfer_randomises_lengths_and_local_rotations():
    skeleton, clip = _source_clip(1)
    frames = np.arange(0, 32, dtype=float)
    a = transfer_window(skeleton, clip, frames, 0.0, np.random.default_rng(1))
    b = transfer_window(skeleton, clip, frames, 0.0, np.random.default_rng(2))
    ratio = a.skeleton.bone_lengths()[1:] / b.skeleton.bone_lengths()[1:]
    assert ratio.std() > 0.05  # proportions differ, not only the global scale
    assert np.degrees(rot.quat_geodesic_angle(a.rotations, b.rotations)).mean() > 5.0


def test_library_uses_only_free_not_held_out_files(shared_data):
    pytest.importorskip("engine.formats.rigio")
    lib = RealMotionLibrary(shared_data)
    manifest = read_manifest(shared_data)
    split = load_split()
    allowed = {e.skeleton for e in manifest.values() if e.licence in FREE_LICENCES and e.skeleton not in split.skeletons}
    assert set(lib.skeleton_ids) == allowed
    assert not set(lib.skeleton_ids) & {"MANN_Dog_21", "Mixamo_Joe_65", "Q_Fox", "AD_cmu1_31"}
    name, w = lib.sample(np.random.default_rng(0), 16)
    assert w.positions.shape[0] == 16 and manifest[name.split(":")[0]].licence in FREE_LICENCES


def test_dropping_subtrees_keeps_a_consistent_smaller_rig():
    skeleton, clip = _source_clip(4)
    smaller = 0
    for seed in range(8):
        w = transfer_window(skeleton, clip, np.arange(0, 16, dtype=float), 0.0, np.random.default_rng(seed), drop_probability=1.0)
        J = w.skeleton.num_joints
        smaller += J < skeleton.num_joints
        assert J >= skeleton.num_joints // 2 and w.rotations.shape == (16, J, 4) and w.translations.shape == (16, J, 3)
        _, pos = forward_kinematics(w.skeleton.parents, rot.quat_to_matrix(w.rotations), w.translations)
        np.testing.assert_allclose(pos, w.positions, atol=1e-9 * w.skeleton.height)
        ref_t = w.skeleton.rest_translations.copy()
        ref_t[0] = w.ref_positions[0]
        _, ref = forward_kinematics(w.skeleton.parents, rot.quat_to_matrix(w.ref_rotations), ref_t)
        np.testing.assert_allclose(ref, w.ref_positions, atol=1e-9 * w.skeleton.height)
    assert smaller >= 4
