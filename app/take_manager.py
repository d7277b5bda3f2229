"""Takes of a live session: where they go, their names, starting one and writing it out (no Qt here).

The recorder itself (:class:`streaming.takes.TakeRecorder`) journals every pose as it comes; this
class picks a safe, unused file name in the takes folder, hands the recorder to the pipeline's
:class:`~app.output_slots.RecorderSlot`, and on stop converts the journal into the take file,
either on the caller's thread or on one worker thread (a long BVH take takes seconds to write).
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from app.output_slots import RecorderSlot
from engine.rig import Rig
from streaming.settings import SessionSettings
from streaming.takes import JOURNAL_SUFFIX, TakeRecorder

__all__ = ["TAKE_FORMATS", "TakeManager", "safe_take_stem"]

TAKE_PREFIX = "take_"  # default take names: take_001, take_002, ...

TAKE_FORMATS = ("glb", "bvh", "npz")


def safe_take_stem(name: str) -> str:
    """``name`` as a file stem: runs of characters other than letters, digits, ``.``, ``-``, ``_``
    become ``_``; leading and trailing dots and underscores go (no hidden files, no ``..``).

    Raises:
        ValueError: nothing usable is left.
    """
    stem = re.sub(r"[^\w.-]+", "_", name.strip()).strip("._")
    if not stem:
        raise ValueError(f"take name {name!r} has no usable characters")
    return stem


class TakeManager:
    """Starts and finishes takes for one session.

    Args:
        settings: the session's settings (``takes_dir`` and ``take_format`` are read and written here).
        slot: the pipeline output that feeds the recorder.
        default_folder: the takes folder when ``settings.takes_dir`` is empty.
    """

    def __init__(self, settings: SessionSettings, slot: RecorderSlot, *, default_folder: str | Path) -> None:
        self.settings = settings
        self.slot = slot
        self.default_folder = Path(default_folder)
        self._finisher: ThreadPoolExecutor | None = None

    @property
    def folder(self) -> Path:
        return Path(self.settings.takes_dir).expanduser() if self.settings.takes_dir else self.default_folder

    @property
    def recording(self) -> bool:
        return self.slot.recording

    def set_options(self, *, take_format: str | None = None, takes_dir: str | Path | None = None) -> None:
        """Format and folder of the next takes.

        Raises:
            ValueError: an unknown format.
        """
        if take_format is not None:
            if take_format not in TAKE_FORMATS:
                raise ValueError(f"take format must be one of {TAKE_FORMATS}, got {take_format!r}")
            self.settings.take_format = take_format
        if takes_dir is not None:
            self.settings.takes_dir = str(takes_dir)

    def start(self, name: str, rig: Rig) -> Path:
        """Record into ``<folder>/<name>.<format>``, or ``<name>_2`` ... when that is taken.

        Returns the take's path (the file appears when the take is finished). Already recording:
        returns the running take's path.

        Raises:
            ValueError: the name has no usable characters.
            TakeError: the journal cannot be created.
        """
        running = self.slot.recorder
        if running is not None:
            return running.path
        stem = safe_take_stem(name)
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        fmt = self.settings.take_format
        path, n = folder / f"{stem}.{fmt}", 2
        while path.exists() or Path(str(path) + JOURNAL_SUFFIX).exists():
            path, n = folder / f"{stem}_{n}.{fmt}", n + 1
        recorder = TakeRecorder(path, rig.skeleton, rig_path=rig.source.path or None, rig_name=rig.name)
        recorder.start()
        self.slot.swap(recorder, rig)
        return path

    def stop(self) -> Path | None:
        """Finish the take on this thread; ``None`` when not recording.

        Raises:
            TakeError: the conversion failed (the journal is kept for ``recover_takes``).
        """
        recorder = self.slot.swap(None)
        return None if recorder is None else recorder.finish()

    def finish_in_background(self) -> Future | None:
        """Stop recording now and write the take file on the worker thread.

        Returns:
            A future of the take's path (its exception: the ``TakeError``, the journal kept), or
            ``None`` when not recording. :meth:`close` waits for it.
        """
        recorder = self.slot.swap(None)
        if recorder is None:
            return None
        if self._finisher is None:
            self._finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anyrig-take-finish")
        return self._finisher.submit(recorder.finish)

    def next_free_name(self) -> str:
        """``take_NNN`` one past the highest number any take (or unfinished journal) in the folder has,
        so a new session never restarts at ``take_001`` over existing takes."""
        folder = self.folder
        highest = 0
        if folder.is_dir():
            for path in folder.iterdir():
                match = re.match(rf"{TAKE_PREFIX}(\d+)", path.name)
                if match:
                    highest = max(highest, int(match.group(1)))
        return f"{TAKE_PREFIX}{highest + 1:03d}"

    def files(self) -> list[Path]:
        """Take files in the folder, newest first."""
        folder = self.folder
        if not folder.is_dir():
            return []
        files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in TAKE_FORMATS]
        return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)

    def close(self) -> None:
        """Wait for takes being written (they are finished, not lost) and end the worker (idempotent)."""
        if self._finisher is not None:
            self._finisher.shutdown(wait=True)
            self._finisher = None
