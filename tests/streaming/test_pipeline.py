"""Pipeline threads: lifecycle, dropping instead of queueing, switching source and rig, faults."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine import rotations as rot
from engine.rig import Rig
from engine.skeleton import Skeleton
from streaming.frames import Frame, PoseResult
from streaming.pipeline import Pipeline, State
from streaming.sources import Source, SourceUnavailable
from tests.polling import wait_for


def _rig(joints: int, name: str) -> Rig:
    parents = np.arange(joints) - 1
    trans = np.tile([0.0, 0.1, 0.0], (joints, 1))
    return Rig(name, Skeleton(tuple(f"j{i}" for i in range(joints)), parents, trans, rot.quat_identity((joints,))))


class TickSource(Source):
    """Tiny frames at ``fps`` (or as fast as possible with ``fps=None``), ``limit`` frames then ends."""

    def __init__(self, name: str = "tick", fps: float | None = 200.0, limit: int | None = None, fail_open: bool = False) -> None:
        super().__init__(name, fps)
        self.limit, self.fail_open = limit, fail_open
        self.opened = self.closed = 0

    def _open(self) -> None:
        if self.fail_open:
            raise SourceUnavailable(self.source_id, "unplugged")
        self.opened += 1

    def _read(self) -> Frame | None:
        if self.limit is not None and self._next_index >= self.limit:
            self._finish()
            return None
        if self.fps:
            self._interrupted.wait(1.0 / self.fps)
        return self._stamp(np.zeros((2, 2, 3), np.uint8), time.monotonic_ns())

    def _close(self) -> None:
        self.closed += 1


class FakeProcessor:
    """Identity pose of its rig after ``delay_s``; raises on frame ``fail_at``."""

    def __init__(self, rig: Rig, delay_s: float = 0.0, fail_at: int | None = None) -> None:
        self.rig, self.delay_s, self.fail_at = rig, delay_s, fail_at
        self.closed = 0
        self.seen: list[int] = []

    def process(self, frame: Frame) -> PoseResult | None:
        if frame.index == self.fail_at:
            raise RuntimeError(f"model blew up on frame {frame.index}")
        self.seen.append(frame.index)
        if self.delay_s:
            time.sleep(self.delay_s)
        J = self.rig.skeleton.num_joints
        return PoseResult(
            rot.quat_identity((J,)), np.zeros(3), self.rig.skeleton.rest_positions(), frame.t_capture_ns, frame.index,
            source_id=frame.source_id,
        ).with_stage("model")

    def close(self) -> None:
        self.closed += 1


class FakeOutput:
    def __init__(self, name: str = "out", *, inline: bool = False, delay_s: float = 0.0, fail: bool = False) -> None:
        self.name, self.inline, self.delay_s, self.fail = name, inline, delay_s, fail
        self.received: list[tuple[int, int, str]] = []  # (frame index, joints, rig name)
        self.closed = 0

    def send(self, result: PoseResult, rig: Rig) -> None:
        if self.fail:
            raise OSError("network is down")
        if self.delay_s:
            time.sleep(self.delay_s)
        self.received.append((result.index, result.num_joints, rig.name))

    def close(self) -> None:
        self.closed += 1


def _our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("anyrig-")]


def test_start_stop_restart_and_no_leaked_threads() -> None:
    states: list[State] = []
    source, out = TickSource(), FakeOutput()
    pipe = Pipeline(source, FakeProcessor(_rig(3, "a")), outputs=[out])
    pipe.add_state_listener(states.append)
    pipe.start()
    pipe.start()  # no-op
    assert pipe.state is State.RUNNING and len(_our_threads()) == 3
    assert wait_for(lambda: len(out.received) >= 5)
    assert pipe.latest.take(1.0) is not None
    pipe.stop()
    pipe.stop()  # idempotent
    assert pipe.state is State.STOPPED and _our_threads() == []
    assert source.closed == 1
    n = len(out.received)
    pipe.start()
    assert wait_for(lambda: len(out.received) >= n + 5)
    pipe.close()
    assert _our_threads() == [] and out.closed == 1 and pipe.processor.closed == 1
    assert states == [State.STARTING, State.RUNNING, State.STOPPING, State.STOPPED] * 2
    report = pipe.stats.to_dict()
    assert report["frames"]["captured"] >= report["frames"]["processed"] >= n + 5
    assert report["latency_ms"]["capture_to_out"]["count"] == len(out.received)


def test_slow_inference_drops_frames_instead_of_queueing() -> None:
    source = TickSource(fps=500.0)
    proc = FakeProcessor(_rig(2, "a"), delay_s=0.03)
    with Pipeline(source, proc) as pipe:
        time.sleep(0.4)
    frames = pipe.stats.to_dict()["frames"]
    assert frames["dropped"] > 20
    # Every captured frame was processed or dropped, except one waiting in the slot and one
    # refused by the closed mailbox at stop.
    assert frames["captured"] - frames["processed"] - frames["dropped"] in (0, 1, 2)
    assert frames["processed"] <= 0.4 / 0.03 + 2
    # The processor always got the newest frame: big jumps in the indices it saw.
    assert max(np.diff(proc.seen)) > 5


def test_slow_output_drops_results_and_inline_output_gets_every_one() -> None:
    slow, inline = FakeOutput("slow", delay_s=0.05), FakeOutput("rec", inline=True)
    with Pipeline(TickSource(fps=300.0), FakeProcessor(_rig(2, "a")), outputs=[slow, inline]) as pipe:
        time.sleep(0.4)
    frames = pipe.stats.to_dict()["frames"]
    assert len(inline.received) == frames["processed"] == frames["sent.rec"]
    assert len(slow.received) < frames["processed"] / 3
    assert frames["dropped.slow"] > 10


def test_failing_output_is_counted_and_the_pipeline_keeps_running() -> None:
    bad, good = FakeOutput("bad", fail=True), FakeOutput("good")
    with Pipeline(TickSource(), FakeProcessor(_rig(2, "a")), outputs=[bad, good]) as pipe:
        assert wait_for(lambda: len(good.received) >= 10)
        assert pipe.state is State.RUNNING
    assert pipe.stats.counter("errors.bad") >= 1


def test_switch_source_and_rig_while_running() -> None:
    first, second = TickSource("first"), TickSource("second")
    out = FakeOutput()
    proc_a = FakeProcessor(_rig(3, "a"))
    with Pipeline(first, proc_a, outputs=[out]) as pipe:
        assert wait_for(lambda: len(out.received) >= 3)
        pipe.set_source(second)
        assert first.closed == 1 and pipe.source is second
        assert wait_for(lambda: (pipe.latest.take(0.5) or PoseResult(np.zeros((1, 4)) + [0, 0, 0, 1], np.zeros(3), np.zeros((1, 3)), 0, 0)).source_id == "second")
        pipe.set_processor(FakeProcessor(_rig(5, "b")))
        assert wait_for(lambda: out.received and out.received[-1][1:] == (5, "b"))
        assert proc_a.closed == 1 and pipe.rig.name == "b"
        assert len(_our_threads()) == 3
        with pytest.raises(SourceUnavailable):
            pipe.set_source(TickSource("broken", fail_open=True))
        assert pipe.source is second and pipe.state is State.RUNNING
        n = len(out.received)
        assert wait_for(lambda: len(out.received) > n + 3)  # the old source kept running
    # Results of one rig never arrive labelled with the other.
    assert all((j, name) in ((3, "a"), (5, "b")) for _, j, name in out.received)
    assert _our_threads() == []


def test_worker_exception_faults_the_pipeline() -> None:
    out = FakeOutput()
    pipe = Pipeline(TickSource(), FakeProcessor(_rig(2, "a"), fail_at=4), outputs=[out])
    pipe.start()
    assert pipe.wait(3.0)
    assert pipe.state is State.FAULTED
    # The workers wind down by themselves, before anyone calls stop().
    assert wait_for(lambda: _our_threads() == [])
    assert isinstance(pipe.error, RuntimeError) and "frame 4" in str(pipe.error)
    pipe.stop()
    assert _our_threads() == [] and pipe.state is State.FAULTED
    pipe.start()  # a restart clears the fault
    assert pipe.state is State.RUNNING and pipe.error is None
    pipe.stop()


class BrokenOnReadSource(TickSource):
    """Opens, then raises on its very first read (a camera that dies at once)."""

    def _read(self) -> Frame | None:
        raise RuntimeError("the camera caught fire")


def test_a_source_failing_on_its_first_read_leaves_the_pipeline_faulted_not_running() -> None:
    """The capture thread may fault before start() returns; start() must not then overwrite FAULTED
    with RUNNING (the fault would read as "the source ended" and its error would be lost)."""
    for _ in range(10):  # a race: repeat so the fault often lands before start() finishes
        pipe = Pipeline(BrokenOnReadSource(), FakeProcessor(_rig(2, "a")))
        pipe.start()
        assert pipe.wait(3.0)
        assert pipe.state is State.FAULTED and "caught fire" in str(pipe.error)
        pipe.stop()
        assert _our_threads() == []


def test_source_that_cannot_open_faults_start() -> None:
    pipe = Pipeline(TickSource(fail_open=True), FakeProcessor(_rig(2, "a")))
    with pytest.raises(SourceUnavailable, match="unplugged"):
        pipe.start()
    assert pipe.state is State.FAULTED and _our_threads() == []
    pipe.stop()


def test_finite_source_ends_the_run() -> None:
    out = FakeOutput()
    pipe = Pipeline(TickSource(fps=None, limit=25), FakeProcessor(_rig(2, "a")), outputs=[out])
    pipe.start()
    assert pipe.wait(3.0)
    pipe.stop()
    frames = pipe.stats.to_dict()["frames"]
    assert frames["captured"] == 25
    assert frames["processed"] + frames["dropped"] == 25
    assert _our_threads() == []


def _sockets() -> int:
    """Open sockets of this process (Linux: links in /proc/self/fd)."""
    import os

    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # the fd of the listing itself, closed by now
            continue
    return count


def test_close_leaves_no_threads_or_sockets_with_real_senders() -> None:
    from streaming.headless import make_sender_output

    rig = _rig(4, "a")
    before = _sockets()
    senders = [make_sender_output("vmc-generic", "127.0.0.1:9", rig), make_sender_output("osc", "127.0.0.1:9", rig)]
    assert _sockets() == before + 2
    pipe = Pipeline(TickSource(), FakeProcessor(rig), outputs=senders)
    pipe.start()
    assert wait_for(lambda: pipe.stats.counter("frames_processed") >= 5)
    pipe.stop()
    assert _our_threads() == [] and _sockets() == before + 2  # stop() keeps outputs for a restart
    pipe.close()
    assert _our_threads() == [] and _sockets() == before


# %% processors that split into perceive + solve: two threads -------------------------------------
class SplitProcessor(FakeProcessor):
    """``perceive`` then ``solve``, each sleeping ``half_s`` (sleep, like MediaPipe, leaves the GIL free);
    records the thread of each half; ``fail_in`` names a half that raises on frame ``fail_at``."""

    def __init__(self, rig: Rig, half_s: float = 0.0, fail_at: int | None = None, fail_in: str = "solve") -> None:
        super().__init__(rig, 0.0, None)
        self.half_s, self.fail_at_split, self.fail_in = half_s, fail_at, fail_in
        self.threads: dict[str, set[str]] = {"perceive": set(), "solve": set()}

    def perceive(self, frame: Frame) -> Frame:
        self.threads["perceive"].add(threading.current_thread().name)
        if self.fail_in == "perceive" and frame.index == self.fail_at_split:
            raise RuntimeError(f"perception blew up on frame {frame.index}")
        time.sleep(self.half_s)
        return frame

    def solve(self, frame: Frame) -> PoseResult | None:
        self.threads["solve"].add(threading.current_thread().name)
        if self.fail_in == "solve" and frame.index == self.fail_at_split:
            raise RuntimeError(f"solver blew up on frame {frame.index}")
        time.sleep(self.half_s)
        return FakeProcessor.process(self, frame)

    def process(self, frame: Frame) -> PoseResult | None:
        return self.solve(self.perceive(frame))


def test_a_split_processor_overlaps_its_halves_on_two_threads() -> None:
    """Perceive and solve of 15 ms each: one thread could finish ~33 frames a second, two ~66."""
    out = FakeOutput(inline=True)
    proc = SplitProcessor(_rig(2, "a"), half_s=0.015)
    pipe = Pipeline(TickSource(fps=100.0), proc, outputs=[out])
    pipe.start()
    assert wait_for(lambda: len(out.received) >= 5)
    n0, t0 = len(out.received), time.monotonic()
    time.sleep(1.0)
    rate = (len(out.received) - n0) / (time.monotonic() - t0)
    pipe.stop()
    assert proc.threads == {"perceive": {"anyrig-perception"}, "solve": {"anyrig-inference"}}
    assert rate > 45.0, rate
    assert _our_threads() == []


@pytest.mark.parametrize("half", ["perceive", "solve"])
def test_a_split_processor_that_raises_faults_the_pipeline(half: str) -> None:
    pipe = Pipeline(TickSource(), SplitProcessor(_rig(2, "a"), fail_at=4, fail_in=half))
    pipe.start()
    assert pipe.wait(3.0)
    assert pipe.state is State.FAULTED and "blew up on frame 4" in str(pipe.error)
    assert wait_for(lambda: _our_threads() == [])
    pipe.stop()


def test_a_finite_source_ends_a_split_run_with_every_frame_accounted_for() -> None:
    out = FakeOutput(inline=True)
    pipe = Pipeline(TickSource(fps=None, limit=25), SplitProcessor(_rig(2, "a")), outputs=[out])
    pipe.start()
    assert pipe.wait(3.0)
    pipe.stop()
    frames = pipe.stats.to_dict()["frames"]
    assert frames["captured"] == 25 and frames["processed"] + frames["dropped"] == 25
    assert len(out.received) == frames["processed"] and _our_threads() == []


def test_switching_between_split_and_whole_processors_while_running() -> None:
    out = FakeOutput(inline=True)
    split = SplitProcessor(_rig(2, "a"))
    pipe = Pipeline(TickSource(), split, outputs=[out])
    pipe.start()
    assert wait_for(lambda: len(out.received) >= 3)
    whole = FakeProcessor(_rig(3, "b"))
    pipe.set_processor(whole)
    assert wait_for(lambda: any(rig == "b" for _, _, rig in out.received))
    pipe.set_processor(SplitProcessor(_rig(4, "c")))
    assert wait_for(lambda: any(rig == "c" for _, _, rig in out.received))
    pipe.stop()
    assert split.closed == 1 and whole.closed == 1 and pipe.state is State.STOPPED
    assert _our_threads() == []
