"""A camera through OpenCV, with reconnection when it goes away mid-run (DESIGN §7).

``cv2.VideoCapture(0)`` does not raise when there is no camera (DESIGN §8), so ``open()`` checks
``isOpened()`` and reads one probe frame, raising :class:`~streaming.sources.CameraUnavailable`
with the device and the fault. Mid-run, ``ReconnectPolicy.failed_reads`` consecutive failed reads
mark the camera as gone: the source goes ``RECONNECTING``, ``read()`` returns ``None`` (never
raises) and retries opening it with exponential backoff, reported through ``status``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from streaming.frames import Frame
from streaming.sources import CameraUnavailable, Source, SourceState

__all__ = ["CaptureDevice", "ReconnectPolicy", "WebcamSource"]

logger = logging.getLogger(__name__)


class CaptureDevice(Protocol):
    """What :class:`WebcamSource` needs from ``cv2.VideoCapture`` (tests pass a fake)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's spelling

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def set(self, prop: int, value: float) -> bool: ...

    def get(self, prop: int) -> float: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a camera that went away is retried.

    Attributes:
        failed_reads: consecutive failed reads before the camera counts as gone (as in DLC-live).
        retry_delay_s: pause after one failed read, before the next read.
        backoff_initial_s: first wait before a reconnection attempt; doubles after each failure.
        backoff_max_s: the longest wait between attempts.
    """

    failed_reads: int = 5
    retry_delay_s: float = 0.01
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 4.0


class WebcamSource(Source):
    """A camera through OpenCV, by index (``0``) or device path (``/dev/video2``).

    Args:
        device: camera index or device path (a string of digits counts as an index).
        width, height: requested resolution in pixels (the driver may pick another).
        fps: requested frame rate.
        policy: failed-read limit and reconnection backoff.
        capture_factory: builds the capture object (default ``cv2.VideoCapture``); tests pass a fake.
    """

    kind = "webcam"

    def __init__(
        self,
        device: int | str = 0,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        policy: ReconnectPolicy = ReconnectPolicy(),
        capture_factory: Callable[[int | str], CaptureDevice] | None = None,
    ) -> None:
        if isinstance(device, str) and device.isdigit():
            device = int(device)
        super().__init__(f"webcam:{device}", fps)
        self.device = device
        self.width, self.height = width, height
        self.policy = policy
        self._factory = capture_factory or cv2.VideoCapture
        self._cap: CaptureDevice | None = None
        self._pending: Frame | None = None  # the probe frame read by open(), handed out first
        self._failed = 0
        self._backoff_s = policy.backoff_initial_s
        self._next_attempt_ns = 0

    def _connect(self) -> None:
        """Open the device and read one probe frame; raises :class:`CameraUnavailable`."""
        try:
            cap = self._factory(self.device)
        except (cv2.error, OSError) as exc:
            raise CameraUnavailable(self.device, f"could not be opened: {exc}") from exc
        # cv2.VideoCapture(0) does not raise without a camera (DESIGN §8): check isOpened and read.
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(self.device, "could not be opened (no such device, no permission, or busy)")
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.width), (cv2.CAP_PROP_FRAME_HEIGHT, self.height), (cv2.CAP_PROP_FPS, self.fps)):
            if value:
                cap.set(prop, float(value))
        # Keep the driver from queueing frames: a stale frame in its buffer is pure latency.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1.0)
        ok, image = cap.read()
        t = time.monotonic_ns()
        if not ok or image is None:
            cap.release()
            raise CameraUnavailable(self.device, "opened but gave no frame")
        got_fps = cap.get(cv2.CAP_PROP_FPS)
        if got_fps and got_fps > 0:
            self.fps = float(got_fps)
        self._cap = cap
        self._pending = self._stamp(image, t)
        self._failed = 0

    def _open(self) -> None:
        self._connect()
        self._backoff_s = self.policy.backoff_initial_s

    def _read(self) -> Frame | None:
        if self._state is SourceState.RECONNECTING:
            return self._try_reconnect()
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        assert self._cap is not None
        ok, image = self._cap.read()
        t = time.monotonic_ns()
        if ok and image is not None:
            self._failed = 0
            return self._stamp(image, t)
        self._failed += 1
        if self._failed >= self.policy.failed_reads:
            self._lose(f"{self._failed} consecutive reads failed")
        else:
            self._interrupted.wait(self.policy.retry_delay_s)
        return None

    def _lose(self, reason: str) -> None:
        logger.warning("camera %s went away (%s); reconnecting", self.device, reason)
        self._last_error = reason
        self._release()
        self._state = SourceState.RECONNECTING
        self._backoff_s = self.policy.backoff_initial_s
        self._next_attempt_ns = time.monotonic_ns() + int(self._backoff_s * 1e9)

    def _try_reconnect(self) -> Frame | None:
        wait_ns = self._next_attempt_ns - time.monotonic_ns()
        if wait_ns > 0:
            self._interrupted.wait(wait_ns / 1e9)
            if self._interrupted.is_set() or self._next_attempt_ns > time.monotonic_ns():
                return None
        self._attempts += 1
        try:
            self._connect()
        except CameraUnavailable as exc:
            self._last_error = exc.reason
            self._backoff_s = min(self._backoff_s * 2.0, self.policy.backoff_max_s)
            self._next_attempt_ns = time.monotonic_ns() + int(self._backoff_s * 1e9)
            logger.info("camera %s still unavailable (%s); next try in %.2f s", self.device, exc.reason, self._backoff_s)
            return None
        self._reconnects += 1
        self._state = SourceState.OPEN
        self._backoff_s = self.policy.backoff_initial_s
        logger.info("camera %s reconnected", self.device)
        frame, self._pending = self._pending, None
        return frame

    @property
    def backoff_s(self) -> float:
        """The current wait between reconnection attempts, seconds."""
        return self._backoff_s

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _close(self) -> None:
        self._release()
        self._pending = None
