"""The source kinds by name and ``create_source(spec)``: the one table of every built-in source.

The built-in kinds are listed here explicitly; this module imports the source modules, never the
other way round. Tests (and plug-ins) add their own kinds with ``@register_source("name")``
(STYLE §5) and remove them with :func:`unregister_source`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from streaming.sources import ImageFolderSource, Source, SourceUnavailable, VideoFileSource
from streaming.synthetic_source import SyntheticSource
from streaming.webcam import WebcamSource

__all__ = ["BUILTIN_SOURCES", "create_source", "register_source", "source_names", "unregister_source"]

BUILTIN_SOURCES: dict[str, type[Source]] = {
    cls.kind: cls for cls in (WebcamSource, VideoFileSource, ImageFolderSource, SyntheticSource)
}
_registry: dict[str, type[Source]] = dict(BUILTIN_SOURCES)


def register_source(name: str) -> Callable[[type[Source]], type[Source]]:
    """Class decorator: make a :class:`Source` subclass available as ``create_source(name)``."""

    def decorate(cls: type[Source]) -> type[Source]:
        _registry[name] = cls
        cls.kind = name
        return cls

    return decorate


def unregister_source(name: str) -> None:
    """Remove a kind added with :func:`register_source` (the built-in kinds stay)."""
    if name not in BUILTIN_SOURCES:
        _registry.pop(name, None)


def source_names() -> list[str]:
    """The source kinds, sorted (the built-in ones included)."""
    return sorted(_registry)


def create_source(spec: str, **options: Any) -> Source:
    """Build a source from a command-line spec.

    Args:
        spec: ``webcam`` / ``webcam:N`` / ``webcam:/dev/videoN``, ``synthetic``, any other registered
            kind (``kind`` or ``kind:argument``), a video file or a folder of images.
        **options: keyword arguments passed to the source's constructor.

    Raises:
        SourceUnavailable: the spec names no registered kind and no existing file or folder.
    """
    kind, _, arg = spec.partition(":")
    if kind in _registry and not Path(spec).exists():
        cls = _registry[kind]
        return cls(arg, **options) if arg else cls(**options)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, **options)
    if path.is_file():
        return VideoFileSource(path, **options)
    raise SourceUnavailable(spec, f"no such file or folder, and not one of {[f'{k}[:ARG]' for k in source_names()]}")
