"""Take recording: every pose to a crash-safe journal, converted to .npz, BVH or GLB on finish.

DESIGN §7: takes are written incrementally and survive a crash of the app. While recording, a
writer thread appends one fixed-size binary record per pose to ``<take>.partial`` (the journal),
straight to the OS (unbuffered), so a killed process loses nothing it had written; an ``fsync``
every ``fsync_interval_s`` also covers a power loss. ``finish()`` converts the journal into the
requested file and deletes it. After a crash, :func:`recover_takes` converts the journals left in a
folder.

The journal layout is in :mod:`streaming.take_files`.

Only the recorder buffers (every frame matters here, STYLE rule 8): a bounded queue between
``write()`` and the writer thread; a full queue drops the pose and counts it. The writer stores its
exception, and the next ``write()`` raises it as :class:`TakeError`.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.take_files import FORMATS, TakeError, journal_header, journal_record, load_journal, save_take

try:  # POSIX advisory locks keep recover_takes() off a journal that is still being written.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TakeError", "TakeConfig", "TakeState", "TakeStats", "TakeRecorder", "recover_takes", "recover_journal", "set_aside_journal",
    "cmd_takes_recover", "JOURNAL_SUFFIX",
]  # fmt: skip

logger = logging.getLogger(__name__)

JOURNAL_SUFFIX = ".partial"
STOP_TIMEOUT_S = 5.0
_STOP = object()  # sentinel that wakes the writer thread on finish


@dataclass(frozen=True)
class TakeConfig:
    """Recorder settings.

    Attributes:
        queue_size: poses buffered between ``write()`` and the writer thread (~8 s at 30 fps).
        fsync_interval_s: seconds between ``fsync`` calls (data reaches the OS at every record anyway).
        fps: frame rate of BVH/GLB output; poses are resampled onto this grid by capture time.
    """

    queue_size: int = 256
    fsync_interval_s: float = 1.0
    fps: float = 30.0


class TakeState(Enum):
    IDLE = "idle"
    RECORDING = "recording"
    FINISHED = "finished"
    FAULTED = "faulted"


@dataclass(frozen=True)
class TakeStats:
    """Counters of a recorder.

    Attributes:
        queued: poses accepted by ``write()``.
        dropped: poses refused because the queue was full.
        flushed: records handed to the OS (survive a process kill).
        synced: records ``fsync``-ed (survive a power loss).
    """

    queued: int
    dropped: int
    flushed: int
    synced: int


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class TakeRecorder:
    """Records :class:`PoseResult` s into a take file (``.npz``, ``.bvh`` or ``.glb``).

    Example::

        with TakeRecorder("take01.bvh", rig.skeleton, rig_path="dragon.glb") as rec:
            for result in results:
                rec.write(result)
        # leaving the block finishes: take01.bvh exists, take01.bvh.partial is gone

    Args:
        path: the take file; its suffix picks the format. The journal is ``path + ".partial"``.
        skeleton: the rig's skeleton (needed for BVH and GLB; stored in the journal and the .npz).
        names: joint names when there is no skeleton (default ``joint_0`` ...).
        rig_path: the rig file, stored for reference.
        rig_name: name of the rig in BVH/GLB output (default: the file stem).
        config: queue size, fsync interval, output frame rate.

    Raises:
        TakeError: unknown suffix, or BVH/GLB without a skeleton.
    """

    def __init__(
        self,
        path: str | Path,
        skeleton: Skeleton | None = None,
        *,
        names: tuple[str, ...] | list[str] | None = None,
        rig_path: str | Path | None = None,
        rig_name: str | None = None,
        config: TakeConfig = TakeConfig(),
    ) -> None:
        self.path = Path(path)
        self.journal_path = Path(str(self.path) + JOURNAL_SUFFIX)
        fmt = FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise TakeError(self.path, f"unknown take format {self.path.suffix!r}; use one of {sorted(FORMATS)}")
        if fmt != "npz" and skeleton is None:
            raise TakeError(self.path, f"a {fmt.upper()} take needs the rig's skeleton")
        self.format, self.skeleton, self.config = fmt, skeleton, config
        if skeleton is not None:
            self.names = tuple(skeleton.names)
        else:
            self.names = tuple(names) if names is not None else ()
        self._rig_path = None if rig_path is None else str(rig_path)
        self._rig_name = rig_name or self.path.stem
        self._queue: queue.Queue[object] = queue.Queue(maxsize=config.queue_size)
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._queued = self._dropped = self._flushed = self._synced = 0
        self.state = TakeState.IDLE

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> TakeRecorder:
        """Create the journal and start the writer thread.

        Raises:
            TakeError: the journal already exists (a crashed take: run :func:`recover_takes`) or
                cannot be created, or the recorder was already started.
        """
        if self.state is not TakeState.IDLE:
            raise TakeError(self.path, f"recorder already {self.state.value}")
        if not self.names:
            raise TakeError(self.path, "no joint names: pass a skeleton or names")
        try:
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        except FileExistsError as error:
            raise TakeError(
                self.journal_path, f"a journal of an unfinished take is in the way; recover it with: python main.py takes recover {self.journal_path}"
            ) from error
        except OSError as error:
            raise TakeError(self.journal_path, f"cannot create the journal: {error.strerror}") from error
        self._fd = fd
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _write_all(fd, journal_header(self.format, self.names, self.skeleton, self._rig_path, self._rig_name, self.config.fps))
        os.fsync(fd)
        self._thread = threading.Thread(target=self._run, name=f"take-writer:{self.path.name}")
        self.state = TakeState.RECORDING
        self._thread.start()
        return self

    def __enter__(self) -> TakeRecorder:
        return self.start() if self.state is TakeState.IDLE else self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def write(self, result: PoseResult) -> bool:
        """Queue one pose for the journal; never blocks.

        Returns:
            ``False`` when the queue was full and the pose was dropped (counted).

        Raises:
            TakeError: the writer thread failed (the cause is chained), the pose's joint count does
                not match the take, or the recorder is not recording.
        """
        if self._error is not None:
            raise TakeError(self.journal_path, f"take writer failed: {self._error}") from self._error
        if self.state is not TakeState.RECORDING:
            raise TakeError(self.path, f"cannot write: recorder is {self.state.value}")
        if result.num_joints != len(self.names):
            raise TakeError(self.path, f"pose has {result.num_joints} joints, the take {len(self.names)}")
        try:
            self._queue.put_nowait(result)
        except queue.Full:
            with self._lock:
                self._dropped += 1
            return False
        with self._lock:
            self._queued += 1
        return True

    @property
    def stats(self) -> TakeStats:
        with self._lock:
            return TakeStats(self._queued, self._dropped, self._flushed, self._synced)

    def finish(self) -> Path:
        """Stop the writer, then convert the journal into the take file and delete the journal.

        Idempotent: later calls return the same path. Runs the conversion on the caller's thread.

        Returns:
            The take file.

        Raises:
            TakeError: the writer failed or the conversion failed (the journal is kept for
                :func:`recover_takes`), or no frame was recorded (the journal is removed).
        """
        if self.state is TakeState.FINISHED:
            return self.path
        if self.state is TakeState.IDLE:
            raise TakeError(self.path, "finish() before start()")
        self._stop_writer()
        take = None
        if self._error is not None:
            self.state = TakeState.FAULTED
            raise TakeError(self.journal_path, f"take writer failed: {self._error}") from self._error
        try:
            take = load_journal(self.journal_path)
            save_take(take, self.path)
        except Exception as error:
            if take is not None and take.num_frames == 0:  # BVH / GLB need a frame: never leave an empty journal in the way
                self.journal_path.unlink()
                self.state = TakeState.FINISHED
                raise TakeError(self.path, "no frame was recorded: no take written (the empty journal was removed)") from None
            self.state = TakeState.FAULTED
            raise TakeError(self.path, f"cannot write the take ({error}); the journal {self.journal_path} is kept") from error
        self.journal_path.unlink()
        self.state = TakeState.FINISHED
        logger.info("take %s: %d frames (%d dropped)", self.path, take.num_frames, self._dropped)
        return self.path

    close = finish

    def _stop_writer(self) -> None:
        thread = self._thread
        if thread is not None:
            # The writer is draining the queue, so this put can wait; bounded by STOP_TIMEOUT_S.
            try:
                self._queue.put(_STOP, timeout=STOP_TIMEOUT_S)
            except queue.Full:
                logger.critical("take writer %s does not drain its queue", thread.name)
            thread.join(timeout=STOP_TIMEOUT_S)
            if thread.is_alive():
                logger.critical("take writer %s still running after %.1f s", thread.name, STOP_TIMEOUT_S)
            self._thread = None
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError as error:
                self._error = self._error or error
            os.close(self._fd)  # also releases the flock
            self._fd = None

    # ------------------------------------------------------------------ writer thread
    def _run(self) -> None:
        fd = self._fd
        assert fd is not None
        last_sync = time.monotonic()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                _write_all(fd, journal_record(item))  # type: ignore[arg-type]
                with self._lock:
                    self._flushed += 1
                if time.monotonic() - last_sync >= self.config.fsync_interval_s:
                    os.fsync(fd)
                    last_sync = time.monotonic()
                    with self._lock:
                        self._synced = self._flushed
            os.fsync(fd)
            with self._lock:
                self._synced = self._flushed
        except Exception as error:  # thread boundary: store it, write()/finish() re-raise it
            logger.exception("take writer for %s failed", self.path)
            self._error = error
            self.state = TakeState.FAULTED


def _is_locked(path: Path) -> bool:
    """Whether another open file holds the journal's lock (a recorder still writing it)."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our lock if we got it
    return False


