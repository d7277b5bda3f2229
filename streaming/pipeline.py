"""The live pipeline: capture thread -> latest-frame mailbox -> inference thread -> outputs (DESIGN §1).

```
capture thread --Mailbox[Frame]--> inference thread --+--> latest: Mailbox[PoseResult] (GUI polls)
 (source.read)      (one slot;        (processor.      +--> inline outputs (take recorder: its own
                     stale frames      process)        |     bounded queue, every frame)
                     dropped+counted)                  +--> channel outputs: one thread + one-slot
                                                             mailbox each (VMC/OSC senders)
```

A processor that splits its work (``perceive`` then ``solve``, as
:class:`streaming.processor.LiveProcessor` does) gets one more thread: the perception thread runs
``perceive`` (MediaPipe, which computes outside Python's GIL) on the newest frame while the
inference thread runs ``solve`` (performer, retarget, solver, filter) on the frame before it,
joined by another one-slot mailbox. A frame then takes as long as before, but a new one can start
every max(perceive, solve) instead of every perceive + solve: on two cores the camera path keeps
30 fps where the sum is over 33 ms.

Nothing queues: a slow inference thread makes the capture mailbox drop frames, a slow sender drops
results in its own mailbox, and neither slows anything upstream. Every stage stamps the result, and
:class:`~streaming.run_stats.RunStats` derives per-stage and capture -> send latencies from the
stamps (STYLE rule 9).

Lifecycle (STYLE rule 10): :class:`State` STOPPED -> STARTING -> RUNNING -> STOPPING -> STOPPED;
a worker that raises stores its exception (:attr:`Pipeline.error`) and moves the pipeline to
FAULTED; ``stop()`` is idempotent, joins each thread with a timeout and logs a thread that refuses
to end. The source and the processor (the rig) can be switched while running.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from engine.rig import Rig
from streaming.frames import Frame, PoseResult
from streaming.mailbox import Mailbox
from streaming.run_stats import RunStats
from streaming.sources import Source

__all__ = ["FrameProcessor", "Output", "Pipeline", "State", "STOP_TIMEOUT_S"]

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 3.0  # per thread; a thread still alive after this is logged at CRITICAL
POLL_S = 0.05  # how often idle workers look at their stop event
T = TypeVar("T")


class State(enum.Enum):
    """Where the pipeline stands."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FAULTED = "faulted"


@runtime_checkable
class FrameProcessor(Protocol):
    """The per-frame inference work (see :mod:`streaming.processor`)."""

    rig: Rig

    def process(self, frame: Frame) -> PoseResult | None:
        """The rig's pose for ``frame``, or ``None`` when there is nothing to send (no person)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Output(Protocol):
    """A consumer of results: a network sender or a recorder.

    Attributes:
        name: short label used in statistics (``"vmc"``, ``"osc"``, ``"record"``).
        inline: ``True`` to be called on the inference thread for every result (only for outputs
            that buffer and never block, like the take recorder); ``False`` (senders) to get a
            thread and a one-slot mailbox of their own, so a lagging output only drops results.
    """

    name: str
    inline: bool

    def send(self, result: PoseResult, rig: Rig) -> bool | None:
        """Deliver one result; ``False`` when it did not get through (counted, not raised)."""
        ...

    def close(self) -> None: ...


class _Channel:
    """One output's thread and latest-result mailbox."""

    def __init__(self, output: Output, stats: RunStats) -> None:
        self.output = output
        self.stats = stats
        self.mailbox: Mailbox[tuple[PoseResult, Rig]] = Mailbox()
        self.thread = threading.Thread(target=self._run, name=f"anyrig-out-{output.name}")

    def _run(self) -> None:
        while True:
            item = self.mailbox.take(timeout=None)
            if item is None:  # closed and drained
                break
            result, rig = item
            _deliver(self.output, result, rig, self.stats)


