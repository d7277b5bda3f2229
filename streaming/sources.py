"""Frame sources behind one small ABC: webcam, video file, image folder and a synthetic performer.

A :class:`Source` is opened, read one frame at a time and closed. ``read()`` returns a
:class:`~streaming.frames.Frame` stamped with ``time.monotonic_ns()`` right after the read (STYLE
rule 9), or ``None`` when there is no frame at this moment (a camera reconnecting) or the stream has
ended (then :attr:`Source.exhausted` is true). Each class names its ``kind``; the table of kinds
and ``create_source`` live in :mod:`streaming.source_registry`, which imports every source module
(the source modules never import it back).

Built-in kinds: ``webcam`` (:mod:`streaming.webcam`), ``video`` and ``images`` (here) and
``synthetic`` (:mod:`streaming.synthetic_source`). A webcam that disappears mid-run is reported
through :attr:`Source.status` and retried with exponential backoff; ``read()`` never raises for
it. Only ``open()`` raises, with :class:`CameraUnavailable` naming the device and the fault
(DESIGN §7).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.errors import AnyRigError
from streaming.frames import Frame

__all__ = [
    "CameraUnavailable",
    "ImageFolderSource",
    "Pacer",
    "Source",
    "SourceState",
    "SourceStatus",
    "SourceUnavailable",
    "VideoFileSource",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


# %% errors -------------------------------------------------------------------------------------
class SourceUnavailable(AnyRigError):
    """A source that cannot be opened: names it and the exact fault.

    Attributes:
        source: the file, folder or device spec.
        reason: what is wrong, in one sentence.
    """

    def __init__(self, source: str | int | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


class CameraUnavailable(SourceUnavailable):
    """A camera that cannot be opened or gives no frame (``device`` is its index or path)."""

    def __init__(self, device: int | str, reason: str) -> None:
        self.device = device
        super().__init__(f"camera {device}", reason)


# %% state ---------------------------------------------------------------------------------------
class SourceState(enum.Enum):
    """Where a source stands; ``RECONNECTING`` only for cameras that went away mid-run."""

    CLOSED = "closed"
    OPEN = "open"
    RECONNECTING = "reconnecting"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A snapshot of a source for the status bar and the run statistics.

    Attributes:
        state: the source's state.
        frames_read: frames returned by ``read()`` since ``open()``.
        reconnects: successful reconnections after the device went away.
        reconnect_attempts: reconnection attempts made (successful or not).
        last_error: the last fault reported (empty when none).
    """

    state: SourceState
    frames_read: int = 0
    reconnects: int = 0
    reconnect_attempts: int = 0
    last_error: str = ""


# %% base class -----------------------------------------------------------------------------------
class Source(ABC):
    """A stream of stamped frames.

    Subclasses implement ``_open``, ``_read`` and ``_close``; the base class keeps the state, the
    counters and the frame index, and makes ``close()`` idempotent.

    Attributes:
        kind: the registry name of the class.
        source_id: a short label stored in every frame (``"webcam:0"``, the file name...).
        fps: the nominal frame rate, frames per second, or ``None`` when unknown.
    """

    kind: str = "source"

    def __init__(self, source_id: str, fps: float | None = None) -> None:
        self.source_id = source_id
        self.fps = fps
        self._state = SourceState.CLOSED
        self._frames_read = 0
        self._next_index = 0
        self._reconnects = 0
        self._attempts = 0
        self._last_error = ""
        self._interrupted = threading.Event()  # wakes a read that waits (pacing or backoff)

    # -- lifecycle ----------------------------------------------------------------------------
    def open(self) -> None:
        """Open the device or file. Raises :class:`SourceUnavailable` with the fault."""
        if self._state not in (SourceState.CLOSED, SourceState.EXHAUSTED):
            return
        self._interrupted.clear()
        self._frames_read = 0
        self._next_index = 0
        self._open()
        self._state = SourceState.OPEN

    def read(self) -> Frame | None:
        """The next frame, or ``None`` (no frame now, or the end: see :attr:`exhausted`)."""
        if self._state in (SourceState.CLOSED, SourceState.EXHAUSTED):
            return None
        frame = self._read()
        if frame is not None:
            self._frames_read += 1
        return frame

    def close(self) -> None:
        """Release the device or file; safe to call any number of times."""
        self._interrupted.set()
        if self._state is SourceState.CLOSED:
            return
        try:
            self._close()
        finally:
            self._state = SourceState.CLOSED

    def interrupt(self) -> None:
        """Wake a ``read()`` that is waiting (pacing or reconnect backoff) so a thread can stop."""
        self._interrupted.set()

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- facts -------------------------------------------------------------------------------
    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def exhausted(self) -> bool:
        """True once a finite source (file, folder) has given its last frame."""
        return self._state is SourceState.EXHAUSTED

    @property
    def status(self) -> SourceStatus:
        return SourceStatus(self._state, self._frames_read, self._reconnects, self._attempts, self._last_error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source_id!r}, {self._state.value})"

    # -- helpers for subclasses ------------------------------------------------------------------
    def _stamp(self, image: np.ndarray, t_capture_ns: int, **extra: Any) -> Frame:
        frame = self._make_frame(image, t_capture_ns, self._next_index, **extra)
        self._next_index += 1
        return frame

    def _make_frame(self, image: np.ndarray, t_capture_ns: int, index: int, **extra: Any) -> Frame:
        return Frame(image=image, t_capture_ns=t_capture_ns, index=index, source_id=self.source_id)

    def _finish(self) -> None:
        self._state = SourceState.EXHAUSTED

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _read(self) -> Frame | None: ...

    @abstractmethod
    def _close(self) -> None: ...