def _free_path(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.stem}.recovered{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise TakeError(path, "no free file name for the recovered take")


def recover_takes(folder: str | Path) -> list[Path]:
    """Convert the journals a crash left in ``folder`` into take files (:func:`recover_journal` each).

    Returns:
        The files written, in name order.
    """
    written: list[Path] = []
    for journal in sorted(Path(folder).glob("*" + JOURNAL_SUFFIX)):
        try:
            target = recover_journal(journal)
        except TakeError as error:  # one bad journal must not stop the others
            logger.error("%s", error)
            continue
        if target is not None:
            written.append(target)
    return written


def recover_journal(journal: str | Path, target: str | Path | None = None) -> Path | None:
    """Convert one journal into a take file and delete it.

    ``<take>.partial`` becomes ``target`` or ``<take>`` (``<stem>.recoveredN<suffix>`` if that
    exists); a BVH/GLB conversion that fails falls back to ``.npz`` so the motion is never lost. A
    journal with no complete record is deleted (``None`` is returned).

    Raises:
        TakeError: the journal is being recorded by a live recorder, or cannot be read (it is left in place).
    """
    journal = Path(journal)
    if _is_locked(journal):
        raise TakeError(journal, "this take is being recorded right now; not recovering it")
    try:
        take = load_journal(journal)
    except Exception as error:  # noqa: BLE001 - any fault of the file: name it, keep the file
        raise TakeError(journal, f"cannot read the take journal ({error}); left in place") from error
    if take.num_frames == 0:
        logger.warning("take journal %s has no complete frame; deleting it", journal)
        journal.unlink()
        return None
    target = _free_path(Path(target) if target is not None else Path(str(journal)[: -len(JOURNAL_SUFFIX)]))
    try:
        save_take(take, target)
    except Exception as error:
        fallback = _free_path(target.with_suffix(".npz"))
        logger.warning("cannot write %s (%s); saving %s instead", target, error, fallback)
        save_take(take, fallback)
        target = fallback
    journal.unlink()
    logger.info("recovered take %s: %d frames", target, take.num_frames)
    return target


def set_aside_journal(take_path: str | Path) -> str | None:
    """Clear an old journal out of the way of a new take at ``take_path``; says what was done, or ``None``.

    The unfinished take is recovered to ``<stem>.recoveredN<suffix>`` (never to ``take_path``,
    which the new take will use); an unreadable journal is renamed ``<journal>.unreadableN``.

    Raises:
        TakeError: the journal is being recorded by another live recorder.
    """
    take_path = Path(take_path)
    journal = Path(str(take_path) + JOURNAL_SUFFIX)
    if not journal.exists():
        return None
    aside = take_path.with_name(f"{take_path.stem}.recovered1{take_path.suffix}")
    try:
        target = recover_journal(journal, aside)
    except TakeError:
        if _is_locked(journal):
            raise
        moved = next(journal.with_name(f"{journal.name}.unreadable{n}") for n in range(1, 10_000) if not journal.with_name(f"{journal.name}.unreadable{n}").exists())
        journal.rename(moved)
        return f"an unreadable journal of an earlier take was in the way of {take_path}: moved aside to {moved}"
    if target is None:
        return f"an empty journal of an earlier take was in the way of {take_path}: removed"
    return f"an unfinished take from an earlier run was in the way of {take_path}: recovered to {target}"


def cmd_takes_recover(args: Any) -> int:
    """``main.py takes recover [PATH]``: recover the unfinished takes of a folder, a journal or a take path.

    ``PATH`` is a folder (default: the current one), a ``.partial`` journal, or the take file a
    journal belongs to. Prints each take written; exit 0, or 2 when there is nothing at ``PATH``
    or a journal cannot be recovered.
    """
    path = Path(args.path)
    journal = path if path.name.endswith(JOURNAL_SUFFIX) else Path(str(path) + JOURNAL_SUFFIX)
    if path.is_dir():
        written = recover_takes(path)
        failed = sorted(path.glob("*" + JOURNAL_SUFFIX))
    elif journal.is_file():
        try:
            written = [t for t in [recover_journal(journal)] if t is not None]
        except TakeError as error:
            logger.error("%s", error)
            return 2
        failed = []
    else:
        logger.error("%s: no folder, take journal (%s) or take with a journal there", path, JOURNAL_SUFFIX)
        return 2
    for target in written:
        print(f"recovered {target}")
    if not written and not failed:
        print(f"no unfinished take to recover at {path}")
    return 2 if failed else 0
