"""Forward kinematics: numpy and torch agree, and FK inverts to the same local rotations."""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from engine import rotations as rot
from engine.kinematics import forward_kinematics, forward_kinematics_torch, inverse_kinematics_local


def _random_tree(J: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([-1] + [int(rng.integers(0, j)) for j in range(1, J)])


def test_numpy_and_torch_fk_agree() -> None:
    parents = _random_tree(30, 0)
    T = 7
    rng = np.random.default_rng(1)
    local_r = Rotation.random(T * 30, random_state=2).as_matrix().reshape(T, 30, 3, 3)
    local_t = rng.normal(size=(T, 30, 3))
    wr, wp = forward_kinematics(parents, local_r, local_t)
    tr, tp = forward_kinematics_torch(parents, torch.from_numpy(local_r), torch.from_numpy(local_t))
    np.testing.assert_allclose(tr.numpy(), wr, atol=1e-12)
    np.testing.assert_allclose(tp.numpy(), wp, atol=1e-12)


def test_fk_of_chain_by_hand() -> None:
    parents = np.array([-1, 0, 1])
    local_r = np.stack([np.eye(3), rot.axis_angle_to_matrix(np.array([0, 0, np.pi / 2])), np.eye(3)])
    local_t = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 1.0, 0]])
    _, pos = forward_kinematics(parents, local_r, local_t)
    # Joint 1 sits 1 m above the root; its 90-degree turn about Z sends its child's +Y offset to -X.
    np.testing.assert_allclose(pos, [[1, 0, 0], [1, 1, 0], [0, 1, 0]], atol=1e-12)


def test_rest_translations_broadcast_over_frames() -> None:
    parents = _random_tree(10, 3)
    local_r = Rotation.random(5 * 10, random_state=4).as_matrix().reshape(5, 10, 3, 3)
    rest_t = np.random.default_rng(5).normal(size=(10, 3))
    _, pos_broadcast = forward_kinematics(parents, local_r, rest_t)
    _, pos_full = forward_kinematics(parents, local_r, np.broadcast_to(rest_t, (5, 10, 3)))
    np.testing.assert_allclose(pos_broadcast, pos_full)


def test_inverse_kinematics_local_inverts_fk() -> None:
    parents = _random_tree(15, 6)
    local_r = Rotation.random(3 * 15, random_state=7).as_matrix().reshape(3, 15, 3, 3)
    wr, _ = forward_kinematics(parents, local_r, np.zeros((15, 3)))
    np.testing.assert_allclose(inverse_kinematics_local(parents, wr), local_r, atol=1e-12)


def test_torch_fk_is_differentiable() -> None:
    parents = [-1, 0, 1]
    local_r = torch.eye(3, dtype=torch.float64).repeat(3, 1, 1)
    local_t = torch.tensor([[0, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=torch.float64, requires_grad=True)
    _, pos = forward_kinematics_torch(parents, local_r, local_t)
    pos[2, 1].backward()
    assert local_t.grad is not None and local_t.grad[1, 1] == 1.0
