"""Differentiable 6D rotation helpers in torch, in the project convention (DESIGN §3).

6D = the first two **rows** of the rotation matrix, as :mod:`engine.rotations` (numpy) does;
the tests check both agree.
"""

from __future__ import annotations

import torch

__all__ = ["IDENTITY_6D", "sixd_to_matrix", "matrix_to_sixd", "geodesic_angle"]

IDENTITY_6D = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_EPS = 1e-8


def sixd_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` -> ``(..., 3, 3)`` by Gram-Schmidt on the two rows; row 3 = row 1 x row 2."""
    a1, a2 = d6[..., :3], d6[..., 3:6]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    a2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = a2 / a2.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-2)


def matrix_to_sixd(m: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` -> ``(..., 6)``: the first two rows, flattened."""
    return m[..., :2, :].flatten(-2)


def geodesic_angle(m1: torch.Tensor, m2: torch.Tensor) -> torch.Tensor:
    """Angle in radians ``(...)`` of the relative rotation between two rotation-matrix batches.

    The arccos argument is clamped slightly inside [-1, 1] so the gradient stays finite.
    """
    trace = (m1 * m2).sum(dim=(-1, -2))  # trace(m1^T m2)
    return torch.acos(((trace - 1.0) * 0.5).clamp(-1.0 + 1e-6, 1.0 - 1e-6))
