"""The face and hands stage on its own thread: the body never waits, results arrive a frame or two later,
every call into the stage happens on the worker thread, and a failing frame does not end it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.perception.landmarks import LandmarkFrame
from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage
from streaming.face_hands_worker import FaceHandsWorker
from tests.polling import wait_for
from tests.streaming.test_face_hands_stage import frames_with_landmarks  # noqa: F401 - the fixture


def test_the_worker_runs_the_real_landmarkers_without_making_the_caller_wait(frames_with_landmarks, shared_models: Path) -> None:  # noqa: F811
    stage = FaceHandsStage(FaceHandsConfig(face_model=str(shared_models / "face_landmarker.task"),
                                           hand_model=str(shared_models / "hand_landmarker.task"), allow_download=False))
    worker = FaceHandsWorker(stage)
    try:
        first, _, _ = worker.step(*frames_with_landmarks[0], 0)
        assert not first.face_found  # nothing has finished yet: the rest state, at once
        waits = []
        for i, (image, landmarks) in enumerate(frames_with_landmarks[1:], start=1):
            t = time.perf_counter()
            state, _, _ = worker.step(image, landmarks, i * 33)
            waits.append(time.perf_counter() - t)
            time.sleep(0.033)
        assert max(waits) < 0.005  # the landmarkers (10-25 ms each, plus loading the models) ran elsewhere
        # Every frame handed over was either run or skipped for a newer one (the first run loads the models).
        assert wait_for(lambda: worker.counts["worker_runs"] + worker.counts["worker_skipped"] == len(frames_with_landmarks), timeout=5.0)
        for i, (image, landmarks) in enumerate(frames_with_landmarks, start=10):  # now one at a time
            runs = worker.counts["worker_runs"]
            worker.step(image, landmarks, i * 33)
            assert wait_for(lambda: worker.counts["worker_runs"] == runs + 1, timeout=5.0)
        state, _, _ = worker.step(*frames_with_landmarks[-1], 20 * 33)
        assert state.face_found and state.head_rotation is not None
        counts = worker.counts
        assert counts["face_found"] >= 6 and counts["worker_errors"] == 0 and counts["worker_mean_ms"] > 0
    finally:
        worker.close()
    assert not worker._thread.is_alive()


class _RecordingStage:
    """A stand-in stage that records which thread calls it, takes ``delay`` per frame, and can fail."""

    def __init__(self, delay: float = 0.0, fail_on: set[int] = frozenset()) -> None:
        self.config = FaceHandsConfig()
        self.counts: dict[str, int] = {}
        self.messages: list[str] = []
        self.face_active = self.hands_active = True
        self.delay, self.fail_on = delay, fail_on
        self.threads: set[str] = set()
        self.seen: list[int] = []
        self.resets = 0
        self.closed = False
        self.real = FaceHandsStage(FaceHandsConfig(face=False, hands=False))

    def state(self):
        return self.real.state()

    def step(self, image, landmarks, t_ms):
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        if t_ms in self.fail_on:
            raise RuntimeError(f"bad frame {t_ms}")
        self.seen.append(t_ms)
        return self.real.state(face_ran=True), 0, 0

    def reset(self) -> None:
        self.threads.add(threading.current_thread().name)
        self.resets += 1

    def close(self) -> None:
        self.closed = True


def _frame() -> tuple[np.ndarray, LandmarkFrame]:
    return np.zeros((8, 8, 3), np.uint8), LandmarkFrame.empty(0)


def test_a_busy_worker_skips_to_the_newest_frame_and_owns_every_call() -> None:
    stage = _RecordingStage(delay=0.05)
    worker = FaceHandsWorker(stage)
    try:
        for t in range(10):  # ten frames in ~10 ms while one run takes 50 ms
            worker.step(*_frame(), t)
        assert wait_for(lambda: 9 in stage.seen, timeout=5.0)
        assert len(stage.seen) < 10 and worker.counts["worker_skipped"] >= 1
        assert wait_for(lambda: worker.step(*_frame(), 100)[0].face_ran, timeout=5.0)  # a finished state comes back
        worker.reset()
        assert not worker.step(*_frame(), 101)[0].face_ran  # the rest state right after a reset
        assert wait_for(lambda: stage.resets == 1, timeout=5.0)
    finally:
        worker.close()
    assert stage.closed and stage.threads == {"anyrig-face-hands"}
    worker.close()  # idempotent
    state, _, _ = worker.step(*_frame(), 200)  # after close: the last state, no error, no thread
    assert state is not None


def test_a_frame_that_raises_is_counted_and_the_worker_goes_on() -> None:
    stage = _RecordingStage(fail_on={1})
    worker = FaceHandsWorker(stage)
    try:
        for t in range(3):
            worker.step(*_frame(), t)
            assert wait_for(lambda: t in stage.seen or worker.counts["worker_errors"] >= 1, timeout=5.0)
        assert wait_for(lambda: 2 in stage.seen, timeout=5.0)
        assert worker.counts["worker_errors"] == 1
    finally:
        worker.close()


def test_the_processor_runs_face_and_hands_on_the_worker_by_default() -> None:
    from main import build_parser
    from streaming.headless import face_hands_config
    from streaming.processor import _face_hands_stage

    default = face_hands_config(build_parser().parse_args(["run"]))
    inline = face_hands_config(build_parser().parse_args(["run", "--face-hands-thread", "off"]))
    assert default.background and not inline.background
    worker, stage = _face_hands_stage(default), _face_hands_stage(inline)
    try:
        assert isinstance(worker, FaceHandsWorker) and isinstance(stage, FaceHandsStage)
    finally:
        worker.close()
        stage.close()
    assert _face_hands_stage(face_hands_config(build_parser().parse_args(["run", "--no-face", "--no-hands"]))) is None


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread priorities are a Linux feature")
def test_the_worker_thread_runs_at_a_lower_priority_than_the_body() -> None:
    from streaming.face_hands_worker import WORKER_NICE

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = FaceHandsWorker(_RecordingStage())
    try:
        worker.step(*_frame(), 0)  # the thread lowers its priority as it starts
        native = worker._thread.native_id
        assert wait_for(lambda: os.getpriority(os.PRIO_PROCESS, native) == min(base + WORKER_NICE, 19), timeout=5.0)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller's is untouched
    finally:
        worker.close()
