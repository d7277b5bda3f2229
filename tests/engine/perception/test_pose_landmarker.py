"""The MediaPipe adapter on real video frames with the real model (a few frames; init ~2 s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.perception.landmarks import Landmark
from engine.perception.pose_landmarker import PerceptionError, PoseLandmarkerAdapter
from engine.performer import performer_index, performer_positions_from_landmarks

cv2 = pytest.importorskip("cv2")
pytest.importorskip("mediapipe")


def _frames(path: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


@pytest.fixture(scope="module")
def adapter(shared_models: Path):
    model = shared_models / "pose_landmarker_full.task"
    if not model.is_file():
        pytest.skip("pose model absent")
    a = PoseLandmarkerAdapter(model)
    yield a
    a.close()


def test_real_person_gives_metric_landmarks(adapter: PoseLandmarkerAdapter, shared_video: Path) -> None:
    video = shared_video / "human_juggle_football_sam2.mp4"
    if not video.is_file():
        pytest.skip("clip absent")
    frames = _frames(video, 3)
    assert len(frames) == 3
    for i, frame in enumerate(frames):
        lf = adapter.detect(frame, 1000 + 33 * i)
        assert lf.person_found and lf.t_ms == 1000 + 33 * i
        shoulders = np.linalg.norm(lf.world[Landmark.LEFT_SHOULDER] - lf.world[Landmark.RIGHT_SHOULDER])
        assert 0.2 < shoulders < 0.6
        assert lf.world[Landmark.NOSE, 1] < lf.world[Landmark.LEFT_ANKLE, 1]  # MediaPipe world y points down
        assert np.all((lf.visibility >= 0) & (lf.visibility <= 1))
        perf = performer_positions_from_landmarks(lf)
        assert perf[performer_index("head"), 1] > perf[performer_index("pelvis"), 1] + 0.3  # internal: Y up
        assert np.linalg.norm(perf[performer_index("pelvis")]) < 0.05  # hip-centred


def test_black_frame_has_no_person_and_timestamps_are_guarded(adapter: PoseLandmarkerAdapter) -> None:
    black = np.zeros((240, 320, 3), np.uint8)
    lf = adapter.detect(black, 5000)
    assert not lf.person_found and lf.t_ms == 5000
    assert not adapter.detect(black, 5000).person_found  # equal timestamp: no MediaPipe error
    assert not adapter.detect(black, 4000).person_found  # earlier timestamp: no MediaPipe error
    with pytest.raises(PerceptionError, match="uint8"):
        adapter.detect(np.zeros((10, 10, 3), np.float32), 6000)


def test_close_is_idempotent(shared_models: Path) -> None:
    model = shared_models / "pose_landmarker_full.task"
    if not model.is_file():
        pytest.skip("pose model absent")
    with PoseLandmarkerAdapter(model) as a:
        pass
    assert a.closed
    a.close()
    with pytest.raises(PerceptionError, match="closed"):
        a.detect(np.zeros((8, 8, 3), np.uint8), 0)
