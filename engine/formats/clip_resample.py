"""Resampling a clip to another frame rate: slerp for rotations, linear for translations."""

from __future__ import annotations

import math

import numpy as np

from engine import rotations as rot
from engine.rig import Clip

__all__ = ["resample_clip"]


def resample_clip(clip: Clip, fps: float) -> Clip:
    """The clip sampled at ``fps``, keeping its duration.

    New frame ``k`` is at time ``k / fps`` for ``k = 0 .. round(duration * fps)``, clamped to the
    clip's duration, so the new duration is the old one rounded to whole new frames. Rotations are
    interpolated with :func:`engine.rotations.slerp` (shorter arc), translations linearly.

    Args:
        clip: the source clip, ``T`` frames at ``clip.fps``.
        fps: the new rate in frames per second, positive and finite.

    Returns:
        A new clip with the same name; ``(T', J, 4)`` rotations and ``(T', J, 3)`` translations.

    Raises:
        ValueError: ``fps`` is not a positive finite number.
    """
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    T = clip.num_frames
    if T <= 1:
        return Clip(clip.name, fps, clip.rotations.copy(), clip.translations.copy())
    count = int(round(clip.duration * fps)) + 1
    t = np.minimum(np.arange(count) / fps, clip.duration)  # (T',) seconds
    f = t * clip.fps  # fractional source frame
    i0 = np.minimum(np.floor(f).astype(np.int64), T - 1)
    i1 = np.minimum(i0 + 1, T - 1)
    a = (f - i0)[:, None]  # (T', 1) weight of frame i1
    rotations = rot.slerp(clip.rotations[i0], clip.rotations[i1], a)  # (T', J, 4)
    translations = (1.0 - a[..., None]) * clip.translations[i0] + a[..., None] * clip.translations[i1]
    return Clip(clip.name, fps, rotations, translations)
