"""The analytic baseline: local joint rotations from joint positions, frame by frame.

:class:`AnalyticIKSolver` implements the rotation-solver protocol of
:mod:`engine.solvers.base` (``reset`` / ``step`` / ``solve``) without learning. It walks the
hierarchy from the roots, so each joint's parent world rotation is already solved:

- a joint with **two or more children** at non-collinear rest offsets gets the best-fit rotation
  (Kabsch: SVD of ``sum_c o_c t_c^T``) that maps its rest child offsets ``t_c`` (its own frame)
  onto the observed offsets ``o_c = x_c - x_j`` (world);
- a joint with **one child** (or collinear children: the longest is the bone, the others carry
  no reliable twist) starts from the reference pair's local rotation under the solved parent,
  ``C = W_parent @ L_ref``, and takes the shortest-arc swing that turns its bone ``C @ t_c`` onto
  the observed one: twist is what the reference had relative to the parent (minimal twist);
- a **leaf** (no child at a non-zero offset) keeps the reference's local rotation.

Children whose offset in the reference pose does not match their rest offset (a translated
joint, e.g. a glTF hips bone animated by translation under a static root) are no rotation cue
and are ignored.

Roots are solved the same way with an identity parent. On noise-free positions of the same rig
the forward kinematics of the result reproduces every joint position (up to rounding), and
multi-child joints get their exact rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.skeleton import Skeleton, translated_joints
from engine.synthetic._fk import depth_levels

__all__ = ["AnalyticIKSolver", "determined_joints", "MIN_OFFSET_FRACTION", "PRIOR_VARIANCE"]

MIN_OFFSET_FRACTION = 1e-4  # child offsets shorter than this fraction of the height count as zero
PRIOR_VARIANCE = 0.05  # rad^2: prior spread (~13 deg) of a joint change from the reference (tuned on synthetic val data, 1% noise)
_COLLINEAR = 0.05  # second singular value / first of the unit rest offsets below this: collinear

_LEAF, _SINGLE, _MULTI = 0, 1, 2


@dataclass(frozen=True)
class _Level:
    """Joints of one tree depth, grouped so the solver handles them together.

    ``single``/``multi`` index into ``joints``; ``pair_*`` list (owner in ``multi``, child, rest
    offset) for every cue child of the multi-child joints.
    """

    joints: np.ndarray
    parents: np.ndarray
    single: np.ndarray
    single_child: np.ndarray
    single_offset: np.ndarray
    multi: np.ndarray
    pair_owner: np.ndarray
    pair_child: np.ndarray
    pair_offset: np.ndarray


def determined_joints(skeleton: Skeleton, translations: np.ndarray | None = None) -> np.ndarray:
    """``(J,)`` bool: joints with at least one child at a non-zero rest offset.

    Positions determine such a joint's rotation (up to twist about the bone when the children are
    collinear); the rotation of the others (leaves) is invisible in joint positions.

    Args:
        skeleton: the rig.
        translations: optional ``(T, J, 3)`` local translations of a clip; children whose
            translation moves away from the rest offset (by more than
            :data:`MIN_OFFSET_FRACTION` of the height) do not count, since their offset is
            animated rather than rotated.
    """
    min_len = MIN_OFFSET_FRACTION * skeleton.height
    lengths = np.linalg.norm(skeleton.rest_translations, axis=-1)
    ok = lengths > min_len
    if translations is not None and len(translations):
        moved = np.linalg.norm(np.asarray(translations) - skeleton.rest_translations, axis=-1).max(axis=0)
        ok &= moved <= min_len
    out = np.zeros(skeleton.num_joints, dtype=bool)
    for c, p in enumerate(skeleton.parents):
        if p >= 0 and ok[c]:
            out[p] = True
    return out


class AnalyticIKSolver:
    """Swing/Kabsch inverse kinematics with twist from the reference pose (see module doc).

    Attributes:
        name: ``"analytic_ik"``.
    """

    name = "analytic_ik"
    takes_hints = False  # orientation links apply after it, analytically (engine.retarget.orientation)

    def __init__(self, position_noise: float = 0.0) -> None:
        """Args:
            position_noise: expected standard deviation of the input positions' noise, as a
                fraction of the skeleton height. When positive, each solved rotation change is
                shrunk towards the reference-derived candidate by ``w = P / (P + 2 s^2 / L^2)``
                (``s`` the noise in metres, ``L`` the cue bone length, or the root of the summed
                squared lengths for several children; ``P`` = :data:`PRIOR_VARIANCE`), the
                posterior mean of a Gaussian prior on the change and the direction's noise.
                Zero (the default) trusts the positions fully.
        """
        if position_noise < 0:
            raise ValueError(f"position_noise must be >= 0, got {position_noise}")
        self.position_noise = float(position_noise)
        self._skeleton: Skeleton | None = None

    def reset(self, skeleton: Skeleton, ref_positions: np.ndarray, ref_rotations: np.ndarray) -> None:
        """Prepare for a rig.

        Args:
            skeleton: the rig.
            ref_positions: ``(J, 3)`` world metres of the reference pose (used to spot translated
                joints: children whose offset there is not their rotated rest offset).
            ref_rotations: ``(J, 4)`` x y z w local rotations of the reference pose.
        """
        J = skeleton.num_joints
        ref_rotations = np.asarray(ref_rotations, dtype=np.float64)
        if ref_rotations.shape != (J, 4):
            raise ValueError(f"ref_rotations must be ({J}, 4), got {ref_rotations.shape}")
        self._skeleton = skeleton
        self._ref_local = rot.quat_to_matrix(ref_rotations)  # (J, 3, 3)
        min_len = MIN_OFFSET_FRACTION * skeleton.height
        offsets = skeleton.rest_translations
        translated = translated_joints(skeleton, np.asarray(ref_positions, dtype=np.float64), self._ref_local)
        self._mode = np.full(J, _LEAF)
        self._kids: list[np.ndarray] = []
        self._kid_offsets: list[np.ndarray] = []  # (C, 3) rest offsets in the joint's frame
        for j in range(J):
            kids = [c for c in skeleton.children(j) if np.linalg.norm(offsets[c]) > min_len and not translated[c]]
            kids.sort(key=lambda c: -np.linalg.norm(offsets[c]))  # longest first
            t = offsets[kids].reshape(-1, 3)
            if len(kids) >= 2:
                unit = t / np.linalg.norm(t, axis=-1, keepdims=True)
                s = np.linalg.svd(unit, compute_uv=False)
                self._mode[j] = _MULTI if s[1] > _COLLINEAR * s[0] else _SINGLE
            elif len(kids) == 1:
                self._mode[j] = _SINGLE
            if self._mode[j] == _SINGLE:
                # Extra children (nearly) along the main bone carry no reliable twist: fitting the
                # twist to them turned a few millimetres of position noise into a roll (the snake's
                # head, 2 mm off the axis of its spine, rolled the whole body 87 deg on live input).
                kids, t = kids[:1], t[:1]
            self._kids.append(np.array(kids, dtype=np.int64))
            self._kid_offsets.append(t)
        self._levels = [self._plan_level(skeleton, idx) for idx in depth_levels(skeleton.parents)]

    def _plan_level(self, skeleton: Skeleton, joints: np.ndarray) -> _Level:
        """Index arrays to solve all joints of one tree depth at once."""
        mode = self._mode[joints]
        single = np.flatnonzero(mode == _SINGLE)
        multi = np.flatnonzero(mode == _MULTI)
        owner, child, offset = [], [], []
        for m, k in enumerate(multi):
            j = joints[k]
            owner += [m] * len(self._kids[j])
            child += list(self._kids[j])
            offset += list(self._kid_offsets[j])
        return _Level(
            joints=joints,
            parents=skeleton.parents[joints],
            single=single,
            single_child=np.array([self._kids[joints[k]][0] for k in single], dtype=np.int64),
            single_offset=np.array([self._kid_offsets[joints[k]][0] for k in single]).reshape(-1, 3),
            multi=multi,
            pair_owner=np.array(owner, dtype=np.int64),
            pair_child=np.array(child, dtype=np.int64),
            pair_offset=np.array(offset).reshape(-1, 3),
        )

    def step(self, positions: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        """``(J, 4)`` local rotations for one frame of ``(J, 3)`` world positions (metres); ``hints`` are not used."""
        return self.solve(np.asarray(positions)[None])[0]

    def solve(self, positions: np.ndarray) -> np.ndarray:
        """``(T, J, 4)`` x y z w local rotations for ``(T, J, 3)`` world positions (metres).

        Frames are independent (the solver is causal and stateless between frames).
        """
        if self._skeleton is None:
            raise RuntimeError("AnalyticIKSolver.solve called before reset()")
        sk = self._skeleton
        x = np.asarray(positions, dtype=np.float64)
        if x.ndim != 3 or x.shape[1:] != (sk.num_joints, 3):
            raise ValueError(f"positions must be (T, {sk.num_joints}, 3), got {x.shape}")
        T, J = x.shape[:2]
        world = np.empty((T, J, 3, 3))
        for level in self._levels:
            world[:, level.joints] = self._solve_level(level, x, world)
        parents = sk.parents
        local = world.copy()
        has_p = parents >= 0
        local[:, has_p] = np.swapaxes(world[:, parents[has_p]], -1, -2) @ world[:, has_p]
        return rot.matrix_to_quat(local, orthonormal=True)

    def _solve_level(self, level: _Level, x: np.ndarray, world: np.ndarray) -> np.ndarray:
        """World rotations ``(T, n, 3, 3)`` of one depth level; parents' are already in ``world``."""
        T = x.shape[0]
        n = len(level.joints)
        inner = level.parents >= 0
        if inner.all():
            parent_w = world[:, level.parents]
        else:
            parent_w = np.broadcast_to(np.eye(3), (T, n, 3, 3)).copy()
            parent_w[:, inner] = world[:, level.parents[inner]]
        cand = parent_w @ self._ref_local[level.joints]  # (T, n, 3, 3) reference local under the parent
        if len(level.single):
            joints = level.joints[level.single]
            bone = np.einsum("tsab,sb->tsa", cand[:, level.single], level.single_offset)
            observed = x[:, level.single_child] - x[:, joints]  # (T, s, 3)
            swing = rot.quat_between(bone, observed)  # (T, s, 4)
            if self.position_noise > 0:
                swing = self._shrink(swing, np.sum(level.single_offset**2, axis=-1))
            cand[:, level.single] = rot.quat_to_matrix(swing) @ cand[:, level.single]
        if len(level.multi):
            joints = level.joints[level.multi]
            o = x[:, level.pair_child] - x[:, joints[level.pair_owner]]  # (T, P, 3) observed offsets
            outer = np.einsum("tpa,pb->ptab", o, level.pair_offset)  # (P, T, 3, 3) o_c t_c^T
            h = np.zeros((len(joints), T, 3, 3))
            np.add.at(h, level.pair_owner, outer)
            u, _, vt = np.linalg.svd(h)  # Kabsch: the rotation closest to h
            d = np.sign(np.linalg.det(u @ vt))
            u[..., :, 2] *= np.where(d == 0, 1.0, d)[..., None]
            fit = np.swapaxes(u @ vt, 0, 1)  # (T, m, 3, 3)
            if self.position_noise > 0:
                ref = cand[:, level.multi]
                change = rot.matrix_to_quat(fit @ np.swapaxes(ref, -1, -2), orthonormal=True)  # world-frame change
                sq_len = np.bincount(level.pair_owner, np.sum(level.pair_offset**2, axis=-1), minlength=len(joints))
                fit = rot.quat_to_matrix(self._shrink(change, sq_len)) @ ref
            cand[:, level.multi] = fit
        return cand

    def _shrink(self, change: np.ndarray, sq_len: np.ndarray) -> np.ndarray:
        """Scale rotation changes ``(T, n, 4)`` by their confidence (see ``__init__``); ``sq_len`` ``(n,)``."""
        sigma = self.position_noise * self._skeleton.height
        w = PRIOR_VARIANCE / (PRIOR_VARIANCE + 2.0 * sigma**2 / np.maximum(sq_len, 1e-12))  # (n,)
        return rot.axis_angle_to_quat(rot.quat_to_axis_angle(change) * w[:, None])
