"""The hand's orientation from the hand landmarker, when its reading is clearly the performer's hand.

The hand landmarker's 21 world landmarks carry the palm's roll about the forearm, which the pose's
index and pinky knuckles do not (on the rendered pronation probe they did not turn at all). But
its depth is not always right: it can return the hand's mirror image (the same 2D outline with the
depth reversed), and a flat hand's depth is ambiguous anyway. Two checks, both needed before the
live stage passes a palm on:

- :func:`clearly_side`: a hand's 3D landmarks show which hand they are (:func:`hand_chirality`:
  the fingers and thumb bend to the palm side of the wrist -> index knuckle -> pinky knuckle
  turn), and the pose says which side the crop was placed on; the reading must clearly be that
  side's hand (:data:`MIN_CHIRALITY`);
- :func:`continues_forearm`: where the pose's forearm points into the depth, the reading's hand
  must continue it at least as well as its depth mirror would.

What ``python main.py eval-face-hands`` measures of them on the real clips (the ``palm`` keys) is
in README, "Face and hands". On the renders (flat-shaded, straight-fingered hands) almost no
reading passes the first check: the hand landmarker reads their depth mirrored, so the rendered
probes cannot measure this path.

:func:`palm_axes` gives the two directions the body's segment frames use for a hand, in the
camera's internal axes: wrist -> knuckles (the hand's length) and pinky -> index knuckle (across).
"""

from __future__ import annotations

import numpy as np

from engine.perception.landmarks import Landmark, LandmarkFrame, world_to_internal

__all__ = ["CHIRALITY", "MIN_CHIRALITY", "DEPTH_FOREARM", "hand_chirality", "clearly_side", "forearm_direction",
           "hand_direction", "continues_forearm", "palm_axes"]

# Sign of hand_chirality() for each hand, in MediaPipe's hand world axes (x right, y down, z away);
# measured on the real clips (the juggling, tennis and walking clips: the left hand -, the right +).
CHIRALITY = {"left": -1.0, "right": 1.0}
MIN_CHIRALITY = 0.3  # |chirality| at least this: the hand is bent enough to tell which hand it is
DEPTH_FOREARM = 0.3  # a forearm whose unit direction has this much depth shows which way the hand's depth goes

_WRIST, _INDEX_MCP, _MIDDLE_MCP, _RING_MCP, _PINKY_MCP = 0, 5, 9, 13, 17
_TIPS = [4, 8, 12, 16, 20]
_BASES = [_WRIST, _INDEX_MCP, _MIDDLE_MCP, _RING_MCP, _PINKY_MCP]


def hand_chirality(world: np.ndarray) -> float:
    """The cosine between the palm's normal (wrist -> index knuckle x wrist -> pinky knuckle) and the
    way the fingertips and thumb tip bend away from the palm's base: its sign tells a left hand
    from a right one; near 0 for a flat hand."""
    w = np.asarray(world, dtype=np.float64)
    normal = np.cross(w[_INDEX_MCP] - w[_WRIST], w[_PINKY_MCP] - w[_WRIST])
    bend = w[_TIPS].mean(axis=0) - w[_BASES].mean(axis=0)
    scale = float(np.linalg.norm(normal) * np.linalg.norm(bend))
    return float(normal @ bend) / scale if scale > 1e-12 else 0.0


def clearly_side(world: np.ndarray, side: str) -> bool:
    """Whether ``world`` ``(21, 3)`` (MediaPipe hand axes) is clearly a ``"left"`` or ``"right"`` hand."""
    c = hand_chirality(world)
    return abs(c) >= MIN_CHIRALITY and float(np.sign(c)) == CHIRALITY[side]


def forearm_direction(landmarks: LandmarkFrame, side: str) -> np.ndarray:
    """The pose's unit elbow -> wrist direction of the ``"left"`` or ``"right"`` arm, internal axes."""
    points = world_to_internal(landmarks.world)
    forearm = points[Landmark[f"{side.upper()}_WRIST"]] - points[Landmark[f"{side.upper()}_ELBOW"]]
    return forearm / max(float(np.linalg.norm(forearm)), 1e-12)


def hand_direction(world: np.ndarray, view: np.ndarray, mirrored: bool = False) -> np.ndarray:
    """The reading's unit wrist -> middle knuckle direction in internal camera axes (``mirrored``:
    that of its depth mirror image)."""
    hand = np.asarray(world, dtype=np.float64)[_MIDDLE_MCP] - np.asarray(world, dtype=np.float64)[_WRIST]
    if mirrored:
        hand = hand * np.array([1.0, 1.0, -1.0])
    d = world_to_internal(hand) @ np.asarray(view, dtype=np.float64).T
    return d / max(float(np.linalg.norm(d)), 1e-12)


def continues_forearm(world: np.ndarray, view: np.ndarray, forearm: np.ndarray) -> bool:
    """Whether the reading's hand (wrist -> middle knuckle) continues the pose's ``forearm``
    (internal axes) at least as well as its depth mirror would; True when the forearm lies too
    flat in the image (:data:`DEPTH_FOREARM`) for the depth to show."""
    f = np.asarray(forearm, dtype=np.float64)
    f = f / max(float(np.linalg.norm(f)), 1e-12)
    if abs(f[2]) < DEPTH_FOREARM:
        return True
    return float(hand_direction(world, view) @ f) >= float(hand_direction(world, view, mirrored=True) @ f)


def palm_axes(world: np.ndarray, view: np.ndarray) -> np.ndarray:
    """``(2, 3)`` unit wrist -> knuckles and pinky -> index knuckle directions, internal camera axes.

    Args:
        world: ``(21, 3)`` hand world landmarks as the landmarker saw the crop (MediaPipe axes).
        view: ``(3, 3)`` the crop's view rotation (:func:`engine.perception.crops.view_rotation`,
            internal axes).
    """
    w = world_to_internal(np.asarray(world, dtype=np.float64)) @ np.asarray(view, dtype=np.float64).T
    along = 0.5 * (w[_INDEX_MCP] + w[_PINKY_MCP]) - w[_WRIST]
    across = w[_INDEX_MCP] - w[_PINKY_MCP]
    axes = np.stack([along, across])
    return axes / np.maximum(np.linalg.norm(axes, axis=1, keepdims=True), 1e-12)
