"""The engine's exception types: each names the file or input and the exact fault."""

from __future__ import annotations

from pathlib import Path

__all__ = ["AnyRigError", "RigFormatError", "RigLimitError"]


class AnyRigError(Exception):
    """Base class of every error AnyRig raises on purpose."""


class RigFormatError(AnyRigError):
    """A rig or motion file that cannot be read: names the file, the fault and, for text, the line.

    Attributes:
        path: the file (or ``"<bytes>"`` for in-memory data).
        reason: what is wrong, in one sentence.
        line: 1-based line number for text formats (BVH), else ``None``.
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class RigLimitError(RigFormatError):
    """A rig file over one of the reader's resource limits (``engine.formats.read_limits``).

    Attributes:
        limit: the name of the limit exceeded (a field of ``ReadLimits``, e.g. ``"vertices"``).
    """

    def __init__(self, path: str | Path, reason: str, *, limit: str) -> None:
        super().__init__(path, reason)
        self.limit = limit
