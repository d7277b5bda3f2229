"""Performer joint positions -> target rig joint positions, keeping the rig's bone lengths.

For each ``direct`` chain map, the rig chain and the performer chain are matched by normalised arc
length (piecewise between named anchors such as the elbow and the wrist when both chains have
them), so chains with different joint counts correspond smoothly. Each rig bone ``k`` gets the
direction of the matching stretch of the performer chain, turned by a constant alignment ``A_k``
that maps the performer's reference pose (T-pose or arms-down) onto the rig's rest pose:

    t_k = H B (A_k (B^T d_k))

with ``d_k`` the performer direction (world), ``B`` the performer's body frame
(:func:`engine.performer.body_frame`, identity at rest) and ``H`` the turn from the performer's
facing (+Z) to the rig's. ``A_k`` is constant, so no pose is singular. The arc-length matching uses
the performer's *reference* proportions, which makes it one fixed linear operator per chain
(``d = D @ points``): cheap, and steady when perceived bone lengths jitter.

Positions are then rebuilt from the root with the rig's own bone lengths: mapped bones take their
new direction, every other joint follows its parent rigidly (the parent bone's swing rotation), so
all bone lengths are exact. The root moves with the performer's pelvis relative to the first frame
after construction or :meth:`Retargeter.reset`, scaled by the ratio of leg lengths (rig /
performer; the height ratio when the rig has no mapped leg) and turned by the rig's facing.

Joint range of wings: no wing joint (fingers included) goes below the rig's floor (its lowest rest
joint, relative to the root): a wing that would is swung up about its attachment, rigidly, by the
smallest angle that lifts its lowest joint to the floor, so no arm pose drives a wing through the
floor or the legs.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine import rotations as rot
from engine.performer import (
    NUM_PERFORMER_JOINTS,
    PERFORMER_CHAINS,
    body_frame,
    performer_arms_down_positions,
    performer_index,
    performer_rest_positions,
    performer_skeleton,
)
from engine.retarget.chains import joint_part
from engine.retarget.mapping import ChainMap, RetargetMap, RetargetMapError
from engine.skeleton import Skeleton

__all__ = ["Retargeter"]

_MIRROR = np.diag([-1.0, 1.0, 1.0])  # swaps the performer's left and right in the body frame


def _arc(points: np.ndarray) -> np.ndarray:
    """``(N,)`` normalised cumulative arc length of a polyline ``(N, 3)`` (0 ... 1)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=-1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    return cum / cum[-1] if cum[-1] > 1e-12 else np.linspace(0.0, 1.0, len(points))


def _sample_weights(arc: np.ndarray, u: float) -> np.ndarray:
    """``(N,)`` weights w with ``w @ points`` = the point at normalised arc length ``u``."""
    w = np.zeros(len(arc))
    k = int(np.clip(np.searchsorted(arc, u, side="right") - 1, 0, len(arc) - 2))
    span = arc[k + 1] - arc[k]
    f = 0.0 if span < 1e-12 else float(np.clip((u - arc[k]) / span, 0.0, 1.0))
    w[k], w[k + 1] = 1.0 - f, f
    return w


