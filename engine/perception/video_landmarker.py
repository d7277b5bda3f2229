"""What the pose, face and hand adapters share: one MediaPipe Tasks landmarker in VIDEO mode.

Each adapter builds its own task options and reads its own result; this base owns the rest: the
landmarker's lifetime (open once, :meth:`VideoLandmarker.close` once: MediaPipe's native library
looks up a Google logging host when a landmarker is closed, DESIGN §9), the image check and
conversion (OpenCV's BGR unless ``rgb``), and the strictly increasing timestamps VIDEO mode needs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Self

import numpy as np

from engine.errors import AnyRigError

__all__ = ["PerceptionError", "VideoClock", "VideoLandmarker", "to_mediapipe_image"]

logger = logging.getLogger(__name__)


class PerceptionError(AnyRigError):
    """Misuse or failure of a perception adapter (bad image, closed adapter)."""


class VideoClock:
    """Strictly increasing millisecond timestamps for a VIDEO-mode landmarker: an equal or earlier
    one moves to 1 ms after the previous (a jittery clock never stops the pipeline)."""

    def __init__(self) -> None:
        self._last: int | None = None

    def next(self, t_ms: int) -> int:
        ts = int(t_ms)
        if self._last is not None and ts <= self._last:
            logger.debug("timestamp %d ms not after %d ms; using %d", ts, self._last, self._last + 1)
            ts = self._last + 1
        self._last = ts
        return ts


def to_mediapipe_image(mp: Any, image: np.ndarray, rgb: bool) -> Any:
    """A MediaPipe SRGB image from ``(H, W, 3)`` uint8 (BGR unless ``rgb``).

    Raises:
        PerceptionError: the image is not ``(H, W, 3)`` uint8.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise PerceptionError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    data = np.ascontiguousarray(image if rgb else image[:, :, ::-1])
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=data)


class VideoLandmarker:
    """Base of the landmarker adapters: call :meth:`_open` from ``__init__`` with the task's class
    (e.g. ``vision.FaceLandmarker``) and options, and :meth:`_run` from ``detect``."""

    model_path: Path
    rgb: bool
    _landmarker: Any = None

    def _open(self, task: Any, options: Any, model_path: Path, rgb: bool) -> None:
        import mediapipe as mp

        self._mp = mp
        self.model_path = model_path
        self.rgb = rgb
        self._clock = VideoClock()
        self._landmarker = task.create_from_options(options)
        logger.info("%s ready (%s)", task.__name__, model_path.name)

    @property
    def closed(self) -> bool:
        return self._landmarker is None

    def _run(self, image: np.ndarray, t_ms: int) -> Any:
        """The landmarker's result for ``image`` at capture time ``t_ms``.

        Raises:
            PerceptionError: the adapter is closed or the image is not ``(H, W, 3)`` uint8.
        """
        if self._landmarker is None:
            raise PerceptionError(f"detect() called on a closed {type(self).__name__}")
        return self._landmarker.detect_for_video(to_mediapipe_image(self._mp, image, self.rgb), self._clock.next(t_ms))

    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        if self._landmarker is not None:
            landmarker, self._landmarker = self._landmarker, None
            landmarker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
