"""Square crops around the head and the hands, placed by the 33 pose landmarks.

On a whole-body frame MediaPipe's face and hand landmarkers find nothing (the face is a few dozen
pixels wide): they run on a crop around the head or a wrist instead (shared/models/README.md). The
boxes come from the pose's *image* landmarks (normalised ``[0, 1]``), so they cost nothing extra.

- **head**: centred on the mean of the 11 face landmarks (nose, eyes, ears, mouth), side
  ``HEAD_SCALE`` times their largest extent (ear to ear on a frontal face), so forehead and chin fit;
- **hand**: centred between the wrist and the knuckle landmarks (index, pinky, thumb), side
  ``HAND_SCALE`` times the forearm's image length (a hand is ~0.75 of a forearm; the margin keeps
  spread fingers and a bent wrist inside).

A box that leaves the image is clipped; one that is too small or too far outside (landmarks not
visible) is ``None``: the caller skips the landmarker for that frame.

A landmarker that estimates a 3D pose (the face's transformation matrix) sees the crop as if the
camera looked straight at it; :func:`view_rotation` turns such a pose back into the camera's axes
(the ray to a head near the top of a 640x480 frame is ~14 degrees off the optical axis, which
otherwise reads as a pitched head, and as roll while it turns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.perception.landmarks import Landmark, LandmarkFrame
from engine.rotations import quat_between, quat_to_matrix

__all__ = ["CAMERA_HFOV_DEG", "CropBox", "HEAD_SCALE", "HAND_SCALE", "MIN_CROP_PX", "head_box", "hand_box", "cut", "view_rotation"]

HEAD_SCALE = 2.2  # crop side / largest extent of the 11 face landmarks
HAND_SCALE = 1.6  # crop side / forearm length in the image
MIN_CROP_PX = 24  # below this the landmarkers cannot work; skip
MIN_VISIBILITY = 0.3  # pose visibility of the landmarks a box is built from
# Horizontal field of view assumed for the camera (webcams: ~60-70 deg; the evaluation renderer's
# 640x480 camera with 50 deg vertical: 64 deg). Only :func:`view_rotation` uses it.
CAMERA_HFOV_DEG = 64.0

_FACE = list(range(int(Landmark.NOSE), int(Landmark.MOUTH_RIGHT) + 1))
_HANDS = {
    "left": (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST, (Landmark.LEFT_INDEX, Landmark.LEFT_PINKY, Landmark.LEFT_THUMB)),
    "right": (Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST, (Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY, Landmark.RIGHT_THUMB)),
}


@dataclass(frozen=True)
class CropBox:
    """A square crop in pixels: ``x0, y0`` top left, ``size`` side (may extend past the image)."""

    x0: int
    y0: int
    size: int

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """``(N, 2+)`` crop-normalised ``[0, 1]`` x, y -> ``(N, 2)`` pixels of the full image."""
        points = np.asarray(points, dtype=np.float64)
        return np.stack([self.x0 + points[:, 0] * self.size, self.y0 + points[:, 1] * self.size], axis=1)


def _box(center_px: np.ndarray, side_px: float, width: int, height: int) -> CropBox | None:
    """The square box, or None when too small or centred outside the image."""
    if side_px < MIN_CROP_PX or not (0 <= center_px[0] < width and 0 <= center_px[1] < height):
        return None
    side = int(round(side_px))
    return CropBox(int(round(center_px[0] - side / 2)), int(round(center_px[1] - side / 2)), side)


def head_box(landmarks: LandmarkFrame, width: int, height: int) -> CropBox | None:
    """The crop around the head, or None (no person, face landmarks not visible)."""
    if not landmarks.person_found or float(np.mean(landmarks.visibility[_FACE])) < MIN_VISIBILITY:
        return None
    px = landmarks.image[_FACE, :2] * (width, height)  # (11, 2) pixels
    extent = float(max(np.ptp(px[:, 0]), np.ptp(px[:, 1])))
    return _box(px.mean(axis=0), HEAD_SCALE * extent, width, height)


def hand_box(landmarks: LandmarkFrame, side: str, width: int, height: int) -> CropBox | None:
    """The crop around the ``"left"`` or ``"right"`` hand (the performer's side), or None."""
    elbow, wrist, knuckles = _HANDS[side]
    if not landmarks.person_found or landmarks.visibility[wrist] < MIN_VISIBILITY:
        return None
    scale = np.array([width, height], dtype=np.float64)
    elbow_px, wrist_px = landmarks.image[elbow, :2] * scale, landmarks.image[wrist, :2] * scale
    knuckles_px = landmarks.image[list(knuckles), :2].mean(axis=0) * scale
    forearm = float(np.linalg.norm(wrist_px - elbow_px))
    center = 0.5 * (wrist_px + knuckles_px) + 0.15 * (knuckles_px - wrist_px)
    return _box(center, HAND_SCALE * forearm, width, height)


def cut(image: np.ndarray, box: CropBox, max_side: int | None = None) -> np.ndarray:
    """The ``(S, S, 3)`` pixels of ``box``; parts outside the image are black.

    Args:
        image: ``(H, W, 3)`` uint8.
        box: the square box.
        max_side: shrink the crop to at most this side (the landmarkers resize to 192-256 anyway,
            so a large crop only costs the resize).
    """
    H, W = image.shape[:2]
    out = np.zeros((box.size, box.size, 3), dtype=np.uint8)
    x0, y0, x1, y1 = max(box.x0, 0), max(box.y0, 0), min(box.x0 + box.size, W), min(box.y0 + box.size, H)
    if x1 > x0 and y1 > y0:
        out[y0 - box.y0:y1 - box.y0, x0 - box.x0:x1 - box.x0] = image[y0:y1, x0:x1]
    if max_side is not None and box.size > max_side:
        import cv2

        out = cv2.resize(out, (max_side, max_side), interpolation=cv2.INTER_AREA)
    return out


def view_rotation(box: CropBox, width: int, height: int, hfov_deg: float = CAMERA_HFOV_DEG) -> np.ndarray:
    """``(3, 3)`` the turn from a camera looking straight at ``box``'s centre to the real camera.

    Axes as the face landmarker's camera space (x right, y up, z toward the viewer): it takes the
    optical axis ``(0, 0, -1)`` onto the ray through the box's centre (pinhole, principal point at
    the image centre, focal length from ``hfov_deg``). A rotation a landmarker estimated on the crop
    is ``view_rotation(...) @ R`` in the camera's axes.
    """
    f = 0.5 * width / np.tan(np.radians(0.5 * hfov_deg))
    cx, cy = box.x0 + 0.5 * box.size, box.y0 + 0.5 * box.size
    ray = np.array([(cx - 0.5 * width) / f, -(cy - 0.5 * height) / f, -1.0])
    return quat_to_matrix(quat_between(np.array([0.0, 0.0, -1.0]), ray / np.linalg.norm(ray)))