class Pacer:
    """Sleeps so that frames come out at ``fps`` (monotonic clock; no burst after a stall)."""

    def __init__(self, fps: float) -> None:
        self.period_ns = int(round(1e9 / fps))
        self._due: int | None = None

    def reset(self) -> None:
        self._due = None

    def wait(self, interrupted: threading.Event) -> None:
        now = time.monotonic_ns()
        if self._due is None:
            self._due = now
        if self._due > now:
            interrupted.wait((self._due - now) / 1e9)
        now = time.monotonic_ns()
        # More than one period late (a stall upstream): start again from now instead of catching up.
        self._due = self._due + self.period_ns if now - self._due < self.period_ns else now + self.period_ns


# %% video file ---------------------------------------------------------------------------------
class VideoFileSource(Source):
    """A video file, paced at its own frame rate (``realtime``) or read as fast as possible.

    Args:
        path: the video file.
        realtime: sleep between frames so they come out at the file's fps (like a camera).
        loop: start again at the end instead of finishing.
        fps: override the file's frame rate (also used when the file does not state one).
    """

    kind = "video"

    def __init__(self, path: str | Path, *, realtime: bool = True, loop: bool = False, fps: float | None = None) -> None:
        self.path = Path(path)
        super().__init__(self.path.name, fps)
        self.realtime, self.loop = realtime, loop
        self._fps_override = fps
        self._cap: cv2.VideoCapture | None = None
        self._pacer: Pacer | None = None

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(self.path, "no such video file")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(self.path, "OpenCV cannot decode this file (not a video, or an unsupported codec)")
        file_fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = self._fps_override or (float(file_fps) if file_fps and file_fps > 0 else 30.0)
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._cap = cap
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _read(self) -> Frame | None:
        assert self._cap is not None
        if self._pacer is not None:
            self._pacer.wait(self._interrupted)
        ok, image = self._cap.read()
        if not ok and self.loop and self._next_index > 0:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
        t = time.monotonic_ns()
        if not ok or image is None:
            self._note_cut_short()
            self._finish()
            return None
        return self._stamp(image, t)

    def _note_cut_short(self) -> None:
        """Warn (and keep in ``status.last_error``) when the file ends well before the frame count its header declares.

        OpenCV's count is an estimate for some containers, so a shortfall of up to 2 frames or 2%
        is taken as rounding; a truncated or corrupted file ends far earlier.
        """
        declared, read = self.frame_count, self._frames_read
        if self.loop or declared <= 0 or read >= declared - max(2, declared // 50):
            return
        self._last_error = f"video cut short: it ended after {read} of the {declared} frames its header declares (truncated or corrupted file?)"
        logger.warning("%s: %s", self.path, self._last_error)

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# %% image folder ------------------------------------------------------------------------------
class ImageFolderSource(Source):
    """The images of a folder in name order, paced at ``fps`` or read as fast as possible.

    Args:
        path: the folder; files with an image suffix (``.png``, ``.jpg``...) are used.
        fps: the rate frames come out at when ``realtime``.
        realtime: pace the frames like a camera.
        loop: start again after the last image.
    """

    kind = "images"

    def __init__(self, path: str | Path, *, fps: float = 30.0, realtime: bool = True, loop: bool = False) -> None:
        self.path = Path(path)
        super().__init__(self.path.name or str(self.path), fps)
        self.realtime, self.loop = realtime, loop
        self.files: list[Path] = []
        self.unreadable: list[Path] = []
        self._pos = 0
        self._pacer = Pacer(fps)

    def _open(self) -> None:
        if not self.path.is_dir():
            raise SourceUnavailable(self.path, "no such folder")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise SourceUnavailable(self.path, f"the folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        self._pos = 0
        self._pacer.reset()

    def _read(self) -> Frame | None:
        if self.realtime:
            self._pacer.wait(self._interrupted)
        while True:
            if self._pos >= len(self.files):
                if not self.loop or len(self.unreadable) == len(self.files):
                    self._finish()
                    return None
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            t = time.monotonic_ns()
            if image is not None:
                return self._stamp(image, t)
            if path not in self.unreadable:
                self.unreadable.append(path)
                self._last_error = f"{path}: not a readable image"
                logger.warning("skipping %s: not a readable image", path)

    def _close(self) -> None:
        self._pos = 0
