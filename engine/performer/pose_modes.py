"""Pose modes applied to the canonical performer: mirror (left <-> right) and upper body (legs at rest).

Both work on ``(28, 3)`` canonical performer positions (and, so that orientation links agree with
the positions, on the segment turns of :class:`~engine.performer.segments.SegmentPose`), metres, internal frame (right-handed, Y
up; at rest the performer's left is +X). They are plain functions of one frame, so the live
processor applies them after the performer stage without touching any causal history.

- **Mirror**: what a person expects of a mirror (and what VTuber apps default to): raising the
  right hand raises the rig's hand on the same side of the screen, i.e. its left. The pose is
  reflected across the performer's sagittal plane (X -> -X) and the left and right joints swap
  names, so the result is again a valid performer.
- **Upper body** (seated at a desk): the legs below the hips are put back in their rest
  directions, turned with the pelvis (:func:`body_frame`), so a lower body that is out of view or
  hidden by a desk cannot drive the rig's legs.
"""

from __future__ import annotations

import numpy as np

from engine.performer.segments import SEGMENTS, SegmentPose
from engine.performer.canonical import (
    NUM_PERFORMER_JOINTS,
    PERFORMER_JOINTS,
    body_frame,
    performer_index,
    performer_rest_positions,
)

__all__ = ["LEG_JOINTS", "MIRROR_PERMUTATION", "mirror_performer", "legs_at_rest", "mirror_segments", "leg_segments_at_rest"]


def _swap_side(name: str) -> str:
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


# MIRROR_PERMUTATION[j]: the joint whose (reflected) position joint j takes in the mirror image.
MIRROR_PERMUTATION: tuple[int, ...] = tuple(performer_index(_swap_side(n)) for n in PERFORMER_JOINTS)
# Leg joints below the hips (the hips themselves define the pelvis frame and stay live).
LEG_JOINTS: tuple[str, ...] = tuple(f"{s}_{p}" for s in ("left", "right") for p in ("lower_leg", "foot", "toe", "heel"))
_REST = performer_rest_positions()
_SEGMENT_MIRROR = [SEGMENTS.index(_swap_side(s)) for s in SEGMENTS]
_LEG_SEGMENTS = [SEGMENTS.index(f"{side}_{part}") for side in ("left", "right") for part in ("upper_leg", "lower_leg", "foot")]
_REFLECT_X = np.diag([-1.0, 1.0, 1.0])


def mirror_performer(positions: np.ndarray) -> np.ndarray:
    """``(28, 3)`` the mirror image of ``positions``: X negated, left and right joints swapped.

    Raises:
        ValueError: ``positions`` is not ``(28, 3)``.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.shape != (NUM_PERFORMER_JOINTS, 3):
        raise ValueError(f"performer positions must be ({NUM_PERFORMER_JOINTS}, 3), got {p.shape}")
    out = p[list(MIRROR_PERMUTATION)].copy()
    out[:, 0] *= -1.0
    return out


def legs_at_rest(positions: np.ndarray) -> np.ndarray:
    """``(28, 3)`` ``positions`` with every joint of :data:`LEG_JOINTS` at its rest offset from its
    hip, turned with the pelvis (bone lengths are the canonical rest ones).

    Raises:
        ValueError: ``positions`` is not ``(28, 3)``.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.shape != (NUM_PERFORMER_JOINTS, 3):
        raise ValueError(f"performer positions must be ({NUM_PERFORMER_JOINTS}, 3), got {p.shape}")
    frame = body_frame(p)  # (3, 3) columns: left, up, forward
    out = p.copy()
    for name in LEG_JOINTS:
        side = name.split("_", 1)[0]
        hip = performer_index(f"{side}_upper_leg")
        j = performer_index(name)
        out[j] = p[hip] + frame @ (_REST[j] - _REST[hip])
    return out


def mirror_segments(pose: SegmentPose) -> SegmentPose:
    """The segment turns of the mirror image (what :func:`mirror_performer` does to positions).

    Segment ``s`` of the mirror image is the reflection of the opposite side's segment, so its
    world turn from rest is ``M Q_s' M`` with ``M`` the X reflection (a proper rotation again; a
    twist keeps its size and changes its sense, as a mirrored forearm does). The rest pose is
    symmetric, so the rest axes stay as they are.
    """
    turns = {k: _REFLECT_X @ t[_SEGMENT_MIRROR] @ _REFLECT_X for k, t in pose.turns.items()}
    return SegmentPose(turns, pose.confidence[_SEGMENT_MIRROR].copy(), _REFLECT_X @ pose.frames[_SEGMENT_MIRROR] @ _REFLECT_X,
                       pose.rest_axes)


def leg_segments_at_rest(pose: SegmentPose) -> SegmentPose:
    """The segment turns with the legs' segments turned as the pelvis (what :func:`legs_at_rest`
    does to positions): a hidden lower body drives no leg or foot orientation either."""
    pelvis = SEGMENTS.index("pelvis")
    turns = {}
    for k, t in pose.turns.items():
        t = t.copy()
        t[_LEG_SEGMENTS] = t[pelvis]
        turns[k] = t
    confidence = pose.confidence.copy()
    confidence[_LEG_SEGMENTS] = confidence[pelvis]
    return SegmentPose(turns, confidence, pose.frames, pose.rest_axes)
