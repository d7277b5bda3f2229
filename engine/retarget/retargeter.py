"""Performer joint positions -> target rig joint positions, keeping the rig's bone lengths.

For each ``direct`` chain map, the rig chain and the performer chain are matched by normalised arc
length (piecewise between named anchors such as the elbow and the wrist when both chains have
them), so chains with different joint counts correspond smoothly. Each rig bone ``k`` gets the
direction of the matching stretch of the performer chain, turned by a constant alignment ``A_k``
that maps the performer's reference pose (T-pose or arms-down) onto the rig's rest pose:

    t_k = H B (A_k (B^T d_k))

with ``d_k`` the performer direction (world), ``B`` the performer's body frame
(:func:`engine.performer.body_frame`, identity at rest) and ``H`` the turn from the performer's
facing (+Z) to the rig's. ``A_k`` is computed once; a constant map has no singular poses.
Positions are then rebuilt from the root with the rig's own bone lengths: mapped bones take their
new direction, every other joint follows its parent rigidly (the parent bone's swing rotation), so
all bone lengths are exact. The root moves with the performer's pelvis, scaled by the ratio of leg
lengths (rig / performer; height ratio when the rig has no mapped leg).
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
from engine.retarget.mapping import RetargetMap, RetargetMapError
from engine.skeleton import Skeleton

__all__ = ["Retargeter"]

_MIRROR = np.diag([-1.0, 1.0, 1.0])  # swaps the performer's left and right in the body frame


def _arc(points: np.ndarray) -> np.ndarray:
    """``(N,)`` normalised cumulative arc length of a polyline ``(N, 3)`` (0 ... 1)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=-1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    return cum / cum[-1] if cum[-1] > 1e-12 else np.linspace(0.0, 1.0, len(points))


def _sample(points: np.ndarray, arc: np.ndarray, u: float) -> np.ndarray:
    """Point at normalised arc length ``u`` on the polyline."""
    return np.array([np.interp(u, arc, points[:, i]) for i in range(3)])


def _tangent(points: np.ndarray, arc: np.ndarray, u: float) -> np.ndarray:
    k = int(np.clip(np.searchsorted(arc, u, side="right") - 1, 0, len(points) - 2))
    while k < len(points) - 2 and np.linalg.norm(points[k + 1] - points[k]) < 1e-9:
        k += 1
    return points[k + 1] - points[k]


