"""Calibration: the performer's own neutral pose becomes the pose that drives the rig's rest pose.

The retargeter assumes the performer's canonical reference for each chain: a T-pose, or arms
hanging down for chains marked ``arms_down`` (:mod:`engine.retarget.mapping`). A real performer's
relaxed stance differs (arms a little off, a tilted head, knees bent), and that difference shows
on the rig as a constant offset. Calibration records the performer's positions once (the
*neutral*) and from then on turns each limb bone by the fixed rotation that takes its neutral
direction onto its reference direction, so standing in the neutral pose shows the rig at rest.

Rotations are measured in the performer's body frame (:func:`engine.performer.body_frame`), so a
performer who turns around keeps the calibration. Only bones below the shoulders, hips and neck
are corrected (upper arm and below, thigh and below, head): the joints that define the body frame
(pelvis, hips, neck) never move, and neither does the root translation.

No Qt here; arrays are ``(28, 3)`` canonical performer positions, metres, internal frame.
"""

from __future__ import annotations

import numpy as np

from engine.performer import (
    NUM_PERFORMER_JOINTS,
    PERFORMER_CHAINS,
    PERFORMER_JOINTS,
    PERFORMER_PARENTS,
    body_frame,
    performer_arms_down_positions,
    performer_index,
    performer_rest_positions,
)
from engine.retarget.mapping import RetargetMap

__all__ = ["CORRECTED_JOINTS", "CalibratedRetarget", "NeutralPose", "reference_positions"]

_LIMB_PARTS = ("lower_arm", "hand", "hand_end", "thumb", "lower_leg", "foot", "toe", "heel")
# A joint listed here has the bone from its parent corrected (e.g. "left_lower_arm": the upper arm).
CORRECTED_JOINTS: tuple[str, ...] = ("head", "head_end", *(f"{s}_{p}" for s in ("left", "right") for p in _LIMB_PARTS))


def reference_positions(retarget_map: RetargetMap | None) -> np.ndarray:
    """``(28, 3)`` the performer reference the map assumes: the T-pose, arms down where a chain says so."""
    ref = performer_rest_positions()
    if retarget_map is None:
        return ref
    down = performer_arms_down_positions()
    for chain in retarget_map.chains:
        if chain.rule == "direct" and chain.source_pose == "arms_down" and chain.source in PERFORMER_CHAINS:
            names = list(PERFORMER_CHAINS[chain.source])
            if chain.source.endswith("_arm"):
                names.append(chain.source.replace("_arm", "_thumb"))
            for name in names:
                ref[performer_index(name)] = down[performer_index(name)]
    return ref


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(3, 3)`` the smallest rotation taking unit vector ``a`` onto unit vector ``b``."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -1.0 + 1e-9:  # opposite: turn half a turn about any axis perpendicular to a
        axis = _unit(np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0]))
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)  # Rodrigues' formula with sin = |v|, cos = c


class NeutralPose:
    """Fixed per-bone corrections that take ``neutral`` onto ``reference``.

    Args:
        neutral: ``(28, 3)`` the performer standing in their neutral pose.
        reference: ``(28, 3)`` the pose the retargeter takes for the rig's rest (see
            :func:`reference_positions`).

    Raises:
        ValueError: wrong shapes or non-finite values.
    """

    def __init__(self, neutral: np.ndarray, reference: np.ndarray) -> None:
        neutral = np.asarray(neutral, dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
        for name, a in (("neutral", neutral), ("reference", reference)):
            if a.shape != (NUM_PERFORMER_JOINTS, 3) or not np.isfinite(a).all():
                raise ValueError(f"{name} pose must be a finite ({NUM_PERFORMER_JOINTS}, 3) array, got shape {a.shape}")
        self.neutral = neutral
        B0, Bref = body_frame(neutral), body_frame(reference)
        self._corrections: dict[int, np.ndarray] = {}  # joint -> (3, 3), body frame
        for name in CORRECTED_JOINTS:
            j = PERFORMER_JOINTS.index(name)
            p = PERFORMER_PARENTS[j]
            d0 = _unit(B0.T @ (neutral[j] - neutral[p]))
            dref = _unit(Bref.T @ (reference[j] - reference[p]))
            self._corrections[j] = _shortest_arc(d0, dref)

    def apply(self, positions: np.ndarray) -> np.ndarray:
        """``(28, 3)`` the performer with every corrected bone turned; bone lengths are kept."""
        p = np.asarray(positions, dtype=np.float64)
        B = body_frame(p)
        out = p.copy()
        for j in range(NUM_PERFORMER_JOINTS):  # parents come before their children
            parent = PERFORMER_PARENTS[j]
            if parent < 0:
                continue
            bone = p[j] - p[parent]
            if j in self._corrections:
                bone = B @ (self._corrections[j] @ (B.T @ bone))
            out[j] = out[parent] + bone
        return out


class CalibratedRetarget:
    """A retarget stage that applies a :class:`NeutralPose` to the performer first.

    Args:
        inner: performer ``(28, 3)`` -> rig joint positions ``(J, 3)`` (e.g. a ``Retargeter``).
        neutral: the calibration.
    """

    def __init__(self, inner, neutral: NeutralPose) -> None:
        self.inner, self.neutral = inner, neutral

    @property
    def map(self):
        """The wrapped retargeter's map (None when it has none): its links and joints still apply."""
        return getattr(self.inner, "map", None)

    def __call__(self, performer: np.ndarray) -> np.ndarray:
        return self.inner(self.neutral.apply(performer))
