"""Analytic per-joint world rotation deltas from positions: the P2R prior (no learning).

For joint ``j``, let ``u`` be the offset to its longest child (rest length) and ``v`` the offset
to its second-longest child, in the reference pose (``*_ref``) and now. The fit ``F_j`` is a
world-frame rotation that carries the reference offsets onto the current ones:

- two or more children, not collinear: ``F = frame(u, v) @ frame(u_ref, v_ref)^T`` with
  ``frame(u, v) = [u^, (u x v)^, u^ x (u x v)^]`` (columns): ``u`` exactly, ``v``'s plane exactly;
- one child (or collinear children): the joint first turns with its parent, then the shortest
  arc takes the turned offset onto ``u``: ``F = arc(F_parent u_ref -> u) @ F_parent`` (so twist
  is inherited down a chain, as analytic IK does; roots use the identity as parent);
- no child: the parent's ``F`` (a leaf turns with its parent).

Parents come first, so one pass per depth level (``max_depth + 1`` passes of elementwise work)
settles every joint.

Everything is closed form and elementwise (no SVD: batched 3x3 SVDs cost milliseconds on the
CPU). P2R composes its learned correction with ``F`` (see :mod:`engine.model.p2r`), so the
untrained network is this swing IK and training learns twist, noise and context. No gradient is
needed through ``F``: it depends on input positions only.
"""

from __future__ import annotations

import torch

__all__ = ["shortest_arc", "child_fit_rotations"]

_COLLINEAR = 0.1  # |u^ x v^| below this (about 6 degrees) counts as collinear


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def _gather(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, T, J, 3)`` rows picked by ``index`` ``(B, J)``."""
    B, T, J, C = x.shape
    return torch.gather(x, 2, index[:, None, :, None].expand(B, T, J, C))


def shortest_arc(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` turning unit ``a`` onto unit ``b`` about ``a x b``.

    Rodrigues with ``K = [a x b]_x``: ``R = I + K + K^2 / (1 + a.b)``; the denominator is clamped
    so a 180-degree flip stays finite (its axis is undetermined anyway).
    """
    w = torch.linalg.cross(a, b, dim=-1)
    c = (a * b).sum(-1)
    zero = torch.zeros_like(c)
    k = torch.stack([zero, -w[..., 2], w[..., 1], w[..., 2], zero, -w[..., 0], -w[..., 1], w[..., 0], zero], dim=-1)
    k = k.unflatten(-1, (3, 3))
    eye = torch.eye(3, device=a.device, dtype=a.dtype)
    return eye + k + (k @ k) / (1.0 + c).clamp_min(1e-6)[..., None, None]


def _frame(u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthonormal frame (columns) from ``u`` and the plane of ``u, v``, and ``|u^ x v^|``."""
    e1 = _unit(u)
    n = torch.linalg.cross(e1, _unit(v), dim=-1)
    e2 = _unit(n)
    e3 = torch.linalg.cross(e1, e2, dim=-1)
    return torch.stack([e1, e2, e3], dim=-1), n.norm(dim=-1)


def child_fit_rotations(
    pos: torch.Tensor, ref_pos: torch.Tensor, child1: torch.Tensor, child2: torch.Tensor, parents: torch.Tensor,
    depth: torch.Tensor, max_depth: int,
) -> torch.Tensor:
    """World rotation deltas ``(B, T, J, 3, 3)`` fitted to each joint's child offsets.

    Args:
        pos: ``(B, T, J, 3)`` model-space positions.
        ref_pos: ``(B, J, 3)`` model-space reference positions.
        child1: ``(B, J)`` int64 longest child, the joint itself when it has none.
        child2: ``(B, J)`` int64 second-longest child, the joint itself when it has fewer than two.
        parents: ``(B, J)`` int64, roots and padding point at themselves.
        depth: ``(B, J)`` int64 number of ancestors (padding 0).
        max_depth: ``depth.max()`` as a Python int (static per rig, so a compiled step unrolls it).
    """
    B, T, J, _ = pos.shape
    ref = ref_pos[:, None]  # (B, 1, J, 3)
    u, u_ref = _gather(pos, child1) - pos, _gather(ref, child1) - ref
    v, v_ref = _gather(pos, child2) - pos, _gather(ref, child2) - ref
    f_now, s_now = _frame(u, v)
    f_ref, s_ref = _frame(u_ref, v_ref)
    two = f_now @ f_ref.transpose(-1, -2)  # (B, T, J, 3, 3)
    idx = torch.arange(J, device=pos.device)
    has_child = (child1 != idx)[:, None, :, None, None]  # (B, 1, J, 1, 1)
    planar = ((child2 != idx)[:, None, :] & (s_now > _COLLINEAR) & (s_ref > _COLLINEAR))[..., None, None]
    u_ref_t = _unit(u_ref).expand(B, T, J, 3)[..., None]  # (B, T, J, 3, 1)
    u_now = _unit(u)
    fit = torch.eye(3, device=pos.device, dtype=pos.dtype).expand(B, T, J, 3, 3)
    index = parents[:, None, :, None, None].expand(B, T, J, 3, 3)
    for d in range(max_depth + 1):
        parent_fit = torch.gather(fit, 2, index)  # roots gather their own (still identity) entry
        single = shortest_arc(_unit((parent_fit @ u_ref_t)[..., 0]), u_now) @ parent_fit
        new = torch.where(has_child, torch.where(planar, two, single), parent_fit)
        fit = torch.where((depth == d)[:, None, :, None, None], new, fit)
    return fit
