"""Whether a person is being tracked, and the rig easing back to rest when nobody is (no Qt here).

:class:`TrackingState` is the one fact the app shows (camera view, status bar) and outputs can
read: ``person`` (tracked live), ``lost`` (the last pose is held for a moment, e.g. the person
stepped half out of view), ``no_person`` (nobody for longer than the hold, or a verdict that what
is seen is not a person). In ``no_person`` the rig does not freeze in its last pose:
:class:`RestEasing` turns it back to its rest pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.skeleton import Skeleton

__all__ = ["ProcessingModes", "RestEasing", "TrackingState"]


class TrackingState(str, Enum):
    """What perception sees now."""

    PERSON = "person"
    LOST = "lost"
    NO_PERSON = "no_person"

    @property
    def label(self) -> str:
        """Words for the user (``"no person"``)."""
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class ProcessingModes:
    """How the performer drives the rig; the live processor reads them each frame.

    Attributes:
        mirror: mirror the motion left <-> right (:func:`engine.performer.pose_modes.mirror_performer`);
            the app turns it on by default (VTuber apps do), ``run`` only with ``--mirror``.
        upper_body: seated / upper-body mode: the legs stay at rest
            (:func:`engine.performer.pose_modes.legs_at_rest`) and the root does not travel.
    """

    mirror: bool = False
    upper_body: bool = False


class RestEasing:
    """Interpolates from the last live pose to the rig's rest pose.

    Args:
        skeleton: the rig's skeleton (its rest rotations and rest root translation are the target).
        duration_ms: time from the last pose to rest.
    """

    def __init__(self, skeleton: Skeleton, duration_ms: int) -> None:
        self.skeleton = skeleton
        self.duration_ms = max(int(duration_ms), 0)
        self._rest_rotations = rot.quat_normalize(np.asarray(skeleton.rest_rotations, dtype=np.float64))
        self._rest_root = np.asarray(skeleton.rest_translations[0], dtype=np.float64)
        self._start: tuple[np.ndarray, np.ndarray] | None = None  # ((J, 4), (3,)) the pose when easing began
        self._t0_ns: int | None = None
        self._done = False

    def remember(self, rotations: np.ndarray, root_translation: np.ndarray) -> None:
        """The newest live pose (easing starts from it); ends any easing in progress."""
        self._start = (np.asarray(rotations, dtype=np.float64), np.asarray(root_translation, dtype=np.float64))
        self._t0_ns, self._done = None, False

    def step(self, t_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(rotations (J, 4), root (3,), positions (J, 3))`` at time ``t_ns`` of the easing, or
        ``None`` once the rest pose has been given (or when there was no pose to ease from)."""
        if self._start is None or self._done:
            return None
        if self._t0_ns is None:
            self._t0_ns = t_ns
        elapsed_ms = (t_ns - self._t0_ns) / 1e6
        t = 1.0 if self.duration_ms == 0 else min(max(elapsed_ms / self.duration_ms, 0.0), 1.0)
        s = t * t * (3.0 - 2.0 * t)  # smoothstep: starts and ends without a jolt
        rotations = rot.quat_normalize(rot.slerp(self._start[0], self._rest_rotations, s))
        root = (1.0 - s) * self._start[1] + s * self._rest_root
        translations = np.array(self.skeleton.rest_translations, dtype=np.float64)
        translations[0] = root
        _, positions = forward_kinematics(self.skeleton.parents, rot.quat_to_matrix(rotations), translations)
        self._done = t >= 1.0
        return rotations, root, positions

    @property
    def at_rest(self) -> bool:
        """True once the rest pose has been reached."""
        return self._done