def _direction_operator(ref_points: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """``(K, N)`` matrix D: ``D @ points`` = the (unnormalised) directions of the K spans.

    A span of (near) zero length takes the tangent of the reference segment it lies on.
    """
    arc = _arc(ref_points)
    N = len(ref_points)
    D = np.zeros((len(spans), N))
    for k, (u0, u1) in enumerate(spans):
        row = _sample_weights(arc, u1) - _sample_weights(arc, u0)
        if u1 - u0 < 1e-6 or np.linalg.norm(row @ ref_points) < 1e-9:
            seg = int(np.clip(np.searchsorted(arc, 0.5 * (u0 + u1), side="right") - 1, 0, N - 2))
            while seg < N - 2 and np.linalg.norm(ref_points[seg + 1] - ref_points[seg]) < 1e-9:
                seg += 1
            row = np.zeros(N)
            row[seg], row[seg + 1] = -1.0, 1.0
        D[k] = row
    return D


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _rotations_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` shortest-arc rotations taking unit vectors ``a (n, 3)`` onto ``b (n, 3)``."""
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    K = np.zeros(a.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    K[..., 1, 0], K[..., 2, 0], K[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    opposite = c < -1.0 + 1e-9
    R = np.eye(3) + K + (K @ K) / np.maximum(1.0 + c, 1e-9)[..., None, None]
    if np.any(opposite):  # 180 degrees: about any axis orthogonal to a
        R[opposite] = rot.quat_to_matrix(rot.quat_between(a[opposite], b[opposite]))
    return R


def _lift_above(pos: np.ndarray, pivot: int, joints: np.ndarray, floor: float, lateral: np.ndarray) -> None:
    """Swing ``pos[joints]`` rigidly up about ``pos[pivot]`` (in place) until none is below ``floor``.

    The swing axis is horizontal, across the direction from the pivot to the lowest joint; the
    smallest angle is found by bisection (12 steps, under 0.05 deg).
    """
    low = int(np.argmin(pos[joints, 1]))
    if pos[joints[low], 1] >= floor:
        return
    p0 = pos[pivot]
    rel = pos[joints] - p0
    out = rel[low] * [1.0, 0.0, 1.0]
    out = out / np.linalg.norm(out) if np.linalg.norm(out) > 1e-6 else lateral
    axis = np.cross(out, [0.0, 1.0, 0.0])  # turning about it lifts ``out``
    lo, hi = 0.0, np.pi
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        R = rot.axis_angle_to_matrix(axis * mid)
        if float((rel @ R.T)[:, 1].min()) + p0[1] < floor:
            lo = mid
        else:
            hi = mid
    pos[joints] = p0 + rel @ rot.axis_angle_to_matrix(axis * hi).T


class _DirectChain:
    """Precomputed data of one ``direct`` chain map."""

    def __init__(self, skeleton: Skeleton, rest: np.ndarray, cm: ChainMap, H: np.ndarray) -> None:
        self.name = str(cm.source)
        self.joints = [skeleton.index(n) for n in cm.target]
        self.source = [performer_index(n) for n in PERFORMER_CHAINS[cm.source]]
        self.delay = int(cm.delay_frames)
        self.mirror = bool(cm.mirror)
        ref = performer_arms_down_positions() if cm.source_pose == "arms_down" else performer_rest_positions()
        tgt = rest[self.joints]
        # Spans: target joint arc lengths mapped piecewise-linearly onto the source's arc lengths,
        # through anchors (target joint part == source joint part, in order along both chains).
        t_arc, s_arc = _arc(tgt), _arc(ref[self.source])
        s_parts = [n.split("_", 1)[-1] for n in PERFORMER_CHAINS[cm.source]]
        # The attachment may itself be a limb joint (a chain starting at the upper arm): start there.
        first = joint_part(cm.target[0])
        anchors_t, anchors_s = [0.0], [float(s_arc[s_parts.index(first)]) if first in s_parts[:-1] else 0.0]
        for i, name in enumerate(cm.target[1:], start=1):
            part = joint_part(name)
            if part in s_parts:
                k = s_parts.index(part)
                if t_arc[i] > anchors_t[-1] and s_arc[k] >= anchors_s[-1]:
                    anchors_t.append(float(t_arc[i]))
                    anchors_s.append(float(s_arc[k]))
        if anchors_t[-1] < 1.0:
            anchors_t.append(1.0)
            anchors_s.append(1.0)
        u = np.interp(t_arc, anchors_t, anchors_s)
        spans = np.stack([u[:-1], u[1:]], axis=-1)  # (K, 2)
        flip = _MIRROR if self.mirror else np.eye(3)
        ref_local = ref[self.source] @ flip.T  # reference in the (mirrored) performer body frame
        self.D = _direction_operator(ref_local, spans)  # (K, N)
        ref_dirs = _unit(self.D @ ref_local)
        rest_dirs = np.diff(tgt, axis=0) @ H  # rig rest directions in the performer's canonical frame
        self.align = rot.quat_to_matrix(rot.quat_between(ref_dirs, rest_dirs))  # (K, 3, 3)
        self.wing = any("wing" in n.lower() for n in cm.target[1:])

    def directions(self, perf: np.ndarray, B_then: np.ndarray, out_frame: np.ndarray) -> np.ndarray:
        """``(K, 3)`` world directions of the chain's bones.

        Args:
            perf: performer positions ``(28, 3)`` of the frame copied (maybe delayed).
            B_then: that frame's body frame.
            out_frame: ``H @ B_now``, the rig's current body frame in the world.
        """
        local = perf[self.source] @ B_then  # (N, 3) body frame (translation cancels in D)
        if self.mirror:
            local = local @ _MIRROR
        d = _unit(self.D @ local)  # (K, 3)
        t = np.einsum("kab,kb->ka", self.align, d)
        return t @ out_frame.T


class Retargeter:
    """Maps performer positions onto one rig, frame by frame (keeps a short history for delays).

    Args:
        skeleton: the target rig's skeleton.
        retarget_map: the chain map (e.g. from :func:`engine.retarget.mapping.suggest_map`).
        root_motion: move the rig's root with the performer's pelvis (False: root stays at rest).
        reference_positions: ``(J, 3)`` the rig pose that corresponds to the performer's T-pose
            (default: the rest pose), e.g. the positions of ``Rig.reference_rotations()`` for a BVH
            whose offsets-only rest pose is not neutral. Bone lengths are the skeleton's either way.

    Raises:
        RetargetMapError: the map names joints the rig does not have, or its facing is vertical.
    """

    def __init__(self, skeleton: Skeleton, retarget_map: RetargetMap, *, root_motion: bool = True,
                 reference_positions: np.ndarray | None = None) -> None:
        where = f"<map of {retarget_map.rig or 'rig'}>"
        self.skeleton = skeleton
        self.map = RetargetMap.from_dict(retarget_map.to_dict(), path=where, skeleton=skeleton)
        self.root_motion = root_motion
        if reference_positions is None:
            self._rest = skeleton.rest_positions()
        else:
            self._rest = np.asarray(reference_positions, dtype=np.float64)
            if self._rest.shape != (skeleton.num_joints, 3) or not np.isfinite(self._rest).all():
                raise ValueError(f"reference_positions must be finite ({skeleton.num_joints}, 3), got {self._rest.shape}")
        f = np.asarray(self.map.forward, dtype=np.float64) * [1.0, 0.0, 1.0]
        if np.linalg.norm(f) < 1e-9:
            raise RetargetMapError(where, "'forward' must not be vertical")
        f /= np.linalg.norm(f)
        self._H = np.stack([np.cross([0.0, 1.0, 0.0], f), [0.0, 1.0, 0.0], f], axis=-1)  # turns +Z onto f
        self._direct = [_DirectChain(skeleton, self._rest, cm, self._H) for cm in self.map.chains if cm.rule == "direct"]
        # Wings: (attachment, every joint below it on the wing's side, lateral rest direction) for the floor guard.
        self._wings = []
        for c in self._direct:
            if c.wing:
                below = [j for j in range(skeleton.num_joints) if c.joints[1] in skeleton.chain_to_root(j)]
                lateral = (self._rest[c.joints[-1]] - self._rest[c.joints[0]]) * [1.0, 0.0, 1.0]
                self._wings.append((c.joints[0], np.array(below), _unit(lateral + [1e-9, 0.0, 0.0])))
        self._floor = float(self._rest[:, 1].min() - self._rest[skeleton.roots[0], 1])  # below the root
        self._follow = [([skeleton.index(n) for n in cm.target], cm.delay_frames) for cm in self.map.chains if cm.rule == "follow"]
        longest = max([c.delay for c in self._direct] + [len(j) * d for j, d in self._follow] + [0])
        self._history: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=longest + 1)  # (positions, body frame)
        self._scale = self._root_scale()
        self._pelvis0: np.ndarray | None = None
        # Rebuild order: joints grouped by depth, so each level is one vectorised step.
        depth = skeleton.depths()
        self._levels = [np.flatnonzero(depth == d) for d in range(1, int(depth.max()) + 1)] if len(depth) > 1 else []
        parents = skeleton.parents
        self._offsets = self._rest - self._rest[np.maximum(parents, 0)]  # (J, 3) rest offsets from the parent
        self._lengths = np.linalg.norm(self._offsets, axis=-1)

    def _root_scale(self) -> float:
        perf = performer_skeleton()
        legs = [c for c in self._direct if c.name == "left_leg" and not c.mirror]
        if legs:
            tgt = self._rest[legs[0].joints]
            src = perf.rest_positions()[legs[0].source]
            return float(np.linalg.norm(np.diff(tgt, axis=0), axis=-1).sum() / np.linalg.norm(np.diff(src, axis=0), axis=-1).sum())
        return self.skeleton.height / perf.height

    def reset(self) -> None:
        """Forget the history and the root's starting point (after a cut or when the performer is lost)."""
        self._history.clear()
        self._pelvis0 = None

    def __call__(self, performer_positions: np.ndarray) -> np.ndarray:
        return self.retarget(performer_positions)

    def retarget(self, performer_positions: np.ndarray) -> np.ndarray:
        """One frame: performer ``(28, 3)`` metres (internal frame) -> rig joint positions ``(J, 3)`` metres.

        Call once per frame, in order: delayed copies and follow-through read the recent frames,
        and root motion is measured from the first frame.

        Raises:
            ValueError: ``performer_positions`` is not ``(28, 3)`` finite.
        """
        perf = np.asarray(performer_positions, dtype=np.float64)
        if perf.shape != (NUM_PERFORMER_JOINTS, 3) or not np.isfinite(perf).all():
            raise ValueError(f"performer positions must be finite ({NUM_PERFORMER_JOINTS}, 3), got {perf.shape}")
        B = body_frame(perf)
        self._history.append((perf, B))
        if self._pelvis0 is None:
            self._pelvis0 = perf[performer_index("pelvis")].copy()
        past = lambda k: self._history[max(len(self._history) - 1 - k, 0)]  # noqa: E731
        H = self._H
        HB = H @ B
        J = self.skeleton.num_joints
        dirs = np.zeros((J, 3))
        mapped = np.zeros(J, dtype=bool)
        for chain in self._direct:
            then, B_then = past(chain.delay)
            dirs[chain.joints[1:]] = chain.directions(then, B_then, HB)
            mapped[chain.joints[1:]] = True
        for joints, lag in self._follow:
            for k, j in enumerate(joints[1:], start=1):
                Bk = past(k * lag)[1]
                dirs[j] = (H @ Bk @ H.T) @ self._offsets[j]
                mapped[j] = True
        pos = self._rebuild(perf, H @ B @ H.T, dirs, mapped & (self._lengths > 1e-12))
        for attach, below, lateral in self._wings:
            _lift_above(pos, attach, below, pos[self.skeleton.roots[0], 1] + self._floor, lateral)
        return pos

    def _rebuild(self, perf: np.ndarray, body: np.ndarray, dirs: np.ndarray, mapped: np.ndarray) -> np.ndarray:
        sk = self.skeleton
        J = sk.num_joints
        pos = np.zeros((J, 3))
        frames = np.zeros((J, 3, 3))  # world swing frame of each joint, for rigid followers
        for r in sk.roots:
            shift = self._root_shift(perf) if self.root_motion else 0.0
            pos[r] = self._rest[r] + shift
            frames[r] = body
        parents = sk.parents
        for level in self._levels:
            p = parents[level]
            followed = np.einsum("nab,nb->na", frames[p], self._offsets[level])  # (n, 3)
            frames[level] = frames[p]
            pos[level] = pos[p] + followed
            m = mapped[level]
            if np.any(m):
                js, ps = level[m], p[m]
                new = _unit(dirs[js])
                swing = _rotations_between(_unit(followed[m]), new)
                frames[js] = swing @ frames[ps]
                pos[js] = pos[ps] + self._lengths[js, None] * new
        return pos

    def _root_shift(self, perf: np.ndarray) -> np.ndarray:
        """The root's displacement from rest for this frame: the pelvis motion since the first frame, scaled and turned."""
        return self._H @ (perf[performer_index("pelvis")] - self._pelvis0) * self._scale
