"""Opening frame sources off the Qt thread (no Qt here): a camera can take seconds to answer.

One worker thread opens sources one at a time; each request returns a future of the opened
source, which the Qt thread then hands to the pipeline (``Source.open`` is idempotent, so the
pipeline's own ``open()`` returns at once). :meth:`SourceOpener.close` waits for the worker and
closes every source it opened that nobody took, so no camera stays held.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from streaming.source_registry import create_source
from streaming.sources import Source

__all__ = ["SourceOpener", "create_looping_source"]


def create_looping_source(spec: str) -> Source:
    """:func:`~streaming.sources.create_source`, with video files and image folders set to loop
    (a live session should not end with the clip).

    Raises:
        SourceUnavailable: ``spec`` names no source kind and no existing file or folder.
    """
    if spec != "synthetic" and Path(spec).expanduser().exists():
        return create_source(spec, loop=True)
    return create_source(spec)


class SourceOpener:
    """A single worker thread that creates and opens sources."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future] = []

    def open_spec(self, spec: str) -> Future:
        """A future of the source for ``spec``, opened (its exception: ``SourceUnavailable``...)."""

        def work() -> Source:
            source = create_looping_source(spec)
            source.open()
            return source

        return self._submit(work)

    def open_source(self, source: Source) -> Future:
        """A future of ``source`` itself once opened (e.g. the pipeline's, before tracking starts)."""

        def work() -> Source:
            source.open()
            return source

        return self._submit(work)

    def _submit(self, work) -> Future:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anyrig-source-open")
        future = self._executor.submit(work)
        self._futures = [f for f in self._futures if not f.done()] + [future]
        return future

    def close(self, in_use: Source | None = None) -> None:
        """Wait for the worker, then close every opened source except ``in_use`` (idempotent)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for future in self._futures:
            if future.exception() is None and future.result() is not in_use:
                future.result().close()
        self._futures.clear()
