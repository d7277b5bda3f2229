"""Sources: pacing of files and folders, the registry, and a webcam that is missing or goes away."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from streaming.frames import Frame
from streaming.source_registry import create_source, source_names
from streaming.sources import ImageFolderSource, SourceState, SourceUnavailable, VideoFileSource
from streaming.webcam import WebcamSource


def _write_video(path: Path, frames: int = 12, fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        img = np.full((48, 64, 3), i * 20 % 256, dtype=np.uint8)
        writer.write(img)
    writer.release()
    return path


def _read_all(source, limit: int = 1000) -> list[Frame]:
    frames = []
    with source:
        while len(frames) < limit:
            f = source.read()
            if f is None:
                if source.exhausted:
                    break
                continue
            frames.append(f)
    return frames


@pytest.fixture()
def video(tmp_path: Path) -> Path:
    return _write_video(tmp_path / "clip.mp4")


def test_video_file_fast_reads_every_frame_stamped_in_order(video: Path) -> None:
    src = VideoFileSource(video, realtime=False)
    t0 = time.monotonic_ns()
    frames = _read_all(src)
    assert len(frames) == 12
    assert [f.index for f in frames] == list(range(12))
    assert all(f.source_id == "clip.mp4" and f.image.shape == (48, 64, 3) for f in frames)
    stamps = [f.t_capture_ns for f in frames]
    assert stamps == sorted(stamps) and stamps[0] >= t0
    assert (stamps[-1] - stamps[0]) / 1e9 < 0.2  # as fast as possible, not paced
    assert src.state is SourceState.CLOSED and src.status.frames_read == 12


def test_video_file_realtime_is_paced_at_its_fps(video: Path) -> None:
    frames = _read_all(VideoFileSource(video, realtime=True, fps=60.0))
    span = (frames[-1].t_capture_ns - frames[0].t_capture_ns) / 1e9
    assert len(frames) == 12
    assert 11 / 60 * 0.85 <= span <= 11 / 60 + 0.15


def test_video_file_loops(video: Path) -> None:
    frames = _read_all(VideoFileSource(video, realtime=False, loop=True), limit=30)
    assert len(frames) == 30 and frames[-1].index == 29


def test_video_file_missing_or_broken_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="missing.mp4"):
        VideoFileSource(tmp_path / "missing.mp4").open()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceUnavailable, match="bad.mp4"):
        VideoFileSource(bad).open()


def test_image_folder_in_name_order_skipping_unreadable(tmp_path: Path) -> None:
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"img_{i:02d}.png"), np.full((8, 10, 3), i * 50, dtype=np.uint8))
    (tmp_path / "img_03.png").write_bytes(b"broken")
    (tmp_path / "notes.txt").write_text("ignored")
    src = ImageFolderSource(tmp_path, realtime=False)
    frames = _read_all(src)
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 50, 100]
    assert src.exhausted is False  # closed by _read_all
    assert [p.name for p in src.unreadable] == ["img_03.png"]
    assert "img_03.png" in src.status.last_error


def test_image_folder_paced_and_empty(tmp_path: Path) -> None:
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), np.zeros((8, 8, 3), dtype=np.uint8))
    frames = _read_all(ImageFolderSource(tmp_path, fps=50.0))
    assert (frames[-1].t_capture_ns - frames[0].t_capture_ns) / 1e9 >= 3 / 50 * 0.85
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceUnavailable, match="no images"):
        ImageFolderSource(empty).open()


def test_create_source_parses_specs(tmp_path: Path, video: Path) -> None:
    assert isinstance(create_source(str(video)), VideoFileSource)
    assert isinstance(create_source(str(tmp_path)), ImageFolderSource)
    cam = create_source("webcam:3")
    assert isinstance(cam, WebcamSource) and cam.device == 3
    assert create_source("webcam:/dev/video7").device == "/dev/video7"
    assert create_source("webcam").device == 0
    with pytest.raises(SourceUnavailable, match="no such file"):
        create_source(str(tmp_path / "nothing.mp4"))
    assert {"webcam", "video", "images"} <= set(source_names())


# ------------------------------------------------------------------ synthetic performer
def test_synthetic_source_gives_images_and_ground_truth() -> None:
    from engine.performer import performer_positions_from_landmarks
    from streaming.synthetic_source import SyntheticFrame, SyntheticSource

    src = create_source("synthetic", realtime=False, noise_m=0.0, limit=70)
    assert isinstance(src, SyntheticSource) and "synthetic" in source_names()
    frames = _read_all(src)
    assert len(frames) == 70 and src.status.frames_read == 70
    f = frames[65]
    assert isinstance(f, SyntheticFrame) and f.image.shape == (480, 640, 3) and f.image.dtype == np.uint8
    assert f.clip_frame == 65 % 60  # the 2 s wave clip loops
    assert f.truth_positions.shape == (52, 3) and f.truth_performer.shape == (28, 3)
    assert f.landmarks.person_found and abs(f.landmarks.t_ms - f.t_capture_ns // 1_000_000) <= 1
    # Noise-free landmarks give back the clean performer.
    np.testing.assert_allclose(performer_positions_from_landmarks(f.landmarks), f.truth_performer, atol=1e-6)
    # The figure is drawn where the landmarks say (the nose lies on the drawn head, not on the wall).
    x, y = f.landmarks.image[0, :2] * [640, 480]
    wall = frames[0].image[5, 5]
    assert np.abs(f.image[int(y), int(x)].astype(int) - wall.astype(int)).sum() > 60
    # The performer moves: the waving hand is not still.
    assert np.linalg.norm(frames[10].truth_positions - frames[18].truth_positions, axis=1).max() > 0.1


def test_synthetic_source_paced_at_30_fps_with_noise() -> None:
    from streaming.synthetic_source import SyntheticSource

    frames = _read_all(SyntheticSource(limit=10, noise_m=0.01))
    span = (frames[-1].t_capture_ns - frames[0].t_capture_ns) / 1e9
    assert 9 / 30 * 0.85 <= span <= 9 / 30 + 0.15
    from engine.performer import performer_positions_from_landmarks

    err = np.linalg.norm(performer_positions_from_landmarks(frames[3].landmarks) - frames[3].truth_performer, axis=1)
    assert 0.002 < err.mean() < 0.05


def _cut_video(path: Path, frames: int = 60) -> Path:
    """An MJPG AVI of ``frames`` frames cut to half its bytes: the header still declares ``frames``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 4 % 256, dtype=np.uint8))
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_video_cut_short_is_a_warning_in_the_status(tmp_path: Path, caplog) -> None:
    src = VideoFileSource(_cut_video(tmp_path / "cut.avi"), realtime=False)
    with caplog.at_level("WARNING", logger="streaming.sources"):
        frames = _read_all(src)
    assert 0 < len(frames) < 50
    assert f"ended after {len(frames)} of the 60 frames" in src.status.last_error
    assert any(r.levelname == "WARNING" and "cut short" in r.getMessage() for r in caplog.records)


def test_a_whole_video_ends_without_a_warning(video: Path, caplog) -> None:
    src = VideoFileSource(video, realtime=False)
    with caplog.at_level("WARNING", logger="streaming.sources"):
        assert len(_read_all(src)) == 12
    assert src.status.last_error == "" and not caplog.records
