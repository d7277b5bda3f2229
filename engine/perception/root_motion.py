"""Root motion from one view: where the performer's hips are in camera space.

MediaPipe's world landmarks are metric but hip-centred, and its image landmarks are in pixels (as
fractions of the image). The translation ``T`` that makes the pinhole projection of
``world + T`` match the image landmarks is the hip centre in camera space. For each visible
landmark ``i`` with pixel offset ``(du, dv)`` from the principal point, the projection equations

    f * (X_i + Tx) = du_i * (Z_i + Tz)        f * (Y_i + Ty) = dv_i * (Z_i + Tz)

are linear in ``T``, so ``T`` is a weighted least-squares solution (the approach of perspective
"root depth from 2D-3D correspondences"). The focal length is not known for a webcam; a
horizontal field of view of 60 degrees is assumed, which scales depth but keeps the direction and
timing of the motion. Frames: MediaPipe camera axes, x right, y down, z away from the camera.
"""

from __future__ import annotations

import numpy as np

from engine.perception.landmarks import LandmarkFrame, world_to_internal

__all__ = ["DEFAULT_FOV_DEG", "estimate_hip_translation", "root_offset_internal"]

DEFAULT_FOV_DEG = 60.0  # assumed horizontal field of view of a webcam
MIN_VISIBILITY = 0.5  # landmarks below this are left out of the fit
MIN_POINTS = 6


def estimate_hip_translation(
    frame: LandmarkFrame, image_size: tuple[int, int], *, fov_deg: float = DEFAULT_FOV_DEG
) -> np.ndarray | None:
    """The hip centre in camera space ``(3,)`` metres (x right, y down, z away), or ``None``.

    Args:
        frame: one person's landmarks (world: hip-centred metres; image: fractions of the image).
        image_size: ``(width, height)`` of the image the landmarks were found in, pixels.
        fov_deg: assumed horizontal field of view.

    Returns ``None`` when no person was found or too few landmarks are visible to fit.
    """
    if not frame.person_found:
        return None
    width, height = image_size
    focal = 0.5 * width / np.tan(0.5 * np.radians(fov_deg))  # pixels
    keep = (frame.visibility >= MIN_VISIBILITY) & np.isfinite(frame.image[:, :2]).all(axis=1)
    if keep.sum() < MIN_POINTS:
        return None
    world = frame.world[keep]  # (N, 3)
    du = (frame.image[keep, 0] - 0.5) * width  # (N,) pixels right of the principal point
    dv = (frame.image[keep, 1] - 0.5) * height  # (N,) pixels below it
    zeros = np.zeros_like(du)
    full = np.full_like(du, focal)
    # Rows: f*Tx - du*Tz = du*Z - f*X  and  f*Ty - dv*Tz = dv*Z - f*Y.
    a = np.concatenate([np.stack([full, zeros, -du], axis=1), np.stack([zeros, full, -dv], axis=1)])  # (2N, 3)
    b = np.concatenate([du * world[:, 2] - focal * world[:, 0], dv * world[:, 2] - focal * world[:, 1]])  # (2N,)
    w = np.sqrt(np.concatenate([frame.visibility[keep]] * 2))
    t, *_ = np.linalg.lstsq(a * w[:, None], b * w, rcond=None)
    if not np.isfinite(t).all() or t[2] <= 0:
        return None
    return t


def root_offset_internal(hips_camera: np.ndarray) -> np.ndarray:
    """Camera-space hip position -> the project's frame (X right, Y up, Z toward the camera)."""
    return world_to_internal(hips_camera)
