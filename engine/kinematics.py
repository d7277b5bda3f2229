"""Forward kinematics, batched over frames, in numpy and torch (same results, see tests).

Local transforms are parent-space: joint ``j``'s world rotation is ``W[p] @ L[j]`` and its world
position is ``P[p] + W[p] @ t[j]``; a root's local transform is its world transform.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily so file tools (info, convert) start fast
    import torch

__all__ = ["forward_kinematics", "forward_kinematics_torch", "inverse_kinematics_local", "world_rotations_padded"]


def forward_kinematics(
    parents: np.ndarray, local_rotations: np.ndarray, local_translations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations and positions of every joint.

    Args:
        parents: ``(J,)`` parent indices, parents before children, ``-1`` for roots.
        local_rotations: ``(..., J, 3, 3)`` parent-space rotation matrices.
        local_translations: ``(..., J, 3)`` parent-space translations (metres); broadcasts
            against the rotations' batch shape (a rest ``(J, 3)`` works for every frame).

    Returns:
        ``(world_rotations (..., J, 3, 3), world_positions (..., J, 3))``.
    """
    local_rotations = np.asarray(local_rotations, dtype=np.float64)
    local_translations = np.asarray(local_translations, dtype=np.float64)
    batch = np.broadcast_shapes(local_rotations.shape[:-3], local_translations.shape[:-2])
    J = len(parents)
    world_r = np.empty(batch + (J, 3, 3))
    world_p = np.empty(batch + (J, 3))
    rots = np.broadcast_to(local_rotations, batch + (J, 3, 3))
    trans = np.broadcast_to(local_translations, batch + (J, 3))
    roots, levels = _depth_levels(tuple(int(p) for p in parents))
    world_r[..., roots, :, :] = rots[..., roots, :, :]
    world_p[..., roots, :] = trans[..., roots, :]
    for js, ps in levels:  # one batched product per depth: every parent is done before its children
        world_r[..., js, :, :] = world_r[..., ps, :, :] @ rots[..., js, :, :]
        world_p[..., js, :] = world_p[..., ps, :] + np.einsum("...jab,...jb->...ja", world_r[..., ps, :, :], trans[..., js, :])
    return world_r, world_p


@lru_cache(maxsize=64)
def _depth_levels(parents: tuple[int, ...]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The roots and, per depth below them, ``(joints, their parents)`` (index arrays)."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for j, p in enumerate(parents):
        depth[j] = 0 if p < 0 else depth[p] + 1
    parent = np.asarray(parents, dtype=np.int64)
    levels = [(np.flatnonzero(depth == d), parent[depth == d]) for d in range(1, int(depth.max(initial=0)) + 1)]
    return np.flatnonzero(depth == 0), levels


def forward_kinematics_torch(
    parents: list[int] | np.ndarray, local_rotations: torch.Tensor, local_translations: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torch version of :func:`forward_kinematics` (differentiable; same shapes and conventions)."""
    import torch

    batch = torch.broadcast_shapes(local_rotations.shape[:-3], local_translations.shape[:-2])
    J = len(parents)
    rots = local_rotations.expand(batch + (J, 3, 3))
    trans = local_translations.expand(batch + (J, 3))
    world_r: list[torch.Tensor] = []
    world_p: list[torch.Tensor] = []
    for j, p in enumerate(int(p) for p in parents):
        if p < 0:
            world_r.append(rots[..., j, :, :])
            world_p.append(trans[..., j, :])
        else:
            world_r.append(world_r[p] @ rots[..., j, :, :])
            world_p.append(world_p[p] + (world_r[p] @ trans[..., j, :, None])[..., 0])
    return torch.stack(world_r, dim=-3), torch.stack(world_p, dim=-2)


def world_rotations_padded(local_rotations: torch.Tensor, parents: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """World rotations ``(B, T, J, 3, 3)`` of a padded batch of rigs (differentiable), one step per depth.

    Args:
        local_rotations: ``(B, T, J, 3, 3)``.
        parents: ``(B, J)`` int64; roots and padding point at themselves.
        depth: ``(B, J)`` int64 number of ancestors.
    """
    import torch

    B, T, J = local_rotations.shape[:3]
    index = parents[:, None, :, None, None].expand(B, T, J, 3, 3)
    world = local_rotations
    for d in range(1, int(depth.max()) + 1 if depth.numel() else 1):
        above = torch.gather(world, 2, index) @ local_rotations
        world = torch.where((depth == d)[:, None, :, None, None], above, world)
    return world


def inverse_kinematics_local(parents: np.ndarray, world_rotations: np.ndarray) -> np.ndarray:
    """Local (parent-space) rotations ``(..., J, 3, 3)`` from world rotations."""
    world_rotations = np.asarray(world_rotations, dtype=np.float64)
    local = world_rotations.copy()
    for j, p in enumerate(parents):
        if p >= 0:
            local[..., j, :, :] = np.swapaxes(world_rotations[..., p, :, :], -1, -2) @ world_rotations[..., j, :, :]
    return local
