"""Frame sources behind one small ABC: webcam, video file, image folder and a synthetic performer.

A :class:`Source` is opened, read one frame at a time and closed. ``read()`` returns a
:class:`~streaming.frames.Frame` stamped with ``time.monotonic_ns()`` right after the read (STYLE
rule 9), or ``None`` when there is no frame at this moment (a camera reconnecting) or the stream has
ended (then :attr:`Source.exhausted` is true). Sources register under a short name with
``@register_source("webcam")`` so tests can register fakes like any camera (STYLE §5).

A webcam that disappears mid-run is reported through :attr:`Source.status` and retried with
exponential backoff; ``read()`` never raises for it. Only ``open()`` raises, with
:class:`CameraUnavailable` naming the device and the fault (DESIGN §7).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from engine.errors import AnyRigError
from streaming.frames import Frame

__all__ = [
    "CameraUnavailable",
    "ImageFolderSource",
    "Source",
    "SourceState",
    "SourceStatus",
    "SourceUnavailable",
    "VideoFileSource",
    "WebcamSource",
    "create_source",
    "register_source",
    "source_names",
    "unregister_source",
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


# %% registry ------------------------------------------------------------------------------------
_REGISTRY: dict[str, type[Source]] = {}


def register_source(name: str) -> Callable[[type[Source]], type[Source]]:
    """Class decorator: make a :class:`Source` subclass available as ``create_source(name)``."""

    def decorate(cls: type[Source]) -> type[Source]:
        _REGISTRY[name] = cls
        cls.kind = name
        return cls

    return decorate


def unregister_source(name: str) -> None:
    """Remove ``name`` from the registry (tests that registered a fake call this)."""
    _REGISTRY.pop(name, None)


def source_names() -> list[str]:
    """The registered source kinds, sorted (the built-in ones included)."""
    import streaming.synthetic_source  # noqa: F401

    return sorted(_REGISTRY)


def create_source(spec: str, **options: Any) -> Source:
    """Build a source from a command-line spec.

    Args:
        spec: ``webcam`` / ``webcam:N`` / ``webcam:/dev/videoN``, ``synthetic``, any other registered
            kind (``kind`` or ``kind:argument``), a video file or a folder of images.
        **options: keyword arguments passed to the source's constructor.

    Raises:
        SourceUnavailable: the spec names no registered kind and no existing file or folder.
    """
    import streaming.synthetic_source  # noqa: F401  (registers "synthetic"; imported late: it imports this module)

    kind, _, arg = spec.partition(":")
    if kind in _REGISTRY and not Path(spec).exists():
        cls = _REGISTRY[kind]
        if kind == "webcam":
            return cls(_parse_device(arg or "0"), **options)
        return cls(arg, **options) if arg else cls(**options)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _REGISTRY["images"](path, **options)
    if path.is_file():
        return _REGISTRY["video"](path, **options)
    raise SourceUnavailable(spec, f"no such file or folder, and not one of {[f'{k}[:ARG]' for k in source_names()]}")


def _parse_device(arg: str) -> int | str:
    return int(arg) if arg.isdigit() else arg


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


class _Pacer:
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


# %% webcam --------------------------------------------------------------------------------------
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


@register_source("webcam")
class WebcamSource(Source):
    """A camera through OpenCV, by index (``0``) or device path (``/dev/video2``).

    Args:
        device: camera index or device path.
        width, height: requested resolution in pixels (the driver may pick another).
        fps: requested frame rate.
        policy: failed-read limit and reconnection backoff.
        capture_factory: builds the capture object (default ``cv2.VideoCapture``); tests pass a fake.
    """

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


# %% video file ---------------------------------------------------------------------------------
@register_source("video")
class VideoFileSource(Source):
    """A video file, paced at its own frame rate (``realtime``) or read as fast as possible.

    Args:
        path: the video file.
        realtime: sleep between frames so they come out at the file's fps (like a camera).
        loop: start again at the end instead of finishing.
        fps: override the file's frame rate (also used when the file does not state one).
    """

    def __init__(self, path: str | Path, *, realtime: bool = True, loop: bool = False, fps: float | None = None) -> None:
        self.path = Path(path)
        super().__init__(self.path.name, fps)
        self.realtime, self.loop = realtime, loop
        self._fps_override = fps
        self._cap: cv2.VideoCapture | None = None
        self._pacer: _Pacer | None = None

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
        self._pacer = _Pacer(self.fps) if self.realtime else None

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
            self._finish()
            return None
        return self._stamp(image, t)

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# %% image folder ------------------------------------------------------------------------------
@register_source("images")
class ImageFolderSource(Source):
    """The images of a folder in name order, paced at ``fps`` or read as fast as possible.

    Args:
        path: the folder; files with an image suffix (``.png``, ``.jpg``...) are used.
        fps: the rate frames come out at when ``realtime``.
        realtime: pace the frames like a camera.
        loop: start again after the last image.
    """

    def __init__(self, path: str | Path, *, fps: float = 30.0, realtime: bool = True, loop: bool = False) -> None:
        self.path = Path(path)
        super().__init__(self.path.name or str(self.path), fps)
        self.realtime, self.loop = realtime, loop
        self.files: list[Path] = []
        self.unreadable: list[Path] = []
        self._pos = 0
        self._pacer = _Pacer(fps)

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
