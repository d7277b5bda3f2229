"""Batch capture: real videos through MediaPipe and the live models, in worker processes, into takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from main import main
from streaming.batch_capture import MANIFEST, CaptureSettings, find_videos, run_capture, take_names

VIDEO_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "video"
VIDEOS = ("human_aerobics_romp.mp4", "human_walk_h36m_mmpose.mp4")


def test_find_videos_lists_a_folders_videos_in_name_order(tmp_path: Path) -> None:
    for name in ("b.MP4", "a.mov", "notes.txt", "c.avi"):
        (tmp_path / name).write_bytes(b"")
    assert [v.name for v in find_videos(tmp_path)] == ["a.mov", "b.MP4", "c.avi"]
    assert find_videos(tmp_path / "a.mov") == [(tmp_path / "a.mov").absolute()]
    with pytest.raises(FileNotFoundError, match="no such video file or folder"):
        find_videos(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no video files"):
        find_videos(tmp_path / "empty")


def test_take_names_keep_videos_with_the_same_stem_apart() -> None:
    names = take_names([Path("/v/a.mp4"), Path("/v/a.mov"), Path("/v/b.mp4")])
    assert list(names.values()) == ["a_mp4", "a_mov", "b"]


def test_bad_input_is_a_clear_error(tmp_path: Path, caplog) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert main(["capture", str(tmp_path / "nothing"), "--rig", "dragon", "--out", str(tmp_path / "o")]) == 2
    assert main(["capture", str(tmp_path), "--rig", "no_such_rig", "--out", str(tmp_path / "o")]) == 2
    assert "not a bundled rig" in caplog.text
    with pytest.raises(ValueError, match="take formats must be among"):
        run_capture(tmp_path, tmp_path / "o", CaptureSettings("dragon", formats=("fbx",)))


@pytest.mark.slow
def test_capture_a_folder_in_two_processes_then_resume(tmp_path: Path, capsys) -> None:
    if not all((VIDEO_DIR / v).is_file() for v in VIDEOS):
        pytest.skip("../shared/video is not available")
    import cv2

    from engine.formats.rigio import load_rig

    folder, out = tmp_path / "footage", tmp_path / "takes"
    folder.mkdir()
    for v in VIDEOS:
        (folder / v).symlink_to((VIDEO_DIR / v).resolve())
    (folder / "broken.mp4").write_bytes(b"not a video")
    args = ["capture", str(folder), "--rig", "dragon", "--out", str(out), "--max-frames", "12", "--jobs", "2"]
    assert main(args) == 1  # one video failed
    assert "captured 2 of 3 videos" in capsys.readouterr().out
    manifest = json.loads((out / MANIFEST).read_text())["videos"]
    assert manifest[str(folder / "broken.mp4")]["status"] == "failed"
    assert "cannot decode" in manifest[str(folder / "broken.mp4")]["error"]
    for v in VIDEOS:
        entry = manifest[str(folder / v)]
        assert entry["status"] == "done" and entry["frames"] == 12 and entry["poses"] > 0
        stem = Path(v).stem
        cap = cv2.VideoCapture(str(folder / v))
        video_fps = cap.get(cv2.CAP_PROP_FPS)  # 25-50 fps: each take keeps its own video's rate
        cap.release()
        assert sorted(Path(p).name for p in entry["outputs"]) == [f"{stem}.bvh", f"{stem}.glb"]
        for suffix in ("glb", "bvh"):
            rig = load_rig(out / f"{stem}.{suffix}")
            assert rig.skeleton.num_joints == 62  # the dragon
            assert rig.clips[0].num_frames == entry["poses"]  # every pose, at the video's frame rate
            assert rig.clips[0].fps == pytest.approx(video_fps, rel=1e-3)
    assert not list(out.glob(".*"))  # no partial files left
    # A rerun skips the captured videos (their files untouched) and retries only the failed one.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.glb")}
    (folder / "broken.mp4").unlink()
    assert main(args) == 0
    assert "captured 2 of 2 videos" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.glb")} == stamps
    # Other settings redo the video.
    assert main([*args[:-4], "--max-frames", "8", "--jobs", "1", "--formats", "npz"]) == 0
    redone = json.loads((out / MANIFEST).read_text())["videos"][str(folder / VIDEOS[0])]
    assert redone["frames"] == 8 and redone["outputs"][0].endswith(".npz")
