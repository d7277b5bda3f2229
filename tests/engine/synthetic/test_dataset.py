"""MotionDataset: deterministic per (seed, split, index), consistent samples, split discipline."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.training.data_licences import FREE_LICENCES, load_split, read_manifest
from engine.kinematics import forward_kinematics
from engine.synthetic.dataset import MotionDataset, MotionSample


def _fk(sample: MotionSample) -> np.ndarray:
    sk = sample.skeleton
    return forward_kinematics(sk.parents, rot.quat_to_matrix(sample.rotations), sample.translations)[1]


def test_samples_have_the_documented_shapes_and_are_consistent():
    ds = MotionDataset(seed=0, window=24, pool_size=32)
    for i in range(20):
        s = ds[i]
        J = s.skeleton.num_joints
        assert s.positions.shape == (24, J, 3) and s.rotations.shape == (24, J, 4)
        assert s.ref_positions.shape == (J, 3) and s.ref_rotations.shape == (J, 4)
        np.testing.assert_allclose(np.linalg.norm(s.rotations, axis=-1), 1.0, atol=1e-9)
        np.testing.assert_allclose(_fk(s), s.positions, atol=1e-9 * s.skeleton.height)
        # Procedural rigs move inner joints only by rotation.
        np.testing.assert_allclose(s.translations[:, 1:], np.broadcast_to(s.skeleton.rest_translations[1:], (24, J - 1, 3)))
        np.testing.assert_allclose(s.translations[:, 0], s.positions[:, 0])
        ref_trans = s.skeleton.rest_translations.copy()
        ref_trans[0] = s.ref_positions[0]
        ref = MotionSample("", s.skeleton, s.ref_positions[None], s.ref_rotations[None], s.ref_positions, s.ref_rotations, 30.0, ref_trans[None])
        np.testing.assert_allclose(_fk(ref)[0], s.ref_positions, atol=1e-9 * s.skeleton.height)


def test_items_are_deterministic_and_order_independent():
    a = MotionDataset(seed=3, pool_size=16)
    b = MotionDataset(seed=3, pool_size=16)
    for i in (5, 0, 9):  # a different order of access
        b[i]
    for i in (0, 5, 9):
        sa, sb = a[i], b[i]
        assert sa.name == sb.name and sa.skeleton.names == sb.skeleton.names
        np.testing.assert_array_equal(sa.positions, sb.positions)
        np.testing.assert_array_equal(sa.rotations, sb.rotations)
    assert not np.array_equal(MotionDataset(seed=4, pool_size=16)[0].positions, a[0].positions)


def test_train_and_val_rigs_differ():
    train = MotionDataset(seed=0, split="train", pool_size=8)
    val = MotionDataset(seed=0, split="val", pool_size=32)
    train_names = {train.rig(k).skeleton.names for k in range(8)}
    val_names = {val.rig(k).skeleton.names for k in range(8)}
    assert not train_names & val_names


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="split"):
        MotionDataset(split="test")
    with pytest.raises(IndexError):
        MotionDataset(size=3)[3]


def test_real_items_come_from_free_not_held_out_files(shared_data):
    pytest.importorskip("engine.formats.rigio")
    ds = MotionDataset(seed=0, real_data_dir=shared_data, real_fraction=1.0, window=16, pool_size=8)
    manifest = read_manifest(shared_data)
    held = load_split()
    names = [ds[i].name for i in range(12)]
    assert all(n.startswith("real:") for n in names)
    for n in names:
        entry = manifest[n.split(":")[1]]
        assert entry.licence in FREE_LICENCES and entry.skeleton not in held.skeletons
    s = ds[3]
    np.testing.assert_allclose(_fk(s), s.positions, atol=1e-9 * s.skeleton.height)
