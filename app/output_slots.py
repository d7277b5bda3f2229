"""Pipeline outputs whose target can be switched while the pipeline runs (no Qt here).

A :class:`~streaming.pipeline.Pipeline` takes its outputs once, at construction. The app lets the
user turn the network output on and off, change its address and start or stop a take at any time,
so it gives the pipeline two *slots*: each is an :class:`~streaming.pipeline.Output` that forwards
to whatever sender or recorder it holds right now, or drops the result when it holds nothing.

Swapping happens on the Qt thread and delivery on a pipeline thread, so the held object is read
and replaced under a lock; the swapped-out object is closed by the caller, outside the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from engine.rig import Rig
from streaming.frames import PoseResult

__all__ = ["SenderSlot", "RecorderSlot"]

logger = logging.getLogger(__name__)


class SenderSlot:
    """A network output (its own pipeline thread and mailbox) holding an optional sender.

    Attributes:
        name: label in the run statistics; ``capture_to_send`` is the end-to-end latency.
        inline: ``False``: the pipeline gives this output a thread and a one-slot mailbox.
        live: forward the pipeline's results (``False`` while a played take is re-sent instead).
    """

    name = "send"
    inline = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._output: Any = None  # a streaming.headless.SenderOutput, or None when off
        self.last_latency_ms: float | None = None  # capture -> the send returned, newest frame sent
        self.live = True  # one attribute store; the pipeline thread reads it per result

    @property
    def output(self) -> Any:
        """The sender output held now (``None`` when the network output is off)."""
        with self._lock:
            return self._output

    def swap(self, output: Any) -> Any:
        """Hold ``output`` (or nothing) from the next result on; returns the previous one, unclosed."""
        with self._lock:
            previous, self._output = self._output, output
            self.last_latency_ms = None
        return previous

    def send(self, result: PoseResult, rig: Rig) -> bool:
        """Forward to the held sender; ``False`` when off, so no send latency is recorded."""
        output = self.output
        if output is None or not self.live:
            return False
        ok = bool(output.send(result, rig))
        if ok:
            self.last_latency_ms = (time.monotonic_ns() - result.t_capture_ns) / 1e6
        return ok

    def close(self) -> None:
        previous = self.swap(None)
        if previous is not None:
            previous.close()


class RecorderSlot:
    """An inline output holding an optional :class:`~streaming.takes.TakeRecorder`.

    Results of another rig than the recorder's are skipped (a rig switch ends the take first,
    but a result of the old rig may still be in flight).
    """

    name = "record"
    inline = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorder: Any = None
        self._rig: Rig | None = None

    @property
    def recording(self) -> bool:
        with self._lock:
            return self._recorder is not None

    @property
    def recorder(self) -> Any:
        with self._lock:
            return self._recorder

    def swap(self, recorder: Any, rig: Rig | None = None) -> Any:
        """Record into ``recorder`` (for ``rig``) from the next result on; returns the previous one."""
        with self._lock:
            previous, self._recorder, self._rig = self._recorder, recorder, rig
        return previous

    def send(self, result: PoseResult, rig: Rig) -> bool:
        """Queue the result in the take; ``False`` when not recording (no latency is recorded)."""
        with self._lock:
            recorder, own_rig = self._recorder, self._rig
        if recorder is None or (own_rig is not None and rig is not own_rig):
            return False
        return bool(recorder.write(result))

    def close(self) -> None:
        previous = self.swap(None)
        if previous is not None:
            try:
                previous.finish()
            except Exception:  # noqa: BLE001 - closing must finish; the journal stays for recover_takes()
                logger.exception("finishing the take on close failed")