class Pipeline:
    """Capture, inference and outputs on their own threads.

    Args:
        source: where frames come from; opened by ``start()`` and closed by ``stop()``.
        processor: turns a frame into a :class:`PoseResult` for its ``rig``.
        outputs: senders and recorders (see :class:`Output`); not closed by ``stop()`` so a
            pipeline can restart, closed by :meth:`close`.
        stats: where counters and latencies go (a new :class:`RunStats` by default).

    Attributes:
        latest: the newest result, for the GUI/viewport to poll with ``latest.take(0)``.
        stats: the run statistics.
    """

    def __init__(
        self,
        source: Source,
        processor: FrameProcessor,
        *,
        outputs: Sequence[Output] = (),
        stats: RunStats | None = None,
    ) -> None:
        self._source = source
        self._processor = processor
        self._outputs = list(outputs)
        self.stats = stats or RunStats()
        self.latest: Mailbox[PoseResult] = Mailbox()
        self._lock = threading.Lock()  # held only for short snapshots and swaps
        self._state = State.STOPPED
        self._error: BaseException | None = None
        self._listeners: list[Callable[[State], None]] = []
        self._stop = threading.Event()
        self._capture_stop = threading.Event()
        self._done = threading.Event()
        self._frames: Mailbox[Frame] = Mailbox()
        self._pending_processor: FrameProcessor | None = None
        self._capture: threading.Thread | None = None
        self._inference: threading.Thread | None = None
        self._perception: threading.Thread | None = None
        self._perceived: Mailbox[object] = Mailbox()
        self._channels: list[_Channel] = []
        self._started_once = False

    # -- facts -------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    @property
    def error(self) -> BaseException | None:
        """The exception that faulted a worker (kept until the next ``start()``)."""
        return self._error

    @property
    def source(self) -> Source:
        return self._source

    @property
    def processor(self) -> FrameProcessor:
        return self._pending_processor or self._processor

    @property
    def rig(self) -> Rig:
        return self.processor.rig

    def add_state_listener(self, callback: Callable[[State], None]) -> None:
        """Call ``callback(state)`` on every state change (from the thread that changed it)."""
        self._listeners.append(callback)

    def _set_state(self, state: State, *, only_from: State | None = None) -> None:
        """Move to ``state`` and tell the listeners; with ``only_from``, only from that state."""
        with self._lock:
            if self._state is state or (only_from is not None and self._state is not only_from):
                return
            self._state = state
        for callback in list(self._listeners):
            callback(state)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the source and start the threads (no-op when already running).

        Raises:
            SourceUnavailable: the source cannot be opened (the pipeline is then FAULTED).
        """
        with self._lock:
            if self._state in (State.STARTING, State.RUNNING):
                return
        if self._inference is not None:  # faulted and not stopped yet: reap the old threads first
            self.stop()
        self._set_state(State.STARTING)
        self._error = None
        self._stop.clear()
        self._done.clear()
        try:
            self._source.open()
        except Exception as exc:
            self._error = exc
            self._set_state(State.FAULTED)
            raise
        self._frames = Mailbox()
        self._channels = [_Channel(o, self.stats) for o in self._outputs if not getattr(o, "inline", False)]
        if not self._started_once:  # counters add up over restarts; average rates count from here
            self.stats.start()
            self._started_once = True
        else:
            self.stats.resume()
        self._perceived = Mailbox()
        if _splits(self._processor):
            self._perception = threading.Thread(target=self._guard, args=(self._perception_loop,), name="anyrig-perception")
            self._inference = threading.Thread(target=self._guard, args=(self._solve_loop,), name="anyrig-inference")
        else:
            self._perception = None
            self._inference = threading.Thread(target=self._guard, args=(self._inference_loop,), name="anyrig-inference")
        self._start_capture()
        for channel in self._channels:
            channel.thread.start()
        if self._perception is not None:
            self._perception.start()
        self._inference.start()
        # A worker may already have faulted (a camera whose first read raises): keep FAULTED then.
        self._set_state(State.RUNNING, only_from=State.STARTING)

    def _start_capture(self) -> None:
        self._capture_stop = threading.Event()
        self._capture = threading.Thread(
            target=self._guard, args=(self._capture_loop, self._source, self._capture_stop), name="anyrig-capture"
        )
        self._capture.start()

    def stop(self) -> None:
        """Stop every thread and close the source; safe to call any number of times."""
        with self._lock:
            if self._state is State.STOPPED or (self._state is State.FAULTED and self._inference is None):
                return
            faulted = self._state is State.FAULTED
        if not faulted:
            self._set_state(State.STOPPING)
        self._stop.set()
        self._capture_stop.set()
        self._source.interrupt()
        self._frames.close()
        self._perceived.close()
        _join(self._capture)
        _join(self._perception)
        _join(self._inference)
        for channel in self._channels:
            channel.mailbox.close()
        for channel in self._channels:
            _join(channel.thread)
        self._capture = self._inference = self._perception = None
        self._channels = []
        self._source.close()
        self._apply_pending_processor()
        self.stats.stop()
        self._done.set()
        if not faulted:
            self._set_state(State.STOPPED)

    def close(self) -> None:
        """Stop, then close the processor and every output (the pipeline cannot restart after)."""
        self.stop()
        self._processor.close()
        for output in self._outputs:
            try:
                output.close()
            except Exception:
                logger.exception("closing output %s failed", output.name)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the source ends, a worker faults, or ``stop()``; ``True`` if that happened."""
        return self._done.wait(timeout)

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- switching while running ---------------------------------------------------------------
    def set_source(self, source: Source) -> None:
        """Use ``source`` from now on; the old one is closed.

        While running, the new source is opened first: if that fails the old one keeps running
        and the :class:`~streaming.sources.SourceUnavailable` error reaches the caller.
        """
        if self._state is not State.RUNNING:
            self._source.close()
            self._source = source
            return
        source.open()
        old, old_stop, old_thread = self._source, self._capture_stop, self._capture
        old_stop.set()
        old.interrupt()
        _join(old_thread)
        old.close()
        self._source = source
        self._start_capture()
        logger.info("source switched to %s", source.source_id)

    def set_processor(self, processor: FrameProcessor) -> None:
        """Use ``processor`` (e.g. for another rig) from the next frame; the old one is closed."""
        with self._lock:
            running = self._state is State.RUNNING
            replaced, self._pending_processor = self._pending_processor, processor
        if replaced is not None:
            replaced.close()
        if not running:
            self._apply_pending_processor()

    def _apply_pending_processor(self) -> None:
        with self._lock:
            new, self._pending_processor = self._pending_processor, None
            if new is None:
                return
            old, self._processor = self._processor, new
        old.close()
        logger.info("rig switched to %s", new.rig.name)

    # -- workers -------------------------------------------------------------------------------
    def _guard(self, loop: Callable[..., None], *args: object) -> None:
        """Run a worker loop; an exception is stored and faults the pipeline (STYLE rule 11)."""
        try:
            loop(*args)
        except Exception as exc:
            logger.exception("%s failed", threading.current_thread().name)
            with self._lock:
                self._error = exc
            self._stop.set()
            self._frames.close()
            self._perceived.close()
            for channel in self._channels:  # let the output threads drain and end on their own
                channel.mailbox.close()
            self._set_state(State.FAULTED)
            self._done.set()

    def _capture_loop(self, source: Source, stop: threading.Event) -> None:
        while not stop.is_set() and not self._stop.is_set():
            frame = source.read()
            if frame is None:
                if source.exhausted:
                    logger.info("source %s ended after %d frames", source.source_id, source.status.frames_read)
                    self._frames.close()  # the inference thread drains it, then ends the run
                    return
                continue
            self.stats.count("frames_captured")
            if self._frames.put(frame):
                self.stats.count("frames_dropped")

    def _items(self, mailbox: Mailbox[T]) -> Iterator[T]:
        """What arrives in ``mailbox``, until ``stop()`` or until it is closed and drained (the source ended)."""
        while not self._stop.is_set():
            item = mailbox.take(timeout=POLL_S)
            if item is not None:
                yield item
            elif mailbox.closed and not self._stop.is_set():
                return

    def _inference_loop(self) -> None:
        for frame in self._items(self._frames):
            if self._pending_processor is not None:
                self._apply_pending_processor()
            processor = self._processor
            self._publish(processor.process(frame), processor.rig)
        self._finish_run()

    def _perception_loop(self) -> None:
        """Split processors: ``perceive`` the newest frame, hand it to the inference thread."""
        for frame in self._items(self._frames):
            if self._pending_processor is not None:
                self._apply_pending_processor()  # on this thread: perceive never runs on a closed processor
            processor = self._processor
            item = processor.perceive(frame) if _splits(processor) else _Processed(processor.process(frame), processor.rig)
            if self._perceived.put(item):
                self.stats.count("frames_dropped")  # perceived, but a newer one came before it was solved
        self._perceived.close()  # the inference thread drains it, then ends the run

    def _solve_loop(self) -> None:
        """Split processors: ``solve`` what the perception thread handed over, then deliver it."""
        for perceived in self._items(self._perceived):
            if isinstance(perceived, _Processed):  # a processor that does not split, switched in while running
                self._publish(perceived.result, perceived.rig)
                continue
            processor = self._processor
            self._publish(processor.solve(perceived), processor.rig)
        self._finish_run()

    def _publish(self, result: PoseResult | None, rig: Rig) -> None:
        """Count ``result`` and hand it to the GUI's mailbox and every output."""
        if result is None:
            self.stats.count("frames_without_pose")
            return
        self.stats.record_result(result)
        self.latest.put(result)
        for output in self._outputs:
            if getattr(output, "inline", False):
                _deliver(output, result, rig, self.stats)
        for channel in self._channels:
            if channel.mailbox.put((result, rig)):
                self.stats.count(f"dropped.{channel.output.name}")

    def _finish_run(self) -> None:
        """The inference thread's end of a run that ended by itself (the source ended)."""
        if not self._stop.is_set():
            for channel in self._channels:
                channel.mailbox.close()
            self._done.set()


