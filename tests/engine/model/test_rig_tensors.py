from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.model.rig_tensors import build_rig_tensors, collate_rigs, normalize_positions
from engine.skeleton import MAX_HOP, EdgeType


def test_single_rig_tensors(skeletons) -> None:
    sk = skeletons[0]
    rig = build_rig_tensors(sk)
    J = sk.num_joints
    assert rig.batch_size == 1 and rig.num_joints == J
    np.testing.assert_array_equal(rig.hop[0].numpy(), sk.hop_distances())
    np.testing.assert_array_equal(rig.edge[0].numpy(), sk.edge_types())
    assert torch.all(rig.rest_pos[0, 0] == 0)  # root-relative
    # Default reference = rest pose.
    torch.testing.assert_close(rig.ref_pos, rig.rest_pos)
    torch.testing.assert_close(rig.ref_rot6d, rig.rest_rot6d)
    assert rig.parents[0, 0] == 0 and torch.all(rig.parents[0, 1:] < torch.arange(1, J))
    np.testing.assert_allclose(rig.rest_pos[0].abs().max().item() * 2, 1.0, atol=0.5)  # divided by the height


def test_padding_and_masks(skeletons) -> None:
    rigs = [build_rig_tensors(s) for s in skeletons]
    batch = collate_rigs(rigs, pad_to=14)
    assert batch.batch_size == 3 and batch.num_joints == 14
    n = skeletons[0].num_joints
    assert batch.joint_mask[0].tolist() == [True] * n + [False] * (14 - n)
    assert torch.all(batch.hop[0, n:, :] == MAX_HOP) and torch.all(batch.edge[0, :n, n:] == int(EdgeType.OTHER))
    assert torch.all(batch.parents[0, n:] == torch.arange(n, 14))
    for mask in (batch.mask_local, batch.mask_global):
        assert not mask[0, :n, n:].any() and not mask[0, n:, :n].any()  # no leak either way
        assert torch.all(mask[0, n:, n:] == torch.eye(14 - n, dtype=torch.bool))  # padding sees itself
        assert torch.all(mask.any(-1))  # no empty softmax row
    with pytest.raises(ValueError, match="pad_to"):
        collate_rigs(rigs, pad_to=5)


def test_normalize_positions() -> None:
    p = np.array([[1.0, 2.0, 3.0], [1.0, 4.0, 3.0]])
    np.testing.assert_allclose(normalize_positions(p, 2.0), [[0, 0, 0], [0, 1, 0]])


def test_bad_reference_raises(skeletons) -> None:
    sk = skeletons[0]
    bad = np.full((sk.num_joints, 3), np.nan)
    with pytest.raises(ValueError, match="non-finite"):
        build_rig_tensors(sk, bad, sk.rest_rotations)


def test_world_rotations_of_a_padded_batch_match_forward_kinematics(skeletons) -> None:
    """engine.kinematics.world_rotations_padded on padded rigs equals the numpy forward kinematics of each rig."""
    import numpy as np
    import torch

    from engine import rotations as rot
    from engine.kinematics import forward_kinematics, world_rotations_padded

    rng = np.random.default_rng(0)
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    local = rot.axis_angle_to_matrix(rng.normal(0, 0.6, (len(skeletons), 3, batch.num_joints, 3)))
    world = world_rotations_padded(torch.tensor(local), batch.parents, batch.depth).numpy()
    for b, sk in enumerate(skeletons):
        n = sk.num_joints
        want, _ = forward_kinematics(sk.parents, local[b, :, :n], sk.rest_translations)
        np.testing.assert_allclose(world[b, :, :n], want, atol=1e-9)
