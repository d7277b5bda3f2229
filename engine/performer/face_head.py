"""The head's orientation from the face landmarker, bridged by the body's face fit when the face is lost.

The body's landmarks give the head's frame through a weak-perspective fit of nine face points
(:func:`engine.performer.segments.face_rotation`), which reads a head turn short and a level head
as pitched about 40 degrees down. MediaPipe's FaceLandmarker fits its 468-point canonical face in
3D; turned into the camera's axes (:func:`engine.perception.crops.view_rotation`) it drives the
head whenever the face was found. On the rendered probes (``eval-live --probes``, ``perceived``)
the head segment's gain became 0.78 / 0.98 / 0.24 for yaw / roll / pitch, against 0.64 / 0.70 /
0.42 with the fit alone, whose pitch also sat ~40 degrees off at rest (now turned back up,
``engine.performer.segments.FIT_PITCH_DEG``; README, "Probes").

The face is lost at large turns (on the +-60 degree yaw probe in 34 % of the frames), behind a
hand, or when the face stage is off. Switching straight back to the fit would drop the head by
the fit's error; :class:`FaceHeadBridge` instead keeps the last offset between the two
(``C = G F^T``, face frame ``G``, fit frame ``F`` of the same frame) and applies it to the fit
while the face is missing, fading it out with time constant ``fade_s``: the head goes on turning
with the fit, continuously, and after a long loss it is the fit's.
"""

from __future__ import annotations

import math

import numpy as np

from engine import rotations as rot

__all__ = ["FaceHeadBridge", "FADE_S"]

FADE_S = 1.0  # seconds: the face-minus-fit offset fades to 1/e this long after the face was last seen


def _scaled(M: np.ndarray, w: float) -> np.ndarray:
    """The rotation ``M`` scaled to the fraction ``w`` of its angle (same axis)."""
    return rot.axis_angle_to_matrix(rot.matrix_to_axis_angle(M) * w)


class FaceHeadBridge:
    """Chooses the head's frame per frame: the face's when seen, else the bridged fit.

    Args:
        fade_s: time constant of the offset's fade while the face is lost, seconds.
    """

    def __init__(self, fade_s: float = FADE_S) -> None:
        if not fade_s > 0:
            raise ValueError(f"fade_s must be > 0, got {fade_s}")
        self.fade_s = float(fade_s)
        self._offset: np.ndarray | None = None  # C = G F^T when the face was last seen
        self._seen_s = 0.0

    def reset(self) -> None:
        """Forget the offset (a new performer, or the tracking restarted)."""
        self._offset = None

    def weight(self, t_s: float) -> float:
        """How much of the last reading the bridge still carries at ``t_s``: 1 while seen, fading
        with ``fade_s`` once lost, 0 when it never saw one (or forgot it)."""
        if self._offset is None:
            return 0.0
        return math.exp(-max(float(t_s) - self._seen_s, 0.0) / self.fade_s)

    def update(self, fit: np.ndarray, face: np.ndarray | None, t_s: float) -> np.ndarray:
        """The head's frame ``(3, 3)`` for this frame.

        Args:
            fit: ``(3, 3)`` the head frame from the body landmarks.
            face: ``(3, 3)`` the head frame from the face landmarker, or None (not seen).
            t_s: the frame's time, seconds.
        """
        if face is not None:
            self._offset = face @ fit.T
            self._seen_s = float(t_s)
            return face
        if self._offset is None:
            return fit
        w = self.weight(t_s)
        if w < 1e-3:
            self._offset = None
            return fit
        return _scaled(self._offset, w) @ fit
