"""Undo MediaPipe's coupling of neighbouring trunk segments about the body's vertical axis.

MediaPipe's pose model carries part of one segment's turn into its neighbour: on the rendered
probes (``eval-live --probes``, key ``perceived``) a head yaw turned the chest segment by 0.23 of
the head's perceived yaw, and a chest twist turned the pelvis by 0.47 of the chest's perceived
twist, though neither moved in the authored motion. The rig then turns its spine with every head
turn and keeps only about half of a torso twist between its hips and chest.

Modelled as ``lower_seen = lower + share * (upper_seen - lower)`` about the lower segment's up
axis, the lower segment's own turn is ``lower = lower_seen - share / (1 - share) * (upper_seen -
lower_seen)``. :func:`decouple_trunk` applies this to the pelvis (from the chest) and to the chest
(from the head), both from the segments as seen; :func:`turn_hips` turns the hip landmarks by the
pelvis's correction, so the positions the rig's root follows agree with the pelvis segment. A whole-body turn (no twist between the two)
is left exactly as seen; only the twist between neighbours grows, by ``1 / (1 - share)``, and the
noise of that twist with it.

The shares are properties of the perception model, measured on the renders; they have not been
measured on real video (no ground truth there), so :data:`MEDIAPIPE_TRUNK_COUPLING` takes them a
little below the measured values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.perception.landmarks import Landmark as L
from engine.perception.landmarks import LandmarkFrame, internal_to_world, world_to_internal

__all__ = ["TrunkCoupling", "MEDIAPIPE_TRUNK_COUPLING", "decouple_trunk", "turn_hips"]


@dataclass(frozen=True)
class TrunkCoupling:
    """The share of a segment's twist that the perception puts into the segment below it.

    Attributes:
        head_into_chest: share of the head's yaw (relative to the chest) that the chest shows.
        chest_into_pelvis: share of the chest's twist (relative to the pelvis) that the pelvis shows.
    """

    head_into_chest: float = 0.0
    chest_into_pelvis: float = 0.0

    def __post_init__(self) -> None:
        for name in ("head_into_chest", "chest_into_pelvis"):
            share = getattr(self, name)
            if not 0.0 <= share < 0.9:
                raise ValueError(f"TrunkCoupling.{name} must be in [0, 0.9), got {share}")


# Measured 0.23 and 0.47 on the rendered head-yaw and torso-twist probes; taken slightly lower.
MEDIAPIPE_TRUNK_COUPLING = TrunkCoupling(head_into_chest=0.2, chest_into_pelvis=0.4)


def _twist_about(turn: np.ndarray, axis: np.ndarray) -> float:
    """The angle (radians) of ``turn``'s twist about unit ``axis`` (world frame), in (-pi, pi]."""
    q = rot.matrix_to_quat(turn)
    angle = 2.0 * float(np.arctan2(float(q[:3] @ axis), float(q[3])))
    return float(np.angle(np.exp(1j * angle)))


def decouple_trunk(turns: dict[str, np.ndarray], up: dict[str, np.ndarray], coupling: TrunkCoupling) -> dict[str, np.ndarray]:
    """The pelvis and chest turns with the coupling undone (world rotations from rest, ``(3, 3)``).

    Args:
        turns: ``{"pelvis", "chest", "head"}`` -> the segment's world rotation from its rest, as seen.
        up: ``{"pelvis", "chest"}`` -> the segment's current up axis (unit, world): the twist is about it.
        coupling: the shares to undo.

    Returns:
        ``{"pelvis", "chest"}`` -> the corrected turns (the head is not changed).
    """
    out = {}
    for lower, upper, share in (("pelvis", "chest", coupling.chest_into_pelvis), ("chest", "head", coupling.head_into_chest)):
        if share <= 0.0:
            out[lower] = turns[lower]
            continue
        twist = _twist_about(turns[upper] @ turns[lower].T, up[lower])
        back = -share / (1.0 - share) * twist
        out[lower] = rot.axis_angle_to_matrix(up[lower] * back) @ turns[lower]
    return out


def turn_hips(landmarks: LandmarkFrame, turn: np.ndarray) -> LandmarkFrame:
    """``landmarks`` with the two hip landmarks turned by ``turn`` (``(3, 3)``, internal frame)
    about their midpoint (world landmarks only: the image shows the hips where they are)."""
    points = world_to_internal(landmarks.world)
    hips = [int(L.LEFT_HIP), int(L.RIGHT_HIP)]
    middle = points[hips].mean(axis=0)
    points[hips] = (points[hips] - middle) @ np.asarray(turn, dtype=np.float64).T + middle
    return LandmarkFrame(internal_to_world(points), landmarks.image, landmarks.visibility, landmarks.presence,
                         landmarks.person_found, landmarks.t_ms)
