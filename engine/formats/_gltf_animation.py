"""glTF animation samplers: key-time checks, frame-rate inference and resampling.

Private helper of :mod:`engine.formats.gltf`. Interpolation follows glTF 2.0 §3.11 and Appendix C:
``LINEAR`` (slerp for rotations), ``STEP`` and ``CUBICSPLINE`` (Hermite spline whose output
accessor stores ``(in-tangent, value, out-tangent)`` triplets per key; tangents are scaled by the
key interval; rotations are normalised afterwards). Before the first key the first value holds,
after the last key the last value holds.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from engine import rotations as rot

__all__ = ["MAX_FRAMES", "infer_fps", "sample"]

DEFAULT_FPS = 30.0
MAX_FRAMES = 216_000  # 2 hours at 30 fps: anything longer is taken as a malformed time axis


def infer_fps(inputs: list[np.ndarray]) -> float:
    """Frame rate from the most common key interval of all channels (``DEFAULT_FPS`` if none).

    Each interval's rate is rounded to 0.1 fps before counting; the winning rate is rounded to an integer when within
    0.05 of one (Blender writes 1/24 s as 0.041666...), else to two decimals, and clamped to
    [1, 240] frames per second.

    Args:
        inputs: ``(K,)`` key-time arrays, seconds, one per channel.
    """
    counts: Counter[float] = Counter()
    for times in inputs:
        steps = np.diff(times)
        rates = np.round(1.0 / steps[steps > 1e-6], 1)  # per-interval rate, 0.1 fps bins
        counts.update(float(r) for r in rates)
    if not counts:
        return DEFAULT_FPS
    fps = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
    fps = float(round(fps)) if abs(fps - round(fps)) < 0.05 else round(fps, 2)
    return float(min(max(fps, 1.0), 240.0))


def sample(times: np.ndarray, values: np.ndarray, interpolation: str, t: np.ndarray, *, quaternion: bool) -> np.ndarray:
    """Values of one sampler at times ``t``.

    Args:
        times: ``(K,)`` float64 non-decreasing key times, seconds.
        values: ``(K, C)`` key values, or ``(3K, C)`` triplets for ``CUBICSPLINE``.
        interpolation: ``"LINEAR"``, ``"STEP"`` or ``"CUBICSPLINE"``.
        t: ``(T,)`` float64 sample times, seconds.
        quaternion: ``True`` for rotation channels (x y z w): slerp and normalisation.

    Returns:
        ``(T, C)`` float64 sampled values.
    """
    K = len(times)
    if interpolation == "CUBICSPLINE":
        triplets = values.reshape(K, 3, -1)  # (K, 3, C): in-tangent, value, out-tangent
        keys = triplets[:, 1]
    else:
        keys = values
    if K == 1:
        out = np.repeat(keys[:1], len(t), axis=0)
        return rot.quat_normalize(out) if quaternion else out
    # Segment index i with times[i] <= t < times[i + 1], clamped to the first/last segment.
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, K - 2)
    dt = times[i + 1] - times[i]  # (T,)
    s = np.clip((t - times[i]) / np.where(dt > 0, dt, 1.0), 0.0, 1.0)
    s = np.where(dt > 0, s, 1.0)
    # Key times are float32: a sample time within float32 rounding of a key takes that key exactly.
    tol = 1e-7 * np.maximum(np.abs(t), 1.0)
    s = np.where(np.abs(t - times[i]) < tol, 0.0, np.where(np.abs(times[i + 1] - t) < tol, 1.0, s))
    if interpolation == "STEP":
        out = np.where((s >= 1.0)[:, None], keys[i + 1], keys[i])
    elif interpolation == "CUBICSPLINE":
        s2, s3 = s * s, s * s * s
        h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
        out = (
            h00[:, None] * keys[i]
            + (h10 * dt)[:, None] * triplets[i, 2]
            + h01[:, None] * keys[i + 1]
            + (h11 * dt)[:, None] * triplets[i + 1, 0]
        )
        # Before the first and after the last key the key value holds exactly.
        out = np.where((t <= times[0])[:, None], keys[0], out)
        out = np.where((t >= times[-1])[:, None], keys[-1], out)
    elif quaternion:
        out = rot.slerp(keys[i], keys[i + 1], s)
    else:
        out = keys[i] + s[:, None] * (keys[i + 1] - keys[i])
    if quaternion:
        norm = np.linalg.norm(out, axis=-1, keepdims=True)
        out = np.where(norm > 1e-12, out / np.where(norm > 1e-12, norm, 1.0), np.array([0.0, 0.0, 0.0, 1.0]))
    return out
