"""The Qt-free session behind the window: fallbacks, refusals that change nothing, switchable outputs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.live_session import LiveSession
from app.output_slots import RecorderSlot, SenderSlot
from engine.errors import RigFormatError
from streaming.frames import PoseResult
from streaming.settings import FilterSettings, OutputSettings, SessionSettings
from streaming.sources import SourceUnavailable


@pytest.fixture()
def session(tmp_path: Path):
    s = LiveSession(SessionSettings(tracking=False, rig="/no/such/rig.glb", source=str(tmp_path / "gone.mp4")), takes_dir=tmp_path / "takes")
    problems = s.open()
    s.problems = problems
    yield s
    s.close()


def test_open_falls_back_to_a_bundled_rig_and_the_synthetic_source(session) -> None:
    assert session.rig.name == "dragon" and session.settings.rig == "dragon"
    assert session.settings.source == "synthetic" and session.pipeline.source.source_id == "synthetic"
    assert any("rig.glb" in p for p in session.problems) and any("gone.mp4" in p for p in session.problems)
    assert session.status().pipeline == "stopped"


def test_refused_changes_leave_everything_as_it_was(session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT hips\n{\n")
    with pytest.raises(RigFormatError):
        session.set_rig(str(bad))
    assert session.rig.name == "dragon" and session.settings.rig == "dragon"
    with pytest.raises(SourceUnavailable):
        session.set_source(str(tmp_path / "missing.avi"))
    assert session.settings.source == "synthetic"
    with pytest.raises(ValueError):
        session.set_filter(FilterSettings(min_cutoff=0.0))
    assert session.settings.filter == FilterSettings()
    with pytest.raises(ValueError):
        session.set_output(OutputSettings(kind="carrier-pigeon"))
    assert session.settings.output.kind == "off" and session.sender is None
    with pytest.raises(ValueError):
        session.start_recording("../..")
    assert not session.recording
    with pytest.raises(ValueError, match="no performer"):
        session.calibrate()
    assert session.neutral is None


def _result(joints: int, index: int = 0) -> PoseResult:
    q = np.tile([0.0, 0.0, 0.0, 1.0], (joints, 1))
    return PoseResult(q, np.zeros(3), np.zeros((joints, 3)), 1_000_000 * (index + 1), index)


class _FakeSender:
    def __init__(self) -> None:
        self.sent: list[int] = []
        self.closed = False

    def send(self, result: PoseResult, rig: object) -> bool:
        self.sent.append(result.index)
        return True

    def close(self) -> None:
        self.closed = True


def test_sender_slot_forwards_only_while_it_holds_a_sender() -> None:
    slot = SenderSlot()
    assert slot.send(_result(3), None) is False and slot.last_latency_ms is None
    fake = _FakeSender()
    assert slot.swap(fake) is None
    assert slot.send(_result(3, 1), None) is True and fake.sent == [1]
    assert slot.last_latency_ms is not None and slot.last_latency_ms > 0
    assert slot.swap(None) is fake and not fake.closed  # the caller closes what it swapped out
    slot.swap(fake)
    slot.close()
    assert fake.closed and slot.output is None


def test_recorder_slot_skips_results_of_another_rig() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.written: list[int] = []

        def write(self, result: PoseResult) -> bool:
            self.written.append(result.index)
            return True

    rig_a, rig_b = object(), object()
    slot, recorder = RecorderSlot(), Recorder()
    assert slot.send(_result(2), rig_a) is False
    slot.swap(recorder, rig_a)
    assert slot.recording
    assert slot.send(_result(2, 1), rig_a) is True
    assert slot.send(_result(2, 2), rig_b) is False
    assert recorder.written == [1]


def test_filter_and_output_settings_apply_to_the_running_processor(session) -> None:
    session.set_filter(replace(session.settings.filter, beta=0.25, enabled=False))
    processor = session.pipeline.processor
    assert processor.filter.config.enabled is False and processor.filter.config.rotation.beta == 0.25
    session.set_output(OutputSettings(kind="osc", host="127.0.0.1", port=9, osc_prefix="/x", bundle=False))
    assert session.sender is not None and session.sender.bundle is False
    session.set_output(OutputSettings(kind="off"))
    assert session.sender is None


def test_a_pipeline_that_faults_is_stopped_and_reported_once(session) -> None:
    import time

    from streaming.source_registry import register_source, unregister_source
    from streaming.sources import Source

    @register_source("broken-test-camera")
    class BrokenCamera(Source):
        def __init__(self) -> None:
            super().__init__("broken-test-camera", 30.0)
            self.reads = 0

        def _open(self) -> None:
            pass

        def _read(self):
            # Fails on its first read: a frame would need the pose model, which a clean machine
            # without ../shared/models does not have (the pipeline would fault on that first).
            self.reads += 1
            raise RuntimeError("the camera caught fire")

        def _close(self) -> None:
            pass

    try:
        session.set_source("broken-test-camera")
        session.set_tracking(True)
        deadline = time.monotonic() + 5
        reason = None
        while reason is None and time.monotonic() < deadline:
            reason = session.check_pipeline()
            time.sleep(0.02)
        assert reason is not None and "caught fire" in reason
        assert session.settings.tracking is False and session.check_pipeline() is None
        assert session.pipeline.source.state.value == "closed"
    finally:
        unregister_source("broken-test-camera")


def test_sources_open_in_the_background_and_unused_ones_are_closed(session, tmp_path: Path) -> None:
    future = session.open_source_in_background("synthetic")
    source = future.result(timeout=20)
    assert source.state.value == "open"
    session.use_source("synthetic", source)
    assert session.pipeline.source is source and source.state.value == "closed"  # tracking is off: released
    failing = session.open_source_in_background(str(tmp_path / "nope.mp4"))
    with pytest.raises(SourceUnavailable):
        failing.result(timeout=10)
    unused = session.open_source_in_background("synthetic").result(timeout=20)
    session.close()
    assert unused.state.value == "closed"


def test_opening_says_what_it_is_doing_for_the_splash(tmp_path: Path) -> None:
    said: list[str] = []
    s = LiveSession(SessionSettings(tracking=True, rig="snake"), takes_dir=tmp_path / "takes", backend="eager", config_dir=tmp_path / "cfg")
    try:
        assert s.open(progress=said.append) == []
        assert said[0] == "Loading the rig snake…" and "Loading the models…" in said  # ("Compiling…" with --backend compile)
        assert said[-1] == "Opening synthetic…"
    finally:
        s.close()
