"""21 hand landmarks -> finger angles: curl per joint, spread per finger, thumb opposition.

Input: MediaPipe's hand world landmarks (``(21, 3)`` metres; any axes, every angle here is a
difference between directions, so the camera frame drops out). Order: 0 wrist; thumb 1-4 (CMC,
MCP, IP, tip); index 5-8, middle 9-12, ring 13-16, pinky 17-20 (MCP, PIP, DIP, tip).

Output (:class:`FingerPose`), radians:

- ``curl`` ``(5, 3)``: flexion of each finger's three joints (Unity's Proximal, Intermediate,
  Distal bones; for the thumb Unity's Proximal is the CMC joint), the angle between consecutive
  segments; the knuckle of a long finger counts only the bend out of the palm plane, so the
  fanned-out metacarpals and the spread do not read as a curl.
  0 = straight, clipped to ``[0, CURL_MAX_RAD]``;
- ``spread`` ``(5,)``: sideways angle of each finger's first segment in the palm plane, relative
  to the middle finger, > 0 toward the index side (the thumb relative to the index);
- ``thumb_opposition``: how far the thumb's first segment leaves the palm plane toward the palm
  side, >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FINGERS", "CURL_MAX_RAD", "FIST_CURL_RAD", "FingerPose", "finger_pose", "hand_closure", "REST_FINGER_POSE"]

FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")  # Unity's finger names
CURL_MAX_RAD = float(np.radians(110.0))
THUMB_CMC_REST_RAD = float(np.radians(30.0))  # wrist -> CMC vs CMC -> MCP on a flat open hand (about)
_CHAINS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))  # per finger, base -> tip


@dataclass(frozen=True, eq=False)
class FingerPose:
    """Finger angles of one hand (see the module docstring); radians."""

    curl: np.ndarray  # (5, 3)
    spread: np.ndarray  # (5,)
    thumb_opposition: float


REST_FINGER_POSE = FingerPose(np.zeros((5, 3)), np.zeros(5), 0.0)  # a flat open hand, the rigs' rest
FIST_CURL_RAD = float(np.radians(75.0))  # mean joint curl of the four fingers in a fist (about)


def hand_closure(pose: FingerPose) -> float:
    """How closed the hand is, ``[0, 1]``: the mean curl of the four fingers' joints over a fist's
    (:data:`FIST_CURL_RAD`); 0 = flat open hand, 1 = fist. Drives grips (claws, wing fingers)."""
    return float(np.clip(np.mean(pose.curl[1:]) / FIST_CURL_RAD, 0.0, 1.0))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.arccos(np.clip(np.dot(_unit(a), _unit(b)), -1.0, 1.0)))


def finger_pose(world: np.ndarray) -> FingerPose:
    """Finger angles from ``(21, 3)`` hand landmarks (metres).

    Raises:
        ValueError: not ``(21, 3)`` finite values.
    """
    p = np.asarray(world, dtype=np.float64)
    if p.shape != (21, 3) or not np.isfinite(p).all():
        raise ValueError(f"hand landmarks must be (21, 3) finite, got {p.shape}")
    along = _unit(p[9] - p[0])  # wrist -> middle knuckle
    across = p[5] - p[17]  # pinky knuckle -> index knuckle
    across = _unit(across - np.dot(across, along) * along)
    normal = np.cross(along, across)  # palm plane normal (its sign depends on the hand's side)
    curl = np.zeros((5, 3))
    absolute = np.zeros(5)  # each first segment's in-plane angle from the wrist -> middle line
    for f, chain in enumerate(_CHAINS):
        segments = [p[chain[0]] - p[0]] + [p[chain[k + 1]] - p[chain[k]] for k in range(3)]
        for k in range(3):
            curl[f, k] = _angle(segments[k], segments[k + 1])
        first = segments[1]
        if f > 0:  # knuckle flexion: out of the palm plane only (the metacarpals fan out in it)
            in_plane = first - np.dot(first, normal) * normal
            forward = float(np.linalg.norm(in_plane)) * (1.0 if np.dot(first, along) >= 0 else -1.0)
            curl[f, 0] = float(np.arctan2(abs(np.dot(first, normal)), forward))
        in_plane = first - np.dot(first, normal) * normal
        absolute[f] = float(np.arctan2(np.dot(in_plane, across), np.dot(in_plane, along)))
    spread = absolute - absolute[2]  # long fingers relative to the middle finger
    spread[0] = absolute[0] - absolute[1]  # the thumb relative to the index
    # The wrist -> CMC line is bent against the thumb's first segment even on a flat hand.
    curl[0, 0] = max(curl[0, 0] - THUMB_CMC_REST_RAD, 0.0)
    # Opposition: the thumb's first segment out of the palm plane (either side: the normal's sign
    # depends on the hand's side, and a thumb does not bend backwards out of the plane).
    thumb = _unit(p[2] - p[1])
    opposition = float(abs(np.arcsin(np.clip(np.dot(thumb, normal), -1.0, 1.0))))
    return FingerPose(np.clip(curl, 0.0, CURL_MAX_RAD), spread, opposition)
