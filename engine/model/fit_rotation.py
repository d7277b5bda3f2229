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

Why numpy and not torch: the chain rule above is a sequential pass over depth levels (a 100-joint
snake has 100 of them). Each level is a handful of tiny array operations, where numpy's per-call
overhead is several times below torch's, and only that level's joints are touched; at J = 100,
depth 40 this takes under a millisecond where the all-joint torch version took five. No gradient
is needed through ``F`` (it depends on input positions only), so P2R takes it as an input
(:class:`FitPlan` is built once per rig; the session calls it outside the compiled step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["FitPlan", "shortest_arc"]

_COLLINEAR = 0.1  # |u^ x v^| below this (about 6 degrees) counts as collinear
_FLIP = -1.0 + 1e-4  # a.b below this: the Rodrigues form degrades, use an exact half turn
_EYE = np.eye(3)
_EYE.flags.writeable = False


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product over the last axis (faster than ``np.cross`` on small arrays)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` turning unit ``a`` onto unit ``b`` about ``a x b``.

    Rodrigues with ``K = [a x b]_x = b a^T - a b^T``: ``R = I + K + K^2 / (1 + a.b)``, written
    with outer products (no cross product, no element assignments): it runs once per depth level
    of every rig, so numpy call count is what it costs. Near a 180-degree flip (``1 + a.b`` below
    1e-4) the formula loses orthonormality, and chained fits would compound that into huge
    values, so there the half turn about an axis perpendicular to ``a`` is used (the axis is
    undetermined anyway). A zero vector gives the identity.
    """
    a_row, b_col = a[..., None, :], b[..., :, None]
    k = b_col * a_row
    k = k - np.swapaxes(k, -1, -2)
    c = a_row @ b_col  # (..., 1, 1)
    r = k @ k
    r /= np.maximum(1.0 + c, 1e-4)
    r += k
    r += _EYE
    # a.b < -0.9999 implies both are (near) unit, so a zero vector never counts as a flip.
    if c.min(initial=0.0) < _FLIP:
        flip = c[..., 0, 0] < _FLIP
        af = a[flip]
        helper = np.where(np.abs(af[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        n = _unit(_cross(af, helper))
        r[flip] = 2.0 * n[:, :, None] * n[:, None, :] - _EYE
    return r


def _frame(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal frame (columns) from ``u`` and the plane of ``u, v``, and ``|u^ x v^|``."""
    e1 = _unit(u)
    n = _cross(e1, _unit(v))
    e2 = _unit(n)
    e3 = _cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1), np.linalg.norm(n, axis=-1)


class _Level(NamedTuple):
    """The joints of one depth that have a child, with what the chain rule reads for them,
    gathered once per rig (each fancy index saved is a numpy call saved per level and frame)."""

    joints: np.ndarray  # (n,) flattened joint indices
    parents: np.ndarray  # (n,) their parents
    u_ref: np.ndarray  # (n, 3, 1) unit reference offsets to the first child
    any_planar: bool  # some joint here has two non-collinear children in the reference


@dataclass(frozen=True)
class FitPlan:
    """Everything static the fit of one batch of rigs needs; joints are flattened to ``B * J``.

    Attributes:
        child1, child2, parents: ``(B * J,)`` flattened indices (self when absent; roots/padding
            are their own parent).
        levels: per depth, the joints of that depth that have a child (the only ones whose fit
            depends on their parent's), as :class:`_Level`; leaves are filled from their parent
            at the end.
        leaves: flattened joints without a child.
        u_ref: ``(B * J, 3)`` unit reference offsets to the first child.
        ref_frame_t: ``(B * J, 3, 3)`` transposed :func:`_frame` of the reference offsets.
        ref_planar: ``(B * J,)`` bool: two children, not collinear in the reference.
    """

    child1: np.ndarray
    child2: np.ndarray
    parents: np.ndarray
    levels: tuple[_Level, ...]
    leaves: np.ndarray
    u_ref: np.ndarray
    ref_frame_t: np.ndarray
    ref_planar: np.ndarray

    @classmethod
    def build(cls, ref_pos: torch.Tensor | np.ndarray, parents: torch.Tensor | np.ndarray, child1: torch.Tensor | np.ndarray,
              child2: torch.Tensor | np.ndarray, depth: torch.Tensor | np.ndarray) -> FitPlan:
        """From ``(B, J, 3)`` reference positions and ``(B, J)`` parents, children and depths (as in :class:`RigTensors`)."""
        ref = np.asarray(torch.as_tensor(ref_pos).detach().cpu(), dtype=np.float64)
        B, J, _ = ref.shape
        base = np.arange(B)[:, None] * J

        def flat(x) -> np.ndarray:
            return (np.asarray(torch.as_tensor(x).cpu(), dtype=np.int64) + base).reshape(-1)

        c1, c2, par = flat(child1), flat(child2), flat(parents)
        dep = np.asarray(torch.as_tensor(depth).cpu()).reshape(-1)
        joint = np.arange(B * J)
        has_child = c1 != joint
        flat_ref = ref.reshape(B * J, 3)
        u_ref, v_ref = flat_ref[c1] - flat_ref, flat_ref[c2] - flat_ref
        frame, spread = _frame(u_ref, v_ref)
        u_ref = _unit(u_ref)
        ref_planar = (c2 != joint) & (spread > _COLLINEAR)
        levels = []
        for d in range(int(dep.max()) + 1):
            joints = np.flatnonzero(has_child & (dep == d))
            if joints.size:
                levels.append(_Level(joints, par[joints], u_ref[joints, :, None], bool(ref_planar[joints].any())))
        return cls(c1, c2, par, tuple(levels), np.flatnonzero(~has_child), u_ref, np.swapaxes(frame, -1, -2), ref_planar)

    def rotations(self, pos: np.ndarray) -> np.ndarray:
        """World rotation deltas ``(B, T, J, 3, 3)`` float64 from model-space positions ``(B, T, J, 3)``."""
        B, T, J, _ = pos.shape
        p = np.asarray(pos, dtype=np.float64).transpose(1, 0, 2, 3).reshape(T, B * J, 3)  # (T, N, 3)
        u = p[:, self.child1] - p
        f_now, s_now = _frame(u, p[:, self.child2] - p)
        planar = self.ref_planar & (s_now > _COLLINEAR)  # (T, N)
        two = f_now @ self.ref_frame_t  # (T, N, 3, 3)
        u_now = _unit(u)
        fit = np.broadcast_to(_EYE, (T, B * J, 3, 3)).copy()
        for level in self.levels:
            joints = level.joints
            parent_fit = fit[:, level.parents]  # roots read their own, still identity, entry
            turned = (parent_fit @ level.u_ref)[..., 0]  # (T, n, 3), unit: rotations keep length
            single = shortest_arc(turned, u_now[:, joints]) @ parent_fit
            if level.any_planar:
                single = np.where(planar[:, joints, None, None], two[:, joints], single)
            fit[:, joints] = single
        fit[:, self.leaves] = fit[:, self.parents[self.leaves]]
        return fit.reshape(T, B, J, 3, 3).transpose(1, 0, 2, 3, 4)

    def __call__(self, pos: torch.Tensor) -> torch.Tensor:
        """:meth:`rotations` for a torch tensor ``(B, T, J, 3)``; same dtype and device, no gradient."""
        fit = self.rotations(pos.detach().cpu().numpy())
        return torch.from_numpy(np.ascontiguousarray(fit)).to(device=pos.device, dtype=pos.dtype)
