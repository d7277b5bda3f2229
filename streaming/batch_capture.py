"""``python main.py capture VIDEO_OR_FOLDER --rig RIG --out DIR``: the day's footage into takes.

Every video (a file, or the video files of a folder) goes through the live processor, the same
causal models in the same order as ``run`` (MediaPipe VIDEO mode -> landmark V2P -> retarget ->
solver -> One Euro), frame by frame, with no frame dropped: the frames are stamped with their time
in the video, not the wall clock, so the take plays at the video's speed however fast it was
processed. Each video becomes ``DIR/<name>.glb`` and ``DIR/<name>.bvh`` (``--formats``), written by
:func:`streaming.take_files.save_take` as a recorded take is; a take starts at the first frame
with a person.

Scale: one process per video (``--jobs``, default: one per core), since MediaPipe and the models
each run one frame at a time. Resumable: ``DIR/capture_manifest.json`` records each finished or
failed video with its settings; a rerun skips the videos already done with the same rig, solver
and formats whose files are still there, and retries the failed ones. Files are written under a
temporary name and renamed, so an interrupted run leaves no half-written take.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import AnyRigError

__all__ = ["CaptureSettings", "VIDEO_SUFFIXES", "capture_video", "cmd_capture", "find_videos", "run_capture"]

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
MANIFEST = "capture_manifest.json"
TAKE_FORMATS = ("glb", "bvh", "npz")


@dataclass(frozen=True)
class CaptureSettings:
    """What a batch capture makes of each video (recorded in the manifest: a change redoes the video).

    Attributes:
        rig: rig file or bundled rig name.
        formats: take files per video, from :data:`TAKE_FORMATS`.
        solver: ``"analytic_ik"`` (the live default) or ``"p2r"``.
        max_frames: process only the first N frames of each video (None: all).
        device, backend: for the learned models, as ``run``'s options.
    """

    rig: str
    formats: tuple[str, ...] = ("glb", "bvh")
    solver: str = "analytic_ik"
    max_frames: int | None = None
    device: str = "auto"
    backend: str = "auto"

    def key(self) -> dict[str, Any]:
        """The settings that decide a take's content (the manifest's check on resume)."""
        d = asdict(self)
        d["formats"] = list(self.formats)
        d.pop("device"), d.pop("backend")
        return d


@dataclass
class CaptureReport:
    """How one video went (one manifest entry)."""

    video: str
    status: str  # "done" | "failed"
    settings: dict[str, Any]
    outputs: list[str] = field(default_factory=list)
    frames: int = 0  # video frames read
    poses: int = 0  # frames with a pose (a person seen, or held)
    seconds: float = 0.0  # wall time of the capture
    error: str = ""


def find_videos(path: str | Path) -> list[Path]:
    """The video to capture, or the video files of a folder (name order, not recursive).

    Raises:
        FileNotFoundError: ``path`` does not exist, or a folder holds no video file.
    """
    p = Path(path).expanduser()
    if p.is_file():
        return [p.absolute()]
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such video file or folder")
    videos = sorted(f.absolute() for f in p.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise FileNotFoundError(f"{p}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder")
    return videos


def take_names(videos: list[Path]) -> dict[Path, str]:
    """Output base name per video: its stem, or ``stem_ext`` where two videos share a stem."""
    stems = [v.stem for v in videos]
    return {v: v.stem if stems.count(v.stem) == 1 else f"{v.stem}_{v.suffix.lstrip('.').lower()}" for v in videos}


# %% one video (runs in a worker process) ----------------------------------------------------------
def capture_video(video: Path, name: str, out: Path, settings: CaptureSettings) -> CaptureReport:
    """Run the live processor over every frame of ``video`` and write its take files.

    Never raises for a bad video: the report says ``failed`` and why.
    """
    t0 = time.monotonic()
    report = CaptureReport(str(video), "failed", settings.key())
    try:
        report.frames, report.poses, report.outputs = _capture(video, name, out, settings)
        report.status = "done"
    except Exception as exc:  # a process boundary: report every fault, never lose the batch
        logger.exception("capture of %s failed", video)
        report.error = f"{type(exc).__name__}: {exc}"
    report.seconds = round(time.monotonic() - t0, 2)
    return report


def _capture(video: Path, name: str, out: Path, settings: CaptureSettings) -> tuple[int, int, list[str]]:
    import cv2

    from streaming.frames import Frame
    from streaming.headless import load_rig_spec
    from streaming.processor import build_processor
    from streaming.sources import SourceUnavailable
    from streaming.take_files import Take, TakeError, save_take

    rig = load_rig_spec(settings.rig)
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        cap.release()
        raise SourceUnavailable(video, "OpenCV cannot decode this file (not a video, or an unsupported codec)")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
    processor = build_processor(rig, perception="mediapipe", device=settings.device, backend=settings.backend, solver=settings.solver)
    results = []
    frames = 0
    try:
        while settings.max_frames is None or frames < settings.max_frames:
            ok, image = cap.read()
            if not ok or image is None:
                break
            # Stamped with its time in the video: MediaPipe's VIDEO mode and the take's timing follow the footage.
            frame = Frame(image, round(frames * 1e9 / fps), frames, video.name)
            result = processor.process(frame)
            if result is not None:
                results.append(result)
            frames += 1
    finally:
        cap.release()
        processor.close()
    if frames == 0:
        raise SourceUnavailable(video, "no frame could be read")
    if not results:
        raise TakeError(video, f"no person detected in {frames} frames")
    take = Take(
        names=tuple(rig.skeleton.names),
        index=np.array([r.index for r in results], np.int64),
        t_capture_ns=np.array([r.t_capture_ns for r in results], np.int64),
        rotations=np.stack([r.rotations for r in results]),
        root_translations=np.stack([r.root_translation for r in results]),
        positions=np.stack([r.positions for r in results]),
        skeleton=rig.skeleton,
        rig_path=str(rig.source.path or ""),
        rig_name=name,
        fps=fps,
    )
    outputs = []
    for fmt in settings.formats:
        path = out / f"{name}.{fmt}"
        tmp = out / f".{name}.partial.{fmt}"  # same suffix: save_take picks the format by it
        save_take(take, tmp)
        os.replace(tmp, path)
        outputs.append(str(path))
    return frames, len(results), outputs


# %% the batch -------------------------------------------------------------------------------------
def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        return {"version": 1, "videos": {}}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a capture manifest ({exc}); move it away to start afresh") from exc
    data.setdefault("videos", {})
    return data


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out / MANIFEST)  # atomic: an interrupted run keeps the previous manifest


def _is_done(entry: dict[str, Any] | None, settings: CaptureSettings) -> bool:
    return bool(entry and entry.get("status") == "done" and entry.get("settings") == settings.key()
                and all(Path(p).is_file() for p in entry.get("outputs", [])))


def run_capture(source: str | Path, out: str | Path, settings: CaptureSettings, jobs: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Capture every video of ``source`` into ``out`` (see the module docstring); returns the manifest.

    Raises:
        FileNotFoundError: no video at ``source``.
        ValueError: an unknown take format, or a damaged manifest.
    """
    from tqdm import tqdm

    bad = [f for f in settings.formats if f not in TAKE_FORMATS]
    if bad or not settings.formats:
        raise ValueError(f"take formats must be among {', '.join(TAKE_FORMATS)}, got {', '.join(bad) or 'none'}")
    videos = find_videos(source)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out)
    names = take_names(videos)
    todo = [v for v in videos if not _is_done(manifest["videos"].get(str(v)), settings)]
    if len(todo) < len(videos):
        logger.info("%d of %d videos already captured with these settings: skipped", len(videos) - len(todo), len(videos))
    if not todo:
        return manifest
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    # spawn: each worker starts clean (MediaPipe and torch threads do not survive a fork well)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool, \
            tqdm(total=len(todo), desc=f"capture ({jobs} process{'es' if jobs > 1 else ''})", unit="video", disable=not progress) as bar:
        pending: set[Future] = {pool.submit(capture_video, v, names[v], out, settings) for v in todo}
        failed = 0
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    report: CaptureReport = future.result()
                    manifest["videos"][report.video] = asdict(report)
                    _write_manifest(out, manifest)
                    failed += report.status != "done"
                    bar.update(1)
                    bar.set_postfix(failed=failed)
                    if report.status == "done":
                        logger.info("%s: %d frames, %d poses in %.1f s -> %s", Path(report.video).name, report.frames, report.poses,
                                    report.seconds, ", ".join(Path(p).name for p in report.outputs))
                    else:
                        logger.error("%s: %s", Path(report.video).name, report.error)
        except KeyboardInterrupt:
            logger.info("interrupted: finished videos are in %s; run the same command again to continue", out / MANIFEST)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return manifest


def cmd_capture(args: argparse.Namespace) -> int:
    """CLI handler of ``capture``: 0 when every video is captured, 1 when some failed, 2 on bad input."""
    settings = CaptureSettings(args.rig, tuple(f.strip().lower().lstrip(".") for f in args.formats.split(",") if f.strip()),
                               args.solver, args.max_frames, args.device, args.backend)
    try:
        from streaming.headless import load_rig_spec

        load_rig_spec(settings.rig)  # fail here, once, rather than in every worker
        videos = set(map(str, find_videos(args.input)))
        manifest = run_capture(args.input, args.out, settings, args.jobs)
    except (AnyRigError, FileNotFoundError, ValueError, OSError) as exc:
        logger.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 130
    entries = [e for v, e in manifest["videos"].items() if v in videos]
    done = sum(e["status"] == "done" for e in entries)
    print(f"captured {done} of {len(videos)} videos into {args.out}" + (f"; {len(videos) - done} failed (see {MANIFEST})" if done < len(videos) else ""))
    return 0 if done == len(videos) else 1
