"""Arm depth restored from the arm's known length, where MediaPipe's world landmarks flatten it.

An arm raised toward the camera shortens in the image, and MediaPipe's world landmarks shorten it
too instead of giving it depth: on the rendered front-raise probe the upper arm still reads as
hanging (-4 degrees) at an authored 53 degree raise, then jumps to 38 degrees within four frames,
and overhead it reads 170 degrees for an authored 150 (README, "Probes"). Taylor's classic
reconstruction fixes the depth from the bone's length: a bone of length ``L`` whose sideways
(image-plane) extent is ``s`` reaches ``sqrt(L^2 - s^2)`` toward or away from the camera.

:class:`ArmDepth` keeps each upper arm's and forearm's longest length seen (slowly forgotten,
as the shoulder width of :mod:`engine.performer.segments`) and, once the sideways extent implies
a turn out of the image plane of more than :data:`IMPLIED_DEG` (ramped in; below it, the
shoulder landmark's own wander, e.g. rising with an arm raised sideways overhead, shortens the
upper arm by up to ~25 degrees' worth with no depth at all), deepens the bone toward that length,
continuously from MediaPipe's depth. The sign is MediaPipe's where its own depth is at least three quarters of the restored
one, else toward the performer's front (an arm raised toward the camera is far more common than
one pushed back out of the image plane; MediaPipe puts relaxed arms slightly behind the body). The joint's descendants move
with it (elbow -> wrist -> hand landmarks), so bone directions change and lengths do not.
Frames are ``(33, 3)`` in the internal frame (metres, Y up, Z toward the camera).
"""

from __future__ import annotations

import numpy as np

from engine.perception.landmarks import Landmark as L
from engine.perception.landmarks import LandmarkFrame, internal_to_world, world_to_internal

__all__ = ["ArmDepth", "IMPLIED_DEG"]

# Implied out-of-plane turn: no restoration below the first, full above the second. Lower
# thresholds (10-20 degrees for a bone below the horizontal) made the front raise more monotone
# (85 instead of 78 % of the steps) but the humanoid's rotation error on the side raise 2 degrees
# worse (the shoulder landmark's wander then reads as depth).
IMPLIED_DEG = (25.0, 40.0)
_TRUST_RAW = 0.75  # MediaPipe's depth sign is kept when its depth is at least this share of the restored one
_DECAY = 1e-4  # per frame: the remembered length forgets 3 % in 10 s at 30 fps
_HAND = ("WRIST", "INDEX", "PINKY", "THUMB")
_MAX_BONE_M = 2.0  # longer "bones" (broken landmarks) are neither remembered nor deepened


class ArmDepth:
    """Restores the depth of both arms' bones frame by frame (see the module docstring)."""

    def __init__(self) -> None:
        self._length: dict[tuple[str, str], float] = {}

    def reset(self) -> None:
        """Forget the lengths (a new performer)."""
        self._length.clear()

    def __call__(self, landmarks: LandmarkFrame) -> LandmarkFrame:
        """``landmarks`` with the arms' world landmarks deepened (image landmarks untouched)."""
        if not landmarks.person_found:
            return landmarks
        before = world_to_internal(landmarks.world)
        points = self.restore(before)
        if not np.isfinite(points).all() or np.array_equal(points, before):  # broken (the next stages drop it) or unchanged
            return landmarks
        return LandmarkFrame(internal_to_world(points), landmarks.image, landmarks.visibility, landmarks.presence,
                             landmarks.person_found, landmarks.t_ms)

    def restore(self, points: np.ndarray) -> np.ndarray:
        """``(33, 3)`` internal-frame landmarks with the arms' depth restored (a new array)."""
        p = np.array(points, dtype=np.float64)
        across = p[L.LEFT_SHOULDER] - p[L.RIGHT_SHOULDER]
        up = 0.5 * (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER]) - 0.5 * (p[L.LEFT_HIP] + p[L.RIGHT_HIP])
        front = float(np.sign(np.cross(across, up)[2])) or 1.0  # the performer's front: toward (+1) or away from the camera
        for side in ("LEFT", "RIGHT"):
            for start, end, moved in (("SHOULDER", "ELBOW", ("ELBOW", *_HAND)), ("ELBOW", "WRIST", _HAND)):
                a, b = int(L[f"{side}_{start}"]), int(L[f"{side}_{end}"])
                v = p[b] - p[a]
                length = float(np.linalg.norm(v))
                if not np.isfinite(length) or length > _MAX_BONE_M:
                    continue
                key = (side, start)
                remembered = max(length, self._length.get(key, 0.0) * (1.0 - _DECAY))
                self._length[key] = remembered
                dz = _depth_change(v, remembered, front)
                if dz != 0.0:
                    p[[int(L[f"{side}_{m}"]) for m in moved], 2] += dz
        return p


def _depth_change(v: np.ndarray, length: float, front: float) -> float:
    """How far to move the bone's end in depth (Z) so the bone ``v`` approaches ``length``."""
    side = float(np.hypot(v[0], v[1]))
    if length <= 1e-6 or side >= length:
        return 0.0
    implied = float(np.degrees(np.arccos(side / length)))
    t = float(np.clip((implied - IMPLIED_DEG[0]) / (IMPLIED_DEG[1] - IMPLIED_DEG[0]), 0.0, 1.0))
    needed = float(np.sqrt(length * length - side * side))
    raw = float(v[2])
    if t <= 0.0 or abs(raw) >= needed:
        return 0.0
    sign = np.sign(raw) if abs(raw) >= _TRUST_RAW * needed else front
    return float(t * (sign * needed - raw))  # from MediaPipe's depth (t = 0) to the restored one (t = 1), continuously