def _segment_dirs(points: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Unit directions ``(K, 3)`` of the polyline between arc lengths ``spans[k] = (u0, u1)``."""
    arc = _arc(points)
    out = []
    for u0, u1 in spans:
        d = _sample(points, arc, u1) - _sample(points, arc, u0)
        if np.linalg.norm(d) < 1e-9 or u1 - u0 < 1e-6:
            d = _tangent(points, arc, 0.5 * (u0 + u1))
        out.append(d / max(np.linalg.norm(d), 1e-12))
    return np.array(out)


class _DirectChain:
    """Precomputed data of one ``direct`` chain map."""

    def __init__(self, skeleton: Skeleton, rest: np.ndarray, cm, H: np.ndarray) -> None:
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
        anchors_t, anchors_s = [0.0], [0.0]
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
        self.spans = list(zip(u[:-1], u[1:]))
        ref_pts = ref[self.source] @ (_MIRROR if self.mirror else np.eye(3)).T
        ref_dirs = _segment_dirs(ref_pts, self.spans)  # performer canonical frame
        rest_dirs = np.diff(tgt, axis=0)
        rest_dirs = rest_dirs @ H  # H^T applied to each row: rig rest -> canonical
        self.align = rot.quat_to_matrix(rot.quat_between(ref_dirs, rest_dirs))  # (K, 3, 3)

    def directions(self, perf: np.ndarray, B_now: np.ndarray, H: np.ndarray) -> np.ndarray:
        """``(K, 3)`` world directions of the chain's bones for a performer pose (maybe delayed)."""
        B = body_frame(perf)
        local = (perf[self.source] - perf[self.source[0]]) @ B  # body frame, (N, 3)
        if self.mirror:
            local = local @ _MIRROR.T
        d = _segment_dirs(local, self.spans)  # (K, 3) canonical
        t = np.einsum("kab,kb->ka", self.align, d)
        return t @ (H @ B_now).T


class Retargeter:
    """Maps performer positions onto one rig, frame by frame (keeps a short history for delays).

    Args:
        skeleton: the target rig's skeleton.
        retarget_map: the chain map (e.g. from :func:`engine.retarget.mapping.suggest_map`).

    Raises:
        RetargetMapError: the map names joints the rig does not have.
    """

    def __init__(self, skeleton: Skeleton, retarget_map: RetargetMap) -> None:
        self.skeleton = skeleton
        self.map = RetargetMap.from_dict(retarget_map.to_dict(), path=f"<map of {retarget_map.rig or 'rig'}>", skeleton=skeleton)
        self._rest = skeleton.rest_positions()
        f = np.asarray(self.map.forward, dtype=np.float64)
        f = np.array([f[0], 0.0, f[2]])
        if np.linalg.norm(f) < 1e-9:
            raise RetargetMapError(f"<map of {retarget_map.rig}>", "'forward' must not be vertical")
        f /= np.linalg.norm(f)
        self._H = np.stack([np.cross([0.0, 1.0, 0.0], f), [0.0, 1.0, 0.0], f], axis=-1)  # +Z -> f
        self._direct = [_DirectChain(skeleton, self._rest, cm, self._H) for cm in self.map.chains if cm.rule == "direct"]
        self._follow = [([skeleton.index(n) for n in cm.target], cm.delay_frames) for cm in self.map.chains if cm.rule == "follow"]
        longest = max([c.delay for c in self._direct] + [len(j) * d for j, d in self._follow] + [0])
        self._history: deque[np.ndarray] = deque(maxlen=longest + 1)
        self._scale = self._root_scale()
        self._pelvis_rest = performer_rest_positions()[performer_index("pelvis")]

    def _root_scale(self) -> float:
        perf = performer_skeleton()
        legs = [c for c in self._direct if c.name == "left_leg" and not c.mirror]
        if legs:
            tgt = self._rest[legs[0].joints]
            src = perf.rest_positions()[legs[0].source]
            return float(np.linalg.norm(np.diff(tgt, axis=0), axis=-1).sum() / np.linalg.norm(np.diff(src, axis=0), axis=-1).sum())
        return self.skeleton.height / perf.height

    def reset(self) -> None:
        """Forget the history (after a cut or when the performer is lost)."""
        self._history.clear()

    def __call__(self, performer_positions: np.ndarray) -> np.ndarray:
        return self.retarget(performer_positions)

    def retarget(self, performer_positions: np.ndarray) -> np.ndarray:
        """One frame: performer ``(28, 3)`` metres (internal frame) -> rig joint positions ``(J, 3)`` metres.

        The rig's root moves with the performer's pelvis (relative to the performer's rest pelvis,
        scaled by the leg-length ratio and turned by the rig's facing). Call once per frame, in
        order: delayed copies and follow-through read the recent frames.
        """
        perf = np.asarray(performer_positions, dtype=np.float64)
        if perf.shape != (NUM_PERFORMER_JOINTS, 3):
            raise ValueError(f"performer positions must be ({NUM_PERFORMER_JOINTS}, 3), got {perf.shape}")
        self._history.append(perf)
        past = lambda k: self._history[max(len(self._history) - 1 - k, 0)]  # noqa: E731
        B = body_frame(perf)
        H = self._H
        dirs: dict[int, np.ndarray] = {}
        for chain in self._direct:
            d = chain.directions(past(chain.delay), B, H)
            for k, j in enumerate(chain.joints[1:]):
                dirs[j] = d[k]
        for joints, lag in self._follow:
            for k, j in enumerate(joints[1:], start=1):
                Bk = body_frame(past(k * lag))
                rest_dir = self._rest[j] - self._rest[joints[k - 1]]
                dirs[j] = (H @ Bk @ H.T) @ rest_dir
        return self._rebuild(perf, B, dirs)

    def _rebuild(self, perf: np.ndarray, B: np.ndarray, dirs: dict[int, np.ndarray]) -> np.ndarray:
        sk, rest, H = self.skeleton, self._rest, self._H
        J = sk.num_joints
        pos = np.zeros((J, 3))
        frames = np.zeros((J, 3, 3))  # world swing frame of each joint, for rigid followers
        body = H @ B @ H.T
        pelvis = perf[performer_index("pelvis")]
        for j in range(J):
            p = int(sk.parents[j])
            if p < 0:
                pos[j] = rest[j] + H @ (pelvis - self._pelvis_rest) * self._scale
                frames[j] = body
                continue
            offset = rest[j] - rest[p]
            length = float(np.linalg.norm(offset))
            followed = frames[p] @ offset
            if j in dirs and length > 1e-12:
                new = dirs[j] / max(np.linalg.norm(dirs[j]), 1e-12)
                swing = rot.quat_to_matrix(rot.quat_between(followed, new))
                frames[j] = swing @ frames[p]
                pos[j] = pos[p] + length * new
            else:
                frames[j] = frames[p]
                pos[j] = pos[p] + followed
        return pos