class _Processed:
    """A whole result made on the perception thread by a processor that does not split."""

    __slots__ = ("result", "rig")

    def __init__(self, result: PoseResult | None, rig: Rig) -> None:
        self.result, self.rig = result, rig


def _splits(processor: object) -> bool:
    """Whether ``processor`` offers ``perceive`` and ``solve`` (the two halves of ``process``)."""
    return callable(getattr(processor, "perceive", None)) and callable(getattr(processor, "solve", None))



def _deliver(output: Output, result: PoseResult, rig: Rig, stats: RunStats) -> None:
    """Send one result; failures are counted and logged, never raised (DESIGN §7)."""
    try:
        ok = output.send(result, rig)
    except Exception:
        stats.count(f"errors.{output.name}")
        logger.exception("output %s failed on frame %d", output.name, result.index)
        return
    if ok is False:
        stats.count(f"failed.{output.name}")
        return
    stats.record_output(output.name, result, time.monotonic_ns())
def _join(thread: threading.Thread | None) -> None:
    if thread is None or thread is threading.current_thread() or not thread.is_alive() and thread.ident is None:
        return
    thread.join(timeout=STOP_TIMEOUT_S)
    if thread.is_alive():
        logger.critical("thread %s did not stop within %.1f s; leaving it behind", thread.name, STOP_TIMEOUT_S)
