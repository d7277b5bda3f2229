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
overhead is several times below torch's, and only that level's joints are touched (about 1 ms at
J = 100, depth 40, where the all-joint torch version took five). A single frame (the live step)
goes joint by joint in plain Python floats instead: 0.2 ms at that size, whatever the depth. No gradient
is needed through ``F`` (it depends on input positions only), so P2R takes it as an input
(:class:`FitPlan` is built once per rig; the session calls it outside the compiled step).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["FitPlan", "shortest_arc"]

_COLLINEAR = 0.1  # |u^ x v^| below this (about 6 degrees) counts as collinear
_FLIP = -1.0 + 1e-4  # a.b below this: the Rodrigues form degrades, use an exact half turn
_EYE = np.eye(3)
_EYE.flags.writeable = False
_EYE_ROW = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)  # the identity, row-major, for the one-frame path


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
        ref_frame_t: ``(B * J, 3, 3)`` transposed :func:`_frame` of the reference offsets.
        ref_planar: ``(B * J,)`` bool: two children, not collinear in the reference.
    """

    child1: np.ndarray
    child2: np.ndarray
    parents: np.ndarray
    levels: tuple[_Level, ...]
    leaves: np.ndarray
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
        return cls(c1, c2, par, tuple(levels), np.flatnonzero(~has_child), np.swapaxes(frame, -1, -2), ref_planar)

    def rotations(self, pos: np.ndarray) -> np.ndarray:
        """World rotation deltas ``(B, T, J, 3, 3)`` float64 from model-space positions ``(B, T, J, 3)``."""
        B, T, J, _ = pos.shape
        p = np.asarray(pos, dtype=np.float64).transpose(1, 0, 2, 3).reshape(T, B * J, 3)  # (T, N, 3)
        u = p[:, self.child1] - p
        f_now, s_now = _frame(u, p[:, self.child2] - p)
        planar = self.ref_planar & (s_now > _COLLINEAR)  # (T, N)
        two = f_now @ self.ref_frame_t  # (T, N, 3, 3)
        u_now = _unit(u)
        if T == 1:
            return self._chain_one_frame(u_now[0], planar[0], two[0]).reshape(1, B, J, 3, 3).transpose(1, 0, 2, 3, 4)
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

    def _chain_one_frame(self, u_now: np.ndarray, planar: np.ndarray, two: np.ndarray) -> np.ndarray:
        """The chain rule of :meth:`rotations` for one frame, joint by joint in plain Python floats.

        The live step is one frame: there, a level holds one to a few joints, and numpy's per-call
        overhead (about 20 us per level, so 2 ms for a 100-joint snake) dwarfs the arithmetic; scalar
        code costs about 5 us per joint whatever the depth. Same formulas as :func:`shortest_arc`
        with ``K = [a x b]_x``, so ``K^2 = v v^T - |v|^2 I`` (``v = a x b``); a test holds the two
        paths equal. Arrays: ``(N, 3)``, ``(N,)``, ``(N, 3, 3)``; returns ``(N, 3, 3)``.
        """
        u_list, planar_list, two_list = u_now.tolist(), planar.tolist(), two.reshape(-1, 9).tolist()
        fit: list = [_EYE_ROW] * len(planar_list)
        for j, parent, (rx, ry, rz) in self._single_frame_order:
            if planar_list[j]:
                fit[j] = two_list[j]
                continue
            f0, f1, f2, f3, f4, f5, f6, f7, f8 = fit[parent]  # roots read their own, still identity, entry
            ax, ay, az = f0 * rx + f1 * ry + f2 * rz, f3 * rx + f4 * ry + f5 * rz, f6 * rx + f7 * ry + f8 * rz
            bx, by, bz = u_list[j]
            c = ax * bx + ay * by + az * bz
            if c < _FLIP:  # half turn about an axis perpendicular to a
                hx, hy, hz = _unit(_cross(np.array([ax, ay, az]), np.array([1.0, 0, 0] if abs(ax) < 0.9 else [0, 1.0, 0]))).tolist()
                r0, r1, r2 = 2 * hx * hx - 1, 2 * hx * hy, 2 * hx * hz
                r3, r4, r5 = r1, 2 * hy * hy - 1, 2 * hy * hz
                r6, r7, r8 = r2, r5, 2 * hz * hz - 1
            else:
                vx, vy, vz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
                h = 1.0 / max(1.0 + c, 1e-4)
                s = vx * vx + vy * vy + vz * vz
                xy, xz, yz = vx * vy * h, vx * vz * h, vy * vz * h
                r0, r1, r2 = 1 + (vx * vx - s) * h, xy - vz, xz + vy
                r3, r4, r5 = xy + vz, 1 + (vy * vy - s) * h, yz - vx
                r6, r7, r8 = xz - vy, yz + vx, 1 + (vz * vz - s) * h
            fit[j] = (r0 * f0 + r1 * f3 + r2 * f6, r0 * f1 + r1 * f4 + r2 * f7, r0 * f2 + r1 * f5 + r2 * f8,
                      r3 * f0 + r4 * f3 + r5 * f6, r3 * f1 + r4 * f4 + r5 * f7, r3 * f2 + r4 * f5 + r5 * f8,
                      r6 * f0 + r7 * f3 + r8 * f6, r6 * f1 + r7 * f4 + r8 * f7, r6 * f2 + r7 * f5 + r8 * f8)
        leaf_fits = [fit[parent] for parent in self._leaf_parents]  # all read before any is written, as in rotations()
        for leaf, value in zip(self._leaf_list, leaf_fits):
            fit[leaf] = value
        return np.array(fit).reshape(-1, 3, 3)

    @cached_property
    def _single_frame_order(self) -> list[tuple[int, int, tuple[float, float, float]]]:
        """(joint, parent, unit reference offset) of every joint with a child, parents first."""
        return [(j, p, tuple(u)) for level in self.levels for j, p, u in zip(level.joints.tolist(), level.parents.tolist(), level.u_ref[..., 0].tolist())]

    @cached_property
    def _leaf_list(self) -> list[int]:
        return self.leaves.tolist()

    @cached_property
    def _leaf_parents(self) -> list[int]:
        return self.parents[self.leaves].tolist()

    def __call__(self, pos: torch.Tensor) -> torch.Tensor:
        """:meth:`rotations` for a torch tensor ``(B, T, J, 3)``; same dtype and device, no gradient."""
        fit = self.rotations(pos.detach().cpu().numpy())
        return torch.from_numpy(np.ascontiguousarray(fit)).to(device=pos.device, dtype=pos.dtype)
