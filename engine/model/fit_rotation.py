"""Analytic per-joint world rotation deltas from positions: the P2R prior (no learning).

For joint ``j`` with children ``c``, the world-frame rotation ``F_j`` that best carries the
reference child offsets ``a_c = p_ref[c] - p_ref[j]`` onto the current ones
``b_c = p[c] - p[j]`` solves the orthogonal Procrustes (Kabsch) problem
``max_F sum_c b_c^T F a_c``: with ``M = sum_c b_c a_c^T + lam * I`` and ``M = U S V^T``,
``F = U diag(1, 1, det(U V^T)) V^T``. The ``lam * I`` term pulls the solution towards the
identity, so with a single child (rank-one ``M``, twist undetermined) it gives the shortest-arc
swing rather than an arbitrary twist. Joints without children copy their parent's ``F``.

P2R composes its learned correction with ``F`` (see :mod:`engine.model.p2r`), so the untrained
network equals this swing-only IK and training learns twist, noise and context. No gradient is
needed through ``F``: it depends on input positions only.
"""

from __future__ import annotations

import torch

__all__ = ["child_fit_rotations"]

LAMBDA = 1e-3  # identity pull, relative to the mean |a||b| of the joint's children


def child_fit_rotations(pos: torch.Tensor, ref_pos: torch.Tensor, parents: torch.Tensor, has_child: torch.Tensor) -> torch.Tensor:
    """World rotation deltas ``(B, T, J, 3, 3)`` fitted to each joint's child offsets.

    Args:
        pos: ``(B, T, J, 3)`` model-space positions.
        ref_pos: ``(B, J, 3)`` model-space reference positions.
        parents: ``(B, J)`` int64, roots and padding point at themselves.
        has_child: ``(B, J)`` bool.
    """
    B, T, J, _ = pos.shape
    par3 = parents[:, None, :, None].expand(B, T, J, 3)
    b = pos - torch.gather(pos, 2, par3)  # (B, T, J, 3) offset of each joint from its parent
    a = ref_pos - torch.gather(ref_pos, 1, parents[:, :, None].expand(B, J, 3))  # (B, J, 3)
    outer = b[..., :, None] * a[:, None, :, None, :]  # (B, T, J, 3, 3) b a^T, credited to the parent
    m = torch.zeros_like(outer).scatter_add_(2, parents[:, None, :, None, None].expand(B, T, J, 3, 3), outer)
    scale = torch.zeros(B, T, J, device=pos.device, dtype=pos.dtype).scatter_add_(
        2, parents[:, None, :].expand(B, T, J), b.norm(dim=-1) * a.norm(dim=-1)[:, None]
    )  # (B, T, J) sum of |a||b| over children
    eye = torch.eye(3, device=pos.device, dtype=pos.dtype)
    m = m + (LAMBDA * scale + 1e-9)[..., None, None] * eye
    u, _, vh = torch.linalg.svd(m)
    d = torch.sign(torch.linalg.det(u @ vh))
    d = torch.where(d == 0, torch.ones_like(d), d)
    fit = u @ torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], dim=-1)) @ vh
    parent_fit = torch.gather(fit, 2, parents[:, None, :, None, None].expand(B, T, J, 3, 3))
    return torch.where(has_child[:, None, :, None, None], fit, parent_fit)
