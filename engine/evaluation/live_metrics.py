"""Metrics of the live path: pose error against ground truth, and stability without ground truth.

All position arrays are ``(T, 28, 3)`` canonical performer positions in metres
(:mod:`engine.performer`), pelvis-relative; ``found`` ``(T,)`` bool marks the frames where
perception saw a person (the others hold a pose or zeros and are left out of every metric).
"""

from __future__ import annotations

import numpy as np

from engine import rotations as rot
from engine.performer import PERFORMER_JOINTS, PERFORMER_PARENTS

__all__ = ["mpjpe_cm", "pa_mpjpe_cm", "jitter_ms2", "bone_length_cv", "rotation_error_deg", "camera_frame_targets"]

_BONES = [(p, j) for j, p in enumerate(PERFORMER_PARENTS) if p >= 0]


def camera_frame_targets(positions: np.ndarray, camera_rotation: np.ndarray) -> np.ndarray:
    """Ground truth in the frame MediaPipe reports: pelvis-relative, camera-aligned, internal axes.

    This is the camera-yaw (and pitch) alignment of the evaluation: the performer's world positions
    ``(T, 28, 3)`` are expressed in the render camera's axes (``camera_rotation`` columns = right,
    down, viewing direction in the world), then flipped to the internal convention (X right, Y up,
    Z toward the camera), exactly like the landmark simulator's targets. No per-frame fitting.
    """
    p = np.asarray(positions, dtype=np.float64)
    rel = p - p[:, :1]
    return (rel @ np.asarray(camera_rotation, dtype=np.float64)) * np.array([1.0, -1.0, -1.0])


def _masked(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if found is not None:
        keep = np.asarray(found, dtype=bool)
        pred, gt = pred[keep], gt[keep]
    return pred - pred[:, :1], gt - gt[:, :1]


def mpjpe_cm(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None = None) -> float:
    """Mean per-joint position error in centimetres, both pelvis-relative (NaN when no frame counts)."""
    p, g = _masked(pred, gt, found)
    return float(np.linalg.norm(p - g, axis=-1).mean() * 100) if len(p) else float("nan")


def pa_mpjpe_cm(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None = None) -> float:
    """MPJPE after a per-frame similarity alignment (rotation, scale, translation; Umeyama), centimetres."""
    p, g = _masked(pred, gt, found)
    if not len(p):
        return float("nan")
    errs = []
    for a, b in zip(p, g):
        a0, b0 = a - a.mean(0), b - b.mean(0)
        u, s, vt = np.linalg.svd(a0.T @ b0)
        d = np.sign(np.linalg.det(u @ vt))
        s[-1] *= d
        u[:, -1] *= d
        r = u @ vt  # rotation taking a0 to b0 (row vectors: a0 @ r)
        scale = s.sum() / max((a0**2).sum(), 1e-12)
        errs.append(np.linalg.norm(scale * a0 @ r - b0, axis=-1).mean())
    return float(np.mean(errs) * 100)


def jitter_ms2(positions: np.ndarray, found: np.ndarray, fps: float) -> float:
    """Mean joint acceleration magnitude, m/s^2 (second differences over three consecutive found frames)."""
    p = np.asarray(positions, dtype=np.float64)
    f = np.asarray(found, dtype=bool)
    ok = f[2:] & f[1:-1] & f[:-2]
    if not ok.any():
        return float("nan")
    acc = (p[2:] - 2 * p[1:-1] + p[:-2]) * fps**2  # (T-2, 28, 3)
    return float(np.linalg.norm(acc[ok], axis=-1).mean())


def bone_length_cv(positions: np.ndarray, found: np.ndarray) -> dict[str, float]:
    """Std / mean of each performer bone's length over the found frames, keyed by the child joint's name."""
    p = np.asarray(positions, dtype=np.float64)[np.asarray(found, dtype=bool)]
    out = {}
    for par, j in _BONES:
        lengths = np.linalg.norm(p[:, j] - p[:, par], axis=-1)
        out[PERFORMER_JOINTS[j]] = float(lengths.std() / max(lengths.mean(), 1e-9)) if len(lengths) > 1 else float("nan")
    return out


def rotation_error_deg(pred: np.ndarray, gt: np.ndarray, joints: list[int] | np.ndarray, valid: np.ndarray | None = None) -> dict[str, float]:
    """Geodesic angle between predicted and true local rotations ``(T, J, 4)`` (x y z w), degrees.

    Returns ``{"mean": ..., "median": ..., "per_joint": [...]}`` over ``joints`` and the ``valid`` frames.
    """
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if valid is not None:
        pred, gt = pred[np.asarray(valid, dtype=bool)], gt[np.asarray(valid, dtype=bool)]
    j = np.asarray(joints, dtype=int)
    if not len(pred):
        return {"mean": float("nan"), "median": float("nan"), "per_joint": []}
    ang = np.degrees(rot.quat_geodesic_angle(pred[:, j], gt[:, j]))  # (T, len(j))
    return {"mean": float(ang.mean()), "median": float(np.median(ang)), "per_joint": [float(a) for a in ang.mean(0)]}
