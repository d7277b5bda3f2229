"""The webcam source with a fake capture device: missing camera, a camera that goes away mid-run."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from streaming.frames import Frame
from streaming.source_registry import create_source, register_source, source_names, unregister_source
from streaming.sources import CameraUnavailable, SourceState
from streaming.webcam import ReconnectPolicy, WebcamSource


class FakeCamera:
    """A stand-in for cv2.VideoCapture whose device can be unplugged and plugged back."""

    def __init__(self, world: FakeWorld, device: int | str) -> None:
        self.world = world
        self.opened = world.present
        self.props: dict[int, float] = {}
        world.opened += 1

    def isOpened(self) -> bool:  # noqa: N802
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(self.world.frame_interval_s)
        if not (self.opened and self.world.present):
            return False, None
        self.world.reads += 1
        return True, np.full((4, 4, 3), self.world.reads % 256, dtype=np.uint8)

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.opened = False
        self.world.released += 1


class FakeWorld:
    def __init__(self) -> None:
        self.present = True
        self.opened = 0
        self.released = 0
        self.reads = 0
        self.cameras: list[FakeCamera] = []
        self.frame_interval_s = 0.0  # how long a read takes (a real camera blocks until the next frame)

    def factory(self, device: int | str) -> FakeCamera:
        self.cameras.append(FakeCamera(self, device))
        return self.cameras[-1]


FAST = ReconnectPolicy(failed_reads=3, retry_delay_s=0.001, backoff_initial_s=0.01, backoff_max_s=0.04)


def test_missing_camera_raises_with_device_named() -> None:
    world = FakeWorld()
    world.present = False
    cam = WebcamSource(5, capture_factory=world.factory)
    with pytest.raises(CameraUnavailable) as info:
        cam.open()
    assert info.value.device == 5 and "camera 5" in str(info.value)
    assert world.released == 1  # the failed capture was released


def test_camera_gives_no_frame_is_unavailable() -> None:
    class Silent(FakeCamera):
        def read(self):
            return False, None

    world = FakeWorld()
    with pytest.raises(CameraUnavailable, match="no frame"):
        WebcamSource("/dev/video9", capture_factory=lambda d: Silent(world, d)).open()


def test_real_missing_device_path_raises() -> None:
    with pytest.raises(CameraUnavailable, match="/dev/video_anyrig_missing"):
        WebcamSource("/dev/video_anyrig_missing").open()


def test_camera_that_goes_away_reconnects_with_backoff() -> None:
    world = FakeWorld()
    cam = WebcamSource(0, width=320, height=240, fps=30, policy=FAST, capture_factory=world.factory)
    cam.open()
    assert world.cameras[-1].props == {cv2.CAP_PROP_FRAME_WIDTH: 320, cv2.CAP_PROP_FRAME_HEIGHT: 240, cv2.CAP_PROP_FPS: 30, cv2.CAP_PROP_BUFFERSIZE: 1}
    assert cam.read() is not None and cam.read() is not None
    world.present = False
    # Reads fail; after 3 the camera counts as gone and reading never raises.
    results = [cam.read() for _ in range(3)]
    assert results == [None, None, None]
    assert cam.state is SourceState.RECONNECTING and "3 consecutive" in cam.status.last_error
    backoffs = []
    for _ in range(4):
        assert cam.read() is None
        backoffs.append(cam.backoff_s)
    assert backoffs == [0.02, 0.04, 0.04, 0.04]  # doubles, capped
    assert cam.status.reconnect_attempts == 4
    world.present = True
    frame = None
    deadline = time.monotonic() + 2
    while frame is None and time.monotonic() < deadline:
        frame = cam.read()
    assert frame is not None and cam.state is SourceState.OPEN
    assert cam.status.reconnects == 1
    assert frame.index == 2  # indices keep counting across the gap
    cam.close()
    cam.close()  # idempotent
    assert world.opened == world.released


def test_interrupt_wakes_a_reconnect_wait() -> None:
    world = FakeWorld()
    slow = ReconnectPolicy(failed_reads=1, backoff_initial_s=30.0, backoff_max_s=30.0)
    cam = WebcamSource(0, policy=slow, capture_factory=world.factory)
    cam.open()
    cam.read()
    world.present = False
    assert cam.read() is None and cam.state is SourceState.RECONNECTING
    threading.Timer(0.05, cam.interrupt).start()
    t0 = time.monotonic()
    assert cam.read() is None
    assert time.monotonic() - t0 < 2.0
    cam.close()


def test_registered_fake_source_is_created_by_name() -> None:
    world = FakeWorld()

    @register_source("fakecam")
    class FakeCam(WebcamSource):
        def __init__(self, device: str = "0", **kw) -> None:
            super().__init__(device, capture_factory=world.factory, **kw)

    try:
        src = create_source("fakecam:2")
        assert isinstance(src, FakeCam) and src.kind == "fakecam"
        frames = []
        with src:
            frames = [src.read() for _ in range(3)]
        assert all(isinstance(f, Frame) for f in frames)
    finally:
        unregister_source("fakecam")
    assert "fakecam" not in source_names()


def test_pipeline_survives_a_camera_that_goes_away() -> None:
    """Unplugged mid-run: no crash, the state says RECONNECTING, frames flow again once it is back."""
    from streaming.pipeline import Pipeline, State
    from tests.polling import wait_for
    from tests.streaming.test_pipeline import FakeProcessor, _rig

    world = FakeWorld()
    world.frame_interval_s = 0.005
    cam = WebcamSource(0, policy=FAST, capture_factory=world.factory)
    with Pipeline(cam, FakeProcessor(_rig(2, "a"))) as pipe:
        assert wait_for(lambda: pipe.stats.counter("frames_processed") >= 5)
        world.present = False
        assert wait_for(lambda: cam.status.state is SourceState.RECONNECTING)
        assert wait_for(lambda: cam.status.reconnect_attempts >= 2)
        assert pipe.state is State.RUNNING
        n = pipe.stats.counter("frames_processed")
        world.present = True
        assert wait_for(lambda: pipe.stats.counter("frames_processed") > n + 5)
        assert cam.status.reconnects == 1 and cam.status.state is SourceState.OPEN
    assert pipe.state is State.STOPPED and world.opened == world.released
