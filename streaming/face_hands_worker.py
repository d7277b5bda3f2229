"""The face and hands stage on its own thread, so its landmarkers use the second core.

On the inference thread the face and hand landmarkers add about 18 ms to every frame after the
pose (README, "Face and hands"): with the body's ~30 ms that is past the 33 ms between camera
frames on a 2-core CPU, and the pipeline falls to ~19 fps. :class:`FaceHandsWorker` gives the
stage its own thread instead: each frame hands the newest (image, pose landmarks) to the worker
and takes the newest state the worker has finished, so the body never waits for the face. The
cost is age: face and fingers arrive one or two frames (33-66 ms) after the body of the same
frame, and when the worker is busy it skips frames (counted), which the stage's hold-and-ease
bridges as it bridges its own schedule.

MediaPipe and the landmarkers release the GIL while they compute, so the two threads run at once.
The worker owns the stage: every call into it (step, reset, close) happens on the worker thread
or after the thread has ended.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import numpy as np

from engine.perception.landmarks import LandmarkFrame
from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage, FaceHandsState

__all__ = ["FaceHandsWorker"]

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 5.0
# The worker's nice value (Linux: per thread, and inherited by the landmarkers' own threads, which
# it creates): the body's perception and solve threads win the cores, face and hands take the rest.
WORKER_NICE = 10


class FaceHandsWorker:
    """A :class:`~streaming.face_hands_stage.FaceHandsStage` run on a thread of its own.

    It answers the stage's interface (``step``, ``reset``, ``close``, ``config``, ``counts``,
    ``messages``, ``face_active``, ``hands_active``), so the live processor uses either.
    ``inline`` is False: its ``step`` does not run the landmarkers, so the processor leaves the
    face and hands out of the frame's stage timings; the worker's own times are in :attr:`counts`.
    """

    inline = False

    def __init__(self, stage: FaceHandsStage) -> None:
        self._stage = stage
        self._rest = stage.state()  # what a reset returns to (taken before the thread touches the stage)
        self._latest: FaceHandsState = self._rest
        self._job: tuple[np.ndarray, LandmarkFrame, int] | None = None
        self._reset_requested = False
        self._closing = False
        self._cond = threading.Condition()
        self._runs = 0
        self._skipped = 0
        self._errors = 0
        self._run_ms_total = 0.0
        self._run_ms_max = 0.0
        self._thread = threading.Thread(target=self._loop, name="anyrig-face-hands", daemon=True)
        self._thread.start()

    # -- the stage's interface --------------------------------------------------------------------
    @property
    def config(self) -> FaceHandsConfig:
        return self._stage.config

    @property
    def face_active(self) -> bool:
        return self._stage.face_active

    @property
    def hands_active(self) -> bool:
        return self._stage.hands_active

    @property
    def messages(self) -> list[str]:
        return self._stage.messages

    @property
    def counts(self) -> dict[str, Any]:
        """The stage's counts, plus the worker's: runs, frames skipped while busy, errors, run time."""
        with self._cond:
            runs, total, worst = self._runs, self._run_ms_total, self._run_ms_max
            worker = {"worker_runs": runs, "worker_skipped": self._skipped, "worker_errors": self._errors,
                      "worker_mean_ms": round(total / runs, 2) if runs else None, "worker_max_ms": round(worst, 2)}
        return dict(self._stage.counts) | worker

    def step(self, image: np.ndarray, landmarks: LandmarkFrame, t_ms: int) -> tuple[FaceHandsState, int, int]:
        """Hand this frame to the worker; return the newest finished state at once.

        Returns ``(state, t_ns, t_ns)`` like :meth:`FaceHandsStage.step` (both times are now: no
        landmarker ran on the calling thread).
        """
        with self._cond:
            if self._closing:
                return self._latest, time.monotonic_ns(), time.monotonic_ns()
            if self._job is not None:
                self._skipped += 1  # the worker was still busy with an older frame: the newest wins
            self._job = (image, landmarks, t_ms)
            self._cond.notify()
            state = self._latest
        now = time.monotonic_ns()
        return state, now, now

    def reset(self) -> None:
        """Forget held values: drop a waiting frame, and reset the stage on the worker thread."""
        with self._cond:
            self._job = None
            self._reset_requested = True
            self._latest = self._rest
            self._cond.notify()

    def close(self) -> None:
        """Stop the thread, then close the landmarkers (idempotent)."""
        with self._cond:
            self._closing = True
            self._job = None
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                logger.warning("the face and hands thread did not stop within %.0f s; closing its landmarkers anyway", JOIN_TIMEOUT_S)
        self._stage.close()

    # -- the thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        _lower_this_threads_priority(WORKER_NICE)
        while True:
            with self._cond:
                while self._job is None and not self._reset_requested and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                reset, self._reset_requested = self._reset_requested, False
                job, self._job = self._job, None
            if reset:
                self._stage.reset()
            if job is None:
                continue
            t0 = time.perf_counter()
            try:
                state, _, _ = self._stage.step(*job)
            except Exception:  # noqa: BLE001 - one bad frame must not end face tracking; counted and logged
                with self._cond:
                    self._errors += 1
                    errors = self._errors
                if errors == 1 or errors % 100 == 0:
                    logger.exception("face and hands failed on a frame (%d so far); the body keeps running", errors)
                continue
            ms = 1000.0 * (time.perf_counter() - t0)
            with self._cond:
                if not self._reset_requested:  # a reset meanwhile: this frame's state belongs to before it
                    self._latest = state
                self._runs += 1
                self._run_ms_total += ms
                self._run_ms_max = max(self._run_ms_max, ms)


def _lower_this_threads_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` where the OS allows it per thread (Linux)."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError as error:  # not permitted or not per-thread here: run at normal priority
        logger.debug("could not lower the face and hands thread's priority: %s", error)
